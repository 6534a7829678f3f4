"""The rules of the address book, one method per vendor action.

Methods take an authenticated :class:`Account` and a typed command, return plain values, and
raise :class:`ServiceError` with the vendor code. Each runs in one transaction, so a failed
request changes nothing. Input that needs no database is checked before the transaction starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rehber import commands as c
from rehber.codes import Code, ServiceError
from rehber.service.text import (
    clean_email,
    clean_field_value,
    clean_name,
    normalize_gsm,
    search_needle,
    search_text,
)
from rehber.storage.repository import ContactRow, Repository
from rehber.storage.store import Store
from rehber.types import Account, BulkItemResult, Contact, FieldValue, Group

MAX_PAGE_SIZE = 1000
MAX_BULK = 10_000
# Longer than any stored search text (three 255-character fields and two number forms), so a
# longer key cannot match; sent to the database it would break SQLite's 50,000-byte LIKE
# pattern limit (a 503) or make PostgreSQL scan with a megabyte pattern.
MAX_SEARCH_KEY = 1024
MAX_OFFSET = 2**62


@dataclass(slots=True)
class CleanContact:
    """A contact's values after validation, ready to store (read-only by convention, not
    ``frozen``, for the reason given at ``ContactRow``)."""

    row: ContactRow
    fields: dict[int, str]
    groups: tuple[int, ...] | None


def build_tree(flat: Sequence[Group], root_ids: Iterable[int | None] = (None,)) -> list[Group]:
    """Nest a flat, id-ordered group list: the groups whose parent is in ``root_ids``.

    Iterative (groups nest to any depth, deeper than Python's recursion limit); leaves are
    reused as they are, only groups with children are rebuilt, children before parents.
    """
    by_parent: dict[int | None, list[Group]] = {}
    for g in flat:
        siblings = by_parent.get(g.parent)
        if siblings is None:
            by_parent[g.parent] = [g]
        else:
            siblings.append(g)
    roots = [g for parent in root_ids for g in by_parent.get(parent, ())]
    # The groups that have children, each before its descendants (pre-order).
    parents: list[Group] = []
    stack = list(roots)
    while stack:
        group = stack.pop()
        kids = by_parent.get(group.id)
        if kids:
            parents.append(group)
            stack.extend(kids)
    built: dict[int, Group] = {}
    for group in reversed(parents):
        children = tuple([built.get(k.id, k) for k in by_parent[group.id]])
        built[group.id] = Group(group.id, group.name, group.count, group.parent, children)
    return [built.get(g.id, g) for g in roots]


def _paging(page: int | None, row_count: int | None) -> tuple[int, int]:
    """``(limit, offset)``: page from 1 (464), rowCount 1..1000, larger values clamped (422)."""
    page = 1 if page is None else page
    if page < 1:
        raise ServiceError(Code.INVALID_PAGE)
    size = MAX_PAGE_SIZE if row_count is None else row_count
    if size < 1:
        raise ServiceError(Code.VALIDATION, "rowCount below 1")
    size = min(size, MAX_PAGE_SIZE)
    # A page that far out is past the end of any table; the cap keeps the offset a 64-bit
    # integer (beyond it the drivers raise OverflowError / "bigint out of range": a 503).
    return size, min((page - 1) * size, MAX_OFFSET)


def _required_group_id(group_id: int | None) -> int:
    if group_id is None:
        raise ServiceError(Code.GROUP_ID_REQUIRED)
    return group_id


def _required_contact_id(contact_id: int | None) -> int:
    if contact_id is None:
        raise ServiceError(Code.VALIDATION, "contact id required")
    return contact_id


def _group_name(name: str | None) -> str:
    text = clean_name(name)
    if not text:
        raise ServiceError(Code.GROUP_NAME_REQUIRED)
    return text


def _valid_field_values(values: Iterable[FieldValue]) -> dict[int, str]:
    """Custom-field values by id (the last one wins for a repeated id)."""
    return {f.id: clean_field_value(f.value) for f in values}


def clean_contact(fields: c.ContactFields, base: ContactRow | None = None) -> CleanContact:
    """Validate a contact's values; with ``base`` (edit), absent scalars keep the stored value."""

    if base is None:
        name_raw, surname_raw = fields.name, fields.surname
        email_raw, gsm_raw = fields.email, fields.gsm
    else:
        name_raw = base.name if fields.name is None else fields.name
        surname_raw = base.surname if fields.surname is None else fields.surname
        email_raw = base.email if fields.email is None else fields.email
        gsm_raw = base.gsm if fields.gsm is None else fields.gsm
    name = clean_name(name_raw)
    surname = clean_name(surname_raw)
    if not (name or surname or (email_raw or "").strip() or (gsm_raw or "").strip()):
        raise ServiceError(Code.EMPTY_CONTACT)
    email = clean_email(email_raw)
    gsm = normalize_gsm(gsm_raw)
    row = ContactRow(name, surname, email, gsm, search_text(name, surname, email, gsm))
    values = _valid_field_values(fields.custom_fields) if fields.custom_fields else {}
    return CleanContact(row, values, _unique(fields.groups))


def clean_contacts(
    items: Iterable[c.ContactFields | ServiceError],
) -> list[CleanContact | ServiceError]:
    """Each bulk item validated on its own: a bad one becomes its error, the rest go on."""
    cleaned: list[CleanContact | ServiceError] = []
    for item in items:
        if isinstance(item, ServiceError):
            cleaned.append(item)
            continue
        try:
            cleaned.append(clean_contact(item))
        except ServiceError as exc:
            cleaned.append(exc)
    return cleaned


def _unique(ids: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if ids is None else tuple(dict.fromkeys(ids))


def _check_references(repo: Repository, account: Account, contact: CleanContact) -> None:
    """Unknown custom-field ids -> 473, unknown group ids -> 463."""
    if contact.fields and repo.existing_field_ids(account.id, contact.fields) != set(
        contact.fields
    ):
        raise ServiceError(Code.CUSTOM_FIELD_NOT_FOUND)
    if contact.groups and repo.existing_group_ids(account.id, contact.groups) != set(
        contact.groups
    ):
        raise ServiceError(Code.GROUP_NOT_FOUND)


class Backend:
    """The address book of every account, on one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- groups ------------------------------------------------------------------------

    def get_groups(self, account: Account, _cmd: c.GetGroups) -> tuple[Group, ...]:
        return tuple(build_tree(self.store.read(lambda r: r.list_groups(account.id))))

    def get_group(self, account: Account, cmd: c.GetGroup) -> Group:
        group_id = _required_group_id(cmd.id)
        subtree = self.store.read(lambda r: r.group_subtree(account.id, group_id))
        root = next((g for g in subtree if g.id == group_id), None)
        if root is None:
            raise ServiceError(Code.GROUP_NOT_FOUND)
        # The subtree holds the group and its descendants only: its one root is the group.
        return build_tree(subtree, (root.parent,))[0]

    def add_group(self, account: Account, cmd: c.AddGroup) -> Group:
        name = _group_name(cmd.name)

        def work(repo: Repository) -> Group:
            if cmd.parent is not None and repo.get_group(account.id, cmd.parent) is None:
                raise ServiceError(Code.GROUP_NOT_FOUND, "parent")
            new_id = repo.insert_group(account.id, name, cmd.parent)
            return Group(id=new_id, name=name, parent=cmd.parent)

        return self.store.write(work)

    def edit_group(self, account: Account, cmd: c.EditGroup) -> Group:
        group_id = _required_group_id(cmd.id)
        name = _group_name(cmd.name)

        def work(repo: Repository) -> Group:
            if cmd.parent is not c.MISSING:  # a move: check the tree as no other move sees it
                repo.lock_group_tree(account.id)
            current = repo.get_group(account.id, group_id)
            if current is None:
                raise ServiceError(Code.GROUP_NOT_FOUND)
            parent = current.parent if cmd.parent is c.MISSING else cmd.parent
            if parent is not None and parent != current.parent:
                if repo.get_group(account.id, parent) is None:
                    raise ServiceError(Code.GROUP_NOT_FOUND, "parent")
                if group_id in repo.ancestor_ids(account.id, parent):
                    raise ServiceError(Code.GROUP_NOT_FOUND, "parent would be a descendant")
            repo.update_group(account.id, group_id, name, parent)
            return Group(id=group_id, name=name, count=current.count, parent=parent)

        return self.store.write(work)

    def delete_group(self, account: Account, cmd: c.DeleteGroup) -> None:
        group_id = _required_group_id(cmd.id)

        def work(repo: Repository) -> None:
            if repo.get_group(account.id, group_id) is None:
                raise ServiceError(Code.GROUP_NOT_FOUND)
            repo.delete_group(account.id, group_id)

        self.store.write(work)

    def get_group_contacts(self, account: Account, cmd: c.GetGroupContacts) -> tuple[Contact, ...]:
        group_id = _required_group_id(cmd.id)
        limit, offset = _paging(cmd.page, cmd.row_count)

        def work(repo: Repository) -> tuple[Contact, ...]:
            if repo.get_group(account.id, group_id) is None:
                raise ServiceError(Code.GROUP_NOT_FOUND)
            return tuple(repo.group_contacts_page(account.id, group_id, limit, offset))

        return _non_empty(self.store.read(work))

    def subscribe_group(self, account: Account, cmd: c.SubscribeGroup) -> None:
        self._change_membership(account, cmd.group_ids, cmd.contact_ids, add=True)

    def unsubscribe_group(self, account: Account, cmd: c.UnsubscribeGroup) -> None:
        self._change_membership(account, cmd.group_ids, cmd.contact_ids, add=False)

    def _change_membership(
        self, account: Account, group_ids: Sequence[int], contact_ids: Sequence[int], *, add: bool
    ) -> None:
        if not group_ids:
            raise ServiceError(Code.GROUP_ID_REQUIRED)
        if not contact_ids:
            raise ServiceError(Code.VALIDATION, "no contact ids")
        wanted_groups, wanted_contacts = set(group_ids), set(contact_ids)

        def work(repo: Repository) -> None:
            if repo.existing_group_ids(account.id, wanted_groups) != wanted_groups:
                raise ServiceError(Code.GROUP_NOT_FOUND)
            if repo.existing_contact_ids(account.id, wanted_contacts) != wanted_contacts:
                raise ServiceError(Code.CONTACT_NOT_FOUND)
            pairs = [(g, ct) for g in wanted_groups for ct in wanted_contacts]
            if add:
                repo.add_memberships(account.id, pairs)
            else:
                repo.remove_memberships(account.id, pairs)

        self.store.write(work)

    # -- contacts ----------------------------------------------------------------------

    def get_contact(self, account: Account, cmd: c.GetContact) -> Contact:
        contact_id = _required_contact_id(cmd.id)
        found = self.store.read(lambda r: r.get_contacts(account.id, [contact_id]))
        if not found:
            raise ServiceError(Code.CONTACT_NOT_FOUND)
        return found[0]

    def add_contact(self, account: Account, cmd: c.AddContact) -> Contact:
        contact = clean_contact(cmd.contact)

        def work(repo: Repository) -> Contact:
            _check_references(repo, account, contact)
            contact_id = self._store_new(repo, account, [contact])[0]
            if account.duplicate_gsm == "merge":  # may have updated an older contact
                return repo.get_contacts(account.id, [contact_id])[0]
            return _as_stored(contact_id, contact)

        return self.store.write(work)

    def edit_contact(self, account: Account, cmd: c.EditContact) -> Contact:
        contact_id = _required_contact_id(cmd.id)

        def work(repo: Repository) -> Contact:
            base = repo.contact_row(account.id, contact_id)
            if base is None:
                raise ServiceError(Code.CONTACT_NOT_FOUND)
            contact = clean_contact(cmd.changes, base)
            _check_references(repo, account, contact)
            self._apply(repo, account, contact_id, contact, replace_groups=True)
            return repo.get_contacts(account.id, [contact_id])[0]

        return self.store.write(work)

    def delete_contact(self, account: Account, cmd: c.DeleteContact) -> None:
        self.delete_contacts(account, c.DeleteContacts(ids=(_required_contact_id(cmd.id),)))

    def delete_contacts(self, account: Account, cmd: c.DeleteContacts) -> None:
        if not cmd.ids:
            raise ServiceError(Code.VALIDATION, "no contact ids")
        wanted = set(cmd.ids)

        def work(repo: Repository) -> None:
            if repo.existing_contact_ids(account.id, wanted) != wanted:
                raise ServiceError(Code.CONTACT_NOT_FOUND)
            repo.delete_contacts(account.id, sorted(wanted))

        self.store.write(work)

    def search_contacts(self, account: Account, cmd: c.SearchContacts) -> tuple[Contact, ...]:
        needle = search_needle(cmd.key)
        limit, offset = _paging(cmd.page, cmd.row_count)
        if len(needle) > MAX_SEARCH_KEY:
            raise ServiceError(Code.CONTACT_NOT_FOUND)
        found = self.store.read(lambda r: r.search_page(account.id, needle, limit, offset))
        return _non_empty(tuple(found))

    def add_contacts(self, account: Account, cmd: c.AddContacts) -> tuple[BulkItemResult, ...]:
        if len(cmd.items) > MAX_BULK:
            raise ServiceError(Code.VALIDATION, "more than 10,000 contacts")
        cleaned = clean_contacts(cmd.items)
        return self.store.write(lambda repo: self.add_clean_contacts(repo, account, cleaned))

    def add_clean_contacts(
        self, repo: Repository, account: Account, items: Sequence[CleanContact | ServiceError]
    ) -> tuple[BulkItemResult, ...]:
        """The write half of :meth:`add_contacts`, inside the caller's transaction: valid items
        are stored, and each error is answered in its item's place."""
        valid = [i for i in items if isinstance(i, CleanContact)]
        fields = {f for i in valid for f in i.fields}
        groups = {g for i in valid for g in i.groups or ()}
        known_fields = repo.existing_field_ids(account.id, fields)
        known_groups = repo.existing_group_ids(account.id, groups)
        checked = items
        if known_fields != fields or known_groups != groups:  # some item names an unknown id
            checked = [_with_known_references(i, known_fields, known_groups) for i in items]
            valid = [i for i in checked if isinstance(i, CleanContact)]
        ids = iter(self._store_new(repo, account, valid))
        return tuple(
            BulkItemResult(i.code)
            if isinstance(i, ServiceError)
            else BulkItemResult(Code.OK, next(ids), i.row.gsm)
            for i in checked
        )

    def _store_new(
        self, repo: Repository, account: Account, contacts: Sequence[CleanContact]
    ) -> list[int]:
        """Store new contacts (or merge into an existing number); returns ids in input order."""
        if account.duplicate_gsm == "merge":
            return [self._merge_or_insert(repo, account, ct) for ct in contacts]
        return self._insert(repo, account, contacts)

    def _insert(
        self, repo: Repository, account: Account, contacts: Sequence[CleanContact]
    ) -> list[int]:
        ids = repo.insert_contacts(account.id, [ct.row for ct in contacts])
        pairs = list(zip(ids, contacts, strict=True))
        repo.insert_field_values(
            account.id, [(cid, f, v) for cid, ct in pairs for f, v in ct.fields.items() if v]
        )
        repo.add_memberships(
            account.id, [(g, cid) for cid, ct in pairs for g in ct.groups or ()], new_contacts=True
        )
        return ids

    def _merge_or_insert(self, repo: Repository, account: Account, contact: CleanContact) -> int:
        """``duplicate_gsm = merge``: a known number updates that contact instead.

        Non-empty new values replace stored ones, custom fields are upserted, groups are added.
        """
        gsm = contact.row.gsm
        existing = repo.find_contact_by_gsm(account.id, gsm) if gsm else None
        old = repo.contact_row(account.id, existing) if existing is not None else None
        if existing is None or old is None:
            return self._insert(repo, account, [contact])[0]
        new = contact.row
        name, surname, email = (
            new.name or old.name,
            new.surname or old.surname,
            new.email or old.email,
        )
        row = ContactRow(name, surname, email, gsm, search_text(name, surname, email, gsm))
        merged = CleanContact(row=row, fields=contact.fields, groups=contact.groups)
        self._apply(repo, account, existing, merged, replace_groups=False)
        return existing

    def _apply(
        self,
        repo: Repository,
        account: Account,
        contact_id: int,
        contact: CleanContact,
        *,
        replace_groups: bool,
    ) -> None:
        """Write scalars, upsert custom fields, and set (edit) or extend (merge) memberships."""
        repo.update_contact(account.id, contact_id, contact.row)
        repo.set_field_values(account.id, contact_id, contact.fields)
        if contact.groups is None:
            return
        wanted = set(contact.groups)
        current = set(repo.group_ids_of(account.id, contact_id))
        if replace_groups:
            repo.remove_memberships(account.id, [(g, contact_id) for g in current - wanted])
        repo.add_memberships(account.id, [(g, contact_id) for g in wanted - current])


def _with_known_references(
    item: CleanContact | ServiceError, known_fields: set[int], known_groups: set[int]
) -> CleanContact | ServiceError:
    """An item of add-contacts, or 473 / 463 when it names an unknown custom field / group."""
    if isinstance(item, ServiceError):
        return item
    if not known_fields.issuperset(item.fields):
        return ServiceError(Code.CUSTOM_FIELD_NOT_FOUND)
    if not known_groups.issuperset(item.groups or ()):
        return ServiceError(Code.GROUP_NOT_FOUND)
    return item


def _as_stored(contact_id: int, contact: CleanContact) -> Contact:
    """A newly inserted contact as a read would return it (fields and groups by id)."""
    row = contact.row
    return Contact(
        id=contact_id,
        name=row.name,
        surname=row.surname,
        email=row.email,
        gsm=row.gsm,
        custom_fields=tuple(FieldValue(f, v) for f, v in sorted(contact.fields.items()) if v),
        groups=tuple(sorted(set(contact.groups or ()))),
    )


def _non_empty(found: tuple[Contact, ...]) -> tuple[Contact, ...]:
    """An empty page (no members, past the end, no hits) is 465, as the vendor answers."""
    if not found:
        raise ServiceError(Code.CONTACT_NOT_FOUND)
    return found
