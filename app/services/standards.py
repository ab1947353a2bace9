"""Yearly compensation standards: the packaged figures, replaced year by year by admins' edits.

Nothing legal is a constant in code: the engine reads `current_catalog()`, in which every year
an admin saved replaces the packaged file of that year (DESIGN.md §1, admins keep the standards).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import access, audit, validation
from app.compensation.catalog import (
    FIGURES,
    Catalog,
    CatalogError,
    StandardSet,
    packaged_catalog,
)
from app.db import session
from app.errors import InvalidTransition, NotFound, ValidationFailed
from app.models import Role, StandardSetRecord, User

FIRST_YEAR, LAST_YEAR = 1990, 2100
TITLE_LENGTH = 200
# The key under which `sources` holds the source of the industry wages table.
INDUSTRY_WAGES = "industry_wages"

FIGURE_LABELS = {
    "urban_disposable_income": _l("Urban disposable income per person"),
    "rural_disposable_income": _l("Rural disposable income per person"),
    "urban_consumption": _l("Urban consumption expenditure per person"),
    "rural_consumption": _l("Rural consumption expenditure per person"),
    "annual_wage_employed": _l("Average annual wage, employed persons in non-private units"),
    "annual_wage_on_post": _l("Average annual wage, on-post staff in non-private units"),
    "hospital_food_per_day": _l("Hospital food allowance per day"),
}
INDUSTRY_WAGES_LABEL = _l("Industry wages")

# Yuan, positive, at most two decimals, within Numeric(14, 2).
_INDUSTRY_CODE = re.compile(r"[a-z_]+")
_EDITED = "edited:"


def _as_standard_set(row: StandardSetRecord) -> StandardSet:
    return StandardSet(
        jurisdiction=row.jurisdiction,
        year=row.year,
        figures=dict(row.figures),
        industry_wages=dict(row.industry_wages),
        sources=dict(row.sources),
        title=row.title,
        published_on=row.published_on.isoformat() if row.published_on else None,
        valid_from=row.valid_from.isoformat() if row.valid_from else None,
        valid_to=row.valid_to.isoformat() if row.valid_to else None,
        note=row.note,
        origin=f"{_EDITED}{row.id}.{row.version}",
    )


def current_catalog() -> Catalog:
    """The packaged catalog with every year an admin saved replacing the packaged one."""
    rows = session.scalars(select(StandardSetRecord).order_by(StandardSetRecord.id))
    return packaged_catalog().with_standard_sets([_as_standard_set(row) for row in rows])


def list_standard_sets() -> list[StandardSet]:
    """Every jurisdiction's yearly standards in force, by jurisdiction, newest year first."""
    standards = current_catalog().standards.values()
    return sorted(standards, key=lambda s: (s.jurisdiction, -s.year))


def get_standard_set(*, jurisdiction: str, year: int) -> StandardSet:
    """One year's standards in force (edited or packaged), or NotFound."""
    standard = current_catalog().standard_set(jurisdiction, year)
    if standard is None:
        raise NotFound(
            _("There are no standards for %(code)s %(year)d.", code=jurisdiction, year=year)
        )
    return standard


def jurisdiction_names() -> dict[str, str]:
    """Jurisdiction code → display name, for every jurisdiction the engine knows."""
    return {code: table["name"] for code, table in packaged_catalog().jurisdictions.items()}


def is_edited(standard: StandardSet) -> bool:
    """True if the standards come from an admin's edit rather than the packaged files."""
    return standard.origin.startswith(_EDITED)


def revision_of(standard: StandardSet) -> int:
    """The version of the saved edit behind `standard`; 0 for packaged figures."""
    if not is_edited(standard):
        return 0
    return int(standard.origin.rsplit(".", 1)[1])


def _label(name: str) -> str:
    return str(FIGURE_LABELS.get(name, INDUSTRY_WAGES_LABEL if name == INDUSTRY_WAGES else name))


def _amount(value: str | Decimal | int, *, label: str, field: str) -> str:
    """The figure as written (1,000 → 1000): its decimals are part of the rule set's text."""
    validation.amount(value, name=field, label=label, positive=True)
    return str(Decimal(str(value).strip().replace(",", "")))


def _clean_figures(figures: Mapping[str, str | Decimal | int]) -> dict[str, str]:
    unknown = sorted(set(figures) - set(FIGURES))
    if unknown:
        raise ValidationFailed(
            _("Unknown figure: %(name)s.", name=", ".join(unknown)), field=unknown[0]
        )
    if not figures:
        raise ValidationFailed(_("Give at least one figure."), field="figures")
    return {
        name: _amount(figures[name], label=_label(name), field=name)
        for name in FIGURES
        if name in figures
    }


def _clean_industry_wages(wages: Mapping[str, str | Decimal | int]) -> dict[str, str]:
    cleaned = {}
    for code, amount in wages.items():
        if not _INDUSTRY_CODE.fullmatch(code):
            raise ValidationFailed(
                _(
                    "Industry code %(code)s: use lower-case letters and '_' only.",
                    code=code or "—",
                ),
                field=INDUSTRY_WAGES,
            )
        cleaned[code] = _amount(amount, label=code, field=INDUSTRY_WAGES)
    return cleaned


