"""PostgreSQL going away under a running app and worker (issue 15, item 9).

While the database is down the web answers 503 (the API with `database_unavailable`, the portal
with a page of its own), never a 500 or a hang, and once it is back the same requests succeed
without restarting the app; a write cut short leaves nothing behind; jobs running through a
restart all end succeeded, none lost or left running. Each test runs on a throw-away cluster of
its module's own (tests/support/pgcluster.py): the shared server must stay up for the others.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from werkzeug.serving import make_server

from app import errors, jobs, migrate
from app.db import session
from app.demo import SAMPLE_LETTER
from app.models import AuditEvent, Case, Document, Job, JobStatus, OrgKind, Report, User
from app.services import documents, intake
from tests import factories
from tests.support.pgcluster import PgCluster, pg_cluster
from tests.support.servers import free_port
from tests.test_jobs import worker

pytestmark = pytest.mark.slow

# Loose limits: they catch a hang, never measure speed on a busy machine.
REQUEST_LIMIT_SECONDS = 20
JOBS_LIMIT_SECONDS = 90
PORTAL_PAGES = ["/", "/cases/"]
API_READS = ["/api/v1/me", "/api/v1/cases"]
# The rows an upload writes; a cut-short upload must leave none of them.
UPLOAD_ROWS = (Case, Document, Report, Job, AuditEvent)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    with pg_cluster() as running:
        migrate.upgrade(running.url)
        yield running


@pytest.fixture
def pg(cluster: PgCluster) -> Iterator[PgCluster]:
    """The cluster, running again after the test even if the test failed while it was down."""
    yield cluster
    if not cluster.running:
        cluster.start()


@pytest.fixture
def make_fault_app(make_app: Callable[..., Flask], pg: PgCluster) -> Iterator[Callable[..., Flask]]:
    """Apps on the cluster (with the test settings plus overrides), their pools closed after."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        built.append(make_app(DATABASE_URL=pg.url, **overrides))
        return built[-1]

    yield build
    for flask_app in built:
        flask_app.extensions["daojiao.db"].engine.dispose()


@pytest.fixture
def fault_app(make_fault_app: Callable[..., Flask]) -> Flask:
    return make_fault_app()


def police_user(flask_app: Flask) -> User:
    """A committed police officer (the role that uploads letters)."""
    with flask_app.app_context():
        user = factories.make_user(factories.make_org(OrgKind.POLICE))
        session.commit()
        return user


@contextmanager
def serving(flask_app: Flask) -> Iterator[str]:
    """The app behind Werkzeug's threaded server on a free loopback port; yields its URL."""
    server = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="web")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=REQUEST_LIMIT_SECONDS)


def log_in(url: str, user: User) -> tuple[requests.Session, requests.Session]:
    """A browser logged in through the form, and an API client with a bearer token."""
    browser = requests.Session()
    credentials = {"username": user.username, "password": factories.PASSWORD}
    answer = browser.post(
        f"{url}/login", data=credentials, allow_redirects=False, timeout=REQUEST_LIMIT_SECONDS
    )
    assert answer.status_code == 302, answer.text
    api = requests.Session()
    issued = api.post(f"{url}/api/v1/tokens", json=credentials, timeout=REQUEST_LIMIT_SECONDS)
    assert issued.status_code == 201, issued.text
    api.headers["Authorization"] = f"Bearer {issued.json()['token']}"
    return browser, api


def upload(api: requests.Session, url: str) -> requests.Response:
    return api.post(
        f"{url}/api/v1/cases",
        files={"report": ("letter.pdf", SAMPLE_LETTER.read_bytes(), "application/pdf")},
        timeout=REQUEST_LIMIT_SECONDS,
    )


def unavailable_message(flask_app: Flask) -> str:
    """The message a clerk reads while the database is down, in the portal's default Chinese."""
    with flask_app.test_request_context(), force_locale("zh_CN"):
        return errors.database_unavailable_message()


def wait_for(condition: Callable[[], Any], what: str, limit: float = JOBS_LIMIT_SECONDS) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"waited {limit} s for {what}")


@contextmanager
def audit_head_locked(cluster: PgCluster) -> Iterator[psycopg.Connection]:
    """Hold the audit chain's head row: every unit of work that records an event waits there,
    halfway through its writes, until PostgreSQL goes down."""
    holder = psycopg.connect(cluster.conninfo)
    holder.execute("SELECT 1 FROM audit_heads WHERE id = 1 FOR UPDATE")
    try:
        yield holder
    finally:
        with contextlib.suppress(psycopg.Error):
            holder.close()


def waiting_on_the_lock(holder: psycopg.Connection) -> bool:
    """True once another session waits for the row `holder` locked."""
    waiting = holder.execute(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
    ).fetchone()
    return bool(waiting and waiting[0])


