"""A minimal caller of the vendor API for tests: one method, JSON envelopes, no retries.

Deliberately thin (not the full SDK): a test that injects a 503 wants to see the 503, and a
test of your own client wants the emulator driven by something other than that client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson


@dataclass(frozen=True, slots=True)
class VendorReply:
    """An answer of the vendor API: HTTP status, the parsed ``response`` object (``None`` when
    the body is not JSON, e.g. cut short by a ``truncate`` fault), and the raw text."""

    status: int
    data: dict[str, Any] | None
    text: str

    @property
    def code(self) -> int | None:
        """``response.status.code`` (equals ``status`` for a well-formed answer)."""
        if self.data is None:
            return None
        return int(self.data["status"]["code"])

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.code == 200

    def __getitem__(self, key: str) -> Any:
        """``reply["group"]["id"]``: a key of the ``response`` object."""
        if self.data is None:
            raise KeyError(key)
        return self.data[key]


class VendorClient:
    """``client.call("add-group", {"group": {"name": "Müşteriler"}})`` as one account.

    >>> client = VendorClient(http, key="...", hash="...")  # doctest: +SKIP
    >>> client.call("get-groups").ok  # doctest: +SKIP
    True
    """

    def __init__(self, http: httpx.Client, *, key: str, hash: str) -> None:
        self.http = http
        self.key = key
        self.hash = hash

    def call(self, action: str, payload: dict[str, Any] | None = None) -> VendorReply:
        """POST ``/v1/<action>/json`` with the account's credentials and ``payload``."""
        request = {"authentication": {"key": self.key, "hash": self.hash}, **(payload or {})}
        response = self.http.post(f"/v1/{action}/json", content=orjson.dumps({"request": request}))
        return _reply(response)

    def call_xml(self, action: str, inner_xml: str = "") -> httpx.Response:
        """POST ``/v1/<action>`` (XML) with the credentials followed by ``inner_xml``."""
        body = (
            f"<request><authentication><key>{self.key}</key><hash>{self.hash}</hash>"
            f"</authentication>{inner_xml}</request>"
        )
        return self.http.post(f"/v1/{action}", content=body.encode())


def _reply(response: httpx.Response) -> VendorReply:
    try:
        parsed = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        parsed = None
    data = parsed.get("response") if isinstance(parsed, dict) else None
    return VendorReply(
        response.status_code, data if isinstance(data, dict) else None, response.text
    )
