"""Which rules an assessment applies: the standards year by the day they apply (`as_of`), the
warnings when they are old or not in force, the law version and its re-run, the per-grade
addition of several disabilities as a jurisdiction setting (issue 11, points 9–11).

Figures by hand (DOMAIN.md §4, Shanxi): U 2023 = 41,327 (released 2024-02-22), U 2022 = 39,532
(no release date recorded: treated as in force from 2023-01-01, until 2024-02-21). A victim of 35
gets 20 years (人损解释 art. 12; DOMAIN.md §2.1); grade X alone is 10 % (DOMAIN.md §2.2).
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.compensation import InvalidInput, assess, catalog, packaged_catalog
from app.compensation.catalog import Catalog, CatalogError, StandardSet
from app.compensation.rules import chosen_standards_year
from app.db import session, utcnow
from app.errors import ValidationFailed
from app.models import Assessment, MediationSession
from app.services import assessments, tribunal
from tests.test_assessments import CLAIMS, Centre, put_claims


def case(*grades: int, **extra: Any) -> dict[str, Any]:
    """A pedestrian of 35 with disability `grades` (default X), hit by a fully liable car."""
    return {
        "accident_date": "2023-11-05",
        "jurisdiction": "shanxi",
        "victims": [
            {
                "id": "v1",
                "age": 35,
                "party": "P",
                "outcome": "disability",
                "disability_grades": list(grades or (10,)),
                "items": {},
            }
        ],
        "parties": [
            {
                "id": "A",
                "kind": "vehicle",
                "liability": "full",
                "ctpi": {"insurer": "人保吕梁", "insured": True},
            },
            {"id": "P", "kind": "pedestrian", "liability": "none"},
        ],
        **extra,
    }


def compensation(result: dict[str, Any]) -> str:
    items = {i["code"]: i["amount"] for i in result["victims"][0]["items"]}
    return items["disability_compensation"]


def codes(result: dict[str, Any]) -> list[str]:
    return [warning["code"] for warning in result["warnings"]]


def shanxi(year: int) -> StandardSet:
    standard = packaged_catalog().standard_set("shanxi", year)
    assert standard is not None
    return standard


# -- the standards year by the day the figures apply (人损解释 art. 22) ----------------------


def test_without_dates_a_set_applies_from_the_first_of_january_after_its_year() -> None:
    # The documented assumption for sets whose release is not recorded (DOMAIN.md §4 gives none).
    assert shanxi(2022).in_force_from() == date(2023, 1, 1)
    assert packaged_catalog().standard_set("national", 2023).in_force_from() == date(2024, 1, 1)
    assert shanxi(2023).in_force_from() == date(2024, 2, 22)  # the NBS Shanxi release
    assert shanxi(2022).in_force_on(date(2024, 2, 21))  # valid_to is inclusive
    assert not shanxi(2022).in_force_on(date(2024, 2, 22))
    assert not shanxi(2022).in_force_on(date(2022, 12, 31))


@pytest.mark.parametrize(
    ("as_of", "year", "expected"),
    [
        ("2023-06-01", 2022, "79064.00"),  # 39532 × 20 × 10 %: 2022 is the year before
        ("2024-02-21", 2022, "79064.00"),  # the 2023 figures are not out yet
        ("2024-02-22", 2023, "82654.00"),  # 41327 × 20 × 10 %: released that day
        ("2024-12-31", 2023, "82654.00"),
    ],
)
def test_as_of_picks_the_newest_figures_in_force_that_day(
    as_of: str, year: int, expected: str
) -> None:
    result = assess(case(as_of=as_of))
    assert result["rule_set"]["standards_year"] == year
    assert compensation(result) == expected


def test_figures_of_the_year_before_as_of_come_without_warning() -> None:
    assert assess(case(as_of="2024-03-01"))["warnings"] == []
    assert assess(case(as_of="2023-06-01"))["warnings"] == []  # 2022 = 2023 − 1


def test_figures_older_than_the_year_before_as_of_are_flagged_stale() -> None:
    # 2024-02-21: the 2023 figures (the year before) are not published yet → 2022, flagged.
    early = assess(case(as_of="2024-02-21"))
    assert codes(early) == ["stale_standards"]
    assert "2022 年度人身损害赔偿标准" in early["warnings"][0]["message"]
    assert "（2023 年）" in early["warnings"][0]["message"]
    # 2025-06-01: the newest figures on record are 2023's, the year before is 2024.
    late = assess(case(as_of="2025-06-01"))
    assert late["rule_set"]["standards_year"] == 2023
    assert codes(late) == ["stale_standards"]
    assert "调解或审理日（2025-06-01）" in late["warnings"][0]["message"]
    assert "《山西省 2023 年度人身损害赔偿标准》" in late["warnings"][0]["message"]
    assert "（2024 年）" in late["warnings"][0]["message"]


def test_without_as_of_the_newest_year_applies_and_staleness_is_judged_by_the_accident() -> None:
    assert assess(case())["rule_set"]["standards_year"] == 2023
    assert assess(case())["warnings"] == []  # accident 2023-11-05: 2023 ≥ 2022
    # An accident of 2025-03-01 is settled in 2025 at the earliest: 2023 < 2024 is stale.
    result = assess(case(accident_date="2025-03-01"))
    assert result["rule_set"]["standards_year"] == 2023
    assert codes(result) == ["stale_standards"]
    assert "事故日期（2025-03-01，未给出调解或审理日）" in result["warnings"][0]["message"]


def test_a_year_asked_for_but_not_in_force_on_as_of_is_applied_with_a_warning() -> None:
    result = assess(case(as_of="2024-03-01", standards_year=2022))
    assert compensation(result) == "79064.00"  # 39532 × 20 × 10 %: still what was asked
    # 2022's figures ended 2024-02-21; and 2022 is older than 2023, the year before as_of.
    assert codes(result) == ["standards_not_in_force", "stale_standards"]
    assert "2023-01-01 至 2024-02-21" in result["warnings"][0]["message"]
    assert "按统计年度次年 1 月 1 日起推定" in result["warnings"][0]["message"]
    assert assess(case(as_of="2023-06-01", standards_year=2022))["warnings"] == []


def test_before_any_figures_apply_as_of_is_refused_unless_a_year_is_asked_for() -> None:
    with pytest.raises(InvalidInput) as caught:
        assess(case(as_of="2022-12-31"))
    assert caught.value.path == "as_of"
    assert "standards_year" in caught.value.message
    assert "2022 年度（2023-01-01 至 2024-02-21" in caught.value.message
    asked = assess(case(as_of="2022-12-31", standards_year=2022))
    assert codes(asked) == ["standards_not_in_force"]  # 2022 ≥ 2021: not stale


def with_sets(*sets: StandardSet) -> Catalog:
    return packaged_catalog().with_standard_sets(list(sets))


def test_figures_an_admin_dated_later_are_not_applied_before_that_day() -> None:
    later = replace(
        shanxi(2023),
        year=2024,
        figures={**shanxi(2023).figures, "urban_disposable_income": "50000"},
        published_on="2025-02-20",
        valid_from="2025-02-20",
        origin="edited:1.1",
    )
    result = assess(case(as_of="2025-02-19"), with_sets(later))
    assert result["rule_set"]["standards_year"] == 2023
    assert codes(result) == ["stale_standards"]
    result = assess(case(as_of="2025-02-20"), with_sets(later))
    assert compensation(result) == "100000.00"  # 50000 × 20 × 10 %
    assert result["warnings"] == []


def test_when_every_set_has_ended_the_newest_published_applies_with_a_warning() -> None:
    ended = replace(shanxi(2023), valid_to="2024-12-31")
    result = assess(case(as_of="2025-03-01"), with_sets(ended))
    assert result["rule_set"]["standards_year"] == 2023
    assert codes(result) == ["standards_not_in_force", "stale_standards"]


def test_the_year_chosen_is_the_one_the_app_stores_and_pins() -> None:
    assert chosen_standards_year(case(as_of="2024-02-21"), packaged_catalog()) == 2022
    assert chosen_standards_year(case(as_of="2024-02-22"), packaged_catalog()) == 2023
    assert chosen_standards_year(case(as_of="2022-01-01"), packaged_catalog()) is None


def test_standards_ending_before_they_start_are_a_data_error() -> None:
    with pytest.raises(CatalogError, match="shanxi 2023"):
        replace(shanxi(2023), valid_to="2024-02-21").check()
    with pytest.raises(CatalogError, match="shanxi 2022"):
        replace(shanxi(2022), valid_to="2022-12-31").check()  # before the assumed 2023-01-01
    with pytest.raises(CatalogError):
        replace(shanxi(2022), valid_from="2023-02-30").check()
    assert replace(shanxi(2022), valid_to="2023-01-01").check().valid_to == "2023-01-01"


# -- the packaged data files, loaded and checked -------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the packaged data files that `packaged_catalog()` loads instead."""
    copied = tmp_path / "data"
    shutil.copytree(Path(catalog.__file__).parent / "data", copied)
    monkeypatch.setattr(catalog, "_data", lambda: copied)
    monkeypatch.setattr(catalog, "_PACKAGED", None)
    return copied


def edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_the_copied_data_loads_as_the_packaged_catalog(data_copy: Path) -> None:
    loaded = catalog.packaged_catalog()
    assert loaded.law_versions() == ["1", loaded.law_version]
    assert set(loaded.past_jurisdictions["1"]) == {"national", "shanxi"}


def test_tables_of_an_unknown_law_version_stop_the_catalog_from_loading(data_copy: Path) -> None:
    shutil.copytree(
        data_copy / "jurisdiction_history" / "1", data_copy / "jurisdiction_history" / "5"
    )
    with pytest.raises(CatalogError, match="no law version 5"):
        catalog.packaged_catalog()


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        (
            "standards/shanxi-2022.json",
            lambda d: d.update(valid_from="2024-03-01"),
            "before the figures start",
        ),
        ("jurisdictions/shanxi.json", lambda d: d.pop("version"), "has no version"),
        (
            "jurisdictions/shanxi.json",
            lambda d: d["additional_disability"].update(variant="half"),
            "not one of its variants",
        ),
        ("law_history/1.json", lambda d: d.update(version="7"), "holds law version 7"),
        ("law.json", lambda d: d.pop("version"), "law.json has no version"),
        ("law.json", lambda d: d.update(version="1"), "raise law.json's version"),
    ],
)
def test_contradictory_data_files_stop_the_catalog_from_loading(
    data_copy: Path, file: str, change: Any, message: str
) -> None:
    edit(data_copy / file, change)
    with pytest.raises(CatalogError, match=message):
        catalog.packaged_catalog()


