"""The oversight figures (issue 16): cases received and how they ended, 化解率 and 调解成功率,
cycle times per stage, amounts, insurer scorecards and workload, over the cases a user may see.

Every figure is computed from the audit events the workflow writes for each transition
(app/workflow.py: `case.confirmed`, `agreement.signed`, …) and from the settlement rows, so a
figure for a past period never changes: an outcome counts if it happened before the period's
end. The cohort of a period is the cases the police confirmed in it (received); outcomes and
stage times are those of that cohort. No Flask request here: the views pass `Filters` and the
caller's access filter (`access.case_filter(user)`).

The same queries run on PostgreSQL and on the demo's embedded SQLite (app/portable_sql.py
spells what the two write differently); only the agreements' payers are read from their JSON in
Python on SQLite, which has no exact decimal arithmetic in SQL.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    Select,
    Table,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.sql.elements import True_

from app import access
from app.clock import BEIJING
from app.compensation.money import to_fen
from app.db import session, utcnow
from app.errors import ValidationFailed
from app.models import (
    Agreement,
    AgreementStatus,
    AuditEvent,
    Case,
    CaseInsurer,
    CaseMilestone,
    CaseStatus,
    Deadline,
    DeadlineStatus,
    Offer,
    OfferSide,
    Organization,
    OrgKind,
    Payment,
    User,
)
from app.money import amount_text
from app.portable_sql import beijing_date, beijing_month, dates_apart, days_between, percentile
from app.services import deadlines

CASE_TYPES = ("injury", "death", "property")
# Items of the claims (DOMAIN.md §2) that make a case a death case, and those that are property.
DEATH_ITEMS = ("death_compensation", "funeral")
PROPERTY_ITEMS = ("property", "indirect_property")
# The figures a case list can show (`/cases?figure=…`): each is a set of cases counted.
FIGURES = ("received", "resolved", "confirmed", "litigation", "open")
OPEN_STATES = (
    CaseStatus.REPORTED,
    CaseStatus.ASSESSING,
    CaseStatus.NEGOTIATING,
    CaseStatus.AGREED,
    CaseStatus.CONFIRMING,
    CaseStatus.CONFIRMED,
)
# The transitions' audit actions the figures read (app/workflow.py).
ACTIONS = (
    "case.created",
    "case.confirmed",
    "claims.filed",
    "case.assessed",
    "agreement.signed",
    "mediation.failed",
    "confirmation.confirmed",
    "case.paid",
)
MAX_PERIOD_DAYS = 3660


# The periods a click away on the dashboard (`Filters.presets`).
PERIODS = {
    "this_month": _l("This month"),
    "last_month": _l("Last month"),
    "this_quarter": _l("This quarter"),
    "this_year": _l("This year"),
    "last_12_months": _l("Last 12 months"),
}

# The written definitions, shown on the page and in the JSON (`definitions`).
DEFINITIONS: dict[str, Any] = {
    "received": _l(
        "Received: cases the police confirmed (the liability letter reviewed) within the "
        "period, Beijing time. Every other figure is about these cases."
    ),
    "resolved": _l(
        "Resolved by mediation: received cases whose settlement agreement was signed before the "
        "end of the period and that were not, by then, sent back to mediation or to litigation."
    ),
    "confirmed": _l(
        "Confirmed by the tribunal: received cases whose agreement the tribunal confirmed "
        "(司法确认) before the end of the period; they are also counted as resolved."
    ),
    "litigation": _l(
        "To litigation: received cases whose mediation failed, or whose confirmation the "
        "tribunal rejected towards litigation, before the end of the period."
    ),
    "open": _l(
        "Open: received cases neither resolved nor sent to litigation by the end of the period "
        "(a case resolved after the period is open in it)."
    ),
    "resolution_rate": _l(
        "化解率 = resolved by mediation ÷ received. DOMAIN.md does not define it; this is the "
        "platform's definition."
    ),
    "mediation_success_rate": _l(
        "调解成功率 = resolved by mediation ÷ (resolved by mediation + to litigation): the "
        "mediations that ended, open ones left out. DOMAIN.md does not define it either."
    ),
    "cycle_time": _l(
        "Cycle time: days between two events of a received case, both before the end of the "
        "period; median and 90th percentile (linear interpolation). Upload → confirmation: the "
        "letter uploaded, the police confirmed; confirmation → assessment: assessment ready; "
        "negotiation: assessment ready → first agreement signed; agreement → confirmation: last "
        "agreement signed → tribunal's confirmation; agreement/confirmation → payment: the later "
        "of both → every payer paid; overall: upload → paid."
    ),
    "trend": _l(
        "Trend: per month of receipt, the cases received, resolved and sent to litigation by the "
        "end of the period, and the median overall cycle time of those paid."
    ),
    "amounts": _l(
        "Amounts (yuan, each a sum of amounts rounded to the fen): assessed and agreed are the "
        "payers' assessed and agreed amounts in the signed agreement in force of each resolved "
        "case; paid is every payment of received cases paid before the end of the period."
    ),
    "insurers": _l(
        "Insurer scorecard, over the received cases with a policy of the insurer: first offer: "
        "median days from assessment ready to the insurer's first offer; within the window: first "
        "offers made within the mediation window (10 days from the claims, 处理程序规定 arts. "
        "86–93); payments due before the end of the period under the agreement (交强险条例 art. "
        "29: 10 days): paid on time, paid late (median days late), unpaid past due; rejections: "
        "cases whose confirmation the tribunal rejected."
    ),
    "workload": _l(
        "Workload, now: cases not finished nor in litigation (received, assessing, negotiating, "
        "agreed, confirming, confirmed) per mediation centre and mediator, and their timers past "
        "due and not met; the county and insurer filters apply, the period and case type do not."
    ),
    "case_type": _l(
        "Case type, from the latest claims filed: death if a victim claims death compensation or "
        "funeral costs; injury if a victim claims any other personal item; property if only "
        "property losses are claimed. A case without claims has no type yet."
    ),
}


@dataclass(frozen=True)
class Filters:
    """What the figures are about: a period of Beijing dates (both included), a county, an
    insurer organisation, a case type."""

    start: date
    end: date
    region: str | None = None
    insurer_id: int | None = None
    case_type: str | None = None

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), BEIJING)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), BEIJING)

    def as_args(self) -> dict[str, str]:
        """The query parameters that give these filters back (links, exports)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.region:
            args["region"] = self.region
        if self.insurer_id is not None:
            args["insurer"] = str(self.insurer_id)
        if self.case_type:
            args["type"] = self.case_type
        return args

    @classmethod
    def default(cls, today: date | None = None) -> Filters:
        """This month to today: the figures are worked out on every request, fast for a month
        or a quarter at 1,000,000 cases (bench/README.md), slower for a year."""
        today = today or utcnow().astimezone(BEIJING).date()
        return cls(start=today.replace(day=1), end=today)

    def presets(self, today: date | None = None) -> list[tuple[str, Filters]]:
        """The usual periods (`PERIODS`) with the other filters kept, for one-click links."""
        today = today or utcnow().astimezone(BEIJING).date()
        month = today.replace(day=1)
        last_month_end = month - timedelta(days=1)
        quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
        # The twelve months to today: from the day after the same date a year earlier (28
        # February for a 29th).
        leap_day = (today.month, today.day) == (2, 29)
        same_day = today.replace(year=today.year - 1, day=28 if leap_day else today.day)
        periods = {
            "this_month": (month, today),
            "last_month": (last_month_end.replace(day=1), last_month_end),
            "this_quarter": (quarter, today),
            "this_year": (today.replace(month=1, day=1), today),
            "last_12_months": (same_day + timedelta(days=1), today),
        }
        return [(key, replace(self, start=start, end=end)) for key, (start, end) in periods.items()]

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        """Read `from`, `to` (YYYY-MM-DD), `region`, `insurer` and `type`; 422 naming the field
        for a value that is not one."""
        default = cls.default()
        start = _date_arg(args, "from") or default.start
        end = _date_arg(args, "to") or default.end
        if end < start:
            raise ValidationFailed(_("The period ends before it starts."), field="to")
        if (end - start).days > MAX_PERIOD_DAYS:
            raise ValidationFailed(_("The period may not be longer than ten years."), field="from")
        insurer_text = (args.get("insurer") or "").strip()
        if insurer_text and not insurer_text.isdigit():
            raise ValidationFailed(_("Choose an insurer from the list."), field="insurer")
        case_type = (args.get("type") or "").strip() or None
        if case_type is not None and case_type not in CASE_TYPES:
            raise ValidationFailed(_("Choose a case type from the list."), field="type")
        region = (args.get("region") or "").strip()[:100] or None
        return cls(start, end, region, int(insurer_text) if insurer_text else None, case_type)


