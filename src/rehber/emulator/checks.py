"""Typed reads of control-API input, each failure a 400 that names the offending field.

Control bodies are hand-written by test authors; rejecting unknown keys turns a typo such as
``"acount_id"`` into an error instead of a fault that silently applies to every account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rehber.emulator.errors import bad_input


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise bad_input(f"{where} must be an object")
    return value


def only_keys(data: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    allowed = set(allowed)
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise bad_input(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def optional_int(
    data: Mapping[str, Any], key: str, where: str, *, minimum: int | None = None
) -> int | None:
    """An integer (or a numeric string, as query parameters are) or ``None`` when absent."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_input(f"{where}: '{key}' must be an integer")
    if minimum is not None and value < minimum:
        raise bad_input(f"{where}: '{key}' must be at least {minimum}")
    return value


def optional_str(
    data: Mapping[str, Any], key: str, where: str, *, choices: Iterable[str] | None = None
) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_input(f"{where}: '{key}' must be a string")
    if choices is not None and value not in set(choices):
        raise bad_input(f"{where}: '{key}' must be one of {', '.join(sorted(choices))}")
    return value


def optional_bool(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if isinstance(value, str) and value in ("true", "false", "1", "0"):
        return value in ("true", "1")
    if not isinstance(value, bool):
        raise bad_input(f"{where}: '{key}' must be true or false")
    return value
