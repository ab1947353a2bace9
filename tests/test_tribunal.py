"""Judicial confirmation: the mediator applies, the judge accepts, extends once, confirms with a
numbered ruling or rejects with grounds; the workbench re-checks the file before the decision."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pdfplumber
import pytest
from flask import Flask
from minio import Minio
from sqlalchemy import select, text

from app import audit
from app.db import session, utcnow
from app.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Confirmation,
    ConfirmationStatus,
    Deadline,
    DeadlineStatus,
    Document,
    Notification,
    Organization,
    OrgKind,
    Report,
    User,
)
from app.money import amount_figures, amount_in_words
from app.services import documents, tribunal
from tests import factories
from tests.support import servers
from tests.test_agreements import (
    REPORT_FIELDS,
    Centre,
    accept_all,
    draft,
    everyone,
    negotiate,
    reload,
    sign,
    with_version,
)


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def agree(centre: Centre) -> Case:
    """Claims → accepted offers → drafted → signed: the case is `agreed`."""
    negotiate(centre)
    accept_all(centre)
    drafted = draft(centre)
    assert drafted.status_code == 201, drafted.get_json()
    signed = sign(centre, everyone(drafted.get_json()))
    assert signed.status_code == 200, signed.get_json()
    case = reload(centre.case.id)
    assert case.status == CaseStatus.AGREED
    return case


def post(centre: Centre, path: str, user: User, body: dict[str, Any] | None = None) -> Any:
    """POST to the case's API path, with the case's current version unless `body` names one."""
    return centre.app.test_client().post(
        f"/api/v1/cases/{centre.case.id}{path}",
        json=with_version(centre, body or {}),
        headers=centre.token(user),
    )


def apply(centre: Centre, **body: Any) -> Any:
    body.setdefault("tribunal_org_id", centre.tribunal.id)
    response = post(centre, "/confirmation-request", centre.mediator, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def timer(case_id: int, kind: str) -> Deadline:
    return session.scalars(
        select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == kind)
    ).one()


def confirm(centre: Centre, **body: Any) -> dict[str, Any]:
    return ok(post(centre, "/decision", centre.judge, {"decision": "confirm", **body}))


def second_case(centre: Centre) -> None:
    """Point the centre at a new case of the same committee, insurer and tribunal."""
    centre.case = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    letter = documents.store_document(
        actor=None,
        case=centre.case,
        kind="report",
        data=b"%PDF-1.4 two",
        media_type="application/pdf",
    )
    session.add(Report(case_id=centre.case.id, document_id=letter.id, fields=REPORT_FIELDS))
    session.commit()


def pdf_text(document_id: int) -> str:
    document = session.get(Document, document_id)
    with pdfplumber.open(io.BytesIO(documents.read_document(document))) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


# -- application ----------------------------------------------------------------------------


def test_application_sends_the_case_to_the_tribunal_with_an_acceptance_deadline(
    centre: Centre,
) -> None:
    case = agree(centre)

    body = apply(centre, version=case.version)

    assert body["status"] == "requested"
    assert body["tribunal_org_id"] == centre.tribunal.id
    assert body["case"]["status"] == "confirming"
    case = reload(case.id)
    assert case.tribunal_id == centre.tribunal.id
    assert timer(case.id, "confirmation_application").status == DeadlineStatus.MET
    acceptance = timer(case.id, "court_acceptance")
    assert acceptance.status == DeadlineStatus.OPEN
    assert acceptance.owner_org_id == centre.tribunal.id
    assert abs(acceptance.due_at - (utcnow() + timedelta(days=3))) < timedelta(minutes=1)
    told = session.scalars(
        select(Notification).where(
            Notification.user_id == centre.judge.id, Notification.kind == "confirmation.requested"
        )
    ).all()
    assert len(told) == 1
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "confirmation.requested")
    ).one()
    assert event.case_id == case.id
    assert event.actor_id == centre.mediator.id
    # The judge now sees the case.
    got = centre.app.test_client().get(
        f"/api/v1/cases/{case.id}/confirmation", headers=centre.token(centre.judge)
    )
    assert ok(got)["id"] == body["id"]


def test_application_goes_to_the_tribunal_of_the_case_region(centre: Centre) -> None:
    case = agree(centre)
    regional = factories.make_org(OrgKind.TRIBUNAL, region="离石区")
    case.region = "离石区"
    session.commit()

    body = ok_created(post(centre, "/confirmation-request", centre.mediator))

    assert body["tribunal_org_id"] == regional.id


def ok_created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_application_without_a_serving_tribunal_is_refused(centre: Centre) -> None:
    agree(centre)
    factories.make_org(OrgKind.TRIBUNAL)  # two tribunals, neither serves the case's region
    session.commit()

    response = post(centre, "/confirmation-request", centre.mediator, {})

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "no_tribunal"
    assert reload(centre.case.id).status == CaseStatus.AGREED


def test_application_names_an_active_tribunal(centre: Centre) -> None:
    agree(centre)
    response = post(
        centre, "/confirmation-request", centre.mediator, {"tribunal_org_id": centre.insurer.id}
    )
    assert response.status_code == 422


def test_only_the_case_mediator_applies_and_only_for_an_agreed_case(centre: Centre) -> None:
    negotiate(centre)
    assert post(centre, "/confirmation-request", centre.mediator).status_code == 409
    assert post(centre, "/confirmation-request", centre.adjuster).status_code == 403
    assert post(centre, "/confirmation-request", centre.other_mediator).status_code == 404
    assert post(centre, "/confirmation-request", centre.judge).status_code == 404


def test_a_stale_version_is_a_conflict(centre: Centre) -> None:
    case = agree(centre)
    response = post(
        centre,
        "/confirmation-request",
        centre.mediator,
        {"tribunal_org_id": centre.tribunal.id, "version": case.version - 1},
    )
    assert response.status_code == 409
    apply(centre)
    stale = post(centre, "/decision", centre.judge, {"decision": "confirm", "version": 1})
    assert stale.status_code == 409
    assert reload(case.id).status == CaseStatus.CONFIRMING


# -- acceptance and extension ---------------------------------------------------------------


def test_acceptance_starts_the_decision_deadline_which_extends_once(centre: Centre) -> None:
    case = agree(centre)
    apply(centre)

    accepted = ok(post(centre, "/confirmation/accept", centre.judge, {}))

    assert accepted["status"] == "accepted"
    assert timer(case.id, "court_acceptance").status == DeadlineStatus.MET
    decision = timer(case.id, "court_decision")
    assert decision.status == DeadlineStatus.OPEN
    assert decision.owner_org_id == centre.tribunal.id
    due = decision.due_at
    assert abs(due - (utcnow() + timedelta(days=15))) < timedelta(minutes=1)
    assert post(centre, "/confirmation/accept", centre.judge, {}).status_code == 409

    assert post(centre, "/confirmation/extend", centre.judge, {"reason": " "}).status_code == 422
    extended = ok(post(centre, "/confirmation/extend", centre.judge, {"reason": "需补充调查"}))

    assert extended["extension_reason"] == "需补充调查"
    session.expire_all()
    assert timer(case.id, "court_decision").due_at == due + timedelta(days=10)
    again = post(centre, "/confirmation/extend", centre.judge, {"reason": "再次延长"})
    assert again.status_code == 409
    assert timer(case.id, "court_decision").due_at == due + timedelta(days=10)


def test_only_a_judge_of_the_tribunal_acts(centre: Centre) -> None:
    agree(centre)
    apply(centre)
    other_judge = factories.make_user(factories.make_org(OrgKind.TRIBUNAL))
    session.commit()

    assert post(centre, "/confirmation/accept", centre.mediator, {}).status_code == 403
    assert post(centre, "/confirmation/accept", centre.adjuster, {}).status_code == 403
    assert post(centre, "/confirmation/accept", centre.admin, {}).status_code == 403
    assert post(centre, "/confirmation/accept", other_judge, {}).status_code == 404
    assert post(centre, "/decision", other_judge, {"decision": "confirm"}).status_code == 404
    assert post(centre, "/decision", centre.mediator, {"decision": "confirm"}).status_code == 403
    assert reload(centre.case.id).status == CaseStatus.CONFIRMING


# -- decision -------------------------------------------------------------------------------


def test_confirmation_issues_numbered_rulings_with_the_agreement_terms(centre: Centre) -> None:
    centre.tribunal.case_number_format = "({year})晋1102民特{n}号"
    session.commit()
    year = utcnow().astimezone(tribunal.BEIJING).year
    case = agree(centre)
    agreed = apply(centre)
    ok(post(centre, "/confirmation/accept", centre.judge, {}))

    first = confirm(centre)

    assert first["status"] == "confirmed"
    assert first["ruling_number"] == f"（{year}）晋1102民特1号"  # ASCII brackets made full-width
    assert first["case"]["status"] == "confirmed"
    assert first["ruling_document"]["kind"] == "ruling"
    assert timer(case.id, "court_decision").status == DeadlineStatus.MET
    assert (
        session.scalars(select(AuditEvent).where(AuditEvent.action == "confirmation.confirmed"))
        .one()
        .details["ruling_number"]
        == first["ruling_number"]
    )
    row = session.get(Confirmation, agreed["id"])
    content = pdf_text(first["ruling_document_id"])
    flat = content.replace("\n", "")
    assert "民事裁定书" in content
    assert centre.tribunal.name in flat
    assert first["ruling_number"] in content
    assert f"SHA-256: {row.details['ruling_sha256']}" in content
    for party in case.parties:
        assert party.name in flat
    for payer in row.details["ruling"]["payers"]:
        assert amount_figures(payer["amount"]) in content
        assert amount_in_words(payer["amount"]) in flat
    assert "调解协议有效" in flat
    assert "申请强制执行" in flat
    assert centre.judge.display_name in flat
    assert "书记员" in content
    assert "银行转账" in flat

    # A second case of the same tribunal in the same year gets the next number.
    second_case(centre)
    agree(centre)
    apply(centre)
    second = confirm(centre)  # still requested: the decision accepts it implicitly
    assert second["ruling_number"] == f"（{year}）晋1102民特2号"
    assert second["accepted_at"] is not None


def test_ruling_numbers_default_to_the_plain_format() -> None:
    court = Organization(kind=OrgKind.TRIBUNAL, name="法庭")
    assert tribunal.format_ruling_number(court, 2024, 7) == "（2024）民特7号"


@pytest.mark.parametrize(
    ("next_step", "status"),
    [("mediation", CaseStatus.NEGOTIATING), ("litigation", CaseStatus.LITIGATION)],
)
def test_rejection_with_grounds_sends_the_case_on(
    centre: Centre, next_step: str, status: CaseStatus
) -> None:
    case = agree(centre)
    apply(centre)
    ok(post(centre, "/confirmation/accept", centre.judge, {}))

    body = ok(
        post(
            centre,
            "/decision",
            centre.judge,
            {
                "decision": "reject",
                "grounds": ["unclear", "not_voluntary"],
                "reason": "履行期限约定不明",
                "next_step": next_step,
            },
        )
    )

    assert body["status"] == "rejected"
    assert body["grounds"] == ["not_voluntary", "unclear"]
    assert body["ruling_number"] is None
    assert reload(case.id).status == status
    assert timer(case.id, "court_decision").status == DeadlineStatus.MET
    told = session.scalars(
        select(Notification).where(
            Notification.user_id == centre.mediator.id, Notification.kind == "confirmation.rejected"
        )
    ).all()
    assert len(told) == 1
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "confirmation.rejected")
    ).one()
    assert event.details["next_step"] == next_step


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "reject", "reason": "x", "next_step": "mediation"},
        {"decision": "reject", "grounds": [], "reason": "x", "next_step": "mediation"},
        {"decision": "reject", "grounds": ["bogus"], "reason": "x", "next_step": "mediation"},
        {"decision": "reject", "grounds": ["unclear"], "next_step": "mediation"},
        {"decision": "reject", "grounds": ["unclear"], "reason": "x"},
        {"decision": "confirm", "grounds": ["unclear"]},
        {"decision": "maybe"},
    ],
)
def test_an_incomplete_decision_is_refused(centre: Centre, body: dict[str, Any]) -> None:
    agree(centre)
    apply(centre)
    response = post(centre, "/decision", centre.judge, body)
    assert response.status_code == 422, response.get_json()
    confirmation = tribunal.current_confirmation(reload(centre.case.id))
    assert confirmation.status == ConfirmationStatus.REQUESTED


def test_a_decided_application_cannot_be_decided_again(centre: Centre) -> None:
    agree(centre)
    apply(centre)
    confirm(centre)
    assert post(centre, "/decision", centre.judge, {"decision": "confirm"}).status_code == 409
    assert post(centre, "/confirmation/extend", centre.judge, {"reason": "x"}).status_code == 409


# -- the workbench --------------------------------------------------------------------------


def portal(centre: Centre, user: User) -> Any:
    client = centre.app.test_client()
    factories.login(client, user)
    return client


def test_the_workbench_shows_the_file_checked_and_takes_the_decision(centre: Centre) -> None:
    case = agree(centre)
    apply(centre)
    judge = portal(centre, centre.judge)

    page = judge.get(f"/tribunal/cases/{case.id}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert REPORT_FIELDS["document_no"] in html
    assert 'data-testid="fingerprint"' in html
    assert 'data-testid="payers-match" data-ok="yes"' in html
    assert 'data-integrity="altered"' not in html
    assert 'data-testid="audit-chain" data-ok="yes"' in html
    assert 'data-testid="accept-form"' in html
    assert "<iframe" in html  # the letter beside the file while the judge decides
    listing = judge.get("/tribunal/")
    assert case.number in listing.get_data(as_text=True)

    version = reload(case.id).version
    accepted = judge.post(f"/tribunal/cases/{case.id}/accept", data={"version": version})
    assert accepted.status_code == 302
    assert tribunal.current_confirmation(reload(case.id)).status == ConfirmationStatus.ACCEPTED
    refused = judge.post(
        f"/tribunal/cases/{case.id}/decision",
        data={
            "decision": "reject",
            "reason": "不明确",
            "next_step": "mediation",
            "version": reload(case.id).version,
        },
    )
    assert refused.status_code == 422  # no grounds ticked
    rejected = judge.post(
        f"/tribunal/cases/{case.id}/decision",
        data={
            "decision": "reject",
            "grounds": ["unclear"],
            "reason": "内容不明确",
            "next_step": "litigation",
            "version": reload(case.id).version,
        },
    )
    assert rejected.status_code == 302
    assert reload(case.id).status == CaseStatus.LITIGATION
    decided = judge.get(f"/tribunal/cases/{case.id}").get_data(as_text=True)
    assert "<iframe" not in decided  # decided: a link to the letter, no PDF loaded again
    assert 'data-testid="report-pdf"' in decided


def test_the_workbench_is_for_judges_of_the_tribunal_and_admins(centre: Centre) -> None:
    case = agree(centre)
    apply(centre)
    assert portal(centre, centre.admin).get(f"/tribunal/cases/{case.id}").status_code == 200
    assert portal(centre, centre.mediator).get(f"/tribunal/cases/{case.id}").status_code == 403
    other_judge = factories.make_user(factories.make_org(OrgKind.TRIBUNAL))
    session.commit()
    assert portal(centre, other_judge).get(f"/tribunal/cases/{case.id}").status_code == 404


def test_the_workbench_marks_an_altered_stored_file(centre: Centre) -> None:
    case = agree(centre)
    apply(centre)
    scan_id = tribunal.agreements.current_agreement(case).signed_scan_id
    scan = session.get(Document, scan_id)
    forged = b"%PDF-1.7 forged signatures"
    Minio(
        centre.app.config["S3_ENDPOINT"],
        access_key=servers.S3_ACCESS_KEY,
        secret_key=servers.S3_SECRET_KEY,
        secure=False,
    ).put_object(centre.app.config["S3_BUCKET"], scan.object_key, io.BytesIO(forged), len(forged))

    html = portal(centre, centre.judge).get(f"/tribunal/cases/{case.id}").get_data(as_text=True)

    assert f'data-document-id="{scan_id}" data-integrity="altered"' in html
    assert html.count('data-integrity="altered"') == 1


def test_the_workbench_shows_a_broken_audit_chain(centre: Centre) -> None:
    case = agree(centre)
    apply(centre)
    target = session.scalars(
        select(AuditEvent.id).where(
            AuditEvent.case_id == case.id, AuditEvent.action == "agreement.signed"
        )
    ).one()
    session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(text("UPDATE audit_events SET details = '{}' WHERE id = :id"), {"id": target})
    session.commit()

    html = portal(centre, centre.judge).get(f"/tribunal/cases/{case.id}").get_data(as_text=True)

    assert 'data-testid="audit-chain" data-ok="no"' in html
    assert f"#{target}" in html


def tamper(statement: str, **params: object) -> None:
    """Change the log as someone with database access would: triggers switched off."""
    session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(text(statement), params)
    session.commit()


def judge_sees(centre: Centre, case: Case) -> str:
    return portal(centre, centre.judge).get(f"/tribunal/cases/{case.id}").get_data(as_text=True)


def test_the_workbench_catches_an_edit_of_the_case_before_the_checkpoint(centre: Centre) -> None:
    case = agree(centre)
    apply(centre)
    assert audit.verify_chain(full=True).ok  # the checkpoint now lies past every event
    target = session.scalars(
        select(AuditEvent.id).where(
            AuditEvent.case_id == case.id, AuditEvent.action == "agreement.signed"
        )
    ).one()
    tamper("UPDATE audit_events SET details = '{}' WHERE id = :id", id=target)

    html = judge_sees(centre, case)
    bench = tribunal.workbench(reload(case.id))

    assert 'data-testid="audit-chain" data-ok="no"' in html
    assert 'data-testid="audit-case-events" data-ok="no"' in html
    assert 'data-testid="audit-chain-tail" data-ok="yes"' in html
    assert f"#{target}" in html
    assert bench["chain_breaks_case"]
    assert (bench["case_chain"].broken_id, bench["case_chain"].reason) == (target, audit.ALTERED)


def test_the_workbench_leaves_other_cases_before_the_checkpoint_to_the_full_check(
    centre: Centre,
) -> None:
    case = agree(centre)
    apply(centre)
    other = factories.make_case(police=centre.police_org)
    audit.record("test.filler", actor=None)
    target = audit.record("test.other", actor=None, case_id=other.id).id
    audit.record("test.filler", actor=None)
    session.commit()
    assert audit.verify_chain(full=True).ok
    tamper("UPDATE audit_events SET details = '{\"x\": 1}' WHERE id = :id", id=target)

    html = judge_sees(centre, case)

    assert 'data-testid="audit-chain" data-ok="yes"' in html
    full = audit.verify_chain(full=True)
    assert (full.ok, full.broken_id) == (False, target)


def test_the_workbench_reports_a_deleted_event_after_the_checkpoint(centre: Centre) -> None:
    case = agree(centre)
    apply(centre)
    assert audit.verify_chain(full=True).ok
    target = [audit.record("test.later", actor=None).id for _ in range(3)][-1]
    session.commit()
    tamper("DELETE FROM audit_events WHERE id = :id", id=target)

    html = judge_sees(centre, case)
    bench = tribunal.workbench(reload(case.id))

    assert 'data-testid="audit-chain" data-ok="no"' in html
    assert 'data-testid="audit-case-events" data-ok="yes"' in html
    assert 'data-testid="audit-chain-tail" data-ok="no"' in html
    assert f"#{target}" in html
    assert not bench["chain_breaks_case"]


def test_the_workbench_advances_the_checkpoint_a_bounded_step(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = agree(centre)
    apply(centre)
    assert audit.verify_chain(full=True).ok
    before = audit.latest_checkpoint()
    later = [audit.record("test.later", actor=None).id for _ in range(5)]
    session.commit()
    monkeypatch.setattr(tribunal, "CHAIN_TAIL", 2)

    html = judge_sees(centre, case)

    assert 'data-testid="audit-chain" data-ok="yes"' in html
    assert 'data-testid="audit-chain-remaining"' in html
    assert audit.latest_checkpoint().last_id == later[1] > before.last_id
    judge_sees(centre, case)
    assert audit.latest_checkpoint().last_id == later[3]
