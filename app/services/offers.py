"""Offers and counter-offers for each payer of a case (INTERFACES.md §4): who may offer and
answer, superseding, expiry, and the digest that proves an offer's content in the audit chain."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import access, audit, compensation, digests, validation
from app.db import session, utcnow
from app.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from app.labels import ITEM_LABELS, N_
from app.models import (
    Agreement,
    Assessment,
    AuditEvent,
    Case,
    CaseStatus,
    DeadlineStatus,
    Offer,
    OfferSide,
    OfferStatus,
    Organization,
    Role,
    User,
)
from app.money import amount_text
from app.services import agreements, assessments, deadlines, notifications
from app.services.payers import insurer_payers, payer_org_id, split_payer
from app.validation import check_version

DEADLINE_KIND = "offer_expiry"
OFFER_PAYER_KINDS = ("ctpi", "commercial", "seat", "party")  # never `fund`: it only advances
NOTE_MAX = 2000
# The largest amount a Numeric(14, 2) column holds is 999,999,999,999.99.
AMOUNT_CAPACITY = Decimal(10) ** 12
# How an agreement drafted on the last acceptance says the payers pay; the mediator changes it
# on the agreement page and drafts again (the document's language: Chinese).
DEFAULT_PAYMENT_METHOD = "银行转账"

STATUS_LABELS = {
    OfferStatus.OPEN: _l("Awaiting an answer"),
    OfferStatus.ACCEPTED: _l("Accepted"),
    OfferStatus.REJECTED: _l("Rejected"),
    OfferStatus.COUNTERED: _l("Countered"),
    OfferStatus.EXPIRED: _l("Expired"),
    OfferStatus.SUPERSEDED: _l("Superseded"),
    OfferStatus.WITHDRAWN: _l("Withdrawn"),
}
SIDE_LABELS = {
    OfferSide.INSURER: _l("Insurer"),
    OfferSide.CLAIMANT: _l("Claimant"),
    OfferSide.PARTY: _l("Liable party"),
}


# -- content and digest -----------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def offer_content(offer: Offer) -> dict[str, Any]:
    """What an offer says, as plain data: the text its digest is computed from. The reason for
    an offer above the assessment is part of it when given (offers without one hash as they
    always did)."""
    case = session.get(Case, offer.case_id)
    assessment = session.get(Assessment, offer.assessment_id)
    content = {
        "case": case.number,
        "assessment": {"id": assessment.id, "fingerprint": assessment.fingerprint},
        "payer": offer.payer,
        "side": OfferSide(offer.side).value,
        "org": offer.org_id,
        "amount": amount_text(offer.amount),
        "items": offer.items,
        "note": offer.note,
        "expires_at": _iso(offer.expires_at),
        "parent": offer.parent_id,
        "maker": offer.created_by_id,
        "created_at": _iso(offer.created_at),
    }
    if offer.reason is not None:
        content["reason"] = offer.reason
    return content


def content_digest(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an offer's content."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def offer_event(offer: Offer) -> AuditEvent | None:
    """The audit event that recorded the making of `offer` (found among its case's events: the
    case's index narrows millions of events to tens)."""
    return session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.case_id == offer.case_id,
            AuditEvent.action == "offer.made",
            AuditEvent.subject == f"offer:{offer.id}",
        )
        .order_by(AuditEvent.id)
        .limit(1)
    ).first()


def verify_offer(offer: Offer) -> bool:
    """Whether the stored offer still hashes to its digest and matches its audit event."""
    content = offer_content(offer)
    event = offer_event(offer)
    return (
        content_digest(content) == offer.digest
        and event is not None
        and event.details.get("digest") == offer.digest
        and event.details.get("content") == content
    )


# -- checks -----------------------------------------------------------------------------------


