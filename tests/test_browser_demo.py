"""In Chromium: the demo sign-in keeps one user per tab across reloads."""

import re

import pytest
from playwright.sync_api import expect

from imflask.tokens import decode_token
from tests.browser import browser, new_context  # noqa: F401
from tests.harness import TEST_SECRET

pytestmark = pytest.mark.timeout(90)


def sign_in(page, server, uid, role):
    page.goto(f"{server.url}/demo/?locale=en")
    page.fill("input[name=uid]", uid)
    page.check(f"input[name=role][value={role}]")
    page.click("button[type=submit]")


def test_demo_two_tabs_keep_their_users_on_reload(start_server, new_context):
    server = start_server({"DEMO": "true"})
    context = new_context()
    agent_tab = context.new_page()
    customer_tab = context.new_page()

    sign_in(agent_tab, server, "agent-tab", "agent")
    expect(agent_tab).to_have_url(re.compile(r".*/console$"))
    sign_in(customer_tab, server, "customer-tab", "customer")
    expect(customer_tab.locator("#demo-uid")).to_have_text("customer-tab")
    agent_tab.reload()
    customer_tab.reload()

    stored = agent_tab.evaluate("() => sessionStorage.getItem('imflask:console:token')")

    expect(agent_tab).to_have_title("Agent console · imflask")
    expect(agent_tab.get_by_text("Open this page with your agent token")).to_have_count(0)
    assert decode_token(TEST_SECRET, stored).uid == "agent-tab"
    expect(customer_tab.locator("#demo-uid")).to_have_text("customer-tab")
    assert "/demo/chat" in customer_tab.url
