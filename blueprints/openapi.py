"""The OpenAPI 3 description of /api/v1 (a test fails when a route is missing here)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}


def op(
    summary: str,
    *,
    ok: str = "200",
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    public: bool = False,
    errors: tuple[str, ...] = ("401", "403", "404"),
    multipart: dict[str, str] | None = None,
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
    if multipart:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            name: {
                                "type": "string",
                                "format": "binary" if name in ("report", "file") else "string",
                                "description": text,
                            }
                            for name, text in multipart.items()
                        },
                    }
                }
            },
        }
    if params:
        operation["parameters"] = params
    if public:
        operation["security"] = []
    return operation


def path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _query(name: str, description: str, schema_type: str = "string") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": schema_type},
    }


# Modules that add routes to the API blueprint, each with its own OPENAPI_PATHS.
API_MODULES = (
    "api_offers",
    "api_settlement",
    "api_insurers",
    "api_mediation",
    "api_tribunal",
    "api_litigation",
)


def openapi_document() -> dict[str, Any]:
    """The document served at /api/v1/openapi.json."""
    import importlib

    document = _core_document()
    for name in API_MODULES:
        document["paths"].update(importlib.import_module(f"blueprints.{name}").OPENAPI_PATHS)
    return document


def _core_document() -> dict[str, Any]:
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
            "/openapi.json": {"get": op("This document", public=True, errors=())},
            "/tokens": {
                "post": op(
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
            "/tokens/current": {"delete": op("Revoke the token used", ok="204", errors=("401",))},
            "/me": {"get": op("The caller", errors=("401",))},
            "/cases": {
                "get": op(
                    "Cases the caller may see, newest first",
                    errors=("401", "422"),
                    params=[
                        _query("status", "only this status"),
                        _query("q", "report or case number, plate, party name or ID number"),
                        _query("page", "page number, from 1", "integer"),
                    ],
                ),
                "post": op(
                    "Upload an accident letter (PDF): a draft case with its reading job",
                    ok="202",
                    errors=("401", "403", "413", "422"),
                    multipart={"report": "the 事故认定书 PDF, at most 20 MB"},
                ),
            },
            "/cases/{case_id}": {
                "get": op(
                    "One case: status, version, report (fields, provenance, warnings), "
                    "parties, vehicles, jobs",
                    params=[path_id("case_id")],
                )
            },
            "/cases/{case_id}/confirm": {
                "post": op(
                    "Police confirm the reviewed report, with optional corrections: "
                    "draft → reported",
                    params=[path_id("case_id")],
                    errors=("401", "403", "404", "409", "422"),
                    body={
                        "type": "object",
                        "properties": {
                            "version": {"type": "integer"},
                            "fields": {"type": "object", "description": "INTERFACES.md §2"},
                        },
                    },
                )
            },
            "/cases/{case_id}/withdraw": {
                "post": op(
                    "Police withdraw a draft uploaded by mistake (the file stays as evidence)",
                    params=[path_id("case_id")],
                    errors=("401", "403", "404", "409"),
                )
            },
            "/cases/{case_id}/documents": {
                "get": op(
                    "The case's documents with kind, sha256, size, created",
                    params=[path_id("case_id")],
                ),
                "post": op(
                    "Police or mediators add evidence files",
                    ok="201",
                    params=[path_id("case_id")],
                    errors=("401", "403", "404", "413", "422"),
                    multipart={
                        "file": "one or more PDF, JPEG, PNG or WebP files",
                        "kind": "photo | medical_bill | appraisal | other",
                        "description": "optional text",
                    },
                ),
            },
            "/cases/{case_id}/parties/{party_id}/id-number": {
                "post": op(
                    "Reveal a party's full ID number (police, mediator, judge, admin; logged)",
                    params=[path_id("case_id"), path_id("party_id")],
                )
            },
            "/cases/{case_id}/claims": {
                "put": op(
                    "A mediator files the victims' claims (INTERFACES.md §3 victims, optional "
                    "parties overrides {id, ratio, commercial_limit}, options, standards_year, "
                    "standards; a victim may name occupant_of): schedules the assessment; "
                    "reported → assessing",
                    ok="202",
                    params=[path_id("case_id")],
                    errors=("401", "403", "404", "409", "422"),
                    body={
                        "type": "object",
                        "required": ["victims"],
                        "properties": {
                            "version": {"type": "integer"},
                            "victims": {"type": "array", "items": {"type": "object"}},
                            "parties": {"type": "array", "items": {"type": "object"}},
                            "options": {"type": "object"},
                            "standards_year": {"type": "integer"},
                            "standards": {"type": "object"},
                        },
                    },
                ),
                "get": op("The claims filed most recently", params=[path_id("case_id")]),
            },
            "/cases/{case_id}/assessment": {
                "get": op(
                    "The latest assessment: INTERFACES.md §3 output with its rule-set fingerprint",
                    params=[path_id("case_id")],
                )
            },
            "/cases/{case_id}/assessments": {
                "get": op(
                    "Every assessment of the case, newest first (id, fingerprint, totals)",
                    params=[path_id("case_id")],
                )
            },
            "/cases/{case_id}/assessment/what-if": {
                "post": op(
                    "Mediators and judges: the latest assessment with other ratios, standards "
                    "year or item amounts, and the differences; nothing is saved",
                    params=[path_id("case_id")],
                    errors=("401", "403", "404", "409", "422"),
                    body={
                        "type": "object",
                        "properties": {
                            "ratios": {
                                "type": "object",
                                "description": "party label → ratio 0–1 (null: by liability)",
                            },
                            "standards_year": {"type": "integer"},
                            "items": {
                                "type": "object",
                                "description": "victim id → {item code → decided amount}",
                            },
                        },
                    },
                )
            },
            "/documents/{document_id}/content": {
                "get": op(
                    "The file's bytes, checked against its SHA-256 (header X-Content-SHA256)",
                    params=[path_id("document_id")],
                )
            },
            "/jobs/{job_id}": {
                "get": op("A background job's status and progress", params=[path_id("job_id")])
            },
        },
    }
