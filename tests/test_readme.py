"""What the README quotes is what the commands and the server print, word for word.

In a quoted block `…` stands for text that differs from run to run (tokens, ids, times); every
other character must match.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseload.charts import SeriesPoint, point_title, render_withdrawal_trend_svg
from caseload.models import Staff
from config import bootstrap
from tests.conftest import api_for
from tests.factories import EnrollmentFactory, PatientFactory
from tests.history_records import fill_history

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
MANAGE = ["python3", "-m", "config.bootstrap", "manage"]


def block_after(heading: str, fence: str) -> list[str]:
    """The lines of the first ```fence block after `heading`."""
    section = README[README.index(heading) :]
    start = section.index(f"```{fence}\n") + len(fence) + 4
    return section[start : section.index("```", start)].rstrip("\n").split("\n")


def pattern(quoted: str) -> re.Pattern:
    return re.compile(".*?".join(re.escape(part) for part in quoted.split("…")))


def matches(quoted: str, actual: str) -> bool:
    return pattern(quoted).fullmatch(actual) is not None


def console_session(heading: str) -> list[tuple[str, list[str]]]:
    """(command, the lines the README shows it printing) for each `$ ` line of the block."""
    session: list[tuple[str, list[str]]] = []
    for line in block_after(heading, "console"):
        if line.startswith("$ "):
            session.append((line[2:], []))
        else:
            session[-1][1].append(line)
    return session


SETUP = console_session("## Set-up commands")


def split_command(command: str) -> tuple[dict[str, str], list[str]]:
    """Leading `NAME=value` assignments, then the manage.py arguments after the bootstrap."""
    words = shlex.split(command)
    env = {}
    while "=" in words[0] and not words[0].startswith("-"):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert words[:4] == MANAGE, command
    return env, words[4:]


def test_the_set_up_block_runs_every_command_through_the_bootstrap():
    assert [split_command(command)[1][0] for command, _ in SETUP] == [
        "migrate",
        "create_program",
        "create_staff",
        "create_staff",
        "issue_token",
        "revoke_tokens",
        "assign_care_team",
        "create_integration",
        "seed_demo",
        "sync_roles",
        "verify_audit_chain",
    ]
    # Only `.venv/bin/python manage.py` and the sentence saying a bare one fails may remain.
    assert re.findall(r"(?<![/`])python3? manage\.py", README) == []


@pytest.mark.django_db
def test_each_set_up_command_prints_what_the_readme_shows(monkeypatch):
    patient_id = None
    for command, shown in SETUP:
        env, args = split_command(command)
        if args[0] == "migrate":  # the test database is already migrated
            continue
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        if "<PATIENT_ID>" in command:
            supervisor = Staff.objects.get(username="dana")
            patient_id = str(PatientFactory(actor=supervisor).pk)
            args = [arg.replace("<PATIENT_ID>", patient_id) for arg in args]
            shown = [line.replace("<PATIENT_ID>", patient_id) for line in shown]
        out = StringIO()
        call_command(*args, stdout=out)
        printed = out.getvalue().rstrip("\n").split("\n")
        assert shown, command
        assert len(printed) == len(shown), (command, printed)
        for quoted, actual in zip(shown, printed, strict=True):
            assert matches(quoted, actual), (command, quoted, actual)
        json.loads(printed[-1])  # the last line is one JSON object
    assert patient_id is not None
    assert Staff.objects.get(username="sam").check_password("correct horse battery staple")


def test_the_set_up_commands_work_as_written_from_a_shell(tmp_path):
    """The block, run by a shell through the bootstrap, against a new SQLite database."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL"}
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'readme.sqlite3'}"
    for command, shown in SETUP:
        if "<PATIENT_ID>" in command:
            continue  # needs a registered patient; the test above runs it
        result = subprocess.run(  # noqa: S603 - the README's own lines
            ["/bin/sh", "-c", command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])
        if shown:
            last = result.stdout.rstrip("\n").split("\n")[-1]
            assert matches(shown[-1], last), (command, shown[-1], last)


@pytest.mark.django_db
def test_the_serve_banner_is_the_one_the_readme_shows():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    banner = bootstrap.serve_banner(bootstrap.seed_result(out.getvalue()), port="8000")
    printed = banner.strip("\n").split("\n")
    quoted = block_after("## First run", "text")

    assert len(printed) == len(quoted)
    for line, actual in zip(quoted, printed, strict=True):
        assert matches(line, actual), (line, actual)


def test_the_readme_names_the_bootstrap_commands_the_usage_names():
    for command in ("serve", "test", "manage COMMAND"):
        assert f"python3 -m config.bootstrap {command}" in README
        assert command in bootstrap.USAGE


# The history figures ---------------------------------------------------------------------

HISTORY_FIGURES = re.compile(
    r"(\d+) for a record holding every type, with 10 records as with 200, and (\d+) for an"
    r" enrollment alone"
)


def history_queries(api, patient) -> int:
    url = f"/api/v1/patients/{patient.pk}/history/"
    api.get(url)  # as the bench does: warm caches and the token's last-used stamp first
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("role", ["prescriber", "supervisor"])
def test_the_history_query_counts_are_the_ones_the_readme_quotes(
    request, role, supervisor, counselor, prescriber
):
    found = HISTORY_FIGURES.search(" ".join(README.split()))
    assert found, "the README's history figures moved; update this test with them"
    every_type, enrollment_only = int(found[1]), int(found[2])
    api = api_for(request.getfixturevalue(role))
    measured = {}
    for records in (0, 10, 200):
        patient = PatientFactory(actor=supervisor)
        EnrollmentFactory(
            actor=supervisor, patient=patient, counselor=counselor, prescriber=prescriber
        )
        fill_history(patient, counselor, prescriber, records)
        measured[records] = history_queries(api, patient)

    assert measured == {0: enrollment_only, 10: every_type, 200: every_type}
    excerpt = [line for line in block_after("### Patient history", "text") if "history" in line]
    assert excerpt
    for line in excerpt:
        records = int(re.search(r"records=(\d+)", line)[1])
        assert f"queries={measured[records]} " in line


def test_the_trend_chart_examples_are_what_the_chart_writes():
    zone = ZoneInfo("America/New_York")
    point = SeriesPoint(datetime(2026, 11, 23, 21, 33, tzinfo=UTC), 28, "moderately_severe")
    svg = render_withdrawal_trend_svg(series=[], last_use_at=point.at, title="T", zone=zone)

    assert "Date and time (America/New_York)" in svg
    assert "`Date and time (America/New_York)`" in README
    assert point_title("COWS", point, zone) == "COWS 28, moderately severe, 2026-11-23 16:33 EST"
    assert "`COWS 28, moderately severe, 2026-11-23 16:33 EST`" in README
