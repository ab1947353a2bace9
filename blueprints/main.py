"""Home page (the user's desk), language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from app import db, worklist
from app.i18n import LOCALES
from app.models import Role
from app.services import deadlines, notifications
from blueprints.forms import UploadForm

bp = Blueprint("main", __name__)
HOME_LIMIT = 100  # deadlines on the home page; the API lists them all
OVERSIGHT_ROLES = (Role.SUPERVISOR, Role.REGULATOR)


@bp.get("/")
def home():
    """The signed-in user's desk: the cases waiting on their organisation with the action each
    waits for (the police: the upload form too), their deadlines and new messages; for an
    overseer, who has no tasks, a page leading to the figures."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role in OVERSIGHT_ROLES:
        # Overseers have no tasks and no deadlines: their page leads to the figures.
        return render_template(
            "dashboard/oversight.html",
            unread_total=notifications.unread_count(current_user),
        )
    waiting = deadlines.waiting_on(current_user, limit=HOME_LIMIT)
    return render_template(
        "dashboard/home.html",
        tasks=worklist.queue(current_user),
        queue_limit=worklist.QUEUE_LIMIT,
        upload_form=UploadForm(formdata=None) if current_user.role == Role.POLICE else None,
        waiting=waiting,
        more=len(waiting) == HOME_LIMIT,
        details=deadlines.deadline_details(waiting),
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
