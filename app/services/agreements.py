"""The settlement agreement (调解协议书): drafted by the mediator from the accepted offers as a
PDF, then signed in person by every party and payer (→ `agreed`). DOMAIN.md §6."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app import access, audit, digests, jobs, workflow
from app.clock import BEIJING  # noqa: E402
from app.db import session, utcnow
from app.documents import canonical_json_sha256, render_agreement
from app.errors import InvalidTransition, ValidationFailed
from app.labels import N_
from app.models import (
    Agreement,
    AgreementStatus,
    Assessment,
    Case,
    CaseStatus,
    Document,
    Offer,
    OfferStatus,
    Organization,
    Party,
    User,
)
from app.money import amount_text
from app.reports.fields import id_birth, id_gender
from app.services import deadlines, documents, notifications, payers
from app.services.assessments import latest_assessment
from app.validation import check_version

AGREEMENT_KIND = "agreement"
SIGNED_KIND = "signed_agreement"
SCAN_TYPES = ("application/pdf", "image/jpeg", "image/png")
MAX_PAYMENT_METHOD = 200
POLICY_NAMES = {"ctpi": "交强险", "commercial": "商业三者险", "seat": "车上人员责任险"}
FUND_NAME = "道路交通事故社会救助基金"
FUND_BASIS = "《道路交通事故社会救助基金管理办法》"
# The agreement has one payment deadline for the payers; the fund advances on its own procedure,
# for which DOMAIN.md gives no period.
FUND_DEADLINE = f"按{FUND_BASIS}办理"
REDUCTION_KINDS = {"gratuitous_ride": "好意同乘", "victim_fault": "受害人过错"}


def _today() -> date:
    return utcnow().astimezone(BEIJING).date()


def default_payment_due(today: date | None = None) -> date:
    """The insurer payment timer (交强险条例 art. 29: ten days) counted from `today`."""
    days = deadlines.timers()["insurer_payment"]["days"]
    return (today or _today()) + timedelta(days=days)


# -- reading the case -----------------------------------------------------------------------


def current_agreement(case: Case) -> Agreement | None:
    """The case's agreement in force: its newest draft or signed agreement."""
    return session.scalars(
        select(Agreement)
        .where(Agreement.case_id == case.id, Agreement.status != AgreementStatus.SUPERSEDED)
        .order_by(Agreement.id.desc())
        .limit(1)
    ).first()


def accepted_offers(case: Case) -> dict[str, Offer]:
    """The latest accepted offer of each payer of `case`."""
    rows = session.scalars(
        select(Offer)
        .where(Offer.case_id == case.id, Offer.status == OfferStatus.ACCEPTED)
        .order_by(Offer.answered_at.desc().nulls_last(), Offer.id.desc())
    )
    latest: dict[str, Offer] = {}
    for offer in rows:
        latest.setdefault(offer.payer, offer)
    return latest


def _policy_insurer(case: Case, payer: str) -> str | None:
    """The insurer name on the policy behind an insurer payer (`ctpi:甲方`; `seat:甲方` is the
    vehicle's commercial insurer, see `payers.payer_org_id`)."""
    kind, label = payers.split_payer(payer)
    policy_kind = payers.payer_policy_kind(payer)
    if policy_kind is None:
        return None
    drivers = {party.id: party.label for party in case.parties}
    for vehicle in case.vehicles:
        if drivers.get(vehicle.driver_party_id) != label:
            continue
        for policy in vehicle.policies:
            if policy.kind == policy_kind:
                return policy.insurer_name
    return None


def payer_label(case: Case, payer: str) -> str:
    """How the agreement names a payer: the insurer or the party, with its role (Chinese, the
    document's language)."""
    kind, label = payers.split_payer(payer)
    if kind == "fund":
        return FUND_NAME
    if kind in POLICY_NAMES:
        insurer = _policy_insurer(case, payer) or "保险公司"
        return f"{insurer}（{label} {POLICY_NAMES[kind]}）"
    party = next((p for p in case.parties if p.label == label), None)
    if party is not None and party.name:
        return f"{party.name}（{label}）"
    return label or payer


