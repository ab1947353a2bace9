"""The insurer desk, an insurer's claim data for a case, and the payments page of a case."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import access, presenters, validation, worklist
from app.errors import DomainError
from app.models import MEDIATED_STATES, Case, Role
from app.money import amount_text
from app.services import assessments, insurers, payments
from app.services import cases as case_service
from app.web import refuse

bp = Blueprint("insurer", __name__)
access.guard_blueprint(bp, Role)


# -- forms ------------------------------------------------------------------------------------


class PolicyClaimForm(Form):
    """The claim data of one covered party's vehicle (nested: the outer form has the CSRF)."""

    label = HiddenField()
    ctpi_policy_no = StringField(
        _l("Compulsory policy number"), validators=[Optional(), Length(max=64)]
    )
    commercial_policy_no = StringField(
        _l("Commercial policy number"), validators=[Optional(), Length(max=64)]
    )
    commercial_limit = StringField(
        _l("Commercial third-party limit (yuan)"), validators=[Optional(), Length(max=20)]
    )
    commercial_excluded = BooleanField(
        _l("An exclusion applies: the commercial insurance does not pay this loss")
    )
    exclusion_reason = TextAreaField(
        _l("Reason for the exclusion (the clause that applies)"),
        validators=[Optional(), Length(max=insurers.MAX_REASON)],
    )


class InsurerClaimForm(FlaskForm):
    version = HiddenField()
    policies = FieldList(FormField(PolicyClaimForm), min_entries=0, max_entries=10)
    advanced = StringField(
        _l("Amount already advanced (垫付), yuan"), validators=[InputRequired(), Length(max=20)]
    )
    advance_note = TextAreaField(
        _l("Note on the advance"), validators=[Optional(), Length(max=insurers.MAX_NOTE)]
    )

    def policies_data(self) -> dict[str, dict[str, Any]]:
        """The `policies` argument of `insurers.save_insurer_claim`."""
        return {
            entry.form.label.data: {
                "ctpi_policy_no": entry.form.ctpi_policy_no.data or None,
                "commercial_policy_no": entry.form.commercial_policy_no.data or None,
                "commercial_limit": (entry.form.commercial_limit.data or "").strip() or None,
                "commercial_excluded": bool(entry.form.commercial_excluded.data),
                "exclusion_reason": entry.form.exclusion_reason.data or None,
            }
            for entry in self.policies
        }


class PaymentForm(FlaskForm):
    version = HiddenField()
    payer = SelectField(_l("Payer"), validators=[DataRequired()])
    amount = StringField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=20)])
    paid_on = DateField(_l("Paid on"), validators=[DataRequired()])
    reference = StringField(
        _l("Reference (bank transfer or receipt number)"),
        validators=[DataRequired(), Length(max=payments.MAX_REFERENCE)],
    )


def _version(form: FlaskForm) -> int | None:
    text = (form.version.data or "").strip()
    return int(text) if text.isdigit() else None


# -- the desk ---------------------------------------------------------------------------------


@bp.get("/insurer/")
def desk():
    access.require_role(current_user, Role.ADJUSTER)
    cursors = {"after": request.args.get("after"), "before": request.args.get("before")}
    try:
        desk = insurers.insurer_desk(
            actor=current_user, page=request.args.get("page", 1, type=int), **cursors
        )
    except ValueError:
        desk = insurers.insurer_desk(actor=current_user)  # a mangled link: the first page
    return render_template(
        "insurer/desk.html",
        entries=desk.entries,
        result=desk.page,
        labels=_payer_labels(e.case for e in desk.entries),
    )


def _payer_labels(cases: Any) -> dict[tuple[int, str], str]:
    """Display names of every payer of `cases`, by (case id, payer)."""
    labels = {}
    for case in cases:
        parties = assessments.case_parties(case)
        for party in parties:
            for kind in ("ctpi", "commercial", "party"):
                payer = f"{kind}:{party['id']}"
                labels[case.id, payer] = presenters.payer_label(payer, parties)
    return labels


# -- claim data -------------------------------------------------------------------------------


def _adjusted_case(case_id: int) -> Case:
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.ADJUSTER)
    return case


