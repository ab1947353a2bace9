"""A late-payment referral (监管提示函) the platform sent to an insurance regulator (issue 16)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Referral(Base):
    """One letter: which insurer's late payments, from whom, to which regulator; its PDF is in
    the object store under `referrals/` and `sha256` is the digest of its canonical data."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    issuer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    issuer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    regulator_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    insurer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # [{"deadline_id", "case_id", "case_number", "payer", "amount", "due", "days_late", "paid"}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(300))
    # The PDF's own digest: the store checks it on every read.
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
