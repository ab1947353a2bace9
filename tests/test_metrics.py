"""Prometheus metrics: who may scrape, request counts by endpoint, the job backlog, Redis down,
gunicorn's workers added up (multiprocess mode) and the monitoring profile of the deployment."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from app import jobs
from app.config import ConfigError, load_settings
from app.db import session, utcnow
from app.models import JobStatus, OrgKind
from tests.factories import login, make_org, make_user
from tests.support import servers

REPO = Path(__file__).resolve().parent.parent
TOKEN = "scraper-token-for-the-tests-0123456789"  # noqa: S105 - test value
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def _session_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """The test app of this module: conftest's settings plus the scraper's token."""
    flask_app = make_app(METRICS_TOKEN=TOKEN)
    yield flask_app
    flask_app.extensions["daojiao.db"].engine.dispose()


def scrape(client: FlaskClient, headers: dict[str, str] | None = None) -> Samples:
    """GET /metrics (as the scraper unless `headers` say otherwise), parsed as Prometheus does."""
    response = client.get("/metrics", headers=SCRAPER if headers is None else headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return parse(response.get_data(as_text=True))


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 for a series not (yet) exported."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for sample_name, labels in samples if sample_name == name]


HEALTH = {"endpoint": "main.health", "method": "GET", "status_class": "2xx"}


# -- who may read them --------------------------------------------------------------------------


def test_metrics_do_not_exist_for_anonymous_callers(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": TOKEN}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 404
        assert "daojiao_" not in response.get_data(as_text=True)


def test_metrics_are_never_served_without_a_configured_token(
    make_app: Callable[..., Flask],
) -> None:
    flask_app = make_app()  # no METRICS_TOKEN: an empty bearer must not match it
    try:
        client = flask_app.test_client()
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
        assert client.get("/metrics").status_code == 404
    finally:
        flask_app.extensions["daojiao.db"].engine.dispose()


def test_platform_admin_session_may_read_the_metrics(app: Flask, client: FlaskClient) -> None:
    login(client, make_user(make_org(OrgKind.PLATFORM)))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "daojiao_jobs" in response.get_data(as_text=True)


def test_police_session_is_told_the_metrics_do_not_exist(app: Flask, client: FlaskClient) -> None:
    login(client, make_user(make_org(OrgKind.POLICE)))
    response = client.get("/metrics")
    assert response.status_code == 404
    assert "daojiao_" not in response.get_data(as_text=True)


def test_production_refuses_a_short_metrics_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    settings = {"DAOJIAO_MODE": "production", "SECRET_KEY": secrets.token_urlsafe(48)}
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        load_settings(str(tmp_path), {**settings, "METRICS_TOKEN": "change-me"})
    assert load_settings(str(tmp_path), settings)["METRICS_TOKEN"] is None
    configured = load_settings(str(tmp_path), {**settings, "METRICS_TOKEN": TOKEN})
    assert configured["METRICS_TOKEN"] == TOKEN


# -- requests -----------------------------------------------------------------------------------


def test_requests_are_counted_and_timed_by_endpoint_method_and_status_class(
    client: FlaskClient,
) -> None:
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page/42").status_code == 404
    after = scrape(client)

    counted = "daojiao_http_requests_total"
    timed = "daojiao_http_request_duration_seconds_count"
    assert value(after, counted, **HEALTH) == value(before, counted, **HEALTH) + 1
    assert value(after, timed, **HEALTH) == value(before, timed, **HEALTH) + 1
    # A path without a route is one series, whatever the path: the label set stays bounded.
    unmatched = {"endpoint": "unmatched", "method": "GET", "status_class": "4xx"}
    assert value(after, counted, **unmatched) == value(before, counted, **unmatched) + 1
    endpoints = {labels["endpoint"] for labels in series(after, counted)}
    assert not any(endpoint.startswith("/") for endpoint in endpoints)
    assert "metrics.scrape" not in endpoints  # the scrapes do not count themselves


def test_made_up_methods_share_one_label(client: FlaskClient) -> None:
    before = scrape(client)
    client.open("/healthz", method="BREW")
    after = scrape(client)
    other = {"endpoint": "unmatched", "method": "other", "status_class": "4xx"}
    name = "daojiao_http_requests_total"
    assert value(after, name, **other) == value(before, name, **other) + 1
    assert "BREW" not in {labels["method"] for labels in series(after, name)}


# -- jobs and queues ----------------------------------------------------------------------------


def test_job_gauges_follow_a_scheduled_job_through_its_run(app: Flask, client: FlaskClient) -> None:
    kind = "test.slow_effect"
    before = scrape(client)
    job = jobs.schedule(kind, subject_id=1)
    job.created_at = utcnow() - timedelta(hours=1)  # waiting for an hour already
    session.flush()

    queued = scrape(client)
    assert value(queued, "daojiao_jobs", status="queued", kind=kind) == (
        value(before, "daojiao_jobs", status="queued", kind=kind) + 1
    )
    assert value(queued, "daojiao_jobs_oldest_queued_age_seconds") >= 3600
    # Every registered kind has a series in every status, zeros included.
    unreadable = [
        labels for labels in series(queued, "daojiao_jobs") if labels["kind"] == "test.unreadable"
    ]
    assert {labels["status"] for labels in unreadable} == {status.value for status in JobStatus}
    assert value(queued, "daojiao_up", service="database") == 1

    session.commit()  # the unit of work ends: without Redis the job runs in this process
    done = scrape(client)
    assert value(done, "daojiao_jobs", status="queued", kind=kind) == (
        value(before, "daojiao_jobs", status="queued", kind=kind)
    )
    assert value(done, "daojiao_jobs", status="succeeded", kind=kind) == (
        value(before, "daojiao_jobs", status="succeeded", kind=kind) + 1
    )
    assert value(done, "daojiao_job_run_seconds", kind=kind, stat="count") >= 1
    assert value(done, "daojiao_job_run_seconds", kind=kind, stat="max") >= value(
        done, "daojiao_job_run_seconds", kind=kind, stat="avg"
    )
    # In-process jobs: there is no Redis to report on.
    assert not series(done, "daojiao_rq_queue_length")
    assert {"service": "redis"} not in series(done, "daojiao_up")


@pytest.mark.redis
def test_queue_lengths_are_read_from_redis(make_app: Callable[..., Flask], redis_url: str) -> None:
    flask_app = make_app(REDIS_URL=redis_url, METRICS_TOKEN=TOKEN)
    try:
        with flask_app.app_context():
            jobs.dispatcher().queue("parse").enqueue_call(
                "workers.tasks.run_job", args=[0], job_id="metrics-test"
            )
        samples = scrape(flask_app.test_client())
    finally:
        flask_app.extensions["daojiao.db"].engine.dispose()
    assert value(samples, "daojiao_up", service="redis") == 1
    assert value(samples, "daojiao_rq_queue_length", queue="parse") == 1
    queues = {labels["queue"] for labels in series(samples, "daojiao_rq_queue_length")}
    assert queues == set(jobs.queues())


def test_a_scrape_answers_while_redis_is_down(make_app: Callable[..., Flask]) -> None:
    closed = f"redis://127.0.0.1:{servers.free_port()}/0"  # nothing listens there
    flask_app = make_app(REDIS_URL=closed, METRICS_TOKEN=TOKEN)
    try:
        response = flask_app.test_client().get("/metrics", headers=SCRAPER)
    finally:
        flask_app.extensions["daojiao.db"].engine.dispose()
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'daojiao_up{service="redis"} 0.0' in text.splitlines()
    samples = parse(text)
    assert value(samples, "daojiao_up", service="database") == 1
    assert not series(samples, "daojiao_rq_queue_length")
    assert series(samples, "daojiao_jobs")  # the database's figures are still there


# -- gunicorn: several worker processes, one sum ------------------------------------------------


@pytest.fixture
def gunicorn_server(app_settings: dict[str, Any], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn as the image runs it (gunicorn.conf.py), two workers each replaced after five
    requests, metrics in a fresh multiprocess directory; yields its URL and that directory."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    stale = directory / "counter_1.db"  # left by an earlier run: gunicorn must drop it
    stale.write_bytes(b"\0" * 8)
    port = servers.free_port()
    env = {
        **{key: val for key, val in os.environ.items() if key != "REDIS_URL"},  # in-process jobs
        "DAOJIAO_MODE": "testing",
        "DATABASE_URL": app_settings["DATABASE_URL"],
        "S3_ENDPOINT": app_settings["S3_ENDPOINT"],
        "S3_ACCESS_KEY": app_settings["S3_ACCESS_KEY"],
        "S3_SECRET_KEY": app_settings["S3_SECRET_KEY"],
        "S3_BUCKET": app_settings["S3_BUCKET"],
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    log = tmp_path / "gunicorn.log"
    options = f"--bind 127.0.0.1:{port} --workers 2 --max-requests 5 wsgi:app"
    argv = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", *options.split()]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not _answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield url, directory
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _answers(url: str) -> bool:
    try:
        requests.get(f"{url}/lang/en", timeout=5, allow_redirects=False).close()
    except requests.ConnectionError:
        return False
    return True


@pytest.mark.slow
def test_gunicorn_workers_requests_are_added_up_in_one_scrape(
    gunicorn_server: tuple[str, Path],
) -> None:
    url, directory = gunicorn_server
    for _ in range(12):
        assert requests.get(f"{url}/healthz", timeout=30).status_code == 200
    response = requests.get(f"{url}/metrics", headers=SCRAPER, timeout=30)
    assert response.status_code == 200
    samples = parse(response.text)

    writers = {
        int(re.search(r"_(\d+)\.db$", path.name).group(1)) for path in directory.glob("*.db")
    }
    assert len(writers) >= 3  # each worker served at most five requests before it was replaced
    assert 1 not in writers  # the stale file of an earlier run was removed at start
    assert value(samples, "daojiao_http_requests_total", **HEALTH) == 12
    assert value(samples, "daojiao_http_request_duration_seconds_count", **HEALTH) == 12
    assert value(samples, "daojiao_up", service="database") == 1


# -- deployment: the monitoring profile ---------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with (REPO / "docker-compose.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_prometheus_runs_only_in_the_monitoring_profile_with_a_pinned_image(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    prometheus = services["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", prometheus["image"])
    others = {name for name, service in services.items() if "profiles" in service}
    assert others == {"prometheus", "grafana"}, "the rest of the stack starts without a profile"
    # Its UI has no login: reachable from this host only.
    assert all(str(port).startswith("127.0.0.1:") for port in prometheus["ports"])


def test_grafana_shows_the_dashboard_over_prometheus(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    assert grafana["profiles"] == ["monitoring"]
    assert re.fullmatch(r"grafana/grafana-oss:\d+\.\d+\.\d+", grafana["image"])
    assert all(str(port).startswith("127.0.0.1:") for port in grafana["ports"])
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == "${GRAFANA_ADMIN_PASSWORD:-}"
    assert "exit 1" in " ".join(grafana["command"])  # no password, no Grafana
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"]}
    provisioning = REPO / mounts["/etc/grafana/provisioning"].removeprefix("./")
    (source,) = yaml.safe_load(
        (provisioning / "datasources" / "prometheus.yml").read_text(encoding="utf-8")
    )["datasources"]
    assert source["url"] == "http://prometheus:9090"
    dashboards = REPO / mounts["/var/lib/grafana/dashboards"].removeprefix("./")
    board = json.loads((dashboards / "daojiao.json").read_text(encoding="utf-8"))
    queries = " ".join(target["expr"] for panel in board["panels"] for target in panel["targets"])
    # Every metric the app exports is on the dashboard, under the name it is exported by.
    for name in (
        "daojiao_http_requests_total",
        "daojiao_http_request_duration_seconds_bucket",
        "daojiao_rq_queue_length",
        "daojiao_jobs_oldest_queued_age_seconds",
        "daojiao_job_run_seconds",
        "daojiao_jobs{",
        "daojiao_up",
    ):
        assert name in queries
    assert {panel["datasource"]["uid"] for panel in board["panels"]} == {source["uid"]}


def test_prometheus_scrapes_web_metrics_with_the_token_from_env(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    assert prometheus["environment"]["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in prometheus["volumes"]}
    assert mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus.yml"
    script = " ".join(prometheus["entrypoint"] + prometheus["command"])
    assert "--config.file=/etc/prometheus/prometheus.yml" in script

    config = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    # The entrypoint writes the token where the scrape reads it, on a tmpfs of its own.
    token_file = job["authorization"]["credentials_file"]
    assert f"> {token_file}" in script
    assert str(Path(token_file).parent) in prometheus["tmpfs"]
    targets = [(sd["names"], sd["port"]) for sd in job["dns_sd_configs"]]
    assert targets == [(["web"], 8000)]


def test_web_writes_multiprocess_metrics_to_a_tmpfs(compose: dict[str, Any]) -> None:
    web = compose["services"]["web"]
    directory = web["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert directory in web["tmpfs"]
    assert web["environment"]["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    (cmd,) = re.findall(r"^CMD (.*)$", dockerfile, flags=re.MULTILINE)
    argv = json.loads(cmd)
    assert argv[argv.index("--config") + 1] == "gunicorn.conf.py"
    assert (REPO / "gunicorn.conf.py").is_file()


def test_env_example_explains_the_metrics_token() -> None:
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    index = lines.index("METRICS_TOKEN=")
    assert lines[index - 1].startswith("#")
