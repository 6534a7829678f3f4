"""Load generators: wrk for request rates, sequential httpx for latency medians, and a few
concurrent Python senders for bulk ingest. Every one of them is bounded in time."""

from __future__ import annotations

import itertools
import json
import os
import resource
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from bench.common import BENCH, WORK, Options, Skip, cpu_seconds, log, median
from bench.procs import process_tree

_WRK_GRACE = 30.0  # seconds wrk may overrun its -d before it is stopped


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int  # HTTP status >= 400 plus socket errors
    p50_ms: float
    p99_ms: float
    missing_ids: int = 0
    next_body: int = 0  # post.lua: where a run that must not repeat this one's bodies starts
    wrk_cpu: float = 0.0  # CPU seconds wrk used
    server_cpu: float = 0.0  # CPU seconds the watched server (its process tree) used

    def cpu_us(self, seconds: float) -> float:
        """Microseconds of ``seconds`` of CPU per request."""
        return seconds / self.requests * 1e6 if self.requests else 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def problems(self) -> str:
        """Why the figure cannot be trusted, or ''."""
        notes = []
        if self.errors:
            notes.append(f"{self.errors} of {self.requests} requests failed")
        if self.missing_ids:
            notes.append(f"{self.missing_ids} creates answered no id")
        return "; ".join(notes)


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's packages when missing (the bench runs as root
    on the project's machines)."""
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: apt-get install -y wrk")
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        try:
            subprocess.run(argv, check=True, timeout=300, capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise Skip(f"wrk is not installed and could not be installed ({exc})") from exc
    found = shutil.which("wrk")
    if not found:
        raise Skip("wrk is not installed")
    return found


def _lines_file(name: str, bodies: Sequence[bytes]) -> str:
    """Write ``bodies`` one per line for the wrk scripts."""
    target = WORK / "bodies" / f"{name}.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    for body in bodies:
        if b"\n" in body:
            raise ValueError(f"{name}: a body spans several lines")
    target.write_bytes(b"\n".join(bodies) + b"\n")
    return str(target)


def _wrk_cpu() -> float:
    """CPU seconds of this process's reaped children: wrk's, once it has been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_wrk(
    script: str,
    url: str,
    env: dict[str, str],
    *,
    threads: int,
    connections: int,
    seconds: float,
    watch: int | None = None,
) -> WrkResult:
    """One wrk run; with ``watch`` (a server's pid), the CPU its process tree used too."""
    argv = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / script),
        url,
    ]
    watched = process_tree(watch) if watch is not None else []
    server_before, wrk_before = cpu_seconds(watched), _wrk_cpu()
    done = subprocess.run(
        argv,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=seconds + _WRK_GRACE,
        check=False,
    )
    server_cpu, wrk_cpu = cpu_seconds(watched) - server_before, _wrk_cpu() - wrk_before
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line[len("BENCH ") :])
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                errors=data["status_errors"] + data["socket_errors"],
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                missing_ids=data.get("missing_ids", 0),
                next_body=data.get("next_body", 0),
                wrk_cpu=wrk_cpu,
                server_cpu=server_cpu,
            )
    raise RuntimeError(f"wrk printed no result: {done.stdout[-300:]} {done.stderr[-300:]}")


def post_rate(
    name: str,
    url: str,
    bodies: Sequence[bytes],
    content_type: str,
    opts: Options,
    *,
    warmup: bool = True,
    start: int = 0,
    watch: int | None = None,
) -> WrkResult:
    """Requests/s of POSTing ``bodies`` in turn to ``url``, from body ``start`` on, after a
    short unmeasured warm-up (unless the target is known to be warm already). The measured
    run never resends a body the warm-up sent, and ``result.next_body`` is where a later run
    starts to send none this one did (as long as ``bodies`` last). ``watch``: the server's
    pid, whose CPU over the measured run the result carries."""
    env = {
        "BODY_FILE": _lines_file(name, bodies),
        "CONTENT_TYPE": content_type,
        "THREADS": str(opts.threads),
        "BODY_START": str(start),
    }
    shape = {"threads": opts.threads, "connections": opts.connections}
    if warmup and opts.warmup > 0:
        warm = _run_wrk("post.lua", url, env, seconds=opts.warmup, **shape)
        env["BODY_START"] = str(warm.next_body)
    result = _run_wrk("post.lua", url, env, seconds=opts.duration, watch=watch, **shape)
    log(f"  {name}: {result.rate:,.0f} req/s (p50 {result.p50_ms:.1f} ms) {result.problems()}")
    return result


