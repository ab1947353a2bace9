"""Daojiao: the application factory (DESIGN.md §4)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: validated settings, database, storage, jobs, auth, views and CLI."""
    from app import (
        auth,
        case_index,
        db,
        errors,
        i18n,
        id_numbers,
        input_guard,
        jobs,
        labels,
        metrics,
        web,
        workflow,
        worklist,
    )
    from app.config import load_settings
    from app.services import closure
    from blueprints import register_blueprints
    from storage import make_store

    app = web.Daojiao(__name__, instance_relative_config=True)
    app.config.update(load_settings(app.instance_path, overrides))
    # The embedded defaults (SQLite file, object folder) live in the instance folder.
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="daojiao_session",
        PERMANENT_SESSION_LIFETIME=app.config["SESSION_IDLE_MINUTES"] * 60,
        REMEMBER_COOKIE_DURATION=0,
        BOOTSTRAP_SERVE_LOCAL=True,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_AS_ASCII=False,
    )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    db.init_app(app)
    store = make_store(app.config)
    app.extensions["daojiao.store"] = store
    jobs.init_app(app)
    metrics.init_app(app)  # its request hooks run first and last: they time the others
    closure.init_app(app)  # closed cases are read-only, for every session of the app
    case_index.init_app(app)  # the insurers and tasks of each case, kept with its changes
    errors.init_app(app)
    input_guard.init_app(app)  # NUL and other control characters: 422 before any view
    # Every answer (page, JSON, document) that showed ID numbers in full is logged once.
    app.after_request(id_numbers.record_full_reads)
    auth.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    workflow.init_app(app)
    worklist.init_app(app)
    web.init_app(app)
    register_blueprints(app)
    return app
