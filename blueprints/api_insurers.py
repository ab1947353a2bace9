"""API routes: insurers' claim data and payments."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app import access, presenters
from app.db import AfterCommit
from app.errors import ValidationFailed
from app.models import Case, CaseStatus, Payment, Role
from app.money import amount_text, optional_amount_text
from app.services import insurers, payments
from blueprints import api_bodies as bodies
from blueprints.api import bp, read_body
from blueprints.openapi import op, path_id

# -- JSON shapes ------------------------------------------------------------------------------


def desk_entry_json(entry: insurers.DeskEntry) -> dict[str, Any]:
    """One case of the insurer desk with the insurer's exposure under the latest assessment."""
    return {
        "case": presenters.case_summary_json(entry.case),
        "payers": entry.payers,
        "assessed": entry.assessed,
        "assessment_id": entry.assessment.id if entry.assessment else None,
        "assessed_at": presenters.iso(entry.assessment.created_at) if entry.assessment else None,
        "exposure": [
            {
                "payer": item.payer,
                "amount": amount_text(item.amount),
                "buckets": {b: amount_text(amount) for b, amount in item.buckets.items()},
            }
            for item in entry.exposure
        ],
        "ctpi": optional_amount_text(entry.ctpi),
        "ctpi_buckets": (
            {bucket: amount_text(amount) for bucket, amount in entry.bucket_totals.items()}
            if entry.assessed
            else None
        ),
        "commercial": optional_amount_text(entry.commercial),
        "total": optional_amount_text(entry.total),
        "advanced": amount_text(entry.advanced),
        "net": optional_amount_text(entry.net),
    }


def claim_json(case: Case, org_id: int) -> dict[str, Any]:
    """The insurer's claim data for `case` with the policies the report names."""
    record = insurers.insurer_claim(case, org_id)
    return {
        "case_id": case.id,
        "insurer_org_id": org_id,
        "version": record.version if record else None,
        "policies": record.policies if record else {},
        "advanced": amount_text(record.advanced) if record else "0.00",
        "advance_note": record.advance_note if record else None,
        "updated_at": presenters.iso(record.updated_at) if record else None,
        "parties": [
            {
                "label": party.label,
                "name": party.name,
                "plate": party.plate,
                "ctpi": party.ctpi,
                "commercial": (
                    {**party.commercial, "limit": optional_amount_text(party.commercial["limit"])}
                    if party.commercial
                    else None
                ),
            }
            for party in insurers.covered_parties(case, org_id)
        ],
    }


def payment_json(payment: Payment, late: bool | None = None) -> dict[str, Any]:
    return {
        "id": payment.id,
        "payer": payment.payer,
        "amount": amount_text(payment.amount),
        "paid_on": payment.paid_on.isoformat(),
        "reference": payment.reference,
        "late": late,
        "created_at": presenters.iso(payment.created_at),
    }


def status_json(case: Case) -> dict[str, Any]:
    """Per payer of the signed agreement: agreed, paid, outstanding, due, partial, late."""
    agreement = payments.signed_agreement(case)
    return {
        "case": presenters.case_summary_json(case),
        "agreement_id": agreement.id if agreement else None,
        "items": [
            {
                "payer": row["payer"],
                "label": row["label"],
                "agreed": amount_text(row["agreed"]),
                "paid": amount_text(row["paid"]),
                "outstanding": amount_text(row["outstanding"]),
                "due": row["due"].isoformat() if row["due"] else None,
                "covered": row["covered"],
                "partial": row["partial"],
                "overdue": row["overdue"],
                "late": row["late"],
                "payments": [payment_json(p["payment"], p["late"]) for p in row["payments"]],
            }
            for row in payments.payment_status(case)
        ],
    }


# -- routes -----------------------------------------------------------------------------------


