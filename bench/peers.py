"""Peers side by side: create a record, read it back, repeat, through rehber and through the
tools teams reach for instead. Each gets the same wrk load (one connection per thread, so every
read asks for the record its own create just returned).

- json-server: a REST fake backed by a JSON file (POST /contacts, GET /contacts/{id}).
- Prism: a stateless mock of rehber's own OpenAPI document (fetched from the running
  server), answering the documented add-contact/get-contact JSON routes from the schema.
- rehber: add-contact then get-contact, validated, stored in SQLite.

The npm packages are installed on first use under ``bench/.work/npm`` at pinned versions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import orjson

from bench import data, wire
from bench.common import HOST, WORK, Skip, free_port, log
from bench.context import Bench
from bench.load import CreateRead, WrkResult, create_read_rate
from bench.procs import Service
from bench.report import Row, at_least, skipped
from bench.server import rehber_server

NPM_DIR = WORK / "npm"
JSON_SERVER = ("json-server", "0.17.4")
PRISM = ("@stoplight/prism-cli", "5.14.2")  # the last release that runs on Node 20
_CREATES = 20_000  # distinct records the create requests cycle through
_NPM_TIMEOUT = 300
_SENTINEL = 987_654_321  # stands for the created id in the read template


def npm_binary(package: tuple[str, str], binary: str) -> Path:
    """``node_modules/.bin/<binary>`` of ``package`` at its pinned version, installed with npm
    into ``bench/.work/npm`` when missing; Skip when that is impossible."""
    name, version = package
    manifest = NPM_DIR / "node_modules" / name / "package.json"
    path = NPM_DIR / "node_modules" / ".bin" / binary
    installed = json.loads(manifest.read_text()).get("version") if manifest.exists() else None
    if path.exists() and installed == version:
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise Skip("npm is not installed")
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    log(f"  npm install {name}@{version} (into {NPM_DIR.relative_to(WORK.parent.parent)})")
    argv = [
        npm,
        "install",
        "--prefix",
        str(NPM_DIR),
        "--no-audit",
        "--no-fund",
        "--save-exact",
        "--loglevel=error",
        f"{name}@{version}",
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_NPM_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise Skip(f"npm install {name}@{version} took over {_NPM_TIMEOUT} s") from exc
    if done.returncode or not path.exists():
        why = (done.stderr.strip().splitlines() or ["no output"])[-1][:120]
        raise Skip(f"npm install {name}@{version} failed: {why}")
    return path


def _contacts() -> list[dict[str, str]]:
    return [data.contact(i) for i in range(3_000_000, 3_000_000 + _CREATES)]


def _vendor_target(name: str, url: str, credentials: wire.Credentials) -> CreateRead:
    """add-contact, then get-contact with the id it answered (rehber and its Prism mock)."""
    read = wire.encode("json", credentials, {"contact": {"id": _SENTINEL}}).decode()
    return CreateRead(
        name,
        url,
        wire.path("add-contact", "json"),
        [wire.encode("json", credentials, {"contact": item}) for item in _contacts()],
        "POST",
        wire.path("get-contact", "json"),
        read.replace(str(_SENTINEL), "{id}"),
    )


def _rehber_rate(bench: Bench, openapi: Path) -> WrkResult:
    """rehber's create-then-read rate; writes its OpenAPI document to ``openapi`` too."""
    with rehber_server("peers", profile=bench.opts.profile) as server:
        openapi.write_bytes(server.client.get(server.service.url + "/_rehber/openapi.json").content)
        target = _vendor_target("rehber", server.service.url, server.credentials)
        with server.measuring("create-then-read"):
            result = create_read_rate(target, bench.opts)
    bench.note_rss("peers", server.peak_rss_mb)
    return result


def _json_server_rate(bench: Bench) -> WrkResult:
    binary = npm_binary(JSON_SERVER, "json-server")
    db = WORK / "peers" / "json-server-db.json"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_text('{"contacts": []}\n')
    port = free_port()
    argv = [str(binary), "--host", HOST, "--port", str(port), "--quiet", str(db)]
    with Service("json-server", argv, port=port) as service:
        target = CreateRead(
            "json-server",
            service.url,
            "/contacts",
            [orjson.dumps(item) for item in _contacts()],
            "GET",
            "/contacts/{id}",
        )
        return create_read_rate(target, bench.opts)


def _prism_rate(bench: Bench, openapi: Path) -> WrkResult:
    binary = npm_binary(PRISM, "prism")
    port = free_port()
    argv = [str(binary), "mock", "-h", HOST, "-p", str(port), str(openapi)]
    credentials = wire.Credentials("0" * 32, "0" * 64)  # a mock checks no credentials
    with Service("prism", argv, port=port, start_timeout=120) as service:
        return create_read_rate(_vendor_target("prism", service.url, credentials), bench.opts)


def peers(bench: Bench) -> None:
    openapi = WORK / "peers" / "openapi.json"
    openapi.parent.mkdir(parents=True, exist_ok=True)
    ours = _rehber_rate(bench, openapi)
    contenders: list[tuple[str, Callable[[], WrkResult]]] = [
        (f"json-server {JSON_SERVER[1]}", lambda: _json_server_rate(bench)),
        (f"Prism {PRISM[1]} mock", lambda: _prism_rate(bench, openapi)),
    ]
    for label, measure in contenders:
        scenario = f"create-then-read: rehber vs {label}"
        target = at_least(1.0, label.split()[0])
        try:
            theirs = measure()
        except Skip as exc:
            bench.add(skipped(scenario, str(exc), target))
            continue
        problems = "; ".join(
            f"{who}: {result.problems()}"
            for who, result in (("rehber", ours), (label, theirs))
            if result.problems()
        )
        bench.add(
            Row(
                scenario,
                ours.rate,
                "req/s",
                floor=theirs.rate,
                target=target,
                note=f"p50 {ours.p50_ms:.1f} ms vs {theirs.p50_ms:.1f} ms; "
                f"{bench.opts.peer_connections} connections",
                problem=problems,
            )
        )
