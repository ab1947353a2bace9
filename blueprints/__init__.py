"""Thin HTTP views: parse, authorize, call one service, answer (the request commits, app/db.py)."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint of the portal and the API."""
    from blueprints import (
        admin,
        agreements,
        api,
        assessments,
        auth,
        cases,
        documents,
        insurer,
        litigation,
        main,
        mediation,
        notifications,
        offers,
        oversight,
        police,
        reports,
        stats,
        tribunal,
    )
    from blueprints.openapi import API_MODULES

    # The API's other modules add their routes to `api.bp` when imported.
    for name in API_MODULES:
        __import__(f"blueprints.{name}")
    for module in (
        main,
        auth,
        cases,
        assessments,
        agreements,
        police,
        documents,
        insurer,
        mediation,
        notifications,
        offers,
        tribunal,
        litigation,
        stats,
        reports,
        oversight,
        admin,
        api,
    ):
        app.register_blueprint(module.bp)
