"""API routes: offers and counter-offers for each payer (INTERFACES.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from app import access, presenters
from app.db import session
from app.errors import ValidationFailed
from app.models import Case, Offer, Organization, Role, User
from app.services import offers
from blueprints.api import body_version, bp, json_body, only_fields, optional_json_body
from blueprints.openapi import op, path_id

OFFER_FIELDS = ("payer", "amount", "items", "note", "expires_at", "parent_id", "side", "version")
ANSWER_FIELDS = ("note", "version")


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
        "amount": presenters.money(offer.amount),
        "items": offer.items,
        "note": offer.note,
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


def _expiry(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed(
            _(
                "expires_at must be an ISO 8601 date and time with its offset, "
                "e.g. 2024-03-01T18:00:00+08:00."
            ),
            field="expires_at",
        )
    return parsed


def _acting_case(case_id: int) -> Case:
    """The case, if the caller sees it and their role may act on offers (before any body)."""
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.ADJUSTER, Role.MEDIATOR)
    return case


@bp.get("/cases/<int:case_id>/offers")
def list_offers(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    trail = offers.case_offers(case)
    users, orgs = offers.people_of(trail)
    return jsonify(
        items=[offer_json(offer, users, orgs) for offer in trail],
        accepted={payer: offer.id for payer, offer in offers.accepted_offers(case).items()},
        case=presenters.case_summary_json(case),
    )


@bp.post("/cases/<int:case_id>/offers")
def make_offer(case_id: int):  # type: ignore[no-untyped-def]
    case = _acting_case(case_id)
    body = only_fields(json_body(), OFFER_FIELDS)
    offer = offers.make_offer(
        actor=current_user,
        case=case,
        payer=body.get("payer"),
        amount=body.get("amount"),
        items=body.get("items"),
        note=body.get("note"),
        expires_at=_expiry(body.get("expires_at")),
        parent_id=body.get("parent_id"),
        side=body.get("side"),
        version=body_version(body),
    )
    session.commit()
    return jsonify(_one_json(offer)), 201


def _answer(case_id: int, offer_id: int, *, accept: bool):  # type: ignore[no-untyped-def]
    case = _acting_case(case_id)
    body = only_fields(optional_json_body(), ANSWER_FIELDS)
    offer = offers.answer_offer(
        actor=current_user,
        case=case,
        offer_id=offer_id,
        accept=accept,
        note=body.get("note"),
        version=body_version(body),
    )
    session.commit()
    return jsonify(_one_json(offer))


@bp.post("/cases/<int:case_id>/offers/<int:offer_id>/accept")
def accept_offer(case_id: int, offer_id: int):  # type: ignore[no-untyped-def]
    return _answer(case_id, offer_id, accept=True)


@bp.post("/cases/<int:case_id>/offers/<int:offer_id>/reject")
def reject_offer(case_id: int, offer_id: int):  # type: ignore[no-untyped-def]
    return _answer(case_id, offer_id, accept=False)


_OFFER_BODY = {
    "type": "object",
    "required": ["payer"],
    "properties": {
        "payer": {"type": "string", "description": "ctpi:甲方, commercial:甲方 or party:甲方"},
        "amount": {
            "type": "string",
            "description": "yuan, at most two decimals; computed from items when omitted",
        },
        "items": {
            "type": "object",
            "description": "victim id → {item code → amount}: item amounts of the assessment",
        },
        "note": {"type": "string"},
        "expires_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with offset; starts an offer_expiry deadline",
        },
        "parent_id": {"type": "integer", "description": "the open offer this one counters"},
        "side": {
            "type": "string",
            "enum": ["insurer", "claimant", "party"],
            "description": "mediators: claimant (default) or party (a liable party's position "
            "for a party: payer); adjusters: insurer",
        },
        "version": {"type": "integer", "description": "the case's version the caller saw"},
    },
}
_ANSWER_BODY = {
    "type": "object",
    "properties": {"note": {"type": "string"}, "version": {"type": "integer"}},
}
_ANSWER_ERRORS = ("401", "403", "404", "409", "422")


def _optional_body(operation: dict[str, Any]) -> dict[str, Any]:
    operation["requestBody"]["required"] = False
    return operation


OPENAPI_PATHS: dict[str, Any] = {
    "/cases/{case_id}/offers": {
        "get": op(
            "The trail of offers, oldest first, each with its differences from the assessment "
            "(payer total and items) and its digest; accepted: payer → offer id",
            params=[path_id("case_id")],
        ),
        "post": op(
            "An adjuster's offer for a payer of their insurer, or (mediator) the claimant's "
            "counter or a liable party's position; supersedes that side's open offer",
            ok="201",
            params=[path_id("case_id")],
            errors=_ANSWER_ERRORS,
            body=_OFFER_BODY,
        ),
    },
    "/cases/{case_id}/offers/{offer_id}/accept": {
        "post": _optional_body(
            op(
                "The other side accepts an open offer; the payer's other open offers are "
                "superseded",
                params=[path_id("case_id"), path_id("offer_id")],
                errors=_ANSWER_ERRORS,
                body=_ANSWER_BODY,
            )
        )
    },
    "/cases/{case_id}/offers/{offer_id}/reject": {
        "post": _optional_body(
            op(
                "The other side rejects an open offer",
                params=[path_id("case_id"), path_id("offer_id")],
                errors=_ANSWER_ERRORS,
                body=_ANSWER_BODY,
            )
        )
    },
}
