"""Durable background jobs: the `jobs` table is the outbox, RQ (or the process itself) runs them.

A service calls `schedule()` in its unit of work; the row commits with the change that needs
it, and only then is the job pushed to Redis (or, without REDIS_URL, run in-process). A sweeper
re-pushes rows left queued (Redis was down, the process died) and reclaims rows whose worker
stopped renewing its lease. Running a job first claims its row, so a job pushed twice runs once
(a second claim waits for the first's lock on the row, then finds it running or done), and the
job's effect commits together with its `succeeded` status. The claim itself commits with the
job's first status write: its first progress report, or its `succeeded` when it wrote nothing.

A worker names itself on the rows it claims and keeps a heartbeat (`workers`): the sweeper
reclaims a running job as soon as its worker has been silent for WORKER_DEAD_SECONDS, or, run
in the web process, once its lease expired. A job whose runs keep dying (a file that gets the
process killed) is reclaimed at most JOB_MAX_ATTEMPTS claims, then fails as `poison`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import redis
from flask import Flask, current_app
from flask_babel import gettext as _
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from rq.serializers import JSONSerializer
from rq.timeouts import BaseTimeoutException
from sqlalchemy import Connection, delete, event, or_, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import ORMExecuteState, Session

from app.db import get_db, session, utcnow
from app.labels import N_
from app.models import Job, JobStatus, User
from app.models.jobs import Worker
from storage import StorageUnavailable

log = logging.getLogger(__name__)

DEFAULT_JOB_MODULES = ("workers.tasks", "app.monthly_report")
RETRY_INTERVALS = [10, 60, 300]
INLINE_RETRY_SECONDS = [0.5, 2.0]
# Errors worth trying again: the database, Redis or the object store was briefly unreachable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    StorageUnavailable,
    ConnectionError,
    TimeoutError,
)
_PENDING = "daojiao.pending_jobs"
T = TypeVar("T")
# The app extension holding this process's worker name (set by `workers.run_worker` only).
WORKER_NAME = "daojiao.worker"

Progress = Callable[[int, str | None], None]


class PermanentJobError(Exception):
    """The job cannot succeed (e.g. an unreadable PDF); its reason is shown to the user."""

    def __init__(self, message: str, *, code: str = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class JobSpec:
    kind: str
    func: Callable[[Job, Progress], None]
    queue: str
    timeout: int
    # What the user can do instead when the job failed as `poison` (a msgid, translated late).
    poison_hint: str | None = None


HANDLERS: dict[str, JobSpec] = {}


def job_handler(
    kind: str, *, queue: str = "default", timeout: int = 600, poison_hint: str | None = None
) -> Callable[..., Any]:
    """Register `func(job, progress)` as the handler of job rows of `kind`.

    `progress(percent, message)` commits on a connection of its own: call it before the
    handler's first write, since the embedded SQLite database allows one writer at a time.
    `poison_hint` (an N_ msgid) tells users what to do if the job keeps killing its worker.
    A handler that could kill its process reports progress before it starts the risky work:
    that commits its claim, which is what counts toward JOB_MAX_ATTEMPTS.
    """

    def register(func: Callable[[Job, Progress], None]) -> Callable[[Job, Progress], None]:
        HANDLERS[kind] = JobSpec(kind, func, queue, timeout, poison_hint)
        return func

    return register


def load_handlers(modules: list[str]) -> None:
    """Import the modules that register job handlers."""
    for name in (*DEFAULT_JOB_MODULES, *modules):
        importlib.import_module(name)


# Workers take jobs from these queues in this order: what a person waits for comes first.
# Page images have a queue of their own: `daojiao worker preview` (or a scaled compose service)
# can render them beside the workers that read letters and assess claims.
QUEUE_PRIORITY = ("parse", "assess", "default", "preview")
# A job's progress is written at most this often (each write is a commit of its own).
PROGRESS_INTERVAL_SECONDS = 0.5


def queues() -> list[str]:
    """Every queue a registered handler uses, plus `default`, most urgent first."""
    names = {"default", *(spec.queue for spec in HANDLERS.values())}
    rank = {name: index for index, name in enumerate(QUEUE_PRIORITY)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def schedule(
    kind: str,
    *,
    subject_id: int | None = None,
    case_id: int | None = None,
    actor: User | None = None,
    message: str | None = None,
) -> Job:
    """Add a job row to the current unit of work; it is pushed once that commits."""
    if kind not in HANDLERS:
        raise KeyError(f"no job handler registered for {kind!r}")
    job = Job(
        kind=kind,
        queue=HANDLERS[kind].queue,
        subject_id=subject_id,
        case_id=case_id,
        created_by_id=actor.id if actor else None,
        message=message,
    )
    session.add(job)
    session.flush()
    session.info.setdefault(_PENDING, []).append(job.id)
    return job


class Dispatcher:
    """Pushes committed job rows to RQ, or runs them in-process without Redis."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        url = app.config["REDIS_URL"]
        # RQ retries temporary failures; the row's last attempt gives up (JOB_MAX_ATTEMPTS).
        retries = app.config["JOB_MAX_ATTEMPTS"] - 1
        self.retry = Retry(max=retries, interval=RETRY_INTERVALS) if retries > 0 else None
        self.redis = (
            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10) if url else None
        )

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.redis, serializer=JSONSerializer)

    def dispatch(self, job_ids: list[int]) -> None:
        """Hand committed jobs on; a failure to reach Redis leaves them for the sweeper."""
        for job_id in job_ids:
            if self.redis is None:
                run_inline(job_id)
            else:
                self.push(job_id)

    def push(self, job_id: int) -> bool:
        """Enqueue one job row on its queue with RQ job id = row id; False if Redis is down."""
        own = get_db().new_session()
        try:
            job = own.get(Job, job_id)
            if job is None or job.status not in (JobStatus.QUEUED,):
                return False
            spec = HANDLERS[job.kind]
            try:
                # A re-push replaces the RQ twin left by a dead worker (same id = row id).
                with contextlib.suppress(NoSuchJobError):
                    RQJob.fetch(
                        str(job_id), connection=self.redis, serializer=JSONSerializer
                    ).delete()
                self.queue(spec.queue).enqueue_call(
                    "workers.tasks.run_job",
                    args=[job_id],
                    job_id=str(job_id),
                    timeout=spec.timeout,
                    result_ttl=3600,
                    failure_ttl=7 * 86400,
                    retry=self.retry,
                    description=f"{job.kind} #{job_id}",
                )
            except redis.exceptions.RedisError as exc:
                log.warning(
                    "job %s not pushed, Redis unreachable (%s); the sweeper will retry", job_id, exc
                )
                return False
            job.pushed_at = utcnow()
            own.commit()
            return True
        finally:
            own.close()

    def rq_status(self, job_id: int) -> str | None:
        """RQ's status of the job's RQ twin, None if RQ does not know it."""
        try:
            rq_job = RQJob.fetch(str(job_id), connection=self.redis, serializer=JSONSerializer)
        except NoSuchJobError:
            return None
        return rq_job.get_status(refresh=False)