def payers_to_agree(case: Case) -> list[dict[str, Any]]:
    """Every payer the agreement needs (an assessed amount > 0, not the victim's own share nor
    the fund, which only advances; or an accepted offer), with its assessed amount and its
    accepted offer (None if missing)."""
    assessment = latest_assessment(case)
    assessed = payers.assessed_amounts(assessment) if assessment else {}
    offers = accepted_offers(case)
    needed = [p for p, amount in assessed.items() if payers.is_owing(p) and amount > 0]
    extra = [
        p for p, o in offers.items() if p not in needed and payers.is_owing(p) and o.amount > 0
    ]
    extra.sort(key=lambda p: (payers.KINDS.index(payers.split_payer(p)[0]), p))
    return [
        {
            "payer": payer,
            "label": payer_label(case, payer),
            "assessed": assessed.get(payer, Decimal("0.00")),
            "offer": offers.get(payer),
        }
        for payer in needed + extra
    ]


def assessment_warnings(case: Case) -> list[dict[str, Any]]:
    """The latest assessment's warnings (stale standards…) as the agreement carries them."""
    assessment = latest_assessment(case)
    return _warnings(assessment) if assessment is not None else []


def _warnings(assessment: Assessment) -> list[dict[str, Any]]:
    return [
        {"code": warning.get("code"), "message": warning.get("message")}
        for warning in assessment.result.get("warnings") or []
    ]


def _report(case: Case) -> dict[str, Any]:
    fields = (case.report.fields if case.report else None) or {}
    accident_time = fields.get("accident_time") or (
        case.accident_time.isoformat() if case.accident_time else None
    )
    return {
        "document_no": fields.get("document_no") or case.report_no,
        "issuer": fields.get("issuer"),
        "accident_time": accident_time,
        "location": fields.get("location") or case.accident_place,
        "facts": fields.get("facts"),
        "cause": fields.get("cause"),
    }


def _birth_date(party: Party, reviewed: dict[str, Any]) -> str | None:
    """The birth date the confirmed report states, else the one in the 18-digit resident ID
    number (GB 11643); None when neither says."""
    try:
        return date.fromisoformat(str(reviewed.get("birth_date"))).isoformat()
    except ValueError:
        born = id_birth(party.id_number)
        return born.isoformat() if born else None


def _parties(case: Case) -> list[dict[str, Any]]:
    plates = {vehicle.driver_party_id: vehicle.plate for vehicle in case.vehicles}
    fields = (case.report.fields if case.report else None) or {}
    reviewed = {
        entry.get("label"): entry
        for entry in fields.get("parties") or []
        if isinstance(entry, dict)
    }
    return [
        {
            "label": party.label,
            "name": party.name,
            "gender": party.gender or id_gender(party.id_number),
            "birth_date": _birth_date(party, reviewed.get(party.label) or {}),
            "address": party.address,
            "role": party.role,
            "traffic_mode": party.traffic_mode,
            "liability": party.liability,
            # In full, as the parties sign it; an insurer is given a copy with the number
            # masked (app.services.copies).
            "id_number": party.id_number,
            "plate": plates.get(party.id),
        }
        for party in case.parties
    ]


def _victims(case: Case, assessment: Assessment) -> list[dict[str, Any]]:
    request = assessment.input["request"]
    labels = {party.label for party in case.parties}
    asked = {victim.get("id"): victim for victim in request.get("victims", [])}
    carried = {
        occupant: party["id"]
        for party in request.get("parties", [])
        for occupant in party.get("occupants") or []
    }
    victims = []
    for victim in assessment.result["victims"]:
        party = asked.get(victim["id"], {}).get("party")
        entry = {
            "id": victim["id"],
            "name": victim.get("name"),
            "party": party if party in labels else None,
            "occupant_of": carried.get(victim["id"]),
            "birth_date": asked.get(victim["id"], {}).get("birth_date"),
            "total": victim["total"],
            "items": [
                {
                    "code": item["code"],
                    "label": item.get("label"),
                    "amount": item["amount"],
                    "formula": item.get("formula"),
                    "basis": item.get("basis"),
                }
                for item in victim["items"]
            ],
        }
        reduction = victim.get("reduction")
        if reduction:
            # 好意同乘 (民法典 art. 1217) or the victim's own fault (art. 1173).
            entry["reduction"] = {
                "kind": reduction.get("kind"),
                "label": REDUCTION_KINDS.get(reduction.get("kind") or "", reduction.get("kind")),
                "ratio": reduction.get("ratio"),
                "reason": reduction.get("reason"),
            }
        victims.append(entry)
    return victims


def _item_names(assessment: Assessment) -> dict[tuple[str, str], str]:
    return {
        (victim["id"], item["code"]): item.get("label") or item["code"]
        for victim in assessment.result["victims"]
        for item in victim["items"]
    }


def _named_items(
    entries: list[dict[str, Any]] | None, victim_id: str, names: dict[tuple[str, str], str]
) -> list[dict[str, Any]]:
    return [
        {
            "code": entry["code"],
            "label": names.get((victim_id, entry["code"]), entry["code"]),
            "amount": entry["amount"],
        }
        for entry in entries or []
    ]


