"""Time as users see it: stored in UTC, shown and dated in Beijing time (Asia/Shanghai)."""

from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
