"""The monthly report (app/monthly_report.py, app/documents/monthly.py, /reports/monthly, the
`daojiao report monthly` command) over the November 2026 history of tests/test_stats.py: two
counties, 离石区 (seven received cases) and 中阳县 (one).

The issue's check: the PDF and the workbook hold exactly the numbers `stats.compute` gives the
dashboard for the same filter, per county and in total."""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from flask import Flask
from minio import Minio
from openpyxl import load_workbook
from sqlalchemy import func, select

from app import access, jobs, monthly_report, stats
from app.cli import report_monthly
from app.db import session
from app.documents.monthly import rate_text
from app.models import AuditEvent, Job, Notification, OrgKind
from app.objects import get_store
from tests import factories
from tests.support import servers
from tests.test_cli import daojiao
from tests.test_stats import AWAY, HOME, Centre

NOVEMBER = date(2026, 11, 1)


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def dashboard(user: Any, region: str | None = None) -> dict[str, Any]:
    """The dashboard's figures for November (an admin's filter), as /stats computes them."""
    filters = stats.Filters.from_args(
        {"from": "2026-11-01", "to": "2026-11-30", **({"region": region} if region else {})}
    )
    return stats.compute(filters, access.case_filter(user)).as_json()


def pdf_sections(pdf: bytes) -> dict[str, str]:
    """The PDF's text cut into its numbered sections ("1. 中阳县" …), keyed by title."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        whole = "\n".join(page.extract_text() or "" for page in document.pages)
    parts = re.split(r"^\d+\. (\S+)$", whole, flags=re.MULTILINE)
    return {
        title: body.split("图表")[0] for title, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def expected_lines(figures: dict[str, Any]) -> list[str]:
    cases = figures["cases"]
    amounts = figures["amounts"]
    return [
        f"受理案件 {cases['received']}",
        f"调解化解 {cases['resolved']}",
        f"司法确认 {cases['confirmed']}",
        f"转入诉讼 {cases['litigation']}",
        f"未结案件 {cases['open']}",
        f"化解率 {rate_text(figures['rates']['resolution_rate'])}",
        f"调解成功率 {rate_text(figures['rates']['mediation_success_rate'])}",
        f"核定金额（元） {amounts['assessed']}",
        f"协议金额（元） {amounts['agreed']}",
        f"已赔付金额（元） {amounts['paid']}",
    ]


def test_the_pdf_prints_the_dashboards_numbers_per_county_and_in_total(centre: Centre) -> None:
    pdf, _xlsx, data = monthly_report.make(NOVEMBER)
    sections = pdf_sections(pdf)
    assert list(sections) == [AWAY, HOME, "合计"]
    for title, region in ((AWAY, AWAY), (HOME, HOME), ("合计", None)):
        figures = dashboard(centre.admin, region)
        lines = sections[title].splitlines()
        for line in expected_lines(figures):
            assert line in lines, (title, line)
    # The constructed history's own numbers, so a change to both sides is noticed too.
    assert "受理案件 7" in sections[HOME].splitlines()
    assert "受理案件 1" in sections[AWAY].splitlines()
    assert "受理案件 8" in sections["合计"].splitlines()
    assert "化解率 25.0%" in sections["合计"].splitlines()
    assert data["sections"][-1]["figures"]["cases"] == dashboard(centre.admin)["cases"]


def test_the_workbook_has_a_sheet_per_county_and_the_total_with_the_same_numbers(
    centre: Centre,
) -> None:
    _pdf, xlsx, _data = monthly_report.make(NOVEMBER)
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == [AWAY, HOME, "合计"]
    for sheet, region in ((AWAY, AWAY), (HOME, HOME), ("合计", None)):
        figures = dashboard(centre.admin, region)
        values = {
            row[0]: row[1] for row in book[sheet].iter_rows(values_only=True) if row and row[0]
        }
        for key, count in figures["cases"].items():
            assert values[str(stats.FIGURE_LABELS[key])] == count
        for key in ("assessed", "agreed", "paid"):
            assert f"{values[str(stats.FIGURE_LABELS[key])]:.2f}" == figures["amounts"][key]
        for key, rate in figures["rates"].items():
            assert values[str(stats.FIGURE_LABELS[key])] == rate


def test_a_supervision_organisations_report_holds_its_region_only(centre: Centre) -> None:
    body = next(b for b in monthly_report.bodies() if b.org_id == centre.supervisor.org_id)
    pdf, _xlsx, data = monthly_report.make(NOVEMBER, body=body)
    assert [s["region"] for s in data["sections"]] == [HOME, None]
    assert list(pdf_sections(pdf)) == [HOME, "合计"]
    assert data["sections"][-1]["figures"]["cases"]["received"] == 7


def test_the_job_stores_audits_and_notifies_once_even_if_scheduled_twice(
    app: Flask, centre: Centre
) -> None:
    first_of_december = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # 06:00 Beijing, Dec 1
    assert monthly_report.schedule_if_due(app, datetime(2026, 11, 30, 21, 59, tzinfo=UTC)) is None
    job = monthly_report.schedule_if_due(app, first_of_december)
    assert job is not None
    assert job.subject_id == 202611
    app.extensions.pop("daojiao.monthly_report_month")  # another worker's process
    assert monthly_report.schedule_if_due(app, first_of_december) is None
    jobs.run_inline(job.id)
    again = jobs.schedule(monthly_report.JOB_KIND, subject_id=202611)
    session.commit()
    jobs.run_inline(again.id)

    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == monthly_report.ACTION)
    ).all()
    assert sorted(e.subject for e in events) == sorted(
        f"monthly:2026-11:{key}" for key in ("platform", str(centre.supervisor.org_id))
    )
    store = get_store()
    for event in events:
        for extension in ("pdf", "xlsx"):
            key, digest = event.details[f"{extension}_key"], event.details[f"{extension}_sha256"]
            assert key.startswith("reports/monthly/2026-11/")
            assert hashlib.sha256(store.read(key, sha256=digest)).hexdigest() == digest
    notified = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.kind == monthly_report.ACTION, Notification.user_id == centre.supervisor.id
        )
    )
    assert notified == 1
    assert (
        session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == monthly_report.JOB_KIND)
        )
        == 2
    )


def test_the_command_writes_both_files(app: Flask, centre: Centre, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(
        report_monthly, ["--month", "2026-11", "--region", HOME, "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    pdf = (tmp_path / f"daojiao-monthly-2026-11-{HOME}.pdf").read_bytes()
    assert list(pdf_sections(pdf)) == [HOME, "合计"]
    book = load_workbook(tmp_path / f"daojiao-monthly-2026-11-{HOME}.xlsx")
    assert book.sheetnames == [HOME, "合计"]


def test_the_command_refuses_a_malformed_month(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(
        report_monthly, ["--month", "2026-13", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "YYYY-MM" in result.output
    assert not list(tmp_path.iterdir())


def test_admins_list_every_report_supervisors_their_own(
    app: Flask, centre: Centre, client: Any
) -> None:
    for body in monthly_report.bodies():
        monthly_report.store_report(NOVEMBER, body)
    other = factories.make_user(factories.make_org(OrgKind.SUPERVISION, region=AWAY))
    session.commit()
    own = f"/reports/monthly/2026-11/{centre.supervisor.org_id}"

    factories.login(client, centre.admin)
    page = client.get("/reports/monthly").get_data(as_text=True)
    assert "/reports/monthly/2026-11/platform.pdf" in page
    assert f"{own}.xlsx" in page
    response = client.get("/reports/monthly/2026-11/platform.pdf")
    assert response.status_code == 200
    details = monthly_report.stored_report("2026-11", "platform")
    assert details is not None
    assert hashlib.sha256(response.data).hexdigest() == details["pdf_sha256"]
    assert response.headers["X-Content-SHA256"] == details["pdf_sha256"]

    factories.login(client, centre.supervisor)
    page = client.get("/reports/monthly").get_data(as_text=True)
    assert f"{own}.pdf" in page
    assert "platform.pdf" not in page
    assert client.get(f"{own}.xlsx").status_code == 200
    assert client.get("/reports/monthly/2026-11/platform.pdf").status_code == 404

    # A supervision organisation made after the month's run has no report of it.
    factories.login(client, other)
    assert "2026-11" not in client.get("/reports/monthly").get_data(as_text=True)
    assert client.get(f"{own}.pdf").status_code == 404
    factories.login(client, centre.regulator)
    assert client.get("/reports/monthly").status_code == 403


def test_the_command_without_a_folder_stores_the_platforms_report_once(
    app: Flask, centre: Centre
) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(report_monthly, ["--month", "2026-11"])
    assert first.exit_code == 0, first.output
    assert "reports/monthly/2026-11/platform.pdf" in first.output
    second = runner.invoke(report_monthly, ["--month", "2026-11"])
    assert "made already" in second.output
    assert monthly_report.stored_report("2026-11", "platform") is not None


def test_an_altered_report_is_not_served(app: Flask, centre: Centre, client: Any) -> None:
    details = monthly_report.store_report(NOVEMBER, monthly_report.PLATFORM_BODY)
    session.commit()
    assert details is not None
    forged = b"%PDF-1.7 forged report"
    Minio(
        app.config["S3_ENDPOINT"],
        access_key=servers.S3_ACCESS_KEY,
        secret_key=servers.S3_SECRET_KEY,
        secure=False,
    ).put_object(app.config["S3_BUCKET"], details["pdf_key"], io.BytesIO(forged), len(forged))
    factories.login(client, centre.admin)
    response = client.get("/reports/monthly/2026-11/platform.pdf")
    assert response.status_code == 500
    assert forged not in response.data
    assert client.get("/reports/monthly/2026-11/platform.xlsx").status_code == 200


@pytest.mark.slow
def test_the_command_makes_the_report_on_the_embedded_database_too(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    assert daojiao("db", "upgrade", env=env).returncode == 0
    out = tmp_path / "out"
    result = daojiao("report", "monthly", "--month", "2026-11", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    pdf = (out / "daojiao-monthly-2026-11.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert load_workbook(out / "daojiao-monthly-2026-11.xlsx").sheetnames
