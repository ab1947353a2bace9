"""The mediation page of a case: assignment, the liability a police letter left open, sessions
with their notes, a failed mediation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from app import access, validation, worklist
from app.db import session
from app.errors import DomainError, NotAllowed
from app.models import MEDIATED_STATES, Case, Role
from app.services import deadlines, liability, mediation
from app.web import refuse

bp = Blueprint("mediation", __name__, url_prefix="/cases")
access.guard_blueprint(bp, Role)


def _optional_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


class AssignmentForm(FlaskForm):
    # The choices are the committee's mediators; the service checks the one chosen.
    mediator_id = SelectField(
        _l("Mediator"), coerce=_optional_int, validate_choice=False, validators=[Optional()]
    )


class SessionForm(FlaskForm):
    starts_at = DateTimeLocalField(
        _l("Date and time"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    place = StringField(
        _l("Meeting place"), validators=[Optional(), Length(max=mediation.PLACE_MAX)]
    )
    video_link = StringField(
        _l("Video link"), validators=[Optional(), Length(max=mediation.LINK_MAX)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=mediation.NOTES_MAX)])


class NotesForm(FlaskForm):
    session_id = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
    notes = TextAreaField(_l("Notes"), validators=[DataRequired(), Length(max=mediation.NOTES_MAX)])


class FailForm(FlaskForm):
    reason = TextAreaField(
        _l("Why the mediation failed"),
        validators=[DataRequired(), Length(max=mediation.REASON_MAX)],
    )
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class PartyLiabilityForm(Form):
    """One party's liability in the mediator's decision (nested: the outer form has the CSRF)."""

    party_id = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
    liability = SelectField(
        _l("Liability"),
        choices=[
            SelectChoice("", "—"),
            SelectChoice("full", _l("Full")),
            SelectChoice("main", _l("Main")),
            SelectChoice("equal", _l("Equal")),
            SelectChoice("minor", _l("Minor")),
            SelectChoice("none", _l("None")),
        ],
    )


class LiabilityForm(FlaskForm):
    parties = FieldList(FormField(PartyLiabilityForm), min_entries=0, max_entries=20)
    basis = StringField(
        _l("Basis of the decision"),
        validators=[DataRequired(), Length(max=liability.BASIS_MAX)],
    )
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])

    @classmethod
    def of(cls, case: Case) -> LiabilityForm:
        """The form showing the case's parties with their current liability."""
        return cls(
            data={
                "version": case.version,
                "parties": [
                    {"party_id": party.id, "liability": party.liability or ""}
                    for party in case.parties
                ],
            }
        )

    def choices(self) -> list[dict[str, Any]]:
        """The parties given a liability, as `liability.decide_liability` takes them."""
        return [
            {"id": entry.form.party_id.data, "liability": entry.form.liability.data}
            for entry in self.parties
            if entry.form.liability.data
        ]


# Bases mediators often give (suggestions; any short text will do).
LIABILITY_BASES = (
    _l("The parties agreed on it"),
    _l("Following the court's judgment"),
    _l("Following the police's investigation file"),
)


def _case(case_id: int, *roles: Role) -> Case:
    case = access.get_case(current_user, case_id)
    if roles:
        access.require_role(current_user, *roles)
    return case


