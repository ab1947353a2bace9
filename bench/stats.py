"""The oversight figures (`app.stats.compute`) on a seeded PostgreSQL database, in-process.

Run by hand from the repository root, on a database filled by `bench.seed`:
`.venv/bin/python -m bench.stats --database-url postgresql+psycopg://…/NAME [--runs 5]`.
It times `compute()` with the platform admin's access filter for a month, the month by one
county and by one insurer, the month's injury cases, a quarter and a year (Beijing dates,
the seed's last full year), and prints min / median / max per filter with the number of cases
received, as a Markdown table for bench/README.md. It reads only.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from sqlalchemy import func, select

from app import access, create_app, stats
from app.db import session
from app.models import Case, Organization, OrgKind, Role, User


def _filters(year: int) -> list[tuple[str, stats.Filters]]:
    month = stats.Filters(date(year, 11, 1), date(year, 11, 30))
    county = session.scalar(select(Case.region).where(Case.region.is_not(None)).limit(1))
    insurer = session.scalar(select(Organization.id).where(Organization.kind == OrgKind.INSURER))
    return [
        (f"a month ({year}-11)", month),
        ("a month, one county", stats.Filters(month.start, month.end, region=county)),
        ("a month, one insurer", stats.Filters(month.start, month.end, insurer_id=insurer)),
        ("a month, injury cases", stats.Filters(month.start, month.end, case_type="injury")),
        (f"a quarter ({year}-Q4)", stats.Filters(date(year, 10, 1), date(year, 12, 31))),
        (f"a year ({year})", stats.Filters(date(year, 1, 1), date(year, 12, 31))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="postgresql+psycopg://…/NAME")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = create_app({"DAOJIAO_MODE": "testing", "DATABASE_URL": args.database_url})
    with app.app_context():
        admin = session.scalars(select(User).where(User.role == Role.ADMIN)).first()
        if admin is None:
            raise SystemExit("no admin user: fill the database with bench.seed first")
        visible = access.case_filter(admin)
        last = session.scalar(select(func.max(Case.created_at)))
        cases = session.scalar(select(func.count(Case.id)))
        print(f"{cases:,} cases; admin {admin.username}; {args.runs} runs each\n")
        print("| filter (Beijing dates) | received | min | median | max |")
        print("|---|---|---|---|---|")
        for name, filters in _filters(last.year - 1):
            times = []
            for _ in range(args.runs):
                began = time.perf_counter()
                figures = stats.compute(filters, visible)
                times.append((time.perf_counter() - began) * 1000)
                session.rollback()
            received = figures.as_json()["cases"]["received"]
            print(
                f"| {name} | {received:,} | {min(times):.0f} ms | "
                f"{statistics.median(times):.0f} ms | {max(times):.0f} ms |"
            )


if __name__ == "__main__":
    main()
