"""gunicorn's worker class and count, and Prometheus multiprocess bookkeeping.

The image's CMD passes `--config gunicorn.conf.py`; bind address, timeouts and logs are on its
command line (which overrides this file).

Workers: synchronous, one request at a time each, `WEB_CONCURRENCY` of them (default twice the
CPUs plus one, gunicorn's advice: while one waits on PostgreSQL or the object store another runs).
Not threads: the PDF libraries that render agreements and rulings in a request (ReportLab) and
read evidence (pypdfium2) do not promise thread safety, and a sync worker that hangs is killed
and replaced by the `--timeout` alone.
With PROMETHEUS_MULTIPROC_DIR set (docker-compose.yml: a tmpfs), each worker writes its request
metrics to files there and GET /metrics adds them up (app/metrics.py). The variable must be in
the environment before gunicorn starts, so that every worker inherits it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)


def on_starting(server: Any) -> None:
    """Empty the metrics directory before the first worker starts: files left by a previous
    run would be added to this run's counts."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited: drop its live gauges; its counters and histograms stay counted."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
