"""docker/compose.yaml and docker/Dockerfile, checked against the repository.

No Docker engine runs where citydw is developed and tested, so nothing here
starts a container: these tests read the compose file (PyYAML) and the
Dockerfile and check what can be checked without one. The services issue 6
asks for exist, Airflow runs on the Celery executor everywhere it runs,
every ${VAR} is documented in docker/.env.example, every path the files
name exists, and Metabase reads the marts as citydw_bi. The helper scripts
the image runs are exercised for real: the warehouse initialisation against
PostgreSQL, the Metabase setup against a stand-in for Metabase's API.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import yaml
from psycopg.conninfo import make_conninfo

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
ENV_EXAMPLE = DOCKER / ".env.example"
DOCKERFILE = DOCKER / "Dockerfile"

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker-1",
    "airflow-worker-2",
}
REQUIRED_SERVICES = {"postgres", "redis", "metabase", *AIRFLOW_SERVICES}
WORKERS = ("airflow-worker-1", "airflow-worker-2")

# ${NAME}, ${NAME:-default}, ${NAME:?message}, $NAME; "$$" is a literal dollar for the container.
_REFERENCE = re.compile(r"\$\$|\$\{(?P<braced>[A-Za-z_]\w*)(?P<rest>[^}]*)\}|\$(?P<bare>[A-Za-z_]\w*)")
_SECRET_KEY = re.compile(r"PASSWORD|PASS$|SECRET|TOKEN|FERNET_KEY|_KEY$|REDISCLI_AUTH", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


def references(text: str) -> list[tuple[str, str]]:
    """(name, what follows it inside the braces) for every variable reference in compose-file text."""
    found = []
    for match in _REFERENCE.finditer(text):
        if match.group(0) == "$$":
            continue
        found.append((match["braced"] or match["bare"], match["rest"] or ""))
    return found


def default_of(value: str) -> str:
    """A compose value with ${VAR:-default} and ${VAR-default} replaced by their defaults."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        rest = match["rest"] or ""
        if rest.startswith((":-", "-")):
            return rest.split("-", 1)[1]
        raise AssertionError(f"{value!r}: {match.group(0)} has no default, so the path depends on docker/.env")

    return _REFERENCE.sub(replace, value)


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else " ".join(str(part) for part in command)


def runs_airflow(service: dict) -> bool:
    return bool(re.search(r"(^|\s|\n)airflow\s", command_text(service) + " "))


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def documented_variables() -> dict[str, str]:
    found = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z_]\w*)=(.*)$", line):
            found[match[1]] = match[2]
    return found


# --- services ---------------------------------------------------------------------


def test_every_service_the_deployment_needs_is_declared(services: dict) -> None:
    assert set(services) >= REQUIRED_SERVICES, f"missing: {sorted(REQUIRED_SERVICES - set(services))}"


@pytest.mark.parametrize("worker", WORKERS)
def test_both_workers_are_celery_workers(services: dict, worker: str) -> None:
    assert re.search(r"\bairflow celery worker\b", command_text(services[worker]))
    # Distinct Celery node names, so `celery inspect ping -d celery@<hostname>` finds each one.
    assert services[worker]["hostname"] == worker


def test_the_airflow_services_are_the_ones_that_run_airflow(services: dict) -> None:
    assert {name for name, service in services.items() if runs_airflow(service)} == AIRFLOW_SERVICES