def _payer_items(assessment: Assessment, payer: str) -> list[dict[str, Any]]:
    """Which items `payer` pays under `assessment`, per victim and item (assessed amounts)."""
    names = _item_names(assessment)
    sums: dict[tuple[str, str], Decimal] = {}
    for payment in assessment.result["payments"]:
        if payment["payer"] != payer:
            continue
        for entry in payment.get("items") or []:
            key = (payment["victim"], entry["code"])
            sums[key] = sums.get(key, Decimal("0.00")) + Decimal(entry["amount"])
    return [
        {
            "victim": victim_id,
            "code": code,
            "label": names.get((victim_id, code), code),
            "amount": amount_text(amount),
        }
        for (victim_id, code), amount in sums.items()
        if amount > 0
    ]


def _recoveries(case: Case, assessment: Assessment) -> list[dict[str, Any]]:
    """What an insurer pays and may recover from the driver (交强险条例 art. 22; 道交解释
    art. 15): a clause of its own, outside the amounts the victims receive."""
    return [
        {
            "victim": recovery.get("victim"),
            "payer": recovery["payer"],
            "payer_label": payer_label(case, recovery["payer"]),
            "from": recovery["from"],
            "from_label": payer_label(case, recovery["from"]),
            "amount": recovery["amount"],
            "reason": recovery.get("reason"),
            "reason_label": recovery.get("reason_label") or recovery.get("reason"),
            "basis": recovery.get("basis"),
        }
        for recovery in assessment.result.get("recoveries") or []
    ]


def _advances(case: Case, assessment: Assessment) -> list[dict[str, Any]]:
    """What the 道路交通事故社会救助基金 advances for a victim and recovers from the party: a row
    and a clause of its own, on the fund's procedure rather than the payers' deadline."""
    names = _item_names(assessment)
    victims = {victim["id"]: victim for victim in assessment.result["victims"]}
    advances = []
    for advance in assessment.result.get("advances") or []:
        victim_id = advance["victim"]
        recover_from = advance.get("recover_from")
        advances.append(
            {
                "victim": victim_id,
                "victim_name": victims.get(victim_id, {}).get("name") or victim_id,
                "payer": advance.get("payer") or "fund",
                "payer_label": FUND_NAME,
                "amount": advance["amount"],
                "items": _named_items(advance.get("items"), victim_id, names),
                "recover_from": recover_from,
                "recover_from_label": payer_label(case, recover_from) if recover_from else None,
                "basis": advance.get("basis") or FUND_BASIS,
                "deadline": FUND_DEADLINE,
            }
        )
    return advances


