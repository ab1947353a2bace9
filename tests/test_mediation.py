"""Mediation: assignment by load or by hand, sessions and notes, a mediation that fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import workflow
from app.clock import BEIJING
from app.db import session, utcnow
from app.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from app.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    MediationSession,
    Notification,
    OrgKind,
)
from app.services import deadlines, mediation
from tests import factories
from tests.support.centre import Centre as SharedCentre

MEDIATION_WINDOW = workflow.BY_ACTION["file_claims"].starts[0]


class Centre(SharedCentre):
    """The shared centre in 离石区, a second mediator of the committee and a negotiating case."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.police_org.region = self.committee.region = "离石区"
        self.colleague = factories.make_user(self.committee)
        self.case = self.new_case(CaseStatus.NEGOTIATING)
        session.commit()

    def new_case(self, status: CaseStatus = CaseStatus.REPORTED, **fields: Any) -> Case:
        case = factories.make_accident_case(
            police=self.police_org, committee=self.committee, insurer=self.insurer, status=status
        )
        for name, value in fields.items():
            setattr(case, name, value)
        session.flush()
        return case


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def reload(case_id: int) -> Case:
    session.expire_all()
    return session.get(Case, case_id)


def events(action: str, case_id: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.case_id == case_id)
    return list(session.scalars(query.order_by(AuditEvent.id)))


def inbox(user: Any, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(session.scalars(query.order_by(Notification.id)))


def tomorrow_at_nine() -> datetime:
    day = (utcnow() + timedelta(days=1)).astimezone(BEIJING).date()
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=BEIJING)


# -- assignment ---------------------------------------------------------------------------


def test_round_robin_picks_the_active_mediator_with_fewest_open_cases(centre: Centre) -> None:
    third = factories.make_user(centre.committee)
    third.active = False  # an inactive mediator never gets cases
    for _ in range(2):
        centre.new_case(mediator_id=centre.mediator.id)
    centre.new_case(mediator_id=centre.colleague.id)
    # Finished cases do not count towards a mediator's load.
    for _ in range(3):
        centre.new_case(CaseStatus.CLOSED, mediator_id=centre.colleague.id)

    mediation.assign_mediator(actor=centre.admin, case=centre.case)

    assert centre.case.mediator_id == centre.colleague.id
    (event,) = events("case.mediator_assigned", centre.case.id)
    assert event.details == {"mediator_id": [None, centre.colleague.id], "automatic": True}
    (note,) = inbox(centre.colleague, "case.assigned")
    assert note.case_id == centre.case.id
    assert note.params == {"number": centre.case.number}


def test_round_robin_spreads_new_cases_over_the_committee(centre: Centre) -> None:
    cases = [centre.new_case() for _ in range(4)]
    for case in cases:
        mediation.assign_mediator(actor=centre.mediator, case=case)
    assigned = [case.mediator_id for case in cases]
    assert assigned.count(centre.mediator.id) == 2
    assert assigned.count(centre.colleague.id) == 2


def test_a_mediator_assigns_a_named_colleague_of_the_committee(centre: Centre) -> None:
    mediation.assign_mediator(
        actor=centre.mediator, case=centre.case, mediator_id=centre.colleague.id
    )
    assert reload(centre.case.id).mediator_id == centre.colleague.id
    assert len(inbox(centre.colleague, "case.assigned")) == 1
    # Assigning the same mediator again changes nothing and records nothing.
    mediation.assign_mediator(
        actor=centre.mediator, case=centre.case, mediator_id=centre.colleague.id
    )
    assert len(events("case.mediator_assigned", centre.case.id)) == 1


@pytest.mark.parametrize("who", ["other_mediator", "adjuster", "inactive", "nobody"])
def test_the_named_mediator_must_be_an_active_mediator_of_the_committee(
    centre: Centre, who: str
) -> None:
    if who == "inactive":
        centre.colleague.active = False
        mediator_id = centre.colleague.id
    elif who == "nobody":
        mediator_id = 999_999
    else:
        mediator_id = getattr(centre, who).id
    with pytest.raises(ValidationFailed) as raised:
        mediation.assign_mediator(actor=centre.mediator, case=centre.case, mediator_id=mediator_id)
    assert raised.value.details["field"] == "mediator_id"
    assert reload(centre.case.id).mediator_id is None


