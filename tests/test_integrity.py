"""Deep integrity checks (issue 15 items 7 and 8): settlement rows against the audit events
that recorded their digests, stored files against their SHA-256, and the nightly jobs that run
both and alert the platform's administrators."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from app import audit, digests, integrity, jobs
from app.cli import audit_verify, evidence_verify
from app.clock import BEIJING
from app.db import session, utcnow
from app.models import (
    Agreement,
    Assessment,
    AuditEvent,
    Case,
    CaseStatus,
    Document,
    Job,
    Notification,
    Offer,
    OfferStatus,
    Payment,
)
from app.objects import get_store
from app.services import (
    agreements,
    assessments,
    documents,
    liability,
    offers,
    payments,
    tribunal,
)
from tests import factories
from tests.support.centre import Centre as SharedCentre
from tests.test_liability import BASIS, both, certificate_case
from tests.test_settlement_api import VICTIM, scan

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def settle(centre: SharedCentre, case: Case, *, pay: bool = True) -> None:
    """Take `case` from claims to `paid` (or `agreed`) through the services, committing each
    step: every settlement row is written as the app writes it."""
    assessments.file_claims(actor=centre.mediator, case=case, data={"victims": [VICTIM]})
    session.commit()  # the assessment job runs in-process once the claims commit
    session.refresh(case)
    totals = assessments.latest_assessment(case).result["totals"]
    payers = [payer for payer in totals if payer != "self"]
    for payer in payers:
        offer = offers.make_offer(
            actor=centre.adjuster, case=case, payer=payer, amount=totals[payer]
        )
        offers.answer_offer(actor=centre.mediator, case=case, offer_id=offer.id, accept=True)
        session.commit()
    agreement = agreements.draft_agreement(
        actor=centre.mediator, case=case, payment_method="银行转账"
    )
    session.commit()
    agreements.sign_agreement(
        actor=centre.mediator,
        case=case,
        signers=[signer["id"] for signer in agreement.data["signatories"]],
        filename="签署件.pdf",
        data=scan(),
    )
    session.commit()
    if not pay:
        return
    for payer in payers:
        payments.record_payment(
            actor=centre.adjuster,
            case=case,
            payer=payer,
            amount=totals[payer],
            reference="转账001",
        )
        session.commit()
    assert case.status == CaseStatus.PAID


class Centre(SharedCentre):
    """A case settled and paid through the services, with a photo as evidence."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.case = factories.make_accident_case(
            police=self.police_org, committee=self.committee, insurer=self.insurer
        )
        session.commit()
        settle(self, self.case)
        self.photo = documents.store_evidence(
            actor=self.mediator,
            case=self.case,
            kind="photo",
            filename="现场.png",
            data=PHOTO,
            media_types=("image/png",),
        )
        session.commit()


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def first(model: type, centre: Centre, *, latest: bool = False) -> Any:
    """The case's first (or latest) row of `model`."""
    order = model.id.desc() if latest else model.id
    return session.scalars(
        select(model).where(model.case_id == centre.case.id).order_by(order)
    ).first()


def problems(report: integrity.DeepReport) -> set[tuple[str, int, str]]:
    return {(p.kind, p.row_id, p.reason) for p in report.problems}


# -- the canonical digest -----------------------------------------------------------------------


def test_a_rows_digest_is_the_same_before_and_after_the_database(centre: Centre) -> None:
    payment = Payment(
        case_id=centre.case.id,
        payer="ctpi:甲方",
        amount=Decimal("12"),  # stored as 12.00
        paid_on=utcnow().date(),
        reference="转账",
        recorded_by_id=centre.adjuster.id,
        created_at=datetime(2026, 3, 1, 8, 0, 0, 5, tzinfo=BEIJING),
    )
    session.add(payment)
    session.flush()
    before = digests.row_digest(payment)
    session.expire_all()
    assert digests.row_digest(session.get(Payment, payment.id)) == before
    canonical = digests.canonical_row(session.get(Payment, payment.id))
    assert canonical["columns"]["amount"] == "12.00"
    assert canonical["columns"]["created_at"] == "2026-03-01T00:00:00.000005+00:00"


# -- rows against the audit chain ---------------------------------------------------------------


def test_a_case_settled_through_the_app_is_intact_and_fully_covered(centre: Centre) -> None:
    report = integrity.verify_rows()
    assert report.ok, report.problems
    for kind in ("offer", "agreement", "payment", "assessment"):
        assert report.checked[kind] > 0, kind
        assert report.covered[kind] == report.checked[kind], kind
        assert report.not_covered[kind] == 0, kind


