"""Settings: validated at start-up with clear errors, embedded defaults when unset."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, load_settings


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


def test_production_cookies_are_secure_by_default(tmp_path: Path) -> None:
    settings = load_settings(str(tmp_path), {"SECRET_KEY": "x" * 40})
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_environment_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
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
