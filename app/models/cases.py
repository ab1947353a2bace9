"""The case aggregate: a case with its parties, vehicles and insurance policies, and the liability
decisions a mediator records when the police letter determined none."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow
from app.models.accounts import User, _enum


class CaseStatus(enum.StrEnum):
    DRAFT = "draft"
    REPORTED = "reported"
    ASSESSING = "assessing"
    NEGOTIATING = "negotiating"
    AGREED = "agreed"
    CONFIRMING = "confirming"
    CONFIRMED = "confirmed"
    LITIGATION = "litigation"
    PAID = "paid"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


# Groups of states the workflow (app/workflow.py) and the services ask about.
# Mediated: from the police's confirmation until an agreement is signed or mediation fails.
MEDIATED_STATES = (CaseStatus.REPORTED, CaseStatus.ASSESSING, CaseStatus.NEGOTIATING)
# Payable: an agreement is signed (and perhaps confirmed by the tribunal).
PAYABLE_STATES = (CaseStatus.AGREED, CaseStatus.CONFIRMED)
# Finished: read-only for everyone.
FINISHED_STATES = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


class PolicyKind(enum.StrEnum):
    CTPI = "ctpi"  # 交强险
    COMMERCIAL = "commercial"  # 商业三者险


def trigram_index(name: str, column: str) -> Index:
    """A PostgreSQL pg_trgm GIN index for `ILIKE '%…%'` on `column` (a plain index on SQLite)."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


class Case(Base):
    __tablename__ = "cases"
    # The case lists, newest first: everyone's, and each organisation's own.
    __table_args__ = (
        Index("ix_cases_created_at_id", "created_at", "id"),
        Index("ix_cases_reporting_unit_created", "reporting_unit_id", "created_at", "id"),
        Index("ix_cases_committee_created", "mediation_committee_id", "created_at", "id"),
        Index("ix_cases_tribunal_created", "tribunal_id", "created_at", "id"),
        trigram_index("ix_cases_number_trgm", "number"),
        trigram_index("ix_cases_report_no_trgm", "report_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[CaseStatus] = mapped_column(
        _enum(CaseStatus, "case_status"), default=CaseStatus.DRAFT, index=True
    )
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    region: Mapped[str | None] = mapped_column(String(100))
    # injury, death or property, by the latest claims (app.stats.case_type_of); None before any.
    case_type: Mapped[str | None] = mapped_column(String(10))
    report_no: Mapped[str | None] = mapped_column(String(100), index=True)
    accident_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accident_place: Mapped[str | None] = mapped_column(String(300))
    reporting_unit_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    mediation_committee_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id"), index=True
    )
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tribunal_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Why mediation ended without agreement (the case then goes towards litigation).
    outcome_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    parties: Mapped[list[Party]] = relationship(
        back_populates="case", order_by="Party.position", cascade="all, delete-orphan"
    )
    vehicles: Mapped[list[Vehicle]] = relationship(
        back_populates="case", order_by="Vehicle.id", cascade="all, delete-orphan"
    )
    report: Mapped[Report | None] = relationship(back_populates="case", uselist=False)

    # Concurrent edits of one case raise StaleDataError (mapped to 409), never a lost update.
    __mapper_args__ = {"version_id_col": version}


class Party(Base):
    """A person in the accident (当事人): driver, rider, pedestrian, passenger or owner."""

    __tablename__ = "parties"
    __table_args__ = (
        trigram_index("ix_parties_name_trgm", "name"),
        # Names beginning with a text (LIKE '王伟%') whatever the database's collation.
        Index("ix_parties_name_prefix", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(100), index=True)
    gender: Mapped[str | None] = mapped_column(String(4))
    id_number: Mapped[str | None] = mapped_column(String(32), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str | None] = mapped_column(String(20))
    traffic_mode: Mapped[str | None] = mapped_column(String(100))
    liability: Mapped[str | None] = mapped_column(String(10))
    age: Mapped[int | None]
    address: Mapped[str | None] = mapped_column(String(300))
    license_no: Mapped[str | None] = mapped_column(String(50))

    case: Mapped[Case] = relationship(back_populates="parties")


class Report(Base):
    """The accident liability letter of a case: what the parser read, and what police confirmed.

    `parsed` is the parser's output, kept unchanged as evidence of what was read; `fields` is
    the reviewed version (INTERFACES.md §2 shape) from which the case's rows are written.
    """

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    parser_version: Mapped[str | None] = mapped_column(String(20))
    parsed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Width and height in PDF points of each page, for placing highlights on page images.
    page_sizes: Mapped[list[list[float]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="report")


class Vehicle(Base):
    __tablename__ = "vehicles"
    __table_args__ = (trigram_index("ix_vehicles_plate_trgm", "plate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    plate: Mapped[str | None] = mapped_column(String(20), index=True)
    vehicle_type: Mapped[str | None] = mapped_column(String(50))
    driver_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))

    case: Mapped[Case] = relationship(back_populates="vehicles")
    policies: Mapped[list[Policy]] = relationship(
        back_populates="vehicle", order_by="Policy.id", cascade="all, delete-orphan"
    )


class Policy(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    kind: Mapped[PolicyKind] = mapped_column(_enum(PolicyKind, "policy_kind"))
    insurer_name: Mapped[str | None] = mapped_column(String(200))
    # Set when the insurer name matched a registered insurer organisation.
    insurer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(64))
    limit: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    notes: Mapped[str | None] = mapped_column(Text)

    vehicle: Mapped[Vehicle] = relationship(back_populates="policies")


class CaseInsurer(Base):
    """An insurer organisation with a policy on one of the case's vehicles, kept with the
    policies (app/case_index.py): the adjuster's case filter is a key lookup here."""

    __tablename__ = "case_insurers"
    __table_args__ = (Index("ix_case_insurers_org_case", "org_id", "case_id"),)

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)


class CaseMilestone(Base):
    """When a case first reached each stage of the workflow, stamped from the transition's
    audit event as it is appended (app/milestones.py), and whether the tribunal ever rejected
    its confirmation: the figures read a period's cases here instead of from the events."""

    __tablename__ = "case_milestones"
    __table_args__ = (Index("ix_case_milestones_received", "received_at", "case_id"),)

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claims_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected: Mapped[bool] = mapped_column(default=False, server_default=false())


class CaseTask(Base):
    """What a case waits for from one of its organisations now: the actions
    `worklist.waits_for` names and that organisation's running deadline. Rewritten in every
    unit of work that changes the case (app/case_index.py): a work queue is an index scan, and
    a case page's "who has the ball" one lookup."""

    __tablename__ = "case_tasks"
    # A queue's order: the soonest deadline first (none last), then the case waiting longest.
    __table_args__ = (Index("ix_case_tasks_org_order", "org_id", "due_at", "since", "case_id"),)

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    actions: Mapped[list[str]] = mapped_column(JSON)  # in workflow order: the queue shows the first
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    since: Mapped[datetime] = mapped_column(UTCDateTime())


class LiabilityDecision(Base):
    """Each party's liability as a mediator recorded it, where the police letter determined none
    (a 道路交通事故证明, or a letter silent on a party). The latest one is on the parties' rows.

    `parties` holds, per party decided, `{"party_id", "label", "liability", "before"}`.
    """

    __tablename__ = "liability_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    parties: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    basis: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    decided_by: Mapped[User] = relationship()
