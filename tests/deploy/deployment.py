"""What `Dockerfile` builds and what `docker-compose.yml` runs, read without Docker (none on the test machines).

Docker would resolve three things this module models, each documented where it is modelled: compose's
variable interpolation, the official image's entrypoint (what a container's argv finally executes), and
.dockerignore (what reaches the build). The facts about the official image are read from apache/airflow's
own `Dockerfile` and `scripts/docker/entrypoint_prod.sh`, cited beside each.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

ROOT = Path(__file__).parents[2]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# what the Dockerfile runs to filter the lock (deploy/ is no package)
runtime_lock = _load(ROOT / "deploy" / "runtime_lock.py")

OFFICIAL_REPOSITORY = "apache/airflow"
# apache/airflow Dockerfile, the last lines of its `main` stage: ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]
# and CMD []; /entrypoint is scripts/docker/entrypoint_prod.sh (`COPY --from=scripts entrypoint_prod.sh /entrypoint`).
OFFICIAL_ENTRYPOINT = ("/usr/bin/dumb-init", "--", "/entrypoint")
# The same stage: ENV AIRFLOW_HOME=/opt/airflow, AIRFLOW_UID=50000 (the user `airflow`, group 0), USER ${AIRFLOW_UID}.
OFFICIAL_AIRFLOW_HOME = "/opt/airflow"
OFFICIAL_UID = "50000"

# Programs the official image has on its PATH (PATH=/home/airflow/.local/bin:/usr/python/bin:...), and where
# its Dockerfile gets each. Our services, health checks and init script may call these and nothing else.
IMAGE_PROGRAMS = {
    # base image debian:bookworm-slim (ARG BASE_IMAGE): Debian's essential packages
    "bash": "debian:bookworm-slim (essential)",
    "sh": "debian:bookworm-slim (dash, essential)",
    "mkdir": "debian:bookworm-slim (coreutils, essential)",
    "chown": "debian:bookworm-slim (coreutils, essential)",
    "chmod": "debian:bookworm-slim (coreutils, essential)",
    # main stage: RUN bash /scripts/docker/install_os_dependencies.sh runtime -> RUNTIME_APT_DEPS
    "curl": "install_os_dependencies.sh runtime (RUNTIME_APT_DEPS)",
    "dumb-init": "install_os_dependencies.sh runtime (RUNTIME_APT_DEPS)",
    # main stage: COPY --from=airflow-build-image /usr/python/, linked by install_os_dependencies.sh link_python;
    # the virtualenv ~airflow/.local (VIRTUAL_ENV) has its own python first on PATH
    "python": "/usr/python/bin/python (link_python), ~airflow/.local/bin/python (the virtualenv)",
    # airflow-build-image stage: install_airflow_when_building_images.sh into ~airflow/.local, copied to main;
    # the celery extra of the default AIRFLOW_EXTRAS brings celery (our lock pins it too)
    "airflow": "~airflow/.local/bin/airflow (apache-airflow's console script)",
    "celery": "~airflow/.local/bin/celery (the celery extra)",
}


# ---------- Dockerfile


@dataclass
class Image:
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    entrypoint: list[str] | None = None  # its own ENTRYPOINT; None: the base image's
    cmd: list[str] | None = None
    user: str | None = None
    copies: list[tuple[list[str], str]] = field(default_factory=list)  # (sources, destination)
    runs: list[str] = field(default_factory=list)

    @property
    def argv_prefix(self) -> list[str]:
        """The ENTRYPOINT a container of this image starts with (the official one unless the Dockerfile sets one)."""
        return list(OFFICIAL_ENTRYPOINT) if self.entrypoint is None else self.entrypoint

    def destination_of(self, source: str) -> str:
        [destination] = [dest for sources, dest in self.copies if source.rstrip("/") in (s.rstrip("/") for s in sources)]
        return destination.rstrip("/")


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of each instruction: continuation lines joined, comments dropped (as Docker does,
    comment lines inside a continued instruction too)."""
    result, pending = [], ""
    for line in dockerfile.splitlines():
        if line.lstrip().startswith("#") or (not line.strip() and not pending):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, args = full.partition(" ")
            result.append((keyword.upper(), args.strip()))
    return result


