"""Throughput and latency per page under a role mix, beside a hello-world baseline.

Run by hand from the repository root, on a database `bench.seed` filled:
`.venv/bin/python -m bench.load --database-url postgresql+psycopg://…/NAME [--redis-url URL]
[--duration 60] [--users 32] [--baseline] [--markdown]`.

It starts the production stack on loopback: moto's S3 server, the app served by gunicorn as the
Dockerfile's CMD serves it (its options, the bind moved to a free port; `wsgi:app`,
DAOJIAO_MODE=production) and one `daojiao worker`; with `--baseline` also `bench.hello:app`
under the very same gunicorn options on another port. (`--url` points at a running app
instead; its database must still be given, to pick cases and to check the jobs.)

`--users` virtual users, each one of the seeded users (police, adjusters, mediators, judges, the
admin for searches), log in through the portal's form and loop for `--duration` seconds over
their role's pages, one request at a time, with an optional think time: police lists and
uploads of the sample letter (at most `--upload-rate` a second in all, each polled through the
API until its fields are read), the insurer desk, case lists, case pages, offers pages and new
offers on negotiating cases, the tribunal's list and workbench, searches by ID number, plate,
case number and name, and the API case list with a bearer token. The baseline runs first, for
`--baseline-duration` seconds with as many connections.

It prints, per page: requests, errors (not 2xx/3xx, or timed out), req/s, p50/p95/p99 in ms and
the share of hello-world's req/s; the first error bodies; the load generator's own CPU use and
the machine's; and, after waiting up to `--drain` seconds, every job the run made that did not
finish (queued or running: lost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import secrets
import shlex
import signal
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import aiohttp
import psycopg
import redis
from rq import Worker

from bench.intake_latency import (
    BIN,
    answers,
    dockerfile_gunicorn,
    percentile,
    process,
    rebind,
    wait_until,
)
from bench.seed import PASSWORD
from tests.support import servers

REPO = Path(__file__).resolve().parent.parent
SAMPLE_LETTER = REPO / "app" / "data" / "samples" / "accident-letter.pdf"
TIMEOUT = 30.0  # seconds: a request taking longer counts as an error
READ_TIMEOUT = 60.0  # seconds for an uploaded letter's fields to be read
ERRORS_SHOWN = 3
READ = "reports.read"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
# How often each role does what: (page kind, weight).
MIX = {
    "police": (("police list", 6), ("police upload", 1), ("case page", 3)),
    "adjuster": (
        ("adjuster desk", 3),
        ("adjuster list", 3),
        ("case page", 3),
        ("offers page + offer", 2),
    ),
    "mediator": (("mediator list", 3), ("case page", 5), ("api case list", 1)),
    "judge": (("judge list", 3), ("judge workbench", 2), ("case page", 2)),
    "admin": (
        ("search ID number", 2),
        ("search plate", 2),
        ("search case number", 2),
        ("search name", 2),
        ("api case list", 1),
    ),
}
# Virtual users of each role, out of every ten.
ROLE_SHARE = (
    ("police", 2),
    ("adjuster", 2),
    ("mediator", 2),
    ("judge", 1),
    ("admin", 3),
)


@dataclass
class Page:
    """What one kind of page measured."""

    times: list[float] = field(default_factory=list)
    errors: int = 0
    error_bodies: list[str] = field(default_factory=list)

    def failed(self, what: str) -> None:
        self.errors += 1
        if len(self.error_bodies) < ERRORS_SHOWN:
            self.error_bodies.append(what[:600])


@dataclass
class Sample:
    """Rows of the seeded database the virtual users act on, by organisation."""

    users: dict[str, list[tuple[str, int]]]  # role → (username, org id)
    cases: dict[int, list[int]]  # org id → cases it sees (recent first)
    offers: dict[int, list[tuple[int, str, Decimal]]]  # insurer → (case, payer, assessed)
    confirming: dict[int, list[int]]  # tribunal → confirming cases
    searches: dict[str, list[str]]


def sample(url: str, size: int) -> Sample:
    """Cases and search terms drawn from the seeded data (of the latest cases mostly)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        users: dict[str, list[tuple[str, int]]] = {}
        for username, role, org_id in conn.execute(
            "SELECT username, role, org_id FROM users WHERE active ORDER BY id"
        ):
            users.setdefault(role, []).append((username, org_id))
        cases: dict[int, list[int]] = {}
        for column in ("reporting_unit_id", "mediation_committee_id", "tribunal_id"):
            for org_id, ids in conn.execute(
                f"SELECT {column}, (array_agg(id ORDER BY id DESC))[1:%s] FROM cases "  # noqa: S608
                f"WHERE {column} IS NOT NULL GROUP BY {column}",
                (size,),
            ):
                cases[org_id] = ids
        for org_id, ids in conn.execute(
            "SELECT ci.org_id, (array_agg(c.id ORDER BY c.id DESC))[1:%s] FROM case_insurers ci "
            "JOIN cases c ON c.id = ci.case_id WHERE c.status NOT IN ('draft', 'withdrawn') "
            "GROUP BY ci.org_id",
            (size,),
        ):
            cases[org_id] = ids
        offers: dict[int, list[tuple[int, str, Decimal]]] = {}
        for org_id, case_id, total in conn.execute(
            "SELECT p.insurer_org_id, c.id, (a.result::jsonb -> 'totals' ->> 'ctpi:甲方') "
            "FROM cases c JOIN vehicles v ON v.case_id = c.id "
            "JOIN policies p ON p.vehicle_id = v.id AND p.kind = 'ctpi' "
            "JOIN LATERAL (SELECT result FROM assessments WHERE case_id = c.id "
            "ORDER BY id DESC LIMIT 1) a ON true "
            "WHERE c.status = 'negotiating' ORDER BY c.id DESC LIMIT %s",
            (size * 20,),
        ):
            if total and Decimal(total) > 0:
                offers.setdefault(org_id, []).append((case_id, "ctpi:甲方", Decimal(total)))
        confirming: dict[int, list[int]] = {}
        for org_id, ids in conn.execute(
            "SELECT tribunal_id, (array_agg(id ORDER BY id DESC))[1:%s] FROM cases "
            "WHERE status = 'confirming' AND tribunal_id IS NOT NULL GROUP BY tribunal_id",
            (size,),
        ):
            confirming[org_id] = ids
        chosen = "SELECT {} FROM {} TABLESAMPLE SYSTEM (1) LIMIT %s"
        searches = {
            "search ID number": chosen.format("id_number", "parties"),
            "search plate": chosen.format("plate", "vehicles"),
            "search case number": chosen.format("number", "cases"),
            "search name": chosen.format("left(name, 2)", "parties"),
        }
        terms = {
            kind: [row[0] for row in conn.execute(query, (size,)) if row[0]]  # noqa: S608
            for kind, query in searches.items()
        }
    return Sample(users, cases, offers, confirming, terms)


