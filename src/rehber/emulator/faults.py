"""Injected faults: make chosen vendor calls fail, slow down, or arrive cut short.

A fault matches an action (or ``*``), optionally one account and one format. It applies to
the next ``count`` matching calls, or to each matching call with probability ``fraction``
(seedable, so a flaky-network test can be replayed). A fault bound to an account is matched
only against requests that authenticated as that account: one test's faults can never reach
another test's account on a shared server.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rehber.codes import MESSAGES, Code
from rehber.emulator.checks import mapping, only_keys, optional_int, optional_str
from rehber.emulator.errors import bad_input
from rehber.wire.actions import ACTIONS

ANY_ACTION = "*"
MAX_LATENCY_MS = 60_000
FAULT_CODES = frozenset(int(c) for c in MESSAGES if c != Code.OK)
_KEYS = (
    "action",
    "account_id",
    "format",
    "code",
    "count",
    "fraction",
    "seed",
    "latency_ms",
    "truncate",
)


@dataclass(frozen=True, slots=True)
class Effect:
    """What one request gets from the fault that matched it."""

    fault_id: int
    code: int | None
    latency_ms: int
    truncate: bool | int  # False: whole body; True: half of it; n: the first n bytes

    def cut(self, body: bytes) -> bytes:
        if self.truncate is False:
            return body
        if self.truncate is True:
            return body[: len(body) // 2]
        return body[: self.truncate]


@dataclass(slots=True)
class Fault:
    """A fault as configured, with its counters."""

    id: int
    action: str
    account_id: int | None
    format: str | None
    code: int | None
    latency_ms: int
    truncate: bool | int
    remaining: int | None  # None: no limit (a fraction fault without a count)
    fraction: float | None
    seed: int | None
    matched: int = 0
    applied: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, action: str, account_id: int | None, fmt: str) -> bool:
        return (
            self.action in (ANY_ACTION, action)
            and (self.account_id is None or self.account_id == account_id)
            and (self.format is None or self.format == fmt)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "account_id": self.account_id,
            "format": self.format,
            "code": self.code,
            "latency_ms": self.latency_ms,
            "truncate": self.truncate,
            "remaining": self.remaining,
            "fraction": self.fraction,
            "seed": self.seed,
            "matched": self.matched,
            "applied": self.applied,
        }


def parse_fault(body: Any, fault_id: int) -> Fault:
    """A :class:`Fault` from a ``POST /_rehber/faults`` body (400 on anything unclear)."""
    data = mapping(body, "fault")
    only_keys(data, _KEYS, "fault")
    action = optional_str(data, "action", "fault")
    if action is None or (action != ANY_ACTION and action not in ACTIONS):
        raise bad_input("fault: 'action' must be a vendor action such as 'get-contact', or '*'")
    code = optional_int(data, "code", "fault")
    if code is not None and code not in FAULT_CODES:
        allowed = ", ".join(map(str, sorted(FAULT_CODES)))
        raise bad_input(f"fault: 'code' must be a vendor error code ({allowed})")
    latency = optional_int(data, "latency_ms", "fault", minimum=0) or 0
    if latency > MAX_LATENCY_MS:
        raise bad_input(f"fault: 'latency_ms' must be at most {MAX_LATENCY_MS}")
    truncate = _truncate(data)
    if code is None and not latency and truncate is False:
        raise bad_input("fault: give at least one of 'code', 'latency_ms' or 'truncate'")
    count = optional_int(data, "count", "fault", minimum=1)
    fraction = _fraction(data)
    seed = optional_int(data, "seed", "fault")
    return Fault(
        id=fault_id,
        action=action,
        account_id=optional_int(data, "account_id", "fault", minimum=1),
        format=optional_str(data, "format", "fault", choices=("xml", "json")),
        code=code,
        latency_ms=latency,
        truncate=truncate,
        remaining=count if count is not None or fraction is not None else 1,
        fraction=fraction,
        seed=seed,
        rng=random.Random(seed),
    )


def _truncate(data: Mapping[str, Any]) -> bool | int:
    value = data.get("truncate", False)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value >= 0:
        return value
    raise bad_input("fault: 'truncate' must be true (half the body) or a number of bytes to keep")


def _fraction(data: Mapping[str, Any]) -> float | None:
    value = data.get("fraction")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise bad_input("fault: 'fraction' must be a number greater than 0 and at most 1")
    return float(value)


class FaultBook:
    """The configured faults of this process, in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def parse(self, body: Any) -> Fault:
        """A fault from a request body, under a fresh id, not yet active."""
        with self._lock:
            return parse_fault(body, next(self._ids))

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def list(self, account_id: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                f.as_json()
                for f in self._faults
                if account_id is None or f.account_id == account_id
            ]

    def clear(self, *, account_id: int | None = None, fault_id: int | None = None) -> int:
        """Remove every fault, or those of one account, or one by id; returns how many."""
        with self._lock:
            kept = [
                f
                for f in self._faults
                if (account_id is not None and f.account_id != account_id)
                or (fault_id is not None and f.id != fault_id)
            ]
            removed = len(self._faults) - len(kept)
            self._faults = kept
            return removed

    def take(self, action: str, account_id: int | None, fmt: str) -> Effect | None:
        """The effect for one request, spending one use of the first fault that fires."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if not fault.matches(action, account_id, fmt):
                    continue
                fault.matched += 1
                if fault.fraction is not None and fault.rng.random() >= fault.fraction:
                    continue
                fault.applied += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return Effect(fault.id, fault.code, fault.latency_ms, fault.truncate)
        return None
