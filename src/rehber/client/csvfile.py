"""Contacts in CSV files: streaming import through add-contacts, and export.

Columns are ``name``, ``surname``, ``email``, ``gsm`` and ``field:<id>`` for custom fields
(case and surrounding spaces ignored). An ``id`` column, as the export writes it, is ignored on
import: importing always adds new contacts. Files are UTF-8 with or without a BOM; the
delimiter is a comma or a semicolon (Excel in a Turkish locale writes semicolons), told apart
by which one splits the header into known column names.

Nothing here holds more than one batch of rows: the file is read a batch at a time, and
rejected rows are written out as soon as they are known: a row that cannot be sent at all
(more cells than the header) when it is read, the others when their batch returns. The
rejects file's ``line`` column gives each row's place in the input.

add-contacts is not idempotent, so a batch is sent again only when it certainly was not
stored: the server answered 429 or 503 in a vendor envelope (a non-200 answer changes
nothing), or the connection could not even be opened. Then the import waits (``Retry-After``
when the server gives a sane one, else 0.5 s, 1 s, 2 s, ... up to 8 s) and tries again, up to
``attempts`` times in all. Any other failure of a batch, or running out of attempts, stops the
import with :class:`ImportStopped`, which says what was stored and from which line to resume
(``from_line``). A batch whose answer was lost after it was sent (a dropped connection, a
timeout, an unreadable answer) may have been stored: it is never sent again.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx

from rehber.client._base import parse_retry_after, retry_delay
from rehber.client._calls import check_batch_size
from rehber.client._exceptions import (
    APIConnectionError,
    APIStatusError,
    RateLimitError,
    RehberError,
    ServiceUnavailableError,
)
from rehber.codes import Code, message_for
from rehber.commands import ContactFields
from rehber.types import BulkItemResult, Contact, FieldValue
from rehber.wire.client_responses import read_envelope

if TYPE_CHECKING:
    from rehber.client._client import Client

SCALARS = ("name", "surname", "email", "gsm")
IGNORED = frozenset({"id"})
FIELD_PREFIX = "field:"
_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", ";")
#: How many times a batch is sent in all when the server keeps refusing it with 429 or 503.
DEFAULT_ATTEMPTS = 5
# Failures of the connection before any byte of the request went out.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class CsvError(ValueError):
    """The file cannot be imported at all (unknown or missing columns, not UTF-8, ...)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """What each column of a file means: a scalar name, a custom-field id, or nothing."""

    header: tuple[str, ...]
    delimiter: str
    bom: bool
    targets: tuple[str | int | None, ...]  # per column: "name"…, a field id, or None (ignored)


@dataclass(slots=True)
class ImportSummary:
    """How an import went: rows added, rows failed per code, and the rejects file if any."""

    added: int = 0
    failed: Counter[int] = field(default_factory=Counter)
    skipped_blank: int = 0
    rejects: Path | None = None

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())


@dataclass(frozen=True, slots=True)
class Retry:
    """A batch the server refused for now, about to be sent again after ``delay`` seconds."""

    first_line: int
    last_line: int
    attempt: int  # the attempt about to be made: 2 for the first resend
    attempts: int
    delay: float
    error: RehberError

    @property
    def reason(self) -> str:
        """What the server said (``503 Sunucu geçici olarak servis dışı``), or the error."""
        if isinstance(self.error, APIStatusError):
            return f"{self.error.code} {self.error.message}"
        return str(self.error)


class ImportStopped(Exception):
    """The import stopped at the batch of ``first_line``..``last_line``.

    ``summary`` counts the rows before it (added, rejected). ``maybe_stored`` is true when the
    batch got no readable answer after it was sent: the server may have stored some or all of
    its rows. Otherwise none of them was stored and the import resumes from ``first_line``.
    ``attempts`` is how many times the batch was sent (or tried to be).

    Example::

        try:
            import_csv(client, source, rejects)
        except ImportStopped as stop:
            print(stop, "resume from line", stop.first_line)
    """

    def __init__(
        self,
        error: RehberError,
        summary: ImportSummary,
        first_line: int,
        last_line: int,
        *,
        attempts: int,
        maybe_stored: bool,
    ) -> None:
        batch = f"lines {first_line}-{last_line}"
        if maybe_stored:
            fate = f"the batch of {batch} got no readable answer and may have been stored"
        else:
            fate = f"the batch of {batch} was not stored ({attempts} attempt(s))"
        super().__init__(f"{error}; {fate}; {summary.added} contact(s) added before it")
        self.error = error
        self.summary = summary
        self.first_line = first_line
        self.last_line = last_line
        self.attempts = attempts
        self.maybe_stored = maybe_stored


