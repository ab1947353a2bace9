"""Closing a paid case: only then, only by its committee or an admin, and read-only after."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import func, select

from app import audit, jobs
from app.db import session, utcnow
from app.errors import InvalidTransition, NotAllowed
from app.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Deadline,
    Document,
    Offer,
    Party,
    Payment,
)
from app.services import closure, deadlines, documents, notifications
from tests import factories
from tests.support.centre import Centre as SharedCentre
from tests.test_settlement_api import VICTIM, scan

CLOSED = "This case is closed: it can no longer change."


class Centre(SharedCentre):
    """The shared centre with a reported case."""

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


def settle_and_pay(client: FlaskClient, centre: Centre) -> dict[str, str]:
    """Take the case from claims to `paid` through the API; the adjuster's headers."""
    as_mediator = factories.api_token(client, centre.mediator)
    as_adjuster = factories.api_token(client, centre.adjuster)
    base = f"/api/v1/cases/{centre.case.id}"

    def call(method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        if method != "GET":  # a write sends the case version it was made from
            version = reload(centre.case.id).version
            if "json" in kwargs:
                kwargs["json"] = {"version": version, **kwargs["json"]}
            else:
                kwargs["data"] = {"version": str(version), **kwargs["data"]}
        response = client.open(base + path, method=method, headers=headers, **kwargs)
        assert response.status_code < 300, (path, response.get_json())
        return response.get_json()

    call("PUT", "/claims", as_mediator, json={"victims": [VICTIM]})
    totals = call("GET", "/assessment", as_adjuster)["totals"]
    payers = [payer for payer in totals if payer != "self"]
    for payer in payers:
        offer = call("POST", "/offers", as_adjuster, json={"payer": payer, "amount": totals[payer]})
        call("POST", f"/offers/{offer['id']}/accept", as_mediator, json={})
    agreement = call("POST", "/agreement", as_mediator, json={"payment_method": "银行转账"})
    signers = [s["id"] for s in agreement["data"]["signatories"]]
    call(
        "POST",
        "/agreement/sign",
        as_mediator,
        data={"signer": signers, "scan": (io.BytesIO(scan()), "签署件.pdf")},
        content_type="multipart/form-data",
    )
    for payer in payers:
        body = {"payer": payer, "amount": totals[payer], "reference": "转账001"}
        call("POST", "/payments", as_adjuster, json=body)
    assert call("GET", "", as_adjuster)["status"] == "paid"
    return as_adjuster


def reload(case_id: int) -> Case:
    session.expire_all()
    return session.get(Case, case_id)


def counts(case_id: int) -> dict[str, int]:
    tables = {"documents": Document, "offers": Offer, "payments": Payment}
    return {
        name: session.scalar(select(func.count()).where(model.case_id == case_id)) or 0
        for name, model in tables.items()
    }


def test_a_paid_case_is_closed_and_every_write_is_then_refused(app: Flask, centre: Centre) -> None:
    client = app.test_client()
    as_adjuster = settle_and_pay(client, centre)
    as_mediator = factories.api_token(client, centre.mediator)
    base = f"/api/v1/cases/{centre.case.id}"
    stale = client.post(f"{base}/close", json={"version": 1}, headers=as_mediator)
    assert stale.status_code == 409
    current = reload(centre.case.id).version
    closed = client.post(f"{base}/close", json={"version": current}, headers=as_mediator)
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["status"] == "closed"
    case = reload(centre.case.id)
    assert case.status == CaseStatus.CLOSED
    running = select(Deadline).where(
        Deadline.case_id == case.id, Deadline.status.in_(deadlines.OPEN_STATES)
    )
    assert session.scalars(running).all() == []
    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.closed", AuditEvent.case_id == case.id)
    )
    assert event.details["status"] == ["paid", "closed"]
    assert audit.verify_chain().ok

    before, version = counts(case.id), case.version
    again = client.post(f"{base}/close", json={"version": version}, headers=as_mediator)
    assert again.status_code == 409
    evidence = client.post(
        f"{base}/documents",
        headers=as_mediator,
        **factories.multipart({"file": (io.BytesIO(b"%PDF-1.4 late"), "迟到的票据.pdf")}),
    )
    assert evidence.status_code == 409, evidence.get_json()
    claims = client.put(
        f"{base}/claims", json={"victims": [VICTIM], "version": version}, headers=as_mediator
    )
    assert claims.status_code == 409, claims.get_json()
    offer = client.post(
        f"{base}/offers",
        json={"payer": "ctpi:甲方", "amount": "1.00", "version": version},
        headers=as_adjuster,
    )
    assert offer.status_code == 409, offer.get_json()
    payment = client.post(
        f"{base}/payments",
        json={"payer": "ctpi:甲方", "amount": "1.00", "reference": "X", "version": version},
        headers=as_adjuster,
    )
    assert payment.status_code == 409, payment.get_json()
    assert counts(case.id) == before
    assert reload(case.id).version == version


def change_and_flush(change: Callable[[], object]) -> None:
    change()
    session.flush()


