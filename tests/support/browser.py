"""Headless Chromium for the browser tests: the app served live, pages that record everything.

Chromium is the Debian package at /usr/bin/chromium (CI installs it; Playwright never
downloads one). A page records every request, every answer and every console error, so that a
test can check nothing left the loopback host and nothing went wrong (a CSP violation is a
console error).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import ConsoleMessage, Page, Request, Response, sync_playwright
from werkzeug.serving import make_server

from tests.support.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


@dataclass
class BrowserPage:
    """A page plus everything it requested, every answer it got and every error it logged."""

    page: Page
    requests: list[Request] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [request.url for request in self.requests]

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        self.errors.append(f"console: {message.text} at {where}")

    def check_clean(self) -> None:
        """Nothing left the loopback host and nothing went wrong."""
        # Only the network counts: Chromium's own PDF viewer loads chrome:// resources.
        hosts = {
            urlsplit(url).hostname for url in self.urls if urlsplit(url).scheme in ("http", "https")
        }
        assert hosts == {"127.0.0.1"}, self.urls
        assert self.errors == []


def answer_confirms(page: Page) -> None:
    """Answer every confirm question of the portal (`data-confirm`, app.js) with OK, in the page:
    on a busy machine Chromium's PDF viewer, loading in a frame (the tribunal's workbench shows
    the letter), closes a native dialog opened meanwhile, and the step is silently lost. The
    questions themselves are checked as native dialogs in tests/test_browser_settlement.py."""
    page.add_init_script("window.confirm = function () { return true; };")


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` in a thread on a free loopback port; yield its base URL."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@contextmanager
def chromium_page() -> Iterator[BrowserPage]:
    """A Chinese-locale Chromium page recording its requests, answers and console errors."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        recorded = BrowserPage(page=page)
        # Playwright wraps Python functions only, not built-in methods like list.append.
        page.on("request", lambda request: recorded.requests.append(request))
        page.on("response", lambda response: recorded.responses.append(response))
        page.on("console", recorded.on_console)
        page.on("pageerror", lambda error: recorded.errors.append(f"pageerror: {error}"))
        try:
            yield recorded
        finally:
            context.close()
            browser.close()
