"""The `daojiao` command (INTERFACES.md §1): a Flask CLI group with our subcommands."""

from __future__ import annotations

import getpass
import json
import sys
import threading
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, NoAppException, with_appcontext

from app import audit
from app.config import ConfigError


def _create_app(overrides: dict[str, Any] | None = None) -> Flask:
    from app import create_app

    try:
        return create_app(overrides)
    except ConfigError as exc:
        raise NoAppException(f"configuration error: {exc}") from exc


class DaojiaoGroup(FlaskGroup):
    """Flask's CLI group; listing commands needs no app (ours are on the group itself)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)


@click.group(
    cls=DaojiaoGroup,
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def main() -> None:
    """Daojiao (道交一体化): road-traffic accident compensation disputes, one-stop."""
    audit.origin.set("cli")


# -- database ---------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations to DATABASE_URL."""
    from app import migrate

    url = current_app.config["DATABASE_URL"]
    before = migrate.current_revision(url)
    migrate.upgrade(url, revision)
    after = migrate.current_revision(url)
    if migrate.crossed(before, after, migrate.CASE_TASKS_REVISION):
        from app import case_index

        click.echo(f"work queues: {case_index.rebuild()} cases worked out")
    click.echo(f"database at revision {after}")


@main.group()
def worklist() -> None:
    """The work queues."""


@worklist.command("rebuild")
@with_appcontext
def worklist_rebuild() -> None:
    """Work out again each case's insurers and what it waits for from whom (after a bulk load)."""
    from app import case_index

    click.echo(f"work queues: {case_index.rebuild()} cases worked out")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ("base" empties the database)."""
    from app import migrate

    migrate.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(
        f"database at revision {migrate.current_revision(current_app.config['DATABASE_URL'])}"
    )


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Print the database's migration revision."""
    from app import migrate

    click.echo(migrate.current_revision(current_app.config["DATABASE_URL"]) or "(none)")


# -- users ------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Accounts and organisations."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--org", "org_name", required=True, help="Organisation name (created if missing).")
@click.option(
    "--org-kind",
    type=click.Choice(
        ["police", "insurer", "mediation", "tribunal", "platform", "supervision", "regulator"]
    ),
    help="Kind of a new organisation.",
)
@click.option(
    "--region",
    help="Region of a new organisation (supervision and regulator ones see only its cases).",
)
@click.option(
    "--role",
    type=click.Choice(
        ["police", "adjuster", "mediator", "judge", "admin", "supervisor", "regulator"]
    ),
    help="Must match the organisation's kind; checked if given.",
)
@click.option("--display-name")
@click.option(
    "--password",
    envvar="DAOJIAO_NEW_PASSWORD",
    help="Prompted for when omitted (or set DAOJIAO_NEW_PASSWORD).",
)
@with_appcontext
def users_create(
    username: str,
    org_name: str,
    org_kind: str | None,
    region: str | None,
    role: str | None,
    display_name: str | None,
    password: str | None,
) -> None:
    """Create a user (and its organisation when --org-kind is given and it is new)."""
    from sqlalchemy import select

    from app.db import session
    from app.errors import ValidationFailed
    from app.models import Organization, OrgKind, Role
    from app.services import accounts

    org = session.scalar(select(Organization).where(Organization.name == org_name))
    try:
        if org is None:
            if org_kind is None:
                raise click.UsageError(
                    f"no organisation named {org_name!r}; give --org-kind to create it"
                )
            org = accounts.create_organization(
                actor=None, kind=OrgKind(org_kind), name=org_name, region=region
            )
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Repeat: "):
                raise click.UsageError("the passwords differ")
        user = accounts.create_user(
            actor=None,
            org=org,
            username=username,
            password=password,
            display_name=display_name,
            role=Role(role) if role else None,
        )
    except ValidationFailed as exc:
        session.rollback()
        raise click.ClickException(exc.message) from exc
    session.commit()
    click.echo(f"created {user.username} ({user.role.value}) in {org.name}")


