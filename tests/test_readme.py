"""The README and the pages under docs/ say what the commands and the server do, word for word.

In a quoted block `…` stands for text that differs from run to run (tokens, ids, times); every
other character must match. The README's tour and the quickstart are run as printed, by a shell,
against the demo program served by a real gunicorn.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command, get_commands
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from caseload.charts import SeriesPoint, point_title, render_withdrawal_trend_svg
from caseload.models import Staff
from config import bootstrap
from tests.conftest import api_for
from tests.factories import EnrollmentFactory, PatientFactory
from tests.gunicorn_server import _manage, serving
from tests.history_records import fill_history

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
API_DOC = (DOCS / "api.md").read_text()
OPERATIONS = (DOCS / "operations.md").read_text()
QUICKSTART = (DOCS / "quickstart.md").read_text()
MANAGE = ["python3", "-m", "config.bootstrap", "manage"]
DEMO = "http://127.0.0.1:8000"


def block_after(heading: str, fence: str, text: str = README) -> list[str]:
    """The lines of the first ```fence block after `heading` in `text`."""
    section = text[text.index(heading) :]
    start = section.index(f"```{fence}\n") + len(fence) + 4
    return section[start : section.index("```", start)].rstrip("\n").split("\n")


def blocks_between(text: str, start: str, end: str | None, fence: str = "bash") -> list[str]:
    """Every ```fence block from heading `start` up to heading `end`, in order."""
    section = text[text.index(start) : text.index(end) if end else None]
    return re.findall(rf"```{fence}\n(.*?)```", section, re.DOTALL)


def pattern(quoted: str) -> re.Pattern:
    return re.compile(".*?".join(re.escape(part) for part in quoted.split("…")))


def matches(quoted: str, actual: str) -> bool:
    return pattern(quoted).fullmatch(actual) is not None


def console_session(heading: str, text: str) -> list[tuple[str, list[str]]]:
    """(command, the lines the page shows it printing) for each `$ ` line of the block."""
    session: list[tuple[str, list[str]]] = []
    for line in block_after(heading, "console", text):
        if line.startswith("$ "):
            session.append((line[2:], []))
        else:
            session[-1][1].append(line)
    return session


SETUP = console_session("## Set-up commands", OPERATIONS)


def split_command(command: str) -> tuple[dict[str, str], list[str]]:
    """Leading `NAME=value` assignments, then the manage.py arguments after the bootstrap."""
    words = shlex.split(command)
    env = {}
    while "=" in words[0] and not words[0].startswith("-"):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert words[:4] == MANAGE, command
    return env, words[4:]


# The front door ---------------------------------------------------------------------------


def test_the_readme_is_a_front_door_of_at_most_250_lines():
    assert len(README.splitlines()) <= 250
    for heading in ("## First run", "## A ten-minute tour", "## Documentation"):
        assert heading in README
    for persona in ("counselor", "prescriber", "supervisor", "integrator"):
        assert f"### As a{'n' if persona[0] in 'aeiou' else ''} {persona}" in README


def test_every_file_the_readme_links_exists():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not link.startswith("http")]
    assert len(local) >= 10
    for link in local:
        assert (ROOT / link).exists(), link


def test_every_page_under_docs_is_linked_from_the_readme_or_the_site_index():
    index = (DOCS / "index.md").read_text()
    for page in DOCS.glob("*.md"):
        if page.name != "index.md":
            assert f"docs/{page.name}" in README or f"]({page.name})" in index, page.name


def test_every_api_path_the_readme_names_is_served():
    paths = set(re.findall(r"\$API(/[a-z0-9/$A-Z_-]*)", README))
    paths |= {
        m.removeprefix(DEMO) for m in re.findall(rf"{re.escape(DEMO)}/[A-Za-z0-9./_-]*", README)
    }
    paths.remove("/api/v1")  # API=, the base of every `$API` path
    assert {"/patients/", "/audit-events/", "/o/token/", "/fhir/Patient"} <= paths
    uuid = "8ce79bdd-0000-4000-8000-000000000000"
    for path in paths:
        concrete = re.sub(r"\$[A-Z]+", uuid, path)
        if not concrete.startswith(("/o/", "/fhir/", "/api/", "/console/")) and concrete != "/":
            concrete = f"/api/v1{concrete}"  # a `$API` path
        try:
            resolve(concrete)
        except Resolver404:
            pytest.fail(f"the README names {path} ({concrete}), which no route serves")


