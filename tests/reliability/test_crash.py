"""Crash safety: ``kill -9`` the server in the middle of a big write, restart, check.

Two writes, each on SQLite and PostgreSQL: a 10,000-contact add-contacts (every contact in
three groups, with a custom-field value) and a delete-group whose group has 300 descendants
and 60,000 memberships. The request is sent from a thread; the test waits until the
database shows the server inside that request's write transaction, and then kills it:

* SQLite: the write lock is held (a probe's ``BEGIN IMMEDIATE`` finds the database locked,
  and nothing else in the server writes at that moment) and the write-ahead log, emptied
  before the server started, has grown: the transaction's pages are spilling into it;
* PostgreSQL: the server's backend (tagged with its own ``application_name``) has a
  transaction id, i.e. has written rows; after the kill, the test waits for that backend
  to be gone before looking.

After a restart on the same database the request's effects must be all absent (the kill
landed before the commit), the database must pass its integrity checks (SQLite:
``integrity_check`` and ``foreign_key_check``; PostgreSQL: no dangling references), every
group's count must equal its true member count, and the server must take writes again.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from rehber.server.app import Services
from rehber.service.text import search_text
from rehber.storage.repository import ContactRow, Repository
from tests.conftest import Database
from tests.support.api import Api
from tests.support.server import free_port

# Load-heavy tests share one xdist worker, so the speed bounds of the hostile-input test are
# never measured while a concurrency or crash test saturates the other core.
pytestmark = pytest.mark.xdist_group("heavy")

BULK = 10_000
DESCENDANTS = 300
MEMBERS = 20_000
SECONDS = 60


@contextmanager
def server(
    database: Database, url: str, log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``rehber serve`` with one worker (the process that does the work is the one killed)."""
    port = free_port()
    args = [sys.executable, "-m", "rehber.cli", "serve", "--port", str(port), "--database", url]
    if database.schema:
        args += ["--schema", database.schema]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHBER_")}
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: _healthy(base, process), "server healthy")
        yield process, base
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def _healthy(base: str, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, f"rehber serve exited with {process.returncode}"
    try:
        response = httpx.get(f"{base}/_rehber/health", timeout=1)
    except httpx.TransportError:
        return False
    return response.status_code == 200 and response.json()["search_backlog"] == 0


def _until(condition: Callable[[], bool], what: str, seconds: float = SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(0.001)  # polling interval


class Probe:
    """Tells whether the server is inside a write transaction that has written rows."""

    def __init__(self, database: Database, services: Services, app: str) -> None:
        self.database = database
        self.services = services
        self.app = app
        self.path = database.url.removeprefix("sqlite:///")
        self.wal_before = 0

    def request_sent(self) -> None:
        if self.database.kind == "sqlite":
            self.wal_before = os.path.getsize(self.path + "-wal")

    def in_write_transaction(self) -> bool:
        if self.database.kind == "postgresql":  # a transaction id: it has written rows
            return self._backends("backend_xid IS NOT NULL") > 0
        # The write lock is held and the write-ahead log has grown: the transaction's pages
        # are spilling into the log, i.e. rows are being written and not yet committed.
        conn = sqlite3.connect(self.path, timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.rollback()
            return False
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc) or "busy" in str(exc), exc
            return os.path.getsize(self.path + "-wal") > self.wal_before
        finally:
            conn.close()

    def server_backends_gone(self) -> bool:
        return self.database.kind == "sqlite" or self._backends("true") == 0

    def _backends(self, condition: str) -> int:
        with self.services.store.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        f"WHERE application_name = :app AND {condition}"
                    ),
                    {"app": self.app},
                ).scalar_one()
            )


def _log_emptied(path: str) -> bool:
    """Truncate the write-ahead log; False while another checkpoint (the seeding store's
    checkpointer thread) keeps it from being emptied."""
    conn = sqlite3.connect(path)
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        conn.close()
    return busy == 0 and os.path.getsize(path + "-wal") == 0


