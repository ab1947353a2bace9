"""The compensation engine, item by item and rule by rule (DOMAIN.md §2–4, INTERFACES.md §3).

Every expected figure is worked out by hand from the law in a comment beside it, with the Shanxi
2023 figures the engine ships (DOMAIN.md §4): U = 41,327, rural U = 17,677, C = 24,524, rural
C = 13,684, on-post wage 97,315, hospital food 100 元/day; 交强险 limits from 2020-09-19:
180,000 / 18,000 / 2,000 (no fault 18,000 / 1,800 / 100), from 2008-02-01: 110,000 / 10,000 /
2,000 (no fault 11,000 / 1,000 / 100).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from app.compensation import InvalidInput, assess

# The example of INTERFACES.md §3.
EXAMPLE: dict[str, Any] = json.loads(
    """
{
  "accident_date": "2023-11-05",
  "jurisdiction": "shanxi",
  "standards_year": 2023,
  "standards": {"urban_disposable_income": "41327", "urban_consumption": "24524",
                "rural_disposable_income": "17677", "rural_consumption": "13684",
                "annual_wage": "97315", "hospital_food_per_day": "100"},
  "options": {"share_rounding": "exact", "dependents_cap": "plain"},
  "victims": [
    {
      "id": "v1", "name": "王五", "age": 35, "residence": "urban",
      "outcome": "disability", "disability_grades": [10],
      "party": "B",
      "items": {
        "medical": {"amount": "5026.49"},
        "hospital_food": {"days": 11, "daily": "20"},
        "nutrition": {"days": 11, "daily": "20"},
        "lost_income": {"days": 70, "annual": "25402"},
        "nursing": [{"days": 11, "annual": "28472", "persons": 1}],
        "transport": {"amount": "300"},
        "mental_distress": {"amount": "5000"},
        "dependents_living": [{"age": 7, "supporters": 2},
                              {"years": 20, "supporters": 3, "consumption": "6438.12"}],
        "property": [{"description": "电动自行车维修", "amount": "800"}],
        "appraisal_fee": {"amount": "700"}
      }
    }
  ],
  "parties": [
    {"id": "A", "kind": "vehicle", "plate": "晋J12345", "liability": "main", "ratio": null,
     "ctpi": {"insurer": "人保吕梁", "insured": true},
     "commercial": {"insurer": "人保吕梁", "limit": "1000000"},
     "occupants": []},
    {"id": "B", "kind": "non_motor", "liability": "minor"}
  ]
}
"""
)


# -- building inputs ---------------------------------------------------------------------


def vehicle(
    id: str = "A",
    liability: str | None = "full",
    *,
    insured: bool | None = True,
    commercial: str | None = None,
    occupants: tuple[str, ...] = (),
    ratio: Any = None,
) -> dict[str, Any]:
    """A motor vehicle party; `insured=None` leaves out `ctpi` (no 交强险 at all)."""
    party: dict[str, Any] = {"id": id, "kind": "vehicle", "liability": liability}
    if insured is not None:
        party["ctpi"] = {"insurer": "人保吕梁", "insured": insured}
    if commercial is not None:
        party["commercial"] = {"insurer": "人保吕梁", "limit": commercial}
    if occupants:
        party["occupants"] = list(occupants)
    if ratio is not None:
        party["ratio"] = ratio
    return party


def walker(
    id: str = "P", liability: str | None = "none", *, kind: str = "pedestrian", ratio: Any = None
) -> dict[str, Any]:
    party: dict[str, Any] = {"id": id, "kind": kind, "liability": liability}
    if ratio is not None:
        party["ratio"] = ratio
    return party


def victim(id: str = "v1", party: str | None = "P", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": id, "age": 35, "outcome": "injury", "items": {}}
    if party is not None:
        data["party"] = party
    data.update(fields)
    return data


def case(
    victims: list[dict[str, Any]] | None = None,
    parties: list[dict[str, Any]] | None = None,
    *,
    accident_date: str = "2023-11-05",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "accident_date": accident_date,
        "jurisdiction": "shanxi",
        "victims": victims if victims is not None else [victim()],
        "parties": parties if parties is not None else [vehicle(), walker()],
        **extra,
    }


def one(items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The assessment of one pedestrian victim (no liability) of one fully liable vehicle."""
    return assess(case([victim(items=items, **fields)]))


def item(result: dict[str, Any], code: str, victim_id: str = "v1") -> dict[str, Any]:
    found = [v for v in result["victims"] if v["id"] == victim_id][0]
    matches = [i for i in found["items"] if i["code"] == code]
    assert len(matches) == 1, (code, found["items"])
    return matches[0]


def amount(result: dict[str, Any], code: str, victim_id: str = "v1") -> str:
    return item(result, code, victim_id)["amount"]


def paid(result: dict[str, Any]) -> dict[tuple[str, str, str | None], str]:
    """Payments by (victim, payer, bucket); at most one payment has each key."""
    table = {}
    for payment in result["payments"]:
        key = (payment["victim"], payment["payer"], payment.get("bucket"))
        assert key not in table, key
        table[key] = payment["amount"]
    return table


def invalid(data: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        assess(data)
    return caught.value


# -- the INTERFACES.md example -----------------------------------------------------------


def test_the_interfaces_example() -> None:
    result = assess(copy.deepcopy(EXAMPLE))
    items = {i["code"]: i["amount"] for i in result["victims"][0]["items"]}
    assert items == {
        "medical": "5026.49",
        "lost_income": "4871.62",  # 25402 ÷ 365 × 70 = 4871.616…
        "nursing": "858.06",  # 28472 ÷ 365 × 11 × 1 = 858.060…
        "transport": "300.00",
        "hospital_food": "220.00",  # 20 × 11
        "nutrition": "220.00",  # 20 × 11
        "disability_compensation": "82654.00",  # 41327 × 20 × 10 %
        # child 7: 11 years of 24524 × 10 % ÷ 2 = 1226.2; adult: 20 years of
        # 6438.12 × 10 % ÷ 3 = 214.604 → 1440.804 × 11 + 214.604 × 9 = 17780.28
        "dependents_living": "17780.28",
        "mental_distress": "5000.00",
        "property": "800.00",
        "appraisal_fee": "700.00",
    }
    # 5026.49 + 4871.62 + 858.06 + 300 + 220 + 220 + 82654 + 17780.28 + 5000 + 800 + 700
    assert result["victims"][0]["total"] == "118430.45"
    assert result["rule_set"]["ctpi_limits_from"] == "2020-09-19"
    assert result["rule_set"]["income_standard"] == "urban"
    assert result["rule_set"]["fingerprint"].startswith("sha256:")
    # Every bucket is within A's limits; the appraisal fee (no bucket) is split 20 : 80 (the
    # non-motor rider's minor liability against the vehicle's main, §3.4).
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "5466.49",  # 5026.49 + 220 + 220
        ("v1", "ctpi:A", "death_disability"): "111463.96",
        ("v1", "ctpi:A", "property"): "800.00",
        ("v1", "commercial:A", None): "560.00",  # 700 × 80 %
        ("v1", "self", None): "140.00",  # 700 × 20 %
    }
    assert result["totals"] == {
        "ctpi:A": "117730.45",
        "commercial:A": "560.00",
        "self": "140.00",
    }


