"""Every portal page, as the user who would see it, in headless Chromium at a laptop's and a
phone's width: nothing scrolls sideways and axe-core finds no WCAG 2.0/2.1 A or AA violation.

The pages are every GET route of the HTML blueprints (read from `app.url_map`, so that a new
page cannot be forgotten): `VISITS` says who opens each and on which case of the world, and
`NOT_PAGES` names the GET routes that answer with something else than a page.

The world has a case in each interesting state: a letter read and waiting for the police
review, a case negotiating (assessment done, an open offer, a mediation session), a case signed,
partly paid and sent to the tribunal, and a case whose mediation failed (litigation). Names are
the long real ones, so that long words have to wrap.

axe-core is the npm package pinned in package.json (`npm ci` installs it, .ci/run does).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from app import db
from app.db import utcnow
from app.models import Report
from app.services import documents
from tests import factories
from tests.reports.generator import make_report
from tests.support.browser import BrowserPage, serve
from tests.support.centre import Centre as SharedCentre
from tests.test_agreements import REPORT_FIELDS, VICTIM
from tests.test_lifecycle_api import scan

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
API_BLUEPRINTS = {"api", "bootstrap"}
COMMITTEE_NAME = "吕梁市离石区道路交通事故纠纷人民调解委员会滨河街道工作站"
INSURER_NAME = "中国人民财产保险股份有限公司吕梁市分公司离石区支公司车险理赔中心"
LONG_FILE_NAME = "吕梁市离石区滨河北西路与龙凤大街交叉口事故现场照片第一组全景及细节.png"

# GET routes of the HTML blueprints that answer with something else than a page.
NOT_PAGES = {
    "main.set_language": "redirects back to the page it came from",
    "main.health": "a JSON health check",
    "documents.content": "a stored file (PDF or image)",
    "notifications.open_notification": "redirects to the page the notification is about",
    "police.sample_letter": "the demo's sample letter (a PDF)",
    "metrics.scrape": "Prometheus metrics in its text format (platform admins, the scraper)",
    "stats.export": "a figures table as CSV or XLSX",
    "oversight.referral_pdf": "a referral letter (PDF)",
    "reports.download": "a monthly report (PDF or XLSX)",
}


@dataclass(frozen=True)
class Visit:
    """A page opened by `user` (a key of World.users) on the world's `case` (or none); other
    URL values in `arguments`, where an org_id or user_id names the world's organisation or
    user (a key of World.org_ids or World.user_ids)."""

    endpoint: str
    user: str | None
    case: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)


# Each page as the user who would see it; a few twice, where another role sees other parts.
VISITS = [
    Visit("auth.login", None),
    Visit("main.home", "mediator"),
    Visit("main.home", "adjuster"),
    Visit("main.home", "police"),
    Visit("auth.change_password", "mediator"),
    Visit("cases.index", "mediator"),
    Visit("cases.index", "admin"),
    Visit("cases.show", "police", "letter"),
    Visit("cases.show", "mediator", "negotiating"),
    Visit("cases.show", "adjuster", "confirming"),
    Visit("cases.show", "mediator", "litigation"),
    Visit("police.upload", "police"),
    Visit("police.review", "police", "letter"),
    Visit("assessments.show", "mediator", "negotiating"),
    Visit("assessments.claims", "mediator", "negotiating"),
    Visit("assessments.new_victim", "mediator", "negotiating"),
    Visit("assessments.victim", "mediator", "negotiating", {"victim_id": "v1"}),
    Visit("offers.index", "adjuster", "negotiating"),
    Visit("offers.index", "mediator", "negotiating"),
    Visit("mediation.show", "mediator", "negotiating"),
    Visit("insurer.desk", "adjuster"),
    Visit("insurer.claim", "adjuster", "negotiating"),
    Visit("agreements.show", "mediator", "confirming"),
    Visit("insurer.payments_page", "adjuster", "confirming"),
    Visit("tribunal.index", "judge"),
    Visit("tribunal.workbench", "judge", "confirming"),
    Visit("litigation.show", "mediator", "litigation"),
    Visit("litigation.close_page", "mediator", "litigation"),
    Visit("notifications.index", "mediator"),
    Visit("admin.organizations", "admin"),
    Visit("admin.organization", "admin", arguments={"org_id": "committee"}),
    Visit("admin.users", "admin"),
    Visit("admin.user", "admin", arguments={"user_id": "mediator"}),
    Visit("admin.audit_log", "admin"),
    Visit("stats.index", "admin"),
    Visit("oversight.late_payments", "admin"),
    Visit("oversight.referral_list", "admin"),
    Visit("reports.monthly", "admin"),
    Visit("admin.standards", "admin"),
    Visit("admin.standards_edit", "admin", arguments={"jurisdiction": "shanxi", "year": 2023}),
    Visit("admin.standards_new", "admin"),
]


@dataclass
class World:
    app: Flask
    url: str
    users: dict[str, str]
    case_ids: dict[str, int]
    org_ids: dict[str, int]
    user_ids: dict[str, int]


class Caller:
    """API calls of one user on one case, each expected to succeed."""

    def __init__(self, app: Flask, headers: dict[str, str], case_id: int) -> None:
        self.client = app.test_client()
        self.headers = headers
        self.base = f"/api/v1/cases/{case_id}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(self.headers)
        if method != "GET":  # a write names the case version it saw by the case's ETag
            headers["If-Match"] = self.client.get(self.base, headers=self.headers).headers["ETag"]
        response = self.client.open(self.base + path, method=method, headers=headers, **kwargs)
        assert response.status_code < 300, (path, response.get_json())
        return response.get_json()


def _settle_to_tribunal(app: Flask, centre: SharedCentre, case_id: int) -> None:
    """Claims → accepted offers → signed agreement → a partial payment → sent to the tribunal."""
    mediator = Caller(app, factories.api_token(app.test_client(), centre.mediator), case_id)
    adjuster = Caller(app, factories.api_token(app.test_client(), centre.adjuster), case_id)
    mediator("PUT", "/claims", json={"victims": [VICTIM]})
    totals = adjuster("GET", "/assessment")["totals"]
    payers = [payer for payer in totals if payer != "self"]
    for payer in payers:
        offer = adjuster("POST", "/offers", json={"payer": payer, "amount": totals[payer]})
        mediator("POST", f"/offers/{offer['id']}/accept", json={})
    agreement = mediator("POST", "/agreement", json={"payment_method": "银行转账"})
    mediator(
        "POST",
        "/agreement/sign",
        data={
            "signer": [s["id"] for s in agreement["data"]["signatories"]],
            "scan": (io.BytesIO(scan()), "签署件.pdf"),
        },
        content_type="multipart/form-data",
    )
    half = f"{Decimal(totals[payers[0]]) / 2:.2f}"
    adjuster("POST", "/payments", json={"payer": payers[0], "amount": half, "reference": "A1"})
    mediator("POST", "/confirmation-request", json={"tribunal_org_id": centre.tribunal.id})


def _build(app: Flask) -> tuple[SharedCentre, dict[str, int]]:
    centre = SharedCentre(app, committee_name=COMMITTEE_NAME, insurer_name=INSURER_NAME)
    cases = {}
    for key in ("negotiating", "confirming", "litigation"):
        case = factories.make_accident_case(
            police=centre.police_org, committee=centre.committee, insurer=centre.insurer
        )
        letter = documents.store_document(
            actor=None,
            case=case,
            kind="report",
            data=b"%PDF-1.4 letter",
            media_type="application/pdf",
        )
        db.session.add(Report(case_id=case.id, document_id=letter.id, fields=REPORT_FIELDS))
        documents.store_document(
            actor=centre.police,
            case=case,
            kind="photo",
            data=b"\x89PNG\r\n\x1a\n" + b"scene" * 20,
            media_type="image/png",
            filename=LONG_FILE_NAME,
        )
        cases[key] = case.id
    db.session.commit()
    police = factories.api_token(app.test_client(), centre.police)
    uploaded = app.test_client().post(
        "/api/v1/cases",
        headers=police,
        **factories.multipart(
            {"report": (io.BytesIO(make_report("general_table", seed=3)[0]), "认定书.pdf")}
        ),
    )
    assert uploaded.status_code < 300, uploaded.get_json()
    cases["letter"] = uploaded.get_json()["id"]

    negotiating = cases["negotiating"]
    mediator = Caller(app, factories.api_token(app.test_client(), centre.mediator), negotiating)
    adjuster = Caller(app, factories.api_token(app.test_client(), centre.adjuster), negotiating)
    mediator("PUT", "/claims", json={"victims": [VICTIM]})
    totals = adjuster("GET", "/assessment")["totals"]
    payer = next(payer for payer in totals if payer != "self")
    low = f"{Decimal(totals[payer]) * Decimal('0.9'):.2f}"
    adjuster("POST", "/offers", json={"payer": payer, "amount": low})
    in_a_week = (utcnow() + timedelta(days=7)).isoformat()
    mediator(
        "POST",
        "/sessions",
        json={"starts_at": in_a_week, "place": "离石区调解中心第一调解室"},
    )

    _settle_to_tribunal(app, centre, cases["confirming"])

    failed = Caller(
        app, factories.api_token(app.test_client(), centre.mediator), cases["litigation"]
    )
    failed("PUT", "/claims", json={"victims": [VICTIM]})
    failed("POST", "/mediation/fail", json={"reason": "双方对残疾赔偿金的计算基数有争议，调解不成"})
    return centre, cases


@pytest.fixture
def world(committed_app: Callable[..., Flask], tmp_path: Path) -> Iterator[World]:
    app = committed_app(
        WTF_CSRF_ENABLED=True, DAOJIAO_SIGNING_KEY=str(tmp_path / "signing-key.pem")
    )
    with app.app_context():
        centre, cases = _build(app)
        roles = ("police", "mediator", "adjuster", "judge", "admin")
        users = {role: getattr(centre, role).username for role in roles}
        user_ids = {role: getattr(centre, role).id for role in roles}
        org_ids = {"committee": centre.committee.id}
    with serve(app) as url:
        yield World(app, url, users, cases, org_ids, user_ids)


def html_get_endpoints(app: Flask) -> set[str]:
    """Every GET route of the HTML blueprints."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set())
        and rule.endpoint != "static"
        and rule.endpoint.partition(".")[0] not in API_BLUEPRINTS
    }


