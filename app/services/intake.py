"""Police intake: upload the 事故认定书, read it in a job, review, correct and confirm the case."""

from __future__ import annotations

import copy
import re
import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import access, audit, jobs, reports, validation, workflow
from app.clock import BEIJING  # noqa: E402
from app.db import session, utcnow
from app.errors import (
    InvalidTransition,
    NotAllowed,
    NotFound,
    UnreadableReport,
    ValidationFailed,
)
from app.labels import N_, report_error_message
from app.models import (
    Case,
    CaseStatus,
    Document,
    Organization,
    OrgKind,
    Party,
    Policy,
    PolicyKind,
    Report,
    Role,
    User,
    Vehicle,
)
from app.services import documents, liability, notifications
from app.validation import check_version

PARSE_TIMEOUT_SECONDS = 60.0
PARSE_MEMORY_MB = 1024  # a scan is given more for OCR by the parser itself (ocr.MEMORY_MB)
LIABILITIES = liability.LIABILITIES
# 道路交通事故认定书 by the general or the simple procedure, or a 道路交通事故证明 (a certificate:
# it determines no liability, which the mediator then decides, see app/services/liability.py).
PROCEDURES = ("general", "simple", liability.CERTIFICATE)
PARTY_LABELS = ("甲方", "乙方", "丙方", "丁方", "戊方", "己方")
# The fields a letter needs before it is confirmed, by the names the review page gives them.
REQUIRED_LABELS = {
    "accident_time": _l("Accident time"),
    "location": _l("Accident place"),
    "parties": _l("a party with a name"),
}
TOP_FIELDS = (
    "document_no",
    "issuer",
    "procedure",
    "accident_time",
    "location",
    "weather",
    "issue_date",
    "facts",
    "cause",
)
# The INTERFACES.md §2 party fields, plus what the parser adds that a person reviews. Other
# fields the parser adds (birth date, owner…) are kept as read.
PARTY_FIELDS = (*reports.PARTY_FIELDS, "age", "address", "ctpi_uninsured")
_TEXT_LIMITS = {"facts": 20000, "cause": 20000, "location": 300, "address": 300}
_ID_NUMBER = re.compile(r"^(\d{17}[\dX]|\d{15})$")
_FINISHED = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


# -- upload -------------------------------------------------------------------------------


def _case_number(case: Case) -> str:
    year = case.created_at.astimezone(BEIJING).year
    return f"DJ-{year}-{case.id:06d}"


