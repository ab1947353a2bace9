"""The case's life cycle as data (DESIGN.md §2): states, transitions and what each sets off.

Each `Transition` row names the states it leaves, the state it enters, who may take it (the
case-level parts of `app.access`, or nobody for a step the system takes as a consequence of
another), a guard, and the side effects it registers: the audit event, the timers it meets,
cancels or starts, the notices it sends and the jobs it schedules. `transition()` is the one
place a case's status is written. `Step` rows are the actions that do not change the status
(offers, payments, the tribunal's acceptance); together they answer `allowed_actions()`, which
drives the case page's buttons and `GET /api/v1/cases/{id}/actions`.

A service does the work of a step (store the agreement, make the ruling), calls `check()` before
that work if the work is costly, and `transition()` once it is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app import access, audit, jobs
from app.db import session, utcnow
from app.errors import DomainError, InvalidTransition, NotAllowed
from app.labels import N_
from app.models import (
    MEDIATED_STATES,
    Agreement,
    AgreementStatus,
    Case,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    Role,
    User,
)
from app.services import deadlines, liability, notifications

S = CaseStatus

# The parts a user can play in a case, each with its roles and its predicate (app/access.py).
PARTS: dict[str, tuple[Role, Callable[[User, Case], bool]]] = {
    "reporter": (Role.POLICE, access.is_case_reporter),
    "mediator": (Role.MEDIATOR, access.is_case_mediator),
    "insurer": (Role.ADJUSTER, access.is_case_insurer),
    "tribunal": (Role.JUDGE, access.is_case_tribunal),
    "admin": (Role.ADMIN, lambda user, _case: access.is_admin(user)),
}
PART_REFUSALS = {
    "reporter": N_("Only the reporting unit may review this case."),
    "mediator": N_("Only a mediator of the case's mediation committee may do this."),
    "insurer": N_("Only an adjuster of an insurer on this case may do this."),
    "tribunal": N_("Only a judge of the tribunal the case was sent to may do this."),
}


@dataclass(frozen=True)
class Notice:
    """A message to an organisation of the case: `committee`, `insurers` or `tribunal`; its
    parameters are the case number and, by name, values of the transition's details."""

    to: str
    message: str
    params: tuple[tuple[str, str], ...] = ()  # (message parameter, key of the details)


@dataclass(frozen=True)
class Timer:
    """A statutory timer a transition starts, owned by the case's `committee` or `tribunal`;
    one `per_subject` starts again for each new subject (agreement, application), the others
    once per case."""

    kind: str
    owner: str
    per_subject: bool = True


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[CaseStatus, ...]
    target: CaseStatus
    parts: tuple[str, ...]  # empty: the system takes it, as a consequence of another step
    label: str
    refusal: str  # shown when the case is in another state
    event: str
    guard: Callable[[Case], None] | None = None  # raises a DomainError when the step must wait
    meets: tuple[str, ...] = ()  # timer kinds met
    cancels: tuple[str, ...] = ()  # timer kinds cancelled; "*" for every running timer
    starts: tuple[Timer, ...] = ()
    notices: tuple[Notice, ...] = ()
    jobs: tuple[str, ...] = ()  # job kinds scheduled with the case as subject
    # States the step is also taken from, beyond DESIGN.md's drawing: claims filed again re-run
    # the assessment; mediation may fail before the assessment is ready.
    also_from: tuple[CaseStatus, ...] = ()


@dataclass(frozen=True)
class Step:
    """An action that keeps the case's status: who may take it in which states."""

    action: str
    states: tuple[CaseStatus, ...]
    parts: tuple[str, ...]
    label: str
    timer: str | None = None  # the timer the action answers, for its deadline
    guard: Callable[[Case], bool] = field(default=lambda case: True)