class Run:
    """The counters of one timed phase."""

    def __init__(self, duration: float) -> None:
        self.pages: dict[str, Page] = {}
        self.duration = duration
        self.deadline = 0.0
        self.fields_ready: list[float] = []
        self.upload_failures: list[str] = []
        self.cpu = ""  # the load generator's and the machine's CPU use over the phase
        self.polls: set[asyncio.Task[None]] = set()  # uploads waiting for their reading

    def page(self, kind: str) -> Page:
        return self.pages.setdefault(kind, Page())

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    async def get(
        self,
        http: aiohttp.ClientSession,
        kind: str | None,
        url: str,
        *,
        data: object = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, str]:
        """One request, timed under `kind` (None: not counted); (status, body, location)."""
        began = time.perf_counter()
        try:
            async with http.request(
                "POST" if data is not None else "GET",
                url,
                data=data,
                headers=headers,
                allow_redirects=False,
            ) as response:
                body = await response.text(errors="replace")
                status, location = response.status, response.headers.get("Location", "")
        except (TimeoutError, aiohttp.ClientError) as exc:
            if kind is not None:
                self.page(kind).failed(f"{url}: {exc!r}")
            return 0, "", ""
        if kind is not None:
            if 200 <= status < 400:
                self.page(kind).times.append(time.perf_counter() - began)
            else:
                self.page(kind).failed(f"{url}: HTTP {status}: {body[:500]}")
        return status, body, location


