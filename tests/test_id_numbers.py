"""ID numbers (身份证号) never reach an insurer in full, and every answer that shows one in full
to anyone else is logged once (README "Finding cases and ID numbers")."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pdfplumber
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.db import session
from app.models import AuditEvent, Document, Notification, Report, User
from app.services import agreements, documents, litigation
from app.services import cases as case_service
from tests import factories
from tests.test_agreements import VICTIM, Centre, accept_all, everyone, portal, reload, scan_pdf
from tests.test_document_form import DRIVER_ID, RIDER_ID, identify_parties

# A number the letter was read with that the officer corrected: only the reading holds it.
MISREAD_ID = "14230119850315001X"
FULL_NUMBERS = (DRIVER_ID, RIDER_ID, MISREAD_ID)
# Originals no copy can mask: given to an insurer as they are, and logged (test below).
UNMASKED_KINDS = {"report", agreements.SIGNED_KIND}
# Routes that hold nothing of a case: static files, the language switch, the API's description
# and the metrics.
NOT_WALKED = {"static", "bootstrap.static", "main.set_language", "api.openapi", "metrics.scrape"}


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def identify(centre: Centre) -> None:
    """Parties with ID numbers, and a letter whose reviewed fields, reading and texts hold them."""
    identify_parties(centre)
    report = reload(centre.case.id).report
    report.fields = {
        **report.fields,
        "cause": f"乙方（身份证号{RIDER_ID}）未戴头盔，负次要责任。",
        "parties": [
            {"label": "甲方", "id_number": DRIVER_ID},
            {"label": "乙方", "id_number": RIDER_ID, "birth_date": "1990-07-09"},
        ],
    }
    report.parsed = {
        "parties": [{"label": "甲方", "id_number": MISREAD_ID}, {"label": "乙方"}],
        "provenance": {
            "parties.0.id_number": {"page": 1, "bbox": [1, 2, 3, 4], "text": MISREAD_ID}
        },
        "warnings": [
            {
                "field": "parties.0.id_number",
                "code": "id_checksum",
                "message": f"{MISREAD_ID} 校验码不符",
            }
        ],
    }
    session.commit()


def act(centre: Centre, user: User, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """An API call on the case from its current version; the answer's body."""
    version = reload(centre.case.id).version
    if "json" in kwargs:
        kwargs["json"] = {**kwargs["json"], "version": version}
    else:
        kwargs = factories.multipart({**kwargs.pop("form"), "version": str(version)})
    answer = centre.app.test_client().open(
        f"/api/v1/cases/{centre.case.id}{path}",
        method=method,
        headers=centre.token(user),
        **kwargs,
    )
    assert answer.status_code < 300, answer.get_json()
    return answer.get_json()


def drafted(centre: Centre) -> dict[str, Any]:
    """Claims filed, offers accepted, the agreement drafted: its body."""
    act(centre, centre.mediator, "PUT", "/claims", json={"victims": [VICTIM]})
    accept_all(centre)
    return act(centre, centre.mediator, "POST", "/agreement", json={"payment_method": "银行转账"})


def confirmed(centre: Centre) -> None:
    """The drafted agreement signed, sent to the tribunal and confirmed by a ruling."""
    body = drafted(centre)
    act(
        centre,
        centre.mediator,
        "POST",
        "/agreement/sign",
        form={"signer": everyone(body), "scan": (io.BytesIO(scan_pdf()), "签署件.pdf")},
    )
    act(
        centre,
        centre.mediator,
        "POST",
        "/confirmation-request",
        json={"tribunal_org_id": centre.tribunal.id},
    )
    act(centre, centre.judge, "POST", "/decision", json={"decision": "confirm"})


def leaked(body: str) -> list[str]:
    """The full numbers `body` shows, in either case."""
    upper = body.upper()
    return [number for number in FULL_NUMBERS if number in upper]


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "".join(page.extract_text() or "" for page in pdf.pages)


