"""The benchmark harness end to end on the tiny profile, so it never rots.

Seeds the suite's own (already migrated, empty) test database with `bench/seed.py --profile
tiny`, runs `bench/run.py` for one second per measurement and checks that the table comes out
whole, with the lawful floor's column beside the bare floor's, and that every walk served every
appointment exactly once. It never judges a time: CI
machines differ. The test is transactional: the seeded rows are committed (the servers are other
processes) and the database is emptied after it, as after every transactional test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# The table's first columns: the bare floor, the lawful floor beside it, stock DRF, Caseload.
COLUMNS = ["measurement", "floor", "lawful floor", "stock DRF", "Caseload"]
ROWS = (
    "feed page 500 (integration), req/s",
    "same, vs stock DRF",
    "same, p50 / p99 ms",
    "deep page (row 1,500) p50 ms",
    "first page in the same run, p50 ms",
    "whole walk (2,000 rows), s",
    "walk duplicates / gaps",
    "patient history p50 ms",
    "/api/v1/me/ vs bare Django view, req/s",
    "SQL queries at page size 10/100/1000",
    "mixed load at 70 % of peak",
    "record: 304 If-None-Match vs 200, req/s",
    "patient history: 304 If-None-Match vs 200, req/s",
    "feed page 500 (integration): 304 If-None-Match vs 200, req/s",
    "audit bytes per request / per id, staff list",
    "audit bytes per request / per id, feed",
    "Caseload worker RSS, first / last third, MiB",
)
CONDITIONAL = (
    "record: 304 If-None-Match vs 200, req/s",
    "patient history: 304 If-None-Match vs 200, req/s",
    "feed page 500 (integration): 304 If-None-Match vs 200, req/s",
)


def suite_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's copy, migrated)."""
    params = connection.settings_dict
    user = params.get("USER") or "postgres"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{params['NAME']}"


def run(script: str, url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # each script picks its own
    return subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.postgres
def test_tiny_profile_prints_every_row_and_walks_without_duplicates_or_gaps(transactional_db):
    url = suite_database_url()
    seeded = run("seed.py", url, "--profile", "tiny")
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert '"caseload_appointment":2000' in seeded.stdout

    result = run("run.py", url, "--profile", "tiny", "--duration", "1", "--repeats", "1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = result.stdout[result.stdout.index("Caseload benchmark, profile tiny") :]
    for label in ROWS:
        assert re.search(rf"^\s*{re.escape(label)}", table, re.MULTILINE), label
    rows = table_cells(table)
    assert list(rows["measurement"].values())[:5] == COLUMNS, rows["measurement"]
    walk = rows["walk duplicates / gaps"]
    assert walk["floor"] == walk["lawful floor"] == walk["Caseload"] == "0 / 0", walk
    for server in ("caseload", "floor", "lawful"):
        served = rf"walk {server}: 2,000 rows in [\d.]+ s, 0 duplicates, 0 gaps"
        assert re.search(served, result.stdout), server

    # Every server answered the feed page; ratios to a floor are to the lawful one.
    feed = rows["feed page 500 (integration), req/s"]
    assert all(float(feed[c].replace(",", "")) > 0 for c in COLUMNS[1:]), feed
    assert feed["ratio"].endswith("% of lawful floor"), feed
    assert rows["whole walk (2,000 rows), s"]["ratio"].endswith("x lawful floor")
    assert rows["patient history p50 ms"]["ratio"].endswith("x lawful floor")
    assert float(rows["patient history p50 ms"]["lawful floor"]) > 0
    # The deep page is compared with the first page timed in the same run.
    assert rows["deep page (row 1,500) p50 ms"]["ratio"].endswith("x first page"), rows
    assert float(rows["first page in the same run, p50 ms"]["Caseload"]) > 0
    # Each conditional GET answered 304 to the ETag of its 200 (a rate for both).
    for label in CONDITIONAL:
        hit, whole = rows[label]["Caseload"].split(" vs ")
        assert float(hit.replace(",", "")) > 0 and float(whole.replace(",", "")) > 0, rows[label]
        assert re.fullmatch(r"[\d.]+x", rows[label]["ratio"]), rows[label]
    # The workers' memory, first third against last, from /proc.
    rss = rows["Caseload worker RSS, first / last third, MiB"]
    assert re.fullmatch(r"[\d,.]+ / [\d,.]+", rss["Caseload"]), rss
    assert re.search(r"^  first third: [\d.]+ MiB \(pid \d+", result.stdout, re.MULTILINE)
    assert re.search(r"^  last third:  [\d.]+ MiB \(pid \d+", result.stdout, re.MULTILINE)
    # The lawful floor writes the feed's audit event and ledger rows; the bare floor none.
    audit = rows["audit bytes per request / per id, feed"]
    assert audit["floor"] == "0", audit
    per_request, per_id = (float(x.replace(",", "")) for x in audit["lawful floor"].split(" / "))
    assert per_request > 0 and per_id > 0, audit


def table_cells(table: str) -> dict[str, dict[str, str]]:
    """The printed table as {measurement: {column title: cell}} (titles from its header)."""
    lines = [line for line in table.splitlines()[1:] if "|" in line and "-+-" not in line]
    titles = [cell.strip() for cell in lines[0].split("|")]
    titles[-1] = titles[-1] or "verdict"
    rows = {}
    for line in lines:
        cells = [cell.strip() for cell in line.split("|")]
        cells += [""] * (len(titles) - len(cells))
        rows[cells[0]] = dict(zip(titles, cells, strict=True))
    return rows


@pytest.mark.postgres
def test_spy_shows_where_the_workers_request_time_goes(transactional_db):
    """bench/spy.py samples both workers with py-spy while it loads each path."""
    url = suite_database_url()
    seeded = run("seed.py", url, "--profile", "tiny")
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    result = run("spy.py", url, "--seconds", "2", "--only", "me,feed 304", "--top", "200")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for label in ("me", "feed 304"):
        header = rf"^=== {label}: [\d.]+ req/s under py-spy, (\d+) samples inside requests ===$"
        found = re.search(header, result.stdout, re.MULTILINE)
        assert found and int(found.group(1)) > 0, result.stdout
        block = result.stdout[found.end() :].split("heaviest frames")[0]
        shares = [float(share) for share in re.findall(r"^\s+([\d.]+)%", block, re.MULTILINE)]
        assert 99.0 <= sum(shares) <= 101.0, block
    assert "waiting on PostgreSQL" in result.stdout
    assert "MeView.get (api/v1/me.py" in result.stdout
