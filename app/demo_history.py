"""A year of generated case history for the demo (issue 16), so that the oversight dashboard
shows figures on first run: about 300 cases over the demo's three counties and three insurers,
each with its parties, policies, claims, an assessment by the compensation engine, offers, and
an end (signed and paid, confirmed by the tribunal, mediation failed, rejected by the tribunal)
or, for the recent ones, a state on the way there.

The rows are written directly, with the times of the story, and every transition is an audit
event at its time (`audit.record(occurred_at=…)`), appended to the chain in the order of the
story. Agreements carry a placeholder PDF that says it is generated data, never a copy of a real
agreement; there are no uploaded letters, signed scans or rulings' PDFs. Generated from one
seed: the same `today` and seed give the same history. Demo mode only.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from app import audit, compensation, digests, stats
from app.clock import BEIJING
from app.compensation.rules import chosen_standards_year
from app.db import Base, session, utcnow
from app.documents.page import Styles, canonical_json_sha256, masthead, paragraph, render
from app.models import (
    Agreement,
    AgreementStatus,
    Assessment,
    Case,
    CaseStatus,
    Claim,
    Confirmation,
    ConfirmationStatus,
    Deadline,
    DeadlineStatus,
    Offer,
    OfferSide,
    OfferStatus,
    Organization,
    OrgKind,
    Party,
    Payment,
    Policy,
    PolicyKind,
    Role,
    RulingSequence,
    User,
    Vehicle,
)
from app.money import amount_text
from app.services import agreements, assessments, deadlines, documents, offers, payers, tribunal

NUMBER_PREFIX = "DJ-HIST-"
CASES = 300
# The counties (the police unit's and the committee's region) and their share of the cases.
COUNTY_SHARES = {
    "山西省吕梁市离石区": 0.55,
    "山西省吕梁市柳林县": 0.28,
    "山西省吕梁市中阳县": 0.17,
}
PLACES = {
    "山西省吕梁市离石区": (
        "吕梁市离石区滨河北西路与龙凤大街交叉口",
        "吕梁市离石区永宁中路",
        "吕梁市离石区北川河东路",
        "吕梁市离石区吕梁大道",
        "吕梁市离石区凤山路",
        "吕梁市离石区久安路与永宁路交叉口",
        "吕梁市离石区G307国道离石段",
    ),
    "山西省吕梁市柳林县": (
        "吕梁市柳林县青龙大街",
        "吕梁市柳林县G307国道柳林段",
        "吕梁市柳林县穆村镇",
        "吕梁市柳林县薛村镇",
        "吕梁市柳林县锄沟村路口",
    ),
    "山西省吕梁市中阳县": (
        "吕梁市中阳县宁乡镇府前街",
        "吕梁市中阳县G307国道中阳段",
        "吕梁市中阳县金罗镇",
        "吕梁市中阳县枝柯镇",
    ),
}
# More accidents in summer and autumn, fewer around the Spring Festival.
MONTH_WEIGHTS = {
    1: 0.85,
    2: 0.75,
    3: 0.9,
    4: 1.0,
    5: 1.1,
    6: 1.15,
    7: 1.3,
    8: 1.3,
    9: 1.15,
    10: 1.1,
    11: 0.95,
    12: 0.9,
}
# How many cases each insurer of the first vehicle covers.
INSURER_SHARES = (0.45, 0.32, 0.23)
# A second vehicle's insurer that is not on the platform.
OTHER_INSURER = "中华联合财产保险股份有限公司吕梁中心支公司"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡郭何高林罗郑梁宋谢韩冯曹薛任贺武郝白"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅志文斌海燕鹏飞"
VEHICLE_TYPES = ("小型轿车", "小型普通客车", "小型越野客车", "轻型厢式货车", "重型半挂牵引车")
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
LIABILITY = (("full", "none"), ("main", "minor"), ("equal", "equal"), ("minor", "main"))
LIABILITY_WEIGHTS = (0.45, 0.35, 0.15, 0.05)
ANNUAL_INCOMES = ("25402", "36000", "45000", "58000", "72000")
PLACEHOLDER_NOTE = "演示数据：生成的历史案件，协议书原件未生成"


@dataclass
class People:
    """Who acts in a county: its police unit (and officer, if it has one), its committee and
    mediator."""

    police: Organization
    police_user: User | None
    committee: Organization
    mediator: User


@dataclass
class Cast:
    """Everyone who acts: each county's people, the insurers with an adjuster each, the
    tribunal and its judge."""

    counties: dict[str, People]
    insurers: list[tuple[Organization, User]]
    tribunal: Organization
    judge: User

    def users(self) -> list[User]:
        """The users who act, kept loaded while the rows of each case are let go."""
        everyone = [self.judge, *(user for _org, user in self.insurers)]
        for people in self.counties.values():
            everyone += [people.mediator, people.police_user]
        return [user for user in everyone if user is not None]


@dataclass
class Event:
    """An audit event to append at `when`, with the digests of `rows` as they end up."""

    when: datetime
    action: str
    actor: User | None
    case_id: int
    subject: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    rows: tuple[Base, ...] = ()


class Story:
    """One case's history as it is written: rows with their times, events to append, the
    timers it started; every step before `end` (the start of today, Beijing) or not at all."""

    case: Case  # set once the case row is made

    def __init__(self, rng: random.Random, cast: Cast, end: datetime, events: list[Event]) -> None:
        self.rng = rng
        self.cast = cast
        self.end = end
        self.events = events
        self.first_event = len(events)  # this case's events are those from here on
        self.timers: list[Deadline] = []

    def event(self, when: datetime, action: str, actor: User | None, **fields: Any) -> None:
        self.events.append(Event(when, action, actor, self.case.id, **fields))

    def transition(
        self,
        when: datetime,
        action: str,
        actor: User | None,
        before: CaseStatus,
        after: CaseStatus,
        **fields: Any,
    ) -> None:
        details = {"status": [before.value, after.value], **fields.pop("details", {})}
        self.case.status = after
        self.case.updated_at = when
        self.event(when, action, actor, details=details, **fields)

    def timer(
        self,
        kind: str,
        owner: Organization,
        start: datetime,
        *,
        subject: str | None = None,
        due_at: datetime | None = None,
        basis: str | None = None,
    ) -> Deadline:
        spec = deadlines.timers()[kind]
        deadline = Deadline(
            case_id=self.case.id,
            kind=kind,
            subject=subject,
            basis=basis or spec["basis"],
            owner_org_id=owner.id,
            due_at=due_at or start + timedelta(days=spec["days"]),
            status=DeadlineStatus.OPEN,
            created_at=start,
        )
        session.add(deadline)
        self.timers.append(deadline)
        return deadline

    def close_timers(
        self,
        when: datetime,
        *,
        kind: str | None = None,
        subject: str | None = None,
        status: DeadlineStatus = DeadlineStatus.MET,
    ) -> list[Deadline]:
        closed = [
            deadline
            for deadline in self.timers
            if deadline.closed_at is None
            and (kind is None or deadline.kind == kind)
            and (subject is None or deadline.subject == subject)
        ]
        for deadline in closed:
            deadline.status = status
            deadline.closed_at = when
        return closed

    def later(self, when: datetime, low: float, high: float) -> datetime:
        """A moment `low`–`high` days after `when`, in office hours (Beijing)."""
        moment = when + timedelta(days=self.rng.uniform(low, high))
        local = moment.astimezone(BEIJING)
        if not 8 <= local.hour < 18:
            local = local.replace(hour=self.rng.randint(8, 17), minute=self.rng.randint(0, 59))
            if local.astimezone(UTC) < when:
                local += timedelta(days=1)
        return local.astimezone(UTC)

    def past(self, when: datetime) -> bool:
        return when < self.end


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(SURNAMES) + given


def _plate(rng: random.Random) -> str:
    tail = "".join(rng.choice("0123456789" + PLATE_LETTERS[:8]) for _ in range(4))
    return f"晋J{rng.choice(PLATE_LETTERS)}{tail}"


def _money(rng: random.Random, low: float, high: float, step: int = 1) -> str:
    """An amount between `low` and `high`, spread evenly on a log scale, to `step` yuan."""
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    return str(int(value // step * step))


def _cast(orgs: dict[str, Organization]) -> Cast:
    by_kind: dict[OrgKind, list[Organization]] = {}
    for org in sorted(orgs.values(), key=lambda o: o.id):
        by_kind.setdefault(org.kind, []).append(org)

    def first_user(org: Organization, role: Role) -> User | None:
        return session.scalars(
            select(User).where(User.org_id == org.id, User.role == role).order_by(User.id)
        ).first()

    counties = {}
    for region in COUNTY_SHARES:
        police = next(o for o in by_kind[OrgKind.POLICE] if o.region == region)
        committee = next(o for o in by_kind[OrgKind.MEDIATION] if o.region == region)
        counties[region] = People(
            police, first_user(police, Role.POLICE), committee, first_user(committee, Role.MEDIATOR)
        )
    insurers = [(org, first_user(org, Role.ADJUSTER)) for org in by_kind[OrgKind.INSURER][:3]]
    court = by_kind[OrgKind.TRIBUNAL][0]
    return Cast(counties, insurers, court, first_user(court, Role.JUDGE))


def has_history() -> bool:
    """Whether the history was seeded already (its case numbers)."""
    found = session.scalar(select(Case.id).where(Case.number.startswith(NUMBER_PREFIX)).limit(1))
    return found is not None


def seed_history(orgs: dict[str, Organization], *, today: date, rng_seed: int = 16) -> int:
    """Generate the year of cases ending yesterday (Beijing) unless there is one; returns the
    number of cases made (0 when the history exists)."""
    if has_history():
        return 0
    rng = random.Random(rng_seed)  # noqa: S311 - made-up demo data, not a secret
    cast = _cast(orgs)
    end = datetime.combine(today, time(), BEIJING).astimezone(UTC)
    start_day = today - timedelta(days=365)
    days = [start_day + timedelta(days=n) for n in range(365)]
    weights = [MONTH_WEIGHTS[day.month] for day in days]
    chosen = sorted(rng.choices(days, weights=weights, k=CASES))
    catalog = compensation.packaged_catalog()
    styles = Styles(current_app.config["DAOJIAO_CJK_FONT"])
    now = utcnow()
    events: list[Event] = []
    confirmations: list[Confirmation] = []
    counters: dict[int, int] = {}
    with _quiet("storage"):  # the placeholder PDFs are not announced one by one
        for day in chosen:
            story = Story(rng, cast, end, events)
            counters[day.year] = counters.get(day.year, 0) + 1
            number = f"{NUMBER_PREFIX}{day.year}-{counters[day.year]:04d}"
            _write_case(story, number, day, catalog, styles, confirmations)
            for deadline in story.timers:
                if deadline.closed_at is None:
                    deadline.status = running_status(deadline.due_at, now)
            _set_aside(story, keep={*confirmations, *orgs.values(), *cast.users()})
    _number_rulings(cast.tribunal, confirmations)
    session.flush()
    # Each event flushes itself: queries need not flush first (half the flushes, seconds).
    with session.no_autoflush:
        for event in sorted(events, key=lambda e: e.when):
            if event.rows:
                event.details[digests.DIGESTS_KEY] = digests.row_digests(*event.rows)
            audit.record(
                event.action,
                actor=event.actor,
                case_id=event.case_id,
                subject=event.subject,
                details=event.details,
                occurred_at=event.when,
            )
    session.commit()
    return len(chosen)


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Only warnings and errors from `logger_name` while the block runs."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _set_aside(story: Story, *, keep: set[Base]) -> None:
    """Once a case is written its rows are final: take their digests now and let the session
    forget them, so that every later statement does not scan thousands of loaded rows. The
    confirmations stay, to be numbered at the end (their events' digests are taken then)."""
    session.flush()
    for event in story.events[story.first_event :]:
        if event.rows and not any(isinstance(row, Confirmation) for row in event.rows):
            event.details[digests.DIGESTS_KEY] = digests.row_digests(*event.rows)
            event.rows = ()
    for row in list(session.identity_map.values()):
        if row not in keep and row in session:  # a case takes its parties with it
            session.expunge(row)


def _number_rulings(court: Organization, confirmations: list[Confirmation]) -> None:
    """The tribunal's ruling numbers in the order of the rulings, as it would have given them,
    its sequence moved on past them (`tribunal.next_ruling_number` takes a savepoint, whose
    end would let the closed cases made in this transaction look finished to
    `closure.refuse_changes_to_closed_cases`)."""
    sequences = {
        row.year: row
        for row in session.scalars(
            select(RulingSequence).where(RulingSequence.tribunal_org_id == court.id)
        )
    }
    for confirmation in sorted(confirmations, key=lambda c: c.decided_at):
        year = confirmation.decided_at.astimezone(BEIJING).year
        if year not in sequences:
            sequences[year] = RulingSequence(tribunal_org_id=court.id, year=year, last=0)
            session.add(sequences[year])
        sequences[year].last += 1
        confirmation.ruling_number = tribunal.format_ruling_number(
            court, year, sequences[year].last
        )


# -- one case -------------------------------------------------------------------------------


def _write_case(
    story: Story,
    number: str,
    day: date,
    catalog: compensation.Catalog,
    styles: Styles,
    confirmations: list[Confirmation],
) -> None:
    rng = story.rng
    region = rng.choices(list(COUNTY_SHARES), weights=list(COUNTY_SHARES.values()))[0]
    people = story.cast.counties[region]
    uploaded = datetime.combine(
        day, time(rng.randint(8, 17), rng.randint(0, 59)), BEIJING
    ).astimezone(UTC)
    accident = uploaded - timedelta(days=rng.uniform(3, 12))
    # Confirmed before today: a draft would have an uploaded letter to review, which these lack.
    confirmed = min(story.later(uploaded, 0.05, 1.5), uploaded + (story.end - uploaded) / 2)
    kind = rng.choices(("injury", "death", "property"), weights=(0.7, 0.08, 0.22))[0]
    insurer, adjuster = rng.choices(story.cast.insurers, weights=INSURER_SHARES)[0]
    case = Case(
        number=number,
        status=CaseStatus.REPORTED,
        region=region,
        report_no=f"{region[-3:-1]}公交认字〔{day.year}〕第{rng.randint(100, 2999):05d}号",
        accident_time=accident,
        accident_place=rng.choice(PLACES[region]),
        reporting_unit_id=people.police.id,
        mediation_committee_id=people.committee.id,
        mediator_id=people.mediator.id,
        created_by_id=people.police_user.id if people.police_user else None,
        created_at=uploaded,
        updated_at=confirmed,
    )
    story.case = case
    claims = _parties_and_claims(story, kind, insurer)
    session.add(case)
    session.flush()
    story.event(uploaded, "case.created", people.police_user, details={"generated": True})
    story.transition(
        confirmed,
        "case.confirmed",
        people.police_user,
        CaseStatus.DRAFT,
        CaseStatus.REPORTED,
        details={
            "unmatched_insurers": [],
            "mediation_committee_id": people.committee.id,
            "procedure": rng.choice(("general", "general", "simple")),
            "liability_undetermined": [],
        },
    )
    filed = story.later(confirmed, 0.5, 12 if kind != "property" else 4)
    if not story.past(filed):
        return
    _negotiate(story, people, claims, filed, catalog, styles, confirmations, adjuster)


def _parties_and_claims(story: Story, kind: str, insurer: Organization) -> dict[str, Any]:
    rng, case = story.rng, story.case
    grade, other_grade = rng.choices(LIABILITY, weights=LIABILITY_WEIGHTS)[0]
    driver = Party(
        label="甲方",
        position=0,
        name=_name(rng),
        gender=rng.choice(("男", "男", "男", "女")),
        role="driver",
        liability=grade,
        age=rng.randint(22, 60),
    )
    vehicle_type = rng.choice(VEHICLE_TYPES)
    driver.traffic_mode = f"驾驶{vehicle_type}"
    two_vehicles = kind == "property" and rng.random() < 0.6
    walking = kind != "property" and rng.random() < 0.45
    other = Party(
        label="乙方",
        position=1,
        name=_name(rng),
        gender=rng.choice(("男", "女")),
        role="driver" if two_vehicles else "pedestrian" if walking else "cyclist",
        traffic_mode="驾驶小型轿车" if two_vehicles else "步行" if walking else "驾驶电动自行车",
        liability=other_grade,
        age=rng.randint(6, 82) if kind != "property" else rng.randint(22, 65),
    )
    case.parties.extend([driver, other])
    session.add(case)
    session.flush()
    first = Vehicle(plate=_plate(rng), vehicle_type=vehicle_type, driver_party_id=driver.id)
    first.policies.extend(_policies(rng, insurer.name, insurer.id, commercial=True))
    case.vehicles.append(first)
    if two_vehicles:
        second_insurer = rng.choice([*story.cast.insurers, (None, None)])[0]
        name = second_insurer.name if second_insurer else OTHER_INSURER
        org_id = second_insurer.id if second_insurer else None
        second = Vehicle(plate=_plate(rng), vehicle_type="小型轿车", driver_party_id=other.id)
        second.policies.extend(_policies(rng, name, org_id, commercial=rng.random() < 0.7))
        case.vehicles.append(second)
    return _claims(rng, kind, other, two_vehicles)


def _policies(
    rng: random.Random, insurer: str, org_id: int | None, *, commercial: bool
) -> list[Policy]:
    policies = [
        Policy(
            kind=PolicyKind.CTPI,
            insurer_name=insurer,
            insurer_org_id=org_id,
            number=f"PDZA{rng.randint(10**15, 10**16 - 1)}",
        )
    ]
    if commercial:
        policies.append(
            Policy(
                kind=PolicyKind.COMMERCIAL,
                insurer_name=insurer,
                insurer_org_id=org_id,
                number=f"PDAA{rng.randint(10**15, 10**16 - 1)}",
                limit=Decimal(rng.choice(("500000", "1000000", "1000000", "2000000", "3000000"))),
            )
        )
    return policies


def _claims(rng: random.Random, kind: str, victim: Party, two_vehicles: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": "v1", "party": victim.label}
    if kind == "property":
        repairs = "车辆维修" if two_vehicles else "电动自行车维修"
        low, high = (3000, 45000) if two_vehicles else (300, 3000)
        losses = [{"description": repairs, "amount": _money(rng, low, high, 10)}]
        if two_vehicles and rng.random() < 0.5:
            losses.append({"description": "施救费", "amount": str(rng.randrange(300, 1200, 50))})
        entry["items"] = {"property": losses}
        return {"victims": [entry]}
    entry["residence"] = rng.choice(("urban", "urban", "rural"))
    hospital_days = rng.randint(3, 35)
    items: dict[str, Any] = {
        "medical": {
            "bills": [{"amount": _money(rng, 1500, 90000) + ".00", "description": "医疗费"}]
        },
        "transport": {"amount": str(rng.randrange(100, 1500, 50))},
    }
    if kind == "death":
        entry["outcome"] = "death"
        items["funeral"] = {}
        items["death_compensation"] = {}
        items["mental_distress"] = {"amount": rng.choice(("30000", "50000", "50000"))}
    else:
        disabled = rng.random() < 0.3
        entry["outcome"] = "disability" if disabled else "injury"
        items["hospital_food"] = {"days": hospital_days}
        items["nutrition"] = {"days": hospital_days, "daily": rng.choice(("20", "30"))}
        if victim.age is not None and 18 <= victim.age < 65:
            items["lost_income"] = {
                "days": hospital_days + rng.randint(15, 150),
                "annual": rng.choice(ANNUAL_INCOMES),
            }
        items["nursing"] = [{"days": hospital_days, "annual": "28472", "persons": 1}]
        if disabled:
            grade = rng.choices((10, 9, 8, 7), weights=(0.6, 0.25, 0.1, 0.05))[0]
            entry["disability_grades"] = [grade]
            items["mental_distress"] = {"amount": str((11 - grade) * 5000)}
            items["appraisal_fee"] = {"amount": rng.choice(("700", "900", "1200"))}
        if victim.role == "cyclist" and rng.random() < 0.5:
            items["property"] = [
                {"description": "电动自行车维修", "amount": str(rng.randrange(200, 2500, 10))}
            ]
    entry["items"] = items
    return {"victims": [entry]}


# -- mediation, agreement, tribunal, payment ---------------------------------------------------


def _assess(
    case: Case, claims: dict[str, Any], catalog: compensation.Catalog, when: datetime
) -> dict[str, Any]:
    """The engine's assessment of the claims as the job would have made it on `when`."""
    data = assessments.build_input(case, claims)
    data["as_of"] = when.astimezone(BEIJING).date().isoformat()
    year = chosen_standards_year(data, catalog)
    if year is not None:
        data["standards_year"] = year
    data["law_version"] = catalog.law_version
    standard = catalog.standard_set(data["jurisdiction"], year) if year is not None else None
    snapshot = standard.as_json() if standard is not None else None
    result = compensation.assess(data, catalog)
    return {
        "input": {"request": data, "standard_set": snapshot},
        "result": result,
        "input_sha256": canonical_json_sha256({"input": data, "standard_set": snapshot}),
        "fingerprint": result["rule_set"]["fingerprint"],
        "engine_version": compensation.ENGINE_VERSION,
    }


def _negotiate(
    story: Story,
    people: People,
    claims: dict[str, Any],
    filed: datetime,
    catalog: compensation.Catalog,
    styles: Styles,
    confirmations: list[Confirmation],
    adjuster: User,
) -> None:
    rng, case, mediator = story.rng, story.case, people.mediator
    claim = Claim(
        case_id=case.id,
        data=claims,
        sha256=canonical_json_sha256(claims),
        created_by_id=mediator.id,
        created_at=filed,
    )
    session.add(claim)
    case.case_type = stats.case_type_of(claims)
    session.flush()
    story.transition(
        filed,
        "claims.filed",
        mediator,
        CaseStatus.REPORTED,
        CaseStatus.ASSESSING,
        subject=f"claim:{claim.id}",
        details={"sha256": claim.sha256, "victims": len(claims["victims"])},
    )
    story.timer("mediation_window", people.committee, filed)
    assessed_at = filed + timedelta(seconds=rng.randint(5, 90))
    assessment = Assessment(
        case_id=case.id,
        claim_id=claim.id,
        created_at=assessed_at,
        **_assess(case, claims, catalog, filed),
    )
    session.add(assessment)
    session.flush()
    story.event(
        assessed_at,
        "assessment.created",
        None,
        subject=f"assessment:{assessment.id}",
        details={"fingerprint": assessment.fingerprint, "totals": assessment.result["totals"]},
        rows=(assessment,),
    )
    story.transition(
        assessed_at, "case.assessed", None, CaseStatus.ASSESSING, CaseStatus.NEGOTIATING
    )
    owing = {
        payer: Decimal(amount)
        for payer, amount in assessment.result["totals"].items()
        if payers.is_owing(payer) and Decimal(amount) > 0
    }
    fails = not owing or rng.random() < 0.1
    failed_at = story.later(assessed_at, 4, 30)
    first_offer = story.later(assessed_at, 0.3, 6 if rng.random() < 0.85 else 16)
    accepted: dict[str, Offer] = {}
    moment = first_offer
    for payer, amount in owing.items():
        if not story.past(moment) or (fails and moment >= failed_at):
            break
        offer, moment = _bargain(story, people, assessment, payer, amount, moment, adjuster)
        if offer is None:
            break
        accepted[payer] = offer
    if fails:
        if story.past(failed_at):
            _fail(story, mediator, failed_at)
        return
    if len(accepted) < len(owing):
        return
    drafted = story.later(moment, 0.1, 3)
    signed = drafted + timedelta(minutes=rng.randint(20, 180))
    if not story.past(signed):
        return
    to_tribunal = rng.random() < 0.3
    agreement = _agreement(story, people, drafted, signed, to_tribunal, styles)
    paid_from = signed
    if to_tribunal:
        decided = _tribunal(story, people, agreement, signed, confirmations)
        if decided is None or story.case.status != CaseStatus.CONFIRMED:
            return
        paid_from = decided
    _pay(story, people, agreement, paid_from)


def _bargain(
    story: Story,
    people: People,
    assessment: Assessment,
    payer: str,
    assessed: Decimal,
    when: datetime,
    adjuster: User,
) -> tuple[Offer | None, datetime]:
    """The offers for one payer until one is accepted: 交强险 and a party's share mostly at the
    assessed amount, the commercial cover often after a counter-offer. Returns the accepted
    offer (None if the story ends first) and the time of its acceptance."""
    rng, case, mediator = story.rng, story.case, people.mediator
    kind = payers.split_payer(payer)[0]
    org_id = payers.payer_org_id(case, payer)
    if org_id is not None:
        maker, side = _adjuster_of(story, org_id, adjuster), OfferSide.INSURER
    else:
        maker, side, org_id = mediator, OfferSide.PARTY, people.committee.id
    haggle = kind == "commercial" and rng.random() < 0.6
    first_amount = (
        _round_down(assessed * Decimal(str(rng.uniform(0.82, 0.95)))) if haggle else assessed
    )
    first = _offer(story, assessment, payer, side, org_id, maker, first_amount, when)
    if not haggle:
        answered = story.later(when, 0.05, 2)
        if not story.past(answered):
            return None, answered
        _answer(story, first, mediator, answered)
        return first, answered
    countered = story.later(when, 0.5, 3)
    if not story.past(countered):
        return None, countered
    counter = _offer(
        story,
        assessment,
        payer,
        OfferSide.CLAIMANT,
        people.committee.id,
        mediator,
        assessed,
        countered,
        parent=first,
    )
    second_at = story.later(countered, 0.5, 4)
    if not story.past(second_at):
        return None, second_at
    middle = _round_down((first_amount + assessed) / 2 + (assessed - first_amount) / 4)
    second = _offer(
        story, assessment, payer, side, org_id, maker, middle, second_at, parent=counter
    )
    answered = story.later(second_at, 0.1, 2)
    if not story.past(answered):
        return None, answered
    _answer(story, second, mediator, answered)
    return second, answered


def _adjuster_of(story: Story, org_id: int, default: User) -> User:
    return next((user for org, user in story.cast.insurers if org.id == org_id), default)


def _round_down(amount: Decimal) -> Decimal:
    return (amount / 100).quantize(Decimal(1), rounding=ROUND_DOWN) * 100


def _offer(
    story: Story,
    assessment: Assessment,
    payer: str,
    side: OfferSide,
    org_id: int,
    maker: User,
    amount: Decimal,
    when: datetime,
    parent: Offer | None = None,
) -> Offer:
    offer = Offer(
        case_id=story.case.id,
        assessment_id=assessment.id,
        parent_id=parent.id if parent else None,
        payer=payer,
        side=side,
        org_id=org_id,
        amount=Decimal(amount).quantize(Decimal("0.01")),
        status=OfferStatus.OPEN,
        created_by_id=maker.id,
        created_at=when,
        digest="",
    )
    session.add(offer)
    session.flush()
    content = offers.offer_content(offer)
    offer.digest = offers.content_digest(content)
    if parent is not None:
        parent.status = OfferStatus.COUNTERED
        parent.answered_by_id = maker.id
        parent.answered_at = when
    story.case.updated_at = when
    story.event(
        when,
        "offer.made",
        maker,
        subject=f"offer:{offer.id}",
        details={
            "digest": offer.digest,
            "content": content,
            "superseded": [],
            "countered": parent.id if parent else None,
        },
        rows=(offer, *([parent] if parent else [])),
    )
    return offer


def _answer(story: Story, offer: Offer, mediator: User, when: datetime) -> None:
    offer.status = OfferStatus.ACCEPTED
    offer.answered_by_id = mediator.id
    offer.answered_at = when
    story.case.updated_at = when
    story.event(
        when,
        "offer.accepted",
        mediator,
        subject=f"offer:{offer.id}",
        details={
            "digest": offer.digest,
            "payer": offer.payer,
            "amount": amount_text(offer.amount),
            "note": None,
            "superseded": [],
        },
        rows=(offer,),
    )


def _fail(story: Story, mediator: User, when: datetime) -> None:
    reason = story.rng.choice(
        (
            "双方对赔偿数额分歧较大，调解不成",
            "受害人要求的赔偿数额远高于核定金额，不同意调解",
            "当事人未到场参加调解",
        )
    )
    story.case.outcome_note = reason
    cancelled = story.close_timers(when, status=DeadlineStatus.CANCELLED)
    session.flush()
    story.transition(
        when,
        "mediation.failed",
        mediator,
        story.case.status,
        CaseStatus.LITIGATION,
        details={"reason": reason, "cancelled_deadlines": [d.id for d in cancelled]},
    )


def _agreement(
    story: Story,
    people: People,
    drafted: datetime,
    signed: datetime,
    to_tribunal: bool,
    styles: Styles,
) -> Agreement:
    case, mediator = story.case, people.mediator
    day = drafted.astimezone(BEIJING).date()
    # Sent for judicial confirmation, the parties agree to pay once it is confirmed.
    due = day + timedelta(days=25 if to_tribunal else deadlines.timers()["insurer_payment"]["days"])
    data = agreements.build_agreement_data(
        actor=mediator,
        case=case,
        payment_method=story.rng.choice(("银行转账", "银行转账至赔偿权利人账户")),
        payment_due=due,
        today=day,
    )
    sha256 = canonical_json_sha256(data)
    document = documents.store_document(
        actor=mediator,
        case=case,
        kind=agreements.AGREEMENT_KIND,
        data=placeholder_pdf(data, sha256, styles),
        media_type="application/pdf",
        filename=f"调解协议书-{case.number}（演示数据）.pdf",
        description=PLACEHOLDER_NOTE,
    )
    document.created_at = drafted
    agreement = Agreement(
        case_id=case.id,
        data=data,
        sha256=sha256,
        document_id=document.id,
        status=AgreementStatus.SIGNED,
        signers=[signer["id"] for signer in data["signatories"]],
        signed_at=signed,
        signed_by_id=mediator.id,
        created_by_id=mediator.id,
        created_at=drafted,
    )
    session.add(agreement)
    session.flush()
    story.event(
        drafted,
        "agreement.drafted",
        mediator,
        subject=f"agreement:{agreement.id}",
        details={
            "sha256": sha256,
            "document_id": document.id,
            "document_sha256": document.sha256,
            "payers": {p["payer"]: p["amount"] for p in data["payers"]},
            "total": data["total"],
            "payment_due": data["payment_due"],
            "superseded": [],
        },
    )
    story.close_timers(signed, kind="mediation_window")
    story.transition(
        signed,
        "agreement.signed",
        mediator,
        CaseStatus.NEGOTIATING,
        CaseStatus.AGREED,
        subject=f"agreement:{agreement.id}",
        details={"sha256": sha256, "signers": agreement.signers, "scan_id": None},
        rows=(agreement,),
    )
    story.timer(
        "confirmation_application", people.committee, signed, subject=f"agreement:{agreement.id}"
    )
    basis = deadlines.timers()["insurer_payment"]["basis"]
    for entry in data["payers"]:
        if entry.get("org_id") is None:
            continue
        owner = session.get(Organization, entry["org_id"])
        story.timer(
            "insurer_payment",
            owner,
            signed,
            subject=f"payer:{entry['payer']}",
            due_at=datetime.combine(due, time(23, 59, 59), BEIJING).astimezone(UTC),
            basis=f"{basis}；调解协议约定于{due.isoformat()}前履行"[:200],
        )
    return agreement


def placeholder_pdf(data: dict[str, Any], sha256: str, styles: Styles) -> bytes:
    """The stand-in for a generated case's agreement: says what it is, with the case number and
    the agreed amounts; no parties' details, no clauses."""
    lines = [
        *masthead(styles, "调解协议书（演示数据）", data["case_number"]),
        paragraph(PLACEHOLDER_NOTE + "。", styles.body),
        paragraph(
            "本文件由演示系统为生成的历史案件自动制作，仅用于展示统计功能，不是任何真实调解协议的副本，"
            "不具有法律效力。",
            styles.body,
        ),
        paragraph(f"调解组织：{data.get('committee') or '—'}", styles.plain),
    ]
    lines += [
        paragraph(
            f"{payer['label']}：协议金额 {payer['amount']} 元（核定 {payer['assessed']} 元）",
            styles.plain,
        )
        for payer in data["payers"]
    ]
    lines += [
        paragraph(f"合计：{data['total']} 元；履行期限：{data['payment_due']}", styles.plain),
    ]
    return render(
        lines,
        styles,
        title="调解协议书（演示数据）",
        number=data["case_number"],
        sha256=sha256,
        data_label="协议",
    )


def _tribunal(
    story: Story,
    people: People,
    agreement: Agreement,
    signed: datetime,
    confirmations: list[Confirmation],
) -> datetime | None:
    """Applied for judicial confirmation; accepted, then confirmed (or, now and then, rejected).
    Returns when it was decided, None while the tribunal has not decided yet."""
    rng, case, mediator = story.rng, story.case, people.mediator
    court, judge = story.cast.tribunal, story.cast.judge
    requested = story.later(signed, 0.5, 6)
    if not story.past(requested):
        return None
    confirmation = Confirmation(
        case_id=case.id,
        tribunal_org_id=court.id,
        agreement_id=agreement.id,
        status=ConfirmationStatus.REQUESTED,
        requested_by_id=mediator.id,
        requested_at=requested,
    )
    session.add(confirmation)
    case.tribunal_id = court.id
    session.flush()
    subject = f"confirmation:{confirmation.id}"
    story.close_timers(requested, kind="confirmation_application")
    story.transition(
        requested,
        "confirmation.requested",
        mediator,
        CaseStatus.AGREED,
        CaseStatus.CONFIRMING,
        subject=subject,
        details={
            "tribunal_org_id": court.id,
            "agreement_id": agreement.id,
            "agreement_sha256": agreement.sha256,
        },
        rows=(confirmation,),
    )
    story.timer("court_acceptance", court, requested, subject=None)
    accepted = story.later(requested, 0.2, 2.8)
    if not story.past(accepted):
        return None
    confirmation.status = ConfirmationStatus.ACCEPTED
    confirmation.accepted_by_id = judge.id
    confirmation.accepted_at = accepted
    story.close_timers(accepted, kind="court_acceptance")
    story.event(
        accepted, "confirmation.accepted", judge, subject=subject, details={"implicit": False}
    )
    story.timer("court_decision", court, accepted, subject=subject)
    decided = story.later(accepted, 2, 14)
    if not story.past(decided):
        return None
    confirmation.decided_by_id = judge.id
    confirmation.decided_at = decided
    story.close_timers(decided, kind="court_decision")
    if rng.random() < 0.9:
        confirmation.status = ConfirmationStatus.CONFIRMED
        confirmations.append(confirmation)
        story.transition(
            decided,
            "confirmation.confirmed",
            judge,
            CaseStatus.CONFIRMING,
            CaseStatus.CONFIRMED,
            subject=subject,
            details={"generated": True},
            rows=(confirmation,),
        )
        return decided
    confirmation.status = ConfirmationStatus.REJECTED
    confirmation.grounds = ["violates_law"]
    confirmation.reason = "协议内容违反法律、行政法规的强制性规定"
    confirmation.next_step = "litigation"
    story.case.outcome_note = confirmation.reason
    story.close_timers(decided, status=DeadlineStatus.CANCELLED)
    story.transition(
        decided,
        "confirmation.rejected",
        judge,
        CaseStatus.CONFIRMING,
        CaseStatus.LITIGATION,
        subject=subject,
        details={
            "grounds": confirmation.grounds,
            "reason": confirmation.reason,
            "next_step": "litigation",
        },
        rows=(confirmation,),
    )
    return decided


def _pay(story: Story, people: People, agreement: Agreement, start: datetime) -> None:
    """Each payer pays: most on time, some late, a few not at all; the case is paid once every
    payer has, and closed a few weeks later."""
    rng, case = story.rng, story.case
    due = date.fromisoformat(agreement.data["payment_due"])
    behaviour = rng.choices(("on_time", "late", "unpaid"), weights=(0.8, 0.17, 0.03))[0]
    last: datetime | None = None
    for entry in agreement.data["payers"]:
        payer = entry["payer"]
        org_id = entry.get("org_id")
        if behaviour == "unpaid" and org_id is not None:
            return
        start_day = start.astimezone(BEIJING).date()
        if behaviour == "late" and org_id is not None:
            paid_on = due + timedelta(days=rng.randint(1, 30))
        else:
            paid_on = min(due, start_day + timedelta(days=rng.randint(1, 9)))
            paid_on = max(paid_on, start_day)
        recorded = datetime.combine(
            paid_on, time(rng.randint(9, 17), rng.randint(0, 59)), BEIJING
        ).astimezone(UTC)
        recorded = max(recorded, start + timedelta(minutes=5))
        if not story.past(recorded):
            return
        recorder = _adjuster_of(story, org_id, people.mediator) if org_id else people.mediator
        payment = Payment(
            case_id=case.id,
            payer=payer,
            amount=Decimal(entry["amount"]),
            paid_on=paid_on,
            reference=f"转账{rng.randint(10**11, 10**12 - 1)}",
            recorded_by_id=recorder.id,
            created_at=recorded,
        )
        session.add(payment)
        session.flush()
        story.event(
            recorded,
            "payment.recorded",
            recorder,
            subject=f"payment:{payment.id}",
            details={
                "payer": payer,
                "amount": entry["amount"],
                "paid_on": paid_on.isoformat(),
                "reference": payment.reference,
                "agreement_id": agreement.id,
                "outstanding": "0.00",
            },
            rows=(payment,),
        )
        story.close_timers(recorded, kind="insurer_payment", subject=f"payer:{payer}")
        last = max(last or recorded, recorded)
    if last is None:
        return
    story.close_timers(last, kind="confirmation_application", status=DeadlineStatus.CANCELLED)
    story.transition(last, "case.paid", None, case.status, CaseStatus.PAID)
    closed = story.later(last, 10, 40)
    if story.past(closed):
        cancelled = story.close_timers(closed, status=DeadlineStatus.CANCELLED)
        session.flush()
        story.transition(
            closed,
            "case.closed",
            people.mediator,
            CaseStatus.PAID,
            CaseStatus.CLOSED,
            details={"cancelled_deadlines": [d.id for d in cancelled]},
        )


def running_status(due_at: datetime, now: datetime) -> DeadlineStatus:
    """What the sweep would have made of a running timer by `now`."""
    if due_at < now:
        return DeadlineStatus.OVERDUE
    return DeadlineStatus.DUE if due_at <= now + deadlines.DUE_SOON else DeadlineStatus.OPEN
