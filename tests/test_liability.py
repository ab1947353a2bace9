"""The liability a police letter left open (道路交通事故证明): claims wait until the case's
mediator decides each party's liability, in the service, the API and the portal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import audit, workflow
from app.db import session
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.models import (
    Assessment,
    Case,
    CaseStatus,
    LiabilityDecision,
    Notification,
    Party,
    Report,
)
from app.services import assessments, documents, liability
from tests import factories
from tests.support.centre import Centre as SharedCentre

CLAIMS = {
    "victims": [
        {
            "id": "v1",
            "party": "乙方",
            "outcome": "injury",
            "items": {"medical": {"amount": "20000"}, "transport": {"amount": "300"}},
        }
    ]
}
BASIS = "双方协商一致"
UNDETERMINED = "事故责任尚未确定，请先确定各方责任。"


class Centre(SharedCentre):
    """The shared centre and a certificate case of its committee: a car (甲方) and an e-bike
    (乙方), no liability."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.case = certificate_case(self)
        session.commit()


def certificate_case(centre: Centre, **passenger: Any) -> Case:
    """A reported case whose letter is a 道路交通事故证明: every party's liability is null."""
    case = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    for party in case.parties:
        party.liability = None
    if passenger:
        case.parties.append(Party(label="丙方", position=2, role="passenger", **passenger))
    letter = documents.store_document(
        actor=None,
        case=case,
        kind="report",
        data=b"%PDF-1.7 certificate",
        media_type="application/pdf",
        filename="证明.pdf",
    )
    fields = {
        "procedure": "certificate",
        "parties": [{"label": party.label, "liability": None} for party in case.parties],
    }
    session.add(Report(case=case, document_id=letter.id, parsed=fields, fields=fields))
    session.flush()
    session.refresh(case)
    return case


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def reload(case_id: int) -> Case:
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None
    return case


def api(app: Flask, user: Any) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    return client, factories.api_token(client, user)


def put_liability(app: Flask, user: Any, case_id: int, body: Any) -> Any:
    client, headers = api(app, user)
    return client.put(f"/api/v1/cases/{case_id}/liability", json=body, headers=headers)


def both(case: Case, car: str = "main", bike: str = "minor") -> list[dict[str, Any]]:
    return [
        {"id": case.parties[0].id, "liability": car},
        {"label": case.parties[1].label, "liability": bike},
    ]


# -- the service --------------------------------------------------------------------------------


def test_certificate_case_waits_for_the_mediator_and_claims_are_refused(centre: Centre) -> None:
    case = centre.case
    assert liability.is_certificate(case)
    assert [party.label for party in liability.pending_parties(case)] == ["甲方", "乙方"]
    assert liability.awaits_decision(case)
    assert workflow.permits(case, "decide_liability", centre.mediator)

    with pytest.raises(InvalidTransition) as refused:
        assessments.file_claims(actor=centre.mediator, case=case, data=CLAIMS)

    assert refused.value.code == "liability_undetermined"
    assert refused.value.message == UNDETERMINED


def test_mediator_decides_liability_with_its_basis_audited(centre: Centre) -> None:
    case = centre.case
    version = case.version

    decision = liability.decide_liability(
        actor=centre.mediator, case=case, parties=both(case), basis=f"  {BASIS} ", version=version
    )
    session.commit()

    case = reload(case.id)
    assert [party.liability for party in case.parties] == ["main", "minor"]
    assert case.version > version
    assert not liability.awaits_decision(case)
    assert decision.basis == BASIS
    assert decision.decided_by_id == centre.mediator.id
    assert [
        (entry["label"], entry["before"], entry["liability"]) for entry in decision.parties
    ] == [
        ("甲方", None, "main"),
        ("乙方", None, "minor"),
    ]
    (event,) = [e for e in audit.recent_events(case_id=case.id) if e.action == "liability.decided"]
    assert event.actor_id == centre.mediator.id
    assert event.details["parties"] == {"甲方": [None, "main"], "乙方": [None, "minor"]}
    assert event.details["basis"] == BASIS
    assert event.details["certificate"] is True
    assert case.report.fields["parties"][0]["liability"] is None  # the letter stays as it was


def test_claims_are_assessed_once_liability_is_decided(centre: Centre) -> None:
    case = centre.case
    liability.decide_liability(actor=centre.mediator, case=case, parties=both(case), basis=BASIS)

    assessments.file_claims(actor=centre.mediator, case=case, data=CLAIMS)
    session.commit()

    assert reload(case.id).status == CaseStatus.NEGOTIATING
    (stored,) = session.scalars(select(Assessment).where(Assessment.case_id == case.id))
    parties = {party["id"]: party["liability"] for party in stored.input["request"]["parties"]}
    assert parties == {"甲方": "main", "乙方": "minor"}


