"""The oversight figures (app/stats.py, /stats, GET /api/v1/stats) over a constructed history
of November 2026 (Beijing) whose every figure is worked out by hand below.

The cases are rows made by the factories; their transitions are the workflow's audit events
(the actions and `status` details `app.workflow.transition` writes), each moved to a known
time after it was appended (`Centre.move_events`), so the chain's hashes no longer hold in
this module's transaction (nothing here verifies it). Times are 02:00 UTC (10:00 Beijing), so
stage lengths are whole days.

Cases, all of 离石区 and insured by `insurer` unless said:
  A  created 11-01, confirmed 11-02, claims 11-03, assessed 11-05, signed 11-10, paid 11-15
     (on time: due 11-20); a death case; first offer 11-06.
  B  created 11-03, confirmed 11-04, claims 11-04, assessed 11-06, signed 11-08, confirmation
     applied 11-09 and confirmed 11-12, paid 11-28 (due 11-18: 10 days late); an injury case;
     first offer 11-07.
  C  created 11-05, confirmed 11-06, claims 11-06, assessed 11-08, mediation failed 11-20;
     property only; first offer 11-19 (past the window: claims + 10 days = 11-16).
  D  created 11-06, confirmed 11-07, assessed 11-09, signed 11-12 (payment due 11-22, unpaid),
     applied 11-13, rejected back to mediation 11-16: open.
  E  created 11-09, confirmed 11-10, signed 12-03: resolved after the period, open in it.
  F  confirmed 10-31 23:30 Beijing: before the period.
  G  confirmed 11-01 00:30 Beijing (10-31 16:30 UTC): in the period.
  H  中阳县, insured by `other_insurer`, the other committee; confirmed 11-11.
  I  created 11-11, confirmed 11-12, assessed 11-13, signed 11-14, applied 11-15, rejected
     towards litigation 11-18.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import delete, insert, select, text, update

from app import access, audit, migrate, milestones, stats
from app.db import Base, session
from app.models import (
    Agreement,
    AgreementStatus,
    Assessment,
    AuditEvent,
    Case,
    CaseStatus,
    Claim,
    Deadline,
    DeadlineStatus,
    Offer,
    OfferSide,
    OrgKind,
    Payment,
    User,
)
from app.services import documents
from tests import factories
from tests.support.centre import Centre as SharedCentre

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
CTPI, PARTY = "ctpi:甲方", "party:甲方"
HOME, AWAY = "离石区", "中阳县"
TABLES = Base.metadata.sorted_tables


def at(day: str, hour: int = 2, minute: int = 0) -> datetime:
    """A UTC time on a day of 2026 ("11-05")."""
    return datetime.fromisoformat(f"2026-{day}").replace(hour=hour, minute=minute, tzinfo=UTC)


class Centre(SharedCentre):
    """The shared centre with the history above, and a supervisor and a regulator of 离石区."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.committee.region = HOME
        self.supervisor = factories.make_user(factories.make_org(OrgKind.SUPERVISION, region=HOME))
        self.regulator = factories.make_user(factories.make_org(OrgKind.REGULATOR, region=HOME))
        self.cases: dict[str, Case] = {}
        status = {
            "A": CaseStatus.PAID,
            "B": CaseStatus.PAID,
            "C": CaseStatus.LITIGATION,
            "D": CaseStatus.NEGOTIATING,
            "E": CaseStatus.AGREED,
            "F": CaseStatus.REPORTED,
            "G": CaseStatus.REPORTED,
            "H": CaseStatus.REPORTED,
            "I": CaseStatus.LITIGATION,
        }
        for name, state in status.items():
            away = name == "H"
            self.cases[name] = factories.make_case(
                police=self.police_org,
                status=state,
                insurer=self.other_insurer if away else self.insurer,
                committee=self.other_committee if away else self.committee,
                region=AWAY if away else HOME,
                mediator_id=self.mediator.id if name in "DE" else None,
            )
        self.pdf = documents.store_document(
            actor=self.mediator,
            case=self.cases["A"],
            kind="agreement",
            data=b"%PDF-1.4 agreement",
            media_type="application/pdf",
            filename="agreement.pdf",
        )
        self.moved: list[tuple[int, datetime]] = []
        self.history()
        self.move_events()
        session.commit()

    def event(self, name: str, action: str, when: datetime, *status: str) -> None:
        details = {"status": list(status)} if status else {}
        row = audit.record(action, actor=None, case_id=self.cases[name].id, details=details)
        self.moved.append((row.id, when))

    def move_events(self) -> None:
        """Put each event at its time in the story; the table is append-only (a trigger), so
        the triggers are off for these updates only. The cases' milestones follow."""
        session.flush()
        session.execute(text("SET LOCAL session_replication_role = replica"))
        for event_id, when in self.moved:
            session.execute(
                update(AuditEvent).where(AuditEvent.id == event_id).values(occurred_at=when)
            )
        session.execute(text("SET LOCAL session_replication_role = DEFAULT"))
        milestones.rebuild(session)  # stamped when appended: stamped again at the story's times

    def story(self, name: str, *steps: tuple[str, str]) -> None:
        """Created the day before confirmation, then each (action, day) in turn."""
        for action, day in steps:
            if action == "case.confirmed":
                self.event(name, "case.created", at(day) - timedelta(days=1))
            self.event(name, action, at(day))

    def history(self) -> None:
        self.story(
            "A",
            ("case.confirmed", "11-02"),
            ("claims.filed", "11-03"),
            ("case.assessed", "11-05"),
            ("agreement.signed", "11-10"),
            ("case.paid", "11-15"),
        )
        self.story(
            "B",
            ("case.confirmed", "11-04"),
            ("claims.filed", "11-04"),
            ("case.assessed", "11-06"),
            ("agreement.signed", "11-08"),
            ("confirmation.requested", "11-09"),
            ("confirmation.confirmed", "11-12"),
            ("case.paid", "11-28"),
        )
        self.story(
            "C",
            ("case.confirmed", "11-06"),
            ("claims.filed", "11-06"),
            ("case.assessed", "11-08"),
            ("mediation.failed", "11-20"),
        )
        self.story(
            "D",
            ("case.confirmed", "11-07"),
            ("case.assessed", "11-09"),
            ("agreement.signed", "11-12"),
            ("confirmation.requested", "11-13"),
        )
        self.event("D", "confirmation.rejected", at("11-16"), "confirming", "negotiating")
        self.story("E", ("case.confirmed", "11-10"), ("agreement.signed", "12-03"))
        self.event("F", "case.confirmed", at("10-31", 15, 30))
        self.event("G", "case.created", at("10-30", 16, 30))
        self.event("G", "case.confirmed", at("10-31", 16, 30))
        self.story("H", ("case.confirmed", "11-11"))
        self.story(
            "I",
            ("case.confirmed", "11-12"),
            ("case.assessed", "11-13"),
            ("agreement.signed", "11-14"),
            ("confirmation.requested", "11-15"),
        )
        self.event("I", "confirmation.rejected", at("11-18"), "confirming", "litigation")
        death = {"death_compensation": {}, "funeral": {}, "property": {}}
        self.claims_and_offer("A", death, "11-06")
        self.claims_and_offer("B", {"medical": {}, "property": {}}, "11-07")
        self.claims_and_offer("C", {"property": {}}, "11-19")
        self.agreement("A", [(CTPI, "1000.00", "900.00", True), (PARTY, "100.00", "100.00", False)])
        self.agreement("B", [(CTPI, "2000.00", "2000.00", True)])
        self.agreement("D", [(CTPI, "500.00", "400.00", True)])
        self.deadline("A", "11-20", DeadlineStatus.MET)
        self.deadline("B", "11-18", DeadlineStatus.MET)
        self.deadline("D", "11-22", DeadlineStatus.OPEN)
        self.payment("A", CTPI, "900.00", "11-15")
        self.payment("A", PARTY, "50.00", "11-15")
        self.payment("A", PARTY, "50.00", "12-02")  # after the period
        self.payment("B", CTPI, "2000.00", "11-28")

    def claims_and_offer(self, name: str, items: dict[str, Any], offered: str) -> None:
        case = self.cases[name]
        claim = Claim(case_id=case.id, data={"victims": [{"items": items}]}, sha256="0" * 64)
        case.case_type = stats.case_type_of(claim.data)  # as filing claims keeps it
        session.add(claim)
        session.flush()
        assessment = Assessment(
            case_id=case.id,
            claim_id=claim.id,
            input={},
            result={"totals": {}},
            input_sha256="0" * 64,
            fingerprint="test",
            engine_version="test",
        )
        session.add(assessment)
        session.flush()
        session.add(
            Offer(
                case_id=case.id,
                assessment_id=assessment.id,
                payer=CTPI,
                side=OfferSide.INSURER,
                org_id=self.insurer.id,
                amount=Decimal("100.00"),
                digest="0" * 64,
                created_by_id=self.adjuster.id,
                created_at=at(offered),
            )
        )

    def agreement(self, name: str, payers: list[tuple[str, str, str, bool]]) -> None:
        session.add(
            Agreement(
                case_id=self.cases[name].id,
                data={
                    "payers": [
                        {
                            "payer": payer,
                            "assessed": assessed,
                            "amount": agreed,
                            "org_id": self.insurer.id if insured else None,
                        }
                        for payer, assessed, agreed, insured in payers
                    ]
                },
                sha256=self.pdf.sha256,
                document_id=self.pdf.id,
                status=AgreementStatus.SIGNED,
                signed_at=at("11-10"),
                created_by_id=self.mediator.id,
            )
        )

    def deadline(self, name: str, due: str, status: DeadlineStatus) -> None:
        session.add(
            Deadline(
                case_id=self.cases[name].id,
                kind="insurer_payment",
                subject=f"payer:{CTPI}",
                basis="交强险条例第二十九条",
                owner_org_id=self.insurer.id,
                due_at=at(due, 15, 59),  # 23:59 Beijing
                status=status,
            )
        )

    def payment(self, name: str, payer: str, amount: str, day: str) -> None:
        session.add(
            Payment(
                case_id=self.cases[name].id,
                payer=payer,
                amount=Decimal(amount),
                paid_on=date.fromisoformat(f"2026-{day}"),
                reference=f"BANK-{name}-{day}",
                recorded_by_id=self.adjuster.id,
            )
        )


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def figures(user: Any, **args: str) -> dict[str, Any]:
    filters = stats.Filters.from_args({**NOVEMBER, **args})
    return stats.compute(filters, access.case_filter(user)).as_json()


