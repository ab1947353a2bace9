"""Claims and assessments of a case: file the victims' claims, assess them in a job, explore
what-ifs. Stored assessments are immutable and reproducible from what they keep."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app import access, audit, compensation, digests, jobs, stats, workflow
from app.clock import BEIJING  # noqa: E402
from app.compensation.catalog import standard_set_from_json
from app.compensation.items import full_years
from app.compensation.rules import chosen_standards_year
from app.db import session, utcnow
from app.errors import InvalidTransition, ValidationFailed
from app.labels import ITEM_LABELS, N_, RECOVERY_REASONS
from app.models import (
    PAYABLE_STATES,
    Assessment,
    Case,
    CaseStatus,
    Claim,
    Document,
    InsurerClaim,
    Party,
    PolicyKind,
    Role,
    User,
    Vehicle,
)
from app.money import amount_text
from app.services import mediation, standards
from app.services.claims import latest_claim
from app.validation import check_version

CLAIM_FIELDS = ("victims", "parties", "options", "standards_year", "standards")
# What the mediator may set for a party in the claims, applied in this order (the commercial
# limit before the policy's exclusions, the 交强险 a report leaves unknown before anything else).
PARTY_OVERRIDES = (
    "id",
    "ctpi_insurer",
    "ctpi_uninsured",  # the two before the rest: see _apply_ctpi_overrides
    "ratio",
    "commercial_limit",
    "excluded_items",
    "covers_indirect",
    "misconduct",
    "seat_cover",
)
# The driver's misconduct after which 交强险 pays personal injury and recovers it from the
# driver, pays no property loss, and the commercial cover pays nothing (交强险条例第二十二条,
# 道交解释第十五条).
MISCONDUCTS = tuple(RECOVERY_REASONS)
_MAX_AMOUNT = Decimal(10) ** 11


def _digest(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def jurisdiction() -> str:
    """The jurisdiction whose rules and standards this deployment applies."""
    return current_app.config["DAOJIAO_JURISDICTION"]


# A rider's vehicle that is nonetheless a motor vehicle (三轮摩托车, 电动汽车…).
_MOTOR_WORDS = re.compile(r"摩托|汽车|机动")


def _party_kind(party: Party, vehicle: Vehicle | None, uninsured: set[str]) -> str:
    """`vehicle` for a motor vehicle's party; an e-bike or bicycle rider is `non_motor` even
    though the report names their vehicle (a non-motor vehicle has no 交强险, and 道交法 art. 76
    treats its rider like a pedestrian)."""
    if vehicle is None:
        return "pedestrian" if party.role == "pedestrian" else "non_motor"
    if vehicle.policies or party.label in uninsured or party.role != "cyclist":
        return "vehicle"
    words = f"{party.traffic_mode or ''}{vehicle.vehicle_type or ''}"
    return "vehicle" if _MOTOR_WORDS.search(words) else "non_motor"


def _uninsured_labels(case: Case) -> set[str]:
    """The parties whose vehicle the officer marked as without 交强险 (未投保交强险): the flag
    lives in the confirmed report's reviewed fields only."""
    fields = (case.report.fields if case.report is not None else None) or {}
    return {
        party.get("label")
        for party in fields.get("parties") or []
        if isinstance(party, dict) and party.get("ctpi_uninsured")
    }


def _identity_unknown(party: Any) -> bool:
    # The report lists an unidentified party (逃逸, 身份不明) with null identity fields.
    return not party.name and not party.id_number


