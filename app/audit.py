"""Append to and verify the hash-chained audit log (DESIGN.md §4)."""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_db, session, utcnow
from app.models import AuditEvent, AuditHead, User
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
) -> AuditEvent:
    """Append one event in the caller's unit of work; it commits (or not) with the change."""
    db_session = db_session or session
    head = _lock_head(db_session)
    # Stored timestamps keep microseconds on every backend, so the hash recomputes exactly.
    fields: dict[str, Any] = {
        "id": head.last_id + 1,
        "occurred_at": utcnow(),
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
    if actor is not None and case_id is not None and db_session is session:
        # The organisation acted on the case: its messages about the case are dealt with.
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


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None


def verify_chain(*, batch: int = 2000) -> Verification:
    """Recompute every event's hash and link; name the first event that does not fit."""
    own = get_db().new_session()
    try:
        return _verify(own, batch)
    finally:
        own.close()


def _verify(db_session: Session, batch: int) -> Verification:
    expected_id, prev_hash, checked = 1, GENESIS, 0
    last_id = 0
    while True:
        events = db_session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not events:
            break
        for event in events:
            if event.id != expected_id:
                return Verification(False, checked, expected_id, "event missing (deleted)")
            if event.prev_hash != prev_hash:
                return Verification(False, checked, event.id, "link to the previous event broken")
            recomputed = event_hash(
                id=event.id,
                occurred_at=event.occurred_at,
                actor_id=event.actor_id,
                actor=event.actor,
                org_id=event.org_id,
                action=event.action,
                case_id=event.case_id,
                subject=event.subject,
                ip=event.ip,
                details=event.details,
                prev_hash=event.prev_hash,
            )
            if recomputed != event.hash:
                return Verification(False, checked, event.id, "content altered")
            prev_hash, expected_id, checked = event.hash, event.id + 1, checked + 1
        last_id = events[-1].id
        db_session.expunge_all()
    head = db_session.get(AuditHead, 1)
    head_id, head_hash, head_count = (
        (head.last_id, head.last_hash, head.count) if head else (0, GENESIS, 0)
    )
    if head_id != expected_id - 1 or head_hash != prev_hash or head_count != checked:
        return Verification(False, checked, expected_id, "latest events missing (truncated)")
    return Verification(True, checked)