# -- DOMAIN.md §4 illustrations ------------------------------------------------------------


def test_illustration_grade_10_at_35() -> None:
    result = one({}, outcome="disability", disability_grades=[10], age=35)
    assert amount(result, "disability_compensation") == "82654.00"  # 41327 × 20 × 10 %


def test_illustration_grade_9_at_65() -> None:
    result = one({}, outcome="disability", disability_grades=[9], age=65)
    assert amount(result, "disability_compensation") == "123981.00"  # 41327 × 15 × 20 %


def test_illustration_death_at_70() -> None:
    result = one({}, outcome="death", age=70)
    assert amount(result, "death_compensation") == "413270.00"  # 41327 × (80 − 70)


def test_illustration_funeral_on_the_on_post_wage() -> None:
    result = one({}, outcome="death", age=40)
    assert amount(result, "funeral") == "48657.50"  # 97315 ÷ 12 × 6
    assert item(result, "funeral")["formula"] == "97315 ÷ 12 × 6个月"


def test_illustration_child_of_8_with_two_supporters_in_a_death_case() -> None:
    result = one({"dependents_living": [{"age": 8, "supporters": 2}]}, outcome="death", age=40)
    assert amount(result, "dependents_living") == "122620.00"  # 24524 × (18 − 8) ÷ 2


# -- years by age (人损解释 arts. 12, 15, 17) ------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected", "years_text"),
    [
        (0, "826540.00", "20年"),  # 41327 × 20
        (59, "826540.00", "20年"),  # under 60: 20 years
        (60, "826540.00", "20年（80 − 60岁）"),  # 80 − 60 = 20
        (61, "785213.00", "19年（80 − 61岁）"),  # 41327 × 19
        (74, "247962.00", "6年（80 − 74岁）"),  # 41327 × 6
        (75, "206635.00", "5年（75岁以上）"),  # 75 and over: 5 years
        (90, "206635.00", "5年（75岁以上）"),
    ],
)
def test_death_compensation_years_by_age(age: int, expected: str, years_text: str) -> None:
    result = one({}, outcome="death", age=age)
    assert amount(result, "death_compensation") == expected
    assert item(result, "death_compensation")["formula"] == f"41327 × {years_text}"
    assert item(result, "death_compensation")["basis"] == "人损解释第十五条"


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (59, "82654.00"),  # 41327 × 20 × 10 %
        (60, "82654.00"),  # 41327 × 20 × 10 %
        (74, "24796.20"),  # 41327 × 6 × 10 %
        (75, "20663.50"),  # 41327 × 5 × 10 %
    ],
)
def test_disability_compensation_years_by_age(age: int, expected: str) -> None:
    result = one({}, outcome="disability", disability_grades=[10], age=age)
    assert amount(result, "disability_compensation") == expected


# -- disability coefficient (GB 18667-2002 annex B) ------------------------------------------


@pytest.mark.parametrize(
    ("grades", "expected", "coefficient"),
    [
        ([1], "826540.00", "100%"),  # 41327 × 20 × 100 %
        ([5], "495924.00", "60%"),  # 41327 × 20 × 60 %
        ([3, 5], "719089.80", "87%"),  # Ih 80 % + Ia(V) 7 % = 87 %
        ([10, 3], "677762.80", "82%"),  # order does not matter: 80 % + Ia(X) 2 %
        ([5, 6, 7], "578578.00", "70%"),  # 60 % + (6 % + 5 % = 11 % → ΣIa ≤ 10 %)
        ([2, 2], "826540.00", "100%"),  # 90 % + Ia(II) 10 % = 100 %
        ([1, 2], "826540.00", "100%"),  # 100 % + 10 % → at most 100 %
        ([4, 10, 10, 10], "628170.40", "76%"),  # 70 % + 3 × 2 % = 76 %
    ],
)
def test_disability_coefficient(grades: list[int], expected: str, coefficient: str) -> None:
    result = one({}, outcome="disability", disability_grades=grades, age=30)
    compensation = item(result, "disability_compensation")
    assert compensation["amount"] == expected
    assert compensation["formula"].startswith(f"41327 × 20年 × {coefficient}")
    assert compensation["basis"] == "人损解释第十二条"
    assert compensation["bucket"] == "death_disability"


def test_several_disabilities_show_the_capped_addition_in_the_formula() -> None:
    result = one({}, outcome="disability", disability_grades=[5, 6, 7], age=30)
    assert "附加不超过 10%" in item(result, "disability_compensation")["formula"]


# -- dependents' living expenses (人损解释 arts. 16–17) ---------------------------------------


@pytest.mark.parametrize(
    ("dependent", "expected"),
    [
        ({"age": 17}, "24524.00"),  # a minor until 18: 1 year × 24524
        ({"age": 0}, "441432.00"),  # 18 years × 24524
        ({"age": 18}, "490480.00"),  # an adult without working capacity: years(18) = 20
        ({"age": 65, "supporters": 2}, "183930.00"),  # 80 − 65 = 15 years × 24524 ÷ 2
        ({"age": 75, "supporters": 1}, "122620.00"),  # 75 and over: 5 years × 24524
        ({"years": 7, "supporters": 4}, "42917.00"),  # 7 × 24524 ÷ 4
        ({"years": 10, "consumption": "13684"}, "136840.00"),  # its own C: 13684 × 10
    ],
)
def test_dependents_living_in_a_death_case(dependent: dict[str, Any], expected: str) -> None:
    result = one({"dependents_living": [dependent]}, outcome="death", age=40)
    assert amount(result, "dependents_living") == expected
    assert item(result, "dependents_living")["basis"] == "人损解释第十六条、第十七条"


