"""Issue 11, the display side: per payer which items it pays, 车上人员责任险 as a payer, insurers'
recoveries, the 社会救助基金's advances, the victim's reduction and the assessment's warnings — on
the result page, in the agreement PDF and in the API, through the real engine."""

from __future__ import annotations

import copy
import html
import io
import re
from decimal import Decimal
from typing import Any

import pdfplumber
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.db import session, utcnow
from app.documents import render_agreement, render_filing_summary
from app.errors import ValidationFailed
from app.models import (
    Case,
    CaseStatus,
    Offer,
    OfferSide,
    OfferStatus,
    OrgKind,
    Report,
    User,
)
from app.money import amount_figures, amount_in_words
from app.services import (
    agreements,
    assessments,
    documents,
    insurers,
    litigation,
    offers,
    payers,
    payments,
)
from tests import factories

INSURER_NAME = "中国人民财产保险股份有限公司吕梁市分公司"
REPORT_FIELDS = {
    "document_no": "吕公交认字〔2023〕第00123号",
    "issuer": "吕梁市公安局交通警察支队离石大队",
    "accident_time": "2023-11-05T09:30:00+08:00",
    "location": "吕梁市离石区滨河北西路与龙凤大街交叉口",
    "facts": "甲方驾驶小型轿车左转时与直行的乙方电动自行车相撞，乙方及甲方车内乘客受伤。",
    "cause": "甲方未让直行车辆先行，负主要责任；乙方未戴头盔，负次要责任。",
}
RIDER = {
    "id": "v1",
    "party": "乙方",
    "outcome": "injury",
    "items": {
        "medical": {"bills": [{"amount": "3000.49"}, {"amount": "2026.00"}]},
        "hospital_food": {"days": 11},
        "transport": {"amount": "300"},
        "property": [{"description": "电动自行车维修", "amount": "800"}],
    },
}
PASSENGER = {
    "id": "v2",
    "name": "李四",
    "age": 40,
    "occupant_of": "甲方",
    "outcome": "injury",
    "items": {"medical": {"amount": "30000"}, "transport": {"amount": "500"}},
    "reduction": {"kind": "gratuitous_ride", "ratio": "0.2", "reason": "免费搭乘甲方车辆"},
}
SEAT = {"id": "甲方", "seat_cover": {"limit_per_seat": "10000"}}
DRUNK = {"id": "甲方", "misconduct": "drunk"}
UNINSURED = {"id": "甲方", "ctpi_uninsured": True}
RESCUED = {**RIDER, "rescue_costs": "3000"}


class Centre:
    def __init__(self, app: Flask, *, ctpi: bool = True) -> None:
        self.app = app
        self.tokens: dict[int, dict[str, str]] = {}
        self.police_org = factories.make_org(OrgKind.POLICE)
        self.committee = factories.make_org(OrgKind.MEDIATION)
        self.insurer = factories.make_org(OrgKind.INSURER, INSURER_NAME)
        self.other_insurer = factories.make_org(OrgKind.INSURER)
        self.mediator = factories.make_user(self.committee)
        self.adjuster = factories.make_user(self.insurer)
        self.other_adjuster = factories.make_user(self.other_insurer)
        self.case = factories.make_accident_case(
            police=self.police_org, committee=self.committee, insurer=self.insurer
        )
        if not ctpi:
            # The car has only its commercial cover; the claims say it has no 交强险.
            (vehicle,) = self.case.vehicles
            vehicle.policies[:] = [p for p in vehicle.policies if p.kind.value != "ctpi"]
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
        if user.id not in self.tokens:
            self.tokens[user.id] = factories.api_token(self.app.test_client(), user)
        return self.tokens[user.id]

    def reload(self) -> Case:
        session.expire_all()
        return session.get(Case, self.case.id)

    def file(
        self, victims: list[dict[str, Any]], parties: list[dict[str, Any]], **claims: Any
    ) -> dict[str, Any]:
        """File the claims through the API; the real engine assesses them in-process."""
        response = self.app.test_client().put(
            f"/api/v1/cases/{self.case.id}/claims",
            json={
                "victims": copy.deepcopy(victims),
                "parties": copy.deepcopy(parties),
                "version": self.reload().version,
                **claims,
            },
            headers=self.token(self.mediator),
        )
        assert response.status_code == 202, response.get_json()
        case = self.reload()
        assert case.status == CaseStatus.NEGOTIATING, response.get_json()
        return assessments.latest_assessment(case).result

    def page(self, user: User, path: str) -> str:
        client = self.app.test_client()
        factories.login(client, user)
        response = client.get(path)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def accept_all(self) -> dict[str, str]:
        """An accepted offer for every payer that owes money, at its assessed amount."""
        case = self.reload()
        assessment = assessments.latest_assessment(case)
        agreed = {}
        for payer, amount in assessment.result["totals"].items():
            if not payers.is_owing(payer) or Decimal(amount) <= 0:
                continue
            org_id = payers.payer_org_id(case, payer)
            session.add(
                Offer(
                    case_id=case.id,
                    assessment_id=assessment.id,
                    payer=payer,
                    side=OfferSide.INSURER if org_id else OfferSide.PARTY,
                    org_id=org_id or self.committee.id,
                    amount=Decimal(amount),
                    digest="ab" * 32,
                    status=OfferStatus.ACCEPTED,
                    created_by_id=self.adjuster.id if org_id else self.mediator.id,
                    answered_by_id=self.mediator.id,
                    answered_at=utcnow(),
                )
            )
            agreed[payer] = amount
        session.commit()
        return agreed

    def draft(self) -> tuple[dict[str, Any], str]:
        """Draft the agreement through the API: its data and the PDF's text (one line)."""
        client = self.app.test_client()
        response = client.post(
            f"/api/v1/cases/{self.case.id}/agreement",
            json={"payment_method": "银行转账", "version": self.reload().version},
            headers=self.token(self.mediator),
        )
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        return body["data"], pdf_text(client, body["document_id"], self.token(self.mediator))


