"""Accounts, API keys and custom-field definitions: the operator side of the product."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from rehber.codes import Code, ServiceError
from rehber.credentials import KeyPair, digest_matches, hash_digest, new_key_pair
from rehber.service.text import clean_name
from rehber.storage.repository import KeyRecord, Repository
from rehber.storage.store import Store
from rehber.types import Account, ApiKey, CustomField, WireGeneration

# Compared against when a key is unknown, so that unknown and wrong-hash keys cost the same.
_DUMMY_DIGEST = hash_digest("0" * 64)
# Default seconds a worker may go on trusting a key it has looked up (see KeyCache).
DEFAULT_KEY_CACHE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class NewAccount:
    account: Account
    credentials: KeyPair


class KeyCache:
    """Keys this process has found valid, so that most requests skip the key lookup.

    The lookup is a database statement on every request, as much as a point read itself. An
    entry holds the stored digest (the presented hash is still compared, in constant time, on
    every request) and is trusted while both hold:

    * this process has committed no change to accounts or keys since it was filled
      (``Store.credentials_epoch``): a key revoked or imported, an account created or
      reconfigured, or an emulator reset *in this process* takes effect on the very next
      request;
    * it is younger than ``seconds``: changes made by another process (``rehber keys revoke``,
      another worker) take effect within that time. ``seconds = 0`` turns the cache off.

    Unknown and revoked keys are never cached.
    """

    MAX_ENTRIES = 10_000

    def __init__(
        self, store: Store, seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.seconds = seconds
        self.clock = clock
        self.entries: dict[str, tuple[KeyRecord, float, int]] = {}

    def get(self, key: str) -> KeyRecord | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        record, expires, epoch = entry
        if epoch != self.store.credentials_epoch or self.clock() >= expires:
            self.entries.pop(key, None)
            return None
        return record

    def lookup(self, key: str) -> KeyRecord | None:
        """The stored record of ``key``, from the cache or the database."""
        record = self.get(key)
        if record is not None:
            return record
        # The epoch is read before the lookup: a write committed after it invalidates the
        # entry even if the lookup saw the state before that write.
        epoch = self.store.credentials_epoch
        record = self.store.read(lambda r: r.find_key(key))
        if record is not None and not record.revoked and self.seconds > 0:
            if len(self.entries) >= self.MAX_ENTRIES:
                self.entries.clear()
            self.entries[key] = (record, self.clock() + self.seconds, epoch)
        return record


class AccountService:
    """Creates accounts, issues, imports and revokes keys, and authenticates requests."""

    def __init__(
        self,
        store: Store,
        *,
        default_generation: WireGeneration = "current",
        key_cache_seconds: float = DEFAULT_KEY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.default_generation = default_generation
        self.keys = KeyCache(store, key_cache_seconds, clock=clock)

    def authenticate(self, key: str, hash_value: str) -> Account:
        """The account a key + hash pair belongs to; anything else -> 401."""
        # No stored key holds a NUL (PostgreSQL text cannot), so such a key is unknown; asking
        # PostgreSQL would fail the request with a DataError (503) instead of 401.
        known = key and "\x00" not in key
        record = self.keys.lookup(key) if known else None
        matches = digest_matches(hash_value, record.hash_digest if record else _DUMMY_DIGEST)
        if record is None or record.revoked or not matches or not hash_value:
            raise ServiceError(Code.UNAUTHORIZED)
        generation = record.generation_setting or self.default_generation
        if generation != record.account.wire_generation:
            return replace(record.account, wire_generation=generation)  # type: ignore[arg-type]
        return record.account

    def create_account(
        self, name: str, *, wire_generation: WireGeneration | None = None
    ) -> NewAccount:
        clean = clean_name(name) or "account"
        pair = new_key_pair()

        def work(repo: Repository) -> NewAccount:
            account = repo.create_account(clean, wire_generation=wire_generation)
            repo.add_key(account.id, pair.key, hash_digest(pair.hash))
            return NewAccount(account, pair)

        return self.store.write(work)

    def get_account(self, account_id: int) -> Account:
        account = self.store.read(lambda r: r.get_account(account_id))
        if account is None:
            raise LookupError(f"no account {account_id}")
        return account

    def list_accounts(self) -> list[Account]:
        return self.store.read(lambda r: r.list_accounts())

    def configure(
        self,
        account_id: int,
        *,
        wire_generation: WireGeneration | None = None,
        duplicate_gsm: str | None = None,
    ) -> Account:
        values: dict[str, str | None] = {}
        if wire_generation is not None:
            values["wire_generation"] = wire_generation
        if duplicate_gsm is not None:
            if duplicate_gsm not in ("allow", "merge"):
                raise ValueError("duplicate_gsm must be 'allow' or 'merge'")
            values["duplicate_gsm"] = duplicate_gsm
        self.get_account(account_id)
        self.store.write(lambda r: r.update_account(account_id, **values))
        return self.get_account(account_id)

    def create_key(self, account_id: int) -> KeyPair:
        pair = new_key_pair()
        self.get_account(account_id)
        self.store.write(lambda r: r.add_key(account_id, pair.key, hash_digest(pair.hash)))
        return pair

    def import_key(self, account_id: int, key: str, hash_value: str) -> ApiKey:
        """Accept an existing real-world (key, hash) pair, e.g. for an emulator."""
        key, hash_value = key.strip(), hash_value.strip()
        if not key or not hash_value:
            raise ValueError("both --key and --hash are required")
        self.get_account(account_id)

        def work(repo: Repository) -> ApiKey:
            if repo.key_exists(key):
                raise ValueError("that key is already registered")
            return repo.add_key(account_id, key, hash_digest(hash_value))

        return self.store.write(work)

    def revoke_key(self, account_id: int, key: str) -> None:
        if not self.store.write(lambda r: r.revoke_key(account_id, key)):
            raise LookupError("no such active key on that account")

    def list_keys(self, account_id: int) -> list[ApiKey]:
        self.get_account(account_id)
        return self.store.read(lambda r: r.list_keys(account_id))

    def create_field(
        self, account_id: int, name: str, *, field_id: int | None = None
    ) -> CustomField:
        clean = clean_name(name)
        if not clean:
            raise ValueError("a custom field needs a name")
        self.get_account(account_id)
        return self.store.write(lambda r: r.create_field(account_id, clean, field_id))

    def list_fields(self, account_id: int) -> list[CustomField]:
        self.get_account(account_id)
        return self.store.read(lambda r: r.list_fields(account_id))
