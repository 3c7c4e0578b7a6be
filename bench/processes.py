"""What the benchmark's servers are doing, read from /proc (Linux): their workers, the CPU they
burn and their resident memory.

`bench/run.py` uses it for two things:

- `settle`: before each timed run, wait until the previous run's work is over. A load tool that
  stops at its deadline (wrk) leaves the requests it had in flight, and those queued in the
  listen backlog, to be served after it exits: on stock DRF's deep page (an OFFSET of 900,000
  and a COUNT, several seconds each) that is tens of seconds of both cores, which the next run
  (Caseload's deep page) paid for. A run starts only once no server process burns CPU and no
  other query is active in the database.
- `RssSampler`: the resident memory (VmRSS) of a server's workers, sampled once a second in a
  background thread, to compare the first third of a run with the last.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (a gunicorn master's workers)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        # The command name is in parentheses and may hold spaces: the fields after it are fixed.
        if int(stat.rpartition(")")[2].split()[1]) == parent:
            found.append(int(entry.name))
    return sorted(found)


def cpu_ticks(pids: list[int]) -> int:
    """User and system CPU time of `pids`, in clock ticks (ended processes count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = (PROC / str(pid) / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total


def rss_kib(pid: int) -> int | None:
    """VmRSS of `pid` in KiB (None once it ended)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def settle(masters: list[int], active_queries: Callable[[], int], timeout: float = 300) -> float:
    """Wait until the servers under `masters` use under 5 % of a core over half a second and
    `active_queries()` (other sessions running a statement) is 0; the seconds waited."""
    started = time.monotonic()
    quiet_ticks = max(1, round(TICKS * 0.5 * 0.05))
    while time.monotonic() - started < timeout:
        pids = [pid for master in masters for pid in (master, *children(master))]
        before = cpu_ticks(pids)
        time.sleep(0.5)
        if cpu_ticks(pids) - before <= quiet_ticks and active_queries() == 0:
            break
    return time.monotonic() - started


@dataclass
class RssSampler:
    """VmRSS of a gunicorn master's workers, once every `every` seconds, until `stop()`."""

    master: int
    every: float = 1.0
    samples: list[tuple[float, dict[int, int]]] = field(default_factory=list)

    def start(self) -> RssSampler:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = {pid: rss_kib(pid) for pid in children(self.master)}
            self.samples.append((time.monotonic(), {k: v for k, v in sizes.items() if v}))
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def thirds(self) -> tuple[RssThird, RssThird]:
        """The first and the last third of the samples, by time."""
        if len(self.samples) < 3:
            raise ValueError("too few RSS samples")
        start, end = self.samples[0][0], self.samples[-1][0]
        span = (end - start) / 3
        first = [s for t, s in self.samples if t <= start + span]
        last = [s for t, s in self.samples if t >= end - span]
        return RssThird.of(first), RssThird.of(last)


@dataclass
class RssThird:
    """One third of a run: each worker's median VmRSS (MiB), and their sum."""

    workers: dict[int, float]

    @classmethod
    def of(cls, samples: list[dict[int, int]]) -> RssThird:
        pids = sorted({pid for sample in samples for pid in sample})
        return cls(
            {pid: statistics.median(s[pid] for s in samples if pid in s) / 1024 for pid in pids}
        )

    @property
    def total(self) -> float:
        return sum(self.workers.values())

    def text(self) -> str:
        each = ", ".join(f"pid {pid} {mib:.1f}" for pid, mib in self.workers.items())
        return f"{self.total:.1f} MiB ({each})"
