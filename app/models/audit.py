"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    # The oversight figures (app/stats.py): a period's received cases, and their transitions'
    # times, each read from an index alone (migration 0015).
    __table_args__ = (
        Index("ix_audit_events_action_occurred_case", "action", "occurred_at", "case_id"),
        Index("ix_audit_events_case_action_occurred", "case_id", "action", "occurred_at"),
    )

    # Ids are given by the appender (head.last_id + 1) so that they are part of the hash.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A snapshot of who acted, so the record reads the same after renames.
    actor: Mapped[str | None] = mapped_column(String(64))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    subject: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row: the last event's id and hash. Appending locks it, so the chain never forks."""

    __tablename__ = "audit_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditCheckpoint(Base):
    """A point up to which a verification found the chain intact; only ever added."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The last event verified, its hash, and how many events the chain had up to it.
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
