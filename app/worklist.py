"""Where each action of the workflow is taken in the portal, and where a user goes next.

`action_url(case, action)` is the page of an action (the case page's buttons, the stage bar,
the work queue and the notifications all link there); `next_url(case, user)` is where a
successful submit lands: the page of the user's next action on the case, else the case page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, func, select

from app import access, workflow
from app.db import session
from app.models import (
    PAYABLE_STATES,
    AgreementStatus,
    Case,
    CaseStatus,
    CaseTask,
    ConfirmationStatus,
    Deadline,
    Notification,
    OfferSide,
    OfferStatus,
    Organization,
    Role,
    User,
)
from app.services import (
    agreements,
    deadlines,
    liability,
    notifications,
    offers,
    payers,
    payments,
    tribunal,
)

# action -> (endpoint, fragment)
ACTION_PAGES: dict[str, tuple[str, str]] = {
    "confirm_report": ("police.review", ""),
    "withdraw": ("police.review", ""),
    "decide_liability": ("mediation.show", "liability"),
    "file_claims": ("assessments.claims", ""),
    "fail_mediation": ("mediation.show", ""),
    "make_offer": ("offers.index", ""),
    "answer_offer": ("offers.index", ""),
    "draft_agreement": ("agreements.show", ""),
    "sign_agreement": ("agreements.show", ""),
    "request_confirmation": ("agreements.show", ""),
    "accept_application": ("tribunal.workbench", ""),
    "confirm_settlement": ("tribunal.workbench", ""),
    "reject_to_mediation": ("tribunal.workbench", ""),
    "reject_to_litigation": ("tribunal.workbench", ""),
    "record_payment": ("insurer.payments_page", ""),
    "close": ("litigation.close_page", ""),
}


def action_url(case: Case, action: str) -> str:
    """The page where `action` is taken on `case`."""
    endpoint, fragment = ACTION_PAGES[action]
    return url_for(endpoint, case_id=case.id, _anchor=fragment or None)


def next_url(case: Case, user: User) -> str:
    """Where a successful submit on `case` lands: the page of what the case now waits for
    from the user's organisation, else the case page (which shows who has the ball)."""
    waits = waits_for(case, user.org_id)
    if waits:
        return action_url(case, waits[0])
    return url_for("cases.show", case_id=case.id)


# -- what waits on whom ---------------------------------------------------------------------

# Labels of the queue's actions where the page does more than the workflow step's name says.
EXTRA_LABELS = {
    "answer_offer": _l("Answer the offer"),
    "accept_application": _l("Accept and confirm"),
}
QUEUE_LIMIT = 100
NEVER = datetime.max.replace(tzinfo=UTC)  # sorts a task without a deadline last
# The states in which a case can wait on each role's organisation (the queue's first filter).
WAITING_STATES: dict[Role, tuple[CaseStatus, ...]] = {
    Role.POLICE: (CaseStatus.DRAFT,),
    Role.MEDIATOR: (
        CaseStatus.REPORTED,
        CaseStatus.NEGOTIATING,
        CaseStatus.AGREED,
        CaseStatus.CONFIRMED,
        CaseStatus.PAID,
    ),
    Role.ADJUSTER: (CaseStatus.NEGOTIATING, CaseStatus.AGREED, CaseStatus.CONFIRMED),
    Role.JUDGE: (CaseStatus.CONFIRMING,),
}


@dataclass(frozen=True)
class Task:
    """A case waiting on an organisation: the action it waits for and that action's page."""

    case: Case
    action: str
    deadline: Deadline | None

    @property
    def label(self) -> str:
        return action_label(self.action)

    @property
    def url(self) -> str:
        return action_url(self.case, self.action)


def action_label(action: str) -> str:
    if action in EXTRA_LABELS:
        return str(EXTRA_LABELS[action])
    found = workflow.BY_ACTION.get(action) or workflow.STEP_BY_ACTION[action]
    return str(found.label)


def _negotiation_waits(case: Case, org_id: int) -> list[str]:
    """What a case under negotiation waits for from `org_id`: an answer to an open offer, an
    insurer's offer for a payer nobody has agreed yet, the committee's agreement."""
    open_offers = [o for o in offers.case_offers(case) if o.status == OfferStatus.OPEN]
    waits = []
    if any(offers.answering_org(case, offer)[0] == org_id for offer in open_offers):
        waits.append("answer_offer")
    to_agree = agreements.payers_to_agree(case)
    offered = {o.payer for o in open_offers}
    if org_id == case.mediation_committee_id:
        if to_agree and all(row["offer"] is not None for row in to_agree):
            draft = agreements.current_agreement(case)
            ready = draft is not None and draft.status == AgreementStatus.DRAFT
            waits.append("sign_agreement" if ready else "draft_agreement")
        elif (
            any(
                row["offer"] is None
                and row["payer"] not in offered
                and payers.payer_org_id(case, row["payer"]) is None
                for row in to_agree
            )
            and "answer_offer" not in waits
        ):
            # A liable party (or an insurer not on the platform) pays: the mediator records
            # its position.
            waits.append("make_offer")
        return waits
    pending = {o.payer for o in open_offers if o.side == OfferSide.INSURER}
    mine = set(payers.insurer_payers(case, org_id))
    if (
        any(
            row["offer"] is None and row["payer"] in mine and row["payer"] not in pending
            for row in to_agree
        )
        and "answer_offer" not in waits
    ):
        waits.append("make_offer")
    return waits


