"""What one run shares: its options, the rows so far, the echo floor servers, and every floor
measurement taken (each scenario measures the floor it is compared with next to its own
figure: in pairs with it, or right before and right after it, so that both meet the same
background load on a shared machine)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bench import floors, wire
from bench.common import Options, Skip, median
from bench.load import WrkResult
from bench.procs import Service
from bench.report import Row

LABELS: dict[wire.Format, str] = {"json": "JSON", "xml": "XML"}
CODECS = ("orjson", "json", "lxml")
T = TypeVar("T")


def _scalar_floors(opts: Options) -> dict[str, tuple[str, str]]:
    """Name -> (label, unit) of every floor that is one number."""
    codec = f"parse + serialize {opts.codec_records:,} contacts"
    return {
        "sqlite": ("sqlite3 executemany, 1,000-row transactions, WAL", "rows/s"),
        "postgres": ("PostgreSQL psycopg COPY, 1,000-row transactions", "rows/s"),
        **{name: (f"codec {name}: {codec}", "records/s") for name in CODECS},
    }


@dataclass
class Bench:
    opts: Options
    rows: list[Row] = field(default_factory=list)
    server_rss: dict[str, float] = field(default_factory=dict)
    echo_samples: dict[tuple[int, wire.Format], list[WrkResult]] = field(default_factory=dict)
    floor_samples: dict[str, list[float]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _unreachable: dict[str, Skip] = field(default_factory=dict)
    _echo_servers: dict[int, Service] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def note_rss(self, name: str, mb: float) -> None:
        self.server_rss[name] = mb

    def time_left(self, keep: float, at_least: float = 30.0) -> float:
        """Seconds of the run's budget left after keeping ``keep`` for what comes later (at
        least ``at_least``, so a late scenario still measures what it must)."""
        return max(at_least, self.opts.budget - (time.monotonic() - self.started) - keep)

    # -- floors, measured when asked for ---------------------------------------------------

    def echo_now(self, workers: int, fmt: wire.Format, opts: Options | None = None) -> WrkResult:
        """The echo floor's rate now (measured for ``opts.duration``, by default the run's).
        Its server stays up (idle) between measurements."""
        service = self._echo_servers.get(workers)
        if service is None:
            service = self._echo_servers[workers] = floors.echo_service(workers)
            service.start()
            time.sleep(0.5 * (workers - 1))  # let every worker finish booting
        samples = self.echo_samples.setdefault((workers, fmt), [])
        result = floors.echo_rate(service, fmt, opts or self.opts, warmup=not samples)
        samples.append(result)
        return result

    def floor_now(self, name: str) -> float:
        """A one-number floor (``sqlite``, ``postgres`` or a codec) measured now: the median
        of its runs; Skip (the same one every time) when it cannot be measured here."""
        return median(self._floor_runs(name))

    def around(self, name: str, measure: Callable[[], T]) -> Bracketed[T]:
        """``measure()`` (rehber's figure) with floor ``name`` measured right before and right
        after it; the floor is the median of both sides' runs.

        A floor run lasts a fraction of a second against rehber's six, so a run on one side
        only caught whatever the shared machine did in that moment: two COPY floor runs in a
        row measured 194,000 and 143,000 rows/s, and the lxml floor of one session 82,000 to
        151,000 records/s. Runs on both sides meet the load that rehber's figure met.
        """
        before = self._floor_runs(name)
        result = measure()
        after = self._floor_runs(name)
        return Bracketed(result, median(before + after), _runs_note(before, after))

    def _floor_runs(self, name: str) -> list[float]:
        """Runs of floor ``name`` measured now, each also kept for the floor table."""
        if name in self._unreachable:
            raise self._unreachable[name]
        try:
            if name in CODECS:  # a run: the median of five timings (floors.codec_floors)
                values = {k: [v] for k, v in floors.codec_floors(self.opts).items()}
            else:
                values = {name: self._database_floor(name)}
        except Skip as exc:
            self._unreachable[name] = exc
            raise
        for measured, samples in values.items():
            self.floor_samples.setdefault(measured, []).extend(samples)
        return values[name]

    def _database_floor(self, name: str) -> list[float]:
        """``opts.floor_repeats`` runs of the sqlite3 or COPY floor, each on a new table."""
        measure = floors.sqlite_floor if name == "sqlite" else floors.postgres_floor
        return [measure(self.opts) for _ in range(self.opts.floor_repeats)]

    def measure_missing_floors(self) -> None:
        """Every floor no scenario has measured yet (for a complete floor table)."""
        for workers in (1, 2):
            for fmt in wire.FORMATS:
                if (workers, fmt) not in self.echo_samples:
                    self.echo_now(workers, fmt)
        for name in _scalar_floors(self.opts):
            if name not in self.floor_samples and name not in self._unreachable:
                with contextlib.suppress(Skip):  # shown as a skipped floor row
                    self.floor_now(name)

    def close(self) -> None:
        for service in self._echo_servers.values():
            service.stop()
        self._echo_servers.clear()

    def floor_rows(self) -> list[Row]:
        """Every floor of the run: the median of its measurements, and their range."""
        rows = []
        for (workers, fmt), results in sorted(self.echo_samples.items()):
            label = f"echo {LABELS[fmt]}, {workers} worker{'s' if workers > 1 else ''}"
            p50 = median([result.p50_ms for result in results])
            rows.append(
                Row(
                    label,
                    median([result.rate for result in results]),
                    "req/s",
                    note=f"median p50 {p50:.1f} ms" + _spread([r.rate for r in results]),
                    problem="; ".join(r.problems() for r in results if r.problems()),
                )
            )
        for name, (label, unit) in _scalar_floors(self.opts).items():
            if name in self._unreachable:
                rows.append(Row(label, skipped=str(self._unreachable[name])))
            elif name in self.floor_samples:
                values = self.floor_samples[name]
                rows.append(Row(label, median(values), unit, note=_spread(values).lstrip("; ")))
        return rows


@dataclass(frozen=True)
class Bracketed(Generic[T]):
    """rehber's figure and the floor measured around it."""

    result: T
    floor: float
    note: str  # the floor's runs, for the row's note


def _runs_note(before: list[float], after: list[float]) -> str:
    listed = "; ".join(", ".join(f"{value:,.0f}" for value in side) for side in (before, after))
    runs = len(before) + len(after)
    return f"; floor: median of {runs} runs, {len(before)} before and {len(after)} after ({listed})"


def _spread(values: list[float]) -> str:
    if len(values) < 2:
        return ""
    return f"; {len(values)} measurements, {min(values):,.0f}–{max(values):,.0f}"
