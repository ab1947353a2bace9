"""What every page gives keyboard and screen-reader users: a skip link, a summary of a refused
form linked to its fields, and job progress in live regions that go away when the job is done.
(tests/test_browser_a11y.py checks every page in Chromium with axe-core.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import jobs
from app.db import session
from app.models import JobStatus
from tests import factories
from tests.support.centre import Centre as SharedCentre

VICTIM_FORM = {
    "who": "party:乙方",
    "age": "35",
    "residence": "urban",
    "outcome": "disability",
    "disability_grades": "10",
    "medical-0-amount": "5026.49",
    "hospital_days": "11",
}


class Centre(SharedCentre):
    """The shared centre with a reported case of its committee and insurer."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.case = factories.make_accident_case(
            police=self.police_org, committee=self.committee, insurer=self.insurer
        )
        session.commit()


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def portal(app: Flask, user: Any) -> FlaskClient:
    client = app.test_client()
    factories.login(client, user)
    return client


def tag(page: str, pattern: str) -> str:
    """The first start tag of `page` matching `pattern` (a regular expression inside it)."""
    found = re.search(rf"<[a-z]+[^>]*{pattern}[^>]*>", page)
    assert found, f"no tag with {pattern} in the page"
    return found.group(0)


def test_the_first_link_of_a_page_skips_to_its_main_content(app: Flask) -> None:
    page = app.test_client().get("/login").get_data(as_text=True)
    body = page.split("<body>", 1)[1]
    first_link = re.search(r"<(a|button|input|select|textarea)\b[^>]*>[^<]*", body)
    assert first_link is not None
    assert 'href="#main"' in first_link.group(0)
    assert first_link.group(0).endswith("跳到主要内容")
    assert '<main id="main"' in page


def test_a_refused_form_sums_up_its_errors_linked_to_the_fields(app: Flask, centre: Centre) -> None:
    client = portal(app, centre.mediator)
    response = client.post("/account/password", data={"current": "", "new": "short"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = tag(page, "data-error-summary")
    assert 'role="alert"' in summary
    assert 'tabindex="-1"' in summary
    links = re.findall(r'<li><a href="#(\w+)">([^<]*)</a></li>', page)
    assert [field for field, _text in links] == ["current", "new", "repeat"]
    assert links[0][1].startswith("当前密码：")
    for field in ("current", "new", "repeat"):
        described = tag(page, f'id="{field}"')
        assert 'aria-invalid="true"' in described
        assert f'aria-describedby="{field}-error"' in described
        assert f'id="{field}-error"' in page


def test_a_valid_page_has_no_error_summary_and_no_invalid_field(app: Flask, centre: Centre) -> None:
    page = portal(app, centre.mediator).get("/account/password").get_data(as_text=True)
    assert "data-error-summary" not in page
    assert "aria-invalid" not in page


def test_nested_fields_are_named_by_their_group_in_the_summary(app: Flask, centre: Centre) -> None:
    client = portal(app, centre.admin)
    response = client.post(
        "/admin/standards/shanxi/2023",
        data={"version": "0", "title": "山西 2023", "urban_disposable_income-amount": "1" * 21},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    link = re.search(r'<a href="#urban_disposable_income-amount">([^<]*)</a>', page)
    assert link is not None
    assert link.group(1).startswith("城镇居民人均可支配收入 · ")
    assert 'aria-invalid="true"' in tag(page, 'id="urban_disposable_income-amount"')


def test_the_service_reason_heads_the_summary_of_a_refused_victim(
    app: Flask, centre: Centre
) -> None:
    client = portal(app, centre.mediator)
    response = client.post(
        f"/cases/{centre.case.id}/claims/victims/new",
        data={
            **VICTIM_FORM,
            "who": "party:甲方",
            "age": "",
            "outcome": "death",
            "version": str(centre.case.version),
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert 'data-testid="claims-error"' in summary


def test_a_finished_assessment_shows_no_running_banner(app: Flask, centre: Centre) -> None:
    client = portal(app, centre.mediator)
    response = client.post(
        f"/cases/{centre.case.id}/claims/victims/new",
        data={**VICTIM_FORM, "version": str(centre.case.version)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="payer-chart"' in page  # the assessment is done (jobs run in-process)
    assert "正在计算" not in page
    assert "data-reload-when-done" not in page
    assert "赔偿请求已提交。" in page


def test_a_running_assessment_is_announced_in_a_polite_live_region(
    app: Flask, centre: Centre
) -> None:
    job = jobs.schedule("assessments.run", subject_id=0, case_id=centre.case.id)
    job.status = JobStatus.RUNNING
    job.progress = 20
    session.flush()
    page = portal(app, centre.mediator).get(f"/cases/{centre.case.id}/assessment")
    html = page.get_data(as_text=True)
    box = html.split(f'data-job-id="{job.id}"', 1)[1]
    assert "正在计算赔偿。完成后本页会自动刷新。" in html
    assert '<div class="small" role="status" aria-live="polite" aria-atomic="true">' in box
    assert 'role="alert" data-testid="job-error"></div>' in box
    progress = re.search(r"<progress[^>]*>", box)
    assert progress is not None
    assert " hidden" not in progress.group(0)


def test_a_finished_job_keeps_its_status_but_not_its_progress_bar(
    app: Flask, centre: Centre
) -> None:
    job = jobs.schedule("assessments.run", subject_id=0, case_id=centre.case.id)
    job.status = JobStatus.FAILED
    job.error = "无法计算"
    session.flush()
    html = portal(app, centre.mediator).get(f"/cases/{centre.case.id}").get_data(as_text=True)
    box = html.split(f'data-job-id="{job.id}"', 1)[1]
    progress = re.search(r"<progress[^>]*>", box)
    assert progress is not None
    assert " hidden" in progress.group(0)
    assert 'role="alert" data-testid="job-error">无法计算</div>' in box
