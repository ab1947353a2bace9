"""Background jobs: empty-job throughput of one worker, and upload → fields with two workers.

Run by hand from the repository root: `.venv/bin/python -m bench.jobs [--jobs 500]
[--skip-intake] [--rate 1 --seconds 60]`. It uses PostgreSQL on 127.0.0.1:5432 (a scratch
database, dropped at the end), Redis database 11 (emptied before and after) and moto's S3
server.

(a) Empty jobs: `--jobs` no-op job rows (the `bench.noop` handler, registered by this module)
are scheduled, committed and pushed, then one burst `workers.DaojiaoWorker` runs them all in
this process, through `workers.run_worker` as `daojiao worker --burst` does (sweeper thread and
scheduler included). For comparison on the same Redis: the same rows run by RQ's forking
`Worker` with a database reconnect per fork (how `daojiao worker` ran until issue 14), and bare
RQ, a plain function on a plain `rq.Queue`, run by `rq.Worker` (a fork per job) and by
`rq.SimpleWorker`. Each prints jobs/s and ms a job, from the worker's start to its end.

(b) Upload → fields: `bench.intake_latency` at `--rate` uploads/s for `--seconds` with one
`daojiao worker parse assess default` and a second `daojiao worker preview`.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
import rq
import rq.job
from flask import Flask
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

import workers
from app import create_app, jobs, migrate
from app.db import session
from app.models import Job, JobStatus
from bench import intake_latency
from tests.support import servers

REDIS_URL = "redis://127.0.0.1:6379/11"
QUEUE = "bench"


@jobs.job_handler("bench.noop", queue=QUEUE, timeout=60)
def noop_job(job: Job, progress: jobs.Progress) -> None:
    """Do nothing: what is left is the cost of running a job."""


def noop() -> None:
    """The bare RQ job."""


def schedule_noops(app: Flask, count: int) -> None:
    """Commit `count` no-op job rows; each is pushed to Redis after the commit."""
    with app.app_context():
        for _ in range(count):
            jobs.schedule("bench.noop")
        session.commit()


def succeeded(app: Flask, count: int) -> None:
    """Check that the last `count` rows all ran."""
    with app.app_context():
        done = session.scalar(
            select(func.count(Job.id)).where(
                Job.kind == "bench.noop", Job.status == JobStatus.SUCCEEDED
            )
        )
        session.execute(Job.__table__.delete())
        session.commit()
    if done != count:
        raise SystemExit(f"only {done} of {count} jobs succeeded")


def timed(label: str, queue: rq.Queue, count: int, work: Callable[[], object]) -> float:
    """Run `work()` (a burst worker on `queue`) and print its jobs per second: from the first
    job's start to the last one's end (RQ's timestamps), and from the worker's start to its
    end (registration, the scheduler's pass and stopping included)."""
    started = time.perf_counter()
    work()
    wall = time.perf_counter() - started
    ids = queue.finished_job_registry.get_job_ids()
    if len(ids) != count:
        raise SystemExit(f"{label}: {len(ids)} of {count} jobs finished")
    ran = rq.job.Job.fetch_many(ids, connection=queue.connection, serializer=queue.serializer)
    span = (max(job.ended_at for job in ran) - min(job.started_at for job in ran)).total_seconds()
    rate = (count - 1) / span
    print(
        f"  {label:52} {rate:7.1f} jobs/s {1000 / rate:6.1f} ms a job "
        f"(start to stop: {count / wall:6.1f} jobs/s)"
    )
    return rate


def empty_jobs(app: Flask, count: int, connection: redis.Redis) -> None:
    """(a): empty-job throughput of one worker, Daojiao's and bare RQ's."""
    print(f"(a) {count} empty jobs, one burst worker, Redis {REDIS_URL}:")
    queue = rq.Queue(QUEUE, connection=connection, serializer=JSONSerializer)
    rates: dict[str, float] = {}

    schedule_noops(app, count)
    rates["daojiao"] = timed(
        "daojiao worker (DaojiaoWorker: no fork per job)",
        queue,
        count,
        lambda: workers.run_worker(app, [QUEUE], burst=True),
    )
    succeeded(app, count)
    connection.flushdb()

    for worker_class in (rq.Worker, rq.SimpleWorker):
        bare = rq.Queue(f"{QUEUE}-bare", connection=connection)
        for _ in range(count):
            bare.enqueue("bench.jobs.noop")
        rates[worker_class.__name__] = timed(
            f"bare RQ: a plain function, rq.{worker_class.__name__}",
            bare,
            count,
            lambda cls=worker_class, q=bare: cls([q], connection=connection).work(burst=True),
        )
        connection.flushdb()

    schedule_noops(app, count)
    # As until issue 14: RQ's worker forking a work horse per job, each reconnecting to
    # PostgreSQL (last, since the fork hook stays registered).
    os.register_at_fork(after_in_child=app.extensions["daojiao.db"].after_fork)
    workers._app = app
    rates["forking"] = timed(
        "daojiao jobs on rq.Worker, a fork per job (before)",
        queue,
        count,
        lambda: rq.Worker([queue], connection=connection, serializer=JSONSerializer).work(
            burst=True
        ),
    )
    succeeded(app, count)
    connection.flushdb()

    print(
        f"  DaojiaoWorker: {rates['daojiao'] / rates['forking']:.1f}× the throughput of the "
        f"forking worker; bare rq.Worker does {rates['Worker'] / rates['daojiao']:.2f}× and "
        f"rq.SimpleWorker {rates['SimpleWorker'] / rates['daojiao']:.2f}× its jobs/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="empty jobs per worker kind")
    parser.add_argument("--skip-intake", action="store_true", help="run (a) only")
    parser.add_argument("--rate", type=float, default=1.0, help="(b) uploads per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="(b) how long to upload")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one line a job from every worker: not what is measured

    url = servers.sibling_database(servers.PG_URL, "jobs")
    servers.recreate_database(url)
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    app = None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="daojiao-jobs-") as scratch,
            servers.moto_server(Path(scratch) / "moto.log") as endpoint,
        ):
            migrate.upgrade(url)
            app = create_app(
                {
                    "DAOJIAO_MODE": "production",
                    "SECRET_KEY": secrets.token_urlsafe(48),
                    "DATABASE_URL": url,
                    "REDIS_URL": REDIS_URL,
                    "S3_ENDPOINT": endpoint,
                    "S3_ACCESS_KEY": servers.S3_ACCESS_KEY,
                    "S3_SECRET_KEY": servers.S3_SECRET_KEY,
                    "S3_BUCKET": "daojiao-bench",
                    "DAOJIAO_SIGNING_KEY": str(Path(scratch) / "signing-key.pem"),
                }
            )
            empty_jobs(app, args.jobs, connection)
    finally:
        if app is not None:
            app.extensions["daojiao.db"].engine.dispose()
        servers.drop_database(url)
        connection.flushdb()
    if args.skip_intake:
        return
    print()
    print(
        f"(b) upload → fields at {args.rate:g} upload/s for {args.seconds:g} s: "
        "`daojiao worker parse assess default` and `daojiao worker preview`"
    )
    logging.disable(logging.NOTSET)
    intake_latency.main(
        [
            f"--rate={args.rate}",
            f"--seconds={args.seconds}",
            f"--redis-url={REDIS_URL}",
            "--worker=parse,assess,default",
            "--worker=preview",
        ]
    )


if __name__ == "__main__":
    main()
