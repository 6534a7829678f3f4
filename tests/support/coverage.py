"""Which vendor routes each test exercised, for the route coverage table (docs, issue notes).

Enabled by ``REHBER_ROUTE_COVERAGE=<dir>``: every test's requests through the app are recorded
and each worker writes ``<dir>/<worker>.jsonl``; ``python -m tests.support.coverage <dir>``
prints the table (tests per route and format).
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from rehber.server.v1 import route
from rehber.wire.actions import ACTIONS

TARGET = os.environ.get("REHBER_ROUTE_COVERAGE", "")
_hits: set[tuple[str, str]] = set()


class Recorder:
    """ASGI wrapper noting (test id, route) for every vendor request."""

    def __init__(self, app: ASGIApp, test_id: str) -> None:
        self.app = app
        self.test_id = test_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            action, fmt = route(scope["path"])
            if action is not None:
                _hits.add((self.test_id, f"{action.name} {fmt}"))
        await self.app(scope, receive, send)


def wrap(app: ASGIApp, test_id: str) -> ASGIApp:
    return Recorder(app, test_id) if TARGET else app


def flush(worker: str) -> None:
    if not TARGET or not _hits:
        return
    Path(TARGET).mkdir(parents=True, exist_ok=True)
    with (Path(TARGET) / f"{worker}.jsonl").open("a") as out:
        for test_id, key in sorted(_hits):
            out.write(json.dumps({"test": test_id, "route": key}) + "\n")


def table(directory: Path) -> str:
    tests: dict[str, set[str]] = defaultdict(set)
    for path in directory.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            hit = json.loads(line)
            tests[hit["route"]].add(hit["test"])
    rows = ["| Route | XML tests | JSON tests |", "|---|---|---|"]
    for name in ACTIONS:
        xml, js = len(tests[f"{name} xml"]), len(tests[f"{name} json"])
        rows.append(f"| {name} | {xml} | {js} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table(Path(sys.argv[1])))