@pytest.fixture
def centre(app: Flask) -> Centre:
    return Centre(app)


@pytest.fixture
def uninsured(app: Flask) -> Centre:
    return Centre(app, ctpi=False)


def pdf_text(client: FlaskClient, document_id: int, headers: dict[str, str]) -> str:
    response = client.get(f"/api/v1/documents/{document_id}/content", headers=headers)
    assert response.status_code == 200
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        pages = [page.extract_text() or "" for page in pdf.pages]
    return "".join(pages).replace("\n", "")  # long strings wrap


def visible(page: str) -> str:
    """The text a reader sees: no tags, attributes or scripts."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def section(page: str, testid: str) -> str:
    """The visible text of the element with `data-testid` (a table or a box)."""
    match = re.search(rf'<(\w+)[^>]*data-testid="{re.escape(testid)}".*?</\1>', page, re.S)
    assert match, f"no {testid} on the page"
    return " ".join(visible(match.group(0)).split())


def assert_no_payer_codes(text: str) -> None:
    assert not re.search(r"\b(ctpi|commercial|seat|party|fund):", text), text


def money(amount: str) -> str:
    return f"{Decimal(amount):.2f}"


def payer_items(result: dict[str, Any], payer: str, victim: str) -> dict[str, str]:
    found: dict[str, Decimal] = {}
    for payment in result["payments"]:
        if payment["payer"] == payer and payment["victim"] == victim:
            for item in payment["items"]:
                found[item["code"]] = found.get(item["code"], Decimal(0)) + Decimal(item["amount"])
    return {code: f"{amount:.2f}" for code, amount in found.items()}


# -- the engine's output, as the display relies on it ------------------------------------------


def test_each_payment_says_which_items_it_pays(centre: Centre) -> None:
    result = centre.file([RIDER, PASSENGER], [SEAT])

    for payment in result["payments"]:
        assert payment["items"], payment
        assert sum(Decimal(i["amount"]) for i in payment["items"]) == Decimal(payment["amount"])
    assert "seat:甲方" in result["totals"]
    assert Decimal(result["totals"]["seat:甲方"]) <= Decimal("10000")
    (passenger,) = [v for v in result["victims"] if v["id"] == "v2"]
    assert passenger["reduction"]["kind"] == "gratuitous_ride"


# -- the result page ---------------------------------------------------------------------------


def test_the_result_page_shows_the_items_each_payer_pays_in_words(centre: Centre) -> None:
    result = centre.file([RIDER, PASSENGER], [SEAT])

    page = centre.page(centre.mediator, f"/cases/{centre.case.id}/assessment")

    rider = section(page, "payments-v1")
    assert "医疗费" in rider
    assert "住院伙食补助费" in rider
    ctpi_medical = payer_items(result, "ctpi:甲方", "v1")["medical"]
    assert ctpi_medical in rider
    passenger = section(page, "payments-v2")
    assert "甲方车辆车上人员责任险" in passenger
    assert INSURER_NAME in passenger
    assert payer_items(result, "seat:甲方", "v2")["medical"] in passenger
    assert_no_payer_codes(visible(page))


def test_the_result_page_shows_the_victims_reduction(centre: Centre) -> None:
    centre.file([RIDER, PASSENGER], [SEAT])

    page = centre.page(centre.mediator, f"/cases/{centre.case.id}/assessment")

    reduction = section(page, "reduction-v2")
    assert "好意同乘" in reduction
    assert "20%" in reduction
    assert "免费搭乘甲方车辆" in reduction
    assert 'data-testid="reduction-v1"' not in page


def test_the_result_page_lists_recoveries_from_a_drunk_driver(centre: Centre) -> None:
    result = centre.file([RIDER], [DRUNK])
    (recovery,) = result["recoveries"]
    assert (recovery["payer"], recovery["from"], recovery["reason"]) == (
        "ctpi:甲方",
        "party:甲方",
        "drunk",
    )
    assert "commercial:甲方" not in result["totals"] or result["totals"]["commercial:甲方"] == (
        "0.00"
    )

    page = centre.page(centre.adjuster, f"/cases/{centre.case.id}/assessment")

    table = section(page, "recoveries")
    assert "醉酒驾驶" in table
    assert INSURER_NAME in table
    assert centre.case.parties[0].name in table  # 甲方, the driver it is recovered from
    assert recovery["amount"] in table
    assert recovery["basis"] in table
    assert_no_payer_codes(visible(page))


def test_the_result_page_shows_the_funds_advance(uninsured: Centre) -> None:
    result = uninsured.file([RESCUED], [UNINSURED])
    (advance,) = result["advances"]
    assert (advance["victim"], advance["payer"], advance["recover_from"]) == (
        "v1",
        "fund",
        "party:甲方",
    )
    assert all(not p.startswith("fund") for p in result["totals"])

    page = uninsured.page(uninsured.mediator, f"/cases/{uninsured.case.id}/assessment")

    table = section(page, "advances")
    assert "道路交通事故社会救助基金" in table
    assert advance["amount"] in table
    assert "医疗费" in table
    assert uninsured.case.parties[0].name in table
    assert_no_payer_codes(visible(page))


def test_the_result_page_shows_warnings_in_a_box_at_the_top(centre: Centre) -> None:
    # 2022's figures, applied today, are older than the year before: stale (人损解释 art. 22)
    result = centre.file([RIDER], [], standards_year=2022)
    assert "stale_standards" in {w["code"] for w in result["warnings"]}

    page = centre.page(centre.mediator, f"/cases/{centre.case.id}/assessment")

    box = section(page, "assessment-warnings")
    for warning in result["warnings"]:
        assert " ".join(warning["message"].split()) in box
    assert page.index('data-testid="assessment-warnings"') < page.index('data-testid="payer-chart"')


def test_english_readers_see_the_warnings_explained(centre: Centre) -> None:
    centre.file([RIDER], [], standards_year=2022)
    client = centre.app.test_client()
    factories.login(client, centre.mediator)
    client.get("/lang/en")

    page = client.get(f"/cases/{centre.case.id}/assessment").get_data(as_text=True)

    box = section(page, "assessment-warnings")
    assert "The standards year applied is not the latest published one" in box


# -- the agreement -----------------------------------------------------------------------------


def test_the_agreement_says_which_items_each_payer_pays_and_warns(centre: Centre) -> None:
    result = centre.file([RIDER, PASSENGER], [SEAT], standards_year=2022)
    assert result["warnings"]
    agreed = centre.accept_all()
    assert "seat:甲方" in agreed

    data, text = centre.draft()

    by_payer = {p["payer"]: p for p in data["payers"]}
    seat = by_payer["seat:甲方"]
    assert seat["org_id"] == centre.insurer.id
    assert seat["insurer"] == INSURER_NAME
    assert {i["code"] for i in seat["items"]} <= {"medical", "transport"}
    assert all(i["victim"] == "v2" for i in seat["items"])
    assert "赔付项目" in text
    assert "车上人员责任险承保公司" in text
    assert "李四：医疗费" in text
    assert amount_figures(agreed["seat:甲方"]) in text
    assert f"人民币{amount_in_words(agreed['seat:甲方'])}" in text
    assert "好意同乘" in text
    assert "免费搭乘甲方车辆" in text
    assert "第一千二百一十七条" in text
    # the stale figures are in the draft the mediator prints
    assert data["warnings"] == [
        {"code": w["code"], "message": w["message"]} for w in result["warnings"]
    ]
    assert "计算提示" in text
    for warning in result["warnings"]:
        assert "".join(warning["message"].split()) in "".join(text.split())
    signers = {s["id"]: s for s in data["signatories"]}
    assert signers["seat:甲方"]["role"] == "车上人员责任险"


def test_the_agreement_has_a_recovery_clause(centre: Centre) -> None:
    result = centre.file([RIDER], [DRUNK])
    centre.accept_all()

    data, text = centre.draft()

    (recovery,) = data["recoveries"]
    assert recovery["amount"] == result["recoveries"][0]["amount"]
    assert recovery["reason_label"] == "醉酒驾驶"
    assert "醉酒驾驶" in text
    assert f"有权在实际赔付的范围内向{recovery['from_label']}追偿" in text
    assert f"人民币{amount_in_words(recovery['amount'])}" in text


def test_the_agreement_shows_the_funds_advance_as_its_own_row_and_clause(
    uninsured: Centre,
) -> None:
    result = uninsured.file([RESCUED], [UNINSURED])
    agreed = uninsured.accept_all()
    assert "fund" not in agreed

    data, text = uninsured.draft()

    assert all(p["payer"] != "fund" for p in data["payers"])
    (advance,) = data["advances"]
    assert advance["amount"] == result["advances"][0]["amount"]
    assert advance["deadline"] == "按《道路交通事故社会救助基金管理办法》办理"
    assert data["total"] == money(str(sum(Decimal(a) for a in agreed.values())))
    assert "道路交通事故社会救助基金垫付" in text
    assert "垫付期限" in text
    assert "按《道路交通事故社会救助基金管理办法》办理" in text
    assert f"人民币{amount_in_words(advance['amount'])}" in text
    assert "救助基金管理机构有权向其追偿" in text
    assert not any(s["id"] == "fund" for s in data["signatories"])


def test_the_mediator_sees_the_warnings_before_drafting_and_in_the_draft(centre: Centre) -> None:
    result = centre.file([RIDER], [], standards_year=2022)
    (stale,) = [w for w in result["warnings"] if w["code"] == "stale_standards"]
    path = f"/cases/{centre.case.id}/agreement"

    before = centre.page(centre.mediator, path)
    assert stale["message"] in section(before, "assessment-warnings")

    centre.accept_all()
    centre.draft()
    after = centre.page(centre.mediator, path)
    assert stale["message"] in section(after, "agreement-warnings")
    assert 'data-testid="assessment-warnings"' not in after  # once is enough


def test_the_agreement_page_lists_items_advances_and_warnings(uninsured: Centre) -> None:
    uninsured.file([RESCUED], [UNINSURED])
    uninsured.accept_all()
    uninsured.draft()

    page = uninsured.page(uninsured.adjuster, f"/cases/{uninsured.case.id}/agreement")

    assert "医疗费" in section(page, "agreement-payers")
    assert "道路交通事故社会救助基金管理办法" in section(page, "agreement-advances")
    assert_no_payer_codes(visible(page))


def test_an_old_agreements_data_without_items_still_renders(app: Flask) -> None:
    data = {
        "case_number": "DJ-OLD",
        "payers": [{"payer": "ctpi:甲方", "label": "人保（甲方 交强险）", "amount": "100.00"}],
        "parties": [{"label": "甲方", "name": "张三"}],
        "total": "100.00",
        "signatories": [{"id": "甲方", "kind": "party", "name": "张三"}],
    }
    pdf = render_agreement(data, app.config["DAOJIAO_CJK_FONT"])
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = "".join(page.extract_text() or "" for page in document.pages)
    assert "赔偿义务人" in text
    assert "赔付项目" not in text
    assert "计算提示" not in text


# -- the API -----------------------------------------------------------------------------------


def test_the_api_passes_the_new_keys_through_unchanged(centre: Centre) -> None:
    stored = centre.file([RIDER, PASSENGER], [SEAT, {"id": "乙方"}])
    client = centre.app.test_client()

    body = client.get(
        f"/api/v1/cases/{centre.case.id}/assessment", headers=centre.token(centre.adjuster)
    ).get_json()

    for key in ("payments", "totals", "victims", "warnings", "recoveries", "advances"):
        assert body[key] == stored[key], key
    assert body["payments"][0]["items"]
    assert body["victims"][1]["reduction"]["ratio"] == "0.2"


def test_the_openapi_document_describes_the_new_keys(centre: Centre) -> None:
    document = centre.app.test_client().get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/cases/{case_id}/assessment"]["get"]
    schema_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]["properties"]
    assert {"recoveries", "advances", "warnings"} <= set(schema)
    assert "items" in schema["payments"]["items"]["properties"]
    assert "reduction" in schema["victims"]["items"]["properties"]
    assert "seat:" in schema["payments"]["items"]["properties"]["payer"]["description"]


# -- 车上人员责任险 as a payer; the fund never owes ----------------------------------------------


def test_the_seat_cover_is_paid_by_the_commercial_insurer(centre: Centre) -> None:
    centre.file([RIDER, PASSENGER], [SEAT])
    case = centre.reload()

    assert payers.payer_org_id(case, "seat:甲方") == centre.insurer.id
    assert "seat:甲方" in payers.insurer_payers(case, centre.insurer.id)
    assert "seat:甲方" not in payers.insurer_payers(case, centre.other_insurer.id)
    assert payers.payer_org_id(case, "fund") is None
    assert not payers.is_owing("fund")
    entry = insurers.desk_entry(actor=centre.adjuster, case=case)
    seat = next(e for e in entry.exposure if e.payer == "seat:甲方")
    commercial = sum((e.amount for e in entry.exposure if e.payer == "commercial:甲方"), Decimal(0))
    assert entry.commercial == commercial + seat.amount


def test_no_seat_payer_without_a_seat_cover(centre: Centre) -> None:
    centre.file([RIDER], [])
    assert payers.insurer_payers(centre.reload(), centre.insurer.id) == [
        "ctpi:甲方",
        "commercial:甲方",
    ]


def test_the_adjuster_offers_for_the_seat_cover_and_the_fund_takes_no_offers(
    centre: Centre,
) -> None:
    result = centre.file([RIDER, PASSENGER], [SEAT])
    client = centre.app.test_client()
    url = f"/api/v1/cases/{centre.case.id}/offers"

    made = client.post(
        url,
        json={
            "payer": "seat:甲方",
            "amount": result["totals"]["seat:甲方"],
            "version": centre.reload().version,
        },
        headers=centre.token(centre.adjuster),
    )
    assert made.status_code == 201, made.get_json()
    assert offers.may_offer(centre.adjuster, centre.reload()).count("seat:甲方") == 1
    assert "seat:甲方" not in offers.may_offer(centre.other_adjuster, centre.reload())
    refused = client.post(
        url,
        json={"payer": "fund", "amount": "100", "version": centre.reload().version},
        headers=centre.token(centre.mediator),
    )
    assert refused.status_code == 422


def test_the_seat_insurer_records_its_payment(centre: Centre) -> None:
    centre.file([RIDER, PASSENGER], [SEAT])
    agreed = centre.accept_all()
    agreement = agreements.draft_agreement(
        actor=centre.mediator, case=centre.reload(), payment_method="银行转账"
    )
    signers = [s["id"] for s in agreements.required_signers(agreement)]
    agreements.sign_agreement(
        actor=centre.mediator,
        case=centre.reload(),
        signers=signers,
        filename="signed.pdf",
        data=b"%PDF-1.4 signed",
    )
    session.commit()

    payment = payments.record_payment(
        actor=centre.adjuster,
        case=centre.reload(),
        payer="seat:甲方",
        amount=agreed["seat:甲方"],
        reference="BANK-SEAT",
    )
    assert payment.payer == "seat:甲方"
    with pytest.raises(ValidationFailed):
        payments.record_payment(
            actor=centre.mediator,
            case=centre.reload(),
            payer="fund",
            amount="1",
            reference="FUND",
        )


def test_the_court_summary_names_payers_in_words(app: Flask, centre: Centre) -> None:
    centre.file([RIDER, PASSENGER], [SEAT])
    summary = litigation.build_summary(centre.reload(), [])
    labels = summary["payer_labels"]
    assert {"ctpi:甲方", "seat:甲方", "self"} <= set(labels)
    assert "车上人员责任险" in labels["seat:甲方"]
    assert labels["self"] == "受害人自负"
    pdf = render_filing_summary(summary, app.config["DAOJIAO_CJK_FONT"])
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = "".join(page.extract_text() or "" for page in document.pages)
    assert labels["seat:甲方"].split("（")[0] in text
    assert "ctpi:" not in text
    assert "seat:" not in text
