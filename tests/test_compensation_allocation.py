"""Issue 11: the allocation's second pass, each case computed by hand with its article.

Standards: Shanxi 2023 (U 41,327; C 24,524; on-post wage 97,315); 交强险 limits from 2020-09-19:
fault 180,000 / 18,000 / 2,000, no-fault 18,000 / 1,800 / 100 (DOMAIN.md §2.4, §4).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.compensation import InvalidInput, assess
from tests.test_compensation import case, invalid, paid, vehicle, victim, walker

FUND_BASIS = "《道路交通事故社会救助基金管理办法》（救助基金垫付抢救费用、丧葬费用并向责任人追偿）"


def items_of(result: dict[str, Any], victim_id: str, payer: str, bucket: str | None = None):
    """The items one payment pays: {code: amount}."""
    found = [
        p
        for p in result["payments"]
        if p["victim"] == victim_id and p["payer"] == payer and p.get("bucket") == bucket
    ]
    assert len(found) == 1, found
    return {row["code"]: row["amount"] for row in found[0]["items"]}


# -- 1. no-fault limits come from the police finding -----------------------------------------


def test_an_explicit_ratio_on_a_faultless_vehicle_keeps_the_no_fault_limits() -> None:
    items = {
        "medical": {"amount": "5000"},
        "mental_distress": {"amount": "30000"},
        "property": [{"amount": "500"}],
    }
    parties = [vehicle(liability="none", ratio="0.1"), walker(liability="full")]
    result = assess(case([victim(items=items)], parties))
    # The police found A without fault: the no-fault limits (DOMAIN.md §3.2), even though the
    # mediator set A's share at the "up to 10 %" of 道交法 art. 76.
    # Left: (5000 − 1800) + (30000 − 18000) + (500 − 100) = 15600; A 10 % = 1560, self 14040.
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "1800.00",
        ("v1", "ctpi:A", "death_disability"): "18000.00",
        ("v1", "ctpi:A", "property"): "100.00",
        ("v1", "party:A", None): "1560.00",
        ("v1", "self", None): "14040.00",
    }


def test_a_ratio_of_zero_on_a_vehicle_found_at_fault_keeps_the_full_limits() -> None:
    parties = [vehicle(liability="minor", ratio="0"), walker(liability="main", ratio="1")]
    result = assess(case([victim(items={"medical": {"amount": "5000"}})], parties))
    # A was found with minor liability: the fault limit 18000 covers the 5000 of medical costs.
    assert paid(result) == {("v1", "ctpi:A", "medical"): "5000.00"}


# -- 2. a capped 交强险 share passes to vehicles with room -------------------------------------


def test_a_capped_share_is_re_split_to_the_vehicle_with_room() -> None:
    victims = [
        victim("v1", "P1", items={"medical": {"amount": "10000"}}),
        victim("v2", None, items={"medical": {"amount": "30000"}}),
    ]
    parties = [
        vehicle("A", "main"),
        vehicle("B", "minor", occupants=("v2",)),
        walker("P1", liability="none"),
    ]
    result = assess(case(victims, parties))
    # 道交解释 art. 18: v1's 10000 among A and B by their limits 18000 : 18000 → 5000 each;
    # v2 rides in B, so only A covers v2 (交强险条例 art. 3): 30000 claimed from A.
    # A's claims 5000 + 30000 > 18000: art. 19 shares its limit 5000 : 30000 →
    #   v1 18000 × 5/35 = 2571.428… → 2571.43, v2 15428.57.
    # B grants v1's 5000; v1 still lacks 10000 − 2571.43 − 5000 = 2428.57, and B has room
    # (18000 − 5000): B pays it too → v1 fully paid by 交强险: A 2571.43, B 7428.57.
    # v2: 30000 − 15428.57 = 14571.43 by liability, A : B = 70 : 30 (vehicle weights; P1 none)
    #   A 10200.001 → 10200.00, B 4371.43.
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "2571.43",
        ("v1", "ctpi:B", "medical"): "7428.57",
        ("v2", "ctpi:A", "medical"): "15428.57",
        ("v2", "party:A", None): "10200.00",
        ("v2", "party:B", None): "4371.43",
    }
    basis = next(p["basis"] for p in result["payments"] if p["payer"] == "ctpi:B")
    assert "道交解释第十八条（各保险人在各自责任限额内赔偿" in basis


# -- 3. indirect losses stay outside 交强险 and, by default, commercial cover ------------------


@pytest.mark.parametrize(("covers", "expected"), [(False, "party:A"), (True, "commercial:A")])
def test_indirect_losses_are_paid_by_the_party_unless_the_policy_covers_them(
    covers: bool, expected: str
) -> None:
    items = {
        "property": [{"description": "车辆维修", "amount": "800"}],
        "indirect_property": [{"description": "营运车辆停运损失 10 天", "amount": "3000"}],
    }
    a = vehicle(commercial="1000000")
    a["commercial"]["covers_indirect"] = covers
    result = assess(case([victim(items=items)], [a, walker()]))
    # 交强险 pays the 800 of direct property loss (limit 2000); the 3000 停运损失 (道交解释 art.
    # 12 (3)) is no 交强险 item; A is fully liable, so its share is the whole 3000, which the
    # commercial insurer pays only when its policy covers indirect losses.
    assert paid(result) == {
        ("v1", "ctpi:A", "property"): "800.00",
        ("v1", expected, None): "3000.00",
    }
    assert items_of(result, "v1", expected) == {"indirect_property": "3000.00"}
    indirect = next(i for i in result["victims"][0]["items"] if i["code"] == "indirect_property")
    assert (indirect["bucket"], indirect["label"]) == ("none", "停运损失、替代性交通工具费用")


# -- 4. 交强险 item by item; 精神损害抚慰金 first; commercial exclusions ------------------------


@pytest.mark.parametrize("first", [False, True])
def test_ctpi_pays_item_by_item_and_mental_distress_first_on_request(first: bool) -> None:
    items = {
        "medical": {"amount": "5000"},
        "lost_income": {"amount": "150000"},
        "mental_distress": {"amount": "50000"},
    }
    a = vehicle(commercial="1000000")
    a["commercial"]["excluded_items"] = ["mental_distress"]
    result = assess(case([victim(items=items, ctpi_mental_distress_first=first)], [a, walker()]))
    payments = paid(result)
    assert payments[("v1", "ctpi:A", "medical")] == "5000.00"
    assert payments[("v1", "ctpi:A", "death_disability")] == "180000.00"
    if not first:
        # The d/d limit 180000 over 150000 : 50000 → 135000 and 45000; left 15000 of 误工费
        # (commercial pays) and 5000 of 精神损害抚慰金, which the policy excludes: A pays it.
        assert items_of(result, "v1", "ctpi:A", "death_disability") == {
            "lost_income": "135000.00",
            "mental_distress": "45000.00",
        }
        assert payments[("v1", "commercial:A", None)] == "15000.00"
        assert payments[("v1", "party:A", None)] == "5000.00"
        assert items_of(result, "v1", "party:A") == {"mental_distress": "5000.00"}
    else:
        # 道交解释 art. 13: the 50000 first, then 130000 of 误工费; the 20000 left of 误工费 is
        # covered by the commercial policy, and the party pays nothing.
        assert items_of(result, "v1", "ctpi:A", "death_disability") == {
            "lost_income": "130000.00",
            "mental_distress": "50000.00",
        }
        assert payments[("v1", "commercial:A", None)] == "20000.00"
        assert ("v1", "party:A", None) not in payments
        assert "道交解释第十三条" in next(
            p["basis"] for p in result["payments"] if p.get("bucket") == "death_disability"
        )


def test_an_unknown_excluded_item_is_named() -> None:
    a = vehicle(commercial="1000")
    a["commercial"]["excluded_items"] = ["mental"]
    error = invalid(case(parties=[a, walker()]))
    assert error.path == "parties[0].commercial.excluded_items[0]"


# -- 5. a decided amount needs no formula inputs ---------------------------------------------


def test_a_decided_disability_compensation_needs_no_grades() -> None:
    items = {"disability_compensation": {"amount": "82654"}}
    result = assess(case([victim(outcome="disability", items=items)]))
    assert result["victims"][0]["total"] == "82654.00"


def test_the_formula_asks_for_grades() -> None:
    error = invalid(case([victim(outcome="disability")]))
    assert error.path == "victims[0].disability_grades"
    assert "伤残等级" in error.problem


# -- 6. ratio rounding in every proportional split -------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "shares"),
    [
        # 18000 ÷ 3 exactly
        ("exact", ["6000.00", "6000.00", "6000.00"]),
        # 道交解释 art. 19 by ratios rounded to 1 %: 33 %, 33 % and the rest, 34 %, to the last
        ("ratio_1pct", ["5940.00", "5940.00", "6120.00"]),
        # to 0.1 %: 33.3 %, 33.3 %, 33.4 %
        ("ratio_0.1pct", ["5994.00", "5994.00", "6012.00"]),
    ],
)
def test_victims_shares_of_a_limit_are_rounded_like_ratios(rounding: str, shares: list) -> None:
    victims = [victim(f"v{i}", f"P{i}", items={"medical": {"amount": "10000"}}) for i in (1, 2, 3)]
    parties = [vehicle(), walker("P1"), walker("P2"), walker("P3")]
    result = assess(case(victims, parties, options={"share_rounding": rounding}))
    payments = paid(result)
    assert [payments[(f"v{i}", "ctpi:A", "medical")] for i in (1, 2, 3)] == shares


@pytest.mark.parametrize(
    ("rounding", "a", "b"),
    [
        ("exact", "10000.00", "1000.00"),  # 11000 × 10/11 and × 1/11
        ("ratio_1pct", "10010.00", "990.00"),  # 90.9… % → 91 %, 9 %
        ("ratio_0.1pct", "9999.00", "1001.00"),  # 90.9 %, 9.1 %
    ],
)
def test_vehicles_shares_of_a_loss_are_rounded_like_ratios(rounding: str, a: str, b: str) -> None:
    parties = [vehicle("A", "full"), vehicle("B", "none"), walker(liability="none")]
    data = case([victim(items={"medical": {"amount": "11000"}})], parties)
    data["options"] = {"share_rounding": rounding}
    payments = paid(assess(data))
    # 道交解释 art. 18: limits 18000 (A, at fault) : 1800 (B, no fault)
    assert (payments[("v1", "ctpi:A", "medical")], payments[("v1", "ctpi:B", "medical")]) == (a, b)


# -- 7. missing insurance data is not "uninsured" --------------------------------------------


def test_a_vehicle_without_ctpi_data_is_refused() -> None:
    error = invalid(case(parties=[vehicle(insured=None), walker()]))
    assert error.path == "parties[0].ctpi"
    assert "交强险投保情况不明" in error.problem


# -- 8. age at 定残 ---------------------------------------------------------------------------


def test_disability_years_count_from_the_age_at_the_rating() -> None:
    person = victim(
        outcome="disability",
        disability_grades=[10],
        birth_date="1963-03-01",
        appraised_on="2024-04-01",
    )
    del person["age"]
    result = assess(case([person]))
    # 人损解释 art. 12: 61 full years at 定残 (2024-04-01) → 80 − 61 = 19 years, not the 20
    # years of age 60 at the accident: 41327 × 19 × 10 % = 78521.30
    item = result["victims"][0]["items"][0]
    assert (item["code"], item["amount"]) == ("disability_compensation", "78521.30")
    assert "定残日 2024-04-01 61周岁" in item["formula"]


def test_a_rating_date_needs_the_birth_date() -> None:
    error = invalid(
        case([victim(outcome="disability", disability_grades=[10], appraised_on="2024-04-01")])
    )
    assert error.path == "victims[0].birth_date"


# -- 9 (part). a victim's higher home standard; 11 (part). rural consumption after 2022 ------


def test_a_victims_proven_higher_standard_replaces_u() -> None:
    person = victim(
        outcome="death",
        standards={"urban_disposable_income": "51821", "source": "经常居住地上海市 2023 年标准"},
    )
    result = assess(case([person]))
    # 人损解释 art. 18: 51821 × 20 = 1036420.00 instead of Shanxi's 41327 × 20
    item = next(i for i in result["victims"][0]["items"] if i["code"] == "death_compensation")
    assert item["amount"] == "1036420.00"
    assert "经常居住地上海市 2023 年标准" in item["formula"]


def test_a_higher_standard_needs_its_source() -> None:
    person = victim(outcome="death", standards={"urban_disposable_income": "51821"})
    assert invalid(case([person])).path == "victims[0].standards.source"


def test_a_per_dependent_consumption_after_2022_05_01_is_flagged() -> None:
    dependents = [{"age": 8, "supporters": 2, "consumption": "13684"}]
    result = assess(case([victim(outcome="death", items={"dependents_living": dependents})]))
    assert [w["code"] for w in result["warnings"]] == ["rural_dependent_consumption"]


# -- 12. drunk, drugged or unlicensed driving, intentional harm ------------------------------


def test_a_drunk_drivers_ctpi_pays_personal_injury_and_recovers_it() -> None:
    a = vehicle(commercial="1000000")
    a["misconduct"] = "drunk"
    items = {"medical": {"amount": "20000"}, "property": [{"amount": "3000"}]}
    result = assess(case([victim(items=items)], [a, walker()]))
    # 道交解释 art. 15; 交强险条例 art. 22: 交强险 pays the medical 18000 within its limit, no
    # property; the commercial clauses exclude drunk driving, so A pays 2000 + 3000 = 5000.
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "18000.00",
        ("v1", "party:A", None): "5000.00",
    }
    assert result["recoveries"] == [
        {
            "payer": "ctpi:A",
            "from": "party:A",
            "amount": "18000.00",
            "reason": "drunk",
            "reason_label": "醉酒驾驶",
            "basis": "道交解释第十五条；交强险条例第二十二条",
        }
    ]


# -- 13. hit-and-run: the social assistance fund advances ------------------------------------


def test_the_fund_advances_rescue_and_funeral_costs_of_a_hit_and_run() -> None:
    fled = {"id": "X", "kind": "vehicle", "liability": "full", "hit_and_run": True}
    person = victim(outcome="death", items={"medical": {"amount": "30000"}}, rescue_costs="12000")
    result = assess(case([person], [fled, walker()]))
    # Funeral 97315 ÷ 12 × 6 = 48657.50; death compensation 41327 × 20 = 826540.00; medical
    # 30000: total 905197.50, all owed by the fleeing party (no 交强险 known: art. 16).
    assert result["totals"] == {"party:X": "905197.50"}
    # The fund advances the 12000 rescue costs and the 48657.50 funeral costs and recovers them
    # from the party (《道路交通事故社会救助基金管理办法》).
    assert result["advances"] == [
        {
            "victim": "v1",
            "payer": "fund",
            "amount": "60657.50",
            "items": [
                {"code": "medical", "amount": "12000.00"},
                {"code": "funeral", "amount": "48657.50"},
            ],
            "recover_from": "party:X",
            "basis": FUND_BASIS,
        }
    ]


def test_rescue_costs_are_part_of_the_medical_costs() -> None:
    person = victim(items={"medical": {"amount": "3000"}}, rescue_costs="5000")
    assert invalid(case([person])).path == "victims[0].rescue_costs"


# -- 14. 好意同乘 and the victim's own fault --------------------------------------------------


def test_a_free_ride_reduces_the_drivers_share() -> None:
    rider = victim("v1", None, items={"medical": {"amount": "10000"}})
    rider["reduction"] = {"kind": "gratuitous_ride", "ratio": "0.2", "reason": "无偿搭乘"}
    result = assess(case([rider], [vehicle(occupants=("v1",))]))
    # v1 rides free in A (no other vehicle, so no 交强险 covers an occupant: art. 3); 民法典 art.
    # 1217: A's 100 % reduced by 20 % → A 8000, the passenger bears 2000.
    assert paid(result) == {("v1", "party:A", None): "8000.00", ("v1", "self", None): "2000.00"}
    assert result["victims"][0]["reduction"] == {
        "kind": "gratuitous_ride",
        "ratio": "0.2",
        "reason": "无偿搭乘",
    }
    assert "民法典第一千二百一十七条" in result["payments"][1]["basis"]


def test_the_victims_own_fault_reduces_the_liable_side_beyond_ctpi() -> None:
    person = victim(items={"medical": {"amount": "28000"}})
    person["reduction"] = {"kind": "victim_fault", "ratio": "0.1", "reason": "未走人行横道"}
    result = assess(case([person]))
    # 交强险 pays 18000 regardless of fault; the 10000 left: A 100 % × (1 − 10 %) = 9000,
    # the victim 1000 (民法典 art. 1173).
    assert paid(result) == {
        ("v1", "ctpi:A", "medical"): "18000.00",
        ("v1", "party:A", None): "9000.00",
        ("v1", "self", None): "1000.00",
    }


def test_ratios_that_do_not_add_up_point_to_the_reduction() -> None:
    parties = [vehicle(ratio="0.8"), walker(ratio="0.1")]
    assert "reduction" in invalid(case(parties=parties)).problem


def test_a_reduction_needs_a_reason() -> None:
    person = victim(reduction={"kind": "victim_fault", "ratio": "0.1"})
    with pytest.raises(InvalidInput) as caught:
        assess(case([person]))
    assert caught.value.path == "victims[0].reduction.reason"


# -- 15. passenger seat cover ----------------------------------------------------------------


def test_seat_cover_pays_the_vehicles_own_occupants_up_to_the_seat_limit() -> None:
    victims = [
        victim("o1", None, items={"medical": {"amount": "20000"}}),
        victim("o2", None, items={"medical": {"amount": "5000"}}),
    ]
    a = vehicle("A", "full", commercial="1000000", occupants=("o1", "o2"))
    a["seat_cover"] = {"insurer": "人保吕梁", "limit_per_seat": "10000"}
    result = assess(case(victims, [a, vehicle("B", "none")]))
    # B (no fault) covers A's occupants with its no-fault medical limit 1800, shared 20000 :
    # 5000 → 1440 and 360 (art. 19). The rest is A's (full; B none): o1 18560, o2 4640.
    # A's commercial cover does not pay its own occupants; its seat cover pays each up to
    # 10000: o1 10000 (A pays 8560), o2 4640.
    assert paid(result) == {
        ("o1", "ctpi:B", "medical"): "1440.00",
        ("o1", "seat:A", None): "10000.00",
        ("o1", "party:A", None): "8560.00",
        ("o2", "ctpi:B", "medical"): "360.00",
        ("o2", "seat:A", None): "4640.00",
    }


# -- every payment names its items -----------------------------------------------------------


def test_each_payments_items_add_up_to_it_and_to_each_item() -> None:
    items = {
        "medical": {"amount": "25000"},
        "lost_income": {"amount": "7300"},
        "mental_distress": {"amount": "10000"},
        "property": [{"amount": "4000"}],
        "appraisal_fee": {"amount": "900"},
    }
    parties = [vehicle(liability="main", commercial="50000"), walker(liability="minor")]
    result = assess(case([victim(items=items)], parties))
    per_item: dict[str, Decimal] = {}
    for payment in result["payments"]:
        rows = {r["code"]: Decimal(r["amount"]) for r in payment["items"]}
        assert sum(rows.values()) == Decimal(payment["amount"])
        for code, value in rows.items():
            per_item[code] = per_item.get(code, Decimal(0)) + value
    assert {c: str(v) for c, v in per_item.items()} == {
        i["code"]: i["amount"] for i in result["victims"][0]["items"]
    }
