"""``rehber groups …`` and ``rehber contacts …``: the client side of the ``rehber`` command.

Every command talks to an API (the real iletimerkezi one or a rehber server) through
:class:`rehber.Client`; ``--base-url``, ``--key``, ``--hash`` and ``--format`` fall back to
``REHBER_BASE_URL``, ``REHBER_API_KEY`` and ``REHBER_API_HASH``. Errors print as one line (the
vendor code and message), never a traceback, never the credentials.
"""

from __future__ import annotations

import functools
import io
import json
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from rehber.client import Client, RehberError
from rehber.client._base import Format
from rehber.client.csvfile import (
    DEFAULT_ATTEMPTS,
    CsvError,
    CsvSource,
    ImportStopped,
    ImportSummary,
    RejectsWriter,
    Retry,
    export_header,
    export_row,
    import_csv,
)
from rehber.codes import message_for
from rehber.types import Contact, Group

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_CONNECTION_OPTIONS = (
    click.option(
        "--base-url",
        default=None,
        help="API base URL. Env: REHBER_BASE_URL (default https://api.iletimerkezi.com/v1/).",
    ),
    click.option("--key", "api_key", default=None, help="API key. Env: REHBER_API_KEY."),
    click.option("--hash", "hash_value", default=None, help="API hash. Env: REHBER_API_HASH."),
    click.option(
        "--format",
        "wire_format",
        type=click.Choice(["json", "xml"]),
        default="json",
        show_default=True,
        help="Wire format to talk in (results are the same).",
    ),
)


def with_client(fn: Callable[..., None]) -> Callable[..., None]:
    """Add the connection options and call ``fn(client, ...)``; API errors become one line."""

    @functools.wraps(fn)
    def command(
        *args: Any,
        base_url: str | None,
        api_key: str | None,
        hash_value: str | None,
        wire_format: str,
        **kwargs: Any,
    ) -> None:
        try:
            fmt: Format = "xml" if wire_format == "xml" else "json"
            with Client(key=api_key, hash=hash_value, base_url=base_url, format=fmt) as client:
                fn(client, *args, **kwargs)
        except RehberError as error:
            raise click.ClickException(str(error)) from None
        except ValueError as error:  # a bad --base-url
            raise click.UsageError(str(error)) from None

    for option in reversed(_CONNECTION_OPTIONS):
        command = option(command)
    return command


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


def _group_lines(groups: Iterable[Group], depth: int = 0) -> Iterator[str]:
    for group in groups:
        yield f"{'  ' * depth}{group.id}\t{group.name}\t{group.count}"
        yield from _group_lines(group.children, depth + 1)


def _contact_text(contact: Contact) -> str:
    lines = [f"{name}: {value}" for name, value in asdict(contact).items()]
    lines[-2:-1] = [f"field:{f.id}: {f.value}" for f in contact.custom_fields]
    return "\n".join(lines)


def _contact_line(contact: Contact) -> str:
    return f"{contact.id}\t{contact.name}\t{contact.surname}\t{contact.email}\t{contact.gsm}"


# -- groups -------------------------------------------------------------------------------


@click.group()
def groups() -> None:
    """Groups of an address book, over the API.

    \b
    Example:
      export REHBER_BASE_URL=http://127.0.0.1:8080/v1/ REHBER_API_KEY=... REHBER_API_HASH=...
      rehber groups create "Müşteriler" && rehber groups list
    """


@groups.command("list")
@json_option
@with_client
def groups_list(client: Client, as_json: bool) -> None:
    """List the group tree: id, name and contact count, sub-groups indented.

    \b
    Example:
      rehber groups list --json
    """
    found = client.groups.list()
    if as_json:
        _print_json([asdict(g) for g in found])
    else:
        for line in _group_lines(found):
            click.echo(line)


@groups.command("create")
@click.argument("name")
@click.option("--parent", type=int, default=None, help="Id of the parent group.")
@json_option
@with_client
def groups_create(client: Client, name: str, parent: int | None, as_json: bool) -> None:
    """Create a group (under --parent) and print its id.

    \b
    Example:
      rehber groups create "VIP" --parent 5 --json
    """
    group = client.groups.create(name, parent=parent)
    if as_json:
        _print_json({"id": group.id, "name": group.name, "parent": group.parent})
    else:
        click.echo(f"{group.id}\t{group.name}")


