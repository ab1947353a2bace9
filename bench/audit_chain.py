"""The audit chain's checks on PostgreSQL with a long log: full, incremental, one case's.

Run by hand from the repository root: `.venv/bin/python -m bench.audit_chain [--events 1000000]`.
It makes a scratch database next to the test database, fills it with hash-chained events by
COPY (hashes computed here), times the full verification, the incremental one from a
checkpoint, the workbench's bounded step and one case's events, and drops the database again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app import audit, create_app, migrate
from app.db import session
from app.models import OrgKind
from app.services import accounts, tribunal
from bench import seed as seed_rows
from tests.support import servers

START = datetime(2016, 1, 1, tzinfo=UTC)
ACTIONS = ("case.reported", "offer.made", "offer.accepted", "agreement.signed", "case.closed")


def _events(count: int, cases: int, actor_id: int, org_id: int) -> Iterator[tuple[object, ...]]:
    """`count` chained events, each of one of `cases` cases (spread over the log, about
    count / cases each), ten years of them."""
    prev_hash = audit.GENESIS
    step = timedelta(days=3650) / max(count, 1)
    for n in range(1, count + 1):
        fields = {
            "id": n,
            "occurred_at": START + step * n,
            "actor_id": actor_id,
            "actor": "bench",
            "org_id": org_id,
            "action": ACTIONS[n % len(ACTIONS)],
            "case_id": (n * 7919) % cases + 1,
            "subject": f"offer:{n}",
            "ip": "203.0.113.5",
            "details": {"n": n, "amount": f"{n % 100000}.00"},
            "prev_hash": prev_hash,
        }
        prev_hash = audit.event_hash(**fields)
        # COPY takes the JSON column's text.
        yield (
            *(fields[name] for name in audit.HASHED_FIELDS[:9]),
            json.dumps(fields["details"]),
            fields["prev_hash"],
            prev_hash,
        )


def seed(count: int, cases: int) -> None:
    """One police unit, one user, `cases` bare cases and `count` events."""
    police = accounts.create_organization(actor=None, kind=OrgKind.POLICE, name="交警")
    session.flush()
    user = accounts.create_user(actor=None, org=police, username="b", password="bench-pass-1")  # noqa: S106
    session.flush()
    # The two events above are the chain's first; start afresh without them.
    session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(text("DELETE FROM audit_events"))
    seed_rows.copy_rows(
        "cases",
        ("id", "number", "status", "version", "reporting_unit_id", "created_at", "updated_at"),
        ((n, f"DJ-A-{n:07d}", "reported", 1, police.id, START, START) for n in range(1, cases + 1)),
    )
    session.execute(text("SELECT setval('cases_id_seq', :n)"), {"n": cases})
    last_hash = audit.GENESIS

    def rows() -> Iterator[tuple[object, ...]]:
        nonlocal last_hash
        for row in _events(count, cases, user.id, police.id):
            last_hash = row[-1]
            yield row

    seed_rows.copy_rows("audit_events", seed_rows.EVENT_COLUMNS, rows())
    session.execute(
        text("UPDATE audit_heads SET last_id = :n, last_hash = :hash, count = :n WHERE id = 1"),
        {"n": count, "hash": last_hash},
    )
    session.commit()


def _timed(call: Callable[[], audit.Verification]) -> tuple[float, audit.Verification]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def _median_ms(repeat: int, call: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def _append(count: int) -> None:
    for n in range(count):
        audit.record("bench.later", actor=None, details={"n": n})
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    url = servers.sibling_database(servers.PG_URL, "bench_audit")
    servers.recreate_database(url)
    try:
        migrate.upgrade(url)
        app = create_app(
            {"DAOJIAO_MODE": "testing", "DATABASE_URL": url, "OBJECT_STORE_PATH": os.devnull}
        )
        with app.app_context():
            began = time.perf_counter()
            seed(args.events, args.cases)
            session.execute(text("ANALYZE"))
            session.commit()
            print(
                f"{args.events} events of {args.cases} cases seeded in "
                f"{time.perf_counter() - began:.0f} s"
            )
            took, result = _timed(lambda: audit.verify_chain(full=True))
            assert result.ok, result
            print(
                f"full verification (daojiao audit verify): {result.checked} events "
                f"in {took:.1f} s ({took / result.checked * 1e6:.1f} µs an event)"
            )
            idle = _median_ms(args.repeat, audit.verify_chain)
            print(f"incremental, nothing new since the checkpoint: {idle:.1f} ms")
            for tail in (100, 1_000, tribunal.CHAIN_TAIL):
                _append(tail)
                took, result = _timed(audit.verify_chain)
                assert result.ok, result
                assert result.checked == tail, result
                print(f"incremental, {tail} new events since the checkpoint: {took * 1000:.0f} ms")
            _append(tribunal.CHAIN_TAIL * 3)
            took, result = _timed(lambda: audit.verify_chain(limit=tribunal.CHAIN_TAIL))
            assert result.ok, result
            assert result.remaining, result
            print(
                f"workbench step, {tribunal.CHAIN_TAIL * 3} new events: checked "
                f"{result.checked} in {took * 1000:.0f} ms, {result.remaining} left"
            )
            sizes = {}
            for case_id in (1, 2, 3):
                ms = _median_ms(args.repeat, lambda c=case_id: audit.verify_case_events(c))
                sizes[case_id] = (audit.verify_case_events(case_id).checked, ms)
            for case_id, (events, ms) in sizes.items():
                print(f"one case's events (case {case_id}, {events} events): {ms:.1f} ms")
        app.extensions["daojiao.db"].engine.dispose()
    finally:
        servers.drop_database(url)


if __name__ == "__main__":
    main()
