"""Police intake pages: upload reports, review what was read beside the page, confirm."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import access, demo, id_numbers, validation, worklist
from app.db import AfterCommit, session
from app.errors import DomainError
from app.labels import report_warning_message
from app.models import Case, Job, Role
from app.services import cases as case_service
from app.services import documents, intake
from app.web import refuse
from blueprints.forms import PartyForm, ReviewForm, UploadForm

bp = Blueprint("police", __name__, url_prefix="/police")
access.guard_blueprint(bp, [Role.POLICE])

# The review form's fields in the order of the page, with their column widths; the attention
# summary lists the fields that need checking in this order too.
LETTER_LAYOUT = (
    ("document_no", "col-md-6"),
    ("procedure", "col-md-6"),
    ("accident_time", "col-md-6"),
    ("issue_date", "col-md-6"),
    ("location", "col-12"),
    ("weather", "col-md-6"),
    ("issuer", "col-md-6"),
    ("facts", "col-12"),
    ("cause", "col-12"),
)
PARTY_LAYOUT = (
    ("label", "col-md-3"),
    ("name", "col-md-5"),
    ("gender", "col-md-2"),
    ("age", "col-md-2"),
    ("id_number", "col-md-6"),
    ("phone", "col-md-6"),
    ("traffic_mode", "col-md-6"),
    ("liability", "col-md-6"),
    ("plate", "col-md-6"),
    ("vehicle_type", "col-md-6"),
    ("ctpi_insurer", "col-md-6"),
    ("ctpi_policy_no", "col-md-6"),
    ("ctpi_uninsured", "col-12"),
    ("commercial_insurer", "col-md-6"),
    ("commercial_limit", "col-md-6"),
    ("license_no", "col-md-6"),
    ("address", "col-md-6"),
)
# Names of what the parser may warn about that the form does not show.
OTHER_FIELDS = {
    "pages": _l("The pages"),
    "accident_date": _l("Accident date"),
    "year": _l("Year of the letter"),
    "accident_form": _l("Kind of collision"),
    "liability_text": _l("Liability as the letter states it"),
    "mediation_result": _l("Result of the police mediation"),
    "birth_date": _l("Date of birth"),
    "owner": _l("Vehicle owner"),
    "license_class": _l("Licence class"),
    "commercial_policy_no": _l("Commercial policy number"),
}


@bp.get("/sample-letter.pdf")
def sample_letter():
    """The demo's sample accident letter, to try an upload with (the demo only)."""
    if current_app.config["DAOJIAO_MODE"] != "demo":
        abort(404)
    return send_file(
        io.BytesIO(demo.SAMPLE_LETTER.read_bytes()),
        mimetype="application/pdf",
        download_name="认定书-示例.pdf",
    )


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("police/upload.html", form=form, results=None), (
            400 if form.is_submitted() else 200
        )
    uploads: list[dict[str, Any]] = []
    for storage in request.files.getlist(form.reports.name):
        name = storage.filename or _("(no name)")
        try:
            # One letter refused must not undo the others sent with it.
            with session.begin_nested():
                case = intake.upload_report(
                    actor=current_user, filename=storage.filename, data=storage.read()
                )
        except DomainError as exc:
            uploads.append({"filename": name, "error": exc.message})
        else:
            uploads.append({"filename": name, "case": case})
    return AfterCommit(lambda: _uploaded(uploads))


def _uploaded(uploads: list[dict[str, Any]]):
    """A single letter: its review page (which shows the reading until it is done). Several:
    the upload page listing each letter's case and reading job, or why it was refused."""
    if len(uploads) == 1 and "case" in uploads[0]:
        return redirect(url_for("police.review", case_id=uploads[0]["case"].id))
    results = [
        {**upload, "job": _reading_job(upload["case"])} if "case" in upload else upload
        for upload in uploads
    ]
    status = 200 if any("case" in result for result in results) else 422
    return render_template(
        "police/upload.html", form=UploadForm(formdata=None), results=results
    ), status


def _reading_job(case: Case) -> Job:
    return next(job for job in case_service.case_jobs(case) if job.kind == "reports.read")


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
            "ctpi_uninsured": bool(party.get("ctpi_uninsured")),
        }
        for party in fields.get("parties") or []
    ]
    return data


