"""Login, logout and changing one's password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.db import keep_on_error
from app.errors import TooManyAttempts, ValidationFailed
from app.services import accounts
from app.web import refuse
from blueprints.forms import LoginForm, PasswordChangeForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                username=form.username.data,
                password=form.password.data,
                ip=request.remote_addr or "unknown",
            )
        except (accounts.LoginFailed, TooManyAttempts) as exc:
            keep_on_error()  # failures count even though the login did not happen
            flash(exc.message, "danger")
            status = 429 if isinstance(exc, TooManyAttempts) else 401
        else:
            token = accounts.start_session(
                user=user, ip=request.remote_addr, user_agent=request.user_agent.string
            )
            target = _safe_next(session.pop("next", None))
            session.clear()  # a fresh session on login: no fixation
            user.login_token = token
            login_user(user, remember=False)
            return redirect(target)
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    if current_user.login_token:
        accounts.end_session(user=current_user, token=current_user.login_token)
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                user=current_user, current=form.current.data, new=form.new.data
            )
        except ValidationFailed as exc:
            refuse(exc)
            return render_template("auth/password.html", form=form), 422
        token = accounts.start_session(
            user=current_user, ip=request.remote_addr, user_agent=request.user_agent.string
        )
        user = current_user._get_current_object()
        user.login_token = token
        login_user(user, remember=False)
        flash(_("Your password was changed. Other sessions have been logged out."), "success")
        return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form), 400 if form.is_submitted() else 200
