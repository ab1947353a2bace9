"""Dead workers are noticed by their heartbeat, and a job that keeps killing its worker ends as
`poison` with a reason people read, instead of being reclaimed forever."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import select

from app import jobs, presenters
from app.db import get_db, session, utcnow
from app.models import AuditEvent, Job, JobStatus, OrgKind
from app.models.jobs import Worker
from tests import factories
from tests.test_jobs import effects, reload, wait_for, worker

# The workers import this module too, for the handler below.
WORKER_ENV = {
    "DAOJIAO_JOB_MODULES": "tests.support.jobs,tests.test_jobs_dead_workers",
    "JOB_LEASE_SECONDS": "900",  # a dead worker is noticed by its heartbeat, not its lease
    "WORKER_HEARTBEAT_SECONDS": "1",
    "WORKER_DEAD_SECONDS": "3",
    "JOB_MAX_ATTEMPTS": "2",
}


@jobs.job_handler("test.kill_worker", queue="default", timeout=30)
def kill_worker(job: Job, progress: jobs.Progress) -> None:
    """Kill the process running the job outright, as an out-of-memory kill or a crash would."""
    progress(10, "about to die")
    os.kill(os.getpid(), signal.SIGKILL)


def left_running(
    kind: str,
    *,
    attempts: int,
    worker: str | None,
    lease: timedelta,
    case_id: int | None = None,
) -> Job:
    """A job row as a worker that died mid-run leaves it (committed: nothing runs it now)."""
    now = utcnow()
    job = Job(
        kind=kind,
        queue=jobs.HANDLERS[kind].queue,
        subject_id=1,
        case_id=case_id,
        status=JobStatus.RUNNING,
        attempts=attempts,
        started_at=now - timedelta(minutes=1),
        lease_until=now + lease,
        worker=worker,
    )
    session.add(job)
    session.commit()
    return job


def beat(name: str, *, ago: timedelta) -> None:
    session.add(Worker(name=name, started_at=utcnow() - ago, heartbeat_at=utcnow() - ago))
    session.commit()


# -- in this process (no Redis) ----------------------------------------------------------


def test_a_job_whose_runs_keep_dying_fails_as_poison_with_a_reason(app: Flask) -> None:
    limit = app.config["JOB_MAX_ATTEMPTS"]
    job = left_running(
        "documents.preview", attempts=limit, worker=None, lease=timedelta(seconds=-1)
    )

    jobs.sweep()

    failed = reload(job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error_code == "poison"
    assert failed.error == jobs.poison_reason(failed)
    assert str(limit) in failed.error
    assert jobs.HANDLERS["documents.preview"].poison_hint
    assert presenters.job_json(failed)["error"] == {"code": "poison", "message": failed.error}
    audited = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == "job.failed", AuditEvent.subject == f"job:{job.id}"
        )
    ).one()
    assert audited["code"] == "poison"
    jobs.sweep()  # ended: never reclaimed again
    assert reload(job.id).status == JobStatus.FAILED


def test_the_poison_reason_shows_on_the_case_page(app: Flask) -> None:
    police = factories.make_org(OrgKind.POLICE)
    case = factories.make_case(police=police)
    admin = factories.make_user(factories.make_org(OrgKind.PLATFORM))
    officer = factories.make_user(police)
    job = left_running(
        "documents.preview",
        attempts=app.config["JOB_MAX_ATTEMPTS"],
        worker=None,
        lease=timedelta(seconds=-1),
        case_id=case.id,
    )
    jobs.sweep()
    reason = reload(job.id).error

    for user in (officer, admin):
        client = app.test_client()
        factories.login(client, user)
        page = client.get(f"/cases/{case.id}")
        assert page.status_code == 200
        assert str(escape(reason)) in page.get_data(as_text=True)


def test_a_job_of_a_silent_worker_is_reclaimed_before_its_lease_ends(app: Flask) -> None:
    beat("dead-worker", ago=timedelta(seconds=app.config["WORKER_DEAD_SECONDS"] + 5))
    job = left_running(
        "test.slow_effect", attempts=1, worker="dead-worker", lease=timedelta(minutes=14)
    )

    jobs.sweep()  # without Redis it runs the job again at once

    done = reload(job.id)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.attempts == 2
    assert done.worker is None
    assert effects(job.id) == 1


def test_a_job_of_a_live_worker_or_of_a_gone_one_is_told_apart(app: Flask) -> None:
    beat("live-worker", ago=timedelta(seconds=1))
    live = left_running(
        "test.slow_effect", attempts=1, worker="live-worker", lease=timedelta(minutes=14)
    )
    gone = left_running(  # its worker stopped and removed its row
        "test.slow_effect", attempts=1, worker="retired-worker", lease=timedelta(minutes=14)
    )

    jobs.sweep()

    assert reload(live.id).status == JobStatus.RUNNING
    assert reload(gone.id).status == JobStatus.SUCCEEDED


def test_a_job_past_its_claims_is_not_claimed_again(app: Flask) -> None:
    limit = app.config["JOB_MAX_ATTEMPTS"]
    job = left_running("test.slow_effect", attempts=limit, worker=None, lease=timedelta(seconds=-1))
    own = get_db().new_session()
    try:
        claimed = jobs._claim(own, job.id, timedelta(minutes=1), max_attempts=limit)
        own.rollback()
    finally:
        own.close()
    assert claimed is None
    assert reload(job.id).attempts == limit


def test_a_heartbeat_renews_one_row_per_worker(app: Flask) -> None:
    jobs.heartbeat("w1")
    first = session.get(Worker, "w1").heartbeat_at
    time.sleep(0.01)
    jobs.heartbeat("w1")
    session.expire_all()
    assert session.get(Worker, "w1").heartbeat_at > first
    jobs.retire("w1")
    session.expire_all()
    assert session.get(Worker, "w1") is None


# -- real workers on Redis --------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.slow  # starts three workers, two of which the job kills
def test_a_job_that_kills_its_workers_is_reclaimed_quickly_then_fails_as_poison(
    committed_app: Callable[..., Flask], redis_url: str, tmp_path: Path
) -> None:
    flask_app = committed_app(REDIS_URL=redis_url)
    with flask_app.app_context():
        job = jobs.schedule("test.kill_worker")
        session.commit()

        with worker(flask_app, tmp_path, env=WORKER_ENV) as first:
            first.wait(timeout=60)
        assert first.returncode == -signal.SIGKILL
        died = reload(job.id)
        assert (died.status, died.attempts) == (JobStatus.RUNNING, 1)
        first_worker = died.worker
        assert first_worker

        # The lease has 15 minutes to run: the second worker's sweeper goes by the heartbeat.
        started = time.monotonic()
        with worker(flask_app, tmp_path, env=WORKER_ENV) as second:
            second.wait(timeout=60)
        assert second.returncode == -signal.SIGKILL
        assert time.monotonic() - started < 45
        again = reload(job.id)
        assert (again.status, again.attempts) == (JobStatus.RUNNING, 2)
        assert again.worker not in (None, first_worker)

        with worker(flask_app, tmp_path, env=WORKER_ENV) as third:
            wait_for(
                lambda: reload(job.id).status == JobStatus.FAILED,
                45,
                "the third worker's sweeper to give the job up",
            )
            assert third.poll() is None  # never claimed it
        poisoned = reload(job.id)
        assert poisoned.error_code == "poison"
        assert poisoned.attempts == 2
        assert poisoned.error


@pytest.mark.redis
@pytest.mark.slow  # a real worker
def test_a_worker_beats_while_a_long_job_runs_so_it_is_not_reclaimed(
    committed_app: Callable[..., Flask], redis_url: str, tmp_path: Path
) -> None:
    flask_app = committed_app(
        REDIS_URL=redis_url, WORKER_HEARTBEAT_SECONDS=1, WORKER_DEAD_SECONDS=3
    )
    with flask_app.app_context():
        job = jobs.schedule("test.slow_effect", subject_id=60)  # six seconds, twice the limit
        session.commit()
        with worker(flask_app, tmp_path, env=WORKER_ENV):
            wait_for(lambda: reload(job.id).progress > 0, 30, "the worker to start the job")
            # Meanwhile another worker's sweeper keeps looking for dead workers.
            wait_for(
                lambda: jobs.sweep() >= 0 and reload(job.id).status != JobStatus.RUNNING,
                60,
                "the job to end",
            )
        done = reload(job.id)
        assert done.status == JobStatus.SUCCEEDED, done.error
        assert done.attempts == 1
        assert effects(job.id) == 1
