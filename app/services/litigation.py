"""Litigation hand-off: the filing package (立案材料) of a case that goes to court.

A package is a zip of the case summary (`summary.json` and a readable Chinese `summary.pdf`),
every document of the case, and a manifest of their SHA-256 sums signed with the platform's key
(`app.bundles`), so the court's filing office can check it with `daojiao bundle verify`. It is
built by the `litigation.package` job and stored as a document of kind `filing_package`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app import access, audit, bundles, jobs, signing
from app.db import session, utcnow
from app.documents import render_filing_summary
from app.errors import EvidenceAltered, InvalidTransition, NotAllowed
from app.labels import N_, mask_id_number
from app.models import AuditEvent, Case, CaseStatus, Document, Job, JobStatus, Role, User
from app.money import amount_text, optional_amount_text
from app.services import agreements, assessments, documents, offers

FILING_PACKAGE = "filing_package"
JOB_KIND = "litigation.package"
MEDIA_TYPE = "application/zip"


# -- who may do what ------------------------------------------------------------------------


def can_build_package(user: User, case: Case) -> bool:
    """True if the user may (re)build the filing package: the case's committee's mediators,
    its tribunal's judges, admins."""
    return (
        access.is_admin(user)
        or access.is_case_mediator(user, case)
        or access.is_case_tribunal(user, case)
    )


def _require_builder(actor: User, case: Case) -> None:
    access.require_role(actor, Role.MEDIATOR, Role.JUDGE, Role.ADMIN)
    if not can_build_package(actor, case):
        raise NotAllowed(
            _("Only the case's mediation committee, its tribunal or an administrator may do this.")
        )


# -- what a package is built from --------------------------------------------------------------


def packaged_documents(case: Case) -> list[Document]:
    """The documents that go into the case's package: all but earlier packages."""
    return [doc for doc in documents.case_documents(case) if doc.kind != FILING_PACKAGE]


def documents_digest(items: list[Document]) -> str:
    """SHA-256 over the ids and SHA-256s of `items`: a package is current while this holds."""
    text = "\n".join(f"{doc.id}:{doc.sha256}" for doc in sorted(items, key=lambda d: d.id))
    return hashlib.sha256(text.encode()).hexdigest()


def latest_package(case: Case) -> dict[str, Any] | None:
    """The newest filing package of `case`: its document, SHA-256, key id, documents digest
    and when it was built (from its audit event); None if none was built."""
    document = session.scalars(
        select(Document)
        .where(Document.case_id == case.id, Document.kind == FILING_PACKAGE)
        .order_by(Document.id.desc())
        .limit(1)
    ).first()
    if document is None:
        return None
    event = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.case_id == case.id,
            AuditEvent.action == "litigation.package",
            AuditEvent.subject == f"document:{document.id}",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    details = event.details if event else {}
    return {
        "document": document,
        "sha256": document.sha256,
        "key_id": details.get("key_id"),
        "documents_digest": details.get("documents_digest"),
        "documents": details.get("documents"),
        "built_at": document.created_at,
    }


def is_package_current(case: Case) -> bool:
    """True if the newest package was built from the case's current documents."""
    package = latest_package(case)
    return package is not None and package["documents_digest"] == documents_digest(
        packaged_documents(case)
    )


