"""The legal form of the agreement and the ruling as the case world fills them: the court heads
the ruling, the parties' particulars, full ID numbers on the originals and masked ones on the
copies an insurer is given, payers named in words."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from typing import Any

import pdfplumber
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from app.clock import BEIJING
from app.db import session
from app.models import Agreement, Confirmation, Document, Organization, OrgKind, User
from app.services import documents
from tests import factories
from tests.support.centre import COURT_NAME
from tests.test_agreements import (
    COMMITTEE_NAME,
    PASSENGER,
    VICTIM,
    Centre,
    accept_all,
    draft,
    everyone,
    negotiate,
    portal,
    reload,
    sign,
)
from tests.test_tribunal import agree, apply, confirm

DRIVER_ID = "142301198503150011"  # valid (GB 11643): born 1985-03-15, male
RIDER_ID = "141102199007080025"  # valid: born 1990-07-08, female
MASKED_DRIVER_ID = "1423**********0011"
CODE = re.compile(r"(?:ctpi|commercial|party|seat|fund|victim):")


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def identify_parties(centre: Centre) -> None:
    """Give the case's parties ID numbers and an address, and let the confirmed report state
    the rider's birth date (a day off the one in the ID number: the stated one counts)."""
    driver, rider = reload(centre.case.id).parties
    driver.id_number, driver.address = DRIVER_ID, "山西省吕梁市离石区滨河北西路1号"
    rider.id_number = RIDER_ID
    report = driver.case.report
    report.fields = {
        **report.fields,
        "parties": [{"label": "乙方", "name": rider.name, "birth_date": "1990-07-09"}],
    }
    session.commit()


def download(centre: Centre, document_id: int, user: User) -> TestResponse:
    response = centre.app.test_client().get(
        f"/api/v1/documents/{document_id}/content", headers=centre.token(user)
    )
    assert response.status_code == 200
    return response


def text_of(response: TestResponse) -> str:
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        return "".join((page.extract_text() or "").replace("\n", "") for page in pdf.pages)


def stored_intact(document_id: int) -> Document:
    """The stored document, its bytes re-hashed against the SHA-256 recorded when stored."""
    document = session.get(Document, document_id)
    assert hashlib.sha256(documents.read_document(document)).hexdigest() == document.sha256
    return document


