"""API routes: the settlement agreement: drafting its PDF and recording the signatures."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app import access, presenters, validation
from app.errors import NotFound, ValidationFailed
from app.models import Agreement, Case, Role
from app.services import agreements, copies
from blueprints import api_bodies as bodies
from blueprints.api import bp, read_body, request_version
from blueprints.openapi import op, path_id


def agreement_json(agreement: Agreement, case: Case) -> dict[str, Any]:
    """An agreement with its PDF, its signed scan and the case's new state."""
    pdf, scan = agreements.agreement_documents(agreement)
    return {
        "id": agreement.id,
        "case_id": agreement.case_id,
        "status": agreement.status.value,
        "sha256": agreement.sha256,
        "document_id": agreement.document_id,
        "document": presenters.document_json(pdf),
        "signers": agreement.signers,
        "signed_scan_id": agreement.signed_scan_id,
        "signed_scan": presenters.document_json(scan) if scan else None,
        "signed_at": presenters.iso(agreement.signed_at),
        "created_at": presenters.iso(agreement.created_at),
        "data": copies.agreement_data_for(current_user, agreement),
        "case": presenters.case_summary_json(case),
    }


@bp.post("/cases/<int:case_id>/agreement")
def draft_agreement(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    body = read_body(bodies.AGREEMENT)
    agreement = agreements.draft_agreement(
        actor=current_user,
        case=case,
        payment_method=body["payment_method"],
        payment_due=body["payment_due"],
        version=body["version"],
    )
    return jsonify(agreement_json(agreement, case)), 201


@bp.get("/cases/<int:case_id>/agreement")
def get_agreement(case_id: int):
    case = access.get_case(current_user, case_id)
    agreement = agreements.current_agreement(case)
    if agreement is None:
        raise NotFound(_("No agreement has been drafted for this case yet."))
    return jsonify(agreement_json(agreement, case))


@bp.post("/cases/<int:case_id>/agreement/sign")
def sign_agreement(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    validation.check_form([*request.form, *request.files], ("signer", "scan", "version"))
    scan = request.files.get("scan")
    if scan is None:
        raise ValidationFailed(
            _("Send the signed agreement as the multipart field `scan`."), field="scan"
        )
    agreement = agreements.sign_agreement(
        actor=current_user,
        case=case,
        signers=request.form.getlist("signer"),
        filename=scan.filename,
        data=scan.read(),
        version=request_version(validation.form_version(request.form.get("version"))),
    )
    return jsonify(agreement_json(agreement, case))


_DRAFT = op(
    "The mediator drafts the settlement agreement (调解协议书) PDF from the accepted offers; "
    "409 naming the payers without an accepted offer; an earlier draft is superseded",
    ok="201",
    params=[path_id("case_id")],
    errors=("401", "403", "404", "409", "422"),
    body=bodies.AGREEMENT,
)
_SIGN = op(
    "The mediator records that every party and payer signed the draft in person and uploads "
    "the signed scan: negotiating → agreed; starts the confirmation and payment timers",
    params=[path_id("case_id")],
    errors=("401", "403", "404", "409", "413", "422"),
    multipart={
        "signer": "repeated: each signatory id of the agreement (甲方, victim:v2, ctpi:甲方…)",
        "scan": "the signed agreement: PDF, JPEG or PNG, at most 20 MB",
        "version": "the case version the form was made from (or an If-Match header with the "
        "case's ETag); without either 428 version_required, a stale one 409",
    },
    versioned=True,
)
_SIGN_SCHEMA = _SIGN["requestBody"]["content"]["multipart/form-data"]["schema"]
_SIGN_SCHEMA["required"] = ["scan", "version"]
_SIGN_FIELDS = _SIGN_SCHEMA["properties"]
_SIGN_FIELDS["signer"] = {
    "type": "array",
    "items": {"type": "string"},
    "description": _SIGN_FIELDS["signer"]["description"],
}
_SIGN_FIELDS["scan"]["format"] = "binary"
_SIGN_FIELDS["version"]["type"] = "integer"
_SIGN_FIELDS["version"].pop("format")

OPENAPI_PATHS: dict[str, Any] = {
    "/cases/{case_id}/agreement": {
        "post": _DRAFT,
        "get": op(
            "The case's agreement in force (draft or signed): data, sha256, PDF document, "
            "signers and signed scan",
            params=[path_id("case_id")],
        ),
    },
    "/cases/{case_id}/agreement/sign": {"post": _SIGN},
}
