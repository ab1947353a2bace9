"""Job handlers that exist for the tests only (loaded through DAOJIAO_JOB_MODULES)."""

from __future__ import annotations

import time

from app import audit, jobs
from app.models import Job


@jobs.job_handler("test.slow_effect", queue="default", timeout=60)
def slow_effect(job: Job, progress: jobs.Progress) -> None:
    """Take `subject_id` tenths of a second, reporting progress, then leave one audit event."""
    steps = max(1, job.subject_id or 1)
    for step in range(steps):
        time.sleep(0.1)
        progress(int(100 * (step + 1) / steps), f"step {step + 1} of {steps}")
    audit.record("test.effect", actor=None, subject=f"job:{job.id}")


@jobs.job_handler("test.flaky", queue="default", timeout=30)
def flaky(job: Job, progress: jobs.Progress) -> None:
    """Fail with a temporary error until the third attempt."""
    if job.attempts < 3:
        raise ConnectionError(f"service away (attempt {job.attempts})")
    audit.record("test.effect", actor=None, subject=f"job:{job.id}")


@jobs.job_handler("test.unreadable", queue="default", timeout=30)
def unreadable(job: Job, progress: jobs.Progress) -> None:
    """Fail for good, with a reason a user can read."""
    raise jobs.PermanentJobError("文件无法读取", code="damaged")