def test_counts_and_rates_follow_the_definitions(centre: Centre) -> None:
    data = figures(centre.admin)
    # F was confirmed the evening before the period (Beijing), G just after it began; E's
    # agreement came after the period and D's confirmation was rejected back to mediation.
    assert data["cases"] == {
        "received": 8,
        "resolved": 2,
        "confirmed": 1,
        "litigation": 2,
        "open": 4,
    }
    assert data["rates"] == {"resolution_rate": 0.25, "mediation_success_rate": 0.5}
    assert set(data["definitions"]) >= {"received", "resolution_rate", "mediation_success_rate"}


def test_a_case_resolved_after_the_period_counts_when_the_period_includes_it(
    centre: Centre,
) -> None:
    data = figures(centre.admin, to="2026-12-31")
    assert data["cases"]["resolved"] == 3  # E, signed on 3 December


def test_cycle_time_per_stage_median_and_p90(centre: Centre) -> None:
    stages = {s["stage"]: s for s in figures(centre.admin)["cycle_time"]["stages"]}
    expect = {
        "upload_to_confirmation": (1.0, 1.0, 8),
        "confirmation_to_assessment": (2.0, 2.6, 5),  # A 3, B 2, C 2, D 2, I 1
        "negotiation": (2.5, 4.4, 4),  # A 5, B 2, D 3, I 1
        "agreement_to_confirmation": (4.0, 4.0, 1),  # B
        "agreement_to_payment": (10.5, 14.9, 2),  # A 5, B 16 (from its confirmation)
        "overall": (19.5, 23.9, 2),  # A 14, B 25
    }
    got = {k: (v["median_days"], v["p90_days"], v["cases"]) for k, v in stages.items()}
    assert got == expect


