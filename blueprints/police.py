"""Police intake pages: upload reports, review what was read beside the page, confirm."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access
from app.db import session
from app.errors import DomainError
from app.models import Case, Role
from app.services import cases as case_service
from app.services import documents, intake
from blueprints.forms import PartyForm, ReviewForm, UploadForm

bp = Blueprint("police", __name__, url_prefix="/police")
access.guard_blueprint(bp, [Role.POLICE])


@bp.route("/upload", methods=["GET", "POST"])
def upload():  # type: ignore[no-untyped-def]
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("police/upload.html", form=form, results=None), (
            400 if form.is_submitted() else 200
        )
    results: list[dict[str, Any]] = []
    for storage in request.files.getlist(form.reports.name):
        name = storage.filename or _("(no name)")
        try:
            case = intake.upload_report(
                actor=current_user, filename=storage.filename, data=storage.read()
            )
        except DomainError as exc:
            session.rollback()
            results.append({"filename": name, "error": exc.message})
            continue
        session.commit()
        reading = next(job for job in case_service.case_jobs(case) if job.kind == "reports.read")
        results.append({"filename": name, "case": case, "job": reading})
    status = 200 if any("case" in result for result in results) else 422
    return render_template(
        "police/upload.html", form=UploadForm(formdata=None), results=results
    ), status


def _form_data(fields: dict[str, Any], version: int) -> dict[str, Any]:
    data: dict[str, Any] = {name: fields.get(name) for name in intake.TOP_FIELDS}
    data["version"] = version
    for name in ("procedure",):
        data[name] = data[name] or ""
    if data["accident_time"]:
        data["accident_time"] = datetime.fromisoformat(data["accident_time"]).replace(tzinfo=None)
    if data["issue_date"]:
        data["issue_date"] = date.fromisoformat(data["issue_date"])
    data["parties"] = [
        {
            **{name: party.get(name) for name in intake.PARTY_FIELDS},
            "gender": party.get("gender") or "",
            "liability": party.get("liability") or "",
            "age": "" if party.get("age") is None else str(party["age"]),
        }
        for party in fields.get("parties") or []
    ]
    return data


def _fields_from(form: ReviewForm) -> dict[str, Any]:
    fields: dict[str, Any] = {name: getattr(form, name).data for name in intake.TOP_FIELDS}
    if fields["accident_time"]:
        fields["accident_time"] = fields["accident_time"].isoformat()
    if fields["issue_date"]:
        fields["issue_date"] = fields["issue_date"].isoformat()
    parties = []
    for entry in form.parties:
        party = {name: entry.form[name].data for name in intake.PARTY_FIELDS}
        blank = not any(value for name, value in party.items() if name != "label")
        if entry.form.remove.data or blank:
            continue
        parties.append({name: (value or None) for name, value in party.items()})
    fields["parties"] = parties
    return fields


def _page_context(case: Case) -> dict[str, Any]:
    report = case.report
    parsed = report.parsed or {}
    images = documents.page_images(documents.get_document(current_user, report.document_id))
    pages = [
        {"number": number, "width": size[0], "height": size[1], "image": images.get(number)}
        for number, size in enumerate(report.page_sizes or [], start=1)
    ]
    warnings: dict[str, list[str]] = {}
    for warning in parsed.get("warnings") or []:
        warnings.setdefault(warning.get("field") or "", []).append(warning.get("message") or "")
    return {
        "pages": pages,
        "provenance": parsed.get("provenance") or {},
        "warnings": warnings,
        "unmatched": intake.unmatched_insurers(case),
    }


@bp.route("/cases/<int:case_id>/review", methods=["GET", "POST"])
def review(case_id: int):  # type: ignore[no-untyped-def]
    case = access.get_case(current_user, case_id)
    report = case.report
    if report is None:
        return redirect(url_for("cases.show", case_id=case.id))
    if request.method == "GET":
        form = ReviewForm(data=_form_data(report.fields or {}, case.version))
        form.parties.append_entry()  # one empty block: a party the letter did not name
        return _render_review(case, form)
    form = ReviewForm()
    action = request.form.get("action", "save")
    if not form.validate():
        return _render_review(case, form), 400
    version = int(form.version.data or 0)
    try:
        if action == "withdraw":
            intake.withdraw_case(actor=current_user, case=case, version=version)
            message = _("The draft was withdrawn; its file is kept as evidence.")
        elif action == "confirm":
            intake.confirm_report(
                actor=current_user, case=case, fields=_fields_from(form), version=version
            )
            message = _("Case %(number)s confirmed.", number=case.number)
        else:
            intake.correct_report(
                actor=current_user, case=case, fields=_fields_from(form), version=version
            )
            message = _("Saved.")
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return _render_review(access.get_case(current_user, case_id), form), exc.status
    session.commit()
    flash(message, "success")
    if action == "save":
        return redirect(url_for("police.review", case_id=case.id))
    return redirect(url_for("cases.show", case_id=case.id))


def _render_review(case: Case, form: ReviewForm) -> str:
    return render_template(
        "police/review.html",
        case=case,
        form=form,
        jobs=case_service.case_jobs(case),
        party_form=PartyForm,
        **_page_context(case),
    )
