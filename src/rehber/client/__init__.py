"""The Python client of the iletimerkezi Contacts API (and of rehber servers).

``Client`` and ``AsyncClient`` share one base that does no I/O (:mod:`._base`); resources
(:mod:`.resources`) describe their calls once (:mod:`._calls`); the wire lives in
:mod:`rehber.wire.client_requests` and :mod:`rehber.wire.client_responses`; errors in
:mod:`._exceptions` (the tree is drawn there).
"""

from rehber.client._base import DEFAULT_BASE_URL
from rehber.client._calls import NewContact
from rehber.client._client import AsyncClient, Client
from rehber.client._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContactNotFoundError,
    CustomFieldNotFoundError,
    EmptyContactError,
    GroupIdRequiredError,
    GroupNameRequiredError,
    GroupNotFoundError,
    InvalidNumberError,
    InvalidPageError,
    NotFoundError,
    RateLimitError,
    RehberError,
    SearchTermTooShortError,
    ServiceUnavailableError,
    ValidationError,
)
from rehber.client.pagination import AsyncContactPages, ContactPages

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncContactPages",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ContactNotFoundError",
    "ContactPages",
    "CustomFieldNotFoundError",
    "EmptyContactError",
    "GroupIdRequiredError",
    "GroupNameRequiredError",
    "GroupNotFoundError",
    "InvalidNumberError",
    "InvalidPageError",
    "NewContact",
    "NotFoundError",
    "RateLimitError",
    "RehberError",
    "SearchTermTooShortError",
    "ServiceUnavailableError",
    "ValidationError",
]
