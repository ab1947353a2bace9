"""Police intake in headless Chromium: upload letters, review beside the page, confirm, reveal;
and a scanned letter read by OCR in a real worker, reviewed with its confidence and confirmed.

The app runs in a real WSGI server thread against committed PostgreSQL data and moto's S3, with
CSRF protection on (as in production) and jobs run in-process after each commit (no Redis), so
a letter is read during its upload request; the scan is read by a `daojiao worker` on Redis
while the page shows the reading's progress. Chromium is the Debian package at /usr/bin/chromium.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from app import audit, db
from app.db import session
from app.models import Case, OrgKind, User
from app.services import accounts
from tests import factories
from tests.reports.generator import make_report, make_scan
from tests.support.browser import BrowserPage, serve

pytestmark = pytest.mark.browser

REGION = "吕梁市离石区"
POLICE_ORG = "吕梁市公安局交通警察支队离石大队"
COMMITTEE_ORG = "离石区道路交通事故纠纷人民调解委员会"
POLICE_USER, POLICE_NAME = "police-intake", "王警官"
MEDIATOR_USER, MEDIATOR_NAME = "mediator-intake", "刘调解员"
PASSWORD = "browser-intake-password"  # test accounts only
SEED = 21
FIRST_FILE, SECOND_FILE = "认定书一.pdf", "认定书二.pdf"
CORRECTED_NAME, ADDED_NAME, ADDED_MODE = "更正姓名", "新增当事人", "步行"
REVIEW_COPY = Path("/tmp/daojiao-review.png")  # noqa: S108 - for the lead to look at
SCAN_REVIEW_COPY = Path("/tmp/daojiao-review-scan.png")  # noqa: S108 - for the lead to look at
CASE_COPY = Path("/tmp/daojiao-case.png")  # noqa: S108 - for the lead to look at
CASE_NUMBER = re.compile(r"^DJ-\d{4}-\d+$")
MASKED_ID = re.compile(r"^\d{4}\*{10}[\dX]{4}$")


@dataclass
class Centre:
    """The app served on a loopback port, with the report its insurer is named after."""

    url: str
    app: Flask
    report: bytes
    truth: dict[str, Any]


@pytest.fixture
def centre(committed_app: Callable[..., Flask]) -> Iterator[Centre]:
    """A police unit and a committee of 吕梁市离石区, the report's insurer, served live."""
    report, truth = make_report("general_table", seed=SEED)
    insurer = next(party["ctpi_insurer"] for party in truth["parties"] if party.get("ctpi_insurer"))
    app = committed_app(WTF_CSRF_ENABLED=True)
    assert app.config["WTF_CSRF_ENABLED"]
    with app.app_context():
        police = accounts.create_organization(
            actor=None, kind=OrgKind.POLICE, name=POLICE_ORG, region=REGION
        )
        accounts.create_user(
            actor=None,
            org=police,
            username=POLICE_USER,
            password=PASSWORD,
            display_name=POLICE_NAME,
        )
        accounts.create_organization(actor=None, kind=OrgKind.INSURER, name=insurer)
        committee = accounts.create_organization(
            actor=None, kind=OrgKind.MEDIATION, name=COMMITTEE_ORG, region=REGION
        )
        accounts.create_user(
            actor=None,
            org=committee,
            username=MEDIATOR_USER,
            password=PASSWORD,
            display_name=MEDIATOR_NAME,
        )
        db.session.commit()
    with serve(app) as url:
        yield Centre(url=url, app=app, report=report, truth=truth)


