"""Where one add-contacts request spends its time: each stage timed apart, in one process.

The server's own parts (``wire.read``, the key check, ``clean_contacts``, the write transaction
of ``Backend.add_clean_contacts``, ``wire.encode_success``) run on a fresh SQLite file with
rehber's schema, one request after another, with no HTTP and no second thread. The medians show
which stages a target's budget has to cover; the HTTP figure of the same run adds the server
loop, the body transfer and the load generator on the same two cores.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import cast

from bench import data, wire
from bench.common import WORK, Options, log, median
from bench.server import remove_sqlite
from rehber import wire as rehber_wire
from rehber.commands import AddContacts
from rehber.server.app import Services, build_services
from rehber.server.settings import Settings
from rehber.service.backend import clean_contacts
from rehber.wire.actions import ACTIONS

STAGES = ("parse", "decode", "validate", "store", "answer")
_WARMUP, _MEASURED = 10, 50  # requests


@dataclass(frozen=True, slots=True)
class StageCosts:
    """Median milliseconds per request of ``contacts`` contacts, by stage and in all."""

    contacts: int
    requests: int
    stages: dict[str, float]
    total: float

    def describe(self) -> str:
        return ", ".join(f"{name} {ms:.2f}" for name, ms in self.stages.items()) + " ms"


def stage_costs(fmt: wire.Format, opts: Options) -> StageCosts:
    """Per-stage medians of ``_MEASURED`` add-contacts requests of ``opts.batch`` contacts."""
    path = WORK / f"stages-{fmt}.db"
    remove_sqlite(path)
    url = f"sqlite:///{path}"
    services = build_services(Settings(database_url=url, background_indexing=False))
    try:
        new = services.accounts.create_account("stages")
        creds = wire.Credentials(new.credentials.key, new.credentials.hash)
        bodies = [
            wire.encode(fmt, creds, data.batch_payload(n, opts.batch))
            for n in range(_WARMUP + _MEASURED)
        ]
        samples: dict[str, list[float]] = {name: [] for name in (*STAGES, "total")}
        for index, body in enumerate(bodies):
            spent = _one_request(services, fmt, body, opts.batch)
            if index >= _WARMUP:
                for name, seconds in zip((*STAGES, "total"), (*spent, sum(spent)), strict=True):
                    samples[name].append(seconds * 1000)
    finally:
        services.store.dispose()
        remove_sqlite(path)
    costs = StageCosts(
        opts.batch,
        _MEASURED,
        {name: median(samples[name]) for name in STAGES},
        median(samples["total"]),
    )
    log(f"  add-contacts {fmt} in one process: {costs.total:.2f} ms ({costs.describe()})")
    return costs


def _one_request(services: Services, fmt: wire.Format, body: bytes, batch: int) -> list[float]:
    """Seconds of each of :data:`STAGES` for one add-contacts request, in the server's order."""
    action, backend = ACTIONS["add-contacts"], services.backend
    stamps = [time.perf_counter()]
    found, command = rehber_wire.read(fmt, action, body)
    account = services.accounts.authenticate(found.key, found.hash)
    stamps.append(time.perf_counter())
    items = cast(AddContacts, command()).items
    stamps.append(time.perf_counter())
    cleaned = clean_contacts(items)
    stamps.append(time.perf_counter())
    result = services.store.write(lambda repo: backend.add_clean_contacts(repo, account, cleaned))
    stamps.append(time.perf_counter())
    rehber_wire.encode_success(fmt, action, result, account.wire_generation)
    stamps.append(time.perf_counter())
    stored = sum(1 for item in result if item.id is not None)
    if stored != batch:
        raise RuntimeError(f"stage timing stored {stored} of {batch} contacts")
    return [later - earlier for earlier, later in itertools.pairwise(stamps)]
