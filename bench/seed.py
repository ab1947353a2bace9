"""Fill a PostgreSQL database with realistic rows for the benchmarks, by COPY.

Run by hand from the repository root:
`.venv/bin/python -m bench.seed --database-url postgresql+psycopg://…/NAME --cases N [--create]`.
It migrates the database to head and adds: the organisations of a prefecture (a police unit and
a mediation committee for each of five counties, two tribunals, seven insurers, the platform),
one user of each organisation (all with PASSWORD; printed at the end), and N cases spread over
ten years and every status (older cases mostly closed), each with two parties (names, ID
numbers), the first one's car with a normalised plate, its 交强险 and for about half of them a
商业三者险; for cases past assessment, the filed claims and their assessment (the engine's real
output for a template case, with this case's names, plate and insurers put in), and insurer
offers (open while negotiating, accepted once agreed, rejected before litigation); 1–4 audit
events a case, chained exactly as `app.audit` chains them, with a checkpoint at the head (as the
scheduled verification would have left it); each case's insurers and tasks, as the app's unit
of work keeps them (app/case_index.py). The plain indexes of the filled tables are dropped for
the COPY and built again after it; sequences are moved past the seeded ids, so the app can
insert afterwards; the database is analysed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, select, text

from app import audit, case_index, create_app, migrate, milestones, stats
from app.compensation.money import amount_text
from app.db import session
from app.models import (
    AuditCheckpoint,
    AuditHead,
    Case,
    CaseStatus,
    CaseTask,
    Claim,
    Organization,
    OrgKind,
    Party,
    Policy,
    PolicyKind,
    Role,
    User,
    Vehicle,
)
from app.services import accounts, assessments, offers
from tests.support import servers

PASSWORD = "bench-password-1"  # noqa: S105 - scratch databases only
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰"
START = datetime(2016, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3650)
BEIJING_OFFSET = timedelta(hours=8)
# A police unit and a mediation committee in each county.
COUNTIES = ("离石区", "孝义市", "汾阳市", "文水县", "交城县")
PLATE_LETTERS = "ABCDEFHJKLM"  # 山西's prefectures: 晋A … 晋M
TRIBUNALS = ("离石区人民法院道路交通事故巡回法庭", "孝义市人民法院道路交通事故巡回法庭")
INSURERS = (
    "中国人民财产保险股份有限公司吕梁市分公司",
    "中国平安财产保险股份有限公司吕梁中心支公司",
    "中国太平洋财产保险股份有限公司吕梁中心支公司",
    "中国人寿财产保险股份有限公司吕梁市中心支公司",
    "中国大地财产保险股份有限公司吕梁中心支公司",
    "中华联合财产保险股份有限公司吕梁中心支公司",
    "阳光财产保险股份有限公司吕梁中心支公司",
)
# The share of each status among recent cases (the last year) and older ones.
RECENT = {
    CaseStatus.DRAFT: 4,
    CaseStatus.REPORTED: 12,
    CaseStatus.ASSESSING: 3,
    CaseStatus.NEGOTIATING: 25,
    CaseStatus.AGREED: 8,
    CaseStatus.CONFIRMING: 8,
    CaseStatus.CONFIRMED: 6,
    CaseStatus.LITIGATION: 4,
    CaseStatus.PAID: 10,
    CaseStatus.CLOSED: 15,
    CaseStatus.WITHDRAWN: 5,
}
OLDER = {
    CaseStatus.PAID: 4,
    CaseStatus.LITIGATION: 5,
    CaseStatus.CLOSED: 85,
    CaseStatus.WITHDRAWN: 6,
}
ASSESSED = {
    CaseStatus.NEGOTIATING,
    CaseStatus.AGREED,
    CaseStatus.CONFIRMING,
    CaseStatus.CONFIRMED,
    CaseStatus.LITIGATION,
    CaseStatus.PAID,
    CaseStatus.CLOSED,
}
SETTLED = ASSESSED - {CaseStatus.NEGOTIATING, CaseStatus.LITIGATION}
SENT_TO_TRIBUNAL = {CaseStatus.CONFIRMING, CaseStatus.CONFIRMED}
# The tables filled by COPY.
COPIED = (
    "cases",
    "parties",
    "vehicles",
    "policies",
    "claims",
    "assessments",
    "offers",
    "audit_events",
    "case_insurers",
)
# The claims of every assessed case: an injured cyclist (乙方) against the car (甲方).
CLAIMS = {
    "victims": [
        {
            "id": "v1",
            "party": "乙方",
            "outcome": "injury",
            "items": {
                "medical": {"amount": "30000"},
                "transport": {"amount": "300"},
                "mental_distress": {"amount": "5000"},
                "property": [{"description": "电动自行车维修", "amount": "800"}],
            },
        }
    ]
}
# What the template case's assessment is made with; replaced by each case's own values.
TEMPLATE_DRIVER, TEMPLATE_RIDER, TEMPLATE_PLATE = "模板驾驶人", "模板骑车人", "晋Z99999"
TEMPLATE_CTPI, TEMPLATE_COMMERCIAL = "模板交强险公司", "模板商业险公司"


def case_number(n: int, created_at: datetime) -> str:
    """The number intake gives case `n` (DJ-year-id, the year in Beijing time)."""
    return f"DJ-{(created_at + BEIJING_OFFSET).year}-{n:06d}"


def plate(n: int) -> str:
    """The normalised plate of case `n`'s car; unique up to 1,100,000 cases."""
    return f"晋{PLATE_LETTERS[n % len(PLATE_LETTERS)]}{(n // len(PLATE_LETTERS)) % 100000:05d}"


