"""Caseload beside the floor and stock DRF: one table of req/s, latencies and ratios.

    DATABASE_URL=postgres://root@127.0.0.1:5432/bench_standard .venv/bin/python bench/run.py \
        --profile standard [--duration 10] [--repeats 3]

Seed the database first with `bench/seed.py --profile <same>`. The runner starts four servers
with gunicorn (2 sync workers each, the same database): the bare floor (`bench/floor.py`, reads
only), the lawful floor (`bench.floor:lawful_app`: the same reads plus the audit event and, for
an integration's feed page, the disclosure ledger rows the law requires, in one transaction),
stock DRF (`bench/baseline/`) and Caseload (`config.settings.production`, DEBUG off). Every
ratio to a floor is to the lawful one; the bare floor is printed beside it. It issues its own
credentials in-process (personal tokens with `token_issue`, an integration client with
`integration_create` and its OAuth2 token from `POST /o/token/`). Load comes from `wrk` when it
is on PATH, otherwise from a built-in keep-alive generator (threads + http.client); the output
says which. Timed runs take turns (floor, lawful floor, DRF, Caseload, floor, …) `--repeats`
times and the table shows medians; each starts only when the previous run's work is over (no
server process busy, no other statement running: `bench/processes.py`), since `wrk` leaves its
last requests to be served after it exits. The whole walk runs once per server (it is long on
`standard`), and what it wrote is vacuumed before the timed runs. The deep page is timed in one
run with the first page, the two in turn. Caseload's workers' RSS is sampled from /proc once a
second through the timed part, and its first third compared with its last.

Targets are printed PASS/MISS and never fail the run; the exit status is non-zero only when the
harness itself breaks: a server does not start, an answer is an error or not the expected
JSON, or a walk has duplicates or gaps.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402 - after the path, like the other bench scripts

from bench.processes import RssSampler, RssThird, settle  # noqa: E402

FEED_FIELDS = {"id", "patient", "staff", "kind", "status", "start", "end", "location", "version"}
FEED_FIELDS |= {"updated_at"}
EPOCH = "1970-01-01T00:00:00Z"
CONNECTIONS = 4  # two sync workers per server: four connections keep both busy
AUDIT_KEY = "bench-audit-key-not-secret-" + "0" * 24  # Caseload's and the lawful floor's
PEAK_SHARE = 0.7
FLOORS = ("floor", "lawful")  # the bare floor (reads only) and the lawful floor (and its writes)


class HarnessError(RuntimeError):
    """The harness cannot measure: a server, an answer or a walk is wrong."""


# Servers ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    app: str
    env: dict
    port: int = 0
    process: subprocess.Popen | None = None
    log: Path | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / f"{self.name}.log"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "--workers", "2", "--worker-class", "sync"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--chdir", str(ROOT), self.app]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )

    def wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"{self.name} server exited:\n{self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                status, _, _ = request(self.port, "GET", "/healthz")
                if status < 500:
                    return
            time.sleep(0.2)
        raise HarnessError(f"{self.name} server did not answer in {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            if self.process.poll() is None:
                self.process.kill()


STATIC_ROOT = Path(tempfile.gettempdir()) / "caseload-bench-static"


def collect_static(env: dict) -> None:
    """Production settings refuse to start without collected static files (the API docs)."""
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
        env={**os.environ, **env},
        check=True,
    )


def request(port: int, method: str, path: str, headers: dict | None = None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def get_json(server: Server, path: str, token: str, expect: int = 200) -> dict:
    status, _, body = request(server.port, "GET", path, {"Authorization": f"Bearer {token}"})
    if status != expect:
        raise HarnessError(f"{server.name} GET {path}: {status} {body[:300]!r}")
    return orjson.loads(body)


# Load ------------------------------------------------------------------------------------------
@dataclass
class Load:
    rps: float
    p50: float  # ms
    p99: float
    errors: int
    requests: int


def load(
    server: Server, path: str, headers: dict, seconds: float, ok=(200,), tool: str = "python"
) -> Load:
    if tool == "wrk":
        return wrk_load(server, path, headers, seconds, ok)
    return python_load(server.port, [(path, headers)], seconds, ok)


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _WRK_UNITS[unit]


def wrk_load(server: Server, path: str, headers: dict, seconds: float, ok) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        for name, value in headers.items():
            script.write(f'wrk.headers["{name}"] = [==[{value}]==]\n')  # Lua long strings
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    command += ["--timeout", "60s"]  # a slow answer is a time to report, not an error
    command += ["-s", script.name, server.url(path)]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write) (\d+)", out))
    # wrk counts any 2xx or 3xx as an answer; the preflight request checked the exact status.
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = (int(non_ok.group(1)) if non_ok else 0) + socket_errors
    return Load(rps, p50, p99, errors, requests)


def python_load(
    port: int,
    targets: list[tuple[str, dict]],
    seconds: float,
    ok=(200,),
    rate: float | None = None,
    threads: int = CONNECTIONS,
    per_target: list[Load] | None = None,
) -> Load:
    """Keep-alive client threads taking `targets` in turn; closed loop, or paced at `rate`
    requests per second (latency then counts from each request's planned start, so a server
    falling behind shows as latency instead of a slower sender). Each thread waits for its
    last answer, so no request is left running on the server when it returns. `per_target`,
    when given, receives one Load per target (its share of the requests)."""
    latencies: list[float] = []
    by_target: list[list[float]] = [[] for _ in targets]
    errors = [0]
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + seconds
    counter = iter(range(10**9))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                n = next(counter)
            planned = started + n / rate if rate else time.perf_counter()
            if planned >= deadline:
                break
            delay = planned - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            path, headers = targets[n % len(targets)]
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                good = response.status in ok
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                good = False
            elapsed = (time.perf_counter() - planned) * 1000
            with lock:
                latencies.append(elapsed)
                by_target[n % len(targets)].append(elapsed)
                errors[0] += not good
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    total = time.perf_counter() - started
    if per_target is not None:
        per_target.extend(summary(each, total, 0) for each in by_target)
    return summary(latencies, total, errors[0])


def summary(latencies: list[float], seconds: float, errors: int) -> Load:
    if not latencies:
        return Load(0.0, 0.0, 0.0, errors, 0)
    latencies = sorted(latencies)
    pick = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Load(
        len(latencies) / seconds, statistics.median(latencies), pick, errors, len(latencies)
    )


# Walks -----------------------------------------------------------------------------------------
@dataclass
class Walk:
    seconds: float
    ids: list[str]
    deep_link: str | None
    pages: int
    links: list[str]


def walk(server: Server, token: str, first: str, deep_row: int) -> Walk:
    """Follow `next` links to the end; keep the link of the page starting near `deep_row`."""
    ids: list[str] = []
    deep, pages, path, links = None, 0, first, []
    started = time.perf_counter()
    while path:
        links.append(path)
        page = get_json(server, path, token)
        check_feed_page(server.name, page)
        if deep is None and len(ids) >= deep_row:
            deep = path
        ids.extend(row["id"] for row in page["results"])
        pages += 1
        nxt = page["next"]
        path = None if nxt is None else _path(nxt)
    return Walk(time.perf_counter() - started, ids, deep, pages, links)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def check_feed_page(name: str, page: dict) -> None:
    if not {"next", "previous", "results"} <= set(page):
        raise HarnessError(f"{name}: not a feed page: {sorted(page)}")
    for row in page["results"][:3]:
        if set(row) != FEED_FIELDS:
            raise HarnessError(f"{name}: feed row fields {sorted(row)} != {sorted(FEED_FIELDS)}")


def walk_errors(ids: list[str], expected: set[str]) -> tuple[int, int]:
    """(duplicates, gaps): rows served twice, and rows of the database never served."""
    return len(ids) - len(set(ids)), len(expected - set(ids))


# Credentials and in-process measurements ---------------------------------------------------------
@dataclass
class Credentials:
    supervisor: str
    counselor: str
    prescriber: str
    client_id: str
    client_secret: str
    program_id: str
    history_patient: str
    prescriber_patient: str
    appointment: str
    oauth: str = ""
    expected_ids: set[str] = field(default_factory=set)


def setup_django() -> None:
    # The servers' password hashers (an integration's secret must verify in production), and
    # the test client's host.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)


def credentials() -> Credentials:
    from django.db import connection

    from caseload.models import Appointment, Patient, Program, Staff
    from caseload.services.integrations import integration_create
    from caseload.services.tokens import token_issue

    program = Program.objects.get(code="bench")
    staff = {s.username: s for s in Staff.objects.filter(program=program)}
    if "bench.supervisor" not in staff:
        raise HarnessError("No benchmark program: run bench/seed.py first.")
    prescriber = staff["bench.prescriber0"]
    client, secret = integration_create(
        name=f"bench-{time.time_ns()}",
        program=program,
        scopes=["appointments:read"],
        actor=staff["bench.supervisor"],
    )
    with connection.cursor() as cursor:
        # The program's patient with the longest history: the most records and changes to read.
        cursor.execute(
            "SELECT patient_id FROM caseload_historicalappointment WHERE program_id = %s"
            " GROUP BY patient_id ORDER BY count(*) DESC, patient_id LIMIT 1",
            [program.pk],
        )
        history_patient = str(cursor.fetchone()[0])
        cursor.execute(
            "SELECT a.id::text FROM caseload_appointment a JOIN caseload_patient p"
            " ON p.id = a.patient_id WHERE p.program_id = %s",
            [program.pk],
        )
        expected = {row[0] for row in cursor.fetchall()}
    mine = Patient.objects.filter(enrollments__prescriber=prescriber).order_by("pk").first()
    return Credentials(
        supervisor=token_issue(staff=staff["bench.supervisor"], name="bench")[1],
        counselor=token_issue(staff=staff["bench.counselor0"], name="bench")[1],
        prescriber=token_issue(staff=prescriber, name="bench")[1],
        client_id=client.application.client_id,
        client_secret=secret,
        program_id=str(program.pk),
        history_patient=history_patient,
        prescriber_patient=str(mine.pk),
        appointment=str(
            Appointment.objects.filter(patient__program=program).order_by("pk").first().pk
        ),
        expected_ids=expected,
    )


def oauth_token(server: Server, creds: Credentials) -> str:
    import base64

    basic = base64.b64encode(f"{creds.client_id}:{creds.client_secret}".encode()).decode()
    status, _, body = request(
        server.port,
        "POST",
        "/o/token/",
        {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        "grant_type=client_credentials",
    )
    if status != 200:
        raise HarnessError(f"POST /o/token/: {status} {body[:300]!r}")
    return orjson.loads(body)["access_token"]


def list_routes() -> list[str]:
    from api.v1.urls import router

    return [
        f"/api/v1/{prefix}/" for prefix, viewset, _ in router.registry if hasattr(viewset, "list")
    ]


def query_counts(creds: Credentials) -> list[tuple[str, str, list[int | str]]]:
    """Queries per GET of every list route at page sizes 10, 100 and 1000, in-process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    rows = []
    plans = [(route, "supervisor", creds.supervisor) for route in list_routes()]
    feed = f"/api/v1/appointments/?updated_since={EPOCH}"
    plans.append((feed, "integration", creds.oauth))
    for route, who, token in plans:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        counts: list[int | str] = []
        for size in (10, 100, 1000):
            url = f"{route}{'&' if '?' in route else '?'}page_size={size}"
            client.get(url)  # warm: the token's last-used stamp is written once a minute
            with CaptureQueriesContext(connection) as queries:
                status = client.get(url).status_code
            counts.append(len(queries) if status == 200 else f"{status}")
        rows.append((route, who, counts))
    return rows


