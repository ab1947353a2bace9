"""Compensation standards admins may edit: the service, the catalog it feeds, the pages, the CLI."""

from __future__ import annotations

import html
import json
import os
import secrets
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.compensation.catalog import FIGURES, StandardSet, packaged_catalog
from app.db import session
from app.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from app.models import AuditEvent, OrgKind, StandardSetRecord, User
from app.services import standards
from tests import factories

REPO = Path(__file__).resolve().parent.parent
U = "urban_disposable_income"


@pytest.fixture
def admin(app: Flask) -> User:
    return factories.make_user(factories.make_org(OrgKind.PLATFORM))


@pytest.fixture
def admin_client(app: Flask, client: FlaskClient, admin: User) -> FlaskClient:
    factories.login(client, admin)
    return client


def packaged(jurisdiction: str = "shanxi", year: int = 2023) -> StandardSet:
    standard = packaged_catalog().standard_set(jurisdiction, year)
    assert standard is not None
    return standard


def values_of(standard: StandardSet, **changes: Any) -> dict[str, Any]:
    """Keyword arguments of save_standard_set that save `standard` as it is, with `changes`."""

    def day(text: str | None) -> date | None:
        return date.fromisoformat(text) if text else None

    values = {
        "jurisdiction": standard.jurisdiction,
        "year": standard.year,
        "figures": dict(standard.figures),
        "industry_wages": dict(standard.industry_wages),
        "sources": dict(standard.sources),
        "title": standard.title,
        "published_on": day(standard.published_on),
        "valid_from": day(standard.valid_from),
        "valid_to": day(standard.valid_to),
        "note": standard.note,
    }
    return {**values, **changes}


def with_figure(standard: StandardSet, name: str, amount: str) -> dict[str, str]:
    return {**standard.figures, name: amount}


def saved_rows() -> int:
    return session.scalar(select(func.count(StandardSetRecord.id))) or 0


def standards_events() -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action.like("standards.%"))
    return list(session.scalars(query.order_by(AuditEvent.id)))


def in_page_language(app: Flask, text: Any) -> str:
    """`text` (a lazy label) as the portal shows it: in Chinese once translated."""
    with app.test_request_context():
        return str(text)


# ---------------------------------------------------------------------------------------------
# The service and the catalog


def test_every_figure_has_a_label() -> None:
    assert set(standards.FIGURE_LABELS) == set(FIGURES)


def test_without_edits_the_catalog_is_the_packaged_one(app: Flask) -> None:
    assert standards.current_catalog().standards == packaged_catalog().standards


def test_saving_a_packaged_year_replaces_its_figures_in_the_catalog(
    app: Flask, admin: User
) -> None:
    saved = standards.save_standard_set(
        actor=admin,
        **values_of(packaged(), figures=with_figure(packaged(), U, "42000.50")),
        expected_version=0,
    )

    row = session.scalars(select(StandardSetRecord)).one()
    assert saved.origin == f"edited:{row.id}.1"
    assert row.updated_by_id == admin.id
    in_force = standards.current_catalog().standard_set("shanxi", 2023)
    assert in_force == saved
    assert in_force.figures[U] == "42000.50"
    assert in_force.figures["urban_consumption"] == "24524"
    assert in_force.valid_from == "2024-02-22"
    assert in_force.industry_wages["mining"] == "124277"
    # The packaged files, and the other years, stay as they were.
    assert packaged().figures[U] == "41327"
    assert packaged().origin == "packaged"
    assert standards.current_catalog().standard_set("shanxi", 2022) == packaged("shanxi", 2022)


