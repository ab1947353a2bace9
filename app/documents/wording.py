"""How the documents word the data: liability grades, party roles, people's particulars,
dates and times."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from app.clock import BEIJING

LIABILITY = {
    "full": "全部责任",
    "main": "主要责任",
    "equal": "同等责任",
    "minor": "次要责任",
    "none": "无责任",
}
ROLES = {
    "driver": "机动车驾驶人",
    "pedestrian": "行人",
    "passenger": "乘车人",
    "cyclist": "非机动车驾驶人",
    "owner": "车辆所有人",
}


def chinese_date(value: str | None) -> str:
    """2024-01-05 → 2024年1月5日."""
    if not value:
        return "—"
    day = date.fromisoformat(value[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_time(value: str | None) -> str:
    """An ISO time → 2023年11月5日9时30分 (Beijing time)."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING)
    return f"{moment.year}年{moment.month}月{moment.day}日{moment.hour}时{moment.minute:02d}分"


def liability_clause(who: str, grade: str) -> str:
    """甲方承担主要责任; but 乙方无责任: no liability is not something one bears."""
    if grade == "none":
        return f"{who}{LIABILITY[grade]}"
    return f"{who}承担{LIABILITY[grade]}"


def particulars(person: Mapping[str, Any]) -> str:
    """A natural person as a court writes them: 张三，男，1985年3月15日出生，住某地，公民身份号码…;
    only what is stored (a missing fact is left out, never guessed)."""
    parts = [
        person.get("name") or "身份不明",
        person.get("gender"),
        f"{chinese_date(person['birth_date'])}出生" if person.get("birth_date") else None,
        f"住{person['address']}" if person.get("address") else None,
        f"公民身份号码{person['id_number']}" if person.get("id_number") else None,
    ]
    return "，".join(part for part in parts if part)