@bp.get("/insurer/cases")
def insurer_desk():
    access.require_role(current_user, Role.ADJUSTER)
    status_arg = request.args.get("status")
    if status_arg and status_arg not in set(CaseStatus):
        raise ValidationFailed(_("Unknown status %(status)s.", status=status_arg))
    try:
        desk = insurers.insurer_desk(
            actor=current_user,
            status=CaseStatus(status_arg) if status_arg else None,
            page=request.args.get("page", 1, type=int),
            after=request.args.get("after"),
            before=request.args.get("before"),
        )
    except ValueError as exc:
        raise ValidationFailed(
            _("`after` and `before` take a cursor from a previous answer.")
        ) from exc
    return jsonify(
        items=[desk_entry_json(entry) for entry in desk.entries],
        next=desk.page.next,
        next_cursor=desk.page.next_cursor,
        previous_cursor=desk.page.previous_cursor,
        total=desk.page.total,
        total_exact=desk.page.exact,
    )


@bp.get("/cases/<int:case_id>/insurer-claim")
def get_insurer_claim(case_id: int):
    case = access.get_case(current_user, case_id)
    entry = insurers.desk_entry(actor=current_user, case=case)
    return jsonify(**claim_json(case, current_user.org_id), exposure=desk_entry_json(entry))


@bp.put("/cases/<int:case_id>/insurer-claim")
def save_insurer_claim(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.ADJUSTER)
    body = read_body(bodies.INSURER_CLAIM)
    insurers.save_insurer_claim(
        actor=current_user,
        case=case,
        policies=body["policies"],
        advanced=body["advanced"],
        advance_note=body["advance_note"],
        version=body["version"],
    )
    return AfterCommit(lambda: _saved_claim_json(case))


def _saved_claim_json(case: Case):
    entry = insurers.desk_entry(actor=current_user, case=case)
    return jsonify(**claim_json(case, current_user.org_id), exposure=desk_entry_json(entry))


@bp.get("/cases/<int:case_id>/payments")
def payment_status(case_id: int):
    case = access.get_case(current_user, case_id)
    return jsonify(status_json(case))


@bp.post("/cases/<int:case_id>/payments")
def record_payment(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.ADJUSTER, Role.MEDIATOR)
    body = read_body(bodies.PAYMENT)
    payment = payments.record_payment(
        actor=current_user,
        case=case,
        payer=body["payer"],
        amount=body["amount"],
        reference=body["reference"],
        paid_on=body["paid_on"],
        version=body["version"],
    )
    return jsonify(payment=payment_json(payment), **status_json(case)), 201


OPENAPI_PATHS: dict[str, Any] = {
    "/insurer/cases": {
        "get": op(
            "Adjusters: the cases that touch the caller's insurer, newest first, each with its "
            "payers and their exposure under the latest assessment (交强险 by bucket, "
            "commercial, total, less the amount advanced); assessed=false before an assessment",
            errors=("401", "403", "422"),
            params=[
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "description": "only this status",
                    "schema": {"type": "string"},
                }
            ],
        )
    },
    "/cases/{case_id}/insurer-claim": {
        "get": op(
            "An adjuster of an insurer on the case: the insurer's claim data (policy numbers, "
            "commercial limit, exclusions with reason, amount advanced), the parties whose "
            "vehicle it covers, and its exposure",
            params=[path_id("case_id")],
        ),
        "put": op(
            "An adjuster saves the insurer's claim data; the assessment is re-run (a new one "
            "is stored if its input changed). Only parties whose vehicle the insurer covers; "
            "an exclusion needs its reason; a field left out keeps its saved value; while "
            "reported, assessing or negotiating",
            params=[path_id("case_id")],
            errors=("401", "403", "404", "409", "422"),
            body=bodies.INSURER_CLAIM,
        ),
    },
    "/cases/{case_id}/payments": {
        "get": op(
            "Everyone who sees the case: per payer of the signed agreement, agreed, paid, "
            "outstanding, due date, partial and late flags, and the payments",
            params=[path_id("case_id")],
        ),
        "post": op(
            "Record a payment: an adjuster for the payers their insurer pays, the case's "
            "mediator for a party. When every payer has paid its agreed amount the case "
            "becomes paid (agreed or confirmed → paid)",
            ok="201",
            params=[path_id("case_id")],
            errors=("401", "403", "404", "409", "422"),
            body=bodies.PAYMENT,
        ),
    },
}
