"""`daojiao demo` seeds accounts with a published password: only into what the demo made."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from app import create_app, demo, migrate
from app.cli import main
from app.db import session
from app.models import AuditEvent, OrgKind
from app.services import accounts
from tests.support import servers

REPO = Path(__file__).resolve().parent.parent
FOREIGN_SERVICES = ("DATABASE_URL", "S3_ENDPOINT", "REDIS_URL", "DAOJIAO_MODE", "SECRET_KEY")


@pytest.fixture(autouse=True)
def _no_services_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FOREIGN_SERVICES:
        monkeypatch.delenv(name, raising=False)


def embedded(tmp_path: Path) -> dict[str, str]:
    """The demo's own kind of settings: a SQLite file and a folder, in the test's directory."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "OBJECT_STORE_PATH": str(tmp_path / "objects"),
        "DAOJIAO_SIGNING_KEY": str(tmp_path / "signing-key.pem"),
    }


@pytest.fixture
def demo_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Demo-mode apps on the test's SQLite file (plus overrides), disposed afterwards."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        flask_app = create_app({"DAOJIAO_MODE": "demo", **embedded(tmp_path), **overrides})
        built.append(flask_app)
        return flask_app

    yield build
    for flask_app in built:
        flask_app.extensions["daojiao.db"].engine.dispose()


def someones_data(flask_app: Flask) -> None:
    """A production-like start: the README's first administrator in its own organisation."""
    with flask_app.app_context():
        migrate.upgrade(flask_app.config["DATABASE_URL"])
        org = accounts.create_organization(actor=None, kind=OrgKind.PLATFORM, name="平台管理")
        accounts.create_user(actor=None, org=org, username="admin", password="a-real-password-1")
        session.commit()


@pytest.mark.slow  # seeds the whole demo, its year of history included
def test_a_fresh_database_and_the_demos_own_are_accepted(demo_app: Callable[..., Flask]) -> None:
    flask_app = demo_app()
    with flask_app.app_context():
        assert demo.refusal() is None  # nothing there yet
        migrate.upgrade(flask_app.config["DATABASE_URL"])
        assert demo.refusal() is None  # migrated, still empty
        demo.seed()
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == demo.MARKER))
        # What is done in the demo later (a new organisation and user) keeps it the demo's.
        org = accounts.create_organization(actor=None, kind=OrgKind.POLICE, name="演示新增大队")
        accounts.create_user(actor=None, org=org, username="police2", password="police2-password")
        session.commit()
        assert demo.refusal() is None
        demo.seed()  # a re-run seeds nothing twice
        marks = session.scalars(select(AuditEvent.id).where(AuditEvent.action == demo.MARKER))
        assert len(marks.all()) == 1


def test_a_demo_database_from_before_the_marker_is_recognised_by_its_names(
    demo_app: Callable[..., Flask],
) -> None:
    flask_app = demo_app()
    with flask_app.app_context():
        migrate.upgrade(flask_app.config["DATABASE_URL"])
        for kind, name, aliases in demo.ORGANIZATIONS:
            org = accounts.create_organization(actor=None, kind=kind, name=name, aliases=aliases)
        accounts.create_user(actor=None, org=org, username="admin", password=demo.DEMO_PASSWORD)
        session.commit()
        assert demo.refusal() is None


def test_a_database_with_someone_elses_data_is_refused(demo_app: Callable[..., Flask]) -> None:
    flask_app = demo_app()
    someones_data(flask_app)
    with flask_app.app_context():
        refusal = demo.refusal()
    assert refusal is not None
    assert "holds data the demo did not make" in refusal
    assert "1 other organisation(s), 0 other user(s)" in refusal  # "admin" is a demo name
    assert demo.CONSENT_FLAG in refusal


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DATABASE_URL", "postgresql+psycopg://daojiao:s3cret-pw@db.internal:5432/daojiao"),
        ("S3_ENDPOINT", "minio:9000"),
        ("REDIS_URL", "redis://redis:6379/0"),
    ],
)
def test_services_the_demo_did_not_make_are_refused(
    demo_app: Callable[..., Flask], setting: str, value: str
) -> None:
    extra = {"S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b"} if setting == "S3_ENDPOINT" else {}
    with demo_app(**{setting: value}, **extra).app_context():
        refusal = demo.refusal()
    assert refusal is not None
    assert setting in refusal
    assert "s3cret-pw" not in refusal  # the database password is not printed
    assert demo.CONSENT_FLAG in refusal


def run_demo(tmp_path: Path, *args: str, **env: str) -> Any:
    """`daojiao demo` in this process, as far as its refusal (a start would serve for ever)."""
    return CliRunner().invoke(main, ["demo", *args], env={**embedded(tmp_path), **env})


def test_the_command_refuses_with_a_message_and_exit_code_1(
    tmp_path: Path, demo_app: Callable[..., Flask]
) -> None:
    result = run_demo(tmp_path, DATABASE_URL="postgresql+psycopg://u:p@db.internal:5432/x")
    assert result.exit_code == 1
    assert "DATABASE_URL=db.internal:5432/x is set" in result.output
    assert "--i-know-this-is-not-production" in result.output

    someones_data(demo_app())
    result = run_demo(tmp_path)
    assert result.exit_code == 1
    assert "holds data the demo did not make" in result.output
    with demo_app().app_context():  # nothing was seeded
        assert accounts.find_user("police1") is None


def test_the_consent_flag_is_documented_in_the_help(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--help")
    assert result.exit_code == 0
    assert "--i-know-this-is-not-production" in result.output


@contextlib.contextmanager
def demo_command(directory: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """`daojiao demo` in a process of its own on `directory`'s files; its output goes to a log."""
    env = {
        **{key: val for key, val in os.environ.items() if key not in FOREIGN_SERVICES},
        **embedded(directory),
    }
    log = directory / f"demo-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "demo", *args],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        yield proc, log
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def serves(proc: subprocess.Popen[str], port: int) -> bool:
    """Whether the demo answers within a minute (False if it exited first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            return True
        except requests.ConnectionError:
            time.sleep(0.2)
    return False


@pytest.mark.slow  # the command in processes of its own
def test_the_demo_starts_again_on_its_own_database_and_the_flag_overrides(
    tmp_path: Path, demo_app: Callable[..., Flask]
) -> None:
    for _ in range(2):  # the first run and a re-run on the same files
        port = servers.free_port()
        with demo_command(tmp_path, "--port", str(port)) as (proc, log):
            assert serves(proc, port), log.read_text()
    other = tmp_path / "other"
    other.mkdir()
    someones_data(demo_app(**embedded(other)))
    with demo_command(other) as (proc, log):
        assert proc.wait(timeout=60) == 1, log.read_text()
        assert "holds data the demo did not make" in log.read_text()
    port = servers.free_port()
    with demo_command(other, "--port", str(port), "--i-know-this-is-not-production") as (
        proc,
        log,
    ):
        assert serves(proc, port), log.read_text()