def test_dependents_living_in_a_disability_case_uses_the_coefficient() -> None:
    result = one(
        {"dependents_living": [{"years": 20, "supporters": 3, "consumption": "6438.12"}]},
        outcome="disability",
        disability_grades=[10],
    )
    # 6438.12 × 10 % ÷ 3 = 214.604 a year × 20 years = 4292.08
    assert amount(result, "dependents_living") == "4292.08"
    assert item(result, "dependents_living")["formula"] == "6438.12 × 10% ÷ 3 × 20年"


def test_dependents_are_capped_year_by_year_at_c() -> None:
    dependents = [{"age": 10, "supporters": 1}, {"years": 15, "supporters": 2}]
    result = one({"dependents_living": dependents}, outcome="death", age=40)
    # Years 1–8: 24524 + 12262 = 36786 → capped at 24524; years 9–15: only the second, 12262.
    # 24524 × 8 + 12262 × 7 = 196192 + 85834 = 282026 (uncapped it would be 380122).
    assert amount(result, "dependents_living") == "282026.00"
    formula = item(result, "dependents_living")["formula"]
    assert formula == "min(24524 ÷ 1 + 24524 ÷ 2, 24524) × 8年 + 24524 ÷ 2 × 7年"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # Each: 24524 × 60 % = 14714.4 a year, both for 10 years; together 29428.8 a year.
        ("plain", "245240.00"),  # capped at C = 24524 a year × 10
        ("coefficient", "147144.00"),  # capped at C × 60 % = 14714.4 a year × 10
    ],
)
def test_dependents_cap_plain_or_times_the_coefficient(mode: str, expected: str) -> None:
    data = case(
        [
            victim(
                outcome="disability",
                disability_grades=[5],
                age=40,
                items={"dependents_living": [{"age": 8}, {"age": 70}]},
            )
        ],
        options={"dependents_cap": mode},
    )
    result = assess(data)
    assert amount(result, "dependents_living") == expected
    assert result["rule_set"]["options"]["dependents_cap"] == mode


def test_dependents_cap_defaults_to_plain() -> None:
    data = case(
        [
            victim(
                outcome="disability",
                disability_grades=[5],
                items={"dependents_living": [{"age": 8}, {"age": 70}]},
            )
        ]
    )
    assert amount(assess(data), "dependents_living") == "245240.00"


# -- every item: formula, basis, bucket ----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "data", "expected", "formula", "bucket", "basis"),
    [
        ("medical", {"amount": "5026.49"}, "5026.49", "5026.49", "medical", "人损解释第六条"),
        ("future_medical", {"amount": "12000"}, "12000.00", "12000", "medical", "人损解释第六条"),
        (
            "rehabilitation",
            {"amount": "3000.5"},
            "3000.50",
            "3000.5",
            "death_disability",
            "人损解释第六条",
        ),
        # daily income × days
        (
            "lost_income",
            {"days": 70, "daily": "150"},
            "10500.00",
            "150 × 70天",
            "death_disability",
            "人损解释第七条",
        ),
        # 25402 ÷ 365 × 70 = 4871.616…
        (
            "lost_income",
            {"days": 70, "annual": "25402"},
            "4871.62",
            "25402 ÷ 365 × 70天",
            "death_disability",
            "人损解释第七条",
        ),
        # construction 2023: 86540 ÷ 365 × 30 = 7112.876…
        (
            "lost_income",
            {"days": 30, "industry": "construction"},
            "7112.88",
            "86540 ÷ 365 × 30天",
            "death_disability",
            "人损解释第七条",
        ),
        # 120 × 20 days × 2 carers
        (
            "nursing",
            [{"days": 20, "daily": "120", "persons": 2}],
            "4800.00",
            "120 × 20天 × 2人",
            "death_disability",
            "人损解释第八条",
        ),
        # 28472 ÷ 365 × 11 = 858.060…, plus permanent dependency 30000 × 20 years
        (
            "nursing",
            [{"days": 11, "annual": "28472"}, {"years": 20, "annual": "30000"}],
            "600858.06",
            "28472 ÷ 365 × 11天 × 1人 + 30000 × 20年 × 1人",
            "death_disability",
            "人损解释第八条",
        ),
        ("transport", {"amount": "300"}, "300.00", "300", "death_disability", "人损解释第九条"),
        ("lodging", {"amount": "480"}, "480.00", "480", "death_disability", "人损解释第十条"),
        # Shanxi 100 元/day × 11 days
        ("hospital_food", {"days": 11}, "1100.00", "100 × 11天", "medical", "人损解释第十条"),
        (
            "hospital_food",
            {"days": 11, "daily": "20"},
            "220.00",
            "20 × 11天",
            "medical",
            "人损解释第十条",
        ),
        (
            "nutrition",
            {"days": 30, "daily": "30"},
            "900.00",
            "30 × 30天",
            "medical",
            "人损解释第十一条",
        ),
        ("nutrition", {"amount": "1500"}, "1500.00", "1500", "medical", "人损解释第十一条"),
        # 3500 × 4 replacements
        (
            "assistive_devices",
            {"price": "3500", "count": 4},
            "14000.00",
            "3500 × 4次",
            "death_disability",
            "人损解释第十三条",
        ),
        (
            "mental_distress",
            {"amount": "5000"},
            "5000.00",
            "5000",
            "death_disability",
            "民法典第一千一百八十三条；道交解释第十三条",
        ),
        # 800 + 350.5
        (
            "property",
            [{"description": "维修", "amount": "800"}, {"description": "施救", "amount": "350.5"}],
            "1150.50",
            "800（维修） + 350.5（施救）",
            "property",
            "道交解释第十二条第（一）、（二）项",
        ),
        (
            "appraisal_fee",
            {"amount": "700"},
            "700.00",
            "700",
            "none",
            "司法实务做法",
        ),
    ],
)
def test_item(code: str, data: Any, expected: str, formula: str, bucket: str, basis: str) -> None:
    found = item(one({code: data}), code)
    assert found["amount"] == expected
    assert found["formula"] == formula
    assert found["bucket"] == bucket
    assert found["basis"] == basis


