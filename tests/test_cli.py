"""The operator CLI against real databases: accounts, keys, fields, migrations."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from rehber.cli.main import main
from rehber.credentials import derive_hash
from rehber.server.app import create_app
from rehber.storage.engine import create_engine
from rehber.storage.migrate import current_revision, head_revision
from tests.conftest import Database
from tests.support.api import Api


def run(database: Database, *args: str) -> str:
    extra = ["--database", database.url] + (
        ["--schema", database.schema] if database.schema else []
    )
    result = CliRunner().invoke(main, [*args, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # The answer is stdout alone: click's output also holds stderr, where an app of another
    # test in this process may flush its buffered access log meanwhile.
    return result.stdout


def fail(database: Database, *args: str) -> str:
    extra = ["--database", database.url] + (
        ["--schema", database.schema] if database.schema else []
    )
    result = CliRunner().invoke(main, [*args, *extra])
    assert result.exit_code != 0
    return result.output


def api_for(database: Database, key: str, hash_value: str, client: TestClient) -> Api:
    return Api(client, key, hash_value, "json")


def test_accounts_create_prints_working_credentials(database: Database) -> None:
    created = json.loads(run(database, "accounts", "create", "Acme", "--json"))
    assert set(created) == {"account_id", "key", "secret", "hash"}
    assert len(created["key"]) == 32
    assert created["hash"] == derive_hash(created["key"], created["secret"])
    with TestClient(create_app(database.settings())) as client:
        api = api_for(database, created["key"], created["hash"], client)
        assert api.call("get-groups").code == 200


def test_keys_create_import_revoke_list(database: Database) -> None:
    account = json.loads(run(database, "accounts", "create", "Acme", "--json"))["account_id"]
    second = json.loads(run(database, "keys", "create", "--account", str(account), "--json"))
    imported = json.loads(
        run(
            database,
            "keys",
            "import",
            "--account",
            str(account),
            "--key",
            "K-import",
            "--hash",
            "ABCDEF",
            "--json",
        )
    )
    assert imported == {"account_id": account, "key": "K-import"}
    listed = json.loads(run(database, "keys", "list", "--account", str(account), "--json"))
    assert [k["key"] for k in listed][1:] == [second["key"], "K-import"]
    assert all("hash" not in k and "secret" not in k for k in listed)
    # A revocation by another process reaches a running server within its key-cache time
    # (tests/e2e/test_key_cache.py); with the cache off, on the very next request.
    with TestClient(create_app(database.settings(key_cache_seconds=0))) as client:
        assert api_for(database, "K-import", "abcdef", client).call("get-groups").code == 200
        run(database, "keys", "revoke", "--account", str(account), "--key", "K-import")
        assert api_for(database, "K-import", "abcdef", client).call("get-groups").code == 401
        assert (
            api_for(database, second["key"], second["hash"], client).call("get-groups").code == 200
        )
    listed = json.loads(run(database, "keys", "list", "--account", str(account), "--json"))
    assert [k["revoked_at"] is not None for k in listed] == [False, False, True]


def test_key_errors_are_one_line(database: Database) -> None:
    account = json.loads(run(database, "accounts", "create", "Acme", "--json"))["account_id"]
    run(database, "keys", "import", "--account", str(account), "--key", "dup", "--hash", "aa")
    assert "already registered" in fail(
        database, "keys", "import", "--account", str(account), "--key", "dup", "--hash", "bb"
    )
    assert "no account" in fail(database, "keys", "create", "--account", "424242")
    assert "no such active key" in fail(
        database, "keys", "revoke", "--account", str(account), "--key", "nope"
    )


def test_fields_create_and_list(database: Database) -> None:
    account = json.loads(run(database, "accounts", "create", "Acme", "--json"))
    first = json.loads(
        run(
            database,
            "fields",
            "create",
            "Doğum tarihi",
            "--account",
            str(account["account_id"]),
            "--json",
        )
    )
    assert first["name"] == "Doğum tarihi"
    run(database, "fields", "create", "Segment", "--account", str(account["account_id"]))
    listed = json.loads(
        run(database, "fields", "list", "--account", str(account["account_id"]), "--json")
    )
    assert [f["name"] for f in listed] == ["Doğum tarihi", "Segment"]
    with TestClient(create_app(database.settings())) as client:
        api = api_for(database, account["key"], account["hash"], client)
        contact = api.ok(
            "add-contact",
            {"contact": {"name": "A", "custom_fields": [{"id": first["id"], "value": "1990"}]}},
        )
        assert contact.contact()["custom_fields"] == [{"id": first["id"], "value": "1990"}]


def test_accounts_configure_legacy_generation(database: Database) -> None:
    account = json.loads(run(database, "accounts", "create", "Acme", "--json"))
    out = json.loads(
        run(
            database,
            "accounts",
            "configure",
            "--account",
            str(account["account_id"]),
            "--wire-generation",
            "legacy",
            "--json",
        )
    )
    assert out["wire_generation"] == "legacy"
    with TestClient(create_app(database.settings())) as client:
        api = api_for(database, account["key"], account["hash"], client)
        api.add_group("A")
        assert isinstance(api.ok("get-groups").data["groups"], dict)  # legacy: {"group": [...]}


def test_db_upgrade_creates_a_fresh_sqlite_database(tmp_path: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    result = CliRunner().invoke(main, ["db", "upgrade", "--database", url])
    assert result.exit_code == 0, result.output
    engine = create_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()
