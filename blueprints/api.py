"""The JSON API under /api/v1 (INTERFACES.md §4): bearer tokens, one error format."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app import access, presenters
from app.db import session
from app.errors import TooManyAttempts, ValidationFailed, error_response
from app.models import Case, CaseStatus, Role
from app.services import accounts, assessments, documents, intake, liability
from app.services import cases as case_service
from app.services import jobs as job_service
from app.web import csrf
from blueprints.documents import file_response
from blueprints.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # the API authenticates every write by bearer token, never by cookie
access.guard_blueprint(bp, Role, public=("issue_token", "openapi"))


@bp.before_request
def _writes_need_a_token():  # type: ignore[no-untyped-def]
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint == "api.issue_token":
        return None
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return error_response(
            401, "unauthorized", "API writes need an Authorization: Bearer token."
        )
    return None


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed(_("The request body must be a JSON object."))
    return body


def optional_json_body() -> dict:
    """The JSON object sent, or {} when nothing was sent (a body that is not JSON is refused)."""
    if not request.get_data():
        return {}
    return json_body()


def only_fields(body: dict, allowed: tuple[str, ...]) -> dict:
    """`body`, refused (422 naming the field) if it has a field not in `allowed`."""
    for key in body:
        if key not in allowed:
            raise ValidationFailed(_("Unknown field %(field)s.", field=key), field=key)
    return body


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify(openapi_document())


@bp.post("/tokens")
def issue_token():  # type: ignore[no-untyped-def]
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ValidationFailed(_("Send username and password as strings."))
    try:
        user = accounts.authenticate(
            username=username, password=password, ip=request.remote_addr or "unknown"
        )
    except (accounts.LoginFailed, TooManyAttempts) as exc:
        session.commit()  # failures count towards lockout and throttle
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        return error_response(status, "unauthorized" if status == 401 else exc.code, exc.message)
    issued = accounts.issue_token(user=user, hours=current_app.config["API_TOKEN_HOURS"])
    session.commit()
    return jsonify(token=issued.token, expires_at=presenters.iso(issued.expires_at)), 201


@bp.delete("/tokens/current")
def revoke_token():  # type: ignore[no-untyped-def]
    token = request.headers["Authorization"].removeprefix("Bearer ").strip()
    accounts.revoke_token(user=current_user, token=token)
    session.commit()
    return "", 204


@bp.get("/me")
def me():  # type: ignore[no-untyped-def]
    return jsonify(presenters.user_json(current_user))


@bp.get("/cases")
def list_cases():  # type: ignore[no-untyped-def]
    status_arg = request.args.get("status")
    if status_arg and status_arg not in set(CaseStatus):
        raise ValidationFailed(_("Unknown status %(status)s.", status=status_arg))
    result = case_service.search_cases(
        user=current_user,
        status=CaseStatus(status_arg) if status_arg else None,
        q=request.args.get("q"),
        page=request.args.get("page", 1, type=int),
    )
    return jsonify(
        items=[presenters.case_summary_json(case) for case in result.items],
        next=result.next,
        total=result.total,
    )


@bp.post("/cases")
def create_case():  # type: ignore[no-untyped-def]
    access.require_role(current_user, Role.POLICE)
    upload = request.files.get("report")
    if upload is None:
        raise ValidationFailed(_("Send the accident letter as the multipart field `report`."))
    case = intake.upload_report(actor=current_user, filename=upload.filename, data=upload.read())
    session.commit()
    session.refresh(case)  # without Redis the reading ran right after the commit
    return jsonify(presenters.case_json(case, case_service.case_jobs(case))), 202


def case_with_liability(case: Case) -> dict:
    """The case as GET /cases/{id} shows it: with whether its liability waits for a decision."""
    return {
        **presenters.case_json(case, case_service.case_jobs(case)),
        "liability": presenters.liability_json(
            liability.pending_parties(case), liability.latest_decision(case)
        ),
    }


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    return jsonify(case_with_liability(case))


def body_version(body: dict) -> int | None:
    version = body.get("version")
    if version is not None and not isinstance(version, int):
        raise ValidationFailed(_("version must be a whole number."))
    return version


@bp.post("/cases/<int:case_id>/confirm")
def confirm_case(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict) or not isinstance(body.get("fields") or {}, dict):
        raise ValidationFailed(_('Send {"version": …, "fields": {…}} as JSON.'))
    intake.confirm_report(
        actor=current_user, case=case, fields=body.get("fields"), version=body_version(body)
    )
    session.commit()
    return jsonify(presenters.case_json(case, case_service.case_jobs(case)))


@bp.post("/cases/<int:case_id>/withdraw")
def withdraw_case(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    intake.withdraw_case(
        actor=current_user, case=case, version=body_version(request.get_json(silent=True) or {})
    )
    session.commit()
    return jsonify(presenters.case_json(case, case_service.case_jobs(case)))


@bp.get("/cases/<int:case_id>/documents")
def list_documents(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    return jsonify(items=[presenters.document_json(doc) for doc in documents.case_documents(case)])


@bp.post("/cases/<int:case_id>/documents")
def add_documents(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.POLICE, Role.MEDIATOR)
    files = request.files.getlist("file")
    if not files:
        raise ValidationFailed(_("Send the files as the multipart field `file`."))
    added = [
        documents.attach_evidence(
            actor=current_user,
            case=case,
            kind=request.form.get("kind", "other"),
            filename=upload.filename,
            data=upload.read(),
            description=request.form.get("description"),
        )
        for upload in files
    ]
    session.commit()
    return jsonify(items=[presenters.document_json(doc) for doc in added]), 201


@bp.get("/documents/<int:document_id>/content")
def document_content(document_id: int):  # type: ignore[no-untyped-def]
    return file_response(document_id)


@bp.post("/cases/<int:case_id>/parties/<int:party_id>/id-number")
def reveal_id_number(case_id: int, party_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    id_number = intake.reveal_id_number(actor=current_user, case=case, party_id=party_id)
    session.commit()
    return jsonify(id_number=id_number)


@bp.put("/cases/<int:case_id>/claims")
def file_claims(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    body = json_body()
    version = body_version(body)
    claims = {key: value for key, value in body.items() if key != "version"}
    claim, job = assessments.file_claims(
        actor=current_user, case=case, data=claims, version=version
    )
    session.commit()
    session.refresh(case)  # without Redis the assessment ran right after the commit
    return jsonify(
        claim=presenters.claim_json(claim),
        job=presenters.job_json(session.get(type(job), job.id)),
        case=presenters.case_summary_json(case),
    ), 202


@bp.get("/cases/<int:case_id>/claims")
def get_claims(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    claim = assessments.latest_claim(case)
    if claim is None:
        return error_response(404, "not_found", _("No claims have been filed for this case."))
    return jsonify(presenters.claim_json(claim))


@bp.get("/cases/<int:case_id>/assessment")
def get_assessment(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    assessment = assessments.latest_assessment(case)
    if assessment is None:
        return error_response(404, "not_found", _("The case has no assessment yet."))
    return jsonify(presenters.assessment_json(assessment))


@bp.get("/cases/<int:case_id>/assessments")
def list_assessments(case_id: int):  # type: ignore[no-untyped-def]
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
def what_if(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR, Role.JUDGE)
    result = assessments.what_if(actor=current_user, case=case, changes=json_body())
    return jsonify(result)


@bp.get("/jobs/<int:job_id>")
def get_job(job_id: int):  # type: ignore[no-untyped-def]
    return jsonify(presenters.job_json(job_service.get_job(current_user, job_id)))
