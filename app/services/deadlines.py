"""The deadline ledger (DESIGN.md §2): every legal or agreed timer of a case, with its basis."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import ScalarSelect, and_, func, literal, or_, select

from app import access, audit
from app.db import session, utcnow
from app.i18n import local_time
from app.labels import N_, WAITING_STEPS
from app.models import Case, Deadline, DeadlineStatus, Organization, Payment, Role, User
from app.services import liability, notifications

OPEN_STATES = (DeadlineStatus.OPEN, DeadlineStatus.DUE, DeadlineStatus.OVERDUE)
# A running timer this close to its end is `due`, and its owner is told (once).
DUE_SOON = timedelta(days=2)


@cache
def timers() -> dict[str, dict[str, Any]]:
    """The statutory timers (days and legal basis) from `app/data/deadlines.json`."""
    text = resources.files("app").joinpath("data", "deadlines.json").read_text(encoding="utf-8")
    return json.loads(text)["timers"]


def last_payment_date() -> ScalarSelect:
    """Per `Deadline` row of an insurer payment timer (subject `payer:<code>`): the date of the
    last payment that payer made on the case, for correlated use in a query of deadlines."""
    return (
        select(func.max(Payment.paid_on))
        .where(
            Payment.case_id == Deadline.case_id,
            Deadline.subject == literal("payer:") + Payment.payer,
        )
        .scalar_subquery()
    )


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


# -- the clock ------------------------------------------------------------------------------


def sweep_deadlines(now: datetime | None = None) -> dict[str, int]:
    """Mark running timers ending within two days `due` and past ones `overdue`; the owner
    organisation is told once, when its timer stops being merely open. Idempotent."""
    now = now or utcnow()
    # Only rows that change are read; rows another sweeper holds are left to it.
    query = (
        select(Deadline)
        .where(
            or_(
                and_(Deadline.status == DeadlineStatus.OPEN, Deadline.due_at <= now + DUE_SOON),
                and_(Deadline.status == DeadlineStatus.DUE, Deadline.due_at < now),
            )
        )
        .order_by(Deadline.due_at, Deadline.id)
        .with_for_update(skip_locked=True)
    )
    counts = {"due": 0, "overdue": 0, "notified": 0}
    for deadline in session.scalars(query).all():
        was_open = deadline.status == DeadlineStatus.OPEN
        deadline.status = DeadlineStatus.OVERDUE if deadline.due_at < now else DeadlineStatus.DUE
        counts[deadline.status.value] += 1
        case = session.get(Case, deadline.case_id)
        audit.record(
            f"deadline.{deadline.status.value}",
            actor=None,
            case_id=deadline.case_id,
            subject=f"deadline:{deadline.id}",
            details={"kind": deadline.kind, "due_at": deadline.due_at.isoformat()},
        )
        if not was_open or case is None:
            continue
        overdue = deadline.status == DeadlineStatus.OVERDUE
        sent = notifications.notify_org(
            org_id=deadline.owner_org_id,
            case=case,
            kind="deadline.overdue" if overdue else "deadline.due",
            message=(
                N_("Case %(number)s: %(deadline_kind)s was due by %(due)s and is overdue.")
                if overdue
                else N_("Case %(number)s: %(deadline_kind)s is due by %(due)s.")
            ),
            number=case.number,
            deadline_kind=deadline.kind,
            due=local_time(deadline.due_at),
        )
        counts["notified"] += len(sent)
    session.flush()
    return counts


def waiting_on(user: User, *, limit: int | None = None) -> list[Deadline]:
    """The running timers that wait on the user's organisation (admins: all), on cases the user
    may see, soonest first."""
    visible_ids = access.visible_cases(user).with_only_columns(Case.id)
    query = select(Deadline).where(
        Deadline.status.in_(OPEN_STATES), Deadline.case_id.in_(visible_ids)
    )
    if user.role != Role.ADMIN:
        query = query.where(Deadline.owner_org_id == user.org_id)
    query = query.order_by(Deadline.due_at, Deadline.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def deadline_details(deadlines: list[Deadline]) -> dict[str, dict[int, Any]]:
    """The cases and owner organisations of some timers, by id, for showing them."""
    case_ids = {deadline.case_id for deadline in deadlines}
    org_ids = {deadline.owner_org_id for deadline in deadlines}
    cases = session.scalars(select(Case).where(Case.id.in_(case_ids))) if case_ids else []
    orgs = (
        session.scalars(select(Organization).where(Organization.id.in_(org_ids))) if org_ids else []
    )
    return {"cases": {case.id: case for case in cases}, "owners": {org.id: org for org in orgs}}


def waiting_steps(case: Case) -> list[dict[str, Any]]:
    """Steps without a legal timer that hold the case up, each with the organisation that must
    take it: deciding the liability a police letter left open (app/services/liability.py)."""
    steps = []
    if liability.awaits_decision(case):
        committee = (
            session.get(Organization, case.mediation_committee_id)
            if case.mediation_committee_id
            else None
        )
        steps.append(
            {
                "kind": "liability_decision",
                "label": WAITING_STEPS["liability_decision"],
                "owner": committee,
            }
        )
    return steps


def case_clock(case: Case) -> dict[str, Any]:
    """Who has the ball: the steps that wait on someone with no timer (they come first: nothing
    else can happen before them), the soonest running timer of the case, its owner and kind,
    and the case's whole ledger (running first)."""
    items = case_deadlines(case)
    running = [deadline for deadline in items if deadline.status in OPEN_STATES]
    owners = deadline_details(items)["owners"]
    ball = running[0] if running else None
    return {
        "waiting": waiting_steps(case),
        "ball": ball,
        "holder": owners.get(ball.owner_org_id) if ball else None,
        "kind": ball.kind if ball else None,
        "running": running,
        "deadlines": items,
        "owners": owners,
    }
