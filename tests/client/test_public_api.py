"""The public surface: ``rehber.__all__`` is pinned and every public name is documented."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import rehber
from rehber.client import AsyncContactPages, ContactPages
from rehber.client.resources import AsyncContacts, AsyncGroups, Contacts, Groups

PUBLIC = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncContactPages",
    "AuthenticationError",
    "BadRequestError",
    "BulkItemResult",
    "Client",
    "Code",
    "Contact",
    "ContactFields",
    "ContactNotFoundError",
    "ContactPages",
    "CustomField",
    "CustomFieldNotFoundError",
    "EmptyContactError",
    "FieldValue",
    "Group",
    "GroupIdRequiredError",
    "GroupNameRequiredError",
    "GroupNotFoundError",
    "InvalidNumberError",
    "InvalidPageError",
    "NotFoundError",
    "RateLimitError",
    "RehberError",
    "SearchTermTooShortError",
    "ServiceError",
    "ServiceUnavailableError",
    "ValidationError",
    "__version__",
    "derive_hash",
]
# Classes whose public methods users call; each method needs a docstring with an example.
WITH_METHODS = [
    rehber.Client,
    rehber.AsyncClient,
    Groups,
    AsyncGroups,
    Contacts,
    AsyncContacts,
    ContactPages,
    AsyncContactPages,
]
# Plain values (dataclasses, enums) and exceptions need a docstring, not an example.
VALUES = {
    "BulkItemResult",
    "Code",
    "Contact",
    "ContactFields",
    "CustomField",
    "FieldValue",
    "Group",
    "ServiceError",
    "derive_hash",
}


def test_all_is_pinned() -> None:
    assert rehber.__all__ == PUBLIC
    assert all(hasattr(rehber, name) for name in rehber.__all__)


def _has_example(doc: str | None) -> bool:
    return bool(doc) and ("Example" in doc or ">>>" in doc)  # type: ignore[operator]


@pytest.mark.parametrize("name", [n for n in PUBLIC if n != "__version__"])
def test_every_public_name_has_a_docstring(name: str) -> None:
    obj = getattr(rehber, name)
    doc = inspect.getdoc(obj)
    assert doc and len(doc) > 20, name
    if name not in VALUES:
        assert _has_example(doc), f"{name} needs an example in its docstring"


@pytest.mark.parametrize("cls", WITH_METHODS, ids=lambda c: c.__name__)
def test_every_public_method_has_a_docstring_with_an_example(cls: type) -> None:
    methods = [
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and inspect.isfunction(member)
    ]
    assert methods, cls
    for name in methods:
        doc = inspect.getdoc(getattr(cls, name))
        assert _has_example(doc), f"{cls.__name__}.{name} needs a docstring with an example"
    assert _has_example(inspect.getdoc(cls))


def test_sync_and_async_resources_offer_the_same_methods() -> None:
    def public(cls: type) -> dict[str, list[str]]:
        return {
            name: list(inspect.signature(member).parameters)
            for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")
        }

    assert public(Groups) == public(AsyncGroups)
    assert public(Contacts) == public(AsyncContacts)


def test_importing_rehber_loads_no_server_code() -> None:
    code = (
        "import sys, rehber; "
        "print(sorted(m for m in sys.modules if m.startswith(('rehber.server', "
        "'rehber.service', 'rehber.storage', 'rehber.emulator', 'sqlalchemy', 'starlette'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
