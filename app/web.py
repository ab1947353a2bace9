"""Request plumbing shared by portal and API: the unit of work, proxies, CSRF, Bootstrap,
headers, origin."""

from __future__ import annotations

from flask import Flask, Response, flash, request
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from app import audit, db
from app.errors import DomainError

csrf = CSRFProtect()

# Everything is served by the app itself (intranets have no internet): no CDN, no inline code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-src 'self'; "
    "frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
)


class Daojiao(Flask):
    """The Flask app whose every view runs as one unit of work (`db.run_unit_of_work`).

    The commit happens inside the dispatch, so an error while committing (a stale version)
    reaches the same error handlers as an error raised by the view.
    """

    def dispatch_request(self) -> Response:
        return db.run_unit_of_work(super().dispatch_request)


def refuse(exc: DomainError, *, flash_reason: bool = True) -> None:
    """Undo a refused change, so the page shown again reads what is stored, and say why
    (unless that page shows the error next to the form it concerns); a conflict is explained
    as a warning, not an error."""
    db.session.rollback()
    if flash_reason:
        flash(exc.message, "warning" if exc.status == 409 else "danger")


BOOTSTRAP_STATIC = "/bootstrap/static/"
BOOTSTRAP_MAX_AGE = 86400


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.path.startswith(BOOTSTRAP_STATIC):
        # Bootstrap's files change only with the package: every page reuses them for a day.
        response.headers["Cache-Control"] = f"public, max-age={BOOTSTRAP_MAX_AGE}"
    elif not request.path.startswith("/static/"):
        # Pages and API answers carry personal data: never keep them in a cache. (The app's
        # own static files are revalidated on each use: a deployment's change shows at once.)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _remember_origin() -> None:
    audit.origin.set(request.remote_addr or "unknown")


def init_app(app: Flask) -> None:
    """Install middleware, CSRF protection, local Bootstrap and the security headers."""
    proxies = app.config["DAOJIAO_TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    csrf.init_app(app)
    Bootstrap5(app)
    app.before_request(_remember_origin)
    app.after_request(_security_headers)