def reading_the_letter(holder: psycopg.Connection) -> bool:
    """True while the job reading the letter runs (its claim committed)."""
    running = holder.execute(
        "SELECT count(*) FROM jobs WHERE kind = 'reports.read' AND status::text = %s",
        [JobStatus.RUNNING.value],
    ).fetchone()
    return bool(running and running[0])


def row_counts(flask_app: Flask) -> dict[str, int]:
    with flask_app.app_context():
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in UPLOAD_ROWS
        }


# -- the classification: a lost or refused connection is 503, a bug in SQL stays 500 ----------


def test_only_a_lost_or_refused_connection_counts_as_the_database_being_unavailable(
    fault_app: Flask, pg: PgCluster
) -> None:
    with fault_app.app_context():
        with pytest.raises(ProgrammingError) as bad_sql:
            session.execute(text("SELECT no_such_column FROM cases"))
        session.rollback()
        session.execute(text("SET LOCAL statement_timeout = 1"))
        with pytest.raises(OperationalError) as cancelled:
            session.execute(text("SELECT pg_sleep(1)"))
        session.rollback()
        with pytest.raises(psycopg.OperationalError) as refused:
            psycopg.connect(pg.conninfo.replace(f"port={pg.port}", f"port={free_port()}"))
        pg.stop("fast")
        with pytest.raises(OperationalError) as lost:
            session.execute(text("SELECT 1"))

    assert not errors.is_database_unavailable(bad_sql.value)
    assert not errors.is_database_unavailable(cancelled.value)  # a query too slow is a bug
    assert errors.is_database_unavailable(refused.value)
    assert errors.is_database_unavailable(lost.value)


def test_a_statement_postgresql_refuses_is_still_a_500(fault_app: Flask, pg: PgCluster) -> None:
    user = police_user(fault_app)
    with psycopg.connect(pg.conninfo, autocommit=True) as admin:
        admin.execute("ALTER DATABASE daojiao_faults SET lock_timeout = '200ms'")
    try:
        with serving(fault_app) as url:
            _, api = log_in(url, user)
            fault_app.extensions["daojiao.db"].engine.dispose()  # connect with the new setting
            with audit_head_locked(pg):
                answer = upload(api, url)  # gives up waiting for the audit head: a bug here
    finally:
        with psycopg.connect(pg.conninfo, autocommit=True) as admin:
            admin.execute("ALTER DATABASE daojiao_faults RESET lock_timeout")

    assert answer.status_code == 500


# -- mid-request: 503 while it is down, served again once it is back ---------------------------


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_the_web_answers_503_while_postgresql_is_down_and_serves_again_once_it_is_back(
    fault_app: Flask, pg: PgCluster, mode: str
) -> None:
    user = police_user(fault_app)
    message = unavailable_message(fault_app)
    with serving(fault_app) as url:
        browser, api = log_in(url, user)
        for path in PORTAL_PAGES:
            assert browser.get(url + path, timeout=REQUEST_LIMIT_SECONDS).status_code == 200
        for path in API_READS:
            assert api.get(url + path, timeout=REQUEST_LIMIT_SECONDS).status_code == 200

        pg.stop(mode)
        down_pages = [
            browser.get(url + path, timeout=REQUEST_LIMIT_SECONDS) for path in PORTAL_PAGES
        ]
        down_api = [api.get(url + path, timeout=REQUEST_LIMIT_SECONDS) for path in API_READS]
        down_write = upload(api, url)
        pg.start()
        up_pages = [browser.get(url + path, timeout=REQUEST_LIMIT_SECONDS) for path in PORTAL_PAGES]
        up_api = [api.get(url + path, timeout=REQUEST_LIMIT_SECONDS) for path in API_READS]
        up_write = upload(api, url)

    for page in down_pages:
        assert page.status_code == 503
        assert page.headers["Content-Type"].startswith("text/html")
        assert message in page.text
        assert 'lang="zh-CN"' in page.text
    for answer in [*down_api, down_write]:
        assert answer.status_code == 503
        assert answer.json()["error"] == {"code": "database_unavailable", "message": message}
    # The same logged-in browser and token, the same app: its pool dropped the dead connections.
    assert [page.status_code for page in up_pages] == [200] * len(PORTAL_PAGES)
    assert [answer.status_code for answer in up_api] == [200] * len(API_READS)
    assert up_write.status_code == 202, up_write.text


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_connections_a_restart_broke_are_replaced_before_any_request_uses_them(
    fault_app: Flask, pg: PgCluster, mode: str
) -> None:
    user = police_user(fault_app)
    with serving(fault_app) as url:
        browser, api = log_in(url, user)
        for path in PORTAL_PAGES:
            assert browser.get(url + path, timeout=REQUEST_LIMIT_SECONDS).status_code == 200
        pg.stop(mode)
        pg.start()  # no request saw it down: the pool still holds the broken connections
        pages = [browser.get(url + path, timeout=REQUEST_LIMIT_SECONDS) for path in PORTAL_PAGES]
        reads = [api.get(url + path, timeout=REQUEST_LIMIT_SECONDS) for path in API_READS]

    assert [page.status_code for page in pages] == [200] * len(PORTAL_PAGES)
    assert [answer.status_code for answer in reads] == [200] * len(API_READS)


