"""Portal notifications: one inbox per user."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import session, utcnow
from app.labels import DEADLINE_KINDS, N_, STATUS_LABELS
from app.models import Case, Notification, Role, User


def notify_users(
    *, users: list[User], case: Case | None, kind: str, message: str, **params: Any
) -> list[Notification]:
    """Put a message (an English msgid with %(name)s parameters) in each user's inbox."""
    created = [
        Notification(
            user_id=user.id,
            case_id=case.id if case else None,
            kind=kind,
            message=message,
            params=params,
            created_at=utcnow(),
        )
        for user in users
    ]
    session.add_all(created)
    session.flush()
    return created


def notify_org(
    *, org_id: int, case: Case | None, kind: str, message: str, **params: Any
) -> list[Notification]:
    """Notify every active user of an organisation."""
    users = list(session.scalars(select(User).where(User.org_id == org_id, User.active.is_(True))))
    return notify_users(users=users, case=case, kind=kind, message=message, **params)


def notify_admins(*, kind: str, message: str, **params: Any) -> list[Notification]:
    """Notify every active platform administrator (what concerns the platform, not a case)."""
    users = list(
        session.scalars(select(User).where(User.role == Role.ADMIN, User.active.is_(True)))
    )
    return notify_users(users=users, case=None, kind=kind, message=message, **params)


def insurer_org_ids(case: Case) -> list[int]:
    """The registered insurer organisations on the case's policies."""
    return sorted(
        {
            policy.insurer_org_id
            for vehicle in case.vehicles
            for policy in vehicle.policies
            if policy.insurer_org_id is not None
        }
    )


def notify_new_case(case: Case) -> list[Notification]:
    """Tell the adjusters of every insurer on the case's policies that the case reached them;
    an adjuster already told about this case is not told again."""
    org_ids = insurer_org_ids(case)
    if not org_ids:
        return []
    told = set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.case_id == case.id, Notification.kind == "case.new"
            )
        )
    )
    adjusters = session.scalars(
        select(User)
        .where(User.org_id.in_(org_ids), User.role == Role.ADJUSTER, User.active.is_(True))
        .order_by(User.id)
    )
    return notify_users(
        users=[user for user in adjusters if user.id not in told],
        case=case,
        kind="case.new",
        message=N_("New case %(number)s: a vehicle your company insures is involved."),
        number=case.number,
    )


def unread_count(user: User) -> int:
    """How many messages in the user's inbox are unread."""
    query = select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    return session.scalar(query) or 0


def user_notifications(
    user: User, limit: int = 50, *, unread_only: bool = False
) -> list[Notification]:
    """The user's messages, newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list(session.scalars(query))


def mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread messages (only those of `ids`, or all) read; returns how many.
    Ids of other users' messages are ignored."""
    query = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    result = session.execute(query.values(read_at=utcnow()))
    session.flush()
    return result.rowcount or 0


# Parameters that hold a code, shown through its label table in the reader's language.
_LABELLED_PARAMS = {"deadline_kind": DEADLINE_KINDS, "status": STATUS_LABELS}


def clear_for_org(db_session: Session, *, org_id: int, case_id: int) -> None:
    """Mark the organisation's unread messages about the case read: it acted on the case, so
    what it was told about it has been dealt with."""
    db_session.execute(
        update(Notification)
        .where(
            Notification.case_id == case_id,
            Notification.read_at.is_(None),
            Notification.user_id.in_(select(User.id).where(User.org_id == org_id)),
        )
        .values(read_at=utcnow())
    )


def notification_text(
    notification: Notification, payer_name: Callable[[str], str] | None = None
) -> str:
    """The message in the current language, with its parameters filled in; a payer is named
    by `payer_name` (its code otherwise)."""
    values = {
        name: str(_LABELLED_PARAMS[name].get(value, value)) if name in _LABELLED_PARAMS else value
        for name, value in (notification.params or {}).items()
    }
    if payer_name is not None and "payer" in values:
        values["payer"] = payer_name(values["payer"])
    try:
        return gettext(notification.message) % values
    except (KeyError, TypeError, ValueError):
        # A translation that names other parameters than the message has: show it unfilled.
        return notification.message