def pending_package_job(case: Case) -> Job | None:
    """A package job of `case` still queued or running."""
    return session.scalars(
        select(Job)
        .where(
            Job.case_id == case.id,
            Job.kind == JOB_KIND,
            Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
        .order_by(Job.id.desc())
        .limit(1)
    ).first()


def latest_package_job(case: Case) -> Job | None:
    """The newest package job of `case`, whatever its status (to show a failure's reason)."""
    return session.scalars(
        select(Job)
        .where(Job.case_id == case.id, Job.kind == JOB_KIND)
        .order_by(Job.id.desc())
        .limit(1)
    ).first()


# -- scheduling ------------------------------------------------------------------------------


def schedule_filing_package(*, actor: User | None, case: Case) -> Job | None:
    """Schedule the build of the filing package of a case in `litigation`.

    Returns the job, the one already queued or running, or None when the newest package was
    built from the case's current documents (nothing to rebuild). `actor` None is the system.
    """
    if actor is not None:
        _require_builder(actor, case)
    if case.status != CaseStatus.LITIGATION:
        raise InvalidTransition(_("A filing package is made only for a case in litigation."))
    pending = pending_package_job(case)
    if pending is not None:
        return pending
    if is_package_current(case):
        return None
    return jobs.schedule(JOB_KIND, subject_id=case.id, case_id=case.id, actor=actor)


# -- the summary ----------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _document_path(document: Document) -> str:
    name = (document.filename or f"{document.kind}").replace("/", "_").replace("\\", "_")
    return f"documents/{document.id}-{name}"


def build_summary(case: Case, items: list[Document]) -> dict[str, Any]:
    """The facts of the case for the court (summary.json): the case, accident, parties,
    vehicles and policies, report, latest assessment, offers trail, agreement, outcome and
    documents. ID numbers are masked: the package is stored with the case's documents."""
    report = case.report
    assessment = assessments.latest_assessment(case)
    agreement = agreements.current_agreement(case)
    parties = {party.id: party for party in case.parties}
    return {
        "case_number": case.number,
        "status": case.status.value,
        "region": case.region,
        "report_no": case.report_no,
        "accident": {"time": _iso(case.accident_time), "place": case.accident_place},
        "outcome_note": case.outcome_note,
        "parties": [
            {
                "label": party.label,
                "name": party.name,
                "role": party.role,
                "traffic_mode": party.traffic_mode,
                "liability": party.liability,
                "id_number": mask_id_number(party.id_number),
            }
            for party in case.parties
        ],
        "vehicles": [
            {
                "plate": vehicle.plate,
                "type": vehicle.vehicle_type,
                "driver": parties[vehicle.driver_party_id].label
                if vehicle.driver_party_id in parties
                else None,
                "policies": [
                    {
                        "kind": policy.kind.value,
                        "insurer": policy.insurer_name,
                        "number": policy.number,
                        "limit": optional_amount_text(policy.limit),
                    }
                    for policy in vehicle.policies
                ],
            }
            for vehicle in case.vehicles
        ],
        "report": (report.fields or {}) if report else None,
        "assessment": {
            "id": assessment.id,
            "fingerprint": assessment.fingerprint,
            "input_sha256": assessment.input_sha256,
            "engine_version": assessment.engine_version,
            "totals": assessment.result.get("totals"),
            "created_at": _iso(assessment.created_at),
        }
        if assessment
        else None,
        "offers": [
            {
                "id": offer.id,
                "parent_id": offer.parent_id,
                "payer": offer.payer,
                "side": offer.side.value,
                "amount": amount_text(offer.amount),
                "status": offer.status.value,
                "digest": offer.digest,
                "created_at": _iso(offer.created_at),
                "answered_at": _iso(offer.answered_at),
            }
            for offer in offers.case_offers(case)
        ],
        "agreement": {
            "id": agreement.id,
            "status": agreement.status.value,
            "sha256": agreement.sha256,
            "document_id": agreement.document_id,
        }
        if agreement
        else None,
        "documents": [
            {
                "id": doc.id,
                "kind": doc.kind,
                "filename": doc.filename,
                "media_type": doc.media_type,
                "size": doc.size,
                "sha256": doc.sha256,
                "created_at": _iso(doc.created_at),
                "path": _document_path(doc),
            }
            for doc in items
        ],
        "payer_labels": _payer_labels(case, assessment),
    }


def _payer_labels(case: Case, assessment: Any) -> dict[str, str]:
    """Every payer of the assessment and the offers in words, as the agreement names them."""
    payers = set((assessment.result.get("totals") or {}) if assessment else ())
    payers |= {offer.payer for offer in offers.case_offers(case)}
    return {
        payer: "受害人自负" if payer == "self" else agreements.payer_label(case, payer)
        for payer in sorted(payers)
    }


# -- the job --------------------------------------------------------------------------------


def build_filing_package(case_id: int, progress: jobs.Progress) -> Document | None:
    """Build, sign and store the filing package of a case in litigation (the job's work).

    Every document is read and checked against its SHA-256: an altered or missing one fails
    the job for good with its reason, and nothing is stored. Does nothing when the newest
    package already holds the case's current documents.
    """
    case = session.get(Case, case_id)
    if case is None:
        raise jobs.PermanentJobError(_("The case no longer exists."), code="not_found")
    if case.status != CaseStatus.LITIGATION:
        raise jobs.PermanentJobError(
            _("A filing package is made only for a case in litigation."), code="wrong_state"
        )
    items = packaged_documents(case)
    digest = documents_digest(items)
    package = latest_package(case)
    if package is not None and package["documents_digest"] == digest:
        return None
    files: list[bundles.BundleFile] = []
    for index, document in enumerate(items):
        progress(5 + 75 * index // max(1, len(items)), N_("Reading the documents"))
        try:
            data = documents.read_document(document)
        except EvidenceAltered as exc:
            raise jobs.PermanentJobError(
                _(
                    "Document %(id)s (%(filename)s) cannot be packaged: %(reason)s",
                    id=document.id,
                    filename=document.filename or document.kind,
                    reason=exc.message,
                ),
                code="altered",
            ) from exc
        files.append(
            bundles.BundleFile(
                _document_path(document),
                data,
                meta={"document_id": document.id, "kind": document.kind},
            )
        )
    progress(85, N_("Signing the package"))
    summary = build_summary(case, items)
    summary_json = json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True).encode()
    summary_pdf = render_filing_summary(summary, current_app.config["DAOJIAO_CJK_FONT"])
    key = signing.platform_key()
    data = bundles.build_bundle(
        [
            bundles.BundleFile("summary.json", summary_json),
            bundles.BundleFile("summary.pdf", summary_pdf),
            *files,
        ],
        header={
            "case_number": case.number,
            "built_at": utcnow().isoformat(),
            "documents_digest": digest,
        },
        key=key,
    )
    key_id = bundles.key_id(key.public_key())
    stored = documents.store_document(
        actor=None,
        case=case,
        kind=FILING_PACKAGE,
        data=data,
        media_type=MEDIA_TYPE,
        filename=f"{case.number}-filing-package.zip",
    )
    audit.record(
        "litigation.package",
        actor=None,
        case_id=case.id,
        subject=f"document:{stored.id}",
        details={
            "sha256": stored.sha256,
            "key_id": key_id,
            "documents_digest": digest,
            "documents": len(items),
        },
    )
    return stored
