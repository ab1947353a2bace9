"""The legal data the engine reads: 交强险 limits, jurisdiction tables and yearly standards.

Everything legal lives in the versioned JSON files under `data/`, each with its source; a
deployment's admins may replace a year's figures (the catalog then carries their version).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

# The figure names a year's standards may carry (INTERFACES.md §3 plus the wage series).
FIGURES = (
    "urban_disposable_income",
    "rural_disposable_income",
    "urban_consumption",
    "rural_consumption",
    "annual_wage_employed",
    "annual_wage_on_post",
    "hospital_food_per_day",
)
WAGE_SERIES = {"employed": "annual_wage_employed", "on_post": "annual_wage_on_post"}


@dataclass(frozen=True)
class StandardSet:
    """One jurisdiction's figures for one statistical year, with their sources and validity."""

    jurisdiction: str
    year: int
    figures: dict[str, str]
    industry_wages: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    title: str = ""
    published_on: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    note: str = ""
    # "packaged" for the files shipped with Daojiao, else the admin-edited revision ("db:<n>").
    origin: str = "packaged"

    def as_json(self) -> dict[str, Any]:
        return {
            "jurisdiction": self.jurisdiction,
            "year": self.year,
            "title": self.title,
            "published_on": self.published_on,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "note": self.note,
            "figures": dict(self.figures),
            "industry_wages": dict(self.industry_wages),
            "sources": dict(self.sources),
            "origin": self.origin,
        }


def _data() -> Any:
    return resources.files("app.compensation").joinpath("data")


def packaged_law() -> dict[str, Any]:
    """The national rules (years by age, item buckets and articles…) from `data/law.json`."""
    return _read(_data(), "law.json")


@dataclass(frozen=True)
class Catalog:
    ctpi_periods: tuple[dict[str, Any], ...]
    jurisdictions: dict[str, dict[str, Any]]
    standards: dict[tuple[str, int], StandardSet]
    law: dict[str, Any] = field(default_factory=packaged_law)

    def years(self, jurisdiction: str) -> list[int]:
        return sorted(year for code, year in self.standards if code == jurisdiction)

    def standard_set(self, jurisdiction: str, year: int) -> StandardSet | None:
        return self.standards.get((jurisdiction, year))

    def with_standard_sets(self, sets: list[StandardSet]) -> Catalog:
        """This catalog with `sets` replacing (or adding) the figures of their year."""
        standards = dict(self.standards)
        standards.update({(s.jurisdiction, s.year): s for s in sets})
        return replace(self, standards=standards)


def standard_set_from_json(data: dict[str, Any], origin: str = "packaged") -> StandardSet:
    return StandardSet(
        jurisdiction=data["jurisdiction"],
        year=int(data["year"]),
        figures={k: str(v) for k, v in data["figures"].items()},
        industry_wages={k: str(v) for k, v in data.get("industry_wages", {}).items()},
        sources=dict(data.get("sources", {})),
        title=data.get("title", ""),
        published_on=data.get("published_on"),
        valid_from=data.get("valid_from"),
        valid_to=data.get("valid_to"),
        note=data.get("note", ""),
        origin=origin,
    )


def _read(folder: Any, name: str) -> dict[str, Any]:
    return json.loads(folder.joinpath(name).read_text(encoding="utf-8"))


_PACKAGED: Catalog | None = None


def packaged_catalog() -> Catalog:
    """The catalog of the data files shipped with this version of Daojiao (read once)."""
    global _PACKAGED
    if _PACKAGED is None:
        data = _data()
        ctpi = _read(data, "ctpi_limits.json")
        jurisdictions = {}
        for entry in sorted(data.joinpath("jurisdictions").iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".json"):
                table = json.loads(entry.read_text(encoding="utf-8"))
                jurisdictions[table["code"]] = table
        standards = {}
        for entry in sorted(data.joinpath("standards").iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".json"):
                standard = standard_set_from_json(json.loads(entry.read_text(encoding="utf-8")))
                standards[(standard.jurisdiction, standard.year)] = standard
        _PACKAGED = Catalog(
            ctpi_periods=tuple(sorted(ctpi["periods"], key=lambda p: p["from"])),
            jurisdictions=jurisdictions,
            standards=standards,
            law=packaged_law(),
        )
    return _PACKAGED
