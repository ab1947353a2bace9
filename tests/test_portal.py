"""The portal shell: headers, CSRF, error pages, translations, the case list."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask, url_for
from flask.testing import FlaskClient

from app.models import CaseStatus, OrgKind
from app.services import cases as case_service
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES"


@pytest.fixture
def police_client(app: Flask, client: FlaskClient) -> tuple[FlaskClient, Any]:
    police = factories.make_org(OrgKind.POLICE)
    factories.login(client, factories.make_user(police))
    return client, police


def test_pages_carry_security_headers_and_are_not_cached(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_bootstrap_is_served_by_the_app_not_a_cdn(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assets = re.findall(r'(?:href|src)="([^"]+\.(?:css|js))\?v=([0-9a-f]{12})"', page)
    assert any("/bootstrap/" in path for path, _ in assets)
    assert any(path == "/static/app.js" for path, _ in assets)
    for path, version in assets:
        assert path.startswith("/")
        assert not path.startswith("//")
        # Linked by its content hash: kept for a year, never asked for again.
        with client.get(f"{path}?v={version}") as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        # Asked for without it (an old page, a stale hash): Bootstrap for a day, ours revalidated.
        with client.get(f"{path}?v=000000000000") as response:
            expected = "public, max-age=86400" if "/bootstrap/" in path else "no-cache"
            assert response.headers["Cache-Control"] == expected


def test_a_changed_static_file_gets_a_new_link(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import web

    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    script = tmp_path / "app.js"
    script.write_text("let a = 1;")
    with app.test_request_context():
        first = url_for("static", filename="app.js")
        script.write_text("let a = 2; // a deployment changed it")
        os.utime(script, ns=(1, 1))
        second = url_for("static", filename="app.js")
        assert first != second
        assert re.fullmatch(r"/static/app\.js\?v=[0-9a-f]{12}", second)
        assert url_for("static", filename="missing.js") == "/static/missing.js"
        assert web.static_version("static", "../secret.txt") is None  # never outside the folder


def test_forms_need_a_csrf_token(make_app: Any) -> None:
    guarded = make_app(WTF_CSRF_ENABLED=True)
    client = guarded.test_client()
    response = client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    guarded.extensions["daojiao.db"].engine.dispose()


def test_not_found_page_is_friendly_and_chinese(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "未找到" in page
    assert "返回首页" in page


def test_json_clients_get_json_errors(client: FlaskClient) -> None:
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_forbidden_page_is_friendly(police_client: tuple[FlaskClient, Any]) -> None:
    client, _police = police_client
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "无权操作" in response.get_data(as_text=True)


def test_english_is_available(client: FlaskClient) -> None:
    client.get("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert ">Log in<" in page


def test_every_message_has_a_chinese_translation_and_the_mo_is_current() -> None:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    keywords = {
        "_": None,
        "gettext": None,
        "_l": None,
        "lazy_gettext": None,
        "N_": None,
        "ngettext": (1, 2),
    }
    used: set[str] = set()
    for folder in ("app", "blueprints", "workers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map, keywords=keywords
        ):
            used.add(message if isinstance(message, str) else message[0])
    with (CATALOGUE / "messages.po").open("rb") as po_file:
        catalogue = read_po(po_file)
    translated = {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(used - set(translated))
    assert missing == [], f"untranslated (run pybabel extract/update, see README): {missing}"
    with (CATALOGUE / "messages.mo").open("rb") as mo_file:
        compiled = read_mo(io.BytesIO(mo_file.read()))
    assert {m.id: m.string for m in compiled if m.id} == translated, "run pybabel compile"


def test_case_list_filters_by_status_and_searches(police_client: tuple[FlaskClient, Any]) -> None:
    client, police = police_client
    reported = factories.make_case(police=police, status=CaseStatus.REPORTED)
    draft = factories.make_case(police=police, status=CaseStatus.DRAFT)
    page = client.get("/cases/?status=draft").get_data(as_text=True)
    assert draft.number in page
    assert reported.number not in page
    page = client.get(f"/cases/?q={reported.vehicles[0].plate}").get_data(as_text=True)
    assert reported.number in page
    assert draft.number not in page


def test_case_list_is_paginated(police_client: tuple[FlaskClient, Any]) -> None:
    client, police = police_client
    for _ in range(21):
        factories.make_case(police=police)
    first = client.get("/cases/").get_data(as_text=True)
    second = client.get("/cases/?page=2").get_data(as_text=True)
    assert first.count('href="/cases/') - first.count('href="/cases/?') >= 20
    assert "共 21 件案件" in first
    assert 'class="page-item active"><a class="page-link" href="/cases/?page=2"' in second


def test_the_case_list_shows_a_bounded_set_of_page_links_and_a_capped_count(
    police_client: tuple[FlaskClient, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, police = police_client
    for _ in range(12):
        factories.make_case(police=police)
    monkeypatch.setattr(case_service, "PAGE_SIZE", 1)
    monkeypatch.setattr(case_service, "COUNT_CAP", 10)

    page = client.get("/cases/?page=6").get_data(as_text=True)

    links = re.findall(r'class="page-link" href="/cases/\?page=(\d+)"', page)
    assert sorted({int(n) for n in links}) == [1, 4, 5, 6, 7, 8, 11]  # and previous/next
    assert 'rel="prev" href="/cases/?page=5"' in page
    assert 'rel="next" href="/cases/?page=7"' in page
    assert "…" in page
    assert "超过 10 件" in page


def test_past_the_counted_pages_the_list_reads_on_by_cursor(
    police_client: tuple[FlaskClient, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, police = police_client
    numbers = [factories.make_case(police=police).number for _ in range(5)]
    monkeypatch.setattr(case_service, "PAGE_SIZE", 1)
    monkeypatch.setattr(case_service, "COUNT_CAP", 2)

    last_numbered = client.get("/cases/?page=3").get_data(as_text=True)  # 1, 2 and "more"
    assert numbers[2] in last_numbered
    (after,) = re.findall(r'rel="next" href="/cases/\?after=([\d-]+)"', last_numbered)
    read_on = client.get(f"/cases/?after={after}").get_data(as_text=True)
    assert numbers[1] in read_on
    assert numbers[2] not in read_on
    assert 'href="/cases/?page=1"' in read_on  # back to the first page
    (before,) = re.findall(r'rel="prev" href="/cases/\?before=([\d-]+)"', read_on)
    assert numbers[2] in client.get(f"/cases/?before={before}").get_data(as_text=True)
    mangled = client.get("/cases/?after=nonsense")
    assert mangled.status_code == 200
    assert numbers[4] in mangled.get_data(as_text=True)


def test_police_see_only_their_units_cases(police_client: tuple[FlaskClient, Any]) -> None:
    client, police = police_client
    mine = factories.make_case(police=police)
    theirs = factories.make_case(police=factories.make_org(OrgKind.POLICE))
    page = client.get("/cases/").get_data(as_text=True)
    assert mine.number in page
    assert theirs.number not in page
    assert client.get(f"/cases/{theirs.id}").status_code == 404


def test_admin_creates_an_organisation_and_a_user_in_the_portal(
    app: Flask, client: FlaskClient
) -> None:
    admin = factories.make_user(factories.make_org(OrgKind.PLATFORM))
    factories.login(client, admin)
    response = client.post(
        "/admin/organizations",
        data={
            "kind": "insurer",
            "name": "太平洋财险吕梁中心支公司",
            "region": "吕梁",
            "aliases": "太平洋吕梁\n太保吕梁",
        },
    )
    assert response.status_code == 302
    page = client.get("/admin/organizations").get_data(as_text=True)
    assert "太平洋财险吕梁中心支公司" in page
    assert "太平洋吕梁" in page
    assert "太保吕梁" in page
    org_id = int(re.search(r'/admin/organizations/(\d+)">太平洋', page).group(1))
    response = client.post(
        "/admin/users",
        data={
            "org_id": org_id,
            "username": "adjuster_cpic",
            "display_name": "孙理赔",
            "password": "long-enough-password",
        },
    )
    assert response.status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert "adjuster_cpic" in page
    assert "保险理赔员" in page


def test_admin_sees_a_duplicate_name_as_a_form_error(app: Flask, client: FlaskClient) -> None:
    admin = factories.make_user(factories.make_org(OrgKind.PLATFORM))
    existing = factories.make_org(OrgKind.POLICE)
    factories.login(client, admin)
    response = client.post("/admin/organizations", data={"kind": "police", "name": existing.name})
    assert response.status_code == 200
    assert "已存在" in response.get_data(as_text=True)


def test_health_check_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