def test_the_database_refuses_any_change_to_a_closed_case(centre: Centre) -> None:
    case = centre.case
    case.status = CaseStatus.PAID
    deadlines.add_deadline(
        case=case,
        kind="insurer_payment",
        basis="test",
        owner_org_id=centre.insurer.id,
        due_at=utcnow(),
    )
    session.commit()
    closure.close_case(actor=centre.admin, case=case)
    session.commit()
    attempts = [
        lambda: setattr(case, "outcome_note", "x"),
        lambda: setattr(case.parties[0], "name", "李四"),
        lambda: session.add(Party(case_id=case.id, label="丙方", position=2)),
        lambda: session.add(
            Payment(
                case_id=case.id,
                payer="ctpi:甲方",
                amount=Decimal("1.00"),
                paid_on=utcnow().date(),
                reference="X",
                recorded_by_id=centre.admin.id,
            )
        ),
        lambda: documents.store_document(
            actor=centre.admin, case=case, kind="other", data=b"x", media_type="text/plain"
        ),
        lambda: deadlines.add_deadline(
            case=case, kind="x", basis="x", owner_org_id=centre.committee.id, due_at=utcnow()
        ),
        lambda: session.delete(case.vehicles[0].policies[0]),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidTransition, match=CLOSED), force_locale("en"):
            change_and_flush(attempt)
        session.rollback()
    # Its history, notifications and jobs are still written.
    audit.record("case.viewed", actor=centre.admin, case_id=case.id)
    notifications.notify_users(
        users=[centre.mediator], case=case, kind="case.closed", message="closed"
    )
    jobs.schedule("documents.verify", subject_id=1, case_id=case.id)
    session.commit()
    assert reload(case.id).status == CaseStatus.CLOSED


def test_a_case_made_closed_in_one_unit_of_work_is_filled_in_across_its_savepoints(
    centre: Centre,
) -> None:
    """An import (the demo's history) makes a closed case, then its rows: a savepoint ended in
    between (a ruling number is drawn in one) does not end the unit of work."""
    case = factories.make_case(police=centre.police_org, status=CaseStatus.CLOSED)
    session.flush()
    with session.begin_nested():
        pass
    case.outcome_note = "imported"
    session.add(Party(case_id=case.id, label="丙方", position=2))
    session.flush()
    session.commit()
    case.outcome_note = "changed later"
    with pytest.raises(InvalidTransition, match=CLOSED), force_locale("en"):
        session.flush()
    session.rollback()


def test_only_a_paid_case_can_be_closed_by_its_committee_or_an_admin(centre: Centre) -> None:
    case = centre.case
    with pytest.raises(InvalidTransition):
        closure.close_case(actor=centre.mediator, case=case)
    case.status = CaseStatus.PAID
    session.flush()
    for who in (centre.police, centre.adjuster, centre.judge):
        with pytest.raises(NotAllowed):
            closure.close_case(actor=who, case=case)
    with pytest.raises(NotAllowed):
        closure.close_case(actor=centre.other_mediator, case=case)
    assert closure.can_close(centre.mediator, case)
    assert not closure.can_close(centre.adjuster, case)
    closure.close_case(actor=centre.mediator, case=case)
    assert case.status == CaseStatus.CLOSED
    assert not closure.can_close(centre.admin, case)


def test_closed_cases_stay_in_the_list_and_search(app: Flask, centre: Centre) -> None:
    centre.case.status = CaseStatus.PAID
    session.commit()
    closure.close_case(actor=centre.admin, case=centre.case)
    session.commit()
    client = app.test_client()
    for user in (centre.mediator, centre.adjuster, centre.police, centre.admin):
        headers = factories.api_token(client, user)
        for query in (
            f"q={centre.case.number}",
            "status=closed",
            f"q={centre.case.parties[0].name}",
        ):
            found = client.get(f"/api/v1/cases?{query}", headers=headers).get_json()
            assert [item["id"] for item in found["items"]] == [centre.case.id], (user, query)
    factories.login(client, centre.mediator)
    page = client.get(f"/cases/?q={centre.case.number}")
    assert centre.case.number in page.get_data(as_text=True)
    assert client.get(f"/cases/{centre.case.id}").status_code == 200


def test_close_api_and_page_answer_roles(app: Flask, centre: Centre) -> None:
    client = app.test_client()
    path = f"/api/v1/cases/{centre.case.id}/close"
    for user, status in (
        (centre.police, 403),
        (centre.adjuster, 403),
        (centre.other_mediator, 404),
        (centre.mediator, 409),  # not paid yet
        (centre.admin, 409),
    ):
        answer = client.post(
            path,
            json={"version": centre.case.version},
            headers=factories.api_token(client, user),
        )
        assert answer.status_code == status, (user.username, answer.get_json())
    centre.case.status = CaseStatus.PAID
    session.commit()
    portal = app.test_client()
    factories.login(portal, centre.mediator)
    page = portal.get(f"/cases/{centre.case.id}/close")
    assert 'data-testid="close-form"' in page.get_data(as_text=True)
    done = portal.post(f"/cases/{centre.case.id}/close", data={"version": centre.case.version})
    assert done.status_code == 302
    assert reload(centre.case.id).status == CaseStatus.CLOSED
    again = portal.post(
        f"/cases/{centre.case.id}/close", data={"version": reload(centre.case.id).version}
    )
    assert again.status_code == 409
    adjuster = app.test_client()
    factories.login(adjuster, centre.adjuster)
    assert adjuster.get(f"/cases/{centre.case.id}/close").status_code == 403
