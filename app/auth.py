"""Flask-Login wiring: cookie sessions name a server-side login session; the API uses tokens."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Request, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager

from app.errors import error_response, wants_json
from app.models import User
from app.services import accounts

login_manager = LoginManager()
login_manager.session_protection = "strong"
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "warning"


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    user = accounts.load_session(token, idle=idle)
    if user is not None:
        user.login_token = token
    return user


@login_manager.request_loader
def _load_api_user(req: Request) -> User | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = accounts.load_token(header.removeprefix("Bearer ").strip())
    if user is not None:
        user.login_token = None
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    if wants_json():
        return error_response(401, "unauthorized", "Log in or send a valid bearer token.")
    session["next"] = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Bind Flask-Login; no remember-me cookie is ever issued."""
    login_manager.init_app(app)