def _date_arg(args: Mapping[str, str], name: str) -> date | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("Give the date as YYYY-MM-DD."), field=name) from None


@dataclass
class Figures:
    """The figures of one filter as JSON-ready values (amounts as two-decimal text)."""

    filters: dict[str, Any]
    cases: dict[str, int]
    rates: dict[str, float | None]
    cycle_time: dict[str, Any]
    amounts: dict[str, Any]
    insurers: list[dict[str, Any]]
    workload: dict[str, list[dict[str, Any]]]
    definitions: dict[str, str] = field(default_factory=dict)

    def as_json(self, *, insurer_conduct_only: bool = False) -> dict[str, Any]:
        """Everything, or for a regulator only the insurers' conduct (scorecards, amounts)."""
        data = asdict(self)
        if insurer_conduct_only:
            keep = ("filters", "amounts", "insurers", "definitions")
            data = {key: value for key, value in data.items() if key in keep}
            data["definitions"] = {
                key: value
                for key, value in data["definitions"].items()
                if key in ("amounts", "insurers", "case_type")
            }
        return data


# -- the cohort and each case's facts --------------------------------------------------------


def case_type_of(claims: Mapping[str, Any]) -> str:
    """The type of a case whose latest claims are `claims` (see DEFINITIONS["case_type"]);
    kept on the case (`Case.case_type`) when claims are filed."""
    items = [key for victim in claims.get("victims") or [] for key in victim.get("items") or {}]
    if any(item in DEATH_ITEMS for item in items):
        return "death"
    if any(item not in PROPERTY_ITEMS for item in items):
        return "injury"
    return "property"


