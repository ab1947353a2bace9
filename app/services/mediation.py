"""Mediation: who mediates a case, its sessions and notes, and a mediation that fails."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select

from app import access, audit, validation, workflow
from app.clock import BEIJING
from app.db import session, utcnow
from app.errors import InvalidTransition, NotFound, ValidationFailed
from app.i18n import local_time
from app.labels import N_
from app.models import (
    MEDIATED_STATES,
    Case,
    CaseStatus,
    MediationSession,
    Organization,
    OrgKind,
    Role,
    User,
)
from app.services import notifications
from app.services.intake import _least_loaded_mediator
from app.validation import check_version

# A case can be (re)assigned while it is with the platform and not finished or in court.
ASSIGNABLE_STATES = (
    CaseStatus.REPORTED,
    CaseStatus.ASSESSING,
    CaseStatus.NEGOTIATING,
    CaseStatus.AGREED,
    CaseStatus.CONFIRMING,
    CaseStatus.CONFIRMED,
    CaseStatus.PAID,
)
# Notes may still be written up after the mediation ended, but not once the case is closed.
NOTES_CLOSED_STATES = (CaseStatus.DRAFT, CaseStatus.WITHDRAWN, CaseStatus.CLOSED)
PLACE_MAX, LINK_MAX, NOTES_MAX, REASON_MAX = 300, 500, 20000, 4000
# A session may be recorded shortly after it began (an impromptu meeting), or up to a year ahead.
SESSION_PAST_GRACE = timedelta(hours=24)
SESSION_HORIZON = timedelta(days=366)


# -- who may do what ----------------------------------------------------------------------


def can_assign(user: User, case: Case) -> bool:
    """True if the user may (re)assign the case's mediator: its committee's mediators, admins."""
    if case.mediation_committee_id is None or case.status not in ASSIGNABLE_STATES:
        return False
    return access.is_admin(user) or access.is_case_mediator(user, case)


def can_mediate(user: User, case: Case) -> bool:
    """True if the user is a mediator of the case's committee (sessions, notes, failure)."""
    return access.is_case_mediator(user, case)


def case_mediator(case: Case) -> User | None:
    """The mediator the case is assigned to, if any."""
    return session.get(User, case.mediator_id) if case.mediator_id else None


def case_committee(case: Case) -> Organization | None:
    """The mediation committee of the case, if any."""
    if case.mediation_committee_id is None:
        return None
    return session.get(Organization, case.mediation_committee_id)


# -- assignment ---------------------------------------------------------------------------


def assign_committee(*, actor: User, case: Case, committee_id: int) -> Case:
    """An admin moves a case to another mediation committee, to its least-loaded mediator."""
    access.require_role(actor, Role.ADMIN)
    if case.status not in ASSIGNABLE_STATES:
        raise InvalidTransition(_("A case in this state cannot be assigned to a mediator."))
    committee = session.get(Organization, committee_id)
    if committee is None or committee.kind != OrgKind.MEDIATION or not committee.active:
        raise ValidationFailed(
            _("Organisation %(id)s is not an active mediation committee.", id=committee_id),
            field="committee_id",
        )
    previous = case.mediation_committee_id
    if previous == committee.id:
        return case
    case.mediation_committee_id = committee.id
    case.mediator_id = None
    case.updated_at = utcnow()
    session.flush()
    audit.record(
        "case.committee_assigned",
        actor=actor,
        case_id=case.id,
        subject=f"org:{committee.id}",
        details={"mediation_committee_id": [previous, committee.id]},
    )
    if _least_loaded_mediator(committee) is not None:
        assign_mediator(actor=actor, case=case)
    return case


def assign_mediator(*, actor: User, case: Case, mediator_id: int | None = None) -> Case:
    """Assign the case to a mediator of its committee; without one named, the least loaded."""
    if not access.is_admin(actor):
        access.require_case_mediator(actor, case)
    if case.mediation_committee_id is None:
        raise InvalidTransition(_("The case has no mediation committee to assign it within."))
    if case.status not in ASSIGNABLE_STATES:
        raise InvalidTransition(_("A case in this state cannot be assigned to a mediator."))
    if mediator_id is None:
        committee = session.get(Organization, case.mediation_committee_id)
        mediator = _least_loaded_mediator(committee) if committee else None
        if mediator is None:
            raise InvalidTransition(_("The mediation committee has no active mediator."))
    else:
        mediator = session.get(User, mediator_id)
        if (
            mediator is None
            or mediator.role != Role.MEDIATOR
            or mediator.org_id != case.mediation_committee_id
            or not mediator.is_active
        ):
            raise ValidationFailed(
                _("The mediator must be an active mediator of the case's committee."),
                field="mediator_id",
            )
    previous = case.mediator_id
    if previous == mediator.id:
        return case
    case.mediator_id = mediator.id
    case.updated_at = utcnow()
    session.flush()
    audit.record(
        "case.mediator_assigned",
        actor=actor,
        case_id=case.id,
        subject=f"user:{mediator.id}",
        details={"mediator_id": [previous, mediator.id], "automatic": mediator_id is None},
    )
    if mediator.id != actor.id:
        notifications.notify_users(
            users=[mediator],
            case=case,
            kind="case.assigned",
            message=N_("Case %(number)s was assigned to you for mediation."),
            number=case.number,
        )
    return case