def _fields_from(form: ReviewForm, before: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {name: getattr(form, name).data for name in intake.TOP_FIELDS}
    if fields["accident_time"]:
        fields["accident_time"] = fields["accident_time"].isoformat()
    if fields["issue_date"]:
        fields["issue_date"] = fields["issue_date"].isoformat()
    # The form lists the saved parties in order, then an empty one: what the parser read
    # beyond the form's fields (birth date, owner…) stays with the party it belongs to.
    saved = before.get("parties") or []
    parties = []
    for index, entry in enumerate(form.parties):
        party = {name: entry.form[name].data for name in intake.PARTY_FIELDS}
        blank = not any(value for name, value in party.items() if name != "label")
        if entry.form.remove.data or blank:
            continue
        kept = saved[index] if index < len(saved) else {}
        parties.append(
            {
                **{name: value for name, value in kept.items() if name not in party},
                **{name: (value or None) for name, value in party.items()},
            }
        )
    fields["parties"] = parties
    return fields


def _form_fields(form: ReviewForm) -> list[tuple[str, Any, str]]:
    """(path, field, name for people) of every field of the review form, in the page's order."""
    fields = [(name, form[name], str(form[name].label.text)) for name, _width in LETTER_LAYOUT]
    for index, entry in enumerate(form.parties):
        party = _("Party %(n)d", n=index + 1)
        if entry.form.label.data:
            party = f"{party} {entry.form.label.data}"
        fields += [
            (
                f"parties[{index}].{name}",
                entry.form[name],
                f"{party} · {entry.form[name].label.text}",
            )
            for name, _width in PARTY_LAYOUT
        ]
    return fields


def _other_field_name(path: str) -> str:
    """A name for people of a path the form does not show (`parties[1].birth_date`)."""
    if path.startswith("parties["):
        index, _sep, name = path.removeprefix("parties[").partition("].")
        if index.isdigit():
            party = _("Party %(n)d", n=int(index) + 1)
            fields = PartyForm()  # a party the officer removed still has its fields' names
            known = fields[name].label.text if name in fields else OTHER_FIELDS.get(name, name)
            return f"{party} · {known}"
    return str(OTHER_FIELDS.get(path, path))


def _reading_notes(case: Case, form: ReviewForm) -> dict[str, Any]:
    """What the parser says about its reading, for the page: whether it read a scan, each
    field's OCR confidence, its warnings (in the reader's language), and the fields that need
    checking, listed in the page's order."""
    parsed = case.report.parsed or {}
    warnings: dict[str, list[dict[str, Any]]] = {}
    for warning in parsed.get("warnings") or []:
        warnings.setdefault(warning.get("field") or "", []).append(
            {
                "code": warning.get("code"),
                "message": report_warning_message(warning),
                "unsure": warning.get("code") == "ocr_unsure",
            }
        )
    attention = []
    shown = set()
    for path, field, name in _form_fields(form):
        shown.add(path)
        if path in warnings:
            attention.append(
                {"path": path, "anchor": field.id, "name": name, "warnings": warnings[path]}
            )
    for path, found in warnings.items():
        if path not in shown:
            attention.append(
                {"path": path, "anchor": None, "name": _other_field_name(path), "warnings": found}
            )
    confidence = parsed.get("confidence") or {}
    return {
        "source": parsed.get("source") or "text",
        "confidence": {
            path: round(100 * value)
            for path, value in confidence.items()
            if isinstance(value, int | float)
        },
        "warnings": warnings,
        "attention": attention,
    }


def _page_context(case: Case) -> dict[str, Any]:
    report = case.report
    parsed = report.parsed or {}
    images = documents.page_images(documents.get_document(current_user, report.document_id))
    pages = [
        {"number": number, "width": size[0], "height": size[1], "image": images.get(number)}
        for number, size in enumerate(report.page_sizes or [], start=1)
    ]
    return {
        "pages": pages,
        "provenance": parsed.get("provenance") or {},
        "unmatched": intake.unmatched_insurers(case),
    }


@bp.route("/cases/<int:case_id>/review", methods=["GET", "POST"])
def review(case_id: int):
    case = access.get_case(current_user, case_id)
    report = case.report
    if report is None:
        return redirect(url_for("cases.show", case_id=case.id))
    if request.method == "GET":
        # The officer checks the numbers as read: in full, and logged (app.id_numbers).
        shown = id_numbers.for_reader(current_user, case, report.fields or {}, where="review")
        form = ReviewForm(data=_form_data(shown, case.version))
        form.parties.append_entry()  # one empty block: a party the letter did not name
        return _render_review(case, form)
    form = ReviewForm()
    action = request.form.get("action", "save")
    if not form.validate():
        return _render_review(case, form), 400
    try:
        version = validation.required_form_version(form.version.data)
        if action == "withdraw":
            intake.withdraw_case(actor=current_user, case=case, version=version)
            message = _("The draft was withdrawn; its file is kept as evidence.")
        elif action == "confirm":
            intake.confirm_report(
                actor=current_user,
                case=case,
                fields=_fields_from(form, report.fields or {}),
                version=version,
            )
            message = _("Case %(number)s confirmed.", number=case.number)
        else:
            intake.correct_report(
                actor=current_user,
                case=case,
                fields=_fields_from(form, report.fields or {}),
                version=version,
            )
            message = _("Saved.")
    except DomainError as exc:
        refuse(exc)
        return _render_review(access.get_case(current_user, case_id), form), exc.status
    flash(message, "success")
    if action == "save":
        return redirect(url_for("police.review", case_id=case.id))
    return redirect(worklist.next_url(case, current_user))


def _render_review(case: Case, form: ReviewForm) -> str:
    return render_template(
        "police/review.html",
        case=case,
        form=form,
        jobs=case_service.case_jobs(case),
        party_form=PartyForm,
        letter_layout=LETTER_LAYOUT,
        party_layout=PARTY_LAYOUT,
        **_page_context(case),
        **_reading_notes(case, form),
    )
