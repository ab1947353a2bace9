"""API routes: the litigation filing package of a case, and closing a paid case."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from app import access, presenters
from app.db import AfterCommit
from app.errors import NotFound
from app.models import Case
from app.services import closure, litigation
from blueprints import api_bodies as bodies
from blueprints.api import bp, read_body
from blueprints.openapi import op, path_id


def package_json(case: Case) -> dict[str, Any]:
    """The newest filing package of the case (or None), whether it is current, its last job."""
    package = litigation.latest_package(case)
    job = litigation.latest_package_job(case)
    return {
        "case": presenters.case_summary_json(case),
        "package": {
            "document": presenters.document_json(package["document"]),
            "sha256": package["sha256"],
            "key_id": package["key_id"],
            "documents_digest": package["documents_digest"],
            "documents": package["documents"],
            "built_at": presenters.iso(package["built_at"]),
            "current": litigation.is_package_current(case),
        }
        if package
        else None,
        "job": presenters.job_json(job) if job else None,
    }


@bp.post("/cases/<int:case_id>/filing-package")
def request_filing_package(case_id: int):
    case = access.get_case(current_user, case_id)
    read_body(bodies.NO_BODY)
    job = litigation.schedule_filing_package(actor=current_user, case=case)
    return AfterCommit(lambda: (jsonify(package_json(case)), 202 if job is not None else 200))


@bp.get("/cases/<int:case_id>/filing-package")
def get_filing_package(case_id: int):
    case = access.get_case(current_user, case_id)
    body = package_json(case)
    if body["package"] is None and body["job"] is None:
        raise NotFound(_("No filing package has been made for this case."))
    return jsonify(body)


@bp.post("/cases/<int:case_id>/close")
def close_case(case_id: int):
    case = access.get_case(current_user, case_id)
    body = read_body(bodies.CASE_VERSION)
    closure.close_case(actor=current_user, case=case, version=body["version"])
    return jsonify(presenters.case_summary_json(case))


_PACKAGE = {
    "post": op(
        "Build the case's litigation filing package again (a case in litigation; mediators of its "
        "committee, judges of its tribunal, admins): 202 with the job, 200 when the newest "
        "package already holds the case's current documents",
        ok="202",
        params=[path_id("case_id")],
        errors=("401", "403", "404", "409", "422"),
        body=bodies.NO_BODY,
    ),
    "get": op(
        "The newest filing package: its document (a zip), SHA-256, signing key id, whether it "
        "holds the current documents, and the last package job (with a failure's reason); "
        "check the zip with `daojiao bundle verify FILE.zip --public-key platform.pem`",
        params=[path_id("case_id")],
    ),
}
_CLOSE = op(
    "Close a paid case (mediators of its committee, admins): paid → closed; the case is "
    "read-only from then on and its running timers are cancelled",
    params=[path_id("case_id")],
    errors=("401", "403", "404", "409", "422"),
    body=bodies.CASE_VERSION,
)

OPENAPI_PATHS: dict[str, Any] = {
    "/cases/{case_id}/filing-package": _PACKAGE,
    "/cases/{case_id}/close": {"post": _CLOSE},
}
