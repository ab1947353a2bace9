"""Payments under the signed settlement agreement: partial and late payments stay visible; the
case becomes `paid` once every payer has paid its agreed amount."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.db import session, utcnow
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.models import (
    Agreement,
    AgreementStatus,
    AuditEvent,
    Case,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    Notification,
    Payment,
)
from app.services import deadlines, documents, payments
from tests import factories
from tests.support.centre import Centre as SharedCentre

CTPI, COMMERCIAL, PARTY = "ctpi:甲方", "commercial:甲方", "party:甲方"


class Centre(SharedCentre):
    """The shared centre with a case agreed, its agreement signed and its payment timers set."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.case = factories.make_accident_case(
            police=self.police_org,
            committee=self.committee,
            insurer=self.insurer,
            status=CaseStatus.AGREED,
        )
        self.case.tribunal_id = self.tribunal.id
        self.agreement = self.sign(self.case, due=payments.today() + timedelta(days=10))
        session.commit()

    def sign(self, case: Case, *, due: date) -> Agreement:
        """A signed agreement as the agreements service leaves it, with its payment timers."""
        pdf = documents.store_document(
            actor=self.mediator,
            case=case,
            kind="agreement",
            data=b"%PDF-1.4 agreement",
            media_type="application/pdf",
            filename="agreement.pdf",
        )
        entries = [
            (CTPI, "95438.55", self.insurer.id),
            (COMMERCIAL, "20000.00", self.insurer.id),
            (PARTY, "1500.00", None),
        ]
        agreement = Agreement(
            case_id=case.id,
            data={
                "payers": [
                    {"payer": payer, "amount": amount, "org_id": org_id, "label": f"付款方 {payer}"}
                    for payer, amount, org_id in entries
                ],
                "payment_due": due.isoformat(),
            },
            sha256=pdf.sha256,
            document_id=pdf.id,
            status=AgreementStatus.SIGNED,
            signed_at=utcnow(),
            signed_by_id=self.mediator.id,
            created_by_id=self.mediator.id,
        )
        session.add(agreement)
        session.flush()
        end_of_due = datetime.combine(due, time(15, 59, 59), tzinfo=UTC)
        for payer, _amount, org_id in entries:
            if org_id is not None:
                deadlines.add_deadline(
                    case=case,
                    kind="insurer_payment",
                    basis="交强险条例第二十九条",
                    owner_org_id=org_id,
                    due_at=end_of_due,
                    subject=f"payer:{payer}",
                )
        deadlines.add_deadline(
            case=case,
            kind="confirmation_application",
            basis="人民调解法第三十三条",
            owner_org_id=self.committee.id,
            due_at=utcnow() + timedelta(days=30),
            subject=f"agreement:{agreement.id}",
        )
        return agreement

    def pay(self, payer: str, amount: str, user: Any = None, **kwargs: Any) -> Payment:
        if user is None:
            user = self.mediator if payer == PARTY else self.adjuster
        payment = payments.record_payment(
            actor=user,
            case=self.case,
            payer=payer,
            amount=amount,
            reference=kwargs.pop("reference", f"BANK-{payer}-{amount}"),
            **kwargs,
        )
        session.commit()
        return payment


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def reload(case_id: int) -> Case:
    session.expire_all()
    return session.get(Case, case_id)