@pytest.mark.parametrize("name", sorted(AIRFLOW_SERVICES))
def test_airflow_runs_on_celery_with_shared_metadata_broker_and_secrets(services: dict, name: str) -> None:
    env = environment(services[name])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    assert urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "postgres"
    assert urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"]).hostname == "postgres"
    # Without it Airflow 3 derives an asyncpg URL, and asyncpg is not installed: `airflow db migrate` fails.
    async_url = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"])
    assert (async_url.scheme, async_url.hostname) == ("postgresql+psycopg", "postgres")
    # Airflow 3: workers reach the metadata only through the API server's execution API.
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    for shared in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        assert env[shared].startswith("${"), f"{name}: {shared} must come from docker/.env"
    warehouse = urlsplit(env["CITYDW_WAREHOUSE_URL"])
    assert (warehouse.scheme, warehouse.hostname, warehouse.path) == ("postgresql", "postgres", "/citydw")
    assert env["CITYDW_BI_PASSWORD"].startswith("${CITYDW_BI_PASSWORD")


@pytest.mark.parametrize("name", sorted(AIRFLOW_SERVICES))
def test_no_usage_data_leaves_the_machine(services: dict, name: str) -> None:
    env = environment(services[name])
    assert env["AIRFLOW__USAGE_DATA_COLLECTION__ENABLED"] == "False"
    assert env["GX_ANALYTICS_ENABLED"] == "false"
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"


def test_metabase_sends_nothing_home(services: dict) -> None:
    env = environment(services["metabase"])
    assert env["MB_ANON_TRACKING_ENABLED"] == "false"
    assert env["MB_CHECK_FOR_UPDATES"] == "false"


def test_the_bi_tool_reads_the_warehouse_as_citydw_bi(services: dict) -> None:
    setup = environment(services["metabase-setup"])
    warehouse = urlsplit(environment(services["airflow-scheduler"])["CITYDW_WAREHOUSE_URL"])
    assert setup["CITYDW_BI_USER"] == "citydw_bi"
    assert setup["CITYDW_BI_PASSWORD"].startswith("${CITYDW_BI_PASSWORD")
    assert (setup["WAREHOUSE_HOST"], setup["WAREHOUSE_DB"]) == (warehouse.hostname, warehouse.path.lstrip("/"))
    assert setup["METABASE_URL"].startswith("http://metabase:")
    # The role must exist, with its password, before Metabase is given it.
    assert services["metabase-setup"]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert "citydw_bi" not in json.dumps(environment(services["metabase"])), "Metabase's own database is not the BI one"


