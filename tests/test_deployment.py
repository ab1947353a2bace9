"""Consistency checks for the production deployment files.

No container engine runs in the test environment, so these tests read Dockerfile,
docker-compose.yml, .env.example and .dockerignore as text and check that they agree with
each other and with the application's contracts (INTERFACES.md §1 and §6).
"""

import json
import os
import re
import runpy
import shlex
from pathlib import Path, PurePosixPath

import pytest
import yaml

from storage import minio

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"

# prometheus and grafana: only with `--profile monitoring` (tests/test_metrics.py checks them).
SERVICES = {
    "postgres",
    "redis",
    "minio",
    "createbucket",
    "migrate",
    "web",
    "worker",
    "preview",
    "prometheus",
    "grafana",
}
APP_SERVICES = ("web", "worker", "preview", "migrate")
BACKING_SERVICES = ("postgres", "redis", "minio")
LONG_RUNNING = ("postgres", "redis", "minio", "web", "worker", "preview")
ONE_SHOT = ("createbucket", "migrate")

# Configuration every application container needs to reach its backing services.
APP_REQUIRED_ENV = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_BUCKET",
)
# INTERFACES.md §6 plus the deployment settings; all must be documented in .env.example.
DOCUMENTED_VARIABLES = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_BUCKET",
    "S3_SECURE",
    "DAOJIAO_JURISDICTION",
    "DAOJIAO_CJK_FONT",
    "SESSION_COOKIE_SECURE",
    "DAOJIAO_TRUSTED_PROXIES",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
)
PLACEHOLDER = "change-me"
CJK_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

# Service attributes of the Compose specification that this stack may use; a misspelt key
# (e.g. "depend_on") would otherwise be rejected only by `docker compose` on the server.
KNOWN_SERVICE_KEYS = {
    "build",
    "command",
    "container_name",
    "depends_on",
    "deploy",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "healthcheck",
    "image",
    "init",
    "labels",
    "logging",
    "networks",
    "ports",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "security_opt",
    "shm_size",
    "stop_grace_period",
    "stop_signal",
    "tmpfs",
    "user",
    "volumes",
    "working_dir",
}

VARIABLE_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


# --- helpers -------------------------------------------------------------------------------------


def _compose_text(node) -> str:
    """Every string in the parsed compose file (what Compose interpolates; comments are not),
    with Compose's "$$" escapes, literal dollars for the container's shell, dropped."""
    if isinstance(node, dict):
        return "\n".join(
            _compose_text(key) + "\n" + _compose_text(value) for key, value in node.items()
        )
    if isinstance(node, list):
        return "\n".join(_compose_text(item) for item in node)
    return node.replace("$$", "") if isinstance(node, str) else ""


def _env_example_raw() -> dict[str, str]:
    """Keys and unexpanded values of .env.example, in file order."""
    values: dict[str, str] = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = ENV_LINE.match(stripped)
        assert match, f".env.example line {number} is not KEY=VALUE: {line!r}"
        key, value = match.groups()
        assert key not in values, f".env.example defines {key} twice"
        values[key] = value.strip()
    return values


def _env_example_resolved() -> dict[str, str]:
    """.env.example with ${NAME} references expanded the way docker compose reads .env."""
    resolved: dict[str, str] = {}
    for key, value in _env_example_raw().items():
        for name in VARIABLE_REFERENCE.findall(value):
            assert name in resolved, f"{key} refers to ${{{name}}}, not defined above it"
        resolved[key] = re.sub(r"\$\{(\w+)\}", lambda m: resolved[m.group(1)], value)
    return resolved


def _environment_keys(service: dict) -> set[str]:
    """Names a service's containers get through `environment` (mapping or list) or env_file."""
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        keys = set(environment)
    else:
        keys = {item.split("=", 1)[0] for item in environment}
    env_files = service.get("env_file") or []
    for entry in [env_files] if isinstance(env_files, str | dict) else env_files:
        path = entry["path"] if isinstance(entry, dict) else entry
        # .env itself is not in the repository: its template is .env.example.
        assert PurePosixPath(path) == PurePosixPath(".env"), f"{path} has no template in the repo"
        keys |= set(_env_example_raw())
    return keys


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            instruction, _, arguments = full.partition(" ")
            instructions.append((instruction.upper(), arguments.strip()))
    assert not pending, "Dockerfile ends with a line continuation"
    return instructions


def _dockerfile(instruction: str) -> list[str]:
    return [args for name, args in _dockerfile_instructions() if name == instruction]