class UploadGate:
    """At most `rate` uploads a second over all police users."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate if rate > 0 else float("inf")
        self.next = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        if now < self.next:
            return False
        self.next = max(self.next + self.interval, now)
        return True


async def login(base: str, username: str) -> aiohttp.ClientSession:
    """A client session logged in through the portal's form (its CSRF token and cookie)."""
    http = aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=aiohttp.ClientTimeout(total=TIMEOUT),
        connector=aiohttp.TCPConnector(limit=1),
    )
    async with http.get(f"{base}/login") as response:
        token = CSRF.search(await response.text()).group(1)
    form = {"csrf_token": token, "username": username, "password": PASSWORD}
    async with http.post(f"{base}/login", data=form, allow_redirects=False) as response:
        if response.status != 302:
            raise SystemExit(f"login of {username} failed: HTTP {response.status}")
    return http


async def api_token(base: str, username: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/api/v1/tokens", json={"username": username, "password": PASSWORD}
        ) as response,
    ):
        return (await response.json())["token"]


class VirtualUser:
    """One seeded user looping over their role's pages."""

    def __init__(
        self,
        number: int,
        role: str,
        username: str,
        org_id: int,
        base: str,
        data: Sample,
        run: Run,
        gate: UploadGate,
        think: float,
        mix: list[tuple[str, int]],
    ) -> None:
        self.role, self.username, self.org_id = role, username, org_id
        self.base, self.data, self.run, self.gate, self.think = base, data, run, gate, think
        self.random = random.Random(number)
        kinds, weights = zip(*mix, strict=True)
        self.kinds, self.weights = list(kinds), list(weights)
        self.http: aiohttp.ClientSession | None = None
        self.api: aiohttp.ClientSession | None = None
        self.token: str | None = None
        self.offer_cases: list[tuple[int, str, Decimal]] = []

    def case(self) -> int | None:
        ids = self.data.cases.get(self.org_id) or []
        if self.role == "admin":
            ids = [case for cases in self.data.cases.values() for case in cases[:20]]
        return self.random.choice(ids) if ids else None

    async def start(self, token: str) -> None:
        self.http = await login(self.base, self.username)
        # Polling for a letter's reading has a connection of its own, as a browser tab would.
        self.api = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
        self.token = token

    async def loop(self) -> None:
        actions: dict[str, Callable[[], Awaitable[None]]] = {
            "police list": lambda: self.visit("police list", "/cases/"),
            "adjuster list": lambda: self.visit("adjuster list", "/cases/"),
            "mediator list": lambda: self.visit("mediator list", "/cases/"),
            "adjuster desk": lambda: self.visit("adjuster desk", "/insurer/"),
            "judge list": lambda: self.visit("judge list", "/tribunal/"),
            "case page": self.case_page,
            "judge workbench": self.workbench,
            "offers page + offer": self.offer,
            "police upload": self.upload,
            "api case list": self.api_list,
        }
        while self.run.running():
            kind = self.random.choices(self.kinds, self.weights)[0]
            if kind.startswith("search "):
                terms = self.data.searches.get(kind) or ["王伟"]
                query = quote(self.random.choice(terms), safe="")
                await self.visit(kind, f"/cases/?q={query}")
            else:
                await actions[kind]()
            if self.think:
                await asyncio.sleep(self.random.uniform(0, 2 * self.think))

    async def visit(self, kind: str, path: str) -> tuple[int, str, str]:
        return await self.run.get(self.http, kind, f"{self.base}{path}")

    async def case_page(self) -> None:
        case = self.case()
        if case is not None:
            await self.visit("case page", f"/cases/{case}")

    async def workbench(self) -> None:
        cases = self.data.confirming.get(self.org_id) or self.data.cases.get(self.org_id) or []
        if cases:
            await self.visit("judge workbench", f"/tribunal/cases/{self.random.choice(cases)}")

    async def api_list(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        await self.run.get(self.http, "api case list", f"{self.base}/api/v1/cases", headers=headers)

    async def offer(self) -> None:
        """The offers page of one of this adjuster's negotiating cases, then a new offer for
        its 交强险 (90–100 % of the assessed amount), as the portal's form posts it."""
        if not self.offer_cases:
            await self.case_page()
            return
        case, payer, assessed = self.random.choice(self.offer_cases)
        status, body, _ = await self.visit("offers page", f"/cases/{case}/offers")
        token, version = CSRF.search(body), VERSION.search(body)
        if status != 200 or token is None:
            return
        share = Decimal(self.random.randint(90, 100)) / 100
        form = {
            "csrf_token": token.group(1),
            "version": version.group(1) if version else "",
            "payer": payer,
            "amount": f"{(assessed * share).quantize(Decimal('0.01'))}",
            "note": "bench.load",
        }
        await self.run.get(self.http, "make offer", f"{self.base}/cases/{case}/offers", data=form)

    async def upload(self) -> None:
        """Upload the sample letter through the portal's form, then poll until it is read."""
        if not self.gate.take():
            await self.visit("police list", "/cases/")
            return
        status, body, _ = await self.visit("upload page", "/police/upload")
        token = CSRF.search(body)
        if status != 200 or token is None:
            return
        form = aiohttp.FormData()
        form.add_field("csrf_token", token.group(1))
        form.add_field(
            "reports",
            SAMPLE_LETTER.read_bytes(),
            filename="认定书.pdf",
            content_type="application/pdf",
        )
        began = time.perf_counter()
        status, _body, location = await self.run.get(
            self.http, "police upload", f"{self.base}/police/upload", data=form
        )
        found = re.search(r"/cases/(\d+)", location)
        if found is None:
            return
        poll = asyncio.get_running_loop().create_task(self.poll(int(found.group(1)), began))
        self.run.polls.add(poll)  # a task nobody refers to may be collected before it ends
        poll.add_done_callback(self.run.polls.discard)

    async def poll(self, case_id: int, began: float) -> None:
        """Wait for the letter's reading job through the API, as the review page does."""
        headers = {"Authorization": f"Bearer {self.token}"}
        deadline = began + READ_TIMEOUT
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.25)
            status, body, _ = await self.run.get(
                self.api, None, f"{self.base}/api/v1/cases/{case_id}", headers=headers
            )
            if status != 200:
                continue
            states = [job["status"] for job in json.loads(body)["jobs"] if job["kind"] == READ]
            if "succeeded" in states:
                self.run.fields_ready.append(time.perf_counter() - began)
                return
            if "failed" in states:
                self.run.upload_failures.append(f"case {case_id}: reading failed")
                return
        self.run.upload_failures.append(f"case {case_id}: not read within {READ_TIMEOUT:.0f} s")

    async def close(self) -> None:
        for http in (self.http, self.api):
            if http is not None:
                await http.close()


