"""The JSON API under /api/v1 (INTERFACES.md §4): bearer tokens, one error format."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app import access, presenters, validation, workflow
from app.db import AfterCommit, keep_on_error
from app.errors import TooManyAttempts, ValidationFailed, error_response
from app.models import Case, CaseStatus, Role
from app.services import accounts, assessments, documents, intake, liability
from app.services import cases as case_service
from app.services import jobs as job_service
from app.validation import Body
from app.web import csrf
from blueprints import api_bodies as bodies
from blueprints.documents import file_response
from blueprints.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # the API authenticates every write by bearer token, never by cookie
access.guard_blueprint(bp, Role, public=("issue_token", "openapi"))


@bp.before_request
def _writes_need_a_token():
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint == "api.issue_token":
        return None
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return error_response(
            401, "unauthorized", "API writes need an Authorization: Bearer token."
        )
    return None


def read_body(declared: Body) -> dict[str, Any]:
    """The request's JSON body read with its declaration (blueprints/api_bodies.py); a body
    declaring the case version gets it from the body or the If-Match header, else 428."""
    if not request.get_data():
        body = declared.read(None)
    else:
        sent = request.get_json(silent=True)
        body = declared.read(sent if sent is not None else "")
    if declared.versioned:
        body["version"] = request_version(body.get("version"))
    return body


def request_version(sent: int | None) -> int:
    """The case version the request was made from: `sent` or its If-Match ETag (428 if none)."""
    return validation.required_version(
        sent,
        if_match=request.headers.get("If-Match"),
        case_id=(request.view_args or {}).get("case_id"),
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.post("/tokens")
def issue_token():
    body = read_body(bodies.TOKEN)
    try:
        user = accounts.authenticate(
            username=body["username"],
            password=body["password"],
            ip=request.remote_addr or "unknown",
        )
    except (accounts.LoginFailed, TooManyAttempts) as exc:
        keep_on_error()  # failures count towards lockout and throttle
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        return error_response(status, "unauthorized" if status == 401 else exc.code, exc.message)
    issued = accounts.issue_token(user=user, hours=current_app.config["API_TOKEN_HOURS"])
    return jsonify(token=issued.token, expires_at=presenters.iso(issued.expires_at)), 201


@bp.delete("/tokens/current")
def revoke_token():
    read_body(bodies.NO_BODY)
    token = request.headers["Authorization"].removeprefix("Bearer ").strip()
    accounts.revoke_token(user=current_user, token=token)
    return "", 204


@bp.get("/me")
def me():
    return jsonify(presenters.user_json(current_user))


@bp.get("/cases")
def list_cases():
    status_arg = request.args.get("status")
    if status_arg and status_arg not in set(CaseStatus):
        raise ValidationFailed(_("Unknown status %(status)s.", status=status_arg))
    try:
        result = case_service.search_cases(
            user=current_user,
            status=CaseStatus(status_arg) if status_arg else None,
            q=request.args.get("q"),
            page=request.args.get("page", 1, type=int),
            after=request.args.get("after"),
            before=request.args.get("before"),
        )
    except ValueError as exc:
        raise ValidationFailed(
            _("`after` and `before` take a cursor from a previous answer.")
        ) from exc
    return jsonify(
        items=[presenters.case_summary_json(case) for case in result.items],
        next=result.next,
        next_cursor=result.next_cursor,
        previous_cursor=result.previous_cursor,
        total=result.total,
        total_exact=result.exact,
    )


@bp.post("/cases")
def create_case():
    access.require_role(current_user, Role.POLICE)
    validation.check_form([*request.form, *request.files], ("report",))
    upload = request.files.get("report")
    if upload is None:
        raise ValidationFailed(_("Send the accident letter as the multipart field `report`."))
    case = intake.upload_report(actor=current_user, filename=upload.filename, data=upload.read())
    return AfterCommit(
        lambda: (
            jsonify(presenters.case_json(case, case_service.case_jobs(case), reader=current_user)),
            202,
        )
    )


def case_with_liability(case: Case) -> dict:
    """The case as GET /cases/{id} shows it: with whether its liability waits for a decision."""
    return {
        **presenters.case_json(case, case_service.case_jobs(case), reader=current_user),
        "liability": presenters.liability_json(
            liability.pending_parties(case), liability.latest_decision(case)
        ),
    }


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):
    case = access.get_case(current_user, case_id)
    answer = jsonify(case_with_liability(case))
    answer.headers["ETag"] = validation.case_etag(case)  # for If-Match on the case's writes
    return answer


@bp.post("/cases/<int:case_id>/confirm")
def confirm_case(case_id: int):
    case = access.get_case(current_user, case_id)
    body = read_body(bodies.CONFIRM)
    intake.confirm_report(
        actor=current_user, case=case, fields=body["fields"], version=body["version"]
    )
    return jsonify(presenters.case_json(case, case_service.case_jobs(case), reader=current_user))


@bp.post("/cases/<int:case_id>/withdraw")
def withdraw_case(case_id: int):
    case = access.get_case(current_user, case_id)
    body = read_body(bodies.CASE_VERSION)
    intake.withdraw_case(actor=current_user, case=case, version=body["version"])
    return jsonify(presenters.case_json(case, case_service.case_jobs(case), reader=current_user))


@bp.get("/cases/<int:case_id>/actions")
def list_actions(case_id: int):
    """What the caller may do next on the case (INTERFACES.md §4), in workflow order."""
    case = access.get_case(current_user, case_id)
    return jsonify(
        [
            {**action, "deadline": presenters.iso(action["deadline"])}
            for action in workflow.allowed_actions(case, current_user)
        ]
    )


@bp.get("/cases/<int:case_id>/documents")
def list_documents(case_id: int):
    case = access.get_case(current_user, case_id)
    return jsonify(items=[presenters.document_json(doc) for doc in documents.case_documents(case)])


@bp.post("/cases/<int:case_id>/documents")
def add_documents(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.POLICE, Role.MEDIATOR)
    validation.check_form([*request.form, *request.files], ("file", "kind", "description"))
    files = request.files.getlist("file")
    if not files:
        raise ValidationFailed(_("Send the files as the multipart field `file`."))
    added = documents.attach_evidence_files(
        actor=current_user,
        case=case,
        kind=request.form.get("kind", "other"),
        files=[(upload.filename, upload.read()) for upload in files],
        description=request.form.get("description"),
    )
    return jsonify(items=[presenters.document_json(doc) for doc in added]), 201


@bp.get("/documents/<int:document_id>/content")
def document_content(document_id: int):
    return file_response(document_id)


@bp.post("/cases/<int:case_id>/parties/<int:party_id>/id-number")
def reveal_id_number(case_id: int, party_id: int):
    case = access.get_case(current_user, case_id)
    read_body(bodies.NO_BODY)
    id_number = intake.reveal_id_number(actor=current_user, case=case, party_id=party_id)
    return jsonify(id_number=id_number)


@bp.put("/cases/<int:case_id>/claims")
def file_claims(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    claims = read_body(bodies.CLAIMS)
    version = claims.pop("version")
    claim, job = assessments.file_claims(
        actor=current_user, case=case, data=claims, version=version
    )
    return AfterCommit(
        lambda: (
            jsonify(
                claim=presenters.claim_json(claim),
                job=presenters.job_json(job),
                case=presenters.case_summary_json(case),
            ),
            202,
        )
    )


@bp.get("/cases/<int:case_id>/claims")
def get_claims(case_id: int):
    case = access.get_case(current_user, case_id)
    claim = assessments.latest_claim(case)
    if claim is None:
        return error_response(404, "not_found", _("No claims have been filed for this case."))
    return jsonify(presenters.claim_json(claim))


@bp.get("/cases/<int:case_id>/assessment")
def get_assessment(case_id: int):
    case = access.get_case(current_user, case_id)
    assessment = assessments.latest_assessment(case)
    if assessment is None:
        return error_response(404, "not_found", _("The case has no assessment yet."))
    return jsonify(presenters.assessment_json(assessment))


@bp.get("/cases/<int:case_id>/assessments")
def list_assessments(case_id: int):
    case = access.get_case(current_user, case_id)
    return jsonify(
        items=[
            {
                "assessment_id": a.id,
                "claim_id": a.claim_id,
                "created_at": presenters.iso(a.created_at),
                "fingerprint": a.fingerprint,
                "totals": a.result["totals"],
            }
            for a in assessments.case_assessments(case)
        ]
    )


@bp.post("/cases/<int:case_id>/assessment/what-if")
def what_if(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR, Role.JUDGE)
    result = assessments.what_if(actor=current_user, case=case, changes=read_body(bodies.WHAT_IF))
    return jsonify(result)


@bp.get("/jobs/<int:job_id>")
def get_job(job_id: int):
    return jsonify(presenters.job_json(job_service.get_job(current_user, job_id)))