def dispatcher() -> Dispatcher:
    """The current app's dispatcher."""
    return current_app.extensions["daojiao.jobs"]


def _after_commit(db_session: Session) -> None:
    if db_session.in_nested_transaction():
        return  # a savepoint was released: its jobs wait for the real commit
    job_ids = db_session.info.pop(_PENDING, None)
    if job_ids:
        dispatcher().dispatch(job_ids)


def _after_rollback(db_session: Session) -> None:
    # Jobs of a savepoint rolled back stay listed: pushing a row that does not exist is a no-op.
    if not db_session.in_nested_transaction():
        db_session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    """Register handlers and push jobs after every commit of the app's sessions."""
    load_handlers(app.config["DAOJIAO_JOB_MODULES"])
    app.extensions["daojiao.jobs"] = Dispatcher(app)
    factory = app.extensions["daojiao.db"].factory
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_rollback", _after_rollback)


def _set(db_session: Session, job_id: int, **values: Any) -> None:
    db_session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow(), **values))


def _claim(
    db_session: Session,
    job_id: int,
    lease: timedelta,
    *,
    worker: str | None = None,
    max_attempts: int | None = None,
) -> Job | None:
    """Mark the row running for `worker` if it is queued, or its last runner's lease expired
    and it has claims left (`max_attempts`: the sweeper fails it as poison instead); the
    claimed row, or None. Not committed: the claim commits with the job's first status write."""
    now = utcnow()
    expired = (Job.status == JobStatus.RUNNING) & (Job.lease_until < now)
    if max_attempts is not None:
        expired &= Job.attempts < max_attempts
    return db_session.scalars(
        update(Job)
        .where(Job.id == job_id, or_(Job.status == JobStatus.QUEUED, expired))
        .values(
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            started_at=now,
            lease_until=now + lease,
            worker=worker,
            updated_at=now,
            error=None,
            error_code=None,
        )
        .returning(Job),
        execution_options={"synchronize_session": False},
    ).one_or_none()