def cast(
    count: int, data: Sample, mixes: dict[str, list[tuple[str, int]]]
) -> list[tuple[str, str, int]]:
    """(role, username, org id) of each virtual user: the roles that have pages in `mixes`, in
    ROLE_SHARE's proportions, each role's seeded users in turn."""
    roles = [role for role, share in ROLE_SHARE if mixes[role] for _ in range(share)]
    if not roles:
        kinds = ", ".join(dict.fromkeys(kind for pages in MIX.values() for kind, _ in pages))
        raise SystemExit(f"no page kind left to load; the kinds are: {kinds}")
    seen: dict[str, int] = {}
    cast = []
    for n in range(count):
        role = roles[n % len(roles)]
        members = data.users[role]
        username, org_id = members[seen.get(role, 0) % len(members)]
        seen[role] = seen.get(role, 0) + 1
        cast.append((role, username, org_id))
    return cast


def chosen(kind: str, args: argparse.Namespace) -> bool:
    """Whether the page kind is in the run (`--page`, `--without`)."""
    return (not args.page or kind in args.page) and kind not in args.without


async def drive(base: str, data: Sample, args: argparse.Namespace, only: str | None = None) -> Run:
    """The role mix (or only the page kind `only`) for `args.duration` seconds with
    `args.users` virtual users."""
    run = Run(args.duration)
    gate = UploadGate(args.upload_rate)
    mixes = {
        role: [
            (kind, weight)
            for kind, weight in pages
            if kind == only or (only is None and chosen(kind, args))
        ]
        for role, pages in MIX.items()
    }
    members = cast(args.users, data, mixes)
    tokens = {
        username: await api_token(base, username)
        for username in dict.fromkeys(username for _, username, _ in members)
    }
    users = [
        VirtualUser(n, role, username, org_id, base, data, run, gate, args.think, mixes[role])
        for n, (role, username, org_id) in enumerate(members)
    ]
    # Each adjuster offers on cases of its own (no two users race for one case's version).
    adjusters = [user for user in users if user.role == "adjuster"]
    for insurer in {user.org_id for user in adjusters}:
        mine = [user for user in adjusters if user.org_id == insurer]
        for index, offer in enumerate(data.offers.get(insurer, [])):
            mine[index % len(mine)].offer_cases.append(offer)
    await asyncio.gather(*(user.start(tokens[user.username]) for user in users))
    run.deadline = time.monotonic() + args.duration
    cpu = Cpu()
    try:
        await asyncio.gather(*(user.loop() for user in users))
        run.cpu = cpu.report()
        if run.polls:
            await asyncio.wait(run.polls, timeout=READ_TIMEOUT)
    finally:
        await asyncio.gather(*(user.close() for user in users))
    return run


