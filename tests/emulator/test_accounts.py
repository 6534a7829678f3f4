"""``POST /_rehber/accounts`` and the control API's presence, errors and shape."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from rehber.credentials import derive_hash
from rehber.emulator.middleware import EmulatorMiddleware
from rehber.server.app import RehberApp, create_app
from rehber.server.v1 import VendorApi
from rehber.testing import ControlError, EmulatorControl
from tests.conftest import Database

CONTROL_ROUTES = [
    ("POST", "/_rehber/accounts"),
    ("POST", "/_rehber/reset"),
    ("POST", "/_rehber/seed"),
    ("GET", "/_rehber/requests"),
    ("DELETE", "/_rehber/requests"),
    ("GET", "/_rehber/faults"),
    ("POST", "/_rehber/faults"),
    ("DELETE", "/_rehber/faults"),
]


def test_new_account_has_working_credentials(control: EmulatorControl, http: TestClient) -> None:
    response = http.post("/_rehber/accounts", json={"name": "Acme"})
    assert response.status_code == 201
    data = response.json()
    assert set(data) == {
        "account_id",
        "name",
        "key",
        "secret",
        "hash",
        "wire_generation",
        "duplicate_gsm",
    }
    assert data["hash"] == derive_hash(data["key"], data["secret"])
    assert (data["name"], data["wire_generation"], data["duplicate_gsm"]) == (
        "Acme",
        "current",
        "allow",
    )
    account = control.create_account()
    assert account.account_id != data["account_id"]
    assert account.http.call("get-groups").ok


def test_empty_body_creates_an_account(http: TestClient) -> None:
    assert http.post("/_rehber/accounts").status_code == 201


def test_accounts_are_isolated(control: EmulatorControl) -> None:
    first, second = control.create_account(), control.create_account()
    group = first.http.call("add-group", {"group": {"name": "Müşteriler"}})["group"]["id"]
    assert second.http.call("get-group", {"group": {"id": group}}).status == 463
    assert second.http.call("get-groups")["groups"] == []


def test_account_settings_shape_responses(control: EmulatorControl) -> None:
    legacy = control.create_account(wire_generation="legacy", duplicate_gsm="merge")
    legacy.http.call("add-group", {"group": {"name": "G"}})
    assert isinstance(legacy.http.call("get-groups")["groups"], dict)  # legacy: wrapped list
    first = legacy.http.call("add-contact", {"contact": {"name": "A", "gsm": "05321234567"}})
    again = legacy.http.call("add-contact", {"contact": {"name": "B", "gsm": "+905321234567"}})
    assert first["contact"]["id"] == again["contact"]["id"]


def test_imported_credentials_are_accepted(control: EmulatorControl) -> None:
    key, secret = "3ea65b1e8ba4c7d2f0e1a2b3c4d5e6f7", "example-secret-key"
    account = control.create_account(key=key, hash=derive_hash(key, secret))
    assert (account.key, account.secret) == (key, None)
    assert account.http.call("get-groups").ok
    with pytest.raises(ControlError) as conflict:
        control.create_account(key=key, hash="0" * 64)
    assert conflict.value.status == 409


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"nmae": "x"}, "unknown key(s) nmae"),
        ({"name": 5}, "'name' must be a string"),
        ({"name": "x" * 256}, "longer than 255"),
        ({"wire_generation": "old"}, "'wire_generation' must be one of current, legacy"),
        ({"duplicate_gsm": "yes"}, "'duplicate_gsm' must be one of allow, merge"),
        ({"key": "abc"}, "give both 'key' and 'hash'"),
        ({"hash": "abc"}, "give both 'key' and 'hash'"),
        ([1, 2], "body must be an object"),
    ],
)
def test_bad_account_input_is_a_clear_400(http: TestClient, body: Any, message: str) -> None:
    response = http.post("/_rehber/accounts", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert response.json()["error"]["status"] == 400


def test_unreadable_json_is_400(http: TestClient) -> None:
    response = http.post("/_rehber/accounts", content=b"{nope")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_unknown_control_path_and_method_answer_json(http: TestClient) -> None:
    missing = http.get("/_rehber/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == 404
    wrong = http.put("/_rehber/faults")
    assert wrong.status_code == 405
    assert "PUT" in wrong.json()["error"]["message"]
    assert http.get("/_rehber/health").json()["status"] == "ok"


@pytest.mark.parametrize(("method", "path"), CONTROL_ROUTES)
def test_control_api_is_absent_without_emulator_mode(
    database: Database, method: str, path: str
) -> None:
    with TestClient(create_app(database.settings())) as client:
        assert client.request(method, path).status_code == 404


def _chain(app: object) -> list[object]:
    """An ASGI app and every app it wraps (middlewares keep theirs in ``.app``)."""
    found = [app]
    while hasattr(found[-1], "app"):
        found.append(found[-1].app)  # type: ignore[attr-defined]
    return found


@pytest.mark.parametrize("emulator", [False, True])
def test_emulator_code_runs_on_v1_only_in_emulator_mode(database: Database, emulator: bool) -> None:
    """Without --emulator no emulator middleware sits in front of the vendor API."""
    inner = create_app(database.settings(emulator=emulator)).app  # type: ignore[attr-defined]
    assert isinstance(inner, RehberApp)
    chain = _chain(inner.vendor_api)
    assert type(chain[-1]) is VendorApi
    assert any(isinstance(app, EmulatorMiddleware) for app in chain) is emulator
    assert (inner.emulator is not None) is emulator
    inner.services.store.dispose()
