"""Payments under the signed settlement agreement: adjusters (and, for the liable parties, the
case's mediation committee) record what each payer paid; a case whose every payer has paid its
agreed amount becomes `paid`. Partial and late payments stay visible."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app import access, audit, digests, validation, workflow
from app.clock import BEIJING  # noqa: E402
from app.db import session, utcnow
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.labels import N_
from app.models import (
    PAYABLE_STATES,
    Agreement,
    AgreementStatus,
    Case,
    Payment,
    Role,
    User,
)
from app.money import amount_text
from app.services import deadlines, notifications
from app.services.payers import payer_org_id
from app.validation import check_version

ZERO = Decimal("0.00")
MAX_REFERENCE = 200


def today() -> date:
    """Today's date in Beijing, the date payments are booked on."""
    return utcnow().astimezone(BEIJING).date()


def signed_agreement(case: Case) -> Agreement | None:
    """The settlement agreement of `case` that all parties signed (the newest, if several)."""
    return session.scalars(
        select(Agreement)
        .where(Agreement.case_id == case.id, Agreement.status == AgreementStatus.SIGNED)
        .order_by(Agreement.id.desc())
        .limit(1)
    ).first()


def _due(agreement: Agreement, entry: dict[str, Any]) -> date | None:
    text = entry.get("due") or agreement.data.get("payment_due")
    return date.fromisoformat(text) if text else None


def _entries(agreement: Agreement) -> list[dict[str, Any]]:
    return list(agreement.data.get("payers") or [])


def _org_of(case: Case, entry: dict[str, Any]) -> int | None:
    if "org_id" in entry:
        return entry["org_id"]
    return payer_org_id(case, entry["payer"])


def payments_of(case: Case) -> list[Payment]:
    """Every payment recorded for `case`, in the order they were made."""
    return list(
        session.scalars(
            select(Payment).where(Payment.case_id == case.id).order_by(Payment.paid_on, Payment.id)
        )
    )


def payment_status(case: Case) -> list[dict[str, Any]]:
    """Per payer of the signed agreement: agreed, paid, outstanding, due date, whether it is
    partly paid or late, and its payments; [] before an agreement is signed."""
    agreement = signed_agreement(case)
    if agreement is None:
        return []
    recorded = payments_of(case)
    booked_on = today()
    rows = []
    for entry in _entries(agreement):
        payer = entry["payer"]
        agreed = Decimal(str(entry["amount"]))
        mine = [payment for payment in recorded if payment.payer == payer]
        paid = sum((payment.amount for payment in mine), ZERO)
        outstanding = max(agreed - paid, ZERO)
        due = _due(agreement, entry)
        paid_late = [p for p in mine if due is not None and p.paid_on > due]
        overdue = due is not None and outstanding > 0 and booked_on > due
        rows.append(
            {
                "payer": payer,
                "label": entry.get("label"),
                "org_id": _org_of(case, entry),
                "agreed": agreed,
                "paid": paid,
                "outstanding": outstanding,
                "due": due,
                "covered": outstanding == 0,
                "partial": ZERO < paid < agreed,
                "overdue": overdue,
                "late": overdue or bool(paid_late),
                "payments": [
                    {"payment": p, "late": due is not None and p.paid_on > due} for p in mine
                ],
            }
        )
    return rows


def may_record(actor: User, case: Case, org_id: int | None) -> bool:
    """Whether `actor` records payments of a payer paid by `org_id`: an adjuster of that
    insurer; the case's mediation committee for the parties (and insurers not registered)."""
    if access.can(actor, Role.ADJUSTER):
        return org_id is not None and org_id == actor.org_id
    if access.can(actor, Role.MEDIATOR):
        return org_id is None and access.is_case_mediator(actor, case)
    return False


def recordable_payers(actor: User, case: Case) -> list[dict[str, Any]]:
    """The payers whose payments `actor` may record now (still owing), for the portal form."""
    if case.status not in PAYABLE_STATES:
        return []
    return [
        row
        for row in payment_status(case)
        if row["outstanding"] > 0 and may_record(actor, case, row["org_id"])
    ]


