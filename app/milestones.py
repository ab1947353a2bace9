"""Each case's milestones (`CaseMilestone`): when it first reached each stage, stamped from the
workflow's audit events as they are appended (`audit.record` calls `stamp`), so the figures
(app/stats.py) read a period's cases from one indexed row each instead of from their events.

A case whose confirmation the tribunal rejected is marked `rejected`: it may have been signed
more than once and sent back, which first times cannot tell, so the figures read that rare case
from its events. `rebuild` writes the rows again from the audit log, for data loaded without
the app (the benchmark's seed) and for tests that move events in time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, CaseMilestone

# The audit action that marks each milestone, and the column it stamps (its first time).
MILESTONES = {
    "case.created": "created_at",
    "case.confirmed": "received_at",
    "claims.filed": "claims_at",
    "case.assessed": "assessed_at",
    "agreement.signed": "agreed_at",
    "mediation.failed": "failed_at",
    "confirmation.confirmed": "confirmed_at",
    "case.paid": "paid_at",
}
REJECTED = "confirmation.rejected"


def stamp(db_session: Session, action: str, case_id: int, at: datetime) -> None:
    """Record on the case's milestones the event `action` that happened `at`, in the caller's
    unit of work (the audit head's lock orders every appended event, so two units of work
    never make the same case's row at once)."""
    column = MILESTONES.get(action)
    if column is None and action != REJECTED:
        return
    row = db_session.get(CaseMilestone, case_id)
    if row is None:
        row = CaseMilestone(case_id=case_id, rejected=False)
        db_session.add(row)
    if action == REJECTED:
        row.rejected = True
    elif getattr(row, column) is None or at < getattr(row, column):
        setattr(row, column, at)


def rebuild(db_session: Session) -> int:
    """Write every case's milestones again from the audit log; returns the number of cases."""
    firsts = [
        func.min(AuditEvent.occurred_at).filter(AuditEvent.action == action).label(column)
        for action, column in MILESTONES.items()
    ]
    rejected = func.count().filter(AuditEvent.action == REJECTED) > 0
    query = (
        select(AuditEvent.case_id, *firsts, rejected.label("rejected"))
        .where(
            AuditEvent.case_id.is_not(None),
            AuditEvent.action.in_([*MILESTONES, REJECTED]),
        )
        .group_by(AuditEvent.case_id)
    )
    db_session.execute(delete(CaseMilestone))
    columns = ["case_id", *MILESTONES.values(), "rejected"]
    db_session.execute(insert(CaseMilestone).from_select(columns, query))
    return db_session.scalar(select(func.count()).select_from(CaseMilestone)) or 0
