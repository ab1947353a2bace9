"""API routes: offers and counter-offers for each payer (INTERFACES.md §4)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from app import access, presenters
from app.models import Case, Offer, Organization, Role, User
from app.money import amount_text
from app.services import offers
from blueprints import api_bodies as bodies
from blueprints.api import bp, read_body
from blueprints.openapi import op, path_id


def offer_json(
    offer: Offer, users: dict[int, User], orgs: dict[int, Organization]
) -> dict[str, Any]:
    """One offer with who made and answered it and its differences from the assessment."""
    maker = users.get(offer.created_by_id)
    answerer = users.get(offer.answered_by_id) if offer.answered_by_id else None
    org = orgs.get(offer.org_id)
    return {
        "id": offer.id,
        "case_id": offer.case_id,
        "assessment_id": offer.assessment_id,
        "parent_id": offer.parent_id,
        "payer": offer.payer,
        "side": offer.side.value,
        "organization": {"id": offer.org_id, "name": org.name if org else None},
        "amount": amount_text(offer.amount),
        "items": offer.items,
        "note": offer.note,
        "reason": offer.reason,
        "expires_at": presenters.iso(offer.expires_at),
        "status": offer.status.value,
        "digest": offer.digest,
        "created_by": maker.username if maker else None,
        "created_at": presenters.iso(offer.created_at),
        "answered_by": answerer.username if answerer else None,
        "answered_at": presenters.iso(offer.answered_at),
        "answer_note": offer.answer_note,
        "differences": offers.offer_differences(offer),
    }


def _one_json(offer: Offer) -> dict[str, Any]:
    users, orgs = offers.people_of([offer])
    return offer_json(offer, users, orgs)


def _acting_case(case_id: int) -> Case:
    """The case, if the caller sees it and their role may act on offers (before any body)."""
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.ADJUSTER, Role.MEDIATOR)
    return case


@bp.get("/cases/<int:case_id>/offers")
def list_offers(case_id: int):
    case = access.get_case(current_user, case_id)
    trail = offers.case_offers(case)
    users, orgs = offers.people_of(trail)
    return jsonify(
        items=[offer_json(offer, users, orgs) for offer in trail],
        accepted={payer: offer.id for payer, offer in offers.accepted_offers(case).items()},
        case=presenters.case_summary_json(case),
    )


@bp.post("/cases/<int:case_id>/offers")
def make_offer(case_id: int):
    case = _acting_case(case_id)
    body = read_body(bodies.OFFER)
    offer = offers.make_offer(
        actor=current_user,
        case=case,
        payer=body["payer"],
        amount=body["amount"],
        items=body["items"],
        note=body["note"],
        expires_at=body["expires_at"],
        parent_id=body["parent_id"],
        side=body["side"],
        reason=body["reason"],
        version=body["version"],
    )
    return jsonify(_one_json(offer)), 201


def _answer(case_id: int, offer_id: int, *, accept: bool):
    case = _acting_case(case_id)
    body = read_body(bodies.ANSWER)
    offer = offers.answer_offer(
        actor=current_user,
        case=case,
        offer_id=offer_id,
        accept=accept,
        note=body["note"],
        version=body["version"],
    )
    return jsonify(_one_json(offer))


@bp.post("/cases/<int:case_id>/offers/<int:offer_id>/accept")
def accept_offer(case_id: int, offer_id: int):
    return _answer(case_id, offer_id, accept=True)


@bp.post("/cases/<int:case_id>/offers/<int:offer_id>/reject")
def reject_offer(case_id: int, offer_id: int):
    return _answer(case_id, offer_id, accept=False)


@bp.post("/cases/<int:case_id>/offers/<int:offer_id>/withdraw")
def withdraw_offer(case_id: int, offer_id: int):
    case = _acting_case(case_id)
    body = read_body(bodies.WITHDRAWAL)
    offer = offers.withdraw_offer(
        actor=current_user, case=case, offer_id=offer_id, version=body["version"]
    )
    return jsonify(_one_json(offer))


_ANSWER_ERRORS = ("401", "403", "404", "409", "422")


OPENAPI_PATHS: dict[str, Any] = {
    "/cases/{case_id}/offers": {
        "get": op(
            "The trail of offers, oldest first, each with its differences from the assessment "
            "(payer total and items) and its digest; accepted: payer → offer id",
            params=[path_id("case_id")],
        ),
        "post": op(
            "An adjuster's offer for a payer of their insurer, or (mediator) the claimant's "
            "counter or a liable party's position; supersedes that side's open offer. Above the "
            "payer's assessed total (or a ctpi payer's limits) it needs a reason: without one "
            "422 reason_required, naming the difference",
            ok="201",
            params=[path_id("case_id")],
            errors=_ANSWER_ERRORS,
            body=bodies.OFFER,
        ),
    },
    "/cases/{case_id}/offers/{offer_id}/accept": {
        "post": op(
            "The other side accepts an open offer; the payer's other open offers are "
            "superseded. The last acceptance the agreement needs drafts it (payment by bank "
            "transfer, due in the insurer payment period; the mediator may draft again)",
            params=[path_id("case_id"), path_id("offer_id")],
            errors=_ANSWER_ERRORS,
            body=bodies.ANSWER,
        )
    },
    "/cases/{case_id}/offers/{offer_id}/reject": {
        "post": op(
            "The other side rejects an open offer",
            params=[path_id("case_id"), path_id("offer_id")],
            errors=_ANSWER_ERRORS,
            body=bodies.ANSWER,
        )
    },
    "/cases/{case_id}/offers/{offer_id}/withdraw": {
        "post": op(
            "The side that made an open offer withdraws it before it is answered: status "
            "withdrawn, its expiry timer cancelled, the answering side notified; answering it "
            "afterwards is 409 offer_withdrawn",
            params=[path_id("case_id"), path_id("offer_id")],
            errors=_ANSWER_ERRORS,
            body=bodies.WITHDRAWAL,
        )
    },
}