def test_deciding_again_after_the_claims_reassesses_them(centre: Centre) -> None:
    case = centre.case
    liability.decide_liability(actor=centre.mediator, case=case, parties=both(case), basis=BASIS)
    assessments.file_claims(actor=centre.mediator, case=case, data=CLAIMS)
    session.commit()
    first = assessments.latest_assessment(reload(case.id)).result["totals"]

    case = reload(case.id)
    liability.decide_liability(
        actor=centre.mediator,
        case=case,
        parties=both(case, "full", "none"),
        basis="参照法院判决",
    )
    session.commit()

    case = reload(case.id)
    latest = assessments.latest_assessment(case)
    assert latest.result["totals"] != first
    assert {p["id"]: p["liability"] for p in latest.input["request"]["parties"]} == {
        "甲方": "full",
        "乙方": "none",
    }
    decisions = session.scalars(
        select(LiabilityDecision).where(LiabilityDecision.case_id == case.id)
    ).all()
    assert [d.basis for d in decisions] == [BASIS, "参照法院判决"]
    assert liability.latest_decision(case).basis == "参照法院判决"


def test_every_liable_party_needs_a_liability_but_a_passenger_none(
    centre: Centre,
) -> None:
    case = certificate_case(centre, name="乘车人")
    assert [party.label for party in liability.pending_parties(case)] == ["甲方", "乙方"]

    with pytest.raises(ValidationFailed, match="乙方"):
        liability.decide_liability(
            actor=centre.mediator,
            case=case,
            parties=[{"id": case.parties[0].id, "liability": "full"}],
            basis=BASIS,
        )

    liability.decide_liability(actor=centre.mediator, case=case, parties=both(case), basis=BASIS)
    assert case.parties[2].liability is None
    assert not liability.pending_parties(case)


@pytest.mark.parametrize(
    ("parties", "basis", "field"),
    [
        ([{"label": "甲方", "liability": "most"}, {"label": "乙方", "liability": "none"}], BASIS,
         "parties[0].liability"),
        ([{"label": "甲方", "liability": None}, {"label": "乙方", "liability": "none"}], BASIS,
         "parties[0].liability"),
        ([{"label": "甲方", "liability": "main"}, {"label": "甲方", "liability": "minor"}], BASIS,
         "parties[1]"),
        ([{"label": "戊方", "liability": "main"}], BASIS, "parties[0]"),
        ([{"label": "甲方", "liability": "main", "ratio": "0.7"}], BASIS, "parties[0]"),
        ("甲方 main", BASIS, "parties"),
        ([{"label": "甲方", "liability": "main"}, {"label": "乙方", "liability": "minor"}], " ",
         "basis"),
        ([{"label": "甲方", "liability": "main"}, {"label": "乙方", "liability": "minor"}],
         "依" * 501, "basis"),
    ],
)  # fmt: skip
def test_bad_decisions_are_refused_naming_the_field_and_change_nothing(
    centre: Centre, parties: Any, basis: str, field: str
) -> None:
    case = centre.case

    with pytest.raises(ValidationFailed) as refused:
        liability.decide_liability(actor=centre.mediator, case=case, parties=parties, basis=basis)

    assert refused.value.details["field"] == field
    session.rollback()
    assert [party.liability for party in reload(case.id).parties] == [None, None]


def test_only_the_committees_mediators_decide(centre: Centre) -> None:
    case = centre.case
    for user in (centre.police, centre.adjuster, centre.admin, centre.other_mediator):
        with pytest.raises(NotAllowed):
            liability.decide_liability(actor=user, case=case, parties=both(case), basis=BASIS)
        assert not workflow.permits(case, "decide_liability", user)


def test_liability_the_police_determined_is_not_overridden(centre: Centre) -> None:
    case = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    assert not workflow.permits(case, "decide_liability", centre.mediator)

    with pytest.raises(InvalidTransition) as refused:
        liability.decide_liability(
            actor=centre.mediator, case=case, parties=both(case), basis=BASIS
        )

    assert refused.value.code == "liability_determined"


def test_a_letter_silent_on_one_party_waits_for_that_party_only(centre: Centre) -> None:
    case = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    case.parties[1].liability = None
    assert not liability.is_certificate(case)
    assert [party.label for party in liability.pending_parties(case)] == ["乙方"]

    liability.decide_liability(
        actor=centre.mediator,
        case=case,
        parties=[{"label": "乙方", "liability": "minor"}],
        basis=BASIS,
    )

    assert [party.liability for party in case.parties] == ["main", "minor"]


