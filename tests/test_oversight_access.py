"""The overseers (DESIGN.md §1): a supervision body reads its region's cases with ID numbers
masked and acts on none; a financial regulator sees figures only, never a case file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, url_for
from sqlalchemy import create_engine, select, text

from app import access, create_app, demo, migrate, workflow
from app.db import session
from app.errors import NotAllowed
from app.id_numbers import sees_full
from app.models import Case, CaseStatus, Organization, OrgKind, Role, User
from app.services import accounts, documents
from tests.factories import api_token, login, make_case, make_org, make_user

REGION = "山西省吕梁市离石区"
ELSEWHERE = "山西省太原市小店区"
ID_NUMBER = "142301198503150012"  # make_case's first party


def _cases(police: Organization, insurer: Organization) -> dict[str, Case]:
    """Cases of REGION in each state an overseer treats apart, and one of another region."""
    return {
        "confirmed": make_case(police=police, status=CaseStatus.CONFIRMING, region=REGION),
        "insured": make_case(
            police=police, status=CaseStatus.NEGOTIATING, insurer=insurer, region=REGION
        ),
        "draft_insured": make_case(
            police=police, status=CaseStatus.DRAFT, insurer=insurer, region=REGION
        ),
        "withdrawn_insured": make_case(
            police=police, status=CaseStatus.WITHDRAWN, insurer=insurer, region=REGION
        ),
        "elsewhere_insured": make_case(
            police=police, status=CaseStatus.NEGOTIATING, insurer=insurer, region=ELSEWHERE
        ),
    }


def _seen(user: User, cases: dict[str, Case]) -> set[str]:
    ids = set(session.scalars(select(Case.id).where(access.case_filter(user))))
    return {key for key, case in cases.items() if case.id in ids}


def test_supervisor_sees_its_regions_cases_but_drafts(app: Flask) -> None:
    cases = _cases(make_org(OrgKind.POLICE), make_org(OrgKind.INSURER))
    supervisor = make_user(make_org(OrgKind.SUPERVISION, region=REGION))

    assert supervisor.role == Role.SUPERVISOR
    assert _seen(supervisor, cases) == {"confirmed", "insured", "withdrawn_insured"}
    listed = session.scalars(access.visible_cases(supervisor)).all()
    assert {case.id for case in listed} == {
        cases[key].id for key in ("confirmed", "insured", "withdrawn_insured")
    }


def test_regulator_figures_cover_its_regions_insured_cases_only(app: Flask) -> None:
    cases = _cases(make_org(OrgKind.POLICE), make_org(OrgKind.INSURER))
    regulator = make_user(make_org(OrgKind.REGULATOR, region=REGION))

    assert regulator.role == Role.REGULATOR
    assert _seen(regulator, cases) == {"insured"}


def test_a_citys_overseers_see_the_cases_of_its_counties_only(app: Flask) -> None:
    police, insurer = make_org(OrgKind.POLICE), make_org(OrgKind.INSURER)
    cases = _cases(police, insurer)
    cases["county"] = make_case(
        police=police, status=CaseStatus.NEGOTIATING, insurer=insurer, region="山西省吕梁市中阳县"
    )
    cases["other_city"] = make_case(
        police=police, status=CaseStatus.NEGOTIATING, insurer=insurer, region="山西省太原市"
    )
    city = "山西省吕梁市"
    supervisor = make_user(make_org(OrgKind.SUPERVISION, region=city))
    regulator = make_user(make_org(OrgKind.REGULATOR, region=city))

    assert _seen(supervisor, cases) == {"confirmed", "insured", "withdrawn_insured", "county"}
    assert _seen(regulator, cases) == {"insured", "county"}
    # A region is text, not a pattern: LIKE's wildcards in it match only themselves.
    assert _seen(make_user(make_org(OrgKind.SUPERVISION, region="山西省%")), cases) == set()
    assert _seen(make_user(make_org(OrgKind.SUPERVISION, region="山西省_梁市")), cases) == set()


def test_overseers_without_a_region_see_nothing(app: Flask) -> None:
    cases = _cases(make_org(OrgKind.POLICE), make_org(OrgKind.INSURER))
    for kind in (OrgKind.SUPERVISION, OrgKind.REGULATOR):
        assert _seen(make_user(make_org(kind)), cases) == set()


def test_regulator_opens_no_case_file(app: Flask) -> None:
    police, insurer = make_org(OrgKind.POLICE), make_org(OrgKind.INSURER)
    case = _cases(police, insurer)["insured"]
    regulator = make_user(make_org(OrgKind.REGULATOR, region=REGION))

    for call in (
        lambda: access.visible_cases(regulator),
        lambda: access.get_case(regulator, case.id),
    ):
        try:
            call()
        except NotAllowed:
            continue
        raise AssertionError("a regulator was given case files")


def test_supervisor_reads_a_case_with_names_and_masked_id_numbers_and_no_action(
    app: Flask,
) -> None:
    case = _cases(make_org(OrgKind.POLICE), make_org(OrgKind.INSURER))["confirmed"]
    supervisor = make_user(make_org(OrgKind.SUPERVISION, region=REGION))
    client = app.test_client()
    login(client, supervisor)

    page = client.get(f"/cases/{case.id}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert case.parties[0].name in text
    assert ID_NUMBER not in text
    assert "1423**********0012" in text
    assert not sees_full(supervisor, case)
    assert workflow.allowed_actions(case, supervisor) == []
    reveal = f"/cases/{case.id}/parties/{case.parties[0].id}/id-number"
    assert client.post(reveal, data={"version": str(case.version)}).status_code == 403
    headers = api_token(client, supervisor)
    answer = client.get(f"/api/v1/cases/{case.id}", headers=headers)
    assert answer.status_code == 200
    assert ID_NUMBER not in answer.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["report", "signed_agreement"])
def test_supervisor_is_refused_originals_that_hold_full_id_numbers(app: Flask, kind: str) -> None:
    """The letter and the signed scan cannot be masked: an insurer gets them to pay on (logged),
    an overseer reads names and masked numbers only."""
    case = _cases(make_org(OrgKind.POLICE), make_org(OrgKind.INSURER))["confirmed"]
    original = documents.store_document(
        actor=None, case=case, kind=kind, data=b"%PDF-1.4 letter", media_type="application/pdf"
    )
    photo = documents.store_document(
        actor=None, case=case, kind="photo", data=b"photo", media_type="image/png"
    )
    supervisor = make_user(make_org(OrgKind.SUPERVISION, region=REGION))
    client = app.test_client()
    login(client, supervisor)

    refused = client.get(f"/documents/{original.id}/content")

    assert refused.status_code == 403
    assert ID_NUMBER not in refused.get_data(as_text=True)
    assert client.get(f"/documents/{photo.id}/content").status_code == 200


def test_regulator_gets_no_case_page_list_or_names(app: Flask) -> None:
    case = _cases(make_org(OrgKind.POLICE), make_org(OrgKind.INSURER))["insured"]
    regulator = make_user(make_org(OrgKind.REGULATOR, region=REGION))
    client = app.test_client()
    login(client, regulator)
    headers = api_token(client, regulator)

    assert client.get(f"/cases/{case.id}").status_code == 403
    assert client.get("/cases/").status_code == 403
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 403
    assert client.get("/api/v1/cases", headers=headers).status_code == 403
    home = client.get("/")
    assert home.status_code == 200
    text = home.get_data(as_text=True)
    assert case.parties[0].name not in text
    assert 'href="/cases/' not in text


def test_overseers_home_leads_to_the_statistics_without_a_task_queue(app: Flask) -> None:
    for kind, shows_cases in ((OrgKind.SUPERVISION, True), (OrgKind.REGULATOR, False)):
        user = make_user(make_org(kind, region=REGION))
        client = app.test_client()
        login(client, user)

        text = client.get("/").get_data(as_text=True)

        assert 'data-testid="oversight-stats"' in text
        assert 'href="/stats"' in text
        assert 'data-testid="nav-queue"' not in text
        assert 'data-testid="nav-overview"' in text
        assert ('data-testid="oversight-cases"' in text) is shows_cases
        assert ('href="/cases/"' in text) is shows_cases


def test_admin_creates_overseeing_organisations_and_their_users(app: Flask) -> None:
    admin = make_user(make_org(OrgKind.PLATFORM))
    client = app.test_client()
    login(client, admin)
    form = client.get("/admin/organizations").get_data(as_text=True)
    assert 'value="supervision"' in form
    assert 'value="regulator"' in form
    assert 'data-testid="overseer-region-hint"' in form

    for kind, role in ((OrgKind.SUPERVISION, Role.SUPERVISOR), (OrgKind.REGULATOR, Role.REGULATOR)):
        name = f"监督机构-{kind.value}"
        created = client.post(
            "/admin/organizations", data={"kind": kind.value, "name": name, "region": REGION}
        )
        assert created.status_code == 302, created.get_data(as_text=True)
        org = session.scalars(select(Organization).where(Organization.name == name)).one()
        assert (org.kind, org.region) == (kind, REGION)
        username = f"user-{kind.value}"
        made = client.post(
            "/admin/users",
            data={
                "org_id": org.id,
                "username": username,
                "display_name": "督导",
                "password": "a-long-password-1",
            },
        )
        assert made.status_code == 302, made.get_data(as_text=True)
        user = accounts.find_user(username)
        assert user is not None
        assert user.role == role
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "政法委督导" in listing
    assert "金融监管" in listing


def test_cli_creates_an_overseer_with_its_region(app: Flask) -> None:
    from app.cli import users_create

    arguments = ["--username", "reg7", "--org", "某金融监管分局", "--org-kind", "regulator"]
    result = app.test_cli_runner().invoke(
        users_create,
        [*arguments, "--region", REGION, "--role", "regulator", "--password", "reg-seven-pass"],
    )

    assert result.exit_code == 0, result.output
    user = accounts.find_user("reg7")
    assert user is not None
    assert (user.role, user.organization.region) == (Role.REGULATOR, REGION)


@pytest.mark.slow  # seeds the whole demo, its year of history included
def test_demo_seeds_the_overseers_of_the_city_over_the_police_units_county(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "S3_ENDPOINT", "REDIS_URL", "DAOJIAO_MODE", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    flask_app = create_app(
        {
            "DAOJIAO_MODE": "demo",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "OBJECT_STORE_PATH": str(tmp_path / "objects"),
            "DAOJIAO_SIGNING_KEY": str(tmp_path / "signing-key.pem"),
        }
    )
    try:
        with flask_app.app_context():
            migrate.upgrade(flask_app.config["DATABASE_URL"])
            accounts_seeded = dict(demo.seed())
            assert accounts_seeded["supervisor1"] == "吕梁市委政法委"
            assert accounts_seeded["regulator1"] == "国家金融监督管理总局吕梁监管分局"
            police = accounts.find_user("police1")
            assert police is not None
            for username, role in (
                ("supervisor1", Role.SUPERVISOR),
                ("regulator1", Role.REGULATOR),
            ):
                user = accounts.find_user(username)
                assert user is not None
                assert user.role == role
                assert user.organization.region == "山西省吕梁市"
                assert police.organization.region.startswith(user.organization.region)
                assert accounts.authenticate(
                    username=username, password=demo.DEMO_PASSWORD, ip="127.0.0.1"
                )
            supervisor = accounts.find_user("supervisor1")
            assert session.scalars(access.visible_cases(supervisor)).all()
    finally:
        flask_app.extensions["daojiao.db"].engine.dispose()


READ_PAGES = (
    "cases.show",
    "offers.index",
    "agreements.show",
    "mediation.show",
    "assessments.show",
    "insurer.payments_page",
    "litigation.show",
)


def test_supervisor_case_pages_offer_no_form_to_act(app: Flask) -> None:
    police, insurer = make_org(OrgKind.POLICE), make_org(OrgKind.INSURER)
    committee = make_org(OrgKind.MEDIATION)
    case = make_case(
        police=police,
        status=CaseStatus.NEGOTIATING,
        insurer=insurer,
        committee=committee,
        region=REGION,
    )
    supervisor = make_user(make_org(OrgKind.SUPERVISION, region=REGION))
    client = app.test_client()
    login(client, supervisor)

    for endpoint in READ_PAGES:
        with app.test_request_context():
            path = url_for(endpoint, case_id=case.id)
        page = client.get(path)
        assert page.status_code == 200, endpoint
        tags = re.findall(r"<form\b[^>]*>", page.get_data(as_text=True))
        posts = [tag for tag in tags if re.search(r'method="post"', tag, re.IGNORECASE)]
        assert [tag for tag in posts if 'action="/logout"' not in tag] == [], endpoint


def test_downgrading_below_0014_refuses_while_overseers_exist(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.sqlite3'}"
    migrate.upgrade(url, "0014")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organizations (kind, name, aliases, active, created_at) "
                    "VALUES ('supervision', '某市委政法委', '[]', 1, '2026-12-04 00:00:00')"
                )
            )
        with pytest.raises(RuntimeError, match="below 0014"):
            migrate.downgrade(url, "0013")
        assert migrate.current_revision(url) == "0014"
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM organizations"))
        migrate.downgrade(url, "0013")
        assert migrate.current_revision(url) == "0013"
    finally:
        engine.dispose()
