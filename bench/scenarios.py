"""rehber's request/response and bulk scenarios, each on a fresh ``rehber serve``.

- reads: get-contact and get-group, both formats, against the echo floor (1 worker).
- writes: add-contact and subscribe-group, both formats, against the echo floor.
- workers: the reads again with ``--workers 2``, against the 1-worker figures.
- ingest: add-contacts with 1,000 contacts per request from a few concurrent senders:
  JSON against the sqlite3 floor, XML against the lxml codec floor.
- postgres: the JSON ingest on PostgreSQL against the COPY floor.
- mixed: 1,000-contact add-contacts requests while wrk keeps get-contact busy, against the
  same requests on the idle server (no target: a bulk load must not stall behind reads).

Each ingest figure is followed by a ceiling (no target): rehber's own insert of ready-made
rows (SQLite: multi-row INSERT statements; PostgreSQL: COPY) into its migrated contacts
table, which is what add-contacts could reach with no HTTP, parsing, validation or answer.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, replace

from bench import data, floors, pg, wire
from bench.common import Options, log
from bench.context import LABELS, Bench
from bench.load import BulkResult, WrkResult, bulk_send, latency_median, post_rate
from bench.report import Row, Target, at_least, format_ratio
from bench.server import Rehber, SmallSeed, rehber_server, seed_small
from bench.stages import StageCosts, stage_costs

READS = ("get-contact", "get-group")
WRITES = ("add-contact", "subscribe-group")
# Distinct bodies per write row: more than its warm-up and three measurements (7 s of load)
# send at 25,000 req/s, so that no request repeats one before it (a repeated subscribe-group
# would be a no-op; 120,000 bodies ran out at 15,000 req/s on a faster machine). The writes
# server is seeded with _WRITE_CONTACTS contacts: 19 new (contact, group) pairs each.
_WRITE_BODIES = 180_000
_WRITE_CONTACTS = 19_000
_INGEST_BODIES = 30  # distinct 1,000-contact bodies the ingest senders cycle through


def _read_bodies(server: Rehber, seed: SmallSeed, action: str, fmt: wire.Format) -> list[bytes]:
    if action == "get-contact":
        return [server.body(fmt, {"contact": {"id": cid}}) for cid in seed.contact_ids]
    return [server.body(fmt, {"group": {"id": gid}}) for gid in seed.group_ids]


def _write_bodies(server: Rehber, seed: SmallSeed, action: str, fmt: wire.Format) -> list[bytes]:
    """add-contact: new contacts (unique numbers), each into one group. subscribe-group:
    distinct (contact, group) pairs, so each request adds a membership."""
    if action == "add-contact":
        first = 1_000_000 if fmt == "json" else 2_000_000
        turns = itertools.cycle(seed.all_group_ids)
        return [
            server.body(fmt, {"contact": data.contact(i, group=next(turns))})
            for i in range(first, first + _WRITE_BODIES)
        ]
    groups = seed.all_group_ids
    member_of = {cid: groups[n % len(groups)] for n, cid in enumerate(seed.contact_ids)}
    new_pairs = [(gid, cid) for gid in groups for cid in seed.contact_ids if member_of[cid] != gid]
    if len(new_pairs) < 2 * _WRITE_BODIES:
        raise RuntimeError(f"only {len(new_pairs):,} new pairs for 2 x {_WRITE_BODIES:,} bodies")
    # JSON from the front, XML from the back: the two figures never add the same membership.
    pairs = new_pairs[:_WRITE_BODIES] if fmt == "json" else new_pairs[::-1][:_WRITE_BODIES]
    return [server.body(fmt, {"contact": {"id": cid}, "group": {"id": gid}}) for gid, cid in pairs]


def _rate(
    server: Rehber,
    action: str,
    fmt: wire.Format,
    bodies: list[bytes],
    opts: Options,
    tag: str,
    *,
    warmup: bool = True,
    start: int = 0,
) -> WrkResult:
    name = f"{tag}-{action}-{fmt}"
    url = server.url(action, fmt)
    with server.measuring(name):
        return post_rate(
            name,
            url,
            bodies,
            wire.CONTENT_TYPES[fmt],
            opts,
            warmup=warmup,
            start=start,
            watch=server.service.pid,
        )


_ECHO_PAIRS = 3  # interleaved floor/rehber pairs per echo-ratio row; the median pair counts


def _echo_row(
    bench: Bench,
    server: Rehber,
    action: str,
    fmt: wire.Format,
    bodies: list[bytes],
    ratio: float,
    writes: bool = False,
) -> Row:
    """rehber against the echo floor of the same format: three pairs, each an echo figure
    and right after it rehber's, each half a lone figure's length; the pair with the median
    ratio is reported. On a shared machine the floor itself moved by a third within one run:
    one pair could not tell 0.48x from 0.52x. Write figures never resend a body (post.lua),
    and each waits for the search index to catch up, so the next echo figure does not share
    the machine with rehber's indexing."""
    opts = replace(bench.opts, duration=max(1.0, bench.opts.duration / 2))
    pairs, caught_up, start = [], 0.0, 0
    for n in range(_ECHO_PAIRS):
        floor = bench.echo_now(1, fmt, opts)
        result = _rate(server, action, fmt, bodies, opts, "1w", warmup=n == 0, start=start)
        start = result.next_body
        if writes:
            caught_up = max(caught_up, server.wait_for_search_index(bench.opts.backlog_wait))
        pairs.append((result.rate / floor.rate, result, floor))
    pairs.sort(key=lambda pair: pair[0])
    _, result, floor = pairs[len(pairs) // 2]
    ratios = ", ".join(format_ratio(r, ratio) for r, _, _ in pairs)
    note = f"p50 {result.p50_ms:.1f} ms; median of {len(pairs)} floor/rehber pairs ({ratios})"
    if caught_up >= 0.5:
        note += f"; search index caught up within {caught_up:.1f} s of each figure"
    problems = [p for _, r, f in pairs for p in (r.problems(), f.problems()) if p]
    if writes and start > len(bodies):
        problems.append(f"{start - len(bodies):,} requests resent a body (too few bodies)")
    return Row(
        f"{action} {LABELS[fmt]}",
        result.rate,
        "req/s",
        floor=floor.rate,
        target=at_least(ratio, f"echo {LABELS[fmt]}"),
        note=note,
        problem="; ".join(problems),
    )


def reads(bench: Bench) -> None:
    with rehber_server("reads", profile=bench.opts.profile) as server:
        seed = seed_small(server, bench.opts)
        for action in READS:
            for fmt in wire.FORMATS:
                bodies = _read_bodies(server, seed, action, fmt)
                bench.add(_echo_row(bench, server, action, fmt, bodies, 0.5))
    bench.note_rss("reads", server.peak_rss_mb)


def writes(bench: Bench) -> None:
    with rehber_server("writes", profile=bench.opts.profile) as server:
        seed = seed_small(server, bench.opts, contacts=_WRITE_CONTACTS)
        for action in WRITES:
            for fmt in wire.FORMATS:
                bodies = _write_bodies(server, seed, action, fmt)
                bench.add(_echo_row(bench, server, action, fmt, bodies, 0.3, writes=True))
    bench.note_rss("writes", server.peak_rss_mb)


_WORKER_ROUNDS = 3  # back-to-back 1-worker/2-worker pairs per row; the median pair counts
_WORKERS_TARGET = 1.5  # 2 workers vs 1


def workers(bench: Bench) -> None:
    """The reads on a 2-worker and a 1-worker server side by side, each pair measured back
    to back three times (the pair with the median ratio is reported: one 4-second pair moved
    between 1.35x and 1.85x from run to run); and how the echo floor itself scales from 1 to 2
    workers here."""
    opts = bench.opts
    with (
        rehber_server("workers-1w", profile=opts.profile) as one,
        rehber_server("workers-2w", workers=2, profile=opts.profile) as two,
    ):
        servers = [(one, seed_small(one, opts), "1w"), (two, seed_small(two, opts), "2w")]
        scaling = {
            fmt: bench.echo_now(2, fmt).rate / bench.echo_now(1, fmt).rate for fmt in wire.FORMATS
        }
        for action in READS:
            for fmt in wire.FORMATS:
                loads = [
                    (server, _read_bodies(server, seed, action, fmt), tag)
                    for server, seed, tag in servers
                ]
                pairs = []
                for _ in range(_WORKER_ROUNDS):
                    single, double = (
                        _rate(server, action, fmt, bodies, opts, tag)
                        for server, bodies, tag in loads
                    )
                    pairs.append((double.rate / single.rate, single, double))
                pairs.sort(key=lambda pair: pair[0])
                _, single, double = pairs[len(pairs) // 2]
                ratios = ", ".join(format_ratio(ratio, _WORKERS_TARGET) for ratio, _, _ in pairs)
                bench.add(
                    Row(
                        f"{action} {LABELS[fmt]}, 2 workers vs 1",
                        double.rate,
                        "req/s",
                        floor=single.rate,
                        target=at_least(_WORKERS_TARGET, "1 worker"),
                        note=(
                            f"median of {len(pairs)} back-to-back pairs ({ratios}); echo floor "
                            f"scales {scaling[fmt]:.2f}× from 1 to 2 workers here; "
                            + _cpu_shares(single, double)
                        ),
                        problem="; ".join(
                            p for _, s1, s2 in pairs for p in (s1.problems(), s2.problems()) if p
                        ),
                    )
                )
    bench.note_rss("reads, 2 workers (3 processes)", two.peak_rss_mb)


def _cpu_shares(single: WrkResult, double: WrkResult) -> str:
    """Where the CPU of a 1-worker/2-worker pair went. With wrk on the same cores, 2 workers
    can reach at most 2 cores / (server + wrk CPU per request): when wrk costs a third of what
    the server does, that is 1.5x the 1-worker figure."""
    one = single.cpu_us(single.server_cpu), single.cpu_us(single.wrk_cpu)
    two = double.cpu_us(double.server_cpu), double.cpu_us(double.wrk_cpu)
    busy = (double.server_cpu + double.wrk_cpu) / double.seconds
    return (
        f"CPU per request: 1 worker {one[0]:.0f} µs + wrk {one[1]:.0f} µs, 2 workers "
        f"{two[0]:.0f} µs + wrk {two[1]:.0f} µs ({busy:.2f} cores busy)"
    )


@dataclass(frozen=True, slots=True)
class _Ingested:
    rate: float  # contacts/s over HTTP
    note: str
    problem: str


def _ingest(server: Rehber, fmt: wire.Format, opts: Options) -> _Ingested:
    """add-contacts for ``opts.ingest_seconds`` from a few concurrent senders, after one
    unmeasured request per sender; then how long the search index took to catch up."""
    bodies = [server.body(fmt, data.batch_payload(n, opts.batch)) for n in range(_INGEST_BODIES)]

    def send(requests: int, seconds: float | None) -> BulkResult:
        return bulk_send(
            server.url("add-contacts", fmt),
            lambda index: (bodies[index % len(bodies)], opts.batch),
            lambda body: wire.accepted(fmt, body),
            senders=opts.ingest_senders,
            requests=requests,
            seconds=seconds,
        )

    send(opts.ingest_senders, None)
    server.wait_for_search_index(opts.backlog_wait)
    with server.measuring(f"add-contacts-{fmt}"):
        result = send(1_000_000, opts.ingest_seconds)
    log(f"  add-contacts {fmt}: {result.rate:,.0f} contacts/s ({result.stored:,} stored)")
    drained = server.wait_for_search_index(opts.backlog_wait)
    with_index = result.stored / (result.seconds + drained)
    note = (
        f"{result.stored:,} contacts in {result.seconds:.1f} s, {opts.ingest_senders} senders; "
        f"search index caught up {drained:.1f} s later ({with_index:,.0f}/s counting that)"
    )
    lost = result.sent - result.stored
    problem = ""
    if lost or result.failed_requests:
        problem = f"{lost:,} contacts not stored, {result.failed_requests} requests failed"
    return _Ingested(result.rate, note, problem)


def _ingest_row(
    label: str,
    ingested: _Ingested,
    floor: float,
    floor_unit: str,
    target: Target,
    floor_note: str = "",
) -> Row:
    return Row(
        label,
        ingested.rate,
        "contacts/s",
        floor=floor,
        floor_unit=floor_unit,
        target=target,
        note=ingested.note + floor_note,
        problem=ingested.problem,
    )


def ingest(bench: Bench) -> None:
    """Each format between runs of its floor: the sqlite3 floor for JSON, the lxml codec for XML.
    Each on a server of its own with an empty database, as each floor starts from nothing: on
    one server the second format would store into the first one's contacts (about 20% slower
    with 600,000 of them there) and the two figures would not be measured alike."""
    targets: dict[wire.Format, tuple[str, str, Target]] = {
        "json": ("sqlite", "rows/s", at_least(0.3, "sqlite3 floor")),
        "xml": ("lxml", "records/s", at_least(0.5, "lxml codec floor")),
    }
    for fmt in wire.FORMATS:
        name, unit, target = targets[fmt]

        def measure(fmt: wire.Format = fmt) -> _Ingested:
            with rehber_server(f"ingest-{fmt}", profile=bench.opts.profile) as server:
                ingested = _ingest(server, fmt, bench.opts)
            bench.note_rss(f"ingest {LABELS[fmt]}", server.peak_rss_mb)
            return ingested

        got = bench.around(name, measure)
        label = f"add-contacts {LABELS[fmt]} (bulk ingest, 1,000/request)"
        bench.add(_ingest_row(label, got.result, got.floor, unit, target, got.note))
        if fmt == "json":
            ceiling = floors.sqlite_ceiling(bench.opts)
            bench.add(_ceiling_row("its SQLite insert", ceiling, got.floor, "sqlite3 floor"))
            costs = stage_costs(fmt, bench.opts)
            bench.add(_stages_row(costs, target, got.floor, ceiling))


def _ceiling_row(how: str, ceiling: float, floor: float, floor_name: str) -> Row:
    return Row(
        f"ceiling: rehber's contacts table alone ({how})",
        ceiling,
        "rows/s",
        floor=floor,
        floor_unit="rows/s",
        note=(
            f"no target: ready-made rows into rehber's migrated table (its keys, indexes and "
            f"search text); add-contacts cannot beat {ceiling / floor:.2f}× the {floor_name}"
        ),
    )


def _stages_row(costs: StageCosts, target: Target, floor: float, ceiling: float) -> Row:
    """What one request costs in-process, stage by stage, against the time per request the
    ingest target leaves (``contacts`` at ``target`` × the floor's rate)."""
    budget = costs.contacts / (target.value * floor) * 1000
    insert = costs.contacts / ceiling * 1000
    return Row(
        f"add-contacts JSON in one process, no HTTP: ms per {costs.contacts:,} contacts",
        costs.total,
        "ms",
        floor=budget,
        floor_unit="ms",
        floor_name=f"the time {target.value:g}× the sqlite3 floor allows",
        note=(
            f"no target: medians of {costs.requests} requests one after another: "
            f"{costs.describe()}; the ceiling's insert alone takes {insert:.2f} ms"
        ),
    )


def postgres(bench: Bench) -> None:
    def measure() -> _Ingested:
        """On a scratch schema, dropped before the floor's runs after it."""
        url = bench.opts.postgres_url
        with pg.scratch_schema(url, "ingest") as schema:
            with rehber_server(
                "postgres", database=url, schema=schema, profile=bench.opts.profile
            ) as server:
                ingested = _ingest(server, "json", bench.opts)
            bench.note_rss("postgres", server.peak_rss_mb)
        return ingested

    got = bench.around("postgres", measure)
    label = "add-contacts JSON on PostgreSQL (bulk ingest)"
    target = at_least(0.3, "COPY floor")
    bench.add(_ingest_row(label, got.result, got.floor, "rows/s", target, got.note))
    ceiling = floors.postgres_ceiling(bench.opts)
    bench.add(_ceiling_row("PostgreSQL COPY", ceiling, got.floor, "COPY floor"))


_MIXED_SAMPLES = 11  # add-contacts requests per median


def mixed(bench: Bench) -> None:
    """add-contacts (JSON, 1,000 contacts) one at a time: median latency on the idle server,
    then while wrk sends get-contact as fast as the server answers. The server then shares
    one core between the two: the bulk requests take longer but must not stall (how much
    longer grows with wrk's connection count: bench/README.md)."""
    opts = bench.opts
    with rehber_server("mixed", profile=opts.profile) as server:
        seed = seed_small(server, opts)
        url = server.url("add-contacts", "json")
        bodies = [
            server.body("json", data.batch_payload(n, opts.batch))
            for n in range(5_000, 5_000 + 2 * _MIXED_SAMPLES)
        ]

        def check(body: bytes) -> str:
            stored = wire.accepted("json", body)
            return "" if stored == opts.batch else f"{stored} of {opts.batch} stored"

        idle = latency_median(server.client, url, bodies, _MIXED_SAMPLES, check)
        read_bodies = _read_bodies(server, seed, "get-contact", "json")
        reads: list[WrkResult] = []
        wrk = threading.Thread(
            target=lambda: reads.append(
                _rate(server, "get-contact", "json", read_bodies, opts, "mixed")
            )
        )
        wrk.start()
        try:
            loaded = latency_median(server.client, url, bodies[::-1], _MIXED_SAMPLES, check)
            overlapped = wrk.is_alive()
        finally:
            wrk.join()
    read = reads[0] if reads else None
    problems = [] if overlapped else ["the reads ended before the bulk requests did"]
    if read is None or read.problems():
        problems.append(read.problems() if read else "wrk gave no result")
    bench.add(
        Row(
            "add-contacts JSON (1,000/request) while get-contact JSON runs",
            loaded,
            "ms",
            floor=idle,
            floor_unit="ms",
            floor_name="the idle server",
            note=(
                f"no target: median of {_MIXED_SAMPLES} requests against the same on the idle "
                f"server; get-contact meanwhile {read.rate if read else 0:,.0f} req/s"
            ),
            problem="; ".join(problems),
        )
    )
