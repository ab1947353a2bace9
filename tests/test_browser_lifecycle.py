"""The whole life of a case in headless Chromium: the police upload and confirm the letter, the
mediator enters the claims and sees the assessment, the adjuster and the mediator settle the
offers, the agreement is drafted and signed, the tribunal confirms it with a ruling, the payers
pay and the mediator closes the case.

The app runs in a real WSGI server thread against committed PostgreSQL data with CSRF on; jobs
run in-process after each commit (no Redis).
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from reportlab.pdfgen import canvas

from app import db
from app.models import OrgKind
from tests import factories
from tests.reports.generator import make_report
from tests.support.browser import BrowserPage, answer_confirms, serve

pytestmark = pytest.mark.browser

REGION = "吕梁市离石区"
WORKBENCH_COPY = Path("/tmp/daojiao-workbench.png")  # noqa: S108 - for the README
GRADE_ORDER = ("none", "minor", "equal", "main", "full")


@dataclass
class Centre:
    url: str
    report: bytes
    truth: dict[str, Any]
    users: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def centre(committed_app: Callable[..., Flask]) -> Iterator[Centre]:
    app = committed_app(WTF_CSRF_ENABLED=True)
    report, truth = make_report("general_table", seed=3)
    with app.app_context():
        users = {
            "police": factories.make_user(factories.make_org(OrgKind.POLICE, region=REGION)),
            "mediator": factories.make_user(factories.make_org(OrgKind.MEDIATION, region=REGION)),
        }
        tribunal = factories.make_org(OrgKind.TRIBUNAL, "离石区人民法院道交法庭", region=REGION)
        tribunal.case_number_format = "({year})晋1102民特{n}号"
        users["judge"] = factories.make_user(tribunal)
        for party in truth["parties"]:
            for key in ("ctpi_insurer", "commercial_insurer"):
                if party.get(key) and party[key] not in users:
                    users[party[key]] = factories.make_user(
                        factories.make_org(OrgKind.INSURER, party[key])
                    )
        db.session.commit()
        names = {key: user.username for key, user in users.items()}
    with serve(app) as url:
        yield Centre(url, report, truth, names)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def scan_file(tmp_path: Path) -> Path:
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.drawString(72, 720, "signed agreement")
    pdf.save()
    path = tmp_path / "签署件.pdf"
    path.write_bytes(out.getvalue())
    return path


def test_the_whole_life_of_a_case_in_the_portal(
    centre: Centre, browser_page: BrowserPage, tmp_path: Path
) -> None:
    page = browser_page.page
    answer_confirms(page)
    letter = tmp_path / "认定书.pdf"
    letter.write_bytes(centre.report)

    # Police: upload the letter, confirm what was read.
    log_in(page, centre.url, centre.users["police"])
    page.locator("nav").get_by_role("link", name="上传认定书").click()
    page.set_input_files("input[name=reports]", [str(letter)])
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/review$"))  # a single letter: straight to its review
    case_url = page.url.removesuffix("/review").replace("/police/cases/", "/cases/")
    page.get_by_test_id("confirm").click()
    page.goto(case_url)
    expect(page.get_by_test_id("case-status")).to_have_text("已报案")
    log_out(page)

    # Mediator: the least liable party was hurt; enter the claims.
    victim = min(centre.truth["parties"], key=lambda p: GRADE_ORDER.index(p["liability"]))
    log_in(page, centre.url, centre.users["mediator"])
    page.goto(case_url)
    page.get_by_test_id("enter-claims").click()  # no victim yet: straight into the first
    form = page.get_by_test_id("victim-form")
    form.locator("select[name=who]").select_option(f"party:{victim['label']}")
    form.locator("input[name=age]").fill("40")
    form.locator("input[name='medical-0-amount']").fill("30000")
    form.locator("input[name=transport]").fill("500")
    page.get_by_test_id("save-victim").click()
    expect(page.get_by_test_id("payer-chart").locator("svg rect")).not_to_have_count(0)
    legend = page.get_by_test_id("payer-chart").locator("[data-payer]")
    payers = [p for p in legend.evaluate_all("els => els.map(e => e.dataset.payer)") if p != "self"]
    assert payers, "somebody pays"
    amounts = {}
    for payer in payers:
        text = page.get_by_test_id("payer-chart").locator(f"[data-payer='{payer}'] strong")
        amounts[payer] = text.inner_text()
    insurers = {
        f"{kind}:{p['label']}": p.get(f"{kind}_insurer")
        for p in centre.truth["parties"]
        for kind in ("ctpi", "commercial")
    }
    # A liable party's own position is recorded by the mediator.
    for payer in (p for p in payers if p.startswith("party:")):
        page.goto(case_url + "/offers")
        offer = page.get_by_test_id("offer-form")
        offer.locator("select[name=payer]").select_option(payer)
        offer.locator("select[name=side]").select_option("party")
        offer.locator("input[name=amount]").fill(amounts[payer])
        offer.locator("button[type=submit]").click()
    log_out(page)

    # Each insurer's adjuster offers the assessed amount.
    for payer in (p for p in payers if not p.startswith("party:")):
        log_in(page, centre.url, centre.users[insurers[payer]])
        page.goto(case_url + "/offers")
        offer = page.get_by_test_id("offer-form")
        offer.locator("select[name=payer]").select_option(payer)
        offer.locator("input[name=amount]").fill(amounts[payer])
        offer.locator("button[type=submit]").click()
        log_out(page)

    # Mediator: accept, draft, sign, apply for judicial confirmation.
    log_in(page, centre.url, centre.users["mediator"])
    for payer in payers:
        page.goto(case_url + "/offers")
        page.get_by_test_id(f"payer-{payer}").locator(
            "form[data-testid^=answer-] button.btn-success"
        ).click()
    expect(page).to_have_url(re.compile(r"/agreement$"))  # the last acceptance drafted it
    page.goto(case_url + "/offers")
    for payer in payers:
        expect(page.get_by_test_id(f"payer-{payer}").get_by_test_id("settled")).to_be_visible()
    page.goto(case_url)
    page.get_by_test_id("agreement-link").click()
    page.get_by_test_id("draft-form").locator("input[name=payment_method]").fill("银行转账")
    page.get_by_test_id("draft-form").locator("button[type=submit]").click()
    sign = page.get_by_test_id("sign-form")
    for box in sign.locator("input[name=signers]").all():
        box.check()
    sign.locator("input[name=apply_for_confirmation]").uncheck()  # applied for on its own below
    sign.locator("input[type=file]").set_input_files(str(scan_file(tmp_path)))
    sign.locator("button[type=submit]").click()
    expect(page.get_by_test_id("agreement-status")).to_have_text("已签署")
    page.get_by_test_id("confirmation-form").locator("button").click()
    expect(page.get_by_test_id("case-status")).to_have_text("待司法确认")
    log_out(page)

    # Judge: the workbench, acceptance, confirmation with a numbered ruling.
    log_in(page, centre.url, centre.users["judge"])
    page.locator("nav").get_by_role("link", name="法庭").click()
    page.get_by_role("link", name="打开审查台").first.click()
    expect(page.get_by_test_id("payers-match")).to_have_attribute("data-ok", "yes")
    expect(page.get_by_test_id("audit-chain")).to_have_attribute("data-ok", "yes")
    page.screenshot(path=str(tmp_path / "workbench.png"), full_page=True)
    shutil.copy(tmp_path / "workbench.png", WORKBENCH_COPY)
    # Only accept first (the decision is then due within 15 days), then confirm.
    page.get_by_test_id("accept-form").locator("button").click()
    # The confirm button is on the page before acceptance too: wait for the accepted page, or
    # the decision's confirm dialog may open on the page being left and be dismissed with it.
    expect(page.get_by_test_id("accept-form")).to_have_count(0)
    # A job still running on the page reloads it when it ends (app.js), which would dismiss
    # the confirm dialog: wait for the jobs to end and any reload they began to finish.
    running = ", ".join(
        f"[data-reload-when-done] [data-job-status={status}]" for status in ("queued", "running")
    )
    expect(page.locator(running)).to_have_count(0, timeout=60_000)
    expect(page.locator("html[data-reloading]")).to_have_count(0, timeout=60_000)
    page.wait_for_load_state()
    page.get_by_test_id("confirm-button").click()
    # Issuing the ruling renders and stores its PDF before the redirect: slower on a busy runner.
    expect(page.get_by_test_id("ruling")).to_contain_text("晋1102民特1号", timeout=20_000)
    ruling = page.request.get(
        centre.url + (page.get_by_test_id("ruling-pdf").get_attribute("href") or "")
    )
    assert ruling.headers["content-type"] == "application/pdf"
    log_out(page)

    # Payments: insurers by their adjusters, a party's by the mediator; then close the case.
    for payer in payers:
        user = "mediator" if payer.startswith("party:") else insurers[payer]
        log_in(page, centre.url, centre.users[user])
        page.goto(case_url + "/payments")
        pay = page.get_by_test_id("payment-form")
        pay.locator("select[name=payer]").select_option(payer)
        pay.locator("input[name=amount]").fill(amounts[payer])
        pay.locator("input[name=reference]").fill(f"转账-{payer}")
        pay.locator("button[type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()
        page.goto(case_url + "/payments")
        row = page.get_by_test_id("payment-status").locator(f"tr[data-payer='{payer}']")
        expect(row.get_by_test_id("covered")).to_be_visible()
        log_out(page)
    log_in(page, centre.url, centre.users["mediator"])
    page.goto(case_url)
    expect(page.get_by_test_id("case-status")).to_have_text("已赔付")
    page.get_by_test_id("close-link").click()
    page.get_by_test_id("close-form").locator("button").click()
    page.goto(case_url)
    expect(page.get_by_test_id("case-status")).to_have_text("已结案")
    browser_page.check_clean()
