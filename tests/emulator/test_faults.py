"""``/_rehber/faults``: vendor error codes, latency and truncated bodies, scoped as asked."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from rehber.testing import ControlError, EmulatorAccount, EmulatorControl


def test_code_fault_answers_the_vendor_envelope_without_changing_state(
    alice: EmulatorAccount,
) -> None:
    fault = alice.fault("add-group", code=503)
    assert (fault["remaining"], fault["applied"]) == (1, 0)
    reply = alice.http.call("add-group", {"group": {"name": "Lost"}})
    assert (reply.status, reply.code, reply.data) == (
        503,
        503,
        {"status": {"code": 503, "message": "Sunucu geçici olarak servis dışı"}},
    )
    assert alice.http.call("get-groups")["groups"] == []  # the request never reached the API
    assert alice.http.call("add-group", {"group": {"name": "Kept"}}).ok  # count defaults to 1
    journal = alice.requests("add-group")
    assert [(e["status"], e["fault"]) for e in journal] == [(503, fault["id"]), (200, None)]
    assert alice.control.faults(alice.account_id) == []  # spent faults disappear


def test_code_fault_in_xml(alice: EmulatorAccount) -> None:
    alice.fault("get-groups", code=401, format="xml")
    assert alice.http.call("get-groups").ok  # JSON is not matched
    response = alice.http.call_xml("get-groups")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/xml")
    assert "<code>401</code><message>Üyelik bilgileri hatalı</message>" in response.text


def test_count_fault_fires_exactly_n_times(alice: EmulatorAccount) -> None:
    alice.fault("*", code=429, count=3)
    statuses = [alice.http.call("get-groups").status for _ in range(5)]
    assert statuses == [429, 429, 429, 200, 200]


def test_fraction_fault_is_reproducible_with_a_seed(alice: EmulatorAccount) -> None:
    def run() -> list[int]:
        alice.clear_faults()
        alice.fault("get-groups", code=503, fraction=0.5, seed=7)
        return [alice.http.call("get-groups").status for _ in range(40)]

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(503) < 40
    listed = alice.control.faults(alice.account_id)[0]
    assert (listed["matched"], listed["applied"], listed["remaining"]) == (
        40,
        first.count(503),
        None,
    )


def test_fraction_with_count_stops_after_count(alice: EmulatorAccount) -> None:
    alice.fault("get-groups", code=503, fraction=1, count=2)
    assert [alice.http.call("get-groups").status for _ in range(3)] == [503, 503, 200]


def test_latency_fault_delays_then_answers(alice: EmulatorAccount) -> None:
    alice.fault("get-groups", latency_ms=200)
    started = time.perf_counter()
    reply = alice.http.call("get-groups")
    assert time.perf_counter() - started >= 0.2
    assert reply.ok


def test_latency_with_code(alice: EmulatorAccount) -> None:
    alice.fault("add-group", latency_ms=50, code=503)
    started = time.perf_counter()
    assert alice.http.call("add-group", {"group": {"name": "x"}}).status == 503
    assert time.perf_counter() - started >= 0.05


@pytest.mark.parametrize("truncate", [True, 10, 0])
def test_truncate_fault_cuts_the_real_answer(alice: EmulatorAccount, truncate: Any) -> None:
    alice.fault("add-group", truncate=truncate)
    reply = alice.http.call("add-group", {"group": {"name": "Kesik"}})
    assert reply.status == 200 and reply.data is None  # a 200 whose body does not parse
    full = orjson.dumps(
        {"response": {"status": {"code": 200, "message": "İşlem başarılı"}}}
    ).decode()
    expected = reply.text.encode()
    assert full.encode().startswith(expected[:10])
    if truncate is not True:
        assert len(expected) == truncate
    assert [g["name"] for g in alice.http.call("get-groups")["groups"]] == ["Kesik"]


def test_fault_for_one_account_never_affects_another(
    alice: EmulatorAccount, bob: EmulatorAccount, control: EmulatorControl
) -> None:
    alice.fault("*", code=503, count=1000)
    alice.fault("get-groups", latency_ms=1, truncate=True, fraction=1.0)
    for _ in range(20):
        assert bob.http.call("get-groups").ok
        assert bob.http.call("add-group", {"group": {"name": "b"}}).ok
        assert alice.http.call("get-groups").status == 503
    assert all(e["fault"] is None for e in bob.requests())
    assert all(e["status"] == 503 for e in alice.requests())
    faults = {f["id"]: f for f in control.faults()}
    assert sum(f["matched"] for f in faults.values()) == 20  # bob's calls never matched


def test_account_less_fault_applies_to_everyone(
    alice: EmulatorAccount, bob: EmulatorAccount, control: EmulatorControl
) -> None:
    control.add_fault("get-groups", code=503, count=2)
    assert alice.http.call("get-groups").status == 503
    assert bob.http.call("get-groups").status == 503
    assert alice.http.call("get-groups").ok


def test_unauthenticated_requests_match_only_account_less_faults(
    alice: EmulatorAccount, http: TestClient, control: EmulatorControl
) -> None:
    alice.fault("get-groups", code=503)
    body = b'{"request":{"authentication":{"key":"nope","hash":"nope"}}}'
    assert http.post("/v1/get-groups/json", content=body).status_code == 401
    control.add_fault("get-groups", code=503)
    assert http.post("/v1/get-groups/json", content=body).status_code == 503


def test_faults_list_and_clear(
    alice: EmulatorAccount, bob: EmulatorAccount, control: EmulatorControl, http: TestClient
) -> None:
    a1 = alice.fault("get-groups", code=503)
    alice.fault("add-group", code=503)
    b1 = bob.fault("get-groups", code=503)
    shared = control.add_fault("*", latency_ms=5)
    assert [f["id"] for f in control.faults()] == [a1["id"], a1["id"] + 1, b1["id"], shared["id"]]
    assert [f["id"] for f in control.faults(bob.account_id)] == [b1["id"]]
    assert control.clear_faults(fault_id=a1["id"]) == 1
    assert control.clear_faults(alice.account_id) == 1
    assert [f["id"] for f in control.faults()] == [b1["id"], shared["id"]]
    assert http.delete("/_rehber/faults").json() == {"cleared": 2}
    assert control.faults() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'action' must be a vendor action"),
        ({"action": "get-everything", "code": 503}, "'action' must be a vendor action"),
        ({"action": "get-groups"}, "give at least one of 'code', 'latency_ms' or 'truncate'"),
        ({"action": "get-groups", "code": 200}, "'code' must be a vendor error code"),
        ({"action": "get-groups", "code": 500}, "'code' must be a vendor error code"),
        ({"action": "get-groups", "code": "503"}, None),  # numeric strings are fine
        ({"action": "get-groups", "code": 503, "count": 0}, "'count' must be at least 1"),
        ({"action": "get-groups", "code": 503, "fraction": 0}, "'fraction' must be a number"),
        ({"action": "get-groups", "code": 503, "fraction": 1.5}, "'fraction' must be a number"),
        ({"action": "get-groups", "latency_ms": -1}, "'latency_ms' must be at least 0"),
        ({"action": "get-groups", "latency_ms": 60_001}, "at most 60000"),
        ({"action": "get-groups", "truncate": -1}, "'truncate' must be true"),
        ({"action": "get-groups", "truncate": "yes"}, "'truncate' must be true"),
        ({"action": "get-groups", "code": 503, "format": "yaml"}, "'format' must be one of"),
        ({"action": "get-groups", "code": 503, "acount_id": 1}, "unknown key(s) acount_id"),
        ({"action": "get-groups", "code": 503, "account_id": 987654}, "no account 987654"),
        ({"action": "get-groups", "code": True}, "'code' must be an integer"),
    ],
)
def test_bad_fault_input_is_rejected(
    control: EmulatorControl, body: dict[str, Any], message: str | None
) -> None:
    if message is None:
        assert control.http.post("/_rehber/faults", json=body).status_code == 201
        return
    response = control.http.post("/_rehber/faults", json=body)
    assert response.status_code in (400, 404)
    assert message in response.json()["error"]["message"]
    assert control.faults() == []
    if "action" in body:
        with pytest.raises(ControlError):  # the Python helper raises the same error
            control.add_fault(**body)


def test_bad_fault_queries_are_400(http: TestClient) -> None:
    assert http.get("/_rehber/faults", params={"id": "1"}).status_code == 400
    assert http.delete("/_rehber/faults", params={"id": "x"}).status_code == 400
