"""The accident-report parser: fields, provenance and warnings on generated reports, bad files,
and the value readers (dates, plates, ID numbers, liability phrases) on their own."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import pickle
import random
import resource
import time

import pdfplumber
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reports import MAX_BYTES, PARSER_VERSION, ReportError, check_pdf, parse_isolated
from app.reports import parse_report as parse
from app.reports.dates import find_datetime, parse_date, parse_datetime, zh_int
from app.reports.layout import read_layout
from app.reports.parties import Draft, Reader, read_liability
from app.reports.text import normalize_char, squeeze
from app.reports.values import (
    PLATE_RE,
    bare_grade,
    format_money,
    id_check_char,
    is_plate,
    is_valid_id,
    normalize_plate,
    parse_money,
)
from tests.reports import generator
from tests.reports.generator import BAD_CODES, BAD_KINDS, FAULTS, VARIANTS, make_bad, make_report

SEEDS = range(4)
PARTY_FIELDS = (
    "label",
    "name",
    "gender",
    "id_number",
    "phone",
    "license_no",
    "traffic_mode",
    "plate",
    "vehicle_type",
    "ctpi_insurer",
    "ctpi_policy_no",
    "commercial_insurer",
    "commercial_limit",
    "liability",
)
# Fields whose value is the text as printed (separators aside); the rest are read into a form.
VERBATIM = {
    "document_no",
    "issuer",
    "location",
    "weather",
    "accident_form",
    "facts",
    "cause",
    "name",
    "id_number",
    "phone",
    "license_no",
    "vehicle_type",
    "ctpi_insurer",
    "ctpi_policy_no",
    "commercial_insurer",
    "owner",
    "address",
    "plate",
}


@functools.cache
def report(variant: str, seed: int, faults: tuple[str, ...] = ()) -> tuple[bytes, dict, dict]:
    """A generated report, what we expect from it and what the parser read (made once)."""
    data, expected = make_report(variant, seed, faults=faults)
    return data, expected, parse(data)


def plain(text: str) -> str:
    """Text without whitespace and plate separators, for comparing printed text."""
    return "".join(ch for ch in squeeze(text) if ch not in "·・")


def assert_matches(expected: dict, got: dict) -> None:
    """Every expected field equals the parsed one (running text compared without spaces)."""
    for key, want in expected.items():
        if key == "parties":
            assert len(got["parties"]) == len(want)
            for n, (party_want, party_got) in enumerate(zip(want, got["parties"], strict=True)):
                for field, value in party_want.items():
                    assert party_got[field] == value, f"parties[{n}].{field}"
        elif key == "warnings":
            assert {w["field"] for w in got["warnings"]} == {w["field"] for w in want}, got[key]
        elif key in ("facts", "cause"):
            assert squeeze(got[key] or "") == squeeze(want or ""), key
        else:
            assert got[key] == want, key


def filled_fields(result: dict) -> dict[str, object]:
    """Field path → value for every non-null value the parser returned."""
    fields = {
        key: value
        for key, value in result.items()
        if key not in ("parties", "provenance", "warnings", "parser_version") and value is not None
    }
    for n, party in enumerate(result["parties"]):
        for field, value in party.items():
            if value is not None:
                fields[f"parties[{n}].{field}"] = value
    return fields


# --- fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_field_of_a_generated_report_is_read(variant: str, seed: int) -> None:
    _, expected, got = report(variant, seed)
    assert_matches(expected, got)
    assert got["parser_version"] == PARSER_VERSION


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("variant", ["general_table", "general_prose", "ebike"])
def test_a_doubtful_value_is_warned_about_and_never_guessed(variant: str, fault: str) -> None:
    _, expected, got = report(variant, 5, (fault,))
    assert_matches(expected, got)
    assert expected["warnings"]


def test_the_output_is_plain_json() -> None:
    _, _, got = report("general_table", 0)
    assert json.loads(json.dumps(got, ensure_ascii=False)) == got


def test_parties_have_every_interface_field_and_the_additions() -> None:
    _, _, got = report("ebike", 1)
    assert len(got["parties"]) == 4
    for party in got["parties"]:
        assert set(PARTY_FIELDS) <= set(party)
        assert {"age", "address", "owner"} <= set(party)
    pedestrian = [p for p in got["parties"] if p["traffic_mode"] == "步行"]
    for party in pedestrian:
        assert party["plate"] is None
        assert party["ctpi_insurer"] is None


def test_facts_running_onto_the_second_page_are_joined() -> None:
    data, expected, got = report("general_prose", 2)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) >= 2
    box = got["provenance"]["facts"]
    assert box["page"] == 1
    assert [part["page"] for part in box["parts"]] == [1, 2]
    assert squeeze(got["facts"]) == squeeze(expected["facts"])


# --- provenance ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_filled_field_points_at_the_characters_it_was_read_from(
    variant: str, seed: int
) -> None:
    data, _, got = report(variant, seed)
    fields = filled_fields(got)
    assert set(fields) == set(got["provenance"])
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for path, value in fields.items():
            box = got["provenance"][path]
            parts = box.get("parts", [{"page": box["page"], "bbox": box["bbox"]}])
            assert parts[0] == {"page": box["page"], "bbox": box["bbox"]}
            seen = ""
            for part in parts:
                page = pdf.pages[part["page"] - 1]
                x0, top, x1, bottom = part["bbox"]
                assert 0 <= x0 < x1 <= page.width, path
                assert 0 <= top < bottom <= page.height, path
                seen += page.within_bbox(part["bbox"]).extract_text()
            seen = plain(seen)
            for piece in box["text"].split():
                assert plain(piece) in seen, (path, piece, seen)
            field = path.rsplit(".", 1)[-1]
            if field in VERBATIM:
                assert plain(str(value)) in seen, (path, value, seen)


def test_provenance_of_a_wrapped_id_number_covers_both_lines() -> None:
    data, _, got = report("libreoffice", 0)
    path = "parties[0].id_number"
    x0, top, x1, bottom = got["provenance"][path]["bbox"]
    assert bottom - top > 15  # two lines of 10 pt text
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = pdf.pages[0].within_bbox((x0, top, x1, bottom)).extract_text()
    assert "\n" in text.strip()
    assert squeeze(text) == got["parties"][0]["id_number"]


# --- bad files -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k in BAD_KINDS if k != "bomb"])
def test_a_file_that_is_not_a_readable_report_is_refused_with_its_reason(kind: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse(make_bad(kind))
    assert caught.value.code == BAD_CODES[kind]
    assert caught.value.message


@pytest.mark.parametrize("kind", ["png", "docx", "empty", "truncated", "encrypted", "oversize"])
def test_check_pdf_refuses_without_parsing(kind: str) -> None:
    with pytest.raises(ReportError) as caught:
        check_pdf(make_bad(kind))
    assert caught.value.code == BAD_CODES[kind]


def read_or_refuse(data: bytes) -> str:
    """'read', or the code of the ReportError; any other exception fails the test."""
    try:
        result = parse(data)
    except ReportError as error:
        return error.code
    return "read" if isinstance(result["parties"], list) else "malformed"


def test_a_corrupted_report_gives_a_result_or_a_report_error_never_a_crash() -> None:
    rng = random.Random(11)
    originals = [report(variant, 1)[0] for variant in ("general_table", "simple", "ebike")]
    for _ in range(25):
        data = bytearray(rng.choice(originals))
        start = rng.randrange(len(data))
        if rng.random() < 0.5:
            for _ in range(rng.randint(1, 40)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            del data[start : start + rng.randint(10, 4000)]
        outcome = read_or_refuse(bytes(data))
        assert outcome in ("read", "damaged", "not_a_report", "no_text_layer")


def test_check_pdf_accepts_a_report() -> None:
    data, _, _ = report("general_table", 0)
    check_pdf(data)
    assert len(data) < MAX_BYTES


def test_a_decompression_bomb_is_stopped_without_hurting_the_caller() -> None:
    bomb = make_bad("bomb")
    assert len(bomb) < 8 * 1024 * 1024  # a few MB that inflate to 4 GiB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(ReportError) as caught:
        parse_isolated(bomb, timeout=20, memory_mb=512)
    assert caught.value.code == "too_large"
    assert "too large or too complex" in caught.value.message
    assert time.monotonic() - started < 15
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100 * 1024


def test_isolated_parse_gives_the_same_answer() -> None:
    data, _, got = report("simple", 0)
    assert parse_isolated(data) == got


def test_isolated_parse_reports_its_errors_and_a_timeout() -> None:
    with pytest.raises(ReportError) as caught:
        parse_isolated(make_bad("invoice"))
    assert caught.value.code == "not_a_report"
    data, _, _ = report("general_prose", 0)
    with pytest.raises(ReportError) as caught:
        parse_isolated(data, timeout=0.002)
    assert caught.value.code == "timeout"


def test_isolated_parse_refuses_an_oversized_file_before_forking() -> None:
    with pytest.raises(ReportError) as caught:
        parse_isolated(b"%PDF-1.4\n" + bytes(MAX_BYTES))
    assert caught.value.code == "too_large"


def test_report_error_keeps_code_and_message_across_pickling() -> None:
    error = pickle.loads(pickle.dumps(ReportError("damaged", "bad xref")))  # noqa: S301
    assert (error.code, error.message) == ("damaged", "bad xref")
    with pytest.raises(ValueError, match="unknown report error code"):
        ReportError("nonsense")


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年3月18日", dt.date(2024, 3, 18)),
        ("2024-03-18", dt.date(2024, 3, 18)),
        ("2024/3/8", dt.date(2024, 3, 8)),
        ("2024.03.18", dt.date(2024, 3, 18)),
        ("二〇二四年三月十八日", dt.date(2024, 3, 18)),
        ("二零二四年十二月三十一日", dt.date(2024, 12, 31)),
        ("二〇二三年五月廿一日", dt.date(2023, 5, 21)),
        ("二〇二三年十一月卅日", dt.date(2023, 11, 30)),
        ("二〇二三年五月二十日", dt.date(2023, 5, 20)),
        ("２０２４年３月１８日", dt.date(2024, 3, 18)),
        ("2024 年 3 月 18 日", dt.date(2024, 3, 18)),
        ("2024年2月30日", None),
        ("2024年13月1日", None),
        ("三月十八日", None),
    ],
)
def test_dates_are_read_in_every_written_form(text: str, expected: dt.date | None) -> None:
    normalized = "".join(normalize_char(ch) for ch in text)
    assert parse_date(normalized) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023年5月12日8时35分", (2023, 5, 12, 8, 35)),
        ("2023年5月12日8时35分许", (2023, 5, 12, 8, 35)),
        ("2023年5月12日08:35", (2023, 5, 12, 8, 35)),
        ("2023-05-12 08:35", (2023, 5, 12, 8, 35)),
        ("2023-05-1208:35", (2023, 5, 12, 8, 35)),
        ("2023-05-0923:05", (2023, 5, 9, 23, 5)),
        ("2023年5月12日下午3时", (2023, 5, 12, 15, 0)),
        ("2023年5月12日8时许", (2023, 5, 12, 8, 0)),
        ("2023年5月12日8点35分", (2023, 5, 12, 8, 35)),
        ("二〇二三年五月十二日八时三十五分", (2023, 5, 12, 8, 35)),
        ("二〇二三年五月十二日二十时零五分", (2023, 5, 12, 20, 5)),
        ("二〇二三年五月十二日十八时", (2023, 5, 12, 18, 0)),
    ],
)
def test_date_and_time_are_read_together(text: str, expected: tuple) -> None:
    date, time_of_day = parse_datetime(text)
    assert (date.year, date.month, date.day, time_of_day.hour, time_of_day.minute) == expected


def test_a_date_without_time_has_no_time_of_day() -> None:
    assert parse_datetime("2023年5月12日") == (dt.date(2023, 5, 12), None)
    assert find_datetime("事故发生于2023年5月12日，") == (dt.date(2023, 5, 12), None, 5, 15)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十", 10),
        ("十八", 18),
        ("二十", 20),
        ("廿一", 21),
        ("卅", 30),
        ("三十一", 31),
        ("〇五", 5),
        ("零", 0),
        ("二〇二四", 2024),
        ("十二三", None),
        ("二十三四", None),
        ("", None),
    ],
)
def test_chinese_numerals(text: str, value: int | None) -> None:
    assert zh_int(text) == value


ZH_DIGITS = "〇一二三四五六七八九"


def zh_small(n: int) -> str:
    if n < 10:
        return ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("十" if tens == 1 else ZH_DIGITS[tens] + "十") + (ZH_DIGITS[ones] if ones else "")


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)),
    st.integers(0, 23),
    st.integers(0, 59),
    st.booleans(),
)
def test_chinese_numeral_date_round_trip(
    date: dt.date, hour: int, minute: int, zero_as_ling: bool
) -> None:
    year = "".join(ZH_DIGITS[int(d)] for d in str(date.year))
    if zero_as_ling:
        year = year.replace("〇", "零")
    text = f"{year}年{zh_small(date.month)}月{zh_small(date.day)}日"
    assert parse_date(text) == date
    clock = f"{zh_small(hour)}时{zh_small(minute)}分"
    assert parse_datetime(text + clock) == (date, dt.time(hour, minute))
    assert parse_datetime(f"{date.isoformat()} {hour:02d}:{minute:02d}") == (
        date,
        dt.time(hour, minute),
    )


# --- plates, IDs, amounts, grades ------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "plate"),
    [
        ("晋J·12345", "晋J12345"),
        ("晋J・12345", "晋J12345"),
        ("晋J12345", "晋J12345"),
        ("晋j·a1234", "晋JA1234"),
        ("晋J-D12345", "晋JD12345"),
        ("晋J 1234挂", "晋J1234挂"),
    ],
)
def test_plates_are_normalised(written: str, plate: str) -> None:
    assert normalize_plate(written) == plate


@pytest.mark.parametrize(
    ("plate", "valid"),
    [
        ("晋J12345", True),
        ("晋JD12345", True),
        ("晋J12345D", True),
        ("晋A1234挂", True),
        ("晋AB1234挂", False),
        ("晋J1234", False),
        ("晋JI0O12", False),
        ("晋1234567", False),
        ("离石012345", False),
    ],
)
def test_plates_are_checked_against_the_standard_pattern(plate: str, valid: bool) -> None:
    assert is_plate(plate) is valid


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from("晋京冀蒙陕豫"),
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=5, max_size=5),
    st.sampled_from(["", "·", "・", "-", " ", "."]),
    st.booleans(),
)
def test_plate_normalisation_round_trip(
    province: str, office: str, tail: str, sep: str, lower: bool
) -> None:
    plate = province + office + tail
    written = province + (office + sep + tail).lower() if lower else province + office + sep + tail
    assert normalize_plate(written) == plate
    assert is_plate(plate)
    match = PLATE_RE.search(f"驾驶{written}号小型轿车")
    assert match is not None
    assert normalize_plate(match.group()) == plate


def test_id_check_digit_follows_gb_11643() -> None:
    assert id_check_char("11010519491231002") == "X"
    assert is_valid_id("11010519491231002X")
    assert is_valid_id("142301198503150011")
    assert is_valid_id("142301198503150012") is False  # a wrong check digit
    assert is_valid_id("14230119850315001") is False  # too short
    assert generator.id_check_char("14230119850315001") == id_check_char("14230119850315001")


def read_field(text: str, field: str) -> Draft:
    draft = Draft()
    Reader(text).read(draft, field, 0, len(text))
    return draft


def test_an_id_number_broken_across_lines_is_joined() -> None:
    draft = read_field("14230119850\n3150011", "id_number")
    assert draft.values["id_number"] == "142301198503150011"
    assert draft.spans["id_number"] == [(0, 19)]
    assert draft.warnings == []


def test_an_id_number_with_a_wrong_check_digit_is_kept_with_a_warning() -> None:
    draft = read_field("142301198503150012", "id_number")
    assert draft.values["id_number"] == "142301198503150012"
    assert [field for field, _ in draft.warnings] == ["id_number"]


def test_spaced_out_text_is_matched_without_its_spaces() -> None:
    spaced = "身 份 证 号 码 ： 1 4 2 3 0 1 1 9 8 5 0 3 1 5 0 0 1 1"
    assert "".join(normalize_char(ch) for ch in spaced) == "身份证号码：142301198503150011"
    assert normalize_char("\u3000") == ""
    assert normalize_char("Ｊ") == "J"


def test_a_value_that_is_not_a_plate_is_kept_with_a_warning() -> None:
    draft = read_field("晋JI0O12", "plate")
    assert draft.values["plate"] == "晋JI0O12"
    assert [field for field, _ in draft.warnings] == ["plate"]
    assert read_field("无号牌", "plate").values == {}
    assert read_field("/", "plate").values == {}


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("100万元", "1000000.00"),
        ("1000000元", "1000000.00"),
        ("1,500,000元", "1500000.00"),
        ("50万", "500000.00"),
        ("壹佰万元", "1000000.00"),
        ("12.5万元", "125000.00"),
    ],
)
def test_insurance_limits_are_read_in_yuan(written: str, amount: str) -> None:
    found = parse_money(written)
    assert found is not None
    assert format_money(found[0]) == amount


@pytest.mark.parametrize(
    ("cell", "grade"),
    [
        ("主要责任", "main"),
        ("主要", "main"),
        ("全部责任", "full"),
        ("全责", "full"),
        ("同等责任", "equal"),
        ("次要", "minor"),
        ("次责", "minor"),
        ("无责任", "none"),
        ("无", "none"),
        ("不负事故责任", "none"),
        ("相应责任", None),
    ],
)
def test_liability_written_in_a_cell(cell: str, grade: str | None) -> None:
    assert bare_grade(cell) == grade


def parties(*names: str) -> list[Draft]:
    drafts = []
    for n, name in enumerate(names):
        draft = Draft()
        draft.set("label", "甲乙丙丁"[n] + "方", [(0, 0)])
        draft.set("name", name, [(0, 0)])
        drafts.append(draft)
    return drafts


@pytest.mark.parametrize(
    ("sentence", "grades"),
    [
        ("张三负事故主要责任，李四负事故次要责任。", {0: "main", 1: "minor"}),
        ("张三承担此事故的全部责任，李四无责任。", {0: "full", 1: "none"}),
        ("甲方负全部责任，乙方无责任。", {0: "full", 1: "none"}),
        ("当事人甲负同等责任；当事人乙负同等责任。", {0: "equal", 1: "equal"}),
        ("张三、李四负此事故的同等责任。", {0: "equal", 1: "equal"}),
        ("张三负此事故的主要责任，李四负此事故的次要责任", {0: "main", 1: "minor"}),
        (
            "张三驾驶机动车未按规定让行，是造成此事故的主要原因，应负此事故的主要责任；"
            "李四不负此事故责任。",
            {0: "main", 1: "none"},
        ),
        ("甲负次责，乙负主责。", {0: "minor", 1: "main"}),
        ("张三负此事故的相应责任。", {}),
    ],
)
def test_liability_sentences_name_each_party(sentence: str, grades: dict[int, str]) -> None:
    found = read_liability(sentence, 0, len(sentence), parties("张三", "李四"))
    assert {n: grade for n, grade, _ in found} == grades
    for _, _, (start, end) in found:
        assert "责" in sentence[start:end]


def test_layout_joins_wrapped_lines_and_keeps_rows_apart() -> None:
    data, expected, _ = report("simple", 0)
    layout = read_layout(data)
    rows = [layout.text[row.start : row.end] for row in layout.rows]
    header = next(row for row in rows if "联系电话" in row)
    assert "驾驶证或身份证号码" in header  # a header wrapped inside its cell
    for party in expected["parties"]:
        assert any(party["id_number"] in row for row in rows)


# --- the content reader ----------------------------------------------------------------------


def content_test_pdf() -> bytes:
    """A page exercising the content operators the fast reader re-implements."""
    form = b"BT /F1 10 Tf 5 5 Td (in a form) Tj ET"
    content = (
        b"BT /F1 12 Tf 14 TL 72 700 Td [(A) -500 (B) 120 (C)] TJ 0 -14 Td "
        b"(next\\050line\\051 \\101\\102) Tj T* <48656c6c6f 21> Tj ET\n"
        b"BT /F1 12 Tf 2 Tc 5 Tw 90 Tz 3 Ts 72 600 Td (spaced words) Tj ET\n"
        b"BT 0 Tc 0 Tw 100 Tz 0 Ts /F1 12 Tf 72 560 Td (nested (paren) string) Tj (quoted) ' ET\n"
        b"q 1 0 0 1 100 300 cm /X1 Do Q\n"
        b"q 40 0 0 20 400 700 cm BI /W 2 /H 1 /BPC 8 /CS /G ID \x00\xff EI Q\n"
        b"% a comment (with a parenthesis\n"
        b"BT /F1 12 Tf 0.866 0.5 -0.5 0.866 300 400 Tm (turned) Tj ET\n"
        b"BT /F1 12 Tf 1 0 0 -1 300 200 Tm (mirrored) Tj ET\n"
    )
    return generator.assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> /XObject << /X1 6 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 200 50]"
            b" /Resources << /Font << /F1 5 0 R >> >> /Length %d >>\nstream\n"
            % len(form)
            + form
            + b"\nendstream",
        ]
    )


def test_the_content_reader_sees_what_pdfplumber_sees() -> None:
    data = content_test_pdf()
    layout = read_layout(data)
    ours = sorted(
        (layout.text[pos], *(round(v, 2) for v in layout.boxes[idx][1:]))
        for pos, idx in enumerate(layout.src)
        if idx >= 0
    )
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        chars = pdf.pages[0].chars
    theirs = sorted(
        (c["text"], round(c["x0"], 2), round(c["top"], 2), round(c["x1"], 2), round(c["bottom"], 2))
        for c in chars
        if c["text"].strip() and c["upright"]
    )
    assert ours == theirs
    assert "next(line)AB" in layout.text
    assert "Hello!" in layout.text
    assert "nested(paren)string" in layout.text
    assert "quoted" in layout.text
    assert "inaform" in layout.text
    assert "mirrored" not in layout.text  # mirrored text is never a report's field


def test_tounicode_maps_are_read_as_pdfminer_reads_them() -> None:
    from pdfminer.cmapdb import CMapParser, FileUnicodeMap

    from app.reports.content import _unicode_map

    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"1 begincodespacerange <00> <FF> endcodespacerange\n"
        b"3 beginbfchar <01> <4EA4> <02> <901A> <03> <D83DDE00>\n endbfchar\n"
        b"2 beginbfrange <10> <14> <0030>\n<20> <22> [<0041> <0042> <0043>] endbfrange\n"
        b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    expected = FileUnicodeMap()
    CMapParser(expected, io.BytesIO(cmap)).run()
    fast = _unicode_map(cmap)
    assert fast is not None
    assert fast.cid2unichr == expected.cid2unichr
    assert fast.cid2unichr[0x12] == "2"
    assert _unicode_map(b"/Foo usecmap 1 beginbfchar <01> <0041> endbfchar") is None
    assert _unicode_map(b"1 beginbfchar <01> /space endbfchar") is None


def test_a_pdf_locked_only_against_editing_is_read() -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    sheet = generator.Sheet(encrypt=StandardEncryption("", "owner", canModify=0, canCopy=0))
    sheet.line("道路交通事故认定书", 18, "center")
    sheet.para("事故时间：2023年5月12日上午8时35分", indent=0)
    sheet.para("甲：张伟，男，驾驶晋J·A1234号小型轿车。", indent=0)
    sheet.para("乙：李娜，女，步行。", indent=0)
    sheet.para("责任认定：张伟负全部责任，李娜无责任。", indent=0)
    data = sheet.finish()
    check_pdf(data)
    got = parse(data)
    assert got["accident_time"] == "2023-05-12T08:35:00+08:00"
    assert [(p["label"], p["name"], p["plate"], p["liability"]) for p in got["parties"]] == [
        ("甲方", "张伟", "晋JA1234", "full"),
        ("乙方", "李娜", None, "none"),
    ]
    assert got["parties"][0]["traffic_mode"] == "驾驶小型轿车"
    assert got["parties"][1]["traffic_mode"] == "步行"
