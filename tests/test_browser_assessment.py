"""Claims to charted assessment in headless Chromium: a mediator enters a victim's losses, sees
the explained assessment with the payer chart, and asks what if the car bore all liability.

The app runs in a real WSGI server thread against committed PostgreSQL data, with CSRF on and
jobs run in-process after each commit (no Redis), so the assessment is ready on the redirect.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect

from app import db
from app.models import OrgKind
from tests import factories
from tests.support.browser import BrowserPage, serve

pytestmark = pytest.mark.browser

SCREENSHOT_COPY = Path("/tmp/daojiao-assessment.png")  # noqa: S108 - for the README


@dataclass
class Centre:
    url: str
    case_id: int
    mediator: str


@pytest.fixture
def centre(committed_app: Callable[..., Flask]) -> Iterator[Centre]:
    app = committed_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        police = factories.make_org(OrgKind.POLICE)
        committee = factories.make_org(OrgKind.MEDIATION, "吕梁市道路交通事故纠纷人民调解委员会")
        insurer = factories.make_org(OrgKind.INSURER, "中国人民财产保险股份有限公司吕梁市分公司")
        mediator = factories.make_user(committee)
        case = factories.make_accident_case(police=police, committee=committee, insurer=insurer)
        db.session.commit()
        found = Centre(url="", case_id=case.id, mediator=mediator.username)
    with serve(app) as url:
        found.url = url
        yield found


def test_mediator_enters_claims_and_sees_the_charted_assessment(
    centre: Centre, browser_page: BrowserPage, tmp_path: Path
) -> None:
    page = browser_page.page
    page.goto(centre.url + "/login")
    page.fill("input[name=username]", centre.mediator)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))

    page.goto(f"{centre.url}/cases/{centre.case_id}")
    page.get_by_test_id("enter-claims").click()
    # No victim yet: the claims page leads straight into the first, filled in from the case.
    expect(page).to_have_url(re.compile(r"/claims/victims/new$"))

    form = page.get_by_test_id("victim-form")
    form.locator("select[name=who]").select_option("party:乙方")
    form.locator("select[name=outcome]").select_option("disability")
    form.locator("input[name=disability_grades]").fill("10")
    form.locator("input[name='medical-0-amount']").fill("5026.49")
    form.locator("input[name='medical-0-description']").fill("住院医疗费")
    form.locator("input[name=hospital_days]").fill("11")
    form.locator("input[name='nursing-0-days']").fill("11")
    form.locator("input[name='nursing-0-annual']").fill("28472")
    form.locator("input[name='property-0-amount']").fill("800")
    form.locator("input[name='property-0-description']").fill("电动自行车维修")
    form.locator("input[name=mental_distress]").fill("5000")
    form.locator("input[name=appraisal_fee]").fill("700")  # not paid by 交强险: shared 80 : 20
    page.get_by_test_id("save-victim").click()

    expect(page).to_have_url(re.compile(rf"/cases/{centre.case_id}/assessment$"))
    disability = page.get_by_test_id("items-v1").locator("tr[data-item=disability_compensation]")
    expect(disability).to_contain_text("残疾赔偿金")
    expect(disability).to_contain_text("82654.00")  # 41327 × 20 × 10 %
    expect(disability).to_contain_text("人损解释第十二条")
    nursing = page.get_by_test_id("items-v1").locator("tr[data-item=nursing]")
    expect(nursing).to_contain_text("858.06")  # 28472 ÷ 365 × 11
    chart = page.get_by_test_id("payer-chart")
    expect(chart.locator("svg rect")).not_to_have_count(0)
    expect(chart.locator("[data-payer='ctpi:甲方']")).to_contain_text("交强险")
    expect(page.get_by_test_id("reproducible")).to_contain_text("✓")

    what_if = page.get_by_test_id("what-if-form")
    what_if.locator("input[name='ratio:甲方']").fill("1")
    what_if.locator("button[type=submit]").click()
    result = page.get_by_test_id("what-if-result")
    expect(result).to_be_visible()
    expect(result.locator("tr[data-payer=self] td").last).to_have_text("-140.00")
    expect(page.get_by_test_id("what-if-chart").locator("svg rect")).not_to_have_count(0)

    page.screenshot(path=str(tmp_path / "assessment.png"), full_page=True)
    shutil.copy(tmp_path / "assessment.png", SCREENSHOT_COPY)
    browser_page.check_clean()
