"""Upload-to-parsed latency with one worker on PostgreSQL, Redis and S3 at a steady upload rate.

Run by hand from the repository root: `.venv/bin/python -m bench.intake_latency
[--rate 2] [--seconds 60]`. It makes a scratch database, starts moto's S3 server and one
`daojiao worker`, serves the app on a loopback port, uploads generated reports through the API at
the given rate, and reports how long each took from the start of its upload to its `reports.read`
job finishing (the job row's `finished_at`, written by the worker).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import redis
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app, migrate
from app.db import session
from app.models import Job, JobStatus, OrgKind
from app.services import accounts
from tests.reports.generator import VARIANTS, make_report
from tests.support import servers

REPO = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/13"
PASSWORD = "bench-password-1"  # noqa: S105 - scratch database


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=2.0, help="uploads per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    url = servers.sibling_database(servers.PG_URL, "latency")
    servers.recreate_database(url)
    redis.Redis.from_url(REDIS_URL).flushdb()
    with (
        tempfile.TemporaryDirectory() as scratch,
        servers.moto_server(Path(scratch) / "moto.log") as endpoint,
    ):
        settings = {
            "DAOJIAO_MODE": "testing",
            "DATABASE_URL": url,
            "REDIS_URL": REDIS_URL,
            "S3_ENDPOINT": endpoint,
            "S3_ACCESS_KEY": servers.S3_ACCESS_KEY,
            "S3_SECRET_KEY": servers.S3_SECRET_KEY,
            "S3_BUCKET": "daojiao-bench",
        }
        migrate.upgrade(url)
        app = create_app(settings)
        with app.app_context():
            police = accounts.create_organization(actor=None, kind=OrgKind.POLICE, name="交警")
            accounts.create_user(actor=None, org=police, username="police", password=PASSWORD)
            session.commit()
        worker = subprocess.Popen(  # noqa: S603 - our own worker
            [sys.executable, "-m", "workers"],
            cwd=REPO,
            env={**os.environ, **{k: str(v) for k, v in settings.items()}, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = servers.free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            token = requests.post(
                f"{base}/tokens", json={"username": "police", "password": PASSWORD}, timeout=30
            ).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            total = int(args.rate * args.seconds)
            files = [make_report(VARIANTS[n % len(VARIANTS)], seed=n)[0] for n in range(total)]
            started: dict[int, datetime] = {}
            upload_seconds: list[float] = []

            def send(n: int) -> None:
                begin = datetime.now(UTC)
                clock = time.perf_counter()
                response = requests.post(
                    f"{base}/cases",
                    headers=headers,
                    timeout=60,
                    files={"report": (f"r{n}.pdf", files[n])},
                )
                upload_seconds.append(time.perf_counter() - clock)
                response.raise_for_status()
                started[response.json()["id"]] = begin

            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                for n in range(total):
                    time.sleep(max(0.0, start + n / args.rate - time.perf_counter()))
                    pool.submit(send, n)
            deadline = time.perf_counter() + 120
            with app.app_context():
                while time.perf_counter() < deadline:
                    rows = session.execute(
                        select(Job.case_id, Job.status, Job.started_at, Job.finished_at).where(
                            Job.kind == "reports.read"
                        )
                    ).all()
                    pages = session.execute(
                        select(Job.case_id, Job.status, Job.finished_at).where(
                            Job.kind == "documents.preview"
                        )
                    ).all()
                    session.rollback()
                    if len(pages) == total and all(
                        row.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) for row in pages
                    ):
                        break
                    time.sleep(0.5)
            latencies = [
                (row.finished_at - started[row.case_id]).total_seconds()
                for row in rows
                if row.status == JobStatus.SUCCEEDED
            ]
            failed = sum(row.status != JobStatus.SUCCEEDED for row in rows)
            print(
                f"{total} uploads at {args.rate}/s over {args.seconds:.0f} s, one worker; "
                f"{failed} not read"
            )
            print(f"upload request: median {statistics.median(upload_seconds) * 1000:.0f} ms")
            runs = [
                (row.finished_at - row.started_at).total_seconds()
                for row in rows
                if row.status == JobStatus.SUCCEEDED
            ]
            print(
                f"job run (claimed to finished): median {statistics.median(runs) * 1000:.0f} ms,"
                f" p95 {percentile(runs, 0.95) * 1000:.0f} ms"
            )
            ready = [
                (row.finished_at - started[row.case_id]).total_seconds()
                for row in pages
                if row.status == JobStatus.SUCCEEDED
            ]
            print(
                f"upload to page images ready: median {statistics.median(ready):.2f} s, "
                f"p95 {percentile(ready, 0.95):.2f} s, max {max(ready):.2f} s"
            )
            print(
                f"upload to parsed: median {statistics.median(latencies):.2f} s, "
                f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s"
            )
        finally:
            server.shutdown()
            worker.terminate()
            worker.wait(timeout=30)
            app.extensions["daojiao.db"].engine.dispose()
            servers.drop_database(url)


if __name__ == "__main__":
    main()
