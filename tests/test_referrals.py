"""Late insurer payments and the referral letters (监管提示函) to the regulator (issue 16 item 4).

A constructed history of 离石区, days counted back from today (Beijing), the insurer owing the
交强险 share (`ctpi:甲方`) of each agreement:
  ON_TIME  due today−20, paid today−25 (met): not late.
  LATE     due today−30, paid today−20 (met): 10 days late, paid.
  UNPAID   due today−5, still unpaid (overdue): 5 days late today.
  NOT_DUE  due today+5, open: not late.
  AWAY     中阳县 (the other insurer), due today−8, unpaid: 8 days late, seen only there.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pdfplumber
import pytest
from flask import Flask
from sqlalchemy import select

from app.clock import BEIJING
from app.db import session
from app.documents.referral import LEGAL_BASIS
from app.models import (
    Agreement,
    AgreementStatus,
    AuditEvent,
    Case,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    Notification,
    OrgKind,
    Payment,
    Referral,
)
from app.services import documents, referrals
from tests import factories
from tests.support.centre import Centre as SharedCentre

CTPI = "ctpi:甲方"
HOME, AWAY = "离石区", "中阳县"
AMOUNTS = {"ON_TIME": "1000.00", "LATE": "12345.60", "UNPAID": "8000.00", "NOT_DUE": "500.00"}


def due_at(days: int) -> datetime:
    """23:59 Beijing, `days` from today, as UTC."""
    day = referrals.beijing_today() + timedelta(days=days)
    return datetime.combine(day, time(23, 59), tzinfo=BEIJING).astimezone(UTC)


class Centre(SharedCentre):
    """The shared centre with the history above, the overseers of both counties."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.supervisor = factories.make_user(factories.make_org(OrgKind.SUPERVISION, region=HOME))
        self.regulator_org = factories.make_org(OrgKind.REGULATOR, region=HOME)
        self.regulator = factories.make_user(self.regulator_org)
        self.away_regulator = factories.make_user(
            factories.make_org(OrgKind.REGULATOR, region=AWAY)
        )
        self.cases: dict[str, Case] = {}
        plan = {
            "ON_TIME": (-20, DeadlineStatus.MET, -25),
            "LATE": (-30, DeadlineStatus.MET, -20),
            "UNPAID": (-5, DeadlineStatus.OVERDUE, None),
            "NOT_DUE": (5, DeadlineStatus.OPEN, None),
            "AWAY": (-8, DeadlineStatus.OVERDUE, None),
        }
        for name, (due, status, paid) in plan.items():
            away = name == "AWAY"
            insurer = self.other_insurer if away else self.insurer
            case = factories.make_case(
                police=self.police_org,
                status=CaseStatus.AGREED,
                insurer=insurer,
                committee=self.other_committee if away else self.committee,
                region=AWAY if away else HOME,
            )
            self.cases[name] = case
            pdf = documents.store_document(
                actor=self.mediator,
                case=case,
                kind="agreement",
                data=b"%PDF-1.4 agreement",
                media_type="application/pdf",
                filename="agreement.pdf",
            )
            session.add(
                Agreement(
                    case_id=case.id,
                    data={
                        "payers": [
                            {
                                "payer": CTPI,
                                "amount": AMOUNTS.get(name, "700.00"),
                                "org_id": insurer.id,
                            }
                        ]
                    },
                    sha256=pdf.sha256,
                    document_id=pdf.id,
                    status=AgreementStatus.SIGNED,
                    signed_at=due_at(due - 10),
                    created_by_id=self.mediator.id,
                )
            )
            session.add(
                Deadline(
                    case_id=case.id,
                    kind="insurer_payment",
                    subject=f"payer:{CTPI}",
                    basis="交强险条例第二十九条",
                    owner_org_id=insurer.id,
                    due_at=due_at(due),
                    status=status,
                )
            )
            if paid is not None:
                session.add(
                    Payment(
                        case_id=case.id,
                        payer=CTPI,
                        amount=Decimal(AMOUNTS[name]),
                        paid_on=referrals.beijing_today() + timedelta(days=paid),
                        reference=f"BANK-{name}",
                        recorded_by_id=self.adjuster.id,
                    )
                )
        session.commit()

    def deadline_id(self, name: str) -> int:
        return session.scalar(select(Deadline.id).where(Deadline.case_id == self.cases[name].id))


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def names(centre: Centre, items: list[referrals.LateItem]) -> list[str]:
    by_id = {case.id: name for name, case in centre.cases.items()}
    return [by_id[item.case_id] for item in items]


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_the_list_shows_exactly_the_late_payments(centre: Centre) -> None:
    items = referrals.late_payments(centre.supervisor)
    assert names(centre, items) == ["LATE", "UNPAID"]
    late, unpaid = items
    assert (late.days_late, late.amount, late.paid_on is not None) == (
        10,
        Decimal("12345.60"),
        True,
    )
    assert (unpaid.days_late, unpaid.paid_on, unpaid.payer) == (5, None, CTPI)
    assert unpaid.due == referrals.beijing_today() - timedelta(days=5)
    assert names(centre, referrals.late_payments(centre.admin)) == ["LATE", "AWAY", "UNPAID"]