@pytest.mark.parametrize("who", ["other_mediator", "adjuster", "judge"])
def test_only_the_committee_s_mediators_and_admins_assign(centre: Centre, who: str) -> None:
    with pytest.raises(NotAllowed):
        mediation.assign_mediator(actor=getattr(centre, who), case=centre.case)


def test_an_admin_assigns_by_hand(centre: Centre) -> None:
    mediation.assign_mediator(actor=centre.admin, case=centre.case, mediator_id=centre.mediator.id)
    assert centre.case.mediator_id == centre.mediator.id


def test_no_assignment_without_a_committee_or_a_mediator_or_after_the_case_ended(
    centre: Centre,
) -> None:
    with pytest.raises(InvalidTransition):
        mediation.assign_mediator(actor=centre.admin, case=centre.new_case(CaseStatus.CLOSED))
    orphan = centre.new_case()
    orphan.mediation_committee_id = None
    with pytest.raises(InvalidTransition):
        mediation.assign_mediator(actor=centre.admin, case=orphan)
    empty = centre.new_case()
    empty.mediation_committee_id = factories.make_org(OrgKind.MEDIATION).id
    with pytest.raises(InvalidTransition):
        mediation.assign_mediator(actor=centre.admin, case=empty)


def test_an_admin_moves_a_case_to_another_committee_and_its_least_loaded_mediator(
    centre: Centre,
) -> None:
    mediation.assign_committee(
        actor=centre.admin, case=centre.case, committee_id=centre.other_committee.id
    )
    assert centre.case.mediation_committee_id == centre.other_committee.id
    assert centre.case.mediator_id == centre.other_mediator.id
    with pytest.raises(NotAllowed):
        mediation.assign_committee(
            actor=centre.mediator, case=centre.case, committee_id=centre.committee.id
        )
    with pytest.raises(ValidationFailed):
        mediation.assign_committee(
            actor=centre.admin, case=centre.case, committee_id=centre.insurer.id
        )


def test_the_api_moves_a_case_to_another_committee_for_admins(app: Flask, centre: Centre) -> None:
    client = app.test_client()
    url = f"/api/v1/cases/{centre.case.id}/assignment"
    body = {"committee_id": centre.other_committee.id}
    refused = client.post(url, json=body, headers=factories.api_token(client, centre.mediator))
    assert refused.status_code == 403
    moved = client.post(url, json=body, headers=factories.api_token(client, centre.admin))
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["mediation_committee_id"] == centre.other_committee.id


# -- sessions -------------------------------------------------------------------------------


def test_a_mediator_schedules_a_session_and_the_insurer_is_told(centre: Centre) -> None:
    starts = tomorrow_at_nine()
    item = mediation.schedule_session(
        actor=centre.mediator, case=centre.case, starts_at=starts, place=" 离石区调解中心 3 室 "
    )
    assert item.place == "离石区调解中心 3 室"
    assert item.video_link is None
    assert item.starts_at == starts
    (event,) = events("mediation.session_scheduled", centre.case.id)
    assert event.subject == f"mediation_session:{item.id}"
    (note,) = inbox(centre.adjuster, "mediation.session")
    assert note.params["time"] == starts.strftime("%Y-%m-%d 09:00")


def test_a_time_without_offset_is_beijing_time(centre: Centre) -> None:
    naive = tomorrow_at_nine().replace(tzinfo=None)
    item = mediation.schedule_session(
        actor=centre.mediator,
        case=centre.case,
        starts_at=naive,
        video_link="https://meet.example.cn/room/12",
    )
    session.expire_all()
    stored = session.get(MediationSession, item.id)
    assert stored.starts_at.astimezone(BEIJING).hour == 9


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "place"),
        ({"place": "   ", "video_link": ""}, "place"),
        ({"video_link": "javascript:alert(1)"}, "video_link"),
        ({"video_link": "ftp://files.example.cn/x"}, "video_link"),
        ({"video_link": "https://"}, "video_link"),
        ({"place": "调解室", "starts_in": timedelta(days=-3)}, "starts_at"),
        ({"place": "调解室", "starts_in": timedelta(days=400)}, "starts_at"),
        ({"place": "调" * 301}, "place"),
    ],
)
def test_a_session_needs_a_place_or_a_web_link_and_a_sensible_time(
    centre: Centre, fields: dict[str, Any], field: str
) -> None:
    starts = utcnow() + fields.pop("starts_in", timedelta(days=1))
    with pytest.raises(ValidationFailed) as raised:
        mediation.schedule_session(
            actor=centre.mediator, case=centre.case, starts_at=starts, **fields
        )
    assert raised.value.details["field"] == field
    assert mediation.case_sessions(centre.case) == []


