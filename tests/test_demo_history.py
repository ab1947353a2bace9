"""The demo's year of generated history (app/demo_history.py), seeded by `daojiao demo` into its
embedded SQLite database: enough cases over three counties and three insurers for the oversight
dashboard, consistent with their audit events, seeded once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import (
    access,
    audit,
    create_app,
    demo,
    demo_history,
    integrity,
    migrate,
    monthly_report,
    stats,
)
from app.cli import audit_verify
from app.clock import BEIJING
from app.db import session, utcnow
from app.models import (
    Agreement,
    AgreementStatus,
    AuditEvent,
    Case,
    CaseInsurer,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    Document,
    Organization,
    OrgKind,
    Payment,
    User,
)
from app.services import payments
from tests import factories
from tests.conftest import IsolatedClient

# The module seeds the whole demo once (about 12 s): not in the fast set.
pytestmark = pytest.mark.slow

HISTORY = Case.number.startswith(demo_history.NUMBER_PREFIX)


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A demo app on its own SQLite file and objects folder, migrated and seeded once."""
    path: Path = tmp_path_factory.mktemp("demo-history")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DATABASE_URL", "S3_ENDPOINT", "REDIS_URL", "DAOJIAO_MODE", "SECRET_KEY"):
            patch.delenv(name, raising=False)
        flask_app = create_app(
            {
                "DAOJIAO_MODE": "demo",
                "DATABASE_URL": f"sqlite:///{path / 'demo.sqlite3'}",
                "OBJECT_STORE_PATH": str(path / "objects"),
                "DAOJIAO_SIGNING_KEY": str(path / "signing-key.pem"),
            }
        )
        flask_app.test_client_class = IsolatedClient
        with flask_app.app_context():
            migrate.upgrade(flask_app.config["DATABASE_URL"])
            demo.seed()
        yield flask_app
        flask_app.extensions["daojiao.db"].engine.dispose()


@pytest.fixture
def ctx(demo_app: Flask) -> Iterator[Flask]:
    with demo_app.app_context():
        yield demo_app
        session.rollback()


def history_cases() -> list[Case]:
    return list(session.scalars(select(Case).where(HISTORY).order_by(Case.id)))


def user(username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def test_a_year_of_cases_over_three_counties_and_three_insurers(ctx: Flask) -> None:
    cases = history_cases()
    assert len(cases) >= 200
    by_region: dict[str, int] = {}
    for case in cases:
        by_region[case.region] = by_region.get(case.region, 0) + 1
    assert set(by_region) == set(demo_history.COUNTY_SHARES)
    assert max(by_region, key=by_region.get) == demo.REGION  # 离石区 has the most
    insurers = session.scalars(
        select(CaseInsurer.org_id).join(Case, Case.id == CaseInsurer.case_id).where(HISTORY)
    )
    names = set(
        session.scalars(select(Organization.name).where(Organization.id.in_(set(insurers))))
    )
    assert {demo.PICC, demo.PINGAN, "中国太平洋财产保险股份有限公司吕梁中心支公司"} <= names
    received = session.scalars(
        select(AuditEvent.occurred_at)
        .join(Case, Case.id == AuditEvent.case_id)
        .where(HISTORY, AuditEvent.action == "case.confirmed")
    ).all()
    months = {moment.astimezone(BEIJING).strftime("%Y-%m") for moment in received}
    assert len(months) >= 10
    today = utcnow().astimezone(BEIJING).date()
    assert all(moment.astimezone(BEIJING).date() < today for moment in received)
    assert min(received).astimezone(BEIJING).date() >= today - timedelta(days=366)


def test_every_county_has_its_police_unit_and_committee_and_the_overseers_the_city(
    ctx: Flask,
) -> None:
    for region in demo_history.COUNTY_SHARES:
        kinds = set(session.scalars(select(Organization.kind).where(Organization.region == region)))
        assert {OrgKind.POLICE, OrgKind.MEDIATION} <= kinds, region
    for username in ("supervisor1", "regulator1"):
        assert user(username).organization.region == demo.CITY


def test_cases_end_in_every_way_and_their_status_follows_their_last_transition(
    ctx: Flask,
) -> None:
    cases = history_cases()
    statuses = {case.status for case in cases}
    assert {
        CaseStatus.CLOSED,
        CaseStatus.LITIGATION,
        CaseStatus.AGREED,
        CaseStatus.NEGOTIATING,
    } <= statuses
    transitions = {}
    for case_id, details in session.execute(
        select(AuditEvent.case_id, AuditEvent.details)
        .join(Case, Case.id == AuditEvent.case_id)
        .where(HISTORY)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    ):
        if "status" in details:
            transitions[case_id] = details["status"][1]
    assert all(transitions[case.id] == case.status.value for case in cases)
    rejected = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .join(Case, Case.id == AuditEvent.case_id)
        .where(HISTORY, AuditEvent.action == "confirmation.rejected")
    )
    confirmed = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .join(Case, Case.id == AuditEvent.case_id)
        .where(HISTORY, AuditEvent.action == "confirmation.confirmed")
    )
    assert rejected >= 1
    assert confirmed > rejected


