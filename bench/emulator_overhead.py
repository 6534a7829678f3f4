"""What emulator mode costs on ``POST /v1/get-contact/json``: disabled vs enabled.

Starts real ``rehber serve`` processes on fresh SQLite files (one plain, one ``--emulator``;
optionally a third from another source tree, e.g. a checkout from before the emulator existed,
with ``--baseline-src``), stores one contact in each, and sends many sequential requests over
one keep-alive connection per server. Rounds alternate between the servers so that machine
noise hits them alike; the figure is the ratio of median request times. Not a test: no
timing is asserted anywhere.

    python bench/emulator_overhead.py [--requests 2000] [--rounds 5] [--baseline-src DIR]

For "no cost when disabled", the fair baseline is the same tree without the emulator hook
(``git worktree add /tmp/noemu HEAD`` and delete the ``if services.settings.emulator:`` block
of ``server/app.py`` there), so other changes do not blur the figure. 2026-11-23, 2 shared
CPUs, 12,000 requests per server: disabled 1053 µs, enabled 1261 µs (1.198), no-hook
baseline 1057 µs (disabled / baseline 0.997).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from rehber.testing import free_port, wait_healthy


@contextmanager
def server(workdir: Path, *flags: str, src: str | None = None) -> Iterator[tuple[str, bytes]]:
    """A server on a fresh database with one contact; yields its URL and a get-contact body."""
    workdir.mkdir(parents=True)
    database = f"sqlite:///{workdir / 'bench.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHBER_")}
    if src:
        env["PYTHONPATH"] = src
    cli = [sys.executable, "-m", "rehber.cli"]
    created = subprocess.run(
        [*cli, "accounts", "create", "bench", "--json", "--database", database],
        env=env,
        capture_output=True,
        check=True,
        text=True,
    )
    account = json.loads(created.stdout)
    port = free_port()
    with (workdir / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [*cli, "serve", "--port", str(port), "--database", database, *flags],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        auth = {"key": account["key"], "hash": account["hash"]}
        added = httpx.post(
            f"{url}/v1/add-contact/json",
            json={"request": {"authentication": auth, "contact": {"name": "Ayşe"}}},
        ).json()
        contact = added["response"]["contact"]["id"]
        body = {"request": {"authentication": auth, "contact": {"id": contact}}}
        yield url, json.dumps(body).encode()
    finally:
        process.terminate()
        process.wait(timeout=20)


def timed_round(client: httpx.Client, body: bytes, count: int) -> list[float]:
    """Per-request wall time (seconds) of ``count`` sequential get-contact calls."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.post("/v1/get-contact/json", content=body)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(response.text)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-src", default=None, help="src/ of another rehber tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        setups = {
            "disabled": stack.enter_context(server(Path(tmp) / "plain")),
            "enabled": stack.enter_context(server(Path(tmp) / "emulator", "--emulator")),
        }
        if args.baseline_src:
            setups["baseline"] = stack.enter_context(
                server(Path(tmp) / "baseline", src=args.baseline_src)
            )
        clients = {
            name: stack.enter_context(httpx.Client(base_url=url))
            for name, (url, _) in setups.items()
        }
        samples: dict[str, list[float]] = {name: [] for name in setups}
        for name in setups:  # warm-up: connections, caches, first-request imports
            timed_round(clients[name], setups[name][1], 200)
        for _ in range(args.rounds):
            for name in setups:
                samples[name] += timed_round(clients[name], setups[name][1], args.requests)
    medians = {name: statistics.median(times) * 1e6 for name, times in samples.items()}
    for name, median in medians.items():
        print(f"{name:>9}: median {median:7.1f} µs over {len(samples[name])} requests")
    print(f"enabled / disabled: {medians['enabled'] / medians['disabled']:.3f}")
    if "baseline" in medians:
        print(f"disabled / baseline: {medians['disabled'] / medians['baseline']:.3f}")


if __name__ == "__main__":
    main()
