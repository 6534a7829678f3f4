"""Credentials out of journaled bodies.

The journal is served to anyone who can reach the control API and often ends up in CI logs,
so a recorded request never carries a usable key or hash. Masking is structural where the body
parses (only ``authentication/key`` and ``authentication/hash``: a search ``key`` stays
readable) and falls back to patterns for bodies that do not; any literal occurrence of the
presented credentials left over after that is replaced as well.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

HASH_MASK = "***"
_SHOWN_KEY_CHARS = 4
_MIN_KEY_FOR_PREFIX = 12

_XML_AUTH = re.compile(
    r"(<(?:[\w.-]+:)?authentication\b[^>]*>)(.*?)(</(?:[\w.-]+:)?authentication\s*>)", re.S
)
# An element's text up to the next tag, or a CDATA section (closed or not: bodies may be cut).
_XML_CREDENTIAL = re.compile(
    r"(<(?:[\w.-]+:)?(key|hash)\b[^>/]*>)(<!\[CDATA\[.*?(?:\]\]>|$)|[^<]*)", re.S
)
_JSON_CREDENTIAL = re.compile(r'("(key|hash)"\s*:\s*)"(?:[^"\\]|\\.)*"?')


def mask_key(key: str) -> str:
    """Keep a short prefix of longer keys (to tell several keys apart), never the whole key."""
    if len(key) >= _MIN_KEY_FOR_PREFIX:
        return key[:_SHOWN_KEY_CHARS] + "***"
    return "***"


def mask_body(fmt: str, body: str, key: str = "", hash_value: str = "") -> str:
    """``body`` with the authentication key and hash masked."""
    masked = _mask_json(body) if fmt == "json" else _mask_xml(body)
    for secret in (hash_value, key):
        if len(secret) >= _SHOWN_KEY_CHARS:
            masked = masked.replace(secret, HASH_MASK)
    return masked


def _mask_json(body: str) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _JSON_CREDENTIAL.sub(_json_replacement, body)
    auth = _auth_of(data)
    if auth is None:
        return body
    if isinstance(auth.get("key"), str):
        auth["key"] = mask_key(auth["key"])
    elif "key" in auth:
        auth["key"] = HASH_MASK
    if "hash" in auth:
        auth["hash"] = HASH_MASK
    return orjson.dumps(data).decode()


def _auth_of(data: Any) -> dict[str, Any] | None:
    request = data.get("request") if isinstance(data, dict) else None
    auth = request.get("authentication") if isinstance(request, dict) else None
    return auth if isinstance(auth, dict) else None


def _json_replacement(match: re.Match[str]) -> str:
    return f'{match.group(1)}"{HASH_MASK}"'


def _mask_xml(body: str) -> str:
    if _XML_AUTH.search(body):
        return _XML_AUTH.sub(
            lambda m: m.group(1) + _XML_CREDENTIAL.sub(_xml_replacement, m.group(2)) + m.group(3),
            body,
        )
    return _XML_CREDENTIAL.sub(_xml_replacement, body)  # malformed: mask every key and hash


def _xml_replacement(match: re.Match[str]) -> str:
    text = match.group(3).strip()
    if text.startswith("<![CDATA["):
        text = text[len("<![CDATA[") :].removesuffix("]]>")
    masked = mask_key(text.strip()) if match.group(2) == "key" else HASH_MASK
    return f"{match.group(1)}{masked}"
