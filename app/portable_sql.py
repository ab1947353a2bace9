"""SQL the figures need that PostgreSQL and SQLite spell differently: the median and 90th
percentile, lengths of time in days, and Beijing dates and months of stored UTC timestamps.

Each is an expression compiled for the database in use, so a query is written once and runs on
the production database and on the demo's embedded one alike. SQLite has no percentile
aggregate: `register_sqlite_functions` gives it one (`daojiao_percentile`) computed the way
PostgreSQL's `percentile_cont` is.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Date, Float, Integer, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# Beijing has kept UTC+8 all year since 1991: a fixed offset is its time for every stored case.
BEIJING_OFFSET_SQLITE = "'+8 hours'"


class percentile(FunctionElement[float]):  # noqa: N801 - an SQL function, named like one
    """The continuous percentile of `value` at `fraction` (0.5: the median), NULLs ignored."""

    type = Float()
    inherit_cache = True

    def __init__(self, fraction: float, value: Any) -> None:
        super().__init__(literal(fraction, Float()), value)


class days_between(FunctionElement[float]):  # noqa: N801
    """Days (with their fraction) from the timestamp `start` to the timestamp `end`."""

    type = Float()
    inherit_cache = True


class dates_apart(FunctionElement[int]):  # noqa: N801
    """Whole days from the date `start` to the date `end`."""

    type = Integer()
    inherit_cache = True


class beijing_date(FunctionElement[Any]):  # noqa: N801
    """The Beijing calendar date of a UTC timestamp."""

    type = Date()
    inherit_cache = True


class beijing_month(FunctionElement[str]):  # noqa: N801
    """The Beijing month ("2026-11") of a UTC timestamp."""

    type = String()
    inherit_cache = True


def _args(element: FunctionElement[Any], compiler: Any, **kw: Any) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(percentile)
def _percentile(element: percentile, compiler: Any, **kw: Any) -> str:
    fraction, value = _args(element, compiler, **kw)
    return f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {value})"


@compiles(percentile, "sqlite")
def _percentile_sqlite(element: percentile, compiler: Any, **kw: Any) -> str:
    fraction, value = _args(element, compiler, **kw)
    return f"daojiao_percentile({value}, {fraction})"


@compiles(days_between)
def _days_between(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = _args(element, compiler, **kw)
    return f"CAST(EXTRACT(epoch FROM ({end}) - ({start})) AS FLOAT) / 86400.0"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    # Julian days are floats: rounded to the millisecond, a length is exact to what users see.
    start, end = _args(element, compiler, **kw)
    return f"ROUND((julianday({end}) - julianday({start})) * 86400.0, 3) / 86400.0"


@compiles(dates_apart)
def _dates_apart(element: dates_apart, compiler: Any, **kw: Any) -> str:
    start, end = _args(element, compiler, **kw)
    return f"(({end}) - ({start}))"


@compiles(dates_apart, "sqlite")
def _dates_apart_sqlite(element: dates_apart, compiler: Any, **kw: Any) -> str:
    start, end = _args(element, compiler, **kw)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


@compiles(beijing_date)
def _beijing_date(element: beijing_date, compiler: Any, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    return f"CAST(timezone('Asia/Shanghai', {value}) AS DATE)"


@compiles(beijing_date, "sqlite")
def _beijing_date_sqlite(element: beijing_date, compiler: Any, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    return f"date({value}, {BEIJING_OFFSET_SQLITE})"


@compiles(beijing_month)
def _beijing_month(element: beijing_month, compiler: Any, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    return f"to_char(timezone('Asia/Shanghai', {value}), 'YYYY-MM')"


@compiles(beijing_month, "sqlite")
def _beijing_month_sqlite(element: beijing_month, compiler: Any, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    return f"strftime('%Y-%m', {value}, {BEIJING_OFFSET_SQLITE})"


class _Percentile:
    """SQLite aggregate `daojiao_percentile(value, fraction)`: PostgreSQL's `percentile_cont`,
    linear interpolation between the two values around position fraction × (n − 1)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        position = self.fraction * (len(ordered) - 1)
        low, high = math.floor(position), math.ceil(position)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Give a new SQLite connection the aggregate the figures use."""
    dbapi_connection.create_aggregate("daojiao_percentile", 2, _Percentile)
