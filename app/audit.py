"""Append to and verify the hash-chained audit log (DESIGN.md §4)."""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from app import milestones
from app.db import get_db, session, utcnow
from app.models import AuditCheckpoint, AuditEvent, AuditHead, User
from app.services import notifications

GENESIS = "0" * 64

# Where the current request or command comes from ("203.0.113.5", "cli", "worker"); set by
# the HTTP layer and the CLI so that services never read the request themselves.
origin: ContextVar[str | None] = ContextVar("audit_origin", default=None)


def event_hash(
    *,
    id: int,  # noqa: A002 - the column's name
    occurred_at: datetime,
    actor_id: int | None,
    actor: str | None,
    org_id: int | None,
    action: str,
    case_id: int | None,
    subject: str | None,
    ip: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 over the canonical JSON of every field of an event and its predecessor's hash."""
    payload = {
        "id": id,
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor,
        "org_id": org_id,
        "action": action,
        "case_id": case_id,
        "subject": subject,
        "ip": ip,
        "details": details,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_head(db_session: Session) -> AuditHead:
    if db_session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE, and its driver begins a transaction only at the first
        # write: two requests would read the same head and append the same event id. A no-op
        # write first takes the database's write lock (waiting for another writer's commit),
        # so the head read next is the latest and stays so until this transaction ends.
        db_session.execute(
            update(AuditHead).where(AuditHead.id == 1).values(last_id=AuditHead.last_id)
        )
    head = db_session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS, count=0)
        db_session.add(head)
        db_session.flush()
    return head


def record(
    action: str,
    *,
    actor: User | None,
    case_id: int | None = None,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
    db_session: Session | None = None,
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Append one event in the caller's unit of work; it commits (or not) with the change.

    `occurred_at` (default now) is for generated history only (the demo's past year,
    app/demo_history.py): the event is appended to the chain like any other, its time is the
    story's, so events in the chain's order may go back in time."""
    db_session = db_session or session
    head = _lock_head(db_session)
    # Stored timestamps keep microseconds on every backend, so the hash recomputes exactly.
    fields: dict[str, Any] = {
        "id": head.last_id + 1,
        # In UTC, as the database gives it back, or the hash would not recompute.
        "occurred_at": occurred_at.astimezone(UTC) if occurred_at else utcnow(),
        "actor_id": actor.id if actor else None,
        "actor": actor.username if actor else None,
        "org_id": actor.org_id if actor else None,
        "action": action,
        "case_id": case_id,
        "subject": subject,
        "ip": origin.get(),
        "details": json.loads(json.dumps(details or {}, ensure_ascii=False, default=str)),
        "prev_hash": head.last_hash,
    }
    event = AuditEvent(**fields, hash=event_hash(**fields))
    db_session.add(event)
    head.last_id = event.id
    head.last_hash = event.hash
    head.count += 1
    if case_id is not None:
        milestones.stamp(db_session, action, case_id, fields["occurred_at"])
    if actor is not None and case_id is not None and db_session is session and not occurred_at:
        # The organisation acted on the case: its messages about the case are dealt with (an
        # event of generated history is no new act: it clears nothing).
        notifications.clear_for_org(db_session, org_id=actor.org_id, case_id=case_id)
    db_session.flush()
    return event


def record_now(action: str, *, actor_id: int | None, **kwargs: Any) -> None:
    """Append one event in its own transaction: kept even when the request's work rolls back."""
    own = get_db().new_session()
    try:
        actor = own.get(User, actor_id) if actor_id is not None else None
        record(action, actor=actor, db_session=own, **kwargs)
        own.commit()
    finally:
        own.close()


def recent_events(*, limit: int = 200, case_id: int | None = None) -> list[AuditEvent]:
    """The latest events, newest first, optionally of one case."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    return list(session.scalars(query))


# Why an event does not fit; the workbench translates them, the CLI prints them as they are.
MISSING = "event missing (deleted)"
LINK_BROKEN = "link to the previous event broken"
ALTERED = "content altered"
TRUNCATED = "latest events missing (truncated)"
NOT_CHECKPOINTED = "event no longer matches the checkpoint"
NOT_HEAD = "event does not match the chain's head"
OUTSIDE = "event outside the chain (beyond its head)"

# What an event's hash is computed over, in `event_hash`'s keyword names (and the columns'):
# verification reads them as plain rows (no ORM objects), because it reads millions.
HASHED_FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor",
    "org_id",
    "action",
    "case_id",
    "subject",
    "ip",
    "details",
    "prev_hash",
)
_COLUMNS = tuple(getattr(AuditEvent, name) for name in (*HASHED_FIELDS, "hash"))


@dataclass(frozen=True)
class Verification:
    """What a check found: how many events fit, and the first one that does not and why."""

    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None
    # The checkpoint the check resumed from: its last event and when it was verified (0 and
    # None: from the first event).
    since_id: int = 0
    since_at: datetime | None = None
    # Events after the last one checked, left to the scheduled verification (`limit`).
    remaining: int = 0


@dataclass(frozen=True)
class _Head:
    """The head row's values, read once at the start of a check."""

    last_id: int
    last_hash: str
    count: int


def _recompute(row: Row[Any]) -> str:
    return event_hash(**{name: getattr(row, name) for name in HASHED_FIELDS})


def _read_head(db_session: Session) -> _Head:
    head = db_session.get(AuditHead, 1)
    return _Head(head.last_id, head.last_hash, head.count) if head else _Head(0, GENESIS, 0)


def _event_row(db_session: Session, event_id: int) -> Row[Any] | None:
    return db_session.execute(select(*_COLUMNS).where(AuditEvent.id == event_id)).one_or_none()


def latest_checkpoint(db_session: Session | None = None) -> AuditCheckpoint | None:
    """The latest point up to which a verification found the chain intact."""
    return (
        (db_session or session)
        .scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))
        .first()
    )