def full_reads(case_id: int) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "id_number.read", AuditEvent.case_id == case_id)
            .order_by(AuditEvent.id)
        )
    )


def walk(centre: Centre, client: FlaskClient, headers: dict[str, str]) -> dict[str, TestResponse]:
    """GET every route of the app with the case's ids: pages and the API alike."""
    case = reload(centre.case.id)
    documents_of_case = session.scalars(select(Document).where(Document.case_id == case.id)).all()
    values: dict[str, list[Any]] = {
        "case_id": [case.id],
        "document_id": [doc.id for doc in documents_of_case if doc.kind not in UNMASKED_KINDS],
        "job_id": [job.id for job in case_service.case_jobs(case)],
        "victim_id": ["v1"],
        "notification_id": list(
            session.scalars(
                select(Notification.id).where(Notification.user_id == centre.adjuster.id)
            )
        ),
        "org_id": [centre.insurer.id],
        "user_id": [centre.adjuster.id],
        "jurisdiction": ["山西"],
        "year": [2024],
        # Overseers' documents (referral letters, monthly reports): none is the adjuster's.
        "referral_id": [1],
        "month": ["2026-11"],
        "body": ["platform"],
        "extension": ["pdf"],
    }
    answers = {}
    for rule in centre.app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_WALKED:
            continue
        args = sorted(rule.arguments)
        combos: list[dict[str, Any]] = [{}]
        for name in args:
            combos = [{**combo, name: value} for combo in combos for value in values[name]]
        for combo in combos:
            path = rule.build(combo, append_unknown=False)[1]
            answers[path] = client.get(path, headers=headers)
    return answers


def test_an_adjuster_reads_no_full_id_number_in_any_answer(centre: Centre) -> None:
    identify(centre)
    confirmed(centre)
    pages = portal(centre, centre.adjuster)
    api = centre.app.test_client()

    answers = {
        **walk(centre, pages, {}),
        **{
            f"api {path}": answer
            for path, answer in walk(centre, api, centre.token(centre.adjuster)).items()
        },
    }

    shown = {}
    read = 0
    for path, answer in answers.items():
        if answer.status_code != 200:
            continue
        read += 1
        body = (
            pdf_text(answer.data)
            if answer.mimetype == "application/pdf"
            else answer.get_data(as_text=True)
            if answer.mimetype.startswith("text/") or answer.is_json
            else ""
        )
        if leaked(body):
            shown[path] = leaked(body)
    assert read > 40  # the case and its pages, claims, offers, agreement, ruling, copies…
    assert shown == {}
    assert [
        event for event in full_reads(centre.case.id) if event.actor_id == centre.adjuster.id
    ] == []


@pytest.mark.parametrize(
    ("kind", "action", "purpose"),
    [
        ("report", "report.downloaded", "liability_determination"),
        (agreements.SIGNED_KIND, "signed_agreement.downloaded", "settlement_terms"),
    ],
)
def test_an_adjuster_is_given_an_unmaskable_original_and_each_read_is_logged_with_why(
    centre: Centre, kind: str, action: str, purpose: str
) -> None:
    original = documents.store_document(
        actor=None,
        case=reload(centre.case.id),
        kind=kind,
        data=b"%PDF-1.4 original",
        media_type="application/pdf",
    )
    session.commit()

    answer = centre.app.test_client().get(
        f"/api/v1/documents/{original.id}/content", headers=centre.token(centre.adjuster)
    )

    assert answer.status_code == 200
    assert answer.data == b"%PDF-1.4 original"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == action)).one()
    assert (event.actor_id, event.case_id, event.subject) == (
        centre.adjuster.id,
        centre.case.id,
        f"document:{original.id}",
    )
    assert event.details["purpose"] == purpose


