"""Set up and run Caseload from a fresh clone with nothing but Python 3.11+.

    python3 -m config.bootstrap serve               # demo data, then http://127.0.0.1:8000/
    python3 -m config.bootstrap test [pytest args]  # the whole suite
    python3 -m config.bootstrap manage COMMAND ...  # any manage.py command, in the virtualenv

Standard library only: this runs before Django or any dependency is installed. It creates `.venv`,
installs the project into it (again only when pyproject.toml changed) and runs everything with the
virtualenv's interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
VENV_DIR = ROOT / ".venv"
STAMP_NAME = ".caseload-install-stamp"
PYTEST_NO_TESTS_COLLECTED = 5
USAGE = (
    "usage: python3 -m config.bootstrap {serve | test [pytest args...] | manage COMMAND [args...]}"
)

Runner = Callable[..., subprocess.CompletedProcess]


def run(command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess:
    # Every argv here is built from fixed words and the user's own command-line arguments.
    return subprocess.run(command, check=False, **kwargs)  # noqa: S603


def venv_python(venv_dir: Path) -> Path:
    if os.name == "nt":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def needs_install(stamp: Path, digest: str) -> bool:
    """True unless the stamp records exactly this pyproject.toml digest."""
    try:
        return stamp.read_text().strip() != digest
    except FileNotFoundError:
        return True


def ensure_venv(venv_dir: Path) -> Path:
    python = venv_python(venv_dir)
    if not python.exists():
        print(f"bootstrap: creating {venv_dir}", flush=True)
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    return python


def pip_install_command(python: Path) -> list[str]:
    return [str(python), "-m", "pip", "install", "-e", ".[dev]"]


def ensure_installed(venv_dir: Path, root: Path, runner: Runner = run) -> bool:
    """Install the project into the virtualenv when pyproject.toml changed; True if it did."""
    stamp = venv_dir / STAMP_NAME
    digest = file_digest(root / "pyproject.toml")
    if not needs_install(stamp, digest):
        return False
    print("bootstrap: installing the project and its dev dependencies", flush=True)
    result = runner(pip_install_command(venv_python(venv_dir)), cwd=root)
    if result.returncode != 0:
        raise SystemExit(f"bootstrap: pip install failed (exit {result.returncode})")
    stamp.write_text(digest + "\n")
    return True


def prepare(root: Path = ROOT, venv_dir: Path = VENV_DIR) -> Path:
    python = ensure_venv(venv_dir)
    ensure_installed(venv_dir, root)
    return python


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def chooses_workers(args: Sequence[str]) -> bool:
    """True when the user already decided about xdist: `-n`, `--numprocesses` or `-p no:xdist`."""
    previous = ""
    for arg in args:
        if arg == "-n" or (arg.startswith("-n") and not arg.startswith("--")):
            return True
        if arg.startswith("--numprocesses"):
            return True
        if arg == "-pno:xdist" or (previous == "-p" and arg == "no:xdist"):
            return True
        previous = arg
    return False


def pytest_args(extra: Sequence[str], cpus: int) -> list[str]:
    if cpus > 1 and not chooses_workers(extra):
        return ["-n", "auto", *extra]
    return list(extra)


def suite_exit_code(pytest_code: int) -> int:
    """pytest's exit code, except that collecting no tests at all is a failure too."""
    return 1 if pytest_code == PYTEST_NO_TESTS_COLLECTED else pytest_code


def run_tests(python: Path, extra: Sequence[str]) -> int:
    command = [str(python), "-m", "pytest", *pytest_args(extra, cpu_count())]
    print("bootstrap: " + " ".join(command), flush=True)
    return suite_exit_code(run(command, cwd=ROOT).returncode)


def seed_result(output: str) -> dict:
    """The JSON object on the last non-empty line of `manage.py seed_demo`."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        raise ValueError("seed_demo printed nothing")
    return json.loads(lines[-1])


def serve_banner(seed: dict, port: str) -> str:
    """What `serve` prints before the server starts: where to go, how to log in, a token each."""
    base = f"http://127.0.0.1:{port}"
    staff = seed["staff"]
    width = max(len(member["username"]) for member in staff)
    return "\n".join(
        [
            "",
            f"Caseload demo program '{seed['program']}' is ready.",
            f"  Console:  {base}/console/ as any user below, password {seed['password']},",
            "            then a code from an authenticator app given the persona's TOTP secret:",
            *(
                f"    TOTP {member['username']:<{width}}  {member['totp_secret']}"
                for member in staff
            ),
            f"  API docs: {base}/api/docs/",
            f"  Log in:   {base}/api/auth/login/ as any user below, password {seed['password']}",
            "  API tokens (each run revokes the previous run's):",
            *(
                f"    {member['username']:<{width}}  {member['role']:<10}  {member['token']}"
                for member in staff
            ),
            "  Try it:",
            f'    curl -H "Authorization: Bearer {staff[0]["token"]}" {base}/api/v1/patients/',
            "",
        ]
    )


def manage(python: Path, *args: str, capture: bool = False) -> str:
    result = run([str(python), "manage.py", *args], cwd=ROOT, capture_output=capture, text=True)
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"bootstrap: manage.py {args[0]} failed (exit {result.returncode})")
    return result.stdout or ""


def serve(python: Path) -> NoReturn:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    port = os.environ.get("PORT", "8000")
    manage(python, "migrate", "--noinput")
    print(serve_banner(seed_result(manage(python, "seed_demo", capture=True)), port), flush=True)
    os.chdir(ROOT)
    # Replace this process so Ctrl-C and the exit code belong to runserver itself.
    os.execv(python, [str(python), "manage.py", "runserver", f"127.0.0.1:{port}"])  # noqa: S606


def run_manage(python: Path, args: Sequence[str]) -> int:
    """`manage.py` with the user's arguments, in the virtualenv; its exit code is ours."""
    return run([str(python), "manage.py", *args], cwd=ROOT).returncode


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "manage"} or argv == ["manage"]:
        print(USAGE, file=sys.stderr)
        return 2
    python = prepare()
    if argv[0] == "serve":
        serve(python)
    if argv[0] == "manage":
        return run_manage(python, argv[1:])
    return run_tests(python, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