async def hammer(url: str, connections: int, duration: float, kind: str = "hello world") -> Run:
    """GET `url` over `connections` connections, back to back, for `duration` seconds."""
    run = Run(duration)
    run.deadline = time.monotonic() + duration
    cpu = Cpu()

    async def one() -> None:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            connector=aiohttp.TCPConnector(limit=1),
        ) as http:
            while run.running():
                await run.get(http, kind, url)

    await asyncio.gather(*(one() for _ in range(connections)))
    run.cpu = cpu.report()
    return run


class Cpu:
    """This process's CPU time and the machine's busy share over a phase."""

    def __init__(self) -> None:
        self.wall = time.monotonic()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.own = usage.ru_utime + usage.ru_stime
        self.machine = self._machine()

    @staticmethod
    def _machine() -> tuple[int, int]:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    def report(self) -> str:
        wall = time.monotonic() - self.wall
        usage = resource.getrusage(resource.RUSAGE_SELF)
        own = usage.ru_utime + usage.ru_stime - self.own
        busy, total = (now - then for now, then in zip(self._machine(), self.machine, strict=True))
        cores = os.cpu_count() or 1
        return (
            f"load generator {own / wall:.0%} of one core; machine {busy / max(total, 1):.0%} busy "
            f"({cores} cores) over {wall:.0f} s"
        )


