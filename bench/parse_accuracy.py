"""Parser accuracy on a folder of letters with expected answers.

Run by hand or from .ci/run: `.venv/bin/python -m bench.parse_accuracy DIR [--check] [--json]`.

Every `NAME.pdf` in DIR that has a `NAME.expected.json` beside it is read with `daojiao parse`
(in this process, through the same isolated child as the command) and compared field by field
with the expected answer, following the conventions of the corpus README: the document fields
and, for each party in the letter's order, the party fields. A field is

* right when the value read equals the expected one (`facts` and `liability_text` compared
  without whitespace);
* wrong when a value was read that differs from the expected one (including a value where the
  expected answer is null) — a wrong value is worse than an empty one;
* missed when nothing was read where a value was expected.

Fields where both are null are not counted. A scan is a file whose output says `"source": "ocr"`.
It prints a per-file and a per-field table and the totals; with `--check` it exits 1 when any
value is wrong, when fewer than 98 % of the text letters' fields or fewer than 90 % of the scans'
fields are right, or when a letter with an answer cannot be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from app.reports import PARTY_FIELDS, ReportError, parse_isolated

DOC_FIELDS = (
    "document_no",
    "issuer",
    "procedure",
    "accident_time",
    "location",
    "weather",
    "issue_date",
    "facts",
    "liability_text",
)
SQUEEZED = frozenset(("facts", "liability_text"))
TEXT_TARGET = 0.98
SCAN_TARGET = 0.90


def _same(field: str, got: object, want: object) -> bool:
    if field in SQUEEZED and isinstance(got, str) and isinstance(want, str):
        return "".join(got.split()) == "".join(want.split())
    return got == want


def compare(got: dict, want: dict) -> list[tuple[str, str, object, object]]:
    """(field, verdict, got, want) for every counted field; verdict: right / wrong / missed."""
    pairs: list[tuple[str, object, object]] = [
        (name, got.get(name), want.get(name)) for name in DOC_FIELDS
    ]
    got_parties = got.get("parties") or []
    want_parties = want.get("parties") or []
    for index in range(max(len(got_parties), len(want_parties))):
        mine = got_parties[index] if index < len(got_parties) else {}
        theirs = want_parties[index] if index < len(want_parties) else {}
        fields = [name for name in PARTY_FIELDS if name in theirs or name in mine]
        pairs.extend((f"parties.{name}", mine.get(name), theirs.get(name)) for name in fields)
    verdicts = []
    for name, mine, theirs in pairs:
        if mine is None and theirs is None:
            continue
        if mine is None:
            verdict = "missed"
        elif _same(name.rsplit(".", 1)[-1], mine, theirs):
            verdict = "right"
        else:
            verdict = "wrong"
        verdicts.append((name, verdict, mine, theirs))
    return verdicts


def main(argv: list[str] | None = None) -> int:
    """Compare every letter of DIR with its answer and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 below the targets")
    parser.add_argument("--verbose", action="store_true", help="print every wrong or missed field")
    args = parser.parse_args(argv)

    files = sorted(p for p in args.folder.glob("*.pdf") if p.with_suffix(".expected.json").exists())
    if not files:
        print(f"no letters with answers in {args.folder}", file=sys.stderr)
        return 2
    totals = {"text": Counter(), "ocr": Counter()}
    per_field: dict[str, Counter] = {}
    failures = []
    print(f"{'file':<52} {'src':<4} {'right':>5} {'wrong':>5} {'missed':>6} {'secs':>6}")
    for path in files:
        want = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
        started = time.perf_counter()
        try:
            got = parse_isolated(path.read_bytes(), timeout=300)
        except ReportError as exc:
            failures.append(f"{path.name}: {exc.code} {exc.message}")
            print(f"{path.name:<52} ---- unread: {exc.code}")
            continue
        seconds = time.perf_counter() - started
        source = got.get("source", "text")
        counts = Counter()
        for name, verdict, mine, theirs in compare(got, want):
            counts[verdict] += 1
            per_field.setdefault(name, Counter())[verdict] += 1
            if args.verbose and verdict != "right":
                print(f"    {verdict:<6} {name}: got {mine!r} want {theirs!r}")
        totals[source].update(counts)
        totals[source]["files"] += 1
        print(
            f"{path.name:<52} {source:<4} {counts['right']:>5} {counts['wrong']:>5} "
            f"{counts['missed']:>6} {seconds:>6.2f}"
        )
    print()
    print(f"{'field':<28} {'right':>5} {'wrong':>5} {'missed':>6}")
    for name in sorted(per_field):
        c = per_field[name]
        print(f"{name:<28} {c['right']:>5} {c['wrong']:>5} {c['missed']:>6}")
    print()
    ok = not failures
    for source, target in (("text", TEXT_TARGET), ("ocr", SCAN_TARGET)):
        c = totals[source]
        checked = c["right"] + c["wrong"] + c["missed"]
        share = c["right"] / checked if checked else 1.0
        print(
            f"{source}: {c['files']} files, {c['right']} of {checked} fields right "
            f"({share:.1%}), {c['wrong']} wrong values, {c['missed']} missed"
        )
        if c["wrong"] or share < target:
            ok = False
    for failure in failures:
        print(f"not read: {failure}")
    if args.check and not ok:
        print("parser accuracy below target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
