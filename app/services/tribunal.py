"""Judicial confirmation (司法确认) of a signed settlement agreement by the road-traffic tribunal:
the mediator applies, the judge accepts, may extend once, and confirms (ruling 民事裁定书) or
rejects with grounds (民诉法 arts. 205–206; 民诉解释 arts. 353–358; DOMAIN.md §1, §6).

A decision on an application still `requested` accepts it implicitly first: deciding is the
strongest form of accepting, and the acceptance is recorded (and audited) all the same.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import access, audit, digests, jobs, validation, workflow
from app.clock import BEIJING  # noqa: E402
from app.db import session, utcnow
from app.documents import canonical_json_sha256, render_ruling, ruling_order
from app.errors import EvidenceAltered, InvalidTransition, ValidationFailed
from app.models import (
    Agreement,
    AgreementStatus,
    AuditEvent,
    Case,
    CaseStatus,
    Confirmation,
    ConfirmationStatus,
    Deadline,
    DeadlineStatus,
    Document,
    Organization,
    OrgKind,
    RulingSequence,
    User,
)
from app.services import agreements, assessments, deadlines, documents, offers, payers
from app.validation import check_version

RULING_KIND = "ruling"
DEFAULT_NUMBER_FORMAT = "（{year}）民特{n}号"
REASON_MAX = 2000
# 民诉解释 art. 358: why a court refuses to confirm a mediation agreement; its catch-all
# item (6) is `other`, explained by the reason every rejection gives.
REJECTION_GROUNDS = {
    "violates_law": "违反法律强制性规定",
    "harms_interests": "损害国家利益、社会公共利益、他人合法权益",
    "public_order": "违背公序良俗",
    "not_voluntary": "违反自愿原则",
    "unclear": "内容不明确",
    "other": "其他不能进行司法确认的情形",
}
# Where a rejected case goes: back to mediation, or towards litigation.
# At most this many events of the chain after the latest checkpoint are checked per view of the
# workbench (about 0.15 s; bench/audit_chain.py), so that the page stays bounded however long
# the log; each view moves the checkpoint on by as many, the rest waits for the scheduled
# `daojiao audit verify --since-checkpoint`.
CHAIN_TAIL = 5_000

NEXT_STEPS = {"mediation": "reject_to_mediation", "litigation": "reject_to_litigation"}
DECISIONS = ("confirm", "reject")


def _today() -> date:
    return utcnow().astimezone(BEIJING).date()


def _check_judge(actor: User, case: Case) -> None:
    access.require_case_tribunal(actor, case)


# -- reading --------------------------------------------------------------------------------


def current_confirmation(case: Case) -> Confirmation | None:
    """The case's latest application for judicial confirmation, if any."""
    return session.scalars(
        select(Confirmation)
        .where(Confirmation.case_id == case.id)
        .order_by(Confirmation.id.desc())
        .limit(1)
    ).first()


def active_tribunals() -> list[Organization]:
    """Every active tribunal organisation, by id."""
    return list(
        session.scalars(
            select(Organization)
            .where(Organization.kind == OrgKind.TRIBUNAL, Organization.active.is_(True))
            .order_by(Organization.id)
        )
    )


def serving_tribunal(case: Case) -> Organization | None:
    """The tribunal serving the case's region, else the only tribunal there is, else None."""
    tribunals = active_tribunals()
    if case.region:
        for tribunal in tribunals:
            if tribunal.region == case.region:
                return tribunal
    return tribunals[0] if len(tribunals) == 1 else None


def confirming_cases(user: User, *, limit: int) -> list[Case]:
    """Up to `limit` cases awaiting the tribunal's decision that `user` may see, oldest change
    first."""
    return list(
        session.scalars(
            access.visible_cases(user)
            .where(Case.status == CaseStatus.CONFIRMING, Case.tribunal_id.is_not(None))
            .order_by(Case.updated_at, Case.id)
            .limit(limit)
        )
    )


def _running(case: Case, kind: str) -> Deadline | None:
    return session.scalars(
        select(Deadline)
        .where(
            Deadline.case_id == case.id,
            Deadline.kind == kind,
            Deadline.status.in_(deadlines.OPEN_STATES),
        )
        .order_by(Deadline.id.desc())
        .limit(1)
    ).first()


