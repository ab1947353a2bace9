"""Deep integrity checks: settlement rows against the audit chain, stored files against their
SHA-256, run by hand (`daojiao audit verify --deep`, `daojiao evidence verify`) and nightly.

The audit chain proves what was recorded; these checks prove the rows and files still say it.
Every service that writes an offer, agreement, payment, assessment, liability decision or
confirmation puts the row's canonical digest (`row_digests`) in the audit event that records the
write. A row edited behind the app's back (SQL), a row no event names, or an event whose row is
gone is reported. Rows whose events carry no digest (written before digests were recorded) are
counted as not covered, not as failures.
"""

from __future__ import annotations

import logging
import time as clock
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from flask import Flask
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app import audit, jobs
from app.clock import BEIJING
from app.db import get_db, session, utcnow
from app.digests import DIGESTS_KEY, ROW_KINDS, row_digest, row_key
from app.labels import N_
from app.models import (
    AuditEvent,
    Case,
    Document,
    Job,
    Offer,
)
from app.objects import get_store
from app.services import notifications
from storage import IntegrityError, ObjectNotFound, StorageError, StorageUnavailable

log = logging.getLogger(__name__)

# What a deep check can find wrong with a row.
ALTERED = "row differs from its audit event"
NO_EVENT = "row has no audit event"
ROW_GONE = "audit event names a row that is gone"
OFFER_CONTENT = "offer content differs from its audit event"
# What an object check can find wrong with a file.
OBJECT_MISSING = "object missing"
OBJECT_ALTERED = "object altered (SHA-256 differs)"
OBJECT_UNREADABLE = "object unreadable"

# Problems listed in full; beyond this only counted (a report must stay printable).
MAX_LISTED = 10_000


# -- rows against the audit chain ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One row or event that does not fit."""

    kind: str
    row_id: int
    case_id: int | None
    reason: str
    event_id: int | None = None


@dataclass
class DeepReport:
    """What a deep check found: rows checked, covered (a digest to compare) and not, per kind,
    and the problems (the first MAX_LISTED listed, all counted)."""

    cases: int = 0
    checked: Counter[str] = field(default_factory=Counter)
    covered: Counter[str] = field(default_factory=Counter)
    not_covered: Counter[str] = field(default_factory=Counter)
    problem_counts: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    @property
    def problem_total(self) -> int:
        return sum(self.problem_counts.values())

    def add(self, problem: Problem) -> None:
        self.problem_counts[problem.reason] += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)

    def merge(self, other: DeepReport) -> None:
        """Add a batch's findings to these."""
        self.cases += other.cases
        self.checked.update(other.checked)
        self.covered.update(other.covered)
        self.not_covered.update(other.not_covered)
        for problem in other.problems:
            self.add(problem)
        # Problems beyond the batch's own list were counted there only.
        self.problem_counts.update(other.problem_counts - Counter(p.reason for p in other.problems))

    def figures(self) -> dict[str, Any]:
        """The counts as audit event details."""
        return {
            "cases": self.cases,
            "checked": dict(self.checked),
            "covered": dict(self.covered),
            "not_covered": dict(self.not_covered),
            "problems": dict(self.problem_counts),
            "seconds": round(self.seconds, 1),
        }


@dataclass
class _CaseEvents:
    """What the events of a batch of cases say about rows."""

    named: dict[str, int] = field(default_factory=dict)  # key → last event naming it
    digests: dict[str, tuple[int, str]] = field(default_factory=dict)  # key → latest digest
    offers_made: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → details


