"""Demo organisations and accounts (INTERFACES.md §5); demo mode only."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, select

from app import audit, demo_history
from app.clock import BEIJING
from app.db import get_db, session, utcnow
from app.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Organization,
    OrgKind,
    Party,
    Policy,
    PolicyKind,
    User,
    Vehicle,
)
from app.services import accounts, assessments

# A generated 事故认定书 to upload: one car (交强险 and 商业三者险 with 人保吕梁, full liability)
# and an injured pedestrian without liability, the standard case of the centre.
SAMPLE_LETTER = Path(__file__).parent / "data" / "samples" / "accident-letter.pdf"
DEMO_PASSWORD = "daojiao-demo"  # noqa: S105 - published demo password, refused outside demo mode

REGION = "山西省吕梁市离石区"

ORGANIZATIONS = [
    (OrgKind.POLICE, "吕梁市公安局交通警察支队离石大队", []),
    (
        OrgKind.INSURER,
        "中国人民财产保险股份有限公司吕梁市分公司",
        ["人保吕梁", "中国人民财产保险股份有限公司吕梁分公司", "人保财险吕梁市分公司"],
    ),
    (
        OrgKind.INSURER,
        "中国平安财产保险股份有限公司吕梁中心支公司",
        ["平安吕梁", "平安财险吕梁中心支公司"],
    ),
    (OrgKind.MEDIATION, "吕梁市道路交通事故纠纷人民调解委员会", []),
    (OrgKind.TRIBUNAL, "离石区人民法院道路交通事故纠纷巡回法庭", []),
    (OrgKind.PLATFORM, "道交一体化平台", []),
    # The overseers, read-only; they see the cases of the city's counties (ORG_REGIONS).
    (OrgKind.SUPERVISION, "吕梁市委政法委", []),
    (OrgKind.REGULATOR, "国家金融监督管理总局吕梁监管分局", []),
    # The two other counties and the third insurer of the generated history (app/demo_history.py).
    (OrgKind.POLICE, "吕梁市公安局交通警察支队中阳大队", []),
    (OrgKind.POLICE, "吕梁市公安局交通警察支队柳林大队", []),
    (OrgKind.MEDIATION, "中阳县道路交通事故纠纷人民调解委员会", []),
    (OrgKind.MEDIATION, "柳林县道路交通事故纠纷人民调解委员会", []),
    (
        OrgKind.INSURER,
        "中国太平洋财产保险股份有限公司吕梁中心支公司",
        ["太保吕梁", "太平洋财险吕梁中心支公司", "中国太平洋财产保险股份有限公司吕梁分公司"],
    ),
]
CITY = "山西省吕梁市"
# Organisations outside REGION: the overseers see every county of the city (a case whose region
# begins with theirs), the other counties' police and committees serve their own.
ORG_REGIONS = {
    "吕梁市委政法委": CITY,
    "国家金融监督管理总局吕梁监管分局": CITY,
    "吕梁市公安局交通警察支队中阳大队": "山西省吕梁市中阳县",
    "中阳县道路交通事故纠纷人民调解委员会": "山西省吕梁市中阳县",
    "吕梁市公安局交通警察支队柳林大队": "山西省吕梁市柳林县",
    "柳林县道路交通事故纠纷人民调解委员会": "山西省吕梁市柳林县",
}

USERS = [
    ("police1", "李警官", "吕梁市公安局交通警察支队离石大队"),
    ("adjuster_picc", "王理赔（人保）", "中国人民财产保险股份有限公司吕梁市分公司"),
    ("adjuster_pingan", "赵理赔（平安）", "中国平安财产保险股份有限公司吕梁中心支公司"),
    ("mediator1", "陈调解员", "吕梁市道路交通事故纠纷人民调解委员会"),
    ("judge1", "刘法官", "离石区人民法院道路交通事故纠纷巡回法庭"),
    ("admin", "平台管理员", "道交一体化平台"),
    ("supervisor1", "孙督导（政法委）", "吕梁市委政法委"),
    ("regulator1", "周监管（金融监管分局）", "国家金融监督管理总局吕梁监管分局"),
    # A mediator for each other county and an adjuster of the third insurer: the generated
    # history's offers, payments and mediations are theirs, and its open cases wait on them.
    ("mediator2", "吴调解员（中阳）", "中阳县道路交通事故纠纷人民调解委员会"),
    ("mediator3", "郝调解员（柳林）", "柳林县道路交通事故纠纷人民调解委员会"),
    ("adjuster_cpic", "钱理赔（太平洋）", "中国太平洋财产保险股份有限公司吕梁中心支公司"),
]


# Written once into the audit log of a database the demo seeded: a database with it is the
# demo's own (re-running `daojiao demo` on it is fine, whatever was done in the demo since).
MARKER = "demo.seeded"
CONSENT_FLAG = "--i-know-this-is-not-production"


def refusal() -> str | None:
    """Why `daojiao demo` must not touch the configured services, or None when it may.

    The demo publishes its accounts' password, so it seeds only what it made itself: an embedded
    SQLite database that is empty or carries its marker, a local objects folder, in-process jobs.
    Checked before migrating, so someone else's database is not even upgraded.
    """
    config = current_app.config
    foreign = [f"{name}={config[name]}" for name in ("S3_ENDPOINT", "REDIS_URL") if config[name]]
    if not config["DATABASE_URL"].startswith("sqlite:"):
        foreign.insert(0, f"DATABASE_URL={config['DATABASE_URL'].split('@')[-1]}")
    if foreign:
        return (
            f"daojiao demo uses an embedded database, a local folder and in-process jobs, "
            f"but {', '.join(foreign)} is set: unset it, or pass {CONSENT_FLAG} if this is "
            f"really a throw-away system (the demo accounts' password is published)"
        )
    others = _foreign_data()
    if others:
        return (
            f"the database {config['DATABASE_URL']} holds data the demo did not make "
            f"({others}): daojiao demo seeds accounts with a published password, so it refuses. "
            f"Point DATABASE_URL elsewhere, or pass {CONSENT_FLAG} if this is really a "
            f"throw-away database"
        )
    return None


def _foreign_data() -> str | None:
    """Organisations or users that are not the demo's, in a database without the marker."""
    tables = set(inspect(get_db().engine).get_table_names())
    if "organizations" not in tables:
        return None  # a fresh database
    try:
        if "audit_events" in tables and session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == MARKER).limit(1)
        ):
            return None
        # Demo databases seeded before the marker existed: only the demo's names.
        demo_orgs = {name for _kind, name, _aliases in ORGANIZATIONS}
        orgs = set(session.scalars(select(Organization.name))) - demo_orgs
        users = set(session.scalars(select(User.username))) - {name for name, *_ in USERS}
    finally:
        session.rollback()  # no read transaction left open while the migrations run
    if not orgs and not users:
        return None
    return f"{len(orgs)} other organisation(s), {len(users)} other user(s)"