def drafted(centre: Centre, victims: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    negotiate(centre, victims)
    accept_all(centre)
    response = draft(centre)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# -- the agreement --------------------------------------------------------------------------


def test_the_agreement_states_each_partys_particulars(centre: Centre) -> None:
    identify_parties(centre)

    data = drafted(centre)["data"]

    driver, rider = data["parties"]
    assert (driver["gender"], driver["birth_date"]) == ("男", "1985-03-15")  # from the ID
    assert driver["id_number"] == DRIVER_ID
    assert (rider["gender"], rider["birth_date"]) == ("女", "1990-07-09")  # as the report says
    assert "ethnicity" not in driver  # nothing stores it: nothing is shown


def test_the_original_agreement_has_full_id_numbers_and_an_insurer_gets_a_masked_copy(
    centre: Centre,
) -> None:
    identify_parties(centre)
    body = drafted(centre)
    recorded = body["document"]["sha256"]

    original = download(centre, body["document_id"], centre.mediator)
    copy = download(centre, body["document_id"], centre.adjuster)

    full = text_of(original)
    assert f"公民身份号码{DRIVER_ID}" in full
    assert "副本" not in full
    assert original.headers["X-Content-SHA256"] == recorded
    masked = text_of(copy)
    assert DRIVER_ID not in masked
    assert f"公民身份号码{MASKED_DRIVER_ID}" in masked
    assert "调解协议书（副本）" in masked
    assert f"原件协议数据 SHA-256: {body['sha256']}" in masked
    assert copy.headers["X-Content-SHA256"] == hashlib.sha256(copy.data).hexdigest()
    assert "%E5%89%AF%E6%9C%AC" in copy.headers["Content-Disposition"]  # 副本
    assert stored_intact(body["document_id"]).sha256 == recorded


def test_an_insurer_reads_the_agreements_data_with_masked_id_numbers(centre: Centre) -> None:
    identify_parties(centre)
    drafted(centre)
    url = f"/api/v1/cases/{centre.case.id}/agreement"
    client = centre.app.test_client()

    for user, shown in ((centre.mediator, DRIVER_ID), (centre.adjuster, MASKED_DRIVER_ID)):
        body = client.get(url, headers=centre.token(user)).get_json()
        assert body["data"]["parties"][0]["id_number"] == shown


def test_an_insurer_previews_the_pages_of_the_masked_copy(centre: Centre) -> None:
    identify_parties(centre)
    body = drafted(centre)
    original = stored_intact(body["document_id"])
    documents.render_page_images(original, documents.read_document(original))
    session.commit()
    page = documents.page_images(original)[1]

    mediators = download(centre, page.id, centre.mediator)
    insurers = download(centre, page.id, centre.adjuster)

    assert mediators.data == documents.read_document(page)
    assert insurers.mimetype == "image/png"
    assert insurers.data.startswith(b"\x89PNG")
    assert insurers.data != mediators.data


def test_a_copy_is_refused_when_the_recorded_data_was_altered(centre: Centre) -> None:
    identify_parties(centre)
    body = drafted(centre)
    agreement = session.get(Agreement, body["id"])
    agreement.data = {**agreement.data, "total": "1.00"}
    session.commit()

    response = centre.app.test_client().get(
        f"/api/v1/documents/{body['document_id']}/content", headers=centre.token(centre.adjuster)
    )

    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "evidence_altered"


# -- the ruling -----------------------------------------------------------------------------


def test_the_ruling_is_headed_by_the_court_and_confirms_the_agreement_it_names(
    centre: Centre,
) -> None:
    identify_parties(centre)
    case = agree(centre)
    agreement = session.get(Agreement, apply(centre)["agreement_id"])
    signed = agreement.signed_at.astimezone(BEIJING).date()

    decided = confirm(centre)

    ruling = session.get(Confirmation, decided["id"]).details["ruling"]
    assert (ruling["court"], ruling["tribunal"]) == (COURT_NAME, centre.tribunal.name)
    original = download(centre, decided["ruling_document_id"], centre.judge)
    with pdfplumber.open(io.BytesIO(original.data)) as pdf:
        lines = (pdf.pages[0].extract_text() or "").splitlines()
    assert lines[:2] == [COURT_NAME, "民事裁定书"]
    text = text_of(original)
    assert f"由{centre.tribunal.name}依法进行了审查" in text
    assert (
        f"于{signed.year}年{signed.month}月{signed.day}日经{COMMITTEE_NAME}主持调解达成的"
        f"编号为{case.number}的调解协议有效；"
    ) in text
    assert f"申请人（甲方）：{case.parties[0].name}，男，1985年3月15日出生，" in text
    assert f"公民身份号码{DRIVER_ID}" in text
    assert "（甲方车辆交强险、商业三者险承保公司）" in text
    assert original.headers["X-Content-SHA256"] == decided["ruling_document"]["sha256"]

    copy = text_of(download(centre, decided["ruling_document_id"], centre.adjuster))
    assert DRIVER_ID not in copy
    assert f"公民身份号码{MASKED_DRIVER_ID}" in copy
    assert "民事裁定书（副本）" in copy
    assert (
        stored_intact(decided["ruling_document_id"]).sha256
        == (decided["ruling_document"]["sha256"])
    )


def test_a_tribunal_without_a_court_name_heads_the_ruling_with_its_own(centre: Centre) -> None:
    centre.tribunal.court_name = None
    session.commit()
    agree(centre)
    apply(centre)

    decided = confirm(centre)

    ruling = session.get(Confirmation, decided["id"]).details["ruling"]
    assert ruling["court"] == centre.tribunal.name
    text = text_of(download(centre, decided["ruling_document_id"], centre.judge))
    assert text.startswith(f"{centre.tribunal.name}民事裁定书")
    assert "受理后，依法进行了审查" in text


def test_the_documents_name_payers_in_words_never_by_code(centre: Centre) -> None:
    body = drafted(centre, [VICTIM, PASSENGER])
    kinds = {payer["payer"].partition(":")[0] for payer in body["data"]["payers"]}
    assert {"ctpi", "commercial", "party"} <= kinds
    signers = sign(centre, everyone(body))
    assert signers.status_code == 200, signers.get_json()
    apply(centre)

    decided = confirm(centre)

    for document_id in (body["document_id"], decided["ruling_document_id"]):
        for user in (centre.mediator, centre.adjuster):
            text = text_of(download(centre, document_id, user))
            assert CODE.search(text) is None, CODE.search(text)
    ruling = text_of(download(centre, decided["ruling_document_id"], centre.judge))
    assert "李四" in ruling  # the passenger applies too


# -- the court of a tribunal ----------------------------------------------------------------


def form(org: Organization, **fields: Any) -> dict[str, Any]:
    return {"name": org.name, "region": "", "aliases": "", "active": "y", **fields}


def test_an_admin_names_the_court_of_a_tribunal(centre: Centre) -> None:
    client = portal(centre, centre.admin)
    url = f"/admin/organizations/{centre.tribunal.id}"
    assert 'name="court_name"' in client.get(url).get_data(as_text=True)

    response = client.post(url, data=form(centre.tribunal, court_name=" 山西省吕梁市中级人民法院 "))

    assert response.status_code == 302
    session.expire_all()
    assert session.get(Organization, centre.tribunal.id).court_name == "山西省吕梁市中级人民法院"
    client.post(url, data=form(centre.tribunal, court_name=""))
    session.expire_all()
    assert session.get(Organization, centre.tribunal.id).court_name is None


def test_only_a_tribunal_has_a_court(centre: Centre) -> None:
    insurer = factories.make_org(OrgKind.INSURER)
    session.commit()
    client = portal(centre, centre.admin)
    url = f"/admin/organizations/{insurer.id}"
    assert 'name="court_name"' not in client.get(url).get_data(as_text=True)

    client.post(url, data=form(insurer, court_name="某法院"))

    session.expire_all()
    assert session.get(Organization, insurer.id).court_name is None
