"""The insurer desk: the cases that touch an adjuster's insurer with its exposure under the latest
assessment, and the claim data the adjuster records (policy numbers, a commercial limit,
exclusions with their reason, amounts already advanced), which re-runs the assessment."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import access, audit, validation
from app.db import session, utcnow
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.models import (
    MEDIATED_STATES,
    Assessment,
    Case,
    CaseStatus,
    InsurerClaim,
    PolicyKind,
    Role,
    User,
    Vehicle,
)
from app.services import assessments
from app.services.cases import CasePage, search_cases
from app.services.claims import reassess_case
from app.services.payers import insurer_payers

CTPI_FIELDS = ("ctpi_policy_no",)
COMMERCIAL_FIELDS = (
    "commercial_policy_no",
    "commercial_limit",
    "commercial_excluded",
    "exclusion_reason",
)
BUCKETS = ("medical", "death_disability", "property")
ZERO = Decimal("0.00")
MAX_POLICY_NO = 64
MAX_REASON = 500
MAX_NOTE = 1000


# -- amounts ----------------------------------------------------------------------------------


# -- what an insurer covers -------------------------------------------------------------------


@dataclass(frozen=True)
class CoveredParty:
    """A party whose vehicle the insurer covers, with the policies the report names."""

    label: str
    name: str | None
    plate: str | None
    ctpi: dict[str, Any] | None  # {"insurer", "number"} when this insurer holds the 交强险
    commercial: dict[str, Any] | None  # {"insurer", "number", "limit"} likewise


def covered_parties(case: Case, org_id: int) -> list[CoveredParty]:
    """The parties of `case` whose vehicle the insurer `org_id` covers, in report order."""
    by_id = {party.id: party for party in case.parties}
    covered = []
    for vehicle in case.vehicles:
        party = by_id.get(vehicle.driver_party_id)
        if party is None:
            continue
        held = {p.kind: p for p in vehicle.policies if p.insurer_org_id == org_id}
        if not held:
            continue
        ctpi = held.get(PolicyKind.CTPI)
        commercial = held.get(PolicyKind.COMMERCIAL)
        covered.append(
            CoveredParty(
                label=party.label,
                name=party.name,
                plate=vehicle.plate,
                ctpi={"insurer": ctpi.insurer_name, "number": ctpi.number} if ctpi else None,
                commercial=(
                    {
                        "insurer": commercial.insurer_name,
                        "number": commercial.number,
                        "limit": commercial.limit,
                    }
                    if commercial
                    else None
                ),
            )
        )
    positions = {party.label: party.position for party in case.parties}
    return sorted(covered, key=lambda c: positions.get(c.label, 0))


def insurer_claim(case: Case, org_id: int) -> InsurerClaim | None:
    """The claim data the insurer `org_id` recorded for `case`, if any."""
    return session.scalars(
        select(InsurerClaim).where(
            InsurerClaim.case_id == case.id, InsurerClaim.insurer_org_id == org_id
        )
    ).one_or_none()


def _check_adjuster(actor: User, case: Case) -> None:
    access.require_role(actor, Role.ADJUSTER)
    if not access.is_case_insurer(actor, case):
        raise NotAllowed(_("Only an adjuster of an insurer on this case may do this."))


# -- saving claim data ------------------------------------------------------------------------


def _is_set(value: Any) -> bool:
    return value not in (None, "", False)


def _clean_party(raw: Any, covered: CoveredParty) -> dict[str, Any]:
    path = f"policies.{covered.label}"
    if not isinstance(raw, dict):
        raise ValidationFailed(
            _("The policies of %(party)s's vehicle must be an object.", party=covered.label),
            field=path,
        )
    for key, value in raw.items():
        if key not in (*CTPI_FIELDS, *COMMERCIAL_FIELDS):
            raise ValidationFailed(
                _("Unknown field %(field)s in the claim data.", field=f"{path}.{key}"),
                field=f"{path}.{key}",
            )
        held = covered.ctpi if key in CTPI_FIELDS else covered.commercial
        if held is None and _is_set(value):
            raise ValidationFailed(
                _(
                    "Your insurer does not hold this policy of %(party)s's vehicle.",
                    party=covered.label,
                ),
                field=f"{path}.{key}",
            )
    entry: dict[str, Any] = {}
    if covered.ctpi is not None:
        entry["ctpi_policy_no"] = validation.text(
            raw.get("ctpi_policy_no"),
            name=f"{path}.ctpi_policy_no",
            label=_("%(party)s's 交强险 policy number", party=covered.label),
            limit=MAX_POLICY_NO,
        )
    if covered.commercial is not None:
        limit = raw.get("commercial_limit")
        excluded = raw.get("commercial_excluded", False)
        if not isinstance(excluded, bool):
            raise ValidationFailed(
                _(
                    "Whether the commercial insurance of %(party)s's vehicle is excluded "
                    "must be true or false.",
                    party=covered.label,
                ),
                field=f"{path}.commercial_excluded",
            )
        reason = validation.text(
            raw.get("exclusion_reason"),
            name=f"{path}.exclusion_reason",
            label=_("The reason for the exclusion"),
            limit=MAX_REASON,
        )
        if excluded and reason is None:
            raise ValidationFailed(
                _(
                    "Give the reason why the commercial insurance of %(party)s's vehicle "
                    "does not pay (the clause that excludes it).",
                    party=covered.label,
                ),
                field=f"{path}.exclusion_reason",
            )
        entry.update(
            commercial_policy_no=validation.text(
                raw.get("commercial_policy_no"),
                name=f"{path}.commercial_policy_no",
                label=_("%(party)s's commercial policy number", party=covered.label),
                limit=MAX_POLICY_NO,
            ),
            commercial_limit=(
                None
                if limit in (None, "")
                else str(
                    validation.amount(
                        limit,
                        name=f"{path}.commercial_limit",
                        label=_("%(party)s's commercial limit", party=covered.label),
                        positive=True,
                    )
                )
            ),
            commercial_excluded=excluded,
            exclusion_reason=reason if excluded else None,
        )
    return entry


def clean_policies(case: Case, org_id: int, policies: Any) -> dict[str, dict[str, Any]]:
    """The claim data per party label, checked against what the insurer covers (422 if not)."""
    if not isinstance(policies, dict):
        raise ValidationFailed(
            _(
                'Send %(field)s as {"甲方": {…}, …}, one entry per party label.',
                field="policies",
            ),
            field="policies",
        )
    covered = {party.label: party for party in covered_parties(case, org_id)}
    cleaned = {}
    for label, raw in policies.items():
        if label not in covered:
            raise ValidationFailed(
                _(
                    "Your insurer covers no vehicle of %(party)s in this case.",
                    party=label,
                ),
                field=f"policies.{label}",
            )
        cleaned[label] = _clean_party(raw, covered[label])
    return cleaned


def _snapshot(record: InsurerClaim | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "policies": record.policies or {},
        "advanced": str(record.advanced),
        "advance_note": record.advance_note,
    }


def save_insurer_claim(
    *,
    actor: User,
    case: Case,
    policies: Any,
    advanced: Any,
    advance_note: Any = None,
    version: int | None = None,
) -> InsurerClaim:
    """An adjuster records their insurer's claim data for `case` (an argument left None keeps
    its saved value); the assessment is re-run."""
    _check_adjuster(actor, case)
    if case.status not in MEDIATED_STATES:
        raise InvalidTransition(
            _("Claim data can be changed only until the settlement agreement is signed.")
        )
    record = insurer_claim(case, actor.org_id)
    if version is not None and version != (record.version if record else None):
        raise InvalidTransition(
            _("Someone else changed this claim data at the same time. Reload it and try again.")
        )
    before = _snapshot(record)
    # A value left out (None) keeps what was saved; an empty one clears it.
    cleaned = (
        clean_policies(case, actor.org_id, policies)
        if policies is not None
        else dict(before["policies"] if before else {})
    )
    if advanced is None:
        amount = record.advanced if record else ZERO
    elif advanced == "":
        amount = ZERO
    else:
        amount = validation.amount(advanced, name="advanced", label=_("Advance paid"))
    note = (
        validation.text(
            advance_note, name="advance_note", label=_("Note on the advance"), limit=MAX_NOTE
        )
        if advance_note is not None
        else (record.advance_note if record else None)
    )
    after = {"policies": cleaned, "advanced": str(amount), "advance_note": note}
    if before == after:
        return record  # nothing changed: nothing to re-run
    if record is None:
        record = InsurerClaim(case_id=case.id, insurer_org_id=actor.org_id)
        try:
            with session.begin_nested():
                session.add(record)
                _fill(record, actor, cleaned, amount, note)
                session.flush()
        except IntegrityError as exc:  # another adjuster of the insurer saved first
            raise InvalidTransition(
                _("Someone else changed this claim data at the same time. Reload it and try again.")
            ) from exc
    else:
        _fill(record, actor, cleaned, amount, note)
        session.flush()
    audit.record(
        "insurer_claim.saved",
        actor=actor,
        case_id=case.id,
        subject=f"insurer_claim:{record.id}",
        details={"before": before, "after": after},
    )
    reassess_case(actor=actor, case=case)
    return record


def _fill(
    record: InsurerClaim, actor: User, policies: dict[str, Any], amount: Decimal, note: str | None
) -> None:
    record.policies = policies
    record.advanced = amount
    record.advance_note = note
    record.updated_at = utcnow()
    record.updated_by_id = actor.id


# -- the desk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayerExposure:
    """What one payer of the insurer owes under the latest assessment."""

    payer: str
    amount: Decimal
    # 交强险 only: the amount per bucket (medical, death_disability, property).
    buckets: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class DeskEntry:
    """One case on an adjuster's desk."""

    case: Case
    payers: list[str]
    claim: InsurerClaim | None
    assessment: Assessment | None
    exposure: list[PayerExposure]

    @property
    def assessed(self) -> bool:
        return self.assessment is not None

    @property
    def advanced(self) -> Decimal:
        return self.claim.advanced if self.claim is not None else ZERO

    @property
    def ctpi(self) -> Decimal | None:
        """The 交强险 part of the exposure (every bucket)."""
        if not self.assessed:
            return None
        return sum((e.amount for e in self.exposure if e.payer.startswith("ctpi:")), ZERO)

    @property
    def commercial(self) -> Decimal | None:
        """The commercial part: 商业三者险 and 车上人员责任险 (`seat:`, a commercial cover)."""
        if not self.assessed:
            return None
        return sum(
            (e.amount for e in self.exposure if e.payer.startswith(("commercial:", "seat:"))),
            ZERO,
        )

    @property
    def total(self) -> Decimal | None:
        if not self.assessed:
            return None
        return sum((e.amount for e in self.exposure), ZERO)

    @property
    def net(self) -> Decimal | None:
        """The exposure less what the insurer already advanced (垫付)."""
        total = self.total
        return None if total is None else total - self.advanced

    @property
    def bucket_totals(self) -> dict[str, Decimal]:
        """The 交强险 exposure per bucket, over every party the insurer covers."""
        sums = dict.fromkeys(BUCKETS, ZERO)
        for entry in self.exposure:
            for bucket, amount in entry.buckets.items():
                sums[bucket] = sums.get(bucket, ZERO) + amount
        return sums