# -- law versions (re-running on the rules an assessment used) -----------------------------


def test_a_new_assessment_records_the_current_law_and_table_versions() -> None:
    current = packaged_catalog()
    rule_set = assess(case())["rule_set"]
    assert rule_set["law"]["version"] == current.law_version != "1"
    assert rule_set["jurisdiction_version"] == current.jurisdictions["shanxi"]["version"] == "2"
    assert assess(case(law_version=current.law_version))["rule_set"] == rule_set


def test_law_version_1_applies_the_rules_as_first_published() -> None:
    result = assess(case(4, 10, 10, 10, law_version="1"))
    rule_set = result["rule_set"]
    assert rule_set["law"]["version"] == "1"
    assert rule_set["jurisdiction_version"] == "1"
    # Version 1 cited the former standard; its one table is the DOMAIN.md §2.2 common one.
    assert rule_set["tables"]["additional_disability"]["basis"] == "GB 18667-2002 附录B"
    assert rule_set["law"]["sha256"] != assess(case())["rule_set"]["law"]["sha256"]
    # (11 − 4) × 10 % + 3 × Ia(X) 2 % = 76 %; 41327 × 20 × 76 % = 628170.40
    assert compensation(result) == "628170.40"


def test_law_version_1_is_the_file_first_committed() -> None:
    law = packaged_catalog().laws["1"]
    assert law["version"] == "1"
    assert law["years_by_age"]["full"] == 20
    assert law["items"]["disability_compensation"]["basis"] == "人损解释第十二条"


