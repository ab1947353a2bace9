"""Who pays (DOMAIN.md §3): 交强险 within its limits, then the remainder by civil liability, the
vehicle side's share to its commercial insurer (or, for its own occupants, its seat cover) up to
the policy limit, then to the party. Every payment says which items it pays."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from app.compensation.inputs import InvalidInput, Party, Request, Victim
from app.compensation.items import Item
from app.compensation.money import ZERO, exact, split, to_fen
from app.compensation.rules import BUCKETS, RuleSet

COMPLEMENT = {"full": "none", "main": "minor", "equal": "equal", "minor": "main", "none": "full"}
RATIO_STEP = {"ratio_0.1pct": Decimal("0.001"), "ratio_1pct": Decimal("0.01")}
SELF = "self"
FUND = "fund"
PAYER_KINDS = ("ctpi", "commercial", "seat", "party", SELF)
# Items a seat cover (车上人员责任险) pays: the occupant's personal injury.
PERSONAL_BUCKETS = ("medical", "death_disability")
# 社会救助基金 advances rescue costs (part of 医疗费) and funeral costs.
FUND_ITEMS = ("medical", "funeral")

Amounts = dict[str, Decimal]


@dataclass(frozen=True)
class Payment:
    victim: str
    payer: str
    amount: Decimal
    bucket: str | None = None
    basis: str = ""
    items: tuple[tuple[str, Decimal], ...] = ()

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"victim": self.victim, "payer": self.payer}
        if self.bucket is not None:
            data["bucket"] = self.bucket
        data["amount"] = str(self.amount)
        data["basis"] = self.basis
        data["items"] = [{"code": code, "amount": str(amount)} for code, amount in self.items]
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
    recoveries: list[dict[str, str]] = field(default_factory=list)
    advances: list[dict[str, object]] = field(default_factory=list)


def own_vehicle(victim: Victim, parties: tuple[Party, ...]) -> str | None:
    """The vehicle whose own insurance does not cover this victim (交强险条例 art. 3)."""
    for party in parties:
        if party.is_vehicle and (party.id == victim.party or victim.id in party.occupants):
            return party.id
    return None


def _no_fault(party: Party) -> bool:
    """No-fault limits follow the police finding, never a ratio agreed later (DOMAIN.md §3.2)."""
    return party.liability == "none"


def _without_ctpi(party: Party) -> bool:
    """No insurer answers for this vehicle's 交强险 (uninsured, or fled and not identified): its
    owner pays instead (道交解释 art. 16)."""
    return not party.ctpi_insured


def _fund_advances_for(party: Party) -> bool:
    """The 社会救助基金 advances for a vehicle that fled or had no 交强险."""
    return party.is_vehicle and (party.hit_and_run or not party.ctpi_insured)


def cite(rules: RuleSet, *keys: str) -> str:
    """The articles behind a payment, from the law version applied (an earlier version may not
    name every rule this engine applies)."""
    named = rules.law["allocation_basis"]
    return "；".join(named[key] for key in keys if key in named)


def proportional(total: Decimal, weights: Mapping[str, Decimal], rules: RuleSet) -> Amounts:
    """`total` split in proportion to `weights`; with a ratio-rounding option the ratios are
    rounded first, as courts that round do for every proportional split (DOMAIN.md §3.5)."""
    positive = {key: weight for key, weight in weights.items() if weight > 0}
    step = RATIO_STEP.get(rules.share_rounding)
    if step is not None and len(positive) > 1:
        weight_sum = sum(positive.values(), Decimal(0))
        with exact():
            positive = round_ratios({k: w / weight_sum for k, w in positive.items()}, step)
        positive = {key: ratio for key, ratio in positive.items() if ratio > 0}
    amounts = dict.fromkeys(weights, ZERO)
    if positive and total > 0:
        amounts.update(split(total, positive))
    return amounts


def share_limit(limit: Decimal, claims: Mapping[str, Decimal], rules: RuleSet) -> Amounts:
    """A limit shared by claims that exceed it, in proportion to the claims (道交解释 art. 19);
    no claim gets more than it asked, and what a rounded ratio would give beyond a claim goes
    to the others."""
    granted = dict.fromkeys(claims, ZERO)
    open_claims = {key: claim for key, claim in claims.items() if claim > 0}
    room = limit
    while open_claims and room > 0:
        if sum(open_claims.values(), ZERO) <= room:
            for key, claim in open_claims.items():
                granted[key] += claim
            break
        filled = False
        for key, share in proportional(room, open_claims, rules).items():
            take = min(share, open_claims[key])
            filled = filled or take == open_claims[key]
            granted[key] += take
            open_claims[key] -= take
            room -= take
        if not filled:
            break
        open_claims = {key: claim for key, claim in open_claims.items() if claim > 0}
    return granted


def round_ratios(shares: Mapping[str, Decimal], step: Decimal) -> Amounts:
    """Ratios rounded half-up to `step`, what rounding left over to the last share by name, so
    that the order of parties never matters."""
    rounded = {k: v.quantize(step, rounding=ROUND_HALF_UP) for k, v in shares.items()}
    last = max((k for k, v in rounded.items() if v > 0), default=None)
    if last is not None:
        rounded[last] += 1 - sum(rounded.values(), Decimal(0))
    return rounded


def spread(amount: Decimal, left: Amounts, first: str | None = None) -> Amounts:
    """Which items a payment of `amount` pays out of the items still unpaid (`left`): `first`
    before the others, the rest in proportion to what is left of each item."""
    taken: Amounts = {}
    if first is not None and left.get(first, ZERO) > 0:
        taken[first] = min(amount, left[first])
        amount -= taken[first]
    others = {code: value for code, value in left.items() if value > 0 and code not in taken}
    if amount > 0:
        if sum(others.values(), ZERO) == amount:
            taken.update(others)
        else:
            taken.update({k: v for k, v in split(amount, others).items() if v > 0})
    return taken


def _take(left: Amounts, taken: Amounts) -> None:
    for code, value in taken.items():
        left[code] -= value


def _item_rows(taken: Amounts, order: list[str]) -> tuple[tuple[str, Decimal], ...]:
    return tuple((code, taken[code]) for code in order if taken.get(code, ZERO) > 0)


class _Ledger:
    """What is left unpaid of each victim's items, and the payments made so far."""

    def __init__(self, losses: list[Loss]) -> None:
        self.losses = {loss.victim.id: loss for loss in losses}
        self.order = {loss.victim.id: [item.code for item in loss.items] for loss in losses}
        self.left: dict[str, Amounts] = {
            loss.victim.id: {item.code: item.amount for item in loss.items} for loss in losses
        }
        self.buckets = {
            loss.victim.id: {item.code: item.bucket for item in loss.items} for loss in losses
        }
        self.payments: list[Payment] = []

    def left_in(self, victim_id: str, codes: set[str] | None = None) -> Amounts:
        return {
            code: value
            for code, value in self.left[victim_id].items()
            if value > 0 and (codes is None or code in codes)
        }

    def pay(
        self,
        victim_id: str,
        payer: str,
        taken: Amounts,
        basis: str,
        bucket: str | None = None,
    ) -> None:
        amount = sum(taken.values(), ZERO)
        if amount <= 0:
            return
        _take(self.left[victim_id], taken)
        items = _item_rows(taken, self.order[victim_id])
        self.payments.append(Payment(victim_id, payer, amount, bucket, basis, items))


