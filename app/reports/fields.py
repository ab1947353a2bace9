"""Checks on single values read from a letter, and the collector of values, provenance,
confidence and warnings.

A value is filled only when it validates; otherwise it is left null (or, where the printed
value itself is what the officer must see, kept) with a warning naming the field and why.
"""

from __future__ import annotations

import datetime as dt
import re

from . import values
from .dates import DATE_RE, find_datetime, parse_date
from .spans import Span

# Below this OCR confidence a reading is not trusted: the field is left null with a warning.
OCR_MIN_CONFIDENCE = 0.9
# A long text (the facts, the liability paragraph) read by OCR goes wrong by one character in a
# hundred long before its lines look doubtful; it is taken only when every line is read surely.
OCR_TEXT_MIN_CONFIDENCE = 0.975
LONG_TEXTS = frozenset(("facts", "cause", "liability_text", "mediation_result"))
# Earliest date a letter of the 2004 law can carry; later than tomorrow is a misreading.
EARLIEST = dt.date(2004, 5, 1)

WEATHER = (
    "雨夹雪",
    "雷阵雨",
    "冻雨",
    "暴雨",
    "大雨",
    "中雨",
    "小雨",
    "阵雨",
    "暴雪",
    "大雪",
    "中雪",
    "小雪",
    "阵雪",
    "大雾",
    "浓雾",
    "团雾",
    "多云",
    "沙尘",
    "扬沙",
    "冰雹",
    "大风",
    "晴",
    "阴",
    "雨",
    "雪",
    "雾",
    "霾",
)
WEATHER_RE = re.compile("|".join(WEATHER))

# Words that are labels of the templates' boxes; a value equal to one is a misread layout.
LABEL_WORDS = (
    "姓名",
    "性别",
    "驾驶证或身份证号码",
    "驾驶证或身份证号",
    "居民身份证号码",
    "身份证号码",
    "联系电话",
    "交通方式",
    "机动车型号",
    "号牌",
    "号牌号码",
    "保险公司",
    "保险凭证号",
    "保单号",
    "当事人",
    "当事人责任",
    "交通事故事实",
    "交通警察",
    "天气",
    "住址",
)
LABEL_RE = re.compile("|".join(sorted(LABEL_WORDS, key=len, reverse=True)))
CN_TZ = "+08:00"


def is_label(text: str) -> bool:
    """A value that is (or contains) one of the templates' box labels."""
    return bool(LABEL_RE.search(text))


class Reading:
    """What the parser read: values by path, their provenance and confidence, and warnings."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.provenance: dict[str, dict] = {}
        self.confidence: dict[str, float] = {}
        self.warnings: list[dict[str, str]] = []

    def warn(self, path: str, code: str, message: str) -> None:
        """Record that `path` is doubtful (`code` for programs, `message` for people)."""
        if not any(w["field"] == path and w["code"] == code for w in self.warnings):
            self.warnings.append({"field": path, "code": code, "message": message})

    def accept(self, path: str, value: object, span: Span | None) -> object:
        """`value` read from `span`, or None when OCR was unsure of those characters."""
        if value is None:
            return None
        if span is not None:
            confidence = span.confidence()
            if confidence is not None:
                floor = OCR_TEXT_MIN_CONFIDENCE if path in LONG_TEXTS else OCR_MIN_CONFIDENCE
                if confidence < floor:
                    self.warn(
                        path,
                        "ocr_unsure",
                        f"扫描件识别不确定（置信度 {confidence:.2f}），请对照原件填写",
                    )
                    return None
                self.confidence[path] = round(confidence, 3)
            where = span.provenance()
            if where is not None:
                self.provenance[path] = where
        return value


# -- single values ------------------------------------------------------------------------


def read_id(reading: Reading, path: str, span: Span) -> str | None:
    """An ID number; a wrong check digit is kept with a warning from a text layer, dropped
    (with the warning) from a scan, where it is most likely a misreading."""
    number = span.text.upper()
    if len(number) == 15 and number.isdigit():
        reading.warn(path, "old_id", "15 位旧身份证号码，无校验位")
        return reading.accept(path, number, span)
    if not values.is_valid_id(number):
        reading.warn(path, "check_digit", "身份证号码校验位不符（GB 11643），请核对")
        if reading.source == "ocr" or len(number) != 18:
            return None
    elif _birth_of(number) is None:
        reading.warn(path, "id_date", "身份证号码中的出生日期不存在")
        return None
    return reading.accept(path, number, span)


def _birth_of(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_gender(number: str | None) -> str | None:
    """男/女 from the 17th digit of a valid 18-digit ID number."""
    if number and len(number) == 18 and values.is_valid_id(number):
        return "男" if int(number[16]) % 2 else "女"
    return None


def id_birth(number: str | None) -> dt.date | None:
    """The birth date written in a valid 18-digit ID number."""
    if number and len(number) == 18 and values.is_valid_id(number):
        return _birth_of(number)
    return None


def read_plate(reading: Reading, path: str, span: Span) -> str | None:
    """A plate, normalised; one that breaks the GA 36 pattern is kept with a warning from a text
    layer and dropped from a scan."""
    plate = values.normalize_plate(span.text)
    if not values.is_plate(plate):
        reading.warn(path, "plate_pattern", f"号牌 {plate} 不符合号牌编码规则，请核对")
        if reading.source == "ocr":
            return None
    return reading.accept(path, plate, span)


def read_date(reading: Reading, path: str, span: Span) -> dt.date | None:
    """A date that exists and is not before 2004 or after tomorrow."""
    found = None
    for match in DATE_RE.finditer(span.text):
        found = parse_date(match.group(0))
        if found is not None:
            span = span.match_span(match)
            break
    if found is None:
        reading.warn(path, "date", "日期无法识别，请对照原件填写")
        return None
    if not EARLIEST <= found <= dt.date.today() + dt.timedelta(days=1):
        reading.warn(path, "date", f"日期 {found.isoformat()} 不合理，请对照原件填写")
        return None
    return reading.accept(path, found, span)


def read_datetime(reading: Reading, path: str, span: Span) -> tuple[dt.date, dt.time | None] | None:
    """Date and time of day written together (上午/下午 resolved, Chinese numerals read)."""
    found = find_datetime(span.text)
    if found is None:
        reading.warn(path, "date", "时间无法识别，请对照原件填写")
        return None
    day, time, start, end = found
    if not EARLIEST <= day <= dt.date.today() + dt.timedelta(days=1):
        reading.warn(path, "date", f"日期 {day.isoformat()} 不合理，请对照原件填写")
        return None
    if reading.accept(path, day, span[start:end]) is None:
        return None
    return day, time


def iso_time(day: dt.date, time: dt.time | None) -> str | None:
    """`YYYY-MM-DDTHH:MM:00+08:00`, or None without a time of day."""
    if time is None:
        return None
    return f"{day.isoformat()}T{time.hour:02d}:{time.minute:02d}:00{CN_TZ}"


def read_weather(reading: Reading, path: str, spans: list[Span]) -> str | None:
    """The weather word; two different readings leave it null with a warning."""
    found = {span.text: span for span in spans}
    if len(found) > 1:
        reading.warn(path, "conflict", f"天气有两种写法（{'、'.join(found)}），请核对")
        return None
    if not found:
        return None
    text, span = next(iter(found.items()))
    return reading.accept(path, text, span)


def money_digits(amount) -> str:
    """Yuan as digits: 1000000, or 1234.50 when there are fen."""
    if amount == amount.to_integral_value():
        return str(int(amount))
    return values.format_money(amount)
