"""The key cache (service/accounts.py ``KeyCache``): what it may and may not change.

A worker remembers keys it has found valid so that most requests skip the key lookup. The
presented hash is still checked on every request; a change made in the same process takes
effect on the next request; a change made by another process takes effect within
``key_cache_seconds``. The clock is injected, so no test waits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from rehber.server.app import Services, build_services, create_app
from rehber.service.accounts import AccountService
from tests.conftest import Database
from tests.support.api import Api


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _with_cache(services: Services, seconds: float, clock: FakeClock) -> Services:
    accounts = AccountService(services.store, key_cache_seconds=seconds, clock=clock)
    return replace(services, accounts=accounts)


@pytest.fixture
def worker(database: Database, clock: FakeClock) -> Iterator[Services]:
    """The serving process: a key cache of 1 second on a fake clock."""
    built = build_services(database.settings())
    yield _with_cache(built, 1.0, clock)
    built.store.dispose()


@pytest.fixture
def operator(services: Services) -> Services:
    """Another process on the same database (``rehber keys revoke``, another worker): the
    suite's own services, a store apart from the worker's."""
    return services


@contextmanager
def _api(services: Services, key: str, hash_value: str) -> Iterator[Api]:
    with TestClient(create_app(services=services)) as client:
        yield Api(client, key, hash_value, "json")


def _status(api: Api) -> int:
    return api.call("get-groups").code


def test_a_cached_key_still_needs_its_hash(worker: Services) -> None:
    new = worker.accounts.create_account("a")
    with _api(worker, new.credentials.key, new.credentials.hash) as api:
        assert _status(api) == 200  # now cached
        assert _status(api.as_other(api.key, "0" * 64)) == 401
        assert _status(api.as_other(api.key, "")) == 401
        assert _status(api) == 200


def test_a_key_revoked_in_this_process_fails_on_the_next_request(worker: Services) -> None:
    new = worker.accounts.create_account("a")
    with _api(worker, new.credentials.key, new.credentials.hash) as api:
        assert _status(api) == 200
        worker.accounts.revoke_key(new.account.id, api.key)
        assert _status(api) == 401


def test_writes_to_the_address_book_keep_the_cache(worker: Services) -> None:
    new = worker.accounts.create_account("a")
    with _api(worker, new.credentials.key, new.credentials.hash) as api:
        assert _status(api) == 200
        assert worker.accounts.keys.get(api.key) is not None
        group = api.add_group("x")
        api.add_contact(name="Ayşe", groups=[group])
        assert worker.accounts.keys.get(api.key) is not None


CREDENTIAL_CHANGES: dict[str, Callable[[Services, int], object]] = {
    "revoke another key": lambda s, account: s.accounts.revoke_key(
        account, s.accounts.create_key(account).key
    ),
    "create a key": lambda s, account: s.accounts.create_key(account),
    "import a key": lambda s, account: s.accounts.import_key(account, "K-new", "H-new"),
    "configure the account": lambda s, account: s.accounts.configure(
        account, duplicate_gsm="merge"
    ),
    "create an account": lambda s, account: s.accounts.create_account("b"),
    "reset every account": lambda s, account: s.store.write(
        lambda repo: repo.delete_all_accounts()
    ),
}


@pytest.mark.parametrize("change", sorted(CREDENTIAL_CHANGES))
def test_every_change_to_accounts_or_keys_in_this_process_drops_the_cache(
    worker: Services, change: str
) -> None:
    new = worker.accounts.create_account("a")
    with _api(worker, new.credentials.key, new.credentials.hash) as api:
        assert _status(api) == 200
        assert worker.accounts.keys.get(api.key) is not None
        CREDENTIAL_CHANGES[change](worker, new.account.id)
        assert worker.accounts.keys.get(api.key) is None
        expected = 401 if change == "reset every account" else 200
        assert _status(api) == expected


def test_another_process_revoking_takes_effect_within_the_cache_time(
    worker: Services, operator: Services, clock: FakeClock
) -> None:
    new = worker.accounts.create_account("a")
    with _api(worker, new.credentials.key, new.credentials.hash) as api:
        assert _status(api) == 200
        operator.accounts.revoke_key(new.account.id, api.key)
        clock.now += 0.5
        assert _status(api) == 200  # the documented window: at most key_cache_seconds
        clock.now += 0.5
        assert _status(api) == 401
        clock.now += 10
        assert _status(api) == 401  # revoked keys are never cached


def test_another_process_reconfiguring_takes_effect_within_the_cache_time(
    worker: Services, operator: Services, clock: FakeClock
) -> None:
    new = worker.accounts.create_account("a")
    with _api(worker, new.credentials.key, new.credentials.hash) as api:
        assert _status(api) == 200
        operator.accounts.configure(new.account.id, wire_generation="legacy")
        clock.now += 0.5
        assert worker.accounts.authenticate(api.key, api.hash).wire_generation == "current"
        clock.now += 0.5
        assert worker.accounts.authenticate(api.key, api.hash).wire_generation == "legacy"


def test_without_the_cache_another_process_revoking_takes_effect_at_once(
    database: Database, operator: Services, clock: FakeClock
) -> None:
    built = build_services(database.settings(key_cache_seconds=0.0))
    try:
        assert built.accounts.keys.seconds == 0.0
        new = built.accounts.create_account("a")
        with _api(built, new.credentials.key, new.credentials.hash) as api:
            assert _status(api) == 200
            operator.accounts.revoke_key(new.account.id, api.key)
            assert _status(api) == 401
    finally:
        built.store.dispose()


def test_unknown_keys_are_not_cached(worker: Services, operator: Services) -> None:
    new = worker.accounts.create_account("a")
    with _api(worker, new.credentials.key, new.credentials.hash) as api:
        imported = api.as_other("K-later", "H-later")
        assert _status(imported) == 401
        operator.accounts.import_key(new.account.id, "K-later", "H-later")
        assert _status(imported) == 200