def test_postgres_init_creates_the_roles_and_databases_the_urls_use(services: dict) -> None:
    scripts = sorted((DOCKER / "postgres-init").glob("*.sh"))
    assert scripts, "docker/postgres-init/ holds no init script"
    sql_text = "\n".join(script.read_text(encoding="utf-8") for script in scripts).lower()
    for script in scripts:
        assert script.stat().st_mode & stat.S_IXUSR, f"{script.name} must be executable (the image runs it)"
    airflow = urlsplit(environment(services["airflow-scheduler"])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    warehouse = urlsplit(environment(services["airflow-scheduler"])["CITYDW_WAREHOUSE_URL"])
    metabase = environment(services["metabase"])
    for user, database in [
        (airflow.username, airflow.path.lstrip("/")),
        (warehouse.username, warehouse.path.lstrip("/")),
        (metabase["MB_DB_USER"], metabase["MB_DB_DBNAME"]),
    ]:
        assert re.search(rf"create role {user} with login", sql_text), f"role {user} is not created"
        assert f"create database {database} owner {user}" in sql_text, f"database {database} is not created"
    # The warehouse's owner creates citydw_bi in migration 0002.
    assert re.search(rf"create role {warehouse.username} with login createrole", sql_text)
    for name in ("CITYDW_DB_PASSWORD", "AIRFLOW_DB_PASSWORD", "METABASE_DB_PASSWORD"):
        assert name in environment(services["postgres"]), f"postgres-init reads {name} from the postgres service"


def test_long_running_services_have_healthchecks(services: dict) -> None:
    missing = [name for name, svc in services.items() if svc.get("restart") != "no" and "healthcheck" not in svc]
    assert missing == []


def test_every_dependency_is_a_declared_service(services: dict) -> None:
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert dependency != name


# --- environment variables ---------------------------------------------------------


def strings_in(node: object) -> list[str]:
    """Every string value in the parsed file: what compose interpolates (comments are not)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings_in(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings_in(value)]
    return []


def test_every_variable_compose_reads_is_documented_in_env_example(compose: dict) -> None:
    used = {name for text in strings_in(compose) for name, _ in references(text)}
    documented = set(documented_variables())
    assert used, "no ${VAR} found: has the parser broken?"
    assert used - documented == set(), f"document these in docker/.env.example: {sorted(used - documented)}"
    assert documented - used == set(), (
        f"docker/.env.example documents variables compose never reads: {sorted(documented - used)}"
    )


def test_env_example_holds_no_secret_values() -> None:
    filled = {k: v for k, v in documented_variables().items() if _SECRET_KEY.search(k) and v.strip()}
    assert filled == {}, "secrets in docker/.env.example must be left empty"


def test_secrets_in_compose_are_only_variable_references(services: dict) -> None:
    for name, service in services.items():
        for key, value in environment(service).items():
            if _SECRET_KEY.search(key):
                assert re.fullmatch(r"\$\{[A-Za-z_]\w*(:\?[^}]*)?\}", value), f"{name}: {key} must be a ${{VAR}}"
            parts = urlsplit(value) if "://" in value else None
            if parts is not None and parts.password is not None:
                assert re.fullmatch(r"\$\{[A-Za-z_]\w*(:\?[^}]*)?\}", parts.password), f"{name}: {key}"


def test_optional_env_files_are_git_ignored(services: dict) -> None:
    ignored = (DOCKER / ".gitignore").read_text(encoding="utf-8").split()
    for name, service in services.items():
        for entry in service.get("env_file") or []:
            path = entry["path"] if isinstance(entry, dict) else entry
            required = entry.get("required", True) if isinstance(entry, dict) else True
            if required:
                assert (DOCKER / path).is_file(), f"{name}: env_file {path} does not exist"
            else:
                assert path in ignored, f"{name}: {path} holds secrets; list it in docker/.gitignore"


# --- paths ---------------------------------------------------------------------------


def test_bind_mounts_exist_and_named_volumes_are_declared(compose: dict, services: dict) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict):
                source, kind = str(volume.get("source", "")), volume.get("type", "volume")
            else:
                source = str(volume).split(":", 1)[0] if not str(volume).startswith("${") else _split_source(volume)
                kind = "bind" if source.startswith((".", "/", "~", "${")) else "volume"
            if kind == "volume":
                assert source in declared, f"{name}: named volume {source} is not declared under volumes:"
                continue
            host = default_of(source)
            assert not host.startswith(("/", "~")), f"{name}: {source} is a path outside the repository"
            path = (DOCKER / host).resolve()
            assert path.exists(), f"{name}: bind mount {source} → {path} does not exist"
            assert REPO in path.parents, f"{name}: {source} is outside the repository"


def _split_source(volume: str) -> str:
    """The host part of a short-syntax volume whose source is a ${VAR:-default} (which may hold ':')."""
    depth = 0
    for index, char in enumerate(volume):
        depth += char == "{"
        depth -= char == "}"
        if char == ":" and depth == 0:
            return volume[:index]
    return volume


def test_build_contexts_and_dockerfiles_exist(services: dict) -> None:
    builds = [(name, svc["build"]) for name, svc in services.items() if "build" in svc]
    assert builds, "no service builds the citydw image"
    for name, build in builds:
        context = (DOCKER / (build if isinstance(build, str) else build.get("context", "."))).resolve()
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        dockerfile = context / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
        assert dockerfile.resolve() == DOCKERFILE, f"{name}: builds {dockerfile}, expected docker/Dockerfile"


def dockerfile_instructions() -> list[tuple[str, list[str]]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            logical.append(current.strip())
        current = ""
    return [(text.split(None, 1)[0].upper(), shlex.split(text.split(None, 1)[1])) for text in logical]


def test_every_copy_source_in_the_dockerfile_exists() -> None:
    copies = [args for instruction, args in dockerfile_instructions() if instruction in ("COPY", "ADD")]
    assert copies
    for args in copies:
        if any(arg.startswith("--from") for arg in args):
            continue
        sources = [arg for arg in args if not arg.startswith("--")][:-1]
        for source in sources:
            assert list(REPO.glob(source.rstrip("/"))), f"COPY {source}: no such path in the repository"


def test_the_image_is_python_3_11_slim_with_the_pinned_dependencies_and_runs_as_airflow() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0][0] == "FROM" and instructions[0][1][0].startswith("python:3.11-slim")
    run_text = " ".join(" ".join(args) for instruction, args in instructions if instruction == "RUN")
    assert "--constraint requirements/constraints.txt" in run_text
    assert "./ingestion" in run_text and "apache-airflow[celery,fab]==3.3.2" in run_text
    users = [args[0] for instruction, args in instructions if instruction == "USER"]
    assert users and users[-1] == "airflow", "the image must not run as root"
    env_text = " ".join(" ".join(args) for instruction, args in instructions if instruction == "ENV")
    for setting in ("AIRFLOW__USAGE_DATA_COLLECTION__ENABLED=False", "GX_ANALYTICS_ENABLED=false",
                    "DBT_SEND_ANONYMOUS_USAGE_STATS=false", "CITYDW_PROJECT_DIR=/opt/citydw"):  # fmt: skip
        assert setting in env_text


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line):
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_image_only_pins_agree_with_the_lock() -> None:
    lock, extra = _pins(REPO / "requirements" / "constraints.txt"), _pins(DOCKER / "constraints-docker.txt")
    disagree = {
        name: (lock[name], version) for name, version in extra.items() if name in lock and lock[name] != version
    }
    assert disagree == {}, f"docker/constraints-docker.txt contradicts requirements/constraints.txt: {disagree}"
    both = {**extra, **lock}
    for needed in ("apache-airflow-providers-celery", "apache-airflow-providers-fab", "celery", "redis", "psycopg"):
        assert needed in both, f"{needed} is not pinned for the image"


# --- the scripts the image runs ------------------------------------------------------


def test_init_warehouse_migrates_and_lets_citydw_bi_in(
    warehouse_server_url: str, warehouse_url: str, tmp_path: Path
) -> None:
    # citydw_bi is the server's, shared by every test database on it: the same
    # password as tests/security/test_bi_role.py, derived, never a literal.
    password = hashlib.sha256(f"citydw-bi-test|{warehouse_server_url}".encode()).hexdigest()[:32]
    env = {**os.environ, "CITYDW_WAREHOUSE_URL": warehouse_url, "CITYDW_BI_PASSWORD": password,
           "CITYDW_HOME": str(tmp_path)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(DOCKER / "init_warehouse.py")], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"citydw_bi: password (set|already in place)", done.stdout)
    assert password not in done.stdout + done.stderr
    with psycopg.connect(make_conninfo(warehouse_url, user="citydw_bi", password=password)) as conn:
        assert conn.execute("select has_schema_privilege('marts', 'usage')").fetchone() == (True,)


def test_init_warehouse_without_a_url_says_what_to_set(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CITYDW_")}
    env["CITYDW_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(DOCKER / "init_warehouse.py")], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "CITYDW_WAREHOUSE_URL" in done.stderr


def test_metabase_setup_creates_the_admin_and_adds_the_marts_as_citydw_bi(httpserver) -> None:
    """Against a stand-in for Metabase's API: first run sets up, a second run updates, never duplicates."""
    from werkzeug import Request, Response

    state: dict = {"has_user_setup": False, "databases": [], "calls": []}

    def handler(request: Request) -> Response:
        body = request.get_json(silent=True)
        state["calls"].append((request.method, request.path, body, request.headers.get("X-Metabase-Session")))
        route = (request.method, request.path)
        if route == ("GET", "/api/health"):
            answer: object = {"status": "ok"}
        elif route == ("GET", "/api/session/properties"):
            answer = {"has-user-setup": state["has_user_setup"], "setup-token": "setup-token-1"}
        elif route == ("POST", "/api/setup"):
            assert body["token"] == "setup-token-1"
            state["has_user_setup"] = True
            answer = {"id": "session-1"}
        elif route == ("POST", "/api/session"):
            answer = {"id": "session-2"}
        elif route == ("GET", "/api/database"):
            answer = {"data": state["databases"], "total": len(state["databases"])}
        elif route == ("POST", "/api/database"):
            state["databases"].append({"id": 7, **body})
            answer = {"id": 7}
        elif request.method == "PUT" and request.path == "/api/database/7":
            state["databases"][0].update(body)
            answer = {"id": 7}
        else:
            return Response(json.dumps({"message": "unexpected"}), status=404)
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)
    env = {
        **os.environ,
        "METABASE_URL": httpserver.url_for("/"),
        "METABASE_ADMIN_EMAIL": "admin@city.example",
        "METABASE_ADMIN_PASSWORD": "admin-" + os.urandom(6).hex(),
        "WAREHOUSE_HOST": "postgres",
        "WAREHOUSE_PORT": "5432",
        "WAREHOUSE_DB": "citydw",
        "CITYDW_BI_USER": "citydw_bi",
        "CITYDW_BI_PASSWORD": "bi-" + os.urandom(6).hex(),
    }
    script = [sys.executable, str(DOCKER / "metabase_setup.py")]
    first = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    env["CITYDW_BI_PASSWORD"] = "bi-" + os.urandom(6).hex()
    second = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr

    assert len(state["databases"]) == 1
    details = state["databases"][0]["details"]
    assert (details["user"], details["host"], details["dbname"]) == ("citydw_bi", "postgres", "citydw")
    assert details["password"] == env["CITYDW_BI_PASSWORD"], "a second run must update the password"
    assert (details["schema-filters-type"], details["schema-filters-patterns"]) == ("inclusion", "marts")
    setup = next(body for method, path, body, _ in state["calls"] if path == "/api/setup")
    assert setup["prefs"]["allow_tracking"] is False
    assert all(session for method, path, _, session in state["calls"] if path.startswith("/api/database"))
    assert env["CITYDW_BI_PASSWORD"] not in first.stdout + second.stdout + first.stderr + second.stderr


