"""Chinese first, English on request: locale choice and display of times (Asia/Shanghai)."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

from babel import support
from flask import Flask, has_request_context, session
from flask_babel import Babel
from flask_login import current_user

from app.clock import BEIJING
from app.db import utcnow

LOCALES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LOCALE = "zh_CN"
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    """The session's choice, then the user's saved choice, then Chinese (also outside requests)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    if current_user and getattr(current_user, "locale", None) in LOCALES:
        return current_user.locale
    return DEFAULT_LOCALE


@functools.cache
def _catalogue() -> support.Translations:
    return support.Translations.load(str(TRANSLATIONS), [DEFAULT_LOCALE])


def translate(text: str) -> str:
    """`text` in the default language, without an app (for command-line output)."""
    return _catalogue().gettext(text)


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as Beijing time for display."""
    if value is None:
        return ""
    return value.astimezone(BEIJING).strftime(fmt)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to the app's catalogues and add the time filter."""
    Babel(
        app,
        locale_selector=select_locale,
        timezone_selector=lambda: "Asia/Shanghai",
        default_locale=DEFAULT_LOCALE,
        default_translation_directories=str(TRANSLATIONS),
    )
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["LOCALES"] = LOCALES
    app.jinja_env.globals["now_utc"] = utcnow
    app.jinja_env.globals["locale_code"] = select_locale