def read_image(path: Path = ROOT / "Dockerfile") -> Image:
    image = Image()
    for keyword, args in instructions(path.read_text()):
        if keyword == "FROM":
            image.base = args.split()[0]
        elif keyword == "ENV":
            words = shlex.split(args)
            if "=" in words[0]:
                image.env.update(w.split("=", 1) for w in words)
            else:
                image.env[words[0]] = " ".join(words[1:])
        elif keyword in ("ENTRYPOINT", "CMD"):
            value = json.loads(args) if args.startswith("[") else ["/bin/sh", "-c", args]
            setattr(image, keyword.lower(), value)
        elif keyword == "USER":
            image.user = args
        elif keyword == "COPY":
            paths = [w for w in shlex.split(args) if not w.startswith("--")]
            image.copies.append((paths[:-1], paths[-1]))
        elif keyword == "RUN":
            image.runs.append(args)
    return image


# ---------- .dockerignore


def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def docker_ignores(path: str, dockerignore: str) -> bool:
    """Whether the build context leaves `path` (relative, POSIX) out. Docker's rule: the last pattern matching the
    path or one of its parent folders decides, `!` bringing it back; `*` stays within one folder, `**` does not."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for raw in dockerignore.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        regex = _pattern_regex(line.lstrip("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


def build_context_files(source: str, root: Path = ROOT) -> list[str]:
    """The files under `source` that `COPY source ...` takes from the build context."""
    dockerignore = (root / ".dockerignore").read_text()
    base = root / source
    files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
    return sorted(rel for rel in (p.relative_to(root).as_posix() for p in files) if not docker_ignores(rel, dockerignore))


# ---------- docker-compose.yml


class MissingVariable(KeyError):
    pass


# compose's interpolation: $$ (a literal $), ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error},
# ${VAR:+replacement}, ${VAR+replacement}, $VAR
_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<named>[A-Za-z_]\w*))")


def interpolate(text: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["braced"] or match["named"], match["op"], match["arg"]
        value = variables.get(name)
        present = bool(value) if op and op.startswith(":") else value is not None
        if op in (":-", "-"):
            return value if present else arg
        if op in (":?", "?"):
            if not present:
                raise MissingVariable(f"{name}: {arg}")
            return value
        if op in (":+", "+"):
            return arg if present else ""
        return value or ""
    return _VARIABLE.sub(replace, text)


def _interpolated(node, variables: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [_interpolated(n, variables) for n in node]
    if isinstance(node, dict):
        return {k: _interpolated(v, variables) for k, v in node.items()}
    return node


def load_compose(variables: dict[str, str], path: Path = ROOT / "docker-compose.yml") -> dict:
    """The compose file as compose sees it with `variables` as its .env: anchors merged, variables interpolated."""
    return _interpolated(yaml.safe_load(path.read_text()), variables)


def words(value) -> list[str]:
    """A command or entrypoint as compose passes it: a list as is, a string split like a shell would."""
    return list(value) if isinstance(value, list) else shlex.split(value)


def uses_our_image(service: dict) -> bool:
    """Built from the root Dockerfile (the dashboard's Superset builds from dashboard/)."""
    return service.get("build") == "."


def long_running(services: dict) -> dict[str, dict]:
    return {name: s for name, s in services.items() if uses_our_image(s) and s.get("restart") != "no"}


def one_shot(services: dict) -> dict[str, dict]:
    return {name: s for name, s in services.items() if uses_our_image(s) and s.get("restart") == "no"}


def container_argv(service: dict, image: Image) -> list[str]:
    """The argv a container starts with: the service's `entrypoint:` or the image's ENTRYPOINT, then its
    `command:` or the image's CMD (an `entrypoint:` drops the image's CMD, as Docker does)."""
    entrypoint = words(service["entrypoint"]) if "entrypoint" in service else image.argv_prefix
    default_cmd = [] if "entrypoint" in service else (image.cmd or [])
    return [*entrypoint, *(words(service["command"]) if "command" in service else default_cmd)]


def entrypoint_execs(args: list[str]) -> list[str]:
    """What the official /entrypoint (scripts/docker/entrypoint_prod.sh) executes in the end for its arguments,
    after its checks (the metadata database answers; for `scheduler` and `celery ...`, the Celery broker too):
      bash ARGS     -> exec /bin/bash ARGS       (exec_to_bash_or_python_command_if_specified)
      python ARGS   -> exec python ARGS          (the same function)
      airflow ARGS  -> exec airflow ARGS         ("airflow" is stripped, then the default below)
      ARGS          -> exec airflow ARGS         (anything else is an airflow subcommand)
    """
    if args[:1] == ["bash"]:
        return ["/bin/bash", *args[1:]]
    if args[:1] == ["python"]:
        return ["python", *args[1:]]
    if args[:1] == ["airflow"]:
        args = args[1:]
    return ["airflow", *args]


def executed(argv: list[str]) -> list[str]:
    """The program a container's argv finally runs: through dumb-init (`dumb-init -- PROGRAM ARGS` execs
    PROGRAM ARGS) and the official entrypoint."""
    if argv[:2] == ["/usr/bin/dumb-init", "--"]:
        argv = argv[2:]
    if argv[:1] == ["/entrypoint"]:
        return entrypoint_execs(argv[1:])
    return argv


def mounts(service: dict) -> list[tuple[str, bool]]:
    """(target in the container, read-only) of each volume or bind mount, short or long syntax."""
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            found.append((volume["target"], bool(volume.get("read_only"))))
            continue
        parts = volume.split(":")
        target = parts[1] if len(parts) > 1 else parts[0]
        found.append((target, len(parts) > 2 and "ro" in parts[2].split(",")))
    return found


def is_under(path: str, folder: str) -> bool:
    return PurePosixPath(path) == PurePosixPath(folder) or PurePosixPath(folder) in PurePosixPath(path).parents


def healthcheck_commands(service: dict) -> list[list[str]]:
    """The commands a health check runs in the container: CMD as is; CMD-SHELL through sh -c, read here as
    its commands between || and && (none of ours uses more of the shell than that)."""
    test = service["healthcheck"]["test"]
    kind, rest = (test[0], test[1:]) if isinstance(test, list) else ("CMD-SHELL", [test])
    if kind == "CMD":
        return [rest]
    assert kind == "CMD-SHELL", kind
    return [shlex.split(part) for part in re.split(r"\|\||&&", " ".join(rest))]


def script_commands(script: str) -> list[list[str]]:
    """The simple commands of a `bash -c` script made of one command per line (as airflow-init's is)."""
    return [shlex.split(line) for line in script.splitlines() if line.strip() and not line.strip().startswith("#")]


def in_checkout(image_path: str, checkout: Path) -> Path:
    """An image path under AIRFLOW_HOME, at the same place under `checkout` (a copy of the build context)."""
    return checkout / PurePosixPath(image_path).relative_to(OFFICIAL_AIRFLOW_HOME)


def env_file_values(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file, quotes removed as compose removes them; comments skipped."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[key.strip()] = value
    return values


def host_path_of(image_path: str, image: Image) -> str | None:
    """The repository path an image path was copied from, when a COPY of a folder put it there."""
    for sources, destination in image.copies:
        for source in sources:
            if is_under(image_path, destination.rstrip("/")) and (ROOT / source).is_dir():
                rel = PurePosixPath(image_path).relative_to(destination.rstrip("/"))
                return (PurePosixPath(source.rstrip("/")) / rel).as_posix()
    return None

