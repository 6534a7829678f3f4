"""The scale scenario: one account with a million contacts in one group and 1,000 groups.

Seeded through add-contacts (JSON, 1,000 per request, a few concurrent senders) as fast as the
server takes them; then sequential requests give latency medians: the last page of the group
against the first, a search for 5 letters that match at most 100 contacts, and get-groups.
The server's resident memory is sampled from start to end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bench import data, wire
from bench.common import Options, log, median
from bench.context import LABELS, Bench
from bench.load import bulk_send, latency_median
from bench.report import Row, at_most, below
from bench.server import Rehber, rehber_server

_CHILDREN_PER_GROUP = 4  # get-groups answers a tree: a fifth of the groups are top-level
_SEARCH_KEYS = 20
_SEARCH_SAMPLES = 5  # per key
_QUERIES = 30.0  # seconds the latency measurements take
_LATER = 60.0  # seconds the scenarios after this one take (peers, with its npm installs)
# Seconds the seeding gets however late it starts: a million contacts at 25,000/s (a slow
# run of this machine) and a margin. It stops as soon as all are stored.
_SEED_AT_LEAST = 60.0


def _groups(server: Rehber, count: int) -> int:
    """``count`` groups, a fifth of them top-level with the rest below them; the id of the
    first, which will hold every contact."""
    top = [server.add_group(f"Kampanya {n}") for n in range(math.ceil(count / 5))]
    for n in range(count - len(top)):
        server.add_group(f"Bölge {n}", parent=top[n // _CHILDREN_PER_GROUP % len(top)])
    return top[0]


def _seed(server: Rehber, group: int, opts: Options, seconds: float) -> tuple[int, float]:
    """Contacts stored and the seconds it took (new requests stop after ``seconds``)."""

    def body(index: int) -> tuple[bytes, int]:
        block = range(index * opts.batch, min((index + 1) * opts.batch, opts.scale_contacts))
        items = [data.contact(i, group=group) for i in block]
        return server.body("json", {"contacts": {"contact": items}}), len(items)

    result = bulk_send(
        server.url("add-contacts", "json"),
        body,
        lambda answer: wire.accepted("json", answer),
        senders=opts.ingest_senders,
        requests=math.ceil(opts.scale_contacts / opts.batch),
        seconds=seconds,
        progress_every=100_000 if opts.scale_contacts >= 500_000 else 10_000,
    )
    log(f"  seeded {result.stored:,} contacts in {result.seconds:.1f} s ({result.rate:,.0f}/s)")
    return result.stored, result.seconds


def _expect(fmt: wire.Format, expected: int) -> Callable[[bytes], str]:
    """A check that a response lists exactly ``expected`` contacts."""

    def check(body: bytes) -> str:
        found = wire.count(fmt, body, "contacts", "contact")
        return "" if found == expected else f"{found} contacts listed, expected {expected}"

    return check


def _median(
    server: Rehber,
    action: str,
    fmt: wire.Format,
    payload: dict[str, Any],
    samples: int,
    check: Callable[[bytes], str] | None = None,
) -> float:
    """Median milliseconds of ``samples`` sequential calls with one body."""
    url = server.url(action, fmt)
    return latency_median(server.client, url, [server.body(fmt, payload)], samples, check)


def _pages(
    bench: Bench, server: Rehber, group: int, stored: int, fmt: wire.Format, smaller: str
) -> None:
    opts = bench.opts
    last_page = math.ceil(stored / opts.batch)
    on_last = stored - (last_page - 1) * opts.batch

    def page(number: int, expected: int) -> float:
        payload = {"group": {"id": group, "page": number, "rowCount": opts.batch}}
        return _median(
            server, "get-group-contacts", fmt, payload, opts.latency_samples, _expect(fmt, expected)
        )

    first, last = page(1, opts.batch), page(last_page, on_last)
    bench.add(
        Row(
            f"get-group-contacts {LABELS[fmt]}: last page ({last_page:,}) vs first",
            last,
            "ms",
            floor=first,
            target=at_most(2, "first page"),
            note=f"rowCount {opts.batch}; medians of {opts.latency_samples} requests",
            problem=smaller,
        )
    )


def _search(
    bench: Bench, server: Rehber, stored: int, fmt: wire.Format, behind: int, smaller: str
) -> None:
    """Search medians; each answer must list exactly the expected contacts, unless the search
    index is still ``behind`` (then the row fails for that reason)."""
    keys = data.search_keys(stored, _SEARCH_KEYS)
    per_key = [
        _median(
            server,
            "search-contacts",
            fmt,
            {"search": {"key": key.key, "rowCount": 1000}},
            _SEARCH_SAMPLES,
            None if behind else _expect(fmt, key.expected),
        )
        for key in keys
    ]
    most = max(key.expected for key in keys)
    bench.add(
        Row(
            f"search-contacts {LABELS[fmt]}: 5 letters, ≤ {most} hits in {stored:,}",
            median(per_key),
            "ms",
            target=below(20, "ms"),
            note=f"median of {len(keys)} keys' medians; slowest key {max(per_key):.1f} ms; "
            f"keys such as {keys[0].key!r}, {keys[1].key!r}",
            problem=f"search index still {behind:,} contacts behind" if behind else smaller,
        )
    )


def _get_groups(bench: Bench, server: Rehber, fmt: wire.Format) -> None:
    opts = bench.opts
    bench.add(
        Row(
            f"get-groups {LABELS[fmt]}: {opts.scale_groups:,} groups",
            _median(server, "get-groups", fmt, {}, opts.latency_samples),
            "ms",
            target=below(20, "ms"),
            note=f"a tree: {math.ceil(opts.scale_groups / 5):,} top-level groups",
        )
    )


def _memory_row(bench: Bench, server: Rehber, stored: int, smaller: str) -> Row:
    note = "VmHWM/VmRSS of the server process and its children, from start to stop"
    others = {name: mb for name, mb in bench.server_rss.items() if name != "scale"}
    if others:
        name, mb = max(others.items(), key=lambda item: item[1])
        note += f"; largest other rehber server in this run: {mb:,.0f} MB ({name})"
    return Row(
        f"peak RSS of the scale server ({stored:,} contacts)",
        server.peak_rss_mb,
        "MB",
        target=below(200, "MB"),
        note=note,
        problem=smaller,
    )


def scale(bench: Bench) -> None:
    opts = bench.opts
    with rehber_server("scale", profile=opts.profile) as server:
        group = _groups(server, opts.scale_groups)
        with server.measuring("seed"):
            budget = bench.time_left(_LATER + _QUERIES, at_least=_SEED_AT_LEAST)
            stored, seconds = _seed(server, group, opts, budget)
        drained = server.wait_for_search_index(
            min(opts.backlog_wait, bench.time_left(_LATER + _QUERIES))
        )
        behind = server.search_backlog()
        short = stored < opts.scale_contacts
        # The targets are for the full account: figures from a smaller one do not count.
        smaller = f"measured with {stored:,} of {opts.scale_contacts:,} contacts" if short else ""
        bench.add(
            Row(
                f"seed {stored:,} contacts into one group (add-contacts JSON)",
                stored / seconds,
                "contacts/s",
                note=f"{seconds:.0f} s, {opts.ingest_senders} senders; "
                f"search index caught up {drained:.0f} s later",
                problem=f"only {stored:,} of {opts.scale_contacts:,} stored in time"
                if short
                else "",
            )
        )
        for fmt in wire.FORMATS:
            with server.measuring(f"get-group-contacts-{fmt}"):
                _pages(bench, server, group, stored, fmt, smaller)
            with server.measuring(f"search-contacts-{fmt}"):
                _search(bench, server, stored, fmt, behind, smaller)
            with server.measuring(f"get-groups-{fmt}"):
                _get_groups(bench, server, fmt)
    bench.note_rss("scale", server.peak_rss_mb)
    bench.add(_memory_row(bench, server, stored, smaller))
