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
)
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
