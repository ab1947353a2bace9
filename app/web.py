"""Request plumbing shared by portal and API: the unit of work, proxies, CSRF, Bootstrap,
headers, origin."""

from __future__ import annotations

import functools
import hashlib
import os
from typing import Any

from flask import Flask, Response, current_app, flash, request
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import safe_join

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
# A static file asked for with its current content hash (`?v=`, added to every link to it) is
# that content for ever: browsers keep it a year and never ask again.
STATIC_ENDPOINTS = ("static", "bootstrap.static")
VERSIONED_CACHE = "public, max-age=31536000, immutable"


@functools.lru_cache(maxsize=256)
def _content_hash(path: str, _mtime_ns: int, _size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def static_version(endpoint: str, filename: str) -> str | None:
    """The content hash of a static file, or None if there is no such file."""
    blueprint = endpoint.rpartition(".")[0]
    scaffold = current_app.blueprints[blueprint] if blueprint else current_app
    folder = scaffold.static_folder
    if folder is None:
        return None
    try:
        path = safe_join(folder, filename)
        stat = os.stat(path) if path else None
    except OSError:
        return None
    if stat is None:
        return None
    return _content_hash(path, stat.st_mtime_ns, stat.st_size)


def _version_static_links(endpoint: str, values: dict[str, Any]) -> None:
    """`url_default`: link every static file with its content hash (`?v=`)."""
    if endpoint in STATIC_ENDPOINTS and "filename" in values and "v" not in values:
        version = static_version(endpoint, values["filename"])
        if version:
            values["v"] = version


def _static_cache_control() -> str | None:
    """The cache policy of a static file: a year when asked for by its current hash."""
    if request.endpoint not in STATIC_ENDPOINTS or not request.view_args:
        return None
    asked = request.args.get("v")
    if asked and asked == static_version(request.endpoint, request.view_args["filename"]):
        return VERSIONED_CACHE
    if request.path.startswith(BOOTSTRAP_STATIC):
        # Bootstrap's files change only with the package: reused for a day.
        return f"public, max-age={BOOTSTRAP_MAX_AGE}"
    # The app's own files, asked for without their hash: revalidated on each use.
    return None


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    hsts_seconds = current_app.config.get("HSTS_SECONDS", 0)
    if hsts_seconds:
        # Browsers ignore it over plain HTTP (RFC 6797), so it is safe to send on every answer.
        response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
    static_policy = _static_cache_control()
    if static_policy:
        response.headers["Cache-Control"] = static_policy
    elif request.endpoint not in STATIC_ENDPOINTS:
        # Pages and API answers carry personal data: never keep them in a cache.
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
    app.url_defaults(_version_static_links)