def test_the_threshold_comes_from_the_setting(
    centre: Centre, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert names(centre, referrals.late_payments(centre.supervisor, overdue_days=7)) == ["LATE"]
    monkeypatch.setitem(app.config, "REFERRAL_OVERDUE_DAYS", 10)
    assert referrals.late_payments(centre.supervisor) == []
    client = app.test_client()
    answer = client.get(
        "/api/v1/oversight/late-payments", headers=factories.api_token(client, centre.regulator)
    )
    assert answer.get_json() == {"overdue_days": 10, "items": []}


def test_each_regulator_sees_only_its_region(centre: Centre) -> None:
    assert names(centre, referrals.late_payments(centre.regulator)) == ["LATE", "UNPAID"]
    assert names(centre, referrals.late_payments(centre.away_regulator)) == ["AWAY"]


def test_the_api_lists_them_without_personal_data(centre: Centre, app: Flask) -> None:
    client = app.test_client()
    factories.login(client, centre.regulator)
    body = client.get("/oversight/late-payments")
    assert body.status_code == 200
    assert centre.cases["LATE"].number in body.text
    assert centre.cases["AWAY"].number not in body.text
    api = app.test_client()
    data = api.get(
        "/api/v1/oversight/late-payments", headers=factories.api_token(api, centre.regulator)
    )
    assert data.status_code == 200
    payload = data.get_json()
    assert payload["overdue_days"] == 0
    assert [item["case_number"] for item in payload["items"]] == [
        centre.cases["LATE"].number,
        centre.cases["UNPAID"].number,
    ]
    assert set(payload["items"][0]) == {
        "deadline_id",
        "case_id",
        "case_number",
        "insurer_id",
        "insurer",
        "payer",
        "amount",
        "due",
        "days_late",
        "paid",
        "paid_on",
    }
    assert payload["items"][0]["amount"] == "12345.60"


@pytest.mark.parametrize("who", ["police", "adjuster"])
def test_police_and_adjusters_are_refused(centre: Centre, app: Flask, who: str) -> None:
    user = centre.police if who == "police" else centre.adjuster
    client = app.test_client()
    factories.login(client, user)
    assert client.get("/oversight/late-payments").status_code == 403
    assert client.get("/oversight/referrals").status_code == 403
    api = app.test_client()
    answer = api.get("/api/v1/oversight/late-payments", headers=factories.api_token(api, user))
    assert answer.status_code == 403


def test_issuing_a_referral(centre: Centre, app: Flask) -> None:
    client = app.test_client()
    factories.login(client, centre.supervisor)
    answer = client.post(
        "/oversight/referrals",
        data={
            "insurer": str(centre.insurer.id),
            "deadline": [str(centre.deadline_id("LATE")), str(centre.deadline_id("UNPAID"))],
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/oversight/referrals")
    referral = session.scalars(select(Referral)).one()
    assert referral.regulator_org_id == centre.regulator_org.id
    assert referral.insurer_org_id == centre.insurer.id
    assert referral.issuer_org_id == centre.supervisor.org_id
    assert [(item["case_id"], item["days_late"]) for item in referral.items] == [
        (centre.cases["LATE"].id, 10),
        (centre.cases["UNPAID"].id, 5),
    ]
    assert referral.object_key.startswith("referrals/")

    pdf = client.get(f"/oversight/referrals/{referral.id}.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert f"关于{centre.insurer.name}未按期支付赔偿保险金的监管提示函" in text.replace("\n", "")
    assert "12,345.60" in text
    assert "8,000.00" in text
    assert "20,345.60" in text
    assert "第二十九条" in text
    assert "10日内" in text.replace("\n", "")
    assert LEGAL_BASIS.replace("\n", "") in text.replace("\n", "")
    footer = re.search(r"SHA-256: ([0-9a-f]{64})", text)
    assert footer
    assert footer.group(1) == referral.sha256

    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "referral.issued")).one()
    assert event.details["sha256"] == referral.sha256
    notices = session.scalars(
        select(Notification).where(Notification.kind == "referral.issued")
    ).all()
    assert [n.user_id for n in notices] == [centre.regulator.id]

    regulator = app.test_client()
    factories.login(regulator, centre.regulator)
    listed = regulator.get("/oversight/referrals")
    assert referral.number in listed.text
    opened = regulator.get(f"/notifications/{notices[0].id}")
    assert opened.headers["Location"].endswith("/oversight/referrals")
    assert regulator.get(f"/oversight/referrals/{referral.id}.pdf").status_code == 200
    away = app.test_client()
    factories.login(away, centre.away_regulator)
    assert referral.number not in away.get("/oversight/referrals").text
    assert away.get(f"/oversight/referrals/{referral.id}.pdf").status_code == 404


def test_only_late_payments_of_the_chosen_insurer_are_referred(centre: Centre) -> None:
    from app.errors import ValidationFailed

    for chosen in (["ON_TIME"], ["NOT_DUE"], ["LATE", "AWAY"], []):
        with pytest.raises(ValidationFailed):
            referrals.issue(
                centre.admin,
                insurer_id=centre.insurer.id,
                deadline_ids=[centre.deadline_id(name) for name in chosen],
            )
    assert session.scalars(select(Referral)).all() == []


def test_a_regulator_may_not_issue(centre: Centre, app: Flask) -> None:
    client = app.test_client()
    factories.login(client, centre.regulator)
    answer = client.post(
        "/oversight/referrals",
        data={"insurer": str(centre.insurer.id), "deadline": [str(centre.deadline_id("LATE"))]},
    )
    assert answer.status_code == 403
    assert session.scalars(select(Referral)).all() == []


def test_the_same_data_gives_the_same_pdf(app: Flask) -> None:
    from app.documents.referral import render_referral

    data: dict[str, Any] = {
        "number": "TS-2026-0001",
        "issuer": "离石区政法委",
        "regulator": "吕梁金融监管分局",
        "insurer": "某财产保险公司",
        "date": "2026-12-04",
        "items": [
            {
                "case_number": "X-1",
                "payer": CTPI,
                "amount": "1.00",
                "due": "2026-11-01",
                "days_late": 3,
                "paid_on": None,
            }
        ],
        "total": "1.00",
    }
    font = app.config["DAOJIAO_CJK_FONT"]
    assert render_referral(data, font) == render_referral(data, font)


def test_a_referral_goes_to_the_nearest_regulator_over_the_cases_region(app: Flask) -> None:
    from app.errors import ValidationFailed

    city = factories.make_org(OrgKind.REGULATOR, region="山西省吕梁市")
    county = factories.make_org(OrgKind.REGULATOR, region="山西省吕梁市离石区")

    assert referrals._regulator_of("山西省吕梁市离石区") == county
    assert referrals._regulator_of("山西省吕梁市中阳县") == city
    with pytest.raises(ValidationFailed):
        referrals._regulator_of("山西省太原市小店区")
    with pytest.raises(ValidationFailed):
        referrals._regulator_of(None)
