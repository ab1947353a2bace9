"""Every step is someone's next action: the work queue of each organisation, the stage bar,
notifications that lead to the page of the action and clear once it is done."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import demo, workflow, worklist
from app.db import session
from app.models import Case, CaseStatus, Notification, OrgKind, User
from tests import factories
from tests.test_lifecycle_api import Api, scan

REGION = "吕梁市离石区"


class Sitting:
    """A standard case at the centre: one car (交强险 and 商业三者险 with one insurer), one
    injured rider, confirmed by the police and waiting for its mediation."""

    def __init__(self, app: Flask) -> None:
        police_org = factories.make_org(OrgKind.POLICE, region=REGION)
        committee = factories.make_org(OrgKind.MEDIATION, region=REGION)
        insurer = factories.make_org(OrgKind.INSURER)
        tribunal = factories.make_org(OrgKind.TRIBUNAL, region=REGION)
        self.police = factories.make_user(police_org)
        self.mediator = factories.make_user(committee)
        self.adjuster = factories.make_user(insurer)
        self.other_adjuster = factories.make_user(factories.make_org(OrgKind.INSURER))
        self.judge = factories.make_user(tribunal)
        self.case = factories.make_accident_case(
            police=police_org, committee=committee, insurer=insurer
        )
        self.case.region = REGION
        session.commit()
        self.api = Api(app)
        self.app = app

    def queue(self, user: User) -> list[tuple[int, str]]:
        session.expire_all()
        return [(task.case.id, task.action) for task in worklist.queue(user)]

    def home(self, user: User) -> str:
        client = self.app.test_client()
        factories.login(client, user)
        return client.get("/").get_data(as_text=True)

    def portal(self, user: User) -> FlaskClient:
        client = self.app.test_client()
        factories.login(client, user)
        return client

    def __call__(self, user: User, method: str, path: str, **kwargs: Any) -> Any:
        return self.api(user, method, f"/cases/{self.case.id}{path}", **kwargs)


def unread(user: User, case: Case) -> list[Notification]:
    session.expire_all()
    return list(
        session.query(Notification).filter_by(user_id=user.id, case_id=case.id, read_at=None)
    )


def current_stage(page: str) -> str:
    (stage,) = re.findall(r'data-stage="(\w+)" data-state="current"', page)
    return stage


def test_each_state_waits_on_one_organisation_and_leaves_its_queue_when_done(
    app: Flask,
) -> None:
    sit = Sitting(app)
    case_id = sit.case.id

    # Confirmed by the police: the committee files the claims; nobody else waits.
    assert sit.queue(sit.mediator) == [(case_id, "file_claims")]
    assert sit.queue(sit.adjuster) == []
    home = sit.home(sit.mediator)
    assert f'data-case-id="{case_id}" data-action="file_claims"' in home
    assert f'href="/cases/{case_id}/claims" data-testid="queue-action"' in home
    assert 'data-testid="queue-badge">1<' in home

    claims = {
        "victims": [
            {
                "id": "v1",
                "party": "乙方",
                "age": 35,
                "outcome": "injury",
                "items": {"medical": {"amount": "30000"}},
            }
        ]
    }
    sit(sit.mediator, "PUT", "/claims", json=claims)
    totals = {
        p: a for p, a in sit(sit.mediator, "GET", "/assessment")["totals"].items() if p != "self"
    }

    # Assessed: the insurer is asked for its offers, by a notification leading to the offers.
    assert sit.queue(sit.adjuster) == [(case_id, "make_offer")]
    assert sit.queue(sit.other_adjuster) == []
    assert sit.queue(sit.mediator) == []
    (asked,) = [n for n in unread(sit.adjuster, sit.case) if n.kind == "case.assessed"]
    followed = sit.portal(sit.adjuster).get(f"/notifications/{asked.id}")
    assert followed.headers["Location"] == f"/cases/{case_id}/offers"
    assert asked.id not in [n.id for n in unread(sit.adjuster, sit.case)]
    assert sit.portal(sit.other_adjuster).get(f"/notifications/{asked.id}").status_code == 404

    page = sit.portal(sit.adjuster).get(f"/cases/{case_id}/offers").get_data(as_text=True)
    assert 'option selected value="ctpi:甲方"' in page  # the first payer, at its assessed amount
    assert f'name="amount" type="text" value="{totals["ctpi:甲方"]}"' in page
    offers = [
        sit(sit.adjuster, "POST", "/offers", json={"payer": payer, "amount": amount})
        for payer, amount in totals.items()
        if not payer.startswith("party:")
    ]
    # Offered: the committee answers for the claimant; the insurer waits.
    assert sit.queue(sit.adjuster) == []
    assert sit.queue(sit.mediator) == [(case_id, "answer_offer")]
    for told in (n for n in unread(sit.mediator, sit.case) if n.kind == "offer.made"):
        told_text = worklist.notification_text(told)  # payers named as the agreement names them
        assert re.search(r"insurer-\d+（甲方 (交强险|商业三者险)）", told_text), told_text
    assert unread(sit.adjuster, sit.case) == []  # it acted on the case: its messages are dealt with
    for offer in offers:
        sit(sit.mediator, "POST", f"/offers/{offer['id']}/accept", json={})
    for payer, amount in totals.items():
        if payer.startswith("party:"):
            party = sit(
                sit.mediator,
                "POST",
                "/offers",
                json={"payer": payer, "amount": amount, "side": "party"},
            )
            sit(sit.mediator, "POST", f"/offers/{party['id']}/accept", json={})
    assert sit.queue(sit.mediator)[0][1] in ("draft_agreement", "sign_agreement")

    agreement = sit(sit.mediator, "POST", "/agreement", json={"payment_method": "银行转账"})
    assert sit.queue(sit.mediator) == [(case_id, "sign_agreement")]
    page = sit.portal(sit.mediator).get(f"/cases/{case_id}").get_data(as_text=True)
    assert current_stage(page) == "agreement"
    assert 'data-testid="primary-action" data-action="sign_agreement"' in page
    signers = [s["id"] for s in agreement["data"]["signatories"]]
    sit(
        sit.mediator,
        "POST",
        "/agreement/sign",
        data={"signer": signers, "scan": (io.BytesIO(scan()), "签署件.pdf")},
        content_type="multipart/form-data",
    )

    # Signed: the committee may apply for confirmation; the insurer owes its payments.
    assert sit.queue(sit.mediator) == [(case_id, "request_confirmation")]
    assert sit.queue(sit.adjuster) == [(case_id, "record_payment")]
    sit(sit.mediator, "POST", "/confirmation-request", json={})
    assert sit.queue(sit.judge) == [(case_id, "accept_application")]
    page = sit.portal(sit.judge).get(f"/cases/{case_id}").get_data(as_text=True)
    assert current_stage(page) == "confirmation"
    assert 'data-action="accept_application"' in page
    workbench = sit.portal(sit.judge).get(f"/tribunal/cases/{case_id}").get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", " ", workbench)  # what a reader sees, not the attributes
    assert "ctpi:" not in shown
    assert "commercial:" not in shown
    assert "（甲方 交强险）" in shown
    sit(sit.judge, "POST", "/decision", json={"decision": "confirm"})
    assert sit.queue(sit.judge) == []
    decided = sit.portal(sit.judge).get(f"/tribunal/cases/{case_id}").get_data(as_text=True)
    assert 'data-testid="ruling-pdf"' in decided

    for payer, amount in totals.items():
        payer_user = sit.mediator if payer.startswith("party:") else sit.adjuster
        sit(
            payer_user,
            "POST",
            "/payments",
            json={"payer": payer, "amount": amount, "reference": "R1"},
        )
    assert sit.queue(sit.adjuster) == []
    assert sit.queue(sit.mediator) == [(case_id, "close")]
    sit(sit.mediator, "POST", "/close", json={})
    for user in (sit.police, sit.mediator, sit.adjuster, sit.judge):
        assert sit.queue(user) == []
    page = sit.portal(sit.mediator).get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-state="todo"' not in page
    assert 'data-testid="primary-action"' not in page
    assert 'data-testid="nothing-waiting"' in sit.home(sit.mediator)


def test_the_police_see_their_drafts_and_upload_from_their_desk(app: Flask) -> None:
    police_org = factories.make_org(OrgKind.POLICE, region=REGION)
    police = factories.make_user(police_org)
    draft = factories.make_case(police=police_org, status=CaseStatus.DRAFT)
    session.commit()

    assert [(task.case.id, task.action) for task in worklist.queue(police)] == [
        (draft.id, "confirm_report")
    ]
    client = app.test_client()
    factories.login(client, police)
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="home-upload"' in home
    assert f'href="/police/cases/{draft.id}/review" data-testid="queue-action"' in home


def test_the_police_confirmation_tells_the_committee(app: Flask) -> None:
    police_org = factories.make_org(OrgKind.POLICE)
    committee = factories.make_org(OrgKind.MEDIATION)
    police = factories.make_user(police_org)
    mediator = factories.make_user(committee)
    draft = factories.make_case(police=police_org, committee=committee, status=CaseStatus.DRAFT)

    workflow.transition(draft, "confirm_report", police)

    (told,) = unread(mediator, draft)
    assert told.kind == "case.confirmed"
    assert draft.number in worklist.notification_text(told)


def test_the_demo_gives_a_newcomer_a_letter_to_upload(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = demo.write_sample_letter(tmp_path / "letter.pdf")
    assert written.read_bytes() == demo.SAMPLE_LETTER.read_bytes()
    with pdfplumber.open(written) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert "道路交通事故认定书" in text
    police = factories.make_user(factories.make_org(OrgKind.POLICE))
    session.commit()
    client = app.test_client()
    factories.login(client, police)
    assert client.get("/police/sample-letter.pdf").status_code == 404  # not outside the demo

    monkeypatch.setitem(app.config, "DAOJIAO_MODE", "demo")

    assert 'data-testid="sample-letter"' in client.get("/").get_data(as_text=True)
    sample = client.get("/police/sample-letter.pdf")
    assert sample.status_code == 200
    assert sample.data == demo.SAMPLE_LETTER.read_bytes()


def test_a_liable_partys_share_waits_on_the_committee(app: Flask) -> None:
    committee = factories.make_org(OrgKind.MEDIATION)
    mediator = factories.make_user(committee)
    insurer = factories.make_org(OrgKind.INSURER)
    adjuster = factories.make_user(insurer)
    case = factories.make_accident_case(
        police=factories.make_org(OrgKind.POLICE),
        committee=committee,
        insurer=insurer,
        commercial=False,
        ctpi="uninsured",
    )
    session.commit()
    claims = {
        "victims": [
            {
                "id": "v1",
                "party": "乙方",
                "age": 35,
                "outcome": "injury",
                "items": {"medical": {"amount": "5000"}},
            }
        ]
    }
    api = Api(app)
    api(mediator, "PUT", f"/cases/{case.id}/claims", json=claims)
    session.expire_all()

    assert [(t.case.id, t.action) for t in worklist.queue(mediator)] == [(case.id, "make_offer")]
    assert worklist.queue(adjuster) == []