def test_item_labels_and_order_follow_domain_section_2() -> None:
    items = {
        "appraisal_fee": {"amount": "1"},
        "property": [{"amount": "1"}],
        "medical": {"amount": "1"},
        "transport": {"amount": "1"},
    }
    found = one(items)["victims"][0]["items"]
    assert [(i["code"], i["label"]) for i in found] == [
        ("medical", "医疗费"),
        ("transport", "交通费"),
        ("property", "财产损失"),
        ("appraisal_fee", "鉴定费"),
    ]


def test_bills_add_up_and_keep_their_documents() -> None:
    bills = [
        {"amount": "1000.10", "description": "门诊", "document": "doc-1"},
        {"amount": "26.39", "description": "药费"},
        {"amount": "4000", "document": "doc-3"},
    ]
    found = item(one({"medical": {"bills": bills}}), "medical")
    assert found["amount"] == "5026.49"  # 1000.10 + 26.39 + 4000
    assert found["formula"] == "1000.10 + 26.39 + 4000"
    assert found["evidence"] == ["doc-1", "doc-3"]


def test_funeral_on_a_given_wage() -> None:
    result = one({"funeral": {"annual_wage": "95025"}}, outcome="death")
    assert amount(result, "funeral") == "47512.50"  # 95025 ÷ 12 × 6
    assert item(result, "funeral")["basis"] == "人损解释第十四条"


def test_funeral_on_the_standards_wage_override() -> None:
    data = case([victim(outcome="death")], standards={"annual_wage": "90495"})
    assert amount(assess(data), "funeral") == "45247.50"  # 90495 ÷ 12 × 6


def test_items_are_rounded_half_up_to_the_fen() -> None:
    # 97315.01 ÷ 2 = 48657.505 → 48657.51 (half-up, not half-even)
    assert amount(one({"funeral": {"annual_wage": "97315.01"}}, outcome="death"), "funeral") == (
        "48657.51"
    )
    # 0.01 ÷ 2 = 0.005 → 0.01
    assert amount(one({"funeral": {"annual_wage": "0.01"}}, outcome="death"), "funeral") == "0.01"
    # 1 ÷ 365 × 1 = 0.00274 → 0.00
    assert amount(one({"lost_income": {"days": 1, "annual": "1"}}), "lost_income") == "0.00"


def test_death_brings_funeral_and_death_compensation() -> None:
    result = one({}, outcome="death", age=40)
    codes = [i["code"] for i in result["victims"][0]["items"]]
    assert codes == ["funeral", "death_compensation"]
    assert result["victims"][0]["total"] == "875197.50"  # 48657.50 + 41327 × 20


def test_disability_brings_disability_compensation() -> None:
    result = one({"medical": {"amount": "100"}}, outcome="disability", disability_grades=[10])
    assert [i["code"] for i in result["victims"][0]["items"]] == [
        "medical",
        "disability_compensation",
    ]


def test_injury_and_property_outcomes_bring_nothing() -> None:
    assert one({}, outcome="injury")["victims"][0]["items"] == []
    result = one({"property": [{"amount": "800"}]}, outcome="property")
    assert [i["code"] for i in result["victims"][0]["items"]] == ["property"]


# -- decided amounts -------------------------------------------------------------------


def test_decided_amounts_replace_the_formulas() -> None:
    result = one(
        {
            "disability_compensation": {"amount": "50000"},
            "dependents_living": {"amount": "10000"},
            "lost_income": {"amount": "3000"},
            "nursing": {"amount": "2000"},
            "hospital_food": {"amount": "550"},
            "assistive_devices": {"amount": "1200"},
            "property": {"amount": "900"},
        },
        outcome="disability",
        disability_grades=[3],
    )
    decided = {i["code"]: (i["amount"], i["formula"]) for i in result["victims"][0]["items"]}
    assert decided["disability_compensation"] == ("50000.00", "50000")
    assert decided["dependents_living"] == ("10000.00", "10000")
    assert decided["lost_income"] == ("3000.00", "3000")
    assert decided["nursing"] == ("2000.00", "2000")
    assert decided["hospital_food"] == ("550.00", "550")
    assert decided["assistive_devices"] == ("1200.00", "1200")
    assert decided["property"] == ("900.00", "900")
    assert result["victims"][0]["total"] == "67650.00"


def test_decided_death_items_on_an_injury_outcome() -> None:
    result = one(
        {"death_compensation": {"amount": "300000"}, "funeral": {"amount": "40000"}},
        outcome="injury",
    )
    assert amount(result, "death_compensation") == "300000.00"
    assert amount(result, "funeral") == "40000.00"


# -- rule sets by accident date ------------------------------------------------------------


def _big_loss(accident_date: str) -> dict[str, Any]:
    items = {
        "medical": {"amount": "20000"},
        "mental_distress": {"amount": "200000"},
        "property": [{"amount": "3000"}],
    }
    return assess(case([victim(items=items)], accident_date=accident_date))


def test_ctpi_limits_of_2008_for_an_accident_on_2020_09_18() -> None:
    result = _big_loss("2020-09-18")
    assert result["rule_set"]["ctpi_limits_from"] == "2008-02-01"
    payments = paid(result)
    assert payments[("v1", "ctpi:A", "medical")] == "10000.00"
    assert payments[("v1", "ctpi:A", "death_disability")] == "110000.00"
    assert payments[("v1", "ctpi:A", "property")] == "2000.00"
    # 223000 − 122000 to the fully liable vehicle's owner (no commercial insurance)
    assert payments[("v1", "party:A", None)] == "101000.00"


def test_ctpi_limits_of_2020_for_an_accident_on_2020_09_19() -> None:
    result = _big_loss("2020-09-19")
    assert result["rule_set"]["ctpi_limits_from"] == "2020-09-19"
    payments = paid(result)
    assert payments[("v1", "ctpi:A", "medical")] == "18000.00"
    assert payments[("v1", "ctpi:A", "death_disability")] == "180000.00"
    assert payments[("v1", "ctpi:A", "property")] == "2000.00"
    assert payments[("v1", "party:A", None)] == "23000.00"  # 223000 − 200000


def test_accident_before_the_first_limits_is_invalid() -> None:
    assert invalid(case(accident_date="2008-01-31")).path == "accident_date"