def test_sessions_are_for_the_committee_while_the_case_is_mediated(centre: Centre) -> None:
    when = tomorrow_at_nine()
    for who in ("other_mediator", "adjuster", "admin"):
        with pytest.raises(NotAllowed):
            mediation.schedule_session(
                actor=getattr(centre, who), case=centre.case, starts_at=when, place="调解室"
            )
    with pytest.raises(InvalidTransition):
        mediation.schedule_session(
            actor=centre.mediator,
            case=centre.new_case(CaseStatus.AGREED),
            starts_at=when,
            place="调解室",
        )


def test_notes_are_recorded_on_a_session_of_the_case(centre: Centre) -> None:
    later = tomorrow_at_nine() + timedelta(days=1)
    second = mediation.schedule_session(
        actor=centre.mediator, case=centre.case, starts_at=later, place="调解室"
    )
    first = mediation.schedule_session(
        actor=centre.mediator, case=centre.case, starts_at=tomorrow_at_nine(), place="调解室"
    )
    assert mediation.case_sessions(centre.case) == [first, second]

    mediation.record_session_notes(
        actor=centre.colleague, case=centre.case, session_id=first.id, notes="双方就误工费分歧较大"
    )
    assert first.notes == "双方就误工费分歧较大"
    (event,) = events("mediation.session_notes", centre.case.id)
    assert event.details == {"length": [0, 10]}

    with pytest.raises(ValidationFailed):
        mediation.record_session_notes(
            actor=centre.mediator, case=centre.case, session_id=first.id, notes="  "
        )
    other_case = centre.new_case()
    with pytest.raises(NotFound):
        mediation.record_session_notes(
            actor=centre.mediator, case=other_case, session_id=first.id, notes="x"
        )
    with pytest.raises(NotAllowed):
        mediation.record_session_notes(
            actor=centre.adjuster, case=centre.case, session_id=first.id, notes="x"
        )


# -- failure ----------------------------------------------------------------------------------


def test_failed_mediation_goes_to_litigation_with_its_reason_and_stops_the_clock(
    centre: Centre,
) -> None:
    window = workflow.start_timer(centre.case, MEDIATION_WINDOW)
    offer = deadlines.add_deadline(
        case=centre.case,
        kind="offer_expiry",
        basis="当事人约定（要约期限）",
        owner_org_id=centre.insurer.id,
        due_at=utcnow() + timedelta(days=1),
        subject="offer:1",
    )
    met = deadlines.add_deadline(
        case=centre.case,
        kind="offer_expiry",
        basis="当事人约定（要约期限）",
        owner_org_id=centre.insurer.id,
        due_at=utcnow() + timedelta(days=1),
        subject="offer:0",
    )
    deadlines.close_deadlines(case=centre.case, subject="offer:0")

    mediation.fail_mediation(
        actor=centre.mediator,
        case=centre.case,
        reason=" 赔偿义务人拒绝承担精神损害抚慰金 ",
        version=centre.case.version,
    )

    case = reload(centre.case.id)
    assert case.status == CaseStatus.LITIGATION
    assert case.outcome_note == "赔偿义务人拒绝承担精神损害抚慰金"
    statuses = {d.id: d.status for d in session.scalars(select(Deadline))}
    assert statuses[window.id] == DeadlineStatus.CANCELLED
    assert statuses[offer.id] == DeadlineStatus.CANCELLED
    assert statuses[met.id] == DeadlineStatus.MET
    (event,) = events("mediation.failed", case.id)
    assert event.details["status"] == ["negotiating", "litigation"]
    assert sorted(event.details["cancelled_deadlines"]) == sorted([window.id, offer.id])
    (note,) = inbox(centre.adjuster, "mediation.failed")
    assert note.case_id == case.id


