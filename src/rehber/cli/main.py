"""The ``rehber`` command: run the server and manage its database, accounts, keys and fields."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import click

from rehber import __version__
from rehber.server.settings import DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT
from rehber.service.accounts import DEFAULT_KEY_CACHE_SECONDS, AccountService
from rehber.storage.engine import DEFAULT_DATABASE_URL
from rehber.storage.migrate import upgrade
from rehber.storage.store import Store

F = TypeVar("F", bound=Callable[..., Any])

database_option = click.option(
    "--database",
    "database",
    envvar="REHBER_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="Database URL (sqlite:///path or postgresql://...). Env: REHBER_DATABASE_URL.",
)
schema_option = click.option(
    "--schema",
    envvar="REHBER_DATABASE_SCHEMA",
    default=None,
    help="PostgreSQL schema to use (search_path). Env: REHBER_DATABASE_SCHEMA.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
account_option = click.option(
    "--account", "account_id", type=int, required=True, help="Account id."
)


def _store(database: str, schema: str | None) -> Store:
    store = Store.from_url(database, schema=schema, pool_size=1)
    if database.startswith("sqlite"):
        upgrade(store.engine)  # SQLite databases are created and migrated on first use
    return store


def _accounts(database: str, schema: str | None) -> AccountService:
    return AccountService(_store(database, schema))


def _emit(data: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False) if as_json else text)


def _fail_on_errors(fn: F) -> F:
    """Show operator mistakes (unknown account, duplicate key) as one line, not a traceback."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (LookupError, ValueError) as exc:
            raise click.ClickException(str(exc).strip("'\"")) from None

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(__version__, prog_name="rehber")
def main() -> None:
    """rehber: the iletimerkezi Contacts API, self-hosted.

    \b
    Example:
      rehber db upgrade && rehber accounts create "Acme" --json && rehber serve
    """


# -- serve ------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@database_option
@schema_option
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--wire-generation",
    type=click.Choice(["current", "legacy"]),
    envvar="REHBER_WIRE_GENERATION",
    default="current",
    show_default=True,
    help="Default response shapes for accounts without their own setting.",
)
@click.option(
    "--max-body-bytes",
    type=int,
    envvar="REHBER_MAX_BODY_BYTES",
    default=16 * 1024 * 1024,
    show_default=True,
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0),
    envvar="REHBER_RATE_LIMIT",
    default=0,
    show_default=True,
    help="Requests per second per API key, sustained (0 = no limit). Over it: 429.",
)
@click.option(
    "--rate-limit-burst",
    type=click.IntRange(min=0),
    envvar="REHBER_RATE_LIMIT_BURST",
    default=0,
    show_default=True,
    help="Requests a key may send at once (0 = the rate, at least 1).",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(min=0),
    envvar="REHBER_BODY_TIMEOUT",
    default=DEFAULT_BODY_TIMEOUT,
    show_default=True,
    help="Seconds for a request body to arrive; slower ones get 400 and a closed connection.",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0),
    envvar="REHBER_HEADER_TIMEOUT",
    default=DEFAULT_HEADER_TIMEOUT,
    show_default=True,
    help="Seconds for a request head to arrive (after connecting or the previous response).",
)
@click.option(
    "--key-cache-seconds",
    type=click.FloatRange(min=0),
    envvar="REHBER_KEY_CACHE_SECONDS",
    default=DEFAULT_KEY_CACHE_SECONDS,
    show_default=True,
    help="Seconds a worker trusts a key it has looked up; a key revoked by another process "
    "stops working within this time (0 = look the key up on every request).",
)
@click.option(
    "--timeout-keep-alive",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Seconds an idle kept-alive connection stays open.",
)
@click.option(
    "--emulator",
    is_flag=True,
    help="Test-double mode: /_rehber/ control API, request journal, faults (docs/testing.md).",
)
@click.option(
    "--id-start",
    type=click.IntRange(min=1),
    default=None,
    help="Emulator: on an empty database (and after a full reset) every id sequence starts here.",
)
def serve(
    host: str,
    port: int,
    database: str,
    schema: str | None,
    workers: int,
    wire_generation: str,
    max_body_bytes: int,
    rate_limit: float,
    rate_limit_burst: int,
    body_timeout: float,
    header_timeout: float,
    key_cache_seconds: float,
    timeout_keep_alive: int,
    emulator: bool,
    id_start: int | None,
) -> None:
    """Serve the API (migrating SQLite databases first).

    \b
    Examples:
      rehber serve --port 8080 --database sqlite:///./rehber.db
      rehber serve --emulator --id-start 1000 --database sqlite:///./emulator.db
    """
    import uvicorn

    if id_start is not None and not emulator:
        raise click.UsageError("--id-start needs --emulator")
    if emulator and workers != 1:
        # The journal and the faults live in the memory of one process.
        raise click.UsageError("--emulator runs one worker (journal and faults are in memory)")
    os.environ["REHBER_EMULATOR"] = "1" if emulator else ""
    os.environ["REHBER_ID_START"] = str(id_start) if id_start is not None else ""
    os.environ["REHBER_DATABASE_URL"] = database
    os.environ["REHBER_WIRE_GENERATION"] = wire_generation
    os.environ["REHBER_MAX_BODY_BYTES"] = str(max_body_bytes)
    os.environ["REHBER_RATE_LIMIT"] = str(rate_limit)
    os.environ["REHBER_RATE_LIMIT_BURST"] = str(rate_limit_burst)
    os.environ["REHBER_BODY_TIMEOUT"] = str(body_timeout)
    os.environ["REHBER_HEADER_TIMEOUT"] = str(header_timeout)
    os.environ["REHBER_KEY_CACHE_SECONDS"] = str(key_cache_seconds)
    if schema:
        os.environ["REHBER_DATABASE_SCHEMA"] = schema
    if database.startswith("sqlite"):
        _store(database, schema).dispose()  # migrate once, before workers race to do it
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    mode = " in emulator mode" if emulator else ""
    click.echo(
        f"rehber {__version__} serving{mode} on http://{host}:{port} ({_safe_url(database)})"
    )
    options: dict[str, Any] = {
        "app": "rehber.server.app:create_app_from_env",
        "factory": True,
        "access_log": False,
        "log_level": "warning",
        "timeout_keep_alive": timeout_keep_alive,
        # uvicorn's httptools protocol plus a deadline for request heads (server/limits.py)
        # and one write per response (server/transport.py).
        "http": "rehber.server.limits:GuardedHttpToolsProtocol",
    }
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):  # uvicorn's supervisor on Windows
        uvicorn.run(host=host, port=port, workers=workers, **options)
        return
    from rehber.server.workers import Workers

    try:
        supervisor = Workers(options, host, port, workers)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    sys.exit(supervisor.run())


