"""Only the feed page of 500 and `/api/v1/me/`, beside the lawful floor and stock DRF.

    export DATABASE_URL=postgres://root@127.0.0.1:5432/bench_standard   # seeded by bench/seed.py
    # the two rows of bench/run.py's table, servers taking turns, medians of --repeats runs:
    .venv/bin/python bench/feed_me.py run --duration 8 --repeats 3
    # the same with a second Caseload server from another checkout (before/after, back to back):
    .venv/bin/python bench/feed_me.py run --other /tmp/caseload-before
    # where the time goes, in-process (cProfile of the feed page and of /me/):
    .venv/bin/python bench/feed_me.py profile --requests 40

`bench/run.py` measures everything (the whole walk of the standard profile alone takes minutes);
this runs the same servers with the same settings and load generator for the two rows only.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run as harness  # noqa: E402 - after the path

FEED = f"/api/v1/appointments/?updated_since={harness.EPOCH}&page_size=500"


def caseload_env(common: dict) -> dict:
    return {
        **common,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "CASELOAD_SECRET_KEYS": "x4k2cN1mQm0sVw9t3Yb7Jq8ZpLr5Ue6Hd0aGfTiWkOc=",
        "CASELOAD_AUDIT_KEY": harness.AUDIT_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_STATIC_ROOT": str(harness.STATIC_ROOT),
    }


class CheckoutServer(harness.Server):
    """A server run from another checkout of the project (its `--chdir`)."""

    def __init__(self, name: str, app: str, env: dict, root: Path):
        super().__init__(name, app, env)
        self.root = root

    def start(self, workdir: Path) -> None:
        saved = harness.ROOT
        harness.ROOT = self.root
        try:
            super().start(workdir)
        finally:
            harness.ROOT = saved


def servers(other: Path | None) -> dict[str, harness.Server]:
    common = {"DATABASE_URL": os.environ["DATABASE_URL"], "DJANGO_SECRET_KEY": "bench-not-secret"}
    found = {
        "lawful": harness.Server(
            "lawful", "bench.floor:lawful_app", {**common, "CASELOAD_AUDIT_KEY": harness.AUDIT_KEY}
        ),
        "drf": harness.Server(
            "drf",
            "bench.baseline.wsgi:application",
            {**common, "DJANGO_SETTINGS_MODULE": "bench.baseline.settings"},
        ),
        "caseload": harness.Server("caseload", "config.wsgi:application", caseload_env(common)),
    }
    if other is not None:
        env = caseload_env(common) | {"PYTHONPATH": str(other)}
        found["other"] = CheckoutServer("other", "config.wsgi:application", env, other)
    return found


def run(args) -> int:
    harness.setup_django()
    tool = "wrk" if shutil.which("wrk") else "python"
    creds = harness.credentials()
    found = servers(Path(args.other).resolve() if args.other else None)
    workdir = Path(tempfile.mkdtemp(prefix="caseload-feed-me-"))
    try:
        harness.collect_static(found["caseload"].env)
        for server in found.values():
            server.start(workdir)
        for server in found.values():
            server.wait()
        oauth = harness.oauth_token(found["caseload"], creds)
        client = {"Authorization": f"Bearer {oauth}"}
        staff = {"Authorization": f"Bearer {creds.supervisor}"}
        plan = [("feed", "lawful", FEED, client), ("feed", "drf", FEED, staff)]
        plan += [("me", "drf", "/bare/", {})]
        for name in [n for n in found if n not in ("lawful", "drf")]:
            plan += [("feed", name, FEED, client), ("me", name, "/api/v1/me/", staff)]
        for key, name, path, headers in plan:
            status, _, body = harness.request(found[name].port, "GET", path, headers)
            if status != 200:
                raise harness.HarnessError(f"{key} on {name}: {status} {body[:300]!r}")
        print(f"load: {tool}, {args.duration:g} s per run, {args.repeats} repeats", flush=True)
        runs: dict[str, list[harness.Load]] = {}
        for _ in range(args.repeats):
            for key, name, path, headers in plan:
                result = harness.load(found[name], path, headers, args.duration, (200,), tool)
                runs.setdefault(f"{key}:{name}", []).append(result)
                print(f"  {key:<4} {name:<8} {result.rps:8.1f} req/s", flush=True)
        report(runs, [n for n in found if n not in ("lawful", "drf")])
    finally:
        for server in found.values():
            server.stop()
    return 0


def report(runs: dict[str, list], caseloads: list[str]) -> None:
    rps = {key: statistics.median(r.rps for r in value) for key, value in runs.items()}
    print(f"feed lawful floor {rps['feed:lawful']:.1f} req/s, stock DRF {rps['feed:drf']:.1f}")
    print(f"bare Django view {rps['me:drf']:.0f} req/s")
    for name in caseloads:
        feed, me = rps[f"feed:{name}"], rps[f"me:{name}"]
        print(
            f"{name}: feed {feed:.1f} req/s = {feed / rps['feed:lawful']:.0%} of the lawful floor,"
            f" {feed / rps['feed:drf']:.1f}x DRF; /me/ {me:.0f} req/s ="
            f" {me / rps['me:drf']:.0%} of the bare view"
        )


def profile(args) -> int:
    """cProfile of `--requests` feed pages and /me/ requests through the test client."""
    harness.setup_django()
    from django.test import Client

    creds = harness.credentials()
    oauth = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic(creds.client_id, creds.client_secret),
    )
    token = oauth.json()["access_token"]
    for label, path, bearer in (("feed", FEED, token), ("me", "/api/v1/me/", creds.supervisor)):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {bearer}")
        assert client.get(path).status_code == 200  # warm, and a working route
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(args.requests):
            client.get(path)
        profiler.disable()
        mean = (time.perf_counter() - started) / args.requests * 1000
        print(f"=== {label}: {mean:.1f} ms per request (profiled) ===")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    return 0


def _basic(client_id: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    timed = commands.add_parser("run")
    timed.add_argument("--duration", type=float, default=8)
    timed.add_argument("--repeats", type=int, default=3)
    timed.add_argument("--other", help="a second checkout to serve as Caseload beside this one")
    prof = commands.add_parser("profile")
    prof.add_argument("--requests", type=int, default=30)
    prof.add_argument("--sort", default="cumulative")
    prof.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    need_seeded_postgres()
    sys.exit(run(args) if args.command == "run" else profile(args))


def need_seeded_postgres() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://…/<database seeded by bench/seed.py>.")


if __name__ == "__main__":
    main()
