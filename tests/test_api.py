"""The JSON API under /api/v1 (INTERFACES.md §4): tokens, errors, case lists, OpenAPI."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from werkzeug.test import TestResponse

from app.db import session, utcnow
from app.models import ApiToken, Case, CaseStatus, OrgKind, User
from app.services import accounts
from app.services import cases as case_service
from app.validation import Body
from blueprints import api_bodies
from tests.factories import PASSWORD, api_token, login, make_case, make_org, make_user

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


class Api:
    """Calls the API through the test client, with a bearer token when given one."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.app = client.application

    def call(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, **kwargs)

    def token(self, user: User) -> str:
        """A fresh bearer token for `user`."""
        return api_token(self.client, user)["Authorization"].removeprefix("Bearer ")

    def login(self, user: User) -> None:
        """Log the client in to the portal (a session cookie)."""
        login(self.client, user)


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def police(app: Flask) -> User:
    """A police officer; their unit reports the cases of the tests."""
    return make_user(make_org(OrgKind.POLICE))


def assert_error(response: TestResponse, status: int, code: str) -> None:
    """The response is the API's JSON error `{"error": {"code", "message"}}`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


# ---------------------------------------------------------------------------------------------
# Tokens


def test_token_is_issued_with_an_iso_8601_expiry_with_offset(api: Api, police: User) -> None:
    response = api.call(
        "POST", "/api/v1/tokens", json={"username": police.username, "password": PASSWORD}
    )

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "expires_at"}
    assert len(body["token"]) >= 32
    assert ISO_WITH_OFFSET.match(body["expires_at"])
    expires = datetime.fromisoformat(body["expires_at"])
    hours = api.app.config["API_TOKEN_HOURS"]
    assert abs(expires - (utcnow() + timedelta(hours=hours))) < timedelta(minutes=1)


def test_token_answer_is_never_cached(api: Api, police: User) -> None:
    response = api.call(
        "POST", "/api/v1/tokens", json={"username": police.username, "password": PASSWORD}
    )

    assert response.headers["Cache-Control"] == "no-store"


def test_wrong_password_is_refused_with_unauthorized_error(api: Api, police: User) -> None:
    response = api.call(
        "POST", "/api/v1/tokens", json={"username": police.username, "password": "not-it-at-all"}
    )

    assert_error(response, 401, "unauthorized")


def test_token_request_without_json_object_is_invalid_input(api: Api) -> None:
    response = api.call("POST", "/api/v1/tokens", data="username=x&password=y")

    assert_error(response, 422, "invalid_input")


def test_bearer_token_opens_me_and_the_case_list(api: Api, police: User) -> None:
    token = api.token(police)

    me = api.get("/api/v1/me", token=token)
    cases = api.get("/api/v1/cases", token=token)

    assert me.status_code == 200
    assert me.get_json()["username"] == police.username
    assert me.get_json()["role"] == "police"
    assert me.get_json()["organization"]["id"] == police.org_id
    assert cases.status_code == 200


def test_unknown_bearer_token_is_unauthorized(api: Api) -> None:
    assert_error(api.get("/api/v1/me", token="not-a-token"), 401, "unauthorized")


def test_revoked_token_is_refused(api: Api, police: User) -> None:
    token = api.token(police)

    revoked = api.call("DELETE", "/api/v1/tokens/current", token=token)

    assert revoked.status_code == 204
    assert_error(api.get("/api/v1/me", token=token), 401, "unauthorized")


def test_revoking_one_token_keeps_the_others(api: Api, police: User) -> None:
    first, second = api.token(police), api.token(police)

    api.call("DELETE", "/api/v1/tokens/current", token=first)

    assert api.get("/api/v1/me", token=second).status_code == 200


def test_expired_token_is_refused(api: Api, police: User) -> None:
    token = api.token(police)
    row = session.scalars(select(ApiToken).where(ApiToken.user_id == police.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()

    assert_error(api.get("/api/v1/me", token=token), 401, "unauthorized")


def test_password_change_revokes_every_token(api: Api, police: User) -> None:
    token = api.token(police)

    accounts.change_password(user=police, current=PASSWORD, new="a-brand-new-passphrase")

    assert_error(api.get("/api/v1/me", token=token), 401, "unauthorized")


def test_api_write_without_bearer_token_is_refused_despite_session_cookie(
    api: Api, police: User
) -> None:
    api.login(police)

    response = api.call("DELETE", "/api/v1/tokens/current")

    assert_error(response, 401, "unauthorized")


def test_anonymous_api_read_is_unauthorized_not_redirected(api: Api) -> None:
    assert_error(api.get("/api/v1/cases"), 401, "unauthorized")


# ---------------------------------------------------------------------------------------------
# Errors


def test_unknown_status_filter_is_invalid_input(api: Api, police: User) -> None:
    response = api.get("/api/v1/cases?status=nope", token=api.token(police))

    assert_error(response, 422, "invalid_input")


def test_unknown_api_path_answers_json_not_found_even_to_a_browser(api: Api) -> None:
    response = api.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})

    assert_error(response, 404, "not_found")


def test_wrong_method_on_api_path_answers_json_error(api: Api, police: User) -> None:
    response = api.call("POST", "/api/v1/me", token=api.token(police))

    assert_error(response, 405, "method_not_allowed")


def test_missing_case_answers_json_not_found(api: Api, police: User) -> None:
    assert_error(api.get("/api/v1/cases/987654", token=api.token(police)), 404, "not_found")


# ---------------------------------------------------------------------------------------------
# Case list and search


def test_case_list_pages_by_twenty_and_ends_with_next_null(api: Api, police: User) -> None:
    created = [make_case(police=police.organization).id for _ in range(25)]
    token = api.token(police)

    first = api.get("/api/v1/cases", token=token).get_json()
    second = api.get(f"/api/v1/cases?page={first['next']}", token=token).get_json()

    assert set(first) == {
        "items",
        "next",
        "next_cursor",
        "previous_cursor",
        "total",
        "total_exact",
    }
    assert first["total"] == second["total"] == 25
    assert first["total_exact"] is True
    assert len(first["items"]) == 20
    assert first["next"] == 2
    assert len(second["items"]) == 5
    assert second["next"] is None
    listed = [item["id"] for item in first["items"] + second["items"]]
    assert listed == sorted(created, reverse=True)  # newest first, each exactly once


def test_the_case_list_reads_on_by_cursor_both_ways(api: Api, police: User) -> None:
    created = [make_case(police=police.organization).id for _ in range(45)]
    token = api.token(police)

    def get(query: str) -> dict:
        return api.get(f"/api/v1/cases?{query}", token=token).get_json()

    first = get("")
    assert first["previous_cursor"] is None
    second = get(f"after={first['next_cursor']}")
    third = get(f"after={second['next_cursor']}")
    assert [len(page["items"]) for page in (first, second, third)] == [20, 20, 5]
    assert second["next"] is None  # a page reached by cursor has no number
    assert third["next_cursor"] is None
    listed = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert listed == sorted(created, reverse=True)

    back = get(f"before={third['previous_cursor']}")
    assert [item["id"] for item in back["items"]] == [item["id"] for item in second["items"]]
    top = get(f"before={back['previous_cursor']}")
    assert [item["id"] for item in top["items"]] == [item["id"] for item in first["items"]]
    assert top["previous_cursor"] is None


def test_a_cursor_that_is_not_one_is_refused(api: Api, police: User) -> None:
    response = api.get("/api/v1/cases?after=1%27%20OR%201=1", token=api.token(police))
    assert_error(response, 422, "invalid_input")
    assert "游标" in response.get_json()["error"]["message"]


def test_a_long_list_is_counted_up_to_its_cap_and_still_pages_on(
    api: Api, police: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = [make_case(police=police.organization).id for _ in range(25)]
    monkeypatch.setattr(case_service, "COUNT_CAP", 10)
    token = api.token(police)

    first = api.get("/api/v1/cases", token=token).get_json()
    second = api.get(f"/api/v1/cases?page={first['next']}", token=token).get_json()

    assert (first["total"], first["total_exact"]) == (10, False)  # "more than 10"
    assert [len(first["items"]), len(second["items"])] == [20, 5]
    assert second["next"] is None
    assert {item["id"] for item in first["items"] + second["items"]} == set(created)


def test_case_list_items_are_summaries(api: Api, police: User) -> None:
    case = make_case(police=police.organization, report_no="吕公交认字〔2023〕第00123号")

    (item,) = api.get("/api/v1/cases", token=api.token(police)).get_json()["items"]

    assert item["id"] == case.id
    assert item["number"] == case.number
    assert item["status"] == "reported"
    assert item["version"] == 1
    assert item["report_no"] == "吕公交认字〔2023〕第00123号"
    assert ISO_WITH_OFFSET.match(item["created_at"])


def test_case_list_filters_by_status(api: Api, police: User) -> None:
    draft = make_case(police=police.organization, status=CaseStatus.DRAFT)
    make_case(police=police.organization)

    body = api.get("/api/v1/cases?status=draft", token=api.token(police)).get_json()

    assert [item["id"] for item in body["items"]] == [draft.id]


@pytest.fixture
def searchable(police: User) -> dict[str, Case]:
    """Cases of the police unit, each findable by one distinct field."""
    unit = police.organization
    cases = {
        "number": make_case(police=unit, number="DJ-2026-004711"),
        "plate": make_case(police=unit),
        "name": make_case(police=unit),
        "id_number": make_case(police=unit),
        "report_no": make_case(police=unit, report_no="吕公交认字〔2024〕第00777号"),
    }
    cases["plate"].vehicles[0].plate = "晋J98765"
    cases["name"].parties[0].name = "欧阳明月"
    cases["id_number"].parties[0].id_number = "14230219900101002X"
    session.flush()
    return cases


@pytest.mark.parametrize(
    ("q", "finds"),
    [
        ("DJ-2026-004711", "number"),
        ("2026-0047", "number"),
        ("晋J98765", "plate"),
        ("晋J·98765", "plate"),
        ("晋j·98765", "plate"),
        ("J98765", "plate"),
        ("欧阳明月", "name"),
        ("欧阳", "name"),
        ("14230219900101002X", "id_number"),
        ("第00777号", "report_no"),
    ],
)
def test_search_finds_case_by(
    api: Api, police: User, searchable: dict[str, Case], q: str, finds: str
) -> None:
    body = api.get("/api/v1/cases", query_string={"q": q}, token=api.token(police)).get_json()

    assert [item["id"] for item in body["items"]] == [searchable[finds].id]
    assert body["total"] == 1


def test_search_by_id_number_needs_the_whole_number(
    api: Api, police: User, searchable: dict[str, Case]
) -> None:
    body = api.get(
        "/api/v1/cases", query_string={"q": "19900101"}, token=api.token(police)
    ).get_json()

    assert body["items"] == []
    assert body["total"] == 0
    assert body["next"] is None


def test_search_treats_like_wildcards_as_plain_text(
    api: Api, police: User, searchable: dict[str, Case]
) -> None:
    body = api.get("/api/v1/cases", query_string={"q": "%"}, token=api.token(police)).get_json()

    assert body["items"] == []


def test_search_never_reaches_beyond_visible_cases(api: Api, police: User) -> None:
    make_case(police=make_org(OrgKind.POLICE), number="DJ-2026-009999")

    body = api.get(
        "/api/v1/cases", query_string={"q": "DJ-2026-009999"}, token=api.token(police)
    ).get_json()

    assert body["items"] == []


def _plan(text_query: str) -> str:
    query = select(Case.id).where(Case.id.in_(case_service.matching_case_ids(text_query)))
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {compiled}")))


def test_each_part_of_a_search_is_answered_by_an_index(searchable: dict[str, Case]) -> None:
    # With sequential scans priced out, the planner shows which index serves each id set.
    session.execute(text("SET LOCAL enable_seqscan = off"))

    words = _plan("欧阳明月")
    short = _plan("欧阳")
    whole_id = _plan("14230219900101002x")
    whole_plate = _plan("晋J·98765")

    for index in (
        "ix_cases_number_trgm",
        "ix_cases_report_no_trgm",
        "ix_parties_name_trgm",
        "ix_parties_name_prefix",
        "ix_vehicles_plate_trgm",
    ):
        assert index in words, words
    # Two characters have no trigram: a name beginning with them, by the b-tree only.
    assert "ix_parties_name_prefix" in short
    assert "trgm" not in short
    # A whole ID number: its b-tree and nothing else.
    assert "ix_parties_id_number" in whole_id
    assert "trgm" not in whole_id
    # A whole plate (or case or letter number): the b-trees of the exact values.
    assert "ix_vehicles_plate" in whole_plate
    assert "trgm" not in whole_plate
    for plan in (words, short, whole_id, whole_plate):
        assert "Seq Scan" not in plan, plan


# ---------------------------------------------------------------------------------------------
# One case


def test_case_masks_party_id_number(api: Api, police: User) -> None:
    case = make_case(police=police.organization)

    response = api.get(f"/api/v1/cases/{case.id}", token=api.token(police))

    (party,) = response.get_json()["parties"]
    assert party["id_number"] == "1423**********0012"
    assert "142301198503150012" not in response.get_data(as_text=True)


def test_case_shows_status_version_vehicles_and_jobs(api: Api, police: User) -> None:
    insurer = make_org(OrgKind.INSURER)
    case = make_case(police=police.organization, insurer=insurer)

    body = api.get(f"/api/v1/cases/{case.id}", token=api.token(police)).get_json()

    assert body["status"] == "reported"
    assert body["version"] == 1
    assert body["jobs"] == []
    (vehicle,) = body["vehicles"]
    assert vehicle["plate"] == case.vehicles[0].plate
    assert vehicle["policies"][0]["insurer"] == insurer.name


# ---------------------------------------------------------------------------------------------
# The OpenAPI document


def _openapi_path(rule: str, base: str) -> str:
    """`/api/v1/cases/<int:case_id>` → `/cases/{case_id}` (relative to the server URL)."""
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)
    assert path.startswith(base), path
    return path[len(base) :] or "/"


def _api_operations(flask_app: Flask, base: str) -> set[tuple[str, str]]:
    return {
        (_openapi_path(rule.rule, base), method.lower())
        for rule in flask_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


@pytest.fixture
def openapi(api: Api) -> dict[str, Any]:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_openapi_document_is_openapi_3(openapi: dict[str, Any]) -> None:
    assert openapi["openapi"].startswith("3.")
    assert openapi["info"]["title"]
    assert openapi["info"]["version"]
    assert isinstance(openapi["paths"], dict)
    assert openapi["paths"]
    for path, operations in openapi["paths"].items():
        assert path.startswith("/")
        for method, operation in operations.items():
            assert method in {"get", "put", "post", "delete", "patch"}
            assert operation["responses"], f"{method} {path} lists no responses"


def test_openapi_document_describes_every_api_route(app: Flask, openapi: dict[str, Any]) -> None:
    base = openapi["servers"][0]["url"] if openapi.get("servers") else ""
    documented = {
        (path, method) for path, operations in openapi["paths"].items() for method in operations
    }

    missing = sorted(_api_operations(app, base) - documented)

    assert not missing, f"add these to blueprints/openapi.py: {missing}"


def test_openapi_document_describes_every_declared_request_body(openapi: dict[str, Any]) -> None:
    described = [
        set(operation["requestBody"]["content"]["application/json"]["schema"]["properties"])
        for operations in openapi["paths"].values()
        for operation in operations.values()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    declared = {
        name: {field.name for field in body.fields}
        for name, body in vars(api_bodies).items()
        if isinstance(body, Body)
    }

    assert declared
    assert not [name for name, fields in declared.items() if fields not in described]


def test_openapi_document_names_only_existing_routes(app: Flask, openapi: dict[str, Any]) -> None:
    base = openapi["servers"][0]["url"] if openapi.get("servers") else ""
    documented = {
        (path, method) for path, operations in openapi["paths"].items() for method in operations
    }

    assert not sorted(documented - _api_operations(app, base))


def test_openapi_document_declares_every_path_parameter(openapi: dict[str, Any]) -> None:
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path)), f"{method} {path}"
