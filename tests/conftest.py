"""Fixtures: the app on PostgreSQL (one rolled-back transaction per module, a savepoint rolled
back after each test), S3 and Redis; the `slow` marker's rule."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from app import create_app, migrate
from app.db import session
from tests.support import servers
from tests.support.browser import BrowserPage, chromium_page

WorldT = TypeVar("WorldT")

# Tests that need other processes or a browser: left out of the fast set (`-m "not slow"`).
SLOW_FIXTURES = {"committed_app", "browser_page"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark browser tests and tests whose work really commits `slow`, and run the latter first
    in their module, before the module's world exists: its open transaction holds locks
    (the audit chain's head row) that their commits and truncation would wait for."""
    modules: dict[str, int] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], len(modules))
        if item.get_closest_marker("browser") or SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
    items.sort(
        key=lambda item: (
            modules[item.nodeid.split("::")[0]],
            "committed_app" not in item.fixturenames,
        )
    )


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh test database, migrated to head once per run, dropped at the end."""
    servers.recreate_database(servers.PG_URL)
    migrate.upgrade(servers.PG_URL)
    yield servers.PG_URL
    servers.drop_database(servers.PG_URL)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on loopback, for the whole run."""
    with servers.moto_server(tmp_path_factory.mktemp("moto") / "server.log") as endpoint:
        yield endpoint


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of the tests' own, emptied before and after."""
    client = redis.Redis.from_url(servers.REDIS_URL)
    client.flushdb()
    yield servers.REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def app_settings(database_url: str, s3_endpoint: str) -> dict[str, Any]:
    """Settings of the test app: PostgreSQL, the S3 server, in-process jobs."""
    return {
        "DAOJIAO_MODE": "testing",
        "DATABASE_URL": database_url,
        "S3_ENDPOINT": s3_endpoint,
        "S3_ACCESS_KEY": servers.S3_ACCESS_KEY,
        "S3_SECRET_KEY": servers.S3_SECRET_KEY,
        "S3_BUCKET": "daojiao-test",
        "REDIS_URL": None,
        "WTF_CSRF_ENABLED": False,
        "DAOJIAO_JOB_MODULES": ["tests.support.jobs"],
    }


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production.

    Tests hold an app context open to use the session; without this, requests would share
    its `g` (Flask-Login's cached user, the request's database session) with the test body.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def make_app(app_settings: dict[str, Any]) -> Callable[..., Flask]:
    """Build an app with the test settings plus overrides."""

    def build(**overrides: Any) -> Flask:
        flask_app = create_app({**app_settings, **overrides})
        flask_app.test_client_class = IsolatedClient
        return flask_app

    return build


@pytest.fixture(scope="session")
def _session_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    flask_app = make_app()
    yield flask_app
    flask_app.extensions["daojiao.db"].engine.dispose()


@pytest.fixture(scope="module")
def module_connection(_session_app: Flask) -> Iterator[Connection]:
    """The module's connection, in a transaction rolled back after the module's last test."""
    with _session_app.extensions["daojiao.db"].engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture(scope="module")
def build_world(
    _session_app: Flask, module_connection: Connection
) -> Callable[[Callable[[Flask], WorldT]], WorldT]:
    """Build a module's world once: `build(app)` runs in an app context of its own and its
    work is kept, in the module's transaction, for every test of the module."""

    def build(builder: Callable[[Flask], WorldT]) -> WorldT:
        database = _session_app.extensions["daojiao.db"]
        database.bind_to(module_connection)
        try:
            with _session_app.app_context():
                world = builder(_session_app)
                session.commit()
        finally:
            database.bind_to(None)
        return world

    return build


@pytest.fixture
def app(_session_app: Flask, module_connection: Connection) -> Iterator[Flask]:
    """The app, every session of it inside a savepoint of the module's transaction, rolled
    back after the test."""
    database = _session_app.extensions["daojiao.db"]
    savepoint = module_connection.begin_nested()
    database.bind_to(module_connection)
    try:
        with _session_app.app_context():
            yield _session_app
    finally:
        database.bind_to(None)
        savepoint.rollback()


@pytest.fixture
def browser_page() -> Iterator[BrowserPage]:
    """A Chinese-locale Chromium page recording its requests, answers and console errors."""
    with chromium_page() as page:
        yield page


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def truncate_all(flask_app: Flask) -> None:
    """Empty every table of a database that tests committed to (triggers bypassed)."""
    from app.db import Base

    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with flask_app.extensions["daojiao.db"].engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))  # noqa: S608
        connection.execute(
            text(
                "INSERT INTO audit_heads (id, last_id, last_hash, count) VALUES (1, 0, :genesis, 0)"
            ),
            {"genesis": "0" * 64},
        )


@pytest.fixture
def committed_app(make_app: Callable[..., Flask]) -> Iterator[Callable[..., Flask]]:
    """Apps whose work really commits (for other processes to see); emptied afterwards."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        flask_app = make_app(**overrides)
        built.append(flask_app)
        return flask_app

    try:
        yield build
    finally:
        if built:
            truncate_all(built[0])
        for flask_app in built:
            flask_app.extensions["daojiao.db"].engine.dispose()
