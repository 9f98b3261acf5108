"""In Chromium: message bodies and display names that look like HTML or script show as plain text and run nothing."""

import pytest
from playwright.sync_api import expect

from tests.browser import ConsoleDriver, WidgetDriver, browser, host_site, new_context  # noqa: F401

pytestmark = pytest.mark.timeout(120)

# Each payload tries to run script that sets window.__xss or opens a dialog.
PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    "<svg onload=\"window.__xss = 3\"></svg>",
    '<iframe src="javascript:parent.__xss = 4"></iframe>',
    '"><script>alert("quote breakout")</script>',
    "'><img src=x onerror=alert('apostrophe')>",
    "javascript:alert(document.domain)",
    '<a href="javascript:alert(1)">click me</a>',
    "<body onload=alert('body')>",
    '<details open ontoggle="window.__xss = 5">x</details>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')>",
    "<input autofocus onfocus=alert('focus')>",
    "<video><source onerror=\"window.__xss = 6\"></video>",
    "{{constructor.constructor('alert(\"template\")')()}}",
    "${alert('template literal')}",
    "<style>@import 'javascript:alert(1)';</style>",
    '<object data="javascript:alert(1)"></object>',
    "&lt;script&gt;alert('entities')&lt;/script&gt;",
    "<scr<script>ipt>alert('nested')</scr</script>ipt>",
    "%3Cscript%3Ealert('encoded')%3C%2Fscript%3E",
    '<img src="x\n" onerror="window.__xss = 7">',
    "<form><button formaction=javascript:alert(1)>submit</button></form>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "\u202e<img src=x onerror=alert('rtl')>",
    '<!--<img src="--><img src=x onerror="window.__xss = 8"//">',
    "<svg><script>window.__xss = 9</script></svg>",
    "<marquee onstart=alert('marquee')>moving</marquee>",
    "<base href=\"javascript:alert('base')//\">",
]
NASTY_CUSTOMER_NAME = '<img src=x onerror="window.__xss = 10">Eve'
NASTY_AGENT_NAME = "<script>window.__xss = 11</script>Mallory"


def guard(page):
    """Record dialogs on ``page`` and set the sentinel that every payload tries to change."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script("window.__xss = 0;")
    return dialogs


def test_xss_corpus_shows_literally(start_server, new_context, host_site):
    assert len(PAYLOADS) >= 20
    server = start_server({"CORS_ORIGINS": host_site.origin, "RATE_LIMIT_BURST": 200})
    agent_token = server.token("agent-x", "agent", name=NASTY_AGENT_NAME)
    customer_token = server.token("cust-<b>x</b>", "customer", name=NASTY_CUSTOMER_NAME)

    console_page = new_context().new_page()
    console_dialogs = guard(console_page)
    console_page.goto(f"{server.url}/console?locale=en#token={agent_token}")
    console = ConsoleDriver(console_page)
    widget_page = new_context().new_page()
    widget_dialogs = guard(widget_page)
    widget_page.goto(host_site.add_widget_page("/xss", server.url, {"token": customer_token, "locale": "en"}))
    widget = WidgetDriver(widget_page).wait_ready()
    widget.open()
    widget.start()
    expect(widget.subtitle).to_have_text(f"You are chatting with {NASTY_AGENT_NAME}.")

    for payload in PAYLOADS:
        widget.send(payload)
    expect(console.page.locator("#messages li.theirs")).to_have_count(len(PAYLOADS))
    for payload in PAYLOADS:
        console.send(payload)
    expect(widget.page.locator("#imflask-widget .messages li.theirs")).to_have_count(len(PAYLOADS))
    expect(widget.page.locator("#imflask-widget .messages li.mine .state[data-state=delivered]")).to_have_count(len(PAYLOADS))

    assert widget.bubbles("mine") == PAYLOADS
    assert widget.bubbles("theirs") == PAYLOADS
    assert console.bubbles("theirs") == PAYLOADS
    assert console.bubbles("mine") == PAYLOADS
    expect(console.title).to_have_text(NASTY_CUSTOMER_NAME)
    expect(console.page.locator("#conversations .conv-name")).to_have_text(NASTY_CUSTOMER_NAME)
    expect(console.page.locator("#thread-sub")).to_contain_text("cust-<b>x</b>")
    for page in (widget.page, console.page):
        assert page.locator(".messages img, .messages script, .messages svg, .messages iframe").count() == 0
        assert page.evaluate("window.__xss") == 0
    assert widget.page.locator("#imflask-widget .messages a, #imflask-widget .messages input").count() == 0
    assert console_dialogs == []
    assert widget_dialogs == []
