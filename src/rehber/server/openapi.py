"""The OpenAPI 3.1 description of the vendor JSON API, served at ``GET /_rehber/openapi.json``.

The document is generated from the action registry (:data:`rehber.wire.actions.ACTIONS`) so that
it cannot drift from what the server routes: one request-schema entry per command class and one
response-schema entry per result kind, looped over the actions. Nothing here is copied per route.

What it describes, and why it looks the way it does:

* Only the 15 JSON routes (``POST /v1/<name>/json``). The XML twins carry the same fields as
  elements, which OpenAPI cannot describe usefully; the ``info`` text points at them.
* Requests describe the *canonical documented* shapes (``reference.md`` §3/§4, ``spec.md``
  "Input tolerance"): ids as an integer or a numeric string, every documented way of listing
  groups and custom fields. Objects stay open (``additionalProperties: true``) because the server
  ignores unknown keys. Keys marked required are the ones without which the vendor answers an
  error code (the server itself never rejects a body with this schema: it answers 461/462/465…).
* Responses list every status an action can answer with. HTTP status equals ``status.code``
  (``spec.md``), so each status key pins its ``code`` with ``const``; a non-200 body carries
  ``status`` only. The 200 body is the current generation's shape; the four actions whose shape
  depends on the account's ``wire_generation`` also admit the legacy (wrapped-list) shape via
  ``oneOf``, exactly for the actions in :data:`~rehber.wire.actions.LEGACY_SHAPED`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from rehber import __version__
from rehber import commands as c
from rehber.codes import Code, message_for
from rehber.wire.actions import ACTIONS, LEGACY_SHAPED, Action, ResultKind

Schema = dict[str, Any]

# Every route can answer these besides 200 and its own ``Action.errors``: unparsable body (400),
# bad credentials (401), unknown path or method (404), over the per-key rate limit when one is
# configured (429, see ``server/limits.py``) and a database or internal failure (503, see
# ``server/v1.py``).
COMMON_ERRORS: tuple[int, ...] = (
    Code.BAD_REQUEST,
    Code.UNAUTHORIZED,
    Code.NOT_FOUND,
    Code.TOO_MANY_REQUESTS,
    Code.SERVICE_UNAVAILABLE,
)

_JSON = "application/json"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def _closed(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """An object of exactly these keys: used for the envelope, whose keys the spec fixes."""
    return {
        "type": "object",
        "required": list(properties) if required is None else required,
        "properties": properties,
        "additionalProperties": False,
    }


def _entity(properties: dict[str, Schema], required: list[str], description: str) -> Schema:
    """A response object: the keys the server always writes are required; others may follow."""
    return {
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
    }


def _input(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    """A request object: open, because the server ignores keys it does not know."""
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": True}
    if required:
        schema["required"] = list(required)
    return schema


def _any_of(*alternatives: Schema, description: str) -> Schema:
    # anyOf, not oneOf: the lenient alternatives overlap (an object may carry both ``id`` and
    # ``group``), and the server reads whichever it finds first.
    return {"description": description, "anyOf": list(alternatives)}


_STRING: Schema = {"type": "string"}
_INTEGER: Schema = {"type": "integer"}
_EMPTY: Schema = {"const": ""}


def _id_list(wrapper: str, what: str) -> Schema:
    """Every documented JSON way of listing ids, with ``wrapper`` as the legacy element name."""
    id_object = _input({"id": _ref("IntegerInput")}, ("id",))
    return _any_of(
        _input({wrapper: {"anyOf": [id_object, _array(id_object)]}}, (wrapper,)),
        _input({"id": {"anyOf": [_ref("IntegerInput"), _array(_ref("IntegerInput"))]}}, ("id",)),
        _array({"anyOf": [_ref("IntegerInput"), id_object]}),
        _ref("IntegerInput"),
        _EMPTY,
        description=(
            f"{what} ids, in any documented form: "
            f'{{"{wrapper}": {{"id": x}}}}, {{"{wrapper}": [{{"id": x}}, …]}}, '
            '{"id": x}, {"id": [x, y]}, [x, y], [{"id": x}, …]. '
            'Ids that read as not given are dropped; an empty list ("" or []) is present '
            "and empty (on edit-contact: no group memberships)."
        ),
    )


def _request_schemas() -> dict[str, Schema]:
    field_input = _input({"id": _ref("IntegerInput"), "value": _STRING}, ("id",))
    return {
        "Authentication": {
            "type": "object",
            "description": "API key and its hash (lowercase hex of HMAC-SHA256(secret, key)).",
            "required": ["key", "hash"],
            "properties": {"key": _STRING, "hash": _STRING},
            "additionalProperties": True,
        },
        "IntegerInput": {
            "description": "An integer, or a string of decimal digits (one sign allowed).",
            "type": ["integer", "string"],
            "pattern": r"^\s*[+-]?[0-9]+\s*$",
        },
        "OptionalIntegerInput": {
            "description": 'An integer or numeric string; "", null, [] and (for ids) 0 mean '
            '"not given" (documented templates and legacy pages send them).',
            "anyOf": [
                _ref("IntegerInput"),
                _EMPTY,
                {"type": "null"},
                _array({}, maxItems=0),
            ],
        },
        "GroupIdsInput": _id_list("group", "Group"),
        "ContactIdsInput": _id_list("contact", "Contact"),
        "FieldValueInput": field_input,
        "CustomFieldsInput": _any_of(
            _input(
                {"custom_field": {"anyOf": [field_input, _array(field_input)]}}, ("custom_field",)
            ),
            _array(field_input),
            _EMPTY,
            description=(
                'Custom-field values: {"custom_field": {id, value}}, {"custom_field": [...]} '
                "or a plain list of {id, value}. An empty value removes that field on edit."
            ),
        ),
        "ContactInput": {
            **_input(
                {
                    "name": _STRING,
                    "surname": _STRING,
                    "email": _STRING,
                    "gsm": {
                        "type": "string",
                        "description": "Any common form of the number; stored as E.164.",
                    },
                    "custom_fields": _ref("CustomFieldsInput"),
                    "groups": _ref("GroupIdsInput"),
                }
            ),
            "description": "At least one of name, surname, email and gsm must be non-empty "
            "(else 472).",
        },
    }


@dataclass(frozen=True, slots=True)
class _Operation:
    """The operation element(s) a command reads from under ``request``, and its tag."""

    tag: str
    elements: dict[str, Schema] = field(default_factory=dict)
    required: tuple[str, ...] = ()


_GROUP_ID = _input({"id": _ref("IntegerInput")}, ("id",))
_CONTACT_ID = _input({"id": _ref("IntegerInput")}, ("id",))
_PAGING = {"page": _ref("OptionalIntegerInput"), "rowCount": _ref("OptionalIntegerInput")}

# One entry per command class: the request schema builder is keyed by what the action decodes.
_OPERATIONS: dict[type[c.Command], _Operation] = {
    c.GetGroups: _Operation("groups"),
    c.GetGroup: _Operation("groups", {"group": _GROUP_ID}, ("group",)),
    c.AddGroup: _Operation(
        "groups",
        {"group": _input({"name": _STRING, "parent": _ref("OptionalIntegerInput")}, ("name",))},
        ("group",),
    ),
    c.EditGroup: _Operation(
        "groups",
        {
            "group": _input(
                {
                    "id": _ref("IntegerInput"),
                    "name": _STRING,
                    "parent": {
                        "$ref": "#/components/schemas/OptionalIntegerInput",
                        "description": 'Absent keeps the parent; "" or 0 moves to the top level.',
                    },
                },
                ("id", "name"),
            )
        },
        ("group",),
    ),
    c.DeleteGroup: _Operation("groups", {"group": _GROUP_ID}, ("group",)),
    c.GetGroupContacts: _Operation(
        "contacts",
        {"group": _input({"id": _ref("IntegerInput"), **_PAGING}, ("id",))},
        ("group",),
    ),
    c.AddContact: _Operation("contacts", {"contact": _ref("ContactInput")}, ("contact",)),
    c.EditContact: _Operation(
        "contacts",
        {
            "contact": {
                "$ref": "#/components/schemas/ContactInput",
                "description": "Present keys replace (groups: the whole set; custom_fields: "
                "per id); absent keys are kept.",
                "properties": {"id": _ref("IntegerInput")},
                "required": ["id"],
            }
        },
        ("contact",),
    ),
    c.DeleteContact: _Operation("contacts", {"contact": _CONTACT_ID}, ("contact",)),
    c.GetContact: _Operation("contacts", {"contact": _CONTACT_ID}, ("contact",)),
    c.SearchContacts: _Operation(
        "contacts",
        {"search": _input({"key": _STRING, **_PAGING}, ("key",))},
        ("search",),
    ),
    c.SubscribeGroup: _Operation(
        "groups",
        {"contact": _ref("ContactIdsInput"), "group": _ref("GroupIdsInput")},
        ("contact", "group"),
    ),
    c.UnsubscribeGroup: _Operation(
        "groups",
        {"contact": _ref("ContactIdsInput"), "group": _ref("GroupIdsInput")},
        ("contact", "group"),
    ),
    c.AddContacts: _Operation(
        "contacts",
        {
            "contacts": _any_of(
                _input(
                    {
                        "contact": {
                            "anyOf": [
                                _ref("ContactInput"),
                                _array(_ref("ContactInput"), maxItems=10_000),
                            ]
                        }
                    },
                    ("contact",),
                ),
                _array(_ref("ContactInput"), maxItems=10_000),
                description="Up to 10,000 contacts; each gets its own result.",
            )
        },
        ("contacts",),
    ),
    c.DeleteContacts: _Operation("contacts", {"contacts": _ref("ContactIdsInput")}, ("contacts",)),
}


def _request_body(action: Action) -> Schema:
    operation = _OPERATIONS[action.command]
    request = _input(
        {"authentication": _ref("Authentication"), **operation.elements},
        ("authentication", *operation.required),
    )
    return {
        "required": True,
        "content": {_JSON: {"schema": _input({"request": request}, ("request",))}},
    }


def _response_schemas() -> dict[str, Schema]:
    group_id = {"type": "object", "required": ["id"], "properties": {"id": _INTEGER}}
    return {
        "Status": _entity(
            {"code": _INTEGER, "message": _STRING},
            ["code", "message"],
            "Outcome: code equals the HTTP status; message is the vendor's Turkish literal.",
        ),
        "ErrorEnvelope": {
            **_closed({"response": _closed({"status": _ref("Status")})}),
            "description": "A failed request: status only, and nothing was changed.",
        },
        "Group": _entity(
            {
                "id": _INTEGER,
                "name": _STRING,
                "count": {**_INTEGER, "description": "Contacts directly in this group."},
                "children": {
                    **_array(_ref("Group"), minItems=1),
                    "description": "Direct sub-groups; the key is absent when there are none.",
                },
            },
            ["id", "name", "count"],
            "A group with its sub-tree.",
        ),
        "GroupRef": _entity(
            {"id": _INTEGER, "name": _STRING}, ["id", "name"], "A created or edited group."
        ),
        "FieldValue": _entity(
            {"id": _INTEGER, "value": _STRING}, ["id", "value"], "One custom-field value."
        ),
        "Contact": _entity(
            {
                "id": _INTEGER,
                "name": _STRING,
                "surname": _STRING,
                "email": _STRING,
                "gsm": {**_STRING, "description": 'E.164 ("+905321234567"), or "".'},
                "custom_fields": _array(_ref("FieldValue")),
                "groups": _array(_INTEGER),
            },
            ["id", "name", "surname", "email", "gsm", "custom_fields", "groups"],
            'A contact; values never given are "".',
        ),
        "LegacyGroupList": _entity(
            {"group": _array(_ref("Group"))},
            ["group"],
            "get-groups under wire_generation = legacy.",
        ),
        "LegacyContact": _entity(
            {
                "id": _INTEGER,
                "name": _STRING,
                "surname": _STRING,
                "email": _STRING,
                "gsm": _STRING,
                "custom_fields": _entity(
                    {"custom_field": _array(_ref("FieldValue"))}, ["custom_field"], "Wrapped list."
                ),
                "groups": _entity({"group": _array(group_id)}, ["group"], "Wrapped list of {id}."),
            },
            ["id", "name", "surname", "email", "gsm", "custom_fields", "groups"],
            "A contact under wire_generation = legacy.",
        ),
        "LegacyContactList": _entity(
            {"contact": _array(_ref("LegacyContact"))},
            ["contact"],
            "A contact list under wire_generation = legacy.",
        ),
        "BulkItem": _entity(
            {
                "id": {"oneOf": [_INTEGER, {"const": "", "description": "A failed item."}]},
                "gsm": _STRING,
                "status": _ref("Status"),
            },
            ["id", "gsm", "status"],
            'One add-contacts item: its stored id and gsm, or "" and "" with its error status.',
        ),
        "BulkResult": _entity(
            {"contact": _array(_ref("BulkItem"))},
            ["contact"],
            "Every item of the request, in request order.",
        ),
    }


# Per result kind: the payload key and its current shape, plus the legacy shape if it has one.
_PAYLOADS: dict[ResultKind, tuple[str, Schema, Schema | None] | None] = {
    "groups": ("groups", _array(_ref("Group")), _ref("LegacyGroupList")),
    "group": ("group", _ref("Group"), None),
    "group_ref": ("group", _ref("GroupRef"), None),
    "contacts": ("contacts", _array(_ref("Contact")), _ref("LegacyContactList")),
    "contact": ("contact", _ref("Contact"), _ref("LegacyContact")),
    # add-contacts only ever existed in the legacy generation: one (wrapped) shape.
    "bulk": ("contacts", _ref("BulkResult"), None),
    "none": None,
}


def _status_with(code: int) -> Schema:
    return {"$ref": "#/components/schemas/Status", "properties": {"code": {"const": int(code)}}}


def _success_schema(action: Action) -> Schema:
    """The 200 envelope: status plus the payload of the action's result kind."""
    properties: dict[str, Schema] = {"status": _status_with(Code.OK)}
    payload = _PAYLOADS[action.result]
    legacy_shaped = action.name in LEGACY_SHAPED
    if payload is not None:
        key, current, legacy = payload
        if legacy_shaped and legacy is None:
            raise ValueError(
                f"{action.name} is legacy-shaped but {action.result} has no legacy form"
            )
        properties[key] = {"oneOf": [current, legacy]} if legacy_shaped and legacy else current
    elif legacy_shaped:
        raise ValueError(f"{action.name} is legacy-shaped but has no payload")
    return _closed({"response": _closed(properties)})


