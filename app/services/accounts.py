"""Organisations, users, passwords, login sessions, lockout and API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app import audit
from app.db import session, utcnow
from app.errors import NotFound, TooManyAttempts, ValidationFailed
from app.models import (
    ApiToken,
    LoginAttempt,
    LoginSession,
    Organization,
    OrgKind,
    Role,
    User,
)
from app.models.accounts import ROLE_FOR_KIND

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 10
# One address may fail this many times per window, across all accounts; beyond that its
# attempts are refused without counting against any account, so nobody can keep another
# person's account locked from one address (at most two lockouts an hour).
ADDRESS_FAILURES = 10
ADDRESS_WINDOW = timedelta(hours=1)
MIN_PASSWORD_LENGTH = 10

_HASHERS = {
    # Argon2id with the library's current recommended parameters.
    "standard": PasswordHasher(),
    # The test suite only (DAOJIAO_MODE=testing): the same algorithm at its lowest cost, so that
    # thousands of logins do not dominate the run. Hashes stay verifiable by either hasher.
    "cheapest": PasswordHasher.from_parameters(profiles.CHEAPEST),
}


def _hasher() -> PasswordHasher:
    testing = has_app_context() and current_app.config.get("TESTING")
    return _HASHERS["cheapest" if testing else "standard"]


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when the user is unknown: made on first use, not at import."""
    return hasher.hash("not-a-real-password-but-same-cost")


class LoginFailed(Exception):
    """Wrong username or password, or a locked or disabled account (message is for the user)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def token_digest(token: str) -> str:
    """The stored form of a session or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher().hash(password)


