"""Each case's insurers and tasks are kept with its changes: the rows the adjuster's filter and
the work queues read always say what the rules say (app/case_index.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import delete, select

from app import access, migrate, worklist
from app.cli import worklist_rebuild
from app.db import get_db, session
from app.models import Case, CaseInsurer, CaseTask, OrgKind, Policy, PolicyKind
from tests import factories
from tests.test_worklist import Sitting


def stored(case: Case) -> set[tuple[int, tuple[str, ...], int | None]]:
    """The case's rows in `case_tasks`: (organisation, actions, deadline)."""
    session.expire_all()
    return {
        (task.org_id, tuple(task.actions), task.deadline_id)
        for task in session.scalars(select(CaseTask).where(CaseTask.case_id == case.id))
    }


def worked_out(case: Case) -> set[tuple[int, tuple[str, ...], int | None]]:
    """What the rules say now."""
    session.expire_all()
    return {
        (org_id, tuple(actions), deadline.id if deadline else None)
        for org_id, actions, deadline in worklist.case_tasks(session.get(Case, case.id))
    }


def insurers(case: Case) -> set[int]:
    session.expire_all()
    return set(session.scalars(select(CaseInsurer.org_id).where(CaseInsurer.case_id == case.id)))


def test_the_stored_tasks_follow_the_case_through_mediation(app: Flask) -> None:
    sit = Sitting(app)
    case = sit.case
    committee = case.mediation_committee_id
    assert stored(case) == worked_out(case) == {(committee, ("file_claims",), None)}

    claims = {
        "victims": [
            {
                "id": "v1",
                "party": "乙方",
                "age": 35,
                "outcome": "injury",
                "items": {"medical": {"amount": "30000"}},
            }
        ]
    }
    sit(sit.mediator, "PUT", "/claims", json=claims)
    # Assessed: the insurer's offers are due, with the mediation's deadline beside them.
    after_assessment = stored(case)
    assert after_assessment == worked_out(case)
    assert {(org, actions) for org, actions, _ in after_assessment} == {
        (sit.adjuster.org_id, ("make_offer",))
    }

    totals = sit(sit.mediator, "GET", "/assessment")["totals"]
    for payer, amount in totals.items():
        if payer.startswith(("ctpi:", "commercial:")):
            sit(sit.adjuster, "POST", "/offers", json={"payer": payer, "amount": amount})
    assert stored(case) == worked_out(case)
    assert {actions for _, actions, _ in stored(case)} == {("answer_offer",)}
    # The navbar's badge counts the stored rows alone: it agrees with the queue each user sees.
    for user in (sit.police, sit.mediator, sit.adjuster, sit.other_adjuster, sit.judge):
        assert worklist.queue_count(user) == len(worklist.queue(user)), user.username


def test_a_policy_added_or_removed_changes_who_sees_the_case(app: Flask) -> None:
    sit = Sitting(app)
    case = sit.case
    assert insurers(case) == {sit.adjuster.org_id}
    newcomer = factories.make_user(factories.make_org(OrgKind.INSURER))
    visible = access.visible_cases(newcomer).where(Case.id == case.id)
    assert session.scalars(visible).first() is None

    vehicle = case.vehicles[0]
    policy = Policy(
        kind=PolicyKind.COMMERCIAL, insurer_org_id=newcomer.org_id, limit=Decimal("500000")
    )
    vehicle.policies.append(policy)
    session.flush()  # the insurers follow at the flush, before the commit
    assert insurers(case) == {sit.adjuster.org_id, newcomer.org_id}
    assert session.scalars(visible).first() is not None
    session.commit()

    session.delete(session.get(Policy, policy.id))
    session.commit()
    assert insurers(case) == {sit.adjuster.org_id}
    assert session.scalars(visible).first() is None


def test_rebuild_restores_what_was_lost(app: Flask) -> None:
    sit = Sitting(app)
    case = sit.case
    expected = stored(case)
    assert expected
    session.execute(delete(CaseTask).where(CaseTask.case_id == case.id))
    session.execute(delete(CaseInsurer).where(CaseInsurer.case_id == case.id))
    session.commit()
    assert stored(case) == set()
    assert insurers(case) == set()
    assert sit.queue(sit.mediator) == []

    result = app.test_cli_runner().invoke(worklist_rebuild, catch_exceptions=False)
    assert result.exit_code == 0
    assert "cases worked out" in result.output
    assert stored(case) == expected
    assert insurers(case) == {sit.adjuster.org_id}
    assert sit.queue(sit.mediator) == [(case.id, "file_claims")]


def test_a_case_changed_through_another_session_is_refused(app: Flask) -> None:
    sit = Sitting(app)
    other = get_db().new_session()
    try:
        other.get(Case, sit.case.id).accident_place = "吕梁市离石区龙凤南大街"
        with pytest.raises(RuntimeError, match="app context's session"):
            other.commit()
    finally:
        other.rollback()
        other.close()


@pytest.mark.parametrize(
    ("before", "after", "crossed"),
    [
        ("0011", "0012", True),
        ("0009", "0013", True),
        ("0012", "0013", False),
        ("0010", "0011", False),
        (None, "0012", False),  # an empty database has no cases to work out
    ],
)
def test_the_upgrade_works_out_the_tasks_once_when_it_makes_their_table(
    before: str | None, after: str, crossed: bool
) -> None:
    assert migrate.crossed(before, after, migrate.CASE_TASKS_REVISION) is crossed
