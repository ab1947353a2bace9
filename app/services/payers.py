"""Payers of a case (INTERFACES.md §3: `ctpi:<party>`, `commercial:<party>`, `party:<party>`,
`self`) and the organisations behind them."""

from __future__ import annotations

from decimal import Decimal

from app.models import Assessment, Case, PolicyKind

KINDS = ("ctpi", "commercial", "party", "self")


def split_payer(payer: str) -> tuple[str, str | None]:
    """`ctpi:甲方` → (`ctpi`, `甲方`); `self` → (`self`, None)."""
    kind, _, party = payer.partition(":")
    return kind, party or None


def payer_org_id(case: Case, payer: str) -> int | None:
    """The insurer organisation that pays `payer` (None for parties, the victim, or an insurer
    not registered on the platform)."""
    kind, label = split_payer(payer)
    if kind not in ("ctpi", "commercial"):
        return None
    policy_kind = PolicyKind.CTPI if kind == "ctpi" else PolicyKind.COMMERCIAL
    drivers = {party.id: party.label for party in case.parties}
    for vehicle in case.vehicles:
        if drivers.get(vehicle.driver_party_id) != label:
            continue
        for policy in vehicle.policies:
            if policy.kind == policy_kind:
                return policy.insurer_org_id
    return None


def insurer_payers(case: Case, org_id: int) -> list[str]:
    """The payer keys of `case` that the insurer `org_id` pays, 交强险 first."""
    drivers = {party.id: party.label for party in case.parties}
    found = []
    for vehicle in case.vehicles:
        label = drivers.get(vehicle.driver_party_id)
        for policy in vehicle.policies:
            if policy.insurer_org_id == org_id and label is not None:
                found.append(f"{policy.kind.value}:{label}")
    return sorted(found, key=lambda p: (KINDS.index(split_payer(p)[0]), p))


def assessed_amounts(assessment: Assessment) -> dict[str, Decimal]:
    """What each payer owes in total under `assessment`."""
    return {payer: Decimal(amount) for payer, amount in assessment.result["totals"].items()}
