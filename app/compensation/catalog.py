"""The legal data the engine reads: 交强险 limits, jurisdiction tables and yearly standards.

Everything legal lives in the versioned JSON files under `data/`, each with its source; a
deployment's admins may replace a year's figures (the catalog then carries their version).

A law version is one release of the rules: the national rules (`law.json`) and the jurisdiction
tables that go with them (`jurisdictions/*.json`). Past releases are kept so that a stored
assessment re-runs exactly on the rules it used: `law_history/<version>.json` and
`jurisdiction_history/<version>/<code>.json`. Before changing `law.json` or a jurisdiction
table, copy the current files there and raise `law.json`'s version; a past version without a
folder of tables kept those of the next version that has one (or the current ones).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
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
LAW_HISTORY = "law_history"
JURISDICTION_HISTORY = "jurisdiction_history"


class CatalogError(ValueError):
    """A data file contradicts itself (e.g. standards that stop applying before they start)."""


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

    def in_force_from(self) -> date:
        """The first day the figures apply: `valid_from`, else `published_on`, else 1 January of
        the year after the statistical year (an assumption for sets without recorded dates:
        a year's statistics are published in the following year)."""
        start = self.valid_from or self.published_on
        return date.fromisoformat(start) if start else date(self.year + 1, 1, 1)

    def in_force_on(self, day: date) -> bool:
        """Whether the figures apply on `day`: started, and not ended (`valid_to` inclusive)."""
        if day < self.in_force_from():
            return False
        return self.valid_to is None or day <= date.fromisoformat(self.valid_to)

    def check(self) -> StandardSet:
        """This set, or CatalogError if its dates are malformed or end before they start."""
        name = f"{self.jurisdiction} {self.year}"
        try:
            days = {
                label: date.fromisoformat(value)
                for label, value in (
                    ("published_on", self.published_on),
                    ("valid_from", self.valid_from),
                    ("valid_to", self.valid_to),
                )
                if value is not None
            }
        except (TypeError, ValueError) as exc:
            raise CatalogError(f"standards {name}: a date is not YYYY-MM-DD ({exc})") from exc
        if "valid_to" in days and days["valid_to"] < self.in_force_from():
            raise CatalogError(
                f"standards {name}: valid_to {self.valid_to} is before the figures start "
                f"applying ({self.in_force_from().isoformat()})"
            )
        return self


def _data() -> Any:
    return resources.files("app.compensation").joinpath("data")


def packaged_law() -> dict[str, Any]:
    """The national rules (years by age, item buckets and articles…) from `data/law.json`."""
    return _read(_data(), "law.json")


@dataclass(frozen=True)
class Catalog:
    ctpi_periods: tuple[dict[str, Any], ...]
    # The current jurisdiction tables by code.
    jurisdictions: dict[str, dict[str, Any]]
    standards: dict[tuple[str, int], StandardSet]
    # The current national rules.
    law: dict[str, Any] = field(default_factory=packaged_law)
    # Every version of the national rules, the current one included: version → rules.
    laws: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The jurisdiction tables of past law versions that changed them: version → code → table.
    past_jurisdictions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def law_version(self) -> str | None:
        """The version of the current national rules (new assessments use it)."""
        version = self.law.get("version")
        return None if version is None else str(version)

    def law_versions(self) -> list[str]:
        """Every law version this catalog can apply, oldest first."""
        versions = set(self.laws)
        if self.law_version is not None:
            versions.add(self.law_version)
        return sorted(versions, key=_version_key)

    def release(
        self, law_version: str | None
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
        """The national rules and jurisdiction tables of `law_version` (None: the current
        ones), or None when that version is unknown."""
        if law_version is None or law_version == self.law_version:
            return self.law, self.jurisdictions
        if law_version not in self.laws:
            return None
        # A version without tables of its own kept the tables of the next version that has
        # them (or the current ones): the tables did not change with it.
        for version in sorted(self.past_jurisdictions, key=_version_key):
            if _version_key(version) >= _version_key(law_version):
                return self.laws[law_version], self.past_jurisdictions[version]
        return self.laws[law_version], self.jurisdictions

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


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (0, version)


def _json_files(folder: Any) -> list[Any]:
    if not folder.is_dir():
        return []
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    return [entry for entry in entries if entry.name.endswith(".json")]


def _jurisdiction_tables(folder: Any) -> dict[str, dict[str, Any]]:
    tables = {}
    for entry in _json_files(folder):
        table = json.loads(entry.read_text(encoding="utf-8"))
        if table.get("version") is None:
            raise CatalogError(f"jurisdiction table {entry.name} has no version")
        disability = table["additional_disability"]
        if "variants" in disability and disability["variant"] not in disability["variants"]:
            raise CatalogError(
                f"jurisdiction table {entry.name}: additional_disability.variant "
                f"{disability['variant']!r} is not one of its variants"
            )
        tables[table["code"]] = table
    return tables


def _past_releases(
    data: Any, current: str | None
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, dict[str, Any]]]]:
    """The national rules and jurisdiction tables of every past law version."""
    laws, jurisdictions = {}, {}
    for entry in _json_files(data.joinpath(LAW_HISTORY)):
        law = json.loads(entry.read_text(encoding="utf-8"))
        version = str(law.get("version"))
        if entry.name != f"{version}.json":
            raise CatalogError(f"{LAW_HISTORY}/{entry.name} holds law version {version}")
        if version == current:
            raise CatalogError(
                f"{LAW_HISTORY}/{entry.name} has the version of law.json: raise law.json's version"
            )
        laws[version] = law
    history = data.joinpath(JURISDICTION_HISTORY)
    entries = sorted(history.iterdir(), key=lambda p: p.name) if history.is_dir() else []
    folders = [entry for entry in entries if entry.is_dir()]
    for folder in folders:
        if folder.name not in laws:
            raise CatalogError(
                f"{JURISDICTION_HISTORY}/{folder.name}: no law version {folder.name}"
            )
        jurisdictions[folder.name] = _jurisdiction_tables(folder)
    return laws, jurisdictions


_PACKAGED: Catalog | None = None


def packaged_catalog() -> Catalog:
    """The catalog of the data files shipped with this version of Daojiao (read once)."""
    global _PACKAGED
    if _PACKAGED is None:
        data = _data()
        ctpi = _read(data, "ctpi_limits.json")
        standards = {}
        for entry in _json_files(data.joinpath("standards")):
            standard = standard_set_from_json(json.loads(entry.read_text(encoding="utf-8")))
            standards[(standard.jurisdiction, standard.year)] = standard.check()
        law = packaged_law()
        if law.get("version") is None:
            raise CatalogError("law.json has no version")
        laws, past_jurisdictions = _past_releases(data, str(law["version"]))
        _PACKAGED = Catalog(
            ctpi_periods=tuple(sorted(ctpi["periods"], key=lambda p: p["from"])),
            jurisdictions=_jurisdiction_tables(data.joinpath("jurisdictions")),
            standards=standards,
            law=law,
            laws={**laws, str(law["version"]): law},
            past_jurisdictions=past_jurisdictions,
        )
    return _PACKAGED
