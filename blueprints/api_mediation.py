"""API routes: mediation: assignment, sessions, failure; deadlines and notifications."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app import access, presenters, worklist
from app.db import AfterCommit
from app.errors import ValidationFailed
from app.labels import DEADLINE_KINDS, DEADLINE_STATUS_LABELS
from app.models import Case, Deadline, MediationSession, Notification, Organization, Role
from app.services import cases as case_service
from app.services import deadlines, liability, mediation, notifications
from blueprints import api_bodies as bodies
from blueprints.api import bp, case_with_liability, read_body
from blueprints.openapi import op, path_id

# -- JSON views ---------------------------------------------------------------------------


def deadline_json(
    deadline: Deadline, cases: dict[int, Case], owners: dict[int, Organization]
) -> dict[str, Any]:
    case = cases.get(deadline.case_id)
    owner = owners.get(deadline.owner_org_id)
    return {
        "id": deadline.id,
        "case_id": deadline.case_id,
        "case_number": case.number if case else None,
        "kind": deadline.kind,
        "kind_label": str(DEADLINE_KINDS.get(deadline.kind, deadline.kind)),
        "subject": deadline.subject,
        "basis": deadline.basis,
        "owner": {"id": deadline.owner_org_id, "name": owner.name if owner else None},
        "due_at": presenters.iso(deadline.due_at),
        "status": deadline.status.value,
        "status_label": str(DEADLINE_STATUS_LABELS[deadline.status.value]),
        "closed_at": presenters.iso(deadline.closed_at),
    }


def session_json(item: MediationSession) -> dict[str, Any]:
    return {
        "id": item.id,
        "case_id": item.case_id,
        "starts_at": presenters.iso(item.starts_at),
        "place": item.place,
        "video_link": item.video_link,
        "notes": item.notes,
        "created_by_id": item.created_by_id,
        "created_at": presenters.iso(item.created_at),
    }


def notification_json(item: Notification) -> dict[str, Any]:
    return {
        "id": item.id,
        "case_id": item.case_id,
        "kind": item.kind,
        "message": worklist.notification_text(item),
        "created_at": presenters.iso(item.created_at),
        "read": item.read_at is not None,
        "read_at": presenters.iso(item.read_at),
    }


def _assignment_json(case: Case) -> dict[str, Any]:
    mediator = mediation.case_mediator(case)
    return {
        "case_id": case.id,
        "version": case.version,
        "mediation_committee_id": case.mediation_committee_id,
        "mediator": (
            {"id": mediator.id, "username": mediator.username, "name": mediator.display_name}
            if mediator
            else None
        ),
    }


# -- mediation ----------------------------------------------------------------------------


@bp.post("/cases/<int:case_id>/assignment")
def mediation_assign(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR, Role.ADMIN)
    body = read_body(bodies.ASSIGNMENT)
    if body["committee_id"] is not None:
        mediation.assign_committee(actor=current_user, case=case, committee_id=body["committee_id"])
        return jsonify(_assignment_json(case))
    mediation.assign_mediator(actor=current_user, case=case, mediator_id=body["mediator_id"])
    return jsonify(_assignment_json(case))


@bp.get("/cases/<int:case_id>/sessions")
def mediation_sessions(case_id: int):
    case = access.get_case(current_user, case_id)
    return jsonify(items=[session_json(item) for item in mediation.case_sessions(case)])


@bp.post("/cases/<int:case_id>/sessions")
def mediation_schedule_session(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    body = read_body(bodies.SESSION)
    created = mediation.schedule_session(
        actor=current_user,
        case=case,
        starts_at=body["starts_at"],
        place=body["place"],
        video_link=body["video_link"],
        notes=body["notes"],
    )
    return jsonify(session_json(created)), 201


@bp.post("/cases/<int:case_id>/session-notes")
def mediation_session_notes(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    body = read_body(bodies.SESSION_NOTES)
    updated = mediation.record_session_notes(
        actor=current_user, case=case, session_id=body["session_id"], notes=body["notes"] or ""
    )
    return jsonify(session_json(updated))


@bp.post("/cases/<int:case_id>/mediation/fail")
def mediation_fail(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    body = read_body(bodies.MEDIATION_FAILED)
    mediation.fail_mediation(
        actor=current_user, case=case, reason=body["reason"] or "", version=body["version"]
    )
    return jsonify(
        {
            **presenters.case_json(case, case_service.case_jobs(case), reader=current_user),
            "outcome_note": case.outcome_note,
        }
    )


@bp.put("/cases/<int:case_id>/liability")
def decide_liability(case_id: int):
    case = access.get_case(current_user, case_id)
    access.require_role(current_user, Role.MEDIATOR)
    body = read_body(bodies.LIABILITY)
    liability.decide_liability(
        actor=current_user,
        case=case,
        parties=body["parties"],
        basis=body["basis"],
        version=body["version"],
    )
    return AfterCommit(lambda: jsonify(case_with_liability(case)))


# -- deadlines ----------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>/deadlines")
def case_deadlines(case_id: int):
    case = access.get_case(current_user, case_id)
    clock = deadlines.case_clock(case)
    cases, owners = {case.id: case}, clock["owners"]
    ball = clock["ball"]
    return jsonify(
        items=[deadline_json(item, cases, owners) for item in clock["deadlines"]],
        clock={
            "holder": (
                {"id": clock["holder"].id, "name": clock["holder"].name}
                if clock["holder"]
                else None
            ),
            "deadline": deadline_json(ball, cases, owners) if ball else None,
            "waiting": [
                {
                    "kind": step["kind"],
                    "label": str(step["label"]),
                    "owner": {"id": step["owner"].id, "name": step["owner"].name}
                    if step["owner"]
                    else None,
                }
                for step in clock["waiting"]
            ],
        },
    )


@bp.get("/deadlines")
def waiting_deadlines():
    waiting = deadlines.waiting_on(current_user)
    details = deadlines.deadline_details(waiting)
    return jsonify(
        items=[deadline_json(item, details["cases"], details["owners"]) for item in waiting]
    )


# -- notifications ------------------------------------------------------------------------


@bp.get("/notifications")
def list_notifications():
    unread_only = request.args.get("unread", "").lower() in ("1", "true", "yes")
    limit = request.args.get("limit", 50, type=int)
    if not 1 <= limit <= 200:
        raise ValidationFailed(
            _("The number of notifications must be between 1 and 200."), field="limit"
        )
    items = notifications.user_notifications(current_user, limit=limit, unread_only=unread_only)
    return jsonify(
        items=[notification_json(item) for item in items],
        unread=notifications.unread_count(current_user),
    )


@bp.post("/notifications/read")
def read_notifications():
    ids = read_body(bodies.NOTIFICATIONS_READ)["ids"]
    if ids is not None and (
        not isinstance(ids, list) or not all(_is_whole(value) for value in ids)
    ):
        raise ValidationFailed(_("The notifications must be a list of their ids."), field="ids")
    marked = notifications.mark_read(user=current_user, ids=ids)
    return jsonify(marked=marked, unread=notifications.unread_count(current_user))


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_CASE = [path_id("case_id")]


OPENAPI_PATHS: dict[str, Any] = {
    "/cases/{case_id}/assignment": {
        "post": op(
            "Assign the case to a mediator of its committee (its mediators or an admin); "
            "without mediator_id, the committee's mediator with the fewest open cases; "
            "an admin may give committee_id to move the case to another committee",
            params=_CASE,
            errors=("401", "403", "404", "409", "422"),
            body=bodies.ASSIGNMENT,
        )
    },
    "/cases/{case_id}/sessions": {
        "get": op("The case's mediation sessions, earliest first", params=_CASE),
        "post": op(
            "A mediator of the committee schedules a session: a place or an http(s) video "
            "link (or both); a time without offset is Beijing time",
            ok="201",
            params=_CASE,
            errors=("401", "403", "404", "409", "422"),
            body=bodies.SESSION,
        ),
    },
    "/cases/{case_id}/session-notes": {
        "post": op(
            "A mediator of the committee records a session's notes (replacing earlier ones)",
            params=_CASE,
            errors=("401", "403", "404", "409", "422"),
            body=bodies.SESSION_NOTES,
        )
    },
    "/cases/{case_id}/mediation/fail": {
        "post": op(
            "A mediator of the committee records that mediation failed, with the reason: "
            "reported, assessing or negotiating → litigation; running deadlines are cancelled",
            params=_CASE,
            errors=("401", "403", "404", "409", "422"),
            body=bodies.MEDIATION_FAILED,
        )
    },
    "/cases/{case_id}/liability": {
        "put": op(
            "A mediator of the committee decides each party's liability where the police "
            "letter determined none (a 道路交通事故证明, or a party the letter leaves open), "
            "with the basis of the decision; until every liable party has one, claims are "
            "refused (409 liability_undetermined). Parties are named by id (as in the case's "
            "parties) or label; a stale version or a liability the police determined answers "
            "409. Answers the case with its `liability` (pending parties, latest decision)",
            params=_CASE,
            errors=("401", "403", "404", "409", "422"),
            body=bodies.LIABILITY,
        )
    },
    "/cases/{case_id}/deadlines": {
        "get": op(
            "The case's deadline ledger (running first, soonest first) and its clock: who "
            "has the ball (the owner of the soonest running deadline, and steps without a "
            "deadline that wait on an organisation, such as deciding the liability)",
            params=_CASE,
        )
    },
    "/deadlines": {
        "get": op(
            "Running deadlines waiting on the caller's organisation (admins: all), on cases "
            "the caller may see, soonest first",
            errors=("401",),
        )
    },
    "/notifications": {
        "get": op(
            "The caller's notifications, newest first, with the unread count",
            errors=("401", "422"),
            params=[
                {
                    "name": "unread",
                    "in": "query",
                    "required": False,
                    "description": "1: only unread ones",
                    "schema": {"type": "string"},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "description": "at most this many (1–200, default 50)",
                    "schema": {"type": "integer"},
                },
            ],
        )
    },
    "/notifications/read": {
        "post": op(
            "Mark the caller's notifications read: those of ids, or all without ids",
            errors=("401", "422"),
            body=bodies.NOTIFICATIONS_READ,
        )
    },
}
