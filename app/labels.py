"""Display names of states and kinds, translated when shown."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext
from flask_babel import lazy_gettext as _l


def N_(text: str) -> str:  # noqa: N802 - the usual gettext marker name
    """Mark text for translation where it is stored untranslated (translated when shown)."""
    return text


STATUS_LABELS = {
    "draft": _l("Draft"),
    "reported": _l("Reported"),
    "assessing": _l("Assessing"),
    "negotiating": _l("Negotiating"),
    "agreed": _l("Agreed"),
    "confirming": _l("Awaiting confirmation"),
    "confirmed": _l("Confirmed"),
    "litigation": _l("Litigation"),
    "paid": _l("Paid"),
    "closed": _l("Closed"),
    "withdrawn": _l("Withdrawn"),
}

JOB_STATUS_LABELS = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "succeeded": _l("Done"),
    "failed": _l("Failed"),
}

ORG_KIND_LABELS = {
    "police": _l("Traffic police unit"),
    "insurer": _l("Insurer"),
    "mediation": _l("Mediation committee"),
    "tribunal": _l("Road-traffic tribunal"),
    "platform": _l("Platform administration"),
}

DOCUMENT_KINDS = {
    "report": _l("Accident liability letter"),
    "photo": _l("Photo"),
    "medical_bill": _l("Medical bill"),
    "appraisal": _l("Appraisal report"),
    "other": _l("Other"),
}

JOB_KINDS = {
    "reports.read": _l("Reading the accident letter"),
    "documents.preview": _l("Preparing a preview"),
    "documents.verify": _l("Checking a stored file"),
}

ROLE_LABELS = {
    "police": _l("Traffic police"),
    "adjuster": _l("Insurance adjuster"),
    "mediator": _l("Mediator"),
    "judge": _l("Judge"),
    "admin": _l("Administrator"),
}


def init_app(app: Flask) -> None:
    """Make the label tables available to every template."""
    from app.presenters import mask_id_number

    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        JOB_STATUS_LABELS=JOB_STATUS_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        ORG_KIND_LABELS=ORG_KIND_LABELS,
        REPORT_ERRORS=REPORT_ERRORS,
        DOCUMENT_KINDS=DOCUMENT_KINDS,
        JOB_KINDS=JOB_KINDS,
    )


REPORT_ERRORS = {
    "not_pdf": N_(
        "The file is not a PDF. Upload the accident liability letter (事故认定书) as a PDF file."
    ),
    "encrypted": N_(
        "The PDF is protected by a password. Save it again without a password, then upload it."
    ),
    "no_text_layer": N_(
        "The PDF has no text in it (a scan or a photo), so nothing could be read "
        "automatically. Upload the PDF exported from the traffic management "
        "system, or type the fields in by hand."
    ),
    "not_a_report": N_(
        "This PDF does not look like an accident liability letter (事故认定书). "
        "Check that you chose the right file."
    ),
    "too_large": N_(
        "The file is larger than 20 MB or too complex to read. Export it again "
        "without scanned images if you can."
    ),
    "timeout": N_(
        "Reading the file took too long. Export it again, or type the fields in by hand."
    ),
    "damaged": N_("The PDF is damaged or incomplete. Export or download it again, then upload it."),
}


def report_error_message(code: str) -> str:
    """What a police clerk is told when a report cannot be read, in the current language."""
    return gettext(REPORT_ERRORS.get(code, REPORT_ERRORS["damaged"]))