# -- application ------------------------------------------------------------------------------


def _tribunal_for(case: Case, tribunal_org_id: int | None, actor: User) -> Organization:
    """The tribunal to apply to: the one serving the case's region unless one is named. A
    mediator may name only a tribunal of the case's region (a case of a region without one may
    go to any); an admin may name any active tribunal, recorded in the audit log."""
    if tribunal_org_id is None:
        tribunal = serving_tribunal(case)
        if tribunal is None:
            raise ValidationFailed(
                _("No tribunal serves this case's region: choose the tribunal to apply to."),
                code="no_tribunal",
                field="tribunal_org_id",
            )
        return tribunal
    tribunal = session.get(Organization, tribunal_org_id)
    if tribunal is None or tribunal.kind != OrgKind.TRIBUNAL or not tribunal.active:
        raise ValidationFailed(
            _("Organisation %(id)s is not an active tribunal.", id=tribunal_org_id),
            field="tribunal_org_id",
        )
    if case.region and tribunal.region != case.region:
        if not access.is_admin(actor):
            raise ValidationFailed(
                _(
                    "%(tribunal)s does not serve this case's region (%(region)s): apply to the "
                    "tribunal of the case's region, or ask an administrator to choose another.",
                    tribunal=tribunal.name,
                    region=case.region,
                ),
                code="tribunal_out_of_region",
                field="tribunal_org_id",
            )
        audit.record(
            "confirmation.tribunal_chosen",
            actor=actor,
            case_id=case.id,
            subject=f"organization:{tribunal.id}",
            details={"case_region": case.region, "tribunal_region": tribunal.region},
        )
    return tribunal


def request_confirmation(
    *, actor: User, case: Case, tribunal_org_id: int | None = None, version: int | None = None
) -> Confirmation:
    """The mediator sends the signed agreement to the tribunal for judicial confirmation:
    `agreed` → `confirming`; the tribunal has three days to accept the application."""
    workflow.check(case, "request_confirmation", actor)
    check_version(case, version)
    agreement = agreements.current_agreement(case)
    if agreement is None or agreement.status != AgreementStatus.SIGNED:
        raise InvalidTransition(_("The case has no signed agreement to confirm."))
    tribunal = _tribunal_for(case, tribunal_org_id, actor)
    now = utcnow()
    confirmation = Confirmation(
        case_id=case.id,
        tribunal_org_id=tribunal.id,
        agreement_id=agreement.id,
        status=ConfirmationStatus.REQUESTED,
        requested_by_id=actor.id,
        requested_at=now,
    )
    session.add(confirmation)
    case.tribunal_id = tribunal.id
    session.flush()
    workflow.transition(
        case,
        "request_confirmation",
        actor,
        subject=f"confirmation:{confirmation.id}",
        at=now,
        tribunal_org_id=tribunal.id,
        agreement_id=agreement.id,
        agreement_sha256=agreement.sha256,
        **{digests.DIGESTS_KEY: digests.row_digests(confirmation)},
    )
    return confirmation


def _pending(case: Case) -> Confirmation:
    confirmation = current_confirmation(case)
    if (
        case.status != CaseStatus.CONFIRMING
        or confirmation is None
        or confirmation.status not in (ConfirmationStatus.REQUESTED, ConfirmationStatus.ACCEPTED)
    ):
        raise InvalidTransition(
            _("The case has no application for confirmation awaiting a decision.")
        )
    return confirmation


def _accept(actor: User, case: Case, confirmation: Confirmation, *, implicit: bool) -> None:
    now = utcnow()
    confirmation.status = ConfirmationStatus.ACCEPTED
    confirmation.accepted_by_id = actor.id
    confirmation.accepted_at = now
    case.updated_at = now
    session.flush()
    deadlines.close_deadlines(case=case, kind="court_acceptance")
    if not implicit:
        deadlines.add_statutory_deadline(
            case=case,
            kind="court_decision",
            start=now,
            owner_org_id=confirmation.tribunal_org_id,
            subject=f"confirmation:{confirmation.id}",
        )
    audit.record(
        "confirmation.accepted",
        actor=actor,
        case_id=case.id,
        subject=f"confirmation:{confirmation.id}",
        details={"implicit": implicit, digests.DIGESTS_KEY: digests.row_digests(confirmation)},
    )


