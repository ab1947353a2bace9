"""The settlement agreement: drafted as a PDF from accepted offers, signed in person → agreed."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from reportlab.pdfgen import canvas
from sqlalchemy import func, select

from app.clock import BEIJING
from app.db import session, utcnow
from app.documents import canonical_json_sha256
from app.models import (
    Agreement,
    AgreementStatus,
    AuditEvent,
    Case,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    Document,
    Notification,
    Offer,
    OfferSide,
    OfferStatus,
    Organization,
    Report,
    User,
)
from app.money import amount_figures, amount_in_words
from app.services import agreements, assessments, documents
from tests import factories
from tests.support.browser import BrowserPage, serve
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
        # not paid by 交强险: 80 % of it falls to the car's commercial insurer
        "appraisal_fee": {"amount": "700"},
    },
}
PASSENGER = {
    "id": "v2",
    "name": "李四",
    "age": 40,
    "occupant_of": "甲方",
    "outcome": "injury",
    "items": {"medical": {"amount": "2000"}},
}
REPORT_FIELDS = {
    "document_no": "吕公交认字〔2023〕第00123号",
    "issuer": "吕梁市公安局交通警察支队离石大队",
    "accident_time": "2023-11-05T09:30:00+08:00",
    "location": "吕梁市离石区滨河北西路与龙凤大街交叉口",
    "facts": "甲方驾驶小型轿车左转时与直行的乙方电动自行车相撞，乙方受伤。",
    "cause": "甲方未让直行车辆先行，负主要责任；乙方未戴头盔，负次要责任。",
}
INSURER_NAME = "中国人民财产保险股份有限公司吕梁市分公司"
COMMITTEE_NAME = "吕梁市道路交通事故纠纷人民调解委员会"


# -- the world ------------------------------------------------------------------------------


class Centre(SharedCentre):
    """The shared centre, its committee and insurer named, with a case whose letter is read."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app, committee_name=COMMITTEE_NAME, insurer_name=INSURER_NAME)
        self.tokens: dict[int, dict[str, str]] = {}
        self.case = factories.make_accident_case(
            police=self.police_org, committee=self.committee, insurer=self.insurer
        )
        letter = documents.store_document(
            actor=None,
            case=self.case,
            kind="report",
            data=b"%PDF-1.4 letter",
            media_type="application/pdf",
        )
        session.add(Report(case_id=self.case.id, document_id=letter.id, fields=REPORT_FIELDS))
        session.commit()

    def token(self, user: User) -> dict[str, str]:
        """Bearer headers for `user`, made once per test."""
        if user.id not in self.tokens:
            self.tokens[user.id] = factories.api_token(self.app.test_client(), user)
        return self.tokens[user.id]


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def reload(case_id: int) -> Case:
    session.expire_all()
    return session.get(Case, case_id)


