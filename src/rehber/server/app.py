"""``create_app(settings)``: the whole server as one ASGI application."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from rehber import wire
from rehber.codes import Code
from rehber.server.access_log import AccessLog
from rehber.server.body import BodyReader
from rehber.server.limits import protect
from rehber.server.openapi import openapi_document
from rehber.server.settings import Settings
from rehber.server.v1 import VendorApi, route
from rehber.service.accounts import AccountService
from rehber.service.backend import Backend
from rehber.storage.migrate import upgrade
from rehber.storage.store import Store

if TYPE_CHECKING:
    from rehber.emulator import Emulator


@dataclass(frozen=True, slots=True)
class Services:
    """What the routes share: built once per app, never at import time."""

    settings: Settings
    store: Store
    accounts: AccountService
    backend: Backend


class RehberApp:
    """Dispatches ``/v1/...`` to the vendor API and everything else to the extension routes."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        # One reader for every body this app reads: the limits hold whoever reads first.
        bodies = BodyReader(settings.max_body_bytes, settings.body_timeout)
        self.vendor_api: ASGIApp = VendorApi(
            services.store, services.accounts, services.backend, bodies
        )
        extra_routes: list[BaseRoute] = []
        self.emulator: Emulator | None = None
        if services.settings.emulator:  # journal, faults, /_rehber/ control: docs/testing.md
            from rehber.emulator import install

            self.vendor_api, extra_routes, self.emulator = install(
                services, self.vendor_api, bodies
            )
        # The per-key rate limit, outermost, only when configured (server/limits.py).
        self.vendor_api = protect(self.vendor_api, settings, bodies)
        self.extensions = _extension_app(services, extra_routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            await self.vendor_api(scope, receive, send)
        else:
            await self.extensions(scope, receive, send)


def build_services(settings: Settings) -> Services:
    store = Store.from_url(
        settings.database_url,
        schema=settings.database_schema,
        pool_size=settings.pool_size,
        background_indexing=settings.background_indexing,
    )
    if settings.migrate_on_start:
        upgrade(store.engine)
    if store.indexer is not None:
        store.indexer.poke()  # index whatever an earlier run left in the backlog
    accounts = AccountService(
        store,
        default_generation=settings.wire_generation,
        key_cache_seconds=settings.key_cache_seconds,
    )
    return Services(settings, store, accounts, Backend(store))


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> ASGIApp:
    """The ASGI app for ``settings`` (default: from the environment)."""
    services = services or build_services(settings or Settings.from_env())
    app = RehberApp(services)
    return AccessLog(app)


def _extension_app(services: Services, extra_routes: list[BaseRoute]) -> Starlette:
    async def health(_request: Request) -> Response:
        try:
            await run_in_threadpool(services.store.ping)
            backlog = await run_in_threadpool(services.store.search_backlog)
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "database": services.store.dialect,
                "search_backlog": backlog,
                "worker": os.getpid(),
            }
        )

    async def openapi(_request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def not_found(request: Request, _exc: Exception) -> Response:
        _action, fmt = route(request.url.path)
        return Response(
            wire.encode_error(fmt, Code.NOT_FOUND),
            status_code=Code.NOT_FOUND,
            media_type="application/json" if fmt == "json" else "application/xml",
        )

    return Starlette(
        routes=[
            Route("/_rehber/health", health, methods=["GET"]),
            Route("/_rehber/openapi.json", openapi, methods=["GET"]),
            *extra_routes,
        ],
        exception_handlers={404: not_found, 405: not_found},
    )


def create_app_from_env() -> ASGIApp:
    """Factory for ``uvicorn --factory`` (each worker process builds its own app)."""
    app = create_app(Settings.from_env())
    tune_garbage_collector()
    return app


def tune_garbage_collector() -> None:
    """Fewer, later collections for a server process.

    A 1,000-contact request builds tens of thousands of short-lived objects; with the default
    thresholds they trigger repeated full collections over everything alive (about a third of
    bulk-ingest time). Objects that exist at start-up are frozen out of collection entirely.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
