"""Payers of a case (INTERFACES.md §3: `ctpi:<party>`, `commercial:<party>`, `seat:<party>`,
`party:<party>`, `self`) and the organisations behind them.

`fund` (道路交通事故社会救助基金) is no payer here: it only advances costs (the assessment's
`advances`) and recovers them from the party, who still owes them, so it never owes a payment,
takes no offers and signs no agreement as a payer."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import select

from app.db import session
from app.models import Assessment, Case, PolicyKind

KINDS = ("ctpi", "commercial", "seat", "party", "self")
# The payers that owe money under an agreement (the victim's own share is borne, not paid).
OWING_KINDS = ("ctpi", "commercial", "seat", "party")
# The policy whose insurer pays each insurer payer. 车上人员责任险 (`seat`) has no policy record
# of its own (DOMAIN.md is silent on one): it is sold as a commercial cover, so the insurer of
# the vehicle's commercial policy stands behind it.
POLICY_OF = {
    "ctpi": PolicyKind.CTPI,
    "commercial": PolicyKind.COMMERCIAL,
    "seat": PolicyKind.COMMERCIAL,
}


def split_payer(payer: str) -> tuple[str, str | None]:
    """`ctpi:甲方` → (`ctpi`, `甲方`); `self` → (`self`, None)."""
    kind, _, party = payer.partition(":")
    return kind, party or None


def is_owing(payer: str) -> bool:
    """Whether `payer` owes money the agreement must settle (not the victim, not the fund)."""
    kind, label = split_payer(payer)
    return kind in OWING_KINDS and label is not None


def payer_policy_kind(payer: str) -> PolicyKind | None:
    """The kind of the vehicle policy behind an insurer payer; None for anyone else."""
    return POLICY_OF.get(split_payer(payer)[0])


def payer_org_id(case: Case, payer: str) -> int | None:
    """The insurer organisation that pays `payer` (None for parties, the victim, the fund, or an
    insurer not registered on the platform).

    `seat:<party>` (车上人员责任险) maps to the insurer of that vehicle's commercial policy: the
    platform keeps no separate seat-cover policy, and the cover is sold as a commercial one."""
    kind, label = split_payer(payer)
    policy_kind = POLICY_OF.get(kind)
    if policy_kind is None:
        return None
    drivers = {party.id: party.label for party in case.parties}
    for vehicle in case.vehicles:
        if drivers.get(vehicle.driver_party_id) != label:
            continue
        for policy in vehicle.policies:
            if policy.kind == policy_kind:
                return policy.insurer_org_id
    return None


def _latest_payers(case: Case) -> Collection[str]:
    result = session.scalars(
        select(Assessment.result)
        .where(Assessment.case_id == case.id)
        .order_by(Assessment.id.desc())
        .limit(1)
    ).first()
    return (result or {}).get("totals", {})


def insurer_payers(case: Case, org_id: int, assessed: Collection[str] | None = None) -> list[str]:
    """The payer keys of `case` that the insurer `org_id` pays, 交强险 first.

    The insurer of a vehicle's commercial policy also pays its 车上人员责任险 (`seat:<party>`)
    when the assessment (`assessed`: its payers; by default the case's latest) has that payer."""
    drivers = {party.id: party.label for party in case.parties}
    found = []
    seats = []
    for vehicle in case.vehicles:
        label = drivers.get(vehicle.driver_party_id)
        for policy in vehicle.policies:
            if policy.insurer_org_id == org_id and label is not None:
                found.append(f"{policy.kind.value}:{label}")
                if policy.kind == PolicyKind.COMMERCIAL:
                    seats.append(f"seat:{label}")
    if seats:
        present = _latest_payers(case) if assessed is None else assessed
        found += [seat for seat in seats if seat in present]
    return sorted(found, key=lambda p: (KINDS.index(split_payer(p)[0]), p))


def assessed_amounts(assessment: Assessment) -> dict[str, Decimal]:
    """What each payer owes in total under `assessment`."""
    return {payer: Decimal(amount) for payer, amount in assessment.result["totals"].items()}