@groups.command("delete")
@click.argument("group_id", type=int)
@json_option
@with_client
def groups_delete(client: Client, group_id: int, as_json: bool) -> None:
    """Delete a group and its sub-groups (their contacts stay).

    \b
    Example:
      rehber groups delete 7
    """
    client.groups.delete(group_id)
    if as_json:
        _print_json({"id": group_id, "deleted": True})
    else:
        click.echo(f"deleted group {group_id}")


# -- contacts -----------------------------------------------------------------------------


@click.group()
def contacts() -> None:
    """Contacts of an address book, over the API; CSV import and export.

    \b
    Example:
      rehber contacts import customers.csv --group 5
      rehber contacts export --group 5 > customers.csv
    """


@contacts.command("search")
@click.argument("term")
@click.option("--page-size", type=click.IntRange(1, 1000), default=1000, show_default=True)
@json_option
@with_client
def contacts_search(client: Client, term: str, page_size: int, as_json: bool) -> None:
    """Find contacts by name, surname, e-mail or number (at least 3 characters).

    Prints id, name, surname, e-mail and gsm per line, or a JSON array with --json.

    \b
    Example:
      rehber contacts search yılmaz
    """
    found = client.contacts.search(term, page_size=page_size)
    if not as_json:
        for contact in found:
            click.echo(_contact_line(contact))
        return
    click.echo("[", nl=False)
    for index, contact in enumerate(found):
        item = json.dumps(asdict(contact), ensure_ascii=False)
        click.echo(f",{item}" if index else item, nl=False)
    click.echo("]")


@contacts.command("get")
@click.argument("contact_id", type=int)
@json_option
@with_client
def contacts_get(client: Client, contact_id: int, as_json: bool) -> None:
    """Show one contact.

    \b
    Example:
      rehber contacts get 1007 --json
    """
    contact = client.contacts.get(contact_id)
    if as_json:
        _print_json(asdict(contact))
    else:
        click.echo(_contact_text(contact))


def _field_values(values: tuple[str, ...]) -> dict[int, str]:
    fields: dict[int, str] = {}
    for item in values:
        field_id, sep, value = item.partition("=")
        if not sep or not field_id.strip().isdigit():
            raise click.BadParameter(f"{item!r} is not ID=VALUE", param_hint="--field")
        fields[int(field_id)] = value
    return fields


@contacts.command("add")
@click.option("--name", default=None)
@click.option("--surname", default=None)
@click.option("--email", default=None)
@click.option("--gsm", default=None, help="Mobile number (05321234567, +90 532 …).")
@click.option("--field", "fields", multiple=True, help="A custom field as ID=VALUE (repeatable).")
@click.option("--group", "group_ids", type=int, multiple=True, help="Group id (repeatable).")
@json_option
@with_client
def contacts_add(
    client: Client,
    name: str | None,
    surname: str | None,
    email: str | None,
    gsm: str | None,
    fields: tuple[str, ...],
    group_ids: tuple[int, ...],
    as_json: bool,
) -> None:
    """Add one contact and print it as stored.

    \b
    Example:
      rehber contacts add --name Ayşe --gsm 05321234567 --field 1=27/09/2024 --group 5
    """
    contact = client.contacts.add(
        name=name,
        surname=surname,
        email=email,
        gsm=gsm,
        custom_fields=_field_values(fields) or None,
        groups=group_ids or None,
    )
    if as_json:
        _print_json(asdict(contact))
    else:
        click.echo(_contact_text(contact))


def _summary_text(summary: ImportSummary) -> str:
    text = f"added {summary.added}, failed {summary.failed_total}"
    if summary.skipped_blank:
        text += f", skipped {summary.skipped_blank} blank row(s)"
    for code, number in sorted(summary.failed.items()):
        text += f"\n  {code} {message_for(code)}: {number}"
    if summary.rejects is not None:
        text += f"\nfailed rows: {summary.rejects}"
    return text


