"""RQ workers: `daojiao worker` (or `python -m workers`) runs jobs with a sweeper beside them."""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask
from rq import Queue, Worker
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


class DaojiaoWorker(Worker):
    """RQ's worker, stopping without waiting on its control channel.

    RQ's `unsubscribe` waits, without a limit, for the thread that listens on the worker's
    pub/sub channel; that thread blocks in a read of up to 60 s, so a stopping worker (a burst
    worker done, a deployment's warm shutdown) could hang for a minute (rq/rq#1613). The thread
    is a daemon: stop it with a short wait and close its connection.
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
    while not stop.wait(interval):
        audit.origin.set("worker")
        with app.app_context():
            try:
                jobs.sweep()
                tasks.sweep_deadlines_in(app)
            except jobs.TRANSIENT_ERRORS:
                log.warning("sweeper: a service is unreachable; will try again", exc_info=True)


def run_worker(app: Flask, queues: list[str], *, burst: bool = False) -> None:
    """Work the given queues (all by default) until stopped, sweeping jobs meanwhile."""
    global _app
    from app import jobs

    _app = app
    # Each job runs in a forked child: it must not reuse the parent's pooled connections.
    os.register_at_fork(after_in_child=app.extensions["daojiao.db"].after_fork)
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