def _signatories(
    parties: list[dict[str, Any]], victims: list[dict[str, Any]], agreed: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Who signs: every party, every victim who is not a party, every insurer payer (a party
    that pays signs as the party)."""
    found = [
        {
            "id": p["label"],
            "kind": "party",
            "name": p["name"],
            "label": f"{p['label']} {p['name'] or ''}".strip(),
        }
        for p in parties
    ]
    found += [
        {
            "id": f"victim:{v['id']}",
            "kind": "victim",
            "name": v["name"],
            "label": f"{v['name'] or v['id']}（赔偿权利人）",
        }
        for v in victims
        if not v["party"]
    ]
    found += [
        {
            "id": p["payer"],
            "kind": "insurer",
            "name": p["insurer"],
            "label": p["label"],
            "role": POLICY_NAMES[payers.split_payer(p["payer"])[0]],
        }
        for p in agreed
        if payers.split_payer(p["payer"])[0] in POLICY_NAMES
    ]
    return found


def build_agreement_data(
    *, actor: User, case: Case, payment_method: str, payment_due: date, today: date
) -> dict[str, Any]:
    """The agreement's content (what the PDF shows and its SHA-256 covers); 409 when a payer
    has no accepted offer yet."""
    assessment = latest_assessment(case)
    if assessment is None:
        raise InvalidTransition(_("The case has no assessment yet."))
    rows = payers_to_agree(case)
    missing = [row for row in rows if row["offer"] is None]
    if missing:
        raise InvalidTransition(
            _(
                "These payers have no accepted offer yet: %(payers)s.",
                payers="、".join(f"{row['payer']}（{row['label']}）" for row in missing),
            ),
            code="offers_missing",
            payers=[row["payer"] for row in missing],
        )
    if not rows:
        raise InvalidTransition(
            _("Nobody but the victims themselves pays under the assessment: nothing to agree.")
        )
    agreed = [
        {
            "payer": row["payer"],
            "label": row["label"],
            "insurer": _policy_insurer(case, row["payer"]),
            "org_id": payers.payer_org_id(case, row["payer"]),
            "amount": amount_text(row["offer"].amount),
            "assessed": amount_text(row["assessed"]),
            "offer_id": row["offer"].id,
            "offer_digest": row["offer"].digest,
            "items": _payer_items(assessment, row["payer"]),
        }
        for row in rows
    ]
    parties = _parties(case)
    victims = _victims(case, assessment)
    committee = session.get(Organization, case.mediation_committee_id)
    return {
        "case_number": case.number,
        "committee": committee.name if committee else None,
        "mediator": actor.display_name,
        "report": _report(case),
        "parties": parties,
        "victims": victims,
        "shares": {v["id"]: v.get("shares", {}) for v in assessment.result["victims"]},
        "assessment": {"id": assessment.id, "fingerprint": assessment.fingerprint},
        "payers": agreed,
        "recoveries": _recoveries(case, assessment),
        "advances": _advances(case, assessment),
        # Shown in the draft so that the mediator checks them before anyone signs.
        "warnings": _warnings(assessment),
        "signatories": _signatories(parties, victims, agreed),
        "total": amount_text(sum((row["offer"].amount for row in rows), Decimal("0.00"))),
        "payment_method": payment_method,
        "payment_due": payment_due.isoformat(),
        "date": today.isoformat(),
    }


# -- drafting -------------------------------------------------------------------------------


def draft_agreement(
    *,
    actor: User,
    case: Case,
    payment_method: str,
    payment_due: date | None = None,
    version: int | None = None,
) -> Agreement:
    """The mediator drafts the 调解协议书 PDF from the accepted offers; an earlier draft is
    superseded. The case stays `negotiating` until the agreement is signed."""
    access.require_case_mediator(actor, case)
    check_version(case, version)
    if case.status != CaseStatus.NEGOTIATING:
        raise InvalidTransition(
            _("An agreement can be drafted only while the case is being negotiated.")
        )
    method = (payment_method or "").strip()
    if not method:
        raise ValidationFailed(_("Give the payment method."), field="payment_method")
    if len(method) > MAX_PAYMENT_METHOD:
        raise ValidationFailed(
            _("The payment method is longer than %(n)d characters.", n=MAX_PAYMENT_METHOD),
            field="payment_method",
        )
    today = _today()
    due = payment_due or default_payment_due(today)
    if due < today:
        raise ValidationFailed(_("The payment deadline is in the past."), field="payment_due")
    data = build_agreement_data(
        actor=actor, case=case, payment_method=method, payment_due=due, today=today
    )
    sha256 = canonical_json_sha256(data)
    pdf = render_agreement(data, current_app.config["DAOJIAO_CJK_FONT"])
    document = documents.store_document(
        actor=actor,
        case=case,
        kind=AGREEMENT_KIND,
        data=pdf,
        media_type="application/pdf",
        filename=f"调解协议书-{case.number}.pdf",
    )
    jobs.schedule("documents.preview", subject_id=document.id, case_id=case.id, actor=actor)
    superseded = []
    for earlier in session.scalars(
        select(Agreement).where(
            Agreement.case_id == case.id, Agreement.status != AgreementStatus.SUPERSEDED
        )
    ):
        earlier.status = AgreementStatus.SUPERSEDED
        superseded.append(earlier.id)
    agreement = Agreement(
        case_id=case.id,
        data=data,
        sha256=sha256,
        document_id=document.id,
        status=AgreementStatus.DRAFT,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    session.add(agreement)
    case.updated_at = utcnow()  # a new version of the case: a sign form of the old draft is stale
    session.flush()
    audit.record(
        "agreement.drafted",
        actor=actor,
        case_id=case.id,
        subject=f"agreement:{agreement.id}",
        details={
            "sha256": sha256,
            "document_id": document.id,
            "document_sha256": document.sha256,
            "payers": {p["payer"]: p["amount"] for p in data["payers"]},
            "total": data["total"],
            "payment_due": data["payment_due"],
            "superseded": superseded,
            digests.DIGESTS_KEY: digests.row_digests(
                agreement, *(session.get(Agreement, i) for i in superseded)
            ),
        },
    )
    return agreement


# -- signing --------------------------------------------------------------------------------


def required_signers(agreement: Agreement) -> list[dict[str, Any]]:
    """Who must sign `agreement`: its parties, victims who are not parties, insurer payers."""
    return list(agreement.data.get("signatories") or [])


def _check_signers(agreement: Agreement, signers: list[str]) -> list[str]:
    required = required_signers(agreement)
    known = {s["id"] for s in required}
    given = set()
    for raw in signers:
        signer = str(raw).strip()
        # A party that pays (`party:甲方`) signs as the party.
        if signer.startswith("party:") and signer.removeprefix("party:") in known:
            signer = signer.removeprefix("party:")
        if signer not in known:
            raise ValidationFailed(
                _("%(signer)s is not a party or payer of this agreement.", signer=signer),
                field="signers",
            )
        given.add(signer)
    missing = [s for s in required if s["id"] not in given]
    if missing:
        raise ValidationFailed(
            _(
                "Everyone must sign; these have not: %(names)s.",
                names="、".join(
                    f"{s['id']}（{s['name']}）" if s.get("name") else s["id"] for s in missing
                ),
            ),
            code="signers_missing",
            field="signers",
        )
    return [s["id"] for s in required]


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=BEIJING)


def sign_agreement(
    *,
    actor: User,
    case: Case,
    signers: list[str],
    filename: str | None,
    data: bytes,
    version: int | None = None,
) -> Agreement:
    """The mediator records that every party and payer signed the current draft in person and
    adds the signed scan: the case is `agreed`; the confirmation and payment timers start."""
    access.require_case_mediator(actor, case)
    check_version(case, version)
    agreement = current_agreement(case)
    if agreement is None or agreement.status != AgreementStatus.DRAFT:
        raise InvalidTransition(_("There is no drafted agreement to sign."))
    workflow.check(case, "sign_agreement", actor)
    signed_by = _check_signers(agreement, signers)
    scan = documents.store_evidence(
        actor=actor,
        case=case,
        kind=SIGNED_KIND,
        filename=filename,
        data=data,
        description=f"调解协议书签署件 SHA-256 {agreement.sha256[:16]}",
        media_types=SCAN_TYPES,
        unsupported=_("The signed agreement must be a PDF file or a JPEG or PNG image."),
    )
    now = utcnow()
    signed = {
        "status": AgreementStatus.SIGNED,
        "signers": signed_by,
        "signed_scan_id": scan.id,
        "signed_at": now,
        "signed_by_id": actor.id,
    }
    workflow.transition(  # while the agreement is still the draft its guard asks for
        case,
        "sign_agreement",
        actor,
        subject=f"agreement:{agreement.id}",
        at=now,
        sha256=agreement.sha256,
        signers=signed_by,
        scan_id=scan.id,
        scan_sha256=scan.sha256,
        **{digests.DIGESTS_KEY: digests.row_digests_after(agreement, signed)},
    )
    for name, value in signed.items():
        setattr(agreement, name, value)
    session.flush()
    _start_payment_timers(case, agreement)
    _notify_insurers(case, agreement)
    return agreement


def _start_payment_timers(case: Case, agreement: Agreement) -> None:
    """Each insurer payer pays by the date the agreement sets."""
    due = date.fromisoformat(agreement.data["payment_due"])
    basis = deadlines.timers()["insurer_payment"]["basis"]
    for payer in agreement.data["payers"]:
        if payer.get("org_id") is None:
            continue
        deadlines.add_deadline(
            case=case,
            kind="insurer_payment",
            basis=f"{basis}；调解协议约定于{due.isoformat()}前履行"[:200],
            owner_org_id=payer["org_id"],
            due_at=_end_of_day(due),
            subject=f"payer:{payer['payer']}",
        )


def _notify_insurers(case: Case, agreement: Agreement) -> None:
    owed: dict[int, Decimal] = {}
    for payer in agreement.data["payers"]:
        if payer.get("org_id") is not None:
            owed[payer["org_id"]] = owed.get(payer["org_id"], Decimal("0.00")) + Decimal(
                payer["amount"]
            )
    for org_id, amount in owed.items():
        notifications.notify_org(
            org_id=org_id,
            case=case,
            kind="agreement.signed",
            message=N_(
                "The settlement agreement of case %(number)s was signed: your insurer pays "
                "%(amount)s yuan by %(due)s."
            ),
            number=case.number,
            amount=amount_text(amount),
            due=agreement.data["payment_due"],
        )


def agreement_documents(agreement: Agreement) -> tuple[Document, Document | None]:
    """The agreement's PDF and, once signed, the signed scan."""
    pdf = session.get(Document, agreement.document_id)
    scan = session.get(Document, agreement.signed_scan_id) if agreement.signed_scan_id else None
    return pdf, scan
