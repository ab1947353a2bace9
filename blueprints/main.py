"""Home page (the user's desk), language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from app import db
from app.i18n import LOCALES
from app.services import deadlines, liability, notifications

bp = Blueprint("main", __name__)
HOME_LIMIT = 100  # deadlines on the home page; the API lists them all


@bp.get("/")
def home():
    """The signed-in user's desk: what waits on them (a mediator: liability to decide first),
    deadlines soonest first, and new messages."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    waiting = deadlines.waiting_on(current_user, limit=HOME_LIMIT)
    return render_template(
        "dashboard/home.html",
        waiting=waiting,
        more=len(waiting) == HOME_LIMIT,
        details=deadlines.deadline_details(waiting),
        awaiting_liability=liability.cases_awaiting_decision(current_user, limit=HOME_LIMIT),
        unread=notifications.user_notifications(current_user, limit=10, unread_only=True),
        unread_total=notifications.unread_count(current_user),
    )


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in LOCALES:
        session["locale"] = code
    target = request.referrer or url_for("main.home")
    # Only go back to a page of this site.
    if not target.startswith(request.host_url):
        target = url_for("main.home")
    return redirect(target)


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
