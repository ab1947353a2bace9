"""Claims entry and the assessment page of a case, with the what-if panel."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access, presenters, validation, workflow
from app.errors import DomainError, ValidationFailed
from app.labels import DOCUMENT_KINDS, INDUSTRY_LABELS
from app.models import Case, Role
from app.services import assessments, documents, liability, standards
from app.services import cases as case_service
from app.web import refuse
from blueprints.claims_forms import (
    ClaimSettingsForm,
    VictimForm,
    claims_with_ctpi,
    claims_with_settings,
    ctpi_rows,
    form_data_from_victim,
    settings_from_claims,
    victim_from_form,
)

bp = Blueprint("assessments", __name__, url_prefix="/cases")
access.guard_blueprint(bp, Role)


def _filed(case: Case) -> dict[str, Any]:
    claim = assessments.latest_claim(case)
    return copy.deepcopy(claim.data) if claim else {"victims": []}


def _mediated_case(case_id: int) -> Case:
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    return case


def _who_choices(case: Case) -> list[tuple[str, str]]:
    parties = assessments.case_parties(case)
    choices = [(f"party:{p['id']}", f"{p['id']} {p.get('name') or ''}".strip()) for p in parties]
    choices += [
        (
            f"occupant:{p['id']}",
            _(
                "Passenger in %(party)s's vehicle %(plate)s",
                party=p["id"],
                plate=p.get("plate") or "",
            ),
        )
        for p in parties
        if p["kind"] == "vehicle"
    ]
    return choices


def _victim_form(case: Case, data: dict[str, Any] | None = None) -> VictimForm:
    form = VictimForm(data=data) if data is not None else VictimForm()
    files = documents.case_documents(case)
    catalog = standards.current_catalog()
    years = catalog.years(assessments.jurisdiction())
    wages = catalog.standard_set(assessments.jurisdiction(), years[-1]) if years else None
    form.set_choices(
        who=_who_choices(case),
        documents=[
            (str(doc.id), f"{DOCUMENT_KINDS.get(doc.kind, doc.kind)} · {doc.filename or doc.id}")
            for doc in files
        ],
        industries=[
            (code, str(INDUSTRY_LABELS.get(code, code))) for code in sorted(wages.industry_wages)
        ]
        if wages
        else [],
    )
    return form


def _version() -> int:
    """The case version the form was made from; a form without one answers 428."""
    return validation.required_form_version(request.form.get("version"))


@bp.get("/<int:case_id>/claims")
def claims(case_id: int):
    case = _mediated_case(case_id)
    filed = _filed(case)
    if not filed["victims"] and workflow.permits(case, "file_claims", current_user):
        # Nothing to list yet: straight to the first victim, filled in from the case.
        return redirect(url_for("assessments.new_victim", case_id=case.id))
    return _render_claims(case, filed, _settings_form(case, filed))


def _settings_form(case: Case, filed: dict[str, Any]) -> ClaimSettingsForm:
    party_ids = [p["id"] for p in assessments.case_parties(case)]
    return ClaimSettingsForm(
        data={**settings_from_claims(filed, party_ids), "version": case.version}
    )


def _render_claims(case: Case, filed: dict[str, Any], settings: ClaimSettingsForm) -> str:
    catalog = standards.current_catalog()
    years = catalog.years(assessments.jurisdiction())
    settings.standards_year.choices = [
        ("", _("Latest (%(year)s)", year=years[-1] if years else "—"))
    ] + [(str(y), str(y)) for y in reversed(years)]
    return render_template(
        "assessments/claims.html",
        case=case,
        filed=filed,
        settings=settings,
        parties=assessments.case_parties(case),
        jobs=case_service.case_jobs(case),
        liability_pending=liability.pending_parties(case),
        claims_closed=assessments.claims_closed_reason(case),
    )


@bp.post("/<int:case_id>/claims")
def save_settings(case_id: int):
    case = _mediated_case(case_id)
    filed = _filed(case)
    settings = ClaimSettingsForm()
    if not settings.validate_on_submit():
        return _render_claims(case, filed, settings), 400
    try:
        assessments.file_claims(
            actor=current_user,
            case=case,
            data=claims_with_settings(filed, settings),
            version=_version(),
        )
    except DomainError as exc:
        refuse(exc)
        return _render_claims(case, filed, settings), exc.status
    flash(_("The claims were filed."), "success")  # the page shows the assessment or its job
    return redirect(url_for("assessments.show", case_id=case.id))


def _next_victim_id(filed: dict[str, Any]) -> str:
    taken = {v.get("id") for v in filed["victims"]}
    number = len(filed["victims"]) + 1
    while f"v{number}" in taken:
        number += 1
    return f"v{number}"


@bp.route("/<int:case_id>/claims/victims/new", methods=["GET", "POST"])
def new_victim(case_id: int):
    return _edit_victim(case_id, None)


@bp.route("/<int:case_id>/claims/victims/<victim_id>", methods=["GET", "POST"])
def victim(case_id: int, victim_id: str):
    return _edit_victim(case_id, victim_id)


def _edit_victim(case_id: int, victim_id: str | None):
    case = _mediated_case(case_id)
    filed = _filed(case)
    index = next((i for i, v in enumerate(filed["victims"]) if v.get("id") == victim_id), None)
    if victim_id is not None and index is None:
        abort(404)
    previous = filed["victims"][index] if index is not None else None
    # Vehicles whose 交强险 the report leaves unknown: the form asks for it with the victim.
    unknown = [p["id"] for p in assessments.case_parties(case) if assessments.is_ctpi_unknown(p)]
    if request.method == "GET":
        victim = previous or {"id": _next_victim_id(filed), **assessments.new_victim(case, filed)}
        data = form_data_from_victim(victim)
        form = _victim_form(case, {**data, "ctpi": ctpi_rows(filed, unknown)})
        return _render_victim(case, form, is_new=previous is None)
    form = _victim_form(case)
    posted = {entry.form.party.data for entry in form.ctpi}
    for party_id in (p for p in unknown if p not in posted):
        form.ctpi.append_entry({"party": party_id})  # shown again if the filing is refused
    if not form.validate_on_submit():
        return _render_victim(case, form, is_new=previous is None), 400
    filed = claims_with_ctpi(filed, form.ctpi, unknown)
    entry = victim_from_form(form, previous)
    if index is None:
        entry["id"] = _next_victim_id(filed)
        filed["victims"].append(entry)
    else:
        entry["id"] = previous["id"]
        filed["victims"][index] = entry
    try:
        assessments.file_claims(actor=current_user, case=case, data=filed, version=_version())
    except DomainError as exc:
        refuse(exc, flash_reason=False)
        return _render_victim(case, form, is_new=previous is None, error=exc), exc.status
    flash(_("The claims were filed."), "success")
    if request.form.get("then") == "claims":
        return redirect(url_for("assessments.claims", case_id=case.id))
    # The assessment is computed in a job now: its page shows the job, then the result.
    return redirect(url_for("assessments.show", case_id=case.id))


def _render_victim(
    case: Case, form: VictimForm, *, is_new: bool, error: DomainError | None = None
) -> str:
    return render_template(
        "assessments/victim.html",
        case=case,
        form=form,
        is_new=is_new,
        error=error,
        claims_closed=assessments.claims_closed_reason(case),
    )


@bp.post("/<int:case_id>/claims/victims/<victim_id>/remove")
def remove_victim(case_id: int, victim_id: str):
    case = _mediated_case(case_id)
    assessments.require_claims_open(case)
    filed = _filed(case)
    remaining = [v for v in filed["victims"] if v.get("id") != victim_id]
    if len(remaining) == len(filed["victims"]):
        abort(404)
    if not remaining:
        flash(_("A case needs at least one victim: edit this one instead."), "danger")
        return redirect(url_for("assessments.claims", case_id=case.id))
    try:
        assessments.file_claims(
            actor=current_user, case=case, data={**filed, "victims": remaining}, version=_version()
        )
    except DomainError as exc:
        refuse(exc)
        return _render_claims(case, filed, _settings_form(case, filed)), exc.status
    flash(_("The victim was removed from the claims."), "success")
    return redirect(url_for("assessments.show", case_id=case.id))


# -- the assessment ---------------------------------------------------------------------------


def _what_if_changes(args: Any, result: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {"ratios": {}, "items": {}}
    if args.get("standards_year"):
        changes["standards_year"] = args["standards_year"]
    for key, value in args.items():
        if key.startswith("ratio:") and value.strip():
            changes["ratios"][key.removeprefix("ratio:")] = value.strip()
        elif key.startswith("item:") and value.strip():
            victim_id, _, code = key.removeprefix("item:").partition(":")
            changes["items"].setdefault(victim_id, {})[code] = value.strip()
    return changes


@bp.get("/<int:case_id>/assessment")
def show(case_id: int):
    case = access.get_case(current_user, case_id)
    assessment = assessments.latest_assessment(case)
    jobs = [job for job in case_service.case_jobs(case) if job.kind == "assessments.run"]
    context: dict[str, Any] = {
        "case": case,
        "assessment": assessment,
        "job": jobs[0] if jobs else None,
        "history": assessments.case_assessments(case),
        "can_file": access.can(current_user, Role.MEDIATOR),
        "can_what_if": access.can(current_user, Role.MEDIATOR, Role.JUDGE),
    }
    if assessment is not None:
        parties = assessment.input["request"]["parties"]
        context.update(
            result=assessment.result,
            parties=parties,
            chart=presenters.payer_chart(assessment.result, parties),
            view=presenters.assessment_view(assessment.result, parties),
            reproducible=assessments.is_reproducible(assessment),
            years=standards.current_catalog().years(assessments.jurisdiction()),
            jurisdiction_name=standards.jurisdiction_names().get(
                assessment.result["rule_set"]["jurisdiction"],
                assessment.result["rule_set"]["jurisdiction"],
            ),
            args=request.args,
        )
        if context["can_what_if"] and request.args.get("what_if"):
            try:
                what_if = assessments.what_if(
                    actor=current_user,
                    case=case,
                    changes=_what_if_changes(request.args, assessment.result),
                )
            except ValidationFailed as exc:
                flash(exc.message, "danger")
            else:
                context.update(
                    what_if=what_if,
                    what_if_chart=presenters.payer_chart(what_if["what_if"], parties),
                )
        payers = {
            *assessment.result["totals"],
            *(context.get("what_if") or {}).get("what_if", {}).get("totals", {}),
            *(payer for earlier in context["history"] for payer in earlier.result["totals"]),
        }
        context["payer_labels"] = {p: presenters.payer_label(p, parties) for p in payers}
    return render_template("assessments/show.html", **context)
