"""A real ``rehber serve`` process on a free 127.0.0.1 port, for tests over real HTTP."""

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


def connect(base: str) -> socket.socket:
    """A raw TCP connection to the server at ``base`` (``http://host:port``)."""
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    database_url: str, schema: str | None, log_path: Path, *extra: str
) -> Iterator[str]:
    """Start ``rehber serve``, wait until /_rehber/health answers, yield its base URL."""
    port = free_port()
    args = [sys.executable, "-m", "rehber.cli", "serve", "--port", str(port)]
    args += ["--database", database_url, *extra]
    if schema:
        args += ["--schema", schema]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHBER_")}
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, process)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)


def wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rehber serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/_rehber/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # polling a port that is not open yet
    raise RuntimeError("rehber serve did not become healthy in 30 s")