def log_in(bp: BrowserPage, base: str, username: str) -> None:
    """Through the login page onto the home page."""
    page = bp.page
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_police_upload_review_correct_and_confirm(
    centre: Centre, browser_page: BrowserPage, tmp_path: Path
) -> None:
    page, truth = browser_page.page, centre.truth
    first = tmp_path / FIRST_FILE
    first.write_bytes(centre.report)
    second = tmp_path / SECOND_FILE
    second.write_bytes(make_report("general_prose", seed=SEED)[0])
    log_in(browser_page, centre.url, POLICE_USER)

    # Upload two letters at once from the navbar's page.
    page.locator("nav").get_by_role("link", name="上传认定书").click()
    expect(page).to_have_url(re.compile(r"/police/upload$"))
    page.set_input_files("input[name=reports]", [str(first), str(second)])
    page.locator("main form button[type=submit]").click()
    rows = page.locator("[data-testid=upload-results] tbody tr")
    expect(rows).to_have_count(2)
    for row, name in zip((rows.nth(0), rows.nth(1)), (FIRST_FILE, SECOND_FILE), strict=True):
        expect(row.locator("td").first).to_have_text(name)
        expect(row.get_by_role("link")).to_have_text(CASE_NUMBER)
        job = row.locator(".job")
        expect(job).to_have_attribute("data-job-status", "succeeded")
        expect(job.locator(".job-status")).to_have_text("已完成")
        expect(job.locator("progress")).to_have_js_property("value", 100)
    assert page.get_by_test_id("upload-error").count() == 0
    # What the page polls while a job runs answers the browser's session (here: finished).
    job_id = rows.nth(0).locator(".job").get_attribute("data-job-id")
    polled = page.evaluate(
        """id => fetch("/api/v1/jobs/" + id, {
            credentials: "same-origin", headers: {Accept: "application/json"}
        }).then(response => response.json())""",
        job_id,
    )
    assert (polled["status"], polled["status_label"], polled["progress"]) == (
        "succeeded",
        "已完成",
        100,
    )

    # The first case's review page: fields beside the page image with highlight boxes.
    rows.nth(0).get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/police/cases/\d+/review$"))
    case_url = page.url.removesuffix("/review").replace("/police/cases/", "/cases/")
    image = page.locator("svg[data-testid=page-1] image")
    expect(image).to_have_count(1)
    page.wait_for_load_state("networkidle")
    href = image.get_attribute("href")
    assert href
    (answer,) = [r for r in browser_page.responses if urlsplit(r.url).path == urlsplit(href).path]
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/png"
    size = page.evaluate(
        """href => new Promise(resolve => {
            const img = new Image();
            img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
            img.onerror = () => resolve([0, 0]);
            img.src = href;
        })""",
        href,
    )
    assert min(size) > 500, size

    document_no = page.get_by_label("认定书编号")
    expect(document_no).to_have_value(truth["document_no"])
    box = page.locator('rect.hl[data-field="document_no"]')
    expect(box).not_to_have_class(re.compile(r"\bactive\b"))
    document_no.focus()
    expect(box).to_have_class(re.compile(r"\bactive\b"))
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

    # Correct a name, add the party the letter's reading missed, confirm.
    parties = page.locator("fieldset.party")
    expect(parties).to_have_count(len(truth["parties"]) + 1)
    name_0 = page.locator('input[data-field="parties[0].name"]')
    expect(name_0).to_have_value(truth["parties"][0]["name"])
    name_0.fill(CORRECTED_NAME)
    added = len(truth["parties"])
    page.locator(f'input[data-field="parties[{added}].name"]').fill(ADDED_NAME)
    page.locator(f'input[data-field="parties[{added}].traffic_mode"]').fill(ADDED_MODE)
    page.get_by_test_id("confirm").click()

    expect(page).to_have_url(re.compile(re.escape(case_url) + "$"))
    expect(page.get_by_test_id("case-status")).to_have_text("已报案")
    table = page.get_by_test_id("parties")
    expect(table).to_contain_text(CORRECTED_NAME)
    expect(table).not_to_contain_text(truth["parties"][0]["name"])
    expect(table.locator("tr", has_text=ADDED_NAME)).to_contain_text(ADDED_MODE)
    expect(page.get_by_test_id("documents")).to_contain_text(FIRST_FILE)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(tmp_path / "case.png"), full_page=True)

    for name, copy in (("review.png", REVIEW_COPY), ("case.png", CASE_COPY)):
        assert (tmp_path / name).stat().st_size > 20_000
        shutil.copyfile(tmp_path / name, copy)
    browser_page.check_clean()


def _upload_and_confirm(centre: Centre) -> int:
    """Upload the centre's report and confirm it through the API, as another client would."""
    client = centre.app.test_client()
    token = client.post("/api/v1/tokens", json={"username": POLICE_USER, "password": PASSWORD})
    assert token.status_code == 201, token.get_json()
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    response = client.post(
        "/api/v1/cases",
        headers=headers,
        **factories.multipart({"report": (io.BytesIO(centre.report), FIRST_FILE)}),
    )
    assert response.status_code == 202, response.get_json()
    case_id = response.get_json()["id"]
    # The reading (run during the upload here) changed the case: confirm its current version.
    case = client.get(f"/api/v1/cases/{case_id}", headers=headers).get_json()
    assert case["report"]["document_no"] == centre.truth["document_no"]
    response = client.post(
        f"/api/v1/cases/{case['id']}/confirm", headers=headers, json={"version": case["version"]}
    )
    assert response.status_code == 200, response.get_json()
    with centre.app.app_context():
        confirmed = session.get(Case, case["id"])
        mediator = session.scalar(select(User).where(User.username == MEDIATOR_USER))
        assert confirmed is not None
        assert mediator is not None
        assert confirmed.mediator_id == mediator.id  # assigned by region
    return case["id"]


