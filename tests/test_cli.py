"""The `daojiao` command: its help, and the demo served end to end on SQLite."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import servers

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # every test runs the CLI in a process of its own


def daojiao(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        cwd=REPO,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_every_command() -> None:
    result = daojiao("--help")
    assert result.returncode == 0, result.stderr
    for command in ("demo", "db", "worker", "users", "audit", "jobs", "routes", "shell"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command


def test_production_start_without_secret_key_fails_with_a_clear_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DAOJIAO_MODE")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = daojiao("db", "upgrade", env=env)
    assert result.returncode == 2
    assert "SECRET_KEY is required" in result.stderr


def test_db_upgrade_migrates_a_sqlite_database(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'up.sqlite3'}",
    }
    result = daojiao("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    from app import migrate

    assert f"database at revision {migrate.head_revisions()[0]}" in result.stdout


def test_demo_sample_writes_a_letter_to_upload_and_the_readme_says_how(tmp_path: Path) -> None:
    target = tmp_path / "认定书.pdf"
    result = daojiao("demo", "--sample", str(target))
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    assert target.read_bytes().startswith(b"%PDF")
    quick_start = (REPO / "README.md").read_text(encoding="utf-8").split("\n---\n")[0]
    for told in ("--port", "--sample", "DJ-DEMO-0001", "DJ-DEMO-0002"):
        assert told in quick_start, told


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    port = servers.free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "OBJECT_STORE_PATH": str(tmp_path / "objects"),
    }
    env.pop("REDIS_URL", None)
    env.pop("S3_ENDPOINT", None)
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "demo", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/healthz", timeout=1).close()
                break
            except requests.ConnectionError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        output = log.read_text()
        for username in (
            "police1",
            "adjuster_picc",
            "adjuster_pingan",
            "mediator1",
            "judge1",
            "admin",
        ):
            assert username in output


def test_demo_serves_a_chinese_login_and_police1_sees_the_demo_cases(demo_server: str) -> None:
    with requests.Session() as browser:
        login = browser.get(f"{demo_server}/login", timeout=10)
        assert '<html lang="zh-CN">' in login.text
        assert "登录" in login.text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.text).group(1)
        response = browser.post(
            f"{demo_server}/login",
            data={"csrf_token": token, "username": "police1", "password": "daojiao-demo"},
            timeout=10,
        )
        assert response.url == f"{demo_server}/"
        assert "吕梁市公安局交通警察支队离石大队" in response.text
        cases = browser.get(f"{demo_server}/cases/", timeout=10)
        assert "DJ-DEMO-0001" in cases.text
        assert "DJ-DEMO-0002" in cases.text


def test_the_demo_has_an_assessed_case_for_the_mediator(demo_server: str) -> None:
    with requests.Session() as browser:
        api = f"{demo_server}/api/v1"
        token = browser.post(
            f"{api}/tokens", timeout=10, json={"username": "mediator1", "password": "daojiao-demo"}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        cases = browser.get(f"{api}/cases", headers=headers, timeout=10).json()["items"]
        assessed = next(case for case in cases if case["number"] == "DJ-DEMO-0002")
        assert assessed["status"] == "negotiating"
        result = browser.get(
            f"{api}/cases/{assessed['id']}/assessment", headers=headers, timeout=10
        ).json()
        items = {item["code"]: item["amount"] for item in result["victims"][0]["items"]}
        assert items["disability_compensation"] == "82654.00"  # 41327 × 20 × 10 %


def test_demo_reads_an_uploaded_report_in_process_on_sqlite(demo_server: str) -> None:
    from tests.reports.generator import make_report

    data, truth = make_report("general_table", seed=5)
    with requests.Session() as browser:
        api = f"{demo_server}/api/v1"
        token = browser.post(
            f"{api}/tokens", timeout=10, json={"username": "police1", "password": "daojiao-demo"}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = browser.post(
            f"{api}/cases",
            headers=headers,
            timeout=60,
            files={"report": ("认定书.pdf", data, "application/pdf")},
        )
        assert created.status_code == 202, created.text
        case = browser.get(
            f"{api}/cases/{created.json()['id']}", headers=headers, timeout=10
        ).json()
    assert [job["status"] for job in case["jobs"]] == ["succeeded", "succeeded"]
    assert case["report"]["document_no"] == truth["document_no"]