def verify_chain(
    *, full: bool = False, limit: int | None = None, batch: int = 2000
) -> Verification:
    """Recompute every event's hash and link, from the first event (`full`) or from the latest
    checkpoint (its event re-checked first), to the head or at most `limit` events; name the
    first event that does not fit, or record a checkpoint at the last event verified."""
    own = get_db().new_session()
    try:
        result, checkpoint = _verify(own, full=full, limit=limit, batch=batch)
        if checkpoint is not None:
            own.add(checkpoint)
            own.commit()
        return result
    finally:
        own.close()


def _verify(
    db_session: Session, *, full: bool, limit: int | None, batch: int
) -> tuple[Verification, AuditCheckpoint | None]:
    # The highest id before the head: a committed event always has its head committed with it,
    # so an event above the head read afterwards was put there by someone else.
    top = db_session.scalar(select(func.max(AuditEvent.id))) or 0
    head = _read_head(db_session)
    start = None if full else latest_checkpoint(db_session)
    since_id, since_at = (start.last_id, start.verified_at) if start else (0, None)
    if start is not None:
        broken = _recheck_checkpoint(db_session, start, head)
        if broken is not None:
            return Verification(False, 0, *broken, since_id, since_at), None
    stop = head.last_id if limit is None else min(head.last_id, since_id + limit)
    checked, last_id, last_hash, broken = _walk(
        db_session,
        after_id=since_id,
        prev_hash=start.last_hash if start else GENESIS,
        stop_id=stop,
        batch=batch,
    )
    if broken is None and last_id < stop:
        broken = (last_id + 1, TRUNCATED if stop == head.last_id else MISSING)
    if broken is None and stop == head.last_id:
        if last_hash != head.last_hash:
            broken = (head.last_id, NOT_HEAD)
        elif (start.count if start else 0) + checked != head.count:
            broken = (head.last_id + 1, TRUNCATED)
    if broken is None and stop < head.last_id:
        # The rest waits for the scheduled verification; the head's own event is checked now,
        # so a removed or rewritten tail shows at once.
        broken = _recheck_event(db_session, head.last_id, head.last_hash, NOT_HEAD)
    if broken is None and top > head.last_id:
        broken = (head.last_id + 1, OUTSIDE)
    if broken is not None:
        return Verification(False, checked, *broken, since_id, since_at), None
    result = Verification(True, checked, None, None, since_id, since_at, head.last_id - last_id)
    if last_id == 0 or (last_id == since_id and not full):
        return result, None
    count = (start.count if start else 0) + checked
    return result, AuditCheckpoint(last_id=last_id, last_hash=last_hash, count=count)


