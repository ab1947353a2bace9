"""The synthetic letters of tests/reports/generator.py: every value the expected answer holds is
really printed in the PDF (as pdfplumber reads it), the quirks the variants promise show up, and
a seed always gives the same bytes."""

from __future__ import annotations

import io
import logging
import re

import pdfplumber
import pytest

from tests.reports.generator import (
    BAD_CODES,
    OFFICIAL_VARIANTS,
    RADICALS,
    VARIANTS,
    fold_radicals,
    make_bad,
    make_report,
    make_scan,
)

logging.getLogger("pdfminer").setLevel(logging.ERROR)

ALL_SEEDS = range(6)
# Two seeds of every variant in the fast set, all six in the whole suite.
SEEDS = [0, 1, *(pytest.param(seed, marks=pytest.mark.slow) for seed in ALL_SEEDS[2:])]
FOOTER = re.compile(r"^(第\s*\d+\s*[页⻚]([，,]?\s*共\s*\d+\s*[页⻚])?|-\s*\d+\s*-|\d+\s*/\s*\d+)$")
# Values printed verbatim (apart from whitespace, plate separators and radical code points).
PRINTED = (
    "document_no",
    "issuer",
    "location",
    "weather",
    "facts",
    "cause",
    "liability_text",
)
PARTY_PRINTED = (
    "name",
    "id_number",
    "phone",
    "plate",
    "vehicle_type",
    "ctpi_insurer",
    "ctpi_policy_no",
    "commercial_insurer",
    "owner",
    "address",
)


def plain(text: str) -> str:
    """Text without whitespace and plate separators, radicals folded."""
    return fold_radicals("".join(ch for ch in text if not ch.isspace() and ch not in "·・"))


def unpunctuated(text: str) -> str:
    return re.sub(r"[，。；：、]", "", text)


def read(data: bytes) -> tuple[str, str, list[str]]:
    """(text of all pages without footers, text of every table cell, raw page texts)."""
    pages, bodies, cells = [], [], []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            text = page.extract_text()
            lines = text.split("\n")
            if lines and FOOTER.match(lines[-1].strip()):
                lines = lines[:-1]
            if pages and lines and lines[0] == pages[0].split("\n")[0]:
                lines = lines[1:]  # a running head repeating the unit name
            pages.append(text)
            bodies.append("\n".join(lines))
            for table in page.extract_tables():
                for row in table:
                    cells.extend(cell.replace("\n", "") for cell in row if cell)
    return plain("".join(bodies)), "|".join(plain(cell) for cell in cells), pages


def assert_printed(data: bytes, expected: dict) -> None:
    body, tables, _ = read(data)

    loose_body, loose_tables = unpunctuated(body), unpunctuated(tables)

    def seen(value: str) -> bool:
        want = plain(value)
        if want in body or want in tables:
            return True
        # The old `simple` form lets a full stop hang past the cell border, where
        # extract_tables drops it.
        return unpunctuated(want) in loose_body or unpunctuated(want) in loose_tables

    for key in PRINTED:
        if expected.get(key) is not None:
            assert seen(expected[key]), (key, expected[key])
    for n, party in enumerate(expected["parties"]):
        for key in PARTY_PRINTED:
            if party.get(key) is not None:
                assert seen(party[key]), (f"parties[{n}].{key}", party[key])
        limit = party["commercial_limit"]
        if limit is not None:  # 100万元, 100万 or 1000000元
            assert seen(f"{int(limit) // 10000}万") or seen(f"{limit}元"), (n, limit)
        label = party["label"]
        if label is not None:  # 甲方, or 当事人甲 in the older prose letters
            assert seen(label) or seen("当事人" + label[0]) or seen(label[0] + "："), n


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_expected_value_is_printed(variant: str, seed: int) -> None:
    data, expected = make_report(variant, seed)
    assert_printed(data, expected)


@pytest.mark.parametrize("variant", list(OFFICIAL_VARIANTS))
def test_the_same_seed_gives_the_same_letter(variant: str) -> None:
    assert make_report(variant, 3) == make_report(variant, 3)
    assert make_report(variant, 3)[0] != make_report(variant, 4)[0]


