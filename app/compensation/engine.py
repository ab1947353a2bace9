"""`assess`: an assessment input (INTERFACES.md §3) in, the explained assessment out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.compensation.allocation import Loss, allocate, payer_order
from app.compensation.catalog import Catalog, packaged_catalog
from app.compensation.inputs import Victim, read_request
from app.compensation.items import compute_items
from app.compensation.money import plain
from app.compensation.rules import select_rules


def assess(
    data: Any, catalog: Catalog | None = None, *, default_jurisdiction: str = "shanxi"
) -> dict[str, Any]:
    """The assessment of `data`, or `InvalidInput` naming the JSON path of the first problem."""
    request = read_request(data, default_jurisdiction=default_jurisdiction)
    rules = select_rules(request, catalog or packaged_catalog())
    warnings: list[dict[str, str]] = list(rules.warnings)
    losses = [Loss(v, compute_items(v, rules, warnings)) for v in request.victims]
    allocation = allocate(request, rules, losses)
    totals: dict[str, Decimal] = {}
    for payment in allocation.payments:
        totals[payment.payer] = totals.get(payment.payer, Decimal("0.00")) + payment.amount
    party_order = {p.id: i for i, p in enumerate(request.parties)}
    return {
        "rule_set": rules.describe(),
        "victims": [
            {
                "id": loss.victim.id,
                "name": loss.victim.name,
                "outcome": loss.victim.outcome,
                "total": str(loss.total),
                "items": [item.as_json() for item in loss.items],
                "buckets": {
                    bucket: str(loss.bucket(bucket))
                    for bucket in ("medical", "death_disability", "property", "none")
                },
                "shares": {
                    key: plain(share.quantize(Decimal("0.000001")))
                    for key, share in allocation.shares[loss.victim.id].items()
                },
                **_reduction(loss.victim),
            }
            for loss in losses
        ],
        "payments": [payment.as_json() for payment in allocation.payments],
        "recoveries": allocation.recoveries,
        "advances": allocation.advances,
        "warnings": warnings,
        "totals": {
            payer: str(totals[payer])
            for payer in sorted(totals, key=lambda p: payer_order(p, party_order))
        },
    }


def _reduction(victim: Victim) -> dict[str, Any]:
    reduction = victim.reduction
    if reduction is None:
        return {}
    return {
        "reduction": {
            "kind": reduction.kind,
            "ratio": plain(reduction.ratio),
            "reason": reduction.reason,
        }
    }