def test_every_command_the_docs_name_exists():
    text = README + "".join(page.read_text() for page in DOCS.glob("*.md"))
    named = set(re.findall(r"config\.bootstrap manage ([a-z_]+)", text))
    named |= set(re.findall(r"manage\.py ([a-z_]+)", text)) - {"command"}  # "any manage.py command"
    assert {"create_integration", "verify_audit_chain", "seed_demo", "rotate_secret_key"} <= named
    assert named <= set(get_commands()), named - set(get_commands())


def test_the_docs_run_manage_py_only_inside_the_virtualenv():
    # Only `.venv/bin/python manage.py` and the sentence saying a bare one fails may remain.
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        assert re.findall(r"(?<![/`])python3? manage\.py", page.read_text()) == [], page.name


def test_the_docs_never_send_an_integrator_to_a_program_the_demo_lacks():
    for text in (README, QUICKSTART, (DOCS / "integrations.md").read_text()):
        assert "--program riverside" not in text
        assert "program:riverside" not in text
    assert "create_integration reminders --program demo" in QUICKSTART


# The set-up commands (docs/operations.md) --------------------------------------------------


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


@pytest.mark.django_db
def test_each_set_up_command_prints_what_the_docs_show(monkeypatch):
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
        result = subprocess.run(  # noqa: S603 - the page's own lines
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
def test_the_history_query_counts_are_the_ones_the_api_reference_quotes(
    request, role, supervisor, counselor, prescriber
):
    found = HISTORY_FIGURES.search(" ".join(API_DOC.split()))
    assert found, "the history figures moved in docs/api.md; update this test with them"
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
    excerpt = [
        line for line in block_after("### Patient history", "text", API_DOC) if "history" in line
    ]
    assert excerpt
    for line in excerpt:
        records = int(re.search(r"records=(\d+)", line)[1])
        assert f"queries={measured[records]} " in line


def test_the_trend_chart_examples_are_what_the_chart_writes():
    zone = ZoneInfo("America/New_York")
    point = SeriesPoint(datetime(2026, 11, 23, 21, 33, tzinfo=UTC), 28, "moderately_severe")
    svg = render_withdrawal_trend_svg(series=[], last_use_at=point.at, title="T", zone=zone)

    assert "Date and time (America/New_York)" in svg
    assert "`Date and time (America/New_York)`" in API_DOC
    assert point_title("COWS", point, zone) == "COWS 28, moderately severe, 2026-11-23 16:33 EST"
    assert "`COWS 28, moderately severe, 2026-11-23 16:33 EST`" in API_DOC


# The tour, the quickstart and the API reference's examples, run as printed --------------------

TOKEN_LINE = re.compile(r"^([A-Z_]+)=(cl_)?….*$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """gunicorn serving a freshly loaded demo program, as `serve` leaves it, and its tokens."""
    tmp_path = tmp_path_factory.mktemp("demo")
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    _manage(env, "migrate", "--no-input", "-v", "0")
    seed = bootstrap.seed_result(_manage(env, "seed_demo"))
    tokens = {member["username"]: member["token"] for member in seed["staff"]}
    with serving(env) as server:
        yield server, env, tokens, tmp_path


def as_script(blocks: list[str], port: int, **replace: str) -> str:
    """The blocks as one bash script against `port`; `NAME=…` lines (pasted values) left out."""
    lines = [line for block in blocks for line in block.splitlines()]
    script = "\n".join(line for line in lines if not TOKEN_LINE.match(line))
    for old, new in {DEMO: f"http://127.0.0.1:{port}", **replace}.items():
        script = script.replace(old, new)
    return script


def run_shell(script: str, env: dict, **variables: str) -> str:
    result = subprocess.run(  # noqa: S603 - the page's own lines
        ["/bin/bash", "-c", f"set -euo pipefail\n{script}"],
        cwd=ROOT,
        env={**env, **variables},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    return result.stdout


def in_order(output: str, expected: list[str]) -> None:
    """Each expected text on a line after the previous one's line (a status is the whole line)."""
    lines = output.splitlines()
    position = 0
    for text in expected:
        found = [
            i
            for i, line in enumerate(lines[position:], position)
            if line == text or (not text.isdigit() and text in line)
        ]
        assert found, (text, lines[position:])
        position = found[0] + 1


def test_the_readme_tour_runs_against_the_demo_as_printed(demo):
    server, env, tokens, tmp_path = demo
    blocks = blocks_between(README, "## A ten-minute tour", "## Documentation")
    assert len(blocks) == 6
    script = as_script(blocks, server.port, **{"-o trend.svg": f"-o {tmp_path / 'trend.svg'}"})
    output = run_shell(
        script,
        env,
        COUNSELOR=tokens["demo.counselor"],
        PRESCRIBER=tokens["demo.prescriber"],
        SUPERVISOR=tokens["demo.supervisor"],
    )

    caseload = output.split("\n14 moderate\n")[0].splitlines()
    assert [line.split()[0] for line in caseload] == ["DEMO-0002", "DEMO-0001"]
    in_order(
        output,
        [
            "14 moderate",  # the counselor's COWS
            "final 1",  # the note
            "200 image/svg+xml; charset=utf-8",  # the chart
            "403",  # a counselor writing a medication
            "404",  # a patient off the caseload
            "DEMO-0003 protracted",  # after breaking the glass
            "cows_severe acknowledged",  # the prescriber's alert
            "enrollment ",  # the oldest line of the history
            "buprenorphine 8.000 mg once daily active",
            "counselor create assessment allowed",  # the supervisor's audit log
            "Crisis cover confirmed with Ria.",
            '{"ok": true, "events": ',
            " booked",  # the integrator's feed
            "Bundle searchset",
            "403",  # and nothing clinical
        ],
    )
    assert "<svg" in (tmp_path / "trend.svg").read_text()
    for quoted in ("`14 moderate`", "`final 1`", "`200 image/svg+xml; charset=utf-8`", "`403`"):
        assert quoted in README


def test_the_quickstart_runs_against_the_demo_as_printed(demo, tmp_path):
    server, env, _, _ = demo
    blocks = [b for b in blocks_between(QUICKSTART, "## 2.", None) if "bootstrap serve" not in b]
    register, pasted, *rest = blocks
    assert "create_integration reminders --program demo" in register
    printed = run_shell(as_script([register], server.port), env).strip().splitlines()[-1]
    credentials = json.loads(printed)
    assert re.findall(r"^([A-Z_]+)=…", pasted, re.M) == ["CLIENT_ID", "CLIENT_SECRET"]
    variables = {
        "CLIENT_ID": credentials["client_id"],
        "CLIENT_SECRET": credentials["client_secret"],
    }

    shell = [b for b in rest if "quickstart.py" not in b]
    output = run_shell(as_script(shell, server.port), env, **variables)
    token, _ = json.JSONDecoder().raw_decode(output)
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "appointments:read patients:read"
    assert '"next_sync"' in output
    assert '"resourceType":"Bundle"' in output.replace(" ", "")

    (snippet,) = blocks_between(QUICKSTART, "## 5.", None, fence="python")
    assert len([line for line in snippet.splitlines() if line.strip()]) == 5
    (tmp_path / "quickstart.py").write_text(as_script([snippet], server.port))
    (run,) = [b for b in rest if "quickstart.py" in b]
    run = run.replace(".venv/bin/python", sys.executable)
    started = run_shell(f"cd {tmp_path}\n{run}", env, **variables).strip()
    assert datetime.fromisoformat(started).tzinfo is not None
    assert started.endswith("Z")


def test_the_api_reference_examples_run_against_the_demo(demo):
    server, env, tokens, _ = demo
    heading = "The examples run against the demo"
    setup, cows = blocks_between(API_DOC, heading, "The same request with")
    output = run_shell(as_script([setup, cows], server.port), env, TOKEN=tokens["demo.counselor"])
    answer = json.loads(output)
    assert (answer["total_score"], answer["severity"]) == (14, "moderate")
    assert answer["administered_at"].endswith("Z")
