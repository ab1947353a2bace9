"""The whole life of a case through the API alone: police upload → reading → confirmation →
claims → assessment → offers → agreement → signing → judicial confirmation with its ruling →
payments → paid → closed, read-only afterwards."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pdfplumber
from flask import Flask
from reportlab.pdfgen import canvas

from app import audit
from app.db import session
from app.models import Document, OrgKind, User
from app.services import documents
from tests import factories
from tests.reports.generator import make_report

REGION = "吕梁市离石区"
GRADE_ORDER = ("none", "minor", "equal", "main", "full")


def scan() -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.drawString(72, 720, "signed")
    pdf.save()
    return out.getvalue()


class Api:
    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        self.tokens: dict[int, dict[str, str]] = {}

    def __call__(self, user: User, method: str, path: str, **kwargs: Any) -> Any:
        if user.id not in self.tokens:
            self.tokens[user.id] = factories.api_token(self.client, user)
        headers = dict(self.tokens[user.id])
        case = re.match(r"/cases/(\d+)/", path)
        if method != "GET" and case:  # a write names the case version it saw by its ETag
            seen = self.client.get(f"/api/v1/cases/{case[1]}", headers=headers)
            headers["If-Match"] = seen.headers["ETag"]
        response = self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        assert response.status_code < 300, (method, path, response.get_json())
        return response.get_json()


def test_the_whole_life_of_a_case_through_the_api(app: Flask) -> None:
    data, truth = make_report("general_table", seed=3)
    police = factories.make_user(factories.make_org(OrgKind.POLICE, region=REGION))
    committee = factories.make_org(OrgKind.MEDIATION, region=REGION)
    mediator = factories.make_user(committee)
    tribunal = factories.make_org(OrgKind.TRIBUNAL, region=REGION)
    tribunal.case_number_format = "({year})晋1102民特{n}号"
    judge = factories.make_user(tribunal)
    adjusters = {}
    for party in truth["parties"]:
        for name in (party.get("ctpi_insurer"), party.get("commercial_insurer")):
            if name and name not in adjusters:
                adjusters[name] = factories.make_user(factories.make_org(OrgKind.INSURER, name))
    session.commit()
    api = Api(app)

    # Police: upload, the reading job runs, confirm.
    created = api(
        police,
        "POST",
        "/cases",
        **factories.multipart({"report": (io.BytesIO(data), "认定书.pdf")}),
    )
    case_id = created["id"]
    case = api(police, "GET", f"/cases/{case_id}")
    assert case["report"]["document_no"] == truth["document_no"]
    api(police, "POST", f"/cases/{case_id}/confirm", json={"version": case["version"]})

    # Mediator: the party with the least liability was hurt.
    victim = min(truth["parties"], key=lambda p: GRADE_ORDER.index(p["liability"]))
    claims = {
        "victims": [
            {
                "id": "v1",
                "party": victim["label"],
                "age": 40,
                "outcome": "injury",
                "items": {"medical": {"amount": "30000"}, "transport": {"amount": "500"}},
            }
        ]
    }
    api(mediator, "PUT", f"/cases/{case_id}/claims", json=claims)
    result = api(mediator, "GET", f"/cases/{case_id}/assessment")
    totals = {p: a for p, a in result["totals"].items() if p != "self"}
    assert Decimal(result["victims"][0]["total"]) == Decimal("30500.00")

    # Offers: insurers by their adjusters, a liable party's position by the mediator;
    # the mediator accepts each for the claimant.
    insurer_of = {}
    for party in truth["parties"]:
        insurer_of[f"ctpi:{party['label']}"] = party.get("ctpi_insurer")
        insurer_of[f"commercial:{party['label']}"] = party.get("commercial_insurer")
    for payer, amount in totals.items():
        if payer.startswith("party:"):
            offer = api(
                mediator,
                "POST",
                f"/cases/{case_id}/offers",
                json={"payer": payer, "amount": amount, "side": "party"},
            )
        else:
            body = {"payer": payer, "amount": amount}
            offer = api(adjusters[insurer_of[payer]], "POST", f"/cases/{case_id}/offers", json=body)
        api(mediator, "POST", f"/cases/{case_id}/offers/{offer['id']}/accept", json={})

    # Agreement, signed in person.
    agreement = api(
        mediator, "POST", f"/cases/{case_id}/agreement", json={"payment_method": "银行转账"}
    )
    signers = [s["id"] for s in agreement["data"]["signatories"]]
    signed = api(
        mediator,
        "POST",
        f"/cases/{case_id}/agreement/sign",
        data={"signer": signers, "scan": (io.BytesIO(scan()), "签署件.pdf")},
        content_type="multipart/form-data",
    )
    assert signed["case"]["status"] == "agreed"

    # Judicial confirmation: application, acceptance, confirmation with a numbered ruling.
    api(mediator, "POST", f"/cases/{case_id}/confirmation-request", json={})
    assert api(judge, "GET", f"/cases/{case_id}")["status"] == "confirming"
    api(judge, "POST", f"/cases/{case_id}/confirmation/accept", json={})
    decision = api(judge, "POST", f"/cases/{case_id}/decision", json={"decision": "confirm"})
    assert decision["ruling_number"].endswith("晋1102民特1号")
    ruling = session.get(Document, decision["ruling_document_id"])
    with pdfplumber.open(io.BytesIO(documents.read_document(ruling))) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert decision["ruling_number"] in text
    assert "调解协议有效" in text
    assert api(judge, "GET", f"/cases/{case_id}")["status"] == "confirmed"

    # Payments by each payer's adjuster (a party's by the mediator) → paid; then closed.
    for payer, amount in totals.items():
        payer_user = mediator if payer.startswith("party:") else adjusters[insurer_of[payer]]
        api(
            payer_user,
            "POST",
            f"/cases/{case_id}/payments",
            json={"payer": payer, "amount": amount, "reference": f"REF-{payer}"},
        )
    assert api(mediator, "GET", f"/cases/{case_id}")["status"] == "paid"
    api(mediator, "POST", f"/cases/{case_id}/close", json={})
    closed = api(mediator, "GET", f"/cases/{case_id}")
    assert closed["status"] == "closed"

    # Closed: read-only for everyone, still found by search, the audit chain intact.
    refused = api.client.put(
        f"/api/v1/cases/{case_id}/claims",
        json={**claims, "version": closed["version"]},
        headers=api.tokens[mediator.id],
    )
    assert refused.status_code == 409
    found = api(mediator, "GET", f"/cases?q={closed['number']}")
    assert [item["id"] for item in found["items"]] == [case_id]
    assert audit.verify_chain().ok
