"""RQ workers: `daojiao worker` (or `python -m workers`) runs jobs with a sweeper beside them
(jobs left behind, deadlines, and the audit chain's checkpoint every AUDIT_VERIFY_SECONDS)."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

log = logging.getLogger(__name__)

_app: Flask | None = None


def get_app() -> Flask:
    """The worker's app; made on first use when RQ was started some other way."""
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


class DaojiaoWorker(SimpleWorker):
    """RQ's worker running the jobs in its own process, one after the other: no fork per job.

    RQ's default worker forks a work horse per job: each job then paid for the fork, a new
    database connection and cold caches (240 ms for an empty job, against 43 ms for bare RQ).
    Here the jobs run in the worker's process, each in an app context of its own, on pooled
    connections. That is safe because no job handles an uploaded file in this process: reading
    a report and rendering pages run in a forked child with time and memory limits
    (`app.isolation`), so a hostile PDF fails its job and the worker lives on. RQ's job
    timeout is an alarm in this (the main) thread; `app.jobs.run` records it as the job's
    failure. RQ sees no heartbeat while a job runs: it gives the worker the job's timeout plus
    60 s before it counts it dead (`SimpleWorker.get_heartbeat_ttl`).

    It also stops without waiting on its control channel: RQ's `unsubscribe` waits, without a
    limit, for the thread that listens on the worker's pub/sub channel; that thread blocks in a
    read of up to 60 s, so a stopping worker (a burst worker done, a deployment's warm
    shutdown) could hang for a minute (rq/rq#1613). The thread is a daemon: stop it with a
    short wait and close its connection.
    """

    def unsubscribe(self) -> None:
        if self.pubsub_thread:
            self.log.info("Worker %s: unsubscribing from %s", self.name, self.pubsub_channel_name)
            self.pubsub_thread.stop(timeout=1)
            self.pubsub.close()


def _sweep_forever(app: Flask, stop: threading.Event) -> None:
    from app import audit, jobs
    from workers import tasks

    interval = app.config["JOB_SWEEP_SECONDS"]
    audit_every = app.config["AUDIT_VERIFY_SECONDS"]
    next_audit = time.monotonic() + audit_every
    while not stop.wait(interval):
        audit.origin.set("worker")
        with app.app_context():
            try:
                jobs.sweep()
                tasks.sweep_deadlines_in(app)
                if audit_every and time.monotonic() >= next_audit:
                    tasks.advance_audit_checkpoint(app)
                    next_audit = time.monotonic() + audit_every
            except jobs.TRANSIENT_ERRORS:
                log.warning("sweeper: a service is unreachable; will try again", exc_info=True)


def run_worker(app: Flask, queues: list[str], *, burst: bool = False) -> None:
    """Work the given queues (all by default) until stopped, sweeping jobs meanwhile."""
    global _app
    from app import jobs

    _app = app
    names = queues or jobs.queues()
    connection = app.extensions["daojiao.jobs"].redis
    stop = threading.Event()
    sweeper = threading.Thread(
        target=_sweep_forever, args=(app, stop), daemon=True, name="job-sweeper"
    )
    sweeper.start()
    log.info("worker on queues %s", ", ".join(names))
    try:
        DaojiaoWorker(
            [Queue(name, connection=connection, serializer=JSONSerializer) for name in names],
            connection=connection,
            serializer=JSONSerializer,
        ).work(with_scheduler=True, burst=burst)
    finally:
        stop.set()