def negotiated_assessment(case: Case) -> Assessment:
    """The assessment offers of `case` are made on; refused unless the case is negotiated."""
    if case.status == CaseStatus.CLOSED:
        raise InvalidTransition(
            _("This case is closed: offers can no longer be made, answered or withdrawn.")
        )
    if case.status != CaseStatus.NEGOTIATING:
        raise InvalidTransition(
            _("Offers are made and answered while the case is being negotiated.")
        )
    assessment = assessments.latest_assessment(case)
    if assessment is None:
        raise InvalidTransition(_("The case has no assessment yet."))
    return assessment


def _check_payer(payer: Any, assessment: Assessment) -> str:
    if not isinstance(payer, str) or not payer.strip():
        raise ValidationFailed(_("Name the payer, e.g. ctpi:甲方."), field="payer")
    payer = payer.strip()
    kind, label = split_payer(payer)
    if kind == "self":
        raise ValidationFailed(
            _("The victim's own share is not paid by anyone: offers are for other payers."),
            field="payer",
        )
    if kind not in OFFER_PAYER_KINDS or not label:
        raise ValidationFailed(
            _(
                "Unknown payer %(payer)s: use ctpi:, commercial:, seat: or party: and a "
                "party's label.",
                payer=payer,
            ),
            field="payer",
        )
    if payer not in assessment.result["totals"]:
        raise ValidationFailed(
            _("%(payer)s pays nothing under the case's assessment.", payer=payer), field="payer"
        )
    return payer


def _check_items(items: Any, assessment: Assessment) -> dict[str, dict[str, str]] | None:
    """`{victim id: {item code: amount}}`, each an item of the assessment; amounts normalised."""
    if items is None or items == {}:
        return None
    if not isinstance(items, dict):
        raise ValidationFailed(
            _("The items must map a victim's id to {item code: amount}."), field="items"
        )
    assessed = {
        victim["id"]: {item["code"] for item in victim["items"]}
        for victim in assessment.result["victims"]
    }
    checked: dict[str, dict[str, str]] = {}
    for victim_id, amounts in items.items():
        if victim_id not in assessed:
            raise ValidationFailed(
                _("No victim %(id)s in the assessment.", id=victim_id), field="items"
            )
        if not isinstance(amounts, dict) or not amounts:
            raise ValidationFailed(
                _("The items must map a victim's id to {item code: amount}."), field="items"
            )
        for code, amount in amounts.items():
            path = f"items.{victim_id}.{code}"
            if code not in assessed[victim_id]:
                raise ValidationFailed(
                    _(
                        "%(victim)s has no item %(code)s in the assessment; file it with the "
                        "claims first.",
                        victim=victim_id,
                        code=code,
                    ),
                    field=path,
                )
            checked.setdefault(victim_id, {})[code] = amount_text(
                validation.amount(
                    amount,
                    name=path,
                    label=ITEM_LABELS.get(code, code),
                )
            )
    return checked


