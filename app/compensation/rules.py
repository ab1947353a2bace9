"""The rule set of one assessment: which limits, standards and tables apply, chosen from the
catalog by the accident date, the jurisdiction, the law version and the standards year.

The standards year: the one asked for, else the newest year whose figures are in force on the
`as_of` day (the mediation or hearing: 人损解释 art. 22 "previous year" figures, the latest
published in mediation), else (no `as_of`) the newest year on record. Figures older than the
year before `as_of` (or, without it, before the accident) come with a warning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.compensation.catalog import WAGE_SERIES, Catalog, StandardSet
from app.compensation.inputs import InvalidInput, Request, read_request
from app.compensation.money import plain

ENGINE_VERSION = "2"
BUCKETS = ("medical", "death_disability", "property")

_FIGURE_LABELS = {
    "urban_disposable_income": "城镇居民人均可支配收入",
    "rural_disposable_income": "农村居民人均可支配收入",
    "urban_consumption": "城镇居民人均消费支出",
    "rural_consumption": "农村居民人均消费支出",
    "annual_wage": "职工年平均工资（丧葬费）",
    "hospital_food_per_day": "住院伙食补助标准（元/天）",
}


@dataclass(frozen=True)
class RuleSet:
    jurisdiction: str
    year: int
    accident_date: date
    ctpi_period: dict[str, Any]
    figures: dict[str, Decimal]
    industry_wages: dict[str, Decimal]
    tables: dict[str, Any]
    share_rounding: str
    dependents_cap: str
    standards_origin: str
    law: dict[str, Any]
    # Notes for the reader of the assessment ({"code", "message"}), e.g. stale standards.
    warnings: tuple[dict[str, str], ...] = ()
    # The version of the jurisdiction table applied (`law` carries its own "version").
    jurisdiction_version: str | None = None

    @property
    def urban_for_all(self) -> bool:
        """人损解释 (2022) art. 24: urban standards for everyone in accidents from that day on."""
        return self.accident_date >= date.fromisoformat(self.law["urban_for_all_from"]["value"])

    def years(self, age: int) -> int:
        """Years of compensation by age in full years (人损解释 arts. 12, 15, 17)."""
        return years_by_age(age, self.law)

    def rule(self, name: str) -> Any:
        """A national rule's value from `data/law.json` (days per year, funeral months…)."""
        return self.law[name]["value"]

    def figure(self, name: str, needed_for: str) -> Decimal:
        """A standards figure, or an `invalid_input` naming it when this year has none."""
        if name in self.figures:
            return self.figures[name]
        label = _FIGURE_LABELS.get(name, name)
        raise InvalidInput(
            f"standards.{name}",
            f"计算{needed_for}需要{label}，{self.jurisdiction} {self.year} 年标准中没有这个数字，"
            "请在 standards 中给出",
        )

    def income(self, residence: str, needed_for: str) -> tuple[Decimal, str]:
        """U for a victim: urban for everyone after 2022-05-01, before that by residence."""
        name = "rural_disposable_income" if self._rural(residence) else "urban_disposable_income"
        return self.figure(name, needed_for), name

    def consumption(self, residence: str, needed_for: str) -> tuple[Decimal, str]:
        name = "rural_consumption" if self._rural(residence) else "urban_consumption"
        return self.figure(name, needed_for), name

    def _rural(self, residence: str) -> bool:
        return residence == "rural" and not self.urban_for_all

    def limits(self, no_fault: bool) -> dict[str, Decimal]:
        row = self.ctpi_period["no_fault" if no_fault else "fault"]
        return {bucket: Decimal(row[bucket]) for bucket in BUCKETS}

    def grade_ratio(self, table: str, grade: str) -> Decimal:
        return Decimal(self.tables["liability_ratios"][table][grade])

    def additional_disability(self, grade: int) -> Decimal:
        return Decimal(self.tables["additional_disability"]["table"][str(grade)])

    @property
    def additional_disability_cap(self) -> Decimal:
        return Decimal(self.tables["additional_disability"]["cap"])

    @property
    def appraisal_fee_bucket(self) -> str:
        return self.tables["appraisal_fee_bucket"]["value"]

    def describe(self) -> dict[str, Any]:
        """The `rule_set` of the output, with the fingerprint of everything it contains."""
        body = {
            "engine": ENGINE_VERSION,
            "jurisdiction": self.jurisdiction,
            "standards_year": self.year,
            "standards_origin": self.standards_origin,
            "accident_date": self.accident_date.isoformat(),
            "ctpi_limits_from": self.ctpi_period["from"],
            "ctpi_limits": {
                "fault": {b: plain(Decimal(v)) for b, v in self.ctpi_period["fault"].items()},
                "no_fault": {b: plain(Decimal(v)) for b, v in self.ctpi_period["no_fault"].items()},
            },
            "income_standard": "urban" if self.urban_for_all else "by_residence",
            "standards": {name: plain(value) for name, value in sorted(self.figures.items())},
            "industry_wages": {n: plain(v) for n, v in sorted(self.industry_wages.items())},
            "tables": self.tables,
            "options": {
                "share_rounding": self.share_rounding,
                "dependents_cap": self.dependents_cap,
            },
            # The national rules by title, version and digest: the fingerprint changes with any
            # of them; `law_version` in the input re-runs an assessment on the same ones.
            "law": {
                "title": self.law["title"],
                "version": self.law.get("version"),
                "sha256": _digest(self.law),
            },
            "jurisdiction_version": self.jurisdiction_version,
        }
        body["fingerprint"] = "sha256:" + _digest(body)
        return body


