"""The negotiation page of a case: the trail of offers per payer, new offers, counters and
answers."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app import access, presenters, validation, worklist
from app.clock import BEIJING
from app.errors import DomainError, InvalidTransition
from app.models import Assessment, Case, CaseStatus, Offer, OfferSide, OfferStatus, Role
from app.money import amount_text
from app.services import agreements, assessments, offers
from app.web import refuse

bp = Blueprint("offers", __name__, url_prefix="/cases")
access.guard_blueprint(bp, Role)

CONFLICT = _l(
    "Someone else acted on this case at the same time, so nothing was saved. "
    "The page now shows the current state: check it and try again."
)


class OfferForm(FlaskForm):
    version = HiddenField()
    payer = SelectField(_l("Payer"), choices=[], validators=[DataRequired()])
    side = SelectField(
        _l("On behalf of"),
        choices=[
            SelectChoice(OfferSide.CLAIMANT.value, _l("The claimant (counter or demand)")),
            SelectChoice(OfferSide.PARTY.value, _l("The liable party (its own position)")),
        ],
        validate_choice=False,
    )
    parent_id = SelectField(_l("In answer to"), choices=[], validators=[Optional()])
    amount = StringField(
        _l("Amount (yuan)"),
        validators=[Optional(), Length(max=20)],
        description=_l("Leave empty to compute it from the item amounts below."),
    )
    expires_at = DateTimeLocalField(
        _l("Open until (Beijing time, optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=offers.NOTE_MAX)])
    reason = TextAreaField(
        _l("Reason for offering more than the assessment"),
        validators=[Optional(), Length(max=offers.NOTE_MAX)],
    )


def _context(case: Case) -> tuple[Assessment | None, list[Offer], list[str], dict[str, str]]:
    """The latest assessment, the trail, the payers to show and their labels."""
    assessment = assessments.latest_assessment(case)
    trail = offers.case_offers(case)
    payers = [p for p in (assessment.result["totals"] if assessment else {}) if p != "self"]
    payers += [p for p in dict.fromkeys(o.payer for o in trail) if p not in payers]
    parties = assessment.input["request"]["parties"] if assessment else []
    labels = {payer: presenters.payer_label(payer, parties) for payer in payers}
    return assessment, trail, payers, labels


def _set_choices(form: OfferForm, case: Case, trail: list[Offer], labels: dict[str, str]) -> None:
    """The payers the user may offer for, and the open offers they may counter."""
    form.payer.choices = [
        SelectChoice(p, labels.get(p, p)) for p in offers.may_offer(current_user, case)
    ]
    form.parent_id.choices = [SelectChoice("", _("— a new offer —"))] + [
        SelectChoice(
            str(o.id),
            _(
                "#%(id)s · %(side)s · %(amount)s yuan for %(payer)s",
                id=o.id,
                side=offers.SIDE_LABELS[o.side],
                amount=amount_text(o.amount),
                payer=labels.get(o.payer, o.payer),
            ),
        )
        for o in trail
        if o.status == OfferStatus.OPEN and offers.may_answer(current_user, case, o)
    ]


def _new_form(
    case: Case, trail: list[Offer], labels: dict[str, str], assessment: Assessment | None
) -> OfferForm:
    """An offer form; `?counter=<id>` prefills it to counter that offer. An adjuster's starts
    with the first of the insurer's payers nobody has agreed or offered for yet, at the
    assessed amount."""
    form = OfferForm(data={"version": str(case.version)})
    _set_choices(form, case, trail, labels)
    wanted = request.args.get("counter", "")
    parent = next((o for o in trail if str(o.id) == wanted), None)
    if parent is not None and wanted in {choice.value for choice in form.parent_id.choices}:
        form.parent_id.data = wanted
        form.payer.data = parent.payer
    elif assessment is not None and current_user.role == Role.ADJUSTER:
        busy = {o.payer for o in trail if o.status in (OfferStatus.OPEN, OfferStatus.ACCEPTED)}
        open_payer = next((c.value for c in form.payer.choices if c.value not in busy), None)
        if open_payer is not None:
            form.payer.data = open_payer
            form.amount.data = assessment.result["totals"][open_payer]
    return form


def _render(case: Case, form: OfferForm | None = None, status: int = 200):
    assessment, trail, payers, labels = _context(case)
    if form is None:
        form = _new_form(case, trail, labels, assessment)
    else:  # shown again after a refusal: offer what is possible now
        _set_choices(form, case, trail, labels)
    users, orgs = offers.people_of(trail)
    accepted = offers.accepted_offers(case)
    groups = [
        {
            "payer": payer,
            "label": labels[payer],
            "assessed": assessment.result["totals"].get(payer) if assessment else None,
            "offers": [o for o in trail if o.payer == payer],
            "accepted": accepted.get(payer),
        }
        for payer in payers
    ]
    negotiating = case.status == CaseStatus.NEGOTIATING
    return render_template(
        "offers/index.html",
        case=case,
        assessment=assessment,
        groups=groups,
        differences={o.id: offers.offer_differences(o) for o in trail},
        answerable={
            o.id
            for o in trail
            if negotiating
            and o.status == OfferStatus.OPEN
            and offers.may_answer(current_user, case, o)
        },
        withdrawable={
            o.id
            for o in trail
            if negotiating
            and o.status == OfferStatus.OPEN
            and offers.may_withdraw(current_user, case, o)
        },
        users=users,
        orgs=orgs,
        form=form,
        can_offer=bool(form.payer.choices),
        offer_payers={choice.value for choice in form.payer.choices},
        is_mediator=access.can(current_user, Role.MEDIATOR),
        item_args=_item_args(),
        victims=assessment.result["victims"] if assessment else [],
        OFFER_STATUS_LABELS=offers.STATUS_LABELS,
        OFFER_SIDE_LABELS=offers.SIDE_LABELS,
    ), status


def _item_args() -> dict[str, str]:
    return {key: value for key, value in request.form.items() if key.startswith("item:")}


def _items_from_form() -> dict[str, dict[str, str]] | None:
    items: dict[str, dict[str, str]] = {}
    for key, value in _item_args().items():
        victim_id, _sep, code = key.removeprefix("item:").partition(":")
        if value.strip() and victim_id and code:
            items.setdefault(victim_id, {})[code] = value.strip()
    return items or None


def _version() -> int:
    """The case version the form was made from; a form without one answers 428."""
    return validation.required_form_version(request.form.get("version"))


def _acting_case(case_id: int) -> Case:
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.ADJUSTER, Role.MEDIATOR)
    return case


def _refused(case: Case, exc: DomainError | StaleDataError, form: OfferForm | None = None):
    """The page again with why nothing was saved; a conflict is explained, not an error page."""
    if isinstance(exc, StaleDataError):
        exc = InvalidTransition(str(CONFLICT))
    if exc.status in (403, 404):
        raise exc  # the error handlers answer (and audit) a denial
    refuse(exc)
    if form is not None and exc.details.get("field") == "reason":
        form.reason.errors = [*form.reason.errors, exc.message]
    return _render(case, form, exc.status)


@bp.get("/<int:case_id>/offers")
def index(case_id: int):
    case = access.get_case(current_user, case_id)
    return _render(case)


@bp.post("/<int:case_id>/offers")
def make(case_id: int):
    case = _acting_case(case_id)
    form = OfferForm()
    _assessment, trail, _payers, labels = _context(case)
    _set_choices(form, case, trail, labels)
    try:
        offers.negotiated_assessment(case)  # a finished case says so, not "choose a payer"
    except DomainError as exc:
        return _refused(case, exc, form)
    if not form.validate_on_submit():
        return _render(case, form, 400)
    expires_at = form.expires_at.data.replace(tzinfo=BEIJING) if form.expires_at.data else None
    try:
        offers.make_offer(
            actor=current_user,
            case=case,
            payer=form.payer.data,
            amount=(form.amount.data or "").strip() or None,
            items=_items_from_form(),
            note=form.note.data,
            expires_at=expires_at,
            parent_id=int(form.parent_id.data) if form.parent_id.data else None,
            side=form.side.data if access.can(current_user, Role.MEDIATOR) else None,
            reason=form.reason.data,
            version=_version(),
        )
    except (DomainError, StaleDataError) as exc:
        return _refused(case, exc, form)
    flash(_("The offer was recorded."), "success")
    return redirect(worklist.next_url(case, current_user))


def _answer(case_id: int, offer_id: int, *, accept: bool):
    case = _acting_case(case_id)
    note = request.form.get("note")
    try:
        offers.answer_offer(
            actor=current_user,
            case=case,
            offer_id=offer_id,
            accept=accept,
            note=note,
            version=_version(),
        )
    except (DomainError, StaleDataError) as exc:
        return _refused(case, exc)
    if accept and agreements.current_agreement(case) is not None:
        flash(
            _(
                "The offer was accepted. Every payer has agreed: the agreement was drafted. "
                "Check the payment method and date, then print it for signing."
            ),
            "success",
        )
        return redirect(url_for("agreements.show", case_id=case.id))
    flash(_("The offer was accepted.") if accept else _("The offer was rejected."), "success")
    return redirect(worklist.next_url(case, current_user))


@bp.post("/<int:case_id>/offers/<int:offer_id>/accept")
def accept(case_id: int, offer_id: int):
    return _answer(case_id, offer_id, accept=True)


@bp.post("/<int:case_id>/offers/<int:offer_id>/reject")
def reject(case_id: int, offer_id: int):
    return _answer(case_id, offer_id, accept=False)


@bp.post("/<int:case_id>/offers/<int:offer_id>/withdraw")
def withdraw(case_id: int, offer_id: int):
    case = _acting_case(case_id)
    try:
        offers.withdraw_offer(actor=current_user, case=case, offer_id=offer_id, version=_version())
    except (DomainError, StaleDataError) as exc:
        return _refused(case, exc)
    flash(_("The offer was withdrawn."), "success")
    return redirect(worklist.next_url(case, current_user))
