"""Stored evidence re-checked by the `documents.verify` job, against the S3 server; the amount
a bill shows, entered when it is attached."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from minio import Minio
from sqlalchemy import select

from app import audit, jobs
from app.db import session
from app.models import Case, Document, JobStatus, OrgKind, User
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


# -- the amount of a bill -----------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


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


def attach(app: Flask, user: User, case: Case, **fields: Any) -> Any:
    client = app.test_client()
    factories.login(client, user)
    return client, client.post(
        f"/cases/{case.id}/documents",
        **factories.multipart({"kind": "medical_bill", **fields}),
    )


def test_a_bill_is_attached_with_its_amount(app: Flask) -> None:
    case, mediator = mediated_case()
    client, response = attach(
        app,
        mediator,
        case,
        files=(io.BytesIO(PNG), "门诊票据.png"),
        description="门诊费",
        amount="1,200.50",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    document = session.scalars(select(Document).where(Document.case_id == case.id)).one()
    assert document.amount == Decimal("1200.50")
    (event,) = [
        e for e in audit.recent_events(limit=5, case_id=case.id) if e.action == "document.added"
    ]
    assert event.details["amount"] == "1200.50"
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'name="amount"' in page
    assert f'data-testid="amount-{document.id}"' in page
    assert "1200.50" in page


def test_a_bill_without_an_amount_keeps_none(app: Flask) -> None:
    case, mediator = mediated_case()
    _client, response = attach(app, mediator, case, files=(io.BytesIO(PNG), "票据.png"))
    assert response.status_code == 302
    assert session.scalars(select(Document).where(Document.case_id == case.id)).one().amount is None


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"files": (io.BytesIO(PNG), "票据.png"), "amount": "一千"}, 422),
        ({"files": (io.BytesIO(PNG), "票据.png"), "amount": "-5"}, 422),
        (
            {
                "files": [(io.BytesIO(PNG), "一.png"), (io.BytesIO(PNG), "二.png")],
                "amount": "100",
            },
            400,
        ),
    ],
)
def test_a_wrong_amount_is_refused_and_nothing_is_stored(
    app: Flask, fields: dict[str, Any], status: int
) -> None:
    case, mediator = mediated_case()
    _client, response = attach(app, mediator, case, **fields)
    assert response.status_code == status
    assert session.scalars(select(Document).where(Document.case_id == case.id)).all() == []