EDITS = {
    "payment amount": (Payment, "UPDATE payments SET amount = amount - 1 WHERE id = :id"),
    "payment payer": (Payment, "UPDATE payments SET payer = 'party:乙方' WHERE id = :id"),
    "payment date": (Payment, "UPDATE payments SET paid_on = paid_on - 3 WHERE id = :id"),
    "offer amount": (Offer, "UPDATE offers SET amount = amount + 100 WHERE id = :id"),
    "offer status": (Offer, "UPDATE offers SET status = 'rejected' WHERE id = :id"),
    "agreement status": (Agreement, "UPDATE agreements SET status = 'draft' WHERE id = :id"),
    "agreement signed_at": (
        Agreement,
        "UPDATE agreements SET signed_at = signed_at - interval '2 days' WHERE id = :id",
    ),
    "assessment result": (
        Assessment,
        "UPDATE assessments SET result = jsonb_set(result::jsonb, '{totals,self}', '\"0\"')::json "
        "WHERE id = :id",
    ),
}


def test_every_way_an_offer_changes_records_its_digest(centre: Centre) -> None:
    """Made, countered, superseded, withdrawn, expired: each event carries the digest of every
    offer it changed, so none is left stale or uncovered."""
    case = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    session.flush()
    assessments.file_claims(actor=centre.mediator, case=case, data={"victims": [VICTIM]})
    session.commit()
    session.refresh(case)
    payer = "ctpi:甲方"
    first_offer = offers.make_offer(actor=centre.adjuster, case=case, payer=payer, amount="900")
    offers.make_offer(actor=centre.adjuster, case=case, payer=payer, amount="950")  # supersedes
    latest = session.scalars(
        select(Offer).where(Offer.case_id == case.id).order_by(Offer.id.desc())
    ).first()
    counter = offers.make_offer(
        actor=centre.mediator, case=case, payer=payer, amount="20000", parent_id=latest.id
    )
    offers.withdraw_offer(actor=centre.mediator, case=case, offer_id=counter.id)
    expiring = offers.make_offer(
        actor=centre.adjuster,
        case=case,
        payer=payer,
        amount="990",
        expires_at=utcnow() + timedelta(hours=1),
    )
    assert offers.expire_offers(utcnow() + timedelta(hours=2)) == 1
    session.flush()
    statuses = {
        offer.id: offer.status
        for offer in session.scalars(select(Offer).where(Offer.case_id == case.id))
    }
    assert statuses[first_offer.id] == OfferStatus.SUPERSEDED
    assert statuses[latest.id] == OfferStatus.COUNTERED
    assert statuses[counter.id] == OfferStatus.WITHDRAWN
    assert statuses[expiring.id] == OfferStatus.EXPIRED
    report = integrity.verify_rows()
    assert report.ok, report.problems
    assert report.not_covered["offer"] == 0


def test_every_step_of_a_judicial_confirmation_records_its_digest(centre: Centre) -> None:
    case = factories.make_accident_case(
        police=centre.police_org, committee=centre.committee, insurer=centre.insurer
    )
    case.tribunal_id = centre.tribunal.id
    session.commit()
    settle(centre, case, pay=False)
    confirmation = tribunal.request_confirmation(actor=centre.mediator, case=case)
    tribunal.accept_application(actor=centre.judge, case=case)
    tribunal.extend_decision(actor=centre.judge, case=case, reason="需要补充材料")
    tribunal.decide(actor=centre.judge, case=case, decision="confirm")
    session.commit()
    report = integrity.verify_rows()
    assert report.ok, report.problems
    assert report.covered["confirmation"] == report.checked["confirmation"] == 1

    session.execute(
        text("UPDATE confirmations SET ruling_number = 'forged' WHERE id = :id"),
        {"id": confirmation.id},
    )
    assert problems(integrity.verify_rows()) == {
        ("confirmation", confirmation.id, integrity.ALTERED)
    }


def test_a_liability_decision_records_its_digest(centre: Centre) -> None:
    case = certificate_case(centre)
    decision = liability.decide_liability(
        actor=centre.mediator, case=case, parties=both(case), basis=BASIS
    )
    session.commit()
    report = integrity.verify_rows()
    assert report.ok, report.problems
    assert report.covered["liability_decision"] == report.checked["liability_decision"] == 1

    session.execute(
        text("UPDATE liability_decisions SET basis = '甲方全责' WHERE id = :id"),
        {"id": decision.id},
    )
    assert problems(integrity.verify_rows()) == {
        ("liability_decision", decision.id, integrity.ALTERED)
    }


