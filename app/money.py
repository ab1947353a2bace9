"""Amounts of yuan as the app writes them: two-decimal text for JSON, audit records and forms,
grouped figures and capital numerals (大写) for the documents.

Plain Python: the engine's arithmetic (`app.compensation.money`) underneath, no Flask, no
database. Reading amounts that users type is `app.validation`'s work, not this module's.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from app.compensation.money import amount_text

__all__ = ["amount_figures", "amount_in_words", "amount_text", "optional_amount_text"]

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿")
_LIMIT = Decimal("1000000000000")  # 万亿: beyond Numeric(14, 2)


def optional_amount_text(value: Decimal | None) -> str | None:
    """`amount_text` ("12345.60"), or None where there is no amount (an unknown limit)."""
    return None if value is None else amount_text(value)


def amount_figures(amount: Decimal | str) -> str:
    """12345.6 → 12,345.60: an amount in figures as the documents print it."""
    return f"{Decimal(amount):,.2f}"


def amount_in_words(amount: Decimal | str | int) -> str:
    """An amount of yuan in capital numerals as written on cheques and agreements.

    Follows the People's Bank of China rules for 中文大写金额 (支付结算办法 annex): 元整 when
    there are no 角 and 分 (and 角整, which the rules allow, so that nothing can be appended);
    one 零 for a run of zeros inside the number; 元零…分 when 角 is zero but 分 is not; a zero at
    the 万/亿/元 position followed by a non-zero 仟/角 is not written (the rules allow either).
    123000 → 壹拾贰万叁仟元整; 100000.05 → 壹拾万元零伍分; 0 → 零元整.
    """
    if isinstance(amount, float):
        raise TypeError("give the amount as a Decimal or a string, never a float")
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite() or value < 0 or value >= _LIMIT:
        raise ValueError(f"amount out of range: {amount!r}")
    cents = value.quantize(Decimal("0.01"))
    if cents != value:
        raise ValueError(f"an amount has at most two decimals: {amount!r}")
    yuan, rest = divmod(int(cents * 100), 100)
    jiao, fen = divmod(rest, 10)
    words = _integer_words(yuan) + "元" if yuan else ""
    if not jiao and not fen:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"  # 元零伍分: the missing 角 must show
    return words + (_DIGITS[fen] + "分" if fen else "整")


def _integer_words(number: int) -> str:
    digits = str(number)
    out: list[str] = []
    pending_zero = False
    for index, char in enumerate(digits):
        group, small = divmod(len(digits) - 1 - index, 4)
        if char == "0":
            pending_zero = True
        else:
            if pending_zero and out:
                out.append("零")
            pending_zero = False
            out.append(_DIGITS[int(char)] + _SMALL_UNITS[small])
        if small == 0 and group > 0 and digits[max(0, index - 3) : index + 1].strip("0"):
            # The group's name (万, 亿) absorbs a zero in its last place: 壹拾万柒仟.
            out.append(_GROUP_UNITS[group])
            pending_zero = False
    return "".join(out)
