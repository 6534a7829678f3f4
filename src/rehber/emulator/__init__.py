"""Emulator mode: rehber as a controllable test double (``rehber serve --emulator``).

Off by default and installed as a whole or not at all: :func:`install` wraps the vendor API
in :class:`~rehber.emulator.middleware.EmulatorMiddleware` (journal and faults) and returns the
control routes for ``/_rehber/``; without ``--emulator`` neither exists, so ``/v1`` requests
pay nothing for it. See docs/testing.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp

from rehber.emulator.control import control_app
from rehber.emulator.middleware import EmulatorMiddleware
from rehber.emulator.state import Emulator

if TYPE_CHECKING:
    from rehber.server.app import Services
    from rehber.server.body import BodyReader

__all__ = ["Emulator", "install"]


def install(
    services: Services, vendor_api: ASGIApp, bodies: BodyReader
) -> tuple[ASGIApp, list[BaseRoute], Emulator]:
    """The wrapped vendor API, the control routes to mount, and the emulator behind both.
    ``bodies`` reads request bodies for the journal, within the vendor API's limits."""
    emulator = Emulator(services.store, services.accounts, id_start=services.settings.id_start)
    emulator.apply_id_start()
    wrapped = EmulatorMiddleware(
        vendor_api,
        services.accounts,
        emulator.journal,
        emulator.faults,
        bodies,
    )
    control = control_app(emulator, services.settings.max_body_bytes)
    return wrapped, [Mount("/_rehber", app=control)], emulator
