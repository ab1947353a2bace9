"""Migrations: one head, models match them, and they run up, down and up again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

import app.models  # noqa: F401 - registers every table
from app import migrate
from app.db import Base
from tests.support import servers


def test_there_is_exactly_one_head() -> None:
    assert len(migrate.head_revisions()) == 1


def test_models_match_the_migrations(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    url = servers.sibling_database(servers.PG_URL, "updown")
    servers.recreate_database(url)
    yield url
    servers.drop_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.mark.slow  # runs every migration three times
@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_upgrade_downgrade_upgrade_on_an_empty_database(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = (
        request.getfixturevalue("empty_postgres")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'updown.sqlite3'}"
    )
    expected = set(Base.metadata.tables)
    migrate.upgrade(url)
    assert _tables(url) == expected
    migrate.downgrade(url, "base")
    assert _tables(url) == set()
    migrate.upgrade(url)
    assert _tables(url) == expected
    assert migrate.current_revision(url) == migrate.head_revisions()[0]
