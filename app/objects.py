"""The app's object store, made ready (folder or bucket created) on first use, and the sweep
that quarantines objects no row refers to.

Every writer puts an object before the row naming it commits, so a failed commit (or a crash
in between) leaves an object without a row, never a row without its object. Such orphans are
moved under storage.QUARANTINE_PREFIX once older than ORPHAN_GRACE_HOURS; nothing is deleted,
so an object whose row was lost (a database restored from an older backup) can still be found.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import audit
from app.db import session, utcnow
from app.errors import EvidenceAltered
from app.models import AuditEvent, Document
from storage import KEY_PREFIXES, IntegrityError, ObjectNotFound, ObjectStore, StorageError

log = logging.getLogger(__name__)

_ready_lock = threading.Lock()

SWEEP_ACTION = "evidence.orphans_swept"
# How often the worker's sweeper runs the orphan sweep.
SWEEP_INTERVAL = timedelta(days=1)
# Keys looked up in one query.
_BATCH = 500
# Keys named in the sweep's audit event at most (the count is always exact).
_AUDITED_KEYS = 1000
_DUE_AT = "daojiao.orphan_sweep_due_at"
# After a failed sweep (the store unreachable), the next try.
_RETRY_AFTER = timedelta(hours=1)


def get_store() -> ObjectStore:
    """The configured evidence store, its bucket or folder created if missing."""
    extensions = current_app.extensions
    store: ObjectStore = extensions["daojiao.store"]
    if not extensions.get("daojiao.store_ready"):
        with _ready_lock:
            if not extensions.get("daojiao.store_ready"):
                store.ensure_ready()
                extensions["daojiao.store_ready"] = True
    return store


@dataclass
class SweepResult:
    """What one orphan sweep found and did."""

    dry_run: bool
    grace: timedelta
    checked: int = 0
    orphans: list[str] = field(default_factory=list)
    quarantined: dict[str, str] = field(default_factory=dict)


def read_verified(
    key: str,
    sha256: str,
    *,
    altered: str,
    subject: str,
    case_id: int | None = None,
    details: dict | None = None,
) -> bytes:
    """An object's bytes, checked against the SHA-256 recorded when it was stored. An altered
    one is logged as `altered` (in a transaction of its own: kept whatever the request does)
    and refused, a missing one refused: neither is ever served."""
    try:
        return get_store().read(key, sha256=sha256)
    except IntegrityError as exc:
        audit.record_now(
            altered,
            actor_id=None,
            case_id=case_id,
            subject=subject,
            details=details if details is not None else {"error": str(exc)},
        )
        raise EvidenceAltered(
            _(
                "The stored file no longer matches its recorded fingerprint and is not served. "
                "The administrators have been told."
            )
        ) from exc
    except ObjectNotFound as exc:
        raise EvidenceAltered(_("The stored file is missing."), code="evidence_missing") from exc


def _batches(keys: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for key in keys:
        batch.append(key)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _referenced(keys: list[str]) -> set[str]:
    """The keys among `keys` that a document row names."""
    return set(session.scalars(select(Document.object_key).where(Document.object_key.in_(keys))))


def sweep_orphans(
    *, grace: timedelta | None = None, dry_run: bool = False, now: datetime | None = None
) -> SweepResult:
    """Quarantine the objects under the app's key prefixes older than `grace` (default
    ORPHAN_GRACE_HOURS) that no document row names; with `dry_run`, only list them.

    An object a row names is never touched: each orphan is looked up again right before it is
    moved, so a row committed meanwhile keeps its object. The sweep's audit event is added to
    the session; the caller commits it.
    """
    grace = grace or timedelta(hours=current_app.config["ORPHAN_GRACE_HOURS"])
    cutoff = (now or utcnow()) - grace
    store = get_store()
    result = SweepResult(dry_run=dry_run, grace=grace)
    old_enough = (
        listed.key
        for prefix in KEY_PREFIXES
        for listed in store.list_objects(prefix)
        if listed.last_modified < cutoff
    )
    for batch in _batches(old_enough):
        result.checked += len(batch)
        referenced = _referenced(batch)
        result.orphans += [key for key in batch if key not in referenced]
    if dry_run:
        return result
    for key in result.orphans:
        if _referenced([key]):
            continue
        try:
            result.quarantined[key] = store.quarantine(key)
        except ObjectNotFound:
            log.info("orphan %s is gone already (another sweep moved it)", key)
    audit.record(
        SWEEP_ACTION,
        actor=None,
        details={
            "grace_hours": grace / timedelta(hours=1),
            "checked": result.checked,
            "quarantined_count": len(result.quarantined),
            "quarantined": dict(list(result.quarantined.items())[:_AUDITED_KEYS]),
        },
    )
    if result.quarantined:
        log.warning("quarantined %d orphaned object(s)", len(result.quarantined))
    return result


def sweep_orphans_if_due(app: Flask, *, now: datetime | None = None) -> SweepResult | None:
    """Run sweep_orphans once a SWEEP_INTERVAL across all processes (for the worker's sweeper
    loop); None when not due, or when the store failed (logged; tried again in an hour). Between
    runs a call costs one dictionary lookup, and one query on the indexed audit action after
    each interval or process start."""
    now = now or utcnow()
    due_at: datetime | None = app.extensions.get(_DUE_AT)
    if due_at is not None and now < due_at:
        return None
    with app.app_context():
        last = session.scalar(
            select(func.max(AuditEvent.occurred_at)).where(AuditEvent.action == SWEEP_ACTION)
        )
        session.rollback()  # end the read's transaction before the sweep's own work
        if last is not None and now - last < SWEEP_INTERVAL:
            app.extensions[_DUE_AT] = last + SWEEP_INTERVAL
            return None
        try:
            result = sweep_orphans(now=now)
        except StorageError:
            # The sweeper thread must live on: try again in an hour, not at every loop.
            log.warning("orphan sweep failed; next try in %s", _RETRY_AFTER, exc_info=True)
            app.extensions[_DUE_AT] = now + _RETRY_AFTER
            return None
        session.commit()
    app.extensions[_DUE_AT] = now + SWEEP_INTERVAL
    return result
