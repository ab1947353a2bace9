"""A case settled in the portal, in headless Chromium: the adjuster offers for each payer, the
mediator accepts for the claimant, drafts the agreement and records its signing, the adjuster
records the payments and the case is paid.

The app runs in a real WSGI server thread against committed PostgreSQL data with CSRF on; jobs
run in-process after each commit (no Redis), so the assessment is ready once the claims commit.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Dialog, Page, expect
from reportlab.pdfgen import canvas

from app import db
from app.models import Case, CaseStatus, OrgKind
from app.services import assessments
from tests import factories
from tests.support.browser import BrowserPage, serve

pytestmark = pytest.mark.browser

AGREEMENT_COPY = Path("/tmp/daojiao-agreement.png")  # noqa: S108 - for the README
CLAIMS = {
    "victims": [
        {
            "id": "v1",
            "party": "乙方",
            "outcome": "disability",
            "disability_grades": [10],
            "items": {
                "medical": {"amount": "5026.49"},
                "hospital_food": {"days": 11},
                "mental_distress": {"amount": "5000"},
                "appraisal_fee": {"amount": "700"},
            },
        }
    ]
}


@dataclass
class Centre:
    url: str
    app: Flask
    case_id: int
    mediator: str
    adjuster: str
    totals: dict[str, str]


@pytest.fixture
def centre(committed_app: Callable[..., Flask]) -> Iterator[Centre]:
    app = committed_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        committee = factories.make_org(OrgKind.MEDIATION, "吕梁市道路交通事故纠纷人民调解委员会")
        insurer = factories.make_org(OrgKind.INSURER, "中国人民财产保险股份有限公司吕梁市分公司")
        mediator = factories.make_user(committee)
        adjuster = factories.make_user(insurer)
        case = factories.make_accident_case(
            police=factories.make_org(OrgKind.POLICE), committee=committee, insurer=insurer
        )
        assessments.file_claims(actor=mediator, case=case, data=CLAIMS)
        db.session.commit()  # the assessment runs in-process after this commit
        db.session.expire_all()
        case = db.session.get(Case, case.id)
        assert case.status == CaseStatus.NEGOTIATING
        totals = assessments.latest_assessment(case).result["totals"]
        found = Centre("", app, case.id, mediator.username, adjuster.username, totals)
    with serve(app) as url:
        found.url = url
        yield found


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def scan() -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.drawString(72, 720, "signed agreement")
    pdf.save()
    return out.getvalue()


def test_a_case_is_settled_and_paid_in_the_portal(
    centre: Centre, browser_page: BrowserPage, tmp_path: Path
) -> None:
    page = browser_page.page
    questions: list[str] = []  # the data-confirm questions, answered OK as native dialogs

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    payers = [payer for payer in centre.totals if payer != "self"]
    assert payers == ["ctpi:甲方", "commercial:甲方"]
    case_url = f"{centre.url}/cases/{centre.case_id}"

    # The adjuster offers the assessed amount for each of the insurer's payers.
    log_in(page, centre.url, centre.adjuster)
    page.goto(case_url)
    page.get_by_test_id("offers-link").click()
    for payer in payers:
        form = page.get_by_test_id("offer-form")
        form.locator("select[name=payer]").select_option(payer)
        form.locator("input[name=amount]").fill(centre.totals[payer])
        form.locator("button[type=submit]").click()
        # The next page is the insurer's next action: another payer's offer, else the case.
        expect(page.locator(".alert-success")).to_be_visible()
        page.goto(case_url + "/offers")
        expect(page.get_by_test_id(f"payer-{payer}").locator("tr[data-status=open]")).to_have_count(
            1
        )
    log_out(page)

    # The mediator accepts both for the claimant, drafts the agreement and records the signing.
    log_in(page, centre.url, centre.mediator)
    for payer in payers:
        page.goto(case_url)
        page.get_by_test_id("offers-link").click()
        section = page.get_by_test_id(f"payer-{payer}")
        section.locator("form[data-testid^=answer-] button.btn-success").click()
    expect(page).to_have_url(re.compile(r"/agreement$"))  # the last acceptance drafted it
    page.goto(case_url + "/offers")
    for payer in payers:
        expect(page.get_by_test_id(f"payer-{payer}").get_by_test_id("settled")).to_be_visible()
    page.goto(case_url)
    page.get_by_test_id("agreement-link").click()
    draft = page.get_by_test_id("draft-form")
    draft.locator("input[name=payment_method]").fill("银行转账至受害人账户")
    draft.locator("button[type=submit]").click()
    expect(page.get_by_test_id("agreement-status")).to_have_text("草稿，尚未签署")
    total = sum(Decimal(centre.totals[p]) for p in payers)
    expect(page.get_by_test_id("agreement-total")).to_have_text(f"{total:.2f}")
    sign = page.get_by_test_id("sign-form")
    for box in sign.locator("input[name=signers]").all():
        box.check()
    scan_file = tmp_path / "签署件.pdf"
    scan_file.write_bytes(scan())
    sign.locator("input[type=file]").set_input_files(str(scan_file))
    sign.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()  # on the case: nothing more to do
    page.goto(case_url + "/agreement")
    expect(page.get_by_test_id("agreement-status")).to_have_text("已签署")
    expect(page.get_by_test_id("case-status")).to_have_text("已达成协议")
    page.screenshot(path=str(tmp_path / "agreement.png"), full_page=True)
    shutil.copy(tmp_path / "agreement.png", AGREEMENT_COPY)
    log_out(page)

    # The adjuster sees the payment timers on the home page and records the payments.
    log_in(page, centre.url, centre.adjuster)
    expect(page.get_by_text(re.compile("保险公司赔付")).first).to_be_visible()
    page.goto(case_url)
    page.get_by_test_id("payments-link").click()
    for payer in payers:
        form = page.get_by_test_id("payment-form")
        form.locator("select[name=payer]").select_option(payer)
        form.locator("input[name=amount]").fill(centre.totals[payer])
        form.locator("input[name=reference]").fill(f"转账-{payer}")
        form.locator("button[type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()
        page.goto(case_url + "/payments")  # after the last payment the case page comes next
        row = page.get_by_test_id("payment-status").locator(f"tr[data-payer='{payer}']")
        expect(row.get_by_test_id("covered")).to_be_visible()
    expect(page.get_by_test_id("case-status")).to_have_text("已赔付")
    # The irreversible steps asked first, in Chinese (the signing among them).
    assert questions
    assert all(re.search(r"[\u4e00-\u9fff]", question) for question in questions), questions
    browser_page.check_clean()
