"""Demo organisations and accounts (INTERFACES.md §5); demo mode only."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.db import session
from app.models import Organization, OrgKind, User
from app.services import accounts

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
]

USERS = [
    ("police1", "李警官", "吕梁市公安局交通警察支队离石大队"),
    ("adjuster_picc", "王理赔（人保）", "中国人民财产保险股份有限公司吕梁市分公司"),
    ("adjuster_pingan", "赵理赔（平安）", "中国平安财产保险股份有限公司吕梁中心支公司"),
    ("mediator1", "陈调解员", "吕梁市道路交通事故纠纷人民调解委员会"),
    ("judge1", "刘法官", "离石区人民法院道路交通事故纠纷巡回法庭"),
    ("admin", "平台管理员", "道交一体化平台"),
]


def seed() -> list[tuple[str, str]]:
    """Create the demo organisations and users if missing; return (username, org name)."""
    if current_app.config["DAOJIAO_MODE"] != "demo":
        raise RuntimeError("demo accounts share a published password: demo mode only")
    orgs: dict[str, Organization] = {org.name: org for org in session.scalars(select(Organization))}
    for kind, name, aliases in ORGANIZATIONS:
        if name not in orgs:
            orgs[name] = accounts.create_organization(
                actor=None, kind=kind, name=name, region=REGION, aliases=aliases
            )
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
    session.commit()
    return [(username, org_name) for username, _name, org_name in USERS]
