"""The control API under ``/_rehber/`` (emulator mode only): JSON in, JSON out.

| Route | Does |
|---|---|
| ``POST /_rehber/accounts`` | a new isolated account: ``account_id``, ``key``, ``hash``... |
| ``POST /_rehber/reset`` | ``{"account_id": n}``: one account; ``{"all": true}``: all |
| ``POST /_rehber/seed`` | custom fields, groups (nested) and contacts from JSON or YAML |
| ``GET/DELETE /_rehber/requests`` | the request journal (``?account_id=&action=&since=&limit=``) |
| ``POST/GET/DELETE /_rehber/faults`` | injected faults (``DELETE ?account_id=`` or ``?id=``) |

Unknown paths and methods answer a JSON 404/405 in the same error shape as bad input.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
import yaml
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rehber.emulator.checks import (
    mapping,
    only_keys,
    optional_bool,
    optional_int,
    optional_str,
)
from rehber.emulator.errors import ControlError, bad_input, error_response
from rehber.emulator.seeding import apply_seed, plan_seed
from rehber.emulator.state import AccountRequest, Emulator
from rehber.wire.actions import ACTIONS

logger = logging.getLogger("rehber.emulator")
Handler = Callable[[Request], Awaitable[Response]]
_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def control_app(emulator: Emulator, max_body_bytes: int) -> Starlette:
    """The Starlette app mounted at ``/_rehber`` (after the health and OpenAPI routes)."""
    api = _Control(emulator, max_body_bytes)
    return Starlette(
        routes=[
            Route("/accounts", _guard(api.create_account), methods=["POST"]),
            Route("/reset", _guard(api.reset), methods=["POST"]),
            Route("/seed", _guard(api.seed), methods=["POST"]),
            Route("/requests", _guard(api.requests), methods=["GET", "DELETE"]),
            Route("/faults", _guard(api.faults), methods=["GET", "POST", "DELETE"]),
        ],
        exception_handlers={404: _not_found, 405: _not_allowed},
    )


def _guard(handler: Handler) -> Handler:
    """Every :class:`ControlError` becomes the one JSON error shape."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except ControlError as exc:
            return exc.response()
        except Exception:  # e.g. the database is down: still the one error shape
            logger.exception("control request failed")
            return error_response(503, "the emulator could not complete the request (see log)")

    return guarded


async def _not_found(request: Request, _exc: Exception) -> Response:
    return error_response(404, f"no control endpoint {request.url.path}")


async def _not_allowed(request: Request, _exc: Exception) -> Response:
    return error_response(405, f"{request.method} is not allowed on {request.url.path}")