@pytest.mark.parametrize("status", [CaseStatus.REPORTED, CaseStatus.ASSESSING])
def test_mediation_can_fail_before_the_assessment_is_ready(
    centre: Centre, status: CaseStatus
) -> None:
    case = centre.new_case(status)
    mediation.fail_mediation(actor=centre.mediator, case=case, reason="当事人拒绝调解")
    assert case.status == CaseStatus.LITIGATION


def test_failure_needs_a_reason_the_right_state_a_fresh_version_and_the_committee(
    centre: Centre,
) -> None:
    with pytest.raises(ValidationFailed):
        mediation.fail_mediation(actor=centre.mediator, case=centre.case, reason="   ")
    with pytest.raises(InvalidTransition):
        mediation.fail_mediation(
            actor=centre.mediator, case=centre.case, reason="x", version=centre.case.version - 1
        )
    with pytest.raises(InvalidTransition):
        mediation.fail_mediation(
            actor=centre.mediator, case=centre.new_case(CaseStatus.AGREED), reason="x"
        )
    for who in ("other_mediator", "adjuster", "judge", "admin"):
        with pytest.raises(NotAllowed):
            mediation.fail_mediation(actor=getattr(centre, who), case=centre.case, reason="x")
    assert reload(centre.case.id).status == CaseStatus.NEGOTIATING


def test_the_mediation_window_starts_once_and_belongs_to_the_committee(centre: Centre) -> None:
    before = utcnow()
    first = workflow.start_timer(centre.case, MEDIATION_WINDOW)
    again = workflow.start_timer(centre.case, MEDIATION_WINDOW)

    assert first is not None
    assert again.id == first.id
    assert first.kind == "mediation_window"
    assert first.owner_org_id == centre.committee.id
    assert first.basis == deadlines.timers()["mediation_window"]["basis"]
    assert before + timedelta(days=10) <= first.due_at <= utcnow() + timedelta(days=10)
    orphan = centre.new_case()
    orphan.mediation_committee_id = None
    assert workflow.start_timer(orphan, MEDIATION_WINDOW) is None


# -- the portal -------------------------------------------------------------------------------