def upload_report(*, actor: User, filename: str | None, data: bytes) -> Case:
    """Store an uploaded report as evidence and open a draft case that a job will read."""
    access.require_role(actor, Role.POLICE)
    try:
        reports.check_pdf(data)
    except reports.ReportError as exc:
        raise UnreadableReport(
            report_error_message(exc.code),
            code=exc.code,
            status=413 if exc.code == "too_large" else 422,
        ) from exc
    case = Case(
        number=uuid.uuid4().hex[:32],
        status=CaseStatus.DRAFT,
        reporting_unit_id=actor.org_id,
        region=actor.organization.region,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    session.add(case)
    session.flush()
    case.number = _case_number(case)
    # The file is in the object store before the case row can commit: nothing is lost.
    document = documents.store_document(
        actor=actor,
        case=case,
        kind="report",
        data=data,
        media_type="application/pdf",
        filename=filename,
    )
    report = Report(case=case, document_id=document.id)
    session.add(report)
    session.flush()
    audit.record(
        "case.created",
        actor=actor,
        case_id=case.id,
        details={"filename": document.filename, "sha256": document.sha256, "size": document.size},
    )
    jobs.schedule(
        "reports.read",
        subject_id=report.id,
        case_id=case.id,
        actor=actor,
        message=N_("Waiting to be read"),
    )
    return case


def read_report(report_id: int, progress: jobs.Progress) -> None:
    """Job: read the stored PDF into fields; does nothing if done already."""
    report = session.get(Report, report_id)
    if report is None or report.parsed is not None or report.case.status != CaseStatus.DRAFT:
        return
    document = session.get(Document, report.document_id)
    progress(10, N_("Reading the stored file"))
    data = documents.read_document(document)
    progress(20, N_("Reading the report"))
    try:
        parsed = reports.parse_isolated(
            data,
            timeout=PARSE_TIMEOUT_SECONDS,
            memory_mb=PARSE_MEMORY_MB,
            progress=lambda done, total: progress(
                20 + 70 * done // max(total, 1), N_("Reading the scan (OCR), page by page")
            ),
        )
    except reports.ReportError as exc:
        raise jobs.PermanentJobError(report_error_message(exc.code), code=exc.code) from exc
    progress(90, N_("Saving"))  # before writing: the embedded SQLite allows one writer at a time
    report.parsed = parsed
    report.parser_version = reports.PARSER_VERSION
    if report.fields is None:  # the officer may have typed fields while waiting
        report.fields = _clean_fields(copy.deepcopy(parsed))
        for index, party in enumerate(report.fields.get("parties") or []):
            party["label"] = party.get("label") or default_label(index)
    apply_fields(report.case, report.fields)
    # The page images come from a job of their own, after the readings people wait for.
    jobs.schedule(
        "documents.preview",
        subject_id=document.id,
        case_id=report.case_id,
        message=N_("Preparing the pages for review"),
    )
    audit.record(
        "report.read",
        actor=None,
        case_id=report.case_id,
        details={
            "parties": len(parsed.get("parties") or []),
            "warnings": len(parsed.get("warnings") or []),
        },
    )


def record_page_sizes(document: Document, sizes: list[list[float]]) -> None:
    """Remember the page sizes of a report's PDF, to place highlights on its page images."""
    report = session.scalar(select(Report).where(Report.document_id == document.id))
    if report is not None:
        report.page_sizes = sizes


# -- fields -------------------------------------------------------------------------------


# What the parser says about its reading rather than about the accident: kept in `parsed` only.
READING_NOTES = ("provenance", "warnings", "source", "confidence")


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Only the fields a person reviews (§2 without provenance, warnings, source, confidence)."""
    for name in READING_NOTES:
        fields.pop(name, None)
    return fields


def default_label(index: int) -> str:
    """The label of the party at `index` when the letter gives none: 甲方, 乙方…"""
    return PARTY_LABELS[index] if index < len(PARTY_LABELS) else f"第{index + 1}方"


# Messages name a report's fields as the review form does (blueprints/forms.py).
FIELD_LABELS = {
    "document_no": _l("Letter number"),
    "issuer": _l("Issued by"),
    "procedure": _l("Procedure"),
    "accident_time": _l("Accident time"),
    "location": _l("Place"),
    "weather": _l("Weather"),
    "issue_date": _l("Date of the letter"),
    "facts": _l("Facts"),
    "cause": _l("Cause and liability"),
    "parties": _l("Parties"),
    "label": _l("Label"),
    "name": _l("Name"),
    "gender": _l("Sex"),
    "age": _l("Age"),
    "id_number": _l("ID number"),
    "phone": _l("Phone"),
    "address": _l("Address"),
    "license_no": _l("Driving licence"),
    "traffic_mode": _l("Mode of travel"),
    "plate": _l("Plate"),
    "vehicle_type": _l("Vehicle type"),
    "ctpi_insurer": _l("Compulsory insurer (交强险)"),
    "ctpi_policy_no": _l("Compulsory policy number"),
    "ctpi_uninsured": _l("The vehicle has no compulsory insurance (未投保交强险)"),
    "commercial_insurer": _l("Commercial insurer"),
    "commercial_limit": _l("Commercial third-party limit (yuan)"),
    "liability": _l("Liability"),
}


def _label(path: str) -> str:
    """The label users read for a field path: `parties[1].name` → 乙方的姓名."""
    head, _dot, name = path.partition(".")
    found = re.fullmatch(r"parties\[(\d+)\]", head)
    if found is None:
        return str(FIELD_LABELS.get(head, head))
    party = default_label(int(found.group(1)))
    if not name:
        return party
    return _("%(party)s's %(field)s", party=party, field=FIELD_LABELS.get(name, name))


def _text(value: Any, path: str, limit: int = 200) -> str | None:
    if isinstance(value, int | float):  # the parser may read a number where text is expected
        value = str(value)
    return validation.text(value, name=path, label=_label(path), limit=limit)


def normalize_plate(plate: str | None) -> str | None:
    """晋J·12345, 晋j・12345 or 晋J 12345 → 晋J12345."""
    if not plate:
        return None
    return re.sub(r"[\s·・.\-]", "", plate).upper() or None


def _accident_time(value: Any) -> str | None:
    text = _text(value, "accident_time")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(
            _(
                "%(label)s must be a date and time, e.g. 2024-03-01T09:30:00+08:00.",
                label=_label("accident_time"),
            ),
            field="accident_time",
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _issue_date(value: Any) -> str | None:
    text = _text(value, "issue_date")
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError as exc:
        raise ValidationFailed(
            _("%(label)s must be a date like 2024-01-31.", label=_label("issue_date")),
            field="issue_date",
        ) from exc


def _yuan(value: str, path: str) -> str:
    """An amount in yuan as INTERFACES.md §2 writes it: digits, with fen only if there are any
    (1000000, 1,000,000.00, 100万 and 100万元 → 1000000)."""
    text = value.replace(",", "").replace("，", "").replace(" ", "").removesuffix("元")
    factor = Decimal(1)
    if text.endswith("万"):
        text, factor = text.removesuffix("万"), Decimal(10000)
    try:
        amount = Decimal(text) * factor
    except InvalidOperation as exc:
        raise ValidationFailed(
            _("%(label)s must be an amount in yuan.", label=_label(path)), field=path
        ) from exc
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed(
            _("%(label)s must be an amount in yuan.", label=_label(path)), field=path
        )
    amount = amount.quantize(Decimal("0.01"))
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount}"


def _flag(value: Any, path: str) -> bool | None:
    """A yes/no field: True, or None for no (as the parser writes it)."""
    if value in (None, False, "", 0, "0", "false", "no"):
        return None
    if value in (True, 1, "1", "true", "yes", "y", "on"):
        return True
    raise ValidationFailed(_("%(label)s must be true or false.", label=_label(path)), field=path)


def _party(raw: Any, index: int) -> dict[str, Any]:
    path = f"parties[{index}]"
    if not isinstance(raw, dict):
        raise ValidationFailed(_("%(label)s must be an object.", label=_label(path)), field=path)
    # What the parser read beyond the reviewed fields (birth date, owner…) stays as it was.
    party: dict[str, Any] = {name: value for name, value in raw.items() if name not in PARTY_FIELDS}
    for name in PARTY_FIELDS:
        if name in ("age", "ctpi_uninsured"):
            continue
        party[name] = _text(raw.get(name), f"{path}.{name}", _TEXT_LIMITS.get(name, 200))
    party["label"] = party["label"] or default_label(index)
    party["plate"] = normalize_plate(party["plate"])
    if party["gender"] not in (None, "男", "女"):
        raise ValidationFailed(
            _("%(label)s must be 男 or 女.", label=_label(f"{path}.gender")), field=f"{path}.gender"
        )
    if party["id_number"]:
        party["id_number"] = party["id_number"].replace(" ", "").upper()
        if not _ID_NUMBER.match(party["id_number"]):
            raise ValidationFailed(
                _(
                    "%(label)s must be an 18-character resident ID number.",
                    label=_label(f"{path}.id_number"),
                ),
                field=f"{path}.id_number",
            )
    if party["liability"] not in (None, *LIABILITIES):
        raise ValidationFailed(
            _(
                "%(label)s must be one of full, main, equal, minor, none.",
                label=_label(f"{path}.liability"),
            ),
            field=f"{path}.liability",
        )
    if party["commercial_limit"] is not None:
        party["commercial_limit"] = _yuan(party["commercial_limit"], f"{path}.commercial_limit")
    party["ctpi_uninsured"] = _flag(raw.get("ctpi_uninsured"), f"{path}.ctpi_uninsured")
    if party["ctpi_uninsured"] and party["ctpi_insurer"]:
        raise ValidationFailed(
            _(
                "%(label)s: a vehicle without compulsory insurance has no compulsory insurer; "
                "clear one of the two.",
                label=_label(f"{path}.ctpi_uninsured"),
            ),
            field=f"{path}.ctpi_uninsured",
        )
    age = raw.get("age")
    if age in (None, ""):
        party["age"] = None
    else:
        try:
            party["age"] = int(age)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(
                _("%(label)s must be a whole number.", label=_label(f"{path}.age")),
                field=f"{path}.age",
            ) from exc
        if not 0 <= party["age"] <= 130:
            raise ValidationFailed(
                _("%(label)s must be a whole number.", label=_label(f"{path}.age")),
                field=f"{path}.age",
            )
    return party


def validate_fields(raw: Any) -> dict[str, Any]:
    """Check and normalise report fields (INTERFACES.md §2 shape, without provenance)."""
    if not isinstance(raw, dict):
        raise ValidationFailed(_("The report fields must be an object."))
    fields: dict[str, Any] = {}
    for name in TOP_FIELDS:
        fields[name] = _text(raw.get(name), name, _TEXT_LIMITS.get(name, 200))
    if fields["procedure"] not in (None, *PROCEDURES):
        raise ValidationFailed(
            _("%(label)s must be general, simple or certificate.", label=_label("procedure")),
            field="procedure",
        )
    fields["accident_time"] = _accident_time(raw.get("accident_time"))
    fields["issue_date"] = _issue_date(raw.get("issue_date"))
    parties = raw.get("parties") or []
    if not isinstance(parties, list) or len(parties) > 10:
        raise ValidationFailed(
            _("%(label)s must be a list of at most 10 parties.", label=_label("parties")),
            field="parties",
        )
    fields["parties"] = [_party(party, index) for index, party in enumerate(parties)]
    if fields["procedure"] == liability.CERTIFICATE:
        for index, party in enumerate(fields["parties"]):
            if party["liability"] is not None:
                path = f"parties[{index}].liability"
                raise ValidationFailed(
                    _(
                        "%(label)s: a road-traffic accident certificate determines no liability; "
                        "leave it empty (the mediator decides it), or choose the procedure the "
                        "letter names.",
                        label=_label(path),
                    ),
                    field=path,
                )
    for name, value in raw.items():  # keep what the parser added beyond the reviewed fields
        if name not in fields and name not in READING_NOTES:
            fields[name] = value
    return fields


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Each field path whose value differs, with [before, after]."""
    changes: dict[str, list[Any]] = {}
    for name in TOP_FIELDS:
        if before.get(name) != after.get(name):
            changes[name] = [before.get(name), after.get(name)]
    old_parties, new_parties = before.get("parties") or [], after.get("parties") or []
    for index in range(max(len(old_parties), len(new_parties))):
        old = old_parties[index] if index < len(old_parties) else {}
        new = new_parties[index] if index < len(new_parties) else {}
        for name in PARTY_FIELDS:
            if old.get(name) != new.get(name):
                changes[f"parties[{index}].{name}"] = [old.get(name), new.get(name)]
    return changes


def _normalized_name(name: str) -> str:
    return re.sub(r"\s", "", name).replace("（", "(").replace("）", ")")


def match_insurer(name: str | None, insurers: list[Organization]) -> Organization | None:
    """The insurer organisation whose registered name or an alias is `name`, if any."""
    if not name:
        return None
    wanted = _normalized_name(name)
    for org in insurers:
        if wanted in {_normalized_name(known) for known in (org.name, *org.aliases)}:
            return org
    return None


def _party_role(traffic_mode: str | None) -> str | None:
    mode = traffic_mode or ""
    if "步行" in mode:
        return "pedestrian"
    if "乘" in mode:
        return "passenger"
    if re.search(r"自行车|三轮|电动车|人力", mode):
        return "cyclist"
    if "驾驶" in mode or "驾" in mode:
        return "driver"
    return None


def apply_fields(case: Case, fields: dict[str, Any]) -> None:
    """Write reviewed fields onto the case and rebuild its parties, vehicles and policies."""
    case.report_no = fields.get("document_no")
    accident_time = fields.get("accident_time")
    case.accident_time = datetime.fromisoformat(accident_time) if accident_time else None
    case.accident_place = fields.get("location")
    insurers = list(
        session.scalars(
            select(Organization).where(
                Organization.kind == OrgKind.INSURER, Organization.active.is_(True)
            )
        )
    )
    case.vehicles.clear()
    case.parties.clear()
    session.flush()
    for index, data in enumerate(fields.get("parties") or []):
        party = Party(
            position=index,
            label=data.get("label") or default_label(index),
            name=data.get("name"),
            gender=data.get("gender"),
            id_number=data.get("id_number"),
            phone=data.get("phone"),
            license_no=data.get("license_no"),
            traffic_mode=data.get("traffic_mode"),
            liability=data.get("liability"),
            age=data.get("age"),
            address=data.get("address"),
            role=_party_role(data.get("traffic_mode")),
        )
        case.parties.append(party)
        if not (
            data.get("plate")
            or data.get("vehicle_type")
            or data.get("ctpi_insurer")
            or data.get("commercial_insurer")
        ):
            continue
        session.flush()  # the party's id, for the vehicle's driver
        vehicle = Vehicle(
            plate=normalize_plate(data.get("plate")),
            vehicle_type=data.get("vehicle_type"),
            driver_party_id=party.id,
        )
        if data.get("ctpi_insurer"):
            org = match_insurer(data["ctpi_insurer"], insurers)
            vehicle.policies.append(
                Policy(
                    kind=PolicyKind.CTPI,
                    insurer_name=data["ctpi_insurer"],
                    insurer_org_id=org.id if org else None,
                    number=data.get("ctpi_policy_no"),
                )
            )
        if data.get("commercial_insurer"):
            org = match_insurer(data["commercial_insurer"], insurers)
            limit = data.get("commercial_limit")
            vehicle.policies.append(
                Policy(
                    kind=PolicyKind.COMMERCIAL,
                    insurer_name=data["commercial_insurer"],
                    insurer_org_id=org.id if org else None,
                    limit=Decimal(limit).quantize(Decimal("0.01")) if limit else None,
                )
            )
        case.vehicles.append(vehicle)
    session.flush()


def unmatched_insurers(case: Case) -> list[str]:
    """Insurer names on the case's policies that match no registered insurer."""
    return sorted(
        {
            policy.insurer_name
            for vehicle in case.vehicles
            for policy in vehicle.policies
            if policy.insurer_name and policy.insurer_org_id is None
        }
    )


# -- review -------------------------------------------------------------------------------


def _editable_report(actor: User, case: Case, version: int | None) -> Report:
    access.require_role(actor, Role.POLICE)
    if not access.is_case_reporter(actor, case):
        raise NotAllowed(_("Only the reporting unit may review this case."))
    check_version(case, version)
    if case.status != CaseStatus.DRAFT or case.report is None:
        raise InvalidTransition(_("Only a draft case can be reviewed."))
    return case.report


def correct_report(
    *, actor: User, case: Case, fields: dict[str, Any], version: int | None = None
) -> dict[str, list[Any]]:
    """Save an officer's corrections of a draft's fields; returns what changed (audited)."""
    report = _editable_report(actor, case, version)
    before = report.fields or {}
    merged = {**before, **fields}
    after = validate_fields(merged)
    changes = _changes(before, after)
    report.fields = after
    apply_fields(case, after)
    case.updated_at = utcnow()  # bumps the version even when only child rows changed
    if changes:
        audit.record("report.corrected", actor=actor, case_id=case.id, details={"changes": changes})
    session.flush()
    return changes


def _least_loaded_mediator(committee: Organization) -> User | None:
    open_cases = (
        select(func.count(Case.id))
        .where(Case.mediator_id == User.id, Case.status.not_in(_FINISHED))
        .correlate(User)
        .scalar_subquery()
    )
    return session.scalars(
        select(User)
        .where(User.org_id == committee.id, User.role == Role.MEDIATOR, User.active.is_(True))
        .order_by(open_cases, User.id)
        .limit(1)
    ).first()


def _assign_mediation(case: Case) -> None:
    """DESIGN.md §1: the committee serving the reporting unit's region, its least-busy mediator."""
    if case.region is None:
        return
    committee = session.scalars(
        select(Organization)
        .where(
            Organization.kind == OrgKind.MEDIATION,
            Organization.active.is_(True),
            Organization.region == case.region,
        )
        .order_by(Organization.id)
        .limit(1)
    ).first()
    if committee is None:
        return
    case.mediation_committee_id = committee.id
    mediator = _least_loaded_mediator(committee)
    case.mediator_id = mediator.id if mediator else None


def confirm_report(
    *, actor: User, case: Case, fields: dict[str, Any] | None = None, version: int | None = None
) -> Case:
    """The officer confirms the reviewed report: draft → reported, insurers and mediators see it."""
    report = _editable_report(actor, case, version)
    if fields:
        correct_report(actor=actor, case=case, fields=fields)
    current = report.fields
    if current is None:
        raise InvalidTransition(
            _("The report is still being read. Wait for it, or enter the fields by hand.")
        )
    missing = [name for name in ("accident_time", "location") if not current.get(name)]
    named = [party for party in current.get("parties") or [] if party.get("name")]
    if len(named) < 1:
        missing.append("parties")
    if missing:
        raise ValidationFailed(
            _(
                "Fill in before confirming: %(fields)s.",
                fields="、".join(str(REQUIRED_LABELS[name]) for name in missing),
            ),
            fields=missing,
        )
    report.confirmed_at = utcnow()
    report.confirmed_by_id = actor.id
    _assign_mediation(case)
    session.flush()
    undetermined = [party.label for party in liability.pending_parties(case)]
    workflow.transition(
        case,
        "confirm_report",
        actor,
        unmatched_insurers=unmatched_insurers(case),
        mediation_committee_id=case.mediation_committee_id,
        procedure=current.get("procedure"),
        liability_undetermined=undetermined,
    )
    notifications.notify_new_case(case)
    if undetermined:  # claims wait for the mediator's decision (app/services/liability.py)
        liability.notify_mediators(case)
    return case


def withdraw_case(*, actor: User, case: Case, version: int | None = None) -> Case:
    """A draft uploaded by mistake is withdrawn; its file stays as evidence."""
    _editable_report(actor, case, version)
    workflow.transition(case, "withdraw", actor)
    return case


def reveal_id_number(*, actor: User, case: Case, party_id: int) -> str | None:
    """The full ID number of a party, for the roles whose work needs it; always logged."""
    access.require_role(actor, Role.POLICE, Role.MEDIATOR, Role.JUDGE, Role.ADMIN)
    party = next((party for party in case.parties if party.id == party_id), None)
    if party is None:
        raise NotFound(_("No such party."))
    audit.record(
        "party.id_revealed", actor=actor, case_id=party.case_id, subject=f"party:{party.id}"
    )
    return party.id_number
