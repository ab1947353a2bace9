"""Durable jobs: in-process runs, a real RQ worker on Redis, a killed worker, Redis down."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from app import jobs
from app.db import get_db, session
from app.models import Assessment, AuditEvent, Case, CaseStatus, Job, JobStatus, OrgKind
from app.services import assessments
from tests import factories
from tests.support import servers
from workers import DaojiaoWorker

REPO = Path(__file__).resolve().parent.parent


def effects(job_id: int) -> int:
    """How many times the test job's effect (an audit event) happened."""
    return session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "test.effect", AuditEvent.subject == f"job:{job_id}"
        )
    )


def reload(job_id: int) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


# -- in-process (no REDIS_URL) -------------------------------------------------------------


def test_job_runs_in_process_right_after_commit(app: Flask) -> None:
    job = jobs.schedule("test.slow_effect", subject_id=2)
    assert job.status == JobStatus.QUEUED
    assert effects(job.id) == 0  # nothing runs before the commit
    session.commit()
    done = reload(job.id)
    assert done.status == JobStatus.SUCCEEDED
    assert done.progress == 100
    assert done.attempts == 1
    assert effects(job.id) == 1


def test_job_scheduled_in_a_rolled_back_transaction_never_runs(app: Flask) -> None:
    job = jobs.schedule("test.slow_effect", subject_id=1)
    job_id = job.id
    session.rollback()
    assert session.get(Job, job_id) is None
    assert effects(job_id) == 0


def test_permanent_failure_is_recorded_with_its_reason(app: Flask) -> None:
    job = jobs.schedule("test.unreadable")
    session.commit()
    failed = reload(job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error_code == "damaged"
    assert failed.error == "文件无法读取"
    assert failed.attempts == 1
    event = session.scalars(select(AuditEvent).where(AuditEvent.subject == f"job:{job.id}")).one()
    assert event.action == "job.failed"
    assert event.details["code"] == "damaged"


def test_transient_errors_are_retried_until_the_job_succeeds(app: Flask) -> None:
    job = jobs.schedule("test.flaky")
    session.commit()
    done = reload(job.id)
    assert done.status == JobStatus.SUCCEEDED
    assert done.attempts == 3
    assert effects(job.id) == 1


def test_a_finished_job_pushed_again_does_nothing(app: Flask) -> None:
    job = jobs.schedule("test.slow_effect", subject_id=1)
    session.commit()
    assert jobs.run(job.id) is None
    assert effects(job.id) == 1


def test_unknown_job_kind_is_refused(app: Flask) -> None:
    with pytest.raises(KeyError):
        jobs.schedule("no.such.kind")


# -- a real worker on Redis -------------------------------------------------------------------


@pytest.fixture
def redis_app(committed_app: Callable[..., Flask], redis_url: str) -> Iterator[Flask]:
    flask_app = committed_app(REDIS_URL=redis_url, JOB_LEASE_SECONDS=2, JOB_SWEEP_SECONDS=1)
    with flask_app.app_context():
        yield flask_app


def worker_env(flask_app: Flask) -> dict[str, str]:
    config = flask_app.config
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DAOJIAO_MODE": "testing",
        "DATABASE_URL": config["DATABASE_URL"],
        "REDIS_URL": config["REDIS_URL"],
        "S3_ENDPOINT": config["S3_ENDPOINT"],
        "S3_ACCESS_KEY": config["S3_ACCESS_KEY"],
        "S3_SECRET_KEY": config["S3_SECRET_KEY"],
        "S3_BUCKET": config["S3_BUCKET"],
        "DAOJIAO_JOB_MODULES": "tests.support.jobs",
        "JOB_LEASE_SECONDS": "2",
        "JOB_SWEEP_SECONDS": "1",
    }