def test_an_assessment_re_runs_exactly_after_the_law_changes() -> None:
    before = packaged_catalog()
    stored = assess(case(law_version=before.law_version))
    # A new version of the national rules (here, a made-up 25 years under 60) becomes current.
    changed = copy.deepcopy(before.law)
    changed["version"] = "99"
    changed["years_by_age"]["full"] = 25
    after = replace(before, law=changed, laws={**before.laws, "99": changed})
    assert compensation(assess(case(), after)) == "103317.50"  # 41327 × 25 × 10 %
    assert assess(case(law_version=before.law_version), after) == stored  # 82654.00 again


def test_a_past_version_without_its_own_tables_kept_the_next_ones() -> None:
    current = packaged_catalog()
    old_tables = current.past_jurisdictions["1"]
    law_3 = {**current.law, "version": "3"}
    later = replace(current, law=law_3, laws={**current.laws, "3": law_3})
    # Version 2 has no folder of tables: its tables are the current ones (unchanged since).
    assert later.release("2") == (current.law, current.jurisdictions)
    assert later.release("1") == (current.laws["1"], old_tables)
    assert later.release(None) == (law_3, current.jurisdictions)
    assert later.release("4") is None


def test_an_unknown_law_version_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as caught:
        assess(case(law_version="0"))
    assert caught.value.path == "law_version"
    assert f"1、{packaged_catalog().law_version}" in caught.value.message


def test_a_jurisdiction_missing_from_a_past_version_is_refused() -> None:
    old = packaged_catalog()
    past = {"1": {"national": old.past_jurisdictions["1"]["national"]}}
    with pytest.raises(InvalidInput) as caught:
        assess(case(law_version="1"), replace(old, past_jurisdictions=past))
    assert caught.value.path == "jurisdiction"


# -- the additional disability as a jurisdiction setting (DOMAIN.md §2.2) -------------------


def with_variant(variant: str) -> Catalog:
    current = packaged_catalog()
    tables = copy.deepcopy(current.jurisdictions)
    tables["shanxi"]["additional_disability"]["variant"] = variant
    return replace(current, jurisdictions=tables)


def test_the_tables_cite_the_grading_standard_in_force() -> None:
    for table in packaged_catalog().jurisdictions.values():
        setting = table["additional_disability"]
        assert "《人体损伤致残程度分级》（2017 年 1 月 1 日起施行" in setting["basis"]
        assert "GB 18667-2002 附录B" not in setting["basis"]
        assert setting["variant"] == "common"
        assert set(setting["variants"]) == {"common", "grade_x_1pct"}
        assert "grade_x_1pct" in setting["note"]


@pytest.mark.parametrize(
    ("grades", "common", "one_percent"),
    [
        # (11 − 4) × 10 % + 3 × 2 % = 76 % | + 3 × 1 % = 73 %; × 41327 × 20 = 826540
        ((4, 10, 10, 10), "628170.40", "603374.20"),
        # 20 % + 2 % = 22 % | 20 % + 1 % = 21 %
        ((9, 10), "181838.80", "173573.40"),
        # 60 % + Ia(VI) 6 % = 66 % under both: only grade X differs
        ((5, 6), "545516.40", "545516.40"),
    ],
)
def test_the_jurisdiction_chooses_the_addition_for_each_further_grade_x(
    grades: tuple[int, ...], common: str, one_percent: str
) -> None:
    default = assess(case(*grades))
    assert compensation(default) == common
    assert default["rule_set"]["tables"]["additional_disability"]["variant"] == "common"
    varied = assess(case(*grades), with_variant("grade_x_1pct"))
    assert compensation(varied) == one_percent
    chosen = varied["rule_set"]["tables"]["additional_disability"]
    assert chosen["variant"] == "grade_x_1pct"
    assert chosen["table"]["10"] == "0.01"
    assert "variants" not in chosen  # the rule set shows the table applied, not the options
    if common != one_percent:
        assert varied["rule_set"]["fingerprint"] != default["rule_set"]["fingerprint"]


