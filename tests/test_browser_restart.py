"""In Chromium: the widget and the console survive a server restart and a page reload.

Nothing may be lost or shown twice: messages typed while the connection is
down wait in the outbox, go out once when it is back, and appear once on
each side.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import ConsoleDriver, WidgetDriver, browser, host_site, new_context  # noqa: F401

pytestmark = pytest.mark.timeout(120)

SOCKET_URL = re.compile(r"/socket\.io/")


def start_chat(server, new_context, host_site, path):
    console = ConsoleDriver.open(new_context(), server.url, server.token("agent-r", "agent", name="Rita"), "en")
    page = new_context().new_page()
    page.goto(host_site.add_widget_page(path, server.url, {"token": server.token("cust-r", "customer", name="Ron"), "locale": "en"}))
    widget = WidgetDriver(page).wait_ready()
    widget.open()
    widget.start()
    expect(widget.subtitle).to_have_text("You are chatting with Rita.")
    return console, widget


def assert_shown_once(console, widget, customer_texts, agent_texts):
    """Both sides show exactly these texts, in this order, each once."""
    assert widget.bubbles("mine") == customer_texts
    assert widget.bubbles("theirs") == agent_texts
    assert console.bubbles("theirs") == customer_texts
    assert console.bubbles("mine") == agent_texts


def test_server_restart_loses_and_repeats_nothing(start_server, new_context, host_site):
    server = start_server({"CORS_ORIGINS": host_site.origin})
    console, widget = start_chat(server, new_context, host_site, "/restart")
    widget.send("before restart, from Ron")
    expect(console.bubble("before restart, from Ron")).to_have_count(1)
    console.send("before restart, from Rita")
    expect(widget.bubble("before restart, from Rita")).to_have_count(1)

    server.stop()
    expect(widget.banner).to_have_text("Connection lost. Reconnecting…")
    expect(console.page.locator("#connection")).to_have_attribute("data-status", "reconnecting")
    widget.send("typed while the server was down")
    console.send("agent typed while down")
    expect(widget.state_of("typed while the server was down")).to_have_text("Sending…")
    expect(console.page.locator("#messages li.mine .state").last).to_have_text("Sending…")

    server.start()
    expect(widget.banner).to_be_hidden(timeout=15_000)
    expect(console.page.locator("#connection")).to_have_attribute("data-status", "connected", timeout=15_000)
    expect(console.bubble("typed while the server was down")).to_have_count(1)
    expect(widget.bubble("agent typed while down")).to_have_count(1)
    expect(widget.state_of("typed while the server was down")).to_have_text("Delivered")
    widget.send("after restart")
    expect(console.bubble("after restart")).to_have_count(1)

    assert_shown_once(
        console,
        widget,
        ["before restart, from Ron", "typed while the server was down", "after restart"],
        ["before restart, from Rita", "agent typed while down"],
    )
    assert widget.bubbles("system") == ["Rita joined the conversation"]


def test_reload_keeps_outbox_and_transcript(start_server, new_context, host_site):
    server = start_server({"CORS_ORIGINS": host_site.origin})
    console, widget = start_chat(server, new_context, host_site, "/reload")
    widget.send("first, acknowledged")
    expect(widget.state_of("first, acknowledged")).to_have_text("Delivered")

    # Refuse the widget's WebSocket so its next messages stay in the outbox,
    # and keep refusing across a reload.
    blocked = {"on": True}

    def route(socket):
        if blocked["on"]:
            socket.close()
        else:
            socket.connect_to_server()

    widget.page.route_web_socket(SOCKET_URL, route)
    widget.page.reload()
    widget = WidgetDriver(widget.page)
    widget.window.wait_for(state="visible")
    expect(widget.bubble("first, acknowledged")).to_have_count(1)
    widget.send("written while offline")
    expect(widget.state_of("written while offline")).to_have_text("Sending…")
    console.send("agent wrote while the widget was away")
    expect(console.page.locator("#messages li.mine .state").last).to_have_text("Sent")
    widget.page.reload()
    widget = WidgetDriver(widget.page)
    expect(widget.state_of("written while offline")).to_have_text("Sending…")

    blocked["on"] = False
    expect(widget.state_of("written while offline")).to_have_text("Delivered", timeout=15_000)
    expect(console.bubble("written while offline")).to_have_count(1)
    expect(widget.bubble("agent wrote while the widget was away")).to_have_count(1)
    widget.page.reload()
    widget = WidgetDriver(widget.page).wait_ready()
    expect(widget.bubble("written while offline")).to_have_count(1)
    assert_shown_once(
        console, widget, ["first, acknowledged", "written while offline"], ["agent wrote while the widget was away"]
    )
