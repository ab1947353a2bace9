"""Finding and reading cases, always through the access filter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import CompoundSelect, Select, func, select, tuple_, union

from app.access import visible_cases
from app.db import session
from app.models import Case, CaseStatus, Job, Party, User, Vehicle

PAGE_SIZE = 20
# Lists count at most this many cases: past it they say "more than 1,000" and read on by cursor
# (counting a province's every case on each page costs more than showing the page).
COUNT_CAP = 1_000


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    page: int | None  # None: reached by a cursor (`after`/`before`), not by its number
    pages: int
    total: int
    exact: bool = True  # False: there are more than `total` (the count stopped at its cap)
    next_cursor: str | None = None  # `after=` this for the page after, if there is one
    previous_cursor: str | None = None  # `before=` this for the page before, if there is one

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page is not None and self.page < self.pages else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"^(\d{1,18})-(\d{1,12})$")


def cursor_of(case: Case) -> str:
    """A case's place in the newest-first order: its creation time (µs) and id."""
    return f"{(case.created_at - _EPOCH) // timedelta(microseconds=1)}-{case.id}"


def parse_cursor(text: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor names; ValueError if it is not one."""
    match = _CURSOR.match(text)
    if match is None:
        raise ValueError(f"not a case-list cursor: {text!r}")
    return _EPOCH + timedelta(microseconds=int(match[1])), int(match[2])


def _like_literal(text: str) -> str:
    """Escape LIKE wildcards so that `%` and `_` typed by a user match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# A resident ID number (18 characters, the last a digit or X; the old 15-digit form too).
ID_NUMBER = re.compile(r"^(\d{17}[\dX]|\d{15})$")
# pg_trgm finds a substring by its trigrams: a shorter text has none to look up.
TRIGRAM_MIN = 3


def matching_case_ids(text: str) -> Select | CompoundSelect:
    """The ids of the cases found by `text`, each part answered by an index: a whole ID number,
    case number, letter number or plate by its b-tree alone; else a party name beginning with it
    (a b-tree prefix scan: Chinese names are short) and, from three characters on, case and
    letter numbers, names and plates containing it (pg_trgm GIN indexes), as a union of id sets
    rather than one scan of every party and vehicle."""
    if ID_NUMBER.match(text.upper()):
        return select(Party.case_id).where(Party.id_number.in_({text, text.upper()}))
    plate = text.replace("·", "").replace("・", "").replace(" ", "").upper()
    exact = union(
        select(Case.id).where(Case.number == text),
        select(Case.id).where(Case.report_no == text),
        select(Vehicle.case_id).where(Vehicle.plate == plate),
    )
    if session.scalars(exact.limit(1)).first() is not None:
        # A whole case number, letter number or plate: its b-tree answers, no substring search.
        return exact
    literal = _like_literal(text)
    parts = [select(Party.case_id).where(Party.name.like(f"{literal}%", escape="\\"))]
    if len(text) >= TRIGRAM_MIN:
        parts += [
            select(Case.id).where(Case.number.ilike(f"%{literal}%", escape="\\")),
            select(Case.id).where(Case.report_no.ilike(f"%{literal}%", escape="\\")),
            select(Party.case_id).where(Party.name.ilike(f"%{literal}%", escape="\\")),
        ]
    if len(plate) >= TRIGRAM_MIN:
        parts.append(
            select(Vehicle.case_id).where(
                Vehicle.plate.ilike(f"%{_like_literal(plate)}%", escape="\\")
            )
        )
    return union(*parts)


def search_cases(
    *,
    user: User,
    status: CaseStatus | None = None,
    q: str | None = None,
    page: int = 1,
    after: str | None = None,
    before: str | None = None,
    per_page: int | None = None,
    count_cap: int | None = None,
    among: Select | None = None,
) -> CasePage:
    """The cases `user` may see, newest first, filtered by status and free text; counted up to
    `count_cap` (COUNT_CAP by default).

    A page is found by its number (an offset, bounded by the count's cap) or, past the cap or to
    read on, by a cursor from the page next to it: `after` the last case of the page before
    or `before` the first case of the page after, each an index range scan whatever the depth.
    Raises ValueError for a cursor that is not one. `among`: only the case ids it selects
    (the cases behind an oversight figure, app/stats.py)."""
    query = visible_cases(user)
    if among is not None:
        query = query.where(Case.id.in_(among))
    if status is not None:
        query = query.where(Case.status == status)
    text = (q or "").strip()
    if text:
        query = query.where(Case.id.in_(matching_case_ids(text)))
    per_page = per_page or PAGE_SIZE
    cap = COUNT_CAP if count_cap is None else count_cap
    counted = query.with_only_columns(Case.id).limit(cap + 1).subquery()
    total = session.scalar(select(func.count()).select_from(counted)) or 0
    exact = total <= cap
    total = min(total, cap)
    # Past the cap there is at least one page more than the count shows.
    pages = max(1, -(-total // per_page)) + (0 if exact else 1)
    key = tuple_(Case.created_at, Case.id)
    newest_first = query.order_by(Case.created_at.desc(), Case.id.desc())
    number: int | None = None
    if before is not None:
        # Read back from the cursor, oldest first, then turn the page the right way round.
        found = session.scalars(
            query.where(key > tuple_(*parse_cursor(before)))
            .order_by(Case.created_at, Case.id)
            .limit(per_page + 1)
        ).all()
        items = list(reversed(found[:per_page]))
        newer, older = len(found) > per_page, True
    else:
        if after is not None:
            found_query = newest_first.where(key < tuple_(*parse_cursor(after)))
        else:
            number = min(max(1, page), pages)
            found_query = newest_first.offset((number - 1) * per_page)
        found = session.scalars(found_query.limit(per_page + 1)).all()
        items = list(found[:per_page])
        newer, older = after is not None or number > 1, len(found) > per_page
    return CasePage(
        items,
        number,
        pages,
        total,
        exact,
        next_cursor=cursor_of(items[-1]) if items and older else None,
        previous_cursor=cursor_of(items[0]) if items and newer else None,
    )


def case_jobs(case: Case) -> list[Job]:
    """The case's background jobs, newest first (status, progress, failure reason)."""
    return list(session.scalars(select(Job).where(Job.case_id == case.id).order_by(Job.id.desc())))