# -- audit ------------------------------------------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@click.option(
    "--since-checkpoint",
    is_flag=True,
    help="Start from the latest checkpoint (its event re-checked) instead of the first event; "
    "run it from cron so that judges' pages have little left to check.",
)
@click.option(
    "--deep",
    is_flag=True,
    help="Also compare every offer, agreement, payment, assessment, liability decision and "
    "confirmation with the audit event that recorded it (rows edited behind the app's back).",
)
@with_appcontext
def audit_verify(since_checkpoint: bool, deep: bool) -> None:
    """Check the audit hash chain; exit 1 and name the first broken event.

    Either run records a checkpoint at the last event it found intact.
    """
    result = audit.verify_chain(full=not since_checkpoint)
    if result.ok:
        if since_checkpoint and result.since_id:
            click.echo(
                f"audit chain intact: {result.checked} events since the checkpoint at event "
                f"{result.since_id} (verified {result.since_at:%Y-%m-%d %H:%M:%S} UTC)"
            )
        else:
            click.echo(f"audit chain intact: {result.checked} events")
    else:
        click.echo(
            f"audit chain BROKEN at event {result.broken_id}: {result.reason} "
            f"({result.checked} events verified before it)",
            err=True,
        )
    rows_ok = _deep_verify() if deep else True
    if not (result.ok and rows_ok):
        sys.exit(1)


def _deep_verify() -> bool:
    """Print the deep check's problems (a table) and figures; whether it found none."""
    from app import integrity

    report = integrity.verify_rows()
    if report.problems:
        click.echo(f"{'KIND':<20} {'ROW':>10} {'CASE':>10} {'EVENT':>10}  PROBLEM", err=True)
    for problem in report.problems:
        click.echo(
            f"{problem.kind:<20} {problem.row_id:>10} {problem.case_id or '-':>10} "
            f"{problem.event_id or '-':>10}  {problem.reason}",
            err=True,
        )
    for kind in integrity.ROW_KINDS:
        click.echo(
            f"{kind}: {report.checked[kind]} checked, {report.covered[kind]} covered by a "
            f"digest, {report.not_covered[kind]} not covered (written before digests)"
        )
    if report.ok:
        click.echo(f"rows intact: {report.cases} cases in {report.seconds:.1f} s")
        return True
    listed = "" if len(report.problems) == report.problem_total else " (first ones listed)"
    click.echo(f"rows BROKEN: {report.problem_total} problem(s){listed}", err=True)
    return False


# -- compensation standards -------------------------------------------------------------


@main.group("standards")
def standards_group() -> None:
    """Yearly compensation standards (packaged, or as edited by admins)."""


# Columns of `standards list`: header → figure name in the catalog.
_STANDARD_COLUMNS = {
    "U": "urban_disposable_income",
    "C": "urban_consumption",
    "rural U": "rural_disposable_income",
    "rural C": "rural_consumption",
}