def id_number(n: int, position: int) -> str:
    """The ID number of party `position` of case `n`: unique, 18 digits."""
    return f"1423011{(n * 2 + position) % 10**11:011d}"


def party_name(n: int, position: int) -> str:
    """A common Chinese name, so that a name search finds many parties."""
    return (
        SURNAMES[(n * 7 + position) % len(SURNAMES)]
        + GIVEN[(n * 13 + position) % len(GIVEN)]
        + GIVEN[(n // 31 + position) % len(GIVEN)]
    )


def _mix(n: int, salt: int) -> int:
    """A cheap, well-spread hash of `n` (splitmix64's finaliser), for reproducible choices."""
    z = (n * 0x9E3779B97F4A7C15 + salt) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def _weighted(weights: dict[CaseStatus, int]) -> list[CaseStatus]:
    return [status for status, weight in weights.items() for _ in range(weight)]


RECENT_DRAW, OLDER_DRAW = _weighted(RECENT), _weighted(OLDER)


@dataclass(frozen=True)
class Planned:
    """What case `n` is made of."""

    n: int
    created_at: datetime
    status: CaseStatus
    county: int
    ctpi_insurer: int  # index into the insurers
    commercial_insurer: int | None


@dataclass
class Seeded:
    """The seeded organisations and users, and how many rows each table got."""

    users: dict[str, list[User]]  # by role value
    orgs: dict[str, list[Organization]]  # by kind value
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def first(self, role: Role) -> User:
        return self.users[role.value][0]


def plan(count: int) -> list[Planned]:
    """Cases 1..count, oldest first, over the ten years before 2026."""
    step = SPAN / max(count, 1)
    recent_from = max(1, count - count // 10)  # the last year of the ten
    planned = []
    for n in range(1, count + 1):
        draw = RECENT_DRAW if n >= recent_from else OLDER_DRAW
        status = draw[_mix(n, 1) % len(draw)]
        ctpi = _mix(n, 2) % len(INSURERS)
        roll = _mix(n, 3) % 10
        # About half have a commercial policy, mostly with the same insurer as the 交强险.
        commercial = None if roll < 5 else ctpi if roll < 8 else (ctpi + roll) % len(INSURERS)
        planned.append(Planned(n, START + step * n, status, n % len(COUNTIES), ctpi, commercial))
    return planned


def _updated_at(case: Planned) -> datetime:
    return case.created_at + timedelta(days=case.n % 40)


def _shape(case: Planned, offer_rows: dict[int, list[OfferRow]]) -> tuple[object, ...]:
    """What the app's rules about whom a case waits for look at: its status, its county (the
    police unit, committee and tribunal), whether one insurer holds both policies, its offers."""
    if case.commercial_insurer is None:
        insurers = "ctpi only"
    else:
        insurers = "one insurer" if case.commercial_insurer == case.ctpi_insurer else "two"
    made = tuple((o.payer, o.status) for o in offer_rows.get(case.n, ()))
    return case.status, case.county, insurers, made


def copy_rows(table: str, columns: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> int:
    """COPY `rows` into `table`: a million rows in seconds, where INSERTs take minutes."""
    raw = session.connection().connection.driver_connection
    quoted = ", ".join(f'"{column}"' for column in columns)  # "limit" is a keyword
    statement = f"COPY {table} ({quoted}) FROM STDIN"
    written = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _drop_indexes(tables: tuple[str, ...]) -> list[str]:
    """Drop the plain indexes of `tables` (not those behind a primary key or unique
    constraint); their definitions, to build them again once the rows are in: building an
    index once is much cheaper than updating it row by row (pg_trgm's GIN indexes above all)."""
    rows = session.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = ANY(:tables) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ),
        {"tables": list(tables)},
    ).all()
    for name, _definition in rows:
        session.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _name, definition in rows]


def _create_indexes(definitions: list[str]) -> None:
    session.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
    for definition in definitions:
        session.execute(text(definition))


def _organisations() -> dict[str, list[Organization]]:
    orgs: dict[str, list[Organization]] = {kind.value: [] for kind in OrgKind}

    def add(kind: OrgKind, name: str, **fields: Any) -> None:
        org = accounts.create_organization(actor=None, kind=kind, name=name, **fields)
        orgs[kind.value].append(org)

    for county in COUNTIES:
        add(OrgKind.POLICE, f"吕梁市公安局交通警察支队{county}大队", region=county)
    for county in COUNTIES:
        add(OrgKind.MEDIATION, f"{county}道路交通事故纠纷人民调解委员会", region=county)
    for name in TRIBUNALS:
        add(OrgKind.TRIBUNAL, name)
    for name in INSURERS:
        add(OrgKind.INSURER, name)
    add(OrgKind.PLATFORM, "道交一体化平台")
    session.flush()
    return orgs


def _users(orgs: dict[str, list[Organization]]) -> dict[str, list[User]]:
    users: dict[str, list[User]] = {}
    for members in orgs.values():
        for index, org in enumerate(members, start=1):
            role = org.role.value
            user = accounts.create_user(
                actor=None, org=org, username=f"{role}{index}", password=PASSWORD
            )
            users.setdefault(role, []).append(user)
    session.flush()
    return users


@dataclass(frozen=True)
class Template:
    """The claims' assessment of the template case, as JSON text with placeholders."""

    input: str
    result: str
    fingerprint: str
    engine_version: str
    totals: dict[str, str]


def _template(
    orgs: dict[str, list[Organization]], users: dict[str, list[User]], *, commercial: bool
) -> Template:
    """Assess the claims of a template case through the real service, then undo the case."""
    police, committee = orgs["police"][0], orgs["mediation"][0]
    savepoint = session.begin_nested()
    try:
        case = Case(
            number="DJ-TEMPLATE",
            status=CaseStatus.NEGOTIATING,
            reporting_unit_id=police.id,
            mediation_committee_id=committee.id,
            accident_time=START,
        )
        driver = Party(
            label="甲方", position=0, name=TEMPLATE_DRIVER, role="driver", liability="main"
        )
        rider = Party(
            label="乙方", position=1, name=TEMPLATE_RIDER, role="cyclist", liability="minor"
        )
        case.parties.extend([driver, rider])
        session.add(case)
        session.flush()
        vehicle = Vehicle(plate=TEMPLATE_PLATE, vehicle_type="小型轿车", driver_party_id=driver.id)
        vehicle.policies.append(Policy(kind=PolicyKind.CTPI, insurer_name=TEMPLATE_CTPI))
        if commercial:
            vehicle.policies.append(
                Policy(
                    kind=PolicyKind.COMMERCIAL,
                    insurer_name=TEMPLATE_COMMERCIAL,
                    limit=Decimal("1000000"),
                )
            )
        case.vehicles.append(vehicle)
        claim = Claim(case_id=case.id, data=CLAIMS, sha256="0" * 64)
        session.add(claim)
        session.flush()
        assessments.run_assessment(claim.id, lambda _percent, _message: None)
        assessment = assessments.latest_assessment(case)
        template = Template(
            input=json.dumps(assessment.input, ensure_ascii=False, separators=(",", ":")),
            result=json.dumps(assessment.result, ensure_ascii=False, separators=(",", ":")),
            fingerprint=assessment.fingerprint,
            engine_version=assessment.engine_version,
            totals=dict(assessment.result["totals"]),
        )
    finally:
        savepoint.rollback()
    return template


def _fill(template: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template


def _digest(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Chain:
    """Audit events appended after the head's last one, hashed as `app.audit.record` does."""

    def __init__(self, head: AuditHead) -> None:
        self.last_id, self.last_hash, self.count = head.last_id, head.last_hash, head.count

    def row(
        self,
        action: str,
        at: datetime,
        actor: User | None,
        case_id: int,
        subject: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> tuple[object, ...]:
        fields: dict[str, Any] = {
            "id": self.last_id + 1,
            "occurred_at": at,
            "actor_id": actor.id if actor else None,
            "actor": actor.username if actor else None,
            "org_id": actor.org_id if actor else None,
            "action": action,
            "case_id": case_id,
            "subject": subject,
            "ip": "127.0.0.1" if actor else None,
            "details": details or {},
            "prev_hash": self.last_hash,
        }
        digest = audit.event_hash(**fields)
        self.last_id, self.last_hash, self.count = fields["id"], digest, self.count + 1
        return (
            *(fields[name] for name in EVENT_COLUMNS[:9]),
            json.dumps(fields["details"], ensure_ascii=False),
            fields["prev_hash"],
            digest,
        )


EVENT_COLUMNS = (*audit.HASHED_FIELDS, "hash")


@dataclass(frozen=True)
class OfferRow:
    id: int
    case: int
    assessment: int
    payer: str
    org: User  # the adjuster who made it
    amount: Decimal
    status: str
    created_at: datetime
    answered_by: User | None
    digest: str
    content: dict[str, Any]


def seed(count: int, *, echo: bool = False) -> Seeded:
    """Organisations, one user each, and `count` cases with everything listed in the module's
    docstring; commits (the case index is rebuilt in batches, each committed)."""
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    clock = time.perf_counter()

    def done(table: str, rows: int) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[table], counts[table] = now - clock, rows
        clock = now
        if echo:
            print(f"  {table:<15} {rows:>10,} rows in {timings[table]:6.1f} s", flush=True)

    orgs = _organisations()
    users = _users(orgs)
    police, committees = orgs["police"], orgs["mediation"]
    tribunals, insurers = orgs["tribunal"], orgs["insurer"]
    by_org = {user.org_id: user for members in users.values() for user in members}
    templates = {
        commercial: _template(orgs, users, commercial=commercial) for commercial in (False, True)
    }
    done("organisations", sum(len(members) for members in orgs.values()))
    dropped = _drop_indexes(COPIED)
    planned = plan(count)
    done("plan", len(planned))

    def tribunal_of(case: Planned) -> int | None:
        return (
            tribunals[case.county % len(tribunals)].id if case.status in SENT_TO_TRIBUNAL else None
        )

    def mediator_of(case: Planned) -> int | None:
        if case.status in (CaseStatus.DRAFT, CaseStatus.REPORTED, CaseStatus.WITHDRAWN):
            return None
        return by_org[committees[case.county].id].id

    case_type = stats.case_type_of(CLAIMS)  # every assessed case has the same claims
    done(
        "cases",
        copy_rows(
            "cases",
            (
                "id",
                "number",
                "status",
                "version",
                "region",
                "case_type",
                "report_no",
                "accident_time",
                "accident_place",
                "reporting_unit_id",
                "mediation_committee_id",
                "mediator_id",
                "tribunal_id",
                "created_by_id",
                "created_at",
                "updated_at",
            ),
            (
                (
                    c.n,
                    case_number(c.n, c.created_at),
                    c.status.value,
                    1,
                    COUNTIES[c.county],
                    case_type if c.status in ASSESSED else None,
                    f"1411{c.county:02d}{(c.created_at + BEIJING_OFFSET).year}{c.n:08d}",
                    c.created_at - timedelta(hours=30 + c.n % 48),
                    f"吕梁市{COUNTIES[c.county]}滨河路{c.n % 300}号附近",
                    police[c.county].id,
                    committees[c.county].id,
                    mediator_of(c),
                    tribunal_of(c),
                    by_org[police[c.county].id].id,
                    c.created_at,
                    _updated_at(c),
                )
                for c in planned
            ),
        ),
    )
    done(
        "parties",
        copy_rows(
            "parties",
            (
                "id",
                "case_id",
                "position",
                "label",
                "name",
                "gender",
                "id_number",
                "phone",
                "role",
                "traffic_mode",
                "liability",
                "age",
            ),
            (
                (
                    c.n * 2 - 1 + position,
                    c.n,
                    position,
                    "甲方" if position == 0 else "乙方",
                    party_name(c.n, position),
                    "男" if (c.n + position) % 3 else "女",
                    id_number(c.n, position),
                    f"139{(c.n * 2 + position) % 10**8:08d}",
                    "driver" if position == 0 else "cyclist",
                    "驾驶小型轿车" if position == 0 else "驾驶电动自行车",
                    "main" if position == 0 else "minor",
                    20 + (c.n + position * 17) % 50,
                )
                for c in planned
                for position in (0, 1)
            ),
        ),
    )
    done(
        "vehicles",
        copy_rows(
            "vehicles",
            ("id", "case_id", "plate", "vehicle_type", "driver_party_id"),
            ((c.n, c.n, plate(c.n), "小型轿车", c.n * 2 - 1) for c in planned),
        ),
    )

    def policies() -> Iterator[tuple[object, ...]]:
        for c in planned:
            ctpi = insurers[c.ctpi_insurer]
            yield (c.n, PolicyKind.CTPI.value, ctpi.name, ctpi.id, f"PDZA{c.n:012d}", None)
            if c.commercial_insurer is not None:
                commercial = insurers[c.commercial_insurer]
                yield (
                    c.n,
                    PolicyKind.COMMERCIAL.value,
                    commercial.name,
                    commercial.id,
                    f"PDAA{c.n:012d}",
                    Decimal("1000000.00"),
                )

    done(
        "policies",
        copy_rows(
            "policies",
            ("vehicle_id", "kind", "insurer_name", "insurer_org_id", "number", "limit"),
            policies(),
        ),
    )

    assessed = [c for c in planned if c.status in ASSESSED]
    claims_json = json.dumps(CLAIMS, ensure_ascii=False)
    claims_sha = _digest(CLAIMS)
    done(
        "claims",
        copy_rows(
            "claims",
            ("id", "case_id", "data", "sha256", "created_at", "created_by_id"),
            (
                (
                    index,
                    c.n,
                    claims_json,
                    claims_sha,
                    c.created_at + timedelta(days=3),
                    mediator_of(c),
                )
                for index, c in enumerate(assessed, start=1)
            ),
        ),
    )

    def filled(c: Planned) -> tuple[Template, dict[str, str]]:
        template = templates[c.commercial_insurer is not None]
        values = {
            TEMPLATE_DRIVER: party_name(c.n, 0),
            TEMPLATE_RIDER: party_name(c.n, 1),
            TEMPLATE_PLATE: plate(c.n),
            TEMPLATE_CTPI: insurers[c.ctpi_insurer].name,
        }
        if c.commercial_insurer is not None:
            values[TEMPLATE_COMMERCIAL] = insurers[c.commercial_insurer].name
        return template, values

    def assessment_rows() -> Iterator[tuple[object, ...]]:
        for index, c in enumerate(assessed, start=1):
            template, values = filled(c)
            data = _fill(template.input, values)
            yield (
                index,
                c.n,
                index,
                data,
                _fill(template.result, values),
                hashlib.sha256(data.encode()).hexdigest(),
                template.fingerprint,
                template.engine_version,
                c.created_at + timedelta(days=3, minutes=1),
            )

    done(
        "assessments",
        copy_rows(
            "assessments",
            (
                "id",
                "case_id",
                "claim_id",
                "input",
                "result",
                "input_sha256",
                "fingerprint",
                "engine_version",
                "created_at",
            ),
            assessment_rows(),
        ),
    )

    # Insurer offers: one open offer in half the negotiating cases, one per insurer payer
    # accepted once agreed, one rejected before litigation.
    offer_rows: dict[int, list[OfferRow]] = {}
    mediator_users = {c.id: by_org[c.id] for c in committees}
    next_offer = 1
    for index, c in enumerate(assessed, start=1):
        if c.status == CaseStatus.NEGOTIATING and c.n % 2:
            continue
        template = templates[c.commercial_insurer is not None]
        payers = [
            (payer, insurers[c.ctpi_insurer if payer.startswith("ctpi:") else c.commercial_insurer])
            for payer, amount in template.totals.items()
            if payer in ("ctpi:甲方", "commercial:甲方") and Decimal(amount) > 0
        ]
        if c.status != CaseStatus.NEGOTIATING and c.status not in SETTLED:
            payers = payers[:1]
        status = (
            "open"
            if c.status == CaseStatus.NEGOTIATING
            else "accepted"
            if c.status in SETTLED
            else "rejected"
        )
        made = c.created_at + timedelta(days=5)
        number = case_number(c.n, c.created_at)
        for payer, insurer in payers:
            amount = Decimal(template.totals[payer])
            if status != "accepted":
                amount = (amount * Decimal("0.9")).quantize(Decimal("0.01"))
            maker = by_org[insurer.id]
            content = {
                "case": number,
                "assessment": {"id": index, "fingerprint": template.fingerprint},
                "payer": payer,
                "side": "insurer",
                "org": insurer.id,
                "amount": amount_text(amount),
                "items": None,
                "note": None,
                "expires_at": None,
                "parent": None,
                "maker": maker.id,
                "created_at": made.isoformat(timespec="microseconds"),
            }
            offer_rows.setdefault(c.n, []).append(
                OfferRow(
                    next_offer,
                    c.n,
                    index,
                    payer,
                    maker,
                    amount,
                    status,
                    made,
                    None if status == "open" else mediator_users[committees[c.county].id],
                    offers.content_digest(content),
                    content,
                )
            )
            next_offer += 1
            made += timedelta(minutes=7)
    done(
        "offers",
        copy_rows(
            "offers",
            (
                "id",
                "case_id",
                "assessment_id",
                "payer",
                "side",
                "org_id",
                "amount",
                "digest",
                "status",
                "created_by_id",
                "created_at",
                "answered_by_id",
                "answered_at",
            ),
            (
                (
                    o.id,
                    o.case,
                    o.assessment,
                    o.payer,
                    "insurer",
                    o.org.org_id,
                    o.amount,
                    o.digest,
                    o.status,
                    o.org.id,
                    o.created_at,
                    o.answered_by.id if o.answered_by else None,
                    o.created_at + timedelta(days=1) if o.answered_by else None,
                )
                for made in offer_rows.values()
                for o in made
            ),
        ),
    )

    head = session.get(AuditHead, 1)
    chain = Chain(head)

    def events() -> Iterator[tuple[object, ...]]:
        for c in planned:
            officer = by_org[police[c.county].id]
            yield chain.row("case.created", c.created_at, officer, c.n, details={"via": "seed"})
            if c.status == CaseStatus.DRAFT:
                continue
            yield chain.row(
                "case.confirmed",
                c.created_at + timedelta(hours=2),
                officer,
                c.n,
                details={"status": ["draft", "reported"]},
            )
            if c.status == CaseStatus.WITHDRAWN:
                yield chain.row(
                    "case.withdrawn",
                    c.created_at + timedelta(days=1),
                    officer,
                    c.n,
                    details={"status": ["reported", "withdrawn"]},
                )
            for o in offer_rows.get(c.n, ()):
                yield chain.row(
                    "offer.made",
                    o.created_at,
                    o.org,
                    c.n,
                    subject=f"offer:{o.id}",
                    details={
                        "digest": o.digest,
                        "content": o.content,
                        "superseded": [],
                        "countered": None,
                    },
                )

    done("audit_events", copy_rows("audit_events", EVENT_COLUMNS, events()))
    head.last_id, head.last_hash, head.count = chain.last_id, chain.last_hash, chain.count
    # A production database has its chain checkpointed by the scheduled verification; the seeded
    # chain is sound by construction (tests/test_bench.py verifies it in full), so it starts
    # checkpointed at its head, and the judge's workbench checks only what comes after it.
    session.add(
        AuditCheckpoint(last_id=chain.last_id, last_hash=chain.last_hash, count=chain.count)
    )

    for table in ("cases", "parties", "vehicles", "policies", "claims", "assessments", "offers"):
        # Our own table names, not input.
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )
    done("sequences", 0)
    # The rows the app derives from each case in its unit of work (app/case_index.py): every
    # insurer with a policy on the case, and what each open case waits for from whom.
    done(
        "case_insurers",
        copy_rows(
            "case_insurers",
            ("case_id", "org_id"),
            (
                (c.n, insurers[index].id)
                for c in planned
                for index in dict.fromkeys((c.ctpi_insurer, c.commercial_insurer))
                if index is not None
            ),
        ),
    )
    _create_indexes(dropped)
    done("indexes", len(dropped))
    # Each case's milestones, stamped by the app as events are appended (app/milestones.py),
    # written from the copied events.
    done("case_milestones", milestones.rebuild(session))
    # What each case waits for from whom, by the app's rules (app/case_index.py), worked out
    # for one case of each shape and copied to the others of that shape with their own
    # insurers and times: working out 100,000 cases one by one takes minutes. (No deadlines
    # are seeded, so no task has one.)
    shapes: dict[tuple[object, ...], Planned] = {}
    for c in planned:
        shapes.setdefault(_shape(c, offer_rows), c)
    case_index.refresh_tasks([model.n for model in shapes.values()])
    table = CaseTask.__table__
    worked_out: dict[int, list[dict[str, Any]]] = {}
    for row in session.execute(select(table)).mappings():
        worked_out.setdefault(row["case_id"], []).append(dict(row))
    columns = tuple(table.columns.keys())
    as_json = {column.name for column in table.columns if isinstance(column.type, JSON)}

    def task_rows() -> Iterator[tuple[object, ...]]:
        for c in planned:
            model = shapes[_shape(c, offer_rows)]
            if model is c:
                continue  # worked out by the app itself
            swap = {insurers[model.ctpi_insurer].id: insurers[c.ctpi_insurer].id}
            if model.commercial_insurer is not None:
                swap[insurers[model.commercial_insurer].id] = insurers[c.commercial_insurer].id
            for task in worked_out.get(model.n, ()):
                row = {**task, "case_id": c.n, "since": _updated_at(c)}
                row["org_id"] = swap.get(task["org_id"], task["org_id"])
                yield tuple(
                    json.dumps(row[name], ensure_ascii=False) if name in as_json else row[name]
                    for name in columns
                )

    done("case_tasks", copy_rows("case_tasks", columns, task_rows()) + len(worked_out))
    session.commit()
    return Seeded(users, orgs, counts, timings)


def seed_database(
    url: str, count: int, *, create: bool = False, echo: bool = False
) -> dict[str, list[str]]:
    """Migrate the database at `url` (made afresh with `create`), seed it and commit; the
    usernames by role."""
    if create:
        servers.recreate_database(url)
    migrate.upgrade(url)
    app = create_app(
        {"DAOJIAO_MODE": "testing", "DATABASE_URL": url, "OBJECT_STORE_PATH": os.devnull}
    )
    try:
        with app.app_context():
            if session.scalar(text("SELECT count(*) FROM cases")):
                raise SystemExit(f"{url} has cases already: seed an empty database (--create)")
            seeded = seed(count, echo=echo)
            session.commit()
            began = time.perf_counter()
            session.execute(text("ANALYZE"))
            session.commit()
            if echo:
                print(f"  {'analyze':<15} {'':>10}      in {time.perf_counter() - began:6.1f} s")
            return {
                role: [session.get(User, user.id).username for user in members]
                for role, members in seeded.users.items()
            }
    finally:
        app.extensions["daojiao.db"].engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://…/NAME")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--create", action="store_true", help="drop and create the database first")
    args = parser.parse_args()
    began = time.perf_counter()
    usernames = seed_database(args.database_url, args.cases, create=args.create, echo=True)
    print(
        f"{args.cases:,} cases seeded in {time.perf_counter() - began:.0f} s (migrations included)"
    )
    print(f"users (password {PASSWORD}):")
    for role, names in usernames.items():
        print(f"  {role:<9} " + ", ".join(names))


if __name__ == "__main__":
    main()