def test_saving_writes_an_audit_event_with_the_figures_before_and_after(
    app: Flask, admin: User
) -> None:
    standards.save_standard_set(
        actor=admin, **values_of(packaged(), figures=with_figure(packaged(), U, "42000"))
    )
    standards.save_standard_set(
        actor=admin, **values_of(packaged(), figures=with_figure(packaged(), U, "43000"))
    )

    created, updated = standards_events()
    assert created.action == "standards.created"
    assert created.actor_id == admin.id
    assert created.subject == "standards:shanxi:2023"
    assert created.details["before"]["origin"] == "packaged"
    assert created.details["before"]["figures"][U] == "41327"
    assert created.details["after"]["figures"][U] == "42000"
    assert updated.action == "standards.updated"
    assert updated.details["before"]["figures"][U] == "42000"
    assert updated.details["after"]["figures"][U] == "43000"
    assert updated.details["after"]["origin"].endswith(".2")


def test_saving_unchanged_figures_makes_no_new_version(app: Flask, admin: User) -> None:
    first = standards.save_standard_set(actor=admin, **values_of(packaged(), note="checked"))
    again = standards.save_standard_set(actor=admin, **values_of(packaged(), note="checked"))

    assert again.origin == first.origin
    assert len(standards_events()) == 1


def test_a_new_year_is_listed_first_within_its_jurisdiction(app: Flask, admin: User) -> None:
    standards.save_standard_set(
        actor=admin,
        **values_of(packaged(), year=2024, title="山西省 2024 年度人身损害赔偿标准"),
        expected_version=0,
    )

    listed = [(s.jurisdiction, s.year) for s in standards.list_standard_sets()]
    assert listed == [("national", 2023), ("shanxi", 2024), ("shanxi", 2023), ("shanxi", 2022)]
    assert standards.current_catalog().years("shanxi") == [2022, 2023, 2024]


def test_amounts_are_stored_as_plain_decimal_strings(app: Flask, admin: User) -> None:
    saved = standards.save_standard_set(
        actor=admin,
        **values_of(
            packaged(),
            figures={
                **packaged().figures,
                U: " 041327.5 ",
                "urban_consumption": "２４５２４",  # full-width digits, as a Chinese IME types them
                "hospital_food_per_day": 100,
            },
        ),
    )
    assert saved.figures[U] == "41327.5"
    assert saved.figures["urban_consumption"] == "24524"
    assert saved.figures["hospital_food_per_day"] == "100"


def test_a_stale_version_is_refused_and_changes_nothing(app: Flask, admin: User) -> None:
    standards.save_standard_set(
        actor=admin,
        **values_of(packaged(), figures=with_figure(packaged(), U, "42000")),
        expected_version=0,
    )

    with pytest.raises(InvalidTransition) as caught:
        standards.save_standard_set(
            actor=admin,
            **values_of(packaged(), figures=with_figure(packaged(), U, "50000")),
            expected_version=0,  # started from the packaged figures, but an edit was saved since
        )

    assert caught.value.status == 409
    assert standards.current_catalog().standard_set("shanxi", 2023).figures[U] == "42000"


def test_only_admins_may_save_standards(app: Flask) -> None:
    mediator = factories.make_user(factories.make_org(OrgKind.MEDIATION))
    with pytest.raises(NotAllowed):
        standards.save_standard_set(actor=mediator, **values_of(packaged()))
    assert saved_rows() == 0


