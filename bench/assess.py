"""Compensation engine speed: the median time of one `assess()` call.

Run by hand from the repository root, pinned to one core:
`taskset -c 0 .venv/bin/python -m bench.assess [--calls 2000] [--rounds 5]`

Two cases on the packaged standards: the INTERFACES.md §3 example (one victim with a disability,
eleven items and two dependents) and a three-victim, two-vehicle accident (a pedestrian killed
with dependents, the other vehicle's disabled driver, an occupant; shared 交强险 limits, an
uninsured vehicle, a commercial limit that runs out). For each it times `--calls` single calls,
`--rounds` times after a warm-up, and prints the median, the fastest and the slowest round's
median and calls per second. Targets: < 1 ms for one victim and < 3 ms for three, on one core.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from app.compensation import assess, packaged_catalog
from tests.test_compensation import EXAMPLE

THREE_VICTIMS: dict[str, Any] = {
    "accident_date": "2023-11-05",
    "jurisdiction": "shanxi",
    "options": {"share_rounding": "ratio_0.1pct", "dependents_cap": "plain"},
    "victims": [
        {
            "id": "v1",
            "name": "行人",
            "age": 58,
            "residence": "rural",
            "outcome": "death",
            "party": "P",
            "items": {
                "medical": {"bills": [{"amount": "12034.50"}, {"amount": "830.20"}]},
                "hospital_food": {"days": 4},
                "nursing": [{"days": 4, "daily": "150", "persons": 2}],
                "transport": {"amount": "1200"},
                "lodging": {"amount": "900"},
                "mental_distress": {"amount": "50000"},
                "dependents_living": [
                    {"age": 12, "supporters": 2},
                    {"age": 81, "supporters": 3},
                    {"years": 9, "supporters": 1, "consumption": "13684"},
                ],
                "property": [{"description": "手机", "amount": "2999"}],
            },
        },
        {
            "id": "v2",
            "name": "乙车驾驶人",
            "age": 66,
            "outcome": "disability",
            "disability_grades": [7, 9, 10],
            "party": "B",
            "items": {
                "medical": {"amount": "86420.17"},
                "future_medical": {"amount": "15000"},
                "rehabilitation": {"amount": "6000"},
                "lost_income": {"days": 180, "industry": "transport"},
                "nursing": [{"days": 60, "annual": "46909"}],
                "hospital_food": {"days": 45},
                "nutrition": {"days": 90, "daily": "30"},
                "assistive_devices": {"price": "2800", "count": 3},
                "dependents_living": [{"age": 75, "supporters": 2}],
                "mental_distress": {"amount": "20000"},
                "property": [
                    {"description": "车辆维修", "amount": "23800"},
                    {"description": "施救", "amount": "600"},
                ],
                "appraisal_fee": {"amount": "2600"},
            },
        },
        {
            "id": "v3",
            "name": "甲车乘车人",
            "age": 9,
            "outcome": "injury",
            "items": {
                "medical": {"amount": "7300.45"},
                "hospital_food": {"days": 12},
                "nursing": [{"days": 12, "daily": "180", "persons": 1}],
                "transport": {"amount": "150"},
            },
        },
    ],
    "parties": [
        {
            "id": "A",
            "kind": "vehicle",
            "plate": "晋J12345",
            "liability": "main",
            "ctpi": {"insurer": "人保吕梁", "insured": True},
            "commercial": {"insurer": "人保吕梁", "limit": "300000"},
            "occupants": ["v3"],
        },
        {"id": "B", "kind": "vehicle", "plate": "晋J54321", "liability": "minor"},
        {"id": "P", "kind": "pedestrian", "liability": "none"},
    ],
}

CASES: dict[str, tuple[dict[str, Any], float]] = {
    "1 victim, 1 vehicle": (EXAMPLE, 1.0),
    "3 victims, 2 vehicles": (THREE_VICTIMS, 3.0),
}


def time_calls(call: Callable[[], Any], calls: int) -> float:
    """The median time of one call, in ms, over `calls` separately timed calls."""
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    catalog = packaged_catalog()
    print(
        f"cores available to this process: {cores}; {args.rounds} rounds of {args.calls} "
        "calls after 200 warm-up calls"
    )
    print(
        f"{'case':22} {'median ms':>10} {'fastest':>8} {'slowest':>8} {'calls/s':>8} "
        f"{'target':>7}  met"
    )
    for name, (data, target_ms) in CASES.items():
        data = copy.deepcopy(data)
        result = assess(data, catalog)  # a valid case: fail loudly before timing
        assert len(result["victims"]) == len(data["victims"])

        def call(data: dict[str, Any] = data) -> Any:
            return assess(data, catalog)

        for _ in range(200):
            call()
        rounds = [time_calls(call, args.calls) for _ in range(args.rounds)]
        median = statistics.median(rounds)
        print(
            f"{name:22} {median:>10.3f} {min(rounds):>8.3f} {max(rounds):>8.3f} "
            f"{1000 / median:>8.0f} {target_ms:>5.1f}ms  {'yes' if median < target_ms else 'NO'}"
        )


if __name__ == "__main__":
    main()
