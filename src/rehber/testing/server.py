"""Start a real ``rehber serve --emulator`` process for a test session.

A subprocess rather than a thread: the server under test then runs exactly as in production
(uvicorn, its own event loop and database connections), and a test's own event loop or
monkeypatching cannot disturb it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator_server(
    workdir: Path,
    *,
    database_url: str | None = None,
    id_start: int | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Run an emulator on a free 127.0.0.1 port until the block ends; yields its base URL.

    The database defaults to a fresh SQLite file in ``workdir`` (the server log goes there
    too: ``workdir/rehber-emulator.log``).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = database_url or f"sqlite:///{workdir / 'rehber-emulator.db'}"
    log_path = workdir / "rehber-emulator.log"
    port = free_port()
    args = [sys.executable, "-m", "rehber.cli", "serve", "--emulator", "--port", str(port)]
    args += ["--database", database_url, *extra_args]
    if id_start is not None:
        args += ["--id-start", str(id_start)]
    # The server reads its configuration from its arguments only, not the caller's REHBER_*.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHBER_")}
    with log_path.open("ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(
    base_url: str, process: subprocess.Popen[bytes] | None = None, log_path: Path | None = None
) -> None:
    """Poll ``/_rehber/health`` until it answers 200 (fails fast if the process exits)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"rehber serve exited with {process.returncode}{_tail(log_path)}")
        try:
            if httpx.get(f"{base_url}/_rehber/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"rehber emulator at {base_url} not healthy in {STARTUP_SECONDS} s")


def _tail(log_path: Path | None) -> str:
    if log_path is None or not log_path.exists():
        return ""
    return ":\n" + log_path.read_text(errors="replace")[-2000:]