def table(run: Run, hello: Run | None, markdown: bool, *, mix: bool) -> list[str]:
    """One line per page kind: requests, errors, req/s, p50/p95/p99 ms, share of hello-world;
    and for a mix, all its pages together."""
    phases = [(name, page, run.duration) for name, page in sorted(run.pages.items())]
    if mix:
        every = Page(
            [time for page in run.pages.values() for time in page.times],
            sum(page.errors for page in run.pages.values()),
        )
        phases.append(("all pages", every, run.duration))
    base_rate = None
    if hello is not None:
        page = hello.page("hello world")
        base_rate = len(page.times) / hello.duration
        phases.insert(0, ("hello world", page, hello.duration))
    rows = []
    for name, page, duration in phases:
        rate = len(page.times) / duration
        figures = [statistics.median(page.times)] if page.times else [0.0]
        figures += [percentile(page.times, share) if page.times else 0.0 for share in (0.95, 0.99)]
        share = f"{rate / base_rate:.0%}" if base_rate and name != "hello world" else "—"
        rows.append(
            (
                name,
                f"{len(page.times) + page.errors:,}",
                f"{page.errors:,}",
                f"{rate:,.1f}",
                *(f"{value * 1000:,.1f}" for value in figures),
                share,
            )
        )
    header = ("page", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "of hello")
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in (header, *rows)
    ]


