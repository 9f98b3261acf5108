"""Helpers for the browser tests: headless Chromium through Playwright, a host
page on a second origin, and drivers for the widget and the agent console.

Chromium is Debian's package at /usr/bin/chromium (``IMFLASK_TEST_CHROMIUM``
names another binary); ``make test`` installs it when it is missing.
Screenshots go to ``IMFLASK_SCREENSHOT_DIR`` when it is set (``make
screenshots`` sets docs/screenshots), else to the test's tmp_path.
"""

import html
import http.server
import json
import logging
import os
import re
import threading

import pytest

from tests.harness import free_port

logger = logging.getLogger(__name__)

CHROMIUM = os.environ.get("IMFLASK_TEST_CHROMIUM", "/usr/bin/chromium")
# Flags that keep Chromium from opening any connection besides the test's own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
TIMEOUT_MS = 10_000
SCREENSHOT_DIR = os.environ.get("IMFLASK_SCREENSHOT_DIR")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the whole test module."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium package or set IMFLASK_TEST_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser):
    """Open browser contexts (separate cookie jars and storage); all are closed afterwards."""
    contexts = []

    def open_context(locale="en-US", viewport=None):
        context = browser.new_context(locale=locale, viewport=viewport or {"width": 1000, "height": 700})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


class HostSite:
    """A plain HTTP server on another loopback port that serves host pages.

    Its origin differs from the imflask server's by port, so a widget on its
    pages talks to imflask across origins.
    """

    def __init__(self):
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.pages = {}
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = site.pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):
                logger.debug("host site: " + format, *args)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add_widget_page(self, path, server_url, options):
        """Serve at ``path`` a shop page that embeds the widget of ``server_url``; return its URL."""
        # Escaping "<" keeps a "</script>" inside a value from ending the script element.
        config = json.dumps({"server": server_url, **options}).replace("<", "\\u003c")
        self.pages[path] = f"""<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host shop</title>
<style>body {{ font-family: sans-serif; margin: 40px; color: #333; }} .hero {{ max-width: 520px; }}</style></head>
<body><div class="hero"><h1>Green Leaf Tea</h1>
<p>Loose-leaf teas from small farms, shipped within two days.</p>
<p>This shop page and the chat widget come from two different origins.</p></div>
<script src="{html.escape(server_url)}/widget/widget.js"></script>
<script>window.hostWidget = imflask.init({config});</script>
</body></html>"""
        return self.origin + path

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def host_site():
    """The second origin that embeds the widget."""
    site = HostSite()
    yield site
    site.close()


def save_screenshot(target, name, tmp_path, **options):
    """Save a PNG of a page or locator under the screenshot directory; return its path."""
    folder = SCREENSHOT_DIR or str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    target.screenshot(path=path, **options)
    return path


def text_pattern(text, exact):
    """Match a whole element text when ``exact``, else any text that contains ``text``."""
    return re.compile(f"^{re.escape(text)}$") if exact else text


class WidgetDriver:
    """Drives the widget on a host page; every locator pierces its shadow root."""

    def __init__(self, page):
        self.page = page
        self.launcher = page.locator("#imflask-widget .launcher")
        self.window = page.locator("#imflask-widget .window")
        self.subtitle = page.locator("#imflask-widget .subtitle")
        self.input = page.locator("#imflask-widget .composer textarea")
        self.badge = page.locator("#imflask-widget .badge")
        self.banner = page.locator("#imflask-widget .banner")
        self.typing = page.locator("#imflask-widget .typing")
        self.error = page.locator("#imflask-widget .error")

    def wait_ready(self):
        self.launcher.wait_for(state="visible")
        self.page.wait_for_function("() => window.imflask && imflask.widget && imflask.widget.session && imflask.widget.session.synced", timeout=TIMEOUT_MS)
        return self

    def open(self):
        self.launcher.click()
        self.window.wait_for(state="visible")

    def start(self):
        self.page.locator("#imflask-widget .idle button.primary").click()

    def send(self, text):
        self.input.fill(text)
        self.input.press("Enter")

    def bubbles(self, kind="msg"):
        """Return the texts of the shown entries of ``kind`` (mine, theirs, system, or msg for all)."""
        return self.page.locator(f"#imflask-widget .messages li.{kind} .bubble").all_text_contents()

    def bubble(self, text, kind="msg", exact=True):
        return self.page.locator(f"#imflask-widget .messages li.{kind} .bubble").filter(has_text=text_pattern(text, exact))

    def state_of(self, text):
        return self.page.locator("#imflask-widget .messages li.mine").filter(has_text=text).locator(".state")


class ConsoleDriver:
    """Drives the agent console page."""

    def __init__(self, page):
        self.page = page
        self.input = page.locator("#input")
        self.items = page.locator("#conversations li")
        self.title = page.locator("#thread-title")
        self.queue = page.locator("#queue")
        self.load = page.locator("#load")
        self.available = page.locator("#available")
        self.typing = page.locator("#typing")

    @classmethod
    def open(cls, context, server_url, token, locale):
        page = context.new_page()
        page.goto(f"{server_url}/console?locale={locale}#token={token}")
        driver = cls(page)
        page.locator("#connection[data-status=connected]").wait_for()
        return driver

    def conversation(self, name):
        return self.page.locator("#conversations li").filter(has_text=name)

    def select(self, name):
        self.conversation(name).locator("button.conv").click()
        self.page.locator("#thread-title").filter(has_text=name).wait_for()

    def send(self, text):
        self.input.fill(text)
        self.input.press("Enter")

    def bubbles(self, kind="msg"):
        return self.page.locator(f"#messages li.{kind} .bubble").all_text_contents()

    def bubble(self, text, kind="msg", exact=True):
        return self.page.locator(f"#messages li.{kind} .bubble").filter(has_text=text_pattern(text, exact))