def _invalid_changes() -> list[Any]:
    shanxi = packaged()
    sources_without_u = {k: v for k, v in shanxi.sources.items() if k != U}
    figures_without_u = {k: v for k, v in shanxi.figures.items() if k != U}
    cases = {
        "unknown_jurisdiction": ({"jurisdiction": "atlantis"}, "jurisdiction"),
        "year_too_early": ({"year": 1989}, "year"),
        "year_too_late": ({"year": 2101}, "year"),
        "no_title": ({"title": "  "}, "title"),
        "unknown_figure": ({"figures": {**shanxi.figures, "moon_rent": "1"}}, "moon_rent"),
        "no_figures": ({"figures": {}, "sources": {}, "industry_wages": {}}, "figures"),
        "zero_amount": ({"figures": with_figure(shanxi, U, "0")}, U),
        "negative_amount": ({"figures": with_figure(shanxi, U, "-41327")}, U),
        "three_decimals": ({"figures": with_figure(shanxi, U, "41327.123")}, U),
        "not_a_number": ({"figures": with_figure(shanxi, U, "四万")}, U),
        "misplaced_thousands_separator": ({"figures": with_figure(shanxi, U, "4,1327")}, U),
        "bad_industry_code": (
            {"industry_wages": {**shanxi.industry_wages, "Mining-2": "1"}},
            "industry_wages",
        ),
        "industry_code_with_newline": (
            {"industry_wages": {**shanxi.industry_wages, "mining\n": "1"}},
            "industry_wages",
        ),
        "bad_industry_wage": (
            {"industry_wages": {**shanxi.industry_wages, "mining": "0.001"}},
            "industry_wages",
        ),
        "validity_backwards": (
            {"valid_from": date(2024, 2, 22), "valid_to": date(2024, 2, 21)},
            "valid_to",
        ),
        # Without valid_from the figures apply from their publication (StandardSet.in_force_from).
        "validity_ends_before_publication": (
            {"valid_from": None, "valid_to": date(2024, 2, 21)},
            "valid_to",
        ),
        # Without any start date, from 1 January after their year: 2024-01-01 for 2023.
        "validity_ends_before_the_year_after": (
            {"published_on": None, "valid_from": None, "valid_to": date(2023, 12, 31)},
            "valid_to",
        ),
        "figure_without_source": ({"sources": sources_without_u}, f"{U}.source"),
        "industry_wages_without_source": (
            {"sources": {k: v for k, v in shanxi.sources.items() if k != "industry_wages"}},
            "industry_wages.source",
        ),
        "source_without_figure": ({"figures": figures_without_u}, U),
    }
    return [pytest.param(changes, field, id=key) for key, (changes, field) in cases.items()]


