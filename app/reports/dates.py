"""Dates and times as police reports write them: 2024年3月18日, 2024-03-18, 二〇二四年三月十八日."""

from __future__ import annotations

import datetime as dt
import re

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_DIGITS.update({"七": 7, "八": 8, "九": 9})
_ZH = "〇零一二两三四五六七八九十廿卅"

# Day and hour alternatives are bounded so that "2024-03-1808:35" (the space lost with the
# whitespace) still splits into day 18 and 08:35.
_NUM = rf"(?:\d{{1,2}}|[{_ZH}]{{1,3}})"
_YEAR = r"(?:\d{4}|[〇零一二三四五六七八九]{4})"
DATE_PATTERN = (
    rf"(?:(?P<y>{_YEAR})年(?P<m>{_NUM})月(?P<d>{_NUM})[日号]"
    r"|(?P<y2>\d{4})(?P<sep>[-/.])(?P<m2>1[0-2]|0?[1-9])(?P=sep)(?P<d2>3[01]|[12]\d|0?[1-9]))"
)
TIME_PATTERN = (
    r"(?P<noon>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜间|夜里)?"
    rf"(?:(?P<H>2[0-3]|[01]?\d|[{_ZH}]{{1,3}})(?:时|点钟?)(?:(?P<M>[0-5]?\d|[{_ZH}]{{1,3}})分)?"
    r"|(?P<H2>2[0-3]|[01]?\d)[:：](?P<M2>[0-5]\d))"
    r"(?:许|左右|前后)?"
)
DATE_RE = re.compile(DATE_PATTERN)
DATETIME_RE = re.compile(rf"{DATE_PATTERN}(?:T|[,，])?(?:{TIME_PATTERN})?")


def zh_int(text: str) -> int | None:
    """'十八' → 18, '廿一' → 21, '〇五' → 5, '2024' → 2024; None when not a number."""
    if not text:
        return None
    if text.isascii():
        return int(text) if text.isdigit() else None
    if all(ch in _DIGITS for ch in text):  # read digit by digit: 二〇二四, 〇五
        value = 0
        for ch in text:
            value = value * 10 + _DIGITS[ch]
        return value
    tens_char = {"十": 1, "廿": 2, "卅": 3}
    for i, ch in enumerate(text):
        if ch in tens_char:
            head, tail = text[:i], text[i + 1 :]
            if head and (len(head) != 1 or head not in _DIGITS or ch != "十"):
                return None
            tens = _DIGITS[head] if head else tens_char[ch]
            if len(tail) > 1 or (tail and tail not in _DIGITS):
                return None
            return tens * 10 + (_DIGITS[tail] if tail else 0)
    return None


def _date(match: re.Match) -> dt.date | None:
    if match.group("y"):
        year, month, day = (zh_int(match.group(k)) for k in ("y", "m", "d"))
    else:
        year, month, day = (int(match.group(k)) for k in ("y2", "m2", "d2"))
    if year is None or month is None or day is None:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _time(match: re.Match) -> dt.time | None:
    hour_text = match.group("H") or match.group("H2")
    if hour_text is None:
        return None
    hour = zh_int(hour_text)
    minute = zh_int(match.group("M") or match.group("M2") or "0")
    if hour is None or minute is None:
        return None
    noon = match.group("noon")
    if noon in ("下午", "傍晚", "晚上", "夜间", "夜里") and hour < 12:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def find_date(
    text: str, pos: int = 0, endpos: int | None = None
) -> tuple[dt.date, int, int] | None:
    """The first readable date in text[pos:endpos] and its span."""
    end = len(text) if endpos is None else endpos
    for match in DATE_RE.finditer(text, pos, end):
        value = _date(match)
        if value is not None:
            return value, match.start(), match.end()
    return None


def find_datetime(
    text: str, pos: int = 0, endpos: int | None = None
) -> tuple[dt.date, dt.time | None, int, int] | None:
    """The first readable date in the range, with the time of day written after it, if any."""
    end = len(text) if endpos is None else endpos
    for match in DATETIME_RE.finditer(text, pos, end):
        value = _date(match)
        if value is not None:
            time = _time(match)
            if time is not None:
                stop = match.end()
            elif match.group("y"):
                stop = match.end("d") + 1  # the 日 after the day
            else:
                stop = match.end("d2")
            return value, time, match.start(), stop
    return None


def parse_date(text: str) -> dt.date | None:
    """The date when `text` is exactly one date (surrounding spaces ignored), else None."""
    text = "".join(text.split())
    match = DATE_RE.fullmatch(text)
    return _date(match) if match else None


def parse_datetime(text: str) -> tuple[dt.date, dt.time | None] | None:
    """Date and time of day from a short text that holds one; None when no date is readable."""
    text = "".join(text.split())
    found = find_datetime(text)
    return (found[0], found[1]) if found else None
