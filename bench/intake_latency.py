"""Upload to fields ready, and to page images ready, on the production stack at a steady rate.

Run by hand from the repository root: `.venv/bin/python -m bench.intake_latency [--rate 1]
[--seconds 60] [--job-workers 1 | --worker QUEUES …] [--drain 180] [--redis-url URL]`. It makes
a scratch PostgreSQL database, starts moto's S3 server, serves the app with gunicorn the way the
Dockerfile's CMD does (its options, read from the Dockerfile and passed in GUNICORN_CMD_ARGS,
with the bind moved to a free loopback port) in production mode, and starts one `daojiao
worker` (or `--job-workers` of them, or one per `--worker parse,assess,default` on those
queues), all on 127.0.0.1. It uploads generated text letters (every variant of
`tests.reports.generator.make_report`, round robin, seed = upload number) through
`POST /api/v1/cases` at the given rate and reports, from the start of each upload:

* fields ready: its `reports.read` job finishing (the job row's `finished_at`);
* page images ready: the `documents.preview` job that the reading job schedules finishing;
* the upload request itself (client side);

each as median / p95 / max; then where the time went (request to job row, commit and push, wait
in the queue and what the worker ran meanwhile, run) and every failure (failed upload, failed or
unfinished job, with its error). gunicorn and the worker are stopped with SIGTERM (also on
Ctrl-C), and the scratch database is dropped. Target: fields ready p95 ≤ 2 s at 1 upload/s for
60 s with one worker.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pdfplumber
import redis
import requests
from rq import Worker
from sqlalchemy import select

from app import create_app, migrate
from app.db import session
from app.models import Job, JobStatus, OrgKind
from app.services import accounts
from tests.reports.generator import VARIANTS, make_report
from tests.support import servers

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv's bin: gunicorn and daojiao beside python
REDIS_URL = "redis://127.0.0.1:6379/13"
PASSWORD = "bench-password-1"  # noqa: S105 - scratch database
START_TIMEOUT = 60.0
STOP_TIMEOUT = 40.0  # gunicorn's graceful timeout is 30 s; a worker finishes its current job
DONE = (JobStatus.SUCCEEDED, JobStatus.FAILED)


def percentile(values: list[float], share: float) -> float:
    """The value at `share` of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(values: list[float], unit: str = "s") -> str:
    """Median, p95 and max of `values` (seconds) in seconds or milliseconds."""
    if not values:
        return "no values"
    scale, digits = (1000, 0) if unit == "ms" else (1, 2)
    figures = (statistics.median(values), percentile(values, 0.95), max(values))
    median, p95, top = (f"{value * scale:.{digits}f}" for value in figures)
    return f"median {median} / p95 {p95} / max {top} {unit} (n={len(values)})"


