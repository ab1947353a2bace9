"""The claims filed for a case: the latest, and asking for their assessment again."""

from __future__ import annotations

from sqlalchemy import select

from app import jobs
from app.db import session
from app.labels import N_
from app.models import Case, Claim, Job, User


def latest_claim(case: Case) -> Claim | None:
    """The claims most recently filed for `case`."""
    return session.scalars(
        select(Claim).where(Claim.case_id == case.id).order_by(Claim.id.desc()).limit(1)
    ).first()


def reassess_case(*, actor: User | None, case: Case) -> Job | None:
    """Assess the latest claims again after data they depend on changed (a new assessment is
    stored only if the input differs); None when no claims were filed yet."""
    claim = latest_claim(case)
    if claim is None:
        return None
    return jobs.schedule(
        "assessments.run",
        subject_id=claim.id,
        case_id=case.id,
        actor=actor,
        message=N_("Waiting to be assessed"),
    )