def _clean_sources(
    sources: Mapping[str, str], figures: dict[str, str], industry_wages: dict[str, str]
) -> dict[str, str]:
    given = {name: (text or "").strip() for name, text in sources.items() if (text or "").strip()}
    unknown = sorted(set(given) - {*FIGURES, INDUSTRY_WAGES})
    if unknown:
        raise ValidationFailed(
            _("Unknown figure: %(name)s.", name=", ".join(unknown)), field=unknown[0]
        )
    described = [*figures, *([INDUSTRY_WAGES] if industry_wages else [])]
    for name in described:
        if name not in given:
            raise ValidationFailed(
                _("Give the source of %(figure)s.", figure=_label(name)), field=f"{name}.source"
            )
    for name in given:
        if name not in described:
            raise ValidationFailed(
                _(
                    "%(figure)s has a source but no amount: give the amount or clear the source.",
                    figure=_label(name),
                ),
                field=name,
            )
    return {name: given[name] for name in described}


def _check_validity(
    year: int, published_on: date | None, valid_from: date | None, valid_to: date | None
) -> None:
    """The engine's rule for the packaged files (`StandardSet.check`): the figures cannot stop
    applying before they start (`valid_from`, else `published_on`, else 1 January after
    their year)."""
    dates = StandardSet(
        jurisdiction="",
        year=year,
        figures={},
        published_on=published_on.isoformat() if published_on else None,
        valid_from=valid_from.isoformat() if valid_from else None,
        valid_to=valid_to.isoformat() if valid_to else None,
    )
    try:
        dates.check()
    except CatalogError as exc:
        raise ValidationFailed(
            _("The standards cannot stop applying before they start applying."), field="valid_to"
        ) from exc


def _conflict() -> InvalidTransition:
    return InvalidTransition(
        _("Someone else changed these standards at the same time. Reload them and try again.")
    )


def save_standard_set(
    *,
    actor: User,
    jurisdiction: str,
    year: int,
    figures: Mapping[str, str | Decimal | int],
    industry_wages: Mapping[str, str | Decimal | int],
    sources: Mapping[str, str],
    title: str,
    published_on: date | None,
    valid_from: date | None,
    valid_to: date | None,
    note: str,
    expected_version: int | None = None,
) -> StandardSet:
    """Validate and save one year's standards (replacing the packaged ones); audited.

    `expected_version` is the version the editor started from: 0 when no edit was saved yet
    (packaged or new figures), None to skip the check. A stale one raises InvalidTransition.
    """
    access.require_role(actor, Role.ADMIN)
    jurisdiction = (jurisdiction or "").strip()
    if jurisdiction not in packaged_catalog().jurisdictions:
        raise ValidationFailed(
            _("Unknown jurisdiction: %(code)s.", code=jurisdiction or "—"), field="jurisdiction"
        )
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(
            _(
                "The year must be a whole number from %(first)d to %(last)d.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            ),
            field="year",
        )
    title = (title or "").strip()
    if not title or len(title) > TITLE_LENGTH:
        raise ValidationFailed(
            _("Give the standards a title of at most %(n)d characters.", n=TITLE_LENGTH),
            field="title",
        )
    clean_figures = _clean_figures(figures)
    clean_wages = _clean_industry_wages(industry_wages)
    clean_sources = _clean_sources(sources, clean_figures, clean_wages)
    _check_validity(year, published_on, valid_from, valid_to)

    row = session.scalars(
        select(StandardSetRecord).where(
            StandardSetRecord.jurisdiction == jurisdiction, StandardSetRecord.year == year
        )
    ).one_or_none()
    if expected_version is not None and expected_version != (row.version if row else 0):
        raise _conflict()
    before = _as_standard_set(row) if row else packaged_catalog().standard_set(jurisdiction, year)
    proposed = StandardSet(
        jurisdiction=jurisdiction,
        year=year,
        figures=clean_figures,
        industry_wages=clean_wages,
        sources=clean_sources,
        title=title,
        published_on=published_on.isoformat() if published_on else None,
        valid_from=valid_from.isoformat() if valid_from else None,
        valid_to=valid_to.isoformat() if valid_to else None,
        note=(note or "").strip(),
    )
    if row is not None and _content(proposed) == _content(before):
        return before  # nothing changed: no new version, no audit event
    created = row is None
    if row is None:
        row = StandardSetRecord(jurisdiction=jurisdiction, year=year)
        session.add(row)
    row.title = title
    row.figures = clean_figures
    row.industry_wages = clean_wages
    row.sources = clean_sources
    row.published_on, row.valid_from, row.valid_to = published_on, valid_from, valid_to
    row.note = proposed.note
    row.updated_by_id = actor.id
    try:
        session.flush()
    except (IntegrityError, StaleDataError) as exc:
        # Another admin saved this year between our read and our write.
        raise _conflict() from exc
    after = _as_standard_set(row)
    audit.record(
        "standards.created" if created else "standards.updated",
        actor=actor,
        subject=f"standards:{jurisdiction}:{year}",
        details={"before": before.as_json() if before else None, "after": after.as_json()},
    )
    return after


def _content(standard: StandardSet | None) -> dict[str, object] | None:
    """What a standard set says, without where it comes from."""
    if standard is None:
        return None
    content = standard.as_json()
    content.pop("origin")
    return content
