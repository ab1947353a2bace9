"""Prometheus metrics: request rates, latencies and errors, and the job backlog (issue 14).

Requests are counted and timed by request hooks, labelled by Flask endpoint (never the raw
path, so the number of series stays bounded), method and status class. The job figures are
read when Prometheus scrapes `GET /metrics`: job rows by status and kind from the `jobs` table,
RQ queue lengths and the age of the oldest queued job.

gunicorn runs several worker processes, each with metrics of its own. With
`PROMETHEUS_MULTIPROC_DIR` in the environment before the process starts, prometheus_client
writes every worker's samples to files in that directory and a scrape, answered by any worker,
adds them up (gunicorn.conf.py empties the directory at start and tells the library when a
worker exits). Without it (`daojiao demo`, tests) the process's default registry is served.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta

import redis
from flask import Blueprint, Flask, Response, abort, current_app, g, request
from flask_login import current_user
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app import access, jobs
from app.db import session, utcnow
from app.models import Job, JobStatus

log = logging.getLogger(__name__)

SCRAPE_ENDPOINT = "metrics.scrape"
# Any other method a client makes up is counted as "other": labels must not grow without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HTTP_LABELS = ("endpoint", "method", "status_class")
# Up to gunicorn's --timeout (90 s): report parsing and PDF generation can take seconds.
# Job run times are read over the jobs finished this recently (one index range scan a scrape).
RUN_TIME_WINDOW = timedelta(minutes=5)
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 90)

# Process-wide, as prometheus_client wants them: every app of a process (tests build several)
# records into the same two metrics.
REQUESTS = Counter(
    "daojiao_http_requests",
    "HTTP requests answered, by Flask endpoint, method and status class.",
    HTTP_LABELS,
)
DURATION = Histogram(
    "daojiao_http_request_duration_seconds",
    "Time from the start of a request to its response, by Flask endpoint, method and status class.",
    HTTP_LABELS,
    buckets=DURATION_BUCKETS,
)

bp = Blueprint("metrics", __name__)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _note_status(response: Response) -> Response:
    g.metrics_status = response.status_code
    return response


def _record_request(_exc: BaseException | None) -> None:
    started = g.pop("metrics_started", None)
    # No status: an exception escaped every error handler, the client gets a server error.
    status = g.pop("metrics_status", 500)
    if started is None or request.endpoint == SCRAPE_ENDPOINT:
        return
    method = request.method if request.method in METHODS else "other"
    labels = (request.endpoint or "unmatched", method, f"{status // 100}xx")
    REQUESTS.labels(*labels).inc()
    DURATION.labels(*labels).observe(time.perf_counter() - started)


class BacklogCollector(Collector):
    """Job rows by status and kind, the oldest queued job's age and RQ's queue lengths, read
    at scrape time (shared state: the same in every process, so never written to files)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "daojiao_up", "1 if the service answered this scrape, else 0.", labels=["service"]
        )
        yield from self._jobs(up)
        yield from self._queues(up)
        yield up

    def _jobs(self, up: GaugeMetricFamily) -> Iterable[Metric]:
        try:
            rows = session.execute(
                select(Job.status, Job.kind, func.count(Job.id), func.min(Job.created_at)).group_by(
                    Job.status, Job.kind
                )
            ).all()
        except SQLAlchemyError as exc:
            session.rollback()
            log.warning("scrape without job figures: database unreachable (%s)", exc)
            up.add_metric(["database"], 0)
            return []
        up.add_metric(["database"], 1)
        counts = {(status, kind): count for status, kind, count, _oldest in rows}
        # Every registered kind in every status, zeros included: a series that appears only
        # with its first failure would hide that failure from rate() and increase().
        kinds = sorted({*jobs.HANDLERS, *(kind for _status, kind in counts)})
        by_status = GaugeMetricFamily(
            "daojiao_jobs", "Job rows by status and kind.", labels=["status", "kind"]
        )
        for status in JobStatus:
            for kind in kinds:
                by_status.add_metric([status.value, kind], counts.get((status, kind), 0))
        queued_since = [oldest for status, _kind, _n, oldest in rows if status == JobStatus.QUEUED]
        age = (utcnow() - min(queued_since)).total_seconds() if queued_since else 0.0
        oldest = GaugeMetricFamily(
            "daojiao_jobs_oldest_queued_age_seconds",
            "Seconds since the oldest job still queued was created; 0 when none is queued.",
            value=max(age, 0.0),
        )
        return [by_status, oldest, self._run_times()]

    def _run_times(self) -> Metric:
        """How long the jobs finished in the last RUN_TIME_WINDOW ran (an index range scan)."""
        since = utcnow() - RUN_TIME_WINDOW
        run = func.extract("epoch", Job.finished_at - Job.started_at)
        if session.get_bind().dialect.name == "sqlite":
            run = (func.julianday(Job.finished_at) - func.julianday(Job.started_at)) * 86400.0
        rows = session.execute(
            select(Job.kind, func.count(Job.id), func.avg(run), func.max(run))
            .where(
                Job.status.in_([JobStatus.SUCCEEDED, JobStatus.FAILED]),
                Job.updated_at >= since,
                Job.started_at.is_not(None),
                Job.finished_at.is_not(None),
            )
            .group_by(Job.kind)
        ).all()
        family = GaugeMetricFamily(
            "daojiao_job_run_seconds",
            f"Run time of the jobs finished in the last {RUN_TIME_WINDOW.seconds // 60} minutes, "
            "by kind: their count, mean and longest.",
            labels=["kind", "stat"],
        )
        for kind, count, mean, longest in rows:
            family.add_metric([kind, "count"], count)
            family.add_metric([kind, "avg"], float(mean or 0))
            family.add_metric([kind, "max"], float(longest or 0))
        return family

    def _queues(self, up: GaugeMetricFamily) -> Iterable[Metric]:
        dispatcher = jobs.dispatcher()
        if dispatcher.redis is None:
            return []  # in-process jobs: there is no Redis to watch
        try:
            lengths = {name: dispatcher.queue(name).count for name in jobs.queues()}
        except redis.exceptions.RedisError as exc:
            log.warning("scrape without queue lengths: Redis unreachable (%s)", exc)
            up.add_metric(["redis"], 0)
            return []
        up.add_metric(["redis"], 1)
        family = GaugeMetricFamily(
            "daojiao_rq_queue_length", "Jobs waiting in each RQ queue.", labels=["queue"]
        )
        for name, length in lengths.items():
            family.add_metric([name], length)
        return [family]


def _scrape_registry() -> CollectorRegistry:
    """This scrape's registry: the request metrics of every process (multiprocess mode) or of
    this one (its default registry), and the backlog."""
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        # A registry is a collector too; without auto_describe its names are not re-checked.
        registry.register(REGISTRY)
    registry.register(BacklogCollector())
    return registry


def can_read_metrics() -> bool:
    """Prometheus with the configured bearer token, or a signed-in platform admin."""
    token = current_app.config["METRICS_TOKEN"]
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        offered = header.removeprefix("Bearer ").strip().encode()
        if hmac.compare_digest(offered, token.encode()):
            return True
    return access.is_admin(current_user)


@bp.get("/metrics")
def scrape() -> Response:
    """The metrics in Prometheus' text format; anyone else gets the plain 404 page."""
    if not can_read_metrics():
        abort(404)  # the same answer as for a path that does not exist
    return Response(generate_latest(_scrape_registry()), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Time every request (first hook in, last out) and serve `GET /metrics`."""
    from app.web import csrf

    app.before_request(_start_timer)
    app.after_request(_note_status)
    app.teardown_request(_record_request)
    csrf.exempt(bp)  # read-only, authenticated by bearer token or session, never by a form
    app.register_blueprint(bp)