def audit_rows_bytes(since, set_id: int) -> int:
    """Bytes of the audit rows written since `since`: events, new patient sets, disclosures
    (row sizes as stored, `pg_column_size`; their indexes come on top)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT coalesce(sum(pg_column_size(e.*)), 0) FROM caseload_auditevent e"
            "        WHERE e.occurred_at >= %s)"
            " + (SELECT coalesce(sum(pg_column_size(s.*)), 0) FROM caseload_auditpatientset s"
            "    WHERE s.id > %s)"
            " + (SELECT coalesce(sum(pg_column_size(d.*)), 0) FROM caseload_disclosure d"
            "    WHERE d.disclosed_at >= %s)",
            [since, set_id, since],
        )
        return int(cursor.fetchone()[0])


def audit_growth(server: Server, paths: list[str], token: str) -> tuple[float, float]:
    """Audit bytes written per request of `paths` (each once), and per row the pages name."""
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM caseload_auditpatientset")
        set_id = cursor.fetchone()[0]
    since = timezone.now()
    named = sum(len(get_json(server, path, token)["results"]) for path in paths)
    grown = audit_rows_bytes(since, set_id)
    return grown / len(paths), grown / max(named, 1)


# Between runs ----------------------------------------------------------------------------------
def active_queries() -> int:
    """Other sessions of this database running a statement (a server's leftover work)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'active' AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


WALK_WRITES = ("caseload_disclosure", "caseload_auditevent", "caseload_auditpatientset")


def vacuum_walk_writes() -> float:
    """VACUUM (ANALYZE) the tables the walks grew (a ledger row per row walked, for the lawful
    floor and for Caseload), so that autovacuum does not start on them during a timed run."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in WALK_WRITES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")  # constant names
    return time.perf_counter() - started


def run_once(server: Server, entry: tuple, seconds: float, tool: str) -> dict[str, Load]:
    """One timed run of a plan entry: {measurement: Load}. An entry whose path is a pair (first
    page, deep page) is one run of the built-in generator taking the two in turn, so both are
    timed under the same conditions; it gives `<key>first` and `<key>`."""
    key, _, path, headers, ok = entry
    if not isinstance(path, tuple):
        return {key: load(server, path, headers, seconds, ok, tool)}
    parts: list[Load] = []
    both = python_load(server.port, [(p, headers) for p in path], seconds, ok, per_target=parts)
    parts[-1].errors = both.errors
    return {f"{key}first": parts[0], key: parts[1]}


def timed_runs(plan: list, servers: dict, args, tool: str, failures: list) -> dict[str, Load]:
    """Every entry of `plan`, `--repeats` times in turn, each once the servers are quiet."""
    masters = [server.process.pid for server in servers.values()]
    runs: dict[str, list[Load]] = {}
    for repeat in range(args.repeats):
        waited = 0.0
        for entry in plan:
            waited += settle(masters, active_queries)
            for key, result in run_once(servers[entry[1]], entry, args.duration, tool).items():
                runs.setdefault(f"{key}:{entry[1]}", []).append(result)
                if result.errors:
                    failures.append(
                        f"{key} on {entry[1]}: {result.errors} errors of {result.requests}"
                    )
        print(
            f"repeat {repeat + 1}/{args.repeats} done; {waited:.1f} s waiting for the servers"
            " to finish the previous run's work",
            flush=True,
        )
    return {key: med(value) for key, value in runs.items()}


# Table -----------------------------------------------------------------------------------------
@dataclass
class Row:
    name: str
    floor: str
    lawful: str
    drf: str
    caseload: str
    ratio: str
    target: str
    verdict: str


def verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("PASS" if ok else "MISS")


def print_table(rows: list[Row], header: str) -> None:
    titles = Row(
        "measurement", "floor", "lawful floor", "stock DRF", "Caseload", "ratio", "target", ""
    )
    widths = [max(len(getattr(r, f)) for r in [titles, *rows]) for f in Row.__dataclass_fields__]
    print(header)
    for row in [titles, None, *rows]:
        if row is None:
            print("-+-".join("-" * w for w in widths))
            continue
        cells = [
            getattr(row, f).ljust(w) for f, w in zip(Row.__dataclass_fields__, widths, strict=True)
        ]
        print(" | ".join(cells).rstrip())


def med(loads: list[Load]) -> Load:
    return Load(
        statistics.median(x.rps for x in loads),
        statistics.median(x.p50 for x in loads),
        statistics.median(x.p99 for x in loads),
        sum(x.errors for x in loads),
        sum(x.requests for x in loads),
    )


def div(a: float, b: float) -> float:
    return a / b if b else float("inf")


def ms(value: float, requests: int) -> str:
    """A latency, or why there is none: no answer came back within the run."""
    return f"{value:.1f}" if requests else "no answer in run"


@dataclass
class Measured:
    """What one run measured, for the table."""

    m: dict[str, Load]  # "<measurement>:<server>" -> medians
    walks: dict[str, Walk]
    expected: set[str]
    n: int
    deep_row: int
    peak: Load
    paced: Load
    counts: list
    audit: dict[str, dict[str, tuple[float, float]]]  # row -> server -> (per request, per id)
    rss: tuple[RssThird, RssThird] | None = None  # Caseload's workers, first and last third

    def of(self, key: str) -> dict[str, Load]:
        return {s: self.m[f"{key}:{s}"] for s in SERVERS if f"{key}:{s}" in self.m}


SERVERS = ("floor", "lawful", "drf", "caseload")  # the table's columns, in order


def table_rows(r: Measured) -> list[Row]:
    """The table. Every ratio to a floor is to the lawful floor (the bare one stands beside)."""
    rows = [*feed_rows(r), *walk_rows(r), *request_rows(r), *conditional_rows(r)]
    return [*rows, *audit_rows(r), *rss_rows(r)]


def feed_rows(r: Measured) -> list[Row]:
    feed, deep, beside = r.of("feed"), r.of("deep"), r.of("deepfirst")
    share = div(feed["caseload"].rps, feed["lawful"].rps)
    times = div(feed["caseload"].rps, feed["drf"].rps)
    # Against the first page timed in the same run, in turn with the deep one.
    slow = div(deep["caseload"].p50, beside["caseload"].p50)
    rps = (f"{feed[s].rps:,.1f}" for s in SERVERS)
    return [
        Row("feed page 500 (integration), req/s", *rps, f"{share:.0%} of lawful floor",
            ">= 60 % of lawful floor", verdict(share >= 0.6)),
        Row("  same, vs stock DRF", "", "", "", "", f"{times:.1f}x DRF", ">= 8x stock DRF",
            verdict(times >= 8)),
        Row("  same, p50 / p99 ms", *(f"{feed[s].p50:.1f} / {feed[s].p99:.1f}" for s in SERVERS),
            "", "", verdict(None)),
        Row(f"deep page (row {r.deep_row:,}) p50 ms",
            *(ms(deep[s].p50, deep[s].requests) for s in SERVERS), f"{slow:.2f}x first page",
            "<= 1.2x first page", verdict(slow <= 1.2)),
        Row("  first page in the same run, p50 ms",
            *(ms(beside[s].p50, beside[s].requests) for s in SERVERS), "", "", verdict(None)),
    ]  # fmt: skip


def walk_rows(r: Measured) -> list[Row]:
    w = r.walks
    walk_ratio = div(w["caseload"].seconds, w["lawful"].seconds)
    errors = {s: walk_errors(w[s].ids, r.expected) for s in w}
    return [
        Row(f"whole walk ({r.n:,} rows), s", f"{w['floor'].seconds:.1f}",
            f"{w['lawful'].seconds:.1f}", "n/a (OFFSET)", f"{w['caseload'].seconds:.1f}",
            f"{walk_ratio:.1f}x lawful floor", "<= 2x lawful floor", verdict(walk_ratio <= 2)),
        Row("walk duplicates / gaps", *(f"{errors[s][0]} / {errors[s][1]}" for s in FLOORS), "",
            f"{errors['caseload'][0]} / {errors['caseload'][1]}", "", "0 / 0",
            verdict(errors["caseload"] == (0, 0))),
    ]  # fmt: skip


def request_rows(r: Measured) -> list[Row]:
    m, history = r.m, r.of("history")
    hist = div(history["caseload"].p50, history["lawful"].p50)
    me = div(m["trivial:caseload"].rps, m["trivial:drf"].rps)
    flat = [c for c in r.counts if len(set(c[2])) == 1 and isinstance(c[2][0], int)]
    paced = r.paced
    return [
        Row("patient history p50 ms", f"{history['floor'].p50:.1f}",
            f"{history['lawful'].p50:.1f}", "", f"{history['caseload'].p50:.1f}",
            f"{hist:.1f}x lawful floor", "<= 3x lawful floor", verdict(hist <= 3)),
        Row("/api/v1/me/ vs bare Django view, req/s", "", "",
            f"{m['trivial:drf'].rps:,.0f} (bare)", f"{m['trivial:caseload'].rps:,.0f}",
            f"{me:.0%}", ">= 50 %", verdict(me >= 0.5)),
        Row("SQL queries at page size 10/100/1000", "", "", "",
            f"{len(flat)} of {len(r.counts)} routes equal", "", "same count",
            verdict(len(flat) == len(r.counts))),
        Row(f"mixed load at 70 % of peak ({r.peak.rps:,.0f} r/s)", "", "", "",
            f"{paced.rps:,.0f} r/s p99 {paced.p99:.0f} ms, {paced.errors} errors", "",
            "p99 <= 250 ms, 0 errors", verdict(paced.p99 <= 250 and not paced.errors)),
    ]  # fmt: skip


# (key, label, the 200's key, target): the 3x target is for a patient history and a page of
# 500; a single record's 304 saves one row's read, so its row is for information only.
CONDITIONAL = (
    ("record", "record", "record200", None),
    ("history", "patient history", "history", 3.0),
    ("feed", "feed page 500 (integration)", "feed", 3.0),
)


def conditional_rows(r: Measured) -> list[Row]:
    """A GET whose If-None-Match names the current ETag (304) against the same GET (200)."""
    rows = []
    for key, what, full, target in CONDITIONAL:
        hit, whole = r.m.get(f"{key}304:caseload"), r.m[f"{full}:caseload"]
        label = f"{what}: 304 If-None-Match vs 200, req/s"
        if hit is None:
            cell, ratio, ok = f"no ETag vs {whole.rps:,.0f}", "no 304", False
        else:
            times = div(hit.rps, whole.rps)
            cell, ratio = f"{hit.rps:,.0f} vs {whole.rps:,.0f}", f"{times:.2f}x"
            ok = None if target is None else times >= target
        goal = "" if target is None else f">= {target:g}x"
        rows.append(Row(label, "", "", "", cell, ratio, goal, verdict(ok)))
    return rows


RSS_TOLERANCE = 0.05


def rss_rows(r: Measured) -> list[Row]:
    """Caseload's workers' resident memory, the first third of the run against the last."""
    if r.rss is None:
        return []
    first, last = r.rss
    growth = div(last.total, first.total) - 1
    return [
        Row("Caseload worker RSS, first / last third, MiB", "", "", "",
            f"{first.total:,.1f} / {last.total:,.1f}", f"{growth:+.1%}",
            "no growth (<= +5 %)", verdict(growth <= RSS_TOLERANCE)),
    ]  # fmt: skip


def audit_rows(r: Measured) -> list[Row]:
    """Audit (and ledger) bytes written per request; the bare floor and DRF write none, the
    lawful floor serves no staff list."""
    rows = []
    for what, by_server in r.audit.items():
        cells = {"floor": "0", "lawful": "", "drf": "0"}
        for server, (per_request, per_id) in by_server.items():
            cells[server] = f"{per_request:,.0f} / {per_id:,.1f}"
        rows.append(
            Row(f"audit bytes per request / per id, {what}", *(cells[s] for s in SERVERS), "", "",
                verdict(None))
        )  # fmt: skip
    return rows


def conditional_plan(caseload: Server, history_path: str, first: str, bearer: dict) -> list:
    """304 runs of the patient history and the first feed page with the ETag their 200 gave;
    none for a path that answered without one (its row then says so)."""
    plan = []
    for key, path, who in (("history", history_path, "supervisor"), ("feed", first, "client")):
        _, head, _ = request(caseload.port, "GET", path, bearer[who])
        if head.get("ETag"):
            headers = {**bearer[who], "If-None-Match": head["ETag"]}
            plan.append((f"{key}304", "caseload", path, headers, (304,)))
    return plan


def warm_then_sample(caseload: Server, plan: list, mix: list) -> RssSampler:
    """Serve each of Caseload's paths (timed and mixed) a few times on both workers, then start
    sampling their RSS: what a worker allocates the first time it serves a path is not growth."""
    targets = list(mix)
    for _, name, paths, headers, _ in plan:
        if name == "caseload":
            targets += [(p, headers) for p in (paths if isinstance(paths, tuple) else (paths,))]
    for path, headers in targets:  # CONNECTIONS at once, so that each worker takes some
        pool = [
            threading.Thread(target=request, args=(caseload.port, "GET", path, headers))
            for _ in range(CONNECTIONS)
        ]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    return RssSampler(caseload.process.pid).start()


def rss_thirds(sampler: RssSampler) -> tuple[RssThird, RssThird] | None:
    """Print Caseload's workers' RSS in the first and the last third of the run."""
    try:
        first, last = sampler.thirds()
    except ValueError:
        return None
    print(f"Caseload worker RSS (VmRSS, median of {len(sampler.samples)} samples by third):")
    print(f"  first third: {first.text()}")
    print(f"  last third:  {last.text()}")
    if set(first.workers) != set(last.workers):
        print("  (a worker was replaced during the run: the sums are compared)")
    return first, last


# Main ------------------------------------------------------------------------------------------
APPS = {  # the table's columns, in order
    "floor": "bench.floor:app",
    "lawful": "bench.floor:lawful_app",
    "drf": "bench.baseline.wsgi:application",
    "caseload": "config.wsgi:application",
}


def server_envs() -> dict[str, dict]:
    """Each server's environment: the same database, Caseload in production settings."""
    common = {"DATABASE_URL": os.environ["DATABASE_URL"], "DJANGO_SECRET_KEY": "bench-not-secret"}
    return {
        "floor": common,
        "lawful": {**common, "CASELOAD_AUDIT_KEY": AUDIT_KEY},
        "drf": {**common, "DJANGO_SETTINGS_MODULE": "bench.baseline.settings"},
        "caseload": {
            **common,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "CASELOAD_SECRET_KEYS": "x4k2cN1mQm0sVw9t3Yb7Jq8ZpLr5Ue6Hd0aGfTiWkOc=",
            "CASELOAD_AUDIT_KEY": AUDIT_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "DJANGO_STATIC_ROOT": str(STATIC_ROOT),
        },
    }


def measure(args) -> int:
    setup_django()
    from django.conf import settings

    url = settings.DATABASES["default"]
    if url["ENGINE"] != "django.db.backends.postgresql":
        raise HarnessError("Set DATABASE_URL=postgres://…: the benchmark needs PostgreSQL.")
    tool = "wrk" if shutil.which("wrk") and not args.python_load else "python"
    creds = credentials()
    n = len(creds.expected_ids)
    env = server_envs()
    servers = {name: Server(name, app, env[name]) for name, app in APPS.items()}
    workdir = Path(tempfile.mkdtemp(prefix="caseload-bench-"))
    failures: list[str] = []
    try:
        collect_static(servers["caseload"].env)
        for server in servers.values():
            server.start(workdir)
        for server in servers.values():
            server.wait()
        caseload = servers["caseload"]
        creds.oauth = oauth_token(caseload, creds)
        bearer = {
            "client": {"Authorization": f"Bearer {creds.oauth}"},
            "supervisor": {"Authorization": f"Bearer {creds.supervisor}"},
        }
        first = f"/api/v1/appointments/?updated_since={EPOCH}&page_size=500"
        print(
            f"load generator: {tool}; {CONNECTIONS} connections; {args.duration:g} s per run;"
            f" {args.repeats} repeats; {n:,} appointments",
            flush=True,
        )

        # Same JSON: the first page of both floors and of Caseload lists the same ids and fields.
        pages = {
            s: get_json(servers[s], first, creds.supervisor if s == "drf" else creds.oauth)
            for s in servers
        }
        for name, page in pages.items():
            check_feed_page(name, page)
        served = {s: [r["id"] for r in pages[s]["results"]] for s in ("floor", "lawful")}
        for name, ids in served.items():
            if ids != [r["id"] for r in pages["caseload"]["results"]]:
                raise HarnessError(f"The {name} floor's first feed page differs from Caseload's.")

        # The whole walk, once per server, in pages of 500; it finds the deep page's link.
        deep_row = int(n * 0.9) // 500 * 500
        walks = {}
        for name in (*FLOORS, "caseload"):
            walks[name] = walk(servers[name], creds.oauth, first, deep_row)
            dups, gaps = walk_errors(walks[name].ids, creds.expected_ids)
            print(
                f"walk {name}: {len(walks[name].ids):,} rows in {walks[name].seconds:.1f} s,"
                f" {dups} duplicates, {gaps} gaps",
                flush=True,
            )
            if dups or gaps:
                failures.append(f"{name} walk: {dups} duplicates, {gaps} gaps")
        deep = {name: walks[name].deep_link for name in walks}
        deep["drf"] = f"{first}&page={deep_row // 500 + 1}"
        print(f"vacuumed what the walks wrote in {vacuum_walk_writes():.1f} s", flush=True)

        # Timed runs, taking turns.
        history_path = f"/api/v1/patients/{creds.history_patient}/history/"
        appointment_path = f"/api/v1/appointments/{creds.appointment}/"
        _, head, _ = request(caseload.port, "GET", appointment_path, bearer["supervisor"])
        etag = head.get("ETag")
        if not etag:
            raise HarnessError(f"{appointment_path} answered without an ETag")
        plan = [
            ("feed", "floor", first, bearer["client"], (200,)),
            ("feed", "lawful", first, bearer["client"], (200,)),
            ("feed", "drf", first, bearer["supervisor"], (200,)),
            ("feed", "caseload", first, bearer["client"], (200,)),
            ("deep", "floor", (first, deep["floor"]), bearer["client"], (200,)),
            ("deep", "lawful", (first, deep["lawful"]), bearer["client"], (200,)),
            ("deep", "drf", (first, deep["drf"]), bearer["supervisor"], (200,)),
            ("deep", "caseload", (first, deep["caseload"]), bearer["client"], (200,)),
            ("history", "floor", history_path, bearer["supervisor"], (200,)),
            ("history", "lawful", history_path, bearer["supervisor"], (200,)),
            ("history", "caseload", history_path, bearer["supervisor"], (200,)),
            ("record200", "caseload", appointment_path, bearer["supervisor"], (200,)),
            (
                "record304",
                "caseload",
                appointment_path,
                {**bearer["supervisor"], "If-None-Match": etag},
                (304,),
            ),
            ("trivial", "drf", "/bare/", {}, (200,)),
            ("trivial", "caseload", "/api/v1/me/", bearer["supervisor"], (200,)),
        ]
        plan += conditional_plan(caseload, history_path, first, bearer)
        for key, name, paths, headers, ok in plan:  # preflight: the exact status, once
            for path in paths if isinstance(paths, tuple) else (paths,):
                status, _, body = request(servers[name].port, "GET", path, headers)
                if status not in ok:
                    raise HarnessError(f"{key} on {name}: GET {path} {status} {body[:300]!r}")
        counselor = {"Authorization": f"Bearer {creds.counselor}"}
        prescriber = {"Authorization": f"Bearer {creds.prescriber}"}
        mix = [
            ("/api/v1/patients/?page_size=20", counselor),
            ("/api/v1/appointments/?page_size=20", counselor),
            ("/api/v1/assessments/?page_size=20", prescriber),
            (f"/api/v1/patients/{creds.prescriber_patient}/history/", prescriber),
            (f"/api/v1/appointments/?updated_since={EPOCH}&page_size=100", bearer["client"]),
        ]
        # Caseload's workers' memory, once a second from here to the end of the measurements,
        # after every path they will serve was served a few times (warm: not a leak).
        rss = warm_then_sample(caseload, plan, mix)
        m = timed_runs(plan, servers, args, tool, failures)

        # Mixed load: counselor, prescriber and integration paths, at 70 % of measured peak.
        peak = python_load(caseload.port, mix, args.duration)
        paced = python_load(caseload.port, mix, args.duration * 2, rate=peak.rps * PEAK_SHARE)
        if peak.errors or paced.errors:
            failures.append(f"mixed load: {peak.errors + paced.errors} errors")

        # Query counts and audit growth, in-process against the same database.
        counts = query_counts(creds)
        reads = int(max(5, min(40, args.duration * 4)))
        staff_list = [f"/api/v1/patients/?page_size={400 + i}" for i in range(reads)]
        audit = {
            "staff list": {"caseload": audit_growth(caseload, staff_list, creds.supervisor)},
            "feed": {
                s: audit_growth(servers[s], walks[s].links[:reads], creds.oauth)
                for s in ("lawful", "caseload")
            },
        }
        rss.stop()
        measured = Measured(m, walks, creds.expected_ids, n, deep_row, peak, paced, counts, audit)
        measured.rss = rss_thirds(rss)
        rows = table_rows(measured)

        print()
        print("SQL queries per list request (page size 10 / 100 / 1000):")
        for route, who, c in counts:
            print(f"  {route:<60} {who:<11} {' / '.join(map(str, c))}")
        print()
        print_table(
            rows,
            f"Caseload benchmark, profile {args.profile}: medians of {args.repeats} runs of"
            f" {args.duration:g} s, load by {tool}",
        )
    finally:
        for server in servers.values():
            server.stop()
    if failures:
        print("\nHARNESS FAILURES:\n  " + "\n  ".join(failures), file=sys.stderr)
        for server in servers.values():
            if server.log and server.log.exists():
                print(
                    f"--- {server.name} log (tail)\n{server.log.read_text()[-1500:]}",
                    file=sys.stderr,
                )
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=("tiny", "standard", "large"), default="tiny")
    parser.add_argument("--duration", type=float, default=10, help="seconds per timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--python-load", action="store_true", help="ignore wrk even if present")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://…/<database seeded by bench/seed.py>.")
    try:
        sys.exit(measure(args))
    except HarnessError as exc:
        print(f"HARNESS ERROR: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
