"""Portal notifications: one inbox per user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db import session, utcnow
from app.models import Case, Notification, User


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