def count(model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def status_of(case: Case) -> dict[str, dict[str, Any]]:
    return {row["payer"]: row for row in payments.payment_status(case)}


def deadline(payer: str) -> Deadline:
    return session.scalars(select(Deadline).where(Deadline.subject == f"payer:{payer}")).one()


def api(app: Flask, user: Any) -> tuple[Any, dict[str, str]]:
    client = app.test_client()
    return client, factories.api_token(client, user)


def portal(app: Flask, user: Any) -> Any:
    client = app.test_client()
    factories.login(client, user)
    return client


# -- recording payments -----------------------------------------------------------------------


def test_a_partial_payment_leaves_the_case_agreed_and_shows_what_is_outstanding(
    centre: Centre,
) -> None:
    centre.pay(CTPI, "50000")

    assert reload(centre.case.id).status == CaseStatus.AGREED
    rows = status_of(centre.case)
    assert rows[CTPI]["agreed"] == Decimal("95438.55")
    assert rows[CTPI]["paid"] == Decimal("50000.00")
    assert rows[CTPI]["outstanding"] == Decimal("45438.55")
    assert rows[CTPI]["partial"] is True
    assert rows[CTPI]["covered"] is False
    assert rows[CTPI]["late"] is False
    assert rows[COMMERCIAL]["paid"] == Decimal("0.00")
    assert rows[COMMERCIAL]["partial"] is False
    assert deadline(CTPI).status == DeadlineStatus.OPEN


def test_a_payment_is_audited_and_the_committee_is_told(centre: Centre) -> None:
    payment = centre.pay(CTPI, "50000", reference="工行转账 20240301-001")

    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "payment.recorded")
    ).all()
    assert event.actor_id == centre.adjuster.id
    assert event.subject == f"payment:{payment.id}"
    assert event.details["payer"] == CTPI
    assert event.details["amount"] == "50000.00"
    assert event.details["outstanding"] == "45438.55"
    (note,) = session.scalars(select(Notification)).all()
    assert note.user_id == centre.mediator.id
    assert note.kind == "payment.recorded"
    assert note.case_id == centre.case.id
    assert note.params["amount"] == "50000.00"
    assert note.params["reference"] == "工行转账 20240301-001"
    assert "%(payer)s" in note.message


def test_a_payer_that_has_paid_in_full_meets_its_deadline(centre: Centre) -> None:
    centre.pay(CTPI, "45000")
    centre.pay(CTPI, "50438.55")

    row = status_of(centre.case)[CTPI]
    assert row["covered"] is True
    assert row["outstanding"] == Decimal("0.00")
    assert [p["payment"].amount for p in row["payments"]] == [
        Decimal("45000.00"),
        Decimal("50438.55"),
    ]
    assert deadline(CTPI).status == DeadlineStatus.MET
    assert deadline(COMMERCIAL).status == DeadlineStatus.OPEN
    assert reload(centre.case.id).status == CaseStatus.AGREED


def test_the_case_is_paid_when_every_payer_is_covered(centre: Centre) -> None:
    centre.pay(CTPI, "95438.55")
    centre.pay(COMMERCIAL, "20000.00")
    assert reload(centre.case.id).status == CaseStatus.AGREED

    centre.pay(PARTY, "1500", user=centre.mediator)

    case = reload(centre.case.id)
    assert case.status == CaseStatus.PAID
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.paid")).all()
    assert event.details["status"] == ["agreed", "paid"]
    assert event.actor_id == centre.mediator.id
    timers = session.scalars(select(Deadline).where(Deadline.case_id == case.id)).all()
    assert {d.kind: d.status for d in timers} == {
        "insurer_payment": DeadlineStatus.MET,
        "confirmation_application": DeadlineStatus.CANCELLED,
    }
    kinds = session.scalars(select(Notification.kind).order_by(Notification.id)).all()
    assert kinds[-1] == "case.paid"
    with pytest.raises(InvalidTransition):
        payments.record_payment(
            actor=centre.adjuster, case=case, payer=CTPI, amount="1", reference="again"
        )


def test_a_confirmed_case_is_paid_too(centre: Centre) -> None:
    centre.case.status = CaseStatus.CONFIRMED
    session.commit()
    centre.pay(CTPI, "95438.55")
    centre.pay(COMMERCIAL, "20000")
    centre.pay(PARTY, "1500")

    assert reload(centre.case.id).status == CaseStatus.PAID


def test_late_payments_and_overdue_payers_are_flagged(centre: Centre) -> None:
    case = factories.make_accident_case(
        police=centre.police_org,
        committee=centre.committee,
        insurer=centre.insurer,
        status=CaseStatus.AGREED,
    )
    due = payments.today() - timedelta(days=5)
    centre.sign(case, due=due)
    session.commit()
    payments.record_payment(
        actor=centre.adjuster,
        case=case,
        payer=CTPI,
        amount="95438.55",
        reference="on time",
        paid_on=due,
    )
    payments.record_payment(
        actor=centre.adjuster,
        case=case,
        payer=COMMERCIAL,
        amount="5000",
        reference="late and partial",
        paid_on=due + timedelta(days=2),
    )
    session.commit()

    rows = status_of(case)
    assert rows[CTPI]["late"] is False
    assert rows[CTPI]["covered"] is True
    assert rows[COMMERCIAL]["late"] is True
    assert rows[COMMERCIAL]["overdue"] is True
    assert rows[COMMERCIAL]["partial"] is True
    assert [p["late"] for p in rows[COMMERCIAL]["payments"]] == [True]
    assert rows[PARTY]["overdue"] is True  # nothing paid and the date has passed
    assert rows[PARTY]["due"] == due