def accept_application(*, actor: User, case: Case, version: int | None = None) -> Confirmation:
    """A judge of the tribunal accepts the application (受理); the 15-day decision timer starts."""
    _check_judge(actor, case)
    check_version(case, version)
    confirmation = _pending(case)
    if confirmation.status != ConfirmationStatus.REQUESTED:
        raise InvalidTransition(_("The application has already been accepted."))
    _accept(actor, case, confirmation, implicit=False)
    return confirmation


def extend_decision(
    *, actor: User, case: Case, reason: str, version: int | None = None
) -> Confirmation:
    """A judge extends the decision timer once, by the statutory ten days, with a reason."""
    _check_judge(actor, case)
    check_version(case, version)
    confirmation = _pending(case)
    if confirmation.status != ConfirmationStatus.ACCEPTED:
        raise InvalidTransition(
            _("Only an accepted application's decision period can be extended.")
        )
    if confirmation.extended_at is not None:
        raise InvalidTransition(_("The decision period has already been extended once."))
    text = validation.text(reason, name="reason", label=_("Reason"), limit=REASON_MAX)
    if text is None:
        raise ValidationFailed(_("Give the reason for the extension."), field="reason")
    deadline = _running(case, "court_decision")
    if deadline is None:
        raise InvalidTransition(_("The case has no running decision period to extend."))
    now = utcnow()
    days = deadlines.timers()["court_decision"]["extension_days"]
    before = deadline.due_at
    deadline.due_at = before + timedelta(days=days)
    if deadline.due_at > now + deadlines.DUE_SOON:
        deadline.status = DeadlineStatus.OPEN  # the sweeper marks it again when it nears
    confirmation.extended_at = now
    confirmation.extension_reason = text
    case.updated_at = now
    session.flush()
    audit.record(
        "confirmation.extended",
        actor=actor,
        case_id=case.id,
        subject=f"confirmation:{confirmation.id}",
        details={
            "reason": text,
            "deadline_id": deadline.id,
            "due_at": [before.isoformat(), deadline.due_at.isoformat()],
            digests.DIGESTS_KEY: digests.row_digests(confirmation),
        },
    )
    return confirmation


# -- decision ---------------------------------------------------------------------------------


def format_ruling_number(tribunal: Organization, year: int, n: int) -> str:
    """The tribunal's number format (`（{year}）晋1102民特{n}号`), or `（{year}）民特{n}号`.

    The year stands in full-width brackets as 最高人民法院关于人民法院案件案号的若干规定 writes
    it, also where the configured format has ASCII ones."""
    pattern = tribunal.case_number_format or DEFAULT_NUMBER_FORMAT
    number = pattern.replace("{year}", str(year)).replace("{n}", str(n))
    return number.replace(f"({year})", f"（{year}）")


def next_ruling_number(tribunal: Organization, year: int) -> str:
    """Take the tribunal's next ruling number of `year`; the sequence row stays locked until
    the transaction ends, so concurrent rulings get consecutive numbers."""

    def locked() -> RulingSequence | None:
        return session.scalars(
            select(RulingSequence)
            .where(RulingSequence.tribunal_org_id == tribunal.id, RulingSequence.year == year)
            .with_for_update()
        ).one_or_none()

    sequence = locked()
    if sequence is None:
        try:
            with session.begin_nested():
                session.add(RulingSequence(tribunal_org_id=tribunal.id, year=year, last=0))
        except IntegrityError:
            pass  # another ruling created the year's row first: lock theirs
        sequence = locked()
    assert sequence is not None  # noqa: S101 - created above
    sequence.last += 1
    session.flush()
    return format_ruling_number(tribunal, year, sequence.last)


PERSON_FIELDS = ("name", "gender", "birth_date", "address", "id_number")


