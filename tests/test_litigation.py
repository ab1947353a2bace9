"""Litigation hand-off: the signed filing package of a case whose mediation failed."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest
from flask import Flask
from minio import Minio
from sqlalchemy import select

from app import bundles, signing
from app.db import session
from app.errors import InvalidTransition, NotAllowed
from app.models import AuditEvent, Case, CaseStatus, Document, Job, JobStatus
from app.services import documents, litigation, mediation
from tests import factories
from tests.support import servers
from tests.support.centre import Centre as SharedCentre

REPO = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n" + b"photo of the scene" * 20
PDF = b"%PDF-1.4 a medical bill"


class Centre(SharedCentre):
    """The shared centre with a negotiating case, its photo and a medical bill."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.case = factories.make_accident_case(
            police=self.police_org,
            committee=self.committee,
            insurer=self.insurer,
            status=CaseStatus.NEGOTIATING,
        )
        self.case.report_no = "离公交认字[2023]第00123号"
        self.photo = documents.store_document(
            actor=self.mediator,
            case=self.case,
            kind="photo",
            data=PNG,
            media_type="image/png",
            filename="现场照片.png",
        )
        self.bill = documents.store_document(
            actor=self.mediator,
            case=self.case,
            kind="medical_bill",
            data=PDF,
            media_type="application/pdf",
            filename="医疗费票据.pdf",
        )
        session.commit()

    def fail(self) -> None:
        mediation.fail_mediation(actor=self.mediator, case=self.case, reason="对残疾等级有争议")
        session.commit()  # without Redis the package job runs right after the commit
        session.expire_all()


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Centre:
    monkeypatch.setitem(app.config, "DAOJIAO_SIGNING_KEY", str(tmp_path / "signing-key.pem"))
    return world.for_test()


def package_jobs(case: Case) -> list[Job]:
    query = select(Job).where(Job.case_id == case.id, Job.kind == litigation.JOB_KIND)
    return list(session.scalars(query.order_by(Job.id)))


def package_documents(case: Case) -> list[Document]:
    query = select(Document).where(
        Document.case_id == case.id, Document.kind == litigation.FILING_PACKAGE
    )
    return list(session.scalars(query))


def package_bytes(case: Case) -> bytes:
    package = litigation.latest_package(case)
    assert package is not None
    return documents.read_document(package["document"])


def test_a_failed_mediation_produces_a_signed_filing_package(centre: Centre) -> None:
    centre.fail()
    (job,) = package_jobs(centre.case)
    assert job.status == JobStatus.SUCCEEDED, job.error
    data = package_bytes(centre.case)
    public = signing.platform_key().public_key()
    result = bundles.verify_bundle(data, trusted=public)
    assert result.ok, result.problems
    manifest = result.manifest
    assert manifest["case_number"] == centre.case.number
    listed = {entry["path"]: entry for entry in manifest["files"]}
    for document, content in ((centre.photo, PNG), (centre.bill, PDF)):
        path = f"documents/{document.id}-{document.filename}"
        assert listed[path]["sha256"] == document.sha256 == hashlib.sha256(content).hexdigest()
        assert listed[path]["document_id"] == document.id
    assert {"summary.json", "summary.pdf"} <= listed.keys()
    # The case's letter-less documents are all there: nothing more, nothing less.
    assert len(listed) == 2 + len(litigation.packaged_documents(centre.case))

    package = litigation.latest_package(centre.case)
    assert package["key_id"] == bundles.key_id(public)
    (event,) = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "litigation.package", AuditEvent.case_id == centre.case.id
        )
    )
    assert event.details["sha256"] == package["document"].sha256
    assert event.details["key_id"] == package["key_id"]
    assert package["document"].media_type == "application/zip"


def test_the_summary_states_the_facts_in_json_and_a_readable_pdf(centre: Centre) -> None:
    centre.fail()
    with zipfile.ZipFile(io.BytesIO(package_bytes(centre.case))) as archive:
        summary = json.loads(archive.read("summary.json"))
        pdf_bytes = archive.read("summary.pdf")
    assert summary["case_number"] == centre.case.number
    assert summary["status"] == "litigation"
    assert summary["outcome_note"] == "对残疾等级有争议"
    assert [p["label"] for p in summary["parties"]] == ["甲方", "乙方"]
    assert summary["vehicles"][0]["policies"][0]["kind"] == "ctpi"
    assert {d["id"]: d["sha256"] for d in summary["documents"]} == {
        centre.photo.id: centre.photo.sha256,
        centre.bill.id: centre.bill.sha256,
    }
    # ID numbers are masked: the package is stored with the case's documents.
    assert all("*" in (p["id_number"] or "*") for p in summary["parties"])
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert centre.case.number in text
    for party in centre.case.parties:
        assert party.name in text
    assert "对残疾等级有争议" in text
    assert centre.photo.sha256[:16] in text


