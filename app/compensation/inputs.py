"""Reading the assessment input (INTERFACES.md §3) into checked values, naming the JSON path of
every problem so that a clerk can find and fix it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

GRADES = ("full", "main", "equal", "minor", "none")
PARTY_KINDS = ("vehicle", "non_motor", "pedestrian")
OUTCOMES = ("injury", "disability", "death", "property")
RESIDENCES = ("urban", "rural")
SHARE_ROUNDING = ("exact", "ratio_0.1pct", "ratio_1pct")
# 交强险条例 art. 22; 道交解释 art. 15: 交强险 pays personal injury and recovers it, commercial
# cover is excluded.
MISCONDUCT = ("drunk", "drugs", "unlicensed", "intentional")
# 民法典 art. 1217 (a free ride) and art. 1173 (the victim's own fault).
REDUCTIONS = ("gratuitous_ride", "victim_fault")
# A victim's proven higher home standard (人损解释 art. 18) may replace these figures.
VICTIM_STANDARDS = ("urban_disposable_income", "urban_consumption")
DEPENDENTS_CAP = ("plain", "coefficient")
STANDARD_OVERRIDES = (
    "urban_disposable_income",
    "rural_disposable_income",
    "urban_consumption",
    "rural_consumption",
    "annual_wage",
    "annual_wage_employed",
    "annual_wage_on_post",
    "hospital_food_per_day",
)
_MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


class InvalidInput(ValueError):
    """The input was read but cannot be assessed; `path` names the JSON value at fault."""

    code = "invalid_input"

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}：{problem}" if path else problem)

    @property
    def message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Dependent:
    path: str
    supporters: int
    years: int | None = None
    age: int | None = None
    consumption: Decimal | None = None


@dataclass(frozen=True)
class Reduction:
    """A share of the liable side's liability taken off and borne by the victim."""

    kind: str
    ratio: Decimal
    reason: str


@dataclass(frozen=True)
class Victim:
    path: str
    id: str
    name: str | None
    age: int | None
    residence: str
    outcome: str
    grades: tuple[int, ...]
    party: str | None
    items: dict[str, Any]
    birth_date: date | None = None
    appraised_on: date | None = None
    mental_distress_first: bool = False
    reduction: Reduction | None = None
    rescue_costs: Decimal | None = None
    standards: dict[str, Decimal] = field(default_factory=dict)
    standards_source: str | None = None


@dataclass(frozen=True)
class Party:
    path: str
    id: str
    kind: str
    liability: str | None
    ratio: Decimal | None
    ctpi_insured: bool = False
    ctpi_insurer: str | None = None
    commercial_insurer: str | None = None
    commercial_limit: Decimal | None = None
    # Item codes the commercial policy does not pay; indirect losses only when it says so.
    commercial_excluded: tuple[str, ...] = ()
    commercial_covers_indirect: bool = False
    occupants: tuple[str, ...] = ()
    hit_and_run: bool = False
    misconduct: str | None = None
    seat_insurer: str | None = None
    seat_limit: Decimal | None = None

    @property
    def is_vehicle(self) -> bool:
        return self.kind == "vehicle"


