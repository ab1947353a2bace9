"""Police intake end to end: upload, read in a job, review with sources, correct, confirm."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from app import audit
from app.db import session
from app.models import (
    Case,
    CaseStatus,
    Document,
    Job,
    JobStatus,
    Notification,
    Organization,
    OrgKind,
    PolicyKind,
    User,
)
from app.objects import get_store
from app.services import notifications
from tests import factories
from tests.reports.generator import make_bad, make_report
from tests.support.centre import Centre as SharedCentre

REPO = Path(__file__).resolve().parent.parent
PICC = "中国人民财产保险股份有限公司吕梁市分公司"
PINGAN = "中国平安财产保险股份有限公司吕梁中心支公司"
REGION = "吕梁市离石区"


class Centre(SharedCentre):
    """The shared centre in 吕梁市离石区, its insurer PICC (alias 人保吕梁), and 平安."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app, insurer_name=PICC)
        self.police_org.region = self.committee.region = REGION
        self.insurer.aliases = ["人保吕梁"]
        self.picc, self.picc_adjuster = self.insurer, self.adjuster
        self.pingan = factories.make_org(OrgKind.INSURER, PINGAN)


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def as_user(app: Flask, user: User) -> dict[str, str]:
    return factories.api_token(app.test_client(), user)


def upload(app: Flask, user: User, data: bytes, name: str = "认定书.pdf") -> Any:
    return app.test_client().post(
        "/api/v1/cases",
        headers=as_user(app, user),
        **factories.multipart({"report": (io.BytesIO(data), name)}),
    )


def reload_case(case_id: int) -> Case:
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None
    return case


def adjuster_for(truth: dict[str, Any]) -> User:
    """An adjuster of the (registered) insurer of the report's first insured party."""
    name = next(p["ctpi_insurer"] for p in truth["parties"] if p.get("ctpi_insurer"))
    insurer = session.scalar(select(Organization).where(Organization.name == name))
    adjuster = factories.make_user(insurer or factories.make_org(OrgKind.INSURER, name))
    session.commit()
    return adjuster


# -- upload and reading -------------------------------------------------------------------------


def test_uploaded_report_is_stored_read_and_its_pages_rendered(app: Flask, centre: Centre) -> None:
    data, truth = make_report("general_table", seed=1)
    response = upload(app, centre.police, data)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "draft"
    case = reload_case(body["id"])
    report = case.report
    document = session.get(Document, report.document_id)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert get_store().read(document.object_key, sha256=document.sha256) == data
    jobs = session.scalars(select(Job).where(Job.case_id == case.id).order_by(Job.id)).all()
    assert [job.kind for job in jobs] == ["reports.read", "documents.preview"]
    assert all(job.status == JobStatus.SUCCEEDED for job in jobs), [job.error for job in jobs]
    for name in ("document_no", "accident_time", "location"):
        assert report.fields[name] == truth[name]
    assert [party.name for party in case.parties] == [p["name"] for p in truth["parties"]]
    assert report.parsed["provenance"]["document_no"]["page"] == 1
    pages = session.scalars(select(Document).where(Document.version_of_id == document.id)).all()
    assert len(pages) == len(report.page_sizes) >= 1
    image = Image.open(io.BytesIO(get_store().read(pages[0].object_key, sha256=pages[0].sha256)))
    assert image.format == "PNG"
    assert max(image.size) >= 1000


def test_api_case_shows_fields_provenance_and_masked_id_numbers(app: Flask, centre: Centre) -> None:
    data, truth = make_report("general_table", seed=2)
    case_id = upload(app, centre.police, data).get_json()["id"]
    body = (
        app.test_client()
        .get(f"/api/v1/cases/{case_id}", headers=as_user(app, centre.police))
        .get_json()
    )
    assert body["report"]["document_no"] == truth["document_no"]
    assert "document_no" in body["report"]["provenance"]
    assert body["jobs"][0]["status"] == "succeeded"
    full = truth["parties"][0]["id_number"]
    shown = body["parties"][0]["id_number"]
    assert shown == full[:4] + "*" * 10 + full[-4:]
    assert full not in json.dumps(body["parties"])


