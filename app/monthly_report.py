"""The monthly report (道交一体化工作月报, issue 16): the oversight figures of a month, per
county and in total, as a PDF and a workbook, for the platform and for each supervision
organisation that has a region.

Every number comes from `stats.compute` for the same filter as the dashboard's (the month's
first to last day, the county, the body's access filter), so the report and /stats agree. The
files are stored under `reports/monthly/<YYYY-MM>/<body>.pdf|.xlsx` (outside the swept
prefixes: no document row names them), and the audit event `report.monthly` names their keys
and SHA-256, which the download route checks on read. Needs PostgreSQL, as the figures do.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import ColumnElement, exists, select, true

from app import access, audit, jobs, stats
from app.clock import BEIJING
from app.db import session, utcnow
from app.documents.monthly import TOTAL, render_monthly
from app.labels import N_
from app.models import AuditEvent, Case, Job, Organization, OrgKind
from app.objects import get_store
from app.services import notifications
from storage import ObjectExists

ACTION = "report.monthly"
JOB_KIND = "reports.monthly"
PLATFORM = "platform"
PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Last month's reports are scheduled on the first of the month from this time, Beijing.
DUE_AFTER = time(6, 0)
_SCHEDULE_LOCK = 0x6461_6F6A_6961_6F16
_SCHEDULED = "daojiao.monthly_report_month"
_MONTH = re.compile(r"(\d{4})-(\d{2})")
READY = N_("The monthly report for %(month)s is ready under Reports.")


class MalformedMonth(ValueError):
    """A month not written YYYY-MM."""


def parse_month(text_value: str) -> date:
    """The first day of the month `text_value` ("2026-11") names."""
    match = _MONTH.fullmatch(text_value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise MalformedMonth(f"not a month (YYYY-MM): {text_value!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


@dataclass(frozen=True)
class Body:
    """Whom a report is for: the platform (all cases) or a supervision organisation (its
    region's cases, as `access.case_filter` lets its supervisors see them)."""

    key: str
    name: str
    region: str | None
    org_id: int | None

    @property
    def visible(self) -> ColumnElement[bool]:
        return true() if self.org_id is None else access.supervised_cases(self.region)


PLATFORM_BODY = Body(PLATFORM, "道交一体化平台", None, None)


def bodies() -> list[Body]:
    """The platform, then every supervision organisation with a region."""
    orgs = session.scalars(
        select(Organization)
        .where(Organization.kind == OrgKind.SUPERVISION, Organization.region.is_not(None))
        .order_by(Organization.id)
    )
    return [PLATFORM_BODY, *(Body(str(o.id), o.name, o.region, o.id) for o in orgs)]


def month_filters(month: date, region: str | None = None) -> stats.Filters:
    last = calendar.monthrange(month.year, month.month)[1]
    return stats.Filters(month.replace(day=1), month.replace(day=last), region=region)


def _regions(filters: stats.Filters, visible: ColumnElement[bool]) -> list[str]:
    """The counties among the month's received cases (a case without one counts in the total
    only)."""
    received = stats.cohort(filters, visible).subquery()
    return list(
        session.scalars(
            select(Case.region)
            .where(Case.id.in_(select(received.c.case_id)), Case.region.is_not(None))
            .distinct()
            .order_by(Case.region)
        )
    )


def report_data(month: date, body: Body, region: str | None = None) -> dict[str, Any]:
    """The report's data: a section per county among the month's cases, then the total, each
    the dashboard's figures (`Figures.as_json()`) for the month, county and body."""
    total_filters = month_filters(month, region or body.region)
    visible = body.visible
    total = stats.compute(total_filters, visible).as_json()
    sections = [
        {
            "region": county,
            "figures": stats.compute(month_filters(month, county), visible).as_json(),
        }
        for county in _regions(total_filters, visible)
    ]
    sections.append({"region": None, "figures": total})
    return {
        "month": f"{month:%Y-%m}",
        "from": total_filters.start.isoformat(),
        "to": total_filters.end.isoformat(),
        "body": body.name,
        "body_key": body.key,
        "region": total_filters.region,
        "definitions": total["definitions"],
        "sections": sections,
    }


def make(
    month: date, region: str | None = None, body: Body = PLATFORM_BODY
) -> tuple[bytes, bytes, dict[str, Any]]:
    """The month's report for `body` (the platform by default), optionally of one county: the
    PDF, the workbook (a sheet per county, then the total) and the data both are made from."""
    data = report_data(month, body, region)
    pdf = render_monthly(data, current_app.config["DAOJIAO_CJK_FONT"])
    xlsx = stats.sectioned_workbook(
        [(section["region"] or TOTAL, section["figures"]) for section in data["sections"]]
    )
    return pdf, xlsx, data


def object_key(month: str, body_key: str, extension: str) -> str:
    return f"reports/monthly/{month}/{body_key}.{extension}"


def _put(key: str, content: bytes, media_type: str) -> str:
    """Store `content` under `key`; its SHA-256. A key already taken (a run that stored the
    files and then failed before its commit) keeps the stored object, whose digest counts."""
    store = get_store()
    try:
        return store.put(content, key=key, media_type=media_type).sha256
    except ObjectExists:
        return store.stat(key).sha256


def reported(month: str, body_key: str) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    AuditEvent.action == ACTION,
                    AuditEvent.subject == f"monthly:{month}:{body_key}",
                )
            )
        )
    )