def _case_conditions(filters: Filters, visible: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    conditions = [visible]
    if filters.region:
        conditions.append(access.in_region(filters.region))
    if filters.insurer_id is not None:
        conditions.append(
            exists().where(CaseInsurer.case_id == Case.id, CaseInsurer.org_id == filters.insurer_id)
        )
    if filters.case_type:
        conditions.append(Case.case_type == filters.case_type)
    return conditions


def _received(filters: Filters, visible: ColumnElement[bool], *columns: Any) -> Select:
    """`columns` of the received cases' milestones: confirmed by the police in the period,
    visible, and filtered. An admin's unfiltered cohort is the milestones alone: joining every
    case to `cases` for no condition would read the whole table."""
    m = CaseMilestone
    received = select(*columns).where(
        m.received_at >= filters.start_at, m.received_at < filters.end_at
    )
    conditions = [c for c in _case_conditions(filters, visible) if not isinstance(c, True_)]
    if not conditions:
        return received
    return received.join(Case, Case.id == m.case_id).where(*conditions)


def cohort(filters: Filters, visible: ColumnElement[bool]) -> Select:
    """The ids of the received cases (`case_id`)."""
    return _received(filters, visible, CaseMilestone.case_id.label("case_id"))


def _first(action: str) -> Any:
    return func.min(AuditEvent.occurred_at).filter(AuditEvent.action == action)


def _by(end: datetime, column: Any) -> Any:
    """A milestone if it was reached before `end`, else none."""
    return case((column < end, column))


def facts(filters: Filters, visible: ColumnElement[bool]) -> Select:
    """One row per received case: when each of its stages happened before the period's end
    (the columns of `FACTS`). From the case's milestones (first times, app/milestones.py),
    except for the few cases the tribunal sent back: signed again or rejected, their state at
    the period's end is read from their events."""
    m, end = CaseMilestone, filters.end_at
    regular = _received(
        filters,
        visible,
        m.case_id,
        _by(end, m.created_at).label("created_at"),
        m.received_at,
        _by(end, m.claims_at).label("claims_at"),
        _by(end, m.assessed_at).label("assessed_at"),
        _by(end, m.agreed_at).label("first_agreed_at"),
        _by(end, m.agreed_at).label("agreed_at"),
        _by(end, m.failed_at).label("failed_at"),
        _by(end, m.confirmed_at).label("confirmed_at"),
        _by(end, m.paid_at).label("paid_at"),
        null().label("back_at"),
        _by(end, m.failed_at).label("litigation_at"),
        literal(0).label("rejections"),
    ).where(not_(m.rejected))
    sent_back = _received(filters, visible, m.case_id.label("case_id")).where(m.rejected)
    return union_all(regular, _facts_from_events(sent_back.subquery("sent_back"), end))


def _facts_from_events(received: Any, end: datetime) -> Select:
    """The facts of the cases `received` from their audit events before `end`."""
    events = (
        select(
            AuditEvent.case_id.label("case_id"),
            _first("case.created").label("created_at"),
            _first("case.confirmed").label("received_at"),
            _first("claims.filed").label("claims_at"),
            _first("case.assessed").label("assessed_at"),
            _first("agreement.signed").label("first_agreed_at"),
            func.max(AuditEvent.occurred_at)
            .filter(AuditEvent.action == "agreement.signed")
            .label("agreed_at"),
            _first("mediation.failed").label("failed_at"),
            _first("confirmation.confirmed").label("confirmed_at"),
            _first("case.paid").label("paid_at"),
        )
        .join(received, received.c.case_id == AuditEvent.case_id)
        .where(AuditEvent.action.in_(ACTIONS), AuditEvent.occurred_at < end)
        .group_by(AuditEvent.case_id)
        .subquery("events")
    )
    target = AuditEvent.details[("status", 1)].as_string()
    rejections = (
        select(
            AuditEvent.case_id.label("case_id"),
            func.max(AuditEvent.occurred_at)
            .filter(target == CaseStatus.NEGOTIATING.value)
            .label("back_at"),
            func.min(AuditEvent.occurred_at)
            .filter(target == CaseStatus.LITIGATION.value)
            .label("rejected_to_litigation_at"),
            func.count().label("rejections"),
        )
        .join(received, received.c.case_id == AuditEvent.case_id)
        .where(AuditEvent.action == "confirmation.rejected", AuditEvent.occurred_at < end)
        .group_by(AuditEvent.case_id)
        .subquery("rejections")
    )
    return select(
        events,
        rejections.c.back_at,
        func.coalesce(events.c.failed_at, rejections.c.rejected_to_litigation_at).label(
            "litigation_at"
        ),
        func.coalesce(rejections.c.rejections, 0).label("rejections"),
    ).outerjoin(rejections, rejections.c.case_id == events.c.case_id)


# `facts` written once per computation into a temporary table that every figure then reads:
# as a subquery PostgreSQL would work it out again for each of them.
FACTS = Table(
    "stats_facts",
    MetaData(),
    Column("case_id", Integer, primary_key=True, autoincrement=False),
    *(
        Column(name, DateTime(timezone=True))
        for name in (
            "created_at",
            "received_at",
            "claims_at",
            "assessed_at",
            "first_agreed_at",
            "agreed_at",
            "failed_at",
            "confirmed_at",
            "paid_at",
            "back_at",
            "litigation_at",
        )
    ),
    Column("rejections", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
# The received cases' insurers (a row per case and insurer), and the payers of their signed
# agreements with the amounts in fen (integers: exact sums on every database).
INSURERS = Table(
    "stats_insurers",
    FACTS.metadata,
    Column("case_id", Integer, primary_key=True, autoincrement=False),
    Column("org_id", Integer, primary_key=True, autoincrement=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
PAYERS = Table(
    "stats_payers",
    FACTS.metadata,
    Column("case_id", Integer),
    Column("org_id", Integer),
    Column("assessed_fen", BigInteger),
    Column("agreed_fen", BigInteger),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
TABLES = (FACTS, INSURERS, PAYERS)


def _litigated(f: Any) -> ColumnElement[bool]:
    return f.c.litigation_at.is_not(None)


def _resolved(f: Any) -> ColumnElement[bool]:
    return and_(
        f.c.agreed_at.is_not(None),
        f.c.litigation_at.is_(None),
        or_(f.c.back_at.is_(None), f.c.agreed_at > f.c.back_at),
    )


def _figure_condition(f: Any, figure: str) -> ColumnElement[bool]:
    match figure:
        case "resolved":
            return _resolved(f)
        case "confirmed":
            return and_(f.c.confirmed_at.is_not(None), f.c.litigation_at.is_(None))
        case "litigation":
            return _litigated(f)
        case "open":
            return and_(not_(_resolved(f)), not_(_litigated(f)))
    return true()


def figure_cases(figure: str, filters: Filters, visible: ColumnElement[bool]) -> Select:
    """The ids of the cases a figure counts, for the case list behind it (`/cases?figure=…`)."""
    if figure not in FIGURES:
        raise ValidationFailed(_("There is no such figure."), field="figure")
    f = facts(filters, visible).subquery("facts")
    return select(f.c.case_id).where(_figure_condition(f, figure))


# -- the figures ------------------------------------------------------------------------------


def _days(start: Any, end: Any) -> Any:
    return days_between(start, end)


def _percentile(fraction: float, value: Any) -> Any:
    return percentile(fraction, value)


def _round(value: float | None, places: int = 1) -> float | None:
    return None if value is None else round(float(value), places)


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _count(condition: ColumnElement[bool]) -> Any:
    return func.count().filter(condition)


def _case_figures(f: Any) -> tuple[dict[str, int], dict[str, float | None]]:
    row = session.execute(
        select(
            func.count(),
            _count(_resolved(f)),
            _count(_figure_condition(f, "confirmed")),
            _count(_litigated(f)),
        ).select_from(f)
    ).one()
    received, resolved, confirmed, litigation = (int(value) for value in row)
    cases = {
        "received": received,
        "resolved": resolved,
        "confirmed": confirmed,
        "litigation": litigation,
        "open": received - resolved - litigation,
    }
    rates = {
        "resolution_rate": _rate(resolved, received),
        "mediation_success_rate": _rate(resolved, resolved + litigation),
    }
    return cases, rates


STAGES = (
    ("upload_to_confirmation", "created_at", "received_at"),
    ("confirmation_to_assessment", "received_at", "assessed_at"),
    ("negotiation", "assessed_at", "first_agreed_at"),
    ("agreement_to_confirmation", "agreed_at", "confirmed_at"),
    ("agreement_to_payment", None, "paid_at"),
    ("overall", "created_at", "paid_at"),
)
STAGE_LABELS = {
    "upload_to_confirmation": _l("Upload → confirmation"),
    "confirmation_to_assessment": _l("Confirmation → assessment"),
    "negotiation": _l("Negotiation"),
    "agreement_to_confirmation": _l("Agreement → judicial confirmation"),
    "agreement_to_payment": _l("Agreement/confirmation → payment"),
    "overall": _l("Overall"),
}


def _later(first: Any, second: Any) -> Any:
    """The later of two times, either of which may be missing (PostgreSQL's `greatest`)."""
    return case((or_(first.is_(None), second > first), second), else_=first)


def _stage_columns(f: Any, name: str, start: str | None, end: str) -> list[Any]:
    begin = _later(f.c.agreed_at, f.c.confirmed_at) if start is None else f.c[start]
    days = _days(begin, f.c[end])
    valid = and_(begin.is_not(None), f.c[end].is_not(None), f.c[end] >= begin)
    values = case((valid, days))
    return [
        _percentile(0.5, values).label(f"{name}_median"),
        _percentile(0.9, values).label(f"{name}_p90"),
        func.count(values).label(f"{name}_cases"),
    ]


def _cycle_time(f: Any) -> dict[str, Any]:
    columns = [c for name, start, end in STAGES for c in _stage_columns(f, name, start, end)]
    row = session.execute(select(*columns).select_from(f)).one()._mapping
    stages = [
        {
            "stage": name,
            "label": str(STAGE_LABELS[name]),
            "median_days": _round(row[f"{name}_median"]),
            "p90_days": _round(row[f"{name}_p90"]),
            "cases": int(row[f"{name}_cases"]),
        }
        for name, _start, _end in STAGES
    ]
    month = beijing_month(f.c.received_at)
    overall = case(
        (f.c.paid_at.is_not(None), _days(f.c.created_at, f.c.paid_at)),
    )
    trend = session.execute(
        select(
            month.label("month"),
            func.count(),
            _count(_resolved(f)),
            _count(_litigated(f)),
            _percentile(0.5, overall),
        )
        .select_from(f)
        .group_by(month)
        .order_by(month)
    ).all()
    return {
        "stages": stages,
        "trend": [
            {
                "month": row[0],
                "received": int(row[1]),
                "resolved": int(row[2]),
                "litigation": int(row[3]),
                "overall_median_days": _round(row[4]),
            }
            for row in trend
        ],
    }


def _newest_signed(f: Any, filters: Filters) -> Select:
    """Each resolved case's signed agreement in force at the period's end: its newest."""
    newest = (
        select(func.max(Agreement.id).label("id"))
        .join(f, f.c.case_id == Agreement.case_id)
        .where(
            _resolved(f),
            Agreement.status == AgreementStatus.SIGNED,
            Agreement.signed_at < filters.end_at,
        )
        .group_by(Agreement.case_id)
        .subquery("newest")
    )
    return select(Agreement.case_id, Agreement.data).join(newest, newest.c.id == Agreement.id)


def _fen(value: Any) -> Any:
    return cast(func.round(cast(value, Numeric(14, 2)) * 100), BigInteger)


def _write_payers(f: Any, filters: Filters) -> None:
    """The payers of each resolved case's agreement in force (payer's insurer, assessed and
    agreed amounts rounded to the fen) into `PAYERS`: by PostgreSQL's JSON functions there,
    read in Python on SQLite, whose SQL has no exact decimals."""
    newest = _newest_signed(f, filters)
    if session.get_bind().dialect.name != "postgresql":
        rows = [
            {
                "case_id": case_id,
                "org_id": payer.get("org_id"),
                "assessed_fen": int(to_fen(Decimal(str(payer.get("assessed") or 0))) * 100),
                "agreed_fen": int(to_fen(Decimal(str(payer.get("amount") or 0))) * 100),
            }
            for case_id, data in session.execute(newest)
            for payer in (data or {}).get("payers") or []
        ]
        if rows:
            session.execute(insert(PAYERS), rows)
        return
    agreements = newest.subquery("agreement")
    payer = (
        func.json_array_elements(agreements.c.data["payers"])
        .table_valued(column("value", JSON))
        .alias("p")
    )
    query = (
        select(
            agreements.c.case_id,
            cast(payer.c.value["org_id"].as_string(), Integer),
            _fen(payer.c.value["assessed"].as_string()),
            _fen(payer.c.value["amount"].as_string()),
        )
        .select_from(agreements)
        .join(payer, true())
    )
    session.execute(insert(PAYERS).from_select([c.name for c in PAYERS.c], query))


def _money(value: Decimal | None) -> str:
    return amount_text(Decimal(value or 0))


def _yuan(fen: int | None) -> Decimal:
    return Decimal(int(fen or 0)) / 100


def _amounts(f: Any, filters: Filters) -> tuple[dict[str, Any], dict[int, dict[str, Decimal]]]:
    p = PAYERS
    assessed, agreed = (
        _yuan(value)
        for value in session.execute(
            select(func.sum(p.c.assessed_fen), func.sum(p.c.agreed_fen))
        ).one()
    )
    paid = _yuan(
        session.scalar(
            select(func.sum(_fen(Payment.amount)))
            .join(f, f.c.case_id == Payment.case_id)
            .where(Payment.paid_on < filters.end + timedelta(days=1))
        )
    )
    per_insurer = {
        org_id: {"assessed": _yuan(a), "agreed": _yuan(b)}
        for org_id, a, b in session.execute(
            select(p.c.org_id, func.sum(p.c.assessed_fen), func.sum(p.c.agreed_fen))
            .where(p.c.org_id.is_not(None))
            .group_by(p.c.org_id)
        )
    }
    totals = {
        "assessed": _money(assessed),
        "agreed": _money(agreed),
        "paid": _money(paid),
        "agreed_to_assessed": _ratio(agreed, assessed),
    }
    return totals, per_insurer


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    return None if not whole else round(float(part / whole), 4)


def _insurers(
    f: Any, filters: Filters, amounts: dict[int, dict[str, Decimal]]
) -> list[dict[str, Any]]:
    pairs = INSURERS
    cases = dict(
        session.execute(select(pairs.c.org_id, func.count()).group_by(pairs.c.org_id)).all()
    )
    window_days = deadlines.timers()["mediation_window"]["days"]
    first_offer = (
        select(
            Offer.case_id,
            Offer.org_id,
            func.min(Offer.created_at).label("made_at"),
        )
        .join(f, f.c.case_id == Offer.case_id)
        .where(Offer.side == OfferSide.INSURER, Offer.created_at < filters.end_at)
        .group_by(Offer.case_id, Offer.org_id)
        .subquery("first_offer")
    )
    offers = {
        row.org_id: row
        for row in session.execute(
            select(
                first_offer.c.org_id,
                func.count().label("offers"),
                _percentile(0.5, _days(f.c.assessed_at, first_offer.c.made_at)).label("median"),
                _count(_days(f.c.claims_at, first_offer.c.made_at) <= window_days).label("within"),
            )
            .join(f, f.c.case_id == first_offer.c.case_id)
            .group_by(first_offer.c.org_id)
        )
    }
    last_paid = deadlines.last_payment_date()
    due_day = beijing_date(Deadline.due_at)
    met = Deadline.status == DeadlineStatus.MET
    late_days = case((met, dates_apart(due_day, last_paid)))
    payments = {
        row.org_id: row
        for row in session.execute(
            select(
                Deadline.owner_org_id.label("org_id"),
                _count(and_(met, last_paid <= due_day)).label("on_time"),
                _count(and_(met, last_paid > due_day)).label("late"),
                _percentile(0.5, case((late_days > 0, late_days))).label("days_late"),
                _count(Deadline.status.in_(_PENDING)).label("unpaid"),
            )
            .join(f, f.c.case_id == Deadline.case_id)
            .where(Deadline.kind == "insurer_payment", Deadline.due_at < filters.end_at)
            .group_by(Deadline.owner_org_id)
        )
    }
    rejections = dict(
        session.execute(
            select(pairs.c.org_id, func.count())
            .join(f, f.c.case_id == pairs.c.case_id)
            .where(f.c.rejections > 0)
            .group_by(pairs.c.org_id)
        ).all()
    )
    org_ids = sorted(set(cases) | set(amounts))
    if filters.insurer_id is not None:
        org_ids = [org_id for org_id in org_ids if org_id == filters.insurer_id]
    names = dict(
        session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(org_ids))
        ).all()
    )
    cards = []
    for org_id in org_ids:
        offer, payment, money = offers.get(org_id), payments.get(org_id), amounts.get(org_id)
        cards.append(
            {
                "org_id": org_id,
                "name": names.get(org_id, str(org_id)),
                "cases": int(cases.get(org_id, 0)),
                "offers": int(offer.offers) if offer else 0,
                "first_offer_median_days": _round(offer.median) if offer else None,
                "offers_within_window": int(offer.within) if offer else 0,
                "payments_on_time": int(payment.on_time) if payment else 0,
                "payments_late": int(payment.late) if payment else 0,
                "days_late_median": _round(payment.days_late) if payment else None,
                "payments_unpaid_past_due": int(payment.unpaid) if payment else 0,
                "tribunal_rejections": int(rejections.get(org_id, 0)),
                "assessed": _money(money["assessed"] if money else None),
                "agreed": _money(money["agreed"] if money else None),
                "agreed_to_assessed": (
                    _ratio(money["agreed"], money["assessed"]) if money else None
                ),
            }
        )
    return cards


_PENDING = (DeadlineStatus.OPEN, DeadlineStatus.DUE, DeadlineStatus.OVERDUE)


def _workload(filters: Filters, visible: ColumnElement[bool]) -> dict[str, list[dict[str, Any]]]:
    """Open cases and timers past due now, per mediation centre and per mediator. Neither the
    period nor the case type applies: this is today's load, and the type (read from each case's
    claims) would be worked out for every open case, seconds at 1,000,000 cases. One query by
    centre and mediator; the two tables are its sums."""
    now = utcnow()
    overdue = (
        select(Deadline.case_id, func.count().label("overdue"))
        .where(Deadline.status.in_(_PENDING), Deadline.due_at < now)
        .group_by(Deadline.case_id)
        .subquery("overdue")
    )
    by_place = replace(filters, case_type=None)
    rows = session.execute(
        select(
            Case.mediation_committee_id,
            Case.mediator_id,
            func.count(),
            func.coalesce(func.sum(overdue.c.overdue), 0),
        )
        .outerjoin(overdue, overdue.c.case_id == Case.id)
        .where(*_case_conditions(by_place, visible), Case.status.in_(OPEN_STATES))
        .group_by(Case.mediation_committee_id, Case.mediator_id)
    ).all()
    centres: dict[int | None, list[int]] = {}
    mediators: dict[int | None, list[int]] = {}
    for committee_id, mediator_id, cases, timers in rows:
        for totals, key in ((centres, committee_id), (mediators, mediator_id)):
            total = totals.setdefault(key, [0, 0])
            total[0] += int(cases)
            total[1] += int(timers)
    names = dict(
        session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(centres))
        ).all()
    )
    people = dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(mediators))).all()
    )

    def table(totals: dict[int | None, list[int]], labels: dict[int, str]) -> list[dict[str, Any]]:
        ordered = sorted(totals.items(), key=lambda item: (-item[1][0], item[0] or 0))
        return [
            {"id": key, "name": labels.get(key) or "—", "open": n, "overdue": late}
            for key, (n, late) in ordered
        ]

    return {"centres": table(centres, names), "mediators": table(mediators, people)}