@pytest.mark.parametrize(
    ("kind", "code", "status"),
    [("png", "not_pdf", 422), ("encrypted", "encrypted", 422), ("truncated", "damaged", 422)],
)
def test_bad_files_are_refused_at_upload_and_nothing_is_written(
    app: Flask, centre: Centre, kind: str, code: str, status: int
) -> None:
    cases_before = session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1))
    response = upload(app, centre.police, make_bad(kind))
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    assert re.search(r"[\u4e00-\u9fff]", error["message"])  # told in Chinese
    assert session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) == cases_before


def test_too_large_upload_is_refused_with_413(app: Flask, centre: Centre) -> None:
    data = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024)
    response = upload(app, centre.police, data)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        pytest.param("scan", "no_text_layer", marks=pytest.mark.slow),  # OCR of a blank scan
        ("invoice", "not_a_report"),
    ],
)
def test_unreadable_report_keeps_the_draft_and_explains_the_failed_job(
    app: Flask, centre: Centre, kind: str, code: str
) -> None:
    response = upload(app, centre.police, make_bad(kind))
    assert response.status_code == 202
    case = reload_case(response.get_json()["id"])
    assert case.status == CaseStatus.DRAFT
    job = session.scalars(select(Job).where(Job.case_id == case.id)).one()
    assert job.status == JobStatus.FAILED
    assert job.error_code == code
    api_job = (
        app.test_client()
        .get(f"/api/v1/jobs/{job.id}", headers=as_user(app, centre.police))
        .get_json()
    )
    assert re.search(r"[\u4e00-\u9fff]", api_job["error"]["message"])
    assert session.get(Document, case.report.document_id) is not None  # the file is kept


def test_only_police_upload_reports(app: Flask, centre: Centre) -> None:
    data, _truth = make_report("general_table", seed=3)
    assert upload(app, centre.mediator, data).status_code == 403


