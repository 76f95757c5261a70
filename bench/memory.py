"""The largest resident set any process of a night reached: every process this one starts, and theirs.

getrusage(RUSAGE_CHILDREN) is no measure here: a child forked from the harness counts the harness's own
pages (the simulated day, gigabytes at 1M) as its resident set until it execs. So a thread samples
VmHWM (each process's own high-water mark, reset by exec) of every descendant twice a second.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # the fields after the command (which may hold spaces) start with state, then ppid
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def _descendants(root: int) -> list[int]:
    children, found, todo = _children(), [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _high_water_kib(pid: int) -> tuple[int, str] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]), command.strip()
    return None


class PeakRss:
    """with PeakRss() as peak: ...; then peak.mib and peak.command (the process that reached it)."""

    def __init__(self, interval: float = 0.5):
        self.interval, self.kib, self.command = interval, 0, ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._own = Path(f"/proc/{os.getpid()}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for pid in _descendants(os.getpid()):
                found = _high_water_kib(pid)
                # a fork not yet exec'd is the harness itself, not a process of the night
                if found and found[1] != self._own and found[0] > self.kib:
                    self.kib, self.command = found

    @property
    def mib(self) -> float:
        return self.kib / 1024

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
