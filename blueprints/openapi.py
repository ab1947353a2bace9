"""The OpenAPI 3 description of /api/v1, generated: every /api/v1 route of the app's URL map,
described by the operation its module declares, with the request body declared once in
blueprints/api_bodies.py (the same declaration reads the requests)."""

from __future__ import annotations

import importlib
import re
from typing import Any

from flask import current_app
from werkzeug.routing import Rule

from app.validation import Body
from blueprints import api_bodies as bodies

API_PREFIX = "/api/v1"
_ERROR = {"$ref": "#/components/responses/Error"}
_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "example": 'W/"case-12-v7"'},
    "description": "the case's ETag from GET /cases/{id}, instead of `version` in the body",
}


def op(
    summary: str,
    *,
    ok: str = "200",
    body: Body | None = None,
    params: list[dict[str, Any]] | None = None,
    public: bool = False,
    errors: tuple[str, ...] = ("401", "403", "404"),
    multipart: dict[str, str] | None = None,
    versioned: bool = False,
) -> dict[str, Any]:
    """One operation; a write needing the case version (its body declares `version`, or
    `versioned`) also takes If-Match and may answer 428."""
    if versioned or (body is not None and body.versioned):
        errors = tuple(sorted({*errors, "409", "428"}))
        params = [*(params or []), _IF_MATCH]
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {ok: {"description": "OK"}, **{code: _ERROR for code in errors}},
    }
    if body:
        operation["requestBody"] = {
            "required": not body.optional,
            "content": {"application/json": {"schema": body.schema()}},
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


def returns(operation: dict[str, Any], schema: str, code: str = "200") -> dict[str, Any]:
    """`operation` with its `code` response described by the component schema `schema`."""
    operation["responses"][code] = {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    return operation


_MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "5026.49"}
_PAYER = {
    "type": "string",
    "description": "ctpi:<party> (交强险), commercial:<party> (商业三者险), seat:<party> "
    "(车上人员责任险), party:<party>, self (the victim's own share)",
    "example": "ctpi:甲方",
}
_ITEM_AMOUNTS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "string"}, "amount": _MONEY},
    },
}
# The engine's output (INTERFACES.md §3 and its additions), as GET …/assessment returns it: the
# stored result unchanged, with what identifies the stored assessment.
ASSESSMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "assessment_id": {"type": "integer"},
        "case_id": {"type": "integer"},
        "claim_id": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "engine_version": {"type": "string"},
        "fingerprint": {"type": "string"},
        "input_sha256": {"type": "string"},
        "rule_set": {"type": "object"},
        "victims": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string", "nullable": True},
                    "total": _MONEY,
                    "items": {"type": "array", "items": {"type": "object"}},
                    "reduction": {
                        "type": "object",
                        "nullable": True,
                        "description": "the reduction applied: 好意同乘 (gratuitous_ride, "
                        "民法典 art. 1217) or the victim's own fault (victim_fault, art. 1173)",
                        "properties": {
                            "kind": {"type": "string", "enum": ["gratuitous_ride", "victim_fault"]},
                            "ratio": {"type": "string", "example": "0.2"},
                            "reason": {"type": "string"},
                        },
                    },
                },
            },
        },
        "payments": {
            "type": "array",
            "description": "per victim, they add up to the victim's total",
            "items": {
                "type": "object",
                "properties": {
                    "victim": {"type": "string"},
                    "payer": _PAYER,
                    "bucket": {"type": "string", "description": "交强险 payments only"},
                    "amount": _MONEY,
                    "basis": {"type": "string"},
                    "items": {
                        **_ITEM_AMOUNTS,
                        "description": "which items this payment pays; the amounts add up to "
                        "the payment's amount",
                    },
                },
            },
        },
        "totals": {"type": "object", "additionalProperties": _MONEY},
        "recoveries": {
            "type": "array",
            "description": "what an insurer paid and may recover from the driver (交强险条例 "
            "art. 22; 道交解释 art. 15); not part of the payments' sums",
            "items": {
                "type": "object",
                "properties": {
                    "payer": _PAYER,
                    "from": {"type": "string", "example": "party:甲方"},
                    "amount": _MONEY,
                    "reason": {
                        "type": "string",
                        "enum": ["drunk", "drugs", "unlicensed", "intentional"],
                    },
                    "basis": {"type": "string"},
                },
            },
        },
        "advances": {
            "type": "array",
            "description": "what the 道路交通事故社会救助基金 advances for a victim of a "
            "hit-and-run or uninsured vehicle, recovered from that party; not part of the "
            "payments' sums (the party still owes it)",
            "items": {
                "type": "object",
                "properties": {
                    "victim": {"type": "string"},
                    "payer": {"type": "string", "enum": ["fund"]},
                    "amount": _MONEY,
                    "items": _ITEM_AMOUNTS,
                    "recover_from": {"type": "string", "example": "party:甲方"},
                    "basis": {"type": "string"},
                },
            },
        },
        "warnings": {
            "type": "array",
            "description": "notes for the reader, in Chinese (e.g. stale_standards)",
            "items": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


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
    "api_stats",
    "api_oversight",
)