def _analyze(connection: Any, *tables: Table) -> None:
    """Statistics for PostgreSQL's planner on freshly filled temporary tables: without them it
    guesses their sizes, and joins a month's cases by reading the whole of the other table."""
    if connection.dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f"ANALYZE {table.name}"))


def compute(filters: Filters, visible: ColumnElement[bool]) -> Figures:
    """Every figure for `filters` over the cases `visible` selects (the caller's access filter),
    so a user only ever counts the cases they may see."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The figures read a period's cases and their rows by key from tables the server holds
        # in memory: at the default cost of a random read (4, a spinning disk's) PostgreSQL
        # would rather read the whole of `cases` or `offers` than look up a month's cases.
        session.execute(text("SET LOCAL random_page_cost = 1.1"))
    for table in TABLES:
        table.drop(connection, checkfirst=True)
        table.create(connection)
    query = facts(filters, visible)
    session.execute(insert(FACTS).from_select([c.name for c in FACTS.c], query))
    _analyze(connection, FACTS)
    f = FACTS
    session.execute(
        insert(INSURERS).from_select(
            ["case_id", "org_id"],
            select(CaseInsurer.case_id, CaseInsurer.org_id).join(
                f, f.c.case_id == CaseInsurer.case_id
            ),
        )
    )
    _write_payers(f, filters)
    _analyze(connection, INSURERS, PAYERS)
    cases, rates = _case_figures(f)
    amounts, per_insurer = _amounts(f, filters)
    figures = Figures(
        filters={
            **filters.as_args(),
            "insurer": filters.insurer_id,
            "timezone": "Asia/Shanghai",
        },
        cases=cases,
        rates=rates,
        cycle_time=_cycle_time(f),
        amounts=amounts,
        insurers=_insurers(f, filters, per_insurer),
        workload=_workload(filters, visible),
        definitions={key: str(text) for key, text in DEFINITIONS.items()},
    )
    for table in TABLES:
        table.drop(connection)
    if connection.dialect.name == "postgresql":
        session.execute(text("RESET random_page_cost"))
    return figures


def regions() -> list[str]:
    """The counties cases are in, for the filter form."""
    return list(
        session.scalars(
            select(Organization.region)
            .where(Organization.region.is_not(None))
            .distinct()
            .order_by(Organization.region)
        )
    )


def insurer_choices() -> list[tuple[int, str]]:
    """The insurer organisations, for the filter form."""
    return [
        (row.id, row.name)
        for row in session.execute(
            select(Organization.id, Organization.name)
            .where(Organization.kind == OrgKind.INSURER)
            .order_by(Organization.name)
        )
    ]


# -- tables: the page's table views, the CSV and the workbook ----------------------------------

TABLE_TITLES = {
    "cases": _l("Cases"),
    "rates": _l("Rates"),
    "cycle_time": _l("Cycle time"),
    "trend": _l("Trend by month"),
    "amounts": _l("Amounts"),
    "insurers": _l("Insurers"),
    "centres": _l("Workload by centre"),
    "mediators": _l("Workload by mediator"),
    "definitions": _l("Definitions"),
}
FIGURE_LABELS = {
    "received": _l("Received"),
    "resolved": _l("Resolved by mediation"),
    "confirmed": _l("Confirmed by the tribunal"),
    "litigation": _l("To litigation"),
    "open": _l("Open"),
    "resolution_rate": _l("Resolution rate (化解率)"),
    "mediation_success_rate": _l("Mediation success rate (调解成功率)"),
    "assessed": _l("Assessed (yuan)"),
    "agreed": _l("Agreed (yuan)"),
    "paid": _l("Paid (yuan)"),
    "agreed_to_assessed": _l("Agreed ÷ assessed"),
}
INSURER_COLUMNS = (
    ("name", _l("Insurer")),
    ("cases", _l("Cases")),
    ("offers", _l("Cases with an offer")),
    ("first_offer_median_days", _l("First offer, median days")),
    ("offers_within_window", _l("First offers within the mediation window")),
    ("payments_on_time", _l("Payments on time")),
    ("payments_late", _l("Payments late")),
    ("days_late_median", _l("Days late, median")),
    ("payments_unpaid_past_due", _l("Unpaid past due")),
    ("tribunal_rejections", _l("Rejections at the tribunal")),
    ("assessed", _l("Assessed (yuan)")),
    ("agreed", _l("Agreed (yuan)")),
    ("agreed_to_assessed", _l("Agreed ÷ assessed")),
)


def tables(data: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Each figure group of `Figures.as_json()` as a header row and rows, in the order the page
    and the workbook show them (only the groups `data` holds)."""
    out: dict[str, tuple[list[str], list[list[Any]]]] = {}
    figure, value = str(_l("Figure")), str(_l("Value"))
    if "cases" in data:
        out["cases"] = (
            [figure, value],
            [[str(FIGURE_LABELS[k]), v] for k, v in data["cases"].items()],
        )
    if "rates" in data:
        out["rates"] = (
            [figure, value],
            [[str(FIGURE_LABELS[k]), v] for k, v in data["rates"].items()],
        )
    if "cycle_time" in data:
        out["cycle_time"] = (
            [
                str(_l("Stage")),
                str(_l("Median days")),
                str(_l("90th percentile days")),
                str(_l("Cases")),
            ],
            [
                [s["label"], s["median_days"], s["p90_days"], s["cases"]]
                for s in data["cycle_time"]["stages"]
            ],
        )
        out["trend"] = (
            [
                str(_l("Month")),
                str(FIGURE_LABELS["received"]),
                str(FIGURE_LABELS["resolved"]),
                str(FIGURE_LABELS["litigation"]),
                str(_l("Overall, median days")),
            ],
            [
                [
                    t["month"],
                    t["received"],
                    t["resolved"],
                    t["litigation"],
                    t["overall_median_days"],
                ]
                for t in data["cycle_time"]["trend"]
            ],
        )
    if "amounts" in data:
        out["amounts"] = (
            [figure, value],
            [[str(FIGURE_LABELS[k]), v] for k, v in data["amounts"].items()],
        )
    if "insurers" in data:
        out["insurers"] = (
            [str(label) for _key, label in INSURER_COLUMNS],
            [[card[key] for key, _label in INSURER_COLUMNS] for card in data["insurers"]],
        )
    if "workload" in data:
        headers = [str(_l("Name")), str(_l("Open cases")), str(_l("Timers past due"))]
        for group in ("centres", "mediators"):
            out[group] = (
                headers,
                [[r["name"], r["open"], r["overdue"]] for r in data["workload"][group]],
            )
    out["definitions"] = (
        [str(_l("Term")), str(_l("Definition"))],
        [[key, text] for key, text in data["definitions"].items()],
    )
    return out


