"""Domain exceptions, mapped to HTTP in one place and rendered as a page or JSON."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from flask import Flask, Response, current_app, jsonify, render_template, request
from flask import session as cookie_session
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.db import session
from app.i18n import DEFAULT_LOCALE, LOCALES
from storage import StorageUnavailable

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors a service raises for the caller to show."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details


class ValidationFailed(DomainError):
    status = 422
    code = "invalid_input"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidTransition(DomainError):
    status = 409
    code = "conflict"


class UnreadableReport(DomainError):
    status = 422
    code = "unreadable_report"


class EvidenceAltered(DomainError):
    """A stored file no longer matches its recorded SHA-256: never served, always reported."""

    status = 500
    code = "evidence_altered"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


# Seconds a client is asked to wait after the object store was unreachable.
STORAGE_RETRY_AFTER_SECONDS = 30

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_input",
    429: "too_many_attempts",
    500: "internal_error",
}


def wants_json() -> bool:
    """True for API calls and clients that prefer JSON over HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(
    status: int, code: str, message: str, **extra: Any
) -> tuple[Response | str, int]:
    """The error as `{"error": {...}}` JSON (with `extra` members, such as the `fields` sent
    that a request does not take) or as the friendly page for its status."""
    if wants_json():
        return jsonify(error={"code": code, "message": message, **extra}), status
    template = f"errors/{status}.html" if status in (403, 404, 409, 500) else "errors/generic.html"
    return render_template(template, status=status, message=message), status


# SQLSTATEs of a server going away or not back yet (admin_shutdown, crash_shutdown,
# cannot_connect_now); class 08 holds every other connection exception.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
# Seconds a client is asked to wait while PostgreSQL is unreachable (a restart takes a few).
DATABASE_RETRY_AFTER_SECONDS = 10


def is_database_unavailable(exc: BaseException) -> bool:
    """True when `exc` says PostgreSQL refused or dropped the connection, so that the same
    request may succeed once it is back; False for a statement it refused (a bug, a timeout).

    psycopg gives no SQLSTATE when the server never answered or the connection broke.
    """
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in _UNAVAILABLE_SQLSTATES


def database_unavailable_message() -> str:
    """What a clerk reads while PostgreSQL is away: the request's work rolled back whole."""
    return _(
        "The database is unavailable for a moment; nothing of this request was saved. "
        "Please try again shortly."
    )


def database_unavailable_response() -> tuple[Response | str, int, dict[str, str]]:
    """The 503 answer built without the database: in the language chosen in the cookie (the
    user's saved choice is in the database), on a page without the main layout (its menu
    reads the user and the to-do count)."""
    chosen = cookie_session.get("locale")
    locale = chosen if chosen in LOCALES else DEFAULT_LOCALE
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    with force_locale(locale):
        message = database_unavailable_message()
        if wants_json():
            body = jsonify(error={"code": "database_unavailable", "message": message})
            return body, 503, headers
        # Not render_template: its context processors would load the user from the database.
        page = current_app.jinja_env.get_template("errors/database_unavailable.html").render(
            message=message, lang=locale.replace("_", "-")
        )
    return page, 503, headers


def _current_user_id() -> int | None:
    # Read before the rollback: afterwards the user object would reload through the request's
    # own transaction, which then could swallow the denial record.
    from flask_login import current_user

    return current_user.id if current_user and current_user.is_authenticated else None


def _log_denied(reason: str, *, actor_id: int | None, case_id: int | None = None) -> None:
    """Record an authorization failure; it is kept although the request's work rolls back."""
    from app import audit

    audit.record_now(
        "access.denied",
        actor_id=actor_id,
        case_id=case_id,
        details={"method": request.method, "path": request.path, "reason": reason},
    )


def init_app(app: Flask) -> None:
    """Register the handlers; each rolls the session back before answering."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        actor_id = _current_user_id()
        session.rollback()
        if isinstance(exc, NotAllowed) or exc.details.get("denied"):
            _log_denied(exc.message, actor_id=actor_id, case_id=exc.details.get("case_id"))
        extra = {"fields": exc.details["fields"]} if "fields" in exc.details else {}
        return error_response(exc.status, exc.code, exc.message, **extra)

    @app.errorhandler(StaleDataError)
    def _stale(_exc: StaleDataError):
        session.rollback()
        return error_response(
            409,
            "conflict",
            _("Someone else changed this case at the same time. Reload it and try again."),
        )

    @app.errorhandler(StorageUnavailable)
    def _storage_unavailable(exc: StorageUnavailable):
        # The store's client gives up within seconds (storage/minio.py); the request's work
        # rolls back, so nothing of it is half saved.
        session.rollback()
        log.warning("object store unavailable on %s %s: %s", request.method, request.path, exc)
        body, status = error_response(
            503,
            "storage_unavailable",
            _(
                "The evidence store cannot be reached just now. Nothing of this request was "
                "saved; please try again in a few minutes."
            ),
        )
        return body, status, {"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)}

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        actor_id = _current_user_id() if exc.code == 403 else None
        session.rollback()
        status = exc.code or 500
        message = exc.description or ""
        if status == 403:
            _log_denied(message, actor_id=actor_id)
        if status == 404:
            message = _("The page or record does not exist, or you may not see it.")
        elif status == 413:
            message = _("The upload is too large.")
        return error_response(status, _HTTP_CODES.get(status, "http_error"), message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise exc
        return error_response(
            500, "internal_error", _("Something went wrong on our side. Please try again.")
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(psycopg.OperationalError)
    def _database(exc: Exception):
        if not is_database_unavailable(exc):
            return _unexpected(exc)  # a statement PostgreSQL refused is a bug: 500
        session.rollback()  # the connection is gone: its transaction ended with it
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        return database_unavailable_response()
