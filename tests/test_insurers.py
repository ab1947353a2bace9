"""The insurer desk: cases that touch an insurer with its exposure, and the claim data its
adjusters record (policy numbers, commercial limit, exclusions, advances), which re-runs the
assessment."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.db import session
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.models import Assessment, AuditEvent, Case, CaseStatus, InsurerClaim
from app.services import assessments, insurers
from tests import factories
from tests.support.centre import Centre as SharedCentre

# 医疗 50000 + 伙食 1100 exceed the 交强险 medical limit (18000): the remainder is split 80 : 20.
VICTIM = {
    "id": "v1",
    "party": "乙方",
    "outcome": "disability",
    "disability_grades": [10],
    "items": {
        "medical": {"amount": "50000"},
        "hospital_food": {"days": 11},
        "transport": {"amount": "300"},
        "mental_distress": {"amount": "5000"},
        "property": [{"description": "电动自行车维修", "amount": "800"}],
    },
}
CTPI_BUCKETS = {"medical": "18000.00", "death_disability": "87954.00", "property": "800.00"}
CTPI = Decimal("106754.00")
COMMERCIAL = Decimal("26480.00")  # (51100 − 18000) × 80 %
REASON = "驾驶人无有效驾驶证（免责条款第二十四条）"
EXCLUSION = {"甲方": {"commercial_excluded": True, "exclusion_reason": REASON}}


class Centre(SharedCentre):
    """The shared centre, a second adjuster of the insurer and a reported case."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.colleague = factories.make_user(self.insurer)
        self.case = factories.make_accident_case(
            police=self.police_org, committee=self.committee, insurer=self.insurer
        )
        session.commit()

    def assess(self, case: Case | None = None) -> Assessment:
        case = case or self.case
        assessments.file_claims(actor=self.mediator, case=case, data={"victims": [VICTIM]})
        session.commit()
        return latest(case.id)


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def latest(case_id: int) -> Assessment:
    session.expire_all()
    return assessments.latest_assessment(session.get(Case, case_id))


