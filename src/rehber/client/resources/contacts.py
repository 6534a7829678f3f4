"""``client.contacts``: one method per contact action of the vendor API.

As in :mod:`.groups`, the calls are described once in :mod:`rehber.client._calls` and the sync
and async classes only send them.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from rehber.client import _calls
from rehber.client._calls import CustomFields, NewContact
from rehber.client.pagination import AsyncContactPages, ContactPages
from rehber.commands import ContactFields
from rehber.types import BulkItemResult, Contact

if TYPE_CHECKING:
    from rehber.client._client import AsyncClient, Client


class Contacts:
    """The address book's contacts (``client.contacts``).

    Example::

        contact = client.contacts.add(name="Ayşe", gsm="05321234567", groups=[5])
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def add(
        self,
        *,
        name: str | None = None,
        surname: str | None = None,
        email: str | None = None,
        gsm: str | None = None,
        custom_fields: CustomFields | None = None,
        groups: Iterable[int] | None = None,
    ) -> Contact:
        """Add one contact (add-contact); at least one of name, surname, email, gsm.

        ``custom_fields`` maps custom-field ids to values; ``groups`` lists group ids. The
        answer is the stored contact (``gsm`` normalised to E.164). Never retried
        automatically: a lost answer could otherwise add the contact twice.

        Example::

            contact = client.contacts.add(
                name="Ayşe", surname="Yılmaz", gsm="0532 123 45 67",
                custom_fields={1: "27/09/2024"}, groups=[5],
            )
            contact.gsm  # '+905321234567'
        """
        fields = _calls.contact_fields(
            name=name,
            surname=surname,
            email=email,
            gsm=gsm,
            custom_fields=custom_fields,
            groups=groups,
        )
        return self._client._request(_calls.add_contact(fields))

    def add_many(
        self, contacts: Iterable[NewContact], *, batch_size: int = 1000
    ) -> Iterator[BulkItemResult]:
        """Add contacts in batches through add-contacts; one result per contact, in order.

        Lazy: ``contacts`` is read ``batch_size`` items at a time (1 to 10,000) and each batch
        is sent when the results run out, so any iterable, however long, streams through in
        constant memory. Consume the iterator (``list(...)``) to add everything. A result has
        ``code`` 200 with the new ``id`` and ``gsm``, or the contact's error code (466, 472,
        ...). Never retried automatically; an error of a whole batch (401, 503, a dropped
        connection) raises, and earlier batches stay added.

        Example::

            rows = ({"name": n, "gsm": g, "groups": [5]} for n, g in read_rows())
            for result in client.contacts.add_many(rows, batch_size=1000):
                if result.code != 200:
                    print("failed:", result.code)
        """
        return self._add_batches(_calls.batches(contacts, _calls.check_batch_size(batch_size)))

    def _add_batches(self, batches: Iterator[list[ContactFields]]) -> Iterator[BulkItemResult]:
        for batch in batches:
            yield from self._client._request(_calls.add_contacts(batch))

    def get(self, id: int) -> Contact:
        """One contact (get-contact). Raises ``ContactNotFoundError`` (465).

        Example::

            contact = client.contacts.get(1007)
            print(contact.name, contact.groups, contact.custom_fields)
        """
        return self._client._request(_calls.get_contact(id))

    def edit(
        self,
        id: int,
        *,
        name: str | None = None,
        surname: str | None = None,
        email: str | None = None,
        gsm: str | None = None,
        custom_fields: CustomFields | None = None,
        groups: Iterable[int] | None = None,
    ) -> Contact:
        """Change a contact (edit-contact); arguments left out keep their values.

        ``""`` clears a value; ``groups`` replaces the whole membership set (``[]`` leaves every
        group); ``custom_fields`` sets the given fields and an empty value removes one.

        Example::

            client.contacts.edit(1007, surname="Yılmaz Kaya", custom_fields={2: ""}, groups=[5])
        """
        fields = _calls.contact_fields(
            name=name,
            surname=surname,
            email=email,
            gsm=gsm,
            custom_fields=custom_fields,
            groups=groups,
        )
        return self._client._request(_calls.edit_contact(id, fields))

    def delete(self, id: int) -> None:
        """Delete one contact (delete-contact). Raises ``ContactNotFoundError`` (465).

        Example::

            client.contacts.delete(1007)
        """
        return self._client._request(_calls.delete_contact(id))

    def delete_many(self, ids: Iterable[int]) -> None:
        """Delete several contacts, all or nothing: one unknown id (465) deletes none.

        Example::

            client.contacts.delete_many([1007, 1008])
        """
        return self._client._request(_calls.delete_contacts(ids))

    def search(self, key: str, page_size: int = 1000) -> ContactPages:
        """Contacts whose name, surname, e-mail or number contain ``key``, page by page.

        Case-insensitive with Turkish letters folded; digits also match numbers in any prefix
        form. ``key`` needs 3 characters (``SearchTermTooShortError`` when iteration starts).

        Example::

            for contact in client.contacts.search("yılmaz"):
                print(contact.id, contact.name, contact.surname)
        """
        return ContactPages(self._client, partial(_calls.search_page, key), page_size)