@pytest.mark.slow  # the CLI in a process of its own
def test_the_package_verifies_with_daojiao_bundle_verify(centre: Centre, tmp_path: Path) -> None:
    centre.fail()
    package = tmp_path / "package.zip"
    package.write_bytes(package_bytes(centre.case))
    pem = tmp_path / "platform.pem"
    pem.write_text(signing.public_key_pem(signing.platform_key().public_key()))
    command = [sys.executable, "-c", "from app.cli import main; main()", "bundle", "verify"]
    done = subprocess.run(
        [*command, str(package), "--public-key", str(pem)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"OK 4 file(s) of case {centre.case.number}")


def test_a_package_is_not_rebuilt_for_the_same_documents(centre: Centre) -> None:
    centre.fail()
    assert litigation.schedule_filing_package(actor=centre.mediator, case=centre.case) is None
    session.commit()
    assert len(package_documents(centre.case)) == 1
    documents.store_document(
        actor=centre.mediator,
        case=centre.case,
        kind="other",
        data=b"%PDF-1.4 a late appraisal",
        media_type="application/pdf",
        filename="鉴定意见.pdf",
    )
    assert not litigation.is_package_current(centre.case)
    job = litigation.schedule_filing_package(actor=centre.admin, case=centre.case)
    assert job is not None
    session.commit()
    session.expire_all()
    assert len(package_documents(centre.case)) == 2
    assert litigation.is_package_current(centre.case)
    result = bundles.verify_bundle(package_bytes(centre.case))
    assert result.ok
    assert result.files == 5


def test_an_altered_document_fails_the_job_and_nothing_is_packaged(
    app: Flask, centre: Centre
) -> None:
    # A photo of this test's own: the module's tests share the world's stored files.
    photo = documents.store_document(
        actor=centre.mediator,
        case=centre.case,
        kind="photo",
        data=PNG,
        media_type="image/png",
        filename="现场照片.png",
    )
    forged = b"\x89PNG\r\n\x1a\n" + b"a different scene" * 20
    Minio(
        app.config["S3_ENDPOINT"],
        access_key=servers.S3_ACCESS_KEY,
        secret_key=servers.S3_SECRET_KEY,
        secure=False,
    ).put_object(app.config["S3_BUCKET"], photo.object_key, io.BytesIO(forged), len(forged))
    centre.fail()
    (job,) = package_jobs(centre.case)
    assert job.status == JobStatus.FAILED
    assert job.error_code == "altered"
    assert f"{photo.id}" in job.error
    assert "现场照片.png" in job.error
    assert "不再与登记的指纹一致" in job.error
    assert package_documents(centre.case) == []
    assert session.get(Case, centre.case.id).status == CaseStatus.LITIGATION
    actions = set(
        session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == centre.case.id))
    )
    assert "job.failed" in actions
    assert "litigation.package" not in actions


def test_only_a_case_in_litigation_gets_a_package_from_its_own_people(centre: Centre) -> None:
    with pytest.raises(InvalidTransition):
        litigation.schedule_filing_package(actor=centre.mediator, case=centre.case)
    centre.fail()
    for who in (centre.other_mediator, centre.adjuster, centre.police, centre.judge):
        with pytest.raises(NotAllowed):
            litigation.schedule_filing_package(actor=who, case=centre.case)
    centre.case.tribunal_id = centre.tribunal.id
    session.flush()
    assert litigation.can_build_package(centre.judge, centre.case)


# -- API and portal ----------------------------------------------------------------------------


def test_api_builds_again_and_shows_the_package(app: Flask, centre: Centre) -> None:
    client = app.test_client()
    base = f"/api/v1/cases/{centre.case.id}/filing-package"
    as_mediator = factories.api_token(client, centre.mediator)
    assert client.get(base, headers=as_mediator).status_code == 404
    assert client.post(base, headers=as_mediator).status_code == 409
    centre.fail()
    shown = client.get(base, headers=as_mediator)
    assert shown.status_code == 200, shown.get_json()
    body = shown.get_json()
    assert body["package"]["sha256"] == package_documents(centre.case)[0].sha256
    assert body["package"]["key_id"] == bundles.key_id(signing.platform_key().public_key())
    assert body["package"]["current"] is True
    # Up to date: nothing to rebuild.
    again = client.post(base, headers=as_mediator)
    assert again.status_code == 200
    documents.store_document(
        actor=centre.mediator,
        case=centre.case,
        kind="other",
        data=b"%PDF-1.4 new",
        media_type="application/pdf",
        filename="补充材料.pdf",
    )
    session.commit()
    rebuilt = client.post(base, headers=factories.api_token(client, centre.admin))
    assert rebuilt.status_code == 202, rebuilt.get_json()
    assert rebuilt.get_json()["job"]["status"] == "succeeded"
    assert rebuilt.get_json()["package"]["current"] is True
    # Others who see the case may read it, not build it.
    as_adjuster = factories.api_token(client, centre.adjuster)
    assert client.get(base, headers=as_adjuster).status_code == 200
    assert client.post(base, headers=as_adjuster).status_code == 403
    as_other = factories.api_token(client, centre.other_mediator)
    assert client.get(base, headers=as_other).status_code == 404


def test_portal_page_shows_the_reason_the_package_and_how_to_verify(
    app: Flask, centre: Centre
) -> None:
    centre.fail()
    client = app.test_client()
    factories.login(client, centre.mediator)
    page = client.get(f"/cases/{centre.case.id}/litigation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    package = litigation.latest_package(centre.case)
    assert "对残疾等级有争议" in html
    assert package["sha256"] in html
    assert package["key_id"] in html
    assert "daojiao bundle verify FILE.zip --public-key platform.pem" in html
    assert 'data-testid="package-form"' in html
    again = client.post(f"/cases/{centre.case.id}/litigation/package")
    assert again.status_code == 302
    adjuster = app.test_client()
    factories.login(adjuster, centre.adjuster)
    html = adjuster.get(f"/cases/{centre.case.id}/litigation").get_data(as_text=True)
    assert package["sha256"] in html
    assert 'data-testid="package-form"' not in html
    assert adjuster.post(f"/cases/{centre.case.id}/litigation/package").status_code == 403
