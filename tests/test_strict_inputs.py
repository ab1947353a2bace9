"""Strict inputs of /api/v1: unknown fields are refused and named, writes that change money or
a case's status need the case version (body or If-Match), and a mediator applies only to the
tribunal of the case's region."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import workflow
from app.db import session
from app.models import AuditEvent, Case, CaseStatus, OrgKind, User
from app.services import tribunal
from tests import factories
from tests.support.centre import Centre
from tests.test_agreements import Centre as AgreementCentre
from tests.test_agreements import reload
from tests.test_tribunal import agree, post

WRITES = ("post", "put", "patch", "delete")
# Every workflow action a person takes (TRANSITIONS and STEPS of app/workflow.py) and the write
# that takes it: each changes money or the case's status, so each needs the case version.
ACTION_WRITES = {
    "confirm_report": ("post", "/cases/{case_id}/confirm"),
    "withdraw": ("post", "/cases/{case_id}/withdraw"),
    "file_claims": ("put", "/cases/{case_id}/claims"),
    "sign_agreement": ("post", "/cases/{case_id}/agreement/sign"),
    "fail_mediation": ("post", "/cases/{case_id}/mediation/fail"),
    "request_confirmation": ("post", "/cases/{case_id}/confirmation-request"),
    "confirm_settlement": ("post", "/cases/{case_id}/decision"),
    "reject_to_mediation": ("post", "/cases/{case_id}/decision"),
    "reject_to_litigation": ("post", "/cases/{case_id}/decision"),
    "close": ("post", "/cases/{case_id}/close"),
    "decide_liability": ("put", "/cases/{case_id}/liability"),
    "make_offer": ("post", "/cases/{case_id}/offers"),
    "draft_agreement": ("post", "/cases/{case_id}/agreement"),
    "accept_application": ("post", "/cases/{case_id}/confirmation/accept"),
    "record_payment": ("post", "/cases/{case_id}/payments"),
}
# Writes beyond the workflow's actions that change money or an offer's or a timer's state.
OTHER_VERSIONED = (
    ("post", "/cases/{case_id}/offers/{offer_id}/accept"),
    ("post", "/cases/{case_id}/offers/{offer_id}/reject"),
    ("post", "/cases/{case_id}/offers/{offer_id}/withdraw"),
    ("post", "/cases/{case_id}/confirmation/extend"),
)


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    def build(app: Flask) -> Centre:
        centre = Centre(app)
        centre.case = factories.make_accident_case(
            police=centre.police_org,
            committee=centre.committee,
            insurer=centre.insurer,
            status=CaseStatus.NEGOTIATING,
        )
        centre.case.tribunal_id = centre.tribunal.id  # every role sees the case
        return centre

    return build_world(build)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def _people(centre: Centre) -> list[User]:
    return [centre.police, centre.mediator, centre.adjuster, centre.judge, centre.admin]


def _write_routes(app: Flask) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every /api/v1 write, from the OpenAPI document."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in WRITES
    ]


def _url(path: str, case: Case) -> str:
    return "/api/v1" + re.sub(
        r"\{(\w+)\}", lambda m: str(case.id if m[1] == "case_id" else 1), path
    )


def _content(operation: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    content = operation.get("requestBody", {}).get("content", {})
    for media_type, described in content.items():
        return media_type, described["schema"]
    return None, {}


_SAMPLES = {"integer": 1, "array": [], "object": {}, "boolean": False}
_DATES = {"date": "2024-01-31", "date-time": "2024-03-01T09:30:00+08:00"}


def _sample(schema: dict[str, Any]) -> Any:
    """A value of the field's declared type (the walks test what comes before the service)."""
    if schema.get("type") in _SAMPLES:
        return _SAMPLES[schema["type"]]
    return _DATES.get(schema.get("format", ""), "x")


def _send(centre: Centre, user: User, method: str, url: str, **request: Any) -> Any:
    headers = {**factories.api_token(centre.app.test_client(), user), **request.pop("headers", {})}
    return centre.app.test_client().open(url, method=method.upper(), headers=headers, **request)


