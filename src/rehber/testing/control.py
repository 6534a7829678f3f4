"""Python access to the emulator's control API (``/_rehber/``), used by the pytest plugin and
usable from any test suite: accounts, reset, seed, the request journal and faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from rehber.testing.vendor import VendorClient


class ControlError(RuntimeError):
    """The control API refused a call; ``status`` and the server's ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class EmulatorControl:
    """The control API of one emulator, over ``http`` (a real server or an in-process app)."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    @property
    def base_url(self) -> str:
        return str(self.http.base_url).rstrip("/")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_rehber/{path}", **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise ControlError(response.status_code, message)
        return response.json()

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def create_account(self, **options: Any) -> EmulatorAccount:
        """A fresh account (options: ``name``, ``wire_generation``, ``duplicate_gsm``, or
        ``key`` + ``hash`` to import credentials your integration already uses)."""
        data = self._call("POST", "accounts", json=options)
        return EmulatorAccount(
            account_id=data["account_id"],
            key=data["key"],
            secret=data["secret"],
            hash=data["hash"],
            base_url=self.base_url,
            control=self,
            http=VendorClient(self.http, key=data["key"], hash=data["hash"]),
        )

    def reset(self, account_id: int | None = None, *, everything: bool = False) -> Any:
        """Empty one account (``account_id``) or, with ``everything=True``, the whole emulator."""
        body = {"all": True} if everything else {"account_id": account_id}
        return self._call("POST", "reset", json=body)

    def seed(self, account_id: int, fixture: dict[str, Any] | str | Path) -> dict[str, Any]:
        """Seed from a dict (sent as JSON) or a ``.yaml``/``.yml``/``.json`` file path.

        Returns the ids created: ``custom_fields``/``groups``/``contacts`` keyed as in the
        fixture, and ``contact_ids`` in fixture order.
        """
        params = {"account_id": account_id}
        if isinstance(fixture, dict):
            result: dict[str, Any] = self._call("POST", "seed", params=params, json=fixture)
            return result
        path = Path(fixture)
        is_yaml = path.suffix.lower() in (".yaml", ".yml")
        headers = {"content-type": "application/yaml" if is_yaml else "application/json"}
        result = self._call(
            "POST", "seed", params=params, content=path.read_bytes(), headers=headers
        )
        return result

    def requests(
        self, account_id: int | None = None, action: str | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Journal entries (oldest first), optionally of one account and one action."""
        params = {"account_id": account_id, "action": action, **filters}
        query = {k: v for k, v in params.items() if v is not None}
        entries: list[dict[str, Any]] = self._call("GET", "requests", params=query)["requests"]
        return entries

    def clear_requests(self, account_id: int | None = None) -> int:
        query = {"account_id": account_id} if account_id is not None else {}
        return int(self._call("DELETE", "requests", params=query)["cleared"])

    def add_fault(self, action: str, **spec: Any) -> dict[str, Any]:
        """Inject a fault (``code``, ``count``/``fraction``, ``latency_ms``, ``truncate``...)."""
        fault: dict[str, Any] = self._call("POST", "faults", json={"action": action, **spec})
        return fault

    def faults(self, account_id: int | None = None) -> list[dict[str, Any]]:
        query = {"account_id": account_id} if account_id is not None else {}
        found: list[dict[str, Any]] = self._call("GET", "faults", params=query)["faults"]
        return found

    def clear_faults(self, account_id: int | None = None, fault_id: int | None = None) -> int:
        query = {"account_id": account_id, "id": fault_id}
        params = {k: v for k, v in query.items() if v is not None}
        return int(self._call("DELETE", "faults", params=params)["cleared"])


@dataclass
class EmulatorAccount:
    """One isolated account on an emulator: credentials, a vendor-API caller, and the control
    calls scoped to this account (so a test cannot touch another test's data by mistake)."""

    account_id: int
    key: str
    secret: str | None
    hash: str
    base_url: str
    control: EmulatorControl = field(repr=False)
    http: VendorClient = field(repr=False)
    # ``rehber.Client`` when the installed rehber ships one, else the same VendorClient.
    client: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = self.http

    def seed(self, fixture: dict[str, Any] | str | Path) -> dict[str, Any]:
        return self.control.seed(self.account_id, fixture)

    def requests(self, action: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        return self.control.requests(self.account_id, action, **filters)

    def fault(self, action: str, **spec: Any) -> dict[str, Any]:
        """A fault that only this account's requests can trigger."""
        return self.control.add_fault(action, account_id=self.account_id, **spec)

    def clear_faults(self) -> int:
        return self.control.clear_faults(self.account_id)

    def reset(self) -> Any:
        return self.control.reset(self.account_id)