def case_parties(case: Case) -> list[dict[str, Any]]:
    """The parties of the confirmed report in the engine's shape (INTERFACES.md §3). A vehicle
    whose 交强险 the report leaves unknown has no `ctpi`: `build_input` refuses it."""
    vehicles = {vehicle.driver_party_id: vehicle for vehicle in case.vehicles}
    uninsured = _uninsured_labels(case)
    parties = []
    for party in case.parties:
        vehicle = vehicles.get(party.id)
        if vehicle is None and party.role == "passenger":
            continue  # a passenger is an occupant of a vehicle, not a party to the accident
        kind = _party_kind(party, vehicle, uninsured)
        entry: dict[str, Any] = {
            "id": party.label,
            "kind": kind,
            "name": party.name,
            "liability": party.liability,
        }
        if kind == "vehicle":
            entry["plate"] = vehicle.plate
            ctpi = next((p for p in vehicle.policies if p.kind == PolicyKind.CTPI), None)
            # No policy on record is not "uninsured": only the officer's mark says so (a wrong
            # guess moves 交强险's part, up to 200,000 yuan, from an insurer to the owner).
            if ctpi is not None:
                entry["ctpi"] = {"insurer": ctpi.insurer_name, "insured": True}
            elif party.label in uninsured:
                entry["ctpi"] = {"insured": False}
            elif _identity_unknown(party):
                entry["hit_and_run"] = True  # fled or unknown: the 社会救助基金 advances
            commercial = next(
                (p for p in vehicle.policies if p.kind == PolicyKind.COMMERCIAL), None
            )
            if commercial is not None:
                entry["commercial"] = {
                    "insurer": commercial.insurer_name,
                    "limit": None if commercial.limit is None else str(commercial.limit),
                }
            entry["occupants"] = []
        parties.append(entry)
    return parties


def is_ctpi_unknown(party: dict[str, Any]) -> bool:
    """Whether the 交强险 of a vehicle party (as `case_parties` gives it) is not known."""
    return party["kind"] == "vehicle" and "ctpi" not in party and not party.get("hit_and_run")


# Liability grades from the least to the most (DOMAIN.md §3.4).
LIABILITY_ORDER = ("none", "minor", "equal", "main", "full")


def likely_victim(case: Case, taken: set[str]) -> str | None:
    """The label of the party a new victim most likely is, among those not `taken`: someone
    on foot or on a non-motor vehicle before a motor vehicle's party, the least liable first;
    never the driver of a vehicle fully liable for the accident."""
    candidates = [
        party
        for party in case_parties(case)
        if party["id"] not in taken
        and not (party["kind"] == "vehicle" and party.get("liability") == "full")
    ]
    if not candidates:
        return None

    def rank(party: dict[str, Any]) -> tuple[bool, int]:
        grade = party.get("liability")
        order = LIABILITY_ORDER.index(grade) if grade in LIABILITY_ORDER else len(LIABILITY_ORDER)
        return party["kind"] == "vehicle", order

    return min(candidates, key=rank)["id"]


