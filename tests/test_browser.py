"""The portal in headless Chromium: login, the empty case list, language switch and logout.

The app runs in a real WSGI server thread against committed PostgreSQL data; Chromium is
the Debian package at /usr/bin/chromium (CI installs it; Playwright never downloads one).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import expect

from app import db
from app.models import OrgKind
from app.services import accounts
from tests.support.browser import BrowserPage, serve

pytestmark = pytest.mark.browser

POLICE_ORG = "吕梁市公安局交通警察支队离石大队"
USERNAME = "police1"
DISPLAY_NAME = "李警官"
PASSWORD = "browser-test-password"  # test account only
SCREENSHOT_COPY = Path("/tmp/daojiao-case-list.png")  # noqa: S108 - for the lead to look at


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture
def live_server(committed_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    """The app with a police organisation and user `police1`, served on a loopback port."""
    app = committed_app()
    with app.app_context():
        org = accounts.create_organization(actor=None, kind=OrgKind.POLICE, name=POLICE_ORG)
        accounts.create_user(
            actor=None, org=org, username=USERNAME, password=PASSWORD, display_name=DISPLAY_NAME
        )
        db.session.commit()
    with serve(app) as url:
        yield LiveServer(url=url, app=app)


def log_in(bp: BrowserPage, base: str) -> None:
    """From `/`, through the login page, onto the home page, then the case list."""
    page = bp.page
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto(base + "/cases/")


def test_police_logs_in_and_sees_empty_case_list(
    live_server: LiveServer, browser_page: BrowserPage, tmp_path: Path
) -> None:
    page, base = browser_page.page, live_server.url
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")

    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()

    # Home shows what is waiting on the officer; the navbar leads to the case list.
    expect(page).to_have_url(re.compile(r"/$"))
    page.locator("nav").get_by_role("link", name="案件", exact=True).click()
    expect(page).to_have_url(re.compile(r"/cases/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("案件")
    expect(page.get_by_test_id("whoami")).to_have_text(f"{DISPLAY_NAME} · {POLICE_ORG}")
    empty = page.get_by_test_id("empty-case-list")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("暂无案件")
    # Bootstrap's stylesheet is applied (served locally): the navbar is a flex box; app.css
    # gives it the portal's dark blue (white text on it meets WCAG 2.1 AA).
    expect(page.locator("nav.navbar")).to_have_css("display", "flex")
    expect(page.locator("nav.navbar")).to_have_css("background-color", "rgb(10, 48, 105)")
    page.wait_for_load_state("networkidle")

    hosts = {urlsplit(url).hostname for url in browser_page.urls}
    assert hosts == {"127.0.0.1"}, browser_page.urls
    paths = [urlsplit(url).path for url in browser_page.urls]  # linked as `…?v=<content hash>`
    assert any("/static/" in path and path.endswith(".css") for path in paths)
    assert any("/static/" in path and path.endswith(".js") for path in paths)
    assert browser_page.errors == []

    screenshot = tmp_path / "case-list.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.exists()
    assert screenshot.stat().st_size > 10_000
    shutil.copyfile(screenshot, SCREENSHOT_COPY)


def test_language_switch_to_english(live_server: LiveServer, browser_page: BrowserPage) -> None:
    page = browser_page.page
    log_in(browser_page, live_server.url)
    # The language switch is a link styled as a button.
    page.get_by_role("link", name="English", exact=True).click()

    expect(page).to_have_url(re.compile(r"/cases/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    expect(page.get_by_test_id("empty-case-list")).to_have_text("No cases to show.")
    assert browser_page.errors == []


def test_logout_then_back_button_shows_login(
    live_server: LiveServer, browser_page: BrowserPage
) -> None:
    page, base = browser_page.page, live_server.url
    log_in(browser_page, base)
    page.get_by_role("button", name="退出登录").click()

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    expect(page.get_by_role("alert")).to_have_text("您已退出登录。")
    expect(page.get_by_test_id("whoami")).to_have_count(0)

    # Back to the case list: pages are no-store, so it is fetched again and refused.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_test_id("empty-case-list")).to_have_count(0)

    # The server-side session is gone: the case list sends us to the login page.
    page.goto(base + "/cases/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    expect(page.get_by_test_id("whoami")).to_have_count(0)
    assert browser_page.errors == []