def _ctpi(request: Request, rules: RuleSet, ledger: _Ledger) -> None:
    """交强险 bucket by bucket: a victim's loss shared by the vehicles in proportion to their
    limits (art. 18), a vehicle's limit shared by its victims in proportion to their claims
    (art. 19); what a capped vehicle cannot pay passes to the vehicles with room left."""
    vehicles = [p for p in request.parties if p.is_vehicle]
    for bucket in BUCKETS:
        limits = {v.id: rules.limits(_no_fault(v))[bucket] for v in vehicles}
        for vehicle in vehicles:
            if vehicle.misconduct is not None and bucket == "property":
                limits[vehicle.id] = ZERO  # 交强险条例 art. 22: no property loss then
        room = dict(limits)
        covering: dict[str, list[str]] = {}
        unpaid: Amounts = {}
        for loss in ledger.losses.values():
            victim = loss.victim
            own = own_vehicle(victim, request.parties)
            covering[victim.id] = [v.id for v in vehicles if v.id != own and limits[v.id] > 0]
            unpaid[victim.id] = loss.bucket(bucket)
        granted: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        rounds = 0
        while True:
            claims: dict[str, Amounts] = defaultdict(dict)
            for victim_id, amount in unpaid.items():
                open_vehicles = {v: limits[v] for v in covering[victim_id] if room[v] > 0}
                if amount <= 0 or not open_vehicles:
                    continue
                for vehicle_id, claim in proportional(amount, open_vehicles, rules).items():
                    if claim > 0:
                        claims[vehicle_id][victim_id] = claim
            if not claims:
                break
            rounds += 1
            capped = False
            for vehicle_id, by_victim in claims.items():
                if sum(by_victim.values(), ZERO) > room[vehicle_id]:
                    by_victim = share_limit(room[vehicle_id], by_victim, rules)
                    capped = True
                for victim_id, amount in by_victim.items():
                    granted[(vehicle_id, victim_id)] += amount
                    unpaid[victim_id] -= amount
                    room[vehicle_id] -= amount
            if not capped:
                break
        for vehicle in vehicles:
            shared = sum(1 for (v, _), a in granted.items() if v == vehicle.id and a > 0) > 1
            for victim_id in ledger.losses:
                amount = granted.get((vehicle.id, victim_id), ZERO)
                if amount <= 0:
                    continue
                basis = ["order"]
                if len(covering[victim_id]) > 1:
                    basis.append("several_vehicles")
                if shared and room[vehicle.id] == 0:
                    basis.append("several_victims")
                if rounds > 1:
                    basis.append("resplit")
                payer = f"ctpi:{vehicle.id}"
                if _without_ctpi(vehicle):
                    payer = f"party:{vehicle.id}"
                    basis.append("uninsured")
                if vehicle.misconduct is not None and not _without_ctpi(vehicle):
                    basis.append("misconduct")
                victim = ledger.losses[victim_id].victim
                first = None
                if bucket == "death_disability" and victim.mental_distress_first:
                    first = "mental_distress"
                    basis.append("mental_distress_first")
                codes = {c for c, b in ledger.buckets[victim_id].items() if b == bucket}
                taken = spread(amount, ledger.left_in(victim_id, codes), first)
                ledger.pay(victim_id, payer, taken, cite(rules, *basis), bucket)


