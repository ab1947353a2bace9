"""Plain-data views of models for the JSON API (INTERFACES.md §4): amounts as strings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext

from app import id_numbers
from app.labels import (
    ITEM_LABELS,
    JOB_STATUS_LABELS,
    PAYER_KINDS,
    RECOVERY_REASONS,
    REDUCTION_KINDS,
    REPORT_ERRORS,
    assessment_warning_message,
    mask_id_number,
)
from app.models import (
    Assessment,
    Case,
    Claim,
    Document,
    Job,
    LiabilityDecision,
    Party,
    Report,
    User,
)
from app.money import optional_amount_text


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset, or None."""
    return value.isoformat() if value else None


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
    """The reviewed fields (§2) with the parser's provenance, warnings, source and OCR
    confidence; None before upload."""
    if report is None:
        return None
    parsed = report.parsed or {}
    fields = report.fields or {}
    return {
        **fields,
        "provenance": parsed.get("provenance", {}),
        "warnings": parsed.get("warnings", []),
        "source": parsed.get("source"),
        "confidence": parsed.get("confidence", {}),
        "parser_version": report.parser_version,
        "confirmed_at": iso(report.confirmed_at),
    }


def liability_json(pending: list[Party], decision: LiabilityDecision | None) -> dict[str, Any]:
    """The parties whose liability waits for the mediator's decision, and the latest decision."""
    return {
        "pending": [party.label for party in pending],
        "decision": (
            {
                "id": decision.id,
                "parties": decision.parties,
                "basis": decision.basis,
                "decided_by_id": decision.decided_by_id,
                "decided_at": iso(decision.decided_at),
            }
            if decision
            else None
        ),
    }


def case_json(case: Case, jobs: list[Job], *, reader: User) -> dict[str, Any]:
    """The case as `reader` may read it: the letter's ID numbers in full (logged) or masked
    (`app.id_numbers`); the parties' numbers masked for everyone (revealed one by one)."""
    letter = id_numbers.for_reader(
        reader,
        case,
        {
            "report": report_json(case.report),
            "report_as_read": case.report.parsed if case.report else None,
        },
        where="case.report",
    )
    return {
        **case_summary_json(case),
        "region": case.region,
        **letter,
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
                        "limit": optional_amount_text(policy.limit),
                        "insurer_registered": policy.insurer_org_id is not None,
                    }
                    for policy in vehicle.policies
                ],
            }
            for vehicle in case.vehicles
        ],
        "jobs": [job_json(job) for job in jobs],
    }


def claim_json(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "case_id": claim.case_id,
        "created_at": iso(claim.created_at),
        "sha256": claim.sha256,
        "claims": claim.data,
    }


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    """The §3 output of a stored assessment, with what identifies it."""
    return {
        "assessment_id": assessment.id,
        "case_id": assessment.case_id,
        "claim_id": assessment.claim_id,
        "created_at": iso(assessment.created_at),
        "engine_version": assessment.engine_version,
        "fingerprint": assessment.fingerprint,
        "input_sha256": assessment.input_sha256,
        **assessment.result,
    }


# Payer colours by kind, a shade per party (a colour-blind-safe blue/green/purple/orange/grey set).
_PAYER_COLOURS = {
    "ctpi": ("#1f5f9e", "#4a8fd1", "#8dbbe8"),
    "commercial": ("#1b7a4b", "#3fae75", "#8fd4ad"),
    "seat": ("#5e3c99", "#8c6bc8", "#bfa9e3"),
    "party": ("#b85c00", "#e68a2e", "#f2bd85"),
    "self": ("#6c757d",),
}


def payer_label(payer: str, parties: list[dict[str, Any]]) -> str:
    """'Compulsory insurance · 甲方 (insurer)' for `ctpi:甲方`, '甲方's vehicle's passenger
    liability insurance (insurer)' for `seat:甲方`, the fund's name for `fund`: human text in the
    user's language, never the payer's code."""
    kind, _, party_id = payer.partition(":")
    label = str(PAYER_KINDS.get(kind, kind))
    if not party_id:
        return label
    party = next((p for p in parties if p.get("id") == party_id), {})
    if kind == "seat":
        # 车上人员责任险 is sold with the commercial cover: its insurer, unless the claims name one.
        insurer = (party.get("seat_cover") or {}).get("insurer") or (
            party.get("commercial") or {}
        ).get("insurer")
        text = gettext("Passenger liability insurance of %(party)s's vehicle", party=party_id)
        return text + (f"（{insurer}）" if insurer else "")
    insurer = (party.get(kind) or {}).get("insurer") if kind in ("ctpi", "commercial") else None
    name = party.get("name") if kind == "party" else None
    detail = insurer or name
    return f"{label} · {party_id}" + (f"（{detail}）" if detail else "")


def _item_label(code: str, fallback: str | None = None) -> str:
    known = ITEM_LABELS.get(code)
    return str(known) if known is not None else (fallback or code)


def _percent(ratio: Any) -> str:
    """0.2 → 20%; 0.125 → 12.5%."""
    try:
        value = (Decimal(str(ratio)) * 100).normalize()
    except (ArithmeticError, ValueError):
        return str(ratio)
    return f"{value:f}%"


