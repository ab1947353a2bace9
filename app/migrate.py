"""Alembic, driven from the app: `daojiao db upgrade` and the tests use these."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The revision that made `case_tasks`, which the app's rules fill (app/case_index.py).
CASE_TASKS_REVISION = "0012"


def alembic_config(url: str) -> Config:
    """An Alembic config for the database at `url` using our migrations folder."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Undo migrations down to `revision` ("base" for an empty database)."""
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None if never migrated."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def crossed(before: str | None, after: str | None, revision: str) -> bool:
    """True if an upgrade from `before` to `after` applied `revision` to a database that had
    data (`before` None: an empty one). Our revision ids are numbers in order."""
    return before is not None and after is not None and before < revision <= after


def head_revisions() -> tuple[str, ...]:
    """The head revision(s) of the migration scripts (there must be exactly one)."""
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
