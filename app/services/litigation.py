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
from io import BytesIO
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import select

from app import access, agreements_pdf, audit, bundles, jobs, signing
from app.db import session, utcnow
from app.errors import EvidenceAltered, InvalidTransition, NotAllowed
from app.labels import N_
from app.models import AuditEvent, Case, CaseStatus, Document, Job, JobStatus, Role, User
from app.presenters import mask_id_number
from app.services import agreements, assessments, documents, offers

FILING_PACKAGE = "filing_package"
JOB_KIND = "litigation.package"
MEDIA_TYPE = "application/zip"
SUMMARY_TITLE = "道路交通事故损害赔偿纠纷案件移送诉讼材料摘要"
STATUS_NAMES = {
    "draft": "草稿",
    "reported": "已登记",
    "assessing": "核算中",
    "negotiating": "协商中",
    "agreed": "已达成协议",
    "confirming": "司法确认中",
    "confirmed": "已司法确认",
    "litigation": "转诉讼",
    "paid": "已履行",
    "closed": "已结案",
    "withdrawn": "已撤回",
}
POLICY_NAMES = {"ctpi": "交强险", "commercial": "商业三者险"}


# -- who may do what ------------------------------------------------------------------------


def can_build_package(user: User, case: Case) -> bool:
    """True if the user may (re)build the filing package: the case's committee's mediators,
    its tribunal's judges, admins."""
    if access.can(user, Role.ADMIN):
        return True
    if access.can(user, Role.MEDIATOR):
        return (
            case.mediation_committee_id is not None and user.org_id == case.mediation_committee_id
        )
    if access.can(user, Role.JUDGE):
        return case.tribunal_id is not None and user.org_id == case.tribunal_id
    return False


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
                        "limit": f"{policy.limit:.2f}" if policy.limit is not None else None,
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
                "amount": f"{offer.amount:.2f}",
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


def _summary_pdf(summary: dict[str, Any], font_path: str) -> bytes:
    """The readable Chinese summary (summary.pdf) of `summary`, with the agreement's look."""
    pdf = agreements_pdf
    font = pdf.register_font(font_path)
    s = pdf.Styles(font)
    p = pdf.paragraph
    sha256 = pdf.canonical_json_sha256(summary)
    labels = summary.get("payer_labels") or {}
    accident = summary["accident"]
    flow: list[Any] = [
        Paragraph(SUMMARY_TITLE, s.title),
        p(f"案号：{summary['case_number']}", s.number),
        Spacer(1, 3 * mm),
        Paragraph("一、案件基本情况", s.heading),
        p(f"案件编号：{summary['case_number']}", s.plain),
        p(f"案件状态：{STATUS_NAMES.get(summary['status'], summary['status'])}", s.plain),
        p(f"事故认定书编号：{summary.get('report_no') or '—'}", s.plain),
        p(f"事故时间：{pdf.chinese_time(accident.get('time'))}", s.plain),
        p(f"事故地点：{accident.get('place') or '—'}", s.plain),
        p(f"调解未成原因：{summary.get('outcome_note') or '—'}", s.plain),
        Paragraph("二、当事人", s.heading),
    ]
    rows: list[list[Any]] = [
        [p(t, s.cell) for t in ("当事人", "姓名", "身份证号码", "身份", "事故责任")]
    ]
    for party in summary["parties"]:
        rows.append(
            [
                p(party["label"], s.cell),
                p(party["name"], s.cell),
                p(party["id_number"], s.cell),
                p(pdf.ROLES.get(party["role"] or "", party["role"]), s.cell),
                p(pdf.LIABILITY.get(party["liability"] or "", "未认定"), s.cell),
            ]
        )
    flow.append(pdf.grid(rows, [22 * mm, 30 * mm, 44 * mm, 40 * mm, 34 * mm]))
    flow.append(Paragraph("三、车辆及保险", s.heading))
    rows = [[p(t, s.cell) for t in ("号牌", "车型", "驾驶人", "保险")]]
    for vehicle in summary["vehicles"]:
        policies = "；".join(
            f"{policy['insurer'] or '—'} {POLICY_NAMES.get(policy['kind'], policy['kind'])}"
            + (f"（限额{pdf.money(policy['limit'])}元）" if policy["limit"] else "")
            for policy in vehicle["policies"]
        )
        rows.append(
            [
                p(vehicle["plate"], s.cell),
                p(vehicle["type"], s.cell),
                p(vehicle["driver"], s.cell),
                p(policies or None, s.cell),
            ]
        )
    flow.append(pdf.grid(rows, [26 * mm, 26 * mm, 22 * mm, 96 * mm]))
    report = summary.get("report") or {}
    flow += [
        Paragraph("四、事故认定", s.heading),
        p(f"事故经过：{report.get('facts') or '—'}", s.body),
        p(f"事故原因及责任：{report.get('cause') or '—'}", s.body),
        Paragraph("五、损失核算", s.heading),
    ]
    assessment = summary.get("assessment")
    if assessment:
        flow.append(p(f"核算指纹：{assessment['fingerprint']}", s.small))
        rows = [[p("赔偿义务人", s.cell), p("核算金额（元）", s.cell)]]
        for payer, amount in (assessment.get("totals") or {}).items():
            rows.append([p(labels.get(payer, payer), s.cell), p(pdf.money(amount), s.cell_right)])
        flow.append(pdf.grid(rows, [100 * mm, 70 * mm]))
    else:
        flow.append(p("尚无核算结果。", s.body))
    flow.append(Paragraph("六、协商记录", s.heading))
    if summary["offers"]:
        rows = [[p(t, s.cell) for t in ("编号", "赔偿义务人", "金额（元）", "状态", "摘要值")]]
        for offer in summary["offers"]:
            rows.append(
                [
                    p(offer["id"], s.cell),
                    p(labels.get(offer["payer"], offer["payer"]), s.cell),
                    p(pdf.money(offer["amount"]), s.cell_right),
                    p(offer["status"], s.cell),
                    p(offer["digest"][:16], s.small),
                ]
            )
        flow.append(pdf.grid(rows, [14 * mm, 50 * mm, 30 * mm, 26 * mm, 50 * mm]))
    else:
        flow.append(p("无报价记录。", s.body))
    agreement = summary.get("agreement")
    flow.append(Paragraph("七、调解协议", s.heading))
    flow.append(
        p(f"调解协议数据 SHA-256：{agreement['sha256']}", s.small)
        if agreement
        else p("未达成调解协议。", s.body)
    )
    flow.append(Paragraph("八、材料清单", s.heading))
    rows = [[p(t, s.cell) for t in ("编号", "类别", "文件名", "SHA-256")]]
    for doc in summary["documents"]:
        rows.append(
            [
                p(doc["id"], s.cell),
                p(doc["kind"], s.cell),
                p(doc["filename"], s.cell),
                p(doc["sha256"], s.small),
            ]
        )
    flow.append(pdf.grid(rows, [14 * mm, 24 * mm, 52 * mm, 80 * mm]))
    buffer = BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=26 * mm,
        title=SUMMARY_TITLE,
        subject=f"{summary['case_number']} SHA-256 {sha256}",
        creator="Daojiao",
        invariant=1,
    ).build(
        flow,
        canvasmaker=pdf.numbered_canvas(font, summary["case_number"], sha256, data_label="摘要"),
    )
    return buffer.getvalue()


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
    summary_pdf = _summary_pdf(summary, current_app.config["DAOJIAO_CJK_FONT"])
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
