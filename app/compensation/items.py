"""The compensation items of one victim (DOMAIN.md §2), each with its formula and legal basis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.compensation.inputs import Dependent, InvalidInput, Victim, integer, money
from app.compensation.money import exact, percent, plain, to_fen
from app.compensation.rules import RuleSet


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    amount: Decimal
    bucket: str
    formula: str
    basis: str
    evidence: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        data = {
            "code": self.code,
            "label": self.label,
            "amount": str(self.amount),
            "bucket": self.bucket,
            "formula": self.formula,
            "basis": self.basis,
        }
        if self.evidence:
            data["evidence"] = list(self.evidence)
        return data


@dataclass(frozen=True)
class Computed:
    """An item's exact value (rounded to the fen later), its formula and its evidence."""

    value: Decimal
    formula: str
    evidence: tuple[str, ...] = ()
    basis: str | None = None
    warnings: tuple[dict[str, str], ...] = ()


def _fields(data: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(path, "应为一个对象 {…}")
    for key in data:
        if key not in allowed:
            raise InvalidInput(f"{path}.{key}", f"不认识的字段（可用：{'、'.join(allowed)}）")
    return data


def _entries(data: Any, path: str) -> list[Any]:
    if not isinstance(data, list) or not data:
        raise InvalidInput(path, "应为一个非空列表 […]")
    return data


def _bills(data: dict[str, Any], path: str) -> Computed:
    """`{"amount": …}` or `{"bills": [{"amount", "description", "document"}…]}`."""
    if "amount" not in data and "bills" not in data:
        raise InvalidInput(path, "需要 amount（金额）或 bills（票据列表）")
    if "amount" in data:
        _fields(data, path, ("amount", "note"))
        value = money(data["amount"], f"{path}.amount")
        return Computed(value, plain_amount(value))
    bills = _entries(data.get("bills"), f"{path}.bills")
    _fields(data, path, ("bills", "note"))
    amounts, evidence = [], []
    for i, bill in enumerate(bills):
        bill = _fields(bill, f"{path}.bills[{i}]", ("amount", "description", "document"))
        amounts.append(money(bill.get("amount"), f"{path}.bills[{i}].amount"))
        if bill.get("document") is not None:
            evidence.append(str(bill["document"]))
    return Computed(
        sum(amounts, Decimal(0)), " + ".join(plain_amount(a) for a in amounts), tuple(evidence)
    )


def plain_amount(value: Decimal) -> str:
    return format(value, "f")


def _daily_rate(data: dict[str, Any], path: str, rules: RuleSet, label: str) -> tuple[Decimal, str]:
    """A daily rate from `daily`, `annual` (÷ 365, 人损解释 art. 7) or an `industry`'s wage."""
    days_per_year = rules.rule("days_per_year")
    given = [key for key in ("daily", "annual", "industry") if key in data]
    if len(given) != 1:
        raise InvalidInput(
            path, f"{label}需要 daily（日收入）、annual（年收入）或 industry（行业）之一"
        )
    key = given[0]
    if key == "daily":
        daily = money(data["daily"], f"{path}.daily")
        return daily, plain(daily)
    if key == "annual":
        annual = money(data["annual"], f"{path}.annual")
    else:
        industry = data["industry"]
        if industry not in rules.industry_wages:
            known = "、".join(sorted(rules.industry_wages)) or "无"
            raise InvalidInput(
                f"{path}.industry",
                f"{rules.jurisdiction} {rules.year} 年标准中没有行业 {industry!r} 的平均工资"
                f"（已有：{known}）",
            )
        annual = rules.industry_wages[industry]
    with exact():
        return annual / days_per_year, f"{plain(annual)} ÷ {days_per_year}"


def _lost_income(victim: Victim, data: dict[str, Any], path: str, rules: RuleSet) -> Computed:
    _fields(data, path, ("days", "daily", "annual", "industry"))
    days = integer(data.get("days"), f"{path}.days", 0, 36500)
    daily, expression = _daily_rate(data, path, rules, "误工费")
    with exact():
        return Computed(daily * days, f"{expression} × {days}天")


def _nursing(victim: Victim, data: Any, path: str, rules: RuleSet) -> Computed:
    carers = _entries(data, path)
    total, parts = Decimal(0), []
    for i, carer in enumerate(carers):
        where = f"{path}[{i}]"
        carer = _fields(carer, where, ("days", "years", "daily", "annual", "industry", "persons"))
        persons = integer(carer.get("persons", 1), f"{where}.persons", 1, 10)
        if "years" in carer:
            years = integer(carer["years"], f"{where}.years", 1, rules.rule("nursing_max_years"))
            annual = money(carer.get("annual"), f"{where}.annual")
            with exact():
                total += annual * years * persons
            parts.append(f"{plain(annual)} × {years}年 × {persons}人")
            continue
        days = integer(carer.get("days"), f"{where}.days", 0, 36500)
        daily, expression = _daily_rate(carer, where, rules, "护理费")
        with exact():
            total += daily * days * persons
        parts.append(f"{expression} × {days}天 × {persons}人")
    return Computed(total, " + ".join(parts))


def _per_day(default: str | None) -> Callable[[Victim, dict[str, Any], str, RuleSet], Computed]:
    def compute(victim: Victim, data: dict[str, Any], path: str, rules: RuleSet) -> Computed:
        _fields(data, path, ("days", "daily"))
        days = integer(data.get("days"), f"{path}.days", 0, 36500)
        if "daily" in data:
            daily = money(data["daily"], f"{path}.daily")
        elif default is not None:
            daily = rules.figure(default, "住院伙食补助费")
        else:
            raise InvalidInput(f"{path}.daily", "需要每日标准 daily")
        return Computed(daily * days, f"{plain(daily)} × {days}天")

    return compute


def _assistive_devices(victim: Victim, data: dict[str, Any], path: str, rules: RuleSet) -> Computed:
    _fields(data, path, ("price", "count"))
    price = money(data.get("price"), f"{path}.price")
    count = integer(data.get("count", 1), f"{path}.count", 1, 100)
    return Computed(price * count, f"{plain(price)} × {count}次")


def _property(victim: Victim, data: Any, path: str, rules: RuleSet) -> Computed:
    entries = _entries(data, path)
    amounts, labels, evidence = [], [], []
    for i, entry in enumerate(entries):
        entry = _fields(entry, f"{path}[{i}]", ("description", "amount", "document"))
        amount = money(entry.get("amount"), f"{path}[{i}].amount")
        amounts.append(amount)
        description = entry.get("description")
        labels.append(
            f"{plain_amount(amount)}（{description}）" if description else plain_amount(amount)
        )
        if entry.get("document") is not None:
            evidence.append(str(entry["document"]))
    return Computed(sum(amounts, Decimal(0)), " + ".join(labels), tuple(evidence))


def disability_coefficient(grades: tuple[int, ...], rules: RuleSet) -> tuple[Decimal, str]:
    """`Ih + ΣIa`, ΣIa ≤ the cap, total ≤ 100 % (DOMAIN.md §2.2; the jurisdiction's table)."""
    ordered = sorted(grades)
    step = Decimal(rules.rule("disability_grade_step"))
    highest = (11 - ordered[0]) * step
    if highest >= 1:
        return Decimal(1), f"(11 − {ordered[0]}) × {percent(step)} = 100%"
    additions = [rules.additional_disability(g) for g in ordered[1:]]
    added = min(sum(additions, Decimal(0)), rules.additional_disability_cap)
    coefficient = min(highest + added, Decimal(1))
    expression = f"(11 − {ordered[0]}) × {percent(step)}"
    if additions:
        expression += " + " + " + ".join(percent(a) for a in additions)
        if added < sum(additions, Decimal(0)):
            expression += f"（附加不超过 {percent(rules.additional_disability_cap)}）"
        expression += f" = {percent(coefficient)}"
    return coefficient, expression


def _years_text(age: int, rules: RuleSet) -> str:
    years, rule = rules.years(age), rules.law["years_by_age"]
    if age < rule["reduced_from_age"]:
        return f"{years}年"
    if age < rule["minimum_from_age"]:
        return f"{years}年（{rule['reduced_until_age']} − {age}岁）"
    return f"{years}年（{rule['minimum_from_age']}岁以上）"


def full_years(born: date, on: date) -> int:
    """Age in full years (周岁) on a day."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _age(victim: Victim, needed_for: str, rules: RuleSet) -> int:
    """Age at the accident: as given, else from the birth date."""
    if victim.age is not None:
        return victim.age
    if victim.birth_date is not None:
        return full_years(victim.birth_date, rules.accident_date)
    raise InvalidInput(f"{victim.path}.age", f"计算{needed_for}需要受害人年龄（周岁）")


def _age_at_rating(victim: Victim, rules: RuleSet) -> tuple[int, str]:
    """人损解释 art. 12: years of 残疾赔偿金 count from the age at 定残 when it is known."""
    if victim.appraised_on is not None and victim.birth_date is not None:
        age = full_years(victim.birth_date, victim.appraised_on)
        return age, f"（定残日 {victim.appraised_on.isoformat()} {age}周岁）"
    return _age(victim, "残疾赔偿金", rules), ""


def _higher(victim: Victim, name: str, local: Decimal) -> Decimal:
    """A higher standard the victim proved for themselves (人损解释 art. 18), else the local one."""
    own = victim.standards.get(name)
    if own is None:
        return local
    if own <= local:
        raise InvalidInput(
            f"{victim.path}.standards.{name}",
            f"受害人举证的标准 {plain(own)} 不高于本地标准 {plain(local)}，"
            "只有更高时才适用（人损解释第十八条）",
        )
    return own


def _source(victim: Victim, name: str) -> str:
    if name not in victim.standards:
        return ""
    return f"受害人举证的较高标准（{victim.standards_source}，人损解释第十八条）"


def _income(victim: Victim, rules: RuleSet, needed_for: str) -> tuple[Decimal, str]:
    name, local = "urban_disposable_income", rules.income(victim.residence, needed_for)[0]
    return _higher(victim, name, local), _source(victim, name)


def _consumption(victim: Victim, rules: RuleSet, needed_for: str) -> tuple[Decimal, str]:
    name, local = "urban_consumption", rules.consumption(victim.residence, needed_for)[0]
    return _higher(victim, name, local), _source(victim, name)


def _with_note(formula: str, note: str) -> str:
    return f"{formula}；{note}" if note else formula


def _disability_compensation(
    victim: Victim, data: dict[str, Any], path: str, rules: RuleSet
) -> Computed:
    _fields(data, path, ())
    age, at_rating = _age_at_rating(victim, rules)
    income, source = _income(victim, rules, "残疾赔偿金")
    coefficient, expression = disability_coefficient(_grades(victim, "残疾赔偿金"), rules)
    with exact():
        value = income * rules.years(age) * coefficient
    formula = f"{plain(income)} × {_years_text(age, rules)}{at_rating} × {percent(coefficient)}"
    if len(victim.grades) > 1:
        formula += f"；伤残系数 {expression}"
    return Computed(value, _with_note(formula, source))


def _grades(victim: Victim, needed_for: str) -> tuple[int, ...]:
    """The disability grades, asked for only where a formula needs them."""
    if not victim.grades:
        raise InvalidInput(
            f"{victim.path}.disability_grades",
            f"按公式计算{needed_for}需要伤残等级，如 [10]（或直接给出金额 amount）",
        )
    return victim.grades


def _death_compensation(
    victim: Victim, data: dict[str, Any], path: str, rules: RuleSet
) -> Computed:
    _fields(data, path, ())
    age = _age(victim, "死亡赔偿金", rules)
    income, source = _income(victim, rules, "死亡赔偿金")
    formula = f"{plain(income)} × {_years_text(age, rules)}"
    return Computed(income * rules.years(age), _with_note(formula, source))


def _funeral(victim: Victim, data: dict[str, Any], path: str, rules: RuleSet) -> Computed:
    _fields(data, path, ("annual_wage",))
    if "annual_wage" in data:
        wage = money(data["annual_wage"], f"{path}.annual_wage")
    else:
        wage = rules.figure("annual_wage", "丧葬费")
    months = rules.rule("funeral_months")
    with exact():
        return Computed(wage / 12 * months, f"{plain(wage)} ÷ 12 × {months}个月")


def read_dependents(data: Any, path: str) -> list[Dependent]:
    dependents = []
    for i, entry in enumerate(_entries(data, path)):
        where = f"{path}[{i}]"
        entry = _fields(
            entry, where, ("name", "age", "years", "supporters", "consumption", "relation")
        )
        if ("age" in entry) == ("years" in entry):
            raise InvalidInput(where, "被扶养人需要 age（年龄）或 years（扶养年数）之一")
        dependents.append(
            Dependent(
                path=where,
                supporters=integer(entry.get("supporters", 1), f"{where}.supporters", 1, 20),
                years=integer(entry["years"], f"{where}.years", 0, 20)
                if "years" in entry
                else None,
                age=integer(entry["age"], f"{where}.age", 0, 130) if "age" in entry else None,
                consumption=money(entry["consumption"], f"{where}.consumption")
                if "consumption" in entry
                else None,
            )
        )
    return dependents


def dependent_years(dependent: Dependent, rules: RuleSet) -> int:
    """A minor until 18; an adult without working capacity: years by age (arts. 17, 12)."""
    if dependent.years is not None:
        return dependent.years
    age, adult = dependent.age or 0, rules.rule("minor_until_age")
    return adult - age if age < adult else rules.years(age)


def _dependents_living(victim: Victim, data: Any, path: str, rules: RuleSet) -> Computed:
    """Per dependent `C × coefficient ÷ supporters` a year; all dependents together at most
    the yearly cap in any one year (人损解释 arts. 16–17)."""
    if victim.outcome not in ("disability", "death"):
        raise InvalidInput(f"{victim.path}.outcome", "被扶养人生活费只在伤残或死亡时计算")
    dependents = read_dependents(data, path)
    consumption, source = _consumption(victim, rules, "被扶养人生活费")
    warnings = tuple(
        {
            "code": "rural_dependent_consumption",
            "path": dependent.path,
            "message": f"{dependent.path}：事故在 {rules.law['urban_for_all_from']['value']} "
            "之后，人损解释（2022 修正）统一按城镇居民标准计算，此处仍使用了被扶养人自己的"
            f"消费支出 {plain(dependent.consumption)}，请核实",
        }
        for dependent in dependents
        if dependent.consumption is not None and rules.urban_for_all
    )
    if victim.outcome == "death":
        coefficient, coefficient_text = Decimal(1), ""
    else:
        coefficient, _ = disability_coefficient(_grades(victim, "被扶养人生活费"), rules)
        coefficient_text = f" × {percent(coefficient)}"
    cap = consumption * coefficient if rules.dependents_cap == "coefficient" else consumption
    shares, terms = [], []
    with exact():
        for dependent in dependents:
            base = dependent.consumption if dependent.consumption is not None else consumption
            share = base * coefficient / dependent.supporters
            shares.append((dependent_years(dependent, rules), share))
            terms.append(f"{plain(base)}{coefficient_text} ÷ {dependent.supporters}")
        total, segments, year = Decimal(0), [], 0
        for span_end in sorted({years for years, _ in shares if years > 0}):
            yearly = sum((share for years, share in shares if years >= span_end), Decimal(0))
            paid = min(yearly, cap)
            span = span_end - year
            total += paid * span
            active = [terms[i] for i, (years, _) in enumerate(shares) if years >= span_end]
            expression = " + ".join(active)
            if yearly > cap:
                expression = f"min({expression}, {plain(cap)})"
            elif len(active) > 1:
                expression = f"({expression})"
            segments.append(f"{expression} × {span}年")
            year = span_end
    return Computed(total, _with_note(" + ".join(segments) or "0", source), warnings=warnings)


_COMPUTE = {
    "lost_income": _lost_income,
    "nursing": _nursing,
    "hospital_food": _per_day("hospital_food_per_day"),
    "nutrition": _per_day(None),
    "assistive_devices": _assistive_devices,
    "disability_compensation": _disability_compensation,
    "funeral": _funeral,
    "death_compensation": _death_compensation,
    "dependents_living": _dependents_living,
    "property": _property,
    "indirect_property": _property,
}
# Items the outcome brings without being asked for.
_BY_OUTCOME = {
    "disability": ("disability_compensation",),
    "death": ("funeral", "death_compensation"),
}


def compute_items(
    victim: Victim, rules: RuleSet, warnings: list[dict[str, str]] | None = None
) -> list[Item]:
    """Every item of one victim, rounded half-up to the fen, in the order of DOMAIN.md §2;
    notes for the reader (a figure to check) go to `warnings`."""
    requested = dict(victim.items)
    for code in _BY_OUTCOME.get(victim.outcome, ()):
        requested.setdefault(code, {})
    item_rules = rules.law["items"]
    for code in requested:
        if code not in item_rules:
            raise InvalidInput(
                f"{victim.path}.items.{code}", f"不认识的赔偿项目（可用：{'、'.join(item_rules)}）"
            )
    items = []
    for code, rule in item_rules.items():
        if code not in requested:
            continue
        data, path = requested[code], f"{victim.path}.items.{code}"
        if code in ("disability_compensation", "funeral", "death_compensation"):
            _check_outcome(victim, rule["label"], code, data, path)
        if code in _COMPUTE and not (
            isinstance(data, dict) and ("amount" in data or "bills" in data)
        ):
            computed = _COMPUTE[code](victim, data, path, rules)
        else:
            computed = _bills(_fields(data, path, ("amount", "bills", "note")), path)
        if warnings is not None:
            warnings.extend(computed.warnings)
        bucket = rules.appraisal_fee_bucket if code == "appraisal_fee" else rule["bucket"]
        items.append(
            Item(
                code=code,
                label=rule["label"],
                amount=to_fen(computed.value),
                bucket=bucket,
                formula=computed.formula,
                basis=rule["basis"],
                evidence=computed.evidence,
            )
        )
    _check_rescue_costs(victim, items)
    return items


def _check_rescue_costs(victim: Victim, items: list[Item]) -> None:
    """Rescue costs are part of the medical costs (the fund advances them)."""
    if victim.rescue_costs is None:
        return
    medical = sum((i.amount for i in items if i.code == "medical"), Decimal(0))
    if victim.rescue_costs > medical:
        raise InvalidInput(
            f"{victim.path}.rescue_costs",
            f"抢救费用 {plain_amount(victim.rescue_costs)} 不能超过医疗费 {plain_amount(medical)}",
        )


def _check_outcome(victim: Victim, label: str, code: str, data: Any, path: str) -> None:
    """Formula items of disability or death need that outcome; a decided amount does not."""
    if isinstance(data, dict) and "amount" in data:
        return
    needs = "disability" if code == "disability_compensation" else "death"
    if victim.outcome != needs:
        raise InvalidInput(path, f"{label}按公式计算时，结果 outcome 应为 {needs}")