def _case_batches(db_session: Session, batch: int) -> Iterator[list[int]]:
    """Case ids in ascending batches (keyset pages: any number of cases, constant memory)."""
    last = 0
    while True:
        ids = list(
            db_session.scalars(select(Case.id).where(Case.id > last).order_by(Case.id).limit(batch))
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def _read_events(db_session: Session, case_ids: list[int]) -> _CaseEvents:
    found = _CaseEvents()
    rows = db_session.execute(
        select(AuditEvent.id, AuditEvent.action, AuditEvent.subject, AuditEvent.details)
        .where(AuditEvent.case_id.in_(case_ids))
        .order_by(AuditEvent.id)
        .execution_options(yield_per=2000)
    )
    for event_id, action, subject, details in rows:
        kind, _sep, row_id = (subject or "").partition(":")
        if kind in ROW_KINDS and row_id.isdigit():
            found.named[subject] = event_id
            if action == "offer.made" and subject not in found.offers_made:
                found.offers_made[subject] = details
        for key, digest in ((details or {}).get(DIGESTS_KEY) or {}).items():
            found.named[key] = event_id
            found.digests[key] = (event_id, digest)
    return found


def _legacy_offer_fault(offer: Offer, made: dict[str, Any] | None) -> bool:
    """For an offer made before row digests: whether its content no longer matches the
    content and digest its `offer.made` event recorded."""
    from app.services import offers

    if made is None:
        return False
    content = offers.offer_content(offer)
    return (
        made.get("content") != content
        or made.get("digest") != offer.digest
        or offers.content_digest(content) != offer.digest
    )


def _check_batch(db_session: Session, case_ids: list[int]) -> DeepReport:
    report = DeepReport(cases=len(case_ids))
    events = _read_events(db_session, case_ids)
    seen: set[str] = set()
    for kind, model in ROW_KINDS.items():
        rows = db_session.scalars(
            select(model)
            .where(model.case_id.in_(case_ids))
            .order_by(model.id)
            .execution_options(yield_per=500)
        )
        for row in rows:
            key = row_key(row)
            seen.add(key)
            report.checked[kind] += 1
            problem = _row_problem(kind, row, key, events)
            if problem is not None:
                report.add(problem)
            elif key in events.digests:
                report.covered[kind] += 1
            else:
                report.not_covered[kind] += 1
    for key, event_id in events.named.items():
        if key not in seen:
            kind, _sep, row_id = key.partition(":")
            report.add(Problem(kind, int(row_id), None, ROW_GONE, event_id))
    return report


def _row_problem(kind: str, row: Any, key: str, events: _CaseEvents) -> Problem | None:
    if key not in events.named:
        return Problem(kind, row.id, row.case_id, NO_EVENT)
    if key in events.digests:
        event_id, digest = events.digests[key]
        if row_digest(row) != digest:
            return Problem(kind, row.id, row.case_id, ALTERED, event_id)
        return None
    if kind == "offer" and _legacy_offer_fault(row, events.offers_made.get(key)):
        return Problem(kind, row.id, row.case_id, OFFER_CONTENT, events.named[key])
    return None


def verify_rows(*, batch: int = 200) -> DeepReport:
    """Compare every settlement row with the latest audit event that recorded its digest, case
    by case in batches (a million rows never sit in memory at once)."""
    started = clock.monotonic()
    report = DeepReport()
    own = get_db().new_session()
    try:
        for case_ids in _case_batches(own, batch):
            found = _check_batch(own, case_ids)
            own.expunge_all()
            if not found.ok:
                # A change committed between reading the events and the rows looks like an
                # edit; a second look, after it, tells the two apart.
                found = _check_batch(own, case_ids)
                own.expunge_all()
            report.merge(found)
    finally:
        own.close()
    report.seconds = clock.monotonic() - started
    return report


# -- stored files against their SHA-256 -------------------------------------------------------


@dataclass(frozen=True)
class ObjectProblem:
    document_id: int
    case_id: int | None
    object_key: str
    reason: str


@dataclass
class ObjectReport:
    """What an object check found: files checked, bytes read, problems."""

    checked: int = 0
    bytes_read: int = 0
    problem_counts: Counter[str] = field(default_factory=Counter)
    problems: list[ObjectProblem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    def add(self, problem: ObjectProblem) -> None:
        self.problem_counts[problem.reason] += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)

    def figures(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "bytes": self.bytes_read,
            "problems": dict(self.problem_counts),
            "seconds": round(self.seconds, 1),
        }


def verify_objects(*, batch: int = 500) -> ObjectReport:
    """Re-hash every stored file a document row names (evidence, letters, agreements, rulings,
    page images) against the SHA-256 the row recorded. An unreachable store raises
    StorageUnavailable: nothing can be said then."""
    started = clock.monotonic()
    report = ObjectReport()
    store = get_store()
    own = get_db().new_session()
    try:
        last = 0
        while True:
            rows = own.execute(
                select(Document.id, Document.case_id, Document.object_key, Document.sha256)
                .where(Document.id > last)
                .order_by(Document.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            for document_id, case_id, key, sha256 in rows:
                report.checked += 1
                reason = None
                try:
                    report.bytes_read += len(store.read(key, sha256=sha256))
                except ObjectNotFound:
                    reason = OBJECT_MISSING
                except IntegrityError:
                    reason = OBJECT_ALTERED
                except StorageUnavailable:
                    raise
                except (StorageError, ValueError):
                    reason = OBJECT_UNREADABLE
                if reason is not None:
                    report.add(ObjectProblem(document_id, case_id, key, reason))
            last = rows[-1][0]
            own.rollback()  # end the read transaction between pages
    finally:
        own.close()
    report.seconds = clock.monotonic() - started
    return report


# -- nightly jobs -------------------------------------------------------------------------------

DEEP_JOB = "integrity.deep_verify"
OBJECTS_JOB = "evidence.verify"
NIGHTLY_JOBS = (DEEP_JOB, OBJECTS_JOB)
# The nightly checks start after this local (Beijing) time, when the centres are closed.
NIGHTLY_AFTER = time(2, 0)
# A million rows or gigabytes of files take a while: far beyond the default job limit.
NIGHTLY_TIMEOUT = 6 * 3600
# Any constant of our own: the PostgreSQL advisory lock that serialises scheduling.
_SCHEDULE_LOCK = 0x6461_6F6A_6961_6F01

ROWS_ALERT = N_(
    "The nightly integrity check found %(count)s settlement record(s) that no longer match "
    "the audit log. Run “daojiao audit verify --deep” on the server for the list."
)
CHAIN_ALERT = N_(
    "The nightly integrity check found the audit log's hash chain broken at event %(id)s "
    "(%(reason)s). Run “daojiao audit verify” on the server."
)
OBJECTS_ALERT = N_(
    "The nightly integrity check found %(missing)s missing and %(altered)s altered stored "
    "file(s). Run “daojiao evidence verify” on the server for the list."
)


@jobs.job_handler(DEEP_JOB, timeout=NIGHTLY_TIMEOUT)
def deep_verify_job(job: Job, progress: jobs.Progress) -> None:
    """Verify the audit chain (from its checkpoint) and every settlement row; record the figures
    in the audit log, and alert the platform's administrators of any problem."""
    progress(0, N_("Checking the audit chain"))
    chain = audit.verify_chain()
    progress(10, N_("Checking the settlement records"))
    report = verify_rows()
    details = {"chain_events": chain.checked, **report.figures()}
    if chain.ok and report.ok:
        audit.record("integrity.verified", actor=None, subject=f"job:{job.id}", details=details)
        return
    details["chain_broken_at"] = None if chain.ok else [chain.broken_id, chain.reason]
    details["first_problems"] = [_problem_text(problem) for problem in report.problems[:20]]
    audit.record("integrity.failed", actor=None, subject=f"job:{job.id}", details=details)
    if not chain.ok:
        notifications.notify_admins(
            kind="integrity.failed", message=CHAIN_ALERT, id=chain.broken_id, reason=chain.reason
        )
    if not report.ok:
        notifications.notify_admins(
            kind="integrity.failed", message=ROWS_ALERT, count=report.problem_total
        )


@jobs.job_handler(OBJECTS_JOB, timeout=NIGHTLY_TIMEOUT)
def verify_objects_job(job: Job, progress: jobs.Progress) -> None:
    """Re-hash every stored file; record the figures, alert the administrators of problems."""
    progress(0, N_("Checking the stored files"))
    report = verify_objects()
    details = report.figures()
    if report.ok:
        audit.record("evidence.verified", actor=None, subject=f"job:{job.id}", details=details)
        return
    details["first_problems"] = [
        f"document {p.document_id} ({p.object_key}): {p.reason}" for p in report.problems[:20]
    ]
    audit.record("evidence.failed", actor=None, subject=f"job:{job.id}", details=details)
    notifications.notify_admins(
        kind="evidence.failed",
        message=OBJECTS_ALERT,
        missing=report.problem_counts[OBJECT_MISSING],
        altered=report.problem_counts[OBJECT_ALTERED] + report.problem_counts[OBJECT_UNREADABLE],
    )


def _problem_text(problem: Problem) -> str:
    event = f", event {problem.event_id}" if problem.event_id else ""
    return f"{problem.kind} {problem.row_id}{event}: {problem.reason}"


def night_start(now: datetime) -> datetime | None:
    """When tonight's checks became due (02:00 Beijing of the local day), or None before."""
    local = now.astimezone(BEIJING)
    if local.time() < NIGHTLY_AFTER:
        return None
    return datetime.combine(local.date(), NIGHTLY_AFTER, tzinfo=BEIJING).astimezone(UTC)


# The app's extension holding the night it last found scheduled: later sweeps ask nothing.
NIGHT_SCHEDULED = "daojiao.integrity_night"


def schedule_nightly_if_due(app: Flask, now: datetime | None = None) -> list[Job]:
    """Schedule tonight's checks once, whichever of several workers' sweepers asks first;
    the jobs scheduled (none when not due or already scheduled). Cheap when not due: no query
    before 02:00 Beijing, and one per process and night after."""
    start = night_start(now or utcnow())
    if start is None or app.extensions.get(NIGHT_SCHEDULED) == start:
        return []
    scheduled = jobs.schedule_once_across_workers(app, _SCHEDULE_LOCK, lambda: _missing(start))
    app.extensions[NIGHT_SCHEDULED] = start
    return scheduled


def _missing(start: datetime) -> list[Job]:
    """Schedule those of tonight's checks not scheduled since `start`."""
    scheduled = []
    for kind in NIGHTLY_JOBS:
        done = session.scalar(select(exists().where(Job.kind == kind, Job.created_at >= start)))
        if not done:
            scheduled.append(jobs.schedule(kind))
    return scheduled
