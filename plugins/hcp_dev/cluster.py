"""Airflow's components as separate processes on one machine, driving hcp_nightly the way production does.

Used by the scheduler test (Celery) and by the benchmarks (bench/); ``make ui`` uses ``airflow standalone``.
"""
from __future__ import annotations

import json
import secrets
import socket
import subprocess
import time
from pathlib import Path

import requests

from hcp_dev import runtime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def execution_api_env(api_port: int) -> dict[str, str]:
    """What every component needs to run tasks through the Execution API of an api-server on ``api_port``
    (one JWT secret for all of them), picking up DAG files quickly, on triggered runs only."""
    return {
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "HCP_NIGHTLY_SCHEDULE": "manual",
    }


def local_executor_env(env: dict[str, str], api_port: int, parallelism: int) -> dict[str, str]:
    """``env`` for components that run tasks with the LocalExecutor, ``parallelism`` at a time, through the
    Execution API of an api-server on ``api_port``, on triggered runs only."""
    return {
        **env,
        **execution_api_env(api_port),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
    }


class Cluster:
    def __init__(self, env: dict[str, str], logs: Path, run_timeout: float = 900):
        self.env, self.logs, self.run_timeout, self.processes = env, logs, run_timeout, []

    def airflow(self, *args: str, check: bool = True) -> str:
        result = subprocess.run([runtime.airflow_bin(), *args], env=self.env, capture_output=True, text=True,
                                timeout=300)
        if check and result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)}:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
        return result.stdout

    def start(self, name: str, *args: str) -> None:
        out = open(self.logs / f"{name}.log", "w")
        self.processes.append(subprocess.Popen([runtime.airflow_bin(), *args], env=self.env, stdout=out,
                                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))

    def start_local(self, api_port: int) -> None:
        """api-server, scheduler, dag-processor and triggerer (Cosmos's watchers may defer), for the LocalExecutor."""
        for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
            self.start(name, name, *(["--port", str(api_port)] if name == "api-server" else []))

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()

    def wait_until_ready(self, api_port: int, dag_id: str = "hcp_nightly", timeout: float = 180) -> None:
        """The api-server answers and the dag-processor has parsed the DAG; then unpause it."""
        deadline = time.time() + timeout
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{api_port}/api/v2/version", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"the api-server did not come up; logs in {self.logs}")
            time.sleep(2)
        while dag_id not in self.airflow("dags", "list", "--output", "plain"):
            if time.time() > deadline:
                raise RuntimeError(f"the dag-processor did not parse {dag_id}; logs in {self.logs}")
            time.sleep(5)
        self.airflow("dags", "unpause", dag_id)

    def run_night(self, night: str, run_id: str) -> str:
        """Trigger a run and wait for the scheduler to finish it; returns its final state."""
        self.airflow("dags", "trigger", "hcp_nightly", "--run-id", run_id, "--conf", json.dumps({"night": night}))
        deadline = time.time() + self.run_timeout
        while time.time() < deadline:
            out = self.airflow("dags", "list-runs", "hcp_nightly", "--output", "json")
            runs = next((json.loads(line) for line in out.splitlines() if line.startswith(("[{", "[]"))), [])
            state = next((r["state"] for r in runs if r["run_id"] == run_id), None)
            if state in ("success", "failed"):
                return state
            time.sleep(5)
        raise RuntimeError(f"{run_id} did not finish in {self.run_timeout} s; logs in {self.logs}")