def test_id_number_reveal_on_case_page(centre: Centre, browser_page: BrowserPage) -> None:
    page = browser_page.page
    case_id = _upload_and_confirm(centre)
    log_in(browser_page, centre.url, MEDIATOR_USER)
    page.goto(f"{centre.url}/cases/{case_id}")
    expect(page.get_by_test_id("case-status")).to_have_text("已报案")

    rows = page.get_by_test_id("parties").locator("tbody tr")
    expect(rows).to_have_count(len(centre.truth["parties"]))
    party = centre.truth["parties"][1]
    row = rows.filter(has_text=party["name"])
    shown = row.locator("td").nth(2).locator("span")
    expect(shown).to_have_text(MASKED_ID)
    expect(shown).to_have_text(party["id_number"][:4] + "*" * 10 + party["id_number"][-4:])
    assert party["id_number"] not in page.content()

    # Without the page's CSRF token the same session is refused (the check is on).
    reveal_url = row.get_by_role("button", name="显示").get_attribute("data-reveal-url")
    assert reveal_url
    refused = page.request.post(centre.url + reveal_url, headers={"Accept": "application/json"})
    assert refused.status == 400
    assert party["id_number"] not in refused.text()

    with page.expect_request(lambda request: request.method == "POST") as posted:
        row.get_by_role("button", name="显示").click()
    expect(shown).to_have_text(party["id_number"])
    expect(row.get_by_role("button", name="显示")).to_have_count(0)
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    assert token
    assert posted.value.headers.get("x-csrftoken") == token
    with centre.app.app_context():
        revealed = [
            event
            for event in audit.recent_events(limit=20, case_id=case_id)
            if event.action == "party.id_revealed"
        ]
        mediator = session.scalar(select(User).where(User.username == MEDIATOR_USER))
        assert mediator is not None
        assert [event.actor_id for event in revealed] == [mediator.id]  # the refusal left none
    # The other party stays masked.
    other = rows.filter(has_text=centre.truth["parties"][0]["name"]).locator("td").nth(2)
    expect(other.locator("span")).to_have_text(MASKED_ID)
    page.wait_for_load_state("networkidle")
    browser_page.check_clean()


# -- a scanned letter, read by OCR in a worker ----------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
SCAN_FILE = "扫描件.pdf"
SCAN_VARIANT, SCAN_SEED, SCAN_DPI = "simple_block_grid", 0, 150  # one page: OCR takes seconds
READING_TIMEOUT_MS = 240_000  # OCR of a page takes 5–40 s on a busy machine


