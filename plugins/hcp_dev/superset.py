"""Superset on this machine, from its own virtualenv (.venv-superset, `make dashboard` installs it): its metadata
in a folder of its own, served on 127.0.0.1, the dashboard applied from the bundle, read-only on the warehouse."""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hcp import settings
from hcp.dashboard import board
from hcp.dashboard.apply import apply
from hcp.dashboard.superset_api import Superset, SupersetError, wait_until_healthy

VENV = settings.PROJECT_ROOT / ".venv-superset"
CONFIG = settings.PROJECT_ROOT / "dashboard" / "superset_config.py"
HOME = settings.LOCAL_DIR / "superset"
PORT = int(os.environ.get("HCP_SUPERSET_PORT", "8088"))
ADMIN = board.ADMIN


@dataclass(frozen=True)
class Server:
    home: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dashboard_url(self) -> str:
        return board.dashboard_url(self.url)

    @property
    def pid_file(self) -> Path:
        return self.home / "gunicorn.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "superset.log"

    def secret(self, name: str) -> str:
        """A secret made on first use and kept beside the metadata, readable by this user only from the start."""
        path = self.home / name
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists() or not path.read_text(encoding="utf-8").strip():
            path.unlink(missing_ok=True)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as f:
                f.write(secrets.token_urlsafe(32))
        return path.read_text(encoding="utf-8").strip()

    @property
    def admin_password(self) -> str:
        return os.environ.get("HCP_SUPERSET_ADMIN_PASSWORD") or self.secret("admin_password")

    def env(self) -> dict[str, str]:
        return {**os.environ, "SUPERSET_CONFIG_PATH": str(CONFIG), "SUPERSET_HOME": str(self.home),
                "SUPERSET_SECRET_KEY": os.environ.get("SUPERSET_SECRET_KEY") or self.secret("secret_key"),
                "SUPERSET_METADATA_URI": f"sqlite:///{self.home / 'superset.db'}?check_same_thread=false",
                "FLASK_APP": "superset", "PYTHONPATH": ""}

    def _superset(self, *args: str) -> None:
        with self.log_file.open("a", encoding="utf-8") as log:
            result = subprocess.run([str(VENV / "bin" / "superset"), *args], env=self.env(), stdout=log,
                                    stderr=subprocess.STDOUT)
        if result.returncode != 0:
            raise SupersetError(f"superset {' '.join(args[:2])} failed: see {self.log_file}")

    def prepare(self) -> None:
        """The metadata database, the admin user and Superset's roles; done once per Superset version."""
        if not (VENV / "bin" / "superset").exists():
            raise SupersetError(f"no Superset in {VENV}: `make dashboard` installs it")
        self.home.mkdir(parents=True, exist_ok=True)
        version = (VENV / ".installed").read_text(encoding="utf-8") if (VENV / ".installed").exists() else "?"
        stamp = self.home / "prepared"
        if stamp.exists() and stamp.read_text(encoding="utf-8") == version:
            return
        self._superset("db", "upgrade")
        self._superset("fab", "create-admin", "--username", ADMIN, "--firstname", "好差评", "--lastname", "管理员",
                       "--email", "admin@haochaping.invalid", "--password", self.admin_password)
        self._superset("init")
        stamp.write_text(version, encoding="utf-8")

    def pid(self) -> int | None:
        """The pid of our gunicorn, if it runs: a pid file left by a crash may name another process since."""
        try:
            pid = int(self.pid_file.read_text())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid if b"gunicorn" in command and b"superset.app" in command else None

    def running(self) -> bool:
        return self.pid() is not None

    def start(self) -> None:
        """Two gunicorn workers in the background; returns once Superset answers, or fails naming its log."""
        if self.running():
            wait_until_healthy(self.url)
            return
        with socket.socket() as probe:  # another program on the port would answer /health in Superset's place
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SupersetError(f"port {self.port} is taken by another program: set HCP_SUPERSET_PORT")
        with self.log_file.open("a", encoding="utf-8") as log:
            process = subprocess.Popen(
                [str(VENV / "bin" / "gunicorn"), "--workers", "2", "--worker-class", "gthread", "--threads", "4",
                 "--bind", f"127.0.0.1:{self.port}", "--timeout", "120", "superset.app:create_app()"],
                env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file.write_text(str(process.pid), encoding="utf-8")
        wait_until_healthy(self.url, alive=lambda: process.poll() is None, log=self.log_file)

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        for sig in (signal.SIGTERM, signal.SIGKILL):  # gunicorn finishes its requests on TERM; KILL if it hangs
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)
            for _ in range(100):
                if self.pid() is None:
                    self.pid_file.unlink(missing_ok=True)
                    return True
                time.sleep(0.1)
        raise SupersetError(f"gunicorn {pid} did not stop")

    def client(self) -> Superset:
        return Superset(self.url, ADMIN, self.admin_password)


def apply_dashboard(server: Server, warehouse_value: str) -> Superset:
    client = server.client()
    apply(client, warehouse_value)
    return client