def certainly_not_stored(error: RehberError) -> bool:
    """Whether an add-contacts call that ended in ``error`` certainly stored nothing.

    True for an answer in a vendor envelope with a code other than 200 (the API changes
    nothing then) and for a connection that could not be opened (nothing was sent). False
    for what may hide a stored batch: a connection lost or a timeout after sending, an answer
    that is not a vendor envelope (a proxy's error page, a body cut short).
    """
    if isinstance(error, APIStatusError):
        envelope = read_envelope(error.response.content)
        return envelope is not None and envelope.code == error.code
    if isinstance(error, APIConnectionError):
        return isinstance(error.__cause__, _NOT_SENT)
    return False


def worth_resending(error: RehberError) -> bool:
    """Whether a batch that ended in ``error`` is sent again: refused for now, not stored."""
    temporary = isinstance(error, (RateLimitError, ServiceUnavailableError, APIConnectionError))
    return temporary and certainly_not_stored(error)


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read from it (for the progress bar)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def parse_header(line: str, bom: bool) -> Layout:
    """The layout of a file whose first line is ``line`` (delimiter sniffed)."""
    best: tuple[int, str, list[str]] | None = None
    for delimiter in _DELIMITERS:
        cells = [c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])]
        known = sum(1 for c in cells if _target(c) is not _UNKNOWN)
        if best is None or known > best[0]:
            best = (known, delimiter, cells)
    assert best is not None
    _known, delimiter, cells = best
    targets = tuple(_target(c) for c in cells)
    unknown = [c for c, t in zip(cells, targets, strict=True) if t is _UNKNOWN]
    if unknown:
        raise CsvError(
            f"unknown column(s): {', '.join(unknown)} "
            f"(expected {', '.join(SCALARS)}, field:<id>, id)"
        )
    names = [c.lower() for c in cells]
    if len(set(names)) != len(names):
        raise CsvError("a column appears twice")
    if not any(t is not None for t in targets):
        raise CsvError(f"no contact columns (expected {', '.join(SCALARS)} or field:<id>)")
    return Layout(tuple(cells), delimiter, bom, targets)  # type: ignore[arg-type]


_UNKNOWN = object()


def _target(column: str) -> object:
    name = column.strip().lower()
    if name in SCALARS:
        return name
    if name in IGNORED:
        return None
    if name.startswith(FIELD_PREFIX) and name[len(FIELD_PREFIX) :].strip().isdigit():
        return int(name[len(FIELD_PREFIX) :])
    return _UNKNOWN


def row_fields(
    layout: Layout, cells: list[str], groups: tuple[int, ...]
) -> ContactFields | str | None:
    """A row as contact values; a problem as text; ``None`` for a blank row."""
    if not any(cell.strip() for cell in cells):
        return None
    extra = cells[len(layout.targets) :]
    if any(cell.strip() for cell in extra):
        return f"row has {len(cells)} cells, the header {len(layout.targets)}"
    values: dict[str, str] = {}
    custom: list[FieldValue] = []
    for target, cell in zip(layout.targets, cells, strict=False):
        text = cell.strip()
        if not text or target is None:
            continue
        if isinstance(target, int):
            custom.append(FieldValue(target, text))
        else:
            values[target] = text
    return ContactFields(
        name=values.get("name"),
        surname=values.get("surname"),
        email=values.get("email"),
        gsm=values.get("gsm"),
        custom_fields=tuple(custom) or None,
        groups=groups or None,
    )


class CsvSource:
    """An open CSV file of contacts: its layout, its rows, and how far it has been read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._binary = path.open("rb")
        try:
            bom = self._binary.read(3) == _BOM
            self._binary.seek(0)
            self._counter = _CountingReader(self._binary)
            buffered = io.BufferedReader(self._counter)
            self._text = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")
            header = self._text.readline()
            self.layout = parse_header(header.rstrip("\r\n"), bom)
        except UnicodeDecodeError:
            self.close()
            raise CsvError("the file is not UTF-8") from None
        except BaseException:
            self.close()
            raise

    @property
    def position(self) -> int:
        """Bytes read from the file so far (ahead of the rows handed out by up to a buffer)."""
        return self._counter.position

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line number, cells)`` for each data row; line 1 is the header."""
        reader = csv.reader(self._text, delimiter=self.layout.delimiter)
        try:
            for cells in reader:
                yield reader.line_num + 1, cells
        except UnicodeDecodeError:
            raise CsvError(f"line {reader.line_num + 2}: not UTF-8") from None

    def close(self) -> None:
        self._binary.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RejectsWriter:
    """The rejects file: the input's columns plus line, error code and message; opened lazily.

    With ``append`` (a resumed import) rows are added to an existing file, under its header.
    """

    def __init__(self, path: Path, layout: Layout, *, append: bool = False) -> None:
        self.path = path
        self._layout = layout
        self._append = append
        self._file: IO[str] | None = None
        self._out: Callable[[list[str]], object] | None = None

    def write(self, line: int, cells: list[str], code: int, message: str) -> None:
        if self._out is None:
            encoding = "utf-8-sig" if self._layout.bom else "utf-8"
            old = self._append and self.path.exists() and self.path.stat().st_size > 0
            # In append mode Python writes no second BOM after existing content.
            self._file = self.path.open("a" if old else "w", encoding=encoding, newline="")
            writer = csv.writer(self._file, delimiter=self._layout.delimiter)
            if not old:
                writer.writerow([*self._layout.header, "line", "error_code", "error_message"])
            self._out = writer.writerow
        width = len(self._layout.header)
        padded = (cells + [""] * width)[:width]
        self._out([*padded, str(line), str(code), message])

    @property
    def used(self) -> bool:
        return self._out is not None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    cells: list[str]
    fields: ContactFields