def _applicants(agreement: Agreement) -> list[dict[str, Any]]:
    """Who applied, as the agreement they signed names them: each party and victim with the
    particulars it stores, each insurer once, with the covers it answers for."""
    data = agreement.data
    parties = {p["label"]: p for p in data.get("parties", [])}
    victims = {f"victim:{v['id']}": v for v in data.get("victims", [])}
    found: list[dict[str, Any]] = []
    covers: dict[str, dict[str, list[str]]] = {}
    for signatory in data.get("signatories", []):
        kind = signatory.get("kind")
        if kind == "insurer":
            name = signatory.get("name") or signatory.get("label")
            if name not in covers:
                covers[name] = {}
                found.append({"kind": "insurer", "name": name})
            _kind, label = payers.split_payer(signatory["id"])
            covers[name].setdefault(label, []).append(signatory.get("role") or "")
            continue
        person = parties.get(signatory["id"]) if kind == "party" else victims.get(signatory["id"])
        entry = {field: (person or {}).get(field) for field in PERSON_FIELDS}
        entry["name"] = entry["name"] or signatory.get("name") or signatory.get("label")
        found.append({"kind": kind, "label": signatory["id"] if kind == "party" else None, **entry})
    for applicant in found:
        if applicant["kind"] == "insurer":
            applicant["covers"] = "；".join(
                f"{label}车辆{'、'.join(roles)}承保公司"
                for label, roles in covers[applicant["name"]].items()
            )
    return found


def _local_day(moment: datetime | None) -> str | None:
    return moment.astimezone(BEIJING).date().isoformat() if moment else None


def build_ruling_data(
    *,
    actor: User,
    case: Case,
    confirmation: Confirmation,
    agreement: Agreement,
    tribunal: Organization,
    ruling_number: str,
    today: date,
) -> dict[str, Any]:
    """What the ruling PDF shows and its SHA-256 covers: headed by the tribunal's court, the
    tribunal named as the body that examined the application."""
    data = agreement.data
    committee = data.get("committee") or "人民调解委员会"
    applicants = _applicants(agreement)
    signed_on = _local_day(agreement.signed_at) or data.get("date")
    return {
        "court": tribunal.court_name or tribunal.name,
        "tribunal": tribunal.name,
        "ruling_number": ruling_number,
        "case_number": case.number,
        "committee": committee,
        "applicants": applicants,
        "agreement": {
            "id": agreement.id,
            "sha256": agreement.sha256,
            "signed_on": signed_on,
            "payment_method": data.get("payment_method"),
            "payment_due": data.get("payment_due"),
        },
        "payers": [
            {"payer": p["payer"], "label": p["label"], "amount": p["amount"]}
            for p in data.get("payers", [])
        ],
        "total": data["total"],
        "requested_on": _local_day(confirmation.requested_at),
        "accepted_on": _local_day(confirmation.accepted_at),
        "finding": (
            f"本院经审查认为，申请人达成的调解协议系经{committee}主持调解达成，"
            "是各方当事人的真实意思表示，不违反法律强制性规定，不损害国家利益、社会公共利益、"
            "他人合法权益，不违背公序良俗，内容明确，符合司法确认的条件。依照《中华人民共和国"
            "民事诉讼法》第二百零五条、第二百零六条，《中华人民共和国人民调解法》第三十三条规定，"
        ),
        "order": ruling_order(
            [a.get("name") or a.get("label") or "" for a in applicants],
            signed_on=signed_on,
            committee=committee,
            agreement_number=str(data.get("case_number") or case.number),
        ),
        "judge": actor.display_name,
        "clerk": None,
        "date": today.isoformat(),
    }


