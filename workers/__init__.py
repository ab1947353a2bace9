"""RQ workers: `daojiao worker` (or `python -m workers`) runs jobs with a sweeper beside them
(jobs left behind, deadlines, the audit chain's checkpoint every AUDIT_VERIFY_SECONDS, orphaned
objects once a day, the nightly deep integrity checks) and a heartbeat by which other workers
tell it is alive."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid

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
    60 s before it counts it dead (`SimpleWorker.get_heartbeat_ttl`). Ours does not wait for
    that: a thread beats in the database every WORKER_HEARTBEAT_SECONDS, job or no job, and
    any worker's sweeper reclaims the jobs of one silent for WORKER_DEAD_SECONDS.

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


def _beat_forever(app: Flask, stop: threading.Event, name: str) -> None:
    """Renew the worker's heartbeat every WORKER_HEARTBEAT_SECONDS, also while a job runs.

    A thread of its own: a slow sweep (Redis timing out, a long audit check) must never make
    a live worker look dead, or its running job would be reclaimed and run twice."""
    from app import jobs

    while not stop.wait(app.config["WORKER_HEARTBEAT_SECONDS"]):
        with app.app_context():
            try:
                jobs.heartbeat(name)
            except jobs.TRANSIENT_ERRORS:
                log.warning("heartbeat: the database is unreachable; will try again")


def _sweep_forever(app: Flask, stop: threading.Event) -> None:
    from app import audit, integrity, jobs, monthly_report, objects
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
                objects.sweep_orphans_if_due(app)
                integrity.schedule_nightly_if_due(app)
                monthly_report.schedule_if_due(app)
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
    # Unique per run: a restarted worker is a new one, and its predecessor's jobs are reclaimed.
    name = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    app.extensions[jobs.WORKER_NAME] = name
    with app.app_context():
        jobs.heartbeat(name)  # alive before the first claim
    stop = threading.Event()
    beat = threading.Thread(
        target=_beat_forever, args=(app, stop, name), daemon=True, name="heartbeat"
    )
    sweeper = threading.Thread(
        target=_sweep_forever, args=(app, stop), daemon=True, name="job-sweeper"
    )
    beat.start()
    sweeper.start()
    log.info("worker %s on queues %s", name, ", ".join(names))
    try:
        DaojiaoWorker(
            [Queue(queue, connection=connection, serializer=JSONSerializer) for queue in names],
            name=name,
            connection=connection,
            serializer=JSONSerializer,
        ).work(with_scheduler=True, burst=burst)
    finally:
        stop.set()
        beat.join(timeout=10)  # no beat after the worker is retired
        with app.app_context(), contextlib.suppress(*jobs.TRANSIENT_ERRORS):
            jobs.retire(name)
