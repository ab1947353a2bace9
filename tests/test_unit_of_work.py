"""The request's unit of work (app/db.py): a view's changes commit once when it answers below
400, roll back otherwise, and an answer built after the commit shows what jobs did."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from flask import Flask, flash, jsonify, redirect, request
from sqlalchemy import select, update

from app import jobs
from app.db import AfterCommit, keep_on_error, session
from app.models import Case, Job, Organization, OrgKind
from tests import factories
from tests.support import servers


@pytest.fixture(scope="module")
def _uow_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    flask_app = make_app()

    @flask_app.post("/uow/organizations/<name>")
    def add_organization(name: str):  # type: ignore[no-untyped-def]
        factories.make_org(OrgKind.POLICE, name=name)
        if request.args.get("keep"):
            keep_on_error()
        flash("saved", "success")
        return "", request.args.get("status", 200, type=int)

    @flask_app.post("/uow/jobs")
    def schedule_job():  # type: ignore[no-untyped-def]
        job = jobs.schedule("test.slow_effect", subject_id=1)
        if request.args.get("after_commit"):
            return AfterCommit(lambda: jsonify(status=job.status.value))
        return jsonify(status=job.status.value)

    @flask_app.post("/uow/savepoints")
    def savepoints():  # type: ignore[no-untyped-def]
        with session.begin_nested():
            kept = jobs.schedule("test.slow_effect", subject_id=1)
        with contextlib.suppress(LookupError), session.begin_nested():
            jobs.schedule("test.slow_effect", subject_id=1)
            raise LookupError("this savepoint is undone")
        return AfterCommit(lambda: jsonify(status=kept.status.value))

    @flask_app.post("/uow/cases/<int:case_id>/stale")
    def stale_edit(case_id: int):  # type: ignore[no-untyped-def]
        case = session.get(Case, case_id)
        session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(version=Case.version + 1)
            .execution_options(synchronize_session=False)
        )
        case.outcome_note = "changed by a request that meets a concurrent change"
        flash("saved", "success")
        return redirect("/")

    yield flask_app
    flask_app.extensions["daojiao.db"].engine.dispose()


@pytest.fixture
def uow_app(_uow_app: Flask) -> Iterator[Flask]:
    with servers.rolled_back(_uow_app):
        yield _uow_app


def organization_named(name: str) -> Organization | None:
    session.expire_all()
    return session.scalar(select(Organization).where(Organization.name == name))


def test_a_successful_view_commits_its_work(uow_app: Flask) -> None:
    response = uow_app.test_client().post("/uow/organizations/committed")

    assert response.status_code == 200
    assert organization_named("committed") is not None


@pytest.mark.parametrize("status", [400, 403, 409, 422, 500])
def test_a_view_answering_an_error_rolls_its_work_back(uow_app: Flask, status: int) -> None:
    response = uow_app.test_client().post(f"/uow/organizations/refused?status={status}")

    assert response.status_code == status
    assert organization_named("refused") is None


def test_a_view_may_keep_its_work_although_it_answers_an_error(uow_app: Flask) -> None:
    response = uow_app.test_client().post("/uow/organizations/kept?status=401&keep=1")

    assert response.status_code == 401
    assert organization_named("kept") is not None


def test_an_answer_built_after_the_commit_shows_what_the_job_did(uow_app: Flask) -> None:
    client = uow_app.test_client()

    before = client.post("/uow/jobs").get_json()
    after = client.post("/uow/jobs?after_commit=1").get_json()

    assert before["status"] == "queued"
    assert after["status"] == "succeeded"
    assert {job.status.value for job in session.scalars(select(Job))} == {"succeeded"}


def test_jobs_of_a_savepoint_run_after_the_request_commits(uow_app: Flask) -> None:
    response = uow_app.test_client().post("/uow/savepoints")

    assert response.get_json()["status"] == "succeeded"
    assert [job.status.value for job in session.scalars(select(Job))] == ["succeeded"]


def test_a_commit_that_fails_answers_409_and_drops_the_success_message(uow_app: Flask) -> None:
    case = factories.make_case(police=factories.make_org(OrgKind.POLICE))
    session.commit()
    client = uow_app.test_client()

    response = client.post(f"/uow/cases/{case.id}/stale")

    assert response.status_code == 409
    assert "saved" not in response.get_data(as_text=True)
    with client.session_transaction() as cookie_session:
        assert "saved" not in str(cookie_session.get("_flashes", []))
    session.expire_all()
    assert session.get(Case, case.id).outcome_note != (
        "changed by a request that meets a concurrent change"
    )
