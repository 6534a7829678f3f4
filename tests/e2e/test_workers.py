"""``rehber serve --workers N``: every worker listens on a socket of its own (SO_REUSEPORT),
so connections opened together spread over the workers (server/workers.py)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from rehber.server.workers import STARTUP_FAILURE, Workers
from tests.support.server import connect, free_port, running_server, wait_healthy

CONNECTIONS = 32


def _workers_of_connections_opened_together(base: str) -> Counter[int]:
    """Open every connection before sending anything on any, then ask each which worker
    holds it. With one shared listening socket the first worker to wake accepts them all."""
    sockets = [connect(base) for _ in range(CONNECTIONS)]
    answers: Counter[int] = Counter()
    request = b"GET /_rehber/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    for sock in sockets:
        with sock:
            sock.sendall(request)
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
            answers[int(json.loads(raw.split(b"\r\n\r\n", 1)[1])["worker"])] += 1
    return answers


def _serving(base: str, count: int) -> set[int]:
    """Wait until ``count`` workers answer (``running_server`` returns once one does)."""
    deadline = time.monotonic() + 30
    seen: set[int] = set()
    while len(seen) < count:
        assert time.monotonic() < deadline, f"only workers {seen} answered within 30 s"
        seen |= set(_workers_of_connections_opened_together(base))
    return seen


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_connections_opened_together_spread_over_the_workers(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'rehber.db'}"
    with running_server(database, None, tmp_path / "server.log", "--workers", "2") as base:
        _serving(base, 2)
        answers = _workers_of_connections_opened_together(base)
    # SO_REUSEPORT hashes each connection to one of the two sockets: fewer than 4 of 32 on
    # either happens with probability 3e-6.
    assert len(answers) == 2, answers
    assert min(answers.values()) >= 4, answers


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'rehber.db'}"
    log = tmp_path / "server.log"
    with running_server(database, None, log, "--workers", "2") as base:
        first = _serving(base, 2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        seen: set[int] = set()
        while time.monotonic() < deadline and not (seen - first):
            # A connection the dead worker's socket held is reset.
            with contextlib.suppress(OSError, ValueError, IndexError):
                seen |= set(_workers_of_connections_opened_together(base))
        replacement = seen - first
        assert replacement, f"no new worker within 30 s; saw {seen}"
        assert victim not in seen
        workers = (first - {victim}) | replacement
    # running_server sent SIGTERM to the supervisor and waited for it.
    assert not [pid for pid in workers if _alive(pid)]
    assert "starting another" in log.read_text()


def test_a_port_in_use_is_an_error_not_a_shared_port(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'rehber.db'}"
    with running_server(database, None, tmp_path / "server.log", "--workers", "2") as base:
        workers = _serving(base, 2)
        port = base.rsplit(":", 1)[1]
        argv = [sys.executable, "-m", "rehber.cli", "serve", "--port", port, "--workers", "2"]
        second = subprocess.run(
            [*argv, "--database", f"sqlite:///{tmp_path / 'other.db'}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 1
        assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
        assert set(_workers_of_connections_opened_together(base)) <= workers


def test_workers_that_cannot_start_stop_the_server() -> None:
    options = {"app": "rehber.no_such_module:app", "log_level": "critical"}
    assert Workers(options, "127.0.0.1", free_port(), 2).run() == STARTUP_FAILURE


def test_health_names_the_worker(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'rehber.db'}"
    with running_server(database, None, tmp_path / "server.log") as base:
        assert httpx.get(f"{base}/_rehber/health").json()["worker"] > 0


def test_sighup_stops_the_supervisor_and_its_workers(tmp_path: Path) -> None:
    """Not only the supervisor: workers orphaned by a hangup would go on serving the port."""
    port = free_port()
    argv = [sys.executable, "-m", "rehber.cli", "serve", "--port", str(port), "--workers", "2"]
    argv += ["--database", f"sqlite:///{tmp_path / 'rehber.db'}"]
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(base, process)
            workers = _serving(base, 2)
            process.send_signal(signal.SIGHUP)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert not [pid for pid in workers if _alive(pid)]
