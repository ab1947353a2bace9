"""Organisations, users, their login sessions, login attempts and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from flask_login import UserMixin
from sqlalchemy import JSON, Enum, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class OrgKind(enum.StrEnum):
    POLICE = "police"
    INSURER = "insurer"
    MEDIATION = "mediation"
    TRIBUNAL = "tribunal"
    PLATFORM = "platform"
    # Overseeing bodies (DESIGN.md §1): read-only, bounded by their region.
    SUPERVISION = "supervision"
    REGULATOR = "regulator"


class Role(enum.StrEnum):
    POLICE = "police"
    ADJUSTER = "adjuster"
    MEDIATOR = "mediator"
    JUDGE = "judge"
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    REGULATOR = "regulator"


# DESIGN.md §1: a user has exactly one role, the one of their organisation's kind.
ROLE_FOR_KIND = {
    OrgKind.POLICE: Role.POLICE,
    OrgKind.INSURER: Role.ADJUSTER,
    OrgKind.MEDIATION: Role.MEDIATOR,
    OrgKind.TRIBUNAL: Role.JUDGE,
    OrgKind.PLATFORM: Role.ADMIN,
    OrgKind.SUPERVISION: Role.SUPERVISOR,
    OrgKind.REGULATOR: Role.REGULATOR,
}


def _enum(enum_class: type[enum.Enum], name: str) -> Enum:
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind, "org_kind"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str | None] = mapped_column(String(100))
    # Other names the organisation goes by in police reports (e.g. "人保吕梁").
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A tribunal's ruling numbers, e.g. "({year})晋1102民特{n}号" ({year}, {n}: the sequence).
    case_number_format: Mapped[str | None] = mapped_column(String(100))
    # The court a tribunal sits for, which heads its rulings (e.g. "山西省吕梁市离石区人民法院");
    # the tribunal's own name when empty.
    court_name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organization")

    @property
    def role(self) -> Role:
        return ROLE_FOR_KIND[self.kind]


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    locale: Mapped[str | None] = mapped_column(String(10))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="users", lazy="joined")

    # The token of the login session this object was loaded through (app.auth sets it).
    login_token: ClassVar[str | None] = None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active and self.organization.active

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the cookie: the login session's token, never the user id."""
        return self.login_token


class LoginSession(Base):
    """A server-side record of a portal login; the cookie only names it (revocable)."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """Every login attempt, for the per-account lock and the per-address throttle."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")