def test_several_files_uploaded_at_once_each_become_a_draft(
    app: Flask, centre: Centre, client: FlaskClient
) -> None:
    factories.login(client, centre.police)
    files = [
        (io.BytesIO(make_report("general_table", seed=4)[0]), "一.pdf"),
        (io.BytesIO(make_report("general_prose", seed=4)[0]), "二.pdf"),
        (io.BytesIO(make_bad("png")), "三.pdf"),
    ]
    response = client.post("/police/upload", **factories.multipart({"reports": files}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('data-job-id="') == 2
    assert page.count('data-testid="upload-error"') == 1
    assert "三.pdf" in page


# -- review, correct, confirm -----------------------------------------------------------------


def test_review_page_shows_fields_beside_highlighted_page_images(
    app: Flask, centre: Centre, client: FlaskClient
) -> None:
    data, truth = make_report("general_table", seed=5)
    case_id = upload(app, centre.police, data).get_json()["id"]
    factories.login(client, centre.police)
    page = client.get(f"/police/cases/{case_id}/review").get_data(as_text=True)
    assert truth["document_no"] in page
    assert '<rect class="hl" data-field="document_no"' in page
    assert 'data-field="parties[0].name"' in page
    image_url = re.search(r'<image href="([^"]+)"', page).group(1)
    image = client.get(image_url)
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert image.headers["X-Content-SHA256"]


def test_correcting_keeps_the_original_reading_and_audits_each_change(
    app: Flask, centre: Centre
) -> None:
    data, truth = make_report("general_table", seed=6)
    case_id = upload(app, centre.police, data).get_json()["id"]
    case = reload_case(case_id)
    original = json.loads(json.dumps(case.report.parsed))
    parties = [dict(party) for party in case.report.fields["parties"]]
    parties[0]["name"] = "更正后"
    parties.append({"name": "新增乘客", "traffic_mode": "乘坐小型轿车", "liability": "none"})
    response = app.test_client().post(
        f"/api/v1/cases/{case_id}/confirm",
        headers=as_user(app, centre.police),
        json={"version": case.version, "fields": {"weather": "雨夹雪", "parties": parties}},
    )
    assert response.status_code == 200, response.get_json()
    case = reload_case(case_id)
    assert case.status == CaseStatus.REPORTED
    assert case.report.parsed == original
    assert [party.name for party in case.parties][0] == "更正后"
    assert case.parties[-1].label == ("甲方", "乙方", "丙方", "丁方", "戊方")[len(parties) - 1]
    events = {event.action: event for event in audit.recent_events(limit=10, case_id=case_id)}
    changes = events["report.corrected"].details["changes"]
    assert changes["parties[0].name"] == [truth["parties"][0]["name"], "更正后"]
    assert changes["weather"][1] == "雨夹雪"
    assert f"parties[{len(parties) - 1}].name" in changes
    assert events["case.confirmed"].actor_id == centre.police.id


def test_confirmed_case_is_seen_by_matched_insurers_only_and_assigned_to_mediation(
    app: Flask, centre: Centre
) -> None:
    data, truth = make_report("general_table", seed=7)
    adjuster = adjuster_for(truth)
    case_id = upload(app, centre.police, data).get_json()["id"]
    picc_client = app.test_client()
    headers = as_user(app, adjuster)
    assert picc_client.get(f"/api/v1/cases/{case_id}", headers=headers).status_code == 404
    case = reload_case(case_id)
    app.test_client().post(
        f"/api/v1/cases/{case_id}/confirm",
        headers=as_user(app, centre.police),
        json={"version": case.version},
    )
    assert picc_client.get(f"/api/v1/cases/{case_id}", headers=headers).status_code == 200
    other = as_user(app, centre.other_adjuster)
    assert app.test_client().get(f"/api/v1/cases/{case_id}", headers=other).status_code == 404
    case = reload_case(case_id)
    assert case.mediation_committee_id == centre.committee.id
    assert case.mediator_id == centre.mediator.id


def test_unregistered_insurer_names_are_flagged(app: Flask, centre: Centre) -> None:
    data, _truth = make_report("general_table", seed=8)
    case_id = upload(app, centre.police, data).get_json()["id"]
    case = reload_case(case_id)
    parties = [dict(party) for party in case.report.fields["parties"]]
    parties[0]["ctpi_insurer"] = "某某不存在保险公司"
    app.test_client().post(
        f"/api/v1/cases/{case_id}/confirm",
        headers=as_user(app, centre.police),
        json={"version": case.version, "fields": {"parties": parties}},
    )
    body = (
        app.test_client()
        .get(f"/api/v1/cases/{case_id}", headers=as_user(app, centre.police))
        .get_json()
    )
    flags = {
        policy["insurer"]: policy["insurer_registered"]
        for vehicle in body["vehicles"]
        for policy in vehicle["policies"]
    }
    assert flags["某某不存在保险公司"] is False
    event = next(
        e for e in audit.recent_events(limit=5, case_id=case_id) if e.action == "case.confirmed"
    )
    assert event.details["unmatched_insurers"] == ["某某不存在保险公司"]


def test_insurer_alias_matches_its_organisation(app: Flask, centre: Centre) -> None:
    from app.services.intake import match_insurer

    insurers = list(
        session.scalars(select(Organization).where(Organization.kind == OrgKind.INSURER))
    )
    assert match_insurer("人保吕梁", insurers) == centre.picc
    assert match_insurer("中国人民财产保险股份有限公司 吕梁市分公司", insurers) == centre.picc
    assert match_insurer("人保", insurers) is None


def test_stale_version_is_refused_with_409(app: Flask, centre: Centre) -> None:
    data, _truth = make_report("general_table", seed=9)
    case_id = upload(app, centre.police, data).get_json()["id"]
    stale = reload_case(case_id).version - 1
    response = app.test_client().post(
        f"/api/v1/cases/{case_id}/confirm",
        headers=as_user(app, centre.police),
        json={"version": stale},
    )
    assert response.status_code == 409
    assert reload_case(case_id).status == CaseStatus.DRAFT


def test_invalid_correction_names_the_field_and_changes_nothing(app: Flask, centre: Centre) -> None:
    data, _truth = make_report("general_table", seed=10)
    case_id = upload(app, centre.police, data).get_json()["id"]
    case = reload_case(case_id)
    parties = [dict(party) for party in case.report.fields["parties"]]
    parties[1]["liability"] = "most"
    response = app.test_client().post(
        f"/api/v1/cases/{case_id}/confirm",
        headers=as_user(app, centre.police),
        json={"version": case.version, "fields": {"parties": parties}},
    )
    assert response.status_code == 422
    assert "乙方的责任" in response.get_json()["error"]["message"]
    assert reload_case(case_id).status == CaseStatus.DRAFT


def test_fields_missing_at_confirmation_are_named_by_their_labels(
    app: Flask, centre: Centre
) -> None:
    data, _truth = make_report("general_table", seed=10)
    case_id = upload(app, centre.police, data).get_json()["id"]
    case = reload_case(case_id)
    unnamed = [{**party, "name": None} for party in case.report.fields["parties"]]

    response = confirm(app, centre.police, case_id, {"location": None, "parties": unnamed})

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["message"] == "确认前请填写：事故地点、至少一名当事人的姓名。"
    assert "parties" not in error["message"]
    assert "location" not in error["message"]
    assert reload_case(case_id).status == CaseStatus.DRAFT


def test_withdrawn_draft_keeps_its_file(app: Flask, centre: Centre) -> None:
    data, _truth = make_report("general_table", seed=11)
    case_id = upload(app, centre.police, data).get_json()["id"]
    response = app.test_client().post(
        f"/api/v1/cases/{case_id}/withdraw",
        headers=as_user(app, centre.police),
        json={"version": reload_case(case_id).version},
    )
    assert response.status_code == 200
    case = reload_case(case_id)
    assert case.status == CaseStatus.WITHDRAWN
    document = session.get(Document, case.report.document_id)
    assert get_store().read(document.object_key, sha256=document.sha256) == data


def test_portal_review_saves_corrections_and_confirms(
    app: Flask, centre: Centre, client: FlaskClient
) -> None:
    data, truth = make_report("general_table", seed=12)
    case_id = upload(app, centre.police, data).get_json()["id"]
    factories.login(client, centre.police)
    page = client.get(f"/police/cases/{case_id}/review").get_data(as_text=True)
    form = form_values(page)
    assert form["parties-0-name"] == truth["parties"][0]["name"]
    form["parties-0-name"] = "门户更正"
    form["location"] = truth["location"]
    form["action"] = "confirm"
    response = client.post(f"/police/cases/{case_id}/review", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    case = reload_case(case_id)
    assert case.status == CaseStatus.REPORTED
    assert case.parties[0].name == "门户更正"


# -- what the parser's new output brings: certificates, unknown parties, amounts, scans --------


def confirm(app: Flask, user: User, case_id: int, fields: dict[str, Any] | None = None) -> Any:
    case = reload_case(case_id)
    body: dict[str, Any] = {"version": case.version}
    if fields is not None:
        body["fields"] = fields
    return app.test_client().post(
        f"/api/v1/cases/{case_id}/confirm", headers=as_user(app, user), json=body
    )


def test_certificate_is_confirmed_and_waits_for_the_mediators_decision(
    app: Flask, centre: Centre
) -> None:
    data, truth = make_report("certificate", seed=0)
    case_id = upload(app, centre.police, data).get_json()["id"]
    assert reload_case(case_id).report.fields["procedure"] == "certificate"

    response = confirm(app, centre.police, case_id)

    assert response.status_code == 200, response.get_json()
    case = reload_case(case_id)
    assert case.status == CaseStatus.REPORTED
    assert [party.liability for party in case.parties] == [None] * len(truth["parties"])
    assert [party.label for party in case.parties] == ["甲方", "乙方"][: len(case.parties)]
    (told,) = session.scalars(
        select(Notification).where(
            Notification.case_id == case_id, Notification.kind == "liability.needed"
        )
    ).all()
    assert told.user_id == centre.mediator.id
    assert "需确定事故责任" in notifications.notification_text(told)
    event = next(
        e for e in audit.recent_events(limit=10, case_id=case_id) if e.action == "case.confirmed"
    )
    assert event.details["procedure"] == "certificate"
    assert event.details["liability_undetermined"] == [party.label for party in case.parties]
    shown = (
        app.test_client()
        .get(f"/api/v1/cases/{case_id}", headers=as_user(app, centre.mediator))
        .get_json()
    )
    assert shown["liability"]["pending"] == [party.label for party in case.parties]


def test_a_certificate_determines_no_liability(app: Flask, centre: Centre) -> None:
    data, _truth = make_report("certificate", seed=1)
    case_id = upload(app, centre.police, data).get_json()["id"]
    parties = [dict(party) for party in reload_case(case_id).report.fields["parties"]]
    parties[0]["liability"] = "main"

    response = confirm(app, centre.police, case_id, {"parties": parties})

    assert response.status_code == 422
    assert "甲方的责任" in response.get_json()["error"]["message"]
    assert reload_case(case_id).status == CaseStatus.DRAFT


def test_a_party_whose_identity_is_unknown_can_be_confirmed(app: Flask, centre: Centre) -> None:
    data, truth = make_report("hit_and_run", seed=0)
    case_id = upload(app, centre.police, data).get_json()["id"]
    fields = reload_case(case_id).report.fields
    unknown = next(i for i, party in enumerate(fields["parties"]) if party["name"] is None)

    response = confirm(app, centre.police, case_id)

    assert response.status_code == 200, response.get_json()
    case = reload_case(case_id)
    assert case.status == CaseStatus.REPORTED
    assert case.parties[unknown].name is None
    assert case.parties[unknown].id_number is None
    assert [party.label for party in case.parties] == ["甲方", "乙方"]  # distinct, in order
    assert [party.liability for party in case.parties] == [
        party["liability"] for party in truth["parties"]
    ]


def test_commercial_limits_in_yuan_digits_reach_the_policy(app: Flask, centre: Centre) -> None:
    data, truth = make_report("hit_and_run", seed=1)
    case_id = upload(app, centre.police, data).get_json()["id"]
    insured = next(i for i, p in enumerate(truth["parties"]) if p.get("commercial_limit"))
    assert reload_case(case_id).report.fields["parties"][insured]["commercial_limit"] == "500000"
    parties = [dict(party) for party in reload_case(case_id).report.fields["parties"]]

    assert confirm(app, centre.police, case_id, {"parties": parties}).status_code == 200

    case = reload_case(case_id)
    (policy,) = [
        policy
        for vehicle in case.vehicles
        for policy in vehicle.policies
        if policy.kind == PolicyKind.COMMERCIAL
    ]
    assert policy.limit == Decimal("500000.00")
    assert case.report.fields["parties"][insured]["commercial_limit"] == "500000"
    corrected = [e for e in audit.recent_events(case_id=case_id) if e.action == "report.corrected"]
    assert corrected == []  # the same amount, however written, is no correction


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("100万元", "1000000"), ("1,000,000.00", "1000000"), ("250000.50", "250000.50")],
)
def test_a_typed_commercial_limit_is_written_as_yuan_digits(typed: str, stored: str) -> None:
    from app.services.intake import validate_fields

    fields = validate_fields({"parties": [{"name": "张三", "commercial_limit": typed}]})

    assert fields["parties"][0]["commercial_limit"] == stored


def test_no_compulsory_insurance_is_kept_with_the_party(
    app: Flask, centre: Centre, client: FlaskClient
) -> None:
    data, _truth = make_report("general_table", seed=19)
    case_id = upload(app, centre.police, data).get_json()["id"]
    parties = [dict(party) for party in reload_case(case_id).report.fields["parties"]]
    both = dict(parties[0], ctpi_uninsured=True)
    refused = confirm(app, centre.police, case_id, {"parties": [both, *parties[1:]]})
    assert refused.status_code == 422
    assert "甲方的未投保交强险" in refused.get_json()["error"]["message"]
    parties[0].update(ctpi_insurer=None, ctpi_policy_no=None, ctpi_uninsured=True)

    assert confirm(app, centre.police, case_id, {"parties": parties}).status_code == 200

    case = reload_case(case_id)
    assert case.report.fields["parties"][0]["ctpi_uninsured"] is True
    vehicle = next(v for v in case.vehicles if v.driver_party_id == case.parties[0].id)
    assert all(policy.kind != PolicyKind.CTPI for policy in vehicle.policies)
    factories.login(client, centre.police)
    assert "未投保交强险" in client.get(f"/cases/{case_id}").get_data(as_text=True)


def test_portal_save_keeps_what_the_parser_read_beyond_the_form(
    app: Flask, centre: Centre, client: FlaskClient
) -> None:
    data, _truth = make_report("general_table", seed=20)
    case_id = upload(app, centre.police, data).get_json()["id"]
    case = reload_case(case_id)
    fields = json.loads(json.dumps(case.report.fields))
    fields["parties"][0]["birth_date"] = "1985-03-15"
    case.report.fields = fields
    session.commit()
    factories.login(client, centre.police)
    form = form_values(client.get(f"/police/cases/{case_id}/review").get_data(as_text=True))
    form["parties-1-ctpi_uninsured"] = "y"
    form["parties-1-ctpi_insurer"] = ""
    form["parties-1-ctpi_policy_no"] = ""
    form["action"] = "save"

    response = client.post(f"/police/cases/{case_id}/review", data=form)

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    saved = reload_case(case_id).report.fields["parties"]
    assert saved[0]["birth_date"] == "1985-03-15"
    assert saved[1]["ctpi_uninsured"] is True
    page = client.get(f"/police/cases/{case_id}/review").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="parties-1-ctpi_uninsured"', page)


OCR_WARNINGS = [
    {"field": field, "code": code, "message": message}
    for field, code, message in (
        ("pages", "image_page", "第2页是没有文字层的图片，其内容未读取，请对照原件"),
        ("parties[1].plate", "plate_pattern", "号牌 晋J1234 不符合号牌编码规则，请核对"),
        ("parties[0].id_number", "ocr_unsure", "扫描件识别不确定（置信度 0.62），请对照原件填写"),
        ("issue_date", "date", "日期无法识别，请对照原件填写"),
        ("parties[0].birth_date", "odd_new_code", "出生日期看不清"),
    )
]


def scanned(app: Flask, centre: Centre, seed: int) -> int:
    """A draft whose letter was read from a scan: the reading of a text letter, made to look as
    an OCR reading does (source, confidence per field, unsure fields left empty, warnings)."""
    data, _truth = make_report("general_table", seed=seed)
    case_id = upload(app, centre.police, data).get_json()["id"]
    case = reload_case(case_id)
    parsed = json.loads(json.dumps(case.report.parsed))
    parsed["parties"][0]["id_number"] = None
    parsed["issue_date"] = None
    parsed["source"] = "ocr"
    parsed["confidence"] = {"document_no": 0.974, "location": 0.931, "parties[0].name": 0.995}
    parsed["warnings"] = OCR_WARNINGS
    case.report.parsed = parsed
    fields = json.loads(json.dumps(case.report.fields))
    fields["parties"][0]["id_number"] = None
    fields["issue_date"] = None
    case.report.fields = fields
    session.commit()
    return case_id


def test_review_of_a_scan_shows_the_banner_confidence_and_what_to_check_first(
    app: Flask, centre: Centre, client: FlaskClient
) -> None:
    case_id = scanned(app, centre, seed=22)
    factories.login(client, centre.police)

    page = client.get(f"/police/cases/{case_id}/review").get_data(as_text=True)

    banner = page.index('data-testid="ocr-banner"')
    assert "本认定书为扫描件，以下内容由文字识别（OCR）读取，请逐项对照原件核对" in page
    assert 'role="status" data-testid="ocr-banner"' in page
    assert "识别 97%" in page
    assert "识别 93%" in page
    document_no = re.search(r'<input[^>]*id="document_no"[^>]*>', page).group(0)
    assert 'aria-describedby="document_no-ocr"' in document_no
    assert 'id="document_no-ocr"' in page
    # The fields to check come first, before any field of the form, in the page's order; what
    # the form does not show comes after.
    attention = page.index('data-testid="attention"')
    assert banner < attention < page.index("<fieldset")
    assert "需要核对的项目（5）" in page
    items = re.findall(r'data-testid="attention-item" data-path="([^"]+)"', page)
    assert items == [
        "issue_date",
        "parties[0].id_number",
        "parties[1].plate",
        "pages",
        "parties[0].birth_date",
    ]
    assert 'href="#parties-0-id_number" data-focus="parties-0-id_number"' in page
    # An unsure reading left the field empty and says so, tied to the input.
    id_input = re.search(r'<input[^>]*id="parties-0-id_number"[^>]*>', page).group(0)
    assert 'value=""' in id_input
    assert "border-warning" in id_input
    assert 'aria-describedby="parties-0-id_number-ocr parties-0-id_number-warnings"' in id_input
    assert 'data-testid="ocr-unsure" data-for="parties[0].id_number"' in page
    assert "未能识别" in page
    assert "扫描件识别不确定（置信度 0.62），请对照原件填写" in page


def test_review_of_a_scan_in_english_explains_each_warning_code(
    app: Flask, centre: Centre, client: FlaskClient
) -> None:
    case_id = scanned(app, centre, seed=23)
    factories.login(client, centre.police)
    client.get("/lang/en")

    page = client.get(f"/police/cases/{case_id}/review").get_data(as_text=True)

    assert "This letter is a scan" in page
    assert "OCR 97%" in page
    assert "To check (5)" in page
    assert "The scan could not be read with certainty here" in page
    assert "The plate does not follow the plate numbering rules" in page
    assert "出生日期看不清" in page  # a code not known here: the parser's own words
    assert "扫描件识别不确定" not in page


def test_review_of_a_text_letter_has_no_ocr_banner(
    app: Flask, centre: Centre, client: FlaskClient
) -> None:
    data, _truth = make_report("general_table", seed=24)
    case_id = upload(app, centre.police, data).get_json()["id"]
    factories.login(client, centre.police)

    page = client.get(f"/police/cases/{case_id}/review").get_data(as_text=True)

    assert 'data-testid="ocr-banner"' not in page
    assert 'data-testid="ocr-badge"' not in page


class FormReader(HTMLParser):
    """What a browser would submit from a page's form: inputs, textareas, chosen options."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        name = attr.get("name")
        if tag == "input" and name and attr.get("type") not in ("submit", "checkbox", "file"):
            self.values[name] = attr.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif (
            tag == "option"
            and self._select
            and (self._select not in self.values or "selected" in attr)
        ):
            self.values[self._select] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_values(page: str) -> dict[str, str]:
    reader = FormReader()
    reader.feed(page)
    return reader.values


# -- evidence, ID numbers, search ---------------------------------------------------------------


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_evidence_is_stored_listed_and_downloaded_with_its_hash(app: Flask, centre: Centre) -> None:
    data, _truth = make_report("general_table", seed=13)
    case_id = upload(app, centre.police, data).get_json()["id"]
    photo = png_bytes()
    bill = make_report("general_table", seed=14)[0]  # any PDF will do as a bill
    response = app.test_client().post(
        f"/api/v1/cases/{case_id}/documents",
        headers=as_user(app, centre.police),
        **factories.multipart(
            {
                "kind": "photo",
                "file": [(io.BytesIO(photo), "现场.png"), (io.BytesIO(bill), "票据.pdf")],
            }
        ),
    )
    assert response.status_code == 201, response.get_json()
    added = response.get_json()["items"]
    assert [item["media_type"] for item in added] == ["image/png", "application/pdf"]
    listed = (
        app.test_client()
        .get(f"/api/v1/cases/{case_id}/documents", headers=as_user(app, centre.police))
        .get_json()["items"]
    )
    assert {item["filename"] for item in listed} >= {"认定书.pdf", "现场.png", "票据.pdf"}
    content = app.test_client().get(
        f"/api/v1/documents/{added[0]['id']}/content", headers=as_user(app, centre.police)
    )
    assert content.data == photo
    assert content.headers["X-Content-SHA256"] == hashlib.sha256(photo).hexdigest()
    pdf = session.get(Document, added[1]["id"])
    previews = session.scalars(select(Document).where(Document.version_of_id == pdf.id)).all()
    assert previews  # the preview job rendered the PDF's pages


def test_evidence_of_an_unsupported_type_is_refused(app: Flask, centre: Centre) -> None:
    data, _truth = make_report("general_table", seed=15)
    case_id = upload(app, centre.police, data).get_json()["id"]
    response = app.test_client().post(
        f"/api/v1/cases/{case_id}/documents",
        headers=as_user(app, centre.police),
        **factories.multipart(
            {"kind": "photo", "file": (io.BytesIO(b"MZ\x90\x00 not a picture"), "x.exe")}
        ),
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unsupported_type"


def test_altered_evidence_is_never_served(app: Flask, centre: Centre) -> None:
    from minio import Minio

    from tests.support import servers

    data, _truth = make_report("general_table", seed=16)
    case_id = upload(app, centre.police, data).get_json()["id"]
    document = session.get(Document, reload_case(case_id).report.document_id)
    Minio(
        app.config["S3_ENDPOINT"],
        access_key=servers.S3_ACCESS_KEY,
        secret_key=servers.S3_SECRET_KEY,
        secure=False,
    ).put_object(app.config["S3_BUCKET"], document.object_key, io.BytesIO(b"%PDF-forged"), 11)
    response = app.test_client().get(
        f"/api/v1/documents/{document.id}/content", headers=as_user(app, centre.police)
    )
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "evidence_altered"
    assert b"forged" not in response.data


def test_revealing_an_id_number_is_logged_and_not_for_adjusters(app: Flask, centre: Centre) -> None:
    data, truth = make_report("general_table", seed=17)
    adjuster = adjuster_for(truth)  # registered before the upload, so the case is theirs
    case_id = upload(app, centre.police, data).get_json()["id"]
    case = reload_case(case_id)
    app.test_client().post(
        f"/api/v1/cases/{case_id}/confirm",
        headers=as_user(app, centre.police),
        json={"version": case.version},
    )
    party_id = reload_case(case_id).parties[0].id
    url = f"/api/v1/cases/{case_id}/parties/{party_id}/id-number"
    response = app.test_client().post(url, headers=as_user(app, centre.mediator))
    assert response.get_json()["id_number"] == truth["parties"][0]["id_number"]
    (event,) = [
        e for e in audit.recent_events(limit=5, case_id=case_id) if e.action == "party.id_revealed"
    ]
    assert event.actor_id == centre.mediator.id
    refused = app.test_client().post(url, headers=as_user(app, adjuster))
    assert refused.status_code == 403


def test_cases_are_found_by_report_number_plate_name_and_id_number(
    app: Flask, centre: Centre
) -> None:
    data, truth = make_report("general_table", seed=18)
    case_id = upload(app, centre.police, data).get_json()["id"]
    headers = as_user(app, centre.police)
    party = next(p for p in truth["parties"] if p.get("plate"))
    plate = party["plate"]
    for query in (
        truth["document_no"],
        plate[:2] + "·" + plate[2:],
        party["name"],
        party["id_number"],
    ):
        found = (
            app.test_client()
            .get("/api/v1/cases", query_string={"q": query}, headers=headers)
            .get_json()["items"]
        )
        assert [item["id"] for item in found] == [case_id], query


# -- the command line ---------------------------------------------------------------------------


def daojiao_parse(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "parse", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # the CLI in a process of its own
def test_cli_parse_prints_the_fields(tmp_path: Path) -> None:
    data, truth = make_report("general_prose", seed=1)
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    result = daojiao_parse(path)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["document_no"] == truth["document_no"]
    assert output["parties"][0]["name"] == truth["parties"][0]["name"]


@pytest.mark.slow  # the CLI in a process of its own
@pytest.mark.parametrize(
    ("kind", "code"), [("docx", "not_pdf"), ("scan", "no_text_layer"), ("encrypted", "encrypted")]
)
def test_cli_parse_answers_bad_files_with_exit_3_and_a_code(
    tmp_path: Path, kind: str, code: str
) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(make_bad(kind))
    result = daojiao_parse(path)
    assert result.returncode == 3
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code
    assert re.search(r"[\u4e00-\u9fff]", error["message"])


@pytest.mark.slow  # the CLI in a process of its own
def test_cli_parse_without_a_file_is_a_usage_error(tmp_path: Path) -> None:
    assert daojiao_parse(tmp_path / "missing.pdf").returncode == 2
