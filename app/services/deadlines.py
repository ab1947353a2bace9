"""The deadline ledger (DESIGN.md §2): every legal or agreed timer of a case, with its basis."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select

from app.db import session, utcnow
from app.models import Case, Deadline, DeadlineStatus

OPEN_STATES = (DeadlineStatus.OPEN, DeadlineStatus.DUE, DeadlineStatus.OVERDUE)


@cache
def timers() -> dict[str, dict[str, Any]]:
    """The statutory timers (days and legal basis) from `app/data/deadlines.json`."""
    text = resources.files("app").joinpath("data", "deadlines.json").read_text(encoding="utf-8")
    return json.loads(text)["timers"]


def add_statutory_deadline(
    *,
    case: Case,
    kind: str,
    start: datetime,
    owner_org_id: int,
    subject: str | None = None,
    days: int | None = None,
) -> Deadline:
    """A timer of `app/data/deadlines.json`: due `days` (default: the statutory period) after
    `start`, with the timer's legal basis."""
    timer = timers()[kind]
    period = days if days is not None else timer["days"]
    return add_deadline(
        case=case,
        kind=kind,
        basis=timer["basis"],
        owner_org_id=owner_org_id,
        due_at=start + timedelta(days=period),
        subject=subject,
    )


def add_deadline(
    *,
    case: Case,
    kind: str,
    basis: str,
    owner_org_id: int,
    due_at: datetime,
    subject: str | None = None,
) -> Deadline:
    """Start a timer on `case`, owned by the organisation that must act before `due_at`."""
    deadline = Deadline(
        case_id=case.id,
        kind=kind,
        basis=basis,
        owner_org_id=owner_org_id,
        due_at=due_at,
        subject=subject,
        status=DeadlineStatus.OPEN,
        created_at=utcnow(),
    )
    session.add(deadline)
    session.flush()
    return deadline


def close_deadlines(
    *,
    case: Case,
    kind: str | None = None,
    subject: str | None = None,
    status: DeadlineStatus = DeadlineStatus.MET,
) -> list[Deadline]:
    """Stop the still-running timers of `case` (of one kind or subject) as met or cancelled."""
    query = select(Deadline).where(Deadline.case_id == case.id, Deadline.status.in_(OPEN_STATES))
    if kind is not None:
        query = query.where(Deadline.kind == kind)
    if subject is not None:
        query = query.where(Deadline.subject == subject)
    closed = list(session.scalars(query))
    for deadline in closed:
        deadline.status = status
        deadline.closed_at = utcnow()
    session.flush()
    return closed


def case_deadlines(case: Case) -> list[Deadline]:
    """Every timer of `case`, running ones first, soonest first."""
    rows = session.scalars(select(Deadline).where(Deadline.case_id == case.id))
    return sorted(rows, key=lambda d: (d.status not in OPEN_STATES, d.due_at))