def _claim_form_data(case: Case) -> dict[str, Any]:
    record = insurers.insurer_claim(case, current_user.org_id)
    saved = record.policies if record else {}
    rows = []
    for party in insurers.covered_parties(case, current_user.org_id):
        data = saved.get(party.label) or {}
        rows.append(
            {
                "label": party.label,
                "ctpi_policy_no": data.get("ctpi_policy_no") or "",
                "commercial_policy_no": data.get("commercial_policy_no") or "",
                "commercial_limit": data.get("commercial_limit") or "",
                "commercial_excluded": bool(data.get("commercial_excluded")),
                "exclusion_reason": data.get("exclusion_reason") or "",
            }
        )
    return {
        "version": str(record.version) if record else "",
        "policies": rows,
        "advanced": str(record.advanced) if record else "0.00",
        "advance_note": record.advance_note if record else "",
    }


def _render_claim(case: Case, form: InsurerClaimForm, error: DomainError | None = None) -> str:
    covered = {p.label: p for p in insurers.covered_parties(case, current_user.org_id)}
    entry = insurers.desk_entry(actor=current_user, case=case)
    jobs = [job for job in case_service.case_jobs(case) if job.kind == "assessments.run"]
    return render_template(
        "insurer/claim.html",
        case=case,
        form=form,
        covered=covered,
        entry=entry,
        labels=_payer_labels([case]),
        job=jobs[0] if jobs else None,
        editable=case.status in MEDIATED_STATES,
        error=error,
    )


@bp.get("/cases/<int:case_id>/insurer-claim")
def claim(case_id: int):
    case = _adjusted_case(case_id)
    return _render_claim(case, InsurerClaimForm(data=_claim_form_data(case)))


@bp.post("/cases/<int:case_id>/insurer-claim")
def save_claim(case_id: int):
    case = _adjusted_case(case_id)
    form = InsurerClaimForm()
    if not form.validate_on_submit():
        return _render_claim(case, form), 400
    try:
        insurers.save_insurer_claim(
            actor=current_user,
            case=case,
            policies=form.policies_data(),
            advanced=form.advanced.data,
            advance_note=form.advance_note.data,
            version=_version(form),
        )
    except DomainError as exc:
        refuse(exc, flash_reason=False)
        return _render_claim(case, form, exc), exc.status
    flash(_("The claim data was saved; the assessment is computed again."), "success")
    return redirect(url_for("insurer.claim", case_id=case.id))


# -- payments ---------------------------------------------------------------------------------


def _payment_form(case: Case, form: PaymentForm | None = None) -> PaymentForm:
    owing = payments.recordable_payers(current_user, case)
    if form is None:
        # The first payer still owing, with what it owes: a full payment is typed in once.
        data = {"version": str(case.version), "paid_on": payments.today()}
        if owing:
            data |= {"payer": owing[0]["payer"], "amount": amount_text(owing[0]["outstanding"])}
        form = PaymentForm(data=data)
    labels = _payer_labels([case])
    form.payer.choices = [
        (row["payer"], row["label"] or labels.get((case.id, row["payer"]), row["payer"]))
        for row in owing
    ]
    return form


def _render_payments(case: Case, form: PaymentForm, error: DomainError | None = None) -> str:
    return render_template(
        "insurer/payments.html",
        case=case,
        rows=payments.payment_status(case),
        agreement=payments.signed_agreement(case),
        labels=_payer_labels([case]),
        form=form,
        error=error,
        today=payments.today(),
    )


@bp.get("/cases/<int:case_id>/payments")
def payments_page(case_id: int):
    case = access.get_case(current_user, case_id)
    return _render_payments(case, _payment_form(case))


@bp.post("/cases/<int:case_id>/payments")
def record_payment(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.ADJUSTER, Role.MEDIATOR)
    form = _payment_form(case, PaymentForm())
    if not form.validate_on_submit():
        return _render_payments(case, form), 400
    try:
        payments.record_payment(
            actor=current_user,
            case=case,
            payer=form.payer.data,
            amount=form.amount.data,
            reference=form.reference.data,
            paid_on=form.paid_on.data,
            version=validation.required_form_version(form.version.data),
        )
    except DomainError as exc:
        refuse(exc, flash_reason=False)
        return _render_payments(case, _payment_form(case, form), exc), exc.status
    flash(_("The payment was recorded."), "success")
    return redirect(worklist.next_url(case, current_user))
