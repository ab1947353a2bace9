"""Evidence and generated documents: bytes live in the object store, facts here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.accounts import User


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # report | photo | medical_bill | appraisal | page_image | agreement | ruling | other
    kind: Mapped[str] = mapped_column(String(30))
    object_key: Mapped[str] = mapped_column(String(200), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    # The uploader's file name, kept as data only; never part of the object key.
    filename: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(200))
    # What a bill or receipt says was paid, as the mediator read it when attaching the file.
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # Derived files (a rendered page of a PDF) point at their source and say which page.
    version_of_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    page: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    created_by: Mapped[User | None] = relationship(lazy="joined")
