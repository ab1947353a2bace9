"""Each case's milestones (app/milestones.py): stamped from the audit events as they are
appended, equal to what the audit log gives when rebuilt."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from app import audit, milestones
from app.db import session
from app.models import CaseMilestone, CaseStatus, OrgKind
from tests import factories


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 2, tzinfo=UTC)


def snapshot() -> dict[int, tuple[object, ...]]:
    session.expire_all()
    return {
        row.case_id: (
            row.created_at,
            row.received_at,
            row.claims_at,
            row.assessed_at,
            row.agreed_at,
            row.failed_at,
            row.confirmed_at,
            row.paid_at,
            row.rejected,
        )
        for row in session.scalars(select(CaseMilestone))
    }


def test_appended_events_stamp_first_times_and_rejections_as_a_rebuild_does(app: Flask) -> None:
    police = factories.make_org(OrgKind.POLICE)
    signed, failed, plain = (
        factories.make_case(police=police, status=CaseStatus.NEGOTIATING) for _ in range(3)
    )
    story = [
        (signed, "case.created", 1),
        (signed, "case.confirmed", 2),
        (signed, "agreement.signed", 6),
        (signed, "confirmation.rejected", 8),
        (signed, "agreement.signed", 10),
        (signed, "case.paid", 12),
        (failed, "case.confirmed", 4),
        (failed, "claims.filed", 3),  # appended after a later event: the earlier time counts
        (failed, "mediation.failed", 9),
        (plain, "document.uploaded", 5),  # no milestone: no row
    ]
    for case, action, day in story:
        audit.record(action, actor=None, case_id=case.id, occurred_at=at(day))
    session.flush()

    stamped = snapshot()
    assert stamped[signed.id] == (at(1), at(2), None, None, at(6), None, None, at(12), True)
    assert stamped[failed.id] == (None, at(4), at(3), None, None, at(9), None, None, False)
    assert plain.id not in stamped
    assert milestones.rebuild(session) == len(stamped)
    assert snapshot() == stamped
