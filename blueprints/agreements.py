"""The settlement agreement page of a case: the mediator drafts the 调解协议书 and records the
signatures; everyone else who sees the case reads it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app import access, validation, workflow, worklist
from app.errors import DomainError
from app.models import Agreement, Case, Role
from app.services import agreements, tribunal
from app.web import refuse

bp = Blueprint("agreements", __name__, url_prefix="/cases")
access.guard_blueprint(bp, Role)

AGREEMENT_STATUS = {
    "draft": _l("Draft, not signed yet"),
    "signed": _l("Signed"),
    "superseded": _l("Superseded"),
}


class DraftAgreementForm(FlaskForm):
    payment_method = StringField(
        _l("Payment method"),
        validators=[DataRequired(), Length(max=agreements.MAX_PAYMENT_METHOD)],
    )
    payment_due = DateField(_l("Pay by"), validators=[Optional()])
    version = HiddenField()


class SignAgreementForm(FlaskForm):
    signers = SelectMultipleField(
        _l("Signed in person by"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    scan = FileField(
        _l("Scan of the signed agreement (PDF, JPEG or PNG)"), validators=[FileRequired()]
    )
    apply_for_confirmation = BooleanField(
        _l("The parties also apply for judicial confirmation now (they may within 30 days)")
    )
    version = HiddenField()


def _version() -> int:
    """The case version the form was made from; a form without one answers 428."""
    return validation.required_form_version(request.form.get("version"))


def _may_act(case: Case) -> bool:
    return workflow.permits(case, "draft_agreement", current_user)


def _sign_form(case: Case, agreement: Agreement | None) -> SignAgreementForm:
    # At the centre the parties usually apply for confirmation as they sign: ticked by default
    # when a tribunal serves the case.
    form = SignAgreementForm(apply_for_confirmation=tribunal.serving_tribunal(case) is not None)
    signatories = agreements.required_signers(agreement) if agreement is not None else []
    form.signers.choices = [(s["id"], s.get("label") or s["id"]) for s in signatories]
    return form


def _render(
    case: Case,
    draft_form: DraftAgreementForm | None = None,
    sign_form: SignAgreementForm | None = None,
) -> str:
    agreement = agreements.current_agreement(case)
    pdf, scan = agreements.agreement_documents(agreement) if agreement else (None, None)
    may_act = _may_act(case)
    if draft_form is None:
        earlier = agreement.data if agreement else {}
        draft_form = DraftAgreementForm(
            formdata=None,
            payment_method=earlier.get("payment_method"),
            payment_due=agreements.default_payment_due(),
        )
    if sign_form is None:
        sign_form = _sign_form(case, agreement)
    return render_template(
        "agreements/show.html",
        case=case,
        agreement=agreement,
        pdf=pdf,
        scan=scan,
        statuses=AGREEMENT_STATUS,
        may_act=may_act,
        payers=agreements.payers_to_agree(case) if may_act else [],
        warnings=agreements.assessment_warnings(case) if may_act else [],
        draft_form=draft_form,
        sign_form=sign_form,
        can_sign=may_act and agreement is not None and agreement.status.value == "draft",
    )


@bp.get("/<int:case_id>/agreement")
def show(case_id: int):
    return _render(access.get_case(current_user, case_id))


@bp.post("/<int:case_id>/agreement")
def draft(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    form = DraftAgreementForm()
    if not form.validate_on_submit():
        return _render(case, draft_form=form), 400
    try:
        agreements.draft_agreement(
            actor=current_user,
            case=case,
            payment_method=form.payment_method.data,
            payment_due=form.payment_due.data,
            version=_version(),
        )
    except DomainError as exc:
        refuse(exc)
        return _render(case, draft_form=form), exc.status
    flash(_("The agreement was drafted. Print it for the parties to sign."), "success")
    return redirect(url_for("agreements.show", case_id=case.id))


@bp.post("/<int:case_id>/agreement/sign")
def sign(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    form = _sign_form(case, agreements.current_agreement(case))
    if not form.validate_on_submit():
        return _render(case, sign_form=form), 400
    try:
        agreements.sign_agreement(
            actor=current_user,
            case=case,
            signers=form.signers.data or [],
            filename=form.scan.data.filename,
            data=form.scan.data.read(),
            version=_version(),
        )
        if form.apply_for_confirmation.data:
            tribunal.request_confirmation(actor=current_user, case=case)
    except DomainError as exc:
        refuse(exc)
        return _render(case, sign_form=form), exc.status
    if form.apply_for_confirmation.data:
        flash(
            _("The signatures were recorded and the agreement was sent to the tribunal."),
            "success",
        )
    else:
        flash(_("The signatures were recorded: the case is agreed."), "success")
    return redirect(worklist.next_url(case, current_user))


@bp.post("/<int:case_id>/confirmation-request")
def request_confirmation(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    try:
        tribunal.request_confirmation(actor=current_user, case=case, version=_version())
    except DomainError as exc:
        refuse(exc)
        return redirect(url_for("agreements.show", case_id=case.id))
    flash(_("The agreement was sent to the tribunal for judicial confirmation."), "success")
    return redirect(worklist.next_url(case, current_user))
