"""Migrations: one head, models match them, and they run up, down and up again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text

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


def _police_unit_and_cases(connection: Connection, case_ids: list[int]) -> None:
    """A police unit and its cases with these ids, in raw SQL (the schema of a past revision)."""
    connection.execute(
        text(
            "INSERT INTO organizations (id, kind, name, aliases, active, created_at) "
            "VALUES (1, 'police', '某交警大队', '[]', true, '2026-12-05 00:00:00')"
        )
    )
    for case_id in case_ids:
        connection.execute(
            text(
                "INSERT INTO cases (id, number, status, version, reporting_unit_id, "
                "created_at, updated_at) VALUES (:id, :number, 'negotiating', 1, 1, "
                "'2026-12-05 00:00:00', '2026-12-05 00:00:00')"
            ),
            {"id": case_id, "number": f"DJ-{case_id}"},
        )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0017_gives_each_existing_case_the_type_of_its_latest_claims(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = (
        request.getfixturevalue("empty_postgres")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'types.sqlite3'}"
    )
    migrate.upgrade(url, "0016")
    claims = {
        1: [{"items": {"property": {}}}, {"items": {"funeral": {}}}],  # death, by its newest
        2: [{"items": {"medical": {}, "property": {}}}],
        3: [{"items": {"property": {}, "indirect_property": {}}}],
        4: [],
    }
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _police_unit_and_cases(connection, list(claims))
            for case_id, victims_by_claim in claims.items():
                for victim in victims_by_claim:
                    connection.execute(
                        text(
                            "INSERT INTO claims (case_id, data, sha256, created_at) VALUES "
                            "(:case_id, :data, :sha, '2026-12-05 00:00:00')"
                        ),
                        {
                            "case_id": case_id,
                            "data": json.dumps({"victims": [victim]}),
                            "sha": "0" * 64,
                        },
                    )
        migrate.upgrade(url)
        with engine.connect() as connection:
            types = dict(connection.execute(text("SELECT id, case_type FROM cases")).all())
    finally:
        engine.dispose()
    assert types == {1: "death", 2: "injury", 3: "property", 4: None}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0018_writes_each_existing_cases_milestones_from_its_events(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = (
        request.getfixturevalue("empty_postgres")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'milestones.sqlite3'}"
    )
    migrate.upgrade(url, "0017")
    events = [  # (case, action, day of December 2026)
        (1, "case.created", 1),
        (1, "case.confirmed", 2),
        (1, "agreement.signed", 5),
        (1, "confirmation.rejected", 7),
        (1, "agreement.signed", 9),
        (2, "case.created", 3),
        (2, "case.confirmed", 4),
        (2, "mediation.failed", 6),
        (2, "case.viewed", 1),  # not a milestone
    ]
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _police_unit_and_cases(connection, [1, 2, 3])
            for event_id, (case_id, action, day) in enumerate(events, start=1):
                connection.execute(
                    text(
                        "INSERT INTO audit_events (id, occurred_at, action, case_id, details, "
                        "prev_hash, hash) VALUES (:id, :at, :action, :case_id, '{}', :prev, :hash)"
                    ),
                    {
                        "id": event_id,
                        "at": f"2026-12-{day:02d} 02:00:00",
                        "action": action,
                        "case_id": case_id,
                        "prev": "0" * 64,
                        "hash": f"{event_id:064d}",
                    },
                )
        migrate.upgrade(url)
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT case_id, received_at, agreed_at, failed_at, confirmed_at, rejected "
                    "FROM case_milestones ORDER BY case_id"
                )
            ).all()
    finally:
        engine.dispose()
    day = {row[0]: [str(value)[:10] if value else None for value in row[1:5]] for row in rows}
    assert day == {
        1: ["2026-12-02", "2026-12-05", None, None],  # the first signing
        2: ["2026-12-04", None, "2026-12-06", None],
    }
    assert [bool(row[5]) for row in rows] == [True, False]
