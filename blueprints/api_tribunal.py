"""API routes: judicial confirmation (司法确认): the mediator's application, the judge's
acceptance, extension and decision (ruling PDF)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from app import access, presenters
from app.db import session
from app.errors import NotFound
from app.models import Case, Confirmation, Document, Organization, Role
from app.services import tribunal
from blueprints import api_bodies as bodies
from blueprints.api import bp, read_body
from blueprints.openapi import op, path_id


def confirmation_json(confirmation: Confirmation, case: Case) -> dict[str, Any]:
    """An application for confirmation, its decision and ruling, and the case's new state."""
    court = session.get(Organization, confirmation.tribunal_org_id)
    ruling = (
        session.get(Document, confirmation.ruling_document_id)
        if confirmation.ruling_document_id
        else None
    )
    details = confirmation.details or {}
    return {
        "id": confirmation.id,
        "case_id": confirmation.case_id,
        "status": confirmation.status.value,
        "tribunal_org_id": confirmation.tribunal_org_id,
        "tribunal": court.name if court else None,
        "agreement_id": confirmation.agreement_id,
        "requested_at": presenters.iso(confirmation.requested_at),
        "accepted_at": presenters.iso(confirmation.accepted_at),
        "extended_at": presenters.iso(confirmation.extended_at),
        "extension_reason": confirmation.extension_reason,
        "decided_at": presenters.iso(confirmation.decided_at),
        "grounds": confirmation.grounds,
        "reason": confirmation.reason,
        "next_step": confirmation.next_step,
        "ruling_number": confirmation.ruling_number,
        "ruling_document_id": confirmation.ruling_document_id,
        "ruling_document": presenters.document_json(ruling) if ruling else None,
        "ruling_sha256": details.get("ruling_sha256"),
        "case": presenters.case_summary_json(case),
    }


@bp.post("/cases/<int:case_id>/confirmation-request")
def request_confirmation(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    body = read_body(bodies.CONFIRMATION_REQUEST)
    confirmation = tribunal.request_confirmation(
        actor=current_user,
        case=case,
        tribunal_org_id=body["tribunal_org_id"],
        version=body["version"],
    )
    return jsonify(confirmation_json(confirmation, case)), 201


@bp.get("/cases/<int:case_id>/confirmation")
def get_confirmation(case_id: int):
    case = access.get_case(current_user, case_id)
    confirmation = tribunal.current_confirmation(case)
    if confirmation is None:
        raise NotFound(_("No judicial confirmation has been applied for on this case."))
    return jsonify(confirmation_json(confirmation, case))


@bp.post("/cases/<int:case_id>/confirmation/accept")
def accept_confirmation(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.JUDGE)
    body = read_body(bodies.CASE_VERSION)
    confirmation = tribunal.accept_application(
        actor=current_user, case=case, version=body["version"]
    )
    return jsonify(confirmation_json(confirmation, case))


@bp.post("/cases/<int:case_id>/confirmation/extend")
def extend_confirmation(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.JUDGE)
    body = read_body(bodies.EXTENSION)
    confirmation = tribunal.extend_decision(
        actor=current_user, case=case, reason=body["reason"], version=body["version"]
    )
    return jsonify(confirmation_json(confirmation, case))


@bp.post("/cases/<int:case_id>/decision")
def decide_confirmation(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.JUDGE)
    body = read_body(bodies.DECISION)
    confirmation = tribunal.decide(
        actor=current_user,
        case=case,
        decision=body["decision"],
        grounds=body["grounds"],
        reason=body["reason"],
        next_step=body["next_step"],
        version=body["version"],
    )
    return jsonify(confirmation_json(confirmation, case))


OPENAPI_PATHS: dict[str, Any] = {
    "/cases/{case_id}/confirmation-request": {
        "post": op(
            "The mediator applies to the tribunal for judicial confirmation of the signed "
            "agreement: agreed → confirming; the tribunal has 3 days to accept. Without "
            "tribunal_org_id the tribunal serving the case's region (or the only one) is used; "
            "422 if none",
            ok="201",
            params=[path_id("case_id")],
            errors=("401", "403", "404", "409", "422"),
            body=bodies.CONFIRMATION_REQUEST,
        )
    },
    "/cases/{case_id}/confirmation": {
        "get": op(
            "The case's latest application for confirmation, its decision and ruling",
            params=[path_id("case_id")],
        )
    },
    "/cases/{case_id}/confirmation/accept": {
        "post": op(
            "A judge of the tribunal accepts the application; the 15-day decision timer starts",
            params=[path_id("case_id")],
            errors=("401", "403", "404", "409"),
            body=bodies.CASE_VERSION,
        )
    },
    "/cases/{case_id}/confirmation/extend": {
        "post": op(
            "A judge extends the decision timer once by 10 days, with a reason; a second "
            "extension is 409",
            params=[path_id("case_id")],
            errors=("401", "403", "404", "409", "422"),
            body=bodies.EXTENSION,
        )
    },
    "/cases/{case_id}/decision": {
        "post": op(
            "A judge decides: confirm → ruling (民事裁定书) PDF with its number, case confirmed; "
            "reject → grounds (民诉解释 art. 358) and reason, case back to negotiating or to "
            "litigation. A still requested application is accepted implicitly",
            params=[path_id("case_id")],
            errors=("401", "403", "404", "409", "422"),
            body=bodies.DECISION,
        )
    },
}
