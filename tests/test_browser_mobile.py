"""In Chromium: the widget on a 360 px wide phone screen, driven by the keyboard alone."""

import pytest
from playwright.sync_api import expect

from tests.browser import WidgetDriver, browser, host_site, new_context, save_screenshot  # noqa: F401

pytestmark = pytest.mark.timeout(90)

PHONE = {"width": 360, "height": 640}
LONG_WORD = "Supercalifragilistic" * 15
CJK_AND_EMOJI = "您好！请问还有什么可以帮您？🙂👍🏽"


def box(locator):
    return locator.bounding_box()


def assert_inside_screen(locator):
    area = box(locator)
    assert area is not None
    assert area["x"] >= 0
    assert area["y"] >= 0
    assert area["x"] + area["width"] <= PHONE["width"] + 0.5
    assert area["y"] + area["height"] <= PHONE["height"] + 0.5


def test_phone_keyboard_chat(start_server, new_context, host_site, connect_client, tmp_path):
    server = start_server({"CORS_ORIGINS": host_site.origin})
    agent = connect_client(server, "agent-m", "agent", name="Mei Lin")
    page = new_context(viewport=PHONE).new_page()
    page.goto(host_site.add_widget_page("/phone", server.url, {"token": server.token("cust-m", "customer"), "locale": "en"}))
    widget = WidgetDriver(page).wait_ready()
    assert_inside_screen(widget.launcher)

    # Tab reaches the consult button; Enter opens the window and starts a conversation.
    page.keyboard.press("Tab")
    expect(widget.launcher).to_be_focused()
    page.keyboard.press("Enter")
    expect(widget.window).to_be_visible()
    consult = page.locator("#imflask-widget .idle button.primary")
    expect(consult).to_be_focused()
    page.keyboard.press("Enter")
    expect(widget.subtitle).to_have_text("You are chatting with Mei Lin.")
    expect(widget.input).to_be_focused()

    # Enter sends; Shift+Enter starts a new line.
    page.keyboard.type("First line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line 📱")
    page.keyboard.press("Enter")
    expect(widget.bubble("First line", "mine", exact=False)).to_have_count(1)
    assert widget.bubbles("mine") == ["First line\nsecond line 📱"]
    expect(widget.input).to_have_value("")

    agent.call("message", {"to": "cust-m", "body": LONG_WORD})
    agent.call("message", {"to": "cust-m", "body": CJK_AND_EMOJI})
    expect(widget.bubble(CJK_AND_EMOJI, "theirs")).to_have_count(1)

    # The open window fills the screen, and every part of it is on screen.
    area = box(widget.window)
    assert (area["x"], area["y"], area["width"], area["height"]) == (0, 0, PHONE["width"], PHONE["height"])
    for part in ("header", ".header .end", ".minimize", ".composer textarea", ".composer .send"):
        locator = page.locator(f"#imflask-widget .window {part}")
        expect(locator).to_be_visible()
        assert_inside_screen(locator)
    long_bubble = widget.bubble(LONG_WORD, "theirs")
    assert_inside_screen(long_bubble)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    widget.input.blur()
    save_screenshot(page, "widget-mobile.png", tmp_path)

    # Escape closes the window and gives the focus back to the button.
    widget.input.focus()
    page.keyboard.press("Escape")
    expect(widget.window).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    assert_inside_screen(widget.launcher)


def test_escape_cancels_end_confirmation(start_server, new_context, host_site, connect_client):
    server = start_server({"CORS_ORIGINS": host_site.origin})
    connect_client(server, "agent-k", "agent", name="Kai")
    page = new_context(viewport=PHONE).new_page()
    page.goto(host_site.add_widget_page("/confirm", server.url, {"token": server.token("cust-k", "customer"), "locale": "en"}))
    widget = WidgetDriver(page).wait_ready()
    widget.open()
    widget.start()
    expect(widget.subtitle).to_have_text("You are chatting with Kai.")
    end = page.locator("#imflask-widget .header .end")
    end.focus()

    page.keyboard.press("Enter")
    expect(page.locator("#imflask-widget .confirm button.danger")).to_be_focused()
    page.keyboard.press("Escape")

    expect(page.locator("#imflask-widget .confirm")).to_be_hidden()
    expect(widget.window).to_be_visible()
    expect(end).to_be_focused()
    expect(widget.subtitle).to_have_text("You are chatting with Kai.")
