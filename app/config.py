"""Settings from the environment, validated once in the app factory (INTERFACES.md §6)."""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MODES = ("production", "demo", "testing")
JURISDICTIONS = ("shanxi",)
DEMO_SECRET = "daojiao-demo-not-secret"  # noqa: S105 - demo/testing only; production requires SECRET_KEY

# Production secrets (SECRET_KEY, METRICS_TOKEN): at least this long and this unpredictable, and
# free of the words that example and placeholder values are made of (.env.example ships
# "change-me"; the demo's key says "not-secret"). A random value never contains such a word.
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128
PLACEHOLDER_WORDS = (
    "change",
    "secret",
    "replace",
    "example",
    "placeholder",
    "password",
    "daojiao-demo",
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _flag(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int(name: str, raw: Any, *, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def estimated_bits(value: str) -> float:
    """Length × Shannon entropy per character: what the value's own characters say about how
    unpredictable it is. Repeated characters count for nothing (`"k" * 40` is 0 bits);
    `secrets.token_urlsafe(48)` scores about 330, `token_urlsafe(32)` at least 180."""
    length = len(value)
    return sum(count * math.log2(length / count) for count in Counter(value).values())


def _check_secret(name: str, value: str, generate: str) -> None:
    """Refuse a production secret that is short, a placeholder or too predictable."""
    how = f'generate one with `python -c "import secrets; print(secrets.{generate})"`'
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{name} must be at least {MIN_SECRET_LENGTH} characters long: {how}")
    lowered = value.lower()
    word = next((word for word in PLACEHOLDER_WORDS if word in lowered), None)
    if word:
        raise ConfigError(f"{name} looks like a placeholder (it contains {word!r}): {how}")
    bits = estimated_bits(value)
    if bits < MIN_SECRET_BITS:
        raise ConfigError(
            f"{name} is too predictable: about {bits:.0f} bits estimated (length × Shannon "
            f"entropy of its characters), at least {MIN_SECRET_BITS} needed: {how}"
        )


def load_settings(instance_path: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read settings from the environment, apply overrides, validate and fill embedded defaults."""
    env = {key: value for key, value in os.environ.items() if value != ""}
    raw: dict[str, Any] = {**env, **(overrides or {})}
    mode = str(raw.get("DAOJIAO_MODE", "production")).strip().lower()
    if mode not in MODES:
        raise ConfigError(f"DAOJIAO_MODE must be one of {', '.join(MODES)}, not {mode!r}")

    settings: dict[str, Any] = {"DAOJIAO_MODE": mode, "TESTING": mode == "testing"}

    secret = raw.get("SECRET_KEY")
    if not secret:
        if mode == "production":
            raise ConfigError(
                "SECRET_KEY is required in production: generate one with "
                '`python -c "import secrets; print(secrets.token_urlsafe(48))"`, '
                "or run `daojiao demo` for the embedded demo"
            )
        secret = DEMO_SECRET
    elif mode == "production":
        _check_secret("SECRET_KEY", str(secret), "token_urlsafe(48)")
    settings["SECRET_KEY"] = str(secret)

    database_url = raw.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'daojiao.sqlite3'}"
    if not re.match(r"^(postgresql\+psycopg|sqlite)://", str(database_url)):
        raise ConfigError(
            "DATABASE_URL must start with postgresql+psycopg:// (PostgreSQL) or sqlite:/// "
            f"(embedded), not {str(database_url).split('://')[0]!r}"
        )
    settings["DATABASE_URL"] = str(database_url)

    redis_url = raw.get("REDIS_URL")
    if redis_url and not re.match(r"^(redis|rediss|unix)://", str(redis_url)):
        raise ConfigError(f"REDIS_URL must start with redis:// or rediss://, not {redis_url!r}")
    settings["REDIS_URL"] = redis_url or None

    endpoint = raw.get("S3_ENDPOINT")
    if endpoint:
        if not re.match(r"^[A-Za-z0-9.\-]+:\d{1,5}$", str(endpoint)):
            raise ConfigError(f"S3_ENDPOINT must be host:port (no scheme), not {endpoint!r}")
        for name in ("S3_ACCESS_KEY", "S3_SECRET_KEY"):
            if not raw.get(name):
                raise ConfigError(f"{name} is required when S3_ENDPOINT is set")
    settings["S3_ENDPOINT"] = endpoint or None
    settings["S3_ACCESS_KEY"] = raw.get("S3_ACCESS_KEY")
    settings["S3_SECRET_KEY"] = raw.get("S3_SECRET_KEY")
    bucket = str(raw.get("S3_BUCKET", "daojiao"))
    if not re.match(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$", bucket):
        raise ConfigError(
            f"S3_BUCKET must be 3-63 lower-case letters, digits, '.' or '-', not {bucket!r}"
        )
    settings["S3_BUCKET"] = bucket
    settings["S3_REGION"] = raw.get("S3_REGION")
    settings["S3_SECURE"] = _flag("S3_SECURE", raw.get("S3_SECURE", False))
    settings["OBJECT_STORE_PATH"] = str(
        raw.get("OBJECT_STORE_PATH") or Path(instance_path) / "objects"
    )
    # Objects no row refers to are quarantined once older than this: far longer than any
    # transaction that puts an object and then commits the row naming it.
    settings["ORPHAN_GRACE_HOURS"] = _int(
        "ORPHAN_GRACE_HOURS", raw.get("ORPHAN_GRACE_HOURS", 24), minimum=1
    )

    jurisdiction = str(raw.get("DAOJIAO_JURISDICTION", "shanxi")).strip().lower()
    if jurisdiction not in JURISDICTIONS:
        raise ConfigError(
            f"DAOJIAO_JURISDICTION must be one of {', '.join(JURISDICTIONS)}, not {jurisdiction!r}"
        )
    settings["DAOJIAO_JURISDICTION"] = jurisdiction

    font = raw.get("DAOJIAO_CJK_FONT")
    if font and not Path(str(font)).is_file():
        raise ConfigError(f"DAOJIAO_CJK_FONT points to {font!r}, which is not a file")
    settings["DAOJIAO_CJK_FONT"] = font or "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

    # The Ed25519 key that signs litigation filing packages (PEM, PKCS#8); created in the
    # instance folder on first use when unset. Production should mount a persistent file.
    settings["DAOJIAO_SIGNING_KEY"] = str(
        raw.get("DAOJIAO_SIGNING_KEY") or Path(instance_path) / "signing-key.pem"
    )

    insecure_ok = mode != "production"
    settings["SESSION_COOKIE_SECURE"] = _flag(
        "SESSION_COOKIE_SECURE", raw.get("SESSION_COOKIE_SECURE", not insecure_ok)
    )
    settings["DAOJIAO_TRUSTED_PROXIES"] = _int(
        "DAOJIAO_TRUSTED_PROXIES", raw.get("DAOJIAO_TRUSTED_PROXIES", 0)
    )
    # Strict-Transport-Security max-age on every response (0: not sent). Browsers that saw it
    # use HTTPS only for that long; 31536000 (a year) once HTTPS works, set on the TLS proxy too.
    settings["HSTS_SECONDS"] = _int("HSTS_SECONDS", raw.get("HSTS_SECONDS", 0))
    # An insurer payment (交强险条例 art. 29) joins the regulator's late list once more than
    # this many days past its due date; 0: any payment past its legal due date.
    settings["REFERRAL_OVERDUE_DAYS"] = _int(
        "REFERRAL_OVERDUE_DAYS", raw.get("REFERRAL_OVERDUE_DAYS", 0)
    )
    # The bearer token Prometheus sends for GET /metrics; unset, only platform admins read it.
    metrics_token = raw.get("METRICS_TOKEN")
    if metrics_token and mode == "production":
        _check_secret("METRICS_TOKEN", str(metrics_token), "token_urlsafe(32)")
    settings["METRICS_TOKEN"] = str(metrics_token) if metrics_token else None
    settings["SESSION_IDLE_MINUTES"] = _int(
        "SESSION_IDLE_MINUTES", raw.get("SESSION_IDLE_MINUTES", 480), minimum=5
    )
    settings["API_TOKEN_HOURS"] = _int("API_TOKEN_HOURS", raw.get("API_TOKEN_HOURS", 12), minimum=1)
    settings["JOB_LEASE_SECONDS"] = _int(
        "JOB_LEASE_SECONDS", raw.get("JOB_LEASE_SECONDS", 900), minimum=1
    )
    settings["JOB_SWEEP_SECONDS"] = _int(
        "JOB_SWEEP_SECONDS", raw.get("JOB_SWEEP_SECONDS", 30), minimum=1
    )
    # Workers move the audit chain's checkpoint on this often (0: never; cron does it instead).
    settings["AUDIT_VERIFY_SECONDS"] = _int(
        "AUDIT_VERIFY_SECONDS", raw.get("AUDIT_VERIFY_SECONDS", 300), minimum=0
    )
    settings["JOB_MAX_ATTEMPTS"] = _int(
        "JOB_MAX_ATTEMPTS", raw.get("JOB_MAX_ATTEMPTS", 4), minimum=1
    )
    # A worker renews its heartbeat this often; one silent this long is dead and its running
    # jobs are reclaimed (without waiting for JOB_LEASE_SECONDS).
    settings["WORKER_HEARTBEAT_SECONDS"] = _int(
        "WORKER_HEARTBEAT_SECONDS", raw.get("WORKER_HEARTBEAT_SECONDS", 15), minimum=1
    )
    settings["WORKER_DEAD_SECONDS"] = _int(
        "WORKER_DEAD_SECONDS",
        raw.get("WORKER_DEAD_SECONDS", 60),
        minimum=2 * settings["WORKER_HEARTBEAT_SECONDS"],
    )
    extra = raw.get("DAOJIAO_JOB_MODULES", "")
    if isinstance(extra, str):
        extra = [name.strip() for name in extra.split(",") if name.strip()]
    settings["DAOJIAO_JOB_MODULES"] = list(extra)
    settings["MAX_CONTENT_LENGTH"] = _int(
        "MAX_CONTENT_LENGTH", raw.get("MAX_CONTENT_LENGTH", 64 * 1024 * 1024), minimum=1024
    )
    # Keys that only tests or embedders pass through overrides (e.g. WTF_CSRF_ENABLED).
    for key, value in (overrides or {}).items():
        settings.setdefault(key, value)
    return settings
