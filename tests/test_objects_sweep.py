"""Objects with no row: uploads that are refused store nothing, and the orphan sweep moves what
a failed commit left behind to quarantine, never touching an object a row names."""

from __future__ import annotations

import io
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app import objects
from app.cli import evidence_sweep_orphans
from app.config import ConfigError, load_settings
from app.db import session, utcnow
from app.models import AuditEvent, Case, Document, OrgKind, User
from app.services import documents
from storage import QUARANTINE_PREFIX, LocalStore, MinioStore, ObjectStore, new_key
from tests import factories
from tests.support import servers

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
LATER = timedelta(hours=25)  # past the default 24 h grace


@pytest.fixture(params=["local", "minio"])
def own_store(
    app: Flask, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ObjectStore:
    """The app's store replaced, for one test, by an empty folder or bucket of its own (the
    sweep looks at every object of its store)."""
    if request.param == "local":
        store: ObjectStore = LocalStore(tmp_path / "objects")
    else:
        store = MinioStore(
            request.getfixturevalue("s3_endpoint"),
            access_key=servers.S3_ACCESS_KEY,
            secret_key=servers.S3_SECRET_KEY,
            bucket=f"daojiao-sweep-{uuid.uuid4().hex[:12]}",
        )
    store.ensure_ready()
    monkeypatch.setitem(app.extensions, "daojiao.store", store)
    monkeypatch.setitem(app.extensions, "daojiao.store_ready", True)
    monkeypatch.setitem(app.extensions, objects._DUE_AT, None)
    return store


def mediated_case() -> tuple[Case, User]:
    committee = factories.make_org(OrgKind.MEDIATION)
    case = factories.make_accident_case(
        police=factories.make_org(OrgKind.POLICE),
        committee=committee,
        insurer=factories.make_org(OrgKind.INSURER),
    )
    mediator = factories.make_user(committee)
    session.commit()
    return case, mediator


def case_keys(store: ObjectStore, case: Case) -> list[str]:
    return [item.key for item in store.list_objects(f"cases/{case.id}/")]


# --- a refused upload stores nothing ---------------------------------------------------------


def test_api_upload_with_a_bad_second_file_leaves_no_object(
    app: Flask, own_store: ObjectStore
) -> None:
    case, mediator = mediated_case()
    client = app.test_client()
    response = client.post(
        f"/api/v1/cases/{case.id}/documents",
        headers=factories.api_token(client, mediator),
        **factories.multipart(
            {"kind": "photo", "file": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(b"text"), "b.txt")]}
        ),
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert response.get_json()["error"]["code"] == "unsupported_type"
    assert session.scalars(select(Document).where(Document.case_id == case.id)).all() == []
    assert case_keys(own_store, case) == []


def test_portal_upload_with_an_empty_second_file_leaves_no_object(
    app: Flask, own_store: ObjectStore
) -> None:
    case, mediator = mediated_case()
    client = app.test_client()
    factories.login(client, mediator)
    response = client.post(
        f"/cases/{case.id}/documents",
        **factories.multipart(
            {"kind": "photo", "files": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(b""), "b.png")]}
        ),
    )
    assert response.status_code == 422
    assert session.scalars(select(Document).where(Document.case_id == case.id)).all() == []
    assert case_keys(own_store, case) == []


def test_several_good_files_are_all_stored(app: Flask, own_store: ObjectStore) -> None:
    case, mediator = mediated_case()
    client = app.test_client()
    response = client.post(
        f"/api/v1/cases/{case.id}/documents",
        headers=factories.api_token(client, mediator),
        **factories.multipart(
            {"kind": "photo", "file": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(PNG), "b.png")]}
        ),
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    assert len(response.get_json()["items"]) == 2
    assert len(case_keys(own_store, case)) == 2


# --- the sweep ---------------------------------------------------------------------------------


def stored_with_row(case: Case, actor: User) -> Document:
    document = documents.store_document(
        actor=actor, case=case, kind="photo", data=PNG, media_type="image/png"
    )
    session.flush()
    return document


def test_sweep_quarantines_old_orphans_only(app: Flask, own_store: ObjectStore) -> None:
    case, mediator = mediated_case()
    kept = stored_with_row(case, mediator)
    orphan = own_store.put(b"left by a failed commit", key=new_key(case.id), media_type="x/y")
    unfiled = own_store.put(b"unfiled orphan", key=new_key(None), media_type="x/y")

    young = objects.sweep_orphans()  # everything is younger than the grace period
    assert young.checked == 0
    assert young.quarantined == {}

    result = objects.sweep_orphans(now=utcnow() + LATER)

    assert result.checked == 3
    assert result.quarantined == {
        orphan.key: QUARANTINE_PREFIX + orphan.key,
        unfiled.key: QUARANTINE_PREFIX + unfiled.key,
    }
    assert own_store.read(kept.object_key, sha256=kept.sha256) == PNG  # a row names it
    assert not own_store.exists(orphan.key)
    assert own_store.read(QUARANTINE_PREFIX + orphan.key, sha256=orphan.sha256)
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == objects.SWEEP_ACTION)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.details["quarantined_count"] == 2
    assert event.details["quarantined"][orphan.key] == QUARANTINE_PREFIX + orphan.key

    again = objects.sweep_orphans(now=utcnow() + LATER)  # quarantine is never swept
    assert again.checked == 1
    assert again.quarantined == {}


