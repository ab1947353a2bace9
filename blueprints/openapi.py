"""The OpenAPI 3 description of /api/v1 (a test fails when a route is missing here)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}


def _op(
    summary: str,
    *,
    ok: str = "200",
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    public: bool = False,
    errors: tuple[str, ...] = ("401", "403", "404"),
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {ok: {"description": "OK"}, **{code: _ERROR for code in errors}},
    }
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if params:
        operation["parameters"] = params
    if public:
        operation["security"] = []
    return operation


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _query(name: str, description: str, schema_type: str = "string") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": schema_type},
    }


def openapi_document() -> dict[str, Any]:
    """The document served at /api/v1/openapi.json."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Daojiao API",
            "version": "1",
            "description": "Road-traffic accident compensation disputes, one-stop.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "error": {
                                        "type": "object",
                                        "properties": {
                                            "code": {"type": "string"},
                                            "message": {"type": "string"},
                                        },
                                    }
                                },
                            }
                        }
                    },
                }
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/openapi.json": {"get": _op("This document", public=True, errors=())},
            "/tokens": {
                "post": _op(
                    "Log in: a bearer token",
                    ok="201",
                    public=True,
                    errors=("401", "422", "429"),
                    body={
                        "type": "object",
                        "required": ["username", "password"],
                        "properties": {
                            "username": {"type": "string"},
                            "password": {"type": "string"},
                        },
                    },
                )
            },
            "/tokens/current": {"delete": _op("Revoke the token used", ok="204", errors=("401",))},
            "/me": {"get": _op("The caller", errors=("401",))},
            "/cases": {
                "get": _op(
                    "Cases the caller may see, newest first",
                    errors=("401", "422"),
                    params=[
                        _query("status", "only this status"),
                        _query("q", "report or case number, plate, party name or ID number"),
                        _query("page", "page number, from 1", "integer"),
                    ],
                )
            },
            "/cases/{case_id}": {
                "get": _op("One case with its parties and jobs", params=[_path_id("case_id")])
            },
            "/jobs/{job_id}": {
                "get": _op("A background job's status and progress", params=[_path_id("job_id")])
            },
        },
    }