@standards_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print StandardSet JSON objects instead.")
@with_appcontext
def standards_list(as_json: bool) -> None:
    """List each jurisdiction's yearly standards in force, newest year first."""
    from app.services import standards

    standard_sets = standards.list_standard_sets()
    if as_json:
        click.echo(json.dumps([s.as_json() for s in standard_sets], ensure_ascii=False, indent=2))
        return
    from app.compensation.catalog import WAGE_SERIES

    header = ["jurisdiction", "year", "origin", "valid", *_STANDARD_COLUMNS, "wage series"]
    rows = [header]
    for standard in standard_sets:
        wages = [
            f"{series}={standard.figures[name]}"
            for series, name in WAGE_SERIES.items()
            if name in standard.figures
        ]
        validity = (
            f"{standard.valid_from or '…'}–{standard.valid_to or '…'}"
            if standard.valid_from or standard.valid_to
            else "-"
        )
        rows.append(
            [
                standard.jurisdiction,
                str(standard.year),
                standard.origin,
                validity,
                *(standard.figures.get(name, "-") for name in _STANDARD_COLUMNS.values()),
                " ".join(wages) or "-",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(line.rstrip())


# -- jobs -------------------------------------------------------------------------------


@main.command()
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty (for tests).")
@with_appcontext
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker (with scheduler and job sweeper) against REDIS_URL."""
    from workers import run_worker

    if not current_app.config["REDIS_URL"]:
        raise click.UsageError(
            "REDIS_URL is not set: without it jobs run inside the web "
            "process and no worker is needed"
        )
    run_worker(current_app._get_current_object(), list(queues), burst=burst)


@main.group()
def jobs() -> None:
    """Background jobs."""


@jobs.command("sweep")
@with_appcontext
def jobs_sweep() -> None:
    """Re-send jobs left queued and reclaim jobs whose worker died."""
    from app import jobs as job_queue

    click.echo(f"re-sent {job_queue.sweep()} job(s)")


# -- evidence -----------------------------------------------------------------------------


@main.group()
def evidence() -> None:
    """Evidence files in the object store."""


@evidence.command("sweep-orphans")
@click.option("--dry-run", is_flag=True, help="Only list the orphans; move nothing.")
@click.option(
    "--grace-hours",
    type=click.IntRange(min=1),
    default=None,
    help="Only objects older than this (default ORPHAN_GRACE_HOURS, 24).",
)
@with_appcontext
def evidence_sweep_orphans(dry_run: bool, grace_hours: int | None) -> None:
    """Move objects no document row names, older than the grace period, under quarantine/
    (nothing is deleted; a named object is never touched)."""
    from datetime import timedelta

    from app import objects
    from app.db import session

    grace = timedelta(hours=grace_hours) if grace_hours else None
    result = objects.sweep_orphans(grace=grace, dry_run=dry_run)
    session.commit()
    if dry_run:
        for key in result.orphans:
            click.echo(f"orphan {key}")
    for key, target in result.quarantined.items():
        click.echo(f"quarantined {key} -> {target}")
    verb = "found" if dry_run else "quarantined"
    count = len(result.orphans) if dry_run else len(result.quarantined)
    click.echo(f"checked {result.checked} object(s) older than {result.grace}; {verb} {count}")


@evidence.command("verify")
@with_appcontext
def evidence_verify() -> None:
    """Re-hash every stored file a document names against its recorded SHA-256; list the
    missing and altered ones and exit 1 if there are any."""
    from app import integrity

    report = integrity.verify_objects()
    for problem in report.problems:
        click.echo(
            f"{problem.reason}: document {problem.document_id} (case {problem.case_id or '-'}) "
            f"{problem.object_key}",
            err=True,
        )
    if report.ok:
        click.echo(
            f"objects intact: {report.checked} file(s), {report.bytes_read} bytes, "
            f"{report.seconds:.1f} s"
        )
        return
    total = sum(report.problem_counts.values())
    click.echo(f"objects BROKEN: {total} of {report.checked} file(s)", err=True)
    sys.exit(1)


# -- reports ----------------------------------------------------------------------------


@main.command(with_appcontext=False)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
def parse(file: str) -> None:
    """Print the fields read from an accident report PDF as JSON (exit 3 if unreadable)."""
    from app import reports
    from app.i18n import translate
    from app.labels import REPORT_ERRORS

    with open(file, "rb") as handle:
        data = handle.read(reports.MAX_BYTES + 1)
    try:
        result = reports.parse_isolated(data)
    except reports.ReportError as exc:
        message = translate(REPORT_ERRORS.get(exc.code, REPORT_ERRORS["damaged"]))
        click.echo(
            json.dumps({"error": {"code": exc.code, "message": message}}, ensure_ascii=False)
        )
        sys.exit(3)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


# -- compensation -----------------------------------------------------------------------


@main.command(with_appcontext=False)
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--packaged",
    is_flag=True,
    help="Use the standards shipped with Daojiao, not this deployment's edited figures.",
)
def assess(file: Any, packaged: bool) -> None:
    """Print a compensation assessment of an input JSON file as JSON (`-` reads stdin)."""
    from app import compensation

    def fail(message: str) -> None:
        error = {"code": compensation.InvalidInput.code, "message": message}
        click.echo(json.dumps({"error": error}, ensure_ascii=False))
        sys.exit(3)

    try:
        data = json.loads(file.read())
    except UnicodeDecodeError:
        fail("输入文件不是 UTF-8 编码的 JSON")
    except json.JSONDecodeError as exc:
        fail(f"输入不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}")
    catalog, jurisdiction = _deployment_catalog(packaged)
    try:
        result = compensation.assess(data, catalog, default_jurisdiction=jurisdiction)
    except compensation.InvalidInput as exc:
        fail(exc.message)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _deployment_catalog(packaged: bool) -> tuple[Any, str]:
    """This deployment's standards (admins' edits included) when it is configured and its
    database is at head; otherwise the packaged ones, so the command also works unconfigured."""
    import os

    from sqlalchemy.exc import OperationalError

    from app import compensation, create_app, migrate
    from app.services import standards

    jurisdiction = os.environ.get("DAOJIAO_JURISDICTION", "").strip().lower() or "shanxi"
    if packaged:
        return compensation.packaged_catalog(), jurisdiction
    try:
        app = create_app()
    except ConfigError as exc:
        click.echo(f"not configured ({exc}): using the packaged standards", err=True)
        return compensation.packaged_catalog(), jurisdiction
    jurisdiction = app.config["DAOJIAO_JURISDICTION"]
    try:
        revision = migrate.current_revision(app.config["DATABASE_URL"])
    except OperationalError:
        click.echo("database unreachable: using the packaged standards", err=True)
        return compensation.packaged_catalog(), jurisdiction
    if revision not in migrate.head_revisions():
        return compensation.packaged_catalog(), jurisdiction
    with app.app_context():
        return standards.current_catalog(), jurisdiction


# -- demo -------------------------------------------------------------------------------


@main.command(with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--sample",
    "sample_to",
    type=click.Path(dir_okay=False, writable=True),
    help="Only write a sample accident letter (PDF) to upload to this file, then stop.",
)
@click.option(
    "--i-know-this-is-not-production",
    "not_production",
    is_flag=True,
    help="Seed the demo accounts (published password) even into a database, S3 or Redis the "
    "demo did not make.",
)
def demo(host: str, port: int, sample_to: str | None, not_production: bool) -> None:
    """Embedded demo: upgrade the database, seed demo accounts, serve the portal.

    Refuses (exit 1) a DATABASE_URL other than SQLite, a set S3_ENDPOINT or REDIS_URL, and a
    database holding data the demo did not make, unless --i-know-this-is-not-production."""
    from app import demo as demo_data
    from app import demo_history, migrate

    if sample_to:
        written = demo_data.write_sample_letter(sample_to)
        click.echo(f"Sample accident letter written to {written}: upload it as police1.")
        return

    app = _create_app({"DAOJIAO_MODE": "demo"})
    with app.app_context():
        refusal = None if not_production else demo_data.refusal()
        if refusal:
            raise click.ClickException(refusal)
        migrate.upgrade(app.config["DATABASE_URL"])
        if not demo_history.has_history():
            click.echo("Generating a year of demo history for the dashboard (about 15 s, once)…")
        accounts = demo_data.seed()
    click.echo(
        f"Daojiao demo — database {app.config['DATABASE_URL']}, "
        f"objects {app.config['S3_ENDPOINT'] or app.config['OBJECT_STORE_PATH']}"
    )
    click.echo(f"Accounts (password {demo_data.DEMO_PASSWORD!r}):")
    for username, org_name in accounts:
        click.echo(f"  {username:<16} {org_name}")
    click.echo(f"Open http://{host}:{port}/ — press Ctrl+C to stop.")
    _serve(app, host, port)


def _serve(app: Flask, host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    # A separate sweeper thread re-runs jobs left queued when the demo was stopped mid-job,
    # then keeps the deadline ledger's clock (due and overdue timers) once a minute.
    def sweep_once() -> None:
        import contextlib
        import time

        from workers.tasks import sweep_deadlines_in

        with app.app_context():
            from app import jobs as job_queue

            job_queue.sweep()
        while True:
            with contextlib.suppress(*job_queue.TRANSIENT_ERRORS):  # busy: next round
                sweep_deadlines_in(app)
            time.sleep(60)

    threading.Thread(target=sweep_once, daemon=True).start()
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


# -- filing packages ----------------------------------------------------------------------


@main.group()
def bundle() -> None:
    """Litigation filing packages."""


@bundle.command("verify", with_appcontext=False)
@click.argument("file", type=click.File("rb"))
@click.option(
    "--public-key",
    type=click.File("rb"),
    help="The platform's public key (PEM); without it the key named in the package is used.",
)
def bundle_verify(file: Any, public_key: Any) -> None:
    """Check a filing package's signed manifest and every file's SHA-256 (exit 1 if not)."""
    from app import bundles, signing

    trusted = signing.load_public_key(public_key.read()) if public_key else None
    result = bundles.verify_bundle(file.read(), trusted=trusted)
    for problem in result.problems:
        click.echo(f"FAIL {problem}")
    if not result.ok:
        sys.exit(1)
    manifest = result.manifest or {}
    origin = "the given public key" if result.trusted_key else "the key named in the package"
    click.echo(
        f"OK {result.files} file(s) of case {manifest.get('case_number')} match the manifest, "
        f"signed by {origin} (key id {result.key_id})"
    )


@bundle.command("public-key")
@with_appcontext
def bundle_public_key() -> None:
    """Print this platform's public key (PEM) and its key id, for the court's filing office."""
    from app import bundles, signing

    public = signing.platform_key().public_key()
    click.echo(signing.public_key_pem(public), nl=False)
    click.echo(f"key id {bundles.key_id(public)}")


# -- deadlines --------------------------------------------------------------------------


@main.group("deadlines")
def deadlines_group() -> None:
    """The deadline ledger: every legal or agreed timer of the cases."""


@deadlines_group.command("sweep")
@click.option("--now", "as_of", help="Sweep as of this ISO 8601 time (Beijing if no offset).")
@with_appcontext
def deadlines_sweep(as_of: str | None) -> None:
    """Mark due and overdue deadlines and notify their owners (safe to repeat)."""
    from datetime import datetime

    from app.clock import BEIJING
    from app.db import session
    from app.services import deadlines

    now = None
    if as_of:
        try:
            now = datetime.fromisoformat(as_of)
        except ValueError as exc:
            raise click.BadParameter(f"not an ISO 8601 time: {as_of}", param_hint="--now") from exc
        if now.tzinfo is None:
            now = now.replace(tzinfo=BEIJING)
    counts = deadlines.sweep_deadlines(now)
    session.commit()
    click.echo(
        f"{counts['due']} due, {counts['overdue']} overdue, "
        f"{counts['notified']} notification(s) sent"
    )


# -- reports ----------------------------------------------------------------------------------


@main.group("report")
def report_group() -> None:
    """Reports for the overseeing bodies."""


@report_group.command("monthly")
@click.option("--month", required=True, help="The month, YYYY-MM (e.g. 2026-11).")
@click.option("--region", help="Only this county (default: every county and the total).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, writable=True),
    help="Write the PDF and the workbook to this folder instead of storing them.",
)
@with_appcontext
def report_monthly(month: str, region: str | None, out: str | None) -> None:
    """Make the monthly report (道交一体化工作月报) of the whole platform: written to --out,
    or, without it, stored, audited and announced like the scheduled job (once a month)."""
    from pathlib import Path

    from app import monthly_report
    from app.db import session

    try:
        first = monthly_report.parse_month(month)
    except monthly_report.MalformedMonth as exc:
        raise click.BadParameter("give the month as YYYY-MM", param_hint="--month") from exc
    if out is None and region is None:
        details = monthly_report.store_report(first, monthly_report.PLATFORM_BODY)
        session.commit()
        if details is None:
            click.echo(f"the report for {first:%Y-%m} was made already")
            return
        click.echo(f"stored {details['pdf_key']} and {details['xlsx_key']}")
        return
    pdf, xlsx, _data = monthly_report.make(first, region)
    folder = Path(out or ".")
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"daojiao-monthly-{first:%Y-%m}" + (f"-{region}" if region else "")
    for extension, content in (("pdf", pdf), ("xlsx", xlsx)):
        path = folder / f"{stem}.{extension}"
        path.write_bytes(content)
        click.echo(f"wrote {path}")
