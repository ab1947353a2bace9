"""Finding and reading cases, always through the access filter."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import CompoundSelect, func, select, union

from app.access import visible_cases
from app.db import session
from app.models import Case, CaseStatus, Job, Party, User, Vehicle

PAGE_SIZE = 20
# Lists count at most this many cases: past it they say "10,000+" (counting a province's every
# case on each page costs more than showing the page).
COUNT_CAP = 10_000


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    page: int
    pages: int
    total: int
    exact: bool = True  # False: there are more than `total` (the count stopped at its cap)

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def _like_literal(text: str) -> str:
    """Escape LIKE wildcards so that `%` and `_` typed by a user match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching_case_ids(text: str) -> CompoundSelect:
    """The ids of the cases whose number, letter number, party name, party ID number (whole)
    or plate contains `text`: a union of id sets, each answered by one index (pg_trgm for the
    substrings, a b-tree for the ID number) instead of one scan over every party and vehicle."""
    literal = _like_literal(text)
    plate = _like_literal(text.replace("·", "").replace("・", "").replace(" ", "").upper())
    return union(
        select(Case.id).where(Case.number.ilike(f"%{literal}%", escape="\\")),
        select(Case.id).where(Case.report_no.ilike(f"%{literal}%", escape="\\")),
        select(Party.case_id).where(Party.name.ilike(f"%{literal}%", escape="\\")),
        select(Party.case_id).where(Party.id_number == text),
        select(Vehicle.case_id).where(Vehicle.plate.ilike(f"%{plate}%", escape="\\")),
    )


def search_cases(
    *,
    user: User,
    status: CaseStatus | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int | None = None,
    count_cap: int | None = None,
) -> CasePage:
    """The cases `user` may see, newest first, filtered by status and free text; counted up to
    `count_cap` (COUNT_CAP by default)."""
    query = visible_cases(user)
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
    page = min(max(1, page), pages)
    items = session.scalars(
        query.order_by(Case.created_at.desc(), Case.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return CasePage(list(items), page, pages, total, exact)


def case_jobs(case: Case) -> list[Job]:
    """The case's background jobs, newest first (status, progress, failure reason)."""
    return list(session.scalars(select(Job).where(Job.case_id == case.id).order_by(Job.id.desc())))
