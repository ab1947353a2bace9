"""Case-list latency through the access filter, on PostgreSQL with many cases.

Run by hand from the repository root: `.venv/bin/python -m bench.case_list [--cases 20000]`.
It makes a scratch database next to the test database, fills it, times the first page of the
case list and a plate search for each role, and drops the database again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app import create_app, migrate
from app.access import visible_cases
from app.db import session
from app.models import Case, CaseStatus, OrgKind, PolicyKind, User
from app.services import accounts, cases
from tests.support import servers

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰"
START = datetime(2016, 1, 1, tzinfo=UTC)


def _copy(table: str, columns: tuple[str, ...], rows: Iterator[tuple[object, ...]]) -> None:
    """COPY `rows` into `table`: a million rows in seconds, where INSERTs take minutes."""
    raw = session.connection().connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def seed(count: int) -> dict[str, object]:
    """Orgs, one user per role, and `count` cases spread over 4 police units and 6 insurers,
    ten years of them: each with two parties (names, ID numbers), a car and its 交强险."""
    police = [
        accounts.create_organization(actor=None, kind=OrgKind.POLICE, name=f"交警{i}")
        for i in range(4)
    ]
    insurers = [
        accounts.create_organization(actor=None, kind=OrgKind.INSURER, name=f"保险{i}")
        for i in range(6)
    ]
    committee = accounts.create_organization(actor=None, kind=OrgKind.MEDIATION, name="调解委")
    tribunal = accounts.create_organization(actor=None, kind=OrgKind.TRIBUNAL, name="法庭")
    admin_org = accounts.create_organization(actor=None, kind=OrgKind.PLATFORM, name="平台")
    session.flush()
    statuses = [status.value for status in CaseStatus]
    step = timedelta(days=3650) / max(count, 1)
    _copy(
        "cases",
        (
            "id",
            "number",
            "status",
            "version",
            "reporting_unit_id",
            "mediation_committee_id",
            "tribunal_id",
            "created_at",
            "updated_at",
        ),
        (
            (
                n,
                f"DJ-B-{n:07d}",
                statuses[n % len(statuses)],
                1,
                police[n % 4].id,
                committee.id,
                tribunal.id if n % 10 == 0 else None,
                START + step * n,
                START + step * n,
            )
            for n in range(1, count + 1)
        ),
    )
    _copy(
        "parties",
        ("case_id", "position", "label", "name", "id_number"),
        (
            (
                n,
                position,
                "甲方" if position == 0 else "乙方",
                SURNAMES[(n * 7 + position) % len(SURNAMES)]
                + GIVEN[(n * 13 + position) % len(GIVEN)]
                + GIVEN[(n // 31 + position) % len(GIVEN)],
                f"1423011{(n * 2 + position) % 10**11:011d}",
            )
            for n in range(1, count + 1)
            for position in (0, 1)
        ),
    )
    _copy(
        "vehicles",
        ("id", "case_id", "plate"),
        ((n, n, f"晋J{n % 100000:05d}") for n in range(1, count + 1)),
    )
    _copy(
        "policies",
        ("vehicle_id", "kind", "insurer_org_id"),
        ((n, PolicyKind.CTPI.value, insurers[n % 6].id) for n in range(1, count + 1)),
    )
    for table in ("cases", "vehicles"):
        # Our own table names, not input.
        session.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))  # noqa: S608
    password = "bench-password-1"  # noqa: S105 - scratch database
    users = {
        "police": accounts.create_user(actor=None, org=police[0], username="p", password=password),
        "adjuster": accounts.create_user(
            actor=None, org=insurers[0], username="a", password=password
        ),
        "mediator": accounts.create_user(
            actor=None, org=committee, username="m", password=password
        ),
        "judge": accounts.create_user(actor=None, org=tribunal, username="j", password=password),
        "admin": accounts.create_user(actor=None, org=admin_org, username="x", password=password),
    }
    session.commit()
    return users


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
            users = seed(args.cases)
            session.execute(text("ANALYZE"))
            session.commit()
            print(f"{args.cases} cases seeded in {time.perf_counter() - began:.0f} s")
            print(f"median of {args.repeat} runs, first page of 20 with its (capped) count")
            searches = {
                "ID number": f"1423011{(1234 * 2) % 10**11:011d}",
                "plate": "晋J01234",
                "case number": "DJ-B-0001234",
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
