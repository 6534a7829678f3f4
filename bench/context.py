"""What one run shares: its options, the rows so far, the echo floor servers, and the floors
measured once and used by several scenarios."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bench import floors, wire
from bench.common import Options, Skip, median
from bench.load import WrkResult
from bench.procs import Service
from bench.report import Row

T = TypeVar("T")
LABELS: dict[wire.Format, str] = {"json": "JSON", "xml": "XML"}


@dataclass
class Bench:
    opts: Options
    rows: list[Row] = field(default_factory=list)
    floor_rows: list[Row] = field(default_factory=list)
    server_rss: dict[str, float] = field(default_factory=dict)
    echo_samples: dict[tuple[int, wire.Format], list[WrkResult]] = field(default_factory=dict)
    _echo_servers: dict[int, Service] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _done: dict[Hashable, Any] = field(default_factory=dict)

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for; the same answer (or the same
        Skip) afterwards."""
        if key not in self._done:
            try:
                self._done[key] = compute()
            except Skip as exc:
                self._done[key] = exc
        found = self._done[key]
        if isinstance(found, Skip):
            raise found
        return found  # type: ignore[no-any-return]

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def time_left(self, keep: float) -> float:
        """Seconds of the run's budget left after keeping ``keep`` for what comes later (at
        least 30, so a late scenario still measures something)."""
        return max(30.0, self.opts.budget - (time.monotonic() - self.started) - keep)

    # -- floors ----------------------------------------------------------------------------

    def echo_now(self, workers: int, fmt: wire.Format) -> WrkResult:
        """The echo floor measured now, so that a rehber figure taken right after it meets
        the same background load. The floor server stays up (idle) between measurements."""
        service = self._echo_servers.get(workers)
        if service is None:
            service = self._echo_servers[workers] = floors.echo_service(workers)
            service.start()
            time.sleep(0.5 * (workers - 1))  # let every worker finish booting
        samples = self.echo_samples.setdefault((workers, fmt), [])
        result = floors.echo_rate(service, fmt, self.opts, warmup=not samples)
        samples.append(result)
        return result

    def close(self) -> None:
        for service in self._echo_servers.values():
            service.stop()
        self._echo_servers.clear()

    def all_floor_rows(self) -> list[Row]:
        """The echo floors (median and range of every measurement this run), then the rest."""
        rows = []
        for (workers, fmt), samples in sorted(self.echo_samples.items()):
            rates = [sample.rate for sample in samples]
            spread = f"; {len(rates)} measurements, {min(rates):,.0f}–{max(rates):,.0f}"
            rows.append(
                Row(
                    f"echo {LABELS[fmt]}, {workers} worker{'s' if workers > 1 else ''}",
                    median(rates),
                    "req/s",
                    note=f"median p50 {median([s.p50_ms for s in samples]):.1f} ms"
                    + (spread if len(rates) > 1 else ""),
                    problem="; ".join(s.problems() for s in samples if s.problems()),
                )
            )
        return rows + self.floor_rows

    def sqlite_floor(self) -> float:
        label = "sqlite3 executemany, 1,000-row transactions, WAL"
        return self.once("sqlite", lambda: self._floor(label, floors.sqlite_floor))

    def postgres_floor(self) -> float:
        label = "PostgreSQL psycopg COPY, 1,000-row transactions"
        return self.once("postgres", lambda: self._floor(label, floors.postgres_floor))

    def codecs(self) -> dict[str, float]:
        def measure() -> dict[str, float]:
            rates = floors.codec_floors(self.opts)
            for name, rate in rates.items():
                label = f"codec {name}: parse + serialize {self.opts.codec_records:,} contacts"
                self.floor_rows.append(Row(label, rate, "records/s"))
            return rates

        return self.once("codecs", measure)

    def _floor(self, label: str, measure: Callable[[Options], float]) -> float:
        try:
            value = measure(self.opts)
        except Skip as exc:
            self.floor_rows.append(Row(label, skipped=str(exc)))
            raise
        self.floor_rows.append(Row(label, value, "rows/s"))
        return value

    def note_rss(self, name: str, mb: float) -> None:
        self.server_rss[name] = mb