def _require_draft_agreement(case: Case) -> None:
    newest = session.scalars(
        select(Agreement.status)
        .where(Agreement.case_id == case.id, Agreement.status != AgreementStatus.SUPERSEDED)
        .order_by(Agreement.id.desc())
        .limit(1)
    ).first()
    if newest != AgreementStatus.DRAFT:
        raise InvalidTransition(_("There is no drafted agreement to sign."))


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "confirm_report",
        (S.DRAFT,),
        S.REPORTED,
        ("reporter",),
        _l("Confirm the report"),
        N_("Only a draft case can be confirmed."),
        "case.confirmed",
        notices=(
            Notice(
                "committee",
                N_("Case %(number)s was confirmed by the police and waits for its mediation."),
            ),
        ),
    ),
    Transition(
        "withdraw",
        (S.DRAFT,),
        S.WITHDRAWN,
        ("reporter",),
        _l("Withdraw the case"),
        N_("Only a draft case can be withdrawn."),
        "case.withdrawn",
    ),
    Transition(
        "file_claims",
        (S.REPORTED,),
        S.ASSESSING,
        ("mediator",),
        _l("File the claims"),
        N_("Claims can be filed once the police have confirmed the case."),
        "claims.filed",
        guard=liability.require_decided,
        starts=(Timer("mediation_window", "committee", per_subject=False),),
        also_from=(S.ASSESSING, S.NEGOTIATING),
    ),
    Transition(
        "assessment_ready",
        (S.ASSESSING,),
        S.NEGOTIATING,
        (),
        _l("Assessment ready"),
        N_("Only a case being assessed can move on to negotiation."),
        "case.assessed",
        notices=(
            Notice(
                "insurers",
                N_("Case %(number)s is assessed: the mediation waits for your offer."),
            ),
        ),
    ),
    Transition(
        "sign_agreement",
        (S.NEGOTIATING,),
        S.AGREED,
        ("mediator",),
        _l("Record the signed agreement"),
        N_("Only an agreement of a case being negotiated can be signed."),
        "agreement.signed",
        guard=_require_draft_agreement,
        meets=("mediation_window",),
        starts=(Timer("confirmation_application", "committee"),),
    ),
    Transition(
        "fail_mediation",
        (S.NEGOTIATING,),
        S.LITIGATION,
        ("mediator",),
        _l("Mediation failed"),
        N_("Only a case under mediation can fail mediation."),
        "mediation.failed",
        cancels=("*",),
        also_from=(S.REPORTED, S.ASSESSING),
        notices=(
            Notice(
                "insurers",
                N_("Mediation of case %(number)s failed; the case goes towards litigation."),
            ),
        ),
        jobs=("litigation.package",),
    ),
    Transition(
        "request_confirmation",
        (S.AGREED,),
        S.CONFIRMING,
        ("mediator",),
        _l("Apply for judicial confirmation"),
        N_("Only a case with a signed agreement can be sent for judicial confirmation."),
        "confirmation.requested",
        meets=("confirmation_application",),
        starts=(Timer("court_acceptance", "tribunal"),),
        notices=(
            Notice(
                "tribunal",
                N_(
                    "Case %(number)s: judicial confirmation of its settlement agreement is "
                    "applied for."
                ),
            ),
        ),
    ),
    Transition(
        "confirm_settlement",
        (S.CONFIRMING,),
        S.CONFIRMED,
        ("tribunal",),
        _l("Confirm the agreement"),
        N_("The case has no application for confirmation awaiting a decision."),
        "confirmation.confirmed",
        meets=("court_decision",),
        notices=(
            Notice(
                "committee",
                N_("Case %(number)s: the tribunal confirmed the agreement (ruling %(ruling)s)."),
                (("ruling", "ruling_number"),),
            ),
        ),
    ),
    Transition(
        "reject_to_mediation",
        (S.CONFIRMING,),
        S.NEGOTIATING,
        ("tribunal",),
        _l("Reject: back to mediation"),
        N_("The case has no application for confirmation awaiting a decision."),
        "confirmation.rejected",
        meets=("court_decision",),
        notices=(
            Notice(
                "committee",
                N_("Case %(number)s: the tribunal rejected the application; mediation resumes."),
            ),
        ),
    ),
    Transition(
        "reject_to_litigation",
        (S.CONFIRMING,),
        S.LITIGATION,
        ("tribunal",),
        _l("Reject: to litigation"),
        N_("The case has no application for confirmation awaiting a decision."),
        "confirmation.rejected",
        meets=("court_decision",),
        notices=(
            Notice(
                "committee",
                N_(
                    "Case %(number)s: the tribunal rejected the application; the case goes "
                    "towards litigation."
                ),
            ),
        ),
        jobs=("litigation.package",),
    ),
    Transition(
        "paid",
        (S.AGREED, S.CONFIRMED),
        S.PAID,
        (),
        _l("Paid"),
        N_("Payments are recorded only for an agreed or confirmed case."),
        "case.paid",
        # Once paid the case can no longer go to the tribunal: its timer is moot.
        cancels=("confirmation_application",),
        notices=(
            Notice(
                "committee",
                N_("Every payer of case %(number)s has paid its agreed amount: the case is paid."),
            ),
        ),
    ),
    Transition(
        "close",
        (S.PAID,),
        S.CLOSED,
        ("mediator", "admin"),
        _l("Close the case"),
        N_("Only a paid case can be closed."),
        "case.closed",
        cancels=("*",),
    ),
)

