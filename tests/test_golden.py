"""Every case of examples.json, end to end: documented request in, canonical response out.

Each case runs on a fresh database seeded with the documented address book (explicit ids),
in its own format, on SQLite and PostgreSQL. Bodies are compared parsed, not byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rehber.server.app import Services
from tests.support.compare import json_comparable, xml_comparable
from tests.support.world import seed

EXAMPLES = json.loads(
    (Path(__file__).resolve().parents[2] / "shared" / "api" / "examples.json").read_text()
)
CASES = {case["id"]: case for case in EXAMPLES["cases"]}
CREDENTIALS = EXAMPLES["meta"]["test_credentials"]

# How much of the documented world each case starts from (defaults: everything).
WORLDS: dict[str, dict[str, Any]] = {
    "add-group.xml": {"groups": (97101,), "contacts": False, "next_group": 97489},
    "add-group.json": {"groups": (), "contacts": False, "next_group": 97101},
    "add-contact.xml": {"groups": (97101, 97489), "contacts": False, "next_contact": 1007},
    "add-contact.json": {"groups": (97101, 97489), "contacts": False, "next_contact": 1007},
    "legacy.add-contacts.xml": {"groups": (97101,), "contacts": False, "next_contact": 1007},
    "legacy.add-contacts.json": {"groups": (97101,), "contacts": False, "next_contact": 1007},
}

# A request that provokes each case's documented error example.
ERROR_REQUESTS: dict[str, Any] = {
    "get-group.json": {"group": {"id": 424242}},
    "add-group.xml": {"group": {"name": "   ", "parent": 97101}},
    "add-group.json": {"group": {"name": "Yeni", "parent": 424242}},
    "edit-group.xml": {"group": {"id": "", "name": "Yeni"}},
    "edit-group.json": {"group": {"id": 97489, "name": ""}},
    "delete-group.xml": {"group": {"id": 424242}},
    "delete-group.json": {"group": {"id": 424242}},
    "get-group-contacts.xml": {"group": {"id": 97102}},
    "get-group-contacts.json": {"group": {"id": 424242}},
    "add-contact.xml": {"contact": {"name": "", "surname": "", "email": "", "gsm": ""}},
    "add-contact.json": {"contact": {"name": "Ali", "custom_fields": [{"id": 99, "value": "x"}]}},
    "edit-contact.xml": {"contact": {"id": 1007, "groups": {"id": [424242]}}},
    "edit-contact.json": {"contact": {"id": 1007, "groups": [424242]}},
    "delete-contact.xml": {"contact": {"id": 424242}},
    "delete-contact.json": {"contact": {"id": 424242}},
    "get-contact.xml": {"contact": {"id": 424242}},
    "get-contact.json": {"contact": {"id": 424242}},
    "search-contacts.xml": {"search": {"key": "ab"}},
    "search-contacts.json": {"search": {"key": "bulunmayan"}},
}


def comparable(fmt: str, body: bytes) -> Any:
    return json_comparable(body) if fmt == "json" else xml_comparable(body)


def _prepare(services: Services, case: dict[str, Any]) -> None:
    created = services.accounts.create_account("golden")
    account_id = created.account.id
    services.accounts.import_key(account_id, CREDENTIALS["key"], CREDENTIALS["hash"])
    if case["generation"] == "legacy":
        services.accounts.configure(account_id, wire_generation="legacy")
    seed(services, account_id, **WORLDS.get(case["id"], {}))


def _envelope(fmt: str, payload: dict[str, Any], hash_value: str) -> bytes:
    from tests.support.api import envelope

    return envelope(fmt, CREDENTIALS["key"], hash_value, payload)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_documented_request_gets_canonical_response(
    case_id: str, services: Services, client: TestClient
) -> None:
    case = CASES[case_id]
    _prepare(services, case)
    response = client.post(case["path"], content=case["request_example"].encode())
    assert response.status_code == case["canonical_success_http_status"], response.text
    assert comparable(case["format"], response.content) == comparable(
        case["format"], case["canonical_success_response"].encode()
    )
    if case["format"] == "xml":
        assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


@pytest.mark.parametrize(
    "case_id", sorted(c for c in CASES if CASES[c]["error_example"] is not None)
)
def test_documented_error_example(case_id: str, services: Services, client: TestClient) -> None:
    case = CASES[case_id]
    error = case["error_example"]
    _prepare(services, case)
    if error["status_code"] == 401:
        body = case["request_example"].replace(CREDENTIALS["hash"], "0" * 64).encode()
    else:
        body = _envelope(case["format"], ERROR_REQUESTS[case_id], CREDENTIALS["hash"])
    response = client.post(case["path"], content=body)
    assert response.status_code == error["http_status"], response.text
    assert comparable(case["format"], response.content) == comparable(
        case["format"], error["body"].encode()
    )


def test_every_error_example_has_a_request() -> None:
    with_errors = {c for c in CASES if CASES[c]["error_example"] is not None}
    needs_request = {c for c in with_errors if CASES[c]["error_example"]["status_code"] != 401}
    assert needs_request <= set(ERROR_REQUESTS)