def test_an_adjuster_is_refused_the_filing_package(centre: Centre) -> None:
    package = documents.store_document(
        actor=None,
        case=reload(centre.case.id),
        kind=litigation.FILING_PACKAGE,
        data=b"PK\x05\x06" + bytes(18),
        media_type="application/zip",
    )
    session.commit()
    url = f"/api/v1/documents/{package.id}/content"
    client = centre.app.test_client()

    refused = client.get(url, headers=centre.token(centre.adjuster))
    given = client.get(url, headers=centre.token(centre.mediator))

    assert refused.status_code == 403
    assert "完整的身份证号码" in refused.get_json()["error"]["message"]
    assert given.status_code == 200
    assert [event.subject for event in full_reads(centre.case.id)] == ["api.document_content"]


def read_as(centre: Centre, user: User, path: str) -> TestResponse:
    answer = centre.app.test_client().get(path, headers=centre.token(user))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer


def test_each_answer_showing_full_numbers_is_logged_once(centre: Centre) -> None:
    identify(centre)
    case_url = f"/api/v1/cases/{centre.case.id}"

    case = read_as(centre, centre.police, case_url).get_json()

    assert case["report"]["parties"][0]["id_number"] == DRIVER_ID  # the officer reviews it
    (event,) = full_reads(centre.case.id)
    assert (event.actor_id, event.subject) == (centre.police.id, "api.get_case")
    assert event.details["where"] == {str(centre.case.id): ["case.report"]}

    letter = reload(centre.case.id).report.document_id
    read_as(centre, centre.police, f"/api/v1/documents/{letter}/content")
    read_as(centre, centre.adjuster, case_url)

    assert [(event.actor_id, event.subject) for event in full_reads(centre.case.id)] == [
        (centre.police.id, "api.get_case"),
        (centre.police.id, "api.document_content"),
    ]


def test_the_case_page_logs_a_number_only_when_it_shows_one_and_the_review_form_logs(
    centre: Centre,
) -> None:
    identify_parties(centre)
    police = portal(centre, centre.police)

    assert leaked(police.get(f"/cases/{centre.case.id}").get_data(as_text=True)) == []
    assert full_reads(centre.case.id) == []  # the party list is masked for everyone

    identify(centre)  # the cause as the letter states it quotes the rider's number
    shown = police.get(f"/cases/{centre.case.id}")
    review = police.get(f"/police/cases/{centre.case.id}/review")

    assert leaked(shown.get_data(as_text=True)) == [RIDER_ID]
    assert review.status_code == 200
    assert DRIVER_ID in review.get_data(as_text=True)
    assert [event.subject for event in full_reads(centre.case.id)] == [
        "cases.show",
        "police.review",
    ]


def test_the_agreement_and_its_original_are_logged_for_the_mediator(centre: Centre) -> None:
    identify(centre)
    body = drafted(centre)

    data = read_as(centre, centre.mediator, f"/api/v1/cases/{centre.case.id}/agreement")
    original = read_as(centre, centre.mediator, f"/api/v1/documents/{body['document_id']}/content")
    masked = read_as(centre, centre.adjuster, f"/api/v1/cases/{centre.case.id}/agreement")

    assert data.get_json()["data"]["parties"][0]["id_number"] == DRIVER_ID
    assert DRIVER_ID in pdf_text(original.data)
    assert leaked(masked.get_data(as_text=True)) == []
    assert [event.subject for event in full_reads(centre.case.id)] == [
        "api.draft_agreement",  # its answer holds the data it was drafted from
        "api.get_agreement",
        "api.document_content",
    ]
    assert all(event.actor_id == centre.mediator.id for event in full_reads(centre.case.id))


def test_masking_leaves_the_stored_reading_as_it_was(centre: Centre) -> None:
    identify(centre)

    read_as(centre, centre.adjuster, f"/api/v1/cases/{centre.case.id}")

    report = session.get(Report, reload(centre.case.id).report.id)
    assert report.parsed["parties"][0]["id_number"] == MISREAD_ID