def liability_shares(victim: Victim, request: Request, rules: RuleSet) -> dict[str, Decimal]:
    """Shares of one victim's loss beyond 交强险: the victim's own and each other party's,
    after any reduction of the liable side (民法典 arts. 1173, 1217)."""
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
        raise InvalidInput(
            "parties",
            f"受害人 {victim.id} 的各方责任比例之和为 {total}，应为 100%；"
            "好意同乘或受害人自身过错请用受害人的 reduction（减轻比例及理由）",
        )
    shares.update(explicit)
    if implicit and rest > 0:
        weights = _weights(implicit, rules)
        weight_sum = sum(weights.values(), Decimal(0))
        with exact():
            for party in implicit:
                shares[party.id] = rest * weights[party.id] / weight_sum
    elif not others:
        shares[SELF] = Decimal(1)
    if victim.reduction is not None:
        kept = 1 - victim.reduction.ratio
        with exact():
            reduced = {k: v * kept for k, v in shares.items() if k != SELF}
            shares[SELF] = shares.get(SELF, Decimal(0)) + sum(
                (shares[k] - v for k, v in reduced.items()), Decimal(0)
            )
        shares.update(reduced)
    step = RATIO_STEP.get(rules.share_rounding)
    if step is not None:
        shares = round_ratios(shares, step)
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