def unclaimed_medical_bills(case: Case, claims: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's medical bills with an amount that no filed victim's bill names yet, as bill
    rows of the claims (amount, description, the evidence's id)."""
    named = set()
    for victim in claims.get("victims") or []:
        medical = (victim.get("items") or {}).get("medical")
        bills = medical.get("bills") if isinstance(medical, dict) else None
        named |= {str(bill.get("document")) for bill in bills or [] if isinstance(bill, dict)}
    documents = session.scalars(
        select(Document)
        .where(
            Document.case_id == case.id,
            Document.kind == "medical_bill",
            Document.amount.is_not(None),
        )
        .order_by(Document.id)
    )
    return [
        {
            "amount": amount_text(document.amount),
            "description": (document.description or document.filename or "")[:200],
            "document": str(document.id),
        }
        for document in documents
        if str(document.id) not in named
    ]


def new_victim(case: Case, claims: dict[str, Any]) -> dict[str, Any]:
    """A new victim of `claims` as far as the case knows it, for the mediator to check: the
    likely party with their name, age and date of birth (from the ID number), and the medical
    bills of the evidence no other victim claims."""
    victim: dict[str, Any] = {}
    label = likely_victim(case, {v.get("party") for v in claims.get("victims") or []})
    party = next((p for p in case.parties if p.label == label), None)
    if party is not None:
        victim["party"] = party.label
        if party.name:
            victim["name"] = party.name
        born = party_birth_date(case, party)
        if born is not None:
            victim["birth_date"] = born
        if party.age is not None:
            victim["age"] = party.age
        elif born is not None and case.accident_time is not None:
            accident_day = case.accident_time.astimezone(BEIJING).date()
            victim["age"] = full_years(date.fromisoformat(born), accident_day)
    bills = unclaimed_medical_bills(case, claims)
    if bills:
        victim["items"] = {"medical": {"bills": bills}}
    return victim


def _apply_insurer_claims(case: Case, by_id: dict[str, dict[str, Any]]) -> None:
    """An adjuster's claim data: the commercial limit of their policy, or its exclusion."""
    for record in session.scalars(select(InsurerClaim).where(InsurerClaim.case_id == case.id)):
        for label, data in (record.policies or {}).items():
            party = by_id.get(label)
            if party is None or "commercial" not in party:
                continue
            if data.get("commercial_excluded"):
                del party["commercial"]  # the clause excludes this loss: the party pays
            elif data.get("commercial_limit") is not None:
                party["commercial"]["limit"] = str(data["commercial_limit"])


def _check_claims_shape(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("victims"), list):
        raise ValidationFailed(_('Send the claims as {"victims": […]}.'), field="victims")
    for key in data:
        if key not in CLAIM_FIELDS:
            raise ValidationFailed(
                _("Unknown field %(field)s in the claims.", field=key), field=key
            )
    return data


def build_input(case: Case, claims: dict[str, Any], year: int | None = None) -> dict[str, Any]:
    """The engine input for `case` from its confirmed report and the filed claims."""
    if case.accident_time is None:
        raise ValidationFailed(_("The case has no accident date; the police must record it."))
    parties = case_parties(case)
    by_id = {party["id"]: party for party in parties}
    had_commercial = {party["id"] for party in parties if "commercial" in party}
    _apply_insurer_claims(case, by_id)
    for index, override in enumerate(claims.get("parties") or []):
        path = f"parties[{index}]"
        if not isinstance(override, dict) or override.get("id") not in by_id:
            raise ValidationFailed(
                _("%(path)s must name a party of the case by its label (甲方, 乙方…).", path=path),
                field=path,
            )
        for key in override:
            if key not in PARTY_OVERRIDES:
                raise ValidationFailed(
                    _("Unknown field %(field)s in the claims.", field=f"{path}.{key}"),
                    field=f"{path}.{key}",
                )
        target = by_id[override["id"]]
        _apply_ctpi_overrides(target, override, path=path)
        for key in PARTY_OVERRIDES[3:]:
            if key in override:
                _apply_override(
                    target,
                    key,
                    override[key],
                    field=f"{path}.{key}",
                    insurer_excluded=target["id"] in had_commercial and "commercial" not in target,
                )
    for party in parties:
        if is_ctpi_unknown(party):
            raise ValidationFailed(
                _(
                    "The compulsory insurance (交强险) of %(party)s's vehicle is not known: the "
                    "report names no compulsory insurer and does not say the vehicle has none. "
                    "Check its policy, then give the compulsory insurer or tick “no compulsory "
                    "insurance” for that party in the claims (ctpi_insurer or ctpi_uninsured).",
                    party=party["id"],
                ),
                field="parties",
            )
    for party in parties:
        if party.get("commercial", {"limit": 0})["limit"] is None:
            raise ValidationFailed(
                _(
                    "The commercial limit of %(party)s's vehicle is not known: give it as "
                    "commercial_limit of that party in the claims.",
                    party=party["id"],
                ),
                field="parties",
            )
    victims = []
    labels = {party.label: party for party in case.parties}
    for index, raw in enumerate(claims["victims"]):
        if not isinstance(raw, dict):
            raise ValidationFailed(
                _("Victim %(n)d must be an object.", n=index + 1), field=f"victims[{index}]"
            )
        victim = copy.deepcopy(raw)
        occupant_of = victim.pop("occupant_of", None)
        if occupant_of is not None:
            if occupant_of not in by_id or by_id[occupant_of]["kind"] != "vehicle":
                raise ValidationFailed(
                    _(
                        "victims[%(i)s].occupant_of must name a vehicle party of the case.",
                        i=index,
                    ),
                    field=f"victims[{index}].occupant_of",
                )
            by_id[occupant_of]["occupants"].append(victim.get("id"))
        known = labels.get(victim.get("party"))
        if known is not None:
            if victim.get("name") is None and known.name:
                victim["name"] = known.name
            if victim.get("age") is None and known.age is not None:
                victim["age"] = known.age
        if victim.get("appraised_on") and not victim.get("birth_date"):
            # The age at 定残 decides the years of 残疾赔偿金 (人损解释第十二条).
            born = party_birth_date(case, known) if known is not None else None
            if born is None:
                raise ValidationFailed(
                    _(
                        "Victim %(victim)s has a date of the disability rating but no date of "
                        "birth, and the report has no ID number for them: give the date of birth.",
                        victim=victim.get("name") or victim.get("id") or index + 1,
                    ),
                    field=f"victims[{index}].birth_date",
                )
            victim["birth_date"] = born
        victims.append(victim)
    data: dict[str, Any] = {
        "accident_date": case.accident_time.astimezone(BEIJING).date().isoformat(),
        "as_of": _as_of(case),
        "jurisdiction": jurisdiction(),
        "victims": victims,
        "parties": parties,
    }
    for key in ("options", "standards"):
        if claims.get(key):
            data[key] = claims[key]
    chosen = claims.get("standards_year", year)
    if chosen is not None:
        data["standards_year"] = chosen
    return data


def _money_text(value: Any) -> str | None:
    """An amount in yuan as the engine takes it ("10000.00"), or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= _MAX_AMOUNT:
        return None
    if amount != amount.quantize(Decimal("0.01")):
        return None
    return amount_text(amount)


def _require_vehicle(target: dict[str, Any], option: str, field: str) -> None:
    if target["kind"] != "vehicle":
        raise ValidationFailed(
            _(
                "%(party)s is not a motor vehicle's party: %(option)s applies only to one.",
                party=target["id"],
                option=option,
            ),
            field=field,
        )


def _apply_override(
    target: dict[str, Any], key: str, value: Any, *, field: str, insurer_excluded: bool
) -> None:
    """One option the mediator set for a party in the claims, checked, onto the engine party."""
    label = target["id"]
    if key == "ratio":
        target["ratio"] = value
    elif key == "commercial_limit":
        if "commercial" not in target:
            target["commercial"] = {"insurer": None}
        target["commercial"]["limit"] = value
    elif key in ("excluded_items", "covers_indirect"):
        if value in (None, False, []):
            return
        _require_vehicle(target, _("the commercial policy's terms"), field)
        if insurer_excluded:
            return  # the insurer excluded the whole loss: its terms no longer matter
        if "commercial" not in target:
            raise ValidationFailed(
                _(
                    "%(party)s's vehicle has no commercial third-party insurance: what that "
                    "policy does not pay cannot be set.",
                    party=label,
                ),
                field=field,
            )
        if key == "covers_indirect":
            if value is not True:
                raise ValidationFailed(
                    _(
                        "Whether %(party)s's commercial policy pays indirect losses must be yes "
                        "or no.",
                        party=label,
                    ),
                    field=field,
                )
            target["commercial"]["covers_indirect"] = True
            return
        if not isinstance(value, list) or any(code not in ITEM_LABELS for code in value):
            raise ValidationFailed(
                _(
                    "The items %(party)s's commercial policy does not pay must be chosen from "
                    "the compensation items.",
                    party=label,
                ),
                field=field,
            )
        target["commercial"]["excluded_items"] = list(dict.fromkeys(value))
    elif key == "misconduct":
        if value is None:
            return
        _require_vehicle(target, _("the driver's misconduct"), field)
        if value not in MISCONDUCTS:
            raise ValidationFailed(
                _(
                    "The driver's misconduct of %(party)s must be one of: %(choices)s.",
                    party=label,
                    choices="、".join(str(RECOVERY_REASONS[code]) for code in MISCONDUCTS),
                ),
                field=field,
            )
        target["misconduct"] = value
    elif key == "seat_cover":
        if value is None:
            return
        _require_vehicle(target, _("passenger liability insurance"), field)
        cover = value if isinstance(value, dict) else {}
        limit = _money_text(cover.get("limit_per_seat"))
        insurer = cover.get("insurer") or (target.get("commercial") or {}).get("insurer")
        if (
            set(cover) - {"insurer", "limit_per_seat"}
            or not limit
            or Decimal(limit) <= 0
            or not isinstance(insurer, str)
            or not insurer.strip()
        ):
            raise ValidationFailed(
                _(
                    "The passenger liability insurance of %(party)s's vehicle needs its insurer "
                    "and a limit per seat in yuan.",
                    party=label,
                ),
                field=field,
            )
        target["seat_cover"] = {"insurer": insurer.strip()[:200], "limit_per_seat": limit}


def _apply_ctpi_overrides(target: dict[str, Any], override: dict[str, Any], *, path: str) -> None:
    """The 交强险 the mediator found on the policy, where the report leaves it unknown."""
    label = target["id"]
    insurer = override.get("ctpi_insurer")
    uninsured = override.get("ctpi_uninsured")
    if insurer is not None and not isinstance(insurer, str):
        raise ValidationFailed(
            _("The compulsory insurer of %(party)s's vehicle must be a name.", party=label),
            field=f"{path}.ctpi_insurer",
        )
    if uninsured not in (None, True, False):
        raise ValidationFailed(
            _(
                "Whether %(party)s's vehicle has no compulsory insurance must be yes or no.",
                party=label,
            ),
            field=f"{path}.ctpi_uninsured",
        )
    insurer = (insurer or "").strip()
    if not insurer and not uninsured:
        return
    field = f"{path}.ctpi_insurer" if insurer else f"{path}.ctpi_uninsured"
    _require_vehicle(target, _("compulsory insurance"), field)
    if insurer and uninsured:
        raise ValidationFailed(
            _(
                "Give either the compulsory insurer of %(party)s's vehicle or that it has no "
                "compulsory insurance, not both.",
                party=label,
            ),
            field=field,
        )
    if "ctpi" in target:
        raise ValidationFailed(
            _(
                "The police recorded the compulsory insurance of %(party)s's vehicle; the claims "
                "cannot change it.",
                party=label,
            ),
            field=field,
        )
    target.pop("hit_and_run", None)  # a fled vehicle found later: its policy is known now
    target["ctpi"] = {"insurer": insurer[:200], "insured": True} if insurer else {"insured": False}


def party_birth_date(case: Case, party: Any) -> str | None:
    """A party's date of birth from their resident ID number (GB 11643), else as the report
    gives it; None when neither says."""
    number = (party.id_number or "").strip().upper()
    digits = number[6:14] if len(number) == 18 else f"19{number[6:12]}" if len(number) == 15 else ""
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])).isoformat()
    except ValueError:
        pass
    fields = (case.report.fields if case.report is not None else None) or {}
    for reviewed in fields.get("parties") or []:
        if isinstance(reviewed, dict) and reviewed.get("label") == party.label:
            try:
                return date.fromisoformat(str(reviewed.get("birth_date"))).isoformat()
            except ValueError:
                return None
    return None


def _as_of(case: Case) -> str:
    """The day the figures apply (人损解释 art. 22; DOMAIN.md §2): the day of the case's last
    mediation session, else today, in Beijing time."""
    sessions = mediation.case_sessions(case)
    moment = sessions[-1].starts_at if sessions else utcnow()
    return moment.astimezone(BEIJING).date().isoformat()


def _standard_year(data: dict[str, Any], catalog: compensation.Catalog) -> int | None:
    """The standards year the engine applies to `data` (chosen by `as_of` unless asked for)."""
    return chosen_standards_year(data, catalog)


def _assess(data: dict[str, Any], catalog: compensation.Catalog) -> dict[str, Any]:
    try:
        return compensation.assess(data, catalog)
    except compensation.InvalidInput as exc:
        raise ValidationFailed(exc.message, field=exc.path) from exc


def claims_closed_reason(case: Case) -> str | None:
    """Why the claims of `case` can no longer be changed (settled, sent on or over); None while
    they can be, or when only the workflow's own refusal applies (a draft case)."""
    if case.status == CaseStatus.CLOSED:
        return _("This case is closed: its claims can no longer be changed.")
    if case.status == CaseStatus.WITHDRAWN:
        return _("This case was withdrawn: its claims can no longer be changed.")
    if case.status in (*PAYABLE_STATES, CaseStatus.CONFIRMING, CaseStatus.PAID):
        return _("The agreement is signed: the claims can no longer be changed.")
    if case.status == CaseStatus.LITIGATION:
        return _(
            "Mediation ended and the case went towards litigation: the claims are closed here."
        )
    return None


def require_claims_open(case: Case) -> None:
    """Raise (409 `claims_closed`) with the reason when the claims of `case` are closed."""
    closed = claims_closed_reason(case)
    if closed is not None:
        raise InvalidTransition(closed, code="claims_closed")


def file_claims(
    *, actor: User, case: Case, data: Any, version: int | None = None
) -> tuple[Claim, Any]:
    """A mediator files the victims' claims; an assessment job is scheduled (→ `assessing`)."""
    access.require_case_mediator(actor, case)
    require_claims_open(case)
    check_version(case, version)
    workflow.check(case, "file_claims", actor)  # a certificate's case waits for liability
    claims = _check_claims_shape(data)
    _assess(build_input(case, claims), standards.current_catalog())  # problems answer now
    claim = Claim(
        case_id=case.id,
        data=claims,
        sha256=_digest(claims),
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    session.add(claim)
    case.case_type = stats.case_type_of(claims)
    session.flush()
    job = jobs.schedule(
        "assessments.run",
        subject_id=claim.id,
        case_id=case.id,
        actor=actor,
        message=N_("Waiting to be assessed"),
    )
    # Mediation (and its timer) starts with the first claims.
    workflow.transition(
        case,
        "file_claims",
        actor,
        subject=f"claim:{claim.id}",
        sha256=claim.sha256,
        victims=len(claims["victims"]),
    )
    return claim, job


def latest_assessment(case: Case) -> Assessment | None:
    """The newest assessment of `case`."""
    return session.scalars(
        select(Assessment)
        .where(Assessment.case_id == case.id)
        .order_by(Assessment.id.desc())
        .limit(1)
    ).first()


def case_assessments(case: Case) -> list[Assessment]:
    """Every assessment of `case`, newest first."""
    return list(
        session.scalars(
            select(Assessment).where(Assessment.case_id == case.id).order_by(Assessment.id.desc())
        )
    )


def run_assessment(claim_id: int, progress: jobs.Progress, job_id: int | None = None) -> None:
    """Job: assess the filed claims; does nothing if newer claims exist or nothing changed."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        return
    case = session.get(Case, claim.case_id)
    newest = latest_claim(case)
    if newest is not None and newest.id != claim.id:
        return
    progress(20, N_("Computing the compensation"))
    catalog = standards.current_catalog()
    try:
        data = build_input(case, claim.data)
    except ValidationFailed as exc:
        raise jobs.PermanentJobError(exc.message, code="invalid_input") from exc
    year = _standard_year(data, catalog)
    if year is not None:
        data["standards_year"] = year  # a re-run uses this year whatever other years say
    data["law_version"] = catalog.law_version  # and these rules after the law changes
    standard = catalog.standard_set(data["jurisdiction"], year) if year is not None else None
    snapshot = standard.as_json() if standard is not None else None
    input_sha256 = _digest({"input": data, "standard_set": snapshot})
    latest = latest_assessment(case)
    if latest is not None and latest.input_sha256 == input_sha256 and latest.claim_id == claim.id:
        _advance(case)
        return
    try:
        result = compensation.assess(data, catalog)
    except compensation.InvalidInput as exc:
        raise jobs.PermanentJobError(exc.message, code="invalid_input") from exc
    progress(80, N_("Saving"))
    assessment = Assessment(
        case_id=case.id,
        claim_id=claim.id,
        job_id=job_id,
        input={"request": data, "standard_set": snapshot},
        result=result,
        input_sha256=input_sha256,
        fingerprint=result["rule_set"]["fingerprint"],
        engine_version=compensation.ENGINE_VERSION,
        created_at=utcnow(),
    )
    session.add(assessment)
    session.flush()
    _advance(case)
    audit.record(
        "assessment.created",
        actor=None,
        case_id=case.id,
        subject=f"assessment:{assessment.id}",
        details={
            "fingerprint": assessment.fingerprint,
            "totals": result["totals"],
            digests.DIGESTS_KEY: digests.row_digests(assessment),
        },
    )


def _advance(case: Case) -> None:
    if case.status == CaseStatus.ASSESSING:
        workflow.transition(case, "assessment_ready", None)


def _catalog_of(assessment: Assessment) -> compensation.Catalog:
    """The catalog as it was for `assessment`: today's tables with the year's figures it used."""
    snapshot = assessment.input.get("standard_set")
    catalog = compensation.packaged_catalog()
    if snapshot is None:
        return catalog
    return catalog.with_standard_sets([standard_set_from_json(snapshot, snapshot["origin"])])


def recompute(assessment: Assessment, data: dict[str, Any]) -> dict[str, Any]:
    """`data` assessed with the standards `assessment` used (item offers, what-ifs)."""
    return compensation.assess(data, _catalog_of(assessment))


def reassess(assessment: Assessment) -> dict[str, Any]:
    """Re-run a stored assessment from what it keeps (identical unless the law tables changed)."""
    return recompute(assessment, assessment.input["request"])


def is_reproducible(assessment: Assessment) -> bool | None:
    """Whether re-running the stored input gives the stored result exactly; None when an earlier
    version of the engine made it (this engine cannot re-run it: the stored result stands)."""
    if assessment.engine_version != compensation.ENGINE_VERSION:
        return None
    try:
        return reassess(assessment) == assessment.result
    except compensation.InvalidInput:
        return False


# -- what if --------------------------------------------------------------------------------


def what_if(*, actor: User, case: Case, changes: dict[str, Any]) -> dict[str, Any]:
    """The latest assessment recomputed with other ratios, another standards year or other item
    amounts, with the differences; nothing is saved."""
    access.require_role(actor, Role.MEDIATOR, Role.JUDGE)
    assessment = latest_assessment(case)
    if assessment is None:
        raise InvalidTransition(_("The case has no assessment yet."))
    data = copy.deepcopy(assessment.input["request"])
    catalog = _catalog_of(assessment)
    year = changes.get("standards_year")
    if year not in (None, ""):
        data["standards_year"] = _int(year, _("Standards year"))
        catalog = standards.current_catalog()
    for party_id, ratio in (changes.get("ratios") or {}).items():
        party = next((p for p in data["parties"] if p["id"] == party_id), None)
        if party is None:
            raise ValidationFailed(_("No party %(id)s in this case.", id=party_id))
        party["ratio"] = None if ratio in (None, "") else ratio
    for victim_id, items in (changes.get("items") or {}).items():
        victim = next((v for v in data["victims"] if v["id"] == victim_id), None)
        if victim is None:
            raise ValidationFailed(_("No victim %(id)s in this case.", id=victim_id))
        for code, amount in items.items():
            if amount in (None, ""):
                continue
            victim.setdefault("items", {})[code] = {"amount": amount}
    result = _assess(data, catalog)
    return {
        "base": assessment.result,
        "what_if": result,
        "differences": differences(assessment.result, result),
    }


def _int(value: Any, label: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(label)s must be a whole number.", label=label)) from None


def differences(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Per victim and item, and per payer: base amount, other amount, change."""

    def change(a: str | None, b: str | None) -> dict[str, str]:
        before, after = Decimal(a or "0.00"), Decimal(b or "0.00")
        return {"base": str(before), "what_if": str(after), "change": str(after - before)}

    victims = []
    others = {v["id"]: v for v in other["victims"]}
    for victim in base["victims"]:
        mine = {i["code"]: i["amount"] for i in victim["items"]}
        theirs = {i["code"]: i["amount"] for i in others[victim["id"]]["items"]}
        codes = [*mine, *(c for c in theirs if c not in mine)]
        victims.append(
            {
                "id": victim["id"],
                "total": change(victim["total"], others[victim["id"]]["total"]),
                "items": {code: change(mine.get(code), theirs.get(code)) for code in codes},
            }
        )
    payers = [*base["totals"], *(p for p in other["totals"] if p not in base["totals"])]
    return {
        "victims": victims,
        "totals": {p: change(base["totals"].get(p), other["totals"].get(p)) for p in payers},
    }
