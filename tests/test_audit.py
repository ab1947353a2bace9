"""The audit log: hash-chained, append-only, verified by `daojiao audit verify`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from inspect import signature
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app import audit, migrate
from app.db import session
from app.models import AuditCheckpoint, AuditEvent, AuditHead, OrgKind, User
from tests import factories


@pytest.fixture
def chain(app: Flask) -> list[int]:
    """Five committed-in-test events after the organisation and user events."""
    org = factories.make_org(OrgKind.POLICE)
    user = factories.make_user(org)
    ids = [audit.record(f"test.event{n}", actor=user, details={"n": n}).id for n in range(5)]
    session.commit()
    return ids


def raw(statement: str, **params: object) -> None:
    """Run SQL as an attacker with database access would: triggers switched off."""
    session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(text(statement), params)
    session.commit()


def test_intact_chain_verifies(chain: list[int]) -> None:
    result = audit.verify_chain(full=True)
    assert result.ok
    assert result.checked >= len(chain)


def test_events_link_to_their_predecessor(chain: list[int]) -> None:
    events = sorted(audit.recent_events(limit=50), key=lambda event: event.id)
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
        assert after.id == before.id + 1


def test_database_refuses_to_update_or_delete_events(chain: list[int]) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(
            text("UPDATE audit_events SET action = 'x' WHERE id = :id"), {"id": chain[0]}
        )
    session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": chain[0]})
    session.rollback()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "'login'"),
        ("actor", "'someone-else'"),
        ("details", "'{\"n\": 99}'"),
        ("occurred_at", "occurred_at + interval '1 second'"),
        ("case_id", "NULL"),
        ("ip", "'10.0.0.9'"),
    ],
)
def test_altering_any_field_of_an_event_is_detected(
    chain: list[int], column: str, value: str
) -> None:
    target = chain[2]
    raw(f"UPDATE audit_events SET {column} = {value} WHERE id = :id", id=target)  # noqa: S608
    result = audit.verify_chain(full=True)
    if column == "case_id":  # it was NULL already: nothing changed, nothing to detect
        assert result.ok
        return
    assert not result.ok
    assert result.broken_id == target
    assert result.reason == "content altered"


def test_rehashing_an_altered_event_breaks_the_next_link(chain: list[int]) -> None:
    target = chain[1]
    raw(
        "UPDATE audit_events SET action = 'forged', hash = :fake WHERE id = :id",
        fake="f" * 64,
        id=target,
    )
    result = audit.verify_chain(full=True)
    assert not result.ok
    assert result.broken_id == target


@pytest.mark.parametrize("position", [0, 2, -1])
def test_deleting_any_event_is_detected(chain: list[int], position: int) -> None:
    target = chain[position]
    raw("DELETE FROM audit_events WHERE id = :id", id=target)
    result = audit.verify_chain(full=True)
    assert not result.ok
    assert result.broken_id == target


def test_cli_verify_reports_intact_chain(app: Flask, chain: list[int]) -> None:
    from app.cli import audit_verify

    result = app.test_cli_runner().invoke(audit_verify)
    assert result.exit_code == 0, result.output
    head = session.get(AuditHead, 1)
    assert result.output == f"audit chain intact: {head.count} events\n"  # the contract


def test_cli_verify_exits_1_and_names_the_broken_event(app: Flask, chain: list[int]) -> None:
    from app.cli import audit_verify

    raw("UPDATE audit_events SET details = '{}' WHERE id = :id", id=chain[3])
    result = app.test_cli_runner().invoke(audit_verify)
    assert result.exit_code == 1
    assert f"event {chain[3]}" in result.output


def test_failed_login_is_audited(client, app: Flask) -> None:  # type: ignore[no-untyped-def]
    org = factories.make_org(OrgKind.POLICE)
    user = factories.make_user(org)
    client.post("/login", data={"username": user.username, "password": "wrong-password!"})
    actions = [event.action for event in audit.recent_events(limit=5)]
    assert "login.failed" in actions


# -- checkpoints, and the checks that start from them ------------------------------------


# What an event's hash covers: the forger recomputes it from these.
HASHED = tuple(signature(audit.event_hash).parameters)


@dataclass
class Cases:
    """Two cases with events of their own, interleaved with events of no case."""

    user: User
    mine: int
    other: int

    def add(self, case_id: int | None, n: int = 1) -> list[int]:
        ids = [
            audit.record("test.step", actor=self.user, case_id=case_id, details={"n": i}).id
            for i in range(n)
        ]
        session.commit()
        return ids


@pytest.fixture
def cases(app: Flask) -> Cases:
    police = factories.make_org(OrgKind.POLICE)
    world = Cases(
        factories.make_user(police),
        factories.make_case(police=police).id,
        factories.make_case(police=police).id,
    )
    for case_id in (world.mine, None, world.other, None) * 3:
        world.add(case_id)
    return world


def latest() -> AuditCheckpoint:
    checkpoint = audit.latest_checkpoint()
    assert checkpoint is not None
    return checkpoint


def event_ids(case_id: int) -> list[int]:
    return list(
        session.scalars(
            select(AuditEvent.id).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)
        )
    )


def test_a_full_verification_records_a_checkpoint_at_the_head(cases: Cases) -> None:
    result = audit.verify_chain(full=True)

    head = session.get(AuditHead, 1)
    checkpoint = latest()
    assert result.ok
    assert result.checked == head.count
    assert (checkpoint.last_id, checkpoint.last_hash) == (head.last_id, head.last_hash)
    assert checkpoint.count == head.count
    assert checkpoint.verified_at.tzinfo is not None


def test_the_incremental_check_starts_at_the_checkpoint_and_advances_it(cases: Cases) -> None:
    audit.verify_chain(full=True)
    first = latest()
    added = cases.add(cases.mine, 3)

    result = audit.verify_chain()

    assert result.ok
    assert result.checked == 3
    assert (result.since_id, result.since_at) == (first.last_id, first.verified_at)
    advanced = latest()
    assert advanced.id > first.id
    assert (advanced.last_id, advanced.count) == (added[-1], first.count + 3)
    again = audit.verify_chain()  # nothing new: checked, and no checkpoint added
    assert (again.ok, again.checked) == (True, 0)
    assert latest().id == advanced.id


def test_checkpoints_cannot_be_changed(cases: Cases) -> None:
    audit.verify_chain(full=True)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("UPDATE audit_checkpoints SET last_id = 1"))
    session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("DELETE FROM audit_checkpoints"))
    session.rollback()


def test_tampering_before_the_checkpoint_is_left_to_the_full_verification(
    app: Flask, cases: Cases
) -> None:
    from app.cli import audit_verify

    audit.verify_chain(full=True)
    # Another case's event, away from every event of `mine`.
    target = event_ids(cases.other)[1]
    raw("UPDATE audit_events SET details = '{}' WHERE id = :id", id=target)

    assert audit.verify_chain().ok
    assert audit.verify_case_events(cases.mine).ok
    caught = audit.verify_case_events(cases.other)
    assert (caught.ok, caught.broken_id, caught.reason) == (False, target, audit.ALTERED)
    full = audit.verify_chain(full=True)
    assert (full.ok, full.broken_id) == (False, target)
    printed = app.test_cli_runner().invoke(audit_verify)
    assert printed.exit_code == 1
    assert f"event {target}: content altered" in printed.output


def test_workers_move_the_checkpoint_on_in_batches_and_log_a_break(
    app: Flask, cases: Cases, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from workers import tasks

    audit.verify_chain(full=True)
    added = cases.add(cases.mine, 3)
    monkeypatch.setattr(tasks, "AUDIT_VERIFY_BATCH", 2)

    first = tasks.advance_audit_checkpoint(app)
    assert (first.ok, first.checked, first.remaining) == (True, 2, 1)
    assert latest().last_id == added[1]
    second = tasks.advance_audit_checkpoint(app)
    assert (second.ok, second.checked, second.remaining) == (True, 1, 0)
    assert latest().last_id == added[2]

    more = cases.add(cases.mine, 1)
    raw("UPDATE audit_events SET details = '{}' WHERE id = :id", id=more[0])
    broken = tasks.advance_audit_checkpoint(app)
    assert (broken.ok, broken.broken_id) == (False, more[0])
    assert f"audit chain broken at event {more[0]}" in caplog.text
    assert latest().last_id == added[2]  # no checkpoint past a break


@pytest.mark.parametrize("rehash", [False, True])
def test_the_checkpoints_own_event_is_rechecked(cases: Cases, rehash: bool) -> None:
    audit.verify_chain(full=True)
    cases.add(None, 2)
    checkpoint = latest()
    hash_ = "f" * 64 if rehash else None
    raw(
        "UPDATE audit_events SET action = 'forged', hash = coalesce(:hash, hash) WHERE id = :id",
        hash=hash_,
        id=checkpoint.last_id,
    )

    result = audit.verify_chain()

    assert not result.ok
    assert result.broken_id == checkpoint.last_id
    # A forged hash recomputes wrongly too: an edit shows as such first.
    assert result.reason == audit.ALTERED


def test_a_rehashed_checkpoint_event_no_longer_matches_the_checkpoint(cases: Cases) -> None:
    audit.verify_chain(full=True)
    checkpoint = latest()
    row = session.get(AuditEvent, checkpoint.last_id)
    forged = {name: getattr(row, name) for name in HASHED} | {"action": "forged"}
    raw(
        "UPDATE audit_events SET action = 'forged', hash = :hash WHERE id = :id",
        hash=audit.event_hash(**forged),
        id=checkpoint.last_id,
    )

    result = audit.verify_chain()

    assert (result.ok, result.broken_id) == (False, checkpoint.last_id)
    assert result.reason == audit.NOT_CHECKPOINTED


@pytest.mark.parametrize("position", [0, 2, -1])
def test_a_deleted_event_after_the_checkpoint_is_reported(cases: Cases, position: int) -> None:
    audit.verify_chain(full=True)
    target = cases.add(None, 4)[position]
    raw("DELETE FROM audit_events WHERE id = :id", id=target)

    result = audit.verify_chain()

    assert (result.ok, result.broken_id) == (False, target)
    assert latest().last_id < target  # no checkpoint past a break


def test_an_altered_event_after_the_checkpoint_is_reported(cases: Cases) -> None:
    audit.verify_chain(full=True)
    target = cases.add(None, 3)[-1]
    raw("UPDATE audit_events SET details = '{}' WHERE id = :id", id=target)

    result = audit.verify_chain()

    assert (result.ok, result.broken_id, result.reason) == (False, target, audit.ALTERED)


def test_a_bounded_check_advances_by_its_limit_and_still_checks_the_head(cases: Cases) -> None:
    audit.verify_chain(full=True)
    start = latest()
    added = cases.add(None, 5)

    result = audit.verify_chain(limit=2)

    assert (result.ok, result.checked, result.remaining) == (True, 2, 3)
    assert latest().last_id == added[1]
    raw("DELETE FROM audit_events WHERE id = :id", id=added[-1])
    truncated = audit.verify_chain(limit=1)
    assert (truncated.ok, truncated.broken_id) == (False, added[-1])
    assert start.last_id < latest().last_id == added[1]


@pytest.mark.parametrize("which", ["own", "predecessor"])
def test_the_case_check_catches_edits_before_the_checkpoint(cases: Cases, which: str) -> None:
    audit.verify_chain(full=True)
    own = event_ids(cases.mine)[1]
    target = own if which == "own" else own - 1
    raw("UPDATE audit_events SET details = '{\"n\": 7}' WHERE id = :id", id=target)

    assert audit.verify_chain().ok  # before the checkpoint: not the incremental check's to see
    result = audit.verify_case_events(cases.mine)

    assert (result.ok, result.broken_id, result.reason) == (False, target, audit.ALTERED)
    assert result.checked == len(event_ids(cases.mine))


def test_the_case_check_catches_a_rehashed_event_by_its_successors_link(cases: Cases) -> None:
    target = event_ids(cases.mine)[0]
    row = session.get(AuditEvent, target)
    forged = {name: getattr(row, name) for name in HASHED} | {"details": {}}
    raw(
        "UPDATE audit_events SET details = '{}', hash = :hash WHERE id = :id",
        hash=audit.event_hash(**forged),
        id=target,
    )

    result = audit.verify_case_events(cases.mine)

    assert (result.ok, result.broken_id, result.reason) == (False, target + 1, audit.LINK_BROKEN)


def test_the_case_check_reports_a_deleted_neighbour(cases: Cases) -> None:
    target = event_ids(cases.mine)[1] - 1
    raw("DELETE FROM audit_events WHERE id = :id", id=target)

    result = audit.verify_case_events(cases.mine)

    assert (result.ok, result.broken_id, result.reason) == (False, target, audit.MISSING)


def test_cli_verify_since_checkpoint(app: Flask, cases: Cases) -> None:
    from app.cli import audit_verify

    runner = app.test_cli_runner()
    assert runner.invoke(audit_verify).exit_code == 0
    checkpoint = latest()
    cases.add(None, 2)

    result = runner.invoke(audit_verify, ["--since-checkpoint"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"audit chain intact: 2 events since the checkpoint at event {checkpoint.last_id} "
    )
    assert latest().last_id == checkpoint.last_id + 2
    raw("DELETE FROM audit_events WHERE id = :id", id=latest().last_id)
    broken = runner.invoke(audit_verify, ["--since-checkpoint"])
    assert broken.exit_code == 1
    assert f"event {checkpoint.last_id + 2}" in broken.output


def test_checkpoints_work_on_sqlite(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    migrate.upgrade(url)
    lite = make_app(DATABASE_URL=url)
    try:
        with lite.app_context():
            user = factories.make_user(factories.make_org(OrgKind.POLICE))
            ids = [audit.record("test.lite", actor=user).id for _ in range(4)]
            session.commit()
            assert audit.verify_chain(full=True).ok
            ids += [audit.record("test.lite", actor=user).id for _ in range(2)]
            session.commit()
            result = audit.verify_chain()
            assert (result.ok, result.checked, result.since_id) == (True, 2, ids[3])
            assert latest().last_id == ids[-1]
            session.execute(text("DROP TRIGGER audit_events_no_update"))
            session.execute(
                text("UPDATE audit_events SET action = 'x' WHERE id = :id"), {"id": ids[1]}
            )
            session.commit()
            assert audit.verify_chain().ok
            assert audit.verify_chain(full=True).broken_id == ids[1]
    finally:
        lite.extensions["daojiao.db"].engine.dispose()


def test_concurrent_writers_on_the_embedded_database_append_one_chain(
    tmp_path: Path, make_app: Callable[..., Flask]
) -> None:
    """The demo's SQLite ignores FOR UPDATE: requests side by side (a page and its PDF, each
    logging a read) read the same head and appended the same event id until the head was
    locked by a write first."""
    url = f"sqlite:///{tmp_path / 'chain.sqlite3'}"
    migrate.upgrade(url)
    demo_app = make_app(DATABASE_URL=url, OBJECT_STORE_PATH=str(tmp_path / "objects"))
    failures: list[BaseException] = []

    def append() -> None:
        with demo_app.app_context():
            for _ in range(15):
                try:
                    audit.record_now("test.concurrent", actor_id=None)
                except Exception as exc:  # noqa: BLE001 - every failure is what the test counts
                    failures.append(exc)

    writers = [threading.Thread(target=append) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert failures == []
    with demo_app.app_context():
        result = audit.verify_chain()
        assert (result.ok, result.checked) == (True, 60)
