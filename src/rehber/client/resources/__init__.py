"""The API's resources as client attributes: ``client.groups`` and ``client.contacts``."""

from rehber.client.resources.contacts import AsyncContacts, Contacts
from rehber.client.resources.groups import AsyncGroups, Groups

__all__ = ["AsyncContacts", "AsyncGroups", "Contacts", "Groups"]