@dataclass(frozen=True, slots=True)
class CreateRead:
    """One target of the create-then-read workload."""

    name: str
    base_url: str
    create_path: str
    create_bodies: Sequence[bytes]
    read_method: str
    read_path: str
    read_body: str = ""
    content_type: str = "application/json"


def create_read_rate(target: CreateRead, opts: Options) -> WrkResult:
    """Requests/s (creates and reads together) of create, read back, repeat."""
    env = {
        "CREATE_BODY_FILE": _lines_file(f"create-{target.name}", target.create_bodies),
        "CREATE_PATH": target.create_path,
        "READ_METHOD": target.read_method,
        "READ_PATH": target.read_path,
        "READ_BODY": target.read_body,
        "CONTENT_TYPE": target.content_type,
    }
    shape = {"threads": opts.peer_connections, "connections": opts.peer_connections}
    if opts.warmup > 0:
        _run_wrk("create_read.lua", target.base_url, env, seconds=opts.warmup, **shape)
    result = _run_wrk("create_read.lua", target.base_url, env, seconds=opts.duration, **shape)
    log(f"  {target.name}: {result.rate:,.0f} req/s {result.problems()}")
    return result


def latency_median(
    client: httpx.Client,
    url: str,
    bodies: Sequence[bytes],
    samples: int,
    check: Callable[[bytes], str] | None = None,
) -> float:
    """Median milliseconds of ``samples`` sequential POSTs (bodies used in turn, one warm-up
    request each first). ``check`` returns a problem with a response, or ''."""
    for body in bodies[:samples]:
        client.post(url, content=body)
    timings = []
    for body in itertools.islice(itertools.cycle(bodies), samples):
        started = time.perf_counter()
        response = client.post(url, content=body)
        timings.append((time.perf_counter() - started) * 1000)
        problem = check(response.content) if check else ""
        if response.status_code != 200 or problem:
            raise RuntimeError(f"{url}: HTTP {response.status_code} {problem}")
    return median(timings)


@dataclass(frozen=True, slots=True)
class BulkResult:
    sent: int  # items sent
    stored: int  # items the server answered 200 for
    seconds: float
    failed_requests: int

    @property
    def rate(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0


def bulk_send(
    url: str,
    make_body: Callable[[int], tuple[bytes, int]],
    count_stored: Callable[[bytes], int],
    *,
    senders: int,
    requests: int,
    seconds: float | None = None,
    progress_every: int = 0,
) -> BulkResult:
    """POST bodies ``make_body(0..requests-1)`` (each returning a body and its item count)
    from ``senders`` concurrent clients; stop starting new requests after ``seconds``. Every
    ``progress_every`` stored items, log the rate since the last such line."""
    next_index = itertools.count()
    lock = threading.Lock()
    totals = {"sent": 0, "stored": 0, "failed": 0}
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else None
    mark = [0, started]  # stored items and time at the last progress line

    def note_progress() -> None:  # called with the lock held
        if progress_every and totals["stored"] - mark[0] >= progress_every:
            now = time.perf_counter()
            rate = (totals["stored"] - mark[0]) / (now - mark[1])
            log(f"    {totals['stored']:,} stored, {rate:,.0f}/s over the last stretch")
            mark[:] = [totals["stored"], now]

    def sender() -> None:
        with httpx.Client(timeout=120.0) as client:
            while True:
                index = next(next_index)
                if index >= requests or (deadline is not None and time.perf_counter() > deadline):
                    return
                body, items = make_body(index)
                response = client.post(url, content=body)
                stored = count_stored(response.content) if response.status_code == 200 else 0
                with lock:
                    totals["sent"] += items
                    totals["stored"] += stored
                    totals["failed"] += response.status_code != 200
                    note_progress()

    workers = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return BulkResult(
        totals["sent"], totals["stored"], time.perf_counter() - started, totals["failed"]
    )