@pytest.mark.parametrize(
    ("accident_date", "standard", "compensation", "dependents"),
    [
        # before 2022-05-01 a rural resident's figures: 17677 × 20 × 10 %, 13684 × 10 × 10 %
        ("2022-04-30", "by_residence", "35354.00", "13684.00"),
        # from 2022-05-01 urban for everyone: 41327 × 20 × 10 %, 24524 × 10 × 10 %
        ("2022-05-01", "urban", "82654.00", "24524.00"),
    ],
)
def test_rural_victims_before_and_after_2022_05_01(
    accident_date: str, standard: str, compensation: str, dependents: str
) -> None:
    rural = victim(
        residence="rural",
        outcome="disability",
        disability_grades=[10],
        items={"dependents_living": [{"age": 8}]},
    )
    result = assess(case([rural], accident_date=accident_date))
    assert result["rule_set"]["income_standard"] == standard
    assert amount(result, "disability_compensation") == compensation
    assert amount(result, "dependents_living") == dependents


def test_urban_victims_before_2022_05_01_keep_urban_figures() -> None:
    urban = victim(outcome="disability", disability_grades=[10])
    result = assess(case([urban], accident_date="2022-04-30"))
    assert amount(result, "disability_compensation") == "82654.00"


def test_standards_year_2022_and_the_default_latest_year() -> None:
    disabled = victim(outcome="disability", disability_grades=[10])
    result = assess(case([disabled], standards_year=2022))
    assert amount(result, "disability_compensation") == "79064.00"  # 39532 × 20 × 10 %
    assert result["rule_set"]["standards_year"] == 2022
    assert assess(case([disabled]))["rule_set"]["standards_year"] == 2023


def test_standards_override_the_year_figures() -> None:
    disabled = victim(outcome="disability", disability_grades=[10])
    result = assess(case([disabled], standards={"urban_disposable_income": "50000"}))
    assert amount(result, "disability_compensation") == "100000.00"  # 50000 × 20 × 10 %


def test_2022_standards_need_an_annual_wage_for_the_funeral() -> None:
    error = invalid(case([victim(outcome="death")], standards_year=2022))
    assert error.path == "standards.annual_wage"
    assert error.code == "invalid_input"
    assert error.message.startswith("standards.annual_wage")
    # given, it is used: 90495 ÷ 12 × 6
    data = case([victim(outcome="death")], standards_year=2022, standards={"annual_wage": "90495"})
    assert amount(assess(data), "funeral") == "45247.50"


# -- 交强险 --------------------------------------------------------------------------------


def test_no_fault_limits_when_the_vehicle_bears_no_liability() -> None:
    items = {
        "medical": {"amount": "5000"},
        "mental_distress": {"amount": "30000"},
        "property": [{"amount": "500"}],
    }
    result = assess(
        case([victim(items=items)], [vehicle(liability="none"), walker(liability="full")])
    )
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "1800.00",  # no-fault medical limit
        ("v1", "ctpi:A", "death_disability"): "18000.00",  # no-fault d/d limit
        ("v1", "ctpi:A", "property"): "100.00",  # no-fault property limit
        # 35500 − 19900 = 15600: a pedestrian fully at fault against a faultless vehicle
        # bears 90 %, the vehicle still 10 % (道交法 art. 76)
        ("v1", "party:A", None): "1560.00",
        ("v1", "self", None): "14040.00",
    }


def test_no_fault_limits_when_the_vehicle_ratio_is_zero() -> None:
    result = assess(
        case(
            [victim(items={"medical": {"amount": "5000"}})],
            [vehicle(liability="none", ratio="0"), walker(liability="full")],
        )
    )
    # 1800 from 交强险; the rest is the victim's own (ratio 0 for the vehicle)
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "1800.00",
        ("v1", "self", None): "3200.00",
    }


def test_several_victims_share_one_vehicles_limit_by_their_losses() -> None:
    victims = [
        victim("v1", "P1", items={"medical": {"amount": "30000"}}),
        victim("v2", "P2", items={"medical": {"amount": "10000"}}),
    ]
    parties = [vehicle(), walker("P1"), walker("P2")]
    result = assess(case(victims, parties))
    # 40000 claimed against 18000: 18000 × 30000/40000 = 13500, 18000 × 10000/40000 = 4500
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "13500.00",
        ("v2", "ctpi:A", "medical"): "4500.00",
        ("v1", "party:A", None): "16500.00",
        ("v2", "party:A", None): "5500.00",
    }
    assert "道交解释第十九条" in result["payments"][0]["basis"]


def test_three_victims_share_a_limit_to_the_fen() -> None:
    victims = [
        victim("v1", "P1", items={"medical": {"amount": "10000"}}),
        victim("v2", "P2", items={"medical": {"amount": "10000"}}),
        victim("v3", "P3", items={"medical": {"amount": "10000"}}),
    ]
    parties = [vehicle(), walker("P1"), walker("P2"), walker("P3")]
    result = assess(case(victims, parties))
    # 18000 ÷ 3 = 6000 each
    payments = paid(result)
    assert [payments[(v, "ctpi:A", "medical")] for v in ("v1", "v2", "v3")] == ["6000.00"] * 3
    # no-fault 1800 ÷ 3 = 600; a limit of 1000 (2008 no-fault medical) ÷ 3 = 333.333… →
    # 333.34 to the first by key, 333.33 to the others: the shares add up to the limit.
    older = assess(
        case(victims, [vehicle(liability="none"), *parties[1:]], accident_date="2019-01-01")
    )
    payments = paid(older)
    assert [payments[(v, "ctpi:A", "medical")] for v in ("v1", "v2", "v3")] == [
        "333.34",
        "333.33",
        "333.33",
    ]


def test_several_vehicles_share_a_victims_loss_by_their_limits() -> None:
    items = {"medical": {"amount": "19800"}, "mental_distress": {"amount": "99000"}}
    parties = [vehicle("A", "main"), vehicle("B", "none"), walker(liability="none")]
    result = assess(case([victim(items=items)], parties))
    # limits 18000 : 1800 and 180000 : 18000, both 10 : 1
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "18000.00",  # 19800 × 10/11
        ("v1", "ctpi:B", "medical"): "1800.00",  # 19800 × 1/11
        ("v1", "ctpi:A", "death_disability"): "90000.00",  # 99000 × 10/11
        ("v1", "ctpi:B", "death_disability"): "9000.00",  # 99000 × 1/11
    }
    assert "道交解释第十八条" in result["payments"][0]["basis"]


