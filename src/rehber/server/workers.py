"""Several server processes on one port, each listening on a socket of its own.

uvicorn's own supervisor hands one listening socket to all its workers. Whichever worker wakes
first accepts every connection that is waiting, so connections opened together (a client's
pool, a load balancer's keep-alive set) all land on one worker, and stay there: measured with
64 connections opened at once, a 2-worker server answered no faster than 1 worker in two runs
of three. Here every worker binds its own socket with ``SO_REUSEPORT`` and the kernel spreads
new connections over the listening sockets.

The supervisor holds the port (bound with ``SO_REUSEPORT``, never listening), so a port in use
fails at once, port 0 resolves to one port for all workers, and a restarted worker binds the
same port. It restarts a worker that dies after it started serving; a worker that dies before
that is a startup failure, and the whole server stops.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any

import uvicorn

logger = logging.getLogger("rehber.workers")

STARTUP_FAILURE = 3  # uvicorn's exit status for a server that could not start
_POLL_SECONDS = 0.2
_RETRY_SECONDS = 1.0
_STOP_SECONDS = 30.0  # how long workers may take to finish their requests when stopping


def _bound_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to ``(host, port)``; with ``reuse_port``, one that other sockets
    of this user may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _hold_port(host: str, port: int) -> socket.socket:
    """The supervisor's socket on the port, after making sure nothing else listens there:
    ``SO_REUSEPORT`` alone would let a second server of the same user share the port
    silently, where a server should fail to start."""
    # OSError (address in use) when anything holds the port.
    with _bound_socket(host, port, reuse_port=False) as probe:
        port = probe.getsockname()[1]
    return _bound_socket(host, port, reuse_port=True)


class _Server(uvicorn.Server):
    """uvicorn's server, telling the supervisor once it listens."""

    def __init__(self, config: uvicorn.Config, ready: Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.ready.set()


def _worker(options: dict[str, Any], host: str, port: int, ready: Event) -> None:
    config = uvicorn.Config(**options)
    config.configure_logging()
    try:
        sock = _bound_socket(host, port, reuse_port=True)
    except OSError as exc:
        logger.error("worker cannot bind %s:%d: %s", host, port, exc)
        sys.exit(STARTUP_FAILURE)
    _Server(config, ready).run(sockets=[sock])


@dataclass
class _Slot:
    process: SpawnProcess
    ready: Event
    first: bool  # started with the server: dying before it serves stops the server


class Workers:
    """Starts ``count`` uvicorn workers with ``options`` (keyword arguments of
    ``uvicorn.Config``) on ``host:port`` and keeps them running until SIGINT, SIGTERM or
    SIGHUP."""

    def __init__(self, options: dict[str, Any], host: str, port: int, count: int) -> None:
        self.options = options
        self.host = host
        self.count = count
        self.holder = _hold_port(host, port)
        self.port: int = self.holder.getsockname()[1]
        self.context = multiprocessing.get_context("spawn")
        self.stopping = threading.Event()
        self.slots: list[_Slot] = []

    def _start(self, *, first: bool = False) -> _Slot:
        ready = self.context.Event()
        process = self.context.Process(
            target=_worker,
            args=(self.options, self.host, self.port, ready),
            name="rehber-worker",
        )
        process.start()
        return _Slot(process, ready, first)

    def _stop_on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Serve until told to stop; the exit status."""
        previous = {
            signum: signal.signal(signum, self._stop_on_signal)
            # SIGHUP too: its default would end the supervisor alone and orphan its workers.
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        }
        self.slots = [self._start(first=True) for _ in range(self.count)]
        status = 0
        try:
            while not self.stopping.wait(_POLL_SECONDS):
                status = self._replace_dead()
                if status:
                    break
        finally:
            self._stop_all()
            self.holder.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return status

    def _replace_dead(self) -> int:
        for index, slot in enumerate(self.slots):
            if slot.process.is_alive():
                continue
            code = slot.process.exitcode
            if not slot.ready.is_set():
                if slot.first:
                    logger.error("a worker exited with %s before it served", code)
                    return STARTUP_FAILURE
                time.sleep(_RETRY_SECONDS)  # a replacement that cannot start: do not spin
            logger.warning("worker %s exited with %s; starting another", slot.process.pid, code)
            self.slots[index] = self._start()
        return 0

    def _stop_all(self) -> None:
        for slot in self.slots:
            if slot.process.is_alive():
                slot.process.terminate()  # SIGTERM: uvicorn finishes open requests, then exits
        deadline = time.monotonic() + _STOP_SECONDS
        for slot in self.slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
