"""In Chromium: a customer in the widget on another origin and an agent in the console chat both ways."""

import pytest
from playwright.sync_api import expect

from tests.browser import ConsoleDriver, WidgetDriver, browser, host_site, new_context, save_screenshot  # noqa: F401

pytestmark = pytest.mark.timeout(90)

# Texts the test expects on screen, per locale, as the catalogs translate them.
TEXTS = {
    "en": {
        "open": "Open the chat",
        "consult": "Start a conversation",
        "chatting": "You are chatting with Alice Wang.",
        "typing": "Carl Chen is typing…",
        "agent_typing": "Alice Wang is typing…",
        "delivered": "Delivered",
        "rating": "How was your conversation with Alice Wang?",
        "thanks": "Thank you for your feedback!",
        "console": "Agent console",
        "ended_by_customer": "The customer ended the conversation",
    },
    "zh_CN": {
        "open": "打开聊天窗口",
        "consult": "开始咨询",
        "chatting": "客服 Alice Wang 正在为您服务。",
        "typing": "Carl Chen 正在输入…",
        "agent_typing": "Alice Wang 正在输入…",
        "delivered": "已送达",
        "rating": "您对客服 Alice Wang 的服务满意吗？",
        "thanks": "感谢您的评价！",
        "console": "客服工作台",
        "ended_by_customer": "客户结束了会话",
    },
}
CUSTOMER_MESSAGE = {"en": "Hi, where is my order #42? 😀", "zh_CN": "你好，我的订单 #42 到哪里了？😀"}
SECOND_CUSTOMER_MESSAGE = {"en": "Do you ship to Shanghai?", "zh_CN": "请问可以寄到上海吗？"}
AGENT_MESSAGE = {"en": "It ships today 🚚 — tracking follows.", "zh_CN": "今天发货 🚚，稍后发您快递单号。"}


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_chat_both_ways_in_locale(locale, start_server, new_context, host_site, connect_client, tmp_path):
    texts = TEXTS[locale]
    server = start_server({"CORS_ORIGINS": host_site.origin})
    agent_token = server.token("agent-alice", "agent", name="Alice Wang", capacity=3)
    customer_token = server.token("cust-carl", "customer", name="Carl Chen")

    console = ConsoleDriver.open(new_context(), server.url, agent_token, locale)
    # English passes the locale option; Chinese leaves it to the browser's Accept-Language.
    options = {"token": customer_token, "locale": "en"} if locale == "en" else {"token": customer_token}
    browser_locale = "en-US" if locale == "en" else "zh-CN"
    page = new_context(locale=browser_locale).new_page()
    page.goto(host_site.add_widget_page(f"/chat-{locale}", server.url, options))
    widget = WidgetDriver(page).wait_ready()

    expect(widget.launcher).to_have_attribute("aria-label", texts["open"])
    expect(console.page).to_have_title(f"{texts['console']} · imflask")
    widget.open()
    expect(page.locator("#imflask-widget .idle button.primary")).to_have_text(texts["consult"])
    widget.start()
    expect(widget.subtitle).to_have_text(texts["chatting"])
    expect(widget.input).to_be_focused()

    # Customer to agent, with the typing indicator on the way.
    widget.input.press_sequentially("Hi")
    expect(console.typing).to_have_text(texts["typing"])
    widget.send(CUSTOMER_MESSAGE[locale])
    expect(console.title).to_have_text("Carl Chen")
    expect(console.bubble(CUSTOMER_MESSAGE[locale], "theirs")).to_have_count(1)
    expect(widget.state_of(CUSTOMER_MESSAGE[locale])).to_have_text(texts["delivered"])

    # Agent to customer; the typing indicator goes away with the message.
    console.input.press_sequentially("It")
    expect(widget.typing).to_have_text(texts["agent_typing"])
    console.send(AGENT_MESSAGE[locale])
    expect(widget.bubble(AGENT_MESSAGE[locale], "theirs")).to_have_count(1)
    expect(widget.typing).to_have_text("")
    expect(console.page.locator("#messages li.mine .state").last).to_have_text(texts["delivered"])
    assert widget.bubbles("mine") == [CUSTOMER_MESSAGE[locale]]
    assert widget.bubbles("theirs") == [AGENT_MESSAGE[locale]]
    assert console.bubbles("theirs") == [CUSTOMER_MESSAGE[locale]]
    assert console.bubbles("mine") == [AGENT_MESSAGE[locale]]

    # A second customer arrives while the agent is busy with the first.
    second = connect_client(server, "cust-ming", "customer", name="李明")
    second.call("consult")
    second.call("message", {"to": "agent-alice", "body": SECOND_CUSTOMER_MESSAGE[locale]})
    expect(console.conversation("李明").locator(".badge")).to_have_text("1")
    expect(console.conversation("李明").locator(".conv-last")).to_have_text(SECOND_CUSTOMER_MESSAGE[locale])
    expect(console.page).to_have_title(f"(2) {texts['console']} · imflask")
    expect(console.title).to_have_text("Carl Chen")

    widget.input.blur()
    console.input.blur()
    save_screenshot(page, f"widget-chat-{locale}.png", tmp_path)
    save_screenshot(console.page, f"console-{locale}.png", tmp_path)

    # The customer ends the conversation and rates it.
    page.locator("#imflask-widget .header .end").click()
    page.locator("#imflask-widget .confirm button.danger").click()
    expect(page.locator("#imflask-widget .rating legend")).to_have_text(texts["rating"])
    expect(console.bubble(texts["ended_by_customer"], "system")).to_have_count(1)
    page.locator("#imflask-widget .star").nth(3).click()
    page.locator("#imflask-widget .rating textarea").fill("👍")
    page.locator("#imflask-widget .rating button.primary").click()
    expect(page.locator("#imflask-widget .ended p")).to_have_text(texts["thanks"])