@pytest.mark.parametrize("edit", EDITS)
def test_an_sql_edit_of_a_settlement_row_is_reported(centre: Centre, edit: str) -> None:
    model, statement = EDITS[edit]
    row = first(model, centre, latest=True)  # the agreement in force, not a superseded draft
    # As a database superuser could: past the triggers that refuse changes to assessments.
    session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(text(statement), {"id": row.id})
    session.execute(text("SET LOCAL session_replication_role = origin"))
    report = integrity.verify_rows()
    kind = {m: k for k, m in digests.ROW_KINDS.items()}[model]
    assert problems(report) == {(kind, row.id, integrity.ALTERED)}
    assert report.problems[0].event_id is not None


def test_a_row_without_event_and_an_event_without_row_are_reported(centre: Centre) -> None:
    paid = first(Payment, centre)
    session.execute(text("DELETE FROM payments WHERE id = :id"), {"id": paid.id})
    forged = session.scalar(
        text(
            "INSERT INTO payments (case_id, payer, amount, paid_on, reference, recorded_by_id, "
            "created_at) SELECT case_id, payer, amount, paid_on, 'forged', recorded_by_id, "
            "created_at FROM payments WHERE case_id = :case RETURNING id"
        ).bindparams(case=centre.case.id)
    )
    report = integrity.verify_rows()
    assert problems(report) == {
        ("payment", paid.id, integrity.ROW_GONE),
        ("payment", forged, integrity.NO_EVENT),
    }


def test_rows_recorded_before_digests_are_not_covered_and_old_offers_keep_their_check(
    centre: Centre,
) -> None:
    """An offer and a payment whose events carry no row digest (made before this change):
    counted, not failed; the offer's content digest still catches an edit of its amount."""
    model = first(Offer, centre)
    offer = Offer(
        **{
            attr: getattr(model, attr)
            for attr in ("case_id", "assessment_id", "payer", "side", "org_id", "amount")
        },
        status=OfferStatus.OPEN,
        created_by_id=model.created_by_id,
        created_at=utcnow(),
        digest="",
    )
    session.add(offer)
    session.flush()
    content = offers.offer_content(offer)
    offer.digest = offers.content_digest(content)
    session.flush()
    audit.record(
        "offer.made",
        actor=centre.adjuster,
        case_id=centre.case.id,
        subject=f"offer:{offer.id}",
        details={"digest": offer.digest, "content": content},
    )
    report = integrity.verify_rows()
    assert report.ok, report.problems
    assert report.not_covered["offer"] == 1

    session.execute(text("UPDATE offers SET amount = 1 WHERE id = :id"), {"id": offer.id})
    report = integrity.verify_rows()
    assert problems(report) == {("offer", offer.id, integrity.OFFER_CONTENT)}


def test_audit_verify_deep_prints_a_table_and_exits_1(app: Flask, centre: Centre) -> None:
    runner = app.test_cli_runner()
    clean = runner.invoke(audit_verify, ["--deep"])
    assert clean.exit_code == 0, clean.output
    assert "rows intact" in clean.output
    assert re.search(r"payment: (\d+) checked, \1 covered by a digest, 0 not covered", clean.output)

    paid = first(Payment, centre)
    session.execute(text("UPDATE payments SET amount = 1 WHERE id = :id"), {"id": paid.id})
    broken = runner.invoke(audit_verify, ["--deep"])
    assert broken.exit_code == 1
    assert "KIND" in broken.output
    assert "PROBLEM" in broken.output
    line = next(line for line in broken.output.splitlines() if line.startswith("payment "))
    assert str(paid.id) in line
    assert integrity.ALTERED in line
    # Without --deep the chain alone is checked: the edit is not its business.
    assert runner.invoke(audit_verify).exit_code == 0


# -- stored files -------------------------------------------------------------------------------


