"""A real HTTP/1.1 server on 127.0.0.1 that answers by a script: reply, drop, or hang.

For what the rehber app never does on its own: fail a few times and then succeed, cut a
connection, never answer, or answer with an odd envelope. Each connection is served by its own
thread, reads one request, records it, acts, and closes (``Connection: close``).
:meth:`ScriptedServer.close` releases hanging handlers and joins every thread, so after it the
record of received requests is complete: tests count requests without sleeping.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType

import orjson


@dataclass(frozen=True)
class Reply:
    """Answer with this status, body and headers."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def envelope(cls, code: int, message: str = "", payload: str = "", **headers: str) -> Reply:
        """A vendor JSON envelope with ``status.code`` = ``code`` (HTTP status too)."""
        status = orjson.dumps({"code": code, "message": message}).decode()
        body = f'{{"response":{{"status":{status}{payload}}}}}'.encode()
        extra = tuple((k.replace("_", "-"), v) for k, v in headers.items())
        return cls(code, body, (("Content-Type", "application/json"), *extra))


@dataclass(frozen=True)
class Drop:
    """Read the request, then close the connection without answering."""


@dataclass(frozen=True)
class Hang:
    """Read the request and never answer (until the server closes)."""


Step = Reply | Drop | Hang


@dataclass
class Received:
    path: str
    body: bytes


@dataclass
class ScriptedServer:
    """Serve ``steps`` in order, one per request; the last step repeats."""

    steps: list[Step]
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1/"
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def paths(self) -> list[str]:
        return [r.path for r in self.received]

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # listener closed
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            request = _read_request(conn)
            if request is None:
                return
            with self._lock:
                self.received.append(request)
                step = self.steps[min(len(self.received), len(self.steps)) - 1]
            if isinstance(step, Hang):
                self._released.wait()
            elif isinstance(step, Reply):
                conn.sendall(_response(step))

    def close(self) -> None:
        self._released.set()
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (Linux)
        self._listener.close()
        self._acceptor.join()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _read_request(conn: socket.socket) -> Received | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return Received(lines[0].split(" ")[1], body)


def _response(reply: Reply) -> bytes:
    head = [f"HTTP/1.1 {reply.status} Scripted", f"Content-Length: {len(reply.body)}"]
    head += [f"{k}: {v}" for k, v in reply.headers]
    head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body