def committee_mediators(case: Case) -> list[User]:
    """The active mediators of the case's committee, by name."""
    if case.mediation_committee_id is None:
        return []
    return list(
        session.scalars(
            select(User)
            .where(
                User.org_id == case.mediation_committee_id,
                User.role == Role.MEDIATOR,
                User.active.is_(True),
            )
            .order_by(User.display_name, User.id)
        )
    )


# -- sessions -----------------------------------------------------------------------------


def _video_link(value: str | None) -> str | None:
    link = validation.text(value, name="video_link", label=_("Video link"), limit=LINK_MAX)
    if link is None:
        return None
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            _("The video link must be a web address starting with http:// or https://."),
            field="video_link",
        )
    return link


def _session_time(starts_at: datetime) -> datetime:
    if not isinstance(starts_at, datetime):
        raise ValidationFailed(_("Give the session's date and time."), field="starts_at")
    if starts_at.tzinfo is None:  # what a person types is Beijing time
        starts_at = starts_at.replace(tzinfo=BEIJING)
    now = utcnow()
    if starts_at < now - SESSION_PAST_GRACE:
        raise ValidationFailed(_("The session's time is in the past."), field="starts_at")
    if starts_at > now + SESSION_HORIZON:
        raise ValidationFailed(
            _("The session's time must be within the next year."), field="starts_at"
        )
    return starts_at


def schedule_session(
    *,
    actor: User,
    case: Case,
    starts_at: datetime,
    place: str | None = None,
    video_link: str | None = None,
    notes: str | None = None,
) -> MediationSession:
    """A mediator schedules a session at a place or by video link; the insurers are told."""
    access.require_case_mediator(actor, case)
    if case.status not in MEDIATED_STATES:
        raise InvalidTransition(_("Sessions can be scheduled only while the case is mediated."))
    when = _session_time(starts_at)
    where = validation.text(place, name="place", label=_("Place of the session"), limit=PLACE_MAX)
    link = _video_link(video_link)
    if where is None and link is None:
        raise ValidationFailed(_("Give the session's place or its video link."), field="place")
    mediation_session = MediationSession(
        case_id=case.id,
        starts_at=when,
        place=where,
        video_link=link,
        notes=validation.text(notes, name="notes", label=_("Notes"), limit=NOTES_MAX),
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    session.add(mediation_session)
    session.flush()
    audit.record(
        "mediation.session_scheduled",
        actor=actor,
        case_id=case.id,
        subject=f"mediation_session:{mediation_session.id}",
        details={"starts_at": when.isoformat(), "place": where, "video_link": link},
    )
    for org_id in notifications.insurer_org_ids(case):
        notifications.notify_org(
            org_id=org_id,
            case=case,
            kind="mediation.session",
            message=N_("A mediation session of case %(number)s is scheduled for %(time)s."),
            number=case.number,
            time=local_time(when),
        )
    return mediation_session


def record_session_notes(
    *, actor: User, case: Case, session_id: int, notes: str
) -> MediationSession:
    """A mediator writes down what was said and agreed at a session (replacing earlier notes)."""
    access.require_case_mediator(actor, case)
    mediation_session = session.get(MediationSession, session_id)
    if mediation_session is None or mediation_session.case_id != case.id:
        raise NotFound(_("No such mediation session in this case."))
    if case.status in NOTES_CLOSED_STATES:
        raise InvalidTransition(_("The case is closed: its sessions can no longer change."))
    text = validation.text(notes, name="notes", label=_("Notes"), limit=NOTES_MAX)
    if text is None:
        raise ValidationFailed(_("Write the session's notes."), field="notes")
    previous = mediation_session.notes
    mediation_session.notes = text
    session.flush()
    audit.record(
        "mediation.session_notes",
        actor=actor,
        case_id=case.id,
        subject=f"mediation_session:{mediation_session.id}",
        details={"length": [len(previous or ""), len(text)]},
    )
    return mediation_session


def case_sessions(case: Case) -> list[MediationSession]:
    """The case's mediation sessions, earliest first."""
    return list(
        session.scalars(
            select(MediationSession)
            .where(MediationSession.case_id == case.id)
            .order_by(MediationSession.starts_at, MediationSession.id)
        )
    )


# -- the end of mediation -----------------------------------------------------------------


def fail_mediation(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    """Mediation failed: the case goes towards litigation with the reason; its timers stop."""
    workflow.check(case, "fail_mediation", actor)
    check_version(case, version)
    text = validation.text(reason, name="reason", label=_("Reason"), limit=REASON_MAX)
    if text is None:
        raise ValidationFailed(_("Give the reason why the mediation failed."), field="reason")
    case.outcome_note = text
    workflow.transition(case, "fail_mediation", actor, reason=text)
    return case
