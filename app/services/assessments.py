"""Claims and assessments of a case: file the victims' claims, assess them in a job, explore
what-ifs. Stored assessments are immutable and reproducible from what they keep."""

from __future__ import annotations

import copy
import hashlib
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app import access, audit, compensation, jobs
from app.compensation.catalog import standard_set_from_json
from app.db import session, utcnow
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.labels import N_
from app.models import (
    Assessment,
    Case,
    CaseStatus,
    Claim,
    InsurerClaim,
    PolicyKind,
    Role,
    User,
)
from app.services import liability, mediation, standards

BEIJING = ZoneInfo("Asia/Shanghai")
CLAIM_FIELDS = ("victims", "parties", "options", "standards_year", "standards")
PARTY_OVERRIDES = ("id", "ratio", "commercial_limit")
# Claims may be (re)filed while the case is being assessed or negotiated.
FILING_STATES = (CaseStatus.REPORTED, CaseStatus.ASSESSING, CaseStatus.NEGOTIATING)


def _digest(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def jurisdiction() -> str:
    """The jurisdiction whose rules and standards this deployment applies."""
    return current_app.config["DAOJIAO_JURISDICTION"]


def _party_kind(role: str | None, has_vehicle: bool) -> str:
    if has_vehicle:
        return "vehicle"
    return "pedestrian" if role == "pedestrian" else "non_motor"


def case_parties(case: Case) -> list[dict[str, Any]]:
    """The parties of the confirmed report in the engine's shape (INTERFACES.md §3)."""
    vehicles = {vehicle.driver_party_id: vehicle for vehicle in case.vehicles}
    parties = []
    for party in case.parties:
        vehicle = vehicles.get(party.id)
        if vehicle is None and party.role == "passenger":
            continue  # a passenger is an occupant of a vehicle, not a party to the accident
        entry: dict[str, Any] = {
            "id": party.label,
            "kind": _party_kind(party.role, vehicle is not None),
            "name": party.name,
            "liability": party.liability,
        }
        if vehicle is not None:
            entry["plate"] = vehicle.plate
            ctpi = next((p for p in vehicle.policies if p.kind == PolicyKind.CTPI), None)
            entry["ctpi"] = (
                {"insurer": ctpi.insurer_name, "insured": True} if ctpi else {"insured": False}
            )
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


def reassess_case(*, actor: User | None, case: Case) -> Any:
    """Assess the latest claims again after data they depend on changed (a new assessment is
    stored only if the input differs); None when no claims were filed yet."""
    claim = latest_claim(case)
    if claim is None:
        return None
    return jobs.schedule(
        "assessments.run",
        subject_id=claim.id,
        case_id=case.id,
        actor=actor,
        message=N_("Waiting to be assessed"),
    )


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
    _apply_insurer_claims(case, by_id)
    for index, override in enumerate(claims.get("parties") or []):
        path = f"parties[{index}]"
        if not isinstance(override, dict) or override.get("id") not in by_id:
            raise ValidationFailed(
                _("%(path)s must name a party of the case by its label (甲方, 乙方…).", path=path),
                field=path,
            )
        for key, value in override.items():
            if key not in PARTY_OVERRIDES:
                raise ValidationFailed(
                    _("Unknown field %(field)s in the claims.", field=f"{path}.{key}"),
                    field=f"{path}.{key}",
                )
            if key == "ratio":
                by_id[override["id"]]["ratio"] = value
            elif key == "commercial_limit":
                target = by_id[override["id"]]
                if "commercial" not in target:
                    target["commercial"] = {"insurer": None}
                target["commercial"]["limit"] = value
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
            raise ValidationFailed(_("victims[%(i)s] must be an object.", i=index))
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
        victims.append(victim)
    data: dict[str, Any] = {
        "accident_date": case.accident_time.astimezone(BEIJING).date().isoformat(),
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


def _standard_year(data: dict[str, Any], catalog: compensation.Catalog) -> int | None:
    year = data.get("standards_year")
    if isinstance(year, int):
        return year
    return max(catalog.years(data["jurisdiction"]), default=None)


def _assess(data: dict[str, Any], catalog: compensation.Catalog) -> dict[str, Any]:
    try:
        return compensation.assess(data, catalog)
    except compensation.InvalidInput as exc:
        raise ValidationFailed(exc.message, field=exc.path) from exc


def _check_mediator(actor: User, case: Case) -> None:
    access.require_role(actor, Role.MEDIATOR)
    if case.mediation_committee_id != actor.org_id:
        raise NotAllowed(_("Only the case's mediation committee may file its claims."))


def file_claims(
    *, actor: User, case: Case, data: Any, version: int | None = None
) -> tuple[Claim, Any]:
    """A mediator files the victims' claims; an assessment job is scheduled (→ `assessing`)."""
    _check_mediator(actor, case)
    if version is not None and version != case.version:
        raise InvalidTransition(
            _("Someone else changed this case at the same time. Reload it and try again.")
        )
    if case.status not in FILING_STATES:
        raise InvalidTransition(_("Claims can be filed once the police have confirmed the case."))
    liability.require_decided(case)  # a certificate's case waits for the mediator's decision
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
    before = case.status
    mediation.start_mediation_window(case=case)  # mediation starts with the first claims
    case.status = CaseStatus.ASSESSING
    case.updated_at = utcnow()
    session.flush()
    job = jobs.schedule(
        "assessments.run",
        subject_id=claim.id,
        case_id=case.id,
        actor=actor,
        message=N_("Waiting to be assessed"),
    )
    audit.record(
        "claims.filed",
        actor=actor,
        case_id=case.id,
        subject=f"claim:{claim.id}",
        details={
            "status": [before.value, CaseStatus.ASSESSING.value],
            "sha256": claim.sha256,
            "victims": len(claims["victims"]),
        },
    )
    return claim, job


def latest_claim(case: Case) -> Claim | None:
    """The claims most recently filed for `case`."""
    return session.scalars(
        select(Claim).where(Claim.case_id == case.id).order_by(Claim.id.desc()).limit(1)
    ).first()


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
        details={"fingerprint": assessment.fingerprint, "totals": result["totals"]},
    )


def _advance(case: Case) -> None:
    if case.status == CaseStatus.ASSESSING:
        case.status = CaseStatus.NEGOTIATING
        case.updated_at = utcnow()
        session.flush()


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


def is_reproducible(assessment: Assessment) -> bool:
    """Whether re-running the stored input gives the stored result exactly."""
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
        data["standards_year"] = _int(year, "standards_year")
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


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(field)s must be a whole number.", field=field)) from None


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