def _dockerignore_excludes(path: str) -> bool:
    """Whether the build context leaves out `path` (Docker's rules: last match wins, a matched
    directory takes its contents with it, `**` spans directories)."""
    excluded = False
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex += pattern[i : end + 1]
                i = end + 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            excluded = not negate
    return excluded


@pytest.fixture(scope="module")
def compose() -> dict:
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


# --- docker-compose.yml --------------------------------------------------------------------------


def test_compose_defines_the_whole_stack_without_obsolete_version_key(compose):
    assert "version" not in compose
    assert set(compose["services"]) == SERVICES


def test_compose_services_use_only_known_attributes(services):
    for name, service in services.items():
        unknown = set(service) - KNOWN_SERVICE_KEYS
        assert not unknown, f"{name} has unknown attributes {sorted(unknown)}"


def test_web_builds_the_local_dockerfile_and_other_app_services_reuse_its_image(services):
    web = services["web"]
    build = web["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE
    assert web["image"], "web must name its image so worker and migrate can run it"
    for name in ("worker", "preview", "migrate"):
        service = services[name]
        assert service["image"] == web["image"], f"{name} must run the image web builds"
        # A shared, locally built image must never be pulled from a registry instead.
        assert "build" in service or service.get("pull_policy") == "never", name


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_receive_the_configuration_they_need(services, name):
    missing = set(APP_REQUIRED_ENV) - _environment_keys(services[name])
    assert not missing, f"{name} lacks {sorted(missing)}"


def test_app_services_get_identical_configuration(services):
    environments = [services[name]["environment"] for name in APP_SERVICES]
    assert all(environment == environments[0] for environment in environments)


@pytest.mark.parametrize("name", BACKING_SERVICES)
def test_backing_services_have_healthchecks_and_declared_named_volumes(compose, name):
    service = compose["services"][name]
    healthcheck = service["healthcheck"]
    assert not healthcheck.get("disable")
    assert healthcheck["test"][0] in ("CMD", "CMD-SHELL")
    sources = [volume.split(":", 1)[0] for volume in service["volumes"]]
    assert sources, f"{name} keeps its data in no volume"
    declared = compose.get("volumes") or {}
    for source in sources:
        assert source in declared, f"{name} mounts {source}, not declared under top-level volumes"


def test_every_declared_volume_is_mounted(compose):
    mounted = {
        volume.split(":", 1)[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
    }
    assert set(compose["volumes"]) <= mounted


def test_postgres_healthcheck_uses_pg_isready(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_redis_keeps_an_append_only_file_and_answers_ping(services):
    redis = services["redis"]
    assert "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert "ping" in " ".join(redis["healthcheck"]["test"])


def test_web_healthcheck_probes_healthz_on_the_gunicorn_port(services):
    healthcheck = services["web"]["healthcheck"]
    assert not healthcheck.get("disable")
    assert "127.0.0.1:8000/healthz" in " ".join(healthcheck["test"])


def test_web_publishes_the_gunicorn_port(services):
    ports = services["web"]["ports"]
    assert len(ports) == 1
    assert str(ports[0]).endswith(":8000")


@pytest.mark.parametrize("name", ["worker", "preview"])
def test_workers_run_the_rq_worker_and_publish_nothing(services, name):
    worker = services[name]
    assert worker["command"][:2] == ["daojiao", "worker"]
    assert "ports" not in worker
    # The image's HEALTHCHECK probes HTTP, which the worker does not serve.
    assert worker["healthcheck"].get("disable") is True


def test_page_images_have_a_worker_of_their_own(services):
    # Every queue on the main worker (page images last); the preview worker renders only.
    assert services["worker"]["command"] == ["daojiao", "worker"]
    assert services["preview"]["command"] == ["daojiao", "worker", "preview"]


def test_migrate_applies_alembic_migrations(services):
    assert services["migrate"]["command"] == ["daojiao", "db", "upgrade"]


@pytest.mark.parametrize("name", ["web", "worker", "preview"])
def test_app_processes_start_after_migrations_bucket_and_healthy_backends(services, name):
    depends_on = services[name]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["createbucket"]["condition"] == "service_completed_successfully"
    for backend in BACKING_SERVICES:
        assert depends_on[backend]["condition"] == "service_healthy", f"{name} -> {backend}"


def test_migrate_waits_for_a_healthy_database(services):
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_restart_unless_stopped(services, name):
    assert services[name]["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", ONE_SHOT)
def test_one_shot_services_are_not_restarted(services, name):
    assert services[name]["restart"] == "no"


def test_createbucket_makes_a_versioned_bucket_once_minio_is_healthy(services):
    createbucket = services["createbucket"]
    assert createbucket["image"].startswith("minio/mc")
    assert createbucket["depends_on"]["minio"]["condition"] == "service_healthy"
    script = " ".join(createbucket["entrypoint"] + createbucket["command"])
    assert "mc alias set local http://minio:9000" in script
    assert "mc mb --ignore-existing" in script
    assert "version enable" in script or "--with-versioning" in script
    # The bucket it creates is the one the application is configured with.
    assert createbucket["environment"]["S3_BUCKET"] == services["web"]["environment"]["S3_BUCKET"]
    assert "S3_BUCKET}" in script


def test_compose_escapes_every_container_shell_variable(compose):
    # Compose interpolates "$NAME" and "${NAME}" itself; shell variables meant for the
    # container must be written "$$NAME", and compose variables always braced.
    bare = re.findall(r"\$(?!\{)\S*", _compose_text(compose))
    assert not bare, f"unescaped dollars in docker-compose.yml: {bare}"


def test_every_compose_variable_is_documented_in_env_example(compose):
    referenced = set(VARIABLE_REFERENCE.findall(_compose_text(compose)))
    assert referenced, "docker-compose.yml should take its settings from .env"
    missing = referenced - set(_env_example_raw())
    assert not missing, f"not in .env.example: {sorted(missing)}"


def test_compose_defaults_match_env_example(compose):
    # ${NAME:-default} in the compose file and NAME=value in .env.example must agree, so an
    # operator who deletes a line from .env gets the documented value.
    documented = _env_example_raw()
    defaults = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)\}", _compose_text(compose))
    assert defaults
    for name, default in defaults:
        assert documented[name] == default, f"{name}: {default!r} vs {documented[name]!r}"


# --- .env.example --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DOCUMENTED_VARIABLES)
def test_env_example_defines_and_explains_each_variable(name):
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    index = next((i for i, line in enumerate(lines) if line.startswith(f"{name}=")), None)
    assert index is not None, f"{name} is not set in .env.example"
    # The comment sits right above the setting; the S3 key pair shares one.
    above = index - 2 if name == "S3_SECRET_KEY" else index - 1
    if name == "S3_SECRET_KEY":
        assert lines[index - 1].startswith("S3_ACCESS_KEY=")
    assert lines[above].startswith("#"), f"{name} has no explanatory comment above it"


def test_env_example_ships_placeholders_not_secrets():
    values = _env_example_raw()
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert values[name] == PLACEHOLDER, name
    assert "secrets.token_urlsafe(48)" in ENV_EXAMPLE.read_text(encoding="utf-8")


def test_env_example_database_url_reaches_the_postgres_service():
    values = _env_example_resolved()
    expected = (
        f"postgresql+psycopg://{values['POSTGRES_USER']}:{values['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{values['POSTGRES_DB']}"
    )
    assert values["DATABASE_URL"] == expected


def test_env_example_points_the_app_at_the_compose_services():
    values = _env_example_resolved()
    assert values["REDIS_URL"].startswith("redis://redis:6379/")
    assert values["S3_ENDPOINT"] == "minio:9000"
    assert values["S3_SECURE"] == "false"
    # createbucket sets up no other MinIO user, so the app uses the administrator account.
    assert values["S3_ACCESS_KEY"] == values["MINIO_ROOT_USER"]
    assert values["S3_SECRET_KEY"] == values["MINIO_ROOT_PASSWORD"]
    assert len(values["MINIO_ROOT_PASSWORD"]) >= 8, "MinIO refuses shorter root passwords"
    assert values["DAOJIAO_JURISDICTION"] == "shanxi"
    assert values["DAOJIAO_TRUSTED_PROXIES"].isdigit()
    assert values["SESSION_COOKIE_SECURE"] in ("true", "false")


def test_cjk_font_path_is_the_one_the_image_installs():
    env_instructions = " ".join(_dockerfile("ENV"))
    image_env = dict(pair.split("=", 1) for pair in shlex.split(env_instructions))
    assert image_env["DAOJIAO_CJK_FONT"] == CJK_FONT_PATH
    assert _env_example_resolved()["DAOJIAO_CJK_FONT"] == CJK_FONT_PATH


# --- Dockerfile ----------------------------------------------------------------------------------


def test_dockerfile_builds_on_python_311_slim():
    assert _dockerfile("FROM") == ["python:3.11-slim"]


def test_dockerfile_installs_the_cjk_font_lean():
    installs = [run for run in _dockerfile("RUN") if "apt-get install" in run]
    assert len(installs) == 1
    run = installs[0]
    assert "fonts-wqy-zenhei" in run.split()
    assert "--no-install-recommends" in run
    assert "rm -rf /var/lib/apt/lists/*" in run


def test_dockerfile_installs_the_project_from_its_source_tree():
    assert "/srv/daojiao" in _dockerfile("WORKDIR")
    copies = _dockerfile("COPY")
    assert "pyproject.toml ./" in copies
    assert ". ." in copies
    assert any(re.search(r"pip install --no-cache-dir \.(\s|$)", run) for run in _dockerfile("RUN"))


def test_dockerfile_runs_the_copied_source_tree_with_a_writable_instance_folder():
    # create_app() makes Flask's instance folder. Importing the app from the source tree (not
    # from site-packages) puts it at <workdir>/instance, which the image hands to the app user;
    # migrations/ is found next to the same source.
    workdir = _dockerfile("WORKDIR")[-1]
    env = dict(pair.split("=", 1) for pair in shlex.split(" ".join(_dockerfile("ENV"))))
    assert env["PYTHONPATH"] == workdir
    assert any(f"chown daojiao:daojiao {workdir}/instance" in run for run in _dockerfile("RUN"))


def test_dockerfile_runs_as_the_unprivileged_daojiao_user():
    assert any("useradd" in run and "daojiao" in run for run in _dockerfile("RUN"))
    assert _dockerfile("USER")[-1] == "daojiao"


def test_dockerfile_sets_unbuffered_output_and_exposes_8000():
    env = dict(pair.split("=", 1) for pair in shlex.split(" ".join(_dockerfile("ENV"))))
    assert env["PYTHONUNBUFFERED"] == "1"
    assert _dockerfile("EXPOSE") == ["8000"]


def test_dockerfile_default_command_serves_wsgi_app_with_gunicorn():
    (cmd,) = _dockerfile("CMD")
    argv = json.loads(cmd)  # exec form, so gunicorn is PID 1's child and gets the signals
    assert argv[0] == "gunicorn"
    assert argv[-1] == "wsgi:app"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8000"
    assert argv[argv.index("--config") + 1] == "gunicorn.conf.py"
    assert "--workers" not in argv  # the config file's count, from WEB_CONCURRENCY
    assert argv[argv.index("--access-logfile") + 1] == "-"


@pytest.mark.parametrize(("concurrency", "expected"), [("", None), ("5", 5)])
def test_gunicorn_runs_sync_workers_as_many_as_web_concurrency_says(
    monkeypatch: pytest.MonkeyPatch, concurrency: str, expected: int | None
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", concurrency)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["worker_class"] == "sync"
    assert settings["workers"] == (expected or 2 * (os.cpu_count() or 1) + 1)


def test_gunicorn_outwaits_the_object_store_client():
    # A request waiting on a dead S3 server fails with the client's error, never by gunicorn
    # killing the worker mid-request; a restart lets requests in flight finish.
    (cmd,) = _dockerfile("CMD")
    argv = json.loads(cmd)
    assert float(argv[argv.index("--timeout") + 1]) > minio.WORST_CASE_SECONDS
    assert float(argv[argv.index("--graceful-timeout") + 1]) >= 10


def test_dockerfile_healthcheck_probes_healthz_without_curl():
    (healthcheck,) = _dockerfile("HEALTHCHECK")
    argv = json.loads(healthcheck[healthcheck.index("CMD") + len("CMD") :])
    assert argv[0] == "python"
    assert "http://127.0.0.1:8000/healthz" in argv[-1]


# --- .dockerignore -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        ".env",
        "instance/daojiao.sqlite",
        "app/__pycache__/models.cpython-311.pyc",
        "app/models.pyc",
        ".pytest_cache/v/cache/nodeids",
        ".hypothesis/examples/abc",
        "tests/test_deployment.py",
        "bench/results.json",
    ],
)
def test_dockerignore_keeps_local_state_secrets_and_tests_out(path):
    assert _dockerignore_excludes(path)


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "wsgi.py",
        "migrations/env.py",
        "migrations/versions/0001_initial.py",
        "app/__init__.py",
        "app/templates/base.html",
        "storage/minio.py",
    ],
)
def test_dockerignore_keeps_what_the_image_needs(path):
    assert not _dockerignore_excludes(path)