def test_paid_cases_are_paid_in_full_and_payment_timers_are_met_late_or_overdue(
    ctx: Flask,
) -> None:
    for case in history_cases():
        rows = payments.payment_status(case)
        if case.status in (CaseStatus.PAID, CaseStatus.CLOSED):
            assert rows, case.number
            assert all(row["covered"] for row in rows), case.number
    timers = session.scalars(
        select(Deadline)
        .join(Case, Case.id == Deadline.case_id)
        .where(HISTORY, Deadline.kind == "insurer_payment")
    ).all()
    met = [timer for timer in timers if timer.status == DeadlineStatus.MET]
    late = [timer for timer in met if timer.closed_at > timer.due_at]
    assert late
    assert len(late) < len(met) / 2
    assert any(timer.status == DeadlineStatus.OVERDUE for timer in timers)


def test_each_agreement_has_an_honest_placeholder_pdf(ctx: Flask) -> None:
    agreement = session.scalars(
        select(Agreement)
        .join(Case, Case.id == Agreement.case_id)
        .where(HISTORY, Agreement.status == AgreementStatus.SIGNED)
        .limit(1)
    ).one()
    document = session.get(Document, agreement.document_id)
    assert document.description == demo_history.PLACEHOLDER_NOTE
    assert document.media_type == "application/pdf"
    paid = session.scalars(select(Payment).where(Payment.case_id == agreement.case_id)).all()
    assert all(p.amount > 0 for p in paid)


def test_the_audit_chain_and_the_settlement_rows_verify(ctx: Flask) -> None:
    assert audit.verify_chain(full=True).ok
    assert integrity.verify_rows().ok
    result = ctx.test_cli_runner().invoke(audit_verify)
    assert result.exit_code == 0, result.output


def test_a_second_seed_adds_nothing(ctx: Flask) -> None:
    cases = session.scalar(select(func.count()).select_from(Case))
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    demo.seed()
    assert demo_history.seed_history({}, today=utcnow().date()) == 0
    assert session.scalar(select(func.count()).select_from(Case)) == cases
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


@pytest.mark.parametrize("username", ["admin", "supervisor1"])
def test_overseers_and_admins_open_history_cases(ctx: Flask, username: str) -> None:
    cases = history_cases()
    picks = {case.status: case for case in cases}
    client = ctx.test_client()
    factories.login(client, user(username))
    for status in (CaseStatus.CLOSED, CaseStatus.LITIGATION, CaseStatus.AGREED):
        response = client.get(f"/cases/{picks[status].id}")
        assert response.status_code == 200, (status, response.status_code)


def figures(case_type: str | None = None) -> dict[str, Any]:
    today = utcnow().astimezone(BEIJING).date()
    filters = stats.Filters(
        start=today - timedelta(days=365), end=today - timedelta(days=1), case_type=case_type
    )
    return stats.compute(filters, access.case_filter(user("admin"))).as_json()


def test_the_dashboard_has_figures_for_the_year(ctx: Flask) -> None:
    data = figures()
    assert data["cases"]["received"] >= 200
    assert data["cases"]["resolved"] > 0
    assert data["cases"]["litigation"] > 0
    cards = {card["name"]: card for card in data["insurers"]}
    for name in (demo.PICC, demo.PINGAN, "中国太平洋财产保险股份有限公司吕梁中心支公司"):
        assert cards[name]["payments_on_time"] > 0, name
        assert cards[name]["payments_late"] > 0, name


def test_the_dashboard_tells_the_case_types_apart(ctx: Flask) -> None:
    received = {kind: figures(kind)["cases"]["received"] for kind in stats.CASE_TYPES}
    assert received["injury"] > received["property"] > received["death"] > 0


def test_the_overseers_pages_show_the_history_on_the_embedded_database(ctx: Flask) -> None:
    """What supervisor1 and regulator1 open first, on the demo's SQLite: the year's figures
    (page, workbook), the late payments, and last month's report."""
    today = utcnow().astimezone(BEIJING).date()
    period = {"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()}
    received = figures()["cases"]["received"]
    session.rollback()  # SQLite: no read left open while the requests below write
    supervisor = ctx.test_client()
    factories.login(supervisor, user("supervisor1"))
    page = supervisor.get("/stats/", query_string=period)
    assert page.status_code == 200
    assert 'data-testid="figure-received"><a href="' in page.text
    assert f">{received}</a>" in page.text
    book = supervisor.get("/stats/export", query_string={**period, "format": "xlsx"})
    assert book.status_code == 200
    assert book.data.startswith(b"PK")
    regulator = ctx.test_client()
    factories.login(regulator, user("regulator1"))
    answer = regulator.get("/api/v1/stats", query_string=period)
    assert answer.status_code == 200
    assert {card["name"] for card in answer.json["insurers"]} >= {demo.PICC, demo.PINGAN}
    late = regulator.get("/api/v1/oversight/late-payments")
    assert late.status_code == 200
    assert late.json["items"]
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    pdf, xlsx, data = monthly_report.make(month)
    assert pdf.startswith(b"%PDF")
    assert xlsx.startswith(b"PK")
    assert data["sections"][-1]["figures"]["cases"]["received"] > 0
