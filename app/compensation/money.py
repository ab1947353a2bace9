"""Money arithmetic: exact `Decimal`, rounded half-up to the fen, shares that add up exactly."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
# Enough digits that no product or quotient of legal figures is rounded before the fen.
PRECISION = 40


def exact() -> Context:
    """A context for the engine's intermediate arithmetic."""
    return localcontext(prec=PRECISION)


def to_fen(value: Decimal) -> Decimal:
    """Round half-up to 0.01 yuan (every item and every payment)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def split(total: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Shares of `total` (whole fen) in proportion to `weights`, adding up to `total` exactly.

    Largest remainder: every share is its exact quota rounded down to the fen, and the fen
    left over go to the largest fractions (ties by key), so the result depends neither on the
    order of the weights nor leaves any share more than one fen from its exact value.
    """
    weight_sum = sum(weights.values(), Decimal(0))
    if weight_sum <= 0:
        raise ValueError("split needs a positive weight")
    fen_total = int(total / FEN)
    with exact():
        quotas = {key: Decimal(fen_total) * weight / weight_sum for key, weight in weights.items()}
    floors = {key: int(quota) for key, quota in quotas.items()}
    left = fen_total - sum(floors.values())
    by_fraction = sorted(quotas, key=lambda key: (-(quotas[key] - floors[key]), key))
    for key in by_fraction[:left]:
        floors[key] += 1
    return {key: Decimal(fen) * FEN for key, fen in floors.items()}


def plain(value: Decimal) -> str:
    """A figure as written in a formula: no exponent, no trailing zeros (41327, 0.7, 25.5)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def percent(value: Decimal) -> str:
    """A ratio as a percentage for formulas (0.1 → 10%, 0.235 → 23.5%)."""
    return plain(value * 100) + "%"


def amount_text(value: Decimal) -> str:
    """An amount as JSON carries it: a string with two decimals."""
    return str(to_fen(value))
