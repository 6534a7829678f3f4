"""Auto-paging over get-group-contacts and search-contacts.

The API has no total and no "has more" flag: a walk asks for page 1, 2, ... and stops after a
page shorter than the page size, or when the API answers 465 ("no contact"), which is how it
reports an empty group, a page past the end and a search without hits. Nothing is fetched
until iteration starts, and each ``for`` / ``async for`` walks from page 1 again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING

from rehber.client._base import Call
from rehber.client._calls import check_page_size
from rehber.client._exceptions import ContactNotFoundError
from rehber.types import Contact

if TYPE_CHECKING:
    from rehber.client._client import AsyncClient, Client

PageCall = Callable[[int, int], Call[tuple[Contact, ...]]]


class _Walk:
    """Where a walk is (no I/O): the next page to ask for, and whether it is over."""

    def __init__(self, page_call: PageCall, page_size: int) -> None:
        self._page_call = page_call
        self._page_size = page_size
        self._page = 1
        self.done = False

    def call(self) -> Call[tuple[Contact, ...]]:
        return self._page_call(self._page, self._page_size)

    def take(self, contacts: tuple[Contact, ...]) -> tuple[Contact, ...]:
        self.done = len(contacts) < self._page_size
        self._page += 1
        return contacts


class ContactPages:
    """The contacts of a group or a search, fetched a page at a time while you iterate.

    Example::

        for contact in client.groups.contacts(5, page_size=500):
            print(contact.id, contact.gsm)
        for page in client.contacts.search("yılmaz").pages():
            print(len(page))
    """

    def __init__(self, client: Client, page_call: PageCall, page_size: int) -> None:
        self._client = client
        self._page_call = page_call
        self.page_size = check_page_size(page_size)

    def __iter__(self) -> Iterator[Contact]:
        for page in self.pages():
            yield from page

    def pages(self) -> Iterator[tuple[Contact, ...]]:
        """The contacts page by page (no empty pages).

        Example::

            for page in client.groups.contacts(5).pages():
                print(f"{len(page)} more")
        """
        walk = _Walk(self._page_call, self.page_size)
        while not walk.done:
            try:
                page = self._client._request(walk.call())
            except ContactNotFoundError:
                return
            if page := walk.take(page):
                yield page


class AsyncContactPages:
    """:class:`ContactPages` for the async client: use ``async for``.

    Example::

        async for contact in client.groups.contacts(5):
            print(contact.id, contact.gsm)
    """

    def __init__(self, client: AsyncClient, page_call: PageCall, page_size: int) -> None:
        self._client = client
        self._page_call = page_call
        self.page_size = check_page_size(page_size)

    def __aiter__(self) -> AsyncIterator[Contact]:
        return self._contacts()

    async def _contacts(self) -> AsyncIterator[Contact]:
        async for page in self.pages():
            for contact in page:
                yield contact

    async def pages(self) -> AsyncIterator[tuple[Contact, ...]]:
        """The contacts page by page (no empty pages).

        Example::

            async for page in client.contacts.search("yılmaz").pages():
                print(f"{len(page)} more")
        """
        walk = _Walk(self._page_call, self.page_size)
        while not walk.done:
            try:
                page = await self._client._request(walk.call())
            except ContactNotFoundError:
                return
            if page := walk.take(page):
                yield page
