"""The litigation page of a case (its outcome and filing package) and closing a paid case."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from app import access, id_numbers, validation
from app.errors import InvalidTransition
from app.models import Case, CaseStatus, Role
from app.services import closure, litigation, payments
from app.web import refuse

bp = Blueprint("litigation", __name__, url_prefix="/cases")
access.guard_blueprint(bp, Role)


class ActionForm(FlaskForm):
    """A button that posts the case version it was shown with."""

    version = HiddenField()


def _render(case: Case) -> str:
    return render_template(
        "litigation/show.html",
        case=case,
        package=litigation.latest_package(case),
        current=litigation.is_package_current(case),
        job=litigation.latest_package_job(case),
        can_build=litigation.can_build_package(current_user, case)
        and case.status == CaseStatus.LITIGATION,
        form=ActionForm(formdata=None, version=case.version),
        # It bundles the originals, ID numbers in full: not for insurers (app.services.copies).
        can_download=id_numbers.sees_full(current_user, case),
    )


@bp.get("/<int:case_id>/litigation")
def show(case_id: int):
    return _render(access.get_case(current_user, case_id))


@bp.post("/<int:case_id>/litigation/package")
def build_package(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR, Role.JUDGE, Role.ADMIN)
    try:
        job = litigation.schedule_filing_package(actor=current_user, case=case)
    except InvalidTransition as exc:
        refuse(exc)
        return _render(case), exc.status
    if job is None:
        flash(_("The filing package already holds the case's current documents."), "info")
    else:
        flash(_("The filing package is being made."), "success")
    return redirect(url_for("litigation.show", case_id=case.id))


def _render_close(case: Case) -> str:
    return render_template(
        "litigation/close.html",
        case=case,
        payers=payments.payment_status(case),
        can_close=closure.can_close(current_user, case),
        form=ActionForm(formdata=None, version=case.version),
    )


@bp.get("/<int:case_id>/close")
def close_page(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR, Role.ADMIN)
    return _render_close(case)


@bp.post("/<int:case_id>/close")
def close(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR, Role.ADMIN)
    try:
        closure.close_case(
            actor=current_user,
            case=case,
            version=validation.required_form_version(request.form.get("version")),
        )
    except InvalidTransition as exc:
        refuse(exc)
        return _render_close(case), exc.status
    flash(_("The case is closed. It can no longer change."), "success")
    return redirect(url_for("cases.show", case_id=case.id))