@pytest.mark.parametrize(("changes", "field"), _invalid_changes())
def test_invalid_standards_are_refused_with_the_field_named_and_nothing_saved(
    app: Flask, admin: User, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        standards.save_standard_set(actor=admin, **values_of(packaged(), **changes))

    assert caught.value.status == 422
    assert caught.value.details["field"] == field
    assert caught.value.message
    assert saved_rows() == 0
    assert standards_events() == []


def test_standards_without_a_start_date_may_end_on_the_first_day_they_apply(
    app: Flask, admin: User
) -> None:
    # 2023 figures without publication or start date apply from 2024-01-01: ending that day is
    # a one-day validity, not a backwards one.
    saved = standards.save_standard_set(
        actor=admin,
        **values_of(packaged(), published_on=None, valid_from=None, valid_to=date(2024, 1, 1)),
    )
    assert saved.valid_to == "2024-01-01"
    assert saved.in_force_on(date(2024, 1, 1))
    assert not saved.in_force_on(date(2024, 1, 2))


def test_an_amount_error_names_the_figure_and_the_value(app: Flask, admin: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        standards.save_standard_set(
            actor=admin, **values_of(packaged(), figures=with_figure(packaged(), U, "12.345"))
        )
    assert str(standards.FIGURE_LABELS[U]) in caught.value.message
    assert "12.345" in caught.value.message


def test_a_national_year_needs_only_its_own_figures(app: Flask, admin: User) -> None:
    national = packaged("national", 2023)
    saved = standards.save_standard_set(
        actor=admin,
        **values_of(national, figures=with_figure(national, "urban_consumption", "33000")),
    )
    assert saved.figures == {U: "51821", "urban_consumption": "33000"}
    assert saved.industry_wages == {}


def test_an_unknown_year_is_not_found(app: Flask) -> None:
    with pytest.raises(NotFound):
        standards.get_standard_set(jurisdiction="shanxi", year=1999)


# ---------------------------------------------------------------------------------------------
# Admin pages


def form_of(standard: StandardSet, version: int = 0, **changes: str) -> dict[str, str]:
    """The edit form's fields showing `standard`, as a browser would post them."""
    data = {
        "version": str(version),
        "title": standard.title,
        "published_on": standard.published_on or "",
        "valid_from": standard.valid_from or "",
        "valid_to": standard.valid_to or "",
        "industry_wages": "\n".join(f"{k} = {v}" for k, v in standard.industry_wages.items()),
        "industry_wages_source": standard.sources.get("industry_wages", ""),
        "note": standard.note,
    }
    for name in FIGURES:
        data[f"{name}-amount"] = standard.figures.get(name, "")
        data[f"{name}-source"] = standard.sources.get(name, "")
    return {**data, **changes}


def test_admin_sees_every_year_with_its_main_figures(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/standards")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/admin/standards"' in page  # the navigation link
    row = page.split('data-standards="shanxi-2023"')[1].split("</tr>")[0]
    for amount in ("41327", "24524", "17677", "13684", "95025 / 97315", "100"):
        assert amount in row
    assert 'data-origin="packaged"' in row
    assert "2024-02-22" in row
    assert "山西省" in row
    assert 'href="/admin/standards/shanxi/2023"' in row
    assert "全国（对照）" in page
    assert 'data-standards="shanxi-2022"' in page


def test_edit_page_is_prefilled_from_the_catalog(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/standards/shanxi/2023")

    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert 'name="urban_disposable_income-amount" type="text" value="41327"' in page
    assert "国家统计局山西调查总队 2024-02-22 发布" in page
    assert "mining = 124277" in page
    assert 'name="valid_from" type="date" value="2024-02-22"' in page
    assert 'name="version" type="hidden" value="0"' in page


def test_admin_saves_edited_figures_and_the_list_shows_them(
    app: Flask, admin_client: FlaskClient
) -> None:
    form = form_of(packaged(), **{f"{U}-amount": "42100", "industry_wages": "mining = 130000"})

    response = admin_client.post("/admin/standards/shanxi/2023", data=form)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/standards")
    in_force = standards.current_catalog().standard_set("shanxi", 2023)
    assert in_force.figures[U] == "42100"
    assert in_force.industry_wages == {"mining": "130000"}
    page = admin_client.get("/admin/standards").get_data(as_text=True)
    row = page.split('data-standards="shanxi-2023"')[1].split("</tr>")[0]
    assert "42100" in row
    assert 'data-origin="edited"' in row
    edit_page = admin_client.get("/admin/standards/shanxi/2023").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in edit_page


def test_a_bad_amount_answers_422_with_the_reason_and_saves_nothing(
    app: Flask, admin_client: FlaskClient
) -> None:
    form = form_of(packaged(), **{f"{U}-amount": "41327.999"})

    response = admin_client.post("/admin/standards/shanxi/2023", data=form)

    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert in_page_language(app, standards.FIGURE_LABELS[U]) in page
    assert "41327.999" in page  # the typed value stays in the form and is named in the message
    assert saved_rows() == 0
    assert standards_events() == []


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"industry_wages": "mining: 124277"}, id="wage_line_without_equals"),
        pytest.param({"industry_wages": "mining = 1\nmining = 2"}, id="wage_given_twice"),
        pytest.param({"valid_from": "2024-02-30"}, id="impossible_date"),
        pytest.param({"title": ""}, id="no_title"),
        pytest.param({f"{U}-source": ""}, id="figure_without_source"),
        pytest.param({"valid_from": "2024-03-01", "valid_to": "2024-02-01"}, id="backwards"),
    ],
)
def test_bad_input_on_the_edit_page_answers_422_and_saves_nothing(
    admin_client: FlaskClient, changes: dict[str, str]
) -> None:
    response = admin_client.post(
        "/admin/standards/shanxi/2023", data=form_of(packaged(), **changes)
    )

    assert response.status_code == 422
    assert 'class="alert alert-danger"' in response.get_data(as_text=True)
    assert saved_rows() == 0


def test_a_stale_form_answers_409_and_keeps_the_other_save(
    app: Flask, admin_client: FlaskClient, admin: User
) -> None:
    standards.save_standard_set(
        actor=admin, **values_of(packaged(), figures=with_figure(packaged(), U, "42000"))
    )

    response = admin_client.post(
        "/admin/standards/shanxi/2023", data=form_of(packaged(), version=0)
    )

    assert response.status_code == 409
    assert standards.current_catalog().standard_set("shanxi", 2023).figures[U] == "42000"