@contextmanager
def worker(
    flask_app: Flask, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`daojiao worker` in its own process group (with `env` over the test settings); stopped
    (warm) when the block ends, with every process of its group: RQ's scheduler is a forked
    child that outlives a worker killed outright (a test's job kills it), and would hold the
    scheduler locks of the Redis database the next tests use."""
    log = tmp_path / f"worker-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workers", *args],
            cwd=REPO,
            env={**worker_env(flask_app), **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):  # nothing of the group is left
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (RQ's work horse starts a session of its own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_hard(pid: int) -> None:
    """SIGKILL a process and everything it started, as a crash or OOM kill would."""
    for victim in [pid, *descendants(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.redis
def test_a_worker_assesses_filed_claims_on_the_assess_queue(
    redis_app: Flask, tmp_path: Path
) -> None:
    committee = factories.make_org(OrgKind.MEDIATION)
    mediator = factories.make_user(committee)
    case = factories.make_accident_case(
        police=factories.make_org(OrgKind.POLICE),
        committee=committee,
        insurer=factories.make_org(OrgKind.INSURER),
    )
    claims = {
        "victims": [
            {
                "id": "v1",
                "party": "乙方",
                "outcome": "injury",
                "items": {"medical": {"amount": "1200.50"}},
            }
        ]
    }
    _claim, job = assessments.file_claims(actor=mediator, case=case, data=claims)
    session.commit()
    assert reload(job.id).queue == "assess"
    with worker(redis_app, tmp_path, "--burst", "assess") as proc:
        assert proc.wait(timeout=60) == 0
    assert reload(job.id).status == JobStatus.SUCCEEDED
    stored = session.scalars(select(Assessment).where(Assessment.case_id == case.id)).one()
    assert stored.result["totals"] == {"ctpi:甲方": "1200.50"}
    assert session.get(Case, case.id).status == CaseStatus.NEGOTIATING


@pytest.mark.redis
def test_worker_runs_a_job_end_to_end(redis_app: Flask, tmp_path: Path) -> None:
    job = jobs.schedule("test.slow_effect", subject_id=3)
    session.commit()
    queued = reload(job.id)
    assert queued.pushed_at is not None  # pushed to RQ after the commit
    with worker(redis_app, tmp_path, "--burst") as proc:
        assert proc.wait(timeout=60) == 0
    done = reload(job.id)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.progress == 100
    assert effects(job.id) == 1


@pytest.mark.redis
def test_job_of_a_killed_worker_runs_again_and_its_effect_happens_once(
    redis_app: Flask, tmp_path: Path
) -> None:
    job = jobs.schedule("test.slow_effect", subject_id=40)  # about four seconds
    session.commit()
    with worker(redis_app, tmp_path) as first:
        wait_for(lambda: reload(job.id).progress > 0, 30, "the first worker to start the job")
        kill_hard(first.pid)  # the worker and its work horse, mid-run
        first.wait()
    lost = reload(job.id)
    assert lost.status == JobStatus.RUNNING
    assert lost.progress < 100
    assert effects(job.id) == 0

    with worker(redis_app, tmp_path):
        wait_for(
            lambda: reload(job.id).status == JobStatus.SUCCEEDED,
            60,
            "the sweeper and a second worker to finish the job",
        )
    done = reload(job.id)
    assert done.attempts == 2
    assert effects(job.id) == 1


@pytest.mark.redis
def test_commit_while_redis_is_down_loses_no_job(
    committed_app: Callable[..., Flask], redis_url: str, tmp_path: Path
) -> None:
    down = committed_app(REDIS_URL=f"redis://127.0.0.1:{servers.free_port()}/0")
    with down.app_context():
        job = jobs.schedule("test.slow_effect", subject_id=1)
        session.commit()  # Redis is unreachable: the commit still succeeds
        job_id = job.id
        left = reload(job_id)
        assert left.status == JobStatus.QUEUED
        assert left.pushed_at is None

    up = committed_app(REDIS_URL=redis_url, JOB_SWEEP_SECONDS=1)
    with up.app_context():
        assert jobs.sweep() == 1
        queue = Queue(
            "default", connection=redis.Redis.from_url(redis_url), serializer=JSONSerializer
        )
        assert str(job_id) in queue.get_job_ids()
        assert jobs.sweep() == 0  # already on the queue: not pushed twice
        with worker(up, tmp_path, "--burst") as proc:
            assert proc.wait(timeout=60) == 0
        assert reload(job_id).status == JobStatus.SUCCEEDED
        assert effects(job_id) == 1


def test_workers_take_readings_before_other_work(app: Flask) -> None:
    names = jobs.queues()
    assert names[0] == "parse"
    assert names.index("parse") < names.index("default")


@pytest.mark.redis
def test_a_stopping_worker_does_not_wait_on_its_control_channel(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    worker = DaojiaoWorker([Queue("default", connection=connection)], connection=connection)
    worker.subscribe()  # its listening thread now blocks in a read of up to 60 s
    time.sleep(0.2)
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)

    stopping.start()
    stopping.join(timeout=15)  # a hang, not a speed: RQ's own unsubscribe waits up to 60 s

    assert not stopping.is_alive()
    connection.close()


def test_page_images_have_a_queue_of_their_own_after_the_rest() -> None:
    jobs.load_handlers(list(jobs.DEFAULT_JOB_MODULES))  # as an app does, whichever test ran first
    assert jobs.HANDLERS["documents.preview"].queue == "preview"
    assert jobs.queues()[-1] == "preview"


@pytest.mark.redis
def test_the_claim_commits_with_the_first_progress_report_at_most_twice_a_second(
    redis_app: Flask,
) -> None:
    job = jobs.schedule("test.slow_effect", subject_id=1)
    session.commit()  # pushed to Redis: nobody runs it here
    lease = timedelta(seconds=60)
    own = get_db().new_session()
    try:
        claimed = jobs._claim(own, job.id, lease)
        assert claimed is not None
        assert reload(job.id).status == JobStatus.QUEUED  # claimed, not committed yet
        report = jobs._Status(own, claimed, lease).reporter()

        report(10, "first")  # one commit: the claim and the first progress
        started = reload(job.id)
        report(20, "too soon")  # within the interval: not written
        first = (reload(job.id).progress, reload(job.id).message)
        time.sleep(jobs.PROGRESS_INTERVAL_SECONDS + 0.05)
        report(30, "later")
    finally:
        own.close()

    assert (started.status, started.attempts, started.progress) == (JobStatus.RUNNING, 1, 10)
    assert first == (10, "first")
    assert (reload(job.id).progress, reload(job.id).message) == (30, "later")


@pytest.mark.redis
def test_a_job_claimed_twice_at_once_runs_once(redis_app: Flask) -> None:
    job = jobs.schedule("test.slow_effect", subject_id=1)
    session.commit()
    lease = timedelta(seconds=60)
    first, second = get_db().new_session(), get_db().new_session()
    claims: list[object] = []
    try:
        claimed = jobs._claim(first, job.id, lease)
        assert claimed is not None
        # The second claim waits for the first's lock on the row, then finds it running.
        other = threading.Thread(target=lambda: claims.append(jobs._claim(second, job.id, lease)))
        other.start()
        other.join(timeout=0.3)
        jobs._Status(first, claimed, lease).reporter()(10, "started")
        other.join(timeout=30)
    finally:
        first.close()
        second.close()

    assert claims == [None]
    assert reload(job.id).attempts == 1