def _server_url(database: Database, app: str) -> str:
    return database.url if database.kind == "sqlite" else f"{database.url}?application_name={app}"


def _kill_mid_request(
    database: Database,
    services: Services,
    tmp_path: Path,
    send: Callable[[str], Any],
    after_kill: Callable[[], None] = lambda: None,
) -> None:
    """Start the server, send (in a thread), kill -9 inside the write transaction."""
    if database.kind == "sqlite":  # an empty log, so that the transaction's growth shows
        _until(lambda: _log_emptied(database.url.removeprefix("sqlite:///")), "an empty log")
    app = f"rehber_crash_{uuid.uuid4().hex[:10]}"
    probe = Probe(database, services, app)
    with server(database, _server_url(database, app), tmp_path / "server.log") as (process, base):
        assert not probe.in_write_transaction()
        outcome: list[Any] = []

        def request() -> None:
            try:
                outcome.append(send(base))
            except httpx.TransportError as exc:
                outcome.append(exc)

        sender = threading.Thread(target=request)
        probe.request_sent()
        sender.start()
        _until(lambda: probe.in_write_transaction() or bool(outcome), "the write transaction")
        process.send_signal(signal.SIGKILL)
        process.wait()
        after_kill()
        sender.join()
        assert isinstance(outcome[0], httpx.TransportError), (
            f"the request finished before the kill: {outcome[0]!r}"
        )
        _until(probe.server_backends_gone, "the killed server's database sessions to end")


def _integrity(database: Database, services: Services) -> None:
    if database.kind == "sqlite":
        conn = sqlite3.connect(database.url.removeprefix("sqlite:///"))
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            conn.close()
    dangling = {
        "memberships without group": "SELECT count(*) FROM memberships m WHERE NOT EXISTS "
        "(SELECT 1 FROM groups g WHERE g.account_id = m.account_id AND g.id = m.group_id)",
        "memberships without contact": "SELECT count(*) FROM memberships m WHERE NOT EXISTS "
        "(SELECT 1 FROM contacts c WHERE c.account_id = m.account_id AND c.id = m.contact_id)",
        "field values without contact": "SELECT count(*) FROM contact_fields f WHERE NOT EXISTS "
        "(SELECT 1 FROM contacts c WHERE c.account_id = f.account_id AND c.id = f.contact_id)",
        "groups without parent": "SELECT count(*) FROM groups g WHERE g.parent_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM groups p WHERE p.account_id = g.account_id "
        "AND p.id = g.parent_id)",
        "wrong member counts": "SELECT count(*) FROM groups g WHERE g.member_count <> "
        "(SELECT count(*) FROM memberships m WHERE m.account_id = g.account_id "
        "AND m.group_id = g.id)",
    }
    with services.store.engine.connect() as conn:
        found = {
            name: conn.execute(sa.text(query)).scalar_one() for name, query in dangling.items()
        }
    assert found == dict.fromkeys(dangling, 0)


def _table_counts(services: Services) -> dict[str, int]:
    with services.store.engine.connect() as conn:
        return {
            table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("groups", "contacts", "contact_fields", "memberships")
        }


def _restarted_server_takes_writes(
    database: Database, api_key: tuple[str, str], tmp_path: Path
) -> None:
    with (
        server(database, database.url, tmp_path / "restart.log") as (_, base),
        httpx.Client(base_url=base) as http,
    ):
        api = Api(http, *api_key, "json")
        assert api.add_contact(name="Sonra", gsm="5321234567")["id"] > 0