def _success_response(action: Action) -> Schema:
    description = message_for(Code.OK)
    if action.name in LEGACY_SHAPED:
        description += " (accounts with wire_generation = legacy get the wrapped legacy shape)"
    return {"description": description, "content": {_JSON: {"schema": _success_schema(action)}}}


def _error_name(code: int) -> str:
    return f"Status{code}"


def _error_response(code: int) -> Schema:
    """A shared response for one non-200 code: the error envelope with ``code`` pinned."""
    return {
        "description": f"{code} — {message_for(code)}",
        "content": {
            _JSON: {
                "schema": {
                    "allOf": [_ref("ErrorEnvelope")],
                    "properties": {"response": {"properties": {"status": _status_with(code)}}},
                },
                "example": {"response": {"status": {"code": code, "message": message_for(code)}}},
            }
        },
    }


def statuses(action: Action) -> tuple[int, ...]:
    """Every status ``action`` can answer with, ascending: 200, the common errors, its own."""
    return tuple(sorted({int(Code.OK), *map(int, COMMON_ERRORS), *action.errors}))


def _operation(action: Action) -> Schema:
    responses: dict[str, Schema] = {}
    for code in statuses(action):
        if code == Code.OK:
            responses[str(code)] = _success_response(action)
        else:
            responses[str(code)] = {"$ref": f"#/components/responses/{_error_name(code)}"}
    operation: Schema = {
        "operationId": action.handler,
        "summary": action.summary,
        "tags": [_OPERATIONS[action.command].tag],
        "requestBody": _request_body(action),
        "responses": responses,
    }
    if action.legacy_only:
        operation["description"] = (
            "Legacy-only: documented by the vendor until 2024-09-30, still served by rehber."
        )
        operation["x-rehber-legacy-only"] = True
    return operation


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document for the JSON routes, built once from the action registry.

    Cached because it depends on nothing but code; callers must treat it as read-only.
    """
    error_codes = sorted({code for a in ACTIONS.values() for code in statuses(a)} - {200})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rehber — iletimerkezi Contacts API",
            "version": __version__,
            "summary": "Wire-compatible iletimerkezi.com Contacts (Rehber) API.",
            "description": (
                'Every call is POST with an envelope {"request": {"authentication": …, …}} '
                'and answers {"response": {"status": {code, message}, …payload}}; the HTTP '
                "status equals status.code. Each route also exists without the /json suffix, "
                "with the same fields as XML elements."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "groups", "description": "Groups and group membership"},
            {"name": "contacts", "description": "Contacts"},
        ],
        "paths": {
            f"/v1/{action.name}/json": {"post": _operation(action)} for action in ACTIONS.values()
        },
        "components": {
            "schemas": {**_request_schemas(), **_response_schemas()},
            "responses": {_error_name(code): _error_response(code) for code in error_codes},
        },
    }
