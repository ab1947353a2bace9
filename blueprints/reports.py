"""The monthly reports (app/monthly_report.py): the list and the downloads, each file read back
against the SHA-256 its audit event recorded. Admins see every report, a supervisor their
organisation's; everyone else is refused (deny by default)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _
from flask_login import current_user

from app import access, monthly_report
from app.errors import NotFound
from app.models import Role
from app.objects import read_verified

REPORT_ROLES = (Role.ADMIN, Role.SUPERVISOR)
MEDIA_TYPES = {"pdf": monthly_report.PDF_TYPE, "xlsx": monthly_report.XLSX_TYPE}

bp = Blueprint("reports", __name__, url_prefix="/reports")
access.guard_blueprint(bp, REPORT_ROLES)


def _own_org() -> int | None:
    """The organisation whose reports the user reads; None for an admin (all of them)."""
    return None if current_user.role == Role.ADMIN else current_user.org_id


@bp.get("/monthly")
def monthly():
    return render_template(
        "reports/monthly.html", reports=monthly_report.stored_reports(_own_org())
    )


def _readable(month: str, body: str) -> dict[str, Any]:
    details = monthly_report.stored_report(month, body)
    own = _own_org()
    # Another organisation's report is as unknown as a missing one.
    if details is None or (own is not None and details.get("org_id") != own):
        raise NotFound(_("No such report."))
    return details


@bp.get("/monthly/<month>/<body>.<any(pdf, xlsx):extension>")
def download(month: str, body: str, extension: str):
    details = _readable(month, body)
    key, sha256 = details[f"{extension}_key"], details[f"{extension}_sha256"]
    data = read_verified(
        key,
        sha256,
        altered="report.altered",
        subject=f"monthly:{month}:{body}",
        details={"key": key},
    )
    name = f"daojiao-monthly-{month}-{body}.{extension}"
    response = Response(data, mimetype=MEDIA_TYPES[extension])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["X-Content-SHA256"] = sha256
    return response
