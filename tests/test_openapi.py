"""The OpenAPI document: valid OpenAPI 3.1, generated from the registry, true to the examples.

Every documented JSON body of ``examples.json`` (current and legacy generation, success and
error) must validate against the schema of its route and status; if the document and the
documented wire drift apart, these tests say where. Schemas are checked with the JSON Schema
2020-12 dialect that OpenAPI 3.1 uses, resolving ``$ref`` against the whole document.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from rehber import __version__
from rehber.codes import message_for
from rehber.server.app import build_services, create_app
from rehber.server.openapi import openapi_document
from rehber.types import WireGeneration
from rehber.wire.actions import ACTIONS, LEGACY_SHAPED
from tests.conftest import Database
from tests.wire.examples import CASES

DOC = openapi_document()
BASE = "urn:rehber:openapi"
REGISTRY: Registry[Any] = Registry().with_resource(BASE, DRAFT202012.create_resource(DOC))
JSON_CASES = {cid: case for cid, case in CASES.items() if case["format"] == "json"}


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _resolve(pointer: str) -> Any:
    node: Any = DOC
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer``; its ``#/components/...`` refs resolve too."""
    return Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=REGISTRY)


def response_validator(name: str, status: int) -> Draft202012Validator:
    """The body schema of ``status`` on route ``name``, following a response ``$ref``."""
    pointer = _pointer("paths", f"/v1/{name}/json", "post", "responses", str(status))
    response = _resolve(pointer)
    if "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
    return _validator(pointer + _pointer("content", "application/json", "schema"))


def request_validator(name: str) -> Draft202012Validator:
    return _validator(
        _pointer("paths", f"/v1/{name}/json", "post", "requestBody")
        + _pointer("content", "application/json", "schema")
    )


def _errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    return [e.message for e in validator.iter_errors(instance)]


def _ok(payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"response": {"status": {"code": 200, "message": message_for(200)}, **(payload or {})}}


CONTACT = {
    "id": 1007,
    "name": "Ayşe",
    "surname": "",
    "email": "",
    "gsm": "+905321234567",
    "custom_fields": [{"id": 1, "value": "27/09/2024"}],
    "groups": [97101],
}
LEGACY_CONTACT = {
    **CONTACT,
    "custom_fields": {"custom_field": [{"id": 1, "value": "27/09/2024"}]},
    "groups": {"group": [{"id": 97101}]},
}


def test_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"].startswith("3.1")
    validate_spec(copy.deepcopy(DOC))


def test_every_schema_is_valid_json_schema_2020_12() -> None:
    for name, schema in DOC["components"]["schemas"].items():
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as exc:  # pragma: no cover - the message names the schema
            raise AssertionError(f"components/schemas/{name}: {exc}") from exc


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [leaf for v in node.values() for leaf in _leaves(v)]
    if isinstance(node, list):
        return [leaf for v in node for leaf in _leaves(v)]
    return [node]


def test_document_is_plain_json() -> None:
    # Exact types: an IntEnum would serialize differently under other JSON encoders.
    assert {type(leaf) for leaf in _leaves(DOC)} <= {str, int, bool, type(None)}
    assert json.loads(json.dumps(DOC, ensure_ascii=False)) == DOC


def test_info_and_servers() -> None:
    assert DOC["info"]["title"] == "rehber — iletimerkezi Contacts API"
    assert DOC["info"]["version"] == __version__
    assert DOC["servers"] == [{"url": "/"}]


def test_paths_are_exactly_the_json_routes() -> None:
    assert set(DOC["paths"]) == {f"/v1/{name}/json" for name in ACTIONS}
    assert all(set(item) == {"post"} for item in DOC["paths"].values())


def test_operation_metadata_comes_from_the_registry() -> None:
    ids = []
    for name, action in ACTIONS.items():
        operation = DOC["paths"][f"/v1/{name}/json"]["post"]
        assert operation["operationId"] == name.replace("-", "_")
        assert operation["summary"] == action.summary
        assert operation["tags"] in (["groups"], ["contacts"])
        assert operation.get("x-rehber-legacy-only", False) is action.legacy_only
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))
    assert {t["name"] for t in DOC["tags"]} == {"groups", "contacts"}


@pytest.mark.parametrize("name", list(ACTIONS))
def test_each_operation_lists_every_status_it_can_answer(name: str) -> None:
    action = ACTIONS[name]
    responses = DOC["paths"][f"/v1/{name}/json"]["post"]["responses"]
    required = {"200", "400", "401", "404", *map(str, action.errors)}
    assert required <= set(responses)
    # The only extras: 429 on any route when a rate limit is configured, and 503 on any route
    # when the database fails.
    assert set(responses) - required == {"429", "503"}


