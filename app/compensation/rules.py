"""The rule set of one assessment: which limits, standards and tables apply, chosen from the
catalog by the accident date, the jurisdiction and the standards year."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.compensation.catalog import WAGE_SERIES, Catalog
from app.compensation.inputs import InvalidInput, Request
from app.compensation.money import plain

ENGINE_VERSION = "1"
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
            # The national rules by title and digest: the fingerprint changes with any of them.
            "law": {"title": self.law["title"], "sha256": _digest(self.law)},
        }
        body["fingerprint"] = "sha256:" + _digest(body)
        return body


def _digest(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def select_rules(request: Request, catalog: Catalog) -> RuleSet:
    """The limits, standards and jurisdiction tables that govern `request`."""
    table = catalog.jurisdictions.get(request.jurisdiction)
    if table is None:
        known = "、".join(sorted(catalog.jurisdictions))
        raise InvalidInput("jurisdiction", f"没有 {request.jurisdiction!r} 的规则（可用：{known}）")
    years = catalog.years(request.jurisdiction)
    year = (
        request.standards_year if request.standards_year is not None else max(years, default=None)
    )
    standard = None if year is None else catalog.standard_set(request.jurisdiction, year)
    if standard is None:
        available = "、".join(str(y) for y in years) or "无"
        raise InvalidInput(
            "standards_year",
            f"{request.jurisdiction} 没有 {year} 年的赔偿标准（已有：{available}）",
        )
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
        "additional_disability": table["additional_disability"],
        "funeral_wage_series": table["funeral_wage_series"],
        "appraisal_fee_bucket": table["appraisal_fee_bucket"],
    }
    return RuleSet(
        jurisdiction=request.jurisdiction,
        year=year,
        accident_date=request.accident_date,
        ctpi_period=periods[-1],
        figures=figures,
        industry_wages={n: Decimal(v) for n, v in standard.industry_wages.items()},
        tables=tables,
        share_rounding=request.share_rounding,
        dependents_cap=request.dependents_cap or table["dependents_cap"]["value"],
        standards_origin=standard.origin,
        law=catalog.law,
    )


def years_by_age(age: int, law: dict[str, Any]) -> int:
    """Years of compensation by age in full years (人损解释 arts. 12, 15, 17)."""
    rule = law["years_by_age"]
    if age < rule["reduced_from_age"]:
        return rule["full"]
    if age < rule["minimum_from_age"]:
        return rule["reduced_until_age"] - age
    return rule["minimum"]
