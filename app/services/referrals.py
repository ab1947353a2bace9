"""Late insurer payments and the referral letters (监管提示函) about them (issue 16 item 4).

A payment is late once its `insurer_payment` timer (交强险条例 art. 29: pay within 10 days of
the agreement; app/data/deadlines.json) is more than REFERRAL_OVERDUE_DAYS days past its due
day (Beijing): paid after that, or still unpaid today. The list goes through the caller's case
filter and carries no personal data: case number, insurer, payer label, amounts and dates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, false, func, not_, or_, select

from app import access, audit
from app.clock import BEIJING
from app.db import session, utcnow
from app.documents.page import canonical_json_sha256
from app.documents.referral import render_referral
from app.errors import NotFound, ValidationFailed
from app.labels import N_
from app.models import (
    Agreement,
    AgreementStatus,
    Case,
    Deadline,
    DeadlineStatus,
    Organization,
    OrgKind,
    Referral,
    Role,
    User,
)
from app.objects import get_store, read_verified
from app.portable_sql import beijing_date, dates_apart
from app.services import deadlines
from app.services.notifications import notify_org

# Who lists late payments; who issues referrals (an admin or the committee, issue 16).
LIST_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.REGULATOR)
ISSUE_ROLES = (Role.ADMIN, Role.SUPERVISOR)
KEY_PREFIX = "referrals/"
PDF_TYPE = "application/pdf"


@dataclass(frozen=True)
class LateItem:
    """One payer's payment on one case, past its due day by more than the threshold."""

    deadline_id: int
    case_id: int
    case_number: str
    region: str | None
    insurer_id: int
    insurer: str
    payer: str
    amount: Decimal
    due: date
    days_late: int
    paid_on: date | None

    def as_json(self) -> dict[str, Any]:
        return {
            "deadline_id": self.deadline_id,
            "case_id": self.case_id,
            "case_number": self.case_number,
            "insurer_id": self.insurer_id,
            "insurer": self.insurer,
            "payer": self.payer,
            "amount": f"{self.amount:.2f}",
            "due": self.due.isoformat(),
            "days_late": self.days_late,
            "paid": self.paid_on is not None,
            "paid_on": self.paid_on.isoformat() if self.paid_on else None,
        }


def current_overdue_days() -> int:
    """REFERRAL_OVERDUE_DAYS: days past the due day before a payment counts as late."""
    return int(current_app.config.get("REFERRAL_OVERDUE_DAYS", 0))


def beijing_today() -> date:
    return datetime.now(BEIJING).date()


def _agreed_amounts(case_ids: set[int]) -> dict[tuple[int, str], Decimal]:
    """Each payer's amount in each case's newest signed agreement, by (case id, payer)."""
    newest = (
        select(func.max(Agreement.id))
        .where(Agreement.case_id.in_(case_ids), Agreement.status == AgreementStatus.SIGNED)
        .group_by(Agreement.case_id)
    )
    amounts = {}
    for case_id, data in session.execute(
        select(Agreement.case_id, Agreement.data).where(Agreement.id.in_(newest))
    ):
        for entry in (data or {}).get("payers", []):
            amount = Decimal(str(entry.get("amount") or 0)).quantize(Decimal("0.01"))
            amounts[(case_id, entry.get("payer"))] = amount
    return amounts


def late_payments(
    user: User,
    *,
    today: date | None = None,
    overdue_days: int | None = None,
    insurer_id: int | None = None,
    deadline_ids: list[int] | None = None,
) -> list[LateItem]:
    """The late payments on the cases `user` may see, oldest due first."""
    access.require_role(user, *LIST_ROLES)
    today = today or beijing_today()
    if overdue_days is None:
        overdue_days = current_overdue_days()
    last_paid = deadlines.last_payment_date()
    met = Deadline.status == DeadlineStatus.MET
    # Late: due more than `overdue_days` days before the payment, or before today if unpaid;
    # a timer met without a recorded payment has nothing to measure.
    cutoff = datetime.combine(today - timedelta(days=overdue_days), time(), BEIJING)
    query = (
        select(Deadline, Case.number, Case.region, Organization.name, last_paid.label("paid_on"))
        .join(Case, Case.id == Deadline.case_id)
        .join(Organization, Organization.id == Deadline.owner_org_id)
        .where(
            Deadline.kind == "insurer_payment",
            Deadline.status != DeadlineStatus.CANCELLED,
            Deadline.due_at < cutoff,
            or_(not_(met), dates_apart(beijing_date(Deadline.due_at), last_paid) > overdue_days),
            access.case_filter(user),
        )
        .order_by(Deadline.due_at, Deadline.id)
    )
    if insurer_id is not None:
        query = query.where(Deadline.owner_org_id == insurer_id)
    if deadline_ids is not None:
        query = query.where(Deadline.id.in_(deadline_ids) if deadline_ids else false())
    rows = session.execute(query).all()
    amounts = _agreed_amounts({deadline.case_id for deadline, *_rest in rows})
    items = []
    for deadline, number, region, insurer, paid_on in rows:
        due = deadline.due_at.astimezone(BEIJING).date()
        paid = paid_on if deadline.status == DeadlineStatus.MET else None
        payer = (deadline.subject or "").removeprefix("payer:")
        items.append(
            LateItem(
                deadline_id=deadline.id,
                case_id=deadline.case_id,
                case_number=number,
                region=region,
                insurer_id=deadline.owner_org_id,
                insurer=insurer,
                payer=payer,
                amount=amounts.get((deadline.case_id, payer), Decimal("0.00")),
                due=due,
                days_late=((paid or today) - due).days,
                paid_on=paid,
            )
        )
    return items