def import_csv(
    client: Client,
    source: CsvSource,
    rejects: RejectsWriter,
    *,
    groups: Iterable[int] = (),
    batch_size: int = 1000,
    attempts: int = DEFAULT_ATTEMPTS,
    from_line: int = 1,
    progress: Callable[[int, ImportSummary], None] | None = None,
    on_retry: Callable[[Retry], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ImportSummary:
    """Stream ``source`` into the address book through add-contacts; reject rows as they fail.

    Rows before line ``from_line`` of the file (line 1 is the header) are skipped, to resume
    a stopped import. ``progress(bytes_read, summary)`` is called after every batch. A batch
    refused with 429 or 503 (or that could not connect) is sent again after a wait, up to
    ``attempts`` times in all; ``on_retry`` hears of each wait before it starts. Any other
    failure of a whole batch, or the last attempt failing, raises :class:`ImportStopped`.

    Example::

        with CsvSource(Path("customers.csv")) as source:
            rejects = RejectsWriter(Path("customers.rejects.csv"), source.layout)
            summary = import_csv(client, source, rejects, groups=[5])
    """
    check_batch_size(batch_size)
    if attempts < 1:
        raise ValueError("attempts must be 1 or more")
    summary = ImportSummary()
    group_ids = tuple(groups)

    def send(batch: list[_Row]) -> None:
        for result, row in zip(add(batch), batch, strict=True):
            if result.code == Code.OK:
                summary.added += 1
            else:
                summary.failed[result.code] += 1
                rejects.write(row.line, row.cells, result.code, message_for(result.code))
        if progress is not None:
            progress(source.position, summary)

    def add(batch: list[_Row]) -> list[BulkItemResult]:
        fields = [row.fields for row in batch]
        first, last = batch[0].line, batch[-1].line
        for attempt in range(1, attempts + 1):
            try:
                return list(client.contacts.add_many(fields, batch_size=len(fields)))
            except RehberError as error:
                if attempt == attempts or not worth_resending(error):
                    raise ImportStopped(
                        error,
                        summary,
                        first,
                        last,
                        attempts=attempt,
                        maybe_stored=not certainly_not_stored(error),
                    ) from error
                delay = retry_delay(attempt - 1, _retry_after(error))
                if on_retry is not None:
                    on_retry(Retry(first, last, attempt + 1, attempts, delay, error))
                sleep(delay)
        raise AssertionError("unreachable")

    batch: list[_Row] = []
    for line, cells in source.rows():
        if line < from_line:
            continue
        fields = row_fields(source.layout, cells, group_ids)
        if fields is None:
            summary.skipped_blank += 1
        elif isinstance(fields, str):
            summary.failed[Code.VALIDATION] += 1
            rejects.write(line, cells, Code.VALIDATION, fields)
        else:
            batch.append(_Row(line, cells, fields))
            if len(batch) == batch_size:
                send(batch)
                batch = []
    if batch:
        send(batch)
    summary.rejects = rejects.path if rejects.used else None
    return summary


def _retry_after(error: RehberError) -> float | None:
    if isinstance(error, APIStatusError):
        return parse_retry_after(error.response.headers.get("Retry-After"))
    return None


def export_header(field_ids: Iterable[int]) -> list[str]:
    return ["id", *SCALARS, *(f"{FIELD_PREFIX}{i}" for i in field_ids)]


def export_row(contact: Contact, field_ids: Iterable[int]) -> list[str]:
    values = {f.id: f.value for f in contact.custom_fields}
    scalars = [contact.name, contact.surname, contact.email, contact.gsm]
    return [str(contact.id), *scalars, *(values.get(i, "") for i in field_ids)]