def test_widget_unread_badge_while_closed(start_server, new_context, host_site, connect_client):
    server = start_server({"CORS_ORIGINS": host_site.origin})
    agent = connect_client(server, "agent-b", "agent", name="Bea")
    page = new_context().new_page()
    page.goto(host_site.add_widget_page("/badge", server.url, {"token": server.token("cust-u", "customer"), "locale": "en"}))
    widget = WidgetDriver(page).wait_ready()
    widget.open()
    widget.start()
    expect(widget.subtitle).to_have_text("You are chatting with Bea.")

    page.keyboard.press("Escape")
    expect(widget.window).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    for text in ("one", "two", "three"):
        assert agent.call("message", {"to": "cust-u", "body": text})["ok"] is True

    expect(widget.badge).to_have_text("3")
    expect(widget.launcher).to_have_attribute("aria-label", "Open the chat, 3 unread messages")
    widget.launcher.click()
    expect(widget.badge).to_be_hidden()
    expect(widget.bubble("three", "theirs")).to_have_count(1)


def test_widget_invalid_token_shows_error(start_server, new_context, host_site):
    server = start_server({"CORS_ORIGINS": host_site.origin})
    page = new_context().new_page()
    page.goto(host_site.add_widget_page("/invalid-token", server.url, {"token": "not-a-jwt", "locale": "en"}))
    widget = WidgetDriver(page)
    widget.launcher.click()

    expect(widget.banner).to_have_text("The chat could not sign you in.")
    expect(widget.error).to_have_text("The sign-in token is invalid or expired. Sign in again.")


def test_widget_unlisted_origin_not_served(start_server, new_context, host_site):
    server = start_server()
    page = new_context().new_page()
    page.goto(host_site.add_widget_page("/unlisted", server.url, {"token": server.token("cust-x", "customer"), "locale": "en"}))

    outcome = page.evaluate("hostWidget.ready.then(() => 'started', () => 'failed')")

    assert outcome == "failed"
    expect(page.locator("#imflask-widget")).to_have_count(0)