def test_paid_on_defaults_to_today_in_beijing(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 17:30 UTC on 1 March is 01:30 on 2 March in Beijing.
    monkeypatch.setattr(payments, "utcnow", lambda: datetime(2024, 3, 1, 17, 30, tzinfo=UTC))

    payment = centre.pay(CTPI, "100")

    assert payment.paid_on == date(2024, 3, 2)
    with pytest.raises(ValidationFailed) as refused:
        centre.pay(CTPI, "100", paid_on="2024-03-03")
    assert refused.value.details["field"] == "paid_on"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"amount": "0"}, "金额"),
        ({"amount": "-100"}, "金额"),
        ({"amount": "100.001"}, "金额"),
        ({"amount": "一百"}, "金额"),
        ({"amount": None}, "金额"),
        ({"amount": "95438.56"}, "95438.55"),  # more than is owed
        ({"reference": ""}, "付款凭证号"),
        ({"reference": "x" * 201}, "付款凭证号"),
        ({"payer": "ctpi:乙方"}, "ctpi:乙方"),
        ({"payer": "self"}, "self"),
        ({"paid_on": "2099-01-01"}, "付款日期"),
        ({"paid_on": "yesterday"}, "付款日期"),
        ({"note": "extra"}, "note"),
    ],
)
def test_invalid_payments_answer_422_and_save_nothing(
    app: Flask, centre: Centre, body: dict[str, Any], names: str
) -> None:
    client, headers = api(app, centre.adjuster)

    response = client.post(
        f"/api/v1/cases/{centre.case.id}/payments",
        json={
            "payer": CTPI,
            "amount": "100",
            "reference": "BANK-1",
            "version": centre.case.version,
            **body,
        },
        headers=headers,
    )

    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input"
    assert names in error["message"]
    assert count(Payment) == 0


def test_payments_follow_a_signed_agreement(centre: Centre) -> None:
    negotiating = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    negotiating.status = CaseStatus.NEGOTIATING
    unsigned = factories.make_accident_case(
        police=centre.police_org,
        committee=centre.committee,
        insurer=centre.insurer,
        status=CaseStatus.AGREED,
    )
    session.commit()
    for case in (negotiating, unsigned):
        with pytest.raises(InvalidTransition):
            payments.record_payment(
                actor=centre.adjuster, case=case, payer=CTPI, amount="1", reference="r"
            )
        assert payments.payment_status(case) == []
    centre.case.status = CaseStatus.CONFIRMING
    session.commit()
    with pytest.raises(InvalidTransition):
        centre.pay(CTPI, "1")
    assert count(Payment) == 0


def test_each_payer_is_recorded_by_whoever_answers_for_it(app: Flask, centre: Centre) -> None:
    with pytest.raises(NotAllowed):
        centre.pay(PARTY, "100", user=centre.adjuster)
    with pytest.raises(NotAllowed):
        centre.pay(CTPI, "100", user=centre.mediator)
    url = f"/api/v1/cases/{centre.case.id}/payments"
    for user, payer, status in (
        (centre.other_adjuster, CTPI, 404),
        (centre.other_mediator, PARTY, 404),
        (centre.police, CTPI, 403),
        (centre.judge, CTPI, 403),
        (centre.admin, PARTY, 403),
        (centre.adjuster, PARTY, 403),
        (centre.mediator, COMMERCIAL, 403),
    ):
        client, headers = api(app, user)
        body = {
            "payer": payer,
            "amount": "100",
            "reference": "BANK-1",
            "version": centre.case.version,
        }
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == status, (user.username, payer)
    assert count(Payment) == 0


def test_a_stale_case_version_is_a_conflict(app: Flask, centre: Centre) -> None:
    client, headers = api(app, centre.adjuster)
    url = f"/api/v1/cases/{centre.case.id}/payments"
    version = centre.case.version

    stale = client.post(
        url,
        json={"payer": CTPI, "amount": "100", "reference": "r", "version": version - 1},
        headers=headers,
    )
    fresh = client.post(
        url,
        json={"payer": CTPI, "amount": "100", "reference": "r", "version": version},
        headers=headers,
    )

    assert stale.status_code == 409
    assert fresh.status_code == 201
    assert count(Payment) == 1


