"""One sitting at the centre, in headless Chromium: the standard case (one car with its 交强险
and 商业三者险 at one insurer, one injured pedestrian without liability) from the police upload
to 已结案, each user starting from their work queue.

The test counts the portal actions (submits, and clicks only to reach a form; logins and the
confirm dialogs of irreversible steps are not counted) and measures the system's wait after each
one by the browser's clock: from the navigation the action sets off until the page the user is
left on is loaded and no job it waits for is still running (the driver's own time is shown
beside it).
The table goes to the file named by DAOJIAO_SITTING_REPORT (bench/sitting.py writes it into
bench/README.md); the count is asserted, the times never are.

Two stacks: the demo's (SQLite, a local folder for objects, jobs run in-process, the demo's
accounts) and production's (PostgreSQL, the S3 server, jobs on Redis run by a real worker).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from app import create_app, db, demo, jobs, migrate
from app.models import Case, CaseStatus, JobStatus, OrgKind
from tests import factories
from tests.support.browser import BrowserPage, answer_confirms, serve
from tests.test_browser_lifecycle import scan_file
from tests.test_jobs import worker

pytestmark = pytest.mark.browser

MAX_ACTIONS = 15
REGION = demo.REGION
INSURER = demo.ORGANIZATIONS[1][1]  # the sample letter's insurer: 人保吕梁
JOB_TIMEOUT_S = 60
# Loaded, not being replaced, and no job the page waits for still queued or running.
SETTLED = """() => document.readyState === "complete"
    && !document.documentElement.hasAttribute("data-reloading")
    && performance.getEntriesByType("navigation")[0].loadEventEnd > 0
    && !document.querySelector(
      "[data-reload-when-done] [data-job-status=queued],"
      + " [data-reload-when-done] [data-job-status=running]")"""
# The demo's accounts; the production world gets users of the same organisations.
ROLES = ("police1", "mediator1", "adjuster_picc", "judge1")


@dataclass
class Step:
    who: str
    what: str
    kind: str  # "submit" or "click" (only to reach the next form)
    wait: float  # seconds, by the browser's clock
    driven: float  # seconds the test driver spent, its own work and any confirm dialog included


@dataclass
class Sitting:
    """The page, who is signed in, and the steps taken with the wait after each."""

    page: Page
    url: str
    passwords: dict[str, str]
    steps: list[Step] = field(default_factory=list)
    who: str = ""

    def __post_init__(self) -> None:
        # The user confirms each irreversible step (not counted, and not in the wait).
        answer_confirms(self.page)

    def log_in(self, username: str) -> None:
        """Not counted: each user signs in at their own desk."""
        page = self.page
        if self.who:
            page.get_by_role("button", name="退出登录").click()
            expect(page).to_have_url(re.compile(r"/login$"))
        page.goto(self.url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", self.passwords[username])
        page.locator("main button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/$"))
        self.who = username

    def act(self, what: str, kind: str, target: Locator) -> None:
        """Click `target` and wait until the page it leads to is loaded and settled.

        The wait is the browser's own clock: from the start of the navigation the click set off
        (a form's POST, then its redirect) to the end of loading the page the user is left on
        (after any reloads a job's end sets off). Scrolling to the button, answering a confirm
        dialog and the test driver's own work are not in it."""
        target.scroll_into_view_if_needed()
        start = time.perf_counter()
        clicked_at = time.time() * 1000
        # A step may wait for a PDF rendered in the request (the ruling, and on the demo its
        # page images too): on a busy machine that outlasts the browser's default 15 s.
        with self.page.expect_navigation(wait_until="load", timeout=JOB_TIMEOUT_S * 1000):
            target.click()
        try:
            began = self.page.evaluate("performance.timeOrigin")
        except PlaywrightError:
            # The page reloaded itself at once (its job ended as it loaded), so the navigation
            # the click set off is gone: count from the click, the driver's ~0.07 s included.
            began = clicked_at
        self.settle()
        ended = self.page.evaluate(
            "performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventEnd"
        )
        driven = time.perf_counter() - start
        self.steps.append(Step(self.who, what, kind, (ended - began) / 1000, driven))

    def settle(self) -> None:
        """Until the page is loaded and no job it waits for is queued or running: a page that
        needs a job's result (the letter read, its page images, the assessment) says so with
        `data-reload-when-done` and reloads itself when the job is done (marking itself
        `data-reloading` meanwhile). Jobs a page merely lists (the case page's previews of
        documents) are not waited for."""
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if self.page.evaluate(SETTLED):
                    return
            except PlaywrightError:  # the page was being replaced: ask the new one
                pass
            time.sleep(0.05)
        jobs_shown = self.page.locator(".job").all_inner_texts()
        pytest.fail(f"{self.page.url} did not settle within {JOB_TIMEOUT_S} s: {jobs_shown}")

    def queue_row(self, case_id: int) -> Locator:
        return self.page.locator(f"[data-testid=queue] tr[data-case-id='{case_id}']")

    def table(self, stack: str) -> str:
        lines = [
            f"Stack: {stack}. {len(self.steps)} actions "
            f"({sum(s.kind == 'submit' for s in self.steps)} submits, "
            f"{sum(s.kind == 'click' for s in self.steps)} clicks to reach a form); "
            f"system wait {sum(s.wait for s in self.steps):.2f} s in all by the browser's "
            f"clock ({sum(s.driven for s in self.steps):.2f} s as the test driver timed it).",
            "",
            "| # | who | action | kind | wait (s) | driver (s) |",
            "|---|---|---|---|---|---|",
        ]
        for number, step in enumerate(self.steps, 1):
            lines.append(
                f"| {number} | {step.who} | {step.what} | {step.kind} | {step.wait:.2f} "
                f"| {step.driven:.2f} |"
            )
        return "\n".join(lines) + "\n"


def drive(sitting: Sitting, letter: Path, scan: Path) -> int:
    """The standard case from upload to closure; returns its id."""
    page = sitting.page

    # Police: upload the letter from the desk, check what was read, confirm.
    sitting.log_in("police1")
    page.get_by_test_id("home-upload").locator("input[name=reports]").set_input_files(str(letter))
    sitting.act(
        "上传认定书", "submit", page.get_by_test_id("home-upload").locator("button[type=submit]")
    )
    expect(page).to_have_url(re.compile(r"/police/cases/\d+/review$"))
    case_id = int(re.findall(r"/police/cases/(\d+)/review", page.url)[0])
    sitting.act("确认认定书", "submit", page.get_by_test_id("confirm"))

    # Mediator: from the queue straight into the pre-filled claims of the injured pedestrian.
    sitting.log_in("mediator1")
    sitting.act(
        "待办：提交索赔", "click", sitting.queue_row(case_id).get_by_test_id("queue-action")
    )
    form = page.get_by_test_id("victim-form")
    form.locator("input[name=age]").fill("32")
    form.locator("input[name='medical-0-amount']").fill("12000")
    form.locator("input[name=transport]").fill("500")
    sitting.act("保存并提交计算", "submit", page.get_by_test_id("save-victim"))

    # Adjuster: from the queue to the offers; offer the assessed amount.
    sitting.log_in("adjuster_picc")
    sitting.act("待办：报价", "click", sitting.queue_row(case_id).get_by_test_id("queue-action"))
    offer = page.get_by_test_id("offer-form")
    expect(offer.locator("input[name=amount]")).to_have_value("12500.00")  # the assessed amount
    sitting.act("提出报价", "submit", offer.locator("button[type=submit]"))

    # Mediator: accept for the claimant (the agreement is drafted), record the signatures
    # and apply for judicial confirmation in the same form.
    sitting.log_in("mediator1")
    sitting.act(
        "待办：答复报价", "click", sitting.queue_row(case_id).get_by_test_id("queue-action")
    )
    sitting.act(
        "接受报价",
        "submit",
        page.locator("form[data-testid^=answer-] button.btn-success").first,
    )
    expect(page).to_have_url(re.compile(r"/agreement$"))
    sign = page.get_by_test_id("sign-form")
    for box in sign.locator("input[name=signers]").all():
        box.check()
    sign.locator("input[name=scan]").set_input_files(str(scan))
    expect(sign.locator("input[name=apply_for_confirmation]")).to_be_checked()
    sitting.act("签署并申请司法确认", "submit", sign.locator("button[type=submit]"))

    # Judge: from the queue to the workbench; accept and confirm in one form.
    sitting.log_in("judge1")
    sitting.act(
        "待办：受理并确认", "click", sitting.queue_row(case_id).get_by_test_id("queue-action")
    )
    sitting.act("受理并确认", "submit", page.get_by_test_id("confirm-button"))
    expect(page.get_by_test_id("ruling")).to_be_visible()

    # Adjuster: the payment, its amount already filled in.
    sitting.log_in("adjuster_picc")
    sitting.act(
        "待办：登记履行", "click", sitting.queue_row(case_id).get_by_test_id("queue-action")
    )
    pay = page.get_by_test_id("payment-form")
    pay.locator("input[name=reference]").fill("转账-0001")
    sitting.act("登记履行", "submit", pay.locator("button[type=submit]"))

    # Mediator: close the case.
    sitting.log_in("mediator1")
    sitting.act("待办：结案", "click", sitting.queue_row(case_id).get_by_test_id("queue-action"))
    sitting.act("结案", "submit", page.locator("main form button[type=submit]").last)
    return case_id


def report(sitting: Sitting, stack: str, tmp_path: Path) -> None:
    target = Path(os.environ.get("DAOJIAO_SITTING_REPORT") or tmp_path / "sitting.md")
    with target.open("a", encoding="utf-8") as out:
        out.write(sitting.table(stack) + "\n")


def check(sitting: Sitting, app: Flask, case_id: int) -> None:
    with app.app_context():
        assert db.session.get(Case, case_id).status == CaseStatus.CLOSED
    assert len(sitting.steps) <= MAX_ACTIONS, sitting.table("")


def warm_up(app: Flask) -> None:
    """Wait until the worker has run a job: a centre's workers run all day, started long
    before the first letter comes in."""
    with app.app_context():
        job = jobs.schedule("test.slow_effect", subject_id=1)
        db.session.commit()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.session.refresh(job)
            if job.status == JobStatus.SUCCEEDED:
                return
            time.sleep(0.1)
    pytest.fail("the worker ran no job within 60 s")


@pytest.fixture
def demo_app(tmp_path: Path) -> Iterator[Flask]:
    """The demo, as `daojiao demo` serves it: SQLite, a local object folder, in-process jobs."""
    app = create_app(
        {
            "DAOJIAO_MODE": "demo",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "OBJECT_STORE_PATH": str(tmp_path / "objects"),
            "DAOJIAO_SIGNING_KEY": str(tmp_path / "signing-key.pem"),
        }
    )
    with app.app_context():
        migrate.upgrade(app.config["DATABASE_URL"])
        demo.seed()
    yield app
    app.extensions["daojiao.db"].engine.dispose()


def test_one_sitting_on_the_demo(
    demo_app: Flask, browser_page: BrowserPage, tmp_path: Path
) -> None:
    passwords = dict.fromkeys(ROLES, demo.DEMO_PASSWORD)
    letter = demo.write_sample_letter(tmp_path / "认定书.pdf")
    with serve(demo_app) as url:
        sitting = Sitting(browser_page.page, url, passwords)
        case_id = drive(sitting, letter, scan_file(tmp_path))
    report(sitting, "demo (SQLite, local folder, in-process jobs)", tmp_path)
    check(sitting, demo_app, case_id)
    browser_page.check_clean()


@pytest.mark.redis
def test_one_sitting_on_the_production_stack(
    committed_app: Callable[..., Flask], redis_url: str, browser_page: BrowserPage, tmp_path: Path
) -> None:
    app = committed_app(REDIS_URL=redis_url)
    with app.app_context():
        # The demo's first police unit, committee and tribunal (those of 离石区), and 人保.
        orgs = {}
        for kind, name, _aliases in demo.ORGANIZATIONS:
            if (
                kind in (OrgKind.POLICE, OrgKind.MEDIATION, OrgKind.INSURER, OrgKind.TRIBUNAL)
                and kind not in orgs
                and (kind != OrgKind.INSURER or name == INSURER)
            ):
                orgs[kind] = factories.make_org(kind, name, region=REGION)
        orgs[OrgKind.TRIBUNAL].court_name = "山西省吕梁市离石区人民法院"
        kinds = (OrgKind.POLICE, OrgKind.MEDIATION, OrgKind.INSURER, OrgKind.TRIBUNAL)
        passwords = {}
        for username, kind in zip(ROLES, kinds, strict=True):
            factories.make_user(orgs[kind], username)
            passwords[username] = factories.PASSWORD
        db.session.commit()
    letter = demo.write_sample_letter(tmp_path / "认定书.pdf")
    # The worker as deployed: its sweeper every 30 s and 15-minute leases, not the other worker
    # tests' sweeper every second (which forks jobs while it is busy far more often).
    production = {"JOB_SWEEP_SECONDS": "30", "JOB_LEASE_SECONDS": "900"}
    with worker(app, tmp_path, env=production), serve(app) as url:
        warm_up(app)
        sitting = Sitting(browser_page.page, url, passwords)
        case_id = drive(sitting, letter, scan_file(tmp_path))
    report(sitting, "production (PostgreSQL, S3, jobs on Redis by a worker)", tmp_path)
    check(sitting, app, case_id)
    browser_page.check_clean()
