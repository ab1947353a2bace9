"""The audit log: hash-chained, append-only, verified by `daojiao audit verify`."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import audit
from app.db import session
from app.models import OrgKind
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
    result = audit.verify_chain()
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
    result = audit.verify_chain()
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
    result = audit.verify_chain()
    assert not result.ok
    assert result.broken_id == target


@pytest.mark.parametrize("position", [0, 2, -1])
def test_deleting_any_event_is_detected(chain: list[int], position: int) -> None:
    target = chain[position]
    raw("DELETE FROM audit_events WHERE id = :id", id=target)
    result = audit.verify_chain()
    assert not result.ok
    assert result.broken_id == target


def test_cli_verify_reports_intact_chain(app: Flask, chain: list[int]) -> None:
    from app.cli import audit_verify

    result = app.test_cli_runner().invoke(audit_verify)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


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