def test_dry_run_lists_orphans_and_moves_nothing(app: Flask, own_store: ObjectStore) -> None:
    case, _mediator = mediated_case()
    orphan = own_store.put(b"orphan", key=new_key(case.id), media_type="x/y")

    result = objects.sweep_orphans(dry_run=True, now=utcnow() + LATER)

    assert result.orphans == [orphan.key]
    assert result.quarantined == {}
    assert own_store.exists(orphan.key)


def test_grace_is_configurable(app: Flask, own_store: ObjectStore) -> None:
    case, _mediator = mediated_case()
    orphan = own_store.put(b"orphan", key=new_key(case.id), media_type="x/y")

    assert objects.sweep_orphans(dry_run=True, now=utcnow() + timedelta(hours=2)).orphans == []
    shorter = objects.sweep_orphans(
        grace=timedelta(hours=1), dry_run=True, now=utcnow() + timedelta(hours=2)
    )
    assert shorter.orphans == [orphan.key]


def test_sweep_is_run_once_a_day(app: Flask, own_store: ObjectStore) -> None:
    case, _mediator = mediated_case()
    first = own_store.put(b"first orphan", key=new_key(case.id), media_type="x/y")

    done = objects.sweep_orphans_if_due(app, now=utcnow() + LATER)
    assert done is not None
    assert list(done.quarantined) == [first.key]

    own_store.put(b"second orphan", key=new_key(case.id), media_type="x/y")
    assert objects.sweep_orphans_if_due(app, now=utcnow() + LATER + timedelta(hours=1)) is None
    # Another process (no memo) reads the last sweep's time from the audit trail: not due.
    app.extensions[objects._DUE_AT] = None
    assert objects.sweep_orphans_if_due(app, now=utcnow() + timedelta(hours=1)) is None
    assert app.extensions[objects._DUE_AT] is not None

    later = objects.sweep_orphans_if_due(app, now=utcnow() + LATER)
    assert later is not None
    assert len(later.quarantined) == 1


def test_cli_sweep_orphans_dry_run_then_for_real(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "objects")
    monkeypatch.setitem(app.extensions, "daojiao.store", store)
    case, mediator = mediated_case()
    kept = stored_with_row(case, mediator)
    session.commit()
    orphan = store.put(b"orphan", key=new_key(case.id), media_type="x/y")
    day_ago = time.time() - LATER.total_seconds()
    for key in (orphan.key, kept.object_key):
        os.utime(tmp_path / "objects" / key, (day_ago, day_ago))
    runner = app.test_cli_runner()

    listed = runner.invoke(evidence_sweep_orphans, ["--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert f"orphan {orphan.key}" in listed.output
    assert "checked 2 object(s)" in listed.output
    assert "found 1" in listed.output
    assert store.exists(orphan.key)

    swept = runner.invoke(evidence_sweep_orphans, [])
    assert swept.exit_code == 0, swept.output
    assert f"quarantined {orphan.key} -> {QUARANTINE_PREFIX}{orphan.key}" in swept.output
    assert not store.exists(orphan.key)
    assert store.exists(kept.object_key)


def test_orphan_grace_hours_setting(tmp_path: Path) -> None:
    assert load_settings(str(tmp_path), {"DAOJIAO_MODE": "testing"})["ORPHAN_GRACE_HOURS"] == 24
    assert (
        load_settings(str(tmp_path), {"DAOJIAO_MODE": "testing", "ORPHAN_GRACE_HOURS": "48"})[
            "ORPHAN_GRACE_HOURS"
        ]
        == 48
    )
    with pytest.raises(ConfigError, match="ORPHAN_GRACE_HOURS"):
        load_settings(str(tmp_path), {"DAOJIAO_MODE": "testing", "ORPHAN_GRACE_HOURS": "0"})


def test_a_sweep_with_the_store_down_is_tried_again_later(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = MinioStore(
        f"127.0.0.1:{servers.free_port()}",  # nothing listens: refused
        access_key=servers.S3_ACCESS_KEY,
        secret_key=servers.S3_SECRET_KEY,
        bucket="daojiao",
    )
    monkeypatch.setitem(app.extensions, "daojiao.store", down)
    monkeypatch.setitem(app.extensions, "daojiao.store_ready", True)
    monkeypatch.setitem(app.extensions, objects._DUE_AT, None)
    now = utcnow()

    assert objects.sweep_orphans_if_due(app, now=now) is None

    assert app.extensions[objects._DUE_AT] == now + timedelta(hours=1)
    assert (
        session.scalars(select(AuditEvent).where(AuditEvent.action == objects.SWEEP_ACTION)).all()
        == []
    )