def openapi_document() -> dict[str, Any]:
    """The document served at /api/v1/openapi.json: each /api/v1 route with its methods."""
    document = _core_document()
    declared = document.pop("paths")
    for name in API_MODULES:
        declared.update(importlib.import_module(f"blueprints.{name}").OPENAPI_PATHS)
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith(f"{API_PREFIX}/"):
            continue
        path = _VARIABLE.sub(r"{\1}", rule.rule.removeprefix(API_PREFIX))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = declared.get(path, {}).get(method.lower()) or _undeclared(rule)
            paths.setdefault(path, {})[method.lower()] = operation
    document["paths"] = dict(sorted(paths.items()))
    return document


def _undeclared(rule: Rule) -> dict[str, Any]:
    """A route no module describes yet: its view's docstring and its path's ids."""
    view = current_app.view_functions[rule.endpoint]
    summary = (view.__doc__ or rule.endpoint).strip().splitlines()[0]
    return op(summary, params=[path_id(name) for name in sorted(rule.arguments)] or None)


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
                                            "fields": {
                                                "type": "array",
                                                "items": {"type": "string"},
                                                "description": "invalid_input (422) for "
                                                "fields the request does not take: all of them",
                                            },
                                        },
                                    }
                                },
                            }
                        }
                    },
                }
            },
            "schemas": {"Assessment": ASSESSMENT_SCHEMA},
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
                    body=bodies.TOKEN,
                )
            },
            "/tokens/current": {
                "delete": op(
                    "Revoke the token used", ok="204", errors=("401", "422"), body=bodies.NO_BODY
                )
            },
            "/me": {"get": op("The caller", errors=("401",))},
            "/cases": {
                "get": op(
                    "Cases the caller may see, newest first",
                    errors=("401", "422"),
                    params=[
                        _query("status", "only this status"),
                        _query("q", "report or case number, plate, party name or ID number"),
                        _query("page", "page number, from 1", "integer"),
                        _query("after", "the page after this cursor (`next_cursor` of a page)"),
                        _query(
                            "before", "the page before this cursor (`previous_cursor` of a page)"
                        ),
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
                    'parties, vehicles, jobs; header ETag W/"case-<id>-v<version>", for '
                    "If-Match on the case's writes",
                    params=[path_id("case_id")],
                )
            },
            "/cases/{case_id}/confirm": {
                "post": op(
                    "Police confirm the reviewed report, with optional corrections: "
                    "draft → reported",
                    params=[path_id("case_id")],
                    errors=("401", "403", "404", "409", "422"),
                    body=bodies.CONFIRM,
                )
            },
            "/cases/{case_id}/withdraw": {
                "post": op(
                    "Police withdraw a draft uploaded by mistake (the file stays as evidence)",
                    params=[path_id("case_id")],
                    errors=("401", "403", "404", "409", "422"),
                    body=bodies.CASE_VERSION,
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
                    errors=("401", "403", "404", "422"),
                    body=bodies.NO_BODY,
                )
            },
            "/cases/{case_id}/claims": {
                "put": op(
                    "A mediator files the victims' claims (INTERFACES.md §3 victims with the "
                    "README's additions, optional parties overrides {id, ratio, "
                    "commercial_limit, ctpi_insurer, ctpi_uninsured, misconduct, seat_cover, "
                    "excluded_items, covers_indirect}, options, standards_year, standards; a "
                    "victim may name occupant_of): schedules the assessment; "
                    "reported → assessing",
                    ok="202",
                    params=[path_id("case_id")],
                    errors=("401", "403", "404", "409", "422"),
                    body=bodies.CLAIMS,
                ),
                "get": op("The claims filed most recently", params=[path_id("case_id")]),
            },
            "/cases/{case_id}/assessment": {
                "get": returns(
                    op(
                        "The latest assessment: INTERFACES.md §3 output with its rule-set "
                        "fingerprint, which items each payment pays, recoveries, the fund's "
                        "advances and warnings",
                        params=[path_id("case_id")],
                    ),
                    "Assessment",
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
                    body=bodies.WHAT_IF,
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