def lost_jobs(url: str, since: datetime, drain: float) -> tuple[dict[str, int], list[str]]:
    """Wait up to `drain` seconds for the jobs made since `since`; their count by status and
    the ones left queued or running (lost)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + drain
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while True:
            rows = conn.execute(
                "SELECT id, kind, status, error FROM jobs WHERE created_at >= %s", (since,)
            ).fetchall()
            open_jobs = [row for row in rows if row[2] in ("queued", "running")]
            if not open_jobs or time.monotonic() > deadline:
                break
            time.sleep(1)
    counts: dict[str, int] = {}
    for _id, _kind, status, _error in rows:
        counts[status] = counts.get(status, 0) + 1
    problems = [f"job {i} {kind}: still {status}" for i, kind, status, _ in open_jobs]
    problems += [
        f"job {i} {kind}: failed: {error}" for i, kind, status, error in rows if status == "failed"
    ]
    return counts, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the seeded database")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--url", help="a running app to drive instead of starting the stack")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the role mix")
    parser.add_argument("--users", type=int, default=32, help="virtual users (connections)")
    parser.add_argument("--baseline", action="store_true", help="measure hello-world first")
    parser.add_argument("--baseline-duration", type=float, default=15.0)
    parser.add_argument(
        "--floor",
        action="store_true",
        help="with --isolated: also the app's cheapest request, /healthz (one SELECT 1, no "
        "session): what any request of the app costs at least",
    )
    parser.add_argument("--think", type=float, default=0.0, help="mean think time, seconds")
    parser.add_argument(
        "--upload-rate", type=float, default=0.5, help="letters uploaded per second at most"
    )
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for jobs")
    parser.add_argument("--sample", type=int, default=200, help="cases per organisation")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="PAGE",
        help='leave a page kind out of the mix, e.g. --without "adjuster desk"',
    )
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="PAGE",
        help='only these page kinds (repeat), e.g. --page "case page"',
    )
    parser.add_argument(
        "--isolated",
        action="store_true",
        help="each page kind alone in turn (all users on it) for --duration, not the mix",
    )
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    data = sample(args.database_url, args.sample)
    options, app_module = dockerfile_gunicorn()
    since = datetime.now(UTC)
    queue_redis = redis.Redis.from_url(args.redis_url)
    with ExitStack() as running, tempfile.TemporaryDirectory(prefix="daojiao-load-") as scratch:
        hello_port = servers.free_port()
        hello_args = shlex.join(rebind(options, f"127.0.0.1:{hello_port}"))
        base = args.url
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        if base is None:
            queue_redis.flushdb()
            endpoint = running.enter_context(servers.moto_server(Path(scratch) / "moto.log"))
            port = servers.free_port()
            gunicorn_args = shlex.join(rebind(options, f"127.0.0.1:{port}"))
            env.update(
                {
                    "DAOJIAO_MODE": "production",
                    "SECRET_KEY": secrets.token_urlsafe(48),
                    "DATABASE_URL": args.database_url,
                    "REDIS_URL": args.redis_url,
                    "S3_ENDPOINT": endpoint,
                    "S3_ACCESS_KEY": servers.S3_ACCESS_KEY,
                    "S3_SECRET_KEY": servers.S3_SECRET_KEY,
                    "S3_BUCKET": "daojiao-bench",
                    "DAOJIAO_SIGNING_KEY": str(Path(scratch) / "signing-key.pem"),
                    # Plain HTTP on loopback: the cookie must not be HTTPS-only.
                    "SESSION_COOKIE_SECURE": "false",
                    "GUNICORN_CMD_ARGS": gunicorn_args,
                }
            )
            web_log, worker_log = Path(scratch) / "gunicorn.log", Path(scratch) / "worker.log"
            web = running.enter_context(
                process("gunicorn", [str(BIN / "gunicorn"), app_module], env, web_log)
            )
            worker = running.enter_context(
                process("worker", [str(BIN / "daojiao"), "worker"], env, worker_log)
            )
            wait_until(
                "gunicorn", lambda: answers(f"http://127.0.0.1:{port}/healthz"), web, web_log
            )
            wait_until(
                "the worker", lambda: Worker.count(connection=queue_redis) >= 1, worker, worker_log
            )
            base = f"http://127.0.0.1:{port}"
            print(f"GUNICORN_CMD_ARGS={gunicorn_args!r} gunicorn {app_module}; one daojiao worker")
        hello = None
        if args.baseline:
            hello_env = {**env, "GUNICORN_CMD_ARGS": hello_args}
            hello_log = Path(scratch) / "hello.log"
            hello_proc = running.enter_context(
                process("hello", [str(BIN / "gunicorn"), "bench.hello:app"], hello_env, hello_log)
            )
            hello_url = f"http://127.0.0.1:{hello_port}/"
            wait_until("hello", lambda: answers(hello_url), hello_proc, hello_log)
            hello = asyncio.run(hammer(hello_url, args.users, args.baseline_duration))
            print(f"baseline: {hello.cpu}")
        if args.isolated:
            run = Run(args.duration)
            if args.floor:
                floor = asyncio.run(
                    hammer(f"{base}/healthz", args.users, args.duration, "health check")
                )
                print(f"health check alone: {floor.cpu}")
                run.pages.update(floor.pages)
            for kind in dict.fromkeys(k for pages in MIX.values() for k, _ in pages):
                if not chosen(kind, args) or kind == "police upload":
                    continue  # uploads are paced (--upload-rate): no throughput of their own
                alone = asyncio.run(drive(base, data, args, only=kind))
                print(f"{kind} alone: {alone.cpu}")
                run.pages.update(alone.pages)
                run.fields_ready += alone.fields_ready
                run.upload_failures += alone.upload_failures
        else:
            run = asyncio.run(drive(base, data, args))
            print(f"role mix: {run.cpu}")
        left_out = f"; without {', '.join(args.without)}" if args.without else ""
        how = "each page alone" if args.isolated else "role mix"
        print(
            f"\n{how}: {args.users} users, {args.duration:.0f} s, think {args.think:.1f} s"
            f"{left_out}"
        )
        for line in table(run, hello, args.markdown, mix=not args.isolated):
            print(line)
        if run.fields_ready:
            ready = sorted(run.fields_ready)
            print(
                f"\nupload → fields ready: {len(ready)} letters, median "
                f"{statistics.median(ready):.2f} s, p95 {percentile(ready, 0.95):.2f} s"
            )
        for problem in run.upload_failures:
            print(f"UPLOAD {problem}")
        for name, page in sorted(run.pages.items()):
            for body in page.error_bodies:
                print(f"ERROR {name}: {body}")
        counts, problems = lost_jobs(args.database_url, since, args.drain)
        print(f"\njobs of the run: {counts or 'none'}; lost or failed: {len(problems)}")
        for problem in problems[:20]:
            print(f"  {problem}")
    if args.url is None:
        queue_redis.flushdb()


if __name__ == "__main__":
    main()
