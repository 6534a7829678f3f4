"""rehber: the iletimerkezi.com Contacts API as a self-hostable server, emulator and client."""

from rehber.codes import Code, ServiceError
from rehber.types import BulkItemResult, Contact, CustomField, FieldValue, Group

__version__ = "0.1.0"

__all__ = [
    "BulkItemResult",
    "Code",
    "Contact",
    "CustomField",
    "FieldValue",
    "Group",
    "ServiceError",
    "__version__",
]
