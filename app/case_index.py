"""Rows derived from each case for indexed lookups, rewritten in the unit of work that changes it.

- `case_insurers`: the insurer organisations with a policy on the case's vehicles. The
  adjuster's case filter is a key lookup there, not a join through vehicles and policies.
- `case_tasks`: what the case waits for from each of its organisations now (the actions
  `worklist.waits_for` names, and that organisation's running deadline). The work queue and the
  navbar's count read one index, and a case page's stage bar one row per organisation, where
  they re-derived every open case on every page.

A flush notes the cases its rows belong to and rewrites their insurers at once (one statement
each way); just before the commit the tasks of every case noted are worked out again, so both
commit or roll back with the change. Loads that bypass the ORM (`bench/seed.py`) and the
upgrade that made these tables call `rebuild()`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, g, has_app_context
from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session, UOWTransaction

from app.db import session
from app.models import (
    AuditEvent,
    Case,
    CaseInsurer,
    CaseStatus,
    CaseTask,
    Job,
    Notification,
    Policy,
    Vehicle,
)
from app.services.closure import case_id_of

# Rows whose change leaves what a case waits for as it was (or that are derived themselves).
_IGNORED = (AuditEvent, CaseInsurer, CaseTask, Job, Notification)
_TOUCHED = "daojiao.touched_cases"
# Cases in these states wait on nobody: `rebuild` skips them.
_IDLE_STATES = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.LITIGATION)
REBUILD_BATCH = 500


def refresh_insurers(db_session: Session, case_ids: Iterable[int]) -> None:
    """Rewrite the insurers of `case_ids` from their policies."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    db_session.execute(delete(CaseInsurer).where(CaseInsurer.case_id.in_(ids)))
    db_session.execute(
        insert(CaseInsurer).from_select(
            ["case_id", "org_id"],
            select(Vehicle.case_id, Policy.insurer_org_id)
            .join(Policy, Policy.vehicle_id == Vehicle.id)
            .where(Vehicle.case_id.in_(ids), Policy.insurer_org_id.is_not(None))
            .distinct(),
        )
    )


def refresh_tasks(case_ids: Iterable[int]) -> None:
    """Work out again what each case of `case_ids` waits for, from whom."""
    from app import worklist

    ids = sorted(set(case_ids))
    if not ids:
        return
    rows: list[dict[str, Any]] = []
    with session.no_autoflush:
        for case in session.scalars(select(Case).where(Case.id.in_(ids))):
            for org_id, actions, deadline in worklist.case_tasks(case):
                rows.append(
                    {
                        "case_id": case.id,
                        "org_id": org_id,
                        "actions": actions,
                        "deadline_id": deadline.id if deadline else None,
                        "due_at": deadline.due_at if deadline else None,
                        "since": case.updated_at,
                    }
                )
    session.execute(delete(CaseTask).where(CaseTask.case_id.in_(ids)))
    if rows:
        session.execute(insert(CaseTask), rows)


def rebuild(*, batch: int = REBUILD_BATCH) -> int:
    """Rewrite the derived rows of every case, committing each batch; returns the cases done."""
    last_id, done = 0, 0
    while True:
        ids = session.scalars(
            select(Case.id).where(Case.id > last_id).order_by(Case.id).limit(batch)
        ).all()
        if not ids:
            return done
        refresh_insurers(session, ids)
        active = session.scalars(
            select(Case.id).where(Case.id.in_(ids), Case.status.not_in(_IDLE_STATES))
        ).all()
        session.execute(delete(CaseTask).where(CaseTask.case_id.in_(ids)))
        refresh_tasks(active)
        session.info.pop(_TOUCHED, None)
        session.commit()
        last_id, done = ids[-1], done + len(ids)


def _note_touched_cases(db_session: Session, _context: UOWTransaction) -> None:
    """`after_flush`: note the cases whose rows changed; rewrite their insurers at once when a
    vehicle or policy changed."""
    touched: set[int] = set()
    insurers: set[int] = set()
    with db_session.no_autoflush:
        for obj in (*db_session.new, *db_session.dirty, *db_session.deleted):
            if isinstance(obj, _IGNORED):
                continue
            if obj in db_session.dirty and not db_session.is_modified(obj):
                continue
            case_id = case_id_of(db_session, obj)
            if case_id is None:
                continue
            touched.add(case_id)
            if isinstance(obj, Policy | Vehicle):
                insurers.add(case_id)
    if insurers:
        refresh_insurers(db_session, insurers)
    if touched:
        db_session.info.setdefault(_TOUCHED, set()).update(touched)


def _refresh_before_commit(db_session: Session) -> None:
    """`before_commit`: the tasks of the cases this unit of work changed."""
    if not db_session.info.get(_TOUCHED) and not db_session.new and not db_session.dirty:
        return
    db_session.flush()
    touched = db_session.info.pop(_TOUCHED, None)
    if not touched:
        return
    if not has_app_context() or g.get("db_session") is not db_session:
        # The rules read through the app context's session: a case changed through another
        # session would get tasks worked out from what that session has not committed yet.
        raise RuntimeError("cases may only change through the app context's session")
    refresh_tasks(touched)


def _forget(db_session: Session, *_args: Any) -> None:
    db_session.info.pop(_TOUCHED, None)


def init_app(app: Flask) -> None:
    """Keep every session's derived rows with its changes."""
    factory = app.extensions["daojiao.db"].factory
    event.listen(factory, "after_flush", _note_touched_cases)
    event.listen(factory, "before_commit", _refresh_before_commit)
    event.listen(factory, "after_rollback", _forget)