def _digest(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def select_rules(request: Request, catalog: Catalog) -> RuleSet:
    """The limits, standards and jurisdiction tables that govern `request`."""
    release = catalog.release(request.law_version)
    if release is None:
        known = "、".join(catalog.law_versions())
        raise InvalidInput(
            "law_version", f"没有第 {request.law_version} 版的赔偿规则（已有版本：{known}）"
        )
    law, jurisdictions = release
    table = jurisdictions.get(request.jurisdiction)
    if table is None:
        known = "、".join(sorted(jurisdictions))
        raise InvalidInput("jurisdiction", f"没有 {request.jurisdiction!r} 的规则（可用：{known}）")
    standard, warnings = _standard_set(request, catalog)
    periods = [
        p for p in catalog.ctpi_periods if date.fromisoformat(p["from"]) <= request.accident_date
    ]
    if not periods:
        first = catalog.ctpi_periods[0]["from"]
        raise InvalidInput("accident_date", f"{first} 之前的事故没有交强险责任限额数据")
    figures = {name: Decimal(value) for name, value in standard.figures.items()}
    figures.update(request.standards)
    series = table["funeral_wage_series"]["value"]
    if "annual_wage" not in figures and WAGE_SERIES[series] in figures:
        figures["annual_wage"] = figures[WAGE_SERIES[series]]
    tables = {
        "liability_ratios": table["liability_ratios"],
        "additional_disability": _additional_disability(table["additional_disability"]),
        "funeral_wage_series": table["funeral_wage_series"],
        "appraisal_fee_bucket": table["appraisal_fee_bucket"],
    }
    return RuleSet(
        jurisdiction=request.jurisdiction,
        year=standard.year,
        accident_date=request.accident_date,
        ctpi_period=periods[-1],
        figures=figures,
        industry_wages={n: Decimal(v) for n, v in standard.industry_wages.items()},
        tables=tables,
        share_rounding=request.share_rounding,
        dependents_cap=request.dependents_cap or table["dependents_cap"]["value"],
        standards_origin=standard.origin,
        law=law,
        warnings=tuple(warnings),
        jurisdiction_version=None if table.get("version") is None else str(table["version"]),
    )


def _additional_disability(entry: dict[str, Any]) -> dict[str, Any]:
    """The jurisdiction's additional-disability setting with its chosen table as `table`
    (DOMAIN.md §2.2: court practice; tables of past law versions have a single `table`)."""
    if "variants" not in entry:
        return entry
    chosen = {key: value for key, value in entry.items() if key != "variants"}
    chosen["table"] = entry["variants"][entry["variant"]]
    return chosen


def _standard_set(request: Request, catalog: Catalog) -> tuple[StandardSet, list[dict[str, str]]]:
    """The year's figures for `request` and the warnings about their date."""
    code, as_of = request.jurisdiction, request.as_of
    sets = [catalog.standards[(code, year)] for year in catalog.years(code)]
    warnings = []
    if request.standards_year is not None or as_of is None or not sets:
        # Asked for a year, or no day to judge by (the newest year, as before as_of existed).
        year = request.standards_year
        if year is None:
            year = max((s.year for s in sets), default=None)
        standard = None if year is None else catalog.standard_set(code, year)
        if standard is None:
            available = "、".join(str(s.year) for s in sets) or "无"
            raise InvalidInput(
                "standards_year", f"{code} 没有 {year} 年的赔偿标准（已有：{available}）"
            )
        if as_of is not None and not standard.in_force_on(as_of):
            warnings.append(_not_in_force(standard, as_of))
    else:
        # 人损解释 art. 22: the figures published by the day they are applied, never later ones.
        in_force = [s for s in sets if s.in_force_on(as_of)]
        started = [s for s in sets if s.in_force_from() <= as_of]
        if in_force:
            standard = max(in_force, key=lambda s: s.year)
        elif started:
            standard = max(started, key=lambda s: s.year)
            warnings.append(_not_in_force(standard, as_of))
        else:
            available = "、".join(f"{s.year} 年度（{_period(s)}）" for s in sets)
            raise InvalidInput(
                "as_of",
                f"{as_of.isoformat()} 时 {code} 还没有已施行的赔偿标准（已有：{available}），"
                "请用 standards_year 指定年度",
            )
    stale = _stale(standard, request)
    if stale is not None:
        warnings.append(stale)
    return standard, warnings


def _period(standard: StandardSet) -> str:
    start = standard.in_force_from().isoformat()
    text = f"{start} 至 {standard.valid_to}" if standard.valid_to else f"{start} 起"
    if not (standard.valid_from or standard.published_on):
        text += "，未记录施行日期，按统计年度次年 1 月 1 日起推定"
    return text


def _name(standard: StandardSet) -> str:
    """How a warning names a year's figures: by their title (山西省 2023 年度人身损害赔偿标准)."""
    if standard.title:
        return f"《{standard.title}》"
    return f"{standard.jurisdiction} {standard.year} 年度标准"


def _not_in_force(standard: StandardSet, as_of: date) -> dict[str, str]:
    # The same words whether the year was asked for or was the newest one published: a stored
    # assessment re-runs with its year pinned and must give the same warnings.
    return {
        "code": "standards_not_in_force",
        "message": (
            f"适用的{_name(standard)}在调解或审理日（{as_of.isoformat()}）"
            f"不在施行期内（施行期：{_period(standard)}），"
            "请核实适用的标准"
        ),
    }


def _stale(standard: StandardSet, request: Request) -> dict[str, str] | None:
    """A warning when the figures are older than the year before the day they are applied
    (人损解释 art. 22); without `as_of`, the accident day is the earliest that day can be."""
    day = request.as_of or request.accident_date
    expected = day.year - 1
    if standard.year >= expected:
        return None
    if request.as_of is not None:
        when = f"调解或审理日（{day.isoformat()}）"
    else:
        when = f"事故日期（{day.isoformat()}，未给出调解或审理日）"
    return {
        "code": "stale_standards",
        "message": (
            f"适用的是{_name(standard)}，早于{when}所在年份的"
            f"上一年度（{expected} 年），请核实是否已发布新标准"
        ),
    }


def chosen_standards_year(data: Any, catalog: Catalog) -> int | None:
    """The standards year `assess(data, catalog)` applies (by `as_of` when no year is asked
    for), or None when `data` is invalid or no year applies."""
    try:
        request = read_request(data)
        return _standard_set(request, catalog)[0].year
    except InvalidInput:
        return None


def years_by_age(age: int, law: dict[str, Any]) -> int:
    """Years of compensation by age in full years (人损解释 arts. 12, 15, 17)."""
    rule = law["years_by_age"]
    if age < rule["reduced_from_age"]:
        return rule["full"]
    if age < rule["minimum_from_age"]:
        return rule["reduced_until_age"] - age
    return rule["minimum"]