def exposure(assessment: Assessment | None, payers: list[str]) -> list[PayerExposure]:
    """Each of `payers`' amount under `assessment`, with the 交强险 buckets; [] if none."""
    if assessment is None:
        return []
    totals: dict[str, Decimal] = dict.fromkeys(payers, ZERO)
    buckets: dict[str, dict[str, Decimal]] = {
        payer: dict.fromkeys(BUCKETS, ZERO) for payer in payers if payer.startswith("ctpi:")
    }
    for payment in assessment.result.get("payments", []):
        payer = payment["payer"]
        if payer not in totals:
            continue
        amount = Decimal(payment["amount"])
        totals[payer] += amount
        bucket = payment.get("bucket")
        if payer in buckets and bucket:
            buckets[payer][bucket] = buckets[payer].get(bucket, ZERO) + amount
    return [
        PayerExposure(payer=payer, amount=totals[payer], buckets=buckets.get(payer, {}))
        for payer in payers
    ]


def _latest_assessments(case_ids: list[int]) -> dict[int, Assessment]:
    if not case_ids:
        return {}
    newest = (
        select(func.max(Assessment.id))
        .where(Assessment.case_id.in_(case_ids))
        .group_by(Assessment.case_id)
    )
    rows = session.scalars(select(Assessment).where(Assessment.id.in_(newest)))
    return {assessment.case_id: assessment for assessment in rows}