def _check_expiry(expires_at: Any, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
        raise ValidationFailed(
            _("The expiry must be a date and time with its time zone."), field="expires_at"
        )
    if expires_at <= now:
        raise ValidationFailed(_("The expiry must be in the future."), field="expires_at")
    return expires_at.astimezone(UTC)


def _offered_amount(value: Any) -> Decimal:
    """The amount offered; one the platform could not record is refused as such, not as a
    badly written amount."""
    written = format(value, "f") if isinstance(value, Decimal) else str(value).strip()
    try:
        parsed = Decimal(written.replace(",", ""))
    except InvalidOperation:
        parsed = None
    if parsed is not None and parsed.is_finite() and parsed >= AMOUNT_CAPACITY:
        raise ValidationFailed(
            _(
                "An offer of %(amount)s yuan is more than the platform can record (at most "
                "999,999,999,999.99 yuan): check the amount.",
                amount=written,
            ),
            field="amount",
            code="amount_too_large",
        )
    return validation.amount(value, name="amount", label=_("Amount"))


def ctpi_limit(assessment: Assessment, payer: str) -> Decimal | None:
    """For a 交强险 payer, the sum of the limits of its vehicle's policy under `assessment`
    (the no-fault limits when the police found the driver without liability, DOMAIN.md §3.2);
    None for other payers."""
    kind, label = split_payer(payer)
    if kind != "ctpi":
        return None
    party = next((p for p in assessment.input["request"]["parties"] if p["id"] == label), None)
    limits = assessment.result["rule_set"]["ctpi_limits"]
    applying = limits[
        "no_fault" if party is not None and party.get("liability") == "none" else "fault"
    ]
    return sum((Decimal(limit) for limit in applying.values()), Decimal("0.00"))


def offer_excess(assessment: Assessment, payer: str, amount: Decimal) -> dict[str, str] | None:
    """How far an offer of `amount` for `payer` goes beyond the payer's total in the assessment
    and, for 交强险, beyond the limits that apply; None when it does not."""
    assessed = Decimal(assessment.result["totals"].get(payer, "0.00"))
    if amount <= assessed:
        return None
    excess = {
        "assessed": amount_text(assessed),
        "difference": amount_text(amount - assessed),
    }
    limit = ctpi_limit(assessment, payer)
    if limit is not None and amount > limit:
        excess.update(limit=amount_text(limit), over_limit=amount_text(amount - limit))
    return excess


def _check_reason(
    reason: Any, case: Case, assessment: Assessment, payer: str, amount: Decimal
) -> str | None:
    """The reason an offer above the assessment needs (kept when given for any offer)."""
    reason = validation.text(reason, name="reason", label=_("Reason"), limit=NOTE_MAX)
    excess = offer_excess(assessment, payer, amount)
    if excess is None or reason:
        return reason
    if "limit" in excess:
        message = _(
            "The offer of %(amount)s yuan for %(payer)s is %(difference)s yuan above the "
            "assessed amount (%(assessed)s yuan) and %(over_limit)s yuan above the compulsory "
            "insurance limits that apply (%(limit)s yuan): give the reason for offering more.",
            amount=amount_text(amount),
            payer=agreements.payer_label(case, payer),
            **excess,
        )
    else:
        message = _(
            "The offer of %(amount)s yuan for %(payer)s is %(difference)s yuan above the "
            "assessed amount (%(assessed)s yuan): give the reason for offering more.",
            amount=amount_text(amount),
            payer=agreements.payer_label(case, payer),
            **excess,
        )
    raise ValidationFailed(message, field="reason", code="reason_required", **excess)


def _side_of(actor: User, case: Case, payer: str, side: Any) -> tuple[OfferSide, int]:
    """The side `actor` speaks for on `payer`, and the organisation the offer comes from."""
    wanted = None
    if side not in (None, ""):
        try:
            wanted = OfferSide(side)
        except ValueError:
            raise ValidationFailed(
                _("The side must be insurer, claimant or party."), field="side"
            ) from None
    if actor.role == Role.ADJUSTER:
        if wanted not in (None, OfferSide.INSURER):
            raise NotAllowed(_("An adjuster makes offers for their insurer only."))
        if payer not in insurer_payers(case, actor.org_id):
            raise NotAllowed(
                _(
                    "Your insurer does not pay %(payer)s in this case.",
                    payer=agreements.payer_label(case, payer),
                )
            )
        return OfferSide.INSURER, actor.org_id
    access.require_case_mediator(actor, case)
    if wanted == OfferSide.INSURER:
        raise NotAllowed(_("Only an adjuster of the insurer makes the insurer's offers."))
    if wanted == OfferSide.PARTY and split_payer(payer)[0] != "party":
        raise ValidationFailed(
            _("A liable party's position is for a party: payer, e.g. party:甲方."), field="side"
        )
    return wanted or OfferSide.CLAIMANT, actor.org_id


def answering_org(case: Case, offer: Offer) -> tuple[int | None, Role]:
    """The organisation (and the role in it) that answers `offer`: the mediator records the
    claimant's answer to an insurer's or a party's offer; a claimant's counter is answered by
    the payer's insurer, or by the mediator for a party (or an insurer not on the platform)."""
    if offer.side == OfferSide.CLAIMANT:
        insurer = payer_org_id(case, offer.payer)
        if insurer is not None:
            return insurer, Role.ADJUSTER
    return case.mediation_committee_id, Role.MEDIATOR


def may_answer(actor: User, case: Case, offer: Offer) -> bool:
    """Whether `actor` is on the other side of `offer` and may answer it."""
    org_id, role = answering_org(case, offer)
    return access.can(actor, role) and actor.org_id == org_id


def may_offer(actor: User, case: Case) -> list[str]:
    """The payers of the latest assessment `actor` may make offers for (none if not allowed)."""
    assessment = assessments.latest_assessment(case)
    if assessment is None or case.status != CaseStatus.NEGOTIATING:
        return []
    payers = [p for p in assessment.result["totals"] if split_payer(p)[0] in OFFER_PAYER_KINDS]
    if access.can(actor, Role.ADJUSTER):
        mine = insurer_payers(case, actor.org_id)
        return [p for p in payers if p in mine]
    if access.is_case_mediator(actor, case):
        return payers
    return []


def _is_expired(offer: Offer, now: datetime) -> bool:
    return offer.expires_at is not None and offer.expires_at <= now


def _locked_offer(case: Case, offer_id: Any) -> Offer:
    """The offer of `case`, locked for this transaction and read afresh (a concurrent answer
    waits here, then sees what the first one did)."""
    offer = session.scalars(
        select(Offer)
        .where(Offer.id == offer_id, Offer.case_id == case.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if offer is None:
        raise NotFound(_("No offer %(id)s in this case.", id=offer_id))
    return offer


def _check_open(offer: Offer, now: datetime) -> None:
    if offer.status == OfferStatus.WITHDRAWN:
        raise InvalidTransition(
            _(
                "Offer %(id)s was withdrawn by the side that made it and can no longer be "
                "answered.",
                id=offer.id,
            ),
            code="offer_withdrawn",
        )
    if offer.status != OfferStatus.OPEN:
        raise InvalidTransition(
            _(
                "Offer %(id)s is no longer open (%(status)s); only an open offer can be answered.",
                id=offer.id,
                status=STATUS_LABELS[OfferStatus(offer.status)],
            )
        )
    if _is_expired(offer, now):
        raise InvalidTransition(
            _(
                "Offer %(id)s expired at %(time)s and can no longer be answered.",
                id=offer.id,
                time=_iso(offer.expires_at),
            )
        )


def _open_offers(case: Case, payer: str) -> list[Offer]:
    """The open offers for `payer`, locked so that the expiry sweep cannot touch them now."""
    return list(
        session.scalars(
            select(Offer)
            .where(
                Offer.case_id == case.id,
                Offer.payer == payer,
                Offer.status == OfferStatus.OPEN,
            )
            .order_by(Offer.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _close(offers: list[Offer], case: Case, status: OfferStatus) -> list[int]:
    for offer in offers:
        offer.status = status
        deadlines.close_deadlines(
            case=case,
            kind=DEADLINE_KIND,
            subject=f"offer:{offer.id}",
            status=DeadlineStatus.CANCELLED,
        )
    return [offer.id for offer in offers]


def _items_amount(assessment: Assessment, payer: str, items: dict[str, dict[str, str]]) -> Decimal:
    """What `payer` would pay under `assessment` with these item amounts decided."""
    data = copy.deepcopy(assessment.input["request"])
    victims = {victim["id"]: victim for victim in data["victims"]}
    for victim_id, amounts in items.items():
        for code, amount in amounts.items():
            victims[victim_id].setdefault("items", {})[code] = {"amount": amount}
    try:
        result = assessments.recompute(assessment, data)
    except compensation.InvalidInput as exc:
        raise ValidationFailed(exc.message, field="items") from exc
    return Decimal(result["totals"].get(payer, "0.00"))


# -- making and answering ---------------------------------------------------------------------


def make_offer(
    *,
    actor: User,
    case: Case,
    payer: Any,
    amount: Any = None,
    items: Any = None,
    note: Any = None,
    expires_at: Any = None,
    parent_id: Any = None,
    version: int | None = None,
    side: Any = None,
    reason: Any = None,
) -> Offer:
    """An adjuster's offer for their insurer's payer, or (by the case's mediator) the claimant's
    counter or a liable party's position; earlier open offers of that side are superseded. An
    offer above the payer's assessed total (or a 交强险 payer's limits) needs a reason."""
    access.require_role(actor, Role.ADJUSTER, Role.MEDIATOR)
    check_version(case, version)
    assessment = negotiated_assessment(case)
    payer = _check_payer(payer, assessment)
    offer_side, org_id = _side_of(actor, case, payer, side)
    now = utcnow()
    items = _check_items(items, assessment)
    if amount in (None, ""):
        if items is None:
            raise ValidationFailed(_("Give an amount or item amounts."), field="amount")
        offered = _items_amount(assessment, payer, items)
    else:
        offered = _offered_amount(amount)
        if items is not None:
            _items_amount(assessment, payer, items)  # the engine checks the items too
    note = validation.text(note, name="note", label=_("Note"), limit=NOTE_MAX)
    reason = _check_reason(reason, case, assessment, payer, offered)
    expires_at = _check_expiry(expires_at, now)

    open_offers = _open_offers(case, payer)
    accepted = session.scalars(
        select(Offer).where(
            Offer.case_id == case.id,
            Offer.payer == payer,
            Offer.status == OfferStatus.ACCEPTED,
        )
    ).first()
    if accepted is not None:
        raise InvalidTransition(
            _(
                "An offer of %(amount)s yuan for %(payer)s was accepted already.",
                amount=amount_text(accepted.amount),
                payer=agreements.payer_label(case, payer),
            )
        )
    parent = None
    if parent_id not in (None, ""):
        parent = _counter_parent(actor, case, parent_id, payer, offer_side, now)

    offer = Offer(
        case_id=case.id,
        assessment_id=assessment.id,
        parent_id=parent.id if parent else None,
        payer=payer,
        side=offer_side,
        org_id=org_id,
        amount=offered,
        items=items,
        note=note,
        reason=reason,
        expires_at=expires_at,
        status=OfferStatus.OPEN,
        created_by_id=actor.id,
        created_at=now,
        digest="",
    )
    content = offer_content(offer)
    offer.digest = content_digest(content)
    superseded = _close(
        [o for o in open_offers if o.side == offer_side and o is not parent],
        case,
        OfferStatus.SUPERSEDED,
    )
    if parent is not None:
        parent.status = OfferStatus.COUNTERED
        parent.answered_by_id = actor.id
        parent.answered_at = now
        deadlines.close_deadlines(
            case=case, kind=DEADLINE_KIND, subject=f"offer:{parent.id}", status=DeadlineStatus.MET
        )
    session.add(offer)
    session.flush()

    answerer, _role = answering_org(case, offer)
    if expires_at is not None and answerer is not None:
        deadlines.add_deadline(
            case=case,
            kind=DEADLINE_KIND,
            basis=deadlines.timers()[DEADLINE_KIND]["basis"],
            owner_org_id=answerer,
            due_at=expires_at,
            subject=f"offer:{offer.id}",
        )
    case.updated_at = now  # concurrent actions on the case now conflict (version column)
    audit.record(
        "offer.made",
        actor=actor,
        case_id=case.id,
        subject=f"offer:{offer.id}",
        details={
            "digest": offer.digest,
            "content": content,
            "superseded": superseded,
            "countered": parent.id if parent else None,
            digests.DIGESTS_KEY: digests.row_digests(
                offer, *(session.get(Offer, i) for i in superseded), *([parent] if parent else [])
            ),
        },
    )
    if answerer is not None and answerer != org_id:
        notifications.notify_org(
            org_id=answerer,
            case=case,
            kind="offer.made",
            message=N_(
                "A new offer of %(amount)s yuan for %(payer)s in case %(number)s "
                "awaits your answer."
            ),
            amount=amount_text(offered),
            payer=payer,
            number=case.number,
        )
    session.flush()
    return offer


def _counter_parent(
    actor: User, case: Case, parent_id: Any, payer: str, side: OfferSide, now: datetime
) -> Offer:
    """The open offer a new offer counters: same payer, the other side, answerable by actor."""
    if isinstance(parent_id, str) and parent_id.strip().isdigit():
        parent_id = int(parent_id)
    if not isinstance(parent_id, int) or isinstance(parent_id, bool):
        raise ValidationFailed(_("The offer answered must be given by its id."), field="parent_id")
    parent = session.scalars(
        select(Offer)
        .where(Offer.id == parent_id, Offer.case_id == case.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if parent is None:
        raise ValidationFailed(_("No offer %(id)s in this case.", id=parent_id), field="parent_id")
    if parent.payer != payer:
        raise ValidationFailed(
            _(
                "Offer %(id)s is for %(payer)s; a counter is for the same payer.",
                id=parent.id,
                payer=agreements.payer_label(case, parent.payer),
            ),
            field="parent_id",
        )
    if parent.side == side:
        raise ValidationFailed(
            _("Offer %(id)s comes from your own side; make a new offer instead.", id=parent.id),
            field="parent_id",
        )
    if not may_answer(actor, case, parent):
        raise NotAllowed(_("Only the other side may answer offer %(id)s.", id=parent.id))
    _check_open(parent, now)
    return parent


def answer_offer(
    *,
    actor: User,
    case: Case,
    offer_id: int,
    accept: bool,
    note: Any = None,
    version: int | None = None,
) -> Offer:
    """The other side accepts or rejects an open offer; an acceptance settles that payer."""
    access.require_role(actor, Role.ADJUSTER, Role.MEDIATOR)
    check_version(case, version)
    offer = _locked_offer(case, offer_id)
    negotiated_assessment(case)
    if not may_answer(actor, case, offer):
        raise NotAllowed(_("Only the other side may answer offer %(id)s.", id=offer.id))
    now = utcnow()
    _check_open(offer, now)
    note = validation.text(note, name="note", label=_("Note"), limit=NOTE_MAX)

    offer.status = OfferStatus.ACCEPTED if accept else OfferStatus.REJECTED
    offer.answered_by_id = actor.id
    offer.answered_at = now
    offer.answer_note = note
    deadlines.close_deadlines(
        case=case, kind=DEADLINE_KIND, subject=f"offer:{offer.id}", status=DeadlineStatus.MET
    )
    superseded: list[int] = []
    if accept:
        others = [o for o in _open_offers(case, offer.payer) if o.id != offer.id]
        superseded = _close(others, case, OfferStatus.SUPERSEDED)
    case.updated_at = now  # a second answer racing this one fails on the case's version
    action = "offer.accepted" if accept else "offer.rejected"
    audit.record(
        action,
        actor=actor,
        case_id=case.id,
        subject=f"offer:{offer.id}",
        details={
            "digest": offer.digest,
            "payer": offer.payer,
            "amount": amount_text(offer.amount),
            "note": note,
            "superseded": superseded,
            digests.DIGESTS_KEY: digests.row_digests(
                offer, *(session.get(Offer, i) for i in superseded)
            ),
        },
    )
    if offer.org_id != actor.org_id:
        notifications.notify_org(
            org_id=offer.org_id,
            case=case,
            kind=action,
            message=(
                N_("Your offer of %(amount)s yuan for %(payer)s in case %(number)s was accepted.")
                if accept
                else N_(
                    "Your offer of %(amount)s yuan for %(payer)s in case %(number)s was rejected."
                )
            ),
            amount=amount_text(offer.amount),
            payer=offer.payer,
            number=case.number,
        )
    session.flush()
    if accept:
        draft_when_agreed(actor=actor, case=case)
    return offer


def draft_when_agreed(*, actor: User, case: Case) -> Agreement | None:
    """Once every payer the agreement needs has an accepted offer and no agreement is in force,
    draft it (default payment method and due date; the mediator may change them and draft
    again). The drafter is `actor` when a mediator of the case, else the case's assigned
    mediator; None when nothing was drafted."""
    needed = agreements.payers_to_agree(case)
    if not needed or any(row["offer"] is None for row in needed):
        return None
    if agreements.current_agreement(case) is not None:
        return None
    drafter = actor if access.is_case_mediator(actor, case) else _assigned_mediator(case)
    if drafter is None:
        return None
    return agreements.draft_agreement(
        actor=drafter, case=case, payment_method=DEFAULT_PAYMENT_METHOD
    )


def _assigned_mediator(case: Case) -> User | None:
    mediator = session.get(User, case.mediator_id) if case.mediator_id else None
    return mediator if mediator is not None and access.is_case_mediator(mediator, case) else None


def may_withdraw(actor: User, case: Case, offer: Offer) -> bool:
    """Whether `actor` speaks for the side that made `offer` (and so may withdraw it)."""
    if offer.side == OfferSide.INSURER:
        return access.can(actor, Role.ADJUSTER) and actor.org_id == offer.org_id
    return access.is_case_mediator(actor, case) and actor.org_id == offer.org_id


def withdraw_offer(*, actor: User, case: Case, offer_id: int, version: int | None = None) -> Offer:
    """The side that made an open offer takes it back before it is answered; its expiry timer
    is cancelled and the answering side told."""
    access.require_role(actor, Role.ADJUSTER, Role.MEDIATOR)
    check_version(case, version)
    offer = _locked_offer(case, offer_id)
    negotiated_assessment(case)
    if not may_withdraw(actor, case, offer):
        raise NotAllowed(_("Only the side that made offer %(id)s may withdraw it.", id=offer.id))
    if offer.status != OfferStatus.OPEN:
        raise InvalidTransition(
            _(
                "Offer %(id)s is no longer open (%(status)s); only an open offer can be withdrawn.",
                id=offer.id,
                status=STATUS_LABELS[OfferStatus(offer.status)],
            )
        )
    now = utcnow()
    offer.status = OfferStatus.WITHDRAWN
    offer.answered_by_id = actor.id  # who closed it, and when
    offer.answered_at = now
    cancelled = deadlines.close_deadlines(
        case=case, kind=DEADLINE_KIND, subject=f"offer:{offer.id}", status=DeadlineStatus.CANCELLED
    )
    case.updated_at = now
    audit.record(
        "offer.withdrawn",
        actor=actor,
        case_id=case.id,
        subject=f"offer:{offer.id}",
        details={
            "digest": offer.digest,
            "payer": offer.payer,
            "amount": amount_text(offer.amount),
            "cancelled_deadlines": [deadline.id for deadline in cancelled],
            digests.DIGESTS_KEY: digests.row_digests(offer),
        },
    )
    answerer, _role = answering_org(case, offer)
    if answerer is not None and answerer != actor.org_id:
        notifications.notify_org(
            org_id=answerer,
            case=case,
            kind="offer.withdrawn",
            message=N_(
                "The offer of %(amount)s yuan for %(payer)s in case %(number)s was withdrawn."
            ),
            amount=amount_text(offer.amount),
            payer=offer.payer,
            number=case.number,
        )
    session.flush()
    return offer


# -- reading ----------------------------------------------------------------------------------


def case_offers(case: Case) -> list[Offer]:
    """The trail of offers of `case`, oldest first."""
    return list(session.scalars(select(Offer).where(Offer.case_id == case.id).order_by(Offer.id)))


def accepted_offers(case: Case) -> dict[str, Offer]:
    """The accepted offer of each payer of `case`."""
    return {
        offer.payer: offer for offer in case_offers(case) if offer.status == OfferStatus.ACCEPTED
    }


def get_offer(case: Case, offer_id: int) -> Offer:
    """One offer of `case` (404 if the case has no such offer)."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.case_id != case.id:
        raise NotFound(_("No offer %(id)s in this case.", id=offer_id))
    return offer


def _change(assessed: Decimal, offered: Decimal) -> dict[str, str]:
    return {
        "assessed": amount_text(assessed),
        "offered": amount_text(offered),
        "difference": amount_text(offered - assessed),
    }


def offer_differences(offer: Offer) -> dict[str, Any]:
    """The offer against its assessment: the payer's total and, when items were given, each
    item's amount (assessed, offered, difference)."""
    assessment = session.get(Assessment, offer.assessment_id)
    assessed_total = Decimal(assessment.result["totals"].get(offer.payer, "0.00"))
    differences: dict[str, Any] = {"total": _change(assessed_total, offer.amount), "items": {}}
    assessed_items = {
        victim["id"]: {item["code"]: Decimal(item["amount"]) for item in victim["items"]}
        for victim in assessment.result["victims"]
    }
    for victim_id, amounts in (offer.items or {}).items():
        known = assessed_items.get(victim_id, {})
        differences["items"][victim_id] = {
            code: _change(known.get(code, Decimal("0.00")), Decimal(amount))
            for code, amount in amounts.items()
        }
    return differences


def people_of(offers: list[Offer]) -> tuple[dict[int, User], dict[int, Organization]]:
    """The users who made or answered `offers`, and the organisations they came from."""
    user_ids = {o.created_by_id for o in offers} | {
        o.answered_by_id for o in offers if o.answered_by_id
    }
    org_ids = {o.org_id for o in offers}
    users = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    orgs = (
        {o.id: o for o in session.scalars(select(Organization).where(Organization.id.in_(org_ids)))}
        if org_ids
        else {}
    )
    return users, orgs


# -- expiry -----------------------------------------------------------------------------------


def expire_offers(now: datetime) -> int:
    """Mark the open offers past their expiry as expired; how many were."""
    due = list(
        session.scalars(
            select(Offer)
            .where(
                Offer.status == OfferStatus.OPEN,
                Offer.expires_at.is_not(None),
                Offer.expires_at <= now,
            )
            .order_by(Offer.id)
            # An offer being answered right now is left for the next sweep.
            .with_for_update(skip_locked=True)
        )
    )
    for offer in due:
        case = session.get(Case, offer.case_id)
        offer.status = OfferStatus.EXPIRED
        deadlines.close_deadlines(
            case=case,
            kind=DEADLINE_KIND,
            subject=f"offer:{offer.id}",
            status=DeadlineStatus.CANCELLED,
        )
        audit.record(
            "offer.expired",
            actor=None,
            case_id=case.id,
            subject=f"offer:{offer.id}",
            details={
                "digest": offer.digest,
                "payer": offer.payer,
                "expires_at": _iso(offer.expires_at),
                digests.DIGESTS_KEY: digests.row_digests(offer),
            },
        )
        notifications.notify_org(
            org_id=offer.org_id,
            case=case,
            kind="offer.expired",
            message=N_(
                "Your offer of %(amount)s yuan for %(payer)s in case %(number)s expired "
                "without an answer."
            ),
            amount=amount_text(offer.amount),
            payer=offer.payer,
            number=case.number,
        )
    session.flush()
    return len(due)
