"""The wire layer: request bodies to typed commands, typed results to response bodies.

It knows the vendor's XML and JSON envelopes and nothing of SQL or HTTP. The server calls, per
request: :func:`parse` -> :func:`credentials` -> :func:`decode_command` -> (backend) ->
:func:`encode_success`, and :func:`encode_error` for any :class:`~rehber.codes.ServiceError`.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from rehber.types import WireGeneration
from rehber.wire import json_codec, xml_codec
from rehber.wire.actions import Action, Result
from rehber.wire.requests import decode_command
from rehber.wire.tree import Credentials, Node, credentials, parse_json, parse_xml

Format: TypeAlias = Literal["xml", "json"]

__all__ = [
    "Credentials",
    "Format",
    "Node",
    "credentials",
    "decode_command",
    "encode_error",
    "encode_success",
    "parse",
]


def parse(fmt: Format, body: bytes) -> dict[str, Node]:
    """The content of the ``request`` object of ``body`` (400 ``ServiceError`` if unreadable)."""
    return parse_xml(body) if fmt == "xml" else parse_json(body)


def encode_success(
    fmt: Format, action: Action, result: Result, generation: WireGeneration
) -> bytes:
    """The 200 response body of ``action`` in ``fmt`` and the account's wire generation."""
    if fmt == "xml":
        return xml_codec.encode_success(action, result, generation)
    return json_codec.encode_success(action, result, generation)


def encode_error(fmt: Format, code: int) -> bytes:
    """The response body of a failed request (``status`` only) in ``fmt``."""
    return xml_codec.encode_error(code) if fmt == "xml" else json_codec.encode_error(code)
