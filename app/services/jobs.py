"""Reading job status, with the same visibility as the job's case."""

from __future__ import annotations

from flask_babel import gettext as _

from app import access
from app.db import session
from app.errors import NotFound
from app.models import Job, Role, User


def get_job(user: User, job_id: int) -> Job:
    """A job the user may see: one of a visible case, or one they started."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(_("No such job."))
    if job.case_id is not None:
        access.get_case(user, job.case_id)
    elif job.created_by_id != user.id and user.role != Role.ADMIN:
        raise NotFound(_("No such job."), denied=True)
    return job
