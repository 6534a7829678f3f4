"""A response's head waits for its body, so both leave in one write (server/transport.py),
and a head whose body does not follow still leaves: ``100 Continue``, pipelined requests and
closed connections over a real server, and the wrapper's contract on a real event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from rehber.server.transport import HeadWaitsForBody
from tests.reliability.support import envelope_code
from tests.support.server import connect, running_server

BODY = b'{"request":{"authentication":{"key":"k","hash":"h"}}}'


class _Recording:
    """The writes a transport was given, in order (the wrapper's output)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 9) if name == "peername" else default


def _on_a_loop(steps: Any) -> _Recording:
    recording = _Recording()

    async def run() -> None:
        transport = HeadWaitsForBody(recording, asyncio.get_running_loop())  # type: ignore[arg-type]
        await steps(transport, recording)

    asyncio.run(run())
    return recording


def test_head_and_body_written_in_one_pass_leave_as_one_write() -> None:
    async def steps(transport: HeadWaitsForBody, recording: _Recording) -> None:
        transport.write(b"HEAD\r\n\r\n")
        assert recording.writes == []
        transport.write(b"body")
        transport.write(b"more")  # later writes go straight through
        assert recording.writes == [b"HEAD\r\n\r\nbody", b"more"]
        await asyncio.sleep(0)

    assert _on_a_loop(steps).writes == [b"HEAD\r\n\r\nbody", b"more"]


def test_a_head_alone_leaves_when_the_loop_moves_on() -> None:
    async def steps(transport: HeadWaitsForBody, recording: _Recording) -> None:
        transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await asyncio.sleep(0)
        assert recording.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"body")

    assert _on_a_loop(steps).writes == [
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"body",
    ]


def test_closing_sends_a_held_head_first_and_everything_else_is_the_transports() -> None:
    async def steps(transport: HeadWaitsForBody, recording: _Recording) -> None:
        transport.write(b"HEAD\r\n\r\n")
        transport.close()
        assert (recording.writes, recording.closed) == ([b"HEAD\r\n\r\n"], True)
        assert transport.is_closing()
        assert transport.get_extra_info("peername") == ("127.0.0.1", 9)
        await asyncio.sleep(0)  # the release scheduled by the write finds nothing left

    assert _on_a_loop(steps).writes == [b"HEAD\r\n\r\n"]


# -- a real server ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["10", "0"], ids=["head-deadline", "no-head-deadline"])
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("one-send")
    url = f"sqlite:///{workdir / 'rehber.db'}"
    options = ("--header-timeout", request.param)
    with running_server(url, None, workdir / "server.log", *options) as base:
        yield base


def _read_response(sock: socket.socket, buffered: bytes = b"") -> tuple[bytes, bytes, bytes]:
    """One response (head, body) with a Content-Length, and what followed it."""
    data = buffered
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or b""
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        rest += chunk
    return head, rest[:length], rest[length:]


def test_100_continue_reaches_the_client_before_it_sends_the_body(server: str) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /v1/get-groups/json HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\n"
            + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
        )
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):  # the timeout of connect() bounds the wait
            interim += sock.recv(1)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(BODY)
        head, body, _ = _read_response(sock)
    assert head.startswith(b"HTTP/1.1 401 ")
    assert envelope_code("json", 401, body) == 401


def test_pipelined_requests_get_whole_responses_in_order(server: str) -> None:
    requests = [
        b"POST /v1/get-groups/json HTTP/1.1\r\nHost: test\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
        for body in (BODY, b"{", BODY)
    ]
    with connect(server) as sock:
        sock.sendall(b"".join(requests))
        statuses = []
        left = b""
        for _ in requests:
            head, body, left = _read_response(sock, left)
            status = int(head.split(b" ", 2)[1])
            assert envelope_code("json", status, body) == status
            statuses.append(status)
    assert statuses == [401, 400, 401]
