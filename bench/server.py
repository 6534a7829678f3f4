"""A real ``rehber serve`` on a fresh database, an account made with the CLI, and the vendor
calls the scenarios seed it with. rehber is a black box here: only its CLI and HTTP API."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import data, wire
from bench.common import HOST, REHBER_CLI, WORK, Options, free_port, log
from bench.procs import Service
from bench.profiling import sampled


def _cli(*args: str) -> str:
    done = subprocess.run(
        [REHBER_CLI, *args], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode:
        raise RuntimeError(f"rehber {args[0]} {args[1]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


@dataclass
class Rehber:
    """A running server and the account the benchmark works in."""

    service: Service
    credentials: wire.Credentials
    profile: bool = False
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=120.0))

    def measuring(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Wraps one measurement: sampled with py-spy under ``--profile``, else nothing."""
        if not self.profile:
            return contextlib.nullcontext()
        return sampled(self.service.pid, f"{self.service.name}-{name}")

    def url(self, action: str, fmt: wire.Format) -> str:
        return self.service.url + wire.path(action, fmt)

    def body(self, fmt: wire.Format, payload: dict[str, Any]) -> bytes:
        return wire.encode(fmt, self.credentials, payload)

    def call(self, action: str, payload: dict[str, Any], fmt: wire.Format = "json") -> bytes:
        """One vendor call that must succeed; the raw response body."""
        response = self.client.post(self.url(action, fmt), content=self.body(fmt, payload))
        if response.status_code != 200:
            raise RuntimeError(f"{action}: HTTP {response.status_code} {response.text[:200]}")
        return response.content

    def add_group(self, name: str, parent: int | None = None) -> int:
        group: dict[str, Any] = {"name": name}
        if parent is not None:
            group["parent"] = parent
        return wire.created_id("json", self.call("add-group", {"group": group}), "group")

    def add_contacts(self, items: list[dict[str, Any]]) -> list[int]:
        """Store ``items`` with one add-contacts call; their ids in order."""
        ids = wire.stored_ids("json", self.call("add-contacts", {"contacts": {"contact": items}}))
        if len(ids) != len(items):
            raise RuntimeError(f"add-contacts stored {len(ids)} of {len(items)}")
        return ids

    def search_backlog(self) -> int:
        health = self.client.get(self.service.url + "/_rehber/health").json()
        return int(health.get("search_backlog") or 0)

    def wait_for_search_index(self, limit: float) -> float:
        """Seconds until the background search indexer has caught up (at most ``limit``)."""
        started = time.perf_counter()
        while self.search_backlog() and time.perf_counter() - started < limit:
            time.sleep(0.2)
        waited = time.perf_counter() - started
        if self.search_backlog():
            log(f"  search backlog still {self.search_backlog():,} after {limit:.0f}s")
        return waited

    @property
    def peak_rss_mb(self) -> float:
        return self.service.peak_rss_mb


@contextlib.contextmanager
def rehber_server(
    name: str,
    *,
    workers: int = 1,
    database: str | None = None,
    schema: str | None = None,
    profile: bool = False,
) -> Iterator[Rehber]:
    """Serve a fresh SQLite file under ``bench/.work/`` (or ``database``, with PostgreSQL
    migrated into ``schema`` first) with one account made by ``rehber accounts create``."""
    path = WORK / f"{name}.db"
    if database is None:
        remove_sqlite(path)
        database = f"sqlite:///{path}"
    where = ["--database", database, *(["--schema", schema] if schema else [])]
    if not database.startswith("sqlite"):
        _cli("db", "upgrade", *where)
    account = json.loads(_cli("accounts", "create", f"bench {name}", "--json", *where))
    port = free_port()
    argv = [REHBER_CLI, "serve", "--host", HOST, "--port", str(port), *where]
    argv += ["--workers", str(workers)]
    with Service(f"rehber-{name}", argv, port=port, ready_path="/_rehber/health") as service:
        if workers > 1:
            _wait_for_workers(service.url, workers)
        server = Rehber(service, wire.Credentials(account["key"], account["hash"]), profile)
        try:
            yield server
        finally:
            server.client.close()
    log(f"  {service.name}: peak RSS {service.peak_rss_mb:,.0f} MB")
    if database.startswith("sqlite") and not os.environ.get("REHBER_BENCH_KEEP"):
        remove_sqlite(path)  # a million contacts take hundreds of megabytes


def _wait_for_workers(base: str, workers: int, timeout: float = 60.0) -> None:
    """Until ``workers`` server processes answer health. Each listens on a socket of its own,
    and the kernel spreads connections only over the sockets listening when they open: a
    load started earlier would keep its connections on the workers that were up."""
    deadline = time.monotonic() + timeout
    seen: set[int] = set()
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(seen)} of {workers} workers answered in {timeout} s")
        with httpx.Client(timeout=5) as fresh:  # a new connection each time
            seen.add(fresh.get(f"{base}/_rehber/health").json()["worker"])


def remove_sqlite(path: Path) -> None:
    """Delete a SQLite database with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class SmallSeed:
    """What the request/response scenarios work on."""

    contact_ids: Sequence[int]
    group_ids: Sequence[int]  # top-level groups, each with one sub-group
    all_group_ids: Sequence[int]


def seed_small(server: Rehber, opts: Options, contacts: int = 2000, groups: int = 10) -> SmallSeed:
    """``groups`` top-level groups with one sub-group each; ``contacts`` contacts spread over
    all of them. Waits until the search index has caught up, so no later figure pays for it."""
    top = [server.add_group(f"Grup {n}") for n in range(groups)]
    children = [server.add_group(f"Alt grup {n}", parent=parent) for n, parent in enumerate(top)]
    every = top + children
    ids: list[int] = []
    for block in data.batches(0, contacts, opts.batch):
        ids += server.add_contacts([data.contact(i, group=every[i % len(every)]) for i in block])
    server.wait_for_search_index(opts.backlog_wait)
    return SmallSeed(ids, top, every)