@contextmanager
def worker(app: Flask, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`daojiao worker` on the app's Redis, database and S3, stopped (warm) when done."""
    config = app.config
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DAOJIAO_MODE": "testing",
        "DATABASE_URL": config["DATABASE_URL"],
        "REDIS_URL": config["REDIS_URL"],
        "S3_ENDPOINT": config["S3_ENDPOINT"],
        "S3_ACCESS_KEY": config["S3_ACCESS_KEY"],
        "S3_SECRET_KEY": config["S3_SECRET_KEY"],
        "S3_BUCKET": config["S3_BUCKET"],
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "workers"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def scan_centre(
    committed_app: Callable[..., Flask], redis_url: str, tmp_path: Path
) -> Iterator[Centre]:
    """The police unit and committee, a scanned letter, jobs on Redis run by a real worker."""
    scan, truth = make_scan(SCAN_VARIANT, SCAN_SEED, dpi=SCAN_DPI)
    app = committed_app(WTF_CSRF_ENABLED=True, REDIS_URL=redis_url)
    with app.app_context():
        police = accounts.create_organization(
            actor=None, kind=OrgKind.POLICE, name=POLICE_ORG, region=REGION
        )
        accounts.create_user(
            actor=None,
            org=police,
            username=POLICE_USER,
            password=PASSWORD,
            display_name=POLICE_NAME,
        )
        committee = accounts.create_organization(
            actor=None, kind=OrgKind.MEDIATION, name=COMMITTEE_ORG, region=REGION
        )
        accounts.create_user(
            actor=None,
            org=committee,
            username=MEDIATOR_USER,
            password=PASSWORD,
            display_name=MEDIATOR_NAME,
        )
        db.session.commit()
    with worker(app, tmp_path / "worker.log"), serve(app) as url:
        yield Centre(url=url, app=app, report=scan, truth=truth)


def _truth_at(truth: dict[str, Any], path: str) -> Any:
    """The generated letter's value at a field path (`issue_date`, `parties[1].plate`)."""
    if path.startswith("parties["):
        index, _sep, name = path.removeprefix("parties[").partition("].")
        parties = truth["parties"]
        return parties[int(index)].get(name) if int(index) < len(parties) else None
    return truth.get(path)


@pytest.mark.redis
def test_police_review_a_scan_read_by_ocr_and_confirm(
    scan_centre: Centre, browser_page: BrowserPage, tmp_path: Path
) -> None:
    page, truth = browser_page.page, scan_centre.truth
    scan = tmp_path / SCAN_FILE
    scan.write_bytes(scan_centre.report)
    log_in(browser_page, scan_centre.url, POLICE_USER)

    # Upload the scan: a single letter lands on its review page, which shows the reading's
    # progress while the worker reads it and reloads itself when it is done.
    page.locator("nav").get_by_role("link", name="上传认定书").click()
    page.set_input_files("input[name=reports]", [str(scan)])
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/police/cases/\d+/review$"))
    job = page.locator(".job").first
    assert job.get_attribute("data-job-status") in ("queued", "running")
    expect(job.locator("progress")).to_be_visible()

    # The review: the OCR banner, a confidence badge beside what was read, the page image.
    expect(page.get_by_test_id("ocr-banner")).to_be_visible(timeout=READING_TIMEOUT_MS)
    case_url = page.url.removesuffix("/review").replace("/police/cases/", "/cases/")
    # The page images come from a job of their own; the page reloads itself when they are ready.
    expect(page.locator("svg[data-testid=page-1] image")).to_have_count(1, timeout=120_000)
    banner = page.get_by_test_id("ocr-banner")
    expect(banner).to_contain_text("本认定书为扫描件，以下内容由文字识别（OCR）读取")
    expect(banner).to_have_attribute("role", "status")
    document_no = page.get_by_label("认定书编号")
    expect(document_no).to_have_value(truth["document_no"])
    badge = page.locator('[data-testid=ocr-badge][data-for="document_no"]')
    expect(badge).to_have_text(re.compile(r"^识别 \d{2,3}%$"))
    expect(document_no).to_have_attribute("aria-describedby", re.compile(r"\bdocument_no-ocr\b"))
    assert page.get_by_test_id("ocr-badge").count() >= 10

    # Fix one field: the first listed as needing a check that the letter gives, else one the
    # reading left empty (the simple form's date of the letter).
    fixed_path, fixed_value = None, None
    items = page.get_by_test_id("attention-item")
    for index in range(items.count()):
        item = items.nth(index)
        path = item.get_attribute("data-path") or ""
        value = _truth_at(truth, path)
        link = item.locator("a[data-focus]")
        if not isinstance(value, str) or link.count() == 0:
            continue
        link.click()
        target = page.locator(f"#{link.get_attribute('data-focus')}")
        expect(target).to_be_focused()
        if target.evaluate("element => element.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
        fixed_path, fixed_value = path, value
        break
    if fixed_path is None:
        issue_date = page.get_by_label("认定日期", exact=True)
        assert issue_date.input_value() == ""  # what this scan's reading leaves empty
        issue_date.fill(truth["issue_date"])
        fixed_path, fixed_value = "issue_date", truth["issue_date"]
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(tmp_path / "review-scan.png"), full_page=True)
    page.get_by_test_id("confirm").click()

    expect(page).to_have_url(re.compile(re.escape(case_url) + "$"))
    expect(page.get_by_test_id("case-status")).to_have_text("已报案")
    table = page.get_by_test_id("parties")
    expect(table.locator("tbody tr")).to_have_count(len(truth["parties"]))
    expect(table).to_contain_text(truth["parties"][0]["name"])
    case_id = int(case_url.rsplit("/", 1)[1])
    with scan_centre.app.app_context():
        confirmed = session.get(Case, case_id)
        assert confirmed is not None
        assert confirmed.report.parsed["source"] == "ocr"
        assert _truth_at(confirmed.report.fields, fixed_path) == fixed_value
    assert (tmp_path / "review-scan.png").stat().st_size > 20_000
    shutil.copyfile(tmp_path / "review-scan.png", SCAN_REVIEW_COPY)
    page.wait_for_load_state("networkidle")
    browser_page.check_clean()
