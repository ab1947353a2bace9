"""The deadline ledger's clock: the sweep, what waits on whom, a case's clock, the dashboard."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, render_template
from sqlalchemy import select

from app import jobs
from app.cli import main as daojiao
from app.clock import BEIJING
from app.db import session, utcnow
from app.labels import DEADLINE_KINDS
from app.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    Job,
    JobStatus,
    Notification,
)
from app.services import deadlines
from tests import factories
from tests.support.centre import Centre as SharedCentre


class Centre(SharedCentre):
    """The shared centre, a second adjuster of the insurer and a negotiating case."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.colleague = factories.make_user(self.insurer)
        self.case = self.new_case()
        session.commit()

    def new_case(self, status: CaseStatus = CaseStatus.NEGOTIATING) -> Case:
        return factories.make_accident_case(
            police=self.police_org, committee=self.committee, insurer=self.insurer, status=status
        )

    def deadline(
        self,
        days: float,
        *,
        owner: Any = None,
        case: Case | None = None,
        kind: str = "offer_expiry",
    ) -> Deadline:
        return deadlines.add_deadline(
            case=case or self.case,
            kind=kind,
            basis=deadlines.timers()[kind]["basis"],
            owner_org_id=(owner or self.insurer).id,
            due_at=utcnow() + timedelta(days=days),
        )


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def status_of(deadline: Deadline) -> DeadlineStatus:
    session.expire_all()
    return session.get(Deadline, deadline.id).status


def notes(kind: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(session.scalars(query))


# -- the sweep --------------------------------------------------------------------------------


def test_sweep_marks_due_then_overdue_and_tells_the_owner_once(centre: Centre) -> None:
    far = centre.deadline(3.5)
    soon = centre.deadline(1.5, owner=centre.committee, kind="mediation_window")

    counts = deadlines.sweep_deadlines()

    assert counts == {"due": 1, "overdue": 0, "notified": 1}
    assert status_of(far) == DeadlineStatus.OPEN
    assert status_of(soon) == DeadlineStatus.DUE
    (note,) = notes("deadline.due")
    assert note.user_id == centre.mediator.id
    assert note.case_id == centre.case.id
    assert note.params["deadline_kind"] == "mediation_window"
    assert note.params["number"] == centre.case.number

    assert deadlines.sweep_deadlines() == {"due": 0, "overdue": 0, "notified": 0}

    later = utcnow() + timedelta(days=2)
    assert deadlines.sweep_deadlines(later) == {"due": 1, "overdue": 1, "notified": 2}
    assert status_of(soon) == DeadlineStatus.OVERDUE
    assert status_of(far) == DeadlineStatus.DUE
    # The committee was told once; both adjusters of the insurer once each about `far`.
    assert len(notes("deadline.due")) == 3
    assert notes("deadline.overdue") == []
    assert deadlines.sweep_deadlines(later) == {"due": 0, "overdue": 0, "notified": 0}
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject == f"deadline:{soon.id}")
    ).all()
    assert actions == ["deadline.due", "deadline.overdue"]


def test_a_timer_missed_without_warning_goes_straight_to_overdue(centre: Centre) -> None:
    missed = centre.deadline(-1)
    assert deadlines.sweep_deadlines() == {"due": 0, "overdue": 1, "notified": 2}
    assert status_of(missed) == DeadlineStatus.OVERDUE
    told = notes("deadline.overdue")
    assert {note.user_id for note in told} == {centre.adjuster.id, centre.colleague.id}


def test_stopped_timers_are_left_alone(centre: Centre) -> None:
    met = centre.deadline(-1)
    deadlines.close_deadlines(case=centre.case)
    cancelled = centre.deadline(1)
    deadlines.close_deadlines(case=centre.case, status=DeadlineStatus.CANCELLED)

    assert deadlines.sweep_deadlines() == {"due": 0, "overdue": 0, "notified": 0}
    assert status_of(met) == DeadlineStatus.MET
    assert status_of(cancelled) == DeadlineStatus.CANCELLED