def waits_for(case: Case, org_id: int) -> list[str]:
    """The actions `case` waits for from the organisation `org_id`, in workflow order."""
    status = case.status
    if status == CaseStatus.DRAFT:
        return ["confirm_report"] if org_id == case.reporting_unit_id else []
    committee = org_id == case.mediation_committee_id
    if status == CaseStatus.REPORTED and committee:
        return ["decide_liability" if liability.awaits_decision(case) else "file_claims"]
    if status == CaseStatus.NEGOTIATING:
        return _negotiation_waits(case, org_id)
    if status == CaseStatus.CONFIRMING:
        if org_id != case.tribunal_id:
            return []
        pending = tribunal.current_confirmation(case)
        accepted = pending is not None and pending.status == ConfirmationStatus.ACCEPTED
        return ["confirm_settlement" if accepted else "accept_application"]
    if status == CaseStatus.PAID:
        return ["close"] if committee else []
    waits = []
    if status == CaseStatus.AGREED and committee and tribunal.serving_tribunal(case) is not None:
        waits.append("request_confirmation")
    if status in PAYABLE_STATES and any(
        row["outstanding"] > 0
        and (row["org_id"] == org_id or (committee and row["org_id"] is None))
        for row in payments.payment_status(case)
    ):
        waits.append("record_payment")
    return waits


def _running_deadline(case: Case, org_id: int) -> Deadline | None:
    running = [
        deadline
        for deadline in deadlines.case_deadlines(case)
        if deadline.owner_org_id == org_id and deadline.status in deadlines.OPEN_STATES
    ]
    return min(running, key=lambda deadline: deadline.due_at, default=None)


def queue(user: User, *, limit: int = QUEUE_LIMIT) -> list[Task]:
    """The cases waiting on the user's organisation, each with the first action it waits
    for: soonest deadline first, then the case waiting longest. Read from `case_tasks` once a
    request (the navbar's count and the home page share it)."""
    if not has_request_context():
        return _queue(user, limit)
    cached = g.get("worklist_queue")
    if cached is not None and cached[0] == (user.id, limit):
        return cached[1]
    tasks = _queue(user, limit)
    g.worklist_queue = ((user.id, limit), tasks)
    return tasks


def _waiting(user: User) -> Select | None:
    """The user's organisation's rows of `case_tasks`, joined to their cases, in queue order;
    None for a user nothing waits on."""
    states = WAITING_STATES.get(user.role)
    if not states or not user.is_active:
        return None
    return (
        select(CaseTask, Case)
        .join(Case, Case.id == CaseTask.case_id)
        .where(
            CaseTask.org_id == user.org_id,
            Case.status.in_(states),
            access.case_filter(user, per_row=True),
        )
        .order_by(CaseTask.due_at.asc().nulls_last(), CaseTask.since, CaseTask.case_id)
    )


def queue_count(user: User, *, limit: int = QUEUE_LIMIT) -> int:
    """How many cases wait on the user's organisation, counted up to `limit`: the navbar's badge,
    on every page. It counts the organisation's rows of `case_tasks` on their index alone: those
    rows are written only for the cases the organisation takes part in, in the states that wait
    on it, so the case filters the queue itself applies (`_waiting`) would change nothing here,
    and joined in they lead PostgreSQL to read every case of the organisation."""
    cached = g.get("worklist_queue") if has_request_context() else None
    if cached is not None and cached[0] == (user.id, limit):
        return len(cached[1])  # the home page has loaded the queue itself
    if not WAITING_STATES.get(user.role) or not user.is_active:
        return 0
    counted = select(CaseTask.case_id).where(CaseTask.org_id == user.org_id).limit(limit)
    return session.scalar(select(func.count()).select_from(counted.subquery())) or 0


def _queue(user: User, limit: int) -> list[Task]:
    waiting = _waiting(user)
    if waiting is None:
        return []
    rows = session.execute(waiting.limit(limit)).all()
    deadline_ids = [task.deadline_id for task, _case in rows if task.deadline_id is not None]
    running = {
        deadline.id: deadline
        for deadline in session.scalars(select(Deadline).where(Deadline.id.in_(deadline_ids)))
    }
    return [Task(case, task.actions[0], running.get(task.deadline_id)) for task, case in rows]


def case_tasks(case: Case) -> list[tuple[int, list[str], Deadline | None]]:
    """What `case` waits for now from each of its organisations: the actions, and that
    organisation's running deadline (kept in `case_tasks` for the queues: app/case_index.py)."""
    tasks = []
    for org_id in _case_org_ids(case):
        waits = waits_for(case, org_id)
        if waits:
            tasks.append((org_id, waits, _running_deadline(case, org_id)))
    return tasks


