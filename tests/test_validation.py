"""The input module: text, amounts, dates, versions and declared JSON bodies, with messages
that name fields by their Chinese labels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app import validation
from app.errors import InvalidTransition, ValidationFailed
from app.validation import VERSION, Body, Field

AMOUNT = _l("Amount")


@pytest.fixture(autouse=True)
def chinese(app: Flask) -> Iterator[None]:
    """Messages as users read them: in Chinese."""
    with app.test_request_context(), force_locale("zh"):
        yield


def refusal(check: Any, *args: Any, **kwargs: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        check(*args, **kwargs)
    return refused.value


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("114,318.37", "114318.37"),
        ("114318.37", "114318.37"),
        (" 1,000 ", "1000.00"),
        ("0", "0.00"),
        (1200, "1200.00"),
        (12.5, "12.50"),
        (Decimal("80000"), "80000.00"),
        ("999,999,999,999.99", "999999999999.99"),
    ],
)
def test_amounts_are_read_with_or_without_thousands_separators(written: Any, expected: str) -> None:
    assert validation.amount(written, name="amount", label=AMOUNT) == Decimal(expected)


@pytest.mark.parametrize(
    "written", ["-1", "1.234", "1,00", "12,3456.00", "一百", "", None, True, "1e3", "1000000000000"]
)
def test_what_is_not_an_amount_is_refused_naming_the_field_by_its_label(written: Any) -> None:
    refused = refusal(validation.amount, written, name="amount", label=AMOUNT)

    assert refused.message.startswith("金额应为")
    assert "amount" not in refused.message
    assert refused.details["field"] == "amount"
    assert refused.status == 422


def test_a_positive_amount_refuses_zero() -> None:
    refused = refusal(validation.amount, "0.00", name="amount", label=AMOUNT, positive=True)

    assert refused.message == "金额应大于零。"


def test_an_optional_amount_left_blank_is_none() -> None:
    assert validation.optional_amount("  ", name="amount", label=AMOUNT) is None
    assert validation.optional_amount(None, name="amount", label=AMOUNT) is None


def test_text_is_stripped_and_blank_text_is_none() -> None:
    assert validation.text("  备注  ", name="note", label=_l("Note"), limit=10) == "备注"
    assert validation.text("   ", name="note", label=_l("Note"), limit=10) is None
    assert validation.text(None, name="note", label=_l("Note"), limit=10) is None


@pytest.mark.parametrize(
    ("value", "required", "message"),
    [
        (12, False, "备注应为文字。"),
        ("x" * 11, False, "备注过长（最多 10 个字符）。"),
        ("  ", True, "请填写备注。"),
    ],
)
def test_bad_text_is_refused_naming_the_field_by_its_label(
    value: Any, required: bool, message: str
) -> None:
    refused = refusal(
        validation.text, value, name="note", label=_l("Note"), limit=10, required=required
    )

    assert refused.message == message
    assert refused.details["field"] == "note"


def test_dates_are_read_in_iso_form() -> None:
    label = _l("Payment due")
    assert validation.a_date("2024-01-31", name="due", label=label) == date(2024, 1, 31)
    assert validation.a_date("", name="due", label=label) is None
    assert refusal(validation.a_date, "31/01/2024", name="due", label=label).message == (
        "履行期限应为日期，如 2024-01-31。"
    )


def test_a_moment_may_be_required_to_say_its_offset() -> None:
    label = _l("Expiry")
    read = validation.moment("2024-03-01T18:00:00+08:00", name="at", label=label)
    assert read == datetime.fromisoformat("2024-03-01T18:00:00+08:00")
    assert validation.moment("2024-03-01T18:00", name="at", label=label).tzinfo is None
    refused = refusal(
        validation.moment, "2024-03-01T18:00", name="at", label=label, with_offset=True
    )
    assert refused.message.startswith("有效期限应为带时差的日期时间")


@pytest.mark.parametrize("value", ["3", 3.0, True])
def test_whole_numbers_are_json_integers_only(value: Any) -> None:
    refused = refusal(validation.whole_number, value, name="id", label=_l("Tribunal"))

    assert refused.message == "法庭应为整数。"


def test_a_stale_version_is_a_conflict_and_no_version_is_no_check() -> None:
    case = SimpleNamespace(version=3)
    validation.check_version(case, 3)
    validation.check_version(case, None)
    with pytest.raises(InvalidTransition):
        validation.check_version(case, 2)


def test_the_version_sent_must_be_a_whole_number() -> None:
    assert validation.version({"version": 4}) == 4
    assert validation.version({}) is None
    assert refusal(validation.version, {"version": "4"}).message == "案件版本应为整数。"


PAYMENT = Body(
    (
        VERSION,
        Field("amount", AMOUNT, "amount", required=True),
        Field("note", _l("Note"), limit=10),
        Field("paid_on", _l("Paid on"), "date"),
    )
)


def test_a_declared_body_reads_every_field_by_its_kind() -> None:
    read = PAYMENT.read({"amount": "1,200.50", "note": " 首付 ", "version": 2})

    assert read == {"version": 2, "amount": Decimal("1200.50"), "note": "首付", "paid_on": None}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "请填写金额。"),
        ({"amount": "1", "paid_on": "昨天"}, "付款日期应为日期，如 2024-01-31。"),
        ({"amount": "1", "extra": 1}, "未知字段 extra。"),
        (["amount"], "请求体必须是 JSON 对象。"),
    ],
)
def test_a_declared_body_refuses_what_does_not_fit(body: Any, message: str) -> None:
    assert refusal(PAYMENT.read, body).message == message


def test_an_optional_body_may_be_absent_and_a_sparse_body_keeps_only_what_was_sent() -> None:
    assert Body((VERSION,), optional=True).read(None) == {"version": None}
    claims = Body((VERSION, Field("victims", _l("Victims"), "array", required=True)), sparse=True)
    assert claims.read({"victims": []}) == {"victims": []}
    refused = refusal(claims.read, {"victims": [], "options": {"x": 1}, "colour": "red"})
    assert refused.details["fields"] == ["options", "colour"]


def test_a_declared_body_is_described_as_an_openapi_schema() -> None:
    schema = PAYMENT.schema()

    assert schema["type"] == "object"
    assert schema["required"] == ["version", "amount"]  # 428 without it (or If-Match)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["amount"]["title"] == "金额"
    assert schema["properties"]["note"] == {"type": "string", "title": "备注", "maxLength": 10}
    assert schema["properties"]["paid_on"]["format"] == "date"
