"""Running dbt against the warehouse. The one place that turns the Airflow connection into dbt's profile."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from hcp import connections, pii, settings

log = logging.getLogger(__name__)


# libpq options dbt-postgres's profile takes, and the variable profiles.yml reads each from
PROFILE_OPTIONS = {
    "sslmode": "HCP_WH_SSLMODE",
    "sslcert": "HCP_WH_SSLCERT",
    "sslkey": "HCP_WH_SSLKEY",
    "sslrootcert": "HCP_WH_SSLROOTCERT",
    "connect_timeout": "HCP_WH_CONNECT_TIMEOUT",
    "keepalives_idle": "HCP_WH_KEEPALIVES_IDLE",
    "application_name": "HCP_WH_APPLICATION_NAME",
}
# The rest reach dbt's sessions as libpq's own environment variables (libpq 17, psycopg2's; `options` is
# joined with the hashing key's pads in PGOPTIONS). libpq has none for keepalives, keepalives_interval,
# keepalives_count, tcp_user_timeout, sslpassword, replication and fallback_application_name.
LIBPQ_ENV = {
    "service": "PGSERVICE", "passfile": "PGPASSFILE", "channel_binding": "PGCHANNELBINDING",
    "hostaddr": "PGHOSTADDR", "client_encoding": "PGCLIENTENCODING", "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcompression": "PGSSLCOMPRESSION", "sslcertmode": "PGSSLCERTMODE", "sslcrl": "PGSSLCRL",
    "sslcrldir": "PGSSLCRLDIR", "sslsni": "PGSSLSNI", "requirepeer": "PGREQUIREPEER",
    "require_auth": "PGREQUIREAUTH", "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION", "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME", "gsslib": "PGGSSLIB", "gssdelegation": "PGGSSDELEGATION",
    "target_session_attrs": "PGTARGETSESSIONATTRS", "load_balance_hosts": "PGLOADBALANCEHOSTS",
}


class UnsupportedByDbt(ValueError):
    pass


def profile_env(conn_id: str = settings.WAREHOUSE_CONN_ID) -> dict[str, str]:
    """The variables dbt_project/profiles.yml reads, from the warehouse connection, and libpq's own for the
    options the profile has no field for: dbt connects as psycopg2.connect(**postgres_kwargs) does."""
    kw = connections.postgres_kwargs(connections.get_connection(conn_id))
    options = connections.libpq_options(kw)
    unsupported = sorted(set(options) - set(PROFILE_OPTIONS) - set(LIBPQ_ENV) - {"options"})
    if unsupported:
        raise UnsupportedByDbt(f"connection '{conn_id}': dbt-postgres cannot pass the libpq option(s) "
                               f"{', '.join(unsupported)}: neither its profile nor libpq's environment takes them")
    # the hashing key's pads reach each dbt session as settings, never as SQL text (hcp.pii)
    session_options = " ".join(o for o in (str(options.get("options") or ""), pii.session_options(pii.key())) if o)
    return {
        "HCP_WH_HOST": kw["host"],
        "HCP_WH_PORT": str(kw["port"]),
        "HCP_WH_USER": kw["user"] or "",
        "HCP_WH_PASSWORD": kw.get("password", ""),
        "HCP_WH_DBNAME": kw["dbname"],
        # every profile variable set, empty when the connection has no such option: the profile's default
        **{var: str(options.get(option, "")) for option, var in PROFILE_OPTIONS.items()},
        **{LIBPQ_ENV[option]: str(value) for option, value in options.items() if option in LIBPQ_ENV},
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "PGOPTIONS": session_options,
    }


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def run(args: list[str], night: date | None = None, project_dir: Path = settings.DBT_PROJECT_DIR,
        capture: bool = True) -> str:
    """``dbt <args>`` in the project, with the night as a var; its output, or an error with it when dbt fails."""
    command = [dbt_executable(), *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    if night is not None:
        command += ["--vars", f"{{night: '{night.isoformat()}'}}"]
    env = {**os.environ, **profile_env()}
    log.info("running %s", " ".join(command))
    if not capture:
        subprocess.run(command, env=env, cwd=project_dir, check=True)
        return ""
    result = subprocess.run(command, env=env, cwd=project_dir, capture_output=True, text=True)
    log.info("dbt output:\n%s", result.stdout[-20000:])
    if result.returncode != 0:
        raise RuntimeError(f"dbt {args[0]} failed (exit {result.returncode}):\n{result.stdout[-5000:]}{result.stderr[-2000:]}")
    return result.stdout


def manifest_path() -> Path:
    """The manifest Airflow renders the dbt tasks from (kept apart from the target/ of dbt's own runs)."""
    return settings.DBT_PROJECT_DIR / "target" / "airflow" / "manifest.json"


def project_files() -> list[Path]:
    root = settings.DBT_PROJECT_DIR
    return [p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] not in ("target", "logs")]


def ensure_manifest() -> Path:
    """``dbt parse`` into manifest_path() unless it is newer than every file of the project."""
    manifest = manifest_path()
    if manifest.exists() and manifest.stat().st_mtime >= max(p.stat().st_mtime for p in project_files()):
        return manifest
    # parsing connects to nothing, but the profile must render: placeholders where no connection is set
    placeholders = {"HCP_WH_HOST": "localhost", "HCP_WH_PORT": "5432", "HCP_WH_USER": "parse", "HCP_WH_DBNAME": "parse"}
    command = [dbt_executable(), "parse", "--target-path", str(manifest.parent), "--project-dir",
               str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR)]
    result = subprocess.run(command, env={**placeholders, **os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                            cwd=settings.DBT_PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed (exit {result.returncode}):\n{result.stdout[-5000:]}{result.stderr[-2000:]}")
    return manifest


def docs_generate(night: date) -> Path:
    # --no-compile: the docs show each model's own SQL; compiling it again would rerun the incremental
    # models' introspective queries (the days a night touched), 25 s of a 29 s docs step at 5M ratings
    run(["docs", "generate", "--no-compile"], night=night)
    return settings.DBT_PROJECT_DIR / "target" / "index.html"
