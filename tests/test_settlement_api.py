"""The whole settlement through the API alone: claims → assessment → offers → agreement → signed
→ payments → paid, with the offer trail provable from the audit log and the timers on the way."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from flask import Flask
from reportlab.pdfgen import canvas
from sqlalchemy import select

from app import audit
from app.db import session
from app.models import AuditEvent, Deadline, DeadlineStatus, OrgKind
from tests import factories

VICTIM = {
    "id": "v1",
    "party": "乙方",
    "outcome": "disability",
    "disability_grades": [10],
    "items": {
        "medical": {"amount": "5026.49"},
        "hospital_food": {"days": 11},
        "appraisal_fee": {"amount": "700"},
    },
}


def scan() -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.drawString(72, 720, "signed")
    pdf.save()
    return out.getvalue()


def test_a_case_goes_from_claims_to_paid_through_the_api(app: Flask) -> None:
    committee = factories.make_org(OrgKind.MEDIATION)
    insurer = factories.make_org(OrgKind.INSURER)
    mediator, adjuster = factories.make_user(committee), factories.make_user(insurer)
    case = factories.make_accident_case(
        police=factories.make_org(OrgKind.POLICE), committee=committee, insurer=insurer
    )
    session.commit()
    client = app.test_client()
    as_mediator = factories.api_token(client, mediator)
    as_adjuster = factories.api_token(client, adjuster)
    base = f"/api/v1/cases/{case.id}"

    def call(method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        if method != "GET":  # a write sends the case version it was made from
            version = client.get(base, headers=headers).get_json()["version"]
            if "json" in kwargs:
                kwargs["json"] = {"version": version, **kwargs["json"]}
            else:
                kwargs["data"] = {"version": str(version), **kwargs["data"]}
        response = client.open(base + path, method=method, headers=headers, **kwargs)
        assert response.status_code < 300, (path, response.get_json())
        return response.get_json()

    call("PUT", "/claims", as_mediator, json={"victims": [VICTIM]})
    assert call("GET", "", as_adjuster)["status"] == "negotiating"
    totals = call("GET", "/assessment", as_adjuster)["totals"]
    payers = [payer for payer in totals if payer != "self"]

    # The adjuster offers less than assessed; the claimant counters; the adjuster accepts.
    for payer in payers:
        low = f"{Decimal(totals[payer]) * Decimal('0.9'):.2f}"
        offer = call("POST", "/offers", as_adjuster, json={"payer": payer, "amount": low})
        counter = call(
            "POST",
            "/offers",
            as_mediator,
            json={"payer": payer, "amount": totals[payer], "parent_id": offer["id"]},
        )
        call("POST", f"/offers/{counter['id']}/accept", as_adjuster, json={})
    trail = call("GET", "/offers", as_mediator)
    accepted = [o for o in trail["items"] if o["status"] == "accepted"]
    assert sorted(o["payer"] for o in accepted) == sorted(payers)
    # What was accepted is in the hash-chained audit log, byte for byte.
    made = {
        e.details["digest"]: e
        for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "offer.made"))
    }
    assert all(o["digest"] in made for o in accepted)
    assert audit.verify_chain().ok

    agreement = call("POST", "/agreement", as_mediator, json={"payment_method": "银行转账"})
    signers = [s["id"] for s in agreement["data"]["signatories"]]
    signed = call(
        "POST",
        "/agreement/sign",
        as_mediator,
        data={"signer": signers, "scan": (io.BytesIO(scan()), "签署件.pdf")},
        content_type="multipart/form-data",
    )
    assert signed["case"]["status"] == "agreed"
    timers = {d.kind for d in session.scalars(select(Deadline).where(Deadline.case_id == case.id))}
    assert {"confirmation_application", "insurer_payment", "mediation_window"} <= timers

    first, *rest = payers
    half = f"{Decimal(totals[first]) / 2:.2f}"
    call("POST", "/payments", as_adjuster, json={"payer": first, "amount": half, "reference": "A1"})
    status = {row["payer"]: row for row in call("GET", "/payments", as_adjuster)["items"]}
    assert status[first]["partial"]
    assert call("GET", "", as_adjuster)["status"] == "agreed"
    remaining = {first: f"{Decimal(totals[first]) - Decimal(half):.2f}"}
    remaining.update({payer: totals[payer] for payer in rest})
    for payer, amount in remaining.items():
        body = {"payer": payer, "amount": amount, "reference": "A2"}
        call("POST", "/payments", as_adjuster, json=body)
    assert call("GET", "", as_adjuster)["status"] == "paid"
    payment_timers = session.scalars(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.kind == "insurer_payment")
    ).all()
    assert {d.status for d in payment_timers} == {DeadlineStatus.MET}
