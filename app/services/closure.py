"""Closing a case: a paid case is closed, and from then on nothing of it may change.

The read-only rule is enforced in one place, a `before_flush` listener on the app's sessions:
whatever service or job tries to add, change or delete a row of a closed case is refused with
409. The audit log, notifications, jobs and the closing of running timers stay allowed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from app import workflow
from app.errors import InvalidTransition
from app.models import (
    AuditEvent,
    AuditHead,
    Case,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    Job,
    Notification,
    Policy,
    User,
    Vehicle,
)
from app.validation import check_version

# Rows that may still be written for a closed case: its history and its background work.
ALWAYS_WRITABLE = (AuditEvent, AuditHead, Notification, Job)
# A closed case's timers may still be stopped, nothing else.
CLOSING_DEADLINE = (DeadlineStatus.MET, DeadlineStatus.CANCELLED)
_CREATED = "daojiao.cases_created"


def can_close(user: User, case: Case) -> bool:
    """True if the user may close the case now: a mediator of its committee or an admin, once
    the case is paid."""
    return workflow.permits(case, "close", user)


def close_case(*, actor: User, case: Case, version: int | None = None) -> Case:
    """Close a paid case: it becomes read-only for everyone; its running timers are cancelled."""
    workflow.check(case, "close", actor)
    check_version(case, version)
    workflow.transition(case, "close", actor)
    return case


# -- closed cases are read-only -----------------------------------------------------------------


def case_id_of(db_session: Session, obj: Any) -> int | None:
    """The case a row belongs to (a policy's through its vehicle), or None."""
    if isinstance(obj, Case):
        return obj.id
    if isinstance(obj, Policy):
        if obj.vehicle is not None:
            return obj.vehicle.case_id
        return db_session.scalar(select(Vehicle.case_id).where(Vehicle.id == obj.vehicle_id))
    return getattr(obj, "case_id", None)


def _may_write(obj: Any) -> bool:
    if isinstance(obj, ALWAYS_WRITABLE):
        return True
    if isinstance(obj, Deadline):
        # Stopping a running timer (closing it as met or cancelled) is allowed.
        return obj.status in CLOSING_DEADLINE and not inspect(obj).pending
    return False


def _was_closed(case: Case) -> bool:
    history = inspect(case).attrs.status.history
    before = [*history.deleted, *history.unchanged]
    return CaseStatus.CLOSED in before


def refuse_changes_to_closed_cases(
    db_session: Session, _context: UOWTransaction, _instances: Any
) -> None:
    """`before_flush`: refuse any new, changed or deleted row of a closed case (409)."""
    touched = [
        (obj, deleted)
        for objects, deleted in (
            (db_session.new, False),
            (db_session.dirty, False),
            (db_session.deleted, True),
        )
        for obj in objects
        if not _may_write(obj)
    ]
    if not touched:
        return
    case_ids: set[int] = set()
    # A case created in this unit of work (an import, test data) may still be filled in.
    created = db_session.info.get(_CREATED, set())
    with db_session.no_autoflush:
        for obj, deleted in touched:
            if isinstance(obj, Case):
                if inspect(obj).pending or obj.id in created:
                    continue
                changed = deleted or db_session.is_modified(obj, include_collections=False)
                if changed and _was_closed(obj):
                    raise InvalidTransition(_("This case is closed: it can no longer change."))
                continue
            if not deleted and obj in db_session.dirty and not db_session.is_modified(obj):
                continue
            case_id = case_id_of(db_session, obj)
            if case_id is not None:
                case_ids.add(case_id)
        case_ids -= created
        if case_ids and db_session.scalar(
            select(Case.id).where(Case.id.in_(case_ids), Case.status == CaseStatus.CLOSED).limit(1)
        ):
            raise InvalidTransition(_("This case is closed: it can no longer change."))


def _remember_created_cases(db_session: Session, _context: UOWTransaction) -> None:
    created = [obj.id for obj in db_session.new if isinstance(obj, Case)]
    if created:
        db_session.info.setdefault(_CREATED, set()).update(created)


def _forget_created_cases(db_session: Session, transaction: SessionTransaction) -> None:
    # The unit of work's own transaction only: a savepoint ending (`begin_nested`) ends
    # nothing of the unit of work, whose new cases may still be filled in.
    if transaction.parent is None:
        db_session.info.pop(_CREATED, None)


def init_app(app: Flask) -> None:
    """Make every session of the app refuse changes to closed cases."""
    factory = app.extensions["daojiao.db"].factory
    event.listen(factory, "before_flush", refuse_changes_to_closed_cases)
    event.listen(factory, "after_flush", _remember_created_cases)
    event.listen(factory, "after_transaction_end", _forget_created_cases)
