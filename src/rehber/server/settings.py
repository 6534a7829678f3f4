"""Server configuration, read once at construction (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rehber.service.accounts import DEFAULT_KEY_CACHE_SECONDS
from rehber.storage.engine import DEFAULT_DATABASE_URL
from rehber.types import WireGeneration

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
# Slow-client protection (server/limits.py): the whole request body must arrive within this
# many seconds of the request head, and the head within DEFAULT_HEADER_TIMEOUT of the
# connection opening (or of the previous response on a kept-alive connection).
DEFAULT_BODY_TIMEOUT = 60.0
DEFAULT_HEADER_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``create_app`` needs. Environment variables, when read, are named below."""

    database_url: str = DEFAULT_DATABASE_URL  # REHBER_DATABASE_URL
    wire_generation: WireGeneration = "current"  # REHBER_WIRE_GENERATION
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # REHBER_MAX_BODY_BYTES
    # PostgreSQL schema to work in (search_path); lets tests and tenants share one database.
    database_schema: str | None = None  # REHBER_DATABASE_SCHEMA
    # Apply migrations when the app is created (always safe; on by default for SQLite only).
    auto_migrate: bool | None = None
    pool_size: int = 8
    # SQLite: index new contacts for search in a background thread once writes pause.
    background_indexing: bool = True
    # Emulator mode (docs/testing.md): control API under /_rehber/, request journal, faults.
    emulator: bool = False  # REHBER_EMULATOR=1
    # Emulator: first id of every id sequence on an empty database and after a full reset.
    id_start: int | None = None  # REHBER_ID_START
    # Per-key rate limit (server/limits.py): sustained requests per second per API key, and
    # how many may come at once. 0 = off (the default).
    rate_limit: float = 0.0  # REHBER_RATE_LIMIT
    rate_limit_burst: int = 0  # REHBER_RATE_LIMIT_BURST (0 = the rate, at least 1)
    body_timeout: float = DEFAULT_BODY_TIMEOUT  # REHBER_BODY_TIMEOUT (0 = off)
    # Seconds a worker trusts a key it has looked up (service/accounts.py KeyCache; 0 = off).
    key_cache_seconds: float = DEFAULT_KEY_CACHE_SECONDS  # REHBER_KEY_CACHE_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        settings = cls(
            database_url=env.get("REHBER_DATABASE_URL", DEFAULT_DATABASE_URL),
            wire_generation=_generation(env.get("REHBER_WIRE_GENERATION", "current")),
            max_body_bytes=int(env.get("REHBER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
            database_schema=env.get("REHBER_DATABASE_SCHEMA") or None,
            emulator=env.get("REHBER_EMULATOR", "") in ("1", "true", "yes"),
            id_start=int(env["REHBER_ID_START"]) if env.get("REHBER_ID_START") else None,
            rate_limit=float(env.get("REHBER_RATE_LIMIT") or 0),
            rate_limit_burst=int(env.get("REHBER_RATE_LIMIT_BURST") or 0),
            body_timeout=float(env.get("REHBER_BODY_TIMEOUT") or DEFAULT_BODY_TIMEOUT),
            key_cache_seconds=float(
                env.get("REHBER_KEY_CACHE_SECONDS") or DEFAULT_KEY_CACHE_SECONDS
            ),
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def migrate_on_start(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.database_url.startswith("sqlite")


def _generation(value: str) -> WireGeneration:
    if value == "legacy":
        return "legacy"
    if value == "current":
        return "current"
    raise ValueError(f"REHBER_WIRE_GENERATION must be 'current' or 'legacy', not {value!r}")
