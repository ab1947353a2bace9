"""The documents package and the money module, called directly with plain data (no app)."""

from __future__ import annotations

import ast
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from app.documents import (
    ORDER,
    canonical_json_sha256,
    render_agreement,
    render_filing_summary,
    render_ruling,
    ruling_order,
)
from app.documents.page import CANNOT_END, CANNOT_START, break_lines
from app.documents.wording import liability_clause
from app.money import amount_figures, amount_in_words, amount_text, optional_amount_text

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
APP = Path(__file__).resolve().parent.parent / "app"
# What the pure modules may import from the app: each other, the engine's money, the clock.
PURE_APP_MODULES = ("app.documents", "app.money", "app.compensation.money", "app.clock")

PAYERS = [
    {"payer": "ctpi:甲方", "label": "甲保险公司（甲方 交强险）", "amount": "114318.37"},
    {"payer": "party:甲方", "label": "张三", "amount": "10.05"},
]
TOTAL = "114328.42"


def pdf_text(data: bytes) -> str:
    """The PDF's text, lines joined (long strings may wrap)."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "".join((page.extract_text() or "").replace("\n", "") for page in pdf.pages)


def agreement_data() -> dict[str, Any]:
    return {
        "case_number": "DJ-2024-000123",
        "committee": "某区人民调解委员会",
        "mediator": "李调解",
        "date": "2024-03-01",
        "payment_method": "银行转账",
        "payment_due": "2024-03-31",
        "parties": [
            {"label": "甲方", "name": "张三", "role": "driver", "liability": "full"},
            {"label": "乙方", "name": "王五", "role": "pedestrian", "liability": "none"},
        ],
        "victims": [
            {
                "id": "v1",
                "name": "王五",
                "party": "乙方",
                "items": [{"code": "medical", "label": "医疗费", "amount": "114328.42"}],
                "total": TOTAL,
            }
        ],
        "report": {"accident_time": "2024-01-05T01:30:00+00:00", "location": "人民路"},
        "payers": PAYERS,
        "total": TOTAL,
        "signatories": [{"id": "甲方", "kind": "party", "name": "张三"}],
    }


def ruling_data() -> dict[str, Any]:
    return {
        "court": "某区人民法院",
        "tribunal": "某区人民法院道路交通事故纠纷巡回法庭",
        "ruling_number": "（2024）某0101民特12号",
        "case_number": "DJ-2024-000123",
        "committee": "某区人民调解委员会",
        "applicants": [{"kind": "party", "name": "张三"}],
        "agreement": {"signed_on": "2024-03-01", "payment_due": "2024-03-31"},
        "requested_on": "2024-03-05",
        "accepted_on": "2024-03-06",
        "finding": "本院经审查认为，申请人达成的调解协议符合司法确认的条件。",
        "judge": "赵审判",
        "date": "2024-03-20",
        "payers": PAYERS,
        "total": TOTAL,
        "order": ruling_order(
            ["张三"],
            signed_on="2024-03-01",
            committee="某区人民调解委员会",
            agreement_number="DJ-2024-000123",
        ),
    }


def summary_data() -> dict[str, Any]:
    return {
        "case_number": "DJ-2024-000123",
        "status": "litigation",
        "report_no": "第0001号",
        "outcome_note": "赔偿金额未能达成一致",
        "accident": {"time": "2024-01-05T01:30:00+00:00", "place": "人民路"},
        "parties": [
            {
                "label": "甲方",
                "name": "张三",
                "id_number": "1101**********0012",
                "role": "driver",
                "liability": "main",
            }
        ],
        "vehicles": [
            {
                "plate": "京A12345",
                "type": "小型轿车",
                "driver": "张三",
                "policies": [
                    {"insurer": "甲保险公司", "kind": "commercial", "limit": "1000000.00"}
                ],
            }
        ],
        "assessment": {"fingerprint": "f" * 64, "totals": {"ctpi:甲方": "114318.37"}},
        "offers": [],
        "agreement": None,
        "documents": [],
        "payer_labels": {"ctpi:甲方": "甲保险公司（甲方 交强险）"},
    }


# -- amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.00", "零元整"),
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("0.5", "伍角整"),
        ("1.01", "壹元零壹分"),
        ("10.05", "壹拾元零伍分"),
        ("10.50", "壹拾元伍角整"),
        ("20", "贰拾元整"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("100000", "壹拾万元整"),
        ("114318.37", "壹拾壹万肆仟叁佰壹拾捌元叁角柒分"),
        ("123000", "壹拾贰万叁仟元整"),
        ("123456.78", "壹拾贰万叁仟肆佰伍拾陆元柒角捌分"),
        ("100000.05", "壹拾万元零伍分"),
        ("1000000.00", "壹佰万元整"),
        ("1000500", "壹佰万零伍佰元整"),
        ("10005000", "壹仟万伍仟元整"),
        ("100005000", "壹亿零伍仟元整"),
        ("1000050000", "壹拾亿零伍万元整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amounts_are_written_in_capital_numerals(amount: str, words: str) -> None:
    assert amount_in_words(amount) == words
    assert amount_in_words(Decimal(amount)) == words


@pytest.mark.parametrize("amount", ["-1.00", "0.001", "1000000000000", "NaN", "abc"])
def test_capital_numerals_refuse_what_is_not_an_amount(amount: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        amount_in_words(amount)


def test_capital_numerals_refuse_floats() -> None:
    with pytest.raises(TypeError):
        amount_in_words(0.1)


def test_amounts_are_written_as_text_with_two_decimals() -> None:
    assert amount_text(Decimal("12345.6")) == "12345.60"
    assert amount_text(Decimal("-5")) == "-5.00"
    assert optional_amount_text(None) is None
    assert optional_amount_text(Decimal("1E+5")) == "100000.00"


def test_documents_group_the_figures_of_an_amount() -> None:
    assert amount_figures("12345.6") == "12,345.60"
    assert amount_figures(Decimal("114318.37")) == "114,318.37"


# -- the documents --------------------------------------------------------------------------


def test_agreement_shows_each_payers_amount_in_figures_and_words() -> None:
    data = agreement_data()

    text = pdf_text(render_agreement(data, FONT_PATH))

    assert "道路交通事故损害赔偿调解协议书" in text
    assert "编号：DJ-2024-000123" in text
    assert "114,318.37" in text
    assert "人民币壹拾壹万肆仟叁佰壹拾捌元叁角柒分" in text
    assert "人民币壹拾元零伍分" in text
    assert "2024年1月5日9时30分" in text  # the accident time in Beijing time
    assert f"协议数据 SHA-256: {canonical_json_sha256(data)}" in text
    assert "第 1/" in text


def test_ruling_orders_performance_with_the_agreements_amounts() -> None:
    data = ruling_data()

    text = pdf_text(render_ruling(data, FONT_PATH))

    assert "某区人民法院" in text
    assert "民事裁定书" in text
    assert f"{ORDER}。" in text
    assert "人民币壹拾壹万肆仟叁佰壹拾捌元叁角柒分" in text
    assert f"人民币{amount_in_words(TOTAL)}" in text
    assert "裁定书：（2024）某0101民特12号" in text
    assert f"裁定数据 SHA-256: {canonical_json_sha256(data)}" in text


def test_agreement_and_ruling_share_the_amounts_table() -> None:
    agreement = pdf_text(render_agreement(agreement_data(), FONT_PATH))
    ruling = pdf_text(render_ruling(ruling_data(), FONT_PATH))

    row = f"合计{amount_figures(TOTAL)}人民币{amount_in_words(TOTAL)}".replace(" ", "")
    assert row in agreement.replace(" ", "")
    assert row in ruling.replace(" ", "")


def test_filing_summary_reads_the_case_in_chinese() -> None:
    data = summary_data()

    text = pdf_text(render_filing_summary(data, FONT_PATH))

    assert "道路交通事故损害赔偿纠纷案件移送诉讼材料摘要" in text
    assert "案件状态：转诉讼" in text
    assert "主要责任" in text
    assert "商业三者险（限额1,000,000.00元）" in text
    assert "114,318.37" in text
    assert "无报价记录。" in text
    assert "未达成调解协议。" in text
    assert f"摘要数据 SHA-256: {canonical_json_sha256(data)}" in text


@pytest.mark.parametrize(
    ("render", "data"),
    [
        (render_agreement, agreement_data),
        (render_ruling, ruling_data),
        (render_filing_summary, summary_data),
    ],
)
def test_the_same_data_gives_the_same_bytes(
    render: Callable[[dict[str, Any], str], bytes], data: Callable[[], dict[str, Any]]
) -> None:
    assert render(data(), FONT_PATH) == render(data(), FONT_PATH)


def test_documents_and_money_import_neither_flask_nor_the_database() -> None:
    for path in [APP / "money.py", *sorted((APP / "documents").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                assert top not in {"flask", "flask_babel", "sqlalchemy"}, (path.name, name)
                assert top != "app" or name.startswith(PURE_APP_MODULES), (path.name, name)


# -- the documents' legal form --------------------------------------------------------------


def pdf_lines(data: bytes) -> list[str]:
    """The PDF's lines as laid out (the cells of a table row share a line)."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [
            line.strip()
            for page in pdf.pages
            for line in (page.extract_text() or "").splitlines()
            if line.strip()
        ]


