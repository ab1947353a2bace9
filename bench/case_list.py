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

from sqlalchemy import insert, text

from app import create_app, migrate
from app.db import session
from app.models import Case, CaseStatus, OrgKind, Policy, PolicyKind, Vehicle
from app.services import accounts, cases
from tests.support import servers


def seed(count: int) -> dict[str, object]:
    """Orgs, one user per role, and `count` cases spread over 4 police units and 6 insurers."""
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
    statuses = list(CaseStatus)
    case_rows = [
        {
            "number": f"DJ-B-{n:07d}",
            "status": statuses[n % len(statuses)],
            "reporting_unit_id": police[n % 4].id,
            "mediation_committee_id": committee.id,
            "tribunal_id": tribunal.id if n % 10 == 0 else None,
        }
        for n in range(count)
    ]
    session.execute(insert(Case), case_rows)
    case_ids = [row.id for row in session.query(Case.id).order_by(Case.id)]
    session.execute(
        insert(Vehicle), [{"case_id": cid, "plate": f"晋J{cid:05d}"} for cid in case_ids]
    )
    vehicle_ids = [row.id for row in session.query(Vehicle.id).order_by(Vehicle.id)]
    session.execute(
        insert(Policy),
        [
            {"vehicle_id": vid, "kind": PolicyKind.CTPI, "insurer_org_id": insurers[vid % 6].id}
            for vid in vehicle_ids
        ],
    )
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    url = servers.sibling_database(servers.PG_URL, "bench")
    servers.recreate_database(url)
    try:
        migrate.upgrade(url)
        app = create_app(
            {"DAOJIAO_MODE": "testing", "DATABASE_URL": url, "OBJECT_STORE_PATH": os.devnull}
        )
        with app.app_context():
            users = seed(args.cases)
            session.execute(text("ANALYZE"))
            print(f"{args.cases} cases; median of {args.repeat} runs, first page of 20")
            for role, user in users.items():
                timings = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    page = cases.search_cases(user=user)
                    timings.append(time.perf_counter() - start)
                    session.expunge_all()
                    session.add(user)
                searched = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    cases.search_cases(user=user, q="晋J0012")
                    searched.append(time.perf_counter() - start)
                list_ms = statistics.median(timings) * 1000
                search_ms = statistics.median(searched) * 1000
                print(
                    f"  {role:<9} total {page.total:>6}  list {list_ms:6.1f} ms"
                    f"  search {search_ms:6.1f} ms"
                )
        app.extensions["daojiao.db"].engine.dispose()
    finally:
        servers.drop_database(url)


if __name__ == "__main__":
    main()