class AsyncContacts:
    """The address book's contacts, for :class:`~rehber.AsyncClient` (``client.contacts``).

    Example::

        contact = await client.contacts.add(name="Ayşe", gsm="05321234567", groups=[5])
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def add(
        self,
        *,
        name: str | None = None,
        surname: str | None = None,
        email: str | None = None,
        gsm: str | None = None,
        custom_fields: CustomFields | None = None,
        groups: Iterable[int] | None = None,
    ) -> Contact:
        """Add one contact (add-contact); see :meth:`Contacts.add`.

        Example::

            contact = await client.contacts.add(name="Ayşe", gsm="05321234567", groups=[5])
        """
        fields = _calls.contact_fields(
            name=name,
            surname=surname,
            email=email,
            gsm=gsm,
            custom_fields=custom_fields,
            groups=groups,
        )
        return await self._client._request(_calls.add_contact(fields))

    def add_many(
        self,
        contacts: Iterable[NewContact] | AsyncIterable[NewContact],
        *,
        batch_size: int = 1000,
    ) -> AsyncIterator[BulkItemResult]:
        """Add contacts in batches through add-contacts; see :meth:`Contacts.add_many`.

        ``contacts`` may be an iterable or an async iterable; iterate the result with
        ``async for`` to send the batches.

        Example::

            async for result in client.contacts.add_many(rows, batch_size=1000):
                if result.code != 200:
                    print("failed:", result.code)
        """
        return self._add_batches(contacts, _calls.check_batch_size(batch_size))

    async def _add_batches(
        self, contacts: Iterable[NewContact] | AsyncIterable[NewContact], size: int
    ) -> AsyncIterator[BulkItemResult]:
        async for batch in _calls.async_batches(contacts, size):
            for result in await self._client._request(_calls.add_contacts(batch)):
                yield result

    async def get(self, id: int) -> Contact:
        """One contact (get-contact). Raises ``ContactNotFoundError`` (465).

        Example::

            contact = await client.contacts.get(1007)
        """
        return await self._client._request(_calls.get_contact(id))

    async def edit(
        self,
        id: int,
        *,
        name: str | None = None,
        surname: str | None = None,
        email: str | None = None,
        gsm: str | None = None,
        custom_fields: CustomFields | None = None,
        groups: Iterable[int] | None = None,
    ) -> Contact:
        """Change a contact (edit-contact); see :meth:`Contacts.edit`.

        Example::

            await client.contacts.edit(1007, surname="Yılmaz Kaya", groups=[5])
        """
        fields = _calls.contact_fields(
            name=name,
            surname=surname,
            email=email,
            gsm=gsm,
            custom_fields=custom_fields,
            groups=groups,
        )
        return await self._client._request(_calls.edit_contact(id, fields))

    async def delete(self, id: int) -> None:
        """Delete one contact (delete-contact).

        Example::

            await client.contacts.delete(1007)
        """
        return await self._client._request(_calls.delete_contact(id))

    async def delete_many(self, ids: Iterable[int]) -> None:
        """Delete several contacts, all or nothing (delete-contacts).

        Example::

            await client.contacts.delete_many([1007, 1008])
        """
        return await self._client._request(_calls.delete_contacts(ids))

    def search(self, key: str, page_size: int = 1000) -> AsyncContactPages:
        """Contacts matching ``key``, page by page (``async for``); see :meth:`Contacts.search`.

        Example::

            async for contact in client.contacts.search("yılmaz"):
                print(contact.id, contact.name)
        """
        return AsyncContactPages(self._client, partial(_calls.search_page, key), page_size)
