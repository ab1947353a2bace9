"""Backup and restore, proven (issue 15 item 8; docs/operations.md): a settled case with evidence
is dumped with `pg_dump -Fc`, restored with `pg_restore` into a fresh database, its bucket copied
to a new one; the app on the copy shows the case and both integrity checks find it intact. An edit
of a payment and a deleted object in the copy are then both reported."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from minio.commonconfig import CopySource
from sqlalchemy import select, text

from app import audit, integrity, migrate
from app.cli import audit_verify, evidence_verify, worklist_rebuild
from app.db import session
from app.models import Document, Payment, User
from app.objects import get_store
from app.services import documents
from tests import factories
from tests.support import servers
from tests.support.centre import Centre
from tests.test_integrity import PHOTO, settle

pytestmark = pytest.mark.slow

PG_DUMP = "/usr/bin/pg_dump"
PG_RESTORE = "/usr/bin/pg_restore"


def libpq(url: str) -> str:
    """The SQLAlchemy URL as the PostgreSQL client programs take it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def restored_url(database_url: str) -> Iterator[str]:
    """An empty database beside the test database, dropped afterwards."""
    url = servers.sibling_database(database_url, "restored")
    servers.recreate_database(url)
    yield url
    servers.drop_database(url)


def build_case(app: Flask) -> dict[str, object]:
    """A case settled and paid through the services, with a photo: what a backup must keep."""
    with app.app_context():
        centre = Centre(app)
        case = factories.make_accident_case(
            police=centre.police_org, committee=centre.committee, insurer=centre.insurer
        )
        session.commit()
        settle(centre, case)
        photo = documents.store_evidence(
            actor=centre.mediator,
            case=case,
            kind="photo",
            filename="现场.png",
            data=PHOTO,
            media_types=("image/png",),
        )
        session.commit()
        return {
            "case_id": case.id,
            "number": case.number,
            "mediator_id": centre.mediator.id,
            "photo_key": photo.object_key,
            "bucket": get_store().bucket,
        }


def copy_bucket(app: Flask, source: str, target: str) -> int:
    """Copy every object of `source` into a new bucket `target` (what `mc mirror` does)."""
    with app.app_context():
        client = get_store()._client
    client.make_bucket(target)
    copied = 0
    for item in client.list_objects(source, recursive=True):
        client.copy_object(target, item.object_name, CopySource(source, item.object_name))
        copied += 1
    return copied


def test_a_restored_backup_works_and_its_checks_catch_tampering(
    committed_app: Callable[..., Flask], database_url: str, restored_url: str, tmp_path: Path
) -> None:
    source = committed_app()
    built = build_case(source)

    dump = tmp_path / "daojiao.dump"
    subprocess.run(
        [PG_DUMP, "--format=custom", "--file", str(dump), "--dbname", libpq(database_url)],
        check=True,
    )
    subprocess.run(
        [PG_RESTORE, "--no-owner", "--exit-on-error", "--dbname", libpq(restored_url), str(dump)],
        check=True,
    )
    bucket = f"daojiao-restored-{uuid.uuid4().hex[:12]}"
    assert copy_bucket(source, str(built["bucket"]), bucket) >= 4

    migrate.upgrade(restored_url)  # `daojiao db upgrade`: a no-op at head, as it must be
    restored = committed_app(DATABASE_URL=restored_url, S3_BUCKET=bucket)
    runner = restored.test_cli_runner()
    with restored.app_context():
        assert audit.verify_chain(full=True).ok
        rows = integrity.verify_rows()
        assert rows.ok, rows.problems
        assert rows.covered["payment"] >= 1
        assert rows.covered["offer"] >= 1
        objects = integrity.verify_objects()
        assert objects.ok, objects.problems
        assert objects.checked >= 4  # letter or agreement PDFs, the signed scan, the photo
        for command, args in ((audit_verify, ["--deep"]), (evidence_verify, [])):
            result = runner.invoke(command, args)
            assert result.exit_code == 0, result.output
        assert runner.invoke(worklist_rebuild).exit_code == 0
        mediator = session.get(User, built["mediator_id"])

    client = restored.test_client()
    factories.login(client, mediator)
    page = client.get(f"/cases/{built['case_id']}")
    assert page.status_code == 200
    assert str(built["number"]) in page.get_data(as_text=True)

    # Tampering with the copy: a payment's amount by SQL, an object deleted from its bucket.
    with restored.app_context():
        paid = session.scalars(select(Payment).order_by(Payment.id)).first()
        session.execute(
            text("UPDATE payments SET amount = amount - 100 WHERE id = :id"), {"id": paid.id}
        )
        session.commit()
        photo = session.scalars(
            select(Document).where(Document.object_key == built["photo_key"])
        ).one()
        get_store()._client.remove_object(bucket, photo.object_key)

        rows = integrity.verify_rows()
        assert {(p.kind, p.row_id, p.reason) for p in rows.problems} == {
            ("payment", paid.id, integrity.ALTERED)
        }
        objects = integrity.verify_objects()
        assert {(p.document_id, p.reason) for p in objects.problems} == {
            (photo.id, integrity.OBJECT_MISSING)
        }
        deep = runner.invoke(audit_verify, ["--deep"])
        assert deep.exit_code == 1
        assert integrity.ALTERED in deep.output
        files = runner.invoke(evidence_verify)
        assert files.exit_code == 1
        assert photo.object_key in files.output

    # The original is untouched by what happened to the copy.
    with source.app_context():
        assert integrity.verify_rows().ok
        assert integrity.verify_objects().ok
