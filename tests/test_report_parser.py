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
from app.reports.pages import Glyph
from app.reports.parties import Draft, read_liability, read_paragraph
from app.reports.spans import Span
from app.reports.text import normalize, squeeze
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
from bench.parse_accuracy import compare
from tests.reports import generator
from tests.reports.generator import BAD_CODES, BAD_KINDS, FAULTS, VARIANTS, make_bad, make_report

# Two seeds of every variant in the fast set, all four in the whole suite.
SEEDS = [0, 1, *(pytest.param(seed, marks=pytest.mark.slow) for seed in (2, 3))]
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
    return "".join(ch for ch in normalize(text) if ch not in "·・")


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
        if key not in ("parties", "provenance", "warnings", "parser_version", "source")
        and value is not None
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


@pytest.mark.slow
def test_a_scan_is_read_by_ocr_and_never_gives_a_wrong_value() -> None:
    data, expected = generator.make_scan("simple_block_grid", 0, dpi=200, angle=1.0)
    seen: list[tuple[int, int]] = []
    got = parse_isolated(data, timeout=60, progress=lambda done, total: seen.append((done, total)))
    assert got["source"] == "ocr"
    assert seen == [(1, 1)]
    verdicts = compare(got, expected)
    assert [v for v in verdicts if v[1] == "wrong"] == []
    assert sum(v[1] == "right" for v in verdicts) >= 0.8 * len(verdicts)
    for path in filled_fields(got):
        if path not in ("accident_date", "year", "confidence", "procedure"):
            assert 0.9 <= got["confidence"][path] <= 1, path
    assert got["provenance"]["parties[0].name"]["page"] == 1


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


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(k, marks=pytest.mark.slow) if k == "scan" else k  # a blank scan: OCR
        for k in BAD_KINDS
        if k != "bomb"
    ],
)
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


@pytest.mark.slow  # reads dozens of damaged files
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


@pytest.mark.slow  # waits for the isolated reader to hit its limits
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
    assert parse_date(normalize(text)) == expected


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


def paragraph(text: str) -> Draft:
    """A party paragraph read by the grammar (each character its own glyph)."""
    glyphs = [Glyph(ch, 1, (float(n), 0.0, n + 1.0, 10.0)) for n, ch in enumerate(text)]
    return read_paragraph(Span(text, glyphs))


def test_an_id_number_broken_across_lines_is_joined_with_its_line() -> None:
    data, expected, got = report("libreoffice", 0)
    assert got["parties"][0]["id_number"] == expected["parties"][0]["id_number"]
    draft = paragraph("当事人王某，男，居民身份证号码14230119850" + "3150011，住某地。")
    assert draft.values["id_number"] == "142301198503150011"


def test_an_id_number_with_a_wrong_check_digit_is_kept_with_a_warning() -> None:
    _, expected, got = report("general_prose", 5, ("bad_id",))
    assert got["parties"][0]["id_number"] == expected["parties"][0]["id_number"]
    assert "parties[0].id_number" in {w["field"] for w in got["warnings"]}


def test_spaced_out_text_is_matched_without_its_spaces() -> None:
    spaced = "身 份 证 号 码 ： 1 4 2 3 0 1 1 9 8 5 0 3 1 5 0 0 1 1"
    assert normalize(spaced) == "身份证号码：142301198503150011"
    assert normalize("\u3000") == ""
    assert normalize("Ｊ") == "J"


def test_radicals_are_folded_into_the_ideographs_they_stand_for() -> None:
    # Chromium with Noto CJK writes Kangxi radicals and radical-supplement code points.
    assert normalize("孝义市公安局交通警察⼤队") == "孝义市公安局交通警察大队"
    assert normalize("2024年8⽉2⽇") == "2024年8月2日"
    assert normalize("⻋⺠⻔⻩⻘⻰⻚") == "车民门黄青龙页"
    assert normalize("甲⽅⼄⽅") == "甲方乙方"
    assert normalize("商⼾") == "商户"  # NFKC alone gives the traditional 戶
    assert normalize("（保单号：ＡＢ１２）") == "（保单号：AB12）"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "当事人王建军，男，1979年3月2日出生，居民身份证号码14112119790302083X，住某县某村，"
            "联系电话13935801276，持C1类机动车驾驶证，驾驶晋J·A3N62号小型普通客车（所有人："
            "王建军）。该车在中国人民财产保险股份有限公司吕梁市分公司投保机动车交通事故责任强制保险"
            "（保单号：PDZA202414110000021736），并在该公司投保商业第三者责任保险，保险金额100万元。",
            {
                "name": "王建军",
                "gender": "男",
                "id_number": "14112119790302083X",
                "phone": "13935801276",
                "plate": "晋J·A3N62",
                "vehicle_type": "小型普通客车",
                "traffic_mode": "驾驶小型普通客车",
                "ctpi_insurer": "中国人民财产保险股份有限公司吕梁市分公司",
                "ctpi_policy_no": "PDZA202414110000021736",
                "commercial_insurer": "中国人民财产保险股份有限公司吕梁市分公司",
                "commercial_limit": "100万元",
            },
        ),
        (
            "当事人：郭某某（行人），女，1968年2月9日出生，居民身份证号码14118219680209028X，步行。",
            {"name": "郭某某", "gender": "女", "traffic_mode": "步行"},
        ),
        (
            "2.当事人刘某，女，乘坐晋J68413号普通二轮摩托车。",
            {"name": "刘某", "gender": "女", "traffic_mode": "乘坐"},
        ),
        (
            "乙方：宋某，女，驾驶无号牌电动自行车。",
            {"label": "乙方", "name": "宋某", "gender": "女", "vehicle_type": "电动自行车"},
        ),
        (
            "当事人高某，男，驾驶晋JA8276号重型半挂牵引车牵引晋JB596挂号重型普通半挂车。"
            "该车未投保机动车交通事故责任强制保险。",
            {"plate": "晋JA8276", "vehicle_type": "重型半挂牵引车", "ctpi_uninsured": True},
        ),
    ],
)
def test_party_paragraphs_are_read_by_their_grammar(text: str, expected: dict) -> None:
    draft = paragraph(text)
    for name, value in expected.items():
        assert draft.values.get(name) == value, name
    if "plate" not in expected:
        assert "plate" not in draft.values


def test_an_unknown_party_has_no_identity_but_a_vehicle() -> None:
    draft = paragraph(
        "肇事车辆驾驶人：身份不明。其驾驶一辆银灰色小型轿车（号牌不详），驾车驶离现场，逃逸。"
    )
    assert draft.unknown
    assert "name" not in draft.values
    assert draft.values["vehicle_type"] == "小型轿车"
    assert "plate" not in draft.values


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
        draft.set("label", "甲乙丙丁"[n] + "方", None)
        draft.set("name", name, None)
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
        (
            "根据《规定》第六十条之规定，认定：张三承担此事故的全部责任；李四无责任。",
            {0: "full", 1: "none"},
        ),
        # A party named inside the other's clause does not take that clause's grade.
        ("甲方转弯时未让直行的乙方先行，负全部责任；乙方无责任。", {0: "full", 1: "none"}),
        ("张三违反规定，负事故全部责任，李四不承担此事故的责任。", {0: "full", 1: "none"}),
    ],
)
def test_liability_sentences_name_each_party(sentence: str, grades: dict[int, str]) -> None:
    found = read_liability(Span(sentence), parties("张三", "李四"))
    got = {n: {grade for grade, _ in found[n]} for n in found}
    assert got == {n: {grade} for n, grade in grades.items()}
    for n in found:
        for _, span in found[n]:
            assert "责" in span.text


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