def _answers(
    centre: Centre, method: str, path: str, build: Callable[[], dict[str, Any]]
) -> list[Any]:
    """What each person gets for the request; a fresh token each time (a write may revoke it)."""
    url = _url(path, centre.case)
    return [_send(centre, user, method, url, **build()) for user in _people(centre)]


def test_every_write_route_refuses_unknown_fields_naming_them_all(centre: Centre) -> None:
    accepting = []
    for method, path, operation in _write_routes(centre.app):
        media_type, schema = _content(operation)

        def build(media_type: str | None = media_type) -> dict[str, Any]:
            if media_type == "multipart/form-data":
                return factories.multipart({"colour": "red", "flavour": "sour"})
            return {"json": {"colour": "red", "flavour": "sour"}}

        answers = _answers(centre, method, path, build)
        refused = [
            a.get_json()["error"]
            for a in answers
            if a.status_code == 422 and "fields" in a.get_json()["error"]
        ]
        if not refused:
            accepting.append((method, path, [a.status_code for a in answers]))
            continue
        assert refused[0]["code"] == "invalid_input"
        assert refused[0]["fields"] == ["colour", "flavour"], (method, path)
        assert "colour" in refused[0]["message"]
        assert "flavour" in refused[0]["message"]
    assert accepting == []


def test_the_openapi_document_declares_closed_bodies(centre: Centre) -> None:
    for method, path, operation in _write_routes(centre.app):
        media_type, schema = _content(operation)
        if media_type == "application/json":
            assert schema["additionalProperties"] is False, (method, path)


def test_every_workflow_action_has_a_versioned_write() -> None:
    actions = {t.action for t in workflow.TRANSITIONS if t.parts} | {
        s.action for s in workflow.STEPS
    }
    assert actions == set(ACTION_WRITES)


def test_the_openapi_document_requires_the_version_of_money_and_status_writes(
    centre: Centre,
) -> None:
    document = centre.app.test_client().get("/api/v1/openapi.json").get_json()
    for method, path in {*ACTION_WRITES.values(), *OTHER_VERSIONED}:
        operation = document["paths"][path][method]
        _media_type, schema = _content(operation)
        assert "version" in schema["required"], (method, path)
        assert "428" in operation["responses"], (method, path)
        assert any(p["name"] == "If-Match" for p in operation["parameters"]), (method, path)


def test_money_and_status_writes_without_a_version_answer_428(centre: Centre) -> None:
    answered = {}
    for method, path, operation in _write_routes(centre.app):
        media_type, schema = _content(operation)
        if "version" not in schema.get("properties", {}) or path.endswith("/insurer-claim"):
            continue

        def build(media_type: str | None = media_type, schema: dict[str, Any] = schema):
            if media_type == "multipart/form-data":
                return factories.multipart(
                    {"signer": ["甲方"], "scan": (io.BytesIO(b"%PDF-1.4 scan"), "scan.pdf")}
                )
            required = [name for name in schema.get("required", []) if name != "version"]
            return {"json": {name: _sample(schema["properties"][name]) for name in required}}

        answers = _answers(centre, method, path, build)
        answered[(method, path)] = sorted(
            {(a.status_code, a.get_json()["error"]["code"]) for a in answers}
        )
    assert set(answered) == {*ACTION_WRITES.values(), *OTHER_VERSIONED}
    missing = {
        key: codes for key, codes in answered.items() if (428, "version_required") not in codes
    }
    assert missing == {}
    assert reload(centre.case.id).status == CaseStatus.NEGOTIATING


def _draft(centre: Centre) -> Case:
    """A draft case with its read report, which its police unit may withdraw."""
    case = factories.make_case(police=centre.police_org, status=CaseStatus.DRAFT)
    factories.add_confirmed_report(case, parties=[{"label": "甲方"}])
    session.commit()
    return case