def _covered_codes(party: Party, victim: Victim, ledger: _Ledger, rules: RuleSet) -> set[str]:
    """The items the vehicle's commercial or seat cover pays for this victim."""
    buckets = ledger.buckets[victim.id]
    if victim.id in party.occupants:
        return {code for code, bucket in buckets.items() if bucket in PERSONAL_BUCKETS}
    codes = set(buckets) - set(party.commercial_excluded)
    if not party.commercial_covers_indirect:
        codes.discard("indirect_property")
    return codes


def _cover(party: Party, victim: Victim, request: Request) -> str | None:
    """Which of the vehicle's policies answers for its share of this victim's loss."""
    if party.misconduct is not None:
        return None  # excluded by the commercial clauses (DOMAIN.md §3.2)
    if own_vehicle(victim, request.parties) != party.id:
        return "commercial" if party.commercial_limit is not None else None
    if victim.id in party.occupants and party.seat_limit is not None:
        return "seat"
    return None


def _liability(request: Request, rules: RuleSet, ledger: _Ledger) -> dict[str, Amounts]:
    """The loss 交强险 left, split by liability; a vehicle's share to its cover, then the party."""
    shares_by_victim: dict[str, Amounts] = {}
    by_party: dict[str, dict[str, Amounts]] = defaultdict(dict)  # party → victim → items
    for victim_id, loss in ledger.losses.items():
        victim = loss.victim
        shares = liability_shares(victim, request, rules)
        shares_by_victim[victim_id] = shares
        left = ledger.left_in(victim_id)
        rest = sum(left.values(), ZERO)
        positive = {k: v for k, v in shares.items() if v > 0}
        if rest <= 0 or not positive:
            continue
        amounts = split(rest, positive)
        for key in sorted(amounts, key=lambda k: (k == SELF, k)):
            if amounts[key] <= 0:
                continue  # a share may round to nothing: no payment of 0.00
            taken = spread(amounts[key], left)
            _take(left, taken)
            by_party[key][victim_id] = taken
    for victim_id, taken in by_party.pop(SELF, {}).items():
        reduction = ledger.losses[victim_id].victim.reduction
        basis = ("liability",) if reduction is None else ("liability", reduction.kind)
        ledger.pay(victim_id, SELF, taken, cite(rules, *basis))
    parties = {p.id: p for p in request.parties}
    for party_id in sorted(by_party, key=[p.id for p in request.parties].index):
        party = parties[party_id]
        claims: dict[str, dict[str, Amounts]] = defaultdict(dict)  # cover → victim → items
        for victim_id, taken in by_party[party_id].items():
            victim = ledger.losses[victim_id].victim
            cover = _cover(party, victim, request)
            if cover is not None:
                codes = _covered_codes(party, victim, ledger, rules)
                covered = {c: v for c, v in taken.items() if c in codes and v > 0}
                if covered:
                    claims[cover][victim_id] = covered
        paid_by_cover: dict[str, Amounts] = defaultdict(dict)
        for cover, by_victim in claims.items():
            totals = {v: sum(items.values(), ZERO) for v, items in by_victim.items()}
            if cover == "seat":
                limits = {v: min(total, party.seat_limit) for v, total in totals.items()}
            else:
                limits = share_limit(party.commercial_limit, totals, rules)
            for victim_id, amount in limits.items():
                items = spread(amount, by_victim[victim_id])
                ledger.pay(victim_id, f"{cover}:{party_id}", items, cite(rules, "order", cover))
                paid_by_cover[victim_id] = items
        for victim_id, taken in by_party[party_id].items():
            rest = dict(taken)
            _take(rest, paid_by_cover.get(victim_id, {}))
            ledger.pay(victim_id, f"party:{party_id}", rest, _party_basis(party, rest, rules))
    return shares_by_victim


def _party_basis(party: Party, items: Amounts, rules: RuleSet) -> str:
    """Why the party pays: its liability, and why its commercial cover does not."""
    basis = ["liability"]
    if party.commercial_limit is not None:
        if party.misconduct is not None:
            basis.append("misconduct_commercial")
        elif items.get("indirect_property", ZERO) > 0 and not party.commercial_covers_indirect:
            basis.append("indirect")
    return cite(rules, *basis)


