"""Stored evidence re-checked by the `documents.verify` job, against the S3 server."""

from __future__ import annotations

import io

from flask import Flask
from minio import Minio

from app import audit, jobs
from app.db import session
from app.models import Document, JobStatus, OrgKind
from app.objects import get_store
from storage import new_key
from tests import factories
from tests.support import servers


def stored_document(content: bytes) -> Document:
    case = factories.make_case(police=factories.make_org(OrgKind.POLICE))
    stored = get_store().put(content, key=new_key(case.id), media_type="application/pdf")
    document = Document(
        case_id=case.id,
        kind="report",
        object_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        media_type=stored.media_type,
        filename="认定书.pdf",
    )
    session.add(document)
    session.flush()
    return document


def test_intact_document_is_verified_and_the_check_is_audited(app: Flask) -> None:
    document = stored_document(b"%PDF-1.7 intact evidence")
    job = jobs.schedule("documents.verify", subject_id=document.id, case_id=document.case_id)
    session.commit()
    session.refresh(job)
    assert job.status == JobStatus.SUCCEEDED
    event = audit.recent_events(limit=1, case_id=document.case_id)[0]
    assert event.action == "document.verified"
    assert event.details == {"sha256": document.sha256}


def test_altered_document_fails_its_check_with_a_reason(app: Flask) -> None:
    document = stored_document(b"%PDF-1.7 original evidence")
    forged = b"%PDF-1.7 forged evidence!!"
    Minio(
        app.config["S3_ENDPOINT"],
        access_key=servers.S3_ACCESS_KEY,
        secret_key=servers.S3_SECRET_KEY,
        secure=False,
    ).put_object(app.config["S3_BUCKET"], document.object_key, io.BytesIO(forged), len(forged))
    job = jobs.schedule("documents.verify", subject_id=document.id, case_id=document.case_id)
    session.commit()
    session.refresh(job)
    assert job.status == JobStatus.FAILED
    assert job.error_code == "altered"
    assert "不再与登记的指纹一致" in job.error
    (event,) = audit.recent_events(limit=1, case_id=document.case_id)
    assert event.action == "job.failed"
    assert event.details["code"] == "altered"
    assert event.details["subject_id"] == document.id