def test_the_sweep_job_runs_and_repeats_harmlessly(centre: Centre) -> None:
    soon = centre.deadline(1)
    first = jobs.schedule("deadlines.sweep")
    session.commit()
    second = jobs.schedule("deadlines.sweep")
    session.commit()

    session.expire_all()
    assert session.get(Job, first.id).status == JobStatus.SUCCEEDED
    assert session.get(Job, second.id).status == JobStatus.SUCCEEDED
    assert status_of(soon) == DeadlineStatus.DUE
    assert len(notes("deadline.due")) == 2  # the insurer's two adjusters, once each


def test_the_sweep_command_reports_what_it_changed(app: Flask, centre: Centre) -> None:
    centre.deadline(1)
    centre.deadline(-1)
    session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(daojiao, ["deadlines", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 due, 1 overdue, 4 notification(s) sent"

    later = (utcnow() + timedelta(days=3)).isoformat()
    result = runner.invoke(daojiao, ["deadlines", "sweep", "--now", later])
    assert result.output.strip() == "0 due, 1 overdue, 0 notification(s) sent"
    assert runner.invoke(daojiao, ["deadlines", "sweep", "--now", "soon"]).exit_code == 2


def test_the_worker_s_sweeper_commits_the_sweep(app: Flask, centre: Centre) -> None:
    from workers.tasks import sweep_deadlines_in

    soon = centre.deadline(1)
    session.commit()
    assert sweep_deadlines_in(app) == {"due": 1, "overdue": 0, "notified": 2}
    assert status_of(soon) == DeadlineStatus.DUE


# -- what waits on whom -----------------------------------------------------------------------


def test_waiting_on_lists_the_organisation_s_running_timers_soonest_first(
    centre: Centre,
) -> None:
    later = centre.deadline(9)
    sooner = centre.deadline(2)
    overdue = centre.deadline(-1)
    overdue.status = DeadlineStatus.OVERDUE
    centre.deadline(1, owner=centre.committee, kind="mediation_window")
    on_other_case = centre.deadline(3, case=centre.new_case())
    finished = centre.deadline(0.5)
    finished.status = DeadlineStatus.MET
    session.flush()

    waiting = deadlines.waiting_on(centre.adjuster)

    assert waiting == [overdue, sooner, on_other_case, later]
    assert deadlines.waiting_on(centre.adjuster, limit=2) == [overdue, sooner]
    assert deadlines.waiting_on(centre.other_adjuster) == []
    assert [d.kind for d in deadlines.waiting_on(centre.mediator)] == ["mediation_window"]
    assert len(deadlines.waiting_on(centre.admin)) == 5


def test_waiting_on_leaves_out_cases_the_user_may_not_see(centre: Centre) -> None:
    # The insurer owns a timer on a case that is still a police draft: not shown to it.
    draft = centre.new_case(CaseStatus.DRAFT)
    centre.deadline(1, case=draft)
    visible = centre.deadline(2)
    assert deadlines.waiting_on(centre.adjuster) == [visible]


def test_the_case_clock_names_who_has_the_ball(centre: Centre) -> None:
    assert deadlines.case_clock(centre.case)["ball"] is None
    window = centre.deadline(4, owner=centre.committee, kind="mediation_window")
    offer = centre.deadline(1)

    clock = deadlines.case_clock(centre.case)

    assert clock["ball"] == offer
    assert clock["holder"].id == centre.insurer.id
    assert clock["kind"] == "offer_expiry"
    assert clock["running"] == [offer, window]
    deadlines.close_deadlines(case=centre.case, kind="offer_expiry")
    clock = deadlines.case_clock(centre.case)
    assert clock["holder"].id == centre.committee.id
    assert clock["deadlines"] == [window, offer]  # running first, then the stopped ones


def test_the_clock_partial_shows_the_holder_and_the_ledger(app: Flask, centre: Centre) -> None:
    centre.deadline(1)
    with app.test_request_context("/"):
        html = render_template(
            "deadlines/_clock.html", case=centre.case, clock=deadlines.case_clock(centre.case)
        )
    assert 'data-testid="ball-holder">' + centre.insurer.name in html
    assert deadlines.timers()["offer_expiry"]["basis"] in html
    fresh = centre.new_case()
    with app.test_request_context("/"):
        empty = render_template(
            "deadlines/_clock.html", case=fresh, clock=deadlines.case_clock(fresh)
        )
    assert 'data-testid="deadlines"' not in empty


# -- the dashboard and the API ---------------------------------------------------------------


def test_the_home_page_lists_what_waits_on_the_user_soonest_first(
    app: Flask, centre: Centre
) -> None:
    other = centre.new_case()
    centre.deadline(5, case=other)
    soon = centre.deadline(1)
    deadlines.sweep_deadlines()
    session.commit()
    client = app.test_client()
    factories.login(client, centre.adjuster)

    response = client.get("/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    table = html[html.index('data-testid="waiting"') :]
    numbers = re.findall(r'href="/cases/\d+">([^<]+)</a>', table)
    assert numbers[:2] == [centre.case.number, other.number]
    assert soon.due_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") in table
    assert 'data-testid="latest-notifications"' in html  # the due-soon notice
    assert 'data-testid="unread-count">1<' in html

    quiet = app.test_client()
    factories.login(quiet, centre.other_adjuster)
    assert 'data-testid="nothing-waiting"' in quiet.get("/").get_data(as_text=True)
    assert app.test_client().get("/").headers["Location"].endswith("/login")


def test_api_lists_the_caller_s_deadlines_and_a_case_s_clock(app: Flask, centre: Centre) -> None:
    window = centre.deadline(4, owner=centre.committee, kind="mediation_window")
    offer = centre.deadline(1)
    session.commit()
    client = app.test_client()
    headers = factories.api_token(client, centre.adjuster)

    mine = client.get("/api/v1/deadlines", headers=headers).get_json()["items"]
    assert [item["id"] for item in mine] == [offer.id]
    assert mine[0]["case_number"] == centre.case.number
    assert mine[0]["owner"] == {"id": centre.insurer.id, "name": centre.insurer.name}
    assert mine[0]["status"] == "open"

    body = client.get(f"/api/v1/cases/{centre.case.id}/deadlines", headers=headers).get_json()
    assert [item["id"] for item in body["items"]] == [offer.id, window.id]
    assert body["clock"]["holder"]["id"] == centre.insurer.id
    assert body["clock"]["deadline"]["kind"] == "offer_expiry"
    assert body["items"][1]["basis"] == deadlines.timers()["mediation_window"]["basis"]

    stranger = factories.api_token(client, centre.other_adjuster)
    answer = client.get(f"/api/v1/cases/{centre.case.id}/deadlines", headers=stranger)
    assert answer.status_code == 404
    assert client.get("/api/v1/deadlines").status_code == 401


def test_every_statutory_timer_cites_its_article_without_hedging() -> None:
    for kind, timer in deadlines.timers().items():
        if timer["days"] is None:
            continue  # set by the parties, not by law
        assert re.search(r"第[一二三四五六七八九十百零至]+条", timer["basis"]), kind
        assert "据报道" not in timer["basis"], kind
    assert deadlines.timers()["insurer_payment"]["basis"].startswith(
        "机动车交通事故责任强制保险条例第二十九条"
    )


def test_a_running_timer_is_named_by_what_must_be_done_not_as_expired(app: Flask) -> None:
    with app.test_request_context("/"):
        names = {kind: str(label) for kind, label in DEADLINE_KINDS.items()}
    assert names["mediation_window"] == "完成调解"  # shown beside 进行中, so never 届满
    assert not any("届满" in name for name in names.values())