def test_the_trend_is_by_month_of_receipt(centre: Centre) -> None:
    trend = figures(centre.admin, **{"from": "2026-10-01"})["cycle_time"]["trend"]
    assert trend == [
        {
            "month": "2026-10",
            "received": 1,
            "resolved": 0,
            "litigation": 0,
            "overall_median_days": None,
        },
        {
            "month": "2026-11",
            "received": 8,
            "resolved": 2,
            "litigation": 2,
            "overall_median_days": 19.5,
        },
    ]


def test_amounts_are_those_of_the_resolved_cases_agreements_and_paid_in_the_period(
    centre: Centre,
) -> None:
    assert figures(centre.admin)["amounts"] == {
        "assessed": "3100.00",
        "agreed": "3000.00",
        "paid": "2950.00",  # A's second 50.00 was paid in December
        "agreed_to_assessed": 0.9677,
    }


def test_the_insurer_scorecard(centre: Centre) -> None:
    cards = {card["org_id"]: card for card in figures(centre.admin)["insurers"]}
    assert cards[centre.insurer.id] == {
        "org_id": centre.insurer.id,
        "name": centre.insurer.name,
        "cases": 7,
        "offers": 3,
        "first_offer_median_days": 1.0,  # A 1, B 1, C 11
        "offers_within_window": 2,
        "payments_on_time": 1,
        "payments_late": 1,
        "days_late_median": 10.0,
        "payments_unpaid_past_due": 1,  # D
        "tribunal_rejections": 2,  # D, I
        "assessed": "3000.00",
        "agreed": "2900.00",
        "agreed_to_assessed": 0.9667,
    }
    assert cards[centre.other_insurer.id]["cases"] == 1


