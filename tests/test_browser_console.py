"""In Chromium: the agent console's list, drafts, history paging, availability and alerts."""

import pytest
from playwright.sync_api import expect

from tests.browser import ConsoleDriver, browser, new_context  # noqa: F401

pytestmark = pytest.mark.timeout(90)

BASE_TITLE = "Agent console · imflask"
# Record notifications instead of showing them, and pretend the agent looks
# at another window, which is when the console notifies.
NOTIFICATION_STUB = """
window.shownNotifications = [];
window.Notification = class {
  constructor(title, options) { window.shownNotifications.push(options.body); }
  close() {}
  static requestPermission() { return Promise.resolve("granted"); }
};
window.Notification.permission = "granted";
document.hasFocus = () => false;
"""


@pytest.fixture
def chat_server(start_server):
    """A server whose clients may send bursts of messages."""
    return start_server({"RATE_LIMIT_BURST": 200})


def open_console(new_context, server, capacity=3):
    context = new_context()
    context.add_init_script(NOTIFICATION_STUB)
    return ConsoleDriver.open(context, server.url, server.token("agent-d", "agent", name="Dana", capacity=capacity), "en")


def test_console_pages_older_history_on_scroll(chat_server, new_context, connect_client):
    customer = connect_client(chat_server, "cust-ann", "customer", name="Ann")
    console = open_console(new_context, chat_server)
    customer.call("consult")
    for number in range(1, 61):
        assert customer.call("message", {"to": "agent-d", "body": f"Ann message {number}"})["ok"] is True
    expect(console.bubble("Ann message 60")).to_have_count(1)

    console.page.reload()
    console.page.locator("#connection[data-status=connected]").wait_for()
    expect(console.bubble("Ann message 60")).to_have_count(1)
    expect(console.page.locator("#messages li.msg")).to_have_count(50)
    console.page.locator("#scroller").evaluate("element => { element.scrollTop = 0; }")

    expect(console.bubble("Ann message 1")).to_have_count(1)
    expect(console.page.locator("#older")).to_have_text("Beginning of the history")
    texts = console.bubbles("theirs")
    assert texts == [f"Ann message {number}" for number in range(1, 61)]
    assert console.bubbles("system") == ["Conversation with Ann started"]


def test_console_drafts_and_new_customer_alerts(chat_server, new_context, connect_client):
    ann = connect_client(chat_server, "cust-ann", "customer", name="Ann")
    console = open_console(new_context, chat_server)
    ann.call("consult")
    expect(console.title).to_have_text("Ann")
    expect(console.page).to_have_title(BASE_TITLE)

    bob = connect_client(chat_server, "cust-bob", "customer", name="Bob")
    bob.call("consult")
    expect(console.conversation("Bob")).to_have_count(1)
    expect(console.page).to_have_title(f"(1) {BASE_TITLE}")
    assert console.page.evaluate("window.shownNotifications") == ["New customer: Ann", "New customer: Bob"]
    bob.call("message", {"to": "agent-d", "body": "hello from Bob"})
    expect(console.conversation("Bob").locator(".badge")).to_have_text("1")
    expect(console.conversation("Bob").locator(".conv-last")).to_have_text("hello from Bob")
    expect(console.page).to_have_title(f"(2) {BASE_TITLE}")

    # Each conversation keeps its own draft.
    console.input.fill("draft for Ann")
    console.select("Bob")
    expect(console.input).to_have_value("")
    expect(console.conversation("Bob").locator(".badge")).to_have_count(0)
    expect(console.page).to_have_title(BASE_TITLE)
    console.input.fill("draft for Bob")
    console.select("Ann")
    expect(console.input).to_have_value("draft for Ann")
    console.select("Bob")
    expect(console.input).to_have_value("draft for Bob")

    # Ending takes a second click; the ended conversation stays until dismissed.
    end = console.page.locator("#end")
    end.click()
    expect(end).to_have_text("Click again to end")
    end.click()
    assert bob.wait_for("closed")["reason"] == "agent"
    expect(console.conversation("Bob").locator(".tag")).to_have_text("Ended")
    expect(console.page.locator("#composer")).to_be_hidden()
    expect(console.bubble("You ended the conversation", "system")).to_have_count(1)
    console.conversation("Bob").locator(".dismiss").click()
    expect(console.conversation("Bob")).to_have_count(0)
    expect(console.title).to_have_text("Ann")
    expect(console.input).to_have_value("draft for Ann")


def test_console_availability_and_queue_length(chat_server, new_context, connect_client):
    console = open_console(new_context, chat_server, capacity=1)
    expect(console.load).to_have_text("Load 0 / 1")
    expect(console.queue).to_have_text("Queue 0")
    expect(console.available).to_be_checked()

    console.available.uncheck()
    waiting = connect_client(chat_server, "cust-wait", "customer", name="Wes")
    assert waiting.call("consult")["status"] == "queued"
    expect(console.queue).to_have_text("Queue 1")
    expect(console.conversation("Wes")).to_have_count(0)

    console.available.check()
    expect(console.conversation("Wes")).to_have_count(1)
    expect(console.queue).to_have_text("Queue 0")
    expect(console.load).to_have_text("Load 1 / 1")
    assert waiting.wait_for("assigned")["names"] == {"cust-wait": "Wes", "agent-d": "Dana"}


def test_console_without_token_explains(chat_server, new_context):
    page = new_context().new_page()
    page.goto(f"{chat_server.url}/console?locale=en")

    expect(page.locator("#notice")).to_have_text(
        "Open this page with your agent token: /console#token=… or sign in on the demo page."
    )


def test_console_rejects_customer_token(chat_server, new_context):
    page = new_context().new_page()
    page.goto(f"{chat_server.url}/console?locale=en#token={chat_server.token('cust-z', 'customer')}")

    expect(page.locator("#notice")).to_have_text("This token belongs to a customer. The console is for agents.")
    assert "token" not in page.url