def csv_text(headers: list[str], rows: list[list[Any]]) -> str:
    """One table as CSV (UTF-8 with a byte-order mark added by the view, so Excel reads it).
    A text that a spreadsheet would run as a formula (an organisation's or a county's name
    beginning with =, +, - or @) is written with a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_cell(cell) for cell in headers])
    writer.writerows([[_csv_cell(cell) for cell in row] for row in rows])
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_STARTS)
        and not _AMOUNT.fullmatch(value)
    ):
        return "'" + value
    return value


def workbook(data: dict[str, Any]) -> bytes:
    """The figures as an .xlsx workbook: the filters, then one sheet per figure group and the
    definitions; amounts as numbers, every text as text (never a formula)."""
    book = Workbook()
    book.remove(book.active)
    filters = book.create_sheet(str(_l("Filters"))[:31])
    for key, value in data["filters"].items():
        _append(filters, [key, "" if value is None else str(value)])
    for name, (headers, rows) in tables(data).items():
        sheet = book.create_sheet(str(TABLE_TITLES[name])[:31])
        _append(sheet, headers)
        for row in rows:
            _append(sheet, [_cell(cell) for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sectioned_workbook(sections: list[tuple[str, dict[str, Any]]]) -> bytes:
    """One sheet per (title, figures) of `sections` (the monthly report: a county each, then
    the total), each figure group's table below its title, as `workbook` writes them."""
    book = Workbook()
    book.remove(book.active)
    for title, data in sections:
        sheet = book.create_sheet(title[:31])
        for name, (headers, rows) in tables(data).items():
            _append(sheet, [str(TABLE_TITLES[name])])
            _append(sheet, headers)
            for row in rows:
                _append(sheet, [_cell(cell) for cell in row])
            _append(sheet, [])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _append(sheet: Any, values: list[Any]) -> None:
    """Append a row; openpyxl takes a text beginning with = for a formula: keep it a text."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


def _cell(value: Any) -> Any:
    """Amount texts ("1234.50") become numbers in the sheet; everything else stays."""
    if isinstance(value, str) and _AMOUNT.fullmatch(value):
        return Decimal(value)
    return value


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_AMOUNT = re.compile(r"-?\d+\.\d{2}")
