"""`daojiao assess` (INTERFACES.md §1, §3): the installed command, its output and exit codes."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.compensation import assess
from tests.test_compensation import EXAMPLE

REPO = Path(__file__).resolve().parent.parent
# The console script installed beside this interpreter (the project's virtualenv).
DAOJIAO = Path(sys.executable).parent / "daojiao"
pytestmark = pytest.mark.slow  # every test runs `daojiao assess` in a process of its own


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Testing mode against a database that does not exist: the packaged standards."""
    settings = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "S3_ENDPOINT", "DAOJIAO_JURISDICTION")
    }
    settings["DAOJIAO_MODE"] = "testing"
    settings["DATABASE_URL"] = f"sqlite:///{tmp_path / 'absent' / 'none.sqlite3'}"
    return settings


def run(
    env: dict[str, str], *args: str, stdin: str | bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    assert DAOJIAO.exists(), f"{DAOJIAO} is not installed (pip install -e .)"
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    return subprocess.run(
        [str(DAOJIAO), "assess", *args],
        cwd=REPO,
        env=env,
        input=data,
        capture_output=True,
        timeout=120,
    )


def output(result: subprocess.CompletedProcess[bytes]) -> Any:
    return json.loads(result.stdout.decode("utf-8"))


@pytest.fixture
def example_file(tmp_path: Path) -> Path:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(EXAMPLE, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_example_is_assessed(env: dict[str, str], example_file: Path) -> None:
    result = run(env, str(example_file))
    assert result.returncode == 0, result.stderr.decode()
    body = output(result)
    # The §3 output, the same as the engine's on the packaged standards.
    assert body == assess(copy.deepcopy(EXAMPLE))
    assert set(body) >= {"rule_set", "victims", "payments", "totals"}
    assert body["rule_set"]["ctpi_limits_from"] == "2020-09-19"
    assert body["rule_set"]["income_standard"] == "urban"
    assert body["rule_set"]["fingerprint"].startswith("sha256:")
    (victim,) = body["victims"]
    assert victim["id"] == "v1"
    assert victim["total"] == "118430.45"
    medical = victim["items"][0]
    assert medical == {
        "code": "medical",
        "label": "医疗费",
        "amount": "5026.49",
        "bucket": "medical",
        "formula": "5026.49",
        "basis": "人损解释第六条",
    }
    assert sum(
        int(p["amount"].replace(".", "")) for p in body["payments"] if p["victim"] == "v1"
    ) == int(victim["total"].replace(".", ""))
    assert body["totals"] == {"ctpi:A": "117730.45", "commercial:A": "560.00", "self": "140.00"}
    # Chinese is printed as it is, not as \\u escapes.
    assert "医疗费" in result.stdout.decode("utf-8")


def test_an_unconfigured_machine_assesses_on_the_packaged_standards(
    env: dict[str, str], example_file: Path
) -> None:
    bare = {k: v for k, v in env.items() if k not in ("DAOJIAO_MODE", "SECRET_KEY")}
    for args in ([str(example_file)], ["--packaged", str(example_file)]):
        result = run(bare, *args)
        assert result.returncode == 0, result.stderr.decode()
        assert output(result) == assess(copy.deepcopy(EXAMPLE))


def test_packaged_standards_on_request(env: dict[str, str], example_file: Path) -> None:
    result = run(env, "--packaged", str(example_file))
    assert result.returncode == 0, result.stderr.decode()
    assert output(result)["rule_set"]["standards_origin"] == "packaged"


def test_a_dash_reads_stdin(env: dict[str, str]) -> None:
    result = run(env, "-", stdin=json.dumps(EXAMPLE, ensure_ascii=False))
    assert result.returncode == 0, result.stderr.decode()
    assert output(result)["victims"][0]["total"] == "118430.45"


def test_malformed_json_exits_3_with_invalid_input(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"accident_date": "2023-11-05",\n "victims": [', encoding="utf-8")
    result = run(env, str(path))
    assert result.returncode == 3
    error = output(result)["error"]
    assert error["code"] == "invalid_input"
    assert "第 2 行" in error["message"]


def test_malformed_json_on_stdin_exits_3(env: dict[str, str]) -> None:
    result = run(env, "-", stdin="not json")
    assert result.returncode == 3
    assert output(result)["error"]["code"] == "invalid_input"


def test_input_that_is_not_utf8_exits_3(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "gbk.json"
    path.write_bytes(json.dumps({"name": "王五"}, ensure_ascii=False).encode("gbk"))
    result = run(env, str(path))
    assert result.returncode == 3
    error = output(result)["error"]
    assert error["code"] == "invalid_input"
    assert "UTF-8" in error["message"]


def _death_on_the_2022_figures(data: dict[str, Any]) -> None:
    """A death assessed on the 2022 figures, which have no wage for the funeral."""
    data.update(standards_year=2022, standards={})
    data["victims"][0].update(outcome="death", disability_grades=[])


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            lambda d: d["victims"][0]["items"]["medical"].update(amount="five thousand"),
            "victims[0].items.medical.amount",
        ),
        (lambda d: d.pop("victims"), "victims"),
        (lambda d: d["victims"][0].update(party="Z"), "victims[0].party"),
        (
            lambda d: d["victims"][0]["items"].update(massage={"amount": "1"}),
            "victims[0].items.massage",
        ),
        (_death_on_the_2022_figures, "standards.annual_wage"),
    ],
)
def test_an_invalid_field_exits_3_naming_its_path(
    env: dict[str, str], tmp_path: Path, change: Any, path: str
) -> None:
    data = copy.deepcopy(EXAMPLE)
    change(data)
    file = tmp_path / "claims.json"
    file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run(env, str(file))
    assert result.returncode == 3, result.stdout.decode()
    body = output(result)
    assert list(body) == ["error"]
    assert body["error"]["code"] == "invalid_input"
    assert body["error"]["message"].startswith(path)


def test_a_missing_file_is_a_usage_error(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, str(tmp_path / "nowhere.json"))
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"nowhere.json" in result.stderr


def test_no_file_is_a_usage_error(env: dict[str, str]) -> None:
    result = run(env)
    assert result.returncode == 2
    assert b"FILE" in result.stderr