# -- the app: as_of and the law version of stored assessments ------------------------------


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def test_as_of_is_today_in_beijing_without_a_mediation_session(app: Flask, centre: Centre) -> None:
    data = assessments.build_input(centre.case, CLAIMS)
    assert data["as_of"] == utcnow().astimezone(assessments.BEIJING).date().isoformat()


def test_as_of_is_the_day_of_the_last_mediation_session_in_beijing(
    app: Flask, centre: Centre
) -> None:
    for starts_at in (datetime(2024, 1, 10, 2, tzinfo=UTC), datetime(2024, 2, 21, 17, tzinfo=UTC)):
        session.add(
            MediationSession(
                case_id=centre.case.id, starts_at=starts_at, created_by_id=centre.mediator.id
            )
        )
    session.flush()
    data = assessments.build_input(centre.case, CLAIMS)
    assert data["as_of"] == "2024-02-22"  # 17:00 UTC on the 21st is 01:00 on the 22nd in Beijing
    result = assess(data, packaged_catalog())
    assert result["rule_set"]["standards_year"] == 2023  # released on 2024-02-22


def test_a_stored_assessment_keeps_what_it_needs_to_re_run_exactly(
    app: Flask, centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.add(
        MediationSession(
            case_id=centre.case.id,
            starts_at=datetime(2024, 2, 20, 2, tzinfo=UTC),
            created_by_id=centre.mediator.id,
        )
    )
    session.commit()
    assert put_claims(app, centre.mediator, centre.case.id, CLAIMS).status_code == 202
    stored = session.scalars(select(Assessment)).one()
    request = stored.input["request"]
    current = packaged_catalog()
    assert request["as_of"] == "2024-02-20"
    assert request["standards_year"] == 2022  # chosen by as_of, then pinned
    assert stored.input["standard_set"]["year"] == 2022  # the snapshot is the year applied
    assert request["law_version"] == current.law_version
    assert stored.result["rule_set"]["law"]["version"] == current.law_version
    assert codes(stored.result) == ["stale_standards"]  # 2022 < 2023
    # The law changes: a new current version; the stored assessment still re-runs exactly.
    changed = copy.deepcopy(current.law)
    changed["version"] = "99"
    changed["years_by_age"]["full"] = 25
    monkeypatch.setattr(
        catalog, "_PACKAGED", replace(current, law=changed, laws={**current.laws, "99": changed})
    )
    assert assessments.reassess(stored) == stored.result
    assert assessments.is_reproducible(stored)


# -- judicial confirmation: the catch-all ground of 民诉解释 art. 358 ------------------------


def test_other_is_a_rejection_ground_that_needs_its_reason(app: Flask) -> None:
    from blueprints.tribunal import GROUND_LABELS

    assert tribunal.REJECTION_GROUNDS["other"] == "其他不能进行司法确认的情形"
    grounds, reason, _ = tribunal._check_rejection(
        ["other", "unclear"], "协议未附清单", "mediation"
    )
    assert grounds == ["unclear", "other"]
    assert reason == "协议未附清单"
    with pytest.raises(ValidationFailed) as caught, app.test_request_context():
        tribunal._check_rejection(["other"], "  ", "mediation")
    assert caught.value.details["field"] == "reason"
    assert set(GROUND_LABELS) == set(tribunal.REJECTION_GROUNDS)
    with app.test_request_context():
        assert str(GROUND_LABELS["other"]) == "其他"