def dockerfile_gunicorn() -> tuple[list[str], str]:
    """The gunicorn options and the app module of the Dockerfile's CMD (its exec form)."""
    lines = (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()
    command = json.loads(next(line for line in reversed(lines) if line.startswith("CMD "))[4:])
    if Path(command[0]).name != "gunicorn":
        raise SystemExit(f"the Dockerfile's CMD does not run gunicorn: {command}")
    return command[1:-1], command[-1]  # gunicorn's APP_MODULE is its last argument


def rebind(options: list[str], bind: str) -> list[str]:
    """The options with every --bind/-b replaced by one bind to `bind`."""
    kept: list[str] = []
    skip = False
    for option in options:
        if skip:
            skip = False
        elif option in ("--bind", "-b"):
            skip = True
        elif not option.startswith("--bind="):
            kept.append(option)
    return ["--bind", bind, *kept]


def page_count(data: bytes) -> int:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


@contextmanager
def process(
    name: str, argv: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen]:
    """A child in a session of its own (Ctrl-C reaches only this script), SIGTERMed at the end."""
    with log.open("wb") as log_file:
        proc = subprocess.Popen(  # noqa: S603 - our own gunicorn and worker
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan it
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    print(f"{name} did not stop within {STOP_TIMEOUT:.0f} s; killing it")
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            print(f"{name} stopped (exit code {proc.returncode})")


def wait_until(what: str, ready: Callable[[], bool], proc: subprocess.Popen, log: Path) -> None:
    """Poll `ready()` until it is true; fail if `proc` exits or START_TIMEOUT passes."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{what} exited with {proc.returncode}:\n{tail}")
        if ready():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} not ready within {START_TIMEOUT:.0f} s")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@dataclass
class Upload:
    number: int
    variant: str
    pages: int
    begin: datetime | None = None
    seconds: float | None = None
    case_id: int | None = None
    error: str | None = None


def upload_all(
    base: str, token: str, uploads: list[Upload], files: list[bytes], rate: float
) -> None:
    """POST every file at `rate` per second from a small thread pool; fills in the Uploads."""
    headers = {"Authorization": f"Bearer {token}"}

    def send(upload: Upload) -> None:
        upload.begin = datetime.now(UTC)
        clock = time.perf_counter()
        try:
            response = requests.post(
                f"{base}/cases",
                headers=headers,
                timeout=60,
                files={"report": (f"r{upload.number}.pdf", files[upload.number])},
            )
        except requests.RequestException as exc:
            upload.error = repr(exc)
            return
        upload.seconds = time.perf_counter() - clock
        if not response.ok:
            upload.error = f"HTTP {response.status_code}: {response.text[:300]}"
            return
        upload.case_id = response.json()["id"]

    start = time.perf_counter()
    futures: list[Future] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for upload in uploads:
            time.sleep(max(0.0, start + upload.number / rate - time.perf_counter()))
            futures.append(pool.submit(send, upload))
    for future in futures:
        future.result()  # a bug in send() surfaces here


def job_rows(kind: str) -> dict[int, Job]:
    """The jobs of `kind` by case id (one each here), detached from the session."""
    rows = session.scalars(select(Job).where(Job.kind == kind)).all()
    session.expunge_all()
    session.rollback()
    return {row.case_id: row for row in rows}


def report(uploads: list[Upload], reads: dict[int, Job], previews: dict[int, Job]) -> int:
    """Print the figures; return the number of failures."""
    done = [upload for upload in uploads if upload.case_id is not None]
    failures = 0
    for upload in uploads:
        if upload.error:
            failures += 1
            print(f"FAILED upload {upload.number} ({upload.variant}): {upload.error}")
    for kind, rows in (("reports.read", reads), ("documents.preview", previews)):
        for upload in done:
            job = rows.get(upload.case_id)
            read = reads.get(upload.case_id)
            if kind == "documents.preview" and (read is None or read.status != JobStatus.SUCCEEDED):
                continue  # no page images without a reading: counted there
            if job is None or job.status not in DONE:
                failures += 1
                state = "no job row" if job is None else f"still {job.status.value}"
                print(f"UNFINISHED {kind} of upload {upload.number} ({upload.variant}): {state}")
            elif job.status == JobStatus.FAILED:
                failures += 1
                print(
                    f"FAILED {kind} of upload {upload.number} ({upload.variant}), "
                    f"{job.attempts} attempt(s): [{job.error_code}] {job.error}"
                )

    def since_upload(rows: dict[int, Job]) -> list[float]:
        return [
            (rows[u.case_id].finished_at - u.begin).total_seconds()
            for u in done
            if u.case_id in rows and rows[u.case_id].status == JobStatus.SUCCEEDED
        ]

    print()
    print(f"(a) upload → fields ready:       {summary(since_upload(reads))}")
    print(f"(b) upload → page images ready:  {summary(since_upload(previews))}")
    print(f"(c) upload request:              {summary([u.seconds for u in done], 'ms')}")
    slowest = sorted(done, key=lambda upload: upload.seconds or 0.0, reverse=True)[:5]
    print(
        "    slowest requests: "
        + ", ".join(f"#{u.number} {(u.seconds or 0.0) * 1000:.0f} ms" for u in slowest)
    )
    print()
    print("where the time went (job rows' timestamps):")
    for kind, rows, origin in (
        ("reports.read", reads, "upload start"),
        ("documents.preview", previews, "reading job's run"),
    ):
        ok = [
            (u, rows[u.case_id])
            for u in done
            if u.case_id in rows and rows[u.case_id].status == JobStatus.SUCCEEDED
        ]
        if not ok:
            continue
        steps: list[tuple[str, list[float]]] = []
        if kind == "reports.read":
            steps.append(
                (
                    "upload start → job row",
                    [(j.created_at - u.begin).total_seconds() for u, j in ok],
                )
            )
        steps += [
            (
                "job row → pushed to Redis",
                [(j.pushed_at - j.created_at).total_seconds() for _, j in ok if j.pushed_at],
            ),
            (
                "pushed → claimed by the worker",
                [(j.started_at - j.pushed_at).total_seconds() for _, j in ok if j.pushed_at],
            ),
            (
                "claimed → finished (run)",
                [(j.finished_at - j.started_at).total_seconds() for _, j in ok],
            ),
        ]
        print(f"  {kind} (from the {origin}):")
        for label, values in steps:
            print(f"    {label:32} {summary(values, 'ms')}")
        by_variant: dict[str, list[float]] = {}
        for upload, job in ok:
            by_variant.setdefault(upload.variant, []).append(
                (job.finished_at - job.started_at).total_seconds()
            )
        runs = ", ".join(
            f"{variant} {statistics.median(values) * 1000:.0f}"
            for variant, values in sorted(by_variant.items())
        )
        print(f"    run median by variant (ms): {runs}")
    queue_wait_causes(reads, previews, [u.begin for u in done])
    return failures


def overlap(job: Job, start: datetime, end: datetime) -> float:
    """Seconds of `job`'s run inside [start, end]."""
    if job.started_at is None or job.finished_at is None:
        return 0.0
    return max(0.0, (min(job.finished_at, end) - max(job.started_at, start)).total_seconds())


def queue_wait_causes(
    reads: dict[int, Job], previews: dict[int, Job], begins: list[datetime | None]
) -> None:
    """What the worker(s) ran while each reading job waited, and how busy they were."""
    ran = [job for job in (*reads.values(), *previews.values()) if job.finished_at]
    waits = [job for job in reads.values() if job.pushed_at and job.started_at]
    if not ran or not waits:
        return
    behind: dict[str, list[float]] = {"reports.read": [], "documents.preview": [], "between": []}
    for job in waits:
        total = (job.started_at - job.pushed_at).total_seconds()
        for kind in ("reports.read", "documents.preview"):
            behind[kind].append(
                sum(
                    overlap(other, job.pushed_at, job.started_at)
                    for other in ran
                    if other.kind == kind
                )
            )
        behind["between"].append(
            max(0.0, total - behind["reports.read"][-1] - behind["documents.preview"][-1])
        )
    print("  while a reading job waited in the queue, the worker(s) ran:")
    print(f"    earlier reading jobs           {summary(behind['reports.read'], 'ms')}")
    print(f"    page-image jobs                {summary(behind['documents.preview'], 'ms')}")
    print(f"    no job row (RQ, pushes)        {summary(behind['between'], 'ms')}")
    first = min(begin for begin in begins if begin)
    last = max(job.finished_at for job in ran)
    span = (last - first).total_seconds()
    for kind in ("reports.read", "documents.preview"):
        busy = sum((j.finished_at - j.started_at).total_seconds() for j in ran if j.kind == kind)
        print(f"  {kind} runs: {busy:.1f} s of the {span:.1f} s from first upload to last job")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1.0, help="uploads per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to upload")
    parser.add_argument(
        "--job-workers", type=int, default=1, help="`daojiao worker` processes (the issue: 1)"
    )
    parser.add_argument(
        "--worker",
        action="append",
        metavar="QUEUES",
        help="a `daojiao worker` on these comma-separated queues (repeat for more workers; "
        "instead of --job-workers)",
    )
    parser.add_argument(
        "--drain", type=float, default=180.0, help="seconds to wait for the jobs after the uploads"
    )
    parser.add_argument("--redis-url", default=REDIS_URL, help="Redis database (emptied)")
    args = parser.parse_args(argv)
    # The queues of each worker; [] means every queue.
    worker_queues = [
        [name for name in queues.split(",") if name] for queues in args.worker or []
    ] or [[] for _ in range(args.job_workers)]
    # A second Ctrl-C (or a SIGTERM) while stopping must not leave the children running.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    total = int(args.rate * args.seconds)
    files: list[bytes] = []
    uploads: list[Upload] = []
    for n in range(total):
        variant = VARIANTS[n % len(VARIANTS)]
        data, _ = make_report(variant, seed=n)
        files.append(data)
        uploads.append(Upload(n, variant, page_count(data)))
    pages = Counter(upload.pages for upload in uploads)
    options, app_module = dockerfile_gunicorn()
    port = servers.free_port()
    gunicorn_args = shlex.join(rebind(options, f"127.0.0.1:{port}"))
    print(
        f"{total} letters, {len(VARIANTS)} variants round robin "
        f"({', '.join(f'{count} × {n} p.' for n, count in sorted(pages.items()))}); "
        f"GUNICORN_CMD_ARGS={gunicorn_args!r} gunicorn {app_module}; "
        + ", ".join(
            f"daojiao worker {' '.join(queues) or '(every queue)'}" for queues in worker_queues
        )
    )

    url = servers.sibling_database(servers.PG_URL, "latency")
    servers.recreate_database(url)
    queue_redis = redis.Redis.from_url(args.redis_url)
    queue_redis.flushdb()
    app = None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="daojiao-latency-") as scratch,
            servers.moto_server(Path(scratch) / "moto.log") as endpoint,
        ):
            settings = {
                "DAOJIAO_MODE": "production",
                "SECRET_KEY": secrets.token_urlsafe(48),
                "DATABASE_URL": url,
                "REDIS_URL": args.redis_url,
                "S3_ENDPOINT": endpoint,
                "S3_ACCESS_KEY": servers.S3_ACCESS_KEY,
                "S3_SECRET_KEY": servers.S3_SECRET_KEY,
                "S3_BUCKET": "daojiao-bench",
                "DAOJIAO_SIGNING_KEY": str(Path(scratch) / "signing-key.pem"),
            }
            migrate.upgrade(url)
            app = create_app(settings)
            with app.app_context():
                police = accounts.create_organization(actor=None, kind=OrgKind.POLICE, name="交警")
                accounts.create_user(actor=None, org=police, username="police", password=PASSWORD)
                session.commit()
            env = {
                **os.environ,
                **settings,
                "PYTHONPATH": str(REPO),
                "PYTHONUNBUFFERED": "1",
                "GUNICORN_CMD_ARGS": gunicorn_args,
            }
            web_log = Path(scratch) / "gunicorn.log"
            with ExitStack() as running:
                web = running.enter_context(
                    process("gunicorn", [str(BIN / "gunicorn"), app_module], env, web_log)
                )
                workers = [
                    running.enter_context(
                        process(
                            f"worker {n + 1}",
                            [str(BIN / "daojiao"), "worker", *queues],
                            env,
                            Path(scratch) / f"worker{n + 1}.log",
                        )
                    )
                    for n, queues in enumerate(worker_queues)
                ]
                wait_until(
                    "gunicorn", lambda: answers(f"http://127.0.0.1:{port}/healthz"), web, web_log
                )
                wait_until(
                    "the worker",
                    lambda: Worker.count(connection=queue_redis) >= len(workers),
                    workers[0],
                    Path(scratch) / "worker1.log",
                )
                base = f"http://127.0.0.1:{port}/api/v1"
                token = requests.post(
                    f"{base}/tokens", json={"username": "police", "password": PASSWORD}, timeout=30
                ).json()["token"]
                started = time.perf_counter()
                upload_all(base, token, uploads, files, args.rate)
                print(
                    f"uploads sent in {time.perf_counter() - started:.1f} s; waiting for the jobs"
                )
                deadline = time.perf_counter() + args.drain
                expected = sum(upload.case_id is not None for upload in uploads)
                with app.app_context():
                    while True:
                        reads, previews = job_rows("reports.read"), job_rows("documents.preview")
                        read_done = [job for job in reads.values() if job.status in DONE]
                        succeeded = sum(job.status == JobStatus.SUCCEEDED for job in read_done)
                        previews_done = sum(job.status in DONE for job in previews.values())
                        if len(read_done) >= expected and previews_done >= succeeded:
                            break
                        if time.perf_counter() > deadline:
                            print(f"jobs still open after {args.drain:.0f} s; stopping")
                            break
                        if any(child.poll() is not None for child in (web, *workers)):
                            print("gunicorn or a worker exited early; stopping")
                            break
                        time.sleep(0.5)
                print(f"done waiting {time.perf_counter() - started:.1f} s after the first upload")
                failures = report(uploads, reads, previews)
                print(f"\nfailures: {failures}")
    except KeyboardInterrupt:
        print("interrupted; gunicorn and the worker(s) stopped")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if app is not None:
            app.extensions["daojiao.db"].engine.dispose()
        servers.drop_database(url)
        queue_redis.flushdb()
        print("scratch database dropped")


if __name__ == "__main__":
    main()
