"""Who pays (DOMAIN.md §3): 交强险 within its limits, then the remainder by civil liability, the
vehicle side's share to its commercial insurer up to the policy limit, then to the party."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.compensation.inputs import InvalidInput, Party, Request, Victim
from app.compensation.items import Item
from app.compensation.money import exact, split
from app.compensation.rules import BUCKETS, RuleSet

COMPLEMENT = {"full": "none", "main": "minor", "equal": "equal", "minor": "main", "none": "full"}
RATIO_STEP = {"ratio_0.1pct": Decimal("0.001"), "ratio_1pct": Decimal("0.01")}
SELF = "self"


@dataclass(frozen=True)
class Payment:
    victim: str
    payer: str
    amount: Decimal
    bucket: str | None = None
    basis: str = ""

    def as_json(self) -> dict[str, str]:
        data = {"victim": self.victim, "payer": self.payer}
        if self.bucket is not None:
            data["bucket"] = self.bucket
        data["amount"] = str(self.amount)
        data["basis"] = self.basis
        return data


@dataclass(frozen=True)
class Loss:
    """One victim's items, grouped by 交强险 bucket."""

    victim: Victim
    items: list[Item]

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0.00"))

    def bucket(self, bucket: str) -> Decimal:
        return sum((i.amount for i in self.items if i.bucket == bucket), Decimal("0.00"))


@dataclass(frozen=True)
class Allocation:
    payments: list[Payment]
    shares: dict[str, dict[str, Decimal]]  # victim id → payer key ("self" or party id) → ratio


def own_vehicle(victim: Victim, parties: tuple[Party, ...]) -> str | None:
    """The vehicle whose own insurance does not cover this victim (交强险条例 art. 3)."""
    for party in parties:
        if party.is_vehicle and (party.id == victim.party or victim.id in party.occupants):
            return party.id
    return None


def _no_fault(party: Party) -> bool:
    return party.ratio == 0 if party.ratio is not None else party.liability == "none"


def _ctpi(request: Request, rules: RuleSet, losses: list[Loss]) -> list[Payment]:
    """交强险 per bucket: a victim's loss shared by the vehicles in proportion to their limits,
    each vehicle's limit shared by its victims in proportion to their claims (arts. 18, 19)."""
    vehicles = [p for p in request.parties if p.is_vehicle]
    limits = {v.id: rules.limits(_no_fault(v)) for v in vehicles}
    by_id = {v.id: v for v in vehicles}
    basis_of = rules.law["allocation_basis"]
    paid: list[Payment] = []
    for bucket in BUCKETS:
        claims: dict[str, dict[str, Decimal]] = defaultdict(dict)
        covering_count: dict[str, int] = {}
        for loss in losses:
            amount = loss.bucket(bucket)
            own = own_vehicle(loss.victim, request.parties)
            covering = {v.id: limits[v.id][bucket] for v in vehicles if v.id != own}
            covering = {k: limit for k, limit in covering.items() if limit > 0}
            if amount <= 0 or not covering:
                continue
            covering_count[loss.victim.id] = len(covering)
            for vehicle, claim in split(amount, covering).items():
                if claim > 0:
                    claims[vehicle][loss.victim.id] = claim
        for vehicle_id in sorted(claims, key=[v.id for v in vehicles].index):
            by_victim = claims[vehicle_id]
            limit = limits[vehicle_id][bucket]
            shared = sum(by_victim.values()) > limit
            amounts = split(limit, by_victim) if shared else by_victim
            vehicle = by_id[vehicle_id]
            for loss in losses:
                victim_id = loss.victim.id
                if amounts.get(victim_id, 0) <= 0:
                    continue
                basis = [basis_of["order"]]
                if covering_count[victim_id] > 1:
                    basis.append(basis_of["several_vehicles"])
                if shared and len(by_victim) > 1:
                    basis.append(basis_of["several_victims"])
                payer = f"ctpi:{vehicle_id}"
                if not vehicle.ctpi_insured:
                    payer = f"party:{vehicle_id}"
                    basis.append(basis_of["uninsured"])
                paid.append(Payment(victim_id, payer, amounts[victim_id], bucket, "；".join(basis)))
    return paid


def liability_shares(victim: Victim, request: Request, rules: RuleSet) -> dict[str, Decimal]:
    """Shares of one victim's loss beyond 交强险: the victim's own and each other party's."""
    parties = request.parties
    own = next((p for p in parties if p.id == victim.party), None)
    others = [p for p in parties if p is not own]
    explicit = {p.id: p.ratio for p in others if p.ratio is not None}
    implicit = [p for p in others if p.ratio is None]
    if own is None:
        self_share = Decimal(0)
    elif own.ratio is None and others and not implicit:
        # Every other party's ratio was set: the victim bears what is left.
        self_share = max(1 - sum(explicit.values(), Decimal(0)), Decimal(0))
    else:
        self_share = _own_share(own, others, rules)
    shares = {SELF: self_share} if own is not None else {}
    rest = 1 - self_share - sum(explicit.values(), Decimal(0))
    if rest < 0 or (not implicit and rest != 0 and others):
        total = percent_text(1 - rest)
        raise InvalidInput("parties", f"受害人 {victim.id} 的各方责任比例之和为 {total}，应为 100%")
    shares.update(explicit)
    if implicit and rest > 0:
        weights = _weights(implicit, rules)
        weight_sum = sum(weights.values(), Decimal(0))
        with exact():
            for party in implicit:
                shares[party.id] = rest * weights[party.id] / weight_sum
    elif not others:
        shares[SELF] = Decimal(1)
    step = RATIO_STEP.get(rules.share_rounding)
    if step is not None:
        # Courts that round the ratios first give what rounding left over to the last share
        # (DOMAIN.md §3.5), here the last by name so that the order of parties never matters.
        shares = {k: v.quantize(step, rounding=ROUND_HALF_UP) for k, v in shares.items()}
        last = max((k for k, v in shares.items() if v > 0), default=None)
        if last is not None:
            shares[last] += 1 - sum(shares.values(), Decimal(0))
    return shares