def test_no_decision_once_mediation_is_over(centre: Centre) -> None:
    case = centre.case
    case.status = CaseStatus.AGREED
    with pytest.raises(InvalidTransition):
        liability.decide_liability(
            actor=centre.mediator, case=case, parties=both(case), basis=BASIS
        )


def test_confirming_a_certificate_tells_the_committees_mediators(centre: Centre) -> None:
    case = centre.case

    liability.notify_mediators(case)

    (sent,) = session.scalars(
        select(Notification).where(
            Notification.case_id == case.id, Notification.kind == "liability.needed"
        )
    ).all()
    assert sent.user_id == centre.mediator.id
    from app.services import notifications

    assert notifications.notification_text(sent) == (
        f"道路交通事故证明（案件 {case.number}）：需确定事故责任。"
    )


# -- the API ------------------------------------------------------------------------------------


def test_api_decides_liability_then_accepts_the_claims(app: Flask, centre: Centre) -> None:
    case_id = centre.case.id
    refused = api_put_claims(app, centre, case_id)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == {
        "code": "liability_undetermined",
        "message": UNDETERMINED,
    }

    client, headers = api(app, centre.mediator)
    shown = client.get(f"/api/v1/cases/{case_id}", headers=headers).get_json()
    assert shown["liability"] == {"pending": ["甲方", "乙方"], "decision": None}
    body = {
        "parties": [
            {"id": shown["parties"][0]["id"], "liability": "equal"},
            {"label": "乙方", "liability": "equal"},
        ],
        "basis": BASIS,
        "version": shown["version"],
    }
    response = client.put(f"/api/v1/cases/{case_id}/liability", json=body, headers=headers)

    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["liability"]["pending"] == []
    assert answer["liability"]["decision"]["basis"] == BASIS
    assert answer["liability"]["decision"]["decided_by_id"] == centre.mediator.id
    assert [party["liability"] for party in answer["parties"]] == ["equal", "equal"]
    assert answer["version"] > shown["version"]
    assert api_put_claims(app, centre, case_id).status_code == 202


def api_put_claims(app: Flask, centre: Centre, case_id: int) -> Any:
    client, headers = api(app, centre.mediator)
    body = {**CLAIMS, "version": reload(case_id).version}
    return client.put(f"/api/v1/cases/{case_id}/claims", json=body, headers=headers)


def test_api_stale_version_is_refused_with_409(app: Flask, centre: Centre) -> None:
    case = centre.case
    body = {"parties": both(case), "basis": BASIS, "version": case.version - 1}

    response = put_liability(app, centre.mediator, case.id, body)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert [party.liability for party in reload(case.id).parties] == [None, None]


@pytest.mark.parametrize(
    ("who", "status"),
    [("police", 403), ("adjuster", 403), ("admin", 403), ("other_mediator", 404)],
)
def test_api_other_roles_get_403_and_other_committees_404(
    app: Flask, centre: Centre, who: str, status: int
) -> None:
    case = centre.case
    body = {"parties": both(case), "basis": BASIS, "version": case.version}

    response = put_liability(app, getattr(centre, who), case.id, body)

    assert response.status_code == status
    assert [party.liability for party in reload(case.id).parties] == [None, None]


def test_api_refuses_unknown_fields_and_bad_liabilities_with_422(
    app: Flask, centre: Centre
) -> None:
    case = centre.case
    unknown = put_liability(
        app, centre.mediator, case.id, {"parties": both(case), "basis": BASIS, "ratio": "0.7"}
    )
    assert unknown.status_code == 422
    bad = put_liability(
        app,
        centre.mediator,
        case.id,
        {"parties": both(case, "most"), "basis": BASIS, "version": case.version},
    )
    assert bad.status_code == 422
    assert "parties[0].liability" in bad.get_json()["error"]["message"]


def test_api_clock_says_the_committee_has_the_ball(app: Flask, centre: Centre) -> None:
    client, headers = api(app, centre.adjuster)

    clock = client.get(f"/api/v1/cases/{centre.case.id}/deadlines", headers=headers).get_json()

    (step,) = clock["clock"]["waiting"]
    assert step["kind"] == "liability_decision"
    assert step["label"] == "确定事故责任"
    assert step["owner"] == {"id": centre.committee.id, "name": centre.committee.name}


