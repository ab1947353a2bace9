"""The engine, the declarative base, the session of the current request or job, and the
request's unit of work: a view's changes commit once when it succeeds and roll back otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

from app.portable_sql import register_sqlite_functions

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone-aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


# Seconds to wait for PostgreSQL to accept a new connection; a healthy server takes
# milliseconds, one that is restarting refuses at once.
CONNECT_TIMEOUT_SECONDS = 5


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    register_sqlite_functions(dbapi_connection)


class Database:
    """Owns the engine and makes sessions; tests may bind it to one outer connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine: Engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            # The app's queries are short: PostgreSQL's JIT compiles them for longer than they run.
            # A pooled connection is tested before each use (pre-ping), so those a restart of
            # PostgreSQL broke are replaced, not handed to a request; a server that never
            # answers fails the connection after CONNECT_TIMEOUT_SECONDS (a 503), not a hang.
            self.engine = create_engine(
                url,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=10,
                connect_args={"options": "-c jit=off", "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            )
        self.factory = sessionmaker(bind=self.engine, expire_on_commit=False)

    def bind_to(self, connection: Connection | None) -> None:
        """Make every new session join `connection`'s transaction (tests roll it back)."""
        if connection is None:
            self.factory.configure(bind=self.engine, join_transaction_mode="conservative_savepoint")
        else:
            self.factory.configure(bind=connection, join_transaction_mode="create_savepoint")

    def new_session(self) -> Session:
        """A fresh session, for work that must not share the caller's unit of work."""
        return self.factory()

    def after_fork(self) -> None:
        """Drop pooled connections inherited from a parent process (they belong to it)."""
        self.engine.dispose(close=False)


def init_app(app: Flask) -> Database:
    """Create the app's database and close the context's session at teardown."""
    database = Database(app.config["DATABASE_URL"])
    app.extensions["daojiao.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session_ = g.pop("db_session", None)
        if session_ is not None:
            session_.close()

    return database


def get_db() -> Database:
    """The current app's database."""
    return current_app.extensions["daojiao.db"]


def _current_session() -> Session:
    if "db_session" not in g:
        g.db_session = get_db().new_session()
    return g.db_session


session: Session = LocalProxy(_current_session)


@dataclass(frozen=True)
class AfterCommit:
    """A view's answer built only once its work has committed.

    Without Redis, jobs run in-process right after the commit; an answer built here shows
    what they did (the parsed letter, the new assessment) instead of a queued job.
    """

    build: Callable[[], ResponseReturnValue]


def keep_on_error() -> None:
    """Commit this request's work although it answers with an error (failed logins count)."""
    g.db_keep_on_error = True


def run_unit_of_work(view: Callable[[], ResponseReturnValue]) -> Response:
    """Run a view and commit its work once if it answers below 400, else roll it back.

    Exceptions propagate to the error handlers, which roll back. A commit that fails (a stale
    version, a broken constraint) drops the messages the view flashed for its success.
    """
    flashed = len(cookie_session.get("_flashes", ()))
    result = view()
    if isinstance(result, AfterCommit):
        _commit(flashed)
        session.expire_all()  # reload what in-process jobs changed after the commit
        return current_app.make_response(result.build())
    response = current_app.make_response(result)
    work: Session | None = g.get("db_session")
    if work is not None and response.status_code >= 400 and not g.pop("db_keep_on_error", False):
        work.rollback()
    else:
        _commit(flashed)
    return response


def _commit(flashed: int) -> None:
    work: Session | None = g.get("db_session")
    if work is None:
        return
    try:
        work.commit()
    except Exception:
        if "_flashes" in cookie_session:
            cookie_session["_flashes"] = cookie_session["_flashes"][:flashed]
        raise
