"""Home page, language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from app import db
from app.i18n import LOCALES

bp = Blueprint("main", __name__)


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("cases.index"))


@bp.get("/lang/<code>")
def set_language(code: str):  # type: ignore[no-untyped-def]
    if code in LOCALES:
        session["locale"] = code
    target = request.referrer or url_for("main.home")
    # Only go back to a page of this site.
    if not target.startswith(request.host_url):
        target = url_for("main.home")
    return redirect(target)


@bp.get("/healthz")
def health():  # type: ignore[no-untyped-def]
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