def _safe_url(url: str) -> str:
    """The database URL without a password, for logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


# -- db ---------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@database_option
@schema_option
def db_upgrade(database: str, schema: str | None) -> None:
    """Apply all migrations.

    \b
    Example:
      rehber db upgrade --database postgresql://postgres@127.0.0.1/rehber
    """
    store = Store.from_url(database, schema=schema, pool_size=1)
    upgrade(store.engine)
    click.echo("database is up to date")


# -- accounts ---------------------------------------------------------------------------


@main.group()
def accounts() -> None:
    """Accounts (tenants)."""


@accounts.command("create")
@click.argument("name")
@database_option
@schema_option
@json_option
@click.option("--wire-generation", type=click.Choice(["current", "legacy"]), default=None)
def accounts_create(
    name: str, database: str, schema: str | None, as_json: bool, wire_generation: str | None
) -> None:
    """Create an account with its first key; the secret and hash are printed only now.

    \b
    Example:
      rehber accounts create "Acme" --json
    """
    created = _accounts(database, schema).create_account(
        name,
        wire_generation=wire_generation,  # type: ignore[arg-type]
    )
    data = {
        "account_id": created.account.id,
        "key": created.credentials.key,
        "secret": created.credentials.secret,
        "hash": created.credentials.hash,
    }
    _emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


@accounts.command("list")
@database_option
@schema_option
@json_option
def accounts_list(database: str, schema: str | None, as_json: bool) -> None:
    """List accounts.

    \b
    Example:
      rehber accounts list --json
    """
    found = _accounts(database, schema).list_accounts()
    _emit(
        [asdict(a) for a in found],
        as_json,
        "\n".join(f"{a.id}\t{a.name}\t{a.wire_generation}\t{a.duplicate_gsm}" for a in found),
    )


@accounts.command("configure")
@account_option
@database_option
@schema_option
@json_option
@click.option("--wire-generation", type=click.Choice(["current", "legacy"]), default=None)
@click.option("--duplicate-gsm", type=click.Choice(["allow", "merge"]), default=None)
@_fail_on_errors
def accounts_configure(
    account_id: int,
    database: str,
    schema: str | None,
    as_json: bool,
    wire_generation: str | None,
    duplicate_gsm: str | None,
) -> None:
    """Change an account's response generation or duplicate-number rule.

    \b
    Example:
      rehber accounts configure --account 1 --wire-generation legacy --duplicate-gsm merge
    """
    account = _accounts(database, schema).configure(
        account_id,
        wire_generation=wire_generation,  # type: ignore[arg-type]
        duplicate_gsm=duplicate_gsm,
    )
    _emit(
        asdict(account),
        as_json,
        f"{account.id}\t{account.wire_generation}\t{account.duplicate_gsm}",
    )


# -- keys -------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """API keys of an account."""


@keys.command("create")
@account_option
@database_option
@schema_option
@json_option
@_fail_on_errors
def keys_create(account_id: int, database: str, schema: str | None, as_json: bool) -> None:
    """Issue a new key; its secret and hash are printed only now.

    \b
    Example:
      rehber keys create --account 1 --json
    """
    pair = _accounts(database, schema).create_key(account_id)
    data = {"account_id": account_id, "key": pair.key, "secret": pair.secret, "hash": pair.hash}
    _emit(data, as_json, "\n".join(f"{k}: {v}" for k, v in data.items()))


@keys.command("import")
@account_option
@click.option("--key", required=True, help="The existing API key.")
@click.option("--hash", "hash_value", required=True, help="The existing API hash.")
@database_option
@schema_option
@json_option
@_fail_on_errors
def keys_import(
    account_id: int, key: str, hash_value: str, database: str, schema: str | None, as_json: bool
) -> None:
    """Accept an existing (key, hash) pair, e.g. the one your integration already sends.

    \b
    Example:
      rehber keys import --account 1 --key 3ea6... --hash e8e2...
    """
    imported = _accounts(database, schema).import_key(account_id, key, hash_value)
    _emit(
        {"account_id": account_id, "key": imported.key},
        as_json,
        f"imported key {imported.key} for account {account_id}",
    )


@keys.command("revoke")
@account_option
@click.option("--key", required=True)
@database_option
@schema_option
@json_option
@_fail_on_errors
def keys_revoke(
    account_id: int, key: str, database: str, schema: str | None, as_json: bool
) -> None:
    """Revoke a key; requests using it get 401 from then on.

    \b
    Example:
      rehber keys revoke --account 1 --key 3ea6...
    """
    _accounts(database, schema).revoke_key(account_id, key)
    _emit({"account_id": account_id, "key": key, "revoked": True}, as_json, f"revoked {key}")


@keys.command("list")
@account_option
@database_option
@schema_option
@json_option
@_fail_on_errors
def keys_list(account_id: int, database: str, schema: str | None, as_json: bool) -> None:
    """List an account's keys (never their secrets or hashes).

    \b
    Example:
      rehber keys list --account 1
    """
    found = _accounts(database, schema).list_keys(account_id)
    _emit(
        [asdict(k) for k in found],
        as_json,
        "\n".join(
            f"{k.key}\t{k.created_at}\t{'revoked' if k.revoked_at else 'active'}" for k in found
        ),
    )


# -- custom fields ----------------------------------------------------------------------


@main.group()
def fields() -> None:
    """Custom-field definitions ("rehber alanları") of an account."""


@fields.command("create")
@click.argument("name")
@account_option
@database_option
@schema_option
@json_option
@_fail_on_errors
def fields_create(
    name: str, account_id: int, database: str, schema: str | None, as_json: bool
) -> None:
    """Define a custom field; contacts refer to it by the printed id.

    \b
    Example:
      rehber fields create "Doğum tarihi" --account 1 --json
    """
    field = _accounts(database, schema).create_field(account_id, name)
    _emit(asdict(field), as_json, f"{field.id}\t{field.name}")


@fields.command("list")
@account_option
@database_option
@schema_option
@json_option
@_fail_on_errors
def fields_list(account_id: int, database: str, schema: str | None, as_json: bool) -> None:
    """List an account's custom fields.

    \b
    Example:
      rehber fields list --account 1 --json
    """
    found = _accounts(database, schema).list_fields(account_id)
    _emit([asdict(f) for f in found], as_json, "\n".join(f"{f.id}\t{f.name}" for f in found))


# -- demo -------------------------------------------------------------------------------


@main.command(hidden=True)
@database_option
@schema_option
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8080, type=int)
@click.option(
    "--credentials-file", default=".rehber-demo.json", show_default=True, type=click.Path()
)
def demo(database: str, schema: str | None, host: str, port: int, credentials_file: str) -> None:
    """Create a demo account on first run and print its credentials and a curl example."""
    path = Path(credentials_file)
    service = _accounts(database, schema)
    saved = json.loads(path.read_text()) if path.exists() else None
    known = {a.id for a in service.list_accounts()}
    if not saved or saved.get("account_id") not in known or saved.get("database") != database:
        created = service.create_account("demo")
        saved = {
            "database": database,
            "account_id": created.account.id,
            "key": created.credentials.key,
            "hash": created.credentials.hash,
        }
        path.write_text(json.dumps(saved, indent=2) + "\n")
        path.chmod(0o600)
    base = f"http://{host}:{port}"
    auth = f'"authentication":{{"key":"{saved["key"]}","hash":"{saved["hash"]}"}}'
    click.echo(
        f"demo account {saved['account_id']} (saved in {path}):\n"
        f"  key:  {saved['key']}\n  hash: {saved['hash']}\n"
        f"try:\n  curl -s -X POST {base}/v1/add-group/json "
        f'-d \'{{"request":{{{auth},"group":{{"name":"Müşteriler"}}}}}}\'\n'
        f"  curl -s -X POST {base}/v1/get-groups/json -d '{{\"request\":{{{auth}}}}}'",
        file=sys.stdout,
    )


from rehber.cli import client_commands  # noqa: E402  (client commands: issue 3)

main.add_command(client_commands.groups)
main.add_command(client_commands.contacts)