def count(model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def with_version(centre: Centre, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with the case's current version, unless it names one."""
    return {"version": reload(centre.case.id).version, **body}


def negotiate(centre: Centre, victims: list[dict[str, Any]] | None = None) -> Case:
    """File the claims; the assessment runs in-process and the case negotiates."""
    response = centre.app.test_client().put(
        f"/api/v1/cases/{centre.case.id}/claims",
        json=with_version(centre, {"victims": victims or [VICTIM]}),
        headers=centre.token(centre.mediator),
    )
    assert response.status_code == 202, response.get_json()
    case = reload(centre.case.id)
    assert case.status == CaseStatus.NEGOTIATING
    return case


def accept(centre: Centre, payer: str, amount: str, org: Organization | None = None) -> Offer:
    """An accepted offer for `payer`, as the offers service leaves it."""
    case = reload(centre.case.id)
    offer = Offer(
        case_id=case.id,
        assessment_id=assessments.latest_assessment(case).id,
        payer=payer,
        side=OfferSide.INSURER if payer.partition(":")[0] != "party" else OfferSide.PARTY,
        org_id=(org or centre.insurer).id,
        amount=Decimal(amount),
        digest="ab" * 32,
        status=OfferStatus.ACCEPTED,
        created_by_id=centre.adjuster.id,
        answered_by_id=centre.mediator.id,
        answered_at=utcnow(),
    )
    session.add(offer)
    session.commit()
    return offer


def accept_all(centre: Centre) -> dict[str, str]:
    """Accepted offers for every payer of the latest assessment (a little under it)."""
    totals = assessments.latest_assessment(reload(centre.case.id)).result["totals"]
    agreed = {}
    for payer, amount in totals.items():
        if payer != "self":
            agreed[payer] = f"{Decimal(amount) - Decimal('0.49'):.2f}"
            accept(centre, payer, agreed[payer])
    return agreed


def draft(centre: Centre, body: dict[str, Any] | None = None, user: User | None = None) -> Any:
    return centre.app.test_client().post(
        f"/api/v1/cases/{centre.case.id}/agreement",
        json=with_version(centre, body if body is not None else {"payment_method": "银行转账"}),
        headers=centre.token(user or centre.mediator),
    )


def scan_pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "signed agreement scan")
    page.save()
    return out.getvalue()


def sign(
    centre: Centre,
    signers: list[str],
    scan: bytes | None = None,
    user: User | None = None,
    **fields: Any,
) -> Any:
    body = {
        "signer": signers,
        "scan": (io.BytesIO(scan if scan is not None else scan_pdf()), "签署件.pdf"),
        "version": str(reload(centre.case.id).version),
        **fields,
    }
    return centre.app.test_client().post(
        f"/api/v1/cases/{centre.case.id}/agreement/sign",
        headers=centre.token(user or centre.mediator),
        **factories.multipart(body),
    )


def pdf_pages(client: FlaskClient, document_id: int, headers: dict[str, str]) -> list[str]:
    response = client.get(f"/api/v1/documents/{document_id}/content", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def everyone(agreement_body: dict[str, Any]) -> list[str]:
    return [s["id"] for s in agreement_body["data"]["signatories"]]


# -- drafting -------------------------------------------------------------------------------


def test_the_drafted_pdf_shows_parties_payers_amounts_and_its_data_digest(
    centre: Centre,
) -> None:
    case = negotiate(centre)
    agreed = accept_all(centre)
    due = (utcnow().astimezone(BEIJING).date() + timedelta(days=7)).isoformat()

    response = draft(centre, {"payment_method": "银行转账至受害人账户", "payment_due": due})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "draft"
    assert body["case"]["status"] == "negotiating"
    data = body["data"]
    assert {p["payer"]: p["amount"] for p in data["payers"]} == agreed
    assert all(p["org_id"] == centre.insurer.id for p in data["payers"])
    assert data["total"] == f"{sum(Decimal(a) for a in agreed.values()):.2f}"
    assert data["payment_due"] == due
    assert data["report"]["facts"] == REPORT_FIELDS["facts"]
    assert data["shares"]["v1"] == {"self": "0.2", "甲方": "0.8"}
    assert body["sha256"] == canonical_json_sha256(data)
    assert body["document"]["kind"] == "agreement"

    client = centre.app.test_client()
    pages = pdf_pages(client, body["document_id"], centre.token(centre.adjuster))
    text = "\n".join(pages)
    flat = text.replace("\n", "")  # long strings may wrap
    for page in pages:
        assert f"SHA-256: {body['sha256']}" in page
        assert case.number in page
    assert f"第 1/{len(pages)} 页" in pages[0]
    assert "道路交通事故损害赔偿调解协议书" in text
    for party in case.parties:
        assert party.name in text
    assert INSURER_NAME in flat
    assert centre.committee.name in flat
    assert centre.mediator.display_name in text
    assert REPORT_FIELDS["document_no"] in flat
    assert "主要责任" in text
    assert "次要责任" in text
    assert "80%" in text
    assert REPORT_FIELDS["cause"] in flat
    for amount in agreed.values():
        assert amount_figures(amount) in text
        assert f"人民币{amount_in_words(amount)}" in flat
    assert amount_in_words(data["total"]) in flat
    assert "人损解释第十二条" in text  # the basis of 残疾赔偿金
    assert "82,654.00" in text
    assert "银行转账至受害人账户" in flat
    due_day = date.fromisoformat(due)
    assert f"{due_day.year}年{due_day.month}月{due_day.day}日前" in text
    assert "人民调解委员会印章" in text

    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "agreement.drafted")
    ).one()
    assert event.details["sha256"] == body["sha256"]
    assert event.actor_id == centre.mediator.id