def _stored_tasks(case: Case) -> dict[int, list[str]]:
    """The actions `case` waits for, by organisation, as its last unit of work stored them."""
    rows = session.execute(
        select(CaseTask.org_id, CaseTask.actions).where(CaseTask.case_id == case.id)
    )
    return {org_id: actions for org_id, actions in rows}


def _case_org_ids(case: Case) -> list[int]:
    org_ids = [
        case.reporting_unit_id,
        case.mediation_committee_id,
        *notifications.insurer_org_ids(case),
        case.tribunal_id,
    ]
    return list(dict.fromkeys(org_id for org_id in org_ids if org_id is not None))


def ball(case: Case, stored: dict[int, list[str]]) -> list[tuple[Organization, str]]:
    """Who has the ball on `case`: each organisation it waits on (`stored`: the actions by
    organisation), with the action."""
    holders = []
    for org_id in _case_org_ids(case):
        for action in stored.get(org_id, []):
            holders.append((session.get(Organization, org_id), action))
    return holders


# -- the stage bar ---------------------------------------------------------------------------

STAGES: tuple[tuple[str, str], ...] = (
    ("upload", _l("Upload")),
    ("review", _l("Review")),
    ("assessment", _l("Assessment")),
    ("negotiation", _l("Negotiation")),
    ("agreement", _l("Agreement")),
    ("confirmation", _l("Judicial confirmation")),
    ("performance", _l("Performance")),
    ("closed", _l("Closure")),
)
STAGE_OF_STATUS = {
    CaseStatus.REPORTED: "assessment",
    CaseStatus.ASSESSING: "assessment",
    CaseStatus.AGREED: "confirmation",
    CaseStatus.CONFIRMING: "confirmation",
    CaseStatus.CONFIRMED: "performance",
    CaseStatus.PAID: "closed",
    CaseStatus.CLOSED: "closed",
}


def stage_of(case: Case) -> str | None:
    """Where `case` stands on the way from upload to closure; None off that way (withdrawn,
    gone to litigation)."""
    if case.status == CaseStatus.DRAFT:
        read = case.report is not None and case.report.parsed is not None
        return "review" if read else "upload"
    if case.status == CaseStatus.NEGOTIATING:
        draft = agreements.current_agreement(case)
        return "agreement" if draft is not None else "negotiation"
    return STAGE_OF_STATUS.get(case.status)


def stage_bar(case: Case, user: User) -> dict[str, Any]:
    """The stage bar of a case page: the stages with the current one, who has the ball and
    the current user's one primary action (with its page)."""
    current = stage_of(case)
    keys = [key for key, _label in STAGES]
    position = keys.index(current) if current else -1
    stored = _stored_tasks(case)
    mine = stored.get(user.org_id, []) if user.is_authenticated else []
    primary = None
    if mine:
        primary = {
            "action": mine[0],
            "label": action_label(mine[0]),
            "url": action_url(case, mine[0]),
        }
    return {
        "stages": [
            {
                "key": key,
                "label": label,
                "state": "done"
                if i < position or case.status == CaseStatus.CLOSED
                else "current"
                if i == position
                else "todo",
            }
            for i, (key, label) in enumerate(STAGES)
        ],
        "off_path": current is None,
        "holders": [
            {"org": org, "action": action, "label": action_label(action)}
            for org, action in ball(case, stored)
        ],
        "primary": primary,
    }


def init_app(app: Flask) -> None:
    """Templates draw `stage_bar(case)` and the navbar's `queue_count()`, name a payer with
    `payer_name(case, payer)` and link an action with `action_url(case, action)`."""
    app.jinja_env.globals["stage_bar"] = lambda case: stage_bar(case, current_user)
    app.jinja_env.globals["payer_name"] = agreements.payer_label
    app.jinja_env.globals["action_url"] = action_url
    app.jinja_env.globals["queue_count"] = lambda: (
        queue_count(current_user) if current_user.is_authenticated else 0
    )


# -- notifications ---------------------------------------------------------------------------


def notification_text(item: Notification) -> str:
    """The message, with payers named as the agreement names them."""
    case = session.get(Case, item.case_id) if item.case_id else None
    if case is None:
        return notifications.notification_text(item)
    return notifications.notification_text(
        item, payer_name=lambda payer: agreements.payer_label(case, payer)
    )


def notification_url(item: Notification, user: User) -> str:
    """Where a message leads: the page of what its case now waits for from the reader's
    organisation, else the case page; the inbox for a message about no case."""
    case = session.get(Case, item.case_id) if item.case_id else None
    if case is not None:
        return next_url(case, user)
    if item.kind == "referral.issued":  # a 监管提示函 to the regulator: its list of letters
        return url_for("oversight.referral_list")
    return url_for("notifications.index")