@dataclass(frozen=True)
class Request:
    accident_date: date
    jurisdiction: str
    standards_year: int | None
    standards: dict[str, Decimal]
    share_rounding: str
    dependents_cap: str | None
    victims: tuple[Victim, ...]
    parties: tuple[Party, ...]
    # The day the figures are applied (mediation or hearing): selects the standards year.
    as_of: date | None = None
    # The version of the national rules and jurisdiction tables to apply (None: the current).
    law_version: str | None = None


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(path, "应为一个对象 {…}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(path, "应为一个列表 […]")
    return value


def _only(data: dict[str, Any], path: str, allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            known = "、".join(allowed)
            raise InvalidInput(f"{path}.{key}" if path else key, f"不认识的字段（可用：{known}）")


def _text(value: Any, path: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(path, "应为非空文字")
    return value.strip()


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput(path, f"应为 {' | '.join(choices)} 之一，而不是 {value!r}")
    return value


def integer(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(path, "应为整数")
    if not low <= value <= high:
        raise InvalidInput(path, f"应在 {low} 到 {high} 之间，而不是 {value}")
    return value


def money(value: Any, path: str) -> Decimal:
    """An amount in yuan: a string or number, not negative, at most two decimals."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(path, '应为金额，如 "5026.49"')
    text = str(value).strip()
    if not _MONEY.match(text):
        raise InvalidInput(path, f"应为不小于 0、最多两位小数的金额，而不是 {value!r}")
    return Decimal(text)


def ratio(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(path, "应为 0 到 1 之间的比例，如 0.7")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(path, f"应为 0 到 1 之间的比例，而不是 {value!r}") from None
    if not result.is_finite() or not 0 <= result <= 1:
        raise InvalidInput(path, f"应为 0 到 1 之间的比例，而不是 {value!r}")
    return result


def _date(value: Any, path: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(path, f"应为日期 YYYY-MM-DD，而不是 {value!r}") from None


def _victim(data: Any, path: str) -> Victim:
    data = _object(data, path)
    _only(
        data,
        path,
        (
            "id",
            "name",
            "age",
            "birth_date",
            "appraised_on",
            "residence",
            "outcome",
            "disability_grades",
            "party",
            "items",
            "ctpi_mental_distress_first",
            "reduction",
            "rescue_costs",
            "standards",
        ),
    )
    grades = tuple(
        integer(grade, f"{path}.disability_grades[{i}]", 1, 10)
        for i, grade in enumerate(
            _list(data.get("disability_grades", []), f"{path}.disability_grades")
        )
    )
    outcome = _choice(data.get("outcome", "injury"), f"{path}.outcome", OUTCOMES)
    if outcome != "disability" and grades:
        raise InvalidInput(f"{path}.outcome", "给出了伤残等级，结果应为 disability")
    age = data.get("age")
    birth_date = _optional_date(data.get("birth_date"), f"{path}.birth_date")
    appraised_on = _optional_date(data.get("appraised_on"), f"{path}.appraised_on")
    if appraised_on is not None and birth_date is None:
        raise InvalidInput(
            f"{path}.birth_date", "按定残日计算年龄（人损解释第十二条）需要出生日期 birth_date"
        )
    if birth_date is not None and appraised_on is not None and appraised_on < birth_date:
        raise InvalidInput(f"{path}.appraised_on", "定残日期早于出生日期")
    first = data.get("ctpi_mental_distress_first", False)
    if not isinstance(first, bool):
        raise InvalidInput(f"{path}.ctpi_mental_distress_first", "应为 true 或 false")
    rescue = data.get("rescue_costs")
    standards, source = _victim_standards(data.get("standards"), f"{path}.standards")
    return Victim(
        path=path,
        id=_text(data.get("id"), f"{path}.id"),
        name=_text(data.get("name"), f"{path}.name", required=False),
        age=None if age is None else integer(age, f"{path}.age", 0, 130),
        residence=_choice(data.get("residence", "urban"), f"{path}.residence", RESIDENCES),
        outcome=outcome,
        grades=grades,
        party=_text(data.get("party"), f"{path}.party", required=False),
        items=_object(data.get("items", {}), f"{path}.items"),
        birth_date=birth_date,
        appraised_on=appraised_on,
        mental_distress_first=first,
        reduction=_reduction(data.get("reduction"), f"{path}.reduction"),
        rescue_costs=None if rescue is None else money(rescue, f"{path}.rescue_costs"),
        standards=standards,
        standards_source=source,
    )


def _optional_date(value: Any, path: str) -> date | None:
    return None if value is None else _date(value, path)


def _reduction(data: Any, path: str) -> Reduction | None:
    """好意同乘 (民法典 art. 1217) or the victim's own fault (art. 1173), with its reason."""
    if data is None:
        return None
    data = _object(data, path)
    _only(data, path, ("kind", "ratio", "reason"))
    if data.get("ratio") is None:
        raise InvalidInput(f"{path}.ratio", "需要减轻责任的比例，如 0.2")
    value = ratio(data["ratio"], f"{path}.ratio")
    if value == 1:
        raise InvalidInput(f"{path}.ratio", "减轻比例应小于 1（全部免除不是减轻）")
    return Reduction(
        kind=_choice(data.get("kind"), f"{path}.kind", REDUCTIONS),
        ratio=value,
        reason=_text(data.get("reason"), f"{path}.reason"),
    )


def _victim_standards(data: Any, path: str) -> tuple[dict[str, Decimal], str | None]:
    """A higher residence or work-place standard the victim proved (人损解释 art. 18)."""
    if data is None:
        return {}, None
    data = _object(data, path)
    _only(data, path, (*VICTIM_STANDARDS, "source"))
    figures = {k: money(v, f"{path}.{k}") for k, v in data.items() if k != "source"}
    if not figures:
        raise InvalidInput(path, f"需要至少一个标准数字（{'、'.join(VICTIM_STANDARDS)}）")
    return figures, _text(data.get("source"), f"{path}.source")


def _party(data: Any, path: str) -> Party:
    data = _object(data, path)
    _only(
        data,
        path,
        (
            "id",
            "kind",
            "plate",
            "name",
            "liability",
            "ratio",
            "ctpi",
            "commercial",
            "occupants",
            "hit_and_run",
            "misconduct",
            "seat_cover",
        ),
    )
    kind = _choice(data.get("kind"), f"{path}.kind", PARTY_KINDS)
    liability = data.get("liability")
    if liability is not None:
        _choice(liability, f"{path}.liability", GRADES)
    explicit = data.get("ratio")
    party = {
        "path": path,
        "id": _text(data.get("id"), f"{path}.id"),
        "kind": kind,
        "liability": liability,
        "ratio": None if explicit is None else ratio(explicit, f"{path}.ratio"),
    }
    if kind != "vehicle":
        for key in ("ctpi", "commercial", "occupants", "hit_and_run", "misconduct", "seat_cover"):
            if data.get(key):
                raise InvalidInput(f"{path}.{key}", "只有机动车一方有保险、乘车人和驾驶情形")
        return Party(**party)
    hit_and_run = data.get("hit_and_run", False)
    if not isinstance(hit_and_run, bool):
        raise InvalidInput(f"{path}.hit_and_run", "应为 true 或 false")
    party["hit_and_run"] = hit_and_run
    if data.get("misconduct") is not None:
        party["misconduct"] = _choice(data["misconduct"], f"{path}.misconduct", MISCONDUCT)
    ctpi = data.get("ctpi")
    if ctpi is None and not hit_and_run:
        raise InvalidInput(
            f"{path}.ctpi",
            "交强险投保情况不明：请填写交强险保险公司 "
            '{"insurer": …, "insured": true}，或注明未投保 {"insured": false}',
        )
    if ctpi is not None:
        ctpi = _object(ctpi, f"{path}.ctpi")
        _only(ctpi, f"{path}.ctpi", ("insurer", "insured", "policy_no"))
        insured = ctpi.get("insured", True)
        if not isinstance(insured, bool):
            raise InvalidInput(f"{path}.ctpi.insured", "应为 true 或 false")
        party["ctpi_insured"] = insured
        party["ctpi_insurer"] = _text(ctpi.get("insurer"), f"{path}.ctpi.insurer", required=False)
    commercial = data.get("commercial")
    if commercial is not None:
        commercial = _object(commercial, f"{path}.commercial")
        _only(
            commercial,
            f"{path}.commercial",
            ("insurer", "limit", "policy_no", "excluded_items", "covers_indirect"),
        )
        if commercial.get("limit") is None:
            raise InvalidInput(f"{path}.commercial.limit", "需要商业三者险的责任限额")
        party["commercial_limit"] = money(commercial["limit"], f"{path}.commercial.limit")
        party["commercial_insurer"] = _text(
            commercial.get("insurer"), f"{path}.commercial.insurer", required=False
        )
        excluded = _list(commercial.get("excluded_items", []), f"{path}.commercial.excluded_items")
        party["commercial_excluded"] = tuple(
            _text(code, f"{path}.commercial.excluded_items[{i}]") for i, code in enumerate(excluded)
        )
        covers = commercial.get("covers_indirect", False)
        if not isinstance(covers, bool):
            raise InvalidInput(f"{path}.commercial.covers_indirect", "应为 true 或 false")
        party["commercial_covers_indirect"] = covers
    seat = data.get("seat_cover")
    if seat is not None:
        seat = _object(seat, f"{path}.seat_cover")
        _only(seat, f"{path}.seat_cover", ("insurer", "limit_per_seat", "policy_no"))
        if seat.get("limit_per_seat") is None:
            raise InvalidInput(f"{path}.seat_cover.limit_per_seat", "需要车上人员责任险每座限额")
        party["seat_limit"] = money(seat["limit_per_seat"], f"{path}.seat_cover.limit_per_seat")
        party["seat_insurer"] = _text(
            seat.get("insurer"), f"{path}.seat_cover.insurer", required=False
        )
    occupants = _list(data.get("occupants", []), f"{path}.occupants")
    party["occupants"] = tuple(_text(o, f"{path}.occupants[{i}]") for i, o in enumerate(occupants))
    return Party(**party)


def _unique(values: list[Any], attr: str, path: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        key = getattr(value, attr)
        if key in seen:
            raise InvalidInput(f"{path}[{i}].{attr}", f"重复的 {attr} {key!r}")
        seen.add(key)


def read_request(data: Any, *, default_jurisdiction: str = "shanxi") -> Request:
    """Check the shape of an assessment input; item details are checked when computed."""
    data = _object(data, "")
    _only(
        data,
        "",
        (
            "accident_date",
            "as_of",
            "law_version",
            "jurisdiction",
            "standards_year",
            "standards",
            "options",
            "victims",
            "parties",
        ),
    )
    standards = _object(data.get("standards") or {}, "standards")
    _only(standards, "standards", STANDARD_OVERRIDES)
    options = _object(data.get("options") or {}, "options")
    _only(options, "options", ("share_rounding", "dependents_cap"))
    victims_data = _list(data.get("victims"), "victims")
    if not victims_data:
        raise InvalidInput("victims", "至少需要一位受害人")
    victims = [_victim(v, f"victims[{i}]") for i, v in enumerate(victims_data)]
    parties = [
        _party(p, f"parties[{i}]") for i, p in enumerate(_list(data.get("parties", []), "parties"))
    ]
    _unique(victims, "id", "victims")
    _unique(parties, "id", "parties")
    _check_links(victims, parties)
    year = data.get("standards_year")
    cap = options.get("dependents_cap")
    return Request(
        accident_date=_date(data.get("accident_date"), "accident_date"),
        jurisdiction=_text(data.get("jurisdiction", default_jurisdiction), "jurisdiction"),
        standards_year=None if year is None else integer(year, "standards_year", 1990, 2100),
        standards={k: money(v, f"standards.{k}") for k, v in standards.items()},
        share_rounding=_choice(
            options.get("share_rounding", "exact"), "options.share_rounding", SHARE_ROUNDING
        ),
        dependents_cap=None
        if cap is None
        else _choice(cap, "options.dependents_cap", DEPENDENTS_CAP),
        victims=tuple(victims),
        parties=tuple(parties),
        as_of=None if data.get("as_of") is None else _date(data["as_of"], "as_of"),
        law_version=_text(data.get("law_version"), "law_version", required=False),
    )


def _check_links(victims: list[Victim], parties: list[Party]) -> None:
    by_id = {p.id: p for p in parties}
    carried: dict[str, str] = {}
    for party in parties:
        for i, occupant in enumerate(party.occupants):
            path = f"{party.path}.occupants[{i}]"
            if occupant not in {v.id for v in victims}:
                raise InvalidInput(path, f"没有 id 为 {occupant!r} 的受害人")
            if occupant in carried:
                raise InvalidInput(path, f"{occupant!r} 已是 {carried[occupant]} 的乘车人")
            carried[occupant] = party.id
    for victim in victims:
        if victim.party is not None and victim.party not in by_id:
            raise InvalidInput(f"{victim.path}.party", f"没有 id 为 {victim.party!r} 的一方")
        if victim.party is not None and victim.id in carried:
            raise InvalidInput(
                f"{victim.path}.party",
                f"受害人已是 {carried[victim.id]} 的乘车人，不能同时是一方当事人",
            )
        if victim.party is None and victim.id not in carried:
            raise InvalidInput(
                f"{victim.path}.party", "需要指明受害人是哪一方，或列入某车的 occupants（乘车人）"
            )