def test_the_payment_deadline_defaults_to_the_insurer_payment_timer(centre: Centre) -> None:
    negotiate(centre)
    accept_all(centre)

    body = draft(centre).get_json()

    today = utcnow().astimezone(BEIJING).date()
    assert body["data"]["payment_due"] == (today + timedelta(days=10)).isoformat()
    assert body["data"]["date"] == today.isoformat()


def test_a_payer_without_an_accepted_offer_is_named_in_a_conflict(centre: Centre) -> None:
    negotiate(centre)
    accept(centre, "ctpi:甲方", "10000.00")
    rejected = accept(centre, "commercial:甲方", "5000.00")
    rejected.status = OfferStatus.REJECTED
    session.commit()

    response = draft(centre)

    assert response.status_code == 409
    message = response.get_json()["error"]["message"]
    assert "commercial:甲方" in message
    assert "ctpi:甲方" not in message
    assert count(Agreement) == 0
    assert count(Document, Document.kind == "agreement") == 0


def test_the_latest_accepted_offer_counts_and_a_new_draft_supersedes_the_old(
    centre: Centre,
) -> None:
    negotiate(centre)
    accept_all(centre)
    first = draft(centre).get_json()
    accept(centre, "ctpi:甲方", "9999.99")

    second = draft(centre, {"payment_method": "现金"}).get_json()

    assert {p["payer"]: p["amount"] for p in second["data"]["payers"]}["ctpi:甲方"] == "9999.99"
    assert second["sha256"] != first["sha256"]
    session.expire_all()
    assert session.get(Agreement, first["id"]).status == AgreementStatus.SUPERSEDED
    current = agreements.current_agreement(reload(centre.case.id))
    assert current.id == second["id"]
    got = centre.app.test_client().get(
        f"/api/v1/cases/{centre.case.id}/agreement", headers=centre.token(centre.adjuster)
    )
    assert got.get_json()["id"] == second["id"]


def test_drafting_needs_a_negotiating_case_a_method_and_a_fresh_version(centre: Centre) -> None:
    assert draft(centre).status_code == 409  # reported: no assessment, no offers yet
    case = negotiate(centre)
    accept_all(centre)
    assert draft(centre, {"payment_method": "  "}).status_code == 422
    assert draft(centre, {}).status_code == 422
    assert draft(centre, {"payment_method": "x", "payment_due": "31.01.2024"}).status_code == 422
    assert draft(centre, {"payment_method": "x", "payment_due": "2020-01-01"}).status_code == 422
    stale = {"payment_method": "银行转账", "version": case.version - 1}
    assert draft(centre, stale).status_code == 409
    assert count(Agreement) == 0


def test_only_the_case_mediator_drafts(centre: Centre) -> None:
    negotiate(centre)
    accept_all(centre)

    assert draft(centre, user=centre.adjuster).status_code == 403
    assert draft(centre, user=centre.admin).status_code == 403
    assert draft(centre, user=centre.other_mediator).status_code == 404
    assert draft(centre, user=centre.judge).status_code == 404  # no request sent to a tribunal
    assert count(Agreement) == 0


def test_the_agreement_is_read_by_whoever_sees_the_case(centre: Centre) -> None:
    client = centre.app.test_client()
    url = f"/api/v1/cases/{centre.case.id}/agreement"
    assert client.get(url, headers=centre.token(centre.adjuster)).status_code == 404
    negotiate(centre)
    accept_all(centre)
    draft(centre)

    for user in (centre.adjuster, centre.mediator, centre.admin):
        assert client.get(url, headers=centre.token(user)).status_code == 200
    for user in (centre.other_mediator, centre.judge):
        assert client.get(url, headers=centre.token(user)).status_code == 404