def _paid_on(value: Any) -> date:
    if isinstance(value, datetime):
        value = value.date()
    paid_on = validation.a_date(value, name="paid_on", label=_("Paid on")) or today()
    if paid_on > today():
        raise ValidationFailed(
            _("A payment cannot be dated in the future."),
            field="paid_on",
        )
    return paid_on


def _reference(value: Any) -> str:
    text = validation.text(
        value, name="reference", label=_("Payment reference"), limit=MAX_REFERENCE
    )
    if text is None:
        raise ValidationFailed(
            _("Give the payment's reference (bank transfer or receipt number)."),
            field="reference",
        )
    return text


def record_payment(
    *,
    actor: User,
    case: Case,
    payer: Any,
    amount: Any,
    reference: Any,
    paid_on: Any = None,
    version: int | None = None,
) -> Payment:
    """Record a payment by one payer of the signed agreement; the payer's timer is met once it
    has paid its agreed amount, and the case becomes `paid` once every payer has."""
    access.require_role(actor, Role.ADJUSTER, Role.MEDIATOR)
    # Lock the case: two last payments recorded at once must not both miss that all is paid.
    session.refresh(case, with_for_update=True)
    check_version(case, version)
    if case.status not in PAYABLE_STATES:
        raise InvalidTransition(
            _("Payments are recorded once the settlement agreement is signed, until paid.")
        )
    agreement = signed_agreement(case)
    if agreement is None:
        raise InvalidTransition(_("The case has no signed settlement agreement."))
    status = {row["payer"]: row for row in payment_status(case)}
    if not isinstance(payer, str) or payer not in status:
        raise ValidationFailed(
            _(
                "%(payer)s is not a payer of the signed agreement (%(payers)s).",
                payer=str(payer),
                payers=", ".join(status),
            ),
            field="payer",
        )
    row = status[payer]
    if not may_record(actor, case, row["org_id"]):
        raise NotAllowed(
            _(
                "Payments of %(payer)s are recorded by its insurer's adjuster, or by the "
                "case's mediator for a party.",
                payer=row["label"] or payer,
            )
        )
    value = validation.amount(amount, name="amount", label=_("Amount"), positive=True)
    if value > row["outstanding"]:
        raise ValidationFailed(
            _(
                "%(payer)s owes %(outstanding)s yuan more under the agreement; "
                "%(amount)s is too much.",
                payer=row["label"] or payer,
                outstanding=amount_text(row["outstanding"]),
                amount=amount_text(value),
            ),
            field="amount",
        )
    payment = Payment(
        case_id=case.id,
        payer=payer,
        amount=value,
        paid_on=_paid_on(paid_on),
        reference=_reference(reference),
        recorded_by_id=actor.id,
        created_at=utcnow(),
    )
    session.add(payment)
    session.flush()
    covered = value == row["outstanding"]
    audit.record(
        "payment.recorded",
        actor=actor,
        case_id=case.id,
        subject=f"payment:{payment.id}",
        details={
            "payer": payer,
            "amount": amount_text(value),
            "paid_on": payment.paid_on.isoformat(),
            "reference": payment.reference,
            "agreement_id": agreement.id,
            "outstanding": amount_text(row["outstanding"] - value),
            digests.DIGESTS_KEY: digests.row_digests(payment),
        },
    )
    _notify(
        case,
        "payment.recorded",
        N_("%(payer)s paid %(amount)s yuan in case %(number)s (reference %(reference)s)."),
        payer=row["label"] or payer,
        amount=amount_text(value),
        reference=payment.reference,
    )
    if covered:
        deadlines.close_deadlines(case=case, kind="insurer_payment", subject=f"payer:{payer}")
    if all(r["covered"] or (r["payer"] == payer and covered) for r in status.values()):
        _mark_paid(actor, case)
    return payment


def _notify(case: Case, kind: str, message: str, **params: Any) -> None:
    if case.mediation_committee_id is not None:
        notifications.notify_org(
            org_id=case.mediation_committee_id,
            case=case,
            kind=kind,
            message=message,
            number=case.number,
            **params,
        )


def _mark_paid(actor: User, case: Case) -> None:
    workflow.transition(case, "paid", actor)
