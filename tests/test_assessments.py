"""Claims in the case: filing, the assessment job, immutable reproducible assessments, what-ifs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app import jobs
from app.db import session
from app.models import Assessment, AuditEvent, Case, CaseStatus, Claim, Job, JobStatus
from app.services import assessments, standards
from tests import factories
from tests.support.centre import Centre as SharedCentre

VICTIM = {
    "id": "v1",
    "party": "乙方",
    "outcome": "disability",
    "disability_grades": [10],
    "items": {
        "medical": {"bills": [{"amount": "3000.49"}, {"amount": "2026.00"}]},
        "hospital_food": {"days": 11},
        "transport": {"amount": "300"},
        "mental_distress": {"amount": "5000"},
        "property": [{"description": "电动自行车维修", "amount": "800"}],
    },
}
CLAIMS = {"victims": [VICTIM]}


class Centre(SharedCentre):
    """The shared centre with a reported case, sent to its tribunal."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.case = factories.make_accident_case(
            police=self.police_org, committee=self.committee, insurer=self.insurer
        )
        self.case.tribunal_id = self.tribunal.id
        session.commit()


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def put_claims(app: Flask, user: Any, case_id: int, body: dict[str, Any]) -> Any:
    """PUT the claims, with the case's current version unless `body` names one."""
    headers = factories.api_token(app.test_client(), user)
    body = {"version": reload(case_id).version, **body}
    return app.test_client().put(f"/api/v1/cases/{case_id}/claims", json=body, headers=headers)


def reload(case_id: int) -> Case:
    session.expire_all()
    return session.get(Case, case_id)