def _regulator_of(region: str | None) -> Organization:
    """The financial regulator over `region`: the nearest one, a county's before its city's."""
    regulators = session.scalars(
        select(Organization)
        .where(Organization.kind == OrgKind.REGULATOR, Organization.region.is_not(None))
        .order_by(Organization.id)
    )
    over = [org for org in regulators if region and region.startswith(org.region)]
    if not over:
        raise ValidationFailed(
            _("No financial regulator is registered for the region of these cases."),
            field="items",
        )
    return max(over, key=lambda org: len(org.region))


def _next_number(today: date) -> str:
    """监管提示 numbers run per year: TS-2026-0001."""
    count = session.scalar(
        select(func.count(Referral.id)).where(Referral.number.like(f"TS-{today.year}-%"))
    )
    return f"TS-{today.year}-{int(count or 0) + 1:04d}"


def issue(actor: User, *, insurer_id: int, deadline_ids: list[int]) -> Referral:
    """Write, store and record the referral about `insurer_id`'s late payments `deadline_ids`
    (all of them late and visible to `actor`, on cases of one region), and notify the region's
    regulator."""
    access.require_role(actor, *ISSUE_ROLES)
    wanted = sorted(set(deadline_ids))
    if not wanted:
        raise ValidationFailed(_("Choose at least one late payment."), field="items")
    items = late_payments(actor, insurer_id=insurer_id, deadline_ids=wanted)
    if sorted(item.deadline_id for item in items) != wanted:
        raise ValidationFailed(
            _("Only late payments of the chosen insurer may be referred."), field="items"
        )
    regions = {item.region for item in items}
    if len(regions) != 1:
        raise ValidationFailed(_("Refer the cases of one region at a time."), field="items")
    regulator = _regulator_of(regions.pop())
    insurer = session.get(Organization, insurer_id)
    today = beijing_today()
    number = _next_number(today)
    rows = [
        {k: v for k, v in item.as_json().items() if k not in ("insurer", "insurer_id")}
        for item in items
    ]
    data = {
        "number": number,
        "issuer": actor.organization.name,
        "regulator": regulator.name,
        "insurer": insurer.name if insurer else str(insurer_id),
        "date": today.isoformat(),
        "items": rows,
        "total": f"{sum((item.amount for item in items), Decimal('0.00')):.2f}",
    }
    digest = canonical_json_sha256(data)
    pdf = render_referral(data, current_app.config["DAOJIAO_CJK_FONT"])
    stored = get_store().put(pdf, key=f"{KEY_PREFIX}{uuid.uuid4().hex}", media_type=PDF_TYPE)
    referral = Referral(
        number=number,
        issuer_org_id=actor.org_id,
        issuer_user_id=actor.id,
        regulator_org_id=regulator.id,
        insurer_org_id=insurer_id,
        items=rows,
        sha256=digest,
        object_key=stored.key,
        pdf_sha256=stored.sha256,
        created_at=utcnow(),
    )
    session.add(referral)
    session.flush()
    audit.record(
        "referral.issued",
        actor=actor,
        subject=f"referral:{referral.id}",
        details={
            "number": number,
            "sha256": digest,
            "regulator_org_id": regulator.id,
            "insurer_org_id": insurer_id,
            "cases": [item.case_id for item in items],
        },
    )
    notify_org(
        org_id=regulator.id,
        case=None,
        kind="referral.issued",
        message=N_("Referral %(number)s about late payments by %(insurer)s."),
        number=number,
        insurer=data["insurer"],
    )
    return referral


def _readable_by(user: User) -> ColumnElement[bool]:
    """The issuer's organisation, the regulator addressed, admins; nobody else."""
    if access.can(user, Role.ADMIN):
        return Referral.id.is_not(None)
    if access.can(user, Role.SUPERVISOR, Role.REGULATOR):
        return or_(Referral.issuer_org_id == user.org_id, Referral.regulator_org_id == user.org_id)
    return false()


def referrals_for(user: User) -> list[Referral]:
    """The referrals `user` issued (its organisation) or received, newest first."""
    access.require_role(user, *LIST_ROLES)
    return list(
        session.scalars(select(Referral).where(_readable_by(user)).order_by(Referral.id.desc()))
    )


def get_referral(user: User, referral_id: int) -> Referral:
    access.require_role(user, *LIST_ROLES)
    referral = session.scalars(
        select(Referral).where(Referral.id == referral_id, _readable_by(user))
    ).one_or_none()
    if referral is None:
        raise NotFound(_("Referral not found."))
    return referral


def referral_pdf(user: User, referral_id: int) -> tuple[Referral, bytes]:
    referral = get_referral(user, referral_id)
    data = read_verified(
        referral.object_key,
        referral.pdf_sha256,
        altered="referral.altered",
        subject=f"referral:{referral.id}",
    )
    return referral, data