def test_each_vehicle_pays_its_half_up_to_its_own_limit() -> None:
    parties = [vehicle("A", "main"), vehicle("B", "minor"), walker(liability="none")]
    result = assess(case([victim(items={"medical": {"amount": "40000"}})], parties))
    # equal limits: 20000 claimed from each, each pays its 18000; 4000 left, A : B = 70 : 30
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "18000.00",
        ("v1", "ctpi:B", "medical"): "18000.00",
        ("v1", "party:A", None): "2800.00",
        ("v1", "party:B", None): "1200.00",
    }


def test_occupants_and_the_driver_are_not_covered_by_their_own_vehicle() -> None:
    victims = [
        victim("o1", None, items={"medical": {"amount": "5000"}}),
        victim("d1", "A", items={"medical": {"amount": "1000"}}),
    ]
    parties = [
        vehicle("A", "full", commercial="1000000", occupants=("o1",)),
        vehicle("B", "none", commercial="1000000"),
    ]
    result = assess(case(victims, parties))
    assert paid(result) == {
        # only B's 交强险 (no fault: 1800 medical) covers A's occupant and A's driver;
        # claims 5000 + 1000 > 1800 → 1800 × 5/6 = 1500 and 1800 × 1/6 = 300
        ("o1", "ctpi:B", "medical"): "1500.00",
        ("d1", "ctpi:B", "medical"): "300.00",
        # the occupant's remainder falls on A (full liability), not on A's commercial insurer
        ("o1", "party:A", None): "3500.00",
        # the driver bears their own full liability
        ("d1", "self", None): "700.00",
    }


def test_a_lone_vehicles_occupant_is_paid_by_its_party_alone() -> None:
    result = assess(
        case(
            [victim("o1", None, items={"medical": {"amount": "5000"}})],
            [vehicle("A", "full", commercial="1000000", occupants=("o1",))],
        )
    )
    assert paid(result) == {("o1", "party:A", None): "5000.00"}


def test_an_uninsured_vehicles_owner_pays_within_the_limits() -> None:
    items = {"medical": {"amount": "20000"}, "mental_distress": {"amount": "5000"}}
    result = assess(case([victim(items=items)], [vehicle(insured=False), walker()]))
    assert paid(result) == {
        ("v1", "party:A", "medical"): "18000.00",  # what 交强险 would have paid
        ("v1", "party:A", "death_disability"): "5000.00",
        ("v1", "party:A", None): "2000.00",  # 25000 − 23000 by liability
    }
    assert "道交解释第十六条" in result["payments"][0]["basis"]
    assert result["totals"] == {"party:A": "25000.00"}


# -- commercial insurance and the party --------------------------------------------------


def test_commercial_limit_exceeded_the_party_pays_the_rest() -> None:
    items = {"medical": {"amount": "118000"}}
    result = assess(case([victim(items=items)], [vehicle(commercial="50000"), walker()]))
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "18000.00",
        ("v1", "commercial:A", None): "50000.00",  # 100000 left, limit 50000
        ("v1", "party:A", None): "50000.00",
    }


def test_victims_share_a_commercial_limit_by_their_claims() -> None:
    victims = [
        victim("v1", "P1", items={"appraisal_fee": {"amount": "60000"}}),
        victim("v2", "P2", items={"appraisal_fee": {"amount": "40000"}}),
    ]
    result = assess(case(victims, [vehicle(commercial="50000"), walker("P1"), walker("P2")]))
    # no bucket: 100000 claimed from a 50000 limit → 30000 and 20000
    assert paid(result) == {
        ("v1", "commercial:A", None): "30000.00",
        ("v1", "party:A", None): "30000.00",
        ("v2", "commercial:A", None): "20000.00",
        ("v2", "party:A", None): "20000.00",
    }


# -- liability shares --------------------------------------------------------------------


def test_pedestrian_minor_against_vehicle_main_bears_20_percent() -> None:
    items = {"medical": {"amount": "30000"}}
    result = assess(
        case(
            [victim(items=items)],
            [vehicle(liability="main", commercial="1000000"), walker(liability="minor")],
        )
    )
    assert result["victims"][0]["shares"] == {"self": "0.2", "A": "0.8"}
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "18000.00",
        ("v1", "commercial:A", None): "9600.00",  # 12000 × 80 %
        ("v1", "self", None): "2400.00",  # 12000 × 20 %
    }


@pytest.mark.parametrize(
    ("grade", "vehicle_grade", "self_share"),
    [
        # The vehicle side against a pedestrian: full 100 %, main 80 %, equal 60 %, minor 40 %,
        # none still 10 % (道交法 art. 76); the pedestrian bears the rest.
        ("full", "none", "0.9"),
        ("main", "minor", "0.6"),
        ("equal", "equal", "0.4"),
        ("minor", "main", "0.2"),
        ("none", "full", "0"),
    ],
)
def test_pedestrian_grades_convert_to_own_shares(
    grade: str, vehicle_grade: str, self_share: str
) -> None:
    result = assess(
        case(
            [victim(items={"appraisal_fee": {"amount": "1000"}})],
            [vehicle(liability=vehicle_grade), walker(liability=grade)],
        )
    )
    assert result["victims"][0]["shares"]["self"] == self_share


def test_main_and_minor_vehicles_split_the_vehicle_side_70_30() -> None:
    parties = [vehicle("A", "main"), vehicle("B", "minor"), walker(liability="none")]
    result = assess(case([victim(items={"appraisal_fee": {"amount": "1000"}})], parties))
    assert result["victims"][0]["shares"] == {"self": "0", "A": "0.7", "B": "0.3"}
    assert paid(result) == {("v1", "party:A", None): "700.00", ("v1", "party:B", None): "300.00"}


def test_main_and_minor_vehicles_split_what_a_minor_pedestrian_does_not_bear() -> None:
    parties = [vehicle("A", "main"), vehicle("B", "minor"), walker(liability="minor")]
    result = assess(case([victim(items={"appraisal_fee": {"amount": "1000"}})], parties))
    # self 20 %; the vehicle side 80 % split 70 : 30 → 56 % and 24 %
    assert result["victims"][0]["shares"] == {"self": "0.2", "A": "0.56", "B": "0.24"}
    assert paid(result) == {
        ("v1", "party:A", None): "560.00",
        ("v1", "party:B", None): "240.00",
        ("v1", "self", None): "200.00",
    }


