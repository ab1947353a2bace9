"""The functions RQ calls, and the job handlers that need no other module."""

from __future__ import annotations

from flask_babel import gettext as _

from app import audit, jobs
from app.db import session
from app.models import Document, Job
from app.objects import get_store
from storage import IntegrityError, ObjectNotFound
from workers import get_app


def run_job(job_id: int) -> str | None:
    """RQ entry point: run one job row in a fresh app context (own session, own connection)."""
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
    progress(10, _("Reading the stored file"))
    try:
        get_store().read(document.object_key, sha256=document.sha256)
    except IntegrityError as exc:
        raise jobs.PermanentJobError(
            _("The stored file does not match its recorded fingerprint."), code="altered"
        ) from exc
    except ObjectNotFound as exc:
        raise jobs.PermanentJobError(_("The stored file is missing."), code="missing") from exc
    audit.record(
        "document.verified",
        actor=None,
        case_id=document.case_id,
        subject=f"document:{document.id}",
        details={"sha256": document.sha256},
    )
