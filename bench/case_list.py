"""Case-list latency through the access filter, on PostgreSQL with many cases.

Run by hand from the repository root: `.venv/bin/python -m bench.case_list [--cases 20000]`.
It makes a scratch database next to the test database, fills it with `bench.seed`, times the
first page of the case list and searches for one user of each role, and drops the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from sqlalchemy import text

from app import create_app, migrate
from app.access import visible_cases
from app.db import session
from app.models import Case, Role, User
from app.services import cases
from bench import seed
from tests.support import servers


def _median_ms(repeat: int, call: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
        session.expunge_all()
    return statistics.median(timings) * 1000


def _explain(user: User, q: str | None) -> str:
    """The plan of the first page's query (and of its count), as PostgreSQL runs them."""
    query = visible_cases(user)
    if q:
        query = query.where(Case.id.in_(cases.matching_case_ids(q)))
    page = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(20)
    compiled = page.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    rows = session.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {compiled}"))
    return "\n".join(row[0] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    args = parser.parse_args()
    url = servers.sibling_database(servers.PG_URL, "bench")
    servers.recreate_database(url)
    try:
        migrate.upgrade(url)
        app = create_app(
            {"DAOJIAO_MODE": "testing", "DATABASE_URL": url, "OBJECT_STORE_PATH": os.devnull}
        )
        with app.app_context():
            began = time.perf_counter()
            seeded = seed.seed(args.cases)
            session.execute(text("ANALYZE"))
            session.commit()
            print(f"{args.cases} cases seeded in {time.perf_counter() - began:.0f} s")
            users = {role.value: seeded.first(role) for role in Role}
            case = session.get(Case, min(1234, args.cases))
            print(f"median of {args.repeat} runs, first page of 20 with its (capped) count")
            searches = {
                "ID number": seed.id_number(case.id, 0),
                "plate": seed.plate(case.id),
                "case number": case.number,
                "name": "王伟",
            }
            for role, user in users.items():
                page = cases.search_cases(user=user)
                listed = _median_ms(args.repeat, lambda u=user: cases.search_cases(user=u))
                line = f"  {role:<9} total {page.total:>6}{' ' if page.exact else '+'}"
                line += f" list {listed:6.1f} ms"
                for label, q in searches.items():
                    ms = _median_ms(
                        args.repeat, lambda u=user, q=q: cases.search_cases(user=u, q=q)
                    )
                    line += f"  {label} {ms:6.1f} ms"
                print(line)
                session.add(user)
            if args.explain:
                for role in ("adjuster", "admin"):
                    user = users[role]
                    session.add(user)
                    for q in (None, searches["ID number"], searches["name"]):
                        print(f"\n-- {role}, q={q!r}\n{_explain(user, q)}")
        app.extensions["daojiao.db"].engine.dispose()
    finally:
        servers.drop_database(url)


if __name__ == "__main__":
    main()