@pytest.mark.parametrize("name", list(ACTIONS))
def test_each_error_status_pins_its_code_and_carries_status_only(name: str) -> None:
    for key in DOC["paths"][f"/v1/{name}/json"]["post"]["responses"]:
        status = int(key)
        if status == 200:
            continue
        validator = response_validator(name, status)
        body = {"response": {"status": {"code": status, "message": message_for(status)}}}
        assert _errors(validator, body) == []
        wrong_code = {"response": {"status": {"code": 200, "message": message_for(status)}}}
        assert _errors(validator, wrong_code)
        as_string = {"response": {"status": {"code": str(status), "message": "x"}}}
        assert _errors(validator, as_string)
        with_payload = {"response": {**body["response"], "contact": CONTACT}}
        assert _errors(validator, with_payload)


@pytest.mark.parametrize("name", list(ACTIONS))
def test_success_rejects_a_non_200_code(name: str) -> None:
    body = _ok()
    body["response"]["status"]["code"] = 463
    assert _errors(response_validator(name, 200), body)


@pytest.mark.parametrize("case_id", sorted(JSON_CASES))
def test_documented_success_response_validates(case_id: str) -> None:
    case = JSON_CASES[case_id]
    body = json.loads(case["canonical_success_response"])
    assert case["canonical_success_http_status"] == 200
    validator = response_validator(case["endpoint"], 200)
    assert _errors(validator, body) == []


@pytest.mark.parametrize(
    "case_id", sorted(cid for cid, case in JSON_CASES.items() if case["error_example"])
)
def test_documented_error_example_validates(case_id: str) -> None:
    example = JSON_CASES[case_id]["error_example"]
    assert example["http_status"] == example["status_code"]
    validator = response_validator(JSON_CASES[case_id]["endpoint"], example["http_status"])
    assert _errors(validator, json.loads(example["body"])) == []


@pytest.mark.parametrize("case_id", sorted(JSON_CASES))
def test_documented_request_example_validates(case_id: str) -> None:
    case = JSON_CASES[case_id]
    assert _errors(request_validator(case["endpoint"]), json.loads(case["request_example"])) == []


def test_the_examples_cover_both_generations_and_every_route() -> None:
    assert {case["endpoint"] for case in JSON_CASES.values()} == set(ACTIONS)
    legacy = [cid for cid in JSON_CASES if cid.startswith("legacy.")]
    assert legacy
    assert all(JSON_CASES[cid]["generation"] == "legacy" for cid in legacy)


@pytest.mark.parametrize("name", sorted(LEGACY_SHAPED))
def test_legacy_shaped_actions_admit_exactly_one_of_the_two_shapes(name: str) -> None:
    validator = response_validator(name, 200)
    group = {"id": 1, "name": "a", "count": 0}
    key, current, legacy = {
        "groups": ("groups", [group], {"group": [group]}),
        "contacts": ("contacts", [CONTACT], {"contact": [LEGACY_CONTACT]}),
        "contact": ("contact", CONTACT, LEGACY_CONTACT),
    }[ACTIONS[name].result]
    assert _errors(validator, _ok({key: current})) == []
    assert _errors(validator, _ok({key: legacy})) == []
    assert _errors(validator, _ok({key: {"unexpected": current}}))


@pytest.mark.parametrize("name", ["add-contact", "edit-contact"])
def test_contact_writes_have_only_the_current_shape(name: str) -> None:
    # The codec wraps lists only for the LEGACY_SHAPED actions; add/edit always answer current.
    validator = response_validator(name, 200)
    assert _errors(validator, _ok({"contact": CONTACT})) == []
    assert _errors(validator, _ok({"contact": LEGACY_CONTACT}))


def test_contact_requires_every_key() -> None:
    validator = response_validator("get-contact", 200)
    for key in CONTACT:
        partial = {k: v for k, v in CONTACT.items() if k != key}
        assert _errors(validator, _ok({"contact": partial})), key
    assert _errors(validator, _ok({"contact": {**CONTACT, "groups": ["97101"]}}))
    assert _errors(validator, _ok({"contact": {**CONTACT, "id": "1007"}}))


def test_group_tree_is_recursive_and_children_optional() -> None:
    validator = response_validator("get-group", 200)
    leaf = {"id": 3, "name": "c", "count": 0}
    deep = {"id": 1, "name": "a", "count": 2, "children": [{**leaf, "children": [leaf]}]}
    assert _errors(validator, _ok({"group": deep})) == []
    assert _errors(validator, _ok({"group": leaf})) == []
    bad_grandchild = {**deep, "children": [{**leaf, "children": [{"id": 4, "name": "d"}]}]}
    assert _errors(validator, _ok({"group": bad_grandchild}))
    # A group without sub-groups omits the key rather than sending an empty list.
    assert _errors(validator, _ok({"group": {**leaf, "children": []}}))