def test_metabase_setup_says_which_variables_are_missing() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("METABASE_", "WAREHOUSE_"))}
    env.pop("CITYDW_BI_PASSWORD", None)
    done = subprocess.run(
        [sys.executable, str(DOCKER / "metabase_setup.py")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "METABASE_URL" in done.stderr and "CITYDW_BI_PASSWORD" in done.stderr


def test_the_portal_serves_citydw_portal_on_localhost_with_a_signing_key_and_the_shared_archive(
    services: dict,
) -> None:
    portal = services["portal"]
    assert portal["command"] == ["citydw", "portal"]
    assert portal["ports"] == ["${PORTAL_PUBLISH:-127.0.0.1:8090}:8090"]
    environment = portal["environment"]
    assert environment["CITYDW_PORTAL_PORT"] == "8090"
    assert environment["CITYDW_PORTAL_SECRET_KEY"].startswith("${CITYDW_PORTAL_SECRET_KEY:?")
    # Submissions land in the archive and warehouse the Airflow workers use.
    worker = services["airflow-worker-1"]
    for name in ("CITYDW_WAREHOUSE_URL", "CITYDW_ARCHIVE_URL"):
        assert environment[name] == worker["environment"][name]
    assert "citydw-archive:/data/archive" in portal["volumes"]
    assert portal["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