class _Status:
    """A claimed job's status writes, on a session apart from the handler's work.

    The claim is committed together with the first of them (a progress report, or the final
    status when the handler wrote nothing); the handler's first write commits it before it
    (`before_writes`), since its lock on the row would otherwise stall the final status, and
    the embedded SQLite database allows one writer at a time.
    """

    def __init__(self, db_session: Session, job: Job, lease: timedelta) -> None:
        self.db_session = db_session
        self.job_id = job.id
        self.attempts = job.attempts
        self.started_at = job.started_at
        self.lease = lease
        self.pending = True  # the claim is not committed yet
        self.broken = False  # a status write failed: the session needs a rollback
        self.work_wrote = False

    def settle(self) -> None:
        """Commit the claim now if it is still pending."""
        if self.pending:
            self._commit()

    def _commit(self) -> None:
        try:
            self.db_session.commit()
        except BaseException:
            self.broken = True
            raise
        self.pending = False

    def recover(self) -> dict[str, Any]:
        """After a failed status write, roll its session back; return the claim's values to
        write again with the failure if the claim may have been lost with it."""
        if not self.broken:
            return {}
        lost = {"attempts": self.attempts, "started_at": self.started_at} if self.pending else {}
        self.db_session.rollback()
        self.pending = self.broken = False
        return lost

    def reporter(self) -> Progress:
        """Write the job's progress (and renew its lease), at most every
        PROGRESS_INTERVAL_SECONDS: a handler may report as often as it likes."""
        written = -PROGRESS_INTERVAL_SECONDS

        def report(percent: int, message: str | None = None) -> None:
            nonlocal written
            now = time.monotonic()
            if now - written < PROGRESS_INTERVAL_SECONDS:
                return
            written = now
            values: dict[str, Any] = {
                "progress": max(0, min(100, int(percent))),
                "lease_until": utcnow() + self.lease,
            }
            if message is not None:
                values["message"] = message[:200]
            try:
                self.db_session.execute(
                    update(Job)
                    .where(Job.id == self.job_id, Job.status == JobStatus.RUNNING)
                    .values(**values),
                    execution_options={"synchronize_session": False},
                )
            except BaseException:
                self.broken = True
                raise
            self._commit()

        return report

    @contextlib.contextmanager
    def before_writes(self, work: Session) -> Iterator[None]:
        """While the block runs, the first write of `work` commits the pending claim first."""

        def before_flush(*_args: Any) -> None:
            self.work_wrote = True
            self.settle()

        def before_execute(state: ORMExecuteState) -> None:
            if not state.is_select:
                self.work_wrote = True
                self.settle()

        event.listen(work, "before_flush", before_flush)
        event.listen(work, "do_orm_execute", before_execute)
        try:
            yield
        finally:
            event.remove(work, "before_flush", before_flush)
            event.remove(work, "do_orm_execute", before_execute)


def run(job_id: int) -> JobStatus | None:
    """Run one job row once: claim, call its handler, commit effect and status together.

    Returns the row's new status, or None when there was nothing to do (already done or being
    done by a live worker). Transient errors propagate after being recorded, so RQ retries.
    Round trips: the claim is an UPDATE … RETURNING, committed with the first progress report
    (or, for a handler that writes nothing, with the final status).
    """
    lease = timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    own = get_db().new_session()
    try:
        claimed = _claim(
            own,
            job_id,
            lease,
            worker=current_app.extensions.get(WORKER_NAME),
            max_attempts=current_app.config["JOB_MAX_ATTEMPTS"],
        )
        if claimed is None:
            own.rollback()
            log.info("job %s: nothing to do (done, or running elsewhere)", job_id)
            return None
        status = _Status(own, claimed, lease)
        if isinstance(own.get_bind(), Connection):
            # Sessions bound to one connection (the tests') nest their transactions as
            # savepoints on it: the claim's must end before the handler's begins.
            status.settle()
        return _run_claimed(claimed, status)
    finally:
        own.close()