class _Control:
    def __init__(self, emulator: Emulator, max_body_bytes: int) -> None:
        self.emulator = emulator
        self.max_body_bytes = max_body_bytes

    async def create_account(self, request: Request) -> Response:
        data = await self._json(request, default={})
        only_keys(data, ("name", "wire_generation", "duplicate_gsm", "key", "hash"), "account")
        key = optional_str(data, "key", "account")
        hash_value = optional_str(data, "hash", "account")
        if bool(key and key.strip()) != bool(hash_value and hash_value.strip()):
            raise bad_input("account: give both 'key' and 'hash' to import credentials, or neither")
        wanted = AccountRequest(
            name=optional_str(data, "name", "account") or "emulator",
            wire_generation=optional_str(
                data, "wire_generation", "account", choices=("current", "legacy")
            ),
            duplicate_gsm=optional_str(
                data, "duplicate_gsm", "account", choices=("allow", "merge")
            ),
            key=key.strip() if key else None,
            hash=hash_value.strip() if hash_value else None,
        )
        if len(wanted.name.strip()) > 255:
            raise bad_input("account: 'name' is longer than 255 characters")
        created = await run_in_threadpool(self.emulator.create_account, wanted)
        return JSONResponse(created, status_code=201)

    async def reset(self, request: Request) -> Response:
        data = await self._json(request, default={})
        only_keys(data, ("account_id", "all"), "reset")
        account_id = optional_int(data, "account_id", "reset", minimum=1)
        everything = optional_bool(data, "all", "reset")
        if (account_id is None) == (not everything):
            raise bad_input('reset: give {"account_id": n} or {"all": true}')
        if account_id is not None:
            await run_in_threadpool(self.emulator.reset_account, account_id)
            return JSONResponse({"reset": "account", "account_id": account_id})
        next_id = await run_in_threadpool(self.emulator.reset_all)
        return JSONResponse({"reset": "all", "next_id": next_id})

    async def seed(self, request: Request) -> Response:
        fixture = await self._fixture(request)
        data = mapping(fixture, "seed")
        account_id = _account_id(request.query_params, data)
        plan = await run_in_threadpool(plan_seed, fixture)
        result = await run_in_threadpool(apply_seed, self.emulator.store, account_id, plan)
        return JSONResponse(result.as_json(), status_code=201)

    async def requests(self, request: Request) -> Response:
        query = request.query_params
        journal = self.emulator.journal
        if request.method == "DELETE":
            only_keys(query, ("account_id",), "requests")
            cleared = journal.clear(optional_int(query, "account_id", "requests", minimum=1))
            return JSONResponse({"cleared": cleared})
        only_keys(query, ("account_id", "action", "since", "limit"), "requests")
        action = optional_str(query, "action", "requests")
        if action is not None and action not in ACTIONS:
            raise bad_input(f"requests: no vendor action {action!r}")
        entries = journal.select(
            account_id=optional_int(query, "account_id", "requests", minimum=1),
            action=action,
            since=optional_int(query, "since", "requests", minimum=0),
            limit=optional_int(query, "limit", "requests", minimum=1),
        )
        return JSONResponse({"requests": [e.as_json() for e in entries]})

    async def faults(self, request: Request) -> Response:
        book = self.emulator.faults
        query = request.query_params
        if request.method == "POST":
            fault = book.parse(await self._json(request))
            if fault.account_id is not None:
                await run_in_threadpool(self.emulator.require_account, fault.account_id)
            return JSONResponse(book.add(fault).as_json(), status_code=201)
        if request.method == "DELETE":
            only_keys(query, ("account_id", "id"), "faults")
            cleared = book.clear(
                account_id=optional_int(query, "account_id", "faults", minimum=1),
                fault_id=optional_int(query, "id", "faults", minimum=1),
            )
            return JSONResponse({"cleared": cleared})
        only_keys(query, ("account_id",), "faults")
        account_id = optional_int(query, "account_id", "faults", minimum=1)
        return JSONResponse({"faults": book.list(account_id)})

    # -- bodies -----------------------------------------------------------------------------

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise ControlError(413, f"body larger than {self.max_body_bytes} bytes")
        body = await request.body()
        if len(body) > self.max_body_bytes:
            raise ControlError(413, f"body larger than {self.max_body_bytes} bytes")
        return body

    async def _json(self, request: Request, default: Any = None) -> Mapping[str, Any]:
        body = await self._body(request)
        if not body.strip() and default is not None:
            return mapping(default, "body")
        try:
            return mapping(orjson.loads(body), "body")
        except orjson.JSONDecodeError as exc:
            raise bad_input(f"body is not valid JSON: {exc}") from None

    async def _fixture(self, request: Request) -> Any:
        """A seed fixture: YAML when the Content-Type says so, JSON otherwise."""
        body = await self._body(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type in _YAML_TYPES:
            try:
                return yaml.safe_load(body) or {}
            except yaml.YAMLError as exc:
                raise bad_input(f"body is not valid YAML: {exc}") from None
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise bad_input(
                f"body is not valid JSON ({exc}); send YAML with Content-Type: application/yaml"
            ) from None


def _account_id(query: Mapping[str, str], data: Mapping[str, Any]) -> int:
    """The seed's account: ``?account_id=`` or the fixture's ``account_id`` (not both)."""
    only_keys(query, ("account_id",), "seed")
    from_query = optional_int(query, "account_id", "seed", minimum=1)
    from_body = optional_int(data, "account_id", "seed", minimum=1)
    if from_query is not None and from_body is not None and from_query != from_body:
        raise bad_input("seed: 'account_id' in the query and in the body differ")
    account_id = from_query if from_query is not None else from_body
    if account_id is None:
        raise bad_input("seed: give the account as ?account_id=n or in the body")
    return account_id
