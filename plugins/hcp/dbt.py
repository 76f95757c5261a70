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


def profile_env(conn_id: str = settings.WAREHOUSE_CONN_ID) -> dict[str, str]:
    """The variables dbt_project/profiles.yml reads, from the warehouse connection."""
    kw = connections.postgres_kwargs(connections.get_connection(conn_id))
    return {
        "HCP_WH_HOST": kw["host"],
        "HCP_WH_PORT": str(kw["port"]),
        "HCP_WH_USER": kw["user"] or "",
        "HCP_WH_PASSWORD": kw.get("password", ""),
        "HCP_WH_DBNAME": kw["dbname"],
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        # the hashing key's pads reach each dbt session as settings, never as SQL text (hcp.pii)
        "PGOPTIONS": pii.session_options(pii.key()),
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
