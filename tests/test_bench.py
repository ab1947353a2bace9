"""The benchmark data generator: its rows are what the app itself would have written."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import audit, case_index, create_app
from app.access import visible_cases
from app.db import session
from app.models import Case, CaseStatus, CaseTask, Offer, Party, Policy, Role, User, Vehicle
from app.services import cases, offers
from bench import seed
from tests.support import servers

CASES = 50


@pytest.fixture(scope="module")
def seeded() -> Iterator[Flask]:
    """A scratch database of its own, seeded with CASES cases (seeding commits)."""
    url = servers.sibling_database(servers.PG_URL, "seed")
    seed.seed_database(url, CASES, create=True)
    flask_app = create_app(
        {"DAOJIAO_MODE": "testing", "DATABASE_URL": url, "OBJECT_STORE_PATH": os.devnull}
    )
    try:
        with flask_app.app_context():
            yield flask_app
    finally:
        flask_app.extensions["daojiao.db"].engine.dispose()
        servers.drop_database(url)


def test_the_seeded_audit_events_form_a_valid_chain(seeded: Flask) -> None:
    verification = audit.verify_chain(full=True)
    assert verification.ok, verification
    assert verification.checked >= 2 * CASES
    assert audit.verify_chain().ok  # from the checkpoint the seed leaves at the head


def test_every_confirmed_case_is_visible_to_each_of_its_insurers(seeded: Flask) -> None:
    adjusters = {
        user.org_id: user for user in session.scalars(select(User)) if user.role == Role.ADJUSTER
    }
    insured = session.execute(
        select(Case.id, Case.status, Policy.insurer_org_id)
        .join(Vehicle, Vehicle.case_id == Case.id)
        .join(Policy, Policy.vehicle_id == Vehicle.id)
    ).all()
    assert len({case_id for case_id, _, _ in insured}) == CASES
    for case_id, status, org_id in insured:
        visible = session.scalar(visible_cases(adjusters[org_id]).where(Case.id == case_id))
        hidden = status in (CaseStatus.DRAFT, CaseStatus.WITHDRAWN)
        assert (visible is None) == hidden, (case_id, status)


def test_search_finds_a_seeded_id_number_plate_and_case_number(seeded: Flask) -> None:
    admin = session.scalars(select(User).where(User.role == Role.ADMIN)).first()
    party = session.scalars(select(Party).order_by(Party.id.desc())).first()
    case = session.get(Case, party.case_id)
    for text in (party.id_number, case.vehicles[0].plate, case.number):
        found = cases.search_cases(user=admin, q=text)
        assert [item.id for item in found.items] == [case.id], text


def test_seeded_offers_verify_against_their_digest_and_audit_event(seeded: Flask) -> None:
    made = session.scalars(select(Offer).order_by(Offer.id)).all()
    assert made
    assert all(offers.verify_offer(offer) for offer in made)


def test_the_app_inserts_after_the_seeded_ids(seeded: Flask) -> None:
    highest = session.scalar(select(func.max(Case.id)))
    assert highest == CASES
    next_id = session.scalar(select(func.nextval("cases_id_seq")))
    session.rollback()
    assert next_id > highest


def test_the_seeded_work_queues_are_what_the_app_works_out(seeded: Flask) -> None:
    def tasks() -> list[str]:
        rows = session.execute(select(CaseTask.__table__)).mappings()
        return sorted(json.dumps(dict(row), default=str, sort_keys=True) for row in rows)

    seeded_tasks = tasks()
    case_index.refresh_tasks(session.scalars(select(Case.id)).all())
    worked_out = tasks()
    session.rollback()
    assert seeded_tasks == worked_out
    assert worked_out