def _recoveries(request: Request, rules: RuleSet, payments: list[Payment]) -> list[dict[str, str]]:
    """What a 交强险 insurer paid for a drunk, drugged or unlicensed driver, or a deliberate
    collision, and may recover from that party (道交解释 art. 15)."""
    basis = cite(rules, "misconduct")
    labels = rules.law.get("misconduct_labels", {})
    recoveries = []
    for party in request.parties:
        if party.misconduct is None:
            continue
        payer = f"ctpi:{party.id}"
        amount = sum((p.amount for p in payments if p.payer == payer), ZERO)
        if amount > 0:
            recoveries.append(
                {
                    "payer": payer,
                    "from": f"party:{party.id}",
                    "amount": str(amount),
                    "reason": party.misconduct,
                    "reason_label": labels.get(party.misconduct, party.misconduct),
                    "basis": basis,
                }
            )
    return recoveries


def _advances(request: Request, rules: RuleSet, ledger: _Ledger) -> list[dict[str, object]]:
    """What the 道路交通事故社会救助基金 advances to the victims of a vehicle that fled or had no
    交强险: the rescue part of the medical costs and the funeral costs that vehicle's owner owes,
    recovered from that party later."""
    basis = cite(rules, "fund")
    advances: list[dict[str, object]] = []
    for victim_id, loss in ledger.losses.items():
        rescue_left = to_fen(loss.victim.rescue_costs or ZERO)
        for party in request.parties:
            if not _fund_advances_for(party):
                continue
            owed: Amounts = defaultdict(Decimal)
            for payment in ledger.payments:
                if payment.victim == victim_id and payment.payer == f"party:{party.id}":
                    for code, amount in payment.items:
                        if code in FUND_ITEMS:
                            owed[code] += amount
            items = {"funeral": owed.get("funeral", ZERO)}
            items["medical"] = min(rescue_left, owed.get("medical", ZERO))
            rescue_left -= items["medical"]
            total = sum(items.values(), ZERO)
            if total > 0:
                advances.append(
                    {
                        "victim": victim_id,
                        "payer": FUND,
                        "amount": str(total),
                        "items": [
                            {"code": code, "amount": str(items[code])}
                            for code in ledger.order[victim_id]
                            if items.get(code, ZERO) > 0
                        ],
                        "recover_from": f"party:{party.id}",
                        "basis": basis,
                    }
                )
    return advances


def allocate(request: Request, rules: RuleSet, losses: list[Loss]) -> Allocation:
    """Every payment to every victim; each victim's payments add up to their total exactly."""
    _check_exclusions(request, rules)
    ledger = _Ledger(losses)
    _ctpi(request, rules, ledger)
    shares = _liability(request, rules, ledger)
    order = {loss.victim.id: i for i, loss in enumerate(losses)}
    party_order = {p.id: i for i, p in enumerate(request.parties)}
    bucket_order = {bucket: i for i, bucket in enumerate(BUCKETS)}
    payments = sorted(
        ledger.payments,
        key=lambda p: (
            order[p.victim],
            *payer_order(p.payer, party_order),
            bucket_order.get(p.bucket, len(BUCKETS)),
        ),
    )
    return Allocation(
        payments,
        shares,
        recoveries=_recoveries(request, rules, payments),
        advances=_advances(request, rules, ledger),
    )


def _check_exclusions(request: Request, rules: RuleSet) -> None:
    items = rules.law["items"]
    for party in request.parties:
        for i, code in enumerate(party.commercial_excluded):
            if code not in items:
                raise InvalidInput(
                    f"{party.path}.commercial.excluded_items[{i}]",
                    f"不认识的赔偿项目（可用：{'、'.join(items)}）",
                )


def payer_order(payer: str, party_order: dict[str, int]) -> tuple[int, int]:
    """Payers in the order of DOMAIN.md §3: 交强险, commercial, seat cover, parties, the victim."""
    kind, _, party = payer.partition(":")
    return PAYER_KINDS.index(kind), party_order.get(party, -1)