def _check_rejection(grounds: Any, reason: Any, next_step: Any) -> tuple[list[str], str, str]:
    if not isinstance(grounds, list) or not grounds:
        raise ValidationFailed(
            _("Give at least one ground for the rejection (民诉解释 art. 358)."), field="grounds"
        )
    unknown = [g for g in grounds if g not in REJECTION_GROUNDS]
    if unknown:
        raise ValidationFailed(
            _(
                "Unknown grounds: %(grounds)s. Use: %(known)s.",
                grounds=", ".join(map(str, unknown)),
                known=", ".join(REJECTION_GROUNDS),
            ),
            field="grounds",
        )
    text = validation.text(reason, name="reason", label=_("Reason"), limit=REASON_MAX)
    if text is None:
        raise ValidationFailed(_("Give the reason for the rejection."), field="reason")
    if next_step not in NEXT_STEPS:
        raise ValidationFailed(
            _("The next step must be mediation or litigation."), field="next_step"
        )
    ordered = [code for code in REJECTION_GROUNDS if code in grounds]
    return ordered, text, next_step


def decide(
    *,
    actor: User,
    case: Case,
    decision: str,
    grounds: list[str] | None = None,
    reason: str | None = None,
    next_step: str | None = None,
    version: int | None = None,
) -> Confirmation:
    """A judge of the tribunal decides: `confirm` issues the ruling (民事裁定书) and the case is
    `confirmed`; `reject` needs art. 358 grounds and a reason, and sends the case back to
    mediation or towards litigation."""
    _check_judge(actor, case)
    check_version(case, version)
    if decision not in DECISIONS:
        raise ValidationFailed(_("The decision must be confirm or reject."), field="decision")
    confirmation = _pending(case)
    if decision == "confirm":
        if grounds:
            raise ValidationFailed(
                _("Grounds are given only when rejecting an application."), field="grounds"
            )
        finding = validation.text(reason, name="reason", label=_("Reason"), limit=REASON_MAX)
    else:
        checked = _check_rejection(grounds, reason, next_step)
    if confirmation.status == ConfirmationStatus.REQUESTED:
        _accept(actor, case, confirmation, implicit=True)
    if decision == "confirm":
        _confirm(actor, case, confirmation, note=finding)
    else:
        _reject(actor, case, confirmation, *checked)
    return confirmation


def _confirm(actor: User, case: Case, confirmation: Confirmation, *, note: str | None) -> None:
    # Refused before the ruling is rendered and stored: a later refusal would roll the row back
    # and leave its object for the orphan sweep.
    workflow.check(case, "confirm_settlement", actor)
    agreement = session.get(Agreement, confirmation.agreement_id)
    tribunal = session.get(Organization, confirmation.tribunal_org_id)
    if agreement is None or agreement.status != AgreementStatus.SIGNED or tribunal is None:
        raise InvalidTransition(_("The agreement applied for is no longer the signed one."))
    today = _today()
    number = next_ruling_number(tribunal, today.year)
    data = build_ruling_data(
        actor=actor,
        case=case,
        confirmation=confirmation,
        agreement=agreement,
        tribunal=tribunal,
        ruling_number=number,
        today=today,
    )
    sha256 = canonical_json_sha256(data)
    pdf = render_ruling(data, current_app.config["DAOJIAO_CJK_FONT"])
    document = documents.store_document(
        actor=actor,
        case=case,
        kind=RULING_KIND,
        data=pdf,
        media_type="application/pdf",
        filename=f"民事裁定书-{number}.pdf",
        description=f"{number} SHA-256 {sha256[:16]}",
    )
    jobs.schedule("documents.preview", subject_id=document.id, case_id=case.id, actor=actor)
    now = utcnow()
    confirmation.status = ConfirmationStatus.CONFIRMED
    confirmation.decided_by_id = actor.id
    confirmation.decided_at = now
    confirmation.reason = note
    confirmation.ruling_number = number
    confirmation.ruling_document_id = document.id
    confirmation.details = {"ruling": data, "ruling_sha256": sha256}
    workflow.transition(
        case,
        "confirm_settlement",
        actor,
        subject=f"confirmation:{confirmation.id}",
        ruling_number=number,
        ruling_sha256=sha256,
        document_id=document.id,
        document_sha256=document.sha256,
        **{digests.DIGESTS_KEY: digests.row_digests(confirmation)},
    )


