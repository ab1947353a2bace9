"""Offers and counter-offers: who may offer and answer, the trail, superseding, expiry, the
digest in the audit chain, and conflicts between people acting at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.orm.exc import StaleDataError

from app import audit
from app.db import session, utcnow
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.models import (
    AgreementStatus,
    AuditEvent,
    Case,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    Notification,
    Offer,
    OfferSide,
    OfferStatus,
    User,
)
from app.services import agreements, assessments, offers
from tests import factories
from tests.support.centre import Centre as SharedCentre

VICTIM = {
    "id": "v1",
    "party": "乙方",
    "outcome": "injury",
    "items": {
        "medical": {"amount": "30000"},
        "transport": {"amount": "300"},
        "mental_distress": {"amount": "5000"},
        "property": [{"description": "电动自行车维修", "amount": "800"}],
    },
}


class Centre(SharedCentre):
    """The shared centre with a case in negotiation, sent to its tribunal."""

    def __init__(self, app: Flask, *, commercial: bool = True) -> None:
        super().__init__(app)
        self.case = factories.make_accident_case(
            police=self.police_org,
            committee=self.committee,
            insurer=self.insurer,
            commercial=commercial,
        )
        self.case.tribunal_id = self.tribunal.id
        # Messages are checked in English, their msgids, so that translating them breaks no test.
        for user in session.scalars(select(User)):
            user.locale = "en"
        session.commit()
        self._headers: dict[int, dict[str, str]] = {}
        response = self.put_claims({"victims": [VICTIM]})
        assert response.status_code == 202, response.get_json()
        assert self.reload().status == CaseStatus.NEGOTIATING

    def headers(self, user: User) -> dict[str, str]:
        if user.id not in self._headers:
            self._headers[user.id] = factories.api_token(self.app.test_client(), user)
        return self._headers[user.id]

    def versioned(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """`body` with the case's current version, unless it names one."""
        return {"version": self.reload().version, **(body or {})}

    def put_claims(self, body: dict[str, Any]) -> Any:
        return self.app.test_client().put(
            f"/api/v1/cases/{self.case.id}/claims",
            json=self.versioned(body),
            headers=self.headers(self.mediator),
        )

    def post(self, user: User, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.app.test_client().post(
            f"/api/v1/cases/{self.case.id}/offers{path}",
            json=self.versioned(body),
            headers=self.headers(user),
        )

    def trail(self, user: User) -> Any:
        return self.app.test_client().get(
            f"/api/v1/cases/{self.case.id}/offers", headers=self.headers(user)
        )

    def reload(self) -> Case:
        session.expire_all()
        return session.get(Case, self.case.id)

    def assessed(self, payer: str) -> Decimal:
        assessment = assessments.latest_assessment(self.reload())
        return Decimal(assessment.result["totals"][payer])

    def offer(self, user: User, **fields: Any) -> Offer:
        """An offer made through the service, committed."""
        offer = offers.make_offer(actor=user, case=self.reload(), **fields)
        session.commit()
        return offer


@pytest.fixture(autouse=True)
def english(app: Flask) -> Iterator[None]:
    """Services called directly answer in English too (see Centre)."""
    with force_locale("en"):
        yield


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture(scope="module")
def uninsured_world(build_world: Callable[..., Centre]) -> Centre:
    """The car has 交强险 only: 甲方 pays the rest of the vehicle's share itself."""
    return build_world(lambda app: Centre(app, commercial=False))


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


@pytest.fixture
def uninsured_centre(app: Flask, uninsured_world: Centre) -> Centre:
    return uninsured_world.for_test()


def events(action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def count(model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def status_of(offer_id: int) -> OfferStatus:
    session.expire_all()
    return session.get(Offer, offer_id).status


# -- making offers ----------------------------------------------------------------------------


def test_an_adjuster_offers_and_the_mediator_accepts_for_the_claimant(centre: Centre) -> None:
    assessed = centre.assessed("commercial:甲方")
    response = centre.post(
        centre.adjuster,
        "",
        {
            "payer": "commercial:甲方",
            "amount": "20000.50",
            "note": "一次性赔付",
            "reason": "含后续治疗费",
        },
    )
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["reason"] == "含后续治疗费"
    assert made["side"] == "insurer"
    assert made["status"] == "open"
    assert made["amount"] == "20000.50"
    assert made["organization"]["id"] == centre.insurer.id
    assert made["created_by"] == centre.adjuster.username
    assert made["differences"]["total"] == {
        "assessed": f"{assessed:.2f}",
        "offered": "20000.50",
        "difference": f"{Decimal('20000.50') - assessed:.2f}",
    }
    assert made["differences"]["items"] == {}
    # the mediator's committee is told that an answer is awaited
    told = session.scalars(select(Notification).where(Notification.kind == "offer.made")).all()
    assert {n.user_id for n in told} == {centre.mediator.id}

    accepted = centre.post(centre.mediator, f"/{made['id']}/accept", {"note": "当事人同意"})
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["status"] == "accepted"
    assert body["answered_by"] == centre.mediator.username
    assert body["answer_note"] == "当事人同意"
    assert set(offers.accepted_offers(centre.reload())) == {"commercial:甲方"}
    (event,) = events("offer.accepted")
    assert event.details["digest"] == made["digest"]
    (note,) = session.scalars(
        select(Notification).where(Notification.kind == "offer.accepted")
    ).all()
    assert note.user_id == centre.adjuster.id
    assert note.message == (
        "Your offer of %(amount)s yuan for %(payer)s in case %(number)s was accepted."
    )
    assert note.params == {
        "amount": "20000.50",
        "payer": "commercial:甲方",
        "number": centre.case.number,
    }

    trail = centre.trail(centre.police).get_json()
    assert [item["id"] for item in trail["items"]] == [made["id"]]
    assert trail["accepted"] == {"commercial:甲方": made["id"]}


def test_an_offer_by_items_costs_what_the_payer_would_pay_with_those_items(
    centre: Centre,
) -> None:
    items = {"v1": {"medical": "20000", "mental_distress": "3000.5"}}
    offer = centre.offer(centre.adjuster, payer="commercial:甲方", items=items)
    expected = assessments.what_if(
        actor=centre.mediator,
        case=centre.reload(),
        changes={"items": {"v1": {"medical": "20000", "mental_distress": "3000.5"}}},
    )["what_if"]["totals"]["commercial:甲方"]
    assert offer.amount == Decimal(expected)
    assert offer.items == {"v1": {"medical": "20000.00", "mental_distress": "3000.50"}}
    differences = offers.offer_differences(offer)
    assert differences["items"]["v1"]["medical"] == {
        "assessed": "30000.00",
        "offered": "20000.00",
        "difference": "-10000.00",
    }
    assert differences["items"]["v1"]["mental_distress"]["difference"] == "-1999.50"
    assert differences["total"]["offered"] == expected


def test_an_offer_with_an_amount_and_items_keeps_both(centre: Centre) -> None:
    offer = centre.offer(
        centre.adjuster, payer="ctpi:甲方", amount="18000", items={"v1": {"medical": "15000"}}
    )
    assert offer.amount == Decimal("18000.00")
    assert offer.items == {"v1": {"medical": "15000.00"}}
    assert offers.offer_differences(offer)["items"]["v1"]["medical"]["offered"] == "15000.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payer": "self", "amount": "1"}, "payer"),
        ({"payer": "ctpi:丙方", "amount": "1"}, "payer"),
        ({"payer": "bank:甲方", "amount": "1"}, "payer"),
        ({"payer": "commercial:甲方"}, "amount"),
        ({"payer": "commercial:甲方", "amount": "-5"}, "amount"),
        ({"payer": "commercial:甲方", "amount": "10.123"}, "amount"),
        ({"payer": "commercial:甲方", "amount": "ten"}, "amount"),
        ({"payer": "commercial:甲方", "amount": True}, "amount"),
        ({"payer": "commercial:甲方", "items": {"v9": {"medical": "1"}}}, "items"),
        ({"payer": "commercial:甲方", "items": {"v1": {"funeral": "1"}}}, "items"),
        ({"payer": "commercial:甲方", "items": {"v1": {"medical": "-1"}}}, "items"),
        (
            {"payer": "commercial:甲方", "amount": "1", "expires_at": "2020-01-01T00:00:00+08:00"},
            "expires_at",
        ),
        (
            {"payer": "commercial:甲方", "amount": "1", "expires_at": "2099-01-01T00:00:00"},
            "expires_at",
        ),
        ({"payer": "commercial:甲方", "amount": "1", "expires_at": "soon"}, "expires_at"),
        ({"payer": "commercial:甲方", "amount": "1", "note": 5}, "note"),
        ({"payer": "commercial:甲方", "amount": "1", "colour": "red"}, "colour"),
        ({"payer": "commercial:甲方", "amount": "1", "parent_id": 999999}, "parent_id"),
    ],
)
def test_a_bad_offer_is_refused_with_422_and_nothing_is_saved(
    centre: Centre, body: dict[str, Any], field: str
) -> None:
    response = centre.post(centre.adjuster, "", body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "invalid_input"
    assert count(Offer) == 0
    assert events("offer.made") == []


def test_a_party_payer_not_in_the_assessment_is_refused(uninsured_centre: Centre) -> None:
    # 乙方 is the victim: its share is `self`, so party:乙方 pays nothing.
    with pytest.raises(ValidationFailed, match="party:乙方"):
        uninsured_centre.offer(uninsured_centre.mediator, payer="party:乙方", amount="1")


def test_offers_wait_for_the_assessment(centre: Centre) -> None:
    case = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    session.commit()
    response = centre.app.test_client().post(
        f"/api/v1/cases/{case.id}/offers",
        json={"payer": "ctpi:甲方", "amount": "1", "version": case.version},
        headers=centre.headers(centre.adjuster),
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"


def test_offers_stop_while_new_claims_are_assessed(centre: Centre) -> None:
    case = centre.reload()
    case.status = CaseStatus.ASSESSING
    session.commit()
    with pytest.raises(InvalidTransition):
        centre.offer(centre.adjuster, payer="ctpi:甲方", amount="1")


def test_who_may_make_offers(centre: Centre) -> None:
    body = {"payer": "ctpi:甲方", "amount": "100"}
    for user in (centre.police, centre.judge, centre.admin):
        response = centre.post(user, "", body)
        assert response.status_code == 403, user.username
        assert response.get_json()["error"]["code"] == "forbidden"
    for user in (centre.other_adjuster, centre.other_mediator):
        assert centre.post(user, "", body).status_code == 404
    # the role is checked before the body is read
    assert centre.post(centre.police, "", None).status_code == 403
    assert centre.post(centre.adjuster, "", None).status_code == 422
    # a mediator never speaks for the insurer
    refused = centre.post(centre.mediator, "", {**body, "side": "insurer"})
    assert refused.status_code == 403
    assert count(Offer) == 0


def test_an_adjuster_offers_only_for_payers_of_their_insurer(uninsured_centre: Centre) -> None:
    centre = uninsured_centre
    response = centre.post(centre.adjuster, "", {"payer": "party:甲方", "amount": "100"})
    assert response.status_code == 403
    assert "（甲方）" in response.get_json()["error"]["message"]  # the party by name
    other = factories.make_user(centre.other_insurer)
    with pytest.raises(NotAllowed):
        centre.offer(other, payer="ctpi:甲方", amount="100")


def test_the_mediator_records_a_liable_partys_position(uninsured_centre: Centre) -> None:
    centre = uninsured_centre
    position = centre.offer(
        centre.mediator, payer="party:甲方", amount="5000", side="party", reason="一次了结"
    )
    assert position.side == OfferSide.PARTY
    assert position.org_id == centre.committee.id
    with pytest.raises(ValidationFailed):  # a party's position is for a party: payer
        centre.offer(centre.mediator, payer="ctpi:甲方", amount="5000", side="party")
    # the claimant's demand towards the same party is a separate side and supersedes nothing
    demand = centre.offer(
        centre.mediator, payer="party:甲方", amount="9000", parent_id=position.id, reason="误工"
    )
    assert demand.side == OfferSide.CLAIMANT
    assert status_of(position.id) == OfferStatus.COUNTERED
    # the mediator records the party's answer to the claimant's demand; an adjuster cannot
    with pytest.raises(NotAllowed):
        offers.answer_offer(
            actor=centre.adjuster, case=centre.reload(), offer_id=demand.id, accept=True
        )
    session.rollback()
    offers.answer_offer(
        actor=centre.mediator, case=centre.reload(), offer_id=demand.id, accept=True
    )
    session.commit()
    assert status_of(demand.id) == OfferStatus.ACCEPTED
    # no notification of the committee about its own recording
    assert (
        session.scalars(select(Notification).where(Notification.kind.like("offer.%"))).all() == []
    )


# -- answering --------------------------------------------------------------------------------


def test_the_claimants_counter_goes_back_to_the_insurer(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    counter = centre.post(
        centre.mediator, "", {"payer": "ctpi:甲方", "amount": "18000", "parent_id": offer.id}
    )
    assert counter.status_code == 201, counter.get_json()
    counter_id = counter.get_json()["id"]
    assert counter.get_json()["side"] == "claimant"
    assert counter.get_json()["parent_id"] == offer.id
    assert status_of(offer.id) == OfferStatus.COUNTERED
    # the insurer is told, and only its adjuster answers the claimant's counter
    told = session.scalars(
        select(Notification.user_id).where(Notification.kind == "offer.made")
    ).all()
    assert centre.adjuster.id in told
    assert centre.post(centre.mediator, f"/{counter_id}/accept").status_code == 403
    assert centre.post(centre.adjuster, f"/{offer.id}/accept").status_code == 403
    # the insurer counters the counter: an offer answering it
    again = centre.post(
        centre.adjuster, "", {"payer": "ctpi:甲方", "amount": "15000", "parent_id": counter_id}
    )
    assert again.status_code == 201, again.get_json()
    assert status_of(counter_id) == OfferStatus.COUNTERED
    rejected = centre.post(centre.mediator, f"/{again.get_json()['id']}/reject", {"note": "太少"})
    assert rejected.status_code == 200
    assert rejected.get_json()["status"] == "rejected"
    assert [e.details["digest"] for e in events("offer.rejected")] == [again.get_json()["digest"]]
    (note,) = session.scalars(
        select(Notification).where(Notification.kind == "offer.rejected")
    ).all()
    assert note.user_id == centre.adjuster.id
    trail = centre.trail(centre.judge).get_json()["items"]
    assert [(t["side"], t["status"]) for t in trail] == [
        ("insurer", "countered"),
        ("claimant", "countered"),
        ("insurer", "rejected"),
    ]


def test_a_counter_must_answer_an_open_offer_of_the_other_side_for_the_same_payer(
    centre: Centre,
) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    with pytest.raises(ValidationFailed, match="same payer"):
        centre.offer(centre.mediator, payer="commercial:甲方", amount="1", parent_id=offer.id)
    session.rollback()
    with pytest.raises(ValidationFailed, match="own side"):
        centre.offer(centre.adjuster, payer="ctpi:甲方", amount="1", parent_id=offer.id)
    session.rollback()
    offers.answer_offer(
        actor=centre.mediator, case=centre.reload(), offer_id=offer.id, accept=False
    )
    session.commit()
    with pytest.raises(InvalidTransition, match="no longer open"):
        centre.offer(centre.mediator, payer="ctpi:甲方", amount="1", parent_id=offer.id)


def test_a_new_offer_supersedes_the_same_sides_open_offer(centre: Centre) -> None:
    soon = utcnow() + timedelta(days=3)
    first = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000", expires_at=soon)
    demand = centre.offer(centre.mediator, payer="ctpi:甲方", amount="18000")
    other_payer = centre.offer(centre.adjuster, payer="commercial:甲方", amount="5000")
    second = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="12000")
    assert status_of(first.id) == OfferStatus.SUPERSEDED
    assert status_of(demand.id) == OfferStatus.OPEN  # the claimant's side is not replaced
    assert status_of(other_payer.id) == OfferStatus.OPEN
    assert status_of(second.id) == OfferStatus.OPEN
    deadline = session.scalars(
        select(Deadline).where(Deadline.subject == f"offer:{first.id}")
    ).one()
    assert deadline.status == DeadlineStatus.CANCELLED
    made = events("offer.made")
    assert made[-1].details["superseded"] == [first.id]
    response = centre.post(centre.mediator, f"/{first.id}/accept")
    assert response.status_code == 409
    assert "superseded" in response.get_json()["error"]["message"].lower()


def test_accepting_settles_the_payer(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    demand = centre.offer(centre.mediator, payer="ctpi:甲方", amount="18000")
    other = centre.offer(centre.adjuster, payer="commercial:甲方", amount="5000")
    offers.answer_offer(actor=centre.mediator, case=centre.reload(), offer_id=offer.id, accept=True)
    session.commit()
    assert status_of(offer.id) == OfferStatus.ACCEPTED
    assert status_of(demand.id) == OfferStatus.SUPERSEDED
    assert status_of(other.id) == OfferStatus.OPEN
    assert events("offer.accepted")[0].details["superseded"] == [demand.id]
    assert {p: o.id for p, o in offers.accepted_offers(centre.reload()).items()} == {
        "ctpi:甲方": offer.id
    }
    with pytest.raises(InvalidTransition, match="accepted already"):
        centre.offer(centre.adjuster, payer="ctpi:甲方", amount="9000")
    session.rollback()
    again = centre.post(centre.mediator, f"/{offer.id}/accept")
    assert again.status_code == 409
    assert str(offer.id) in again.get_json()["error"]["message"]


def test_answering_an_offer_of_another_case_is_not_found(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    other = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    session.commit()
    response = centre.app.test_client().post(
        f"/api/v1/cases/{other.id}/offers/{offer.id}/accept",
        json={"version": other.version},
        headers=centre.headers(centre.mediator),
    )
    assert response.status_code == 404
    assert status_of(offer.id) == OfferStatus.OPEN


def test_an_answer_body_must_be_a_json_object(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    response = centre.app.test_client().post(
        f"/api/v1/cases/{centre.case.id}/offers/{offer.id}/accept",
        data="not json",
        content_type="application/json",
        headers=centre.headers(centre.mediator),
    )
    assert response.status_code == 422
    assert status_of(offer.id) == OfferStatus.OPEN


# -- expiry -----------------------------------------------------------------------------------


def test_an_expiring_offer_starts_a_deadline_for_the_side_that_answers(centre: Centre) -> None:
    response = centre.post(
        centre.adjuster,
        "",
        {"payer": "ctpi:甲方", "amount": "10000", "expires_at": "2099-03-01T18:00:00+08:00"},
    )
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["expires_at"] == "2099-03-01T10:00:00+00:00"
    deadline = session.scalars(
        select(Deadline).where(Deadline.subject == f"offer:{made['id']}")
    ).one()
    assert deadline.kind == "offer_expiry"
    assert deadline.owner_org_id == centre.committee.id
    assert deadline.basis == "当事人约定（要约期限）"
    assert deadline.due_at.isoformat() == "2099-03-01T10:00:00+00:00"
    centre.post(centre.mediator, f"/{made['id']}/reject")
    session.expire_all()
    assert session.get(Deadline, deadline.id).status == DeadlineStatus.MET
    # the claimant's counter runs on the insurer's clock
    counter = centre.offer(
        centre.mediator, payer="ctpi:甲方", amount="1", expires_at=utcnow() + timedelta(days=1)
    )
    owner = session.scalars(
        select(Deadline.owner_org_id).where(Deadline.subject == f"offer:{counter.id}")
    ).one()
    assert owner == centre.insurer.id


def test_expired_offers_cannot_be_answered_and_the_sweep_marks_them(centre: Centre) -> None:
    offer = centre.offer(
        centre.adjuster, payer="ctpi:甲方", amount="10000", expires_at=utcnow() + timedelta(hours=1)
    )
    lasting = centre.offer(centre.adjuster, payer="commercial:甲方", amount="9000")
    # time passes: the offer's expiry is behind us, but no sweep ran yet
    session.execute(
        text("UPDATE offers SET expires_at = :past WHERE id = :id"),
        {"past": utcnow() - timedelta(minutes=1), "id": offer.id},
    )
    session.commit()
    response = centre.post(centre.mediator, f"/{offer.id}/accept")
    assert response.status_code == 409
    assert "expired" in response.get_json()["error"]["message"]
    with pytest.raises(InvalidTransition, match="expired"):
        centre.offer(centre.mediator, payer="ctpi:甲方", amount="1", parent_id=offer.id)
    session.rollback()

    assert offers.expire_offers(utcnow()) == 1
    session.commit()
    assert status_of(offer.id) == OfferStatus.EXPIRED
    assert status_of(lasting.id) == OfferStatus.OPEN
    deadline = session.scalars(
        select(Deadline).where(Deadline.subject == f"offer:{offer.id}")
    ).one()
    assert deadline.status == DeadlineStatus.CANCELLED
    (event,) = events("offer.expired")
    assert event.details["digest"] == offer.digest
    (note,) = session.scalars(select(Notification).where(Notification.kind == "offer.expired"))
    assert note.user_id == centre.adjuster.id
    assert offers.expire_offers(utcnow()) == 0  # idempotent
    response = centre.post(centre.mediator, f"/{offer.id}/accept")
    assert response.status_code == 409
    assert "no longer open" in response.get_json()["error"]["message"]


# -- proof ------------------------------------------------------------------------------------


def test_the_digest_proves_the_offer_through_the_audit_chain(centre: Centre) -> None:
    offer = centre.offer(
        centre.adjuster,
        payer="ctpi:甲方",
        amount="10000",
        items={"v1": {"medical": "9000"}},
        note="含医疗费",
        expires_at=utcnow() + timedelta(days=2),
    )
    session.expire_all()
    stored = session.get(Offer, offer.id)
    content = offers.offer_content(stored)
    assert offers.content_digest(content) == stored.digest
    (event,) = events("offer.made")
    assert event.subject == f"offer:{offer.id}"
    assert event.details["digest"] == stored.digest
    assert event.details["content"] == content
    assert content["case"] == centre.case.number
    assert content["assessment"]["fingerprint"].startswith("sha256:")
    assert content["items"] == {"v1": {"medical": "9000.00"}}
    assert content["maker"] == centre.adjuster.id
    assert offers.verify_offer(stored)
    assert audit.verify_chain().ok

    # a changed amount no longer matches what the chain recorded
    session.execute(text("UPDATE offers SET amount = 99999 WHERE id = :id"), {"id": offer.id})
    session.expire_all()
    assert not offers.verify_offer(session.get(Offer, offer.id))


def test_the_trail_is_seen_by_everyone_on_the_case_only(centre: Centre) -> None:
    centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    for user in (centre.police, centre.judge, centre.admin, centre.adjuster, centre.mediator):
        response = centre.trail(user)
        assert response.status_code == 200
        assert len(response.get_json()["items"]) == 1
    for user in (centre.other_adjuster, centre.other_mediator):
        assert centre.trail(user).status_code == 404


# -- acting at once ---------------------------------------------------------------------------


def test_a_stale_version_is_a_conflict(centre: Centre) -> None:
    version = centre.reload().version
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    assert centre.reload().version > version  # making an offer bumps the case
    response = centre.post(
        centre.adjuster, "", {"payer": "ctpi:甲方", "amount": "11000", "version": version}
    )
    assert response.status_code == 409
    assert "Reload" in response.get_json()["error"]["message"]
    stale = centre.post(centre.mediator, f"/{offer.id}/accept", {"version": version})
    assert stale.status_code == 409
    assert status_of(offer.id) == OfferStatus.OPEN
    fresh = centre.post(
        centre.mediator, f"/{offer.id}/accept", {"version": centre.reload().version}
    )
    assert fresh.status_code == 200


def test_an_answer_on_a_page_someone_else_answered_meanwhile_is_a_conflict(
    centre: Centre,
) -> None:
    offer_id = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000").id
    colleague = factories.make_user(centre.committee)
    session.commit()
    accept_first = accept_request(centre, colleague, offer_id)
    case = centre.reload()  # what the mediator's page was built from
    session.commit()  # the read ends; the loaded case keeps its version (no expiry on commit)

    assert accept_first().status_code == 200  # a colleague's request answers first
    with pytest.raises(InvalidTransition):
        offers.answer_offer(actor=centre.mediator, case=case, offer_id=offer_id, accept=False)
    session.rollback()
    assert status_of(offer_id) == OfferStatus.ACCEPTED
    assert len(events("offer.accepted")) == 1
    assert events("offer.rejected") == []


def test_an_action_on_a_case_changed_meanwhile_is_a_conflict(centre: Centre) -> None:
    ctpi_id = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000").id
    commercial_id = centre.offer(centre.adjuster, payer="commercial:甲方", amount="9000").id
    accept_first = accept_request(centre, centre.mediator, ctpi_id)
    case = centre.reload()
    session.commit()

    assert accept_first().status_code == 200
    with pytest.raises(StaleDataError):  # the case's version moved on: never a lost update
        offers.answer_offer(actor=centre.mediator, case=case, offer_id=commercial_id, accept=True)
    session.rollback()
    assert status_of(commercial_id) == OfferStatus.OPEN
    assert status_of(ctpi_id) == OfferStatus.ACCEPTED


def accept_request(centre: Centre, user: User, offer_id: int) -> Callable[[], Any]:
    """Another person's acceptance, sent later without touching the test's session (it shares
    the test's connection: a savepoint the test's session began would swallow it)."""
    headers = centre.headers(user)
    path = f"/api/v1/cases/{centre.case.id}/offers/{offer_id}/accept"
    body = {"version": centre.reload().version}
    return lambda: centre.app.test_client().post(path, json=body, headers=headers)


def test_racing_acceptances_in_two_connections(committed_app: Callable[..., Flask]) -> None:
    """Two requests in two database connections accept the same offer at once."""
    app = committed_app()
    with app.app_context():
        centre = Centre(app)
        offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
        colleague = factories.make_user(centre.committee)
        session.commit()
        ids = (centre.mediator.id, colleague.id)
        case_id, offer_id = centre.case.id, offer.id

    ready = threading.Barrier(2, timeout=30)
    outcomes: dict[int, str] = {}

    def answer(user_id: int) -> None:
        with app.app_context():
            user, case = session.get(User, user_id), session.get(Case, case_id)
            ready.wait()
            try:
                offers.answer_offer(actor=user, case=case, offer_id=offer_id, accept=True)
                session.commit()
                outcomes[user_id] = "accepted"
            except (InvalidTransition, StaleDataError) as exc:
                session.rollback()
                outcomes[user_id] = type(exc).__name__

    threads = [threading.Thread(target=answer, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) in (
        ["InvalidTransition", "accepted"],
        ["StaleDataError", "accepted"],
    )
    with app.app_context():
        assert session.get(Offer, offer_id).status == OfferStatus.ACCEPTED
        assert len(events("offer.accepted")) == 1


# -- portal -----------------------------------------------------------------------------------


def portal(centre: Centre, user: User) -> Any:
    client = centre.app.test_client()
    factories.login(client, user)
    return client


def test_an_adjuster_makes_an_offer_in_the_portal(centre: Centre) -> None:
    client = portal(centre, centre.adjuster)
    page = client.get(f"/cases/{centre.case.id}/offers").get_data(as_text=True)
    assert 'data-testid="offer-form"' in page
    assert 'value="ctpi:甲方"' in page
    assert 'name="side"' not in page  # the adjuster speaks for the insurer only
    response = client.post(
        f"/cases/{centre.case.id}/offers",
        data={
            "version": str(centre.reload().version),
            "payer": "commercial:甲方",
            "amount": "",
            "item:v1:medical": "25000",
            "expires_at": "2099-01-31T18:00",
            "note": "按医疗费 25000 计",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    offer = session.scalars(select(Offer)).one()
    assert offer.items == {"v1": {"medical": "25000.00"}}
    assert offer.expires_at.isoformat() == "2099-01-31T10:00:00+00:00"  # Beijing time
    page = client.get(f"/cases/{centre.case.id}/offers").get_data(as_text=True)
    assert f'data-testid="offer-{offer.id}"' in page
    assert f'data-testid="item-differences-{offer.id}"' in page
    assert "-5000.00" in page
    assert offer.digest[:12] in page
    assert f'data-testid="answer-{offer.id}"' not in page  # the adjuster does not answer it


def test_the_mediator_counters_and_answers_in_the_portal(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    client = portal(centre, centre.mediator)
    page = client.get(f"/cases/{centre.case.id}/offers?counter={offer.id}").get_data(as_text=True)
    assert f'data-testid="answer-{offer.id}"' in page
    assert f'<option selected value="{offer.id}">' in page
    assert 'name="side"' in page
    response = client.post(
        f"/cases/{centre.case.id}/offers",
        data={
            "version": str(centre.reload().version),
            "payer": "ctpi:甲方",
            "side": "claimant",
            "parent_id": str(offer.id),
            "amount": "16000",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    counter = session.scalars(select(Offer).where(Offer.parent_id == offer.id)).one()
    assert counter.side == OfferSide.CLAIMANT
    assert status_of(offer.id) == OfferStatus.COUNTERED

    adjuster = portal(centre, centre.adjuster)
    accepted = adjuster.post(
        f"/cases/{centre.case.id}/offers/{counter.id}/accept",
        data={"version": str(centre.reload().version), "note": "同意"},
    )
    assert accepted.status_code == 302
    assert status_of(counter.id) == OfferStatus.ACCEPTED
    page = adjuster.get(f"/cases/{centre.case.id}/offers").get_data(as_text=True)
    assert 'data-testid="settled"' in page


def test_the_portal_explains_a_conflict_and_shows_the_current_state(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    stale_version = centre.reload().version
    client = portal(centre, centre.mediator)
    # someone else answered first
    offers.answer_offer(
        actor=centre.mediator, case=centre.reload(), offer_id=offer.id, accept=False
    )
    session.commit()
    response = client.post(
        f"/cases/{centre.case.id}/offers/{offer.id}/accept", data={"version": str(stale_version)}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "alert-warning" in page
    assert 'data-status="rejected"' in page
    assert status_of(offer.id) == OfferStatus.REJECTED


def test_the_portal_shows_why_an_offer_was_refused(centre: Centre) -> None:
    client = portal(centre, centre.adjuster)
    response = client.post(
        f"/cases/{centre.case.id}/offers",
        data={"version": str(centre.reload().version), "payer": "ctpi:甲方", "amount": "1.234"},
    )
    assert response.status_code == 422
    assert "alert-danger" in response.get_data(as_text=True)
    empty = client.post(f"/cases/{centre.case.id}/offers", data={})
    assert empty.status_code == 400
    assert count(Offer) == 0


def test_the_portal_keeps_forms_from_those_who_may_not_act(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    for user in (centre.police, centre.judge):
        client = portal(centre, user)
        page = client.get(f"/cases/{centre.case.id}/offers").get_data(as_text=True)
        assert f'data-testid="offer-{offer.id}"' in page
        assert 'data-testid="offer-form"' not in page
        assert f'data-testid="answer-{offer.id}"' not in page
        refused = client.post(f"/cases/{centre.case.id}/offers/{offer.id}/accept", data={})
        assert refused.status_code == 403
    other = portal(centre, centre.other_mediator)
    assert other.get(f"/cases/{centre.case.id}/offers").status_code == 404
    assert status_of(offer.id) == OfferStatus.OPEN


# -- guard rails ------------------------------------------------------------------------------


def test_an_offer_above_the_assessment_needs_a_reason_naming_the_difference(
    centre: Centre,
) -> None:
    assessed = centre.assessed("commercial:甲方")
    above = assessed + Decimal("1500.00")
    refused = centre.post(centre.adjuster, "", {"payer": "commercial:甲方", "amount": str(above)})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "reason_required"
    assert "1500.00 yuan above the assessed amount" in error["message"]
    assert "（甲方 商业三者险）" in error["message"]  # the payer in words, not its code
    assert "commercial:" not in error["message"]
    assert count(Offer) == 0

    made = centre.post(
        centre.adjuster,
        "",
        {"payer": "commercial:甲方", "amount": str(above), "reason": "含后续治疗费"},
    )
    assert made.status_code == 201, made.get_json()
    offer = session.get(Offer, made.get_json()["id"])
    assert offer.reason == "含后续治疗费"
    (event,) = events("offer.made")
    assert event.details["content"]["reason"] == "含后续治疗费"
    assert offers.verify_offer(offer)
    # the reason is part of what the digest proves
    session.execute(text("UPDATE offers SET reason = '另议' WHERE id = :id"), {"id": offer.id})
    session.expire_all()
    assert not offers.verify_offer(session.get(Offer, offer.id))


def test_an_offer_within_the_assessment_hashes_as_offers_always_did(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="1000")
    content = offers.offer_content(offer)
    assert "reason" not in content  # offers made before reasons existed still verify
    assert offers.verify_offer(offer)


def test_a_ctpi_offer_above_its_limits_names_both_differences(centre: Centre) -> None:
    assessed = centre.assessed("ctpi:甲方")
    # 2020 limits with fault (DOMAIN.md §2.4): 180,000 + 18,000 + 2,000
    assert offers.ctpi_limit(assessments.latest_assessment(centre.reload()), "ctpi:甲方") == (
        Decimal("200000.00")
    )
    refused = centre.post(centre.adjuster, "", {"payer": "ctpi:甲方", "amount": "250000"})
    assert refused.status_code == 422
    message = refused.get_json()["error"]["message"]
    assert f"{Decimal('250000') - assessed:.2f} yuan above the assessed amount" in message
    assert "50000.00 yuan above the compulsory insurance limits that apply (200000.00" in message


def test_an_amount_the_platform_cannot_record_is_refused_clearly(centre: Centre) -> None:
    for amount in ("1000000000000", 10**15, "99999999999999999.99"):
        refused = centre.post(
            centre.adjuster, "", {"payer": "ctpi:甲方", "amount": amount, "reason": "x"}
        )
        assert refused.status_code == 422, amount
        assert refused.get_json()["error"]["code"] == "amount_too_large"
        assert "more than the platform can record" in refused.get_json()["error"]["message"]
    assert count(Offer) == 0


def test_the_portal_asks_for_the_reason_with_the_difference(centre: Centre) -> None:
    client = portal(centre, centre.adjuster)
    assessed = centre.assessed("commercial:甲方")
    data = {
        "version": str(centre.reload().version),
        "payer": "commercial:甲方",
        "amount": str(assessed + Decimal("800")),
    }
    response = client.post(f"/cases/{centre.case.id}/offers", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-testid="reason-needed"' in page
    assert 'name="reason"' in page
    assert "800.00 yuan above the assessed amount" in page
    assert count(Offer) == 0
    response = client.post(
        f"/cases/{centre.case.id}/offers", data={**data, "reason": "含后续治疗费"}
    )
    assert response.status_code == 302
    assert session.scalars(select(Offer)).one().reason == "含后续治疗费"


# -- withdrawal -------------------------------------------------------------------------------


def test_the_maker_withdraws_an_open_offer(centre: Centre) -> None:
    offer = centre.offer(
        centre.adjuster, payer="ctpi:甲方", amount="10000", expires_at=utcnow() + timedelta(days=2)
    )
    assert centre.post(centre.mediator, f"/{offer.id}/withdraw").status_code == 403
    response = centre.post(centre.adjuster, f"/{offer.id}/withdraw", {})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "withdrawn"
    assert status_of(offer.id) == OfferStatus.WITHDRAWN
    deadline = session.scalars(
        select(Deadline).where(Deadline.subject == f"offer:{offer.id}")
    ).one()
    assert deadline.status == DeadlineStatus.CANCELLED
    (event,) = events("offer.withdrawn")
    assert event.details["digest"] == offer.digest
    assert event.actor_id == centre.adjuster.id
    (note,) = session.scalars(select(Notification).where(Notification.kind == "offer.withdrawn"))
    assert note.user_id == centre.mediator.id
    assert offers.verify_offer(session.get(Offer, offer.id))

    answered = centre.post(centre.mediator, f"/{offer.id}/accept")
    assert answered.status_code == 409
    assert answered.get_json()["error"]["code"] == "offer_withdrawn"
    assert "was withdrawn" in answered.get_json()["error"]["message"]
    again = centre.post(centre.adjuster, f"/{offer.id}/withdraw")
    assert again.status_code == 409
    assert "only an open offer can be withdrawn" in again.get_json()["error"]["message"]


def test_an_answered_offer_cannot_be_withdrawn(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    assert centre.post(centre.mediator, f"/{offer.id}/reject").status_code == 200
    response = centre.post(centre.adjuster, f"/{offer.id}/withdraw")
    assert response.status_code == 409
    assert status_of(offer.id) == OfferStatus.REJECTED


def test_the_withdrawal_is_in_the_openapi_document(centre: Centre) -> None:
    document = centre.app.test_client().get("/api/v1/openapi.json").get_json()
    assert "post" in document["paths"]["/cases/{case_id}/offers/{offer_id}/withdraw"]


def test_the_portal_withdraws_an_offer_from_its_row(centre: Centre) -> None:
    offer = centre.offer(centre.adjuster, payer="ctpi:甲方", amount="10000")
    mediator_page = portal(centre, centre.mediator).get(f"/cases/{centre.case.id}/offers")
    assert f'data-testid="withdraw-{offer.id}"' not in mediator_page.get_data(as_text=True)
    client = portal(centre, centre.adjuster)
    page = client.get(f"/cases/{centre.case.id}/offers").get_data(as_text=True)
    assert f'data-testid="withdraw-{offer.id}"' in page
    response = client.post(
        f"/cases/{centre.case.id}/offers/{offer.id}/withdraw",
        data={"version": str(centre.reload().version)},
    )
    assert response.status_code == 302
    assert status_of(offer.id) == OfferStatus.WITHDRAWN
    page = client.get(f"/cases/{centre.case.id}/offers").get_data(as_text=True)
    assert f'data-testid="withdraw-{offer.id}"' not in page
    assert 'data-status="withdrawn"' in page


# -- the agreement on the last acceptance -----------------------------------------------------


def settle(centre: Centre, payer: str, accept_as: User) -> Any:
    offer = centre.offer(centre.adjuster, payer=payer, amount=str(centre.assessed(payer)))
    return centre.post(accept_as, f"/{offer.id}/accept", {})


def test_the_last_acceptance_drafts_the_agreement(centre: Centre) -> None:
    assert settle(centre, "ctpi:甲方", centre.mediator).status_code == 200
    assert agreements.current_agreement(centre.reload()) is None  # a payer still disagrees
    response = settle(centre, "commercial:甲方", centre.mediator)
    assert response.status_code == 200
    assert response.get_json()["status"] == "accepted"
    agreement = agreements.current_agreement(centre.reload())
    assert agreement is not None
    assert agreement.status == AgreementStatus.DRAFT
    assert agreement.data["payment_method"] == offers.DEFAULT_PAYMENT_METHOD
    assert agreement.data["payment_due"] == agreements.default_payment_due().isoformat()
    assert {p["payer"] for p in agreement.data["payers"]} == {"ctpi:甲方", "commercial:甲方"}
    assert agreement.created_by_id == centre.mediator.id
    assert len(events("agreement.drafted")) == 1


def test_an_adjusters_last_acceptance_drafts_it_for_the_assigned_mediator(
    centre: Centre,
) -> None:
    centre.reload().mediator_id = centre.mediator.id
    session.commit()
    settle(centre, "ctpi:甲方", centre.mediator)
    demand = centre.offer(
        centre.mediator, payer="commercial:甲方", amount=str(centre.assessed("commercial:甲方"))
    )
    assert centre.post(centre.adjuster, f"/{demand.id}/accept", {}).status_code == 200
    agreement = agreements.current_agreement(centre.reload())
    assert agreement is not None
    assert agreement.created_by_id == centre.mediator.id


def test_the_portal_lands_on_the_drafted_agreement(centre: Centre) -> None:
    settle(centre, "ctpi:甲方", centre.mediator)
    offer = centre.offer(
        centre.adjuster, payer="commercial:甲方", amount=str(centre.assessed("commercial:甲方"))
    )
    client = portal(centre, centre.mediator)
    page = client.get(f"/cases/{centre.case.id}/offers").get_data(as_text=True)
    assert "data-confirm" not in page  # accepting binds nobody until the agreement is signed
    response = client.post(
        f"/cases/{centre.case.id}/offers/{offer.id}/accept",
        data={"version": str(centre.reload().version)},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{centre.case.id}/agreement")