def test_workload_per_centre_and_mediator_now(centre: Centre) -> None:
    workload = figures(centre.admin)["workload"]
    centres = {row["id"]: (row["open"], row["overdue"]) for row in workload["centres"]}
    # D, E, F, G open (F outside the period: workload is today's); D's payment is past due.
    assert centres == {centre.committee.id: (4, 1), centre.other_committee.id: (1, 0)}
    mediators = {row["id"]: (row["open"], row["overdue"]) for row in workload["mediators"]}
    assert mediators == {centre.mediator.id: (2, 1), None: (3, 0)}
    # Today's load: the case type does not narrow it, the county does.
    assert figures(centre.admin, type="death")["workload"] == workload
    assert [row["id"] for row in figures(centre.admin, region=AWAY)["workload"]["centres"]] == [
        centre.other_committee.id
    ]


def test_filters_by_county_insurer_and_case_type(centre: Centre) -> None:
    assert figures(centre.admin, region=AWAY)["cases"]["received"] == 1
    assert figures(centre.admin, insurer=str(centre.other_insurer.id))["cases"]["received"] == 1
    assert figures(centre.admin, type="death")["cases"]["received"] == 1  # A
    assert figures(centre.admin, type="injury")["cases"]["received"] == 1  # B
    assert figures(centre.admin, type="property")["cases"]["received"] == 1  # C


def test_each_user_counts_only_the_cases_they_may_see(centre: Centre) -> None:
    assert figures(centre.supervisor)["cases"]["received"] == 7  # not H, of 中阳县


def test_invalid_filters_are_refused(centre: Centre, client: Any) -> None:
    headers = factories.api_token(client, centre.admin)
    for args in ("from=2026-13-01", "type=fire", "insurer=x", "from=2026-12-01&to=2026-11-01"):
        response = client.get(f"/api/v1/stats?{args}", headers=headers)
        assert response.status_code == 422, args
        assert response.json["error"]["code"] == "invalid_input"