def count(model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_filed_claims_are_assessed_in_a_job_and_the_case_negotiates(
    app: Flask, centre: Centre
) -> None:
    response = put_claims(app, centre.mediator, centre.case.id, CLAIMS)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["job"]["kind"] == "assessments.run"
    job = session.get(Job, body["job"]["id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert reload(centre.case.id).status == CaseStatus.NEGOTIATING
    assert reload(centre.case.id).case_type == "injury"  # kept for the figures' filter

    client = app.test_client()
    result = client.get(
        f"/api/v1/cases/{centre.case.id}/assessment",
        headers=factories.api_token(client, centre.adjuster),
    ).get_json()
    victim = result["victims"][0]
    items = {item["code"]: item for item in victim["items"]}
    # 41327 × 20 × 10 % (Shanxi 2023, age 35 taken from the report's party 乙方)
    assert items["disability_compensation"]["amount"] == "82654.00"
    assert items["medical"]["formula"] == "3000.49 + 2026.00"
    assert items["hospital_food"]["amount"] == "1100.00"  # 100 元/day × 11 days
    assert victim["name"] == reload(centre.case.id).parties[1].name
    assert result["fingerprint"] == result["rule_set"]["fingerprint"]
    paid = sum(Decimal(p["amount"]) for p in result["payments"] if p["victim"] == "v1")
    assert paid == Decimal(victim["total"])
    # the car's commercial insurer takes 80 % of what 交强险 leaves (the 鉴定费-free remainder)
    assert {p["payer"] for p in result["payments"]} <= {"ctpi:甲方", "commercial:甲方", "self"}


def test_invalid_claims_answer_422_naming_the_path_and_save_nothing(
    app: Flask, centre: Centre
) -> None:
    bad = copy.deepcopy(CLAIMS)
    bad["victims"][0]["items"]["transport"] = {"amount": "-5"}
    response = put_claims(app, centre.mediator, centre.case.id, bad)
    assert response.status_code == 422
    assert "victims[0].items.transport.amount" in response.get_json()["error"]["message"]
    assert count(Claim) == 0
    assert reload(centre.case.id).status == CaseStatus.REPORTED


def test_unknown_commercial_limit_must_be_given_in_the_claims(app: Flask, centre: Centre) -> None:
    case = factories.make_accident_case(
        police=centre.police_org,
        committee=centre.committee,
        insurer=centre.insurer,
        commercial_limit=None,
    )
    session.commit()
    response = put_claims(app, centre.mediator, case.id, CLAIMS)
    assert response.status_code == 422
    assert "commercial_limit" in response.get_json()["error"]["message"]
    given = {**CLAIMS, "parties": [{"id": "甲方", "commercial_limit": "500000"}]}
    assert put_claims(app, centre.mediator, case.id, given).status_code == 202


def test_only_the_case_mediator_files_claims(app: Flask, centre: Centre) -> None:
    assert put_claims(app, centre.adjuster, centre.case.id, CLAIMS).status_code == 403
    assert put_claims(app, centre.other_mediator, centre.case.id, CLAIMS).status_code == 404
    assert count(Claim) == 0


def test_claims_wait_for_the_police_confirmation(app: Flask, centre: Centre) -> None:
    case = factories.make_accident_case(
        police=centre.police_org,
        committee=centre.committee,
        insurer=centre.insurer,
        status=CaseStatus.DRAFT,
    )
    session.commit()
    assert put_claims(app, centre.mediator, case.id, CLAIMS).status_code == 409


def test_a_stale_version_is_a_conflict(app: Flask, centre: Centre) -> None:
    stale = {**CLAIMS, "version": centre.case.version - 1}
    response = put_claims(app, centre.mediator, centre.case.id, stale)
    assert response.status_code == 409
    assert count(Claim) == 0


def test_new_claims_make_a_new_assessment_and_keep_the_old_one(app: Flask, centre: Centre) -> None:
    put_claims(app, centre.mediator, centre.case.id, CLAIMS)
    first = session.scalars(select(Assessment)).one()
    first_result = copy.deepcopy(first.result)
    more = copy.deepcopy(CLAIMS)
    more["victims"][0]["items"]["transport"] = {"amount": "500"}
    put_claims(app, centre.mediator, centre.case.id, more)
    session.expire_all()
    stored = session.scalars(select(Assessment).order_by(Assessment.id)).all()
    assert len(stored) == 2
    assert stored[0].result == first_result
    assert Decimal(stored[1].result["victims"][0]["total"]) == (
        Decimal(first_result["victims"][0]["total"]) + 200
    )
    assert assessments.latest_assessment(reload(centre.case.id)).id == stored[1].id
    events = session.scalars(
        select(AuditEvent.action).where(AuditEvent.case_id == centre.case.id)
    ).all()
    assert events.count("claims.filed") == 2
    assert events.count("assessment.created") == 2


def test_a_stored_assessment_reproduces_even_after_the_standards_change(
    app: Flask, centre: Centre
) -> None:
    put_claims(app, centre.mediator, centre.case.id, CLAIMS)
    stored = session.scalars(select(Assessment)).one()
    assert assessments.reassess(stored) == stored.result
    current = standards.current_catalog().standard_set("shanxi", 2023)
    standards.save_standard_set(
        actor=centre.admin,
        jurisdiction="shanxi",
        year=2023,
        figures={**current.figures, "urban_disposable_income": "50000"},
        industry_wages=current.industry_wages,
        sources={**current.sources},
        title=current.title,
        published_on=date(2024, 2, 22),
        valid_from=date(2024, 2, 22),
        valid_to=None,
        note="test",
    )
    session.commit()
    assert assessments.is_reproducible(stored)
    put_claims(app, centre.mediator, centre.case.id, CLAIMS)
    newest = assessments.latest_assessment(reload(centre.case.id))
    assert newest.id != stored.id
    assert newest.fingerprint != stored.fingerprint
    items = {i["code"]: i["amount"] for i in newest.result["victims"][0]["items"]}
    assert items["disability_compensation"] == "100000.00"  # 50000 × 20 × 10 %


def test_an_assessment_of_an_earlier_engine_is_shown_as_such_not_as_a_failed_re_run(
    app: Flask, centre: Centre
) -> None:
    put_claims(app, centre.mediator, centre.case.id, CLAIMS)
    stored = session.scalars(select(Assessment)).one()
    earlier = Assessment(
        case_id=stored.case_id,
        claim_id=stored.claim_id,
        input=stored.input,
        result=stored.result,
        input_sha256=stored.input_sha256,
        fingerprint=stored.fingerprint,
        engine_version="1",
        created_at=stored.created_at,
    )
    session.add(earlier)
    session.commit()
    assert assessments.is_reproducible(stored) is True
    assert assessments.is_reproducible(earlier) is None
    client = app.test_client()
    factories.login(client, centre.mediator)
    page = client.get(f"/cases/{centre.case.id}/assessment").get_data(as_text=True)
    assert "本计算由较早版本的计算引擎作出，按原样保存" in page  # the newest row is `earlier`
    assert "✗" not in page


def test_stored_assessments_cannot_be_changed_in_the_database(app: Flask, centre: Centre) -> None:
    put_claims(app, centre.mediator, centre.case.id, CLAIMS)
    with pytest.raises(DBAPIError, match="never changed"), session.begin_nested():
        session.execute(text("UPDATE assessments SET fingerprint = 'sha256:forged'"))


def test_what_if_shows_differences_and_saves_nothing(app: Flask, centre: Centre) -> None:
    put_claims(app, centre.mediator, centre.case.id, CLAIMS)
    before = count(Assessment)
    client = app.test_client()
    response = client.post(
        f"/api/v1/cases/{centre.case.id}/assessment/what-if",
        json={"ratios": {"甲方": "1"}, "items": {"v1": {"transport": "1300"}}},
        headers=factories.api_token(client, centre.judge),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    changes = body["differences"]["victims"][0]
    assert changes["items"]["transport"]["change"] == "1000.00"
    assert changes["total"]["change"] == "1000.00"
    assert "self" not in body["what_if"]["totals"]  # the car bears everything now
    assert count(Assessment) == before
    refused = client.post(
        f"/api/v1/cases/{centre.case.id}/assessment/what-if",
        json={"ratios": {"甲方": "1"}},
        headers=factories.api_token(client, centre.adjuster),
    )
    assert refused.status_code == 403


def test_what_if_with_another_standards_year(app: Flask, centre: Centre) -> None:
    put_claims(app, centre.mediator, centre.case.id, CLAIMS)
    case = reload(centre.case.id)
    result = assessments.what_if(actor=centre.mediator, case=case, changes={"standards_year": 2022})
    items = {i["code"]: i["amount"] for i in result["what_if"]["victims"][0]["items"]}
    assert items["disability_compensation"] == "79064.00"  # 39532 × 20 × 10 %
    assert result["what_if"]["rule_set"]["standards_year"] == 2022


def test_occupants_are_named_by_the_vehicle_they_rode_in(app: Flask, centre: Centre) -> None:
    passenger = {
        "id": "v2",
        "name": "李四",
        "age": 40,
        "occupant_of": "甲方",
        "outcome": "injury",
        "items": {"medical": {"amount": "2000"}},
    }
    response = put_claims(app, centre.mediator, centre.case.id, {"victims": [VICTIM, passenger]})
    assert response.status_code == 202, response.get_json()
    result = assessments.latest_assessment(reload(centre.case.id)).result
    payers = {p["payer"] for p in result["payments"] if p["victim"] == "v2"}
    # not a third party to the car's own insurance: 甲方 pays its 70 % itself, 乙方 30 %
    assert payers == {"party:甲方", "party:乙方"}


def test_the_job_fails_with_a_reason_when_the_claims_no_longer_assess(
    app: Flask, centre: Centre
) -> None:
    claim = Claim(case_id=centre.case.id, data={"victims": [{"id": "v1"}]}, sha256="0" * 64)
    session.add(claim)
    session.flush()
    with pytest.raises(jobs.PermanentJobError, match=r"victims\[0\]\.party") as failure:
        assessments.run_assessment(claim.id, lambda percent, message=None: None)
    assert failure.value.code == "invalid_input"
    assert count(Assessment) == 0


# -- portal -----------------------------------------------------------------------------------


def portal(app: Flask, user: Any) -> Any:
    client = app.test_client()
    factories.login(client, user)
    return client


def test_a_mediator_enters_a_victim_in_the_portal_and_sees_the_charted_assessment(
    app: Flask, centre: Centre
) -> None:
    client = portal(app, centre.mediator)
    case_page = client.get(f"/cases/{centre.case.id}").get_data(as_text=True)
    assert 'data-testid="enter-claims"' in case_page
    form = client.get(f"/cases/{centre.case.id}/claims/victims/new")
    assert form.status_code == 200
    response = client.post(
        f"/cases/{centre.case.id}/claims/victims/new",
        data={
            "version": str(centre.case.version),
            "who": "party:乙方",
            "age": "35",
            "residence": "urban",
            "outcome": "disability",
            "disability_grades": "10",
            "medical-0-amount": "5026.49",
            "hospital_days": "11",
            "mental_distress": "5000",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    claim = session.scalars(select(Claim)).one()
    victim = claim.data["victims"][0]
    assert victim["party"] == "乙方"
    assert victim["items"]["medical"] == {"bills": [{"amount": "5026.49"}]}
    page = client.get(f"/cases/{centre.case.id}/assessment").get_data(as_text=True)
    assert 'data-testid="payer-chart"' in page
    assert "82654.00" in page  # 残疾赔偿金 41327 × 20 × 10 %
    assert "人损解释第十二条" in page
    assert "✓" in page  # reproducible


def test_the_victim_form_shows_the_engine_error_and_files_nothing(
    app: Flask, centre: Centre
) -> None:
    client = portal(app, centre.mediator)
    response = client.post(
        f"/cases/{centre.case.id}/claims/victims/new",
        data={
            "who": "party:甲方",  # the report gives no age for the driver
            "residence": "urban",
            "outcome": "death",
            "medical-0-amount": "100",
            "version": str(reload(centre.case.id).version),
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-testid="claims-error"' in page
    assert "victims[0].age" in page
    assert count(Claim) == 0


def test_the_what_if_panel_shows_the_difference(app: Flask, centre: Centre) -> None:
    put_claims(app, centre.mediator, centre.case.id, CLAIMS)
    client = portal(app, centre.judge)
    page = client.get(
        f"/cases/{centre.case.id}/assessment",
        query_string={"what_if": "1", "ratio:甲方": "1", "standards_year": "2022"},
    ).get_data(as_text=True)
    assert 'data-testid="what-if-result"' in page
    assert 'data-testid="what-if-chart"' in page
    adjuster_page = (
        portal(app, centre.adjuster)
        .get(
            f"/cases/{centre.case.id}/assessment", query_string={"what_if": "1", "ratio:甲方": "1"}
        )
        .get_data(as_text=True)
    )
    assert 'data-testid="what-if-form"' not in adjuster_page
    assert 'data-testid="what-if-result"' not in adjuster_page