def test_a_driver_victim_against_another_vehicle_uses_vehicle_weights() -> None:
    parties = [vehicle("A", "minor"), vehicle("B", "main")]
    result = assess(case([victim(party="A", items={"appraisal_fee": {"amount": "1000"}})], parties))
    assert result["victims"][0]["shares"] == {"self": "0.3", "B": "0.7"}
    assert paid(result) == {("v1", "party:B", None): "700.00", ("v1", "self", None): "300.00"}


def test_explicit_ratios_override_the_grades() -> None:
    parties = [vehicle(liability="main", ratio="0.75"), walker(liability="minor", ratio="0.25")]
    result = assess(case([victim(items={"appraisal_fee": {"amount": "1000"}})], parties))
    assert result["victims"][0]["shares"] == {"self": "0.25", "A": "0.75"}
    assert paid(result) == {("v1", "party:A", None): "750.00", ("v1", "self", None): "250.00"}


def test_an_explicit_ratio_for_the_vehicle_leaves_the_rest_to_the_victim() -> None:
    parties = [vehicle(liability="main", ratio="0.65"), walker(liability="minor")]
    result = assess(case([victim(items={"appraisal_fee": {"amount": "1000"}})], parties))
    assert result["victims"][0]["shares"] == {"self": "0.35", "A": "0.65"}


def test_explicit_ratios_that_do_not_add_up_are_invalid() -> None:
    parties = [vehicle(ratio="0.5"), walker(ratio="0.2")]
    error = invalid(case([victim(items={"medical": {"amount": "1"}})], parties))
    assert error.path == "parties"
    assert "70%" in error.message


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # 7/13, 3/13, 3/13 of 10000: 5384.615…, 2307.692…, 2307.692… → the spare fen to A
        ("exact", ("5384.62", "2307.69", "2307.69")),
        ("ratio_0.1pct", ("5380.00", "2310.00", "2310.00")),  # 53.8 %, 23.1 %, 23.1 %
        ("ratio_1pct", ("5400.00", "2300.00", "2300.00")),  # 54 %, 23 %, 23 %
    ],
)
def test_share_rounding(mode: str, expected: tuple[str, str, str]) -> None:
    # A pedestrian without fault against three vehicles: main, minor, minor → 0.7 : 0.3 : 0.3
    parties = [
        vehicle("A", "main"),
        vehicle("B", "minor"),
        vehicle("C", "minor"),
        walker(liability="none"),
    ]
    data = case(
        [victim(items={"appraisal_fee": {"amount": "10000"}})],
        parties,
        options={"share_rounding": mode},
    )
    result = assess(data)
    payments = paid(result)
    assert tuple(payments[("v1", f"party:{p}", None)] for p in "ABC") == expected
    assert result["rule_set"]["options"]["share_rounding"] == mode


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # Three equal vehicles: exact thirds of 10000 (the spare fen by name) …
        ("exact", ("3333.34", "3333.33", "3333.33")),
        # … or, rounding the ratios first, 33.3 % + 33.3 % and the last (C) takes 33.4 %
        ("ratio_0.1pct", ("3330.00", "3330.00", "3340.00")),
        # … or 33 % + 33 % and C 34 % (DOMAIN.md §3.5: the last share takes the remainder)
        ("ratio_1pct", ("3300.00", "3300.00", "3400.00")),
    ],
)
def test_rounded_ratios_leave_the_remainder_to_the_last_share(
    mode: str, expected: tuple[str, str, str]
) -> None:
    parties = [
        vehicle("A", "equal"),
        vehicle("B", "equal"),
        vehicle("C", "equal"),
        walker(liability="none"),
    ]
    data = case(
        [victim(items={"appraisal_fee": {"amount": "10000"}})],
        parties,
        options={"share_rounding": mode},
    )
    payments = paid(assess(data))
    assert tuple(payments[("v1", f"party:{p}", None)] for p in "ABC") == expected


def test_payments_add_up_to_each_victims_total_and_the_totals_to_the_payments() -> None:
    victims = [
        victim(
            "v1",
            "P1",
            items={"medical": {"amount": "33333.33"}, "appraisal_fee": {"amount": "0.01"}},
        ),
        victim("v2", "P2", items={"medical": {"amount": "11111.11"}}),
        victim("v3", "P3", items={"medical": {"amount": "22222.22"}}),
    ]
    parties = [
        vehicle("A", "main", commercial="100.01"),
        vehicle("B", "minor", insured=False),
        walker("P1", "minor"),
        walker("P2", "none"),
        walker("P3", "equal", kind="non_motor"),
    ]
    result = assess(case(victims, parties, options={"share_rounding": "ratio_0.1pct"}))
    sums: dict[str, Decimal] = {}
    payers: dict[str, Decimal] = {}
    for payment in result["payments"]:
        value = Decimal(payment["amount"])
        assert value > 0
        sums[payment["victim"]] = sums.get(payment["victim"], Decimal(0)) + value
        payers[payment["payer"]] = payers.get(payment["payer"], Decimal(0)) + value
    for found in result["victims"]:
        assert str(sums[found["id"]]) == found["total"]
    assert {k: str(v) for k, v in payers.items()} == result["totals"]


def test_a_share_that_rounds_to_nothing_makes_no_payment() -> None:
    # 0.01 split 1 % : 99 % → 0.0001 and 0.0099 yuan: the one fen goes to A, and the victim's
    # own share of 0.00 is no payment at all (found by the property tests).
    parties = [vehicle(ratio="0.99"), walker(ratio="0.01")]
    result = assess(case([victim(items={"appraisal_fee": {"amount": "0.01"}})], parties))
    assert paid(result) == {("v1", "party:A", None): "0.01"}
    assert "self" not in result["totals"]


# -- invalid inputs, each naming its JSON path -----------------------------------------------


