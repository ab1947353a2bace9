"""Letter-reading speed: `parse_report` beside bare pdfplumber `extract_text()` on the same files.

Run by hand from the repository root, pinned to one core:
`taskset -c 0 .venv/bin/python -m bench.parse [--runs 20] [--dir ../shared/corpus/reports]`

It times, over `--runs` runs after a warm-up, (a) `parse_report` (text layer or OCR) and (b) bare
pdfplumber: `extract_text()` on every page, alternating the two so that load from other
processes hits both alike, on each generated letter variant and, with `--dir`, on every PDF of
that folder (scans included, with `--scan-runs` runs: OCR takes seconds a page). It prints the
median ms of each and their ratio. Targets (issue 10): a two-page text letter ≤ 0.5 s median on
one core; a two-page 200-dpi scan ≤ 30 s.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import time
from pathlib import Path

import pdfplumber

from app.reports import parse_report
from tests.reports.generator import VARIANTS, make_report

logging.getLogger("pdfminer").setLevel(logging.ERROR)


def bare_pdfplumber(data: bytes) -> None:
    """What a straightforward pdfplumber reader does: the text of every page."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()


def page_count(data: bytes) -> int:
    """Number of pages of the PDF."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def measure(data: bytes, runs: int, warmup: int) -> tuple[list[float], list[float], str]:
    """Alternating timings (ms) of parse_report and bare pdfplumber on `data`, and the source."""
    source = "text"
    for _ in range(warmup):
        source = parse_report(data).get("source", "text")
        bare_pdfplumber(data)
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        source = parse_report(data).get("source", "text")
        ours.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        bare_pdfplumber(data)
        bare.append((time.perf_counter() - started) * 1000)
    return ours, bare, source


def main() -> None:
    """Time every variant (and every file of --dir) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--scan-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--variant", choices=VARIANTS, action="append")
    parser.add_argument("--dir", type=Path, help="also time every PDF of this folder")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"cores available to this process: {cores}; {args.runs} runs after warm-up")
    print(
        f"{'letter':44} {'src':4} {'pages':>5} {'parse ms':>9} {'min':>8} "
        f"{'extract_text ms':>16} {'ratio':>6}"
    )
    files = [
        (f"generated {v} seed {args.seed}", make_report(v, args.seed)[0])
        for v in (args.variant or VARIANTS)
    ]
    if args.dir:
        files += [(path.name, path.read_bytes()) for path in sorted(args.dir.glob("*.pdf"))]
    two_page: dict[str, list[float]] = {"text": [], "ocr": []}
    for name, data in files:
        quick = parse_report(data).get("source", "text") == "text"
        runs, warmup = (args.runs, 3) if quick else (args.scan_runs, 0)
        ours, bare, source = measure(data, runs, warmup)
        ours_ms, bare_ms = statistics.median(ours), statistics.median(bare)
        pages = page_count(data)
        if pages == 2:
            two_page[source].append(ours_ms)
        print(
            f"{name[:44]:44} {source:4} {pages:>5} {ours_ms:>9.1f} {min(ours):>8.1f} "
            f"{bare_ms:>16.1f} {ours_ms / bare_ms:>6.2f}"
        )
    for source, times in two_page.items():
        if times:
            print(f"two-page {source} letters: median {statistics.median(times):.1f} ms")


if __name__ == "__main__":
    main()
