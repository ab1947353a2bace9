"""How the documents word the data: liability grades, party roles, dates and times."""

from __future__ import annotations

from datetime import date, datetime

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