# -- signing --------------------------------------------------------------------------------


def test_signing_without_everyone_is_refused_and_changes_nothing(centre: Centre) -> None:
    negotiate(centre)
    accept_all(centre)
    body = draft(centre).get_json()
    assert everyone(body) == ["甲方", "乙方", "ctpi:甲方", "commercial:甲方"]
    documents_before, deadlines_before = count(Document), count(Deadline)

    response = sign(centre, ["甲方", "ctpi:甲方"])

    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "乙方" in message
    assert "commercial:甲方" in message
    assert "ctpi:甲方" not in message
    case = reload(centre.case.id)
    assert case.status == CaseStatus.NEGOTIATING
    assert session.get(Agreement, body["id"]).status == AgreementStatus.DRAFT
    assert count(Document) == documents_before
    assert count(Deadline) == deadlines_before
    assert sign(centre, [*everyone(body), "丙方"]).status_code == 422


def test_signing_records_the_scan_and_the_case_is_agreed_with_its_timers(
    centre: Centre,
) -> None:
    negotiate(centre)
    agreed = accept_all(centre)
    body = draft(centre).get_json()
    scan = scan_pdf()

    response = sign(centre, everyone(body), scan, version=str(reload(centre.case.id).version))

    assert response.status_code == 200, response.get_json()
    signed = response.get_json()
    assert signed["status"] == "signed"
    assert signed["case"]["status"] == "agreed"
    assert signed["signers"] == everyone(body)
    assert signed["signed_scan"]["kind"] == "signed_agreement"
    assert signed["signed_scan"]["filename"] == "签署件.pdf"
    case = reload(centre.case.id)
    assert case.status == CaseStatus.AGREED
    stored = session.get(Document, signed["signed_scan_id"])
    assert documents.read_document(stored) == scan
    agreement = session.get(Agreement, signed["id"])
    assert agreement.signed_by_id == centre.mediator.id

    timers = {(d.kind, d.subject): d for d in session.scalars(select(Deadline))}
    confirmation = timers["confirmation_application", f"agreement:{agreement.id}"]
    assert confirmation.owner_org_id == centre.committee.id
    assert confirmation.due_at == agreement.signed_at + timedelta(days=30)
    due = date.fromisoformat(body["data"]["payment_due"])
    for payer in agreed:
        payment = timers["insurer_payment", f"payer:{payer}"]
        assert payment.owner_org_id == centre.insurer.id
        assert payment.due_at == datetime.combine(due, time(23, 59, 59), tzinfo=BEIJING)
    # the mediation window (started with the claims) is met by the signed agreement
    window = timers.pop(("mediation_window", None))
    assert window.status == DeadlineStatus.MET
    assert len(timers) == 1 + len(agreed)

    (note,) = session.scalars(
        select(Notification).where(
            Notification.user_id == centre.adjuster.id, Notification.kind == "agreement.signed"
        )
    )
    assert note.params["amount"] == f"{sum(Decimal(a) for a in agreed.values()):.2f}"
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)
    ).all()
    assert actions[-2:] == ["document.added", "agreement.signed"]

    assert sign(centre, everyone(body)).status_code == 409  # already agreed
    assert draft(centre).status_code == 409


def test_a_passenger_signs_and_a_party_that_pays_signs_as_the_party(centre: Centre) -> None:
    negotiate(centre, [VICTIM, PASSENGER])
    accept_all(centre)
    body = draft(centre).get_json()
    payers = {p["payer"]: p for p in body["data"]["payers"]}
    assert payers["party:甲方"]["org_id"] is None
    assert "victim:v2" in everyone(body)
    pages = pdf_pages(centre.app.test_client(), body["document_id"], centre.token(centre.mediator))
    assert "李四" in "\n".join(pages)

    signers = [s.replace("甲方", "party:甲方") if s == "甲方" else s for s in everyone(body)]
    response = sign(centre, signers)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["signers"] == everyone(body)
    subjects = set(
        session.scalars(select(Deadline.subject).where(Deadline.kind == "insurer_payment"))
    )
    assert subjects == {f"payer:{p}" for p, row in payers.items() if row["org_id"] is not None}


