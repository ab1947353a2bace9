"""Settling a case: insurers' claim data, offers, mediation sessions, the settlement agreement
and payments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.models.accounts import _enum


class InsurerClaim(Base):
    """What an insurer's adjuster records for a case: policy numbers, a commercial limit the
    report did not state, exclusions that apply (with reason) and amounts already advanced."""

    __tablename__ = "insurer_claims"
    __table_args__ = (UniqueConstraint("case_id", "insurer_org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    insurer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # party label → {"ctpi_policy_no", "commercial_policy_no", "commercial_limit",
    #                "commercial_excluded", "exclusion_reason"}
    policies: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    advanced: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    advance_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __mapper_args__ = {"version_id_col": version}


class OfferSide(enum.StrEnum):
    INSURER = "insurer"  # an adjuster's offer for their insurer's payer
    CLAIMANT = "claimant"  # the victims' position, recorded by the mediator
    PARTY = "party"  # a liable party's position (driver/owner), recorded by the mediator


class OfferStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COUNTERED = "countered"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"  # its maker took it back before it was answered


class Offer(Base):
    """One offer or counter-offer for one payer. Its content never changes once made; `digest`
    (SHA-256 of the content) is also in the audit chain, which proves what was accepted."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    payer: Mapped[str] = mapped_column(String(60))  # ctpi:甲方, commercial:甲方, party:甲方
    side: Mapped[OfferSide] = mapped_column(_enum(OfferSide, "offer_side"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # Optional item amounts: victim id → item code → amount (strings).
    items: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    # Why an offer above the assessed amount or the 交强险 limits was made.
    reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[OfferStatus] = mapped_column(
        _enum(OfferStatus, "offer_status"), default=OfferStatus.OPEN
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer_note: Mapped[str | None] = mapped_column(Text)


class MediationSession(Base):
    __tablename__ = "mediation_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str | None] = mapped_column(String(300))
    video_link: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AgreementStatus(enum.StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    SUPERSEDED = "superseded"


class Agreement(Base):
    """A settlement agreement (调解协议书) drafted from the accepted offers; `data` is what the PDF
    shows and `sha256` its digest, printed in the PDF's footer."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    status: Mapped[AgreementStatus] = mapped_column(
        _enum(AgreementStatus, "agreement_status"), default=AgreementStatus.DRAFT
    )
    signers: Mapped[list[str] | None] = mapped_column(JSON)
    signed_scan_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Payment(Base):
    """A payment by one payer, as its adjuster (or, for a party, the mediator) recorded it."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    payer: Mapped[str] = mapped_column(String(60))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