def test_admin_adds_a_new_year(app: Flask, admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/standards/new")
    assert page.status_code == 200
    assert 'name="jurisdiction"' in page.get_data(as_text=True)
    form = form_of(packaged(), jurisdiction="shanxi", year="2024", title="山西省 2024 年度标准")

    response = admin_client.post("/admin/standards/new", data=form)

    assert response.status_code == 302
    new = standards.current_catalog().standard_set("shanxi", 2024)
    assert new is not None
    assert new.title == "山西省 2024 年度标准"
    assert standards.revision_of(new) == 1


def test_the_new_page_refuses_a_year_on_record(admin_client: FlaskClient) -> None:
    form = form_of(packaged(), jurisdiction="shanxi", year="2023", **{f"{U}-amount": "1"})

    response = admin_client.post("/admin/standards/new", data=form)

    assert response.status_code == 422
    assert saved_rows() == 0


def test_an_unknown_year_page_is_not_found(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/standards/shanxi/1999").status_code == 404
    assert admin_client.get("/admin/standards/atlantis/2023").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/standards"),
        ("GET", "/admin/standards/shanxi/2023"),
        ("POST", "/admin/standards/shanxi/2023"),
        ("GET", "/admin/standards/new"),
        ("POST", "/admin/standards/new"),
    ],
)
def test_other_roles_may_not_see_or_edit_standards(
    app: Flask, client: FlaskClient, method: str, path: str
) -> None:
    factories.login(client, factories.make_user(factories.make_org(OrgKind.INSURER)))

    response = client.open(path, method=method, data=form_of(packaged()))

    assert response.status_code == 403
    assert saved_rows() == 0


def test_other_roles_get_no_standards_link(app: Flask, client: FlaskClient) -> None:
    factories.login(client, factories.make_user(factories.make_org(OrgKind.POLICE)))
    assert 'href="/admin/standards"' not in client.get("/cases/").get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Command line


def test_cli_lists_the_standards_in_force(app: Flask, admin: User) -> None:
    from app.cli import standards_list

    standards.save_standard_set(
        actor=admin, **values_of(packaged(), figures=with_figure(packaged(), U, "42000"))
    )

    result = app.test_cli_runner().invoke(standards_list)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["jurisdiction", "year", "origin", "valid"]
    shanxi_2023 = next(line for line in lines if line.startswith("shanxi") and " 2023 " in line)
    assert "edited:" in shanxi_2023
    assert "42000" in shanxi_2023
    assert "24524" in shanxi_2023
    assert "on_post=97315" in shanxi_2023
    shanxi_2022 = next(line for line in lines if line.startswith("shanxi") and " 2022 " in line)
    assert "packaged" in shanxi_2022


def test_cli_prints_the_standards_as_json(app: Flask) -> None:
    from app.cli import standards_list

    result = app.test_cli_runner().invoke(standards_list, ["--json"])

    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == [s.as_json() for s in standards.list_standard_sets()]
    assert [(s["jurisdiction"], s["year"]) for s in printed][:2] == [
        ("national", 2023),
        ("shanxi", 2023),
    ]


@pytest.mark.slow  # the CLI in a process of its own
def test_cli_lists_standards_on_a_database_migrated_to_head(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'head.sqlite3'}",
        "OBJECT_STORE_PATH": str(tmp_path / "objects"),
    }
    for name in ("REDIS_URL", "S3_ENDPOINT", "DAOJIAO_MODE"):
        env.pop(name, None)

    def daojiao(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from app.cli import main; main()", *args]
        return subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )

    assert daojiao("db", "upgrade").returncode == 0
    result = daojiao("standards", "list", "--json")

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert {(s["jurisdiction"], s["year"], s["origin"]) for s in printed} == {
        ("national", 2023, "packaged"),
        ("shanxi", 2023, "packaged"),
        ("shanxi", 2022, "packaged"),
    }
