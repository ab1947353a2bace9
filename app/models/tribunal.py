"""Judicial confirmation (司法确认) by the road-traffic tribunal, and its ruling numbers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.models.accounts import _enum


class ConfirmationStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Confirmation(Base):
    """One application for judicial confirmation of a signed agreement, and its decision."""

    __tablename__ = "confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    tribunal_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    status: Mapped[ConfirmationStatus] = mapped_column(
        _enum(ConfirmationStatus, "confirmation_status"), default=ConfirmationStatus.REQUESTED
    )
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extension_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 民诉解释 art. 358 grounds of a rejection, and where the case goes next.
    grounds: Mapped[list[str] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(20))
    ruling_number: Mapped[str | None] = mapped_column(String(60), unique=True)
    ruling_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class RulingSequence(Base):
    """The last ruling number a tribunal gave in a year (numbers restart every year)."""

    __tablename__ = "ruling_sequences"
    __table_args__ = (UniqueConstraint("tribunal_org_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tribunal_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    year: Mapped[int]
    last: Mapped[int] = mapped_column(default=0)
