"""Request plumbing shared by portal and API: proxies, CSRF, Bootstrap, headers, origin."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from app import audit

csrf = CSRFProtect()

# Everything is served by the app itself (intranets have no internet): no CDN, no inline code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-src 'self'; "
    "frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if not request.path.startswith("/static/"):
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
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    csrf.init_app(app)
    Bootstrap5(app)
    app.before_request(_remember_origin)
    app.after_request(_security_headers)
