"""API route: the oversight figures (INTERFACES.md §4 `GET /api/v1/stats`)."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app import access
from app.errors import ValidationFailed
from blueprints.api import bp
from blueprints.openapi import op
from blueprints.stats import STATS_ROLES, export_response, figures_for


@bp.get("/stats")
def stats_figures():
    """The oversight figures for the filters in the query, as JSON or (format=xlsx) a workbook."""
    access.require_role(current_user, *STATS_ROLES)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "xlsx", "csv"):
        raise ValidationFailed(_("Ask for json, xlsx or csv."), field="format")
    _filters, data = figures_for(current_user, request.args)
    if fmt == "json":
        return jsonify(data)
    return export_response(data, fmt, request.args.get("table"))


def _query(name: str, description: str, **schema: object) -> dict[str, object]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


OPENAPI_PATHS = {
    "/stats": {
        "get": op(
            "Admins, supervision and regulators: the oversight figures over the cases the caller "
            "may see, received in the period (Beijing dates): `cases` (received, resolved by "
            "mediation, confirmed by the tribunal, to litigation, open), `rates` (化解率, "
            "调解成功率), `cycle_time` (median and 90th percentile days per stage, trend by "
            "month), `amounts` (assessed, agreed, paid), `insurers` (one scorecard each), "
            "`workload`, `definitions` and `filters`; a regulator gets only `amounts`, "
            "`insurers`, `definitions` and `filters`. format=xlsx: the same as a workbook; "
            "format=csv&table=NAME: one table",
            errors=("401", "403", "422"),
            params=[
                _query(
                    "from",
                    "first day of the period, YYYY-MM-DD (default: the first of this month)",
                    format="date",
                ),
                _query("to", "last day of the period, YYYY-MM-DD (default: today)", format="date"),
                _query("region", "only cases of this county (the case's region)"),
                _query(
                    "insurer",
                    "only cases with a policy of this insurer organisation id",
                    pattern=r"^\d+$",
                ),
                _query(
                    "type",
                    "only cases of this type (from the latest claims)",
                    enum=["injury", "death", "property"],
                ),
                _query("format", "json (default), xlsx or csv", enum=["json", "xlsx", "csv"]),
                _query(
                    "table",
                    "with format=csv: cases, rates, cycle_time, trend, amounts, "
                    "insurers, centres, mediators or definitions",
                ),
            ],
        )
    }
}