def count(model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def api(app: Flask, user: Any) -> tuple[Any, dict[str, str]]:
    client = app.test_client()
    return client, factories.api_token(client, user)


def portal(app: Flask, user: Any) -> Any:
    client = app.test_client()
    factories.login(client, user)
    return client


# -- the desk ---------------------------------------------------------------------------------


def test_the_desk_shows_the_insurers_exposure_by_bucket_and_commercial(centre: Centre) -> None:
    centre.assess()

    (entry,) = insurers.insurer_desk(actor=centre.adjuster).entries

    assert entry.case.id == centre.case.id
    assert entry.payers == ["ctpi:甲方", "commercial:甲方"]
    ctpi, commercial = entry.exposure
    assert {bucket: str(amount) for bucket, amount in ctpi.buckets.items()} == CTPI_BUCKETS
    assert (ctpi.amount, commercial.amount) == (CTPI, COMMERCIAL)
    assert commercial.buckets == {}
    assert (entry.ctpi, entry.commercial, entry.total) == (CTPI, COMMERCIAL, CTPI + COMMERCIAL)
    assert entry.advanced == Decimal("0.00")
    assert entry.net == CTPI + COMMERCIAL


def test_the_desk_lists_cases_not_assessed_yet_newest_first(centre: Centre) -> None:
    centre.assess()
    newer = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    session.commit()

    entries = insurers.insurer_desk(actor=centre.adjuster).entries

    assert [entry.case.id for entry in entries] == [newer.id, centre.case.id]
    assert not entries[0].assessed
    assert entries[0].exposure == []
    assert entries[0].total is None
    assert entries[1].assessed


def test_a_long_desk_pages_by_twenty_and_reads_on_by_cursor(app: Flask, centre: Centre) -> None:
    for _ in range(21):
        factories.make_accident_case(
            police=centre.police_org, committee=centre.committee, insurer=centre.insurer
        )
    session.commit()
    client, headers = api(app, centre.adjuster)

    first = client.get("/api/v1/insurer/cases", headers=headers).get_json()
    rest = client.get(
        f"/api/v1/insurer/cases?after={first['next_cursor']}", headers=headers
    ).get_json()

    assert (len(first["items"]), first["total"], first["next"]) == (20, 22, 2)
    assert len(rest["items"]) == 2
    assert rest["next_cursor"] is None
    listed = [item["case"]["id"] for item in first["items"] + rest["items"]]
    assert len(set(listed)) == 22
    page = portal(app, centre.adjuster).get("/insurer/").get_data(as_text=True)
    assert page.count('data-testid="ctpi-medical"') + page.count('data-testid="not-assessed"') == 20
    assert 'rel="next" href="/insurer/?page=2"' in page


def test_advances_are_deducted_from_the_exposure(centre: Centre) -> None:
    centre.assess()
    insurers.save_insurer_claim(
        actor=centre.adjuster, case=centre.case, policies={}, advanced="10000.50"
    )
    session.commit()

    (entry,) = insurers.insurer_desk(actor=centre.adjuster).entries

    assert entry.advanced == Decimal("10000.50")
    assert entry.net == CTPI + COMMERCIAL - Decimal("10000.50")


def test_an_adjuster_of_another_insurer_sees_nothing(app: Flask, centre: Centre) -> None:
    centre.assess()
    assert insurers.insurer_desk(actor=centre.other_adjuster).entries == []
    client, headers = api(app, centre.other_adjuster)
    assert client.get("/api/v1/insurer/cases", headers=headers).get_json()["items"] == []
    url = f"/api/v1/cases/{centre.case.id}/insurer-claim"
    assert client.get(url, headers=headers).status_code == 404
    put = client.put(url, json={"policies": EXCLUSION, "advanced": "0"}, headers=headers)
    assert put.status_code == 404
    assert count(InsurerClaim) == 0


def test_the_desk_is_for_adjusters_only(app: Flask, centre: Centre) -> None:
    with pytest.raises(NotAllowed):
        insurers.insurer_desk(actor=centre.mediator)
    for user in (centre.mediator, centre.police, centre.judge, centre.admin):
        client, headers = api(app, user)
        assert client.get("/api/v1/insurer/cases", headers=headers).status_code == 403
        assert portal(app, user).get("/insurer/").status_code == 403


def test_the_desk_in_the_api(app: Flask, centre: Centre) -> None:
    centre.assess()
    client, headers = api(app, centre.adjuster)

    (item,) = client.get("/api/v1/insurer/cases", headers=headers).get_json()["items"]

    assert item["case"]["id"] == centre.case.id
    assert item["assessed"] is True
    assert item["ctpi_buckets"] == CTPI_BUCKETS
    assert item["exposure"][0] == {
        "payer": "ctpi:甲方",
        "amount": "106754.00",
        "buckets": CTPI_BUCKETS,
    }
    assert item["exposure"][1] == {"payer": "commercial:甲方", "amount": "26480.00", "buckets": {}}
    assert (item["ctpi"], item["commercial"], item["total"]) == (
        "106754.00",
        "26480.00",
        "133234.00",
    )
    assert (item["advanced"], item["net"]) == ("0.00", "133234.00")
    listed = client.get("/api/v1/insurer/cases?status=reported", headers=headers)
    assert listed.get_json()["items"] == []
    assert client.get("/api/v1/insurer/cases?status=nonsense", headers=headers).status_code == 422


# -- claim data -------------------------------------------------------------------------------


def test_a_commercial_exclusion_moves_that_share_to_the_party(centre: Centre) -> None:
    before = centre.assess()
    assert before.result["totals"]["commercial:甲方"] == "26480.00"

    record = insurers.save_insurer_claim(
        actor=centre.adjuster, case=centre.case, policies=EXCLUSION, advanced="0"
    )
    session.commit()

    after = latest(centre.case.id)
    assert after.id != before.id
    assert "commercial:甲方" not in after.result["totals"]
    assert after.result["totals"]["party:甲方"] == "26480.00"
    assert after.result["totals"]["ctpi:甲方"] == before.result["totals"]["ctpi:甲方"]
    assert record.policies["甲方"]["exclusion_reason"] == REASON
    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "insurer_claim.saved")
    ).all()
    assert event.details["before"] is None
    assert event.details["after"]["policies"]["甲方"]["commercial_excluded"] is True
    assert event.subject == f"insurer_claim:{record.id}"
    assert session.get(Case, centre.case.id).status == CaseStatus.NEGOTIATING