def test_openapi_describes_the_liability_decision(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/cases/{case_id}/liability"]["put"]
    assert set(operation["responses"]) >= {"200", "403", "404", "409", "422"}
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["version", "parties", "basis"]


# -- the portal ---------------------------------------------------------------------------------


def portal(app: Flask, user: Any) -> FlaskClient:
    client = app.test_client()
    factories.login(client, user)
    return client


def test_case_page_shows_the_mediator_the_decision_as_next_step(app: Flask, centre: Centre) -> None:
    client = portal(app, centre.mediator)

    page = client.get(f"/cases/{centre.case.id}").get_data(as_text=True)

    assert "道路交通事故证明：交警未认定事故责任" in page
    assert UNDETERMINED in page
    assert 'data-testid="decide-liability"' in page
    assert 'data-testid="decide-liability-link"' in page  # in "who has the ball"
    assert f'data-testid="waiting-holder">{centre.committee.name}<' in page
    assert 'data-testid="enter-claims"' not in page
    assert page.count("待确定") == 2


def test_the_mediators_desk_lists_the_cases_whose_liability_they_decide(
    app: Flask, centre: Centre
) -> None:
    decided = certificate_case(centre)
    liability.decide_liability(
        actor=centre.mediator, case=decided, parties=both(decided), basis=BASIS
    )
    session.commit()

    home = portal(app, centre.mediator).get("/").get_data(as_text=True)
    other = portal(app, centre.other_mediator).get("/").get_data(as_text=True)

    assert f'data-case-id="{centre.case.id}" data-action="decide_liability"' in home
    assert f"/cases/{centre.case.id}/mediation#liability" in home
    assert f'data-case-id="{decided.id}" data-action="file_claims"' in home
    assert f"/cases/{decided.id}/mediation" not in home
    assert f'data-case-id="{centre.case.id}"' not in other


def test_other_roles_see_that_the_case_waits_but_no_form(app: Flask, centre: Centre) -> None:
    client = portal(app, centre.adjuster)

    page = client.get(f"/cases/{centre.case.id}").get_data(as_text=True)

    assert UNDETERMINED in page
    assert f'data-testid="waiting-holder">{centre.committee.name}<' in page
    assert "decide-liability" not in page


def test_mediator_records_liability_in_the_portal_then_enters_claims(
    app: Flask, centre: Centre
) -> None:
    case = centre.case
    client = portal(app, centre.mediator)
    page = client.get(f"/cases/{case.id}/mediation").get_data(as_text=True)
    assert 'data-testid="liability-form"' in page
    assert 'list="liability-bases"' in page
    assert "双方协商一致" in page  # a suggested basis

    form = {
        "parties-0-party_id": case.parties[0].id,
        "parties-0-liability": "main",
        "parties-1-party_id": case.parties[1].id,
        "parties-1-liability": "",
        "basis": BASIS,
        "version": case.version,
    }
    refused = client.post(f"/cases/{case.id}/mediation/liability", data=form)
    assert refused.status_code == 422
    assert "请确定每一方的责任：乙方。" in refused.get_data(as_text=True)

    form["parties-1-liability"] = "minor"
    response = client.post(f"/cases/{case.id}/mediation/liability", data=form)
    assert response.status_code == 302
    assert [party.liability for party in reload(case.id).parties] == ["main", "minor"]

    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert UNDETERMINED not in page
    assert 'data-testid="enter-claims"' in page
    assert f"依据：{BASIS}" in page
    assert 'data-testid="waiting-step"' not in page


def test_claims_page_waits_for_the_decision(app: Flask, centre: Centre) -> None:
    case = centre.case
    client = portal(app, centre.mediator)

    page = client.get(f"/cases/{case.id}/claims").get_data(as_text=True)
    assert UNDETERMINED in page
    assert 'data-testid="add-victim"' not in page

    response = client.post(
        f"/cases/{case.id}/claims/victims/new",
        data={
            "version": str(case.version),
            "who": "party:乙方",
            "age": "35",
            "residence": "urban",
            "outcome": "injury",
            "medical-0-amount": "5026.49",
        },
    )
    assert response.status_code == 409
    assert UNDETERMINED in response.get_data(as_text=True)
    assert reload(case.id).status == CaseStatus.REPORTED
    assert assessments.latest_claim(reload(case.id)) is None


def test_portal_decision_of_another_committee_is_not_found(app: Flask, centre: Centre) -> None:
    client = portal(app, centre.other_mediator)
    response = client.post(
        f"/cases/{centre.case.id}/mediation/liability",
        data={"basis": BASIS, "parties-0-party_id": centre.case.parties[0].id},
    )
    assert response.status_code == 404
