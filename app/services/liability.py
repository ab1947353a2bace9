"""The accident liability a police letter left undetermined, decided by the case's mediator.

A 道路交通事故证明 (`procedure: certificate`) states the facts but determines no liability, and
a letter may be silent on a party. Compensation cannot be assessed without each liable party's
share, so such a case waits in `reported` until a mediator of its committee records every
party's liability with the basis of the decision (the parties agreed, a court judgment…). The
decision is kept as a row of its own (every one, in order) and written onto the parties; the
liability the police determined is never overridden here (different shares go into the claims
as ratios).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app import access, audit, digests, validation
from app.db import session, utcnow
from app.errors import InvalidTransition, ValidationFailed
from app.labels import N_
from app.models import (
    MEDIATED_STATES,
    Case,
    LiabilityDecision,
    Party,
    Role,
    User,
)
from app.services import claims, notifications
from app.validation import check_version

LIABILITIES = ("full", "main", "equal", "minor", "none")
BASIS_MAX = 500
# Liability can be decided (and decided again) while the case is mediated; a new decision after
CERTIFICATE = "certificate"


def liable_parties(case: Case) -> list[Party]:
    """The parties who share the loss by liability: everyone but a passenger without a vehicle
    of their own (an occupant, as `assessments.case_parties` treats them)."""
    drivers = {vehicle.driver_party_id for vehicle in case.vehicles}
    return [party for party in case.parties if party.role != "passenger" or party.id in drivers]


def pending_parties(case: Case) -> list[Party]:
    """The liable parties whose liability nobody has determined yet."""
    return [party for party in liable_parties(case) if party.liability is None]


def is_certificate(case: Case) -> bool:
    """True if the case's letter is a 道路交通事故证明 (it determines no liability)."""
    fields = case.report.fields if case.report is not None else None
    return bool(fields) and fields.get("procedure") == CERTIFICATE


def awaits_decision(case: Case) -> bool:
    """True if the case is mediated and waits for the mediator to decide liability."""
    return case.status in MEDIATED_STATES and bool(pending_parties(case))


def latest_decision(case: Case) -> LiabilityDecision | None:
    """The liability decision most recently recorded for `case`, if any."""
    return session.scalars(
        select(LiabilityDecision)
        .where(LiabilityDecision.case_id == case.id)
        .order_by(LiabilityDecision.id.desc())
        .limit(1)
    ).first()


def is_undetermined_by_police(case: Case) -> bool:
    """True if the police letter left liability to be decided: a certificate, a party without
    liability, or a decision recorded already (which may be revised)."""
    return is_certificate(case) or bool(pending_parties(case)) or latest_decision(case) is not None


def require_decided(case: Case) -> None:
    """Raise InvalidTransition (409) while a liable party of `case` has no liability."""
    if pending_parties(case):
        raise InvalidTransition(
            _(
                "The liability for the accident is not determined yet: decide each party's "
                "liability first."
            ),
            code="liability_undetermined",
        )


def notify_mediators(case: Case) -> None:
    """Tell the mediators of the case's committee that they must decide its liability."""
    if case.mediation_committee_id is None:
        return
    mediators = session.scalars(
        select(User)
        .where(
            User.org_id == case.mediation_committee_id,
            User.role == Role.MEDIATOR,
            User.active.is_(True),
        )
        .order_by(User.id)
    )
    notifications.notify_users(
        users=list(mediators),
        case=case,
        kind="liability.needed",
        message=(
            N_("Road-traffic accident certificate, case %(number)s: decide the liability.")
            if is_certificate(case)
            else N_("Case %(number)s: the letter leaves a party's liability open; decide it.")
        ),
        number=case.number,
    )


def _choices(case: Case, raw: Any) -> dict[int, str]:
    """Party id → liability from `[{"id": party id, or "label": "甲方", "liability"}, …]`."""
    if not isinstance(raw, list):
        raise ValidationFailed(
            _('Send the parties as [{"id": …, "liability": …}, …].'), field="parties"
        )
    by_id = {party.id: party for party in case.parties}
    by_label = {party.label: party for party in case.parties}
    chosen: dict[int, str] = {}
    for index, entry in enumerate(raw):
        path = f"parties[{index}]"
        if not isinstance(entry, dict) or set(entry) - {"id", "label", "liability"}:
            raise ValidationFailed(
                _("%(field)s must name a party by id or label and give its liability.", field=path),
                field=path,
            )
        key, label = entry.get("id"), entry.get("label")
        party = None
        if isinstance(key, int) and not isinstance(key, bool):
            party = by_id.get(key)
        elif key is None and isinstance(label, str):
            party = by_label.get(label)
        if party is None:
            raise ValidationFailed(
                _("%(field)s names no party of this case.", field=path), field=path
            )
        if party.id in chosen:
            raise ValidationFailed(
                _("%(field)s names %(label)s a second time.", field=path, label=party.label),
                field=path,
            )
        liability = entry.get("liability")
        if liability not in LIABILITIES:
            raise ValidationFailed(
                _(
                    "%(field)s must be one of full, main, equal, minor, none.",
                    field=f"{path}.liability",
                ),
                field=f"{path}.liability",
            )
        chosen[party.id] = liability
    return chosen


def decide_liability(
    *, actor: User, case: Case, parties: Any, basis: str | None, version: int | None = None
) -> LiabilityDecision:
    """A mediator of the committee records each party's liability and the basis (audited).

    Every liable party must have a liability afterwards; claims filed already are assessed
    again with it."""
    access.require_case_mediator(actor, case)
    check_version(case, version)
    if case.status not in MEDIATED_STATES:
        raise InvalidTransition(_("Liability can be decided only while the case is mediated."))
    if not is_undetermined_by_police(case):
        raise InvalidTransition(
            _(
                "The police letter determined the liability. To share the loss differently, "
                "give the parties' ratios with the claims."
            ),
            code="liability_determined",
        )
    text = validation.text(
        basis, name="basis", label=_("Basis of the decision"), limit=BASIS_MAX, required=True
    )
    chosen = _choices(case, parties)
    missing = [
        party.label
        for party in liable_parties(case)
        if party.liability is None and party.id not in chosen
    ]
    if missing:
        raise ValidationFailed(
            _("Decide the liability of every party: %(labels)s.", labels="、".join(missing)),
            field="parties",
        )
    decided = []
    for party in case.parties:
        if party.id in chosen:
            decided.append(
                {
                    "party_id": party.id,
                    "label": party.label,
                    "liability": chosen[party.id],
                    "before": party.liability,
                }
            )
            party.liability = chosen[party.id]
    decision = LiabilityDecision(
        case_id=case.id,
        parties=decided,
        basis=text,
        decided_by_id=actor.id,
        decided_at=utcnow(),
    )
    session.add(decision)
    case.updated_at = utcnow()  # bumps the version: a concurrent decision or filing conflicts
    session.flush()
    audit.record(
        "liability.decided",
        actor=actor,
        case_id=case.id,
        subject=f"liability_decision:{decision.id}",
        details={
            "parties": {entry["label"]: [entry["before"], entry["liability"]] for entry in decided},
            "basis": text,
            "certificate": is_certificate(case),
            digests.DIGESTS_KEY: digests.row_digests(decision),
        },
    )
    claims.reassess_case(actor=actor, case=case)
    return decision