def test_every_portal_page_is_visited_or_named_as_not_a_page(app: Flask) -> None:
    visited = {visit.endpoint for visit in VISITS}
    missing = html_get_endpoints(app) - visited - NOT_PAGES.keys()
    assert not missing, f"add a Visit for these pages to VISITS in {__file__}: {sorted(missing)}"
    assert not (visited | NOT_PAGES.keys()) - html_get_endpoints(app)


def path_of(world: World, visit: Visit) -> str:
    arguments = dict(visit.arguments)
    if visit.case:
        arguments["case_id"] = world.case_ids[visit.case]
    if "org_id" in arguments:
        arguments["org_id"] = world.org_ids[arguments["org_id"]]
    if "user_id" in arguments:
        arguments["user_id"] = world.user_ids[arguments["user_id"]]
    return world.app.url_map.bind("localhost").build(visit.endpoint, arguments)


# The page's width, the window's, and the innermost elements that stick out of the window (and
# are not inside a box that scrolls or clips them).
WIDTH = """() => {
    const limit = window.innerWidth;
    // A box that scrolls or clips hides what overflows it, except for absolutely placed
    // elements whose containing block (offsetParent) lies outside it.
    const clipped = (el) => {
        const fixed = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
        const start = fixed ? el.offsetParent : el.parentElement;
        for (let up = start; up && up !== document.body; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== 'visible') { return true; }
        }
        return false;
    };
    const sticksOut = (el) => el.getBoundingClientRect().right > limit + 0.5 && !clipped(el);
    const classes = (el) => (el.getAttribute('class') || '').trim().split(/\\s+/).filter(Boolean);
    const name = (el) => [el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''), ...classes(el)]
        .join('.');
    const culprits = [...document.body.querySelectorAll('*')]
        .filter((el) => sticksOut(el) && ![...el.children].some(sticksOut))
        .slice(0, 4).map(name);
    return [document.documentElement.scrollWidth, limit, culprits.join(' | ')];
}"""


