"""The case list and the case page of the portal, with its evidence."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from app import access, id_numbers, stats
from app.errors import DomainError
from app.models import FINISHED_STATES, Case, CaseStatus, Role
from app.services import assessments, deadlines, documents, intake, liability
from app.services import cases as case_service
from app.web import refuse
from blueprints.forms import EvidenceForm

bp = Blueprint("cases", __name__, url_prefix="/cases")
access.guard_blueprint(bp, Role)


class BillEvidenceForm(EvidenceForm):
    """The evidence form with the amount a bill or receipt shows (the claims start from it)."""

    amount = StringField(
        _l("Amount on the bill (yuan, optional)"), validators=[Optional(), Length(max=20)]
    )

    def validate_amount(self, field: StringField) -> None:
        if (field.data or "").strip() and len([f for f in self.files.data or [] if f]) > 1:
            raise ValidationError(_l("Attach one bill at a time to give its amount."))


def _figure_search(args: Mapping[str, str]) -> tuple[dict[str, str], Select | None]:
    """The cases behind an oversight figure (`?figure=resolved&from=…&to=…&region=…&insurer=…
    &type=…`, linked from /stats), through the user's access filter: the same query that counted
    them. Returns the parameters to keep on the list's links, and the cases' ids."""
    figure = args.get("figure")
    if not figure:
        return {}, None
    try:
        filters = stats.Filters.from_args(args)
        among = stats.figure_cases(figure, filters, access.case_filter(current_user))
    except DomainError as exc:
        refuse(exc)
        return {}, None
    return {"figure": figure, **filters.as_args()}, among


@bp.get("/")
def index():
    status_arg = request.args.get("status") or None
    status = CaseStatus(status_arg) if status_arg in set(CaseStatus) else None
    figure_args, among = _figure_search(request.args)
    search = {"user": current_user, "status": status, "q": request.args.get("q"), "among": among}
    try:
        result = case_service.search_cases(
            **search,
            page=request.args.get("page", 1, type=int),
            after=request.args.get("after"),
            before=request.args.get("before"),
        )
    except ValueError:
        result = case_service.search_cases(**search)  # a mangled link: the first page
    return render_template(
        "cases/index.html",
        result=result,
        status=status,
        q=request.args.get("q", ""),
        statuses=list(CaseStatus),
        figure_args=figure_args,
        figure_label=stats.FIGURE_LABELS.get(figure_args.get("figure", "")),
    )


def _letter_texts(case: Case) -> dict[str, str | None]:
    """The letter's texts the page shows, as the reader may read them (app.id_numbers)."""
    fields = (case.report.fields if case.report else None) or {}
    texts = {name: fields.get(name) for name in ("issuer", "facts", "cause", "liability_text")}
    return id_numbers.for_reader(current_user, case, texts, where="case page")


def _render_case(case_id: int, evidence_form: BillEvidenceForm | None = None) -> str:
    case = access.get_case(current_user, case_id)
    files = documents.case_documents(case)
    return render_template(
        "cases/show.html",
        case=case,
        jobs=case_service.case_jobs(case),
        documents=files,
        previews=documents.previews(files),
        unmatched=intake.unmatched_insurers(case),
        assessment=assessments.latest_assessment(case),
        clock=deadlines.case_clock(case),
        liability_pending=liability.pending_parties(case),
        liability_decision=liability.latest_decision(case),
        is_certificate=liability.is_certificate(case),
        letter=_letter_texts(case),
        evidence_form=evidence_form or BillEvidenceForm(),
        can_attach=access.can(current_user, Role.POLICE, Role.MEDIATOR)
        and case.status not in FINISHED_STATES,
        can_reveal=access.can(current_user, Role.POLICE, Role.MEDIATOR, Role.JUDGE, Role.ADMIN),
    )


@bp.get("/<int:case_id>")
def show(case_id: int):
    return _render_case(case_id)


@bp.post("/<int:case_id>/documents")
def attach(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.POLICE, Role.MEDIATOR)
    form = BillEvidenceForm()
    if not form.validate_on_submit():
        return _render_case(case_id, form), 400
    try:
        documents.attach_evidence_files(
            actor=current_user,
            case=case,
            kind=form.kind.data,
            files=[
                (upload.filename, upload.read())
                for upload in request.files.getlist(form.files.name)
            ],
            description=form.description.data,
            amount=form.amount.data,
        )
    except DomainError as exc:
        refuse(exc)
        return _render_case(case_id, form), exc.status
    flash(_("The files were added to the case."), "success")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<int:case_id>/parties/<int:party_id>/id-number")
def reveal_id_number(case_id: int, party_id: int):
    case = access.get_case(current_user, case_id)
    id_number = intake.reveal_id_number(actor=current_user, case=case, party_id=party_id)
    return jsonify(id_number=id_number)
