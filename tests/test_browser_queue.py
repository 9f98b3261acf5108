"""In Chromium: the queue position of waiting customers counts down, and the console shows the queue length."""

import pytest
from playwright.sync_api import expect

from tests.browser import ConsoleDriver, WidgetDriver, browser, host_site, new_context, save_screenshot  # noqa: F401

pytestmark = pytest.mark.timeout(90)


def open_widget(new_context, host_site, server, uid, name):
    page = new_context().new_page()
    options = {"token": server.token(uid, "customer", name=name), "locale": "en"}
    page.goto(host_site.add_widget_page(f"/queue-{uid}", server.url, options))
    widget = WidgetDriver(page).wait_ready()
    widget.open()
    return widget


def test_queue_position_counts_down(start_server, new_context, host_site, connect_client, tmp_path):
    server = start_server({"CORS_ORIGINS": host_site.origin})
    console = ConsoleDriver.open(new_context(), server.url, server.token("agent-q", "agent", name="Quinn", capacity=1), "en")
    first = connect_client(server, "cust-first", "customer", name="First")
    assert first.call("consult")["status"] == "assigned"
    expect(console.load).to_have_text("Load 1 / 1")

    second = open_widget(new_context, host_site, server, "cust-second", "Second")
    second.start()
    expect(second.subtitle).to_have_text("You are number 1 in the queue.")
    third = open_widget(new_context, host_site, server, "cust-third", "Third")
    third.start()
    expect(third.subtitle).to_have_text("You are number 2 in the queue.")
    expect(third.page.locator("#imflask-widget .queued .position")).to_have_text("You are number 2 in the queue.")
    expect(console.queue).to_have_text("Queue 2")
    third.page.locator("#imflask-widget .launcher").blur()
    save_screenshot(third.page, "widget-queue.png", tmp_path)

    # The first customer leaves: the second gets the agent, the third moves up.
    assert first.call("close")["ok"] is True
    expect(second.subtitle).to_have_text("You are chatting with Quinn.")
    expect(third.subtitle).to_have_text("You are number 1 in the queue.")
    expect(console.queue).to_have_text("Queue 1")
    expect(console.conversation("Second")).to_have_count(1)

    # The second ends its chat in the widget and rates it; the third is served.
    second.page.locator("#imflask-widget .header .end").click()
    second.page.locator("#imflask-widget .confirm button.danger").click()
    expect(third.subtitle).to_have_text("You are chatting with Quinn.")
    expect(console.queue).to_have_text("Queue 0")
    rating = second.page.locator("#imflask-widget .rating")
    expect(rating.locator("legend")).to_have_text("How was your conversation with Quinn?")
    rating.locator(".star").nth(4).click()
    rating.locator("textarea").fill("Quick and friendly, thank you!")
    expect(rating.locator(".star.on")).to_have_count(5)
    rating.locator("textarea").blur()
    save_screenshot(second.page, "widget-rating.png", tmp_path)
    rating.locator("button.primary").click()
    expect(second.page.locator("#imflask-widget .ended p")).to_have_text("Thank you for your feedback!")


def test_widget_leaves_queue(start_server, new_context, host_site, connect_client):
    server = start_server({"CORS_ORIGINS": host_site.origin})
    connect_client(server, "agent-full", "agent", capacity=1)
    occupant = connect_client(server, "cust-occupant", "customer")
    occupant.call("consult")
    waiting = connect_client(server, "cust-waiting", "customer")
    widget = open_widget(new_context, host_site, server, "cust-leaver", "Leaver")
    widget.start()
    expect(widget.subtitle).to_have_text("You are number 1 in the queue.")
    assert waiting.call("consult")["position"] == 2

    widget.page.locator("#imflask-widget .queued button.plain").click()

    expect(widget.page.locator("#imflask-widget .idle button.primary")).to_be_visible()
    assert waiting.wait_for("queued", lambda data: data["position"] == 1)