def test_a_commercial_limit_caps_the_commercial_share(centre: Centre) -> None:
    centre.assess()
    insurers.save_insurer_claim(
        actor=centre.adjuster,
        case=centre.case,
        policies={"甲方": {"commercial_limit": "20000", "commercial_policy_no": "PDZA2023"}},
        advanced="0",
    )
    session.commit()

    totals = latest(centre.case.id).result["totals"]
    assert totals["commercial:甲方"] == "20000.00"
    assert totals["party:甲方"] == "6480.00"


def test_lifting_the_exclusion_restores_the_commercial_share_and_audits_both_sides(
    centre: Centre,
) -> None:
    centre.assess()
    first = insurers.save_insurer_claim(
        actor=centre.adjuster, case=centre.case, policies=EXCLUSION, advanced="0"
    )
    session.commit()
    insurers.save_insurer_claim(
        actor=centre.adjuster,
        case=centre.case,
        policies={"甲方": {"commercial_excluded": False, "exclusion_reason": "ignored"}},
        advanced="0",
        version=first.version,
    )
    session.commit()

    assert latest(centre.case.id).result["totals"]["commercial:甲方"] == "26480.00"
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "insurer_claim.saved").order_by(AuditEvent.id)
    ).all()
    assert events[1].details["before"]["policies"]["甲方"]["commercial_excluded"] is True
    assert events[1].details["after"]["policies"]["甲方"] == {
        "ctpi_policy_no": None,
        "commercial_policy_no": None,
        "commercial_limit": None,
        "commercial_excluded": False,
        "exclusion_reason": None,
    }


def test_claim_data_before_the_claims_are_filed_is_used_by_the_first_assessment(
    centre: Centre,
) -> None:
    insurers.save_insurer_claim(
        actor=centre.adjuster, case=centre.case, policies=EXCLUSION, advanced="0"
    )
    session.commit()
    assert count(Assessment) == 0

    assessment = centre.assess()

    assert assessment.result["totals"]["party:甲方"] == "26480.00"