@pytest.mark.parametrize(
    ("scan", "status"),
    [(b"", 422), (b"just text", 422), (b"RIFF\0\0\0\0WEBPVP8 ", 422)],
)
def test_the_scan_must_be_a_pdf_or_an_image(centre: Centre, scan: bytes, status: int) -> None:
    negotiate(centre)
    accept_all(centre)
    body = draft(centre).get_json()

    assert sign(centre, everyone(body), scan).status_code == status
    assert reload(centre.case.id).status == CaseStatus.NEGOTIATING


def test_a_png_scan_is_accepted(centre: Centre) -> None:
    negotiate(centre)
    accept_all(centre)
    body = draft(centre).get_json()

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    response = sign(centre, everyone(body), png)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["signed_scan"]["media_type"] == "image/png"


def test_signing_needs_a_draft_the_mediator_and_a_scan(centre: Centre) -> None:
    negotiate(centre)
    accept_all(centre)
    assert sign(centre, ["甲方"]).status_code == 409  # nothing drafted yet
    body = draft(centre).get_json()
    assert sign(centre, everyone(body), user=centre.adjuster).status_code == 403
    assert sign(centre, everyone(body), user=centre.other_mediator).status_code == 404
    stale = sign(centre, everyone(body), version=str(reload(centre.case.id).version - 1))
    assert stale.status_code == 409
    no_scan = centre.app.test_client().post(
        f"/api/v1/cases/{centre.case.id}/agreement/sign",
        headers=centre.token(centre.mediator),
        **factories.multipart({"signer": everyone(body)}),
    )
    assert no_scan.status_code == 422
    assert reload(centre.case.id).status == CaseStatus.NEGOTIATING


def test_the_api_documents_the_agreement_routes(centre: Centre) -> None:
    paths = centre.app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/cases/{case_id}/agreement"]) == {"get", "post"}
    sign_body = paths["/cases/{case_id}/agreement/sign"]["post"]["requestBody"]
    fields = sign_body["content"]["multipart/form-data"]["schema"]["properties"]
    assert fields["scan"]["format"] == "binary"
    assert fields["signer"]["type"] == "array"


# -- portal ---------------------------------------------------------------------------------


def portal(centre: Centre, user: User) -> FlaskClient:
    client = centre.app.test_client()
    factories.login(client, user)
    return client


