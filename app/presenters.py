"""Plain-data views of models for the JSON API (INTERFACES.md §4): amounts as strings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext

from app.labels import JOB_STATUS_LABELS, REPORT_ERRORS
from app.models import Case, Document, Job, Party, Report, User


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset, or None."""
    return value.isoformat() if value else None


def money(value: Decimal | None) -> str | None:
    """An amount as a string with two decimals."""
    return None if value is None else f"{value:.2f}"


def mask_id_number(value: str | None) -> str | None:
    """Keep the first four and last four characters of an ID number: 1423**********0012."""
    if not value or len(value) <= 8:
        return value
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "organization": {
            "id": user.org_id,
            "name": user.organization.name,
            "kind": user.organization.kind.value,
        },
    }


def job_json(job: Job) -> dict[str, Any]:
    error = None
    if job.error_code:
        known = REPORT_ERRORS.get(job.error_code)
        error = {"code": job.error_code, "message": gettext(known) if known else job.error}
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status.value,
        "status_label": str(JOB_STATUS_LABELS[job.status.value]),
        "progress": job.progress,
        "message": gettext(job.message) if job.message else None,
        "error": error,
        "attempts": job.attempts,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at),
    }


def party_json(party: Party) -> dict[str, Any]:
    return {
        "id": party.id,
        "label": party.label,
        "name": party.name,
        "gender": party.gender,
        "id_number": mask_id_number(party.id_number),
        "role": party.role,
        "traffic_mode": party.traffic_mode,
        "liability": party.liability,
    }


def case_summary_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "status": case.status.value,
        "version": case.version,
        "report_no": case.report_no,
        "accident_time": iso(case.accident_time),
        "location": case.accident_place,
        "created_at": iso(case.created_at),
    }


def document_json(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "kind": document.kind,
        "filename": document.filename,
        "description": document.description,
        "media_type": document.media_type,
        "size": document.size,
        "sha256": document.sha256,
        "created": iso(document.created_at),
        "created_by": document.created_by.username if document.created_by else None,
    }


def report_json(report: Report | None) -> dict[str, Any] | None:
    """The reviewed fields (§2) with the parser's provenance and warnings; None before upload."""
    if report is None:
        return None
    parsed = report.parsed or {}
    fields = report.fields or {}
    return {
        **fields,
        "provenance": parsed.get("provenance", {}),
        "warnings": parsed.get("warnings", []),
        "parser_version": report.parser_version,
        "confirmed_at": iso(report.confirmed_at),
    }


def case_json(case: Case, jobs: list[Job]) -> dict[str, Any]:
    return {
        **case_summary_json(case),
        "region": case.region,
        "report": report_json(case.report),
        "report_as_read": case.report.parsed if case.report else None,
        "parties": [party_json(party) for party in case.parties],
        "vehicles": [
            {
                "id": vehicle.id,
                "plate": vehicle.plate,
                "vehicle_type": vehicle.vehicle_type,
                "policies": [
                    {
                        "kind": policy.kind.value,
                        "insurer": policy.insurer_name,
                        "number": policy.number,
                        "limit": money(policy.limit),
                        "insurer_registered": policy.insurer_org_id is not None,
                    }
                    for policy in vehicle.policies
                ],
            }
            for vehicle in case.vehicles
        ],
        "jobs": [job_json(job) for job in jobs],
    }