def _summary_json(summary: ImportSummary) -> dict[str, Any]:
    return {
        "added": summary.added,
        "failed": summary.failed_total,
        "failed_by_code": {str(code): n for code, n in sorted(summary.failed.items())},
        "skipped_blank": summary.skipped_blank,
        "rejects": str(summary.rejects) if summary.rejects else None,
    }


def _default_rejects(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--group", "group_ids", type=int, multiple=True, help="Add every row to this group.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=1000, show_default=True)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write failed rows with their error [default: FILE.rejects.csv].",
)
@click.option(
    "--attempts",
    type=click.IntRange(1, 100),
    default=DEFAULT_ATTEMPTS,
    show_default=True,
    help="Times to send a batch the server refuses with 429 or 503 (or cannot be reached for) "
    "before stopping; waits Retry-After, else 0.5 s, 1 s, 2 s ... up to 8 s, in between.",
)
@click.option(
    "--from-line",
    type=click.IntRange(min=2),
    default=None,
    help="Skip the rows before this line of FILE (line 1 is the header) and add to the "
    "rejects file instead of replacing it: to resume an import that stopped.",
)
@json_option
@with_client
def contacts_import(
    client: Client,
    file: Path,
    group_ids: tuple[int, ...],
    batch_size: int,
    rejects: Path | None,
    attempts: int,
    from_line: int | None,
    as_json: bool,
) -> None:
    """Add the contacts of a CSV file through add-contacts, in batches.

    Columns: name, surname, email, gsm and field:<id> (an id column is ignored); UTF-8 with
    or without BOM; comma or semicolon. The file is streamed, never loaded whole. Failed rows
    go to the rejects file with their line, error code and message; a summary follows.

    A batch the server refuses for now (429, 503) is sent again after a wait, up to
    --attempts times; add-contacts is not idempotent, so a batch whose answer was lost after
    sending is never sent again. When the import stops, the message says how many contacts
    were added and the --from-line to resume with. Exit status: 0 when every row was added, 3
    when some were rejected, 1 when it stopped, 2 for a file it cannot read.

    \b
    Example:
      rehber contacts import customers.csv --group 5
      rehber contacts import customers.csv --group 5 --from-line 2002   # resume
    """
    try:
        source = CsvSource(file)
    except CsvError as error:
        raise click.UsageError(f"{file}: {error}") from None
    rejects_path = rejects or _default_rejects(file)
    writer = RejectsWriter(rejects_path, source.layout, append=from_line is not None)
    try:
        summary = _run_import(client, source, writer, group_ids, batch_size, attempts, from_line)
    except CsvError as error:
        raise click.ClickException(f"{file}: {error}") from None
    except ImportStopped as stop:
        resume = ["rehber", "contacts", "import", str(file)]
        resume += [a for g in group_ids for a in ("--group", str(g))]
        resume += ["--rejects", str(rejects)] if rejects is not None else []
        used = rejects_path if writer.used else None
        raise click.ClickException(_stopped_text(stop, resume, used)) from None
    finally:
        writer.close()
        source.close()
    if as_json:
        _print_json(_summary_json(summary))
    else:
        click.echo(_summary_text(summary))
    if summary.failed_total:
        click.get_current_context().exit(3)


def _stopped_text(stop: ImportStopped, resume: list[str], rejects: Path | None) -> str:
    """What an import that stopped at a batch tells: what was stored, where to resume."""
    first, last, summary = stop.first_line, stop.last_line, stop.summary
    batch = f"the batch of lines {first}-{last}"
    done = f"stopped after adding {summary.added} contact(s) from the rows before line {first}"
    if summary.failed_total:
        done += f" ({summary.failed_total} rejected, in {rejects})"
    command = shlex.join(resume)
    if stop.maybe_stored:
        return (
            f"{stop.error}\n{done}.\n"
            f"{batch} got no readable answer: the server may have stored some or all of its "
            "rows, so it was not sent again (that could add them twice).\n"
            f"Check whether those rows arrived, then resume with:\n"
            f"  {command} --from-line {first}    (if they did not)\n"
            f"  {command} --from-line {last + 1}    (if they did)"
        )
    tried = f" after {stop.attempts} attempts" if stop.attempts > 1 else ""
    return (
        f"{stop.error}\n{done}; none of {batch} was stored{tried}.\n"
        f"Resume with:\n  {command} --from-line {first}"
    )