def check_password_policy(password: str, *, username: str) -> None:
    """Raise ValidationFailed if the password is too weak to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH)
        )
    if password.lower() == username.lower() or password.isdigit():
        raise ValidationFailed(_("The password must not be the username or only digits."))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_organization(
    *,
    actor: User | None,
    kind: OrgKind,
    name: str,
    region: str | None = None,
    aliases: list[str] | None = None,
) -> Organization:
    """Register an organisation; names are unique."""
    name = name.strip()
    if not name:
        raise ValidationFailed(_("The organisation needs a name."))
    if session.scalar(select(Organization.id).where(Organization.name == name)):
        raise ValidationFailed(_("An organisation named %(name)s exists already.", name=name))
    org = Organization(
        kind=OrgKind(kind),
        name=name,
        region=(region or "").strip() or None,
        aliases=sorted({alias.strip() for alias in aliases or [] if alias.strip()}),
    )
    session.add(org)
    session.flush()
    audit.record(
        "org.created",
        actor=actor,
        subject=f"org:{org.id}",
        details={"kind": org.kind.value, "name": org.name},
    )
    return org


def update_organization(
    *,
    actor: User,
    org: Organization,
    name: str,
    region: str | None,
    aliases: list[str],
    active: bool,
    court_name: str | None = None,
) -> Organization:
    """Rename, re-region, re-alias or (de)activate an organisation; a tribunal also names the
    court whose rulings it issues."""
    name = name.strip()
    clash = session.scalar(
        select(Organization.id).where(Organization.name == name, Organization.id != org.id)
    )
    if not name or clash:
        raise ValidationFailed(_("The organisation needs a unique name."))

    def state() -> dict[str, object]:
        return {
            "name": org.name,
            "region": org.region,
            "aliases": org.aliases,
            "active": org.active,
            "court_name": org.court_name,
        }

    before = state()
    org.name, org.region, org.active = name, (region or "").strip() or None, active
    org.aliases = sorted({alias.strip() for alias in aliases if alias.strip()})
    if org.kind == OrgKind.TRIBUNAL:
        org.court_name = (court_name or "").strip() or None
    after = state()
    session.flush()
    audit.record(
        "org.updated",
        actor=actor,
        subject=f"org:{org.id}",
        details={"before": before, "after": after},
    )
    return org


def create_user(
    *,
    actor: User | None,
    org: Organization,
    username: str,
    password: str,
    display_name: str | None = None,
    role: Role | None = None,
) -> User:
    """Create a user in `org`; the role must be the one of the organisation's kind."""
    username = username.strip()
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise ValidationFailed(_("Usernames use letters, digits, '.', '-' and '_' only."))
    expected = ROLE_FOR_KIND[org.kind]
    if role is not None and Role(role) != expected:
        raise ValidationFailed(
            _("Users of this organisation have the role %(role)s.", role=expected.value)
        )
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise ValidationFailed(_("The username %(name)s is taken.", name=username))
    check_password_policy(password, username=username)
    user = User(
        organization=org,
        username=username,
        display_name=(display_name or username).strip(),
        role=expected,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(
        "user.created",
        actor=actor,
        subject=f"user:{user.id}",
        details={"username": username, "role": expected.value, "org_id": org.id},
    )
    return user


def update_user(
    *,
    actor: User,
    user: User,
    display_name: str,
    active: bool,
    unlock: bool = False,
    new_password: str | None = None,
) -> User:
    """Admin edits: name, (de)activation, unlock, password reset (which ends all sessions)."""
    changes: dict[str, object] = {}
    if display_name.strip() and display_name.strip() != user.display_name:
        changes["display_name"] = user.display_name = display_name.strip()
    if active != user.active:
        changes["active"] = user.active = active
        if not active:
            revoke_all_sessions(user)
    if unlock and unlock_user(actor=actor, user=user):
        changes["unlocked"] = True
    if new_password:
        check_password_policy(new_password, username=user.username)
        user.password_hash = hash_password(new_password)
        user.password_changed_at = utcnow()
        revoke_all_sessions(user)
        changes["password_reset"] = True
    session.flush()
    if changes:
        audit.record("user.updated", actor=actor, subject=f"user:{user.id}", details=changes)
    return user


def is_locked(user: User) -> bool:
    """Whether repeated failed logins keep the user out right now."""
    return user.locked_until is not None and user.locked_until > utcnow()


def unlock_user(*, actor: User, user: User) -> bool:
    """Lift a lock (and forget the failures counted towards one); False if there was nothing."""
    if not user.locked_until and not user.failed_logins:
        return False
    details = {
        "username": user.username,
        "locked_until": user.locked_until.isoformat() if is_locked(user) else None,
        "failures": user.failed_logins,
    }
    user.locked_until, user.failed_logins = None, 0
    session.flush()
    audit.record("account.unlocked", actor=actor, subject=f"user:{user.id}", details=details)
    return True


def find_user(username: str) -> User | None:
    """The user with this username, case-insensitively."""
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def get_user(user_id: int) -> User:
    """A user by id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def get_organization(org_id: int) -> Organization:
    """An organisation by id, or NotFound."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(_("No such organisation."))
    return org


def list_organizations(*, active: bool | None = None) -> list[Organization]:
    """Organisations by kind and name, optionally only the active ones."""
    query = select(Organization).order_by(Organization.kind, Organization.name)
    if active is not None:
        query = query.where(Organization.active.is_(active))
    return list(session.scalars(query))


def list_users() -> list[User]:
    """Every user, grouped by organisation."""
    return list(session.scalars(select(User).order_by(User.org_id, User.username)))


def _address_throttled(ip: str, now: datetime) -> bool:
    failures = session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.ip == ip,
            LoginAttempt.success.is_(False),
            LoginAttempt.at > now - ADDRESS_WINDOW,
        )
    )
    return (failures or 0) >= ADDRESS_FAILURES


def _refused() -> LoginFailed:
    """The one answer to an unknown user, a wrong password and a locked account alike, so that
    nobody learns which usernames exist or which accounts are locked."""
    return LoginFailed(_("Wrong username or password, or the account is temporarily locked."))