@pytest.mark.slow
def test_kill_during_a_10000_contact_add_contacts(
    database: Database, services: Services, tmp_path: Path
) -> None:
    created = services.accounts.create_account("crash")
    account = created.account.id
    field = services.accounts.create_field(account, "Not").id
    groups = services.store.write(
        lambda repo: [repo.insert_group(account, f"G{i}", None) for i in range(3)]
    )
    contacts = [
        {
            "name": f"Kişi {i}",
            "surname": "Çöküş",
            "gsm": f"532{i:07d}",
            "custom_fields": [{"id": field, "value": f"değer {i}"}],
            "groups": groups,
        }
        for i in range(BULK)
    ]
    body = orjson.dumps(
        {
            "request": {
                "authentication": {
                    "key": created.credentials.key,
                    "hash": created.credentials.hash,
                },
                "contacts": {"contact": contacts},
            }
        }
    )
    before = _table_counts(services)

    def send(base: str) -> Any:
        return httpx.post(f"{base}/v1/add-contacts/json", content=body, timeout=SECONDS)

    _kill_mid_request(database, services, tmp_path, send)
    assert _table_counts(services) == before  # none of the 10,000 (nor their fields, groups)
    _integrity(database, services)
    _restarted_server_takes_writes(
        database, (created.credentials.key, created.credentials.hash), tmp_path
    )


@contextmanager
def _row_lock_in_the_way(
    database: Database, services: Services, account: int, group: int
) -> Iterator[Callable[[], None]]:
    """PostgreSQL: hold a lock on one membership of ``group`` until released, so the cascading
    delete waits inside its transaction (having deleted rows) until the server is killed.
    Without it a fast delete could commit between two looks of the probe. SQLite: nothing."""
    if database.kind != "postgresql":
        yield lambda: None
        return
    with services.store.engine.connect() as conn:
        locked = conn.execute(
            sa.text(
                "SELECT contact_id FROM memberships WHERE account_id = :account "
                "AND group_id = :group LIMIT 1 FOR UPDATE"
            ),
            {"account": account, "group": group},
        ).all()
        assert locked, "the group has no membership to lock"
        yield conn.rollback
        conn.rollback()


def _seed_tree(repo: Repository, account: int) -> tuple[int, list[int]]:
    """A group with DESCENDANTS sub-groups (50 levels deep) and MEMBERS contacts, each in
    three of them; returns the root and its descendants."""
    root = repo.insert_group(account, "Kök", None)
    tree: list[int] = []
    chain = root
    for i in range(DESCENDANTS):
        group = repo.insert_group(account, f"Alt {i}", chain)
        tree.append(group)
        if i % 6 == 0:  # every sixth goes one level deeper: 50 levels of 6 groups
            chain = group
    rows = [
        ContactRow(f"Üye {i}", "", "", "", search_text(f"Üye {i}", "", "", ""))
        for i in range(MEMBERS)
    ]
    ids = repo.insert_contacts(account, rows)
    pairs = [(tree[(i * k) % DESCENDANTS], cid) for i, cid in enumerate(ids) for k in (1, 3, 7)]
    repo.add_memberships(account, pairs, new_contacts=True)
    repo.index_pending(MEMBERS)
    return root, tree


@pytest.mark.slow
def test_kill_during_a_delete_group_with_descendants(
    database: Database, services: Services, tmp_path: Path
) -> None:
    created = services.accounts.create_account("crash")
    account = created.account.id
    root, tree = services.store.write(lambda repo: _seed_tree(repo, account))
    other = services.store.write(lambda repo: repo.insert_group(account, "Başka", None))
    before = _table_counts(services)
    assert before["groups"] == DESCENDANTS + 2 and before["memberships"] >= 2 * MEMBERS
    key = (created.credentials.key, created.credentials.hash)

    def send(base: str) -> Any:
        body = orjson.dumps(
            {
                "request": {
                    "authentication": dict(zip(("key", "hash"), key, strict=True)),
                    "group": {"id": root},
                }
            }
        )
        return httpx.post(f"{base}/v1/delete-group/json", content=body, timeout=SECONDS)

    with _row_lock_in_the_way(database, services, account, tree[-1]) as release:
        _kill_mid_request(database, services, tmp_path, send, after_kill=release)
    assert _table_counts(services) == before  # the whole subtree and its memberships
    _integrity(database, services)
    _restarted_server_takes_writes(database, key, tmp_path)
    stored = {g.id for g in services.store.read(lambda r: r.list_groups(account))}
    assert stored == {root, other, *tree}