def assert_lines_break_by_the_rules(lines: list[str]) -> None:
    for line in lines:
        assert line[0] not in CANNOT_START, line
        assert line[-1] not in CANNOT_END, line


# Enough closing marks, brackets and figures that some fall at the end of a line at any width.
PUNCTUATED = (
    "甲方驾驶小型轿车（车辆号牌晋J12345）左转时，与直行的乙方（骑电动自行车）相撞；"
    "乙方受伤，送医治疗（住院11天）。经鉴定，乙方构成十级伤残（《人体损伤致残程度分级》"
    "第5.10.6.1条）；甲方垫付医疗费¥5,026.49（含检查费）。"
) * 6


@pytest.mark.parametrize("width", range(3, 41))
def test_line_breaking_keeps_closing_marks_and_opening_brackets_with_their_text(
    width: int,
) -> None:
    lines = [line for _space, line in break_lines(PUNCTUATED, [1.0] * len(PUNCTUATED), [width])]

    assert "".join(lines) == PUNCTUATED
    assert all(len(line) <= width for line in lines)
    assert_lines_break_by_the_rules(lines)


def test_line_breaking_keeps_figures_whole_when_they_fit() -> None:
    text = "赔偿金额为人民币114,318.37元整"
    lines = [line for _space, line in break_lines(text, [1.0] * len(text), [12])]

    assert lines == ["赔偿金额为人民币", "114,318.37元整"]


