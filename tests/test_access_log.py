"""The access log: one line per request, written in batches, never a body."""

from __future__ import annotations

import asyncio
import io
import re
import time

import pytest
from starlette.types import Message, Receive, Scope, Send

from rehber.server.access_log import FLUSH_AT_ENTRIES, AccessLog, format_entries

LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (\S+) (\S+) (\d+) (\d+\.\d)ms")


def test_entries_become_lines_in_local_time() -> None:
    moment = time.mktime((2026, 11, 23, 14, 18, 42, 0, 0, -1)) + 0.25
    text = format_entries(
        [
            (moment, 0.00123, "POST", "/v1/get-contact/json", 200),
            (moment + 1, 2.5, "GET", "/x", 404),
        ]
    )
    assert text == (
        "2026-11-23 14:18:42.250 POST /v1/get-contact/json 200 1.2ms\n"
        "2026-11-23 14:18:43.250 GET /x 404 2500.0ms\n"
    )


def _app(status: int, fail: bool = False) -> AccessLog:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        if fail:
            raise RuntimeError("before any response")
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"secret body"})

    return AccessLog(app, io.StringIO())


def _request(log: AccessLog, path: str) -> None:
    async def call() -> None:
        async def receive() -> Message:
            return {"type": "http.request", "body": b"key and hash", "more_body": False}

        async def send(_message: Message) -> None:
            pass

        scope = {"type": "http", "method": "POST", "path": path, "headers": []}
        await log(scope, receive, send)

    asyncio.run(call())


def test_each_request_is_one_line_with_its_status_and_no_body() -> None:
    log = _app(465)
    for n in range(3):
        _request(log, f"/v1/get-contact/{n}")
    log.buffer.flush()
    written = log.buffer.stream.getvalue()  # type: ignore[union-attr]
    lines = [LINE.fullmatch(line) for line in written.splitlines()]
    assert [m.groups()[:3] if m else None for m in lines] == [
        ("POST", f"/v1/get-contact/{n}", "465") for n in range(3)
    ]
    assert "secret" not in written and "key and hash" not in written


def test_a_request_that_fails_before_answering_is_logged_with_status_0() -> None:
    log = _app(200, fail=True)
    with pytest.raises(RuntimeError):
        _request(log, "/v1/get-groups")
    log.buffer.flush()
    assert " POST /v1/get-groups 0 " in log.buffer.stream.getvalue()  # type: ignore[union-attr]


def test_a_full_batch_is_written_at_once_and_only_once() -> None:
    log = _app(200)
    stream = log.buffer.stream
    for n in range(FLUSH_AT_ENTRIES):
        _request(log, f"/v1/{n}")
    written = stream.getvalue().splitlines()  # type: ignore[union-attr]
    assert len(written) == FLUSH_AT_ENTRIES and log.buffer.entries == []
    log.buffer.flush()
    assert stream.getvalue().splitlines() == written  # type: ignore[union-attr]
