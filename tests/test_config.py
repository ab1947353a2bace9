"""Settings: validated at start-up with clear errors, embedded defaults when unset."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from app.config import DEMO_SECRET, ConfigError, estimated_bits, load_settings

STRONG = secrets.token_urlsafe(48)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "S3_ENDPOINT",
        "S3_ACCESS_KEY",
        "S3_SECRET_KEY",
        "S3_SECURE",
        "DAOJIAO_MODE",
        "DAOJIAO_JURISDICTION",
        "DAOJIAO_CJK_FONT",
        "SESSION_COOKIE_SECURE",
        "JOB_LEASE_SECONDS",
        "METRICS_TOKEN",
        "HSTS_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_embedded_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    settings = load_settings(str(tmp_path), {"DAOJIAO_MODE": "demo"})
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'daojiao.sqlite3'}"
    assert settings["S3_ENDPOINT"] is None
    assert settings["OBJECT_STORE_PATH"] == str(tmp_path / "objects")
    assert settings["REDIS_URL"] is None
    assert settings["DAOJIAO_JURISDICTION"] == "shanxi"
    assert settings["SESSION_COOKIE_SECURE"] is False


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        load_settings(str(tmp_path), {})


def test_production_refuses_a_short_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings(str(tmp_path), {"SECRET_KEY": "change-me"})


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        # .env.example's placeholder, lengthened past 32 characters
        ("change-me-change-me-change-me-change-me", "placeholder"),
        ("ChangeMe_2026-q8Xr1LpZ7vT0mKs9BnWd", "placeholder"),
        ("your-secret-key-here-0123456789abcdef", "placeholder"),
        ("please-replace-with-a-long-random-value!", "placeholder"),
        # the demo's own key, long enough once doubled
        (DEMO_SECRET * 2, "placeholder"),
        ("k" * 40, "too predictable"),
        ("ab" * 20, "too predictable"),
        ("0123401234012340123401234012340123401234", "too predictable"),
    ],
)
def test_production_refuses_a_placeholder_or_predictable_secret_key(
    tmp_path: Path, secret: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        load_settings(str(tmp_path), {"SECRET_KEY": secret})
    assert "secrets.token_urlsafe(48)" in str(refused.value)  # says how to make a good one


@pytest.mark.parametrize(
    "token",
    ["m" * 40, "metrics-token-change-me-0123456789abcdef", "0101010101010101010101010101010101"],
)
def test_production_refuses_a_weak_metrics_token(tmp_path: Path, token: str) -> None:
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        load_settings(str(tmp_path), {"SECRET_KEY": STRONG, "METRICS_TOKEN": token})


def test_generated_secrets_are_accepted(tmp_path: Path) -> None:
    for _ in range(200):  # token_urlsafe(32), the shortest we suggest, always scores > 128 bits
        token = secrets.token_urlsafe(32)
        settings = load_settings(
            str(tmp_path), {"SECRET_KEY": secrets.token_urlsafe(48), "METRICS_TOKEN": token}
        )
        assert settings["METRICS_TOKEN"] == token
    assert estimated_bits("k" * 40) == 0
    assert estimated_bits("ab" * 20) == 40


def test_demo_and_testing_keep_their_fixed_secret(tmp_path: Path) -> None:
    for mode in ("demo", "testing"):
        assert load_settings(str(tmp_path), {"DAOJIAO_MODE": mode})["SECRET_KEY"] == DEMO_SECRET


def test_hsts_is_off_unless_set(tmp_path: Path) -> None:
    assert load_settings(str(tmp_path), {"DAOJIAO_MODE": "demo"})["HSTS_SECONDS"] == 0
    settings = load_settings(str(tmp_path), {"DAOJIAO_MODE": "demo", "HSTS_SECONDS": "31536000"})
    assert settings["HSTS_SECONDS"] == 31536000
    with pytest.raises(ConfigError, match="HSTS_SECONDS must be a whole number"):
        load_settings(str(tmp_path), {"DAOJIAO_MODE": "demo", "HSTS_SECONDS": "a year"})


def test_strict_transport_security_header_follows_the_setting(
    make_app: Callable[..., Flask],
) -> None:
    plain = make_app()
    assert "Strict-Transport-Security" not in plain.test_client().get("/healthz").headers
    plain.extensions["daojiao.db"].engine.dispose()
    hsts = make_app(HSTS_SECONDS=31536000)
    for path in ("/healthz", "/login", "/api/v1/openapi.json"):
        response = hsts.test_client().get(path)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path
    hsts.extensions["daojiao.db"].engine.dispose()


def test_production_cookies_are_secure_by_default(tmp_path: Path) -> None:
    settings = load_settings(str(tmp_path), {"SECRET_KEY": STRONG})
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_environment_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("S3_ENDPOINT", "minio:9000")
    monkeypatch.setenv("S3_ACCESS_KEY", "a")
    monkeypatch.setenv("S3_SECRET_KEY", "b")
    monkeypatch.setenv("S3_SECURE", "true")
    settings = load_settings(str(tmp_path))
    assert settings["REDIS_URL"] == "redis://redis:6379/0"
    assert settings["S3_ENDPOINT"] == "minio:9000"
    assert settings["S3_SECURE"] is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL must start with"),
        ({"DATABASE_URL": "postgresql://db/x"}, "postgresql\\+psycopg"),
        ({"REDIS_URL": "http://redis"}, "REDIS_URL must start with"),
        ({"S3_ENDPOINT": "http://minio:9000"}, "host:port"),
        ({"S3_ENDPOINT": "minio:9000"}, "S3_ACCESS_KEY is required"),
        ({"S3_SECURE": "perhaps"}, "S3_SECURE must be true or false"),
        ({"S3_BUCKET": "Evidence_2026"}, "S3_BUCKET must be 3-63"),
        ({"DAOJIAO_JURISDICTION": "atlantis"}, "DAOJIAO_JURISDICTION must be one of"),
        ({"DAOJIAO_CJK_FONT": "/nonexistent/font.ttf"}, "not a file"),
        ({"DAOJIAO_MODE": "staging"}, "DAOJIAO_MODE must be one of"),
        ({"JOB_LEASE_SECONDS": "soon"}, "whole number"),
        ({"JOB_LEASE_SECONDS": "0"}, "at least 1"),
    ],
)
def test_bad_settings_fail_with_a_message_naming_the_setting(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(str(tmp_path), {"DAOJIAO_MODE": "demo", **overrides})


def test_create_app_reports_bad_settings_before_doing_anything(tmp_path: Path) -> None:
    from app import create_app

    with pytest.raises(ConfigError):
        create_app({"DAOJIAO_MODE": "demo", "DATABASE_URL": "oracle://x"})