def authenticate(*, username: str, password: str, ip: str) -> User:
    """Check a login; count failures per account (lock) and per address (throttle).

    Every attempt pays one password check (a dummy hash for an unknown user), so the answer's
    timing does not tell an unknown or locked account from a wrong password either. A lock runs
    its LOCK_MINUTES and no longer: failures during it are recorded (login attempts, audit, the
    address throttle) but neither extend it nor count towards the next one.
    """
    now = utcnow()
    if _address_throttled(ip, now):
        audit.record("login.throttled", actor=None, details={"username": username[:64], "ip": ip})
        raise TooManyAttempts(
            _("Too many failed logins from this address. Please try again in an hour.")
        )
    user = find_user(username)
    attempt = LoginAttempt(username=username[:64], ip=ip, success=False, at=now)
    session.add(attempt)
    matches = _verify(user.password_hash if user else _dummy_hash(_hasher()), password)
    if user is None:
        audit.record("login.failed", actor=None, details={"username": username[:64]})
        session.flush()
        raise _refused()
    if user.locked_until and user.locked_until <= now:
        user.locked_until, user.failed_logins = None, 0  # the lock ran out: count afresh
    if user.locked_until:
        audit.record("login.failed", actor=user, details={"reason": "locked"})
        session.flush()
        raise _refused()
    if not matches:
        user.failed_logins += 1
        audit.record("login.failed", actor=user, details={"failures": user.failed_logins})
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + timedelta(minutes=LOCK_MINUTES), 0
            audit.record(
                "account.locked", actor=user, details={"until": user.locked_until.isoformat()}
            )
        session.flush()
        raise _refused()
    if not user.is_active:
        # Said only to whoever knows the password: it tells them nothing they could not guess.
        audit.record("login.failed", actor=user, details={"reason": "disabled"})
        session.flush()
        raise LoginFailed(_("This account is disabled. Ask an administrator."))
    attempt.success = True
    user.failed_logins, user.locked_until = 0, None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return user


def start_session(*, user: User, ip: str | None, user_agent: str | None) -> str:
    """Open a server-side login session; return the token the cookie will carry."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user=user, token_hash=token_digest(token), ip=ip, user_agent=(user_agent or "")[:300]
        )
    )
    audit.record("login", actor=user, details={"via": "portal"})
    session.flush()
    return token


def load_session(token: str, *, idle: timedelta) -> User | None:
    """The user of a live login session, refreshing its last use; None if ended or idle."""
    now = utcnow()
    login = session.scalar(
        select(LoginSession).where(LoginSession.token_hash == token_digest(token))
    )
    if login is None or login.revoked_at is not None or login.last_seen_at < now - idle:
        return None
    if not login.user.is_active:
        return None
    if login.last_seen_at < now - timedelta(minutes=1):
        login.last_seen_at = now
        session.flush()
    return login.user


def end_session(*, user: User, token: str) -> None:
    """Log out: the session's cookie is useless from now on, even if replayed."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == token_digest(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    audit.record("logout", actor=user)


def revoke_all_sessions(user: User) -> None:
    """End every portal session and API token of the user."""
    now = utcnow()
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def change_password(*, user: User, current: str, new: str) -> None:
    """Change one's own password; every existing session and token of the user ends."""
    if not _verify(user.password_hash, current):
        raise ValidationFailed(_("The current password is wrong."))
    check_password_policy(new, username=user.username)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    revoke_all_sessions(user)
    audit.record("password.changed", actor=user)
    session.flush()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def issue_token(*, user: User, hours: int) -> IssuedToken:
    """A new bearer token for the API, valid for `hours`."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=hours)
    session.add(ApiToken(user=user, token_hash=token_digest(token), expires_at=expires))
    audit.record("login", actor=user, details={"via": "api"})
    session.flush()
    return IssuedToken(token, expires)


def load_token(token: str) -> User | None:
    """The user of a valid, unrevoked, unexpired bearer token."""
    now = utcnow()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if not row.user.is_active:
        return None
    if row.last_used_at is None or row.last_used_at < now - timedelta(minutes=1):
        row.last_used_at = now
        session.flush()
    return row.user


def revoke_token(*, user: User, token: str) -> None:
    """Revoke one bearer token of the user."""
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.token_hash == token_digest(token),
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    audit.record("token.revoked", actor=user)