def test_group_ref_is_id_and_name() -> None:
    validator = response_validator("add-group", 200)
    assert _errors(validator, _ok({"group": {"id": 5, "name": "a"}})) == []
    assert _errors(validator, _ok({"group": {"id": 5}}))


def test_status_only_successes_carry_no_payload() -> None:
    validator = response_validator("delete-group", 200)
    assert _errors(validator, _ok()) == []
    assert _errors(validator, _ok({"group": {"id": 5, "name": "a"}}))


def test_bulk_items_carry_their_own_status() -> None:
    validator = response_validator("add-contacts", 200)
    stored = {"id": 1007, "gsm": "+905321234567", "status": {"code": 200, "message": "ok"}}
    failed = {"id": "", "gsm": "", "status": {"code": 466, "message": message_for(466)}}
    assert _errors(validator, _ok({"contacts": {"contact": [stored, failed]}})) == []
    assert _errors(validator, _ok({"contacts": [stored]}))
    assert _errors(validator, _ok({"contacts": {"contact": [{**failed, "id": "7"}]}}))


AUTH = {"key": "k", "hash": "h"}


@pytest.mark.parametrize(
    "groups",
    [
        {"group": {"id": 5}},
        {"group": [{"id": 5}, {"id": "6"}]},
        {"id": 5},
        {"id": [5, "6"]},
        [5, "6"],
        [{"id": 5}],
        "",
        [],
    ],
)
def test_contact_bodies_accept_every_documented_group_list(groups: Any) -> None:
    body = {"request": {"authentication": AUTH, "contact": {"name": "a", "groups": groups}}}
    assert _errors(request_validator("add-contact"), body) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"custom_field": {"id": 1, "value": "x"}},
        {"custom_field": [{"id": "1", "value": "x"}]},
        [{"id": 1, "value": "x"}],
    ],
)
def test_contact_bodies_accept_every_documented_custom_field_list(fields: Any) -> None:
    body = {"request": {"authentication": AUTH, "contact": {"id": 9, "custom_fields": fields}}}
    assert _errors(request_validator("edit-contact"), body) == []


def test_requests_require_authentication_and_accept_unknown_keys() -> None:
    validator = request_validator("get-group")
    assert _errors(validator, {"request": {"group": {"id": 1}}})
    assert _errors(validator, {"request": {"authentication": {"key": "k"}, "group": {"id": 1}}})
    body = {"request": {"authentication": AUTH, "group": {"id": "12", "extra": 1}, "x": []}}
    assert _errors(validator, body) == []
    assert _errors(validator, {"request": {"authentication": AUTH, "group": {"id": "abc"}}})
    assert _errors(validator, {"request": {"authentication": AUTH, "group": {"id": 1.5}}})


def test_optional_integers_accept_the_not_given_forms() -> None:
    validator = request_validator("get-group-contacts")
    values: tuple[Any, ...] = ("", None, [], 0, "2", 10)
    for value in values:
        body = {"request": {"authentication": AUTH, "group": {"id": 1, "page": value}}}
        assert _errors(validator, body) == [], value


def test_served_at_the_extension_path(sqlite_database: Database) -> None:
    services = build_services(sqlite_database.settings())
    try:
        with TestClient(create_app(services=services)) as client:
            answer = client.get("/_rehber/openapi.json")
    finally:
        services.store.dispose()
    assert answer.status_code == 200
    assert answer.json() == json.loads(json.dumps(DOC))


