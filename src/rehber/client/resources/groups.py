"""``client.groups``: one method per group action of the vendor API.

Both classes describe their calls with :mod:`rehber.client._calls`; they differ only in how
the call is sent (``Client._request`` returns, ``AsyncClient._request`` is awaited).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from rehber import commands as c
from rehber.client import _calls
from rehber.client.pagination import AsyncContactPages, ContactPages
from rehber.types import Group

if TYPE_CHECKING:
    from rehber.client._client import AsyncClient, Client


class Groups:
    """The address book's groups (``client.groups``).

    Example::

        vip = client.groups.create("VIP", parent=client.groups.create("Müşteriler").id)
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(self) -> builtins.list[Group]:
        """The top-level groups, each with its sub-groups in ``children`` (get-groups).

        Example::

            for group in client.groups.list():
                print(group.id, group.name, group.count, [g.name for g in group.children])
        """
        return self._client._request(_calls.list_groups())

    def get(self, id: int) -> Group:
        """One group with its sub-tree (get-group). Raises ``GroupNotFoundError`` (463).

        iletimerkezi documents get-group in JSON only; rehber serves an XML form as well.

        Example::

            group = client.groups.get(5)
            print(group.name, group.count)
        """
        return self._client._request(_calls.get_group(id))

    def create(self, name: str, parent: int | None = None) -> Group:
        """Create a group, under ``parent`` if given (add-group).

        The answer carries the new id and the stored (trimmed) name; ``count`` is 0.

        Example::

            customers = client.groups.create("Müşteriler")
            vip = client.groups.create("VIP", parent=customers.id)
        """
        return self._client._request(_calls.create_group(name, parent))

    def edit(self, id: int, *, name: str, parent: int | c.Missing | None = c.MISSING) -> Group:
        """Rename a group and optionally move it (edit-group).

        ``parent`` left out keeps the group where it is; ``None`` moves it to the top level.
        The answer carries only the id and name, so ``count`` reads 0 and ``parent`` is set
        only when given; use :meth:`get` for the rest.

        Example::

            client.groups.edit(7, name="Altın Müşteriler", parent=None)
        """
        return self._client._request(_calls.edit_group(id, name, parent))

    def delete(self, id: int) -> None:
        """Delete a group and all its sub-groups; their contacts stay (delete-group).

        Example::

            client.groups.delete(7)
        """
        return self._client._request(_calls.delete_group(id))

    def contacts(self, id: int, page_size: int = 1000) -> ContactPages:
        """The group's contacts, in id order, fetched page by page as you iterate.

        ``page_size`` is 1 to 1000 (get-group-contacts ``rowCount``). An empty group yields
        nothing; an unknown group raises ``GroupNotFoundError`` when iteration starts.

        Example::

            for contact in client.groups.contacts(5):
                print(contact.name, contact.gsm)
        """
        return ContactPages(self._client, partial(_calls.group_contacts_page, id), page_size)

    def subscribe(self, group_id: int, contact_ids: Iterable[int]) -> None:
        """Add existing contacts to a group; members already in it are fine (subscribe-group).

        Example::

            client.groups.subscribe(5, [1007, 1008])
        """
        return self._client._request(_calls.subscribe(group_id, contact_ids))

    def unsubscribe(self, group_id: int, contact_ids: Iterable[int]) -> None:
        """Remove contacts from a group; non-members are fine (unsubscribe-group).

        Example::

            client.groups.unsubscribe(5, [1007])
        """
        return self._client._request(_calls.unsubscribe(group_id, contact_ids))


class AsyncGroups:
    """The address book's groups, for :class:`~rehber.AsyncClient` (``client.groups``).

    Example::

        customers = await client.groups.create("Müşteriler")
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(self) -> builtins.list[Group]:
        """The top-level groups, each with its sub-groups in ``children`` (get-groups).

        Example::

            for group in await client.groups.list():
                print(group.id, group.name, group.count)
        """
        return await self._client._request(_calls.list_groups())

    async def get(self, id: int) -> Group:
        """One group with its sub-tree (get-group). Raises ``GroupNotFoundError`` (463).

        Example::

            group = await client.groups.get(5)
        """
        return await self._client._request(_calls.get_group(id))

    async def create(self, name: str, parent: int | None = None) -> Group:
        """Create a group, under ``parent`` if given (add-group).

        Example::

            customers = await client.groups.create("Müşteriler")
            vip = await client.groups.create("VIP", parent=customers.id)
        """
        return await self._client._request(_calls.create_group(name, parent))

    async def edit(
        self, id: int, *, name: str, parent: int | c.Missing | None = c.MISSING
    ) -> Group:
        """Rename a group and optionally move it (edit-group); see :meth:`Groups.edit`.

        Example::

            await client.groups.edit(7, name="Altın Müşteriler", parent=None)
        """
        return await self._client._request(_calls.edit_group(id, name, parent))

    async def delete(self, id: int) -> None:
        """Delete a group and all its sub-groups; their contacts stay (delete-group).

        Example::

            await client.groups.delete(7)
        """
        return await self._client._request(_calls.delete_group(id))

    def contacts(self, id: int, page_size: int = 1000) -> AsyncContactPages:
        """The group's contacts, fetched page by page as you iterate (``async for``).

        Example::

            async for contact in client.groups.contacts(5):
                print(contact.name, contact.gsm)
        """
        return AsyncContactPages(self._client, partial(_calls.group_contacts_page, id), page_size)

    async def subscribe(self, group_id: int, contact_ids: Iterable[int]) -> None:
        """Add existing contacts to a group (subscribe-group).

        Example::

            await client.groups.subscribe(5, [1007, 1008])
        """
        return await self._client._request(_calls.subscribe(group_id, contact_ids))

    async def unsubscribe(self, group_id: int, contact_ids: Iterable[int]) -> None:
        """Remove contacts from a group (unsubscribe-group).

        Example::

            await client.groups.unsubscribe(5, [1007])
        """
        return await self._client._request(_calls.unsubscribe(group_id, contact_ids))