def seed() -> list[tuple[str, str]]:
    """Create the demo organisations and users if missing; return (username, org name)."""
    if current_app.config["DAOJIAO_MODE"] != "demo":
        raise RuntimeError("demo accounts share a published password: demo mode only")
    orgs: dict[str, Organization] = {org.name: org for org in session.scalars(select(Organization))}
    for kind, name, aliases in ORGANIZATIONS:
        if name not in orgs:
            orgs[name] = accounts.create_organization(
                actor=None,
                kind=kind,
                name=name,
                region=ORG_REGIONS.get(name, REGION),
                aliases=aliases,
            )
        elif orgs[name].region == REGION and name in ORG_REGIONS:
            orgs[name].region = ORG_REGIONS[name]  # the overseers of a demo seeded before
    existing = set(session.scalars(select(User.username)))
    for username, display_name, org_name in USERS:
        if username not in existing:
            accounts.create_user(
                actor=None,
                org=orgs[org_name],
                username=username,
                password=DEMO_PASSWORD,
                display_name=display_name,
            )
    tribunal = orgs[ORGANIZATIONS[4][1]]
    if tribunal.case_number_format is None:
        tribunal.case_number_format = "（{year}）晋1102民特{n}号"
    if tribunal.court_name is None:
        tribunal.court_name = "山西省吕梁市离石区人民法院"
    if session.scalar(select(AuditEvent.id).where(AuditEvent.action == MARKER).limit(1)) is None:
        audit.record(MARKER, actor=None, details={"password": "published", "users": len(USERS)})
    session.commit()
    _seed_cases(orgs)
    demo_history.seed_history(orgs, today=utcnow().astimezone(BEIJING).date())
    return [(username, org_name) for username, _name, org_name in USERS]