def _with(change: Any) -> dict[str, Any]:
    data = case(
        [victim(items={"medical": {"amount": "100"}})],
        [vehicle(commercial="100000"), walker()],
    )
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("victims"), "victims"),
        (lambda d: d.update(victims=[]), "victims"),
        (lambda d: d.update(victims={"v1": {}}), "victims"),
        (lambda d: d.update(foo=1), "foo"),
        (lambda d: d.update(accident_date="2023-13-05"), "accident_date"),
        (lambda d: d.pop("accident_date"), "accident_date"),
        (lambda d: d.update(jurisdiction="mars"), "jurisdiction"),
        (lambda d: d.update(standards_year=2019), "standards_year"),
        (
            lambda d: d.update(standards={"urban_disposable_income": "x"}),
            "standards.urban_disposable_income",
        ),
        (lambda d: d.update(standards={"gdp": "1"}), "standards.gdp"),
        (lambda d: d.update(options={"share_rounding": "banker"}), "options.share_rounding"),
        (lambda d: d.update(options={"dependents_cap": "double"}), "options.dependents_cap"),
        (
            lambda d: d["victims"][0]["items"]["medical"].update(amount="abc"),
            "victims[0].items.medical.amount",
        ),
        (
            lambda d: d["victims"][0]["items"]["medical"].update(amount="-5"),
            "victims[0].items.medical.amount",
        ),
        (
            lambda d: d["victims"][0]["items"]["medical"].update(amount="1.234"),
            "victims[0].items.medical.amount",
        ),
        (
            lambda d: d["victims"][0]["items"]["medical"].update(amount=True),
            "victims[0].items.medical.amount",
        ),
        (lambda d: d["victims"][0]["items"].update(medical={}), "victims[0].items.medical"),
        (
            lambda d: d["victims"][0]["items"].update(medical={"bills": [{"amount": "x"}]}),
            "victims[0].items.medical.bills[0].amount",
        ),
        (
            lambda d: d["victims"][0]["items"].update(massage={"amount": "1"}),
            "victims[0].items.massage",
        ),
        (
            lambda d: d["victims"][0]["items"].update(nutrition={"days": 3}),
            "victims[0].items.nutrition.daily",
        ),
        (
            lambda d: d["victims"][0]["items"].update(lost_income={"days": 3}),
            "victims[0].items.lost_income",
        ),
        (
            lambda d: d["victims"][0]["items"].update(
                lost_income={"days": 3, "industry": "piracy"}
            ),
            "victims[0].items.lost_income.industry",
        ),
        (
            lambda d: d["victims"][0]["items"].update(lost_income={"days": -1, "daily": "1"}),
            "victims[0].items.lost_income.days",
        ),
        (
            lambda d: d["victims"][0]["items"].update(nursing=[{"years": 21, "annual": "1"}]),
            "victims[0].items.nursing[0].years",
        ),
        (lambda d: d["victims"][0]["items"].update(nursing=[]), "victims[0].items.nursing"),
        (
            lambda d: d["victims"][0]["items"].update(property=[{"amount": "1", "colour": "red"}]),
            "victims[0].items.property[0].colour",
        ),
        (
            lambda d: d["victims"][0]["items"].update(dependents_living=[{"age": 8}]),
            "victims[0].outcome",
        ),
        (
            lambda d: d["victims"][0]["items"].update(death_compensation={}),
            "victims[0].items.death_compensation",
        ),
        (lambda d: d["victims"][0].update(party="Z"), "victims[0].party"),
        (lambda d: d["victims"][0].pop("party"), "victims[0].party"),
        (lambda d: d["victims"][0].pop("id"), "victims[0].id"),
        (lambda d: d["victims"][0].update(outcome="disability"), "victims[0].disability_grades"),
        (
            lambda d: d["victims"][0].update(outcome="disability", disability_grades=[11]),
            "victims[0].disability_grades[0]",
        ),
        (lambda d: d["victims"][0].update(disability_grades=[3]), "victims[0].outcome"),
        (lambda d: d["victims"][0].update(outcome="death", age=None), "victims[0].age"),
        (lambda d: d["victims"][0].update(outcome="dead"), "victims[0].outcome"),
        (lambda d: d["victims"][0].update(age=131), "victims[0].age"),
        (lambda d: d["victims"].append(victim("v1", "A")), "victims[1].id"),
        (lambda d: d["parties"][1].update(kind="horse"), "parties[1].kind"),
        (lambda d: d["parties"][0].update(liability="most"), "parties[0].liability"),
        (lambda d: d["parties"][0].update(ratio="1.5"), "parties[0].ratio"),
        (lambda d: d["parties"][0].update(occupants=["nobody"]), "parties[0].occupants[0]"),
        (lambda d: d["parties"][0]["commercial"].pop("limit"), "parties[0].commercial.limit"),
        (lambda d: d["parties"][0]["ctpi"].update(insured="yes"), "parties[0].ctpi.insured"),
        (lambda d: d["parties"][1].update(ctpi={"insured": True}), "parties[1].ctpi"),
        (lambda d: d["parties"].append(walker("A")), "parties[2].id"),
    ],
)
def test_invalid_input_names_the_json_path(change: Any, path: str) -> None:
    error = invalid(_with(change))
    assert error.path == path
    assert error.code == "invalid_input"
    assert error.message.startswith(path)


def test_a_victims_grade_is_needed_against_two_other_parties() -> None:
    data = case(
        [victim(items={"appraisal_fee": {"amount": "100"}})],
        [vehicle("A", "main"), walker(liability=None), vehicle("B", "minor")],
    )
    assert invalid(data).path == "parties[1].liability"


def test_a_victims_missing_grade_is_the_complement_of_a_single_other_party() -> None:
    data = case(
        [victim(items={"appraisal_fee": {"amount": "100"}})],
        [vehicle("A", "main"), walker(liability=None)],
    )
    # A main → the pedestrian minor → bears 20 %
    assert assess(data)["victims"][0]["shares"] == {"self": "0.2", "A": "0.8"}


def test_an_occupant_who_is_also_a_party_is_invalid() -> None:
    data = case(
        [victim("v1", "P", items={"medical": {"amount": "1"}})],
        [vehicle(occupants=("v1",)), walker()],
    )
    assert invalid(data).path == "victims[0].party"


def test_the_input_must_be_an_object() -> None:
    error = invalid([1, 2])
    assert error.path == ""
    assert error.message == "应为一个对象 {…}"


def test_the_input_is_not_changed() -> None:
    data = copy.deepcopy(EXAMPLE)
    assess(data)
    assert data == EXAMPLE