def test_the_case_etag_stands_for_the_version_in_if_match(centre: Centre) -> None:
    case = _draft(centre)
    client = centre.app.test_client()
    headers = factories.api_token(client, centre.police)
    url = f"/api/v1/cases/{case.id}"

    got = client.get(url, headers=headers)
    assert got.headers["ETag"] == f'W/"case-{case.id}-v{case.version}"'

    missing = client.post(f"{url}/withdraw", headers=headers)
    assert missing.status_code == 428
    assert missing.get_json()["error"]["code"] == "version_required"
    other_case = client.post(
        f"{url}/withdraw", headers={**headers, "If-Match": f'W/"case-{case.id + 1}-v1"'}
    )
    assert other_case.status_code == 428
    stale = client.post(
        f"{url}/withdraw", headers={**headers, "If-Match": f'"case-{case.id}-v{case.version + 5}"'}
    )
    assert stale.status_code == 409
    assert reload(case.id).status == CaseStatus.DRAFT

    done = client.post(f"{url}/withdraw", headers={**headers, "If-Match": got.headers["ETag"]})
    assert done.status_code == 200, done.get_json()
    assert reload(case.id).status == CaseStatus.WITHDRAWN


def test_a_version_in_the_body_still_works_and_a_stale_one_is_409(centre: Centre) -> None:
    case = _draft(centre)
    client = centre.app.test_client()
    headers = factories.api_token(client, centre.police)
    url = f"/api/v1/cases/{case.id}/withdraw"

    assert client.post(url, json={"version": case.version + 1}, headers=headers).status_code == 409
    both = client.post(
        url,
        json={"version": case.version},
        headers={**headers, "If-Match": f'W/"case-{case.id}-v{case.version + 1}"'},
    )
    assert both.status_code == 409
    assert client.post(url, json={"version": case.version}, headers=headers).status_code == 200


def test_a_portal_form_without_the_version_asks_to_reload(centre: Centre) -> None:
    client = centre.app.test_client()
    factories.login(client, centre.mediator)
    response = client.post(
        f"/cases/{centre.case.id}/mediation/fail",
        data={"reason": "双方分歧过大"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert response.status_code == 428
    assert reload(centre.case.id).status == CaseStatus.NEGOTIATING


# -- the tribunal of the case's region --------------------------------------------------------


@pytest.fixture(scope="module")
def agreement_world(build_world: Callable[..., AgreementCentre]) -> AgreementCentre:
    return build_world(AgreementCentre)


@pytest.fixture
def agreed(app: Flask, agreement_world: AgreementCentre) -> AgreementCentre:
    """A case with a signed agreement, of the region of the centre's tribunal."""
    centre = agreement_world.for_test()
    case = agree(centre)
    case.region = "离石区"
    centre.tribunal.region = "离石区"
    session.commit()
    return centre


def test_a_mediator_may_not_apply_to_another_regions_tribunal(
    agreed: AgreementCentre,
) -> None:
    elsewhere = factories.make_org(OrgKind.TRIBUNAL, region="孝义市")
    session.commit()
    case = reload(agreed.case.id)

    response = post(
        agreed,
        "/confirmation-request",
        agreed.mediator,
        {"tribunal_org_id": elsewhere.id, "version": case.version},
    )

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "tribunal_out_of_region"
    assert elsewhere.name in error["message"]
    assert "离石区" in error["message"]
    assert reload(case.id).status == CaseStatus.AGREED

    own = post(
        agreed,
        "/confirmation-request",
        agreed.mediator,
        {"tribunal_org_id": agreed.tribunal.id, "version": case.version},
    )
    assert own.status_code == 201, own.get_json()


def test_an_admin_may_choose_any_active_tribunal_and_it_is_audited(agreed: AgreementCentre) -> None:
    elsewhere = factories.make_org(OrgKind.TRIBUNAL, region="孝义市")
    session.commit()
    case = reload(agreed.case.id)

    chosen = tribunal._tribunal_for(case, elsewhere.id, agreed.admin)

    assert chosen.id == elsewhere.id
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.case_id == case.id, AuditEvent.action == "confirmation.tribunal_chosen"
        )
    ).one()
    assert event.details == {"case_region": "离石区", "tribunal_region": "孝义市"}
