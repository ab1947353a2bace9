"""Readers and checks for single values: ID numbers, plates, phones, amounts, liability grades."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# GB 11643-1999 citizen ID number: 17 digits and a mod 11-2 check character.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_SEPARATORS = "·・•∙‧･.-—_ "
# GA 36: province, issuing-office letter, then 5 characters (6 for new-energy vehicles), or 4
# and a suffix for trailers, learners, police, Hong Kong/Macau and consular plates.
PLATE_RE = re.compile(
    rf"[{PROVINCES}][A-Za-z][{re.escape(PLATE_SEPARATORS)}]?[A-Za-z0-9]{{4,6}}[挂学警港澳领试超]?"
    r"(?![A-Za-z0-9])"
)
PLATE_VALID_RE = re.compile(
    rf"[{PROVINCES}][A-HJ-NP-Z](?:[A-HJ-NP-Z0-9]{{5}}|[DF][A-HJ-NP-Z0-9]\d{{4}}|\d{{5}}[DF]"
    r"|[A-HJ-NP-Z0-9]{4}[挂学警港澳领试超])"
)
PHONE_RE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})(?!\d)")
POLICY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{5,39}")
NULL_VALUES = frozenset(
    (
        "",
        "/",
        "无",
        "—",
        "-",
        "——",
        "--",
        "空",
        "不详",
        "未知",
        "暂无",
        "无号牌",
        "无牌",
        "\\",
        "／",
    )
)

GRADES = {"全部": "full", "主要": "main", "同等": "equal", "次要": "minor"}
# One pattern for every way a grade is written; the group that matches says which grade.
GRADE_RE = re.compile(
    r"(?P<grade>全部|主要|同等|次要)(?:的)?责任"
    r"|(?P<short>全责|主责|同责|次责)"
    r"|(?P<none>(?:无|没有|不负有?|不承担|不应承担|不负担)(?:此|本|该|这起)?(?:次)?(?:道路)?(?:交通)?"
    r"(?:事故)?(?:的)?责任|无责)"
)
SHORT_GRADES = {"全责": "full", "主责": "main", "同责": "equal", "次责": "minor"}
BARE_GRADES = {
    "全部": "full",
    "主要": "main",
    "同等": "equal",
    "次要": "minor",
    "无": "none",
    "无责": "none",
    "全": "full",
    "主": "main",
    "次": "minor",
}

_UPPER_DIGITS = {"零": 0, "〇": 0, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7}
_UPPER_DIGITS.update({"捌": 8, "玖": 9, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5})
_UPPER_DIGITS.update({"六": 6, "七": 7, "八": 8, "九": 9})
_UPPER_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
MONEY_RE = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<unit>万元|万|元)?"
    r"|(?P<zh>[零〇壹贰叁肆伍陆柒捌玖拾佰仟一二两三四五六七八九十百千]+)(?P<zhunit>万元|万|元)"
)


def id_check_char(first17: str) -> str:
    """GB 11643 mod 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def is_valid_id(number: str) -> bool:
    """An 18-character ID number whose check character is right."""
    return (
        len(number) == 18
        and number[:17].isdigit()
        and number[17] in "0123456789X"
        and id_check_char(number[:17]) == number[17]
    )


def normalize_plate(text: str) -> str:
    """Upper case, no separators: '晋j·12345' → '晋J12345'."""
    return "".join(ch for ch in text.upper() if ch not in PLATE_SEPARATORS)


def is_plate(plate: str) -> bool:
    """A normalised plate that follows the GA 36 pattern."""
    return PLATE_VALID_RE.fullmatch(plate) is not None


def upper_number(text: str) -> int | None:
    """'壹佰' → 100, '一百五十' → 150; None when not a Chinese number."""
    total = 0
    digit = None
    for ch in text:
        if ch in _UPPER_DIGITS:
            digit = _UPPER_DIGITS[ch]
        elif ch in _UPPER_UNITS:
            total += (1 if digit is None else digit) * _UPPER_UNITS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def parse_money(text: str) -> tuple[Decimal, int, int] | None:
    """The first amount in yuan (100万元 → 1000000) and its span; None when none is readable."""
    for match in MONEY_RE.finditer(text):
        if match.group("num"):
            try:
                amount = Decimal(match.group("num").replace(",", ""))
            except InvalidOperation:
                continue
            unit = match.group("unit") or ""
        else:
            number = upper_number(match.group("zh"))
            if number is None:
                continue
            amount = Decimal(number)
            unit = match.group("zhunit")
        if unit.startswith("万"):
            amount *= 10000
        return amount, match.start(), match.end()
    return None


def format_money(amount: Decimal) -> str:
    """Two decimals, no grouping: '1000000.00'."""
    return f"{amount.quantize(Decimal('0.01')):f}"


def grade_of(match: re.Match) -> str:
    """The liability grade named by a GRADE_RE match."""
    if match.group("grade"):
        return GRADES[match.group("grade")]
    if match.group("short"):
        return SHORT_GRADES[match.group("short")]
    return "none"


def bare_grade(text: str) -> str | None:
    """A grade written alone in a table cell: '主要', '主要责任', '无责任', '次责'."""
    text = text.strip("：:，,。；; ")
    match = GRADE_RE.fullmatch(text)
    if match:
        return grade_of(match)
    if text.endswith("责任"):
        text = text[:-2]
    return BARE_GRADES.get(text)