def test_saving_the_same_data_again_changes_nothing(centre: Centre) -> None:
    centre.assess()
    record = insurers.save_insurer_claim(
        actor=centre.adjuster, case=centre.case, policies=EXCLUSION, advanced="0"
    )
    session.commit()
    version, assessed = record.version, count(Assessment)

    again = insurers.save_insurer_claim(
        actor=centre.adjuster, case=centre.case, policies=EXCLUSION, advanced="0.00"
    )
    session.commit()

    assert again.version == version
    assert count(Assessment) == assessed
    saved = select(func.count()).where(AuditEvent.action == "insurer_claim.saved")
    assert session.scalar(saved) == 1


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"policies": {"甲方": {"commercial_excluded": True}}}, "甲方"),
        ({"policies": {"甲方": {"commercial_excluded": True, "exclusion_reason": "  "}}}, "甲方"),
        ({"policies": {"甲方": {"commercial_limit": "0"}}}, "甲方的商业三者险限额"),
        ({"policies": {"甲方": {"commercial_limit": "-5000"}}}, "甲方的商业三者险限额"),
        ({"policies": {"甲方": {"commercial_limit": "1000.005"}}}, "甲方的商业三者险限额"),
        ({"policies": {"甲方": {"commercial_limit": "很多"}}}, "甲方的商业三者险限额"),
        ({"policies": {"甲方": {"commercial_excluded": "yes"}}}, "甲方的商业险是否免赔"),
        ({"policies": {"乙方": {"ctpi_policy_no": "X1"}}}, "乙方"),
        ({"policies": {"丙方": {}}}, "丙方"),
        ({"policies": {"甲方": {"deductible": "500"}}}, "deductible"),
        ({"policies": ["甲方"]}, "policies"),
        ({"advanced": "-1"}, "已垫付金额"),
        ({"advanced": 12.345}, "已垫付金额"),
        ({"advanced": "1,0000"}, "已垫付金额"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_claim_data_answers_422_and_saves_nothing(
    app: Flask, centre: Centre, body: dict[str, Any], names: str
) -> None:
    centre.assess()
    assessed = count(Assessment)
    client, headers = api(app, centre.adjuster)

    response = client.put(
        f"/api/v1/cases/{centre.case.id}/insurer-claim",
        json={"advanced": "0", **body},
        headers=headers,
    )

    assert response.status_code == 422, response.get_json()
    assert names in response.get_json()["error"]["message"]
    assert count(InsurerClaim) == 0
    assert count(Assessment) == assessed


def test_fields_left_out_keep_their_saved_value(app: Flask, centre: Centre) -> None:
    client, headers = api(app, centre.adjuster)
    url = f"/api/v1/cases/{centre.case.id}/insurer-claim"
    first = {"policies": EXCLUSION, "advanced": "0", "advance_note": "已垫付医疗费"}
    assert client.put(url, json=first, headers=headers).status_code == 200

    body = client.put(url, json={"advanced": "800"}, headers=headers).get_json()

    assert body["policies"]["甲方"]["commercial_excluded"] is True
    assert (body["advanced"], body["advance_note"]) == ("800.00", "已垫付医疗费")
    cleared = client.put(url, json={"advance_note": "", "policies": {}}, headers=headers)
    assert cleared.get_json()["advance_note"] is None
    assert cleared.get_json()["policies"] == {}
    assert cleared.get_json()["advanced"] == "800.00"


def test_a_policy_the_insurer_does_not_hold_cannot_be_described(centre: Centre) -> None:
    case = factories.make_accident_case(
        police=centre.police_org,
        committee=centre.committee,
        insurer=centre.insurer,
        commercial=False,
    )
    session.commit()
    with pytest.raises(ValidationFailed, match="未承保甲方车辆"):
        insurers.save_insurer_claim(
            actor=centre.adjuster,
            case=case,
            policies={"甲方": {"commercial_limit": "50000"}},
            advanced="0",
        )
    session.rollback()
    record = insurers.save_insurer_claim(
        actor=centre.adjuster,
        case=case,
        policies={"甲方": {"ctpi_policy_no": "PDAA2023140000001", "commercial_limit": ""}},
        advanced="0",
    )
    assert record.policies == {"甲方": {"ctpi_policy_no": "PDAA2023140000001"}}


def test_a_stale_version_is_a_conflict(app: Flask, centre: Centre) -> None:
    client, headers = api(app, centre.adjuster)
    colleague_client, colleague = api(app, centre.colleague)
    url = f"/api/v1/cases/{centre.case.id}/insurer-claim"
    assert client.get(url, headers=headers).get_json()["version"] is None
    first = client.put(url, json={"advanced": "100", "version": None}, headers=headers)
    assert first.status_code == 200, first.get_json()
    read = first.get_json()["version"]
    assert read == 1

    ok = colleague_client.put(url, json={"advanced": "200", "version": read}, headers=colleague)
    stale = client.put(url, json={"advanced": "300", "version": read}, headers=headers)

    assert ok.status_code == 200
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "conflict"
    session.expire_all()
    record = session.scalars(select(InsurerClaim)).one()
    assert (record.advanced, record.version) == (Decimal("200.00"), 2)


def test_only_adjusters_of_the_case_record_claim_data(app: Flask, centre: Centre) -> None:
    centre.case.tribunal_id = centre.tribunal.id
    session.commit()
    url = f"/api/v1/cases/{centre.case.id}/insurer-claim"
    body = {"policies": EXCLUSION, "advanced": "0"}
    for user, status in (
        (centre.mediator, 403),
        (centre.police, 403),
        (centre.judge, 403),
        (centre.admin, 403),
        (centre.other_adjuster, 404),
    ):
        client, headers = api(app, user)
        assert client.get(url, headers=headers).status_code == status, user.username
        assert client.put(url, json=body, headers=headers).status_code == status, user.username
    assert count(InsurerClaim) == 0


def test_claim_data_is_frozen_once_the_agreement_is_signed(centre: Centre) -> None:
    centre.case.status = CaseStatus.AGREED
    session.commit()
    with pytest.raises(InvalidTransition):
        insurers.save_insurer_claim(
            actor=centre.adjuster, case=centre.case, policies=EXCLUSION, advanced="0"
        )


def test_the_claim_data_in_the_api(app: Flask, centre: Centre) -> None:
    centre.assess()
    client, headers = api(app, centre.adjuster)
    url = f"/api/v1/cases/{centre.case.id}/insurer-claim"

    saved = client.put(
        url,
        json={"policies": EXCLUSION, "advanced": "5000", "advance_note": "医院垫付"},
        headers=headers,
    )

    assert saved.status_code == 200, saved.get_json()
    body = client.get(url, headers=headers).get_json()
    assert body["version"] == 1
    assert body["advanced"] == "5000.00"
    assert body["advance_note"] == "医院垫付"
    assert body["policies"]["甲方"]["commercial_excluded"] is True
    (party,) = body["parties"]
    assert party["label"] == "甲方"
    assert party["commercial"]["limit"] == "1000000.00"
    assert party["ctpi"]["insurer"] == centre.insurer.name
    # the re-assessment ran: the insurer's exposure is now only its 交强险 share
    assert body["exposure"]["commercial"] == "0.00"
    assert body["exposure"]["total"] == "106754.00"
    assert body["exposure"]["net"] == "101754.00"


# -- portal -----------------------------------------------------------------------------------


def test_the_portal_desk_shows_exposure_and_cases_not_assessed(app: Flask, centre: Centre) -> None:
    centre.assess()
    fresh = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    session.commit()

    page = portal(app, centre.adjuster).get("/insurer/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="insurer-desk"' in html
    assert centre.case.number in html
    assert fresh.number in html
    for amount in ("18000.00", "87954.00", "800.00", "26480.00", "133234.00"):
        assert amount in html
    assert html.count('data-testid="not-assessed"') == 1
    assert f"/cases/{centre.case.id}/insurer-claim" in html


def test_an_adjuster_records_an_exclusion_in_the_portal(app: Flask, centre: Centre) -> None:
    centre.assess()
    client = portal(app, centre.adjuster)
    form = client.get(f"/cases/{centre.case.id}/insurer-claim")
    assert form.status_code == 200
    assert 'data-party="甲方"' in form.get_data(as_text=True)

    response = client.post(
        f"/cases/{centre.case.id}/insurer-claim",
        data={
            "version": "",
            "policies-0-label": "甲方",
            "policies-0-ctpi_policy_no": "PDAA2023140000001",
            "policies-0-commercial_excluded": "y",
            "policies-0-exclusion_reason": "酒后驾驶",
            "advanced": "2000",
            "advance_note": "",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert latest(centre.case.id).result["totals"]["party:甲方"] == "26480.00"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "酒后驾驶" in page
    assert 'data-testid="exposure-net"' in page
    assert "104754.00" in page  # 106754.00 − 2000.00 advanced


def test_the_portal_form_shows_why_claim_data_is_refused(app: Flask, centre: Centre) -> None:
    client = portal(app, centre.adjuster)

    response = client.post(
        f"/cases/{centre.case.id}/insurer-claim",
        data={
            "policies-0-label": "甲方",
            "policies-0-commercial_excluded": "y",
            "advanced": "0",
        },
    )

    assert response.status_code == 422
    assert 'data-testid="claim-error"' in response.get_data(as_text=True)
    assert count(InsurerClaim) == 0
    assert (
        portal(app, centre.mediator).get(f"/cases/{centre.case.id}/insurer-claim").status_code
        == 403
    )
