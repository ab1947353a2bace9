"""The oversight dashboard (/stats): the figures of app/stats.py with their definitions, charts
(ECharts, app/static/stats.js), table views and exports; each count links to its cases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access, stats
from app.errors import ValidationFailed
from app.models import Role, User
from app.web import refuse

# Who reads the figures: the platform's admins and the overseeing bodies (issue 16).
STATS_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.REGULATOR)
EXPORT_FORMATS = ("xlsx", "csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

bp = Blueprint("stats", __name__, url_prefix="/stats")
access.guard_blueprint(bp, STATS_ROLES)


def figures_for(user: User, args: Mapping[str, str]) -> tuple[stats.Filters, dict[str, Any]]:
    """The figures `user` may read for the filters in `args`, as JSON-ready data: over the cases
    their access filter lets through; a regulator gets only the insurers' conduct."""
    filters = stats.Filters.from_args(args)
    figures = stats.compute(filters, access.case_filter(user))
    return filters, figures.as_json(insurer_conduct_only=user.role == Role.REGULATOR)


def export_response(data: dict[str, Any], fmt: str, table: str | None) -> Response:
    """The figures as a workbook, or one table of them as CSV (`table` names it)."""
    stamp = f"{data['filters']['from']}_{data['filters']['to']}"
    if fmt == "xlsx":
        response = Response(stats.workbook(data), mimetype=XLSX_TYPE)
        name = f"daojiao-stats-{stamp}.xlsx"
    else:
        found = stats.tables(data)
        if table not in found:
            raise ValidationFailed(_("Choose a table to export."), field="table")
        headers, rows = found[table]
        # A byte-order mark: Excel then reads the Chinese text as UTF-8.
        body = "\ufeff" + stats.csv_text(headers, rows)
        response = Response(body.encode(), mimetype="text/csv")
        name = f"daojiao-stats-{table}-{stamp}.csv"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    )
    return response


def _case_links(filters: stats.Filters) -> dict[str, str] | None:
    """The case list behind each count, through the user's access filter (`/cases?figure=…`);
    none for a regulator, who opens no case files."""
    if current_user.role not in access.CASE_FILE_ROLES:
        return None
    return {
        figure: url_for("cases.index", figure=figure, **filters.as_args())
        for figure in stats.FIGURES
    }


@bp.get("/")
def index():
    try:
        filters, data = figures_for(current_user, request.args)
        status = 200
    except ValidationFailed as exc:  # a mangled filter: say so, show the default period
        refuse(exc)
        filters, data = figures_for(current_user, {})
        status = exc.status
    links = _case_links(filters)
    return render_template(
        "stats/index.html",
        filters=filters,
        data=data,
        tables=stats.tables(data),
        titles={key: str(title) for key, title in stats.TABLE_TITLES.items()},
        labels={key: str(label) for key, label in stats.FIGURE_LABELS.items()},
        links=links,
        # The cases chart's bars open these, in the order of the cases table's rows (stats.js).
        case_links=[links[key] for key in data["cases"]] if links and "cases" in data else None,
        presets=[
            (str(stats.PERIODS[key]), url_for("stats.index", **preset.as_args()), preset == filters)
            for key, preset in filters.presets()
        ],
        regions=stats.regions(),
        insurers=stats.insurer_choices(),
        case_types=stats.CASE_TYPES,
    ), status


@bp.get("/export")
def export():
    fmt = request.args.get("format", "xlsx")
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed(_("Export as xlsx or csv."), field="format")
    _filters, data = figures_for(current_user, request.args)
    return export_response(data, fmt, request.args.get("table"))