def _labelled_items(entries: Any, names: dict[str, str]) -> list[dict[str, str]]:
    return [
        {
            "code": entry.get("code"),
            "label": _item_label(entry.get("code") or "", names.get(entry.get("code") or "")),
            "amount": entry.get("amount"),
        }
        for entry in entries or []
    ]


def assessment_view(result: dict[str, Any], parties: list[dict[str, Any]]) -> dict[str, Any]:
    """What the result page shows beside the items (engine v2 output; older results lack these
    keys and show none): warnings, which items each payment pays, the victims' reductions,
    the insurers' recoveries and the fund's advances, every payer named in words."""
    victims = {victim["id"]: victim for victim in result.get("victims", [])}
    item_names = {
        victim_id: {item["code"]: item.get("label") for item in victim.get("items", [])}
        for victim_id, victim in victims.items()
    }

    def victim_name(victim_id: str | None) -> str:
        victim = victims.get(victim_id or "") or {}
        return victim.get("name") or victim_id or ""

    payments: dict[str, list[dict[str, Any]]] = {victim_id: [] for victim_id in victims}
    for payment in result.get("payments", []):
        payments.setdefault(payment["victim"], []).append(
            {
                **payment,
                "label": payer_label(payment["payer"], parties),
                "items": _labelled_items(
                    payment.get("items"), item_names.get(payment["victim"], {})
                ),
            }
        )
    reductions = {}
    for victim_id, victim in victims.items():
        reduction = victim.get("reduction")
        if not reduction:
            continue
        kind = reduction.get("kind") or ""
        reductions[victim_id] = {
            "kind": kind,
            "kind_label": str(REDUCTION_KINDS.get(kind, kind)),
            "ratio": reduction.get("ratio"),
            "percent": _percent(reduction.get("ratio")),
            "reason": reduction.get("reason"),
        }
    recoveries = [
        {
            "victim": recovery.get("victim"),
            "victim_name": victim_name(recovery.get("victim")) if recovery.get("victim") else "",
            "payer": recovery.get("payer"),
            "payer_label": payer_label(recovery.get("payer") or "", parties),
            "from": recovery.get("from"),
            "from_label": payer_label(recovery.get("from") or "", parties),
            "amount": recovery.get("amount"),
            "reason": recovery.get("reason"),
            "reason_label": str(
                RECOVERY_REASONS.get(recovery.get("reason") or "", recovery.get("reason") or "")
            ),
            "basis": recovery.get("basis"),
        }
        for recovery in result.get("recoveries") or []
    ]
    advances = [
        {
            "victim": advance.get("victim"),
            "victim_name": victim_name(advance.get("victim")),
            "payer": advance.get("payer"),
            "payer_label": payer_label(advance.get("payer") or "fund", parties),
            "amount": advance.get("amount"),
            "items": _labelled_items(
                advance.get("items"), item_names.get(advance.get("victim"), {})
            ),
            "recover_from": advance.get("recover_from"),
            "recover_from_label": (
                payer_label(advance["recover_from"], parties)
                if advance.get("recover_from")
                else None
            ),
            "basis": advance.get("basis"),
        }
        for advance in result.get("advances") or []
    ]
    return {
        "warnings": [
            {"code": warning.get("code"), "message": assessment_warning_message(warning)}
            for warning in result.get("warnings") or []
        ],
        "payments": payments,
        "reductions": reductions,
        "recoveries": recoveries,
        "advances": advances,
    }


def payer_chart(result: dict[str, Any], parties: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry of the payer-split chart: per victim a bar of payers in percent of the total."""
    payers = list(result["totals"])
    counters: dict[str, int] = {}
    colours = {}
    for payer in payers:
        kind = payer.partition(":")[0]
        shades = _PAYER_COLOURS.get(kind, ("#999999",))
        colours[payer] = shades[counters.get(kind, 0) % len(shades)]
        counters[kind] = counters.get(kind, 0) + 1
    rows = []
    for victim in result["victims"]:
        total = Decimal(victim["total"])
        sums: dict[str, Decimal] = {}
        for payment in result["payments"]:
            if payment["victim"] == victim["id"]:
                sums[payment["payer"]] = sums.get(payment["payer"], Decimal(0)) + Decimal(
                    payment["amount"]
                )
        segments, x = [], Decimal(0)
        for payer in payers:
            amount = sums.get(payer)
            if not amount or not total:
                continue
            width = amount / total * 100
            segments.append(
                {
                    "payer": payer,
                    "label": payer_label(payer, parties),
                    "amount": str(amount),
                    "x": f"{x:.3f}",
                    "width": f"{width:.3f}",
                    "percent": f"{width:.1f}",
                    "colour": colours[payer],
                }
            )
            x += width
        rows.append(
            {
                "id": victim["id"],
                "name": victim.get("name"),
                "total": victim["total"],
                "segments": segments,
            }
        )
    legend = [
        {
            "payer": payer,
            "label": payer_label(payer, parties),
            "amount": result["totals"][payer],
            "colour": colours[payer],
        }
        for payer in payers
    ]
    return {"rows": rows, "legend": legend}