def test_the_mediation_page_offers_the_forms_to_the_committee_only(
    app: Flask, centre: Centre
) -> None:
    mediator = app.test_client()
    factories.login(mediator, centre.mediator)
    page = mediator.get(f"/cases/{centre.case.id}/mediation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for testid in ("assignment-form", "session-form", "fail-form", "case-clock"):
        assert f'data-testid="{testid}"' in html

    adjuster = app.test_client()
    factories.login(adjuster, centre.adjuster)
    html = adjuster.get(f"/cases/{centre.case.id}/mediation").get_data(as_text=True)
    assert 'data-testid="sessions"' in html
    assert "session-form" not in html
    assert "fail-form" not in html
    assert adjuster.post(f"/cases/{centre.case.id}/mediation/fail").status_code == 403

    outsider = app.test_client()
    factories.login(outsider, centre.other_mediator)
    assert outsider.get(f"/cases/{centre.case.id}/mediation").status_code == 404


def test_a_mediator_works_the_case_in_the_portal(app: Flask, centre: Centre) -> None:
    client = app.test_client()
    factories.login(client, centre.mediator)
    base = f"/cases/{centre.case.id}/mediation"

    response = client.post(f"{base}/assignment", data={"mediator_id": str(centre.colleague.id)})
    assert response.status_code == 302
    assert reload(centre.case.id).mediator_id == centre.colleague.id

    when = tomorrow_at_nine().strftime("%Y-%m-%dT%H:%M")
    refused = client.post(f"{base}/sessions", data={"starts_at": when})
    assert refused.status_code == 422
    assert mediation.case_sessions(centre.case) == []
    bad_link = client.post(
        f"{base}/sessions", data={"starts_at": when, "video_link": "javascript:alert(1)"}
    )
    assert bad_link.status_code == 422
    assert client.post(f"{base}/sessions", data={"place": "调解室"}).status_code == 400
    done = client.post(f"{base}/sessions", data={"starts_at": when, "place": "离石区调解中心"})
    assert done.status_code == 302
    (item,) = mediation.case_sessions(reload(centre.case.id))
    assert item.starts_at.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M") == when

    noted = client.post(f"{base}/notes", data={"session_id": str(item.id), "notes": "首次调解"})
    assert noted.status_code == 302
    session.expire_all()
    assert session.get(MediationSession, item.id).notes == "首次调解"
    assert "首次调解" in client.get(base).get_data(as_text=True)

    assert client.post(f"{base}/fail", data={"reason": ""}).status_code == 400
    stale = client.post(f"{base}/fail", data={"reason": "不同意", "version": "0"})
    assert stale.status_code == 409
    failed = client.post(
        f"{base}/fail", data={"reason": "不同意", "version": str(reload(centre.case.id).version)}
    )
    assert failed.status_code == 302
    case = reload(centre.case.id)
    assert case.status == CaseStatus.LITIGATION
    assert 'data-testid="outcome-note"' in client.get(base).get_data(as_text=True)


# -- the API ----------------------------------------------------------------------------------


def api(app: Flask, user: Any) -> tuple[Any, dict[str, str]]:
    client = app.test_client()
    return client, factories.api_token(client, user)


def test_api_assigns_schedules_notes_and_fails(app: Flask, centre: Centre) -> None:
    client, headers = api(app, centre.mediator)
    base = f"/api/v1/cases/{centre.case.id}"

    assigned = client.post(f"{base}/assignment", json={}, headers=headers)
    assert assigned.status_code == 200, assigned.get_json()
    assert assigned.get_json()["mediator"]["id"] in (centre.mediator.id, centre.colleague.id)
    named = client.post(
        f"{base}/assignment", json={"mediator_id": centre.colleague.id}, headers=headers
    )
    assert named.get_json()["mediator"]["id"] == centre.colleague.id
    wrong = client.post(
        f"{base}/assignment", json={"mediator_id": centre.other_mediator.id}, headers=headers
    )
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["code"] == "invalid_input"

    starts = tomorrow_at_nine().isoformat()
    created = client.post(
        f"{base}/sessions",
        json={"starts_at": starts, "video_link": "https://meet.example.cn/r/1"},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    item = created.get_json()
    assert datetime.fromisoformat(item["starts_at"]) == datetime.fromisoformat(starts)
    for body in ({"starts_at": "soon", "place": "调解室"}, {"starts_at": starts}):
        refused = client.post(f"{base}/sessions", json=body, headers=headers)
        assert refused.status_code == 422, body

    noted = client.post(
        f"{base}/session-notes", json={"session_id": item["id"], "notes": "改期"}, headers=headers
    )
    assert noted.status_code == 200
    assert noted.get_json()["notes"] == "改期"
    listed = client.get(f"{base}/sessions", headers=headers).get_json()["items"]
    assert [s["notes"] for s in listed] == ["改期"]

    version = reload(centre.case.id).version
    no_reason = client.post(f"{base}/mediation/fail", json={"version": version}, headers=headers)
    assert no_reason.status_code == 422
    failed = client.post(
        f"{base}/mediation/fail",
        json={"reason": "对残疾等级有争议", "version": version},
        headers=headers,
    )
    assert failed.status_code == 200, failed.get_json()
    assert failed.get_json()["status"] == "litigation"
    assert failed.get_json()["outcome_note"] == "对残疾等级有争议"
    again = client.post(
        f"{base}/mediation/fail",
        json={"reason": "x", "version": reload(centre.case.id).version},
        headers=headers,
    )
    assert again.status_code == 409


def test_api_answers_other_roles_403_and_strangers_404(app: Flask, centre: Centre) -> None:
    base = f"/api/v1/cases/{centre.case.id}"
    client, headers = api(app, centre.adjuster)
    assert client.get(f"{base}/sessions", headers=headers).status_code == 200
    for path in ("assignment", "sessions", "session-notes", "mediation/fail"):
        response = client.post(f"{base}/{path}", json={}, headers=headers)
        assert response.status_code == 403, path
        assert response.get_json()["error"]["code"] == "forbidden"

    client, headers = api(app, centre.other_mediator)
    assert client.get(f"{base}/sessions", headers=headers).status_code == 404
    assert client.post(f"{base}/assignment", json={}, headers=headers).status_code == 404
    assert app.test_client().get(f"{base}/sessions").status_code == 401