def test_evidence_verify_finds_missing_and_altered_files(app: Flask, centre: Centre) -> None:
    runner = app.test_cli_runner()
    report = integrity.verify_objects()
    assert report.ok
    assert report.checked >= 3
    clean = runner.invoke(evidence_verify)
    assert clean.exit_code == 0, clean.output

    docs = session.scalars(
        select(Document).where(Document.case_id == centre.case.id).order_by(Document.id)
    ).all()
    gone, changed = docs[0], centre.photo
    store = get_store()
    client = store._client  # the bucket itself, as an intruder with its keys would change it
    saved = {d.object_key: store.read(d.object_key, sha256=d.sha256) for d in (gone, changed)}
    try:
        client.remove_object(store.bucket, gone.object_key)
        client.put_object(store.bucket, changed.object_key, io.BytesIO(b"forged"), 6)
        report = integrity.verify_objects()
        assert {(p.document_id, p.reason) for p in report.problems} == {
            (gone.id, integrity.OBJECT_MISSING),
            (changed.id, integrity.OBJECT_ALTERED),
        }
        broken = runner.invoke(evidence_verify)
        assert broken.exit_code == 1
        assert gone.object_key in broken.output
        assert changed.object_key in broken.output
    finally:
        for key, data in saved.items():
            client.put_object(store.bucket, key, io.BytesIO(data), len(data))


# -- nightly ------------------------------------------------------------------------------------


def yesterday_at(hour: int) -> datetime:
    """A time of yesterday's Beijing night: tonight's jobs made now count for it."""
    day = utcnow().astimezone(BEIJING).date() - timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=BEIJING).astimezone(UTC)


def test_the_nightly_checks_are_due_after_two_in_beijing_once(app: Flask, centre: Centre) -> None:
    app.extensions.pop(integrity.NIGHT_SCHEDULED, None)
    assert integrity.schedule_nightly_if_due(app, now=yesterday_at(1)) == []
    nightly = select(func.count()).where(Job.kind.in_(integrity.NIGHTLY_JOBS))
    assert session.scalar(nightly) == 0

    scheduled = integrity.schedule_nightly_if_due(app, now=yesterday_at(3))
    assert sorted(job.kind for job in scheduled) == sorted(integrity.NIGHTLY_JOBS)
    assert integrity.schedule_nightly_if_due(app, now=yesterday_at(4)) == []
    app.extensions.pop(integrity.NIGHT_SCHEDULED)  # another worker: asks the database
    assert integrity.schedule_nightly_if_due(app, now=yesterday_at(5)) == []

    # Without Redis the jobs ran in-process: the figures are on the admin's audit page.
    session.expire_all()
    done = {
        event.action: event.details
        for event in session.scalars(select(AuditEvent).where(AuditEvent.action.like("%.verified")))
    }
    assert done["integrity.verified"]["covered"]["payment"] >= 1
    assert done["evidence.verified"]["checked"] >= 3
    client = app.test_client()
    factories.login(client, centre.admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "integrity.verified" in page
    assert "evidence.verified" in page


def test_a_nightly_check_that_finds_a_problem_alerts_every_admin(
    app: Flask, centre: Centre
) -> None:
    other_admin = factories.make_user(centre.platform)
    paid = first(Payment, centre)
    session.execute(text("UPDATE payments SET amount = 1 WHERE id = :id"), {"id": paid.id})
    jobs.schedule(integrity.DEEP_JOB)
    session.commit()
    session.expire_all()
    failed = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "integrity.failed")
    ).one()
    assert failed.details["problems"] == {integrity.ALTERED: 1}
    assert f"payment {paid.id}" in failed.details["first_problems"][0]
    alerted = session.scalars(
        select(Notification.user_id).where(Notification.kind == "integrity.failed")
    ).all()
    assert sorted(alerted) == sorted([centre.admin.id, other_admin.id])
    assert audit.verify_chain(full=True).ok


@pytest.mark.slow
def test_workers_racing_schedule_the_nightly_checks_once(
    committed_app: Callable[..., Flask], redis_url: str
) -> None:
    """Two workers' sweepers at the same moment: one pair of jobs (pushed to Redis, no worker
    runs them here)."""
    apps = [committed_app(REDIS_URL=redis_url) for _ in range(2)]
    barrier = threading.Barrier(len(apps))
    results: list[list[Job]] = []

    def sweep(each: Flask) -> None:
        barrier.wait()
        results.append(integrity.schedule_nightly_if_due(each, now=yesterday_at(3)))

    threads = [threading.Thread(target=sweep, args=(each,)) for each in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(len(result) for result in results) == [0, 2]
    with apps[0].app_context():
        kinds = session.scalars(select(Job.kind)).all()
    assert sorted(kinds) == sorted(integrity.NIGHTLY_JOBS)