def _render(case: Case, status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    assignment = forms.get("assignment") or AssignmentForm(data={"mediator_id": case.mediator_id})
    assignment.mediator_id.choices = [("", _("The least busy mediator"))] + [
        (user.id, user.display_name) for user in mediation.committee_mediators(case)
    ]
    fail = forms.get("fail") or FailForm(data={"version": case.version})
    page = render_template(
        "mediation/show.html",
        case=case,
        sessions=mediation.case_sessions(case),
        mediator=mediation.case_mediator(case),
        committee=mediation.case_committee(case),
        clock=deadlines.case_clock(case),
        can_assign=mediation.can_assign(current_user, case),
        can_mediate=mediation.can_mediate(current_user, case),
        is_mediated=case.status in MEDIATED_STATES,
        assignment_form=assignment,
        session_form=forms.get("session") or SessionForm(),
        notes_form=forms.get("notes") or NotesForm(),
        fail_form=fail,
        liability_form=forms.get("liability") or LiabilityForm.of(case),
        liability_pending=liability.pending_parties(case),
        liable_parties=liability.liable_parties(case),
        liability_decision=liability.latest_decision(case),
        liability_bases=LIABILITY_BASES,
        parties_by_id={party.id: party for party in case.parties},
    )
    return page, status


def _attempt(
    case: Case, action: Callable[[], Any], done: str, *, onward: bool = False, **forms: FlaskForm
) -> Any:
    """Call the service and commit; a refusal other than a denial is shown on the page. Back
    to the mediation page, or `onward` to the page of the user's next action."""
    try:
        action()
    except NotAllowed:
        raise  # the error handler answers 403 and records the denial
    except DomainError as exc:
        refuse(exc)
        return _render(session.get(Case, case.id) or case, exc.status, **forms)
    flash(done, "success")
    if onward:
        return redirect(worklist.next_url(case, current_user))
    return redirect(url_for("mediation.show", case_id=case.id))


@bp.get("/<int:case_id>/mediation")
def show(case_id: int):
    return _render(_case(case_id))


@bp.post("/<int:case_id>/mediation/assignment")
def assign(case_id: int):
    case = _case(case_id, Role.MEDIATOR, Role.ADMIN)
    form = AssignmentForm()
    if not form.validate_on_submit():
        return _render(case, 400, assignment=form)
    return _attempt(
        case,
        lambda: mediation.assign_mediator(
            actor=current_user, case=case, mediator_id=form.mediator_id.data
        ),
        _("The mediator was assigned."),
        assignment=form,
    )


@bp.post("/<int:case_id>/mediation/sessions")
def schedule(case_id: int):
    case = _case(case_id, Role.MEDIATOR)
    form = SessionForm()
    if not form.validate_on_submit():
        return _render(case, 400, session=form)
    return _attempt(
        case,
        lambda: mediation.schedule_session(
            actor=current_user,
            case=case,
            starts_at=form.starts_at.data,
            place=form.place.data,
            video_link=form.video_link.data,
            notes=form.notes.data,
        ),
        _("The session was scheduled."),
        session=form,
    )


@bp.post("/<int:case_id>/mediation/notes")
def notes(case_id: int):
    case = _case(case_id, Role.MEDIATOR)
    form = NotesForm()
    if not form.validate_on_submit():
        flash(_("Write the session's notes."), "danger")
        return _render(case, 400, notes=form)
    return _attempt(
        case,
        lambda: mediation.record_session_notes(
            actor=current_user, case=case, session_id=form.session_id.data, notes=form.notes.data
        ),
        _("The notes were saved."),
        notes=form,
    )


@bp.post("/<int:case_id>/mediation/liability")
def decide_liability(case_id: int):
    case = _case(case_id, Role.MEDIATOR)
    form = LiabilityForm()
    if not form.validate_on_submit():
        return _render(case, 400, liability=form)
    return _attempt(
        case,
        lambda: liability.decide_liability(
            actor=current_user,
            case=case,
            parties=form.choices(),
            basis=form.basis.data,
            version=validation.required_form_version(request.form.get("version")),
        ),
        _("The liability was recorded."),
        onward=True,
        liability=form,
    )


@bp.post("/<int:case_id>/mediation/fail")
def fail(case_id: int):
    case = _case(case_id, Role.MEDIATOR)
    form = FailForm()
    if not form.validate_on_submit():
        return _render(case, 400, fail=form)
    return _attempt(
        case,
        lambda: mediation.fail_mediation(
            actor=current_user,
            case=case,
            reason=form.reason.data,
            version=validation.required_form_version(request.form.get("version")),
        ),
        _("The mediation was recorded as failed; the case goes towards litigation."),
        fail=form,
    )