def _retry_text(retry: Retry) -> str:
    return (
        f"add-contacts for lines {retry.first_line}-{retry.last_line}: {retry.reason}; "
        f"waiting {retry.delay:.1f} s before attempt {retry.attempt} of {retry.attempts}"
    )


def _run_import(
    client: Client,
    source: CsvSource,
    writer: RejectsWriter,
    group_ids: tuple[int, ...],
    batch_size: int,
    attempts: int,
    from_line: int | None,
) -> ImportSummary:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[added]} added, {task.fields[failed]} failed"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("importing", total=source.size, added=0, failed=0)

        def advance(position: int, summary: ImportSummary) -> None:
            progress.update(
                task,
                description="importing",
                completed=position,
                added=summary.added,
                failed=summary.failed_total,
            )

        def waiting(retry: Retry) -> None:
            # On the bar, and as a line of its own (a log of a run without a terminal shows
            # only lines, not the bar as it changes).
            progress.update(task, description=f"waiting {retry.delay:.1f} s")
            progress.console.print(
                _retry_text(retry), markup=False, highlight=False, soft_wrap=True
            )

        try:
            summary = import_csv(
                client,
                source,
                writer,
                groups=group_ids,
                batch_size=batch_size,
                attempts=attempts,
                from_line=from_line or 1,
                progress=advance,
                on_retry=waiting,
            )
        except ImportStopped:
            progress.update(task, description="stopped")
            raise
        progress.update(task, completed=source.size)
    return summary


@contacts.command("export")
@click.option("--group", "group_id", type=int, required=True, help="The group to export.")
@click.option(
    "--field",
    "field_ids",
    type=int,
    multiple=True,
    help="Custom-field columns to write (repeatable) [default: every field the contacts have].",
)
@click.option("--delimiter", type=click.Choice([",", ";"]), default=",", show_default=True)
@click.option("--bom", is_flag=True, help="Start with a UTF-8 BOM (for Excel).")
@click.option("--page-size", type=click.IntRange(1, 1000), default=1000, show_default=True)
@json_option
@with_client
def contacts_export(
    client: Client,
    group_id: int,
    field_ids: tuple[int, ...],
    delimiter: str,
    bom: bool,
    page_size: int,
    as_json: bool,
) -> None:
    """Write a group's contacts as CSV (or JSON lines with --json) to standard output.

    Columns: id, name, surname, email, gsm, field:<id>; the file imports back. Streamed page
    by page; without --field a first pass finds which custom fields the contacts use.

    \b
    Example:
      rehber contacts export --group 5 > customers.csv
    """
    pages = client.groups.contacts(group_id, page_size=page_size)
    # UTF-8 whatever the locale says, and CSV's own line endings.
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
    try:
        if as_json:
            for contact in pages:
                out.write(json.dumps(asdict(contact), ensure_ascii=False) + "\n")
        else:
            _write_csv(out, pages, field_ids or _used_fields(pages), delimiter, bom)
    finally:
        out.flush()
        out.detach()


def _used_fields(pages: Iterable[Contact]) -> tuple[int, ...]:
    return tuple(sorted({f.id for contact in pages for f in contact.custom_fields}))


def _write_csv(
    out: IO[str], pages: Iterable[Contact], field_ids: tuple[int, ...], delimiter: str, bom: bool
) -> None:
    if bom:
        out.write("\ufeff")
    writer = csv_writer(out, delimiter)
    writer(export_header(field_ids))
    for contact in pages:
        writer(export_row(contact, field_ids))


def csv_writer(out: IO[str], delimiter: str) -> Callable[[list[str]], object]:
    import csv

    writer = csv.writer(out, delimiter=delimiter)
    return writer.writerow