@dataclass(frozen=True)
class DeskPage:
    """A page of an adjuster's desk, with the list's page (numbers, cursors, capped count)."""

    entries: list[DeskEntry]
    page: CasePage


def insurer_desk(
    *,
    actor: User,
    status: CaseStatus | None = None,
    page: int = 1,
    after: str | None = None,
    before: str | None = None,
) -> DeskPage:
    """A page of the cases an adjuster sees, newest first (found as the case list finds them),
    each with their insurer's payers and exposure under the latest assessment (none yet:
    `assessed` is False). Raises ValueError for a cursor that is not one."""
    access.require_role(actor, Role.ADJUSTER)
    found = search_cases(user=actor, status=status, page=page, after=after, before=before)
    ids = [case.id for case in found.items]
    # One query each for the page's parties, policies and letters, not one per case.
    session.scalars(
        select(Case)
        .where(Case.id.in_(ids))
        .options(
            selectinload(Case.parties),
            selectinload(Case.vehicles).selectinload(Vehicle.policies),
            selectinload(Case.report),
        )
    ).all()
    latest = _latest_assessments(ids)
    claims = {
        record.case_id: record
        for record in session.scalars(
            select(InsurerClaim).where(
                InsurerClaim.case_id.in_(ids), InsurerClaim.insurer_org_id == actor.org_id
            )
        )
    }
    entries = []
    for case in found.items:
        assessment = latest.get(case.id)
        payers = insurer_payers(
            case, actor.org_id, assessment.result["totals"] if assessment is not None else ()
        )
        entries.append(
            DeskEntry(
                case=case,
                payers=payers,
                claim=claims.get(case.id),
                assessment=assessment,
                exposure=exposure(assessment, payers),
            )
        )
    return DeskPage(entries, found)


def desk_entry(*, actor: User, case: Case) -> DeskEntry:
    """The desk line of one case for an adjuster of an insurer on it."""
    _check_adjuster(actor, case)
    payers = insurer_payers(case, actor.org_id)
    assessment = assessments.latest_assessment(case)
    return DeskEntry(
        case=case,
        payers=payers,
        claim=insurer_claim(case, actor.org_id),
        assessment=assessment,
        exposure=exposure(assessment, payers),
    )