def _run_claimed(claimed: Job, status: _Status) -> JobStatus:
    job_id = claimed.id
    spec = HANDLERS[claimed.kind]
    work: Session = session._get_current_object()  # type: ignore[attr-defined]
    job = work.merge(claimed, load=False)
    try:
        with status.before_writes(work):
            spec.func(job, status.reporter())
    except BaseTimeoutException:
        # RQ's alarm (the job's timeout) may have stopped a statement halfway: drop both
        # connections rather than reuse them, and record the failure on a fresh one.
        work.invalidate()
        status.db_session.invalidate()
        claim = (
            {}
            if not status.pending
            else {
                "attempts": status.attempts,
                "started_at": status.started_at,
            }
        )
        _fail(
            job_id,
            code="timeout",
            error=_(
                "The job took longer than its limit of %(seconds)s seconds and was stopped.",
                seconds=spec.timeout,
            ),
            **claim,
        )
        log.warning("job %s stopped after its timeout of %s s", job_id, spec.timeout)
        return JobStatus.FAILED
    except PermanentJobError as exc:
        work.rollback()
        _fail(
            job_id,
            code=exc.code,
            error=exc.message,
            db_session=status.db_session,
            **status.recover(),
        )
        log.info("job %s failed for good: %s", job_id, exc.code)
        return JobStatus.FAILED
    except TRANSIENT_ERRORS as exc:
        work.rollback()
        if _retry_or_give_up(status, exc) == JobStatus.FAILED:
            return JobStatus.FAILED
        raise
    except Exception as exc:
        work.rollback()
        _fail(
            job_id,
            code="internal_error",
            error=f"Internal error ({type(exc).__name__}); the administrators were notified.",
            db_session=status.db_session,
            **status.recover(),
        )
        raise
    done = {
        "status": JobStatus.SUCCEEDED,
        "progress": 100,
        "message": None,
        "finished_at": utcnow(),
        "lease_until": None,
    }
    if status.work_wrote:
        status.settle()
        _set(work, job_id, **done)
        work.commit()
    else:  # no effect to commit: the claim, any progress and the success in one commit
        _set(status.db_session, job_id, **done)
        status.db_session.commit()
        work.commit()
    return JobStatus.SUCCEEDED


def _retry_or_give_up(status: _Status, exc: BaseException) -> JobStatus:
    """After a temporary error: queue the job for another attempt, or fail it for good."""
    job_id, attempts = status.job_id, status.attempts
    claim = status.recover()  # the error may have been a status write's
    if attempts >= current_app.config["JOB_MAX_ATTEMPTS"]:
        _fail(
            job_id,
            code="unavailable",
            db_session=status.db_session,
            error=f"A service stayed unreachable after {attempts} attempts: {exc}",
            **claim,
        )
        return JobStatus.FAILED
    _set(
        status.db_session,
        job_id,
        **claim,
        status=JobStatus.QUEUED,
        lease_until=None,
        error=str(exc),
        message=f"Retrying after a temporary error (attempt {attempts})",
    )
    status.db_session.commit()
    return JobStatus.QUEUED


def _fail(
    job_id: int,
    *,
    code: str,
    error: str,
    db_session: Session | None = None,
    **values: Any,
) -> None:
    """Mark the job failed for good, with the reason users see, and audit it."""
    from app import audit

    own = db_session or get_db().new_session()
    try:
        _set(
            own,
            job_id,
            status=JobStatus.FAILED,
            finished_at=utcnow(),
            lease_until=None,
            error_code=code,
            error=error,
            **values,
        )
        job = own.get(Job, job_id)
        audit.record(
            "job.failed",
            actor=None,
            case_id=job.case_id if job else None,
            subject=f"job:{job_id}",
            db_session=own,
            details={
                "kind": job.kind if job else None,
                "code": code,
                "subject_id": job.subject_id if job else None,
            },
        )
        own.commit()
    finally:
        if db_session is None:
            own.close()


def run_inline(job_id: int) -> None:
    """Run a job in this process (no Redis), retrying transient errors a few times."""
    for pause in [*INLINE_RETRY_SECONDS, None]:
        try:
            # A fresh app context gives the job its own session, apart from the caller's.
            with current_app.app_context():
                run(job_id)
            return
        except TRANSIENT_ERRORS:
            if pause is None:
                log.exception(
                    "job %s: temporary error persisted; left queued for the sweeper", job_id
                )
                return
            time.sleep(pause)
        except Exception:
            # The row already says the job failed; the caller's own work has committed and
            # must not be reported as failed because of a bug in a job.
            log.exception("job %s failed with an internal error", job_id)
            return


def schedule_once_across_workers(app: Flask, lock_key: int, schedule: Callable[[], T]) -> T:
    """Run `schedule` (it looks for the period's job rows and schedules the missing ones) and
    commit, under a PostgreSQL advisory lock held to the commit: of several workers' sweepers
    asking at once, the second waits, then sees the first one's rows."""
    with app.app_context():
        try:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
            scheduled = schedule()
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return scheduled


