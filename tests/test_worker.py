"""The worker runs jobs in its own process (no fork per job); uploaded files are handled in an
isolated child, so a hostile PDF fails its job and the worker goes on."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import gettext
from sqlalchemy import select, text

from app import audit, jobs, rendering
from app.db import session
from app.models import AuditEvent, Case, Document, Job, JobStatus, OrgKind
from app.services import documents
from tests import factories
from tests.reports.generator import make_bad, make_report
from tests.test_jobs import redis_app, reload, worker  # noqa: F401 - redis_app is a fixture
from workers import tasks

# The worker imports this module too, for the handlers below.
WORKER_ENV = {"DAOJIAO_JOB_MODULES": "tests.support.jobs,tests.test_worker"}


@jobs.job_handler("test.where", queue="default", timeout=30)
def where(job: Job, progress: jobs.Progress) -> None:
    """Leave an audit event naming the process and the database connection that ran the job."""
    backend = session.scalar(text("SELECT pg_backend_pid()"))
    audit.record(
        "test.where",
        actor=None,
        subject=f"job:{job.id}",
        details={"pid": os.getpid(), "backend": backend},
    )


@jobs.job_handler("test.overrun", queue="default", timeout=1)
def overrun(job: Job, progress: jobs.Progress) -> None:
    """Run far past the job's timeout of one second."""
    progress(10, "started")
    time.sleep(120)


def ran_where(job_id: int) -> dict:
    """The process and connection that `test.where` job `job_id` ran in."""
    return session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == "test.where", AuditEvent.subject == f"job:{job_id}"
        )
    ).one()


def pdf_case() -> Case:
    return factories.make_case(police=factories.make_org(OrgKind.POLICE))


def store_pdf(case: Case, data: bytes) -> Document:
    return documents.store_document(
        actor=None,
        case=case,
        kind="evidence",
        data=data,
        media_type="application/pdf",
        filename="upload.pdf",
    )


# -- in this process (no Redis) ----------------------------------------------------------


def test_pages_render_in_an_isolated_child() -> None:
    data, _ = make_report("general_table", seed=0)
    assert rendering.render_pages_isolated(data) == rendering.render_pages(data)


def test_an_unreadable_pdf_or_a_slow_one_fails_to_render_with_a_reason() -> None:
    with pytest.raises(rendering.RenderError) as damaged:
        rendering.render_pages_isolated(b"%PDF-1.4\n" + b"\x00garbage" * 100)
    data, _ = make_report("general_table", seed=0)
    with pytest.raises(rendering.RenderError) as slow:
        rendering.render_pages_isolated(data, timeout=0.002)

    assert damaged.value.code == "damaged"
    assert slow.value.code == "timeout"


@pytest.mark.slow  # waits for the isolated renderer to hit its limits
def test_a_decompression_bomb_is_stopped_without_hurting_the_renderer_s_caller() -> None:
    bomb = make_bad("bomb")  # a few MB inflating to 4 GiB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(rendering.RenderError) as caught:
        rendering.render_pages_isolated(bomb, memory_mb=512)
    assert caught.value.code == "too_large"
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100 * 1024


@pytest.mark.slow  # renders a decompression bomb up to its limits
def test_a_preview_of_a_bomb_fails_for_good_with_a_reason_users_read(app: Flask) -> None:
    document = store_pdf(pdf_case(), make_bad("bomb"))
    job = jobs.schedule("documents.preview", subject_id=document.id, case_id=document.case_id)
    session.commit()  # runs in-process now

    failed = reload(job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error_code == "too_large"
    assert failed.error == gettext(tasks.RENDER_ERRORS["too_large"])
    assert documents.page_images(document) == {}


# -- a real worker on Redis -------------------------------------------------------------------


@pytest.mark.redis
def test_a_worker_runs_its_jobs_in_its_own_process_on_pooled_connections(
    redis_app: Flask,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    job_ids = [jobs.schedule("test.where").id for _ in range(8)]
    session.commit()

    with worker(redis_app, tmp_path, "--burst", env=WORKER_ENV) as proc:
        assert proc.wait(timeout=60) == 0
    session.expire_all()
    ran = [ran_where(job_id) for job_id in job_ids]

    assert all(reload(job_id).status == JobStatus.SUCCEEDED for job_id in job_ids)
    assert {entry["pid"] for entry in ran} == {proc.pid}  # no work horse forked per job
    assert len({entry["backend"] for entry in ran}) < len(job_ids)  # connections reused


@pytest.mark.redis
def test_a_job_past_its_timeout_fails_with_a_reason_and_the_worker_goes_on(
    redis_app: Flask,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    late = jobs.schedule("test.overrun")
    after = jobs.schedule("test.where")
    session.commit()

    with worker(redis_app, tmp_path, "--burst", env=WORKER_ENV) as proc:
        assert proc.wait(timeout=60) == 0

    stopped = reload(late.id)
    assert stopped.status == JobStatus.FAILED
    assert stopped.error_code == "timeout"
    assert stopped.attempts == 1
    assert stopped.error
    assert reload(after.id).status == JobStatus.SUCCEEDED
    assert ran_where(after.id)["pid"] == proc.pid


@pytest.mark.redis
def test_a_pdf_bomb_fails_its_preview_and_the_worker_goes_on(
    redis_app: Flask,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    case = pdf_case()
    letter, _ = make_report("general_table", seed=1)
    bomb = store_pdf(case, make_bad("bomb"))
    fine = store_pdf(case, letter)
    previews = [
        jobs.schedule("documents.preview", subject_id=document.id, case_id=case.id)
        for document in (bomb, fine)
    ]
    after = jobs.schedule("test.where")
    session.commit()

    with worker(redis_app, tmp_path, "--burst", "preview", "default", env=WORKER_ENV) as proc:
        assert proc.wait(timeout=120) == 0

    failed, rendered = (reload(job.id) for job in previews)
    assert failed.status == JobStatus.FAILED
    assert failed.error_code == "too_large"
    assert failed.error == gettext(tasks.RENDER_ERRORS["too_large"])
    assert rendered.status == JobStatus.SUCCEEDED, rendered.error
    pages = len(rendering.render_pages(letter))
    assert set(documents.page_images(session.get(Document, fine.id))) == set(range(1, pages + 1))
    assert reload(after.id).status == JobStatus.SUCCEEDED
    assert ran_where(after.id)["pid"] == proc.pid