def test_a_write_cut_short_by_postgresql_stopping_leaves_nothing_behind(
    fault_app: Flask, pg: PgCluster
) -> None:
    user = police_user(fault_app)
    with serving(fault_app) as url:
        _, api = log_in(url, user)
        before = row_counts(fault_app)
        with audit_head_locked(pg) as holder, ThreadPoolExecutor(1) as pool:
            uploading = pool.submit(upload, api, url)
            # The upload has written its case, document and report rows and waits to record
            # its audit event: stop the server under it.
            wait_for(lambda: waiting_on_the_lock(holder), "the upload to wait on the audit head")
            pg.stop("fast")
            answer = uploading.result()
        pg.start()
        after = row_counts(fault_app)

    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert after == before


def test_a_server_that_answers_no_new_connection_is_a_503_not_a_hang(
    fault_app: Flask, pg: PgCluster
) -> None:
    user = police_user(fault_app)
    with serving(fault_app) as url:
        _, api = log_in(url, user)
        fault_app.extensions["daojiao.db"].engine.dispose()  # the next request connects anew
        with pg.frozen():
            answer = api.get(f"{url}/api/v1/me", timeout=REQUEST_LIMIT_SECONDS)
        again = api.get(f"{url}/api/v1/me", timeout=REQUEST_LIMIT_SECONDS)

    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert again.status_code == 200


# -- mid-job: a real worker runs an upload's jobs through two restarts --------------------------


def job_states(job_ids: list[int]) -> dict[int, tuple[JobStatus, int]]:
    """Each job's status and progress, read afresh."""
    session.expire_all()
    rows = session.execute(
        select(Job.id, Job.status, Job.progress).where(Job.id.in_(job_ids))
    ).all()
    session.rollback()
    return {row.id: (row.status, row.progress) for row in rows}


def case_jobs(case_id: int) -> list[int]:
    ids = list(session.scalars(select(Job.id).where(Job.case_id == case_id)))
    session.rollback()
    return ids


@pytest.mark.redis
def test_jobs_running_through_postgresql_restarts_all_succeed_and_the_upload_is_kept(
    make_fault_app: Callable[..., Flask], pg: PgCluster, redis_url: str, tmp_path: Path
) -> None:
    flask_app = make_fault_app(REDIS_URL=redis_url, JOB_LEASE_SECONDS=2, JOB_SWEEP_SECONDS=1)
    with flask_app.app_context():
        actor = police_user(flask_app)
        case = intake.upload_report(
            actor=session.get(User, actor.id),
            filename="letter.pdf",
            data=SAMPLE_LETTER.read_bytes(),
        )
        session.commit()  # pushes the letter's job to Redis
        case_id = case.id
        document_id = session.scalar(select(Report.document_id).where(Report.case_id == case_id))
        session.rollback()

        with worker(flask_app, tmp_path) as proc, audit_head_locked(pg) as holder:
            # Reading the letter waits, with its fields written, to record its audit event.
            wait_for(
                lambda: waiting_on_the_lock(holder) and reading_the_letter(holder),
                "the letter's job to wait on the head",
            )
            pg.stop("fast")
            time.sleep(1)  # down for a moment, as a real restart is
            pg.start()
            slow_id = jobs.schedule("test.slow_effect", subject_id=40).id  # four seconds
            session.commit()
            wait_for(
                lambda: job_states([slow_id]).get(slow_id, (None, 0))[1] > 0,
                "the slow job to report progress",
            )
            pg.stop("immediate")
            time.sleep(1)
            pg.start()
            wait_for(
                lambda: (
                    len(case_jobs(case_id)) == 2  # the letter read, its pages rendered
                    and all(
                        status == JobStatus.SUCCEEDED
                        for status, _ in job_states([slow_id, *case_jobs(case_id)]).values()
                    )
                ),
                "every job to succeed",
            )
            assert proc.poll() is None  # the worker lived through both restarts

        finished = session.scalars(select(Job).where(Job.id.in_([slow_id, *case_jobs(case_id)])))
        by_kind = {job.kind: job for job in finished}
        document = session.get(Document, document_id)
        stored = documents.read_document(document)
        effects = session.scalar(
            select(func.count()).where(
                AuditEvent.action == "test.effect", AuditEvent.subject == f"job:{slow_id}"
            )
        )

    assert set(by_kind) == {"reports.read", "documents.preview", "test.slow_effect"}
    assert all(job.status == JobStatus.SUCCEEDED for job in by_kind.values())
    assert by_kind["reports.read"].attempts >= 2  # the restart cut its first attempt short
    assert by_kind["test.slow_effect"].attempts >= 2
    assert stored == SAMPLE_LETTER.read_bytes()
    assert effects == 1  # the slow job's effect committed once, with its success
