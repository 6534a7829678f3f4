"""Paths, run options and small helpers shared by every benchmark module."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
VENV_BIN = Path(sys.executable).parent
REHBER_CLI = str(VENV_BIN / "rehber")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"  # every load stays on the loopback interface

_STARTED = time.monotonic()


class Skip(Exception):
    """A scenario cannot run here (a peer did not install, PostgreSQL is down): reported, not
    fatal."""


@dataclass(frozen=True, slots=True)
class Options:
    """How hard and how long to push. ``quick`` trades precision for a run of a minute or two."""

    quick: bool = False
    duration: float = 4.0  # seconds of measured wrk load per figure
    warmup: float = 1.0  # seconds of unmeasured load before it
    threads: int = 1  # wrk threads
    connections: int = 64  # wrk connections (request/response scenarios)
    peer_connections: int = 8  # create-then-read: one connection per wrk thread
    ingest_seconds: float = 6.0  # bounded bulk-ingest window
    ingest_senders: int = 3  # concurrent Python senders for add-contacts
    batch: int = 1000  # contacts per add-contacts request
    scale_contacts: int = 1_000_000
    scale_groups: int = 1000
    latency_samples: int = 31  # sequential requests per latency median
    floor_rows: int = 200_000  # rows the sqlite3 / COPY floors insert
    floor_repeats: int = 3  # sqlite3 / COPY floor runs per figure (their median)
    codec_records: int = 10_000
    profile: bool = False  # sample rehber with py-spy during each measurement
    backlog_wait: float = 300.0  # longest wait for rehber's background search indexer
    # The whole run should end within this many seconds: the scale scenario, the only one
    # whose length depends on the server, shortens its seeding and waiting to fit.
    budget: float = 480.0
    postgres_url: str = field(
        default_factory=lambda: os.environ.get("REHBER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )

    @classmethod
    def create(cls, *, quick: bool) -> Options:
        if not quick:
            return cls()
        return cls(
            quick=True,
            duration=2.0,
            warmup=1.0,
            ingest_seconds=2.0,
            scale_contacts=50_000,
            scale_groups=200,
            latency_samples=11,
            floor_rows=50_000,
            backlog_wait=60.0,
            budget=300.0,
        )


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def log(message: str) -> None:
    """Progress on stderr, stamped with the seconds since the run started."""
    print(f"[{time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _stat(pid: int | str) -> tuple[str, list[str]]:
    """A process's name and the fields of ``/proc/<pid>/stat`` after it; ("", []) when the
    process has ended."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
    except OSError:
        return "", []
    name, _, rest = stat.partition("(")[2].rpartition(")")
    return name, rest.split()


def cpu_seconds(pids: Iterable[int]) -> float:
    """CPU seconds (user and system) the live processes ``pids`` have used so far."""
    ticks = sum(int(value) for pid in pids for value in _stat(pid)[1][11:13])
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres_seconds() -> float:
    """CPU seconds of the PostgreSQL processes on this machine, with the backends they reaped
    (utime, stime, cutime, cstime): the database under test in the postgres scenarios."""
    total = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            name, fields = _stat(entry.name)
            if name == "postgres":
                total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuClock:
    """CPU seconds spent by the whole machine and by what the bench measures: this process
    with its reaped children (wrk, the servers, npm: everything the bench starts and waits
    for) and the PostgreSQL server the postgres scenarios write to."""

    machine: float
    ours: float

    @classmethod
    def now(cls) -> CpuClock:
        with open("/proc/stat") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal: everything but idle and iowait
        busy = sum(fields[:8]) - fields[3] - fields[4]
        times = os.times()
        own = times.user + times.system + times.children_user + times.children_system
        return cls(busy / os.sysconf("SC_CLK_TCK"), own + _postgres_seconds())

    def others_since(self, start: CpuClock) -> float:
        """CPU seconds that processes the bench does not measure used since ``start``."""
        return max(0.0, (self.machine - start.machine) - (self.ours - start.ours))
