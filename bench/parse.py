"""Accident-report parsing speed: `parse_report` against bare pdfplumber on the same files.

Run by hand from the repository root, pinned to one core:
`taskset -c 0 .venv/bin/python -m bench.parse [--runs 50] [--variant general_table] [--seed 3]`

For each generated report it times, over `--runs` runs after a warm-up, (a) `parse_report` and
(b) bare pdfplumber: `extract_text()` and `extract_tables()` on every page. Runs alternate
between the two so that load from other processes hits both alike. It prints the median ms of
each, their ratio and reports per second (1000 / median of parse_report). Targets: ratio ≤ 1.5
and ≥ 20 reports/s on one core for a two-page report.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

import pdfplumber

from app.reports import parse_report
from app.reports.layout import read_layout
from tests.reports.generator import VARIANTS, make_report


def bare_pdfplumber(data: bytes) -> None:
    """What a straightforward pdfplumber reader does: all text and all tables of every page."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()
            page.extract_tables()


def page_count(data: bytes) -> int:
    """Number of pages of the PDF."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def measure(data: bytes, runs: int, warmup: int = 5) -> tuple[list[float], list[float]]:
    """Alternating timings (ms) of parse_report and bare pdfplumber on `data`."""
    for _ in range(warmup):
        parse_report(data)
        bare_pdfplumber(data)
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        parse_report(data)
        ours.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        bare_pdfplumber(data)
        bare.append((time.perf_counter() - started) * 1000)
    return ours, bare


def main() -> None:
    """Time every variant and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--variant", choices=VARIANTS, action="append")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"cores available to this process: {cores}; {args.runs} runs after 5 warm-up runs")
    print(
        f"{'variant':15} {'pages':>5} {'chars':>6} {'parse ms':>9} {'min':>6} "
        f"{'pdfplumber ms':>14} {'ratio':>6} {'reports/s':>10}"
    )
    two_page: list[tuple[float, float]] = []
    for variant in args.variant or VARIANTS:
        data, _ = make_report(variant, args.seed)
        chars = len(read_layout(data).boxes)  # characters drawn on the pages
        ours, bare = measure(data, args.runs)
        ours_ms, bare_ms = statistics.median(ours), statistics.median(bare)
        pages = page_count(data)
        if pages == 2:
            two_page.append((ours_ms, bare_ms))
        print(
            f"{variant:15} {pages:>5} {chars:>6} {ours_ms:>9.1f} {min(ours):>6.1f} "
            f"{bare_ms:>14.1f} {ours_ms / bare_ms:>6.2f} {1000 / ours_ms:>10.1f}"
        )
    if two_page:
        ours_ms = statistics.median(o for o, _ in two_page)
        bare_ms = statistics.median(b for _, b in two_page)
        print(
            f"two-page reports: parse {ours_ms:.1f} ms, pdfplumber {bare_ms:.1f} ms, "
            f"ratio {ours_ms / bare_ms:.2f}, {1000 / ours_ms:.1f} reports/s"
        )


if __name__ == "__main__":
    main()