def _reject(
    actor: User,
    case: Case,
    confirmation: Confirmation,
    grounds: list[str],
    reason: str,
    next_step: str,
) -> None:
    now = utcnow()
    confirmation.status = ConfirmationStatus.REJECTED
    confirmation.decided_by_id = actor.id
    confirmation.decided_at = now
    confirmation.grounds = grounds
    confirmation.reason = reason
    confirmation.next_step = next_step
    workflow.transition(
        case,
        NEXT_STEPS[next_step],
        actor,
        subject=f"confirmation:{confirmation.id}",
        grounds=grounds,
        reason=reason,
        next_step=next_step,
        **{digests.DIGESTS_KEY: digests.row_digests(confirmation)},
    )


# -- the judge's workbench ------------------------------------------------------------------


def check_documents(docs: list[Document]) -> dict[int, str]:
    """Re-hash each stored file now: `intact`, `altered` or `missing`, by document id."""
    states = {}
    for document in docs:
        try:
            documents.read_document(document)
        except EvidenceAltered as exc:
            states[document.id] = "missing" if exc.code == "evidence_missing" else "altered"
        else:
            states[document.id] = "intact"
    return states


def agreement_matches_offers(case: Case, agreement: Agreement | None) -> list[dict[str, Any]]:
    """Each payer of the agreement beside its latest accepted offer: equal amounts and ids?"""
    if agreement is None:
        return []
    accepted = offers.accepted_offers(case)
    rows = []
    for payer in agreement.data.get("payers", []):
        offer = accepted.get(payer["payer"])
        rows.append(
            {
                "payer": payer["payer"],
                "label": payer.get("label"),
                "agreed": payer["amount"],
                "offer": offer,
                "matches": offer is not None
                and offer.id == payer.get("offer_id")
                and offer.amount == Decimal(payer["amount"]),
            }
        )
    return rows


def workbench(case: Case) -> dict[str, Any]:
    """Everything a judge checks before deciding, each item verified now: the report, the
    assessment (reproducible?), the offer trail (digests against the audit log), the agreement
    against the accepted offers, every file re-hashed, the case's audit events and the chain
    since its latest checkpoint (bounded: `CHAIN_TAIL`), the timers."""
    report = case.report
    report_document = session.get(Document, report.document_id) if report else None
    assessment = assessments.latest_assessment(case)
    trail = offers.case_offers(case)
    agreement = agreements.current_agreement(case)
    pdf, scan = agreements.agreement_documents(agreement) if agreement else (None, None)
    files = documents.case_documents(case)
    confirmation = current_confirmation(case)
    ruling = (
        session.get(Document, confirmation.ruling_document_id)
        if confirmation and confirmation.ruling_document_id
        else None
    )
    # The case's own events in full, the rest of the chain since its latest checkpoint.
    case_chain = audit.verify_case_events(case.id)
    chain = audit.verify_chain(limit=CHAIN_TAIL)
    matches = agreement_matches_offers(case, agreement)
    return {
        "report": report,
        "report_fields": (report.fields if report else None) or {},
        "report_document": report_document,
        "assessment": assessment,
        "reproducible": assessments.is_reproducible(assessment) if assessment else None,
        "offers": trail,
        "offer_verified": {offer.id: offers.verify_offer(offer) for offer in trail},
        "agreement": agreement,
        "agreement_pdf": pdf,
        "signed_scan": scan,
        "payer_checks": matches,
        "payers_match": bool(matches) and all(row["matches"] for row in matches),
        "documents": files,
        "integrity": check_documents(files),
        "chain": chain,
        "case_chain": case_chain,
        "chain_ok": chain.ok and case_chain.ok,
        "chain_breaks_case": _breaks_case(case, case_chain) or _breaks_case(case, chain),
        "case_events": audit.recent_events(limit=50, case_id=case.id),
        "clock": deadlines.case_clock(case),
        "confirmation": confirmation,
        "ruling": ruling,
        "grounds": REJECTION_GROUNDS,
    }


def _breaks_case(case: Case, result: audit.Verification) -> bool:
    """Whether a verification's first broken event is one of the case's."""
    if result.ok or result.broken_id is None:
        return False
    event = session.get(AuditEvent, result.broken_id)
    return event is not None and event.case_id == case.id
