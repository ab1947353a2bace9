"""What the mediator's claims give the engine beyond the victims' items (issue 11): a vehicle's
交强险 as the report states it (never guessed), the party options (misconduct, 车上人员责任险,
the commercial policy's terms) and the victim options, through the API and the portal."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import session
from app.models import (
    Assessment,
    Case,
    CaseStatus,
    Claim,
    Job,
    JobStatus,
    OrgKind,
    PolicyKind,
    Vehicle,
)
from app.services import assessments, documents
from app.services.claims import reassess_case
from tests import factories
from tests.test_assessments import CLAIMS, count, put_claims, reload

UNKNOWN_CTPI = "甲方车辆的交强险投保情况不明"


class Centre:
    def __init__(self) -> None:
        self.police = factories.make_org(OrgKind.POLICE)
        self.committee = factories.make_org(OrgKind.MEDIATION)
        self.insurer = factories.make_org(OrgKind.INSURER)
        self.mediator = factories.make_user(self.committee)
        session.commit()

    def case(self, **options: Any) -> Case:
        case = factories.make_accident_case(
            police=self.police, committee=self.committee, insurer=self.insurer, **options
        )
        session.commit()
        return case


@pytest.fixture
def centre(app: Flask) -> Centre:
    return Centre()


def stored_input(case_id: int) -> dict[str, Any]:
    return assessments.latest_assessment(reload(case_id)).input["request"]


def party_of(request: dict[str, Any], label: str) -> dict[str, Any]:
    return next(party for party in request["parties"] if party["id"] == label)


def with_parties(*overrides: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(CLAIMS), "parties": list(overrides)}


def error_of(response: Any) -> str:
    return response.get_json()["error"]["message"]


def portal(app: Flask, user: Any) -> FlaskClient:
    client = app.test_client()
    factories.login(client, user)
    return client


# -- 交强险 as the report states it ---------------------------------------------------------------


def test_unknown_compulsory_insurance_is_refused_naming_the_party(
    app: Flask, centre: Centre
) -> None:
    case = centre.case(ctpi="unknown")

    response = put_claims(app, centre.mediator, case.id, CLAIMS)

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_input"
    message = error_of(response)
    assert message.startswith(UNKNOWN_CTPI)
    assert "未投保交强险" in message  # says what to do
    assert count(Claim) == 0
    assert reload(case.id).status == CaseStatus.REPORTED


def test_a_vehicle_with_a_compulsory_policy_is_insured_by_its_insurer(
    app: Flask, centre: Centre
) -> None:
    case = centre.case()

    assert put_claims(app, centre.mediator, case.id, CLAIMS).status_code == 202

    assert party_of(stored_input(case.id), "甲方")["ctpi"] == {
        "insurer": centre.insurer.name,
        "insured": True,
    }


@pytest.mark.parametrize(
    ("mode", "vehicle_type", "kind"),
    [
        ("驾驶电动自行车", "电动自行车", "non_motor"),  # as intake stores a letter's e-bike
        ("驾驶自行车", None, "non_motor"),
        ("驾驶三轮摩托车", "三轮摩托车", "vehicle"),  # a motor tricycle needs its 交强险 data
    ],
)
def test_a_riders_vehicle_is_a_motor_vehicle_only_when_it_is_one(
    app: Flask, centre: Centre, mode: str, vehicle_type: str | None, kind: str
) -> None:
    case = centre.case()
    rider = next(party for party in case.parties if party.label == "乙方")
    rider.traffic_mode = mode
    case.vehicles.append(Vehicle(plate=None, vehicle_type=vehicle_type, driver_party_id=rider.id))
    session.commit()

    parties = {p["id"]: p for p in assessments.case_parties(reload(case.id))}
    assert parties["乙方"]["kind"] == kind
    response = put_claims(app, centre.mediator, case.id, CLAIMS)
    if kind == "non_motor":
        # A non-motor vehicle has no 交强险: nothing to ask, and the car's 80 % (main
        # liability against a rider, DOMAIN.md §3.4) applies rather than car-vs-car weights.
        assert response.status_code == 202, error_of(response)
        assert "ctpi" not in party_of(stored_input(case.id), "乙方")
    else:
        assert response.status_code == 422
        assert "乙方车辆的交强险投保情况不明" in error_of(response)


def test_an_explicitly_uninsured_vehicles_party_pays_the_compulsory_part(
    app: Flask, centre: Centre
) -> None:
    case = centre.case(ctpi="uninsured", commercial=False)

    response = put_claims(app, centre.mediator, case.id, CLAIMS)

    assert response.status_code == 202, response.get_json()
    request = stored_input(case.id)
    assert party_of(request, "甲方")["ctpi"] == {"insured": False}
    result = assessments.latest_assessment(reload(case.id)).result
    payers = {payment["payer"] for payment in result["payments"]}
    assert "ctpi:甲方" not in payers
    assert "party:甲方" in payers  # what 交强险 would have paid (道交解释第十六条)


def test_the_mediator_states_the_compulsory_insurer_the_report_left_unknown(
    app: Flask, centre: Centre
) -> None:
    case = centre.case(ctpi="unknown")
    claims = with_parties(
        {"id": "甲方", "ctpi_insurer": "中国人民财产保险股份有限公司吕梁市分公司"}
    )

    response = put_claims(app, centre.mediator, case.id, claims)

    assert response.status_code == 202, response.get_json()
    assert party_of(stored_input(case.id), "甲方")["ctpi"] == {
        "insurer": "中国人民财产保险股份有限公司吕梁市分公司",
        "insured": True,
    }


def test_the_claims_cannot_overrule_the_police_record_of_compulsory_insurance(
    app: Flask, centre: Centre
) -> None:
    case = centre.case()
    claims = with_parties({"id": "甲方", "ctpi_uninsured": True})

    response = put_claims(app, centre.mediator, case.id, claims)

    assert response.status_code == 422
    assert "交警已在认定书中记录甲方车辆的交强险投保情况" in error_of(response)
    both = with_parties({"id": "甲方", "ctpi_insurer": "人保", "ctpi_uninsured": True})
    unknown = centre.case(ctpi="unknown")
    assert "只能填写其一" in error_of(put_claims(app, centre.mediator, unknown.id, both))


def test_a_vehicle_that_fled_unidentified_is_a_hit_and_run(app: Flask, centre: Centre) -> None:
    case = centre.case(ctpi="unknown", driver_known=False, commercial=False)
    claims = copy.deepcopy(CLAIMS)
    claims["victims"][0]["rescue_costs"] = "2000"

    response = put_claims(app, centre.mediator, case.id, claims)

    assert response.status_code == 202, response.get_json()
    party = party_of(stored_input(case.id), "甲方")
    assert party["hit_and_run"] is True
    assert "ctpi" not in party
    result = assessments.latest_assessment(reload(case.id)).result
    assert not any(payment["payer"] == "ctpi:甲方" for payment in result["payments"])
    (advance,) = result["advances"]  # 社会救助基金 advances the rescue costs
    assert (advance["payer"], advance["amount"], advance["recover_from"]) == (
        "fund",
        "2000.00",
        "party:甲方",
    )


def test_an_assessed_case_whose_compulsory_insurance_turns_unknown_fails_its_job_with_the_reason(
    app: Flask, centre: Centre
) -> None:
    case = centre.case()
    assert put_claims(app, centre.mediator, case.id, CLAIMS).status_code == 202
    before = count(Assessment)
    # A case confirmed before issue 11 with no policy on record: the re-run refuses it.
    vehicle = reload(case.id).vehicles[0]
    vehicle.policies[:] = [p for p in vehicle.policies if p.kind != PolicyKind.CTPI]
    session.commit()

    job_id = reassess_case(actor=None, case=reload(case.id)).id
    session.commit()  # the job runs in-process after the commit

    session.expire_all()
    job = session.get(Job, job_id)
    assert job.status == JobStatus.FAILED  # a reason the user sees, not a crash
    assert job.error.startswith(UNKNOWN_CTPI)
    assert count(Assessment) == before  # the earlier assessment stays as it was
    page = portal(app, centre.mediator).get(f"/cases/{case.id}/assessment")
    assert page.status_code == 200
    assert UNKNOWN_CTPI in page.get_data(as_text=True)


# -- party options ---------------------------------------------------------------------------


def test_a_drivers_misconduct_reaches_the_engine_and_the_insurer_may_recover(
    app: Flask, centre: Centre
) -> None:
    case = centre.case()
    claims = with_parties({"id": "甲方", "misconduct": "drunk"})

    response = put_claims(app, centre.mediator, case.id, claims)

    assert response.status_code == 202, response.get_json()
    assert party_of(stored_input(case.id), "甲方")["misconduct"] == "drunk"
    result = assessments.latest_assessment(reload(case.id)).result
    (recovery,) = [r for r in result["recoveries"] if r["payer"] == "ctpi:甲方"]
    assert recovery["from"] == "party:甲方"
    assert recovery["reason"] == "drunk"
    # no commercial cover after drunk driving; no 交强险 for the e-bike
    assert not any(p["payer"] == "commercial:甲方" for p in result["payments"])
    assert not any(
        p["payer"] == "ctpi:甲方" and p.get("bucket") == "property" for p in result["payments"]
    )


def test_seat_cover_and_the_commercial_terms_reach_the_engine(app: Flask, centre: Centre) -> None:
    case = centre.case()
    claims = with_parties(
        {
            "id": "甲方",
            "seat_cover": {"limit_per_seat": "10000"},
            "excluded_items": ["mental_distress"],
            "covers_indirect": True,
        }
    )

    response = put_claims(app, centre.mediator, case.id, claims)

    assert response.status_code == 202, response.get_json()
    party = party_of(stored_input(case.id), "甲方")
    assert party["seat_cover"] == {"insurer": centre.insurer.name, "limit_per_seat": "10000.00"}
    assert party["commercial"]["excluded_items"] == ["mental_distress"]
    assert party["commercial"]["covers_indirect"] is True


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"id": "甲方", "misconduct": "speeding"}, "甲方驾驶人的违法情形只能是以下之一"),
        ({"id": "乙方", "misconduct": "drunk"}, "乙方不是机动车一方：驾驶人的违法情形"),
        ({"id": "甲方", "seat_cover": {"insurer": "人保"}}, "每座责任限额"),
        ({"id": "甲方", "seat_cover": {"limit_per_seat": "0"}}, "每座责任限额"),
        ({"id": "甲方", "excluded_items": ["tips"]}, "须从赔偿项目中选择"),
        ({"id": "甲方", "covers_indirect": "yes"}, "只能是“是”或“否”"),
    ],
)
def test_party_options_are_checked_with_messages_a_clerk_reads(
    app: Flask, centre: Centre, override: dict[str, Any], message: str
) -> None:
    case = centre.case()

    response = put_claims(app, centre.mediator, case.id, with_parties(override))

    assert response.status_code == 422
    assert message in error_of(response)
    assert count(Claim) == 0


def test_commercial_terms_need_a_commercial_policy(app: Flask, centre: Centre) -> None:
    case = centre.case(commercial=False)
    claims = with_parties({"id": "甲方", "excluded_items": ["mental_distress"]})

    response = put_claims(app, centre.mediator, case.id, claims)

    assert response.status_code == 422
    assert "甲方车辆没有商业三者险" in error_of(response)


# -- victim options --------------------------------------------------------------------------


def test_the_birth_date_for_the_rating_comes_from_the_id_number(app: Flask, centre: Centre) -> None:
    case = centre.case()
    reload(case.id).parties[1].id_number = "14230119880412002X"
    session.commit()
    claims = copy.deepcopy(CLAIMS)
    claims["victims"][0]["appraised_on"] = "2024-03-01"

    response = put_claims(app, centre.mediator, case.id, claims)

    assert response.status_code == 202, response.get_json()
    victim = stored_input(case.id)["victims"][0]
    assert victim["birth_date"] == "1988-04-12"
    assert victim["appraised_on"] == "2024-03-01"
    assert "birth_date" not in session.scalars(select(Claim)).one().data["victims"][0]


def test_a_rating_date_without_a_known_birth_date_is_refused(app: Flask, centre: Centre) -> None:
    case = centre.case()
    claims = copy.deepcopy(CLAIMS)
    claims["victims"][0]["appraised_on"] = "2024-03-01"

    response = put_claims(app, centre.mediator, case.id, claims)

    assert response.status_code == 422
    assert "请填写出生日期" in error_of(response)


def victim_form(case: Case, **fields: str) -> dict[str, str]:
    return {
        "version": str(case.version),
        "who": "party:乙方",
        "age": "35",
        "residence": "urban",
        "outcome": "disability",
        "disability_grades": "10",
        "medical-0-amount": "5026.49",
        "mental_distress": "5000",
        **fields,
    }


def test_the_victim_form_round_trips_the_special_circumstances(app: Flask, centre: Centre) -> None:
    case = centre.case()
    client = portal(app, centre.mediator)
    new = client.get(f"/cases/{case.id}/claims/victims/new").get_data(as_text=True)
    assert "请求交强险优先赔付精神损害抚慰金（道交解释第十三条）" in new
    assert "特殊情形" in new
    assert re.search(r'<details[^>]*data-testid="special-circumstances"(?![^>]*open)', new)

    response = client.post(
        f"/cases/{case.id}/claims/victims/new",
        data=victim_form(
            case,
            ctpi_mental_distress_first="y",
            appraised_on="2024-03-01",
            birth_date="1988-04-12",
            reduction_kind="victim_fault",
            reduction_percent="20",
            reduction_reason="未佩戴安全头盔",
            rescue_costs="1200",
            standard_income="51821",
            standard_consumption="32994",
            standard_source="受害人经常居住地2023年统计公报",
            **{
                "indirect_property-0-amount": "1500",
                "indirect_property-0-description": "租车代步 10 天",
            },
        ),
    )

    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    victim = session.scalars(select(Claim)).one().data["victims"][0]
    assert victim["ctpi_mental_distress_first"] is True
    assert (victim["appraised_on"], victim["birth_date"]) == ("2024-03-01", "1988-04-12")
    assert victim["reduction"] == {
        "kind": "victim_fault",
        "ratio": "0.2",
        "reason": "未佩戴安全头盔",
    }
    assert victim["rescue_costs"] == "1200.00"
    assert victim["standards"] == {
        "urban_disposable_income": "51821.00",
        "urban_consumption": "32994.00",
        "source": "受害人经常居住地2023年统计公报",
    }
    assert victim["items"]["indirect_property"] == [
        {"amount": "1500.00", "description": "租车代步 10 天"}
    ]
    assert assessments.latest_assessment(reload(case.id)) is not None

    page = client.get(f"/cases/{case.id}/claims/victims/v1").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="ctpi_mental_distress_first"', page)
    assert value_of(page, "appraised_on") == "2024-03-01"
    assert value_of(page, "birth_date") == "1988-04-12"
    assert re.search(r'<option selected value="victim_fault">', page)
    assert value_of(page, "reduction_percent") == "20.00"
    assert value_of(page, "reduction_reason") == "未佩戴安全头盔"
    assert value_of(page, "rescue_costs") == "1200.00"
    assert value_of(page, "standard_income") == "51821.00"
    assert value_of(page, "standard_source") == "受害人经常居住地2023年统计公报"
    assert value_of(page, "indirect_property-0-amount") == "1500.00"
    assert value_of(page, "indirect_property-0-description") == "租车代步 10 天"
    assert re.search(r'<details[^>]*data-testid="special-circumstances"[^>]*open', page)


def value_of(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


def test_the_victim_form_asks_why_the_share_is_reduced(app: Flask, centre: Centre) -> None:
    case = centre.case()
    client = portal(app, centre.mediator)

    response = client.post(
        f"/cases/{case.id}/claims/victims/new",
        data=victim_form(case, reduction_kind="gratuitous_ride", reduction_percent="20"),
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请写明减轻责任的理由" in page
    assert re.search(r'<details[^>]*data-testid="special-circumstances"[^>]*open', page)
    assert count(Claim) == 0


def test_the_victim_form_asks_for_the_compulsory_insurance_the_report_left_unknown(
    app: Flask, centre: Centre
) -> None:
    case = centre.case(ctpi="unknown")
    client = portal(app, centre.mediator)
    page = client.get(f"/cases/{case.id}/claims/victims/new").get_data(as_text=True)
    assert 'data-testid="ctpi-unknown-甲方"' in page
    assert "认定书未载明甲方车辆是否投保交强险" in page

    refused = client.post(f"/cases/{case.id}/claims/victims/new", data=victim_form(case))
    assert refused.status_code == 422
    assert UNKNOWN_CTPI in refused.get_data(as_text=True)
    assert 'data-testid="ctpi-unknown-甲方"' in refused.get_data(as_text=True)

    response = client.post(
        f"/cases/{case.id}/claims/victims/new",
        data=victim_form(case, **{"ctpi-0-party": "甲方", "ctpi-0-uninsured": "y"}),
    )

    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    claim = session.scalars(select(Claim)).one()
    assert claim.data["parties"] == [{"id": "甲方", "ctpi_uninsured": True}]
    assert party_of(stored_input(case.id), "甲方")["ctpi"] == {"insured": False}


def test_the_settings_form_round_trips_the_party_options(app: Flask, centre: Centre) -> None:
    case = centre.case()
    assert put_claims(app, centre.mediator, case.id, CLAIMS).status_code == 202
    client = portal(app, centre.mediator)
    page = client.get(f"/cases/{case.id}/claims").get_data(as_text=True)
    assert "甲方车辆的特殊情形" in page
    assert "醉酒" in page or "Drunk" in page
    assert ">在事故中的身份</th>" in page  # the victims' column, not 操作人 (the audit log's)

    response = client.post(
        f"/cases/{case.id}/claims",
        data={
            "version": str(reload(case.id).version),
            "standards_year": "",
            "share_rounding": "exact",
            "parties-0-party": "甲方",
            "parties-0-misconduct": "unlicensed",
            "parties-0-seat_limit": "20000",
            "parties-0-excluded_items": ["mental_distress", "appraisal_fee"],
            "parties-0-covers_indirect": "y",
            "parties-1-party": "乙方",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    claim = session.scalars(select(Claim).order_by(Claim.id.desc())).first()
    assert claim.data["parties"] == [
        {
            "id": "甲方",
            "misconduct": "unlicensed",
            "seat_cover": {"limit_per_seat": "20000.00"},
            "excluded_items": ["mental_distress", "appraisal_fee"],
            "covers_indirect": True,
        }
    ]
    page = client.get(f"/cases/{case.id}/claims").get_data(as_text=True)
    assert re.search(r'<option selected value="unlicensed">', page)
    assert 'value="20000.00"' in page
    assert re.search(r'<input checked[^>]*value="appraisal_fee"', page)
    assert re.search(r'<details[^>]*data-testid="party-special-甲方"[^>]*open', page)


def test_the_victim_form_names_industries_in_chinese(app: Flask, centre: Centre) -> None:
    case = centre.case()
    client = portal(app, centre.mediator)
    page = client.get(f"/cases/{case.id}/claims/victims/new").get_data(as_text=True)
    assert re.search(r'<option value="manufacturing">制造业</option>', page)
    assert ">manufacturing<" not in page  # the code is the value, never the label


# -- a new victim filled in from the case -------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def selected_who(page: str) -> str | None:
    select_tag = re.search(r'<select[^>]*name="who"[^>]*>(.*?)</select>', page, re.S)
    chosen = re.search(r'<option selected value="([^"]*)"', select_tag.group(1))
    return chosen.group(1) if chosen else None


def add_bill(case: Case, user: Any, amount: str | None, *, kind: str = "medical_bill") -> int:
    (document,) = documents.attach_evidence_files(
        actor=user,
        case=reload(case.id),
        kind=kind,
        files=[(f"票据{amount}.png", PNG)],
        description=f"医疗费 {amount}" if amount else None,
        amount=amount,
    )
    session.commit()
    return document.id


def test_a_new_victim_is_the_injured_party_who_is_not_the_liable_driver(
    app: Flask, centre: Centre
) -> None:
    case = centre.case()
    reload(case.id).parties[1].id_number = "14230119880412002X"
    session.commit()
    client = portal(app, centre.mediator)
    page = client.get(f"/cases/{case.id}/claims/victims/new").get_data(as_text=True)
    assert selected_who(page) == "party:乙方"  # the rider, not 甲方 the driver mainly liable
    assert value_of(page, "name") == reload(case.id).parties[1].name
    assert value_of(page, "age") == "35"
    assert value_of(page, "birth_date") == "1988-04-12"  # from the ID number
    assert 'data-testid="prefilled"' in page


def test_the_age_comes_from_the_id_number_when_the_report_gives_none(
    app: Flask, centre: Centre
) -> None:
    case = centre.case()
    rider = reload(case.id).parties[1]
    rider.age = None
    rider.id_number = "142301198811300028"  # 34 on the accident day, 2023-11-05
    session.commit()
    assert assessments.new_victim(reload(case.id), {"victims": []})["age"] == 34


@pytest.mark.parametrize(
    ("liabilities", "taken", "expected"),
    [
        ({"甲方": "full", "乙方": "none"}, set(), "乙方"),
        ({"甲方": "full", "乙方": "none"}, {"乙方"}, None),  # never the fully liable driver
        ({"甲方": "none", "乙方": "main"}, set(), "乙方"),  # the rider before the car's driver
        ({"甲方": "none", "乙方": "main"}, {"乙方"}, "甲方"),
    ],
)
def test_the_likely_victim_follows_liability_and_role(
    app: Flask,
    centre: Centre,
    liabilities: dict[str, str],
    taken: set[str],
    expected: str | None,
) -> None:
    case = reload(centre.case().id)
    for party in case.parties:
        party.liability = liabilities[party.label]
    session.flush()
    assert assessments.likely_victim(case, taken) == expected


def test_medical_bills_of_the_evidence_fill_the_medical_rows(app: Flask, centre: Centre) -> None:
    case = centre.case()
    first = add_bill(case, centre.mediator, "1200.50")
    second = add_bill(case, centre.mediator, "300")
    add_bill(case, centre.mediator, None)  # a bill without its amount is left out
    add_bill(case, centre.mediator, "80", kind="photo")
    client = portal(app, centre.mediator)

    page = client.get(f"/cases/{case.id}/claims/victims/new").get_data(as_text=True)
    assert value_of(page, "medical-0-amount") == "1200.50"
    assert value_of(page, "medical-0-description") == "医疗费 1200.50"
    assert re.search(rf'name="medical-0-document">.*?<option selected value="{first}"', page, re.S)
    assert value_of(page, "medical-1-amount") == "300.00"
    assert not value_of(page, "medical-2-amount")

    response = client.post(
        f"/cases/{case.id}/claims/victims/new",
        data=victim_form(
            case,
            **{
                "medical-0-amount": "1200.50",
                "medical-0-document": str(first),
                "medical-1-amount": "250",  # the mediator corrected it
                "medical-1-document": str(second),
            },
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    bills = session.scalars(select(Claim)).one().data["victims"][0]["items"]["medical"]["bills"]
    assert [bill["amount"] for bill in bills] == ["1200.50", "250.00"]

    # the filed victim keeps what was filed; a second victim gets no bill twice
    filed = client.get(f"/cases/{case.id}/claims/victims/v1").get_data(as_text=True)
    assert value_of(filed, "medical-1-amount") == "250.00"
    third = add_bill(case, centre.mediator, "99")
    other = client.get(f"/cases/{case.id}/claims/victims/new").get_data(as_text=True)
    assert value_of(other, "medical-0-amount") == "99.00"
    assert re.search(rf'name="medical-0-document">.*?<option selected value="{third}"', other, re.S)
    assert selected_who(other) != "party:乙方"  # 乙方 is a victim already


def test_the_claims_page_leads_into_the_first_victim(app: Flask, centre: Centre) -> None:
    case = centre.case()
    client = portal(app, centre.mediator)
    response = client.get(f"/cases/{case.id}/claims")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case.id}/claims/victims/new")
    assert put_claims(app, centre.mediator, case.id, CLAIMS).status_code == 202
    assert client.get(f"/cases/{case.id}/claims").status_code == 200


def test_save_and_file_lands_on_the_assessment_and_plain_save_on_the_claims(
    app: Flask, centre: Centre
) -> None:
    case = centre.case()
    client = portal(app, centre.mediator)
    page = client.get(f"/cases/{case.id}/claims/victims/new").get_data(as_text=True)
    assert 'data-testid="save-victim"' in page
    assert "保存并提交计算" in page
    assert 'data-testid="save-victim-only"' in page

    filed = client.post(
        f"/cases/{case.id}/claims/victims/new", data=victim_form(case, then="assess")
    )
    assert filed.status_code == 302
    assert filed.headers["Location"].endswith(f"/cases/{case.id}/assessment")
    assert assessments.latest_assessment(reload(case.id)) is not None

    saved = client.post(
        f"/cases/{case.id}/claims/victims/new",
        data=victim_form(reload(case.id), then="claims", who="party:甲方"),
    )
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/cases/{case.id}/claims")
    assert len(assessments.latest_claim(reload(case.id)).data["victims"]) == 2


def test_removing_a_victim_asks_no_confirmation(app: Flask, centre: Centre) -> None:
    case = centre.case()
    claims = copy.deepcopy(CLAIMS)
    claims["victims"].append({**claims["victims"][0], "id": "v2", "party": "甲方", "age": 40})
    assert put_claims(app, centre.mediator, case.id, claims).status_code == 202
    page = portal(app, centre.mediator).get(f"/cases/{case.id}/claims").get_data(as_text=True)
    assert "/remove" in page
    assert "data-confirm" not in page  # removing a victim is undone by adding it again