# The navbar's language switch (expanded at laptop width) lies wholly inside the window.
LANGUAGE_SWITCH_SHOWN = """() => {
    const box = document.querySelector('nav [role=group]').getBoundingClientRect();
    return box.width > 0 && box.left >= 0 && box.right <= window.innerWidth;
}"""


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page, one line each."""
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            const where = (v) => v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ');
            return result.violations.map((v) => v.id + ': ' + v.help + ' — ' + where(v));
        }""",
        WCAG_TAGS,
    )
    return list(found)


@pytest.mark.browser
def test_every_page_fits_the_screen_and_passes_axe(world: World, browser_page: BrowserPage) -> None:
    assert AXE.exists(), f"{AXE} is missing: run `npm ci` in {AXE.parents[2]}"
    page = browser_page.page
    # Loaded into every page before its own scripts: a <script> tag added to the page (as
    # page.add_script_tag does) would be inline code, which the portal's CSP rightly blocks.
    page.context.add_init_script(path=AXE)
    sessions: dict[str | None, list[Any]] = {None: []}

    def act_as(user: str | None) -> None:
        """Log `user` in once; later, put their session cookie back."""
        page.context.clear_cookies()
        if user not in sessions:
            log_in(page, world.url, world.users[user])
            sessions[user] = page.context.cookies()
        page.context.add_cookies(sessions[user])

    problems: list[str] = []
    for visit in sorted(VISITS, key=lambda visit: str(visit.user)):
        act_as(visit.user)
        path = path_of(world, visit)
        for name, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            response = page.goto(world.url + path)
            where = f"{path} as {visit.user or 'anonymous'} at {name} width"
            if response is None or response.status != 200:
                problems.append(f"{where}: answered {response and response.status}")
                continue
            wide, window, culprits = page.evaluate(WIDTH)
            if wide > window:
                problems.append(f"{where}: {wide} px wide in a {window} px window: {culprits}")
            if name == "laptop" and not page.evaluate(LANGUAGE_SWITCH_SHOWN):
                problems.append(f"{where}: the language switch is not wholly in the window")
            problems.extend(f"{where}: {line}" for line in axe_violations(page))
    assert not problems, "\n".join(problems)
    browser_page.check_clean()  # before the refused form: Chromium logs its 400 as an error

    # A refused form: its error summary takes the focus, and a link in it focuses the field.
    act_as("mediator")
    page.goto(world.url + "/account/password")
    page.locator("main button[type=submit]").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    problems.extend(f"the refused password form: {line}" for line in axe_violations(page))
    page.locator("[data-error-summary] a").first.click()
    expect(page.locator("#current")).to_be_focused()
    assert not problems, "\n".join(problems)