def heartbeat(name: str) -> None:
    """Record that worker `name` is alive (its heartbeat thread, every WORKER_HEARTBEAT_SECONDS)."""
    now = utcnow()
    own = get_db().new_session()
    try:
        renewed = own.execute(
            update(Worker).where(Worker.name == name).values(heartbeat_at=now),
            execution_options={"synchronize_session": False},
        )
        if not renewed.rowcount:
            own.add(Worker(name=name, started_at=now, heartbeat_at=now))
        own.commit()
    finally:
        own.close()


def retire(name: str) -> None:
    """Forget a worker that stopped cleanly: any job it left running is reclaimed at once."""
    own = get_db().new_session()
    try:
        own.execute(delete(Worker).where(Worker.name == name))
        own.commit()
    finally:
        own.close()


def poison_reason(job: Job) -> str:
    """Why a job that kept killing its worker was stopped, and what to do instead."""
    reason = _(
        "Processing this job stopped unexpectedly %(attempts)s times (the file may be damaged "
        "or too large), so it will not be tried again.",
        attempts=job.attempts,
    )
    spec = HANDLERS.get(job.kind)
    hint = spec.poison_hint if spec else None
    # One message, so that a language without spaces between sentences can join them its way.
    return _("%(reason)s %(hint)s", reason=reason, hint=_(hint)) if hint else reason


def _reclaim(db_session: Session, now: datetime) -> list[int]:
    """Queue again the running jobs whose worker died (its heartbeat stopped, or, without a
    worker, its lease expired); fail as `poison` those that used up their claims. Returns the
    ids queued again. Rows being finished right now (locked) are left to the next sweep."""
    config = current_app.config
    alive = select(Worker.name).where(
        Worker.heartbeat_at >= now - timedelta(seconds=config["WORKER_DEAD_SECONDS"])
    )
    lost = db_session.scalars(
        select(Job)
        .where(
            Job.status == JobStatus.RUNNING,
            or_(Job.lease_until < now, Job.worker.is_not(None) & Job.worker.not_in(alive)),
        )
        .order_by(Job.id)
        .with_for_update(skip_locked=True)
    ).all()
    max_attempts = config["JOB_MAX_ATTEMPTS"]
    poisoned = [
        (job.id, job.kind, job.attempts, poison_reason(job))
        for job in lost
        if job.attempts >= max_attempts
    ]
    queued = [job.id for job in lost if job.attempts < max_attempts]
    for job_id in queued:
        _set(
            db_session,
            job_id,
            status=JobStatus.QUEUED,
            lease_until=None,
            worker=None,
            message=N_("The worker stopped; the job was queued again"),
        )
    db_session.commit()
    for job_id, kind, attempts, reason in poisoned:
        log.error(
            "job %s (%s) stopped its worker %s times: failed for good as poison",
            job_id,
            kind,
            attempts,
        )
        _fail(job_id, code="poison", error=reason, db_session=db_session)
    return queued


def sweep() -> int:
    """Re-push jobs left queued and reclaim those whose worker died; returns how many."""
    now = utcnow()
    grace = timedelta(seconds=current_app.config["JOB_SWEEP_SECONDS"])
    own = get_db().new_session()
    try:
        lost = _reclaim(own, now)
        # Workers killed a day ago: their jobs were reclaimed long since.
        own.execute(delete(Worker).where(Worker.heartbeat_at < now - timedelta(days=1)))
        own.commit()
        stale = own.scalars(
            select(Job.id)
            .where(
                Job.status == JobStatus.QUEUED,
                or_(Job.pushed_at.is_(None), Job.pushed_at < now - grace, Job.id.in_(lost)),
            )
            .order_by(Job.id)
        ).all()
    finally:
        own.close()
    pusher = dispatcher()
    sent = 0
    for job_id in stale:
        if pusher.redis is None:
            run_inline(job_id)
            sent += 1
            continue
        try:
            live = job_id not in lost and pusher.rq_status(job_id) in (
                RQStatus.QUEUED,
                RQStatus.SCHEDULED,
                RQStatus.STARTED,
                RQStatus.DEFERRED,
            )
        except redis.exceptions.RedisError:
            log.warning("sweep: Redis unreachable; will try again")
            return sent
        if not live and pusher.push(job_id):
            sent += 1
    if sent:
        log.info("sweep: re-sent %d job(s)", sent)
    return sent
