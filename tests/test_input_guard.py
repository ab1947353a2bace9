"""NUL and other control characters are refused (422) in every request input, before any view:
the five fields a probe found answering 500, through their real routes, API and portal."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.db import session
from app.models import Case, Document, OrgKind, User
from app.objects import get_store
from tests import factories

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def mediated(app: Flask) -> tuple[Case, User]:
    committee = factories.make_org(OrgKind.MEDIATION)
    case = factories.make_accident_case(
        police=factories.make_org(OrgKind.POLICE),
        committee=committee,
        insurer=factories.make_org(OrgKind.INSURER),
    )
    mediator = factories.make_user(committee)
    session.commit()
    return case, mediator


def refused_json(response: TestResponse, field: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert error["code"] == "control_characters"
    assert error["fields"] == [field]
    assert field in error["message"]


def refused_page(response: TestResponse, field: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    assert field in response.get_data(as_text=True)


def api(app: Flask, user: User) -> tuple[Any, dict[str, str]]:
    client = app.test_client()
    return client, factories.api_token(client, user)


def portal(app: Flask, user: User) -> Any:
    client = app.test_client()
    factories.login(client, user)
    return client


# --- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["张\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\x9f"])
def test_search_with_a_control_character_is_422(
    app: Flask, mediated: tuple[Case, User], bad: str
) -> None:
    _case, mediator = mediated
    client, headers = api(app, mediator)
    refused_json(client.get("/api/v1/cases", query_string={"q": bad}, headers=headers), "q")
    refused_page(portal(app, mediator).get("/cases/", query_string={"q": bad}), "q")


def test_search_with_tab_and_newline_still_works(app: Flask, mediated: tuple[Case, User]) -> None:
    _case, mediator = mediated
    client, headers = api(app, mediator)
    response = client.get("/api/v1/cases", query_string={"q": "张\t\r\n"}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


# --- username at login -----------------------------------------------------------------------


def test_login_with_nul_in_the_username_is_422(app: Flask, mediated: tuple[Case, User]) -> None:
    _case, mediator = mediated
    response = app.test_client().post(
        "/login", data={"username": mediator.username + "\x00", "password": factories.PASSWORD}
    )
    refused_page(response, "username")


def test_api_token_with_nul_in_the_username_is_422(app: Flask, mediated: tuple[Case, User]) -> None:
    _case, mediator = mediated
    response = app.test_client().post(
        "/api/v1/tokens", json={"username": "\x00" + mediator.username, "password": "x"}
    )
    refused_json(response, "username")


# --- offer note ------------------------------------------------------------------------------


def test_offer_note_with_nul_is_422(app: Flask, mediated: tuple[Case, User]) -> None:
    case, mediator = mediated
    client, headers = api(app, mediator)
    response = client.post(
        f"/api/v1/cases/{case.id}/offers",
        json={"version": case.version, "payer": "party:甲方", "amount": "100", "note": "好\x00"},
        headers=headers,
    )
    refused_json(response, "note")
    page = portal(app, mediator).post(
        f"/cases/{case.id}/offers/1/accept", data={"note": "同意\x00"}
    )
    refused_page(page, "note")


def test_nested_json_values_and_keys_are_checked(app: Flask, mediated: tuple[Case, User]) -> None:
    case, mediator = mediated
    client, headers = api(app, mediator)
    nested = client.post(
        f"/api/v1/cases/{case.id}/offers",
        json={"version": case.version, "items": [{"label": "ok"}, {"label": "bad\x0b"}]},
        headers=headers,
    )
    refused_json(nested, "items[1].label")
    key = client.post(f"/api/v1/cases/{case.id}/offers", json={"no\x00te": "x"}, headers=headers)
    refused_json(key, "no?te")


# --- evidence file name ----------------------------------------------------------------------


def test_evidence_file_name_with_nul_is_422_and_stores_nothing(
    app: Flask, mediated: tuple[Case, User]
) -> None:
    case, mediator = mediated
    client, headers = api(app, mediator)
    response = client.post(
        f"/api/v1/cases/{case.id}/documents",
        headers=headers,
        **factories.multipart({"kind": "photo", "file": (io.BytesIO(PNG), "现场\x00.png")}),
    )
    refused_json(response, "file")
    page = portal(app, mediator).post(
        f"/cases/{case.id}/documents",
        **factories.multipart({"kind": "photo", "files": (io.BytesIO(PNG), "现场\x01.png")}),
    )
    refused_page(page, "files")
    assert session.scalars(select(Document).where(Document.case_id == case.id)).all() == []
    assert list(get_store().list_objects(f"cases/{case.id}/")) == []


def test_evidence_with_multi_line_description_is_stored(
    app: Flask, mediated: tuple[Case, User]
) -> None:
    case, mediator = mediated
    client, headers = api(app, mediator)
    response = client.post(
        f"/api/v1/cases/{case.id}/documents",
        headers=headers,
        **factories.multipart(
            {
                "kind": "photo",
                "description": "第一行\r\n第二行\t附注",
                "file": (io.BytesIO(PNG), "现场 照片.png"),
            }
        ),
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    document = session.scalars(select(Document).where(Document.case_id == case.id)).one()
    assert document.description == "第一行\r\n第二行\t附注"
    assert document.filename == "现场 照片.png"


# --- mediation session place -----------------------------------------------------------------


def test_session_place_with_a_control_character_is_422(
    app: Flask, mediated: tuple[Case, User]
) -> None:
    case, mediator = mediated
    client, headers = api(app, mediator)
    response = client.post(
        f"/api/v1/cases/{case.id}/sessions",
        json={"starts_at": "2026-12-10T09:00:00+08:00", "place": "调解室\x00"},
        headers=headers,
    )
    refused_json(response, "place")
    page = portal(app, mediator).post(
        f"/cases/{case.id}/mediation/sessions",
        data={"starts_at": "2026-12-10T09:00", "place": "调解室\x08"},
    )
    refused_page(page, "place")
