"""Real services for the tests: PostgreSQL databases, moto's S3 server, Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import requests
from flask import Flask
from psycopg import sql
from sqlalchemy import Connection

# pytest-xdist's worker number ("gw1" → 1); 0 when the tests run in one process.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def _worker_redis_url(url: str) -> str:
    """The Redis database `url` names, plus the worker's number: workers never flush each
    other's database."""
    server, number = url.rsplit("/", 1)
    return f"{server}/{int(number) + WORKER}"


# Each run, and each worker of a run, gets its own database (the pid of a worker differs from
# its siblings'), so that runs side by side never drop each other's.
PG_URL = os.environ.get(
    "TEST_DATABASE_URL",
    f"postgresql+psycopg://postgres:postgres@127.0.0.1:5432/daojiao_test_{os.getpid()}",
)
if "TEST_DATABASE_URL" in os.environ and "PYTEST_XDIST_WORKER" in os.environ:
    PG_URL = f"{PG_URL}_{WORKER}"
REDIS_URL = _worker_redis_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"))
S3_ACCESS_KEY = "testing"
S3_SECRET_KEY = "testing"  # moto accepts any credentials
START_TIMEOUT = 30.0


def free_port() -> int:
    """A loopback port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin_conninfo(url: str) -> tuple[str, str]:
    """psycopg conninfo of the `postgres` maintenance database, and the database's name."""
    base, name = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)
    return f"{base}/postgres", name


def recreate_database(url: str) -> None:
    """Drop and create the database at `url` (empty, no tables)."""
    admin, name = _admin_conninfo(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    """Drop the database at `url` if it exists."""
    admin, name = _admin_conninfo(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def sibling_database(url: str, suffix: str) -> str:
    """The URL of another database on the same server."""
    return f"{url}_{suffix}"


def _wait_for_http(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            requests.get(url, timeout=1).close()
        except requests.ConnectionError:
            time.sleep(0.1)
        else:
            return
    raise RuntimeError(f"moto server did not answer within {START_TIMEOUT}s")


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """Run moto's S3 server on a free loopback port; yield "127.0.0.1:PORT"."""
    port = free_port()
    # The server logs every request; a file cannot fill up like a pipe can.
    with (
        log.open("wb") as log_file,
        subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        ) as proc,
    ):
        try:
            _wait_for_http(f"http://127.0.0.1:{port}/", proc, log)
            yield f"127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def rolled_back(flask_app: Flask) -> Iterator[Connection]:
    """An app context whose every session joins one transaction, rolled back at the end."""
    database = flask_app.extensions["daojiao.db"]
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind_to(connection)
    try:
        with flask_app.app_context():
            yield connection
    finally:
        database.bind_to(None)
        transaction.rollback()
        connection.close()
