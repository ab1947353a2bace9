"""The portal inbox: a user's notifications, and the unread count in the navigation bar."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access, worklist
from app.db import session
from app.errors import NotFound
from app.models import Notification, Role
from app.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
access.guard_blueprint(bp, Role)
PAGE_LIMIT = 100


@bp.app_context_processor
def _inbox() -> dict[str, object]:
    # A function, so that only pages that show the navigation bar to a signed-in user count.
    def unread_notifications() -> int:
        if not current_user or not current_user.is_authenticated:
            return 0
        return notifications.unread_count(current_user)

    return {
        "unread_notifications": unread_notifications,
        "notification_text": worklist.notification_text,
    }


@bp.get("")
def index():
    return render_template(
        "notifications/index.html",
        items=notifications.user_notifications(current_user, limit=PAGE_LIMIT),
        unread=notifications.unread_count(current_user),
    )


@bp.post("/read")
def mark_read():
    ids = [int(value) for value in request.form.getlist("id") if value.isdigit()]
    marked = notifications.mark_read(user=current_user, ids=ids or None)
    if marked:
        flash(_("Marked %(count)s notification(s) read.", count=marked), "success")
    return redirect(url_for("notifications.index"))


@bp.get("/<int:notification_id>")
def open_notification(notification_id: int):
    """Follow a message to the page it is about; following it marks it read."""
    item = session.get(Notification, notification_id)
    if item is None or item.user_id != current_user.id:
        raise NotFound(_("No such notification."))
    notifications.mark_read(user=current_user, ids=[item.id])
    return redirect(worklist.notification_url(item, current_user))
