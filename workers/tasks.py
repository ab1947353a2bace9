"""The functions RQ calls, and the job handlers: each loads by id and calls a service."""

from __future__ import annotations

import logging

from flask import Flask
from flask_babel import gettext as _

from app import audit, jobs, rendering
from app.db import session
from app.errors import EvidenceAltered
from app.labels import N_
from app.models import Document, Job
from app.services import assessments, documents, intake
from workers import get_app

log = logging.getLogger(__name__)


def run_job(job_id: int) -> str | None:
    """RQ entry point: run one job row in a fresh app context (a session of its own, on a
    connection from the worker's pool)."""
    app = get_app()
    audit.origin.set("worker")
    with app.app_context():
        status = jobs.run(job_id)
    return status.value if status else None


@jobs.job_handler("documents.verify", queue="default", timeout=300)
def verify_document(job: Job, progress: jobs.Progress) -> None:
    """Re-hash a stored document and record in the audit log that it is intact."""
    document = session.get(Document, job.subject_id)
    if document is None:
        raise jobs.PermanentJobError(_("The document no longer exists."), code="not_found")
    progress(10, N_("Reading the stored file"))
    try:
        documents.read_document(document)
    except EvidenceAltered as exc:
        raise jobs.PermanentJobError(exc.message, code="altered") from exc
    audit.record(
        "document.verified",
        actor=None,
        case_id=document.case_id,
        subject=f"document:{document.id}",
        details={"sha256": document.sha256},
    )


# A scan is read by OCR: up to 60 s plus 30 s a page for at most 10 pages (app/reports).
@jobs.job_handler(
    "reports.read",
    queue="parse",
    timeout=420,
    poison_hint=N_("Type the fields in by hand, or upload the letter again as a new file."),
)
def read_report(job: Job, progress: jobs.Progress) -> None:
    """Read an uploaded accident report into the draft case's fields."""
    intake.read_report(job.subject_id, progress)


# Why a PDF's pages could not be shown, by rendering.RenderError code.
RENDER_ERRORS = {
    "too_large": N_(
        "The pages of this PDF cannot be shown: the file is too large or too complex. "
        "The file itself is kept and can be downloaded."
    ),
    "timeout": N_(
        "Showing the pages of this PDF took too long. The file itself is kept and can be "
        "downloaded."
    ),
    "damaged": N_(
        "The pages of this PDF cannot be shown: the file is damaged. The file itself is kept "
        "and can be downloaded."
    ),
}


# The pages render in an isolated child limited to rendering.RENDER_SECONDS (60 s).
@jobs.job_handler(
    "documents.preview",
    queue="preview",
    timeout=120,
    poison_hint=N_("The file itself is kept and can be downloaded."),
)
def preview_document(job: Job, progress: jobs.Progress) -> None:
    """Render the pages of an evidence PDF for previews."""
    document = session.get(Document, job.subject_id)
    if document is None or documents.page_images(document):
        return
    progress(20, N_("Rendering the pages"))
    try:
        sizes = documents.render_page_images(document, documents.read_document(document))
    except rendering.RenderError as exc:
        message = RENDER_ERRORS.get(exc.code, RENDER_ERRORS["damaged"])
        raise jobs.PermanentJobError(_(message), code=exc.code) from exc
    intake.record_page_sizes(document, sizes)


@jobs.job_handler("assessments.run", queue="assess", timeout=120)
def run_assessment(job: Job, progress: jobs.Progress) -> None:
    """Assess a case's filed claims."""
    assessments.run_assessment(job.subject_id, progress, job_id=job.id)


@jobs.job_handler("deadlines.sweep", queue="default", timeout=300)
def sweep_deadlines(job: Job, progress: jobs.Progress) -> None:
    """Mark due and overdue deadlines and tell their owners; repeating it changes nothing."""
    from app.services import deadlines

    deadlines.sweep_deadlines()


def sweep_deadlines_in(app: Flask) -> dict[str, int]:
    """Run the deadline sweep once in a fresh app context and commit it (sweeper threads)."""
    from app.services import deadlines

    with app.app_context():
        counts = deadlines.sweep_deadlines()
        session.commit()
    return counts


# Events a worker's sweeper verifies at most in one go (~3 s): a long backlog, after an upgrade or
# a pause, is worked off over several sweeps without holding up the deadline sweep.
AUDIT_VERIFY_BATCH = 50_000


def advance_audit_checkpoint(app: Flask) -> audit.Verification:
    """Verify the audit chain from its latest checkpoint (at most AUDIT_VERIFY_BATCH events),
    recording a new checkpoint; a broken chain is logged as an error for the operators."""
    with app.app_context():
        result = audit.verify_chain(limit=AUDIT_VERIFY_BATCH)
    if not result.ok:
        log.error(
            "audit chain broken at event %s (%s): run `daojiao audit verify`",
            result.broken_id,
            result.reason,
        )
    return result


@jobs.job_handler("litigation.package", queue="default", timeout=900)
def build_filing_package(job: Job, progress: jobs.Progress) -> None:
    """Build, sign and store the filing package of a case in litigation."""
    from app.services import litigation

    litigation.build_filing_package(job.subject_id, progress)