def test_documents_never_start_a_line_with_closing_punctuation() -> None:
    agreement = agreement_data()
    agreement["report"]["facts"] = PUNCTUATED
    agreement["report"]["cause"] = PUNCTUATED[::-1]
    ruling = ruling_data()
    ruling["finding"] = PUNCTUATED

    for lines in (
        pdf_lines(render_agreement(agreement, FONT_PATH)),
        pdf_lines(render_ruling(ruling, FONT_PATH)),
    ):
        assert_lines_break_by_the_rules(lines)


@pytest.mark.parametrize(
    ("grade", "clause"),
    [
        ("full", "甲方承担全部责任"),
        ("main", "甲方承担主要责任"),
        ("equal", "甲方承担同等责任"),
        ("minor", "甲方承担次要责任"),
        ("none", "甲方无责任"),
    ],
)
def test_each_liability_grade_is_worded_as_a_sentence(grade: str, clause: str) -> None:
    assert liability_clause("甲方", grade) == clause


def test_the_agreement_says_a_party_without_liability_bears_none() -> None:
    text = pdf_text(render_agreement(agreement_data(), FONT_PATH))

    assert "乙方（王五）无责任" in text
    assert "承担无责任" not in text


def test_the_agreement_gives_each_partys_particulars() -> None:
    data = agreement_data()
    data["parties"][0].update(
        gender="男",
        birth_date="1985-03-15",
        address="山西省吕梁市离石区滨河北西路1号",
        id_number="142301198503150011",
        plate="晋J12345",
    )

    text = pdf_text(render_agreement(data, FONT_PATH))

    assert (
        "甲方：张三，男，1985年3月15日出生，住山西省吕梁市离石区滨河北西路1号，"
        "公民身份号码142301198503150011；机动车驾驶人，车辆号牌晋J12345。"
    ) in text
    assert "乙方：王五；行人。" in text  # nothing more is stored, nothing is made up


def test_the_ruling_is_headed_by_the_court_and_names_the_tribunal_and_the_agreement() -> None:
    data = ruling_data()
    data["applicants"] = [
        {"kind": "party", "label": "甲方", "name": "张三", "gender": "男", "id_number": "1"},
        {"kind": "victim", "name": "李四", "birth_date": "1990-07-08"},
        {"kind": "insurer", "name": "甲保险公司", "covers": "甲方车辆交强险承保公司"},
    ]

    lines = pdf_lines(render_ruling(data, FONT_PATH))
    text = "".join(lines)

    assert lines[0] == "某区人民法院"
    assert lines[1] == "民事裁定书"
    assert "由某区人民法院道路交通事故纠纷巡回法庭依法进行了审查" in text
    assert "申请人（甲方）：张三，男，公民身份号码1。" in text
    assert "申请人（赔偿权利人）：李四，1990年7月8日出生。" in text
    assert "申请人（赔偿义务人）：甲保险公司（甲方车辆交强险承保公司）。" in text
    assert (
        "裁定如下：申请人张三于2024年3月1日经某区人民调解委员会主持调解达成的"
        "编号为DJ-2024-000123的调解协议有效；"
    ) in text


def test_the_order_names_every_applicant() -> None:
    order = ruling_order(
        ["张三", "王五", "甲保险公司"],
        signed_on="2026-12-03",
        committee="离石区交通事故人民调解委员会",
        agreement_number="DJ-2026-000001",
    )

    assert order == (
        "申请人张三、王五与甲保险公司于2026年12月3日经离石区交通事故人民调解委员会主持调解"
        f"达成的编号为DJ-2026-000001的调解协议有效；{ORDER}"
    )


@pytest.mark.parametrize(
    ("render", "data", "label"),
    [(render_agreement, agreement_data, "原件协议"), (render_ruling, ruling_data, "原件裁定")],
)
def test_a_copy_says_so_and_names_the_originals_data(
    render: Callable[..., bytes], data: Callable[[], dict[str, Any]], label: str
) -> None:
    original = canonical_json_sha256(data())

    text = pdf_text(render(data(), FONT_PATH, copy_of=original))

    assert "（副本）" in text
    assert "公民身份号码已部分隐去" in text
    assert f"{label}数据 SHA-256: {original}" in text
    assert render(data(), FONT_PATH) != render(data(), FONT_PATH, copy_of=original)
