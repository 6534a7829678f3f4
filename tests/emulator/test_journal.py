"""``GET/DELETE /_rehber/requests``: what was received and answered, credentials masked."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from rehber.emulator.journal import MAX_BODY_CHARS, Entry, Journal, clip
from rehber.emulator.masking import mask_body
from rehber.server.app import build_services, create_app
from rehber.testing import EmulatorAccount, EmulatorControl
from tests.conftest import Database


def test_journal_records_each_request(alice: EmulatorAccount, control: EmulatorControl) -> None:
    alice.http.call("add-group", {"group": {"name": "Müşteriler"}})
    alice.http.call_xml("get-contact", "<contact><id>424242</id></contact>")
    first, second = alice.requests()
    assert first["action"] == "add-group"
    assert (first["format"], first["status"], first["method"]) == ("json", 200, "POST")
    assert first["path"] == "/v1/add-group/json"
    assert first["account_id"] == alice.account_id
    assert first["fault"] is None
    assert first["time"].endswith("Z") and first["duration_ms"] >= 0
    assert "Müşteriler" in first["request"] and '"code":200' in first["response"]
    assert (second["action"], second["format"], second["status"]) == ("get-contact", "xml", 465)
    assert "<id>424242</id>" in second["request"]
    assert second["id"] > first["id"]


def test_journal_never_shows_credentials(alice: EmulatorAccount, http: TestClient) -> None:
    alice.http.call("search-contacts", {"search": {"key": "Ayşe"}})
    alice.http.call_xml("search-contacts", "<search><key>Mehmet</key></search>")
    http.post(
        "/v1/get-groups",
        content=(
            f"<request><authentication><key><![CDATA[{alice.key}]]></key>"
            f"<hash>{alice.hash.upper()}</hash></authentication></request>"
        ).encode(),
    )
    http.post(
        "/v1/get-groups/json", content=f'{{"key": "{alice.key}", "hash": "{alice.hash}"'.encode()
    )
    http.post(
        "/v1/get-groups", content=f"<request><key>{alice.key}</key><hash>{alice.hash}".encode()
    )
    everything = http.get("/_rehber/requests").text
    assert alice.key not in everything
    assert alice.hash not in everything and alice.hash.upper() not in everything
    entries = http.get("/_rehber/requests").json()["requests"]
    assert len(entries) == 5
    assert f'"key":"{alice.key[:4]}***"' in entries[0]["request"]
    assert '"key":"Ayşe"' in entries[0]["request"]  # a search key is not a credential
    assert "<key>Mehmet</key>" in entries[1]["request"]
    assert entries[2]["account_id"] == alice.account_id  # the hash's case is ignored
    assert [e["status"] for e in entries[3:]] == [400, 400]


@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("json", '{"request":{"authentication":{"key":"K3Y-0123456789","hash":"H4SH"}}}'),
        ("json", '{"request":{"authentication":{"key":5,"hash":["H4SH"]}}}'),
        ("json", '{"request": {"authentication": {"key": "K3Y-0123456789", "hash": "H4SH"'),
        ("xml", "<request><authentication><key>K3Y-0123456789</key><hash>H4SH</hash>"),
        ("xml", "<r:request xmlns:r='x'><r:authentication><r:key>K3Y-0123456789</r:key>"),
    ],
)
def test_masking_covers_odd_bodies(fmt: str, body: str) -> None:
    masked = mask_body(fmt, body, "K3Y-0123456789", "H4SH")
    assert "K3Y-0123456789" not in masked and "H4SH" not in masked


def test_journal_filters(alice: EmulatorAccount, bob: EmulatorAccount, http: TestClient) -> None:
    alice.http.call("get-groups")
    bob.http.call("get-groups")
    alice.http.call("add-group", {"group": {"name": "x"}})
    http.post("/v1/no-such-action/json", content=b"{}")
    http.post("/v1/get-groups/json", content=b'{"request":{}}')
    assert [e["action"] for e in alice.requests()] == ["get-groups", "add-group"]
    assert [e["action"] for e in alice.requests("get-groups")] == ["get-groups"]
    assert len(bob.requests()) == 1
    everything = http.get("/_rehber/requests").json()["requests"]
    assert [e["action"] for e in everything][-2:] == [None, "get-groups"]
    assert everything[-1]["account_id"] is None and everything[-1]["status"] == 401
    assert everything[-2]["status"] == 404
    newest = http.get("/_rehber/requests", params={"limit": 2}).json()["requests"]
    assert newest == everything[-2:]
    since = http.get("/_rehber/requests", params={"since": everything[2]["id"]}).json()
    assert since["requests"] == everything[3:]


def test_journal_clear_one_account_or_all(
    alice: EmulatorAccount, bob: EmulatorAccount, http: TestClient
) -> None:
    alice.http.call("get-groups")
    bob.http.call("get-groups")
    assert http.delete("/_rehber/requests", params={"account_id": alice.account_id}).json() == {
        "cleared": 1
    }
    assert alice.requests() == [] and len(bob.requests()) == 1
    assert http.delete("/_rehber/requests").json() == {"cleared": 1}
    assert http.get("/_rehber/requests").json() == {"requests": []}


@pytest.mark.parametrize(
    ("method", "query"),
    [
        ("GET", {"action": "get-group-contact"}),
        ("GET", {"acount_id": "1"}),
        ("GET", {"limit": "0"}),
        ("GET", {"account_id": "x"}),
        ("DELETE", {"action": "get-groups"}),
    ],
)
def test_bad_journal_queries_are_400(http: TestClient, method: str, query: dict[str, str]) -> None:
    response = http.request(method, "/_rehber/requests", params=query)
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def _entry(account_id: int) -> Entry:
    return Entry(0, "t", account_id, "get-groups", "json", "POST", "/", 200, 0.0, None, "", "")


def test_journal_is_bounded() -> None:
    journal = Journal(capacity=3)
    for account_id in range(5):
        journal.add(_entry(account_id))
    assert [e.account_id for e in journal.select()] == [2, 3, 4]
    assert [e.id for e in journal.select()] == [3, 4, 5]
    long = "x" * (MAX_BODY_CHARS + 10)
    assert clip(long).endswith("[10 more characters]")
    assert clip("short") == "short"


def test_large_bodies_are_journaled_and_clipped(alice: EmulatorAccount) -> None:
    contacts = [{"name": f"Kişi {i}", "gsm": f"0532{i:07d}"} for i in range(2500)]
    reply = alice.http.call("add-contacts", {"contacts": {"contact": contacts}})
    assert reply.ok
    [entry] = alice.requests("add-contacts")
    assert entry["account_id"] == alice.account_id  # credentials found off the event loop
    assert entry["request"].endswith("more characters]")
    assert alice.hash not in entry["request"]


def test_oversized_bodies_still_get_the_vendor_400(database: Database) -> None:
    services = build_services(database.settings(emulator=True, max_body_bytes=1000))
    with TestClient(create_app(services=services)) as client:
        response = client.post("/v1/get-groups/json", content=b"{" + b" " * 5000 + b"}")
        assert response.status_code == 400
        assert response.json()["response"]["status"]["code"] == 400
        [entry] = client.get("/_rehber/requests").json()["requests"]
        assert (entry["status"], entry["account_id"]) == (400, None)
    services.store.dispose()