@pytest.mark.slow  # renders many letters of every variant
def test_expected_answers_follow_the_corpus_conventions() -> None:
    for variant in VARIANTS:
        for seed in ALL_SEEDS:
            _, want = make_report(variant, seed)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\+08:00", want["accident_time"])
            assert not re.search(r"\s|编号：|No\.", want["document_no"])
            for key in ("facts", "liability_text"):
                assert want[key] is None or not re.search(r"[\s·・]", want[key])
            for party in want["parties"]:
                limit = party["commercial_limit"]
                assert limit is None or re.fullmatch(r"[1-9]\d*0000", limit)
                assert party["plate"] is None or "·" not in party["plate"]
                if party["traffic_mode"] in ("步行", "乘坐"):
                    assert party["plate"] is None
                    assert party["vehicle_type"] is None
                if want["procedure"] == "simple":
                    assert party["gender"] is None
                if want["procedure"] == "certificate":
                    assert party["liability"] is None
            if want["procedure"] == "certificate":
                assert want["liability_text"] is None


def quirks(variant: str) -> dict[str, int]:
    """How many of seeds 0–19 show each quirk."""
    counts: dict[str, int] = {}
    for seed in range(20):
        data, expected = make_report(variant, seed)
        _, _, pages = read(data)
        text = "\n".join(pages)
        found = {
            "spaced_line": re.search(r"(\S ){12}", text) is not None,
            "autospace": re.search(r"\d [年月日]", text) is not None,
            "radicals": any(ch in text for ch in RADICALS.values()),
            "footer": any(FOOTER.match(p.rstrip().split("\n")[-1]) for p in pages),
            "zh_time": "〇" in text,
            "issuer_in_seal_only": expected["issuer"] is None,
            "two_pages": len(pages) > 1,
        }
        facts = expected["facts"]
        for n, page in enumerate(pages[:-1]):
            tail = plain(
                page.rstrip().split("\n")[-2] if FOOTER.match(page.split("\n")[-1]) else ""
            )
            head = plain(pages[n + 1].split("\n")[0])
            if tail and tail in facts and head and head in facts:
                found["facts_across_pages"] = True
            lt = expected["liability_text"] or ""
            if tail and tail in lt and head and head in lt:
                found["liability_across_pages"] = True
            last = plain(page.rstrip().split("\n")[-1])
            if last.endswith("意外原因：") or (tail.endswith("意外原因：")):
                found["heading_ends_page"] = True
        broken = False
        for party in expected["parties"]:
            number = party["id_number"]
            if number and number not in "\n".join(pages).replace(" ", ""):
                broken = True
        found["id_broken"] = broken
        for key, value in found.items():
            counts[key] = counts.get(key, 0) + bool(value)
    return counts


@pytest.mark.slow  # renders many letters of every variant
def test_the_prose_letters_carry_the_producers_quirks() -> None:
    counts = quirks("official_prose")
    for quirk in (
        "spaced_line",
        "autospace",
        "radicals",
        "footer",
        "zh_time",
        "issuer_in_seal_only",
        "facts_across_pages",
        "liability_across_pages",
        "heading_ends_page",
        "id_broken",
    ):
        assert counts.get(quirk, 0) >= 1, (quirk, counts)


def test_table_forms_wrap_their_numbers_inside_cells() -> None:
    for variant in ("simple_row_table", "simple_block_grid"):
        data, expected = make_report(variant, 1)
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            cells = [c for t in pdf.pages[0].extract_tables() for row in t for c in row if c]
        ids = [p["id_number"] for p in expected["parties"]]
        assert any("\n" in c and c.replace("\n", "") in ids for c in cells), variant
        assert any(c.replace("\n", "") == "当事人责任" and "\n" in c for c in cells), variant


def test_a_hit_and_run_letter_has_a_party_nobody_knows() -> None:
    _, expected = make_report("hit_and_run", 0)
    unknown = expected["parties"][0]
    assert unknown["name"] is None
    assert unknown["id_number"] is None
    assert unknown["plate"] is None
    assert unknown["liability"] == "full"
    assert unknown["traffic_mode"] == "驾驶" + unknown["vehicle_type"]
    data, expected = make_report("hit_and_run", 1)
    assert "被公安机关查获" in plain(read(data)[0])
    assert expected["parties"][0]["name"]


def test_a_scan_has_no_text_and_the_letters_answer() -> None:
    data, expected = make_scan("simple_block_grid", 2, dpi=100, angle=1.2)
    assert expected["source"] == "ocr"
    _, original = make_report("simple_block_grid", 2)
    assert {k: v for k, v in expected.items() if k != "source"} == original
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert all(not page.chars and page.images for page in pdf.pages)
    assert make_scan("simple_block_grid", 2, dpi=100, angle=1.2)[0] == data


def test_the_bad_scan_is_an_image_without_text() -> None:
    data = make_bad("scan")
    assert BAD_CODES["scan"] == "no_text_layer"
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert all(not page.chars and page.images for page in pdf.pages)