def percent_text(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def _own_share(own: Party, others: list[Party], rules: RuleSet) -> Decimal:
    """The victim's own share from the liability grades (DOMAIN.md §3.4)."""
    if own.ratio is not None:
        return own.ratio
    if not others:
        return Decimal(1)
    grade = own.liability
    if grade is None:
        graded = [p for p in others if p.liability is not None]
        if len(others) != 1 or not graded:
            raise InvalidInput(f"{own.path}.liability", "需要这一方的事故责任（或比例 ratio）")
        grade = COMPLEMENT[graded[0].liability]
    if not own.is_vehicle and any(p.is_vehicle for p in others):
        # Vehicle against pedestrian or non-motor: the vehicle side's ratio by its grade.
        return 1 - rules.grade_ratio("vehicle_non_motor", COMPLEMENT[grade])
    return rules.grade_ratio("vehicle_vehicle", grade)


def _weights(parties: list[Party], rules: RuleSet) -> dict[str, Decimal]:
    """Vehicle-vs-vehicle weights of the liable parties' grades (equal when none has a weight)."""
    weights = {}
    for party in parties:
        if party.liability is None:
            if len(parties) > 1:
                raise InvalidInput(
                    f"{party.path}.liability", "需要这一方的事故责任（或比例 ratio）"
                )
            weights[party.id] = Decimal(1)
        else:
            weights[party.id] = rules.grade_ratio("vehicle_vehicle", party.liability)
    if sum(weights.values(), Decimal(0)) == 0:
        return dict.fromkeys(weights, Decimal(1))
    return weights


def allocate(request: Request, rules: RuleSet, losses: list[Loss]) -> Allocation:
    """Every payment to every victim; each victim's payments add up to their total exactly."""
    ctpi = _ctpi(request, rules, losses)
    remainder: list[tuple[str, str, Decimal]] = []
    shares_by_victim = {}
    for loss in losses:
        victim = loss.victim
        shares = liability_shares(victim, request, rules)
        shares_by_victim[victim.id] = shares
        rest = loss.total - sum((p.amount for p in ctpi if p.victim == victim.id), Decimal(0))
        positive = {k: v for k, v in shares.items() if v > 0}
        if rest > 0 and positive:
            for key, amount in split(rest, positive).items():
                if amount > 0:  # a share may round to nothing: no payment of 0.00
                    remainder.append((victim.id, key, amount))
    commercial = _commercial(request, losses, remainder)
    basis_of = rules.law["allocation_basis"]
    payments = list(ctpi)
    for victim_id, key, amount in remainder:
        if key == SELF:
            payments.append(Payment(victim_id, SELF, amount, basis=basis_of["liability"]))
            continue
        covered = commercial.get((victim_id, key), Decimal(0))
        if covered > 0:
            basis = f"{basis_of['order']}；{basis_of['commercial']}"
            payments.append(Payment(victim_id, f"commercial:{key}", covered, basis=basis))
        if amount - covered > 0:
            payments.append(
                Payment(victim_id, f"party:{key}", amount - covered, basis=basis_of["liability"])
            )
    order = {loss.victim.id: i for i, loss in enumerate(losses)}
    party_order = {p.id: i for i, p in enumerate(request.parties)}
    payments.sort(key=lambda p: (order[p.victim], *payer_order(p.payer, party_order)))
    return Allocation(payments, shares_by_victim)


def payer_order(payer: str, party_order: dict[str, int]) -> tuple[int, int]:
    """Payers in the order of DOMAIN.md §3: 交强险, commercial, parties, the victim."""
    kind, _, party = payer.partition(":")
    rank = {"ctpi": 0, "commercial": 1, "party": 2, SELF: 3}[kind]
    return rank, party_order.get(party, -1)


def _commercial(
    request: Request, losses: list[Loss], remainder: list[tuple[str, str, Decimal]]
) -> dict[tuple[str, str], Decimal]:
    """The part of each vehicle's share its commercial insurer pays, up to the policy limit,
    shared among victims in proportion to their claims when the limit does not cover all."""
    victims = {loss.victim.id: loss.victim for loss in losses}
    covered: dict[tuple[str, str], Decimal] = {}
    for party in request.parties:
        if party.commercial_limit is None:
            continue
        claims = {
            victim_id: amount
            for victim_id, key, amount in remainder
            if key == party.id
            and amount > 0
            and own_vehicle(victims[victim_id], request.parties) != party.id
        }
        if not claims:
            continue
        limit = party.commercial_limit
        amounts = claims if sum(claims.values()) <= limit else split(limit, claims)
        covered.update({(victim_id, party.id): amount for victim_id, amount in amounts.items()})
    return covered
