"""Late insurer payments and the referrals (监管提示函) about them (/oversight, issue 16)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access
from app.errors import DomainError
from app.models import Role
from app.services import referrals
from app.web import refuse

bp = Blueprint("oversight", __name__, url_prefix="/oversight")
access.guard_blueprint(bp, referrals.LIST_ROLES)


def pdf_response(referral_id: int) -> Response:
    """The referral's PDF, to whom may read it (the issuer, the addressee, admins)."""
    referral, pdf = referrals.referral_pdf(current_user, referral_id)
    response = Response(pdf, mimetype=referrals.PDF_TYPE)
    name = f"{referral.number}.pdf"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    )
    return response


@bp.get("/late-payments")
def late_payments():
    items = referrals.late_payments(current_user)
    by_insurer: dict[int, list[referrals.LateItem]] = {}
    for item in items:
        by_insurer.setdefault(item.insurer_id, []).append(item)
    return render_template(
        "oversight/late_payments.html",
        by_insurer=by_insurer,
        overdue_days=referrals.current_overdue_days(),
        may_issue=access.can(current_user, *referrals.ISSUE_ROLES),
    )


@bp.post("/referrals")
@access.roles_required(Role.ADMIN, Role.SUPERVISOR)
def issue():
    ids = [int(value) for value in request.form.getlist("deadline") if value.isdigit()]
    insurer = request.form.get("insurer", "")
    try:
        referral = referrals.issue(
            current_user,
            insurer_id=int(insurer) if insurer.isdigit() else -1,
            deadline_ids=ids,
        )
    except DomainError as exc:
        refuse(exc)
        return redirect(url_for("oversight.late_payments"))
    flash(_("Referral %(number)s sent to the regulator.", number=referral.number), "success")
    return redirect(url_for("oversight.referral_list"))


@bp.get("/referrals")
def referral_list():
    return render_template(
        "oversight/referrals.html", referrals=referrals.referrals_for(current_user)
    )


@bp.get("/referrals/<int:referral_id>.pdf")
def referral_pdf(referral_id: int):
    return pdf_response(referral_id)
