"""rehber: the iletimerkezi.com Contacts API as a self-hostable server, emulator and client.

Importing ``rehber`` loads the client and the plain types only, never the server.

Example::

    import rehber

    with rehber.Client(key="...", hash="...") as client:
        for group in client.groups.list():
            print(group.id, group.name)
"""

from rehber.client import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    AsyncContactPages,
    AuthenticationError,
    BadRequestError,
    Client,
    ContactNotFoundError,
    ContactPages,
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
from rehber.codes import Code, ServiceError
from rehber.commands import ContactFields
from rehber.credentials import derive_hash
from rehber.types import BulkItemResult, Contact, CustomField, FieldValue, Group

__version__ = "0.1.0"

__all__ = [
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
