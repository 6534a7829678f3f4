"""The wire layer: request bodies to typed commands, typed results to response bodies.

It knows the vendor's XML and JSON envelopes and nothing of SQL or HTTP. The server calls, per
request: :func:`parse` -> :func:`credentials` -> :func:`decode_command` -> (backend) ->
:func:`encode_success`, and :func:`encode_error` for any :class:`~rehber.codes.ServiceError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeAlias

from rehber.commands import Command
from rehber.types import WireGeneration
from rehber.wire import json_codec, xml_codec
from rehber.wire.actions import Action, Result
from rehber.wire.requests import decode_command, read_add_contacts_xml
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
    "read",
]


def parse(fmt: Format, body: bytes) -> dict[str, Node]:
    """The content of the ``request`` object of ``body`` (400 ``ServiceError`` if unreadable)."""
    return parse_xml(body) if fmt == "xml" else parse_json(body)


def read(fmt: Format, action: Action, body: bytes) -> tuple[Credentials, Callable[[], Command]]:
    """:func:`parse`, :func:`credentials`, and :func:`decode_command` to call once the
    credentials are found good (a body that is 401 and 422 answers 401, as the vendor's)."""
    if fmt == "xml" and action.name == "add-contacts":
        tree, command = read_add_contacts_xml(body)
        if command is not None:
            return credentials(tree), lambda: command
    else:
        tree = parse(fmt, body)
    return credentials(tree), lambda: decode_command(action, tree)


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