def test_the_api_records_payments_and_everyone_on_the_case_reads_them(
    app: Flask, centre: Centre
) -> None:
    client, headers = api(app, centre.adjuster)
    url = f"/api/v1/cases/{centre.case.id}/payments"

    created = client.post(
        url,
        json={
            "payer": CTPI,
            "amount": "95438.55",
            "reference": "BANK-1",
            "version": centre.case.version,
        },
        headers=headers,
    )

    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["payment"]["amount"] == "95438.55"
    assert body["payment"]["paid_on"] == payments.today().isoformat()
    assert body["case"]["status"] == "agreed"
    for user in (centre.police, centre.mediator, centre.judge, centre.admin, centre.adjuster):
        reader, reader_headers = api(app, user)
        read = reader.get(url, headers=reader_headers)
        assert read.status_code == 200, user.username
        items = {item["payer"]: item for item in read.get_json()["items"]}
        assert items[CTPI]["covered"] is True
        assert items[CTPI]["payments"][0]["reference"] == "BANK-1"
        assert items[COMMERCIAL] | {"payments": []} == {
            "payer": COMMERCIAL,
            "label": f"付款方 {COMMERCIAL}",
            "agreed": "20000.00",
            "paid": "0.00",
            "outstanding": "20000.00",
            "due": (payments.today() + timedelta(days=10)).isoformat(),
            "covered": False,
            "partial": False,
            "overdue": False,
            "late": False,
            "payments": [],
        }
    outsider, outsider_headers = api(app, centre.other_adjuster)
    assert outsider.get(url, headers=outsider_headers).status_code == 404

    client.post(
        url,
        json={
            "payer": COMMERCIAL,
            "amount": "20000",
            "reference": "B2",
            "version": reload(centre.case.id).version,
        },
        headers=headers,
    )
    mediator, mediator_headers = api(app, centre.mediator)
    last = mediator.post(
        url,
        json={
            "payer": PARTY,
            "amount": "1500.00",
            "reference": "现金收据 007",
            "version": reload(centre.case.id).version,
        },
        headers=mediator_headers,
    )
    assert last.status_code == 201
    assert last.get_json()["case"]["status"] == "paid"


# -- portal -----------------------------------------------------------------------------------


def test_the_payments_page_shows_partial_and_late_payers(app: Flask, centre: Centre) -> None:
    yesterday = payments.today() - timedelta(days=1)
    centre.agreement.data = {**centre.agreement.data, "payment_due": yesterday.isoformat()}
    session.commit()
    centre.pay(CTPI, "40000", paid_on=yesterday)

    page = portal(app, centre.police).get(f"/cases/{centre.case.id}/payments")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="payment-status"' in html
    assert 'data-testid="partial"' in html
    assert "55438.55" in html  # outstanding of 交强险
    assert html.count('data-testid="overdue"') == 3
    assert 'data-testid="payment-form"' not in html  # police record nothing


def test_an_adjuster_records_a_payment_in_the_portal(app: Flask, centre: Centre) -> None:
    client = portal(app, centre.adjuster)
    form = client.get(f"/cases/{centre.case.id}/payments").get_data(as_text=True)
    assert 'data-testid="payment-form"' in form
    assert f'value="{CTPI}"' in form
    assert f'value="{PARTY}"' not in form

    response = client.post(
        f"/cases/{centre.case.id}/payments",
        data={
            "version": str(centre.case.version),
            "payer": COMMERCIAL,
            "amount": "20000",
            "paid_on": payments.today().isoformat(),
            "reference": "BANK-77",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="covered"' in page
    assert "BANK-77" in page


def test_the_portal_shows_why_a_payment_is_refused(app: Flask, centre: Centre) -> None:
    client = portal(app, centre.mediator)
    form = client.get(f"/cases/{centre.case.id}/payments").get_data(as_text=True)
    assert f'value="{PARTY}"' in form
    assert f'value="{CTPI}"' not in form

    response = client.post(
        f"/cases/{centre.case.id}/payments",
        data={
            "version": str(centre.case.version),
            "payer": PARTY,
            "amount": "1500.01",
            "paid_on": payments.today().isoformat(),
            "reference": "现金",
        },
    )

    assert response.status_code == 422
    assert 'data-testid="payment-error"' in response.get_data(as_text=True)
    assert count(Payment) == 0