PICC, PINGAN = ORGANIZATIONS[1][1], ORGANIZATIONS[2][1]
COMMITTEE, POLICE = ORGANIZATIONS[3][1], ORGANIZATIONS[0][1]
# Two confirmed demo cases (entered directly, so without an uploaded letter): one waiting for the
# mediator's claims, one with claims filed and assessed.
DEMO_CASES = [
    (
        "DJ-DEMO-0001",
        datetime(2023, 11, 5, 0, 35, tzinfo=UTC),
        "吕梁市离石区滨河北西路与龙凤大街交叉口",
    ),
    ("DJ-DEMO-0002", datetime(2024, 3, 18, 9, 10, tzinfo=UTC), "吕梁市离石区永宁中路"),
]
DEMO_CLAIMS = {
    "victims": [
        {
            "id": "v1",
            "party": "乙方",
            "outcome": "disability",
            "disability_grades": [10],
            "items": {
                "medical": {"bills": [{"amount": "5026.49", "description": "住院医疗费"}]},
                "hospital_food": {"days": 11},
                "nutrition": {"days": 11, "daily": "20"},
                "lost_income": {"days": 70, "annual": "25402"},
                "nursing": [{"days": 11, "annual": "28472", "persons": 1}],
                "transport": {"amount": "300"},
                "mental_distress": {"amount": "5000"},
                "dependents_living": [{"age": 7, "supporters": 2}],
                "property": [{"description": "电动自行车维修", "amount": "800"}],
                "appraisal_fee": {"amount": "700"},
            },
        }
    ]
}


def _seed_cases(orgs: dict[str, Organization]) -> None:
    if session.scalar(select(Case.id).where(Case.number == DEMO_CASES[0][0])) is not None:
        return
    cases = []
    for (number, accident_time, place), (insurer, plate) in zip(
        DEMO_CASES, ((PICC, "晋J12345"), (PINGAN, "晋J6M218")), strict=True
    ):
        case = Case(
            number=number,
            status=CaseStatus.REPORTED,
            reporting_unit_id=orgs[POLICE].id,
            mediation_committee_id=orgs[COMMITTEE].id,
            region=REGION,
            accident_time=accident_time,
            accident_place=place,
        )
        driver = Party(
            label="甲方",
            position=0,
            name="张三",
            role="driver",
            liability="main",
            traffic_mode="驾驶小型轿车",
            age=38,
        )
        rider = Party(
            label="乙方",
            position=1,
            name="王五",
            role="cyclist",
            liability="minor",
            traffic_mode="驾驶电动自行车",
            age=35,
        )
        case.parties.extend([driver, rider])
        session.add(case)
        session.flush()
        vehicle = Vehicle(plate=plate, vehicle_type="小型轿车", driver_party_id=driver.id)
        vehicle.policies.extend(
            [
                Policy(kind=PolicyKind.CTPI, insurer_name=insurer, insurer_org_id=orgs[insurer].id),
                Policy(
                    kind=PolicyKind.COMMERCIAL,
                    insurer_name=insurer,
                    insurer_org_id=orgs[insurer].id,
                    limit=Decimal("1000000"),
                ),
            ]
        )
        case.vehicles.append(vehicle)
        cases.append(case)
    session.flush()
    mediator = session.scalar(select(User).where(User.username == "mediator1"))
    for case in cases:
        case.mediator_id = mediator.id
    assessments.file_claims(actor=mediator, case=cases[1], data=DEMO_CLAIMS)
    session.commit()


def write_sample_letter(target: str | Path) -> Path:
    """Copy the sample accident letter to `target`; returns the path written."""
    path = Path(target)
    path.write_bytes(SAMPLE_LETTER.read_bytes())
    return path.resolve()
