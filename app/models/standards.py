"""Yearly compensation standards edited by admins: they replace the packaged figures of a year."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class StandardSetRecord(Base):
    """One jurisdiction's figures of one statistical year as an admin saved them.

    The shape follows `app.compensation.catalog.StandardSet`: amounts are decimal strings
    keyed by figure name, each with its source text.
    """

    __tablename__ = "standard_sets"
    __table_args__ = (UniqueConstraint("jurisdiction", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    figures: Mapped[dict[str, str]] = mapped_column(JSON)
    industry_wages: Mapped[dict[str, str]] = mapped_column(JSON)
    sources: Mapped[dict[str, str]] = mapped_column(JSON)
    published_on: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # Two admins saving the same year at once: the later save is refused (409), never lost.
    __mapper_args__ = {"version_id_col": version}