def _recheck_checkpoint(
    db_session: Session, checkpoint: AuditCheckpoint, head: _Head
) -> tuple[int, str] | None:
    """The checkpoint's event must still be there, unchanged, with the checkpoint's hash."""
    if checkpoint.last_id > head.last_id:
        return head.last_id + 1, TRUNCATED
    return _recheck_event(db_session, checkpoint.last_id, checkpoint.last_hash, NOT_CHECKPOINTED)


def _recheck_event(
    db_session: Session, event_id: int, expected_hash: str, mismatch: str
) -> tuple[int, str] | None:
    row = _event_row(db_session, event_id)
    if row is None:
        return event_id, MISSING
    if _recompute(row) != row.hash:
        return event_id, ALTERED
    if row.hash != expected_hash:
        return event_id, mismatch
    return None


def _walk(
    db_session: Session, *, after_id: int, prev_hash: str, stop_id: int, batch: int
) -> tuple[int, int, str, tuple[int, str] | None]:
    """Check the events after `after_id` up to `stop_id`, in batches: how many fit, the last
    one that did (its id and hash), and the first that does not."""
    expected_id, checked = after_id + 1, 0
    while expected_id <= stop_id:
        rows = db_session.execute(
            select(*_COLUMNS)
            .where(AuditEvent.id >= expected_id, AuditEvent.id <= stop_id)
            .order_by(AuditEvent.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.id != expected_id:
                return checked, expected_id - 1, prev_hash, (expected_id, MISSING)
            if row.prev_hash != prev_hash:
                return checked, expected_id - 1, prev_hash, (row.id, LINK_BROKEN)
            if _recompute(row) != row.hash:
                return checked, expected_id - 1, prev_hash, (row.id, ALTERED)
            prev_hash, expected_id, checked = row.hash, row.id + 1, checked + 1
    return checked, expected_id - 1, prev_hash, None


def verify_case_events(case_id: int) -> Verification:
    """Recompute every event of one case and check its links to the events either side, read
    by primary key: an edit of the case's events or of their neighbours shows, whatever the
    checkpoint says. A deleted event of the case is left to the chain's verification."""
    own = get_db().new_session()
    try:
        return _verify_case_events(own, case_id)
    finally:
        own.close()


def _verify_case_events(db_session: Session, case_id: int) -> Verification:
    head = _read_head(db_session)
    rows = {
        row.id: row
        for row in db_session.execute(
            select(*_COLUMNS).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)
        )
    }
    own_ids = sorted(rows)
    neighbours = {n for i in own_ids for n in (i - 1, i + 1) if 0 < n <= head.last_id} - set(rows)
    if neighbours:
        rows.update(
            (row.id, row)
            for row in db_session.execute(select(*_COLUMNS).where(AuditEvent.id.in_(neighbours)))
        )
    broken: list[tuple[int, str]] = []
    for event_id in own_ids:
        broken.extend(_case_event_faults(rows, event_id, head))
    if broken:
        broken_id, reason = min(broken)
        return Verification(False, len(own_ids), broken_id, reason)
    return Verification(True, len(own_ids))


def _case_event_faults(
    rows: dict[int, Row[Any]], event_id: int, head: _Head
) -> list[tuple[int, str]]:
    """What does not fit around one event: itself, its predecessor, its successor."""
    event = rows[event_id]
    faults = []
    if _recompute(event) != event.hash:
        faults.append((event_id, ALTERED))
    before = rows.get(event_id - 1)
    if event_id == 1:
        if event.prev_hash != GENESIS:
            faults.append((event_id, LINK_BROKEN))
    elif before is None:
        faults.append((event_id - 1, MISSING))
    elif _recompute(before) != before.hash:
        faults.append((before.id, ALTERED))
    elif event.prev_hash != before.hash:
        faults.append((event_id, LINK_BROKEN))
    after = rows.get(event_id + 1)
    if event_id > head.last_id:
        faults.append((event_id, OUTSIDE))
    elif event_id == head.last_id:
        if event.hash != head.last_hash:
            faults.append((event_id, NOT_HEAD))
    elif after is None:
        faults.append((event_id + 1, MISSING))
    elif after.prev_hash != event.hash:
        faults.append((after.id, LINK_BROKEN))
    elif _recompute(after) != after.hash:
        faults.append((after.id, ALTERED))
    return faults