STEPS: tuple[Step, ...] = (
    Step(
        "decide_liability",
        MEDIATED_STATES,
        ("mediator",),
        _l("Decide the accident liability"),
        guard=liability.is_undetermined_by_police,
    ),
    Step("make_offer", (S.NEGOTIATING,), ("insurer", "mediator"), _l("Make an offer")),
    Step("draft_agreement", (S.NEGOTIATING,), ("mediator",), _l("Draft the agreement")),
    Step(
        "accept_application",
        (S.CONFIRMING,),
        ("tribunal",),
        _l("Accept the application"),
        timer="court_acceptance",
    ),
    Step(
        "record_payment",
        (S.AGREED, S.CONFIRMED),
        ("insurer", "mediator"),
        _l("Record a payment"),
        timer="insurer_payment",
    ),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
STEP_BY_ACTION: dict[str, Step] = {s.action: s for s in STEPS}
# The timer each transition answers, for the deadline shown next to it.
TIMERS = {
    "file_claims": "mediation_window",
    "sign_agreement": "mediation_window",
    "request_confirmation": "confirmation_application",
    "confirm_settlement": "court_decision",
    "reject_to_mediation": "court_decision",
    "reject_to_litigation": "court_decision",
}


def plays(user: User, case: Case, parts: tuple[str, ...]) -> bool:
    """True if `user` plays one of `parts` in `case`."""
    return any(PARTS[part][1](user, case) for part in parts)


def _require_part(user: User | None, case: Case, parts: tuple[str, ...]) -> None:
    if not parts:
        return
    if user is None:
        raise NotAllowed(_("Your role may not do this."))
    if not plays(user, case, parts):
        access.require_role(user, *(PARTS[part][0] for part in parts))
        refusals = [PART_REFUSALS[part] for part in parts if part in PART_REFUSALS]
        raise NotAllowed(_(refusals[0]) if refusals else _("Your role may not do this."))


def check(case: Case, action: str, actor: User | None) -> Transition:
    """Raise unless `actor` may take `action` on `case` now: NotAllowed for someone who plays
    no part in it, InvalidTransition in another state, the guard's error while it must wait."""
    step = BY_ACTION[action]
    _require_part(actor, case, step.parts)
    if case.status not in step.sources + step.also_from:
        raise InvalidTransition(_(step.refusal))
    if step.guard is not None:
        step.guard(case)
    return step


def permits(case: Case, action: str, user: User) -> bool:
    """Whether `user` may take `action` (a transition or a step) on `case` now."""
    if action in STEP_BY_ACTION:
        step = STEP_BY_ACTION[action]
        return case.status in step.states and plays(user, case, step.parts) and step.guard(case)
    try:
        check(case, action, user)
    except DomainError:
        return False
    return True


def transition(
    case: Case,
    action: str,
    actor: User | None,
    *,
    subject: str | None = None,
    at: datetime | None = None,
    **details: Any,
) -> CaseStatus:
    """Take `action` on `case` at `at` (default now): check it, write the new status, meet,
    cancel and start its timers, send its notices, schedule its jobs and record its audit
    event with `details`. Returns the status the case left."""
    step = check(case, action, actor)
    before = case.status
    now = at or utcnow()
    case.status = step.target
    case.updated_at = now
    session.flush()
    for kind in step.meets:
        deadlines.close_deadlines(case=case, kind=kind)
    cancelled: list[Deadline] = []
    for kind in step.cancels:
        cancelled += deadlines.close_deadlines(
            case=case, kind=None if kind == "*" else kind, status=DeadlineStatus.CANCELLED
        )
    for timer in step.starts:
        start_timer(case, timer, subject=subject if timer.per_subject else None, start=now)
    audit_details = {"status": [before.value, step.target.value], **details}
    if "*" in step.cancels:
        audit_details["cancelled_deadlines"] = [deadline.id for deadline in cancelled]
    audit.record(step.event, actor=actor, case_id=case.id, subject=subject, details=audit_details)
    for notice in step.notices:
        _send(case, step.event, notice, details)
    for kind in step.jobs:
        jobs.schedule(kind, subject_id=case.id, case_id=case.id, actor=actor)
    return before


def _org(case: Case, owner: str) -> int | None:
    return case.mediation_committee_id if owner == "committee" else case.tribunal_id


def start_timer(
    case: Case, timer: Timer, *, subject: str | None = None, start: datetime | None = None
) -> Deadline | None:
    """Start `timer` on `case` unless it was started for this subject already (then that one);
    None when the case has no owner for it."""
    owner_org_id = _org(case, timer.owner)
    if owner_org_id is None:
        return None
    for deadline in deadlines.case_deadlines(case):
        if deadline.kind == timer.kind and deadline.subject == subject:
            return deadline
    return deadlines.add_statutory_deadline(
        case=case,
        kind=timer.kind,
        start=start or utcnow(),
        owner_org_id=owner_org_id,
        subject=subject,
    )


def _send(case: Case, kind: str, notice: Notice, details: dict[str, Any]) -> None:
    params = {name: details[key] for name, key in notice.params}
    if notice.to == "insurers":
        org_ids = notifications.insurer_org_ids(case)
    else:
        org_id = _org(case, notice.to)
        org_ids = [org_id] if org_id is not None else []
    for org_id in org_ids:
        notifications.notify_org(
            org_id=org_id,
            case=case,
            kind=kind,
            message=notice.message,
            number=case.number,
            **params,
        )


def allowed_actions(case: Case, user: User) -> list[dict[str, Any]]:
    """What `user` may do next on `case`, in workflow order, each with the due time of the
    user's organisation's running timer it answers (or None)."""
    if not user.is_authenticated:
        return []
    running = {
        deadline.kind: deadline
        for deadline in reversed(deadlines.case_deadlines(case))
        if deadline.status in deadlines.OPEN_STATES and deadline.owner_org_id == user.org_id
    }
    actions = []
    for action, label, timer in [
        *((t.action, t.label, TIMERS.get(t.action)) for t in TRANSITIONS if t.parts),
        *((s.action, s.label, s.timer) for s in STEPS),
    ]:
        if permits(case, action, user):
            due = running.get(timer) if timer else None
            actions.append(
                {"action": action, "label": str(label), "deadline": due.due_at if due else None}
            )
    return actions


def init_app(app: Flask) -> None:
    """Templates ask `may(case, "action")` instead of reading statuses and roles, and list the
    user's `next_steps(case)`."""
    app.jinja_env.globals["may"] = lambda case, action: permits(case, action, current_user)
    app.jinja_env.globals["next_steps"] = lambda case: allowed_actions(case, current_user)