def store_report(month: date, body: Body) -> dict[str, Any] | None:
    """Make, store, audit and announce `body`'s report of `month`, once: None when it was
    made already. The caller commits."""
    label = f"{month:%Y-%m}"
    if reported(label, body.key):
        return None
    pdf, xlsx, _data = make(month, body=body)
    details: dict[str, Any] = {
        "month": label,
        "org_id": body.org_id,
        "body": body.key,
        "body_name": body.name,
    }
    for extension, content, media_type in (("pdf", pdf, PDF_TYPE), ("xlsx", xlsx, XLSX_TYPE)):
        key = object_key(label, body.key, extension)
        details[f"{extension}_key"] = key
        details[f"{extension}_sha256"] = _put(key, content, media_type)
    audit.record(ACTION, actor=None, subject=f"monthly:{label}:{body.key}", details=details)
    if body.org_id is None:
        notifications.notify_admins(kind=ACTION, message=READY, month=label)
    else:
        notifications.notify_org(
            org_id=body.org_id, case=None, kind=ACTION, message=READY, month=label
        )
    return details


def month_of_job(job: Job) -> date:
    """The month a job is for: its subject is YYYYMM."""
    subject = job.subject_id or 0
    return date(subject // 100, subject % 100, 1)


@jobs.job_handler(JOB_KIND, timeout=1800)
def monthly_report_job(job: Job, progress: jobs.Progress) -> None:
    """Make the month's report for the platform and each supervision organisation."""
    month = month_of_job(job)
    everyone = bodies()
    for index, body in enumerate(everyone):
        progress(100 * index // len(everyone), N_("Making the monthly reports"))
        store_report(month, body)
        session.commit()


def due_month(now: datetime) -> date | None:
    """Last month, from 06:00 Beijing on the first of a month to its end; else None."""
    local = now.astimezone(BEIJING)
    if local.day != 1 or local.time() < DUE_AFTER:
        return None
    return (local.date() - timedelta(days=1)).replace(day=1)


def schedule_if_due(app: Flask, now: datetime | None = None) -> Job | None:
    """Schedule last month's reports once across workers, on the first of the month after
    06:00 Beijing; the job scheduled, or None. Cheap when not due: no query, and one per
    process and month when due."""
    month = due_month(now or utcnow())
    if month is None or app.extensions.get(_SCHEDULED) == month:
        return None
    subject = month.year * 100 + month.month

    def missing() -> Job | None:
        done = session.scalar(
            select(exists().where(Job.kind == JOB_KIND, Job.subject_id == subject))
        )
        return None if done else jobs.schedule(JOB_KIND, subject_id=subject)

    job = jobs.schedule_once_across_workers(app, _SCHEDULE_LOCK, missing)
    app.extensions[_SCHEDULED] = month
    return job


def stored_reports(org_id: int | None) -> list[dict[str, Any]]:
    """The reports made, newest month first: every one (`org_id` None: an admin) or those of
    one supervision organisation."""
    query = select(AuditEvent).where(AuditEvent.action == ACTION).order_by(AuditEvent.id.desc())
    events = session.scalars(query)
    return [
        event.details for event in events if org_id is None or event.details.get("org_id") == org_id
    ]


def stored_report(month: str, body_key: str) -> dict[str, Any] | None:
    """The audit details (keys, SHA-256, org) of one body's report of `month`, or None."""
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == ACTION, AuditEvent.subject == f"monthly:{month}:{body_key}"
        )
    )
    return event.details if event else None
