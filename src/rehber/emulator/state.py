"""What emulator mode keeps: the journal, the faults, and the id rule; plus the operations on
accounts and data that the control API exposes (create, reset, deterministic ids).

Everything here lives in the memory of one server process: ``rehber serve --emulator`` runs
one worker, so every request sees the same journal and faults.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from rehber.credentials import hash_digest, new_key_pair
from rehber.emulator.errors import ControlError
from rehber.emulator.faults import FaultBook
from rehber.emulator.journal import Journal
from rehber.service.accounts import AccountService
from rehber.service.text import clean_name
from rehber.storage.anchors import PageAnchors
from rehber.storage.repository import Repository
from rehber.storage.store import Store

logger = logging.getLogger("rehber.emulator")

# The ids the vendor API shows; --id-start N makes each of them start at N independently.
# Account ids never reach the vendor wire and number from 1 (SQLite keeps no sequence for them).
SEQUENCES = ("custom_fields", "groups", "contacts")


@dataclass(frozen=True, slots=True)
class AccountRequest:
    """``POST /_rehber/accounts``: all optional; ``key`` + ``hash`` import existing credentials."""

    name: str = "emulator"
    wire_generation: str | None = None
    duplicate_gsm: str | None = None
    key: str | None = None
    hash: str | None = None


@dataclass(slots=True)
class Emulator:
    """The emulator of one server process."""

    store: Store
    accounts: AccountService
    id_start: int | None = None
    journal: Journal = field(default_factory=Journal)
    faults: FaultBook = field(default_factory=FaultBook)

    # -- ids --------------------------------------------------------------------------------

    def apply_id_start(self) -> None:
        """On an empty database, make every sequence start at ``id_start``; else say why not."""
        if self.id_start is None:
            return
        start = self.id_start

        def work(repo: Repository) -> bool:
            if repo.list_accounts():
                return False
            repo.set_next_ids(**dict.fromkeys(SEQUENCES, start))
            return True

        if not self.store.write(work):
            logger.warning(
                "--id-start %d ignored: the database already holds accounts "
                '(POST /_rehber/reset {"all": true} empties it and restarts ids at %d)',
                start,
                start,
            )

    # -- accounts ---------------------------------------------------------------------------

    def create_account(self, wanted: AccountRequest) -> dict[str, Any]:
        """A new account with one key (generated, or the imported ``key`` + ``hash``)."""
        pair = new_key_pair()
        key, hash_value = (
            (wanted.key, wanted.hash)
            if wanted.key and wanted.hash
            else (
                pair.key,
                pair.hash,
            )
        )
        secret = pair.secret if key == pair.key else None

        def work(repo: Repository) -> dict[str, Any]:
            if repo.key_exists(key):
                raise ControlError(409, "that key is already registered")
            account = repo.create_account(
                clean_name(wanted.name) or "emulator", wire_generation=wanted.wire_generation
            )
            if wanted.duplicate_gsm is not None:
                repo.update_account(account.id, duplicate_gsm=wanted.duplicate_gsm)
            repo.add_key(account.id, key, hash_digest(hash_value))
            return {
                "account_id": account.id,
                "name": account.name,
                "key": key,
                "secret": secret,
                "hash": hash_value,
                "wire_generation": wanted.wire_generation or self.accounts.default_generation,
                "duplicate_gsm": wanted.duplicate_gsm or "allow",
            }

        return self.store.write(work)

    def require_account(self, account_id: int) -> None:
        if self.store.read(lambda r: r.get_account(account_id)) is None:
            raise ControlError(404, f"no account {account_id}")

    # -- reset ------------------------------------------------------------------------------

    def reset_account(self, account_id: int) -> None:
        """Empty one account's address book and forget its journal entries and faults; the
        account, its keys and settings stay, so the test's credentials keep working."""

        def work(repo: Repository) -> None:
            if repo.get_account(account_id) is None:
                raise ControlError(404, f"no account {account_id}")
            repo.delete_account_data(account_id)

        self.store.write(work)
        self._forget_pages()
        self.journal.clear(account_id)
        self.faults.clear(account_id=account_id)

    def reset_all(self) -> int:
        """Back to a fresh database: no accounts, ids from ``id_start`` (or 1) again, empty
        journal, no faults. Returns the first id the sequences hand out next."""
        start = self.id_start or 1

        def work(repo: Repository) -> None:
            repo.delete_all_accounts()
            repo.set_next_ids(accounts=1, api_keys=1, **dict.fromkeys(SEQUENCES, start))

        self.store.write(work)
        self._forget_pages()
        self.journal.clear()
        self.faults.clear()
        return start

    def _forget_pages(self) -> None:
        """Reset can make a group id and its membership version recur: drop cached pages."""
        self.store.anchors = PageAnchors()
