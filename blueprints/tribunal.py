"""The tribunal's desk: the confirming cases of the judge's tribunal and, per case, the
workbench where every piece of the file is re-checked before the judge accepts and decides."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app import access, validation
from app.errors import DomainError
from app.models import Case, Role
from app.services import offers, tribunal
from app.web import refuse

bp = Blueprint("tribunal", __name__, url_prefix="/tribunal")
# The applications list shows those waiting longest; the case list, filtered, has them all.
LIST_LIMIT = 100
access.guard_blueprint(bp, (Role.JUDGE, Role.ADMIN))

GROUND_LABELS = {
    "violates_law": _l("Violates a mandatory provision of law"),
    "harms_interests": _l("Harms the interests of the state, the public or a third party"),
    "public_order": _l("Goes against public order and good morals"),
    "not_voluntary": _l("Not entered into voluntarily"),
    "unclear": _l("Its content is unclear"),
    "other": _l("Other"),
}
NEXT_STEP_LABELS = {
    "mediation": _l("Back to mediation"),
    "litigation": _l("Towards litigation"),
}
CONFIRMATION_STATUS = {
    "requested": _l("Applied for, not accepted yet"),
    "accepted": _l("Accepted, awaiting the decision"),
    "confirmed": _l("Confirmed"),
    "rejected": _l("Rejected"),
}


class ExtendForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the extension"),
        validators=[DataRequired(), Length(max=tribunal.REASON_MAX)],
    )
    version = HiddenField()


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("confirm", _l("Confirm the agreement")),
            SelectChoice("reject", _l("Reject the application")),
        ],
        validators=[InputRequired()],
    )
    grounds = SelectMultipleField(
        _l("Grounds (art. 358 of the Civil Procedure Interpretation)"),
        choices=[SelectChoice(k, v) for k, v in GROUND_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    reason = TextAreaField(_l("Reason"), validators=[Length(max=tribunal.REASON_MAX)])
    next_step = RadioField(
        _l("If rejected, the case goes"),
        choices=[SelectChoice(k, v) for k, v in NEXT_STEP_LABELS.items()],
        validate_choice=False,
    )
    version = HiddenField()


def _version() -> int:
    """The case version the form was made from; a form without one answers 428."""
    return validation.required_form_version(request.form.get("version"))


def _render(
    case: Case, extend_form: ExtendForm | None = None, decision_form: DecisionForm | None = None
) -> str:
    return render_template(
        "tribunal/workbench.html",
        case=case,
        bench=tribunal.workbench(case),
        extend_form=extend_form or ExtendForm(formdata=None),
        decision_form=decision_form or DecisionForm(formdata=None),
        ground_labels=GROUND_LABELS,
        next_step_labels=NEXT_STEP_LABELS,
        confirmation_status=CONFIRMATION_STATUS,
        offer_statuses={status.value: label for status, label in offers.STATUS_LABELS.items()},
    )


@bp.get("/")
def index():
    cases = tribunal.confirming_cases(current_user, limit=LIST_LIMIT + 1)
    return render_template(
        "tribunal/index.html", cases=cases[:LIST_LIMIT], more=len(cases) > LIST_LIMIT
    )


@bp.get("/cases/<int:case_id>")
def workbench(case_id: int):
    return _render(access.get_case(current_user, case_id))


def _act(case: Case, action, done: str, **forms):
    """Call one service; commit and go back to the workbench, or show the error there."""
    try:
        action()
    except DomainError as exc:
        refuse(exc)
        return _render(case, **forms), exc.status
    flash(done, "success")
    return redirect(url_for("tribunal.workbench", case_id=case.id))


@bp.post("/cases/<int:case_id>/accept")
def accept(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.JUDGE)
    return _act(
        case,
        lambda: tribunal.accept_application(actor=current_user, case=case, version=_version()),
        _("The application was accepted: the decision is due within 15 days."),
    )


@bp.post("/cases/<int:case_id>/extend")
def extend(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.JUDGE)
    form = ExtendForm()
    if not form.validate_on_submit():
        return _render(case, extend_form=form), 400
    return _act(
        case,
        lambda: tribunal.extend_decision(
            actor=current_user, case=case, reason=form.reason.data, version=_version()
        ),
        _("The decision period was extended by 10 days."),
        extend_form=form,
    )


@bp.post("/cases/<int:case_id>/decision")
def decide(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.JUDGE)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render(case, decision_form=form), 400
    confirm = form.decision.data == "confirm"
    return _act(
        case,
        lambda: tribunal.decide(
            actor=current_user,
            case=case,
            decision=form.decision.data,
            grounds=None if confirm else form.grounds.data,
            reason=form.reason.data,
            next_step=None if confirm else form.next_step.data,
            version=_version(),
        ),
        _("The agreement was confirmed and the ruling issued.")
        if confirm
        else _("The application was rejected."),
        decision_form=form,
    )
