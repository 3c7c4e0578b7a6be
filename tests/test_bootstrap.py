"""config/bootstrap.py: the parts that decide what to run. No network, no virtualenv is created."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from config import bootstrap

ROOT = Path(__file__).resolve().parent.parent
SEED = {
    "program": "demo",
    "password": "demo-password-not-secret",
    "staff": [
        {
            "username": "demo.counselor",
            "role": "counselor",
            "token": "cl_counselor",
            "totp_secret": "TOTPCOUNSELOR",
        },
        {
            "username": "demo.counselor2",
            "role": "counselor",
            "token": "cl_counselor2",
            "totp_secret": "TOTPCOUNSELOR2",
        },
        {
            "username": "demo.prescriber",
            "role": "prescriber",
            "token": "cl_prescriber",
            "totp_secret": "TOTPPRESCRIBER",
        },
        {
            "username": "demo.supervisor",
            "role": "supervisor",
            "token": "cl_supervisor",
            "totp_secret": "TOTPSUPERVISOR",
        },
        {
            "username": "demo.frontdesk",
            "role": "front_desk",
            "token": "cl_frontdesk",
            "totp_secret": "TOTPFRONTDESK",
        },
    ],
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "caseload"\n')
    (tmp_path / ".venv").mkdir()
    return tmp_path


class FakePip:
    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode
        self.calls: list[tuple[list[str], Path]] = []

    def __call__(self, command: list[str], cwd: Path) -> subprocess.CompletedProcess:
        self.calls.append((command, cwd))
        return subprocess.CompletedProcess(command, self.returncode)


def test_it_installs_when_there_is_no_stamp(project):
    pip = FakePip()

    assert bootstrap.ensure_installed(project / ".venv", project, runner=pip) is True

    command, cwd = pip.calls[0]
    assert command[1:] == ["-m", "pip", "install", "-e", ".[dev]"]
    assert command[0] == str(bootstrap.venv_python(project / ".venv"))
    assert cwd == project


def test_it_skips_the_install_when_pyproject_is_unchanged(project):
    bootstrap.ensure_installed(project / ".venv", project, runner=FakePip())
    pip = FakePip()

    assert bootstrap.ensure_installed(project / ".venv", project, runner=pip) is False
    assert pip.calls == []


def test_it_reinstalls_when_pyproject_changes(project):
    bootstrap.ensure_installed(project / ".venv", project, runner=FakePip())
    (project / "pyproject.toml").write_text('[project]\nname = "caseload"\nversion = "2"\n')
    pip = FakePip()

    assert bootstrap.ensure_installed(project / ".venv", project, runner=pip) is True
    assert len(pip.calls) == 1


def test_the_stamp_records_the_sha256_of_pyproject(project):
    bootstrap.ensure_installed(project / ".venv", project, runner=FakePip())

    stamp = (project / ".venv" / bootstrap.STAMP_NAME).read_text().strip()
    assert stamp == bootstrap.file_digest(project / "pyproject.toml")
    assert len(stamp) == 64


def test_a_failed_install_stops_and_writes_no_stamp(project):
    with pytest.raises(SystemExit):
        bootstrap.ensure_installed(project / ".venv", project, runner=FakePip(returncode=1))

    assert not (project / ".venv" / bootstrap.STAMP_NAME).exists()


def test_a_stale_stamp_means_install(tmp_path):
    stamp = tmp_path / "stamp"
    stamp.write_text("0" * 64 + "\n")

    assert bootstrap.needs_install(stamp, "0" * 64) is False
    assert bootstrap.needs_install(stamp, "1" * 64) is True


def test_pytest_runs_on_all_cpus_when_there_are_several():
    assert bootstrap.pytest_args(["-q"], cpus=4) == ["-n", "auto", "-q"]


def test_pytest_runs_in_one_process_on_a_single_cpu():
    assert bootstrap.pytest_args(["-q"], cpus=1) == ["-q"]


@pytest.mark.parametrize(
    "extra",
    [
        ["-n", "3"],
        ["-n3"],
        ["-nauto"],
        ["--numprocesses=2"],
        ["--numprocesses", "2"],
        ["-p", "no:xdist"],
        ["-pno:xdist"],
        ["tests/caseload", "-x", "-n", "0"],
    ],
)
def test_pytest_keeps_the_users_own_worker_choice(extra):
    assert bootstrap.pytest_args(extra, cpus=8) == extra


def test_options_that_merely_start_with_n_still_get_workers():
    extra = ["--no-header", "-p", "no:cacheprovider", "tests/test_bootstrap.py"]

    assert bootstrap.pytest_args(extra, cpus=2) == ["-n", "auto", *extra]


@pytest.mark.parametrize(("pytest_code", "expected"), [(0, 0), (1, 1), (2, 2), (5, 1)])
def test_collecting_no_tests_counts_as_failure(pytest_code, expected):
    assert bootstrap.suite_exit_code(pytest_code) == expected


def test_the_seed_result_is_the_json_on_the_last_line():
    output = "Demo program 'demo' ready. Log in as ...\n" + json.dumps(SEED) + "\n\n"

    assert bootstrap.seed_result(output) == SEED


def test_a_seed_run_without_output_is_an_error():
    with pytest.raises(ValueError, match="printed nothing"):
        bootstrap.seed_result("\n")


def test_the_banner_tells_where_to_go_and_how_to_log_in():
    banner = bootstrap.serve_banner(SEED, port="8000")

    assert "http://127.0.0.1:8000/api/docs/" in banner
    assert "http://127.0.0.1:8000/api/auth/login/" in banner
    assert "demo-password-not-secret" in banner
    assert (
        'curl -H "Authorization: Bearer cl_counselor" http://127.0.0.1:8000/api/v1/patients/'
        in banner
    )


def test_the_banner_prints_every_personas_token_on_its_own_line():
    lines = bootstrap.serve_banner(SEED, port="8000").splitlines()

    for member in SEED["staff"]:
        [line] = [line for line in lines if line.split()[:1] == [member["username"]]]
        assert line.split() == [member["username"], member["role"], member["token"]]


def test_the_banner_sends_people_to_the_console_with_each_personas_totp_secret():
    lines = bootstrap.serve_banner(SEED, port="8000").splitlines()

    assert any("http://127.0.0.1:8000/console/" in line for line in lines)
    for member in SEED["staff"]:
        assert ["TOTP", member["username"], member["totp_secret"]] in [
            line.split() for line in lines
        ]


def test_the_banner_uses_the_chosen_port():
    banner = bootstrap.serve_banner(SEED, port="9001")

    assert "http://127.0.0.1:9001/api/docs/" in banner
    assert ":8000" not in banner


def test_an_unknown_command_prints_usage_and_sets_nothing_up(capsys, monkeypatch):
    monkeypatch.setattr(bootstrap, "prepare", lambda: pytest.fail("must not set anything up"))

    assert bootstrap.main(["deploy"]) == 2
    assert bootstrap.main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_the_test_command_passes_arguments_to_pytest_in_the_virtualenv(monkeypatch):
    calls = []
    monkeypatch.setattr(bootstrap, "prepare", lambda: Path("/venv/bin/python"))
    monkeypatch.setattr(bootstrap, "cpu_count", lambda: 1)
    monkeypatch.setattr(
        bootstrap, "run", lambda command, **kw: calls.append(command) or FakePip(5)(command, ROOT)
    )

    assert bootstrap.main(["test", "-k", "audit"]) == 1
    assert calls == [["/venv/bin/python", "-m", "pytest", "-k", "audit"]]


def test_the_manage_command_runs_manage_py_in_the_virtualenv_and_returns_its_exit_code(
    monkeypatch,
):
    calls = []
    monkeypatch.setattr(bootstrap, "prepare", lambda: Path("/venv/bin/python"))
    monkeypatch.setattr(
        bootstrap,
        "run",
        lambda command, **kw: calls.append((command, kw)) or FakePip(3)(command, ROOT),
    )

    assert bootstrap.main(["manage", "issue_token", "dana", "--days", "7"]) == 3
    assert calls == [
        (["/venv/bin/python", "manage.py", "issue_token", "dana", "--days", "7"], {"cwd": ROOT})
    ]


def test_manage_without_a_command_prints_usage_and_sets_nothing_up(capsys, monkeypatch):
    monkeypatch.setattr(bootstrap, "prepare", lambda: pytest.fail("must not set anything up"))

    assert bootstrap.main(["manage"]) == 2
    assert "manage COMMAND" in capsys.readouterr().err


def test_bootstrap_imports_only_the_standard_library():
    tree = ast.parse((ROOT / "config" / "bootstrap.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])

    assert imported - set(sys.stdlib_module_names) == set()


def test_the_config_package_stays_empty_so_bootstrap_runs_without_django():
    assert (ROOT / "config" / "__init__.py").read_text().strip() == ""