def _calls(field_id: int) -> list[tuple[str, dict[str, Any] | bytes, int]]:
    """A session touching every route, successes and errors, with the status each must get.

    Later calls name objects made by earlier ones through ``"$g1"``-style placeholders.
    """
    field = {"id": field_id, "value": "27/09/2024"}
    return [
        ("add-group", {"group": {"name": "Müşteriler"}}, 200),  # $g1
        ("add-group", {"group": {"name": "VIP", "parent": "$g1"}}, 200),  # $g2
        ("add-group", {"group": {"name": "Altı", "parent": "$g2"}}, 200),  # $g3
        (
            "add-contact",
            {
                "contact": {
                    "name": "Ayşe",
                    "gsm": "5321234567",
                    "custom_fields": {"custom_field": [field]},
                    "groups": {"group": [{"id": "$g1"}, {"id": "$g2"}]},
                }
            },
            200,
        ),  # $c1
        ("add-contact", {"contact": {"surname": "Demir", "groups": ["$g1"]}}, 200),  # $c2
        ("edit-contact", {"contact": {"id": "$c2", "email": "m@example.com"}}, 200),
        ("edit-group", {"group": {"id": "$g2", "name": "Altın", "parent": "$g1"}}, 200),
        ("get-groups", {}, 200),
        ("get-group", {"group": {"id": "$g1"}}, 200),
        ("get-group-contacts", {"group": {"id": "$g1", "page": 1, "rowCount": 10}}, 200),
        ("get-contact", {"contact": {"id": "$c1"}}, 200),
        ("search-contacts", {"search": {"key": "532"}}, 200),
        ("subscribe-group", {"contact": [{"id": "$c2"}], "group": [{"id": "$g3"}]}, 200),
        ("unsubscribe-group", {"contact": [{"id": "$c2"}], "group": [{"id": "$g3"}]}, 200),
        (
            "add-contacts",
            {"contacts": {"contact": [{"name": "Ali", "gsm": "5331234567"}, {"gsm": "12"}]}},
            200,
        ),
        ("get-group", {"group": {"id": 987654321}}, 463),
        ("add-group", {"group": {"name": " "}}, 461),
        ("edit-group", {"group": {"name": "x"}}, 462),
        ("get-group-contacts", {"group": {"id": "$g1", "page": 0}}, 464),
        ("get-group-contacts", {"group": {"id": "$g3"}}, 465),
        ("add-contact", {"contact": {"gsm": "12"}}, 466),
        ("add-contact", {"contact": {"name": "x", "custom_fields": [{"id": 987654}]}}, 473),
        ("add-contact", {"contact": {"name": ""}}, 472),
        ("add-contact", {"contact": {"email": "not an address"}}, 422),
        ("search-contacts", {"search": {"key": "ab"}}, 471),
        ("get-contact", {"contact": {"id": 987654321}}, 465),
        ("delete-contacts", {"contacts": {"contact": [{"id": "$c2"}]}}, 200),
        ("delete-contact", {"contact": {"id": "$c1"}}, 200),
        ("delete-group", {"group": {"id": "$g1"}}, 200),
        ("get-groups", b"{not json", 400),
    ]


def _fill(value: Any, made: dict[str, int]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, made) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, made) for v in value]
    if isinstance(value, str) and value.startswith("$"):
        return made[value]
    return value


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_live_responses_match_the_document(
    sqlite_database: Database, generation: WireGeneration
) -> None:
    """What the server really answers, on every route and in both generations, fits the schema."""
    services = build_services(sqlite_database.settings())
    account = services.accounts.create_account("openapi", wire_generation=generation)
    field = services.accounts.create_field(account.account.id, "Doğum günü")
    auth = {"key": account.credentials.key, "hash": account.credentials.hash}
    made: dict[str, int] = {}
    seen: set[tuple[str, int]] = set()
    try:
        with TestClient(create_app(services=services)) as client:
            for name, payload, expected in _calls(field.id):
                if isinstance(payload, bytes):
                    content = payload
                else:
                    body = {"request": {"authentication": auth, **_fill(payload, made)}}
                    if expected == 200:
                        # A body the document calls valid must be one the server accepts.
                        assert _errors(request_validator(name), body) == [], (name, body)
                    content = json.dumps(body).encode()
                answer = client.post(f"/v1/{name}/json", content=content)
                assert answer.status_code == expected, (name, answer.text)
                responses = DOC["paths"][f"/v1/{name}/json"]["post"]["responses"]
                assert str(answer.status_code) in responses, (name, answer.text)
                problems = _errors(response_validator(name, answer.status_code), answer.json())
                assert problems == [], (name, answer.text, problems)
                seen.add((name, answer.status_code))
                reply = answer.json()["response"]
                if name == "get-groups" and expected == 200:
                    assert isinstance(reply["groups"], dict if generation == "legacy" else list)
                if name in ("add-group", "add-contact") and answer.status_code == 200:
                    prefix = "$g" if name == "add-group" else "$c"
                    made[f"{prefix}{sum(k.startswith(prefix) for k in made) + 1}"] = reply[
                        name.split("-")[1]
                    ]["id"]
            bad_auth = {"request": {"authentication": {"key": "k", "hash": "h"}}}
            answer = client.post("/v1/get-groups/json", json=bad_auth)
            assert answer.status_code == 401
            assert _errors(response_validator("get-groups", 401), answer.json()) == []
    finally:
        services.store.dispose()
    # Every route answered 200 at least once, and every error code of the registry was seen.
    assert {name for name, status in seen if status == 200} == set(ACTIONS)
    assert {status for _, status in seen} >= {e for a in ACTIONS.values() for e in a.errors}