def test_the_api_answers_json_and_a_workbook_with_the_same_numbers(
    centre: Centre, client: Any
) -> None:
    headers = factories.api_token(client, centre.admin)
    query = "from=2026-11-01&to=2026-11-30"
    data = client.get(f"/api/v1/stats?{query}", headers=headers).json
    assert {"cases", "rates", "cycle_time", "amounts", "insurers", "definitions", "filters"} <= set(
        data
    )
    assert data["cases"]["received"] == 8
    response = client.get(f"/api/v1/stats?{query}&format=xlsx", headers=headers)
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.data))
    cases = [row for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert [value for _label, value in cases] == [8, 2, 1, 2, 4]
    amounts = [row for row in book.worksheets[5].iter_rows(min_row=2, values_only=True)]
    assert [value for _label, value in amounts][:3] == [3100, 3000, 2950]
    assert "/stats" in client.get("/api/v1/openapi.json").json["paths"]


def test_only_admins_and_overseers_read_the_figures(centre: Centre, client: Any) -> None:
    for user in (centre.police, centre.mediator, centre.adjuster, centre.judge):
        headers = factories.api_token(client, user)
        assert client.get("/api/v1/stats", headers=headers).status_code == 403
    for user in (centre.admin, centre.supervisor):
        headers = factories.api_token(client, user)
        assert client.get("/api/v1/stats", headers=headers).status_code == 200
    headers = factories.api_token(client, centre.regulator)
    data = client.get("/api/v1/stats?from=2026-11-01&to=2026-11-30", headers=headers).json
    assert set(data) == {"filters", "amounts", "insurers", "definitions"}


def test_the_dashboard_links_each_count_to_exactly_its_cases(centre: Centre, client: Any) -> None:
    factories.login(client, centre.admin)
    page = client.get("/stats/?from=2026-11-01&to=2026-11-30")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="stats-data"' in html
    assert "vendor/echarts/echarts.min.js" in html
    expected = {"resolved": "AB", "litigation": "CI", "open": "DEGH", "confirmed": "B"}
    for figure, names in expected.items():
        listing = client.get(f"/cases/?figure={figure}&from=2026-11-01&to=2026-11-30")
        text = listing.get_data(as_text=True)
        shown = {name for name, case in centre.cases.items() if f">{case.number}<" in text}
        assert shown == set(names), figure


def test_a_police_user_may_not_open_the_dashboard(centre: Centre, client: Any) -> None:
    factories.login(client, centre.police)
    assert client.get("/stats/").status_code == 403


def test_the_csv_export_of_one_table(centre: Centre, client: Any) -> None:
    factories.login(client, centre.admin)
    response = client.get("/stats/export?format=csv&table=cases&from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == ["8", "2", "1", "2", "4"]


def test_the_default_period_is_this_month_in_beijing() -> None:
    filters = stats.Filters.default(date(2026, 12, 4))
    assert (filters.start, filters.end) == (date(2026, 12, 1), date(2026, 12, 4))
    assert filters.start_at == datetime(2026, 11, 30, 16, tzinfo=UTC)


def test_exports_never_turn_a_name_into_a_formula(centre: Centre, client: Any) -> None:
    centre.insurer.name = '=HYPERLINK("http://x")'
    session.flush()
    factories.login(client, centre.admin)
    query = "from=2026-11-01&to=2026-11-30&region=%3D1%2B1"
    book = load_workbook(BytesIO(client.get(f"/stats/export?format=xlsx&{query}").data))
    region = book.worksheets[0]["B3"]
    assert (region.value, region.data_type) == ("=1+1", "s")
    query = "from=2026-11-01&to=2026-11-30"
    book = load_workbook(BytesIO(client.get(f"/stats/export?format=xlsx&{query}").data))
    names = [row[0] for row in book.worksheets[6].iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in names)
    assert centre.insurer.name in [cell.value for cell in names]
    csv = client.get(f"/stats/export?format=csv&table=insurers&{query}").get_data(as_text=True)
    assert "'=HYPERLINK" in csv


def test_a_regulator_sees_insurer_conduct_without_case_links(centre: Centre, client: Any) -> None:
    factories.login(client, centre.regulator)
    html = client.get("/stats/?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert 'data-chart="insurers"' in html
    assert 'data-testid="figure-received"' not in html
    assert "figure=" not in html
    factories.login(client, centre.supervisor)
    html = client.get("/stats/?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert "figure=resolved" in html


def test_a_mangled_filter_on_the_page_is_explained_not_an_error(
    centre: Centre, client: Any
) -> None:
    factories.login(client, centre.admin)
    response = client.get("/stats/?from=yesterday")
    assert response.status_code == 422
    assert 'id="stats-data"' in response.get_data(as_text=True)


FILTER_SETS = (
    {},
    {"region": AWAY},
    {"region": "山西", "type": "injury"},
    {"type": "death"},
    {"type": "property"},
    {"from": "2026-10-01", "to": "2026-12-31"},
)


@pytest.mark.slow
def test_the_embedded_database_computes_the_same_figures(
    centre: Centre, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """The demo's SQLite gives every figure PostgreSQL gives, for the same rows: the history
    above copied table by table into a migrated SQLite database."""
    url = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    migrate.upgrade(url)
    rows = {table: session.execute(select(table)).mappings().all() for table in TABLES}
    embedded = make_app(DATABASE_URL=url)
    with embedded.app_context():
        session.connection().exec_driver_sql("PRAGMA foreign_keys=OFF")  # rows in any order
        for table in TABLES:
            session.execute(delete(table))
            if rows[table]:
                session.execute(insert(table), [dict(row) for row in rows[table]])
        session.commit()
        users = {user: session.get(User, user.id) for user in (centre.admin, centre.supervisor)}
        assert session.get_bind().dialect.name == "sqlite"
        on_sqlite = {
            (user.id, index): stats.compute(
                stats.Filters.from_args({**NOVEMBER, **args}), access.case_filter(copy)
            ).as_json()
            for user, copy in users.items()
            for index, args in enumerate(FILTER_SETS)
        }
    for (user_id, index), data in on_sqlite.items():
        user = session.get(User, user_id)
        expected = figures(user, **FILTER_SETS[index])
        assert data == expected, (user.username, FILTER_SETS[index])
    assert on_sqlite[(centre.admin.id, 0)]["cases"]["received"] == 8


def test_the_usual_periods_are_a_click_away_with_the_other_filters_kept(
    centre: Centre, client: Any
) -> None:
    today = date(2026, 12, 4)
    chosen = stats.Filters.from_args({**NOVEMBER, "region": AWAY, "type": "injury"})
    presets = dict(chosen.presets(today))
    assert {key: (f.start.isoformat(), f.end.isoformat()) for key, f in presets.items()} == {
        "this_month": ("2026-12-01", "2026-12-04"),
        "last_month": ("2026-11-01", "2026-11-30"),
        "this_quarter": ("2026-10-01", "2026-12-04"),
        "this_year": ("2026-01-01", "2026-12-04"),
        "last_12_months": ("2025-12-05", "2026-12-04"),
    }
    assert {(f.region, f.case_type) for f in presets.values()} == {(AWAY, "injury")}
    leap = date(2024, 2, 29)
    assert dict(stats.Filters.default(leap).presets(leap))["last_12_months"].start == date(
        2023, 3, 1
    )

    factories.login(client, centre.supervisor)
    page = client.get("/stats/", query_string={"region": AWAY})
    presets = page.text.split('data-testid="period-presets"')[1].split("</nav>")[0]
    links = re.findall(r'href="([^"]+)"', presets)
    assert len(links) == len(stats.PERIODS)
    assert all("region=%E4%B8%AD%E9%98%B3%E5%8E%BF" in link for link in links)
    assert 'aria-current="page">本月</a>' in page.text  # the default period is this month


def test_amounts_beyond_twenty_one_million_yuan_add_up(centre: Centre) -> None:
    """Amounts are summed in fen: 25,000,000.00 yuan is 2,500,000,000 fen, past a 32-bit
    integer."""
    before = Decimal(figures(centre.admin)["amounts"]["agreed"])
    centre.agreement("B", [(CTPI, "25000000.00", "25000000.00", True)])  # B's newer agreement
    session.flush()
    after = figures(centre.admin)["amounts"]
    assert Decimal(after["agreed"]) == before - Decimal("2000.00") + Decimal("25000000.00")