def test_the_mediator_drafts_and_records_the_signatures_in_the_portal(centre: Centre) -> None:
    negotiate(centre)
    agreed = accept_all(centre)
    client = portal(centre, centre.mediator)
    url = f"/cases/{centre.case.id}/agreement"

    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="no-agreement"' in page
    assert 'data-testid="readiness"' in page
    assert 'data-testid="draft-form"' in page
    assert 'data-testid="sign-form"' not in page

    version = reload(centre.case.id).version
    response = client.post(
        url, data={"payment_method": "银行转账", "payment_due": "", "version": str(version)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    agreement = agreements.current_agreement(reload(centre.case.id))
    page = client.get(url).get_data(as_text=True)
    assert f"/documents/{agreement.document_id}/content" in page
    assert agreement.sha256 in page
    assert 'data-testid="sign-form"' in page
    for amount in agreed.values():
        assert amount in page

    signers = [s["id"] for s in agreement.data["signatories"]]
    refused = client.post(
        f"{url}/sign",
        **factories.multipart(
            {
                "signers": signers[:1],
                "scan": (io.BytesIO(scan_pdf()), "scan.pdf"),
                "version": str(reload(centre.case.id).version),
            }
        ),
    )
    assert refused.status_code == 422
    assert "乙方" in refused.get_data(as_text=True)
    assert reload(centre.case.id).status == CaseStatus.NEGOTIATING

    response = client.post(
        f"{url}/sign",
        **factories.multipart(
            {
                "signers": signers,
                "scan": (io.BytesIO(scan_pdf()), "scan.pdf"),
                "version": str(reload(centre.case.id).version),
            }
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert reload(centre.case.id).status == CaseStatus.AGREED
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="signed"' in page
    assert 'data-testid="signed-scan"' in page
    assert 'data-testid="draft-form"' not in page


def test_the_portal_names_missing_offers_when_drafting(centre: Centre) -> None:
    negotiate(centre)
    accept(centre, "ctpi:甲方", "10000.00")
    client = portal(centre, centre.mediator)

    response = client.post(
        f"/cases/{centre.case.id}/agreement",
        data={"payment_method": "银行转账", "version": str(reload(centre.case.id).version)},
    )

    assert response.status_code == 409
    assert "commercial:甲方" in response.get_data(as_text=True)
    assert count(Agreement) == 0


def test_others_read_the_agreement_but_cannot_act(centre: Centre) -> None:
    negotiate(centre)
    accept_all(centre)
    body = draft(centre).get_json()
    client = portal(centre, centre.adjuster)
    url = f"/cases/{centre.case.id}/agreement"

    page = client.get(url).get_data(as_text=True)

    assert body["sha256"] in page
    assert 'data-testid="agreement-pdf"' in page
    assert 'data-testid="draft-form"' not in page
    assert 'data-testid="sign-form"' not in page
    assert client.post(url, data={"payment_method": "现金"}).status_code == 403
    assert client.post(f"{url}/sign", data={}).status_code == 403
    assert portal(centre, centre.other_mediator).get(url).status_code == 404
    assert portal(centre, centre.admin).get(url).status_code == 200


@pytest.mark.browser
def test_a_mediator_drafts_and_records_the_signatures_in_a_browser(
    committed_app: Callable[..., Flask], browser_page: BrowserPage, tmp_path: Path
) -> None:
    app = committed_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        centre = Centre(app)
        negotiate(centre)
        accept_all(centre)
        case_id, username = centre.case.id, centre.mediator.username
    page = browser_page.page
    page.on("dialog", lambda dialog: dialog.accept())  # the sign button asks to confirm
    with serve(app) as url:
        page.goto(url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", factories.PASSWORD)
        page.locator("main button[type=submit]").click()
        expect(page).not_to_have_url(re.compile(r"/login"))

        page.goto(f"{url}/cases/{case_id}/agreement")
        expect(page.get_by_test_id("no-agreement")).to_be_visible()
        draft_form = page.get_by_test_id("draft-form")
        draft_form.locator("input[name=payment_method]").fill("银行转账至受害人账户")
        draft_form.locator("button[type=submit]").click()
        expect(page.get_by_test_id("agreement-status")).to_be_visible()
        expect(page.get_by_test_id("payment-method")).to_have_text("银行转账至受害人账户")

        page.screenshot(path=str(tmp_path / "draft.png"), full_page=True)
        sign_form = page.get_by_test_id("sign-form")
        for box in sign_form.locator("input[name=signers]").all():
            box.check()
        # Ticked by default where a tribunal serves the case: these parties apply later.
        sign_form.locator("input[name=apply_for_confirmation]").uncheck()
        sign_form.locator("input[name=scan]").set_input_files(
            files=[{"name": "签署件.pdf", "mimeType": "application/pdf", "buffer": scan_pdf()}]
        )
        sign_form.locator("button[type=submit]").click()
        expect(page.get_by_test_id("signed")).to_be_visible()
        expect(page.get_by_test_id("signed-scan")).to_be_visible()
        expect(page.get_by_test_id("sign-form")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "agreement.png"), full_page=True)
    with app.app_context():
        assert session.get(Case, case_id).status == CaseStatus.AGREED
    browser_page.check_clean()
