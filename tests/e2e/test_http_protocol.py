"""HTTP itself over real sockets against ``rehber serve``, whose protocol is uvicorn's with a
deadline for request heads (``server/limits.py``): a 100 Continue, answers to HEAD and
pipelined requests work as HTTP/1.1 says, and the deadline bookkeeping between requests on
one connection does not get in their way."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.server import connect, running_server

GET_GROUPS = b"POST /v1/get-groups/json HTTP/1.1\r\nHost: test\r\n"
UNAUTHENTICATED = b'{"request":{"authentication":{"key":"k","hash":"h"}}}'


def _post(body: bytes) -> bytes:
    return GET_GROUPS + b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("protocol")
    url = f"sqlite:///{workdir / 'rehber.db'}"
    with running_server(url, None, workdir / "server.log") as base:
        yield base


class Reader:
    """Whole HTTP answers read off a socket, one at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed; unread: {self.buffer!r}")
        self.buffer += chunk

    def head(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        return head

    def answer(self, *, has_body: bool = True) -> tuple[bytes, bytes]:
        head = self.head()
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if not has_body:
            return head, b""
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return head, body


def test_expect_100_continue_is_answered_before_the_body_is_sent(server: str) -> None:
    with connect(server) as sock:
        reader = Reader(sock)
        head = GET_GROUPS + b"Expect: 100-continue\r\n"
        sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(UNAUTHENTICATED))
        assert reader.head() == b"HTTP/1.1 100 Continue"  # nothing of the body sent yet
        sock.sendall(UNAUTHENTICATED)
        status, body = reader.answer()
        assert status.startswith(b"HTTP/1.1 401 ") and b'"code":401' in body


def test_an_answer_to_head_is_sent_and_the_connection_goes_on(server: str) -> None:
    with connect(server) as sock:
        reader = Reader(sock)
        sock.sendall(b"HEAD /_rehber/health HTTP/1.1\r\nHost: test\r\n\r\n")
        head, _ = reader.answer(has_body=False)
        assert head.startswith(b"HTTP/1.1 200 ") and b"content-length: " in head.lower()
        sock.sendall(b"GET /_rehber/health HTTP/1.1\r\nHost: test\r\n\r\n")
        head, body = reader.answer()
        assert head.startswith(b"HTTP/1.1 200 ") and b'"status":"ok"' in body
        assert reader.buffer == b""


def test_pipelined_requests_are_answered_whole_and_in_order(server: str) -> None:
    with connect(server) as sock:
        reader = Reader(sock)
        sock.sendall(_post(UNAUTHENTICATED) + _post(b"{") + _post(UNAUTHENTICATED))
        answers = [reader.answer() for _ in range(3)]
        assert [head[:13] for head, _ in answers] == [
            b"HTTP/1.1 401 ",
            b"HTTP/1.1 400 ",
            b"HTTP/1.1 401 ",
        ]
        assert all(body.startswith(b'{"response":') for _, body in answers)
