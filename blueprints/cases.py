"""The case list and the case page of the portal."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from app import access
from app.models import CaseStatus, Role
from app.services import cases as case_service

bp = Blueprint("cases", __name__, url_prefix="/cases")
access.guard_blueprint(bp, Role)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    status_arg = request.args.get("status") or None
    status = CaseStatus(status_arg) if status_arg in set(CaseStatus) else None
    result = case_service.search_cases(
        user=current_user,
        status=status,
        q=request.args.get("q"),
        page=request.args.get("page", 1, type=int),
    )
    return render_template(
        "cases/index.html",
        result=result,
        status=status,
        q=request.args.get("q", ""),
        statuses=list(CaseStatus),
    )


@bp.get("/<int:case_id>")
def show(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    return render_template("cases/show.html", case=case, jobs=case_service.case_jobs(case))
