"""Contacts in CSV files: streaming import through add-contacts, and export.

Columns are ``name``, ``surname``, ``email``, ``gsm`` and ``field:<id>`` for custom fields
(case and surrounding spaces ignored). An ``id`` column, as the export writes it, is ignored on
import: importing always adds new contacts. Files are UTF-8 with or without a BOM; the
delimiter is a comma or a semicolon (Excel in a Turkish locale writes semicolons), told apart
by which one splits the header into known column names.

Nothing here holds more than one batch of rows: the file is read as add-contacts asks for
more, and rejected rows are written out as soon as they are known: a row that cannot be sent
at all (more cells than the header) when it is read, the others when their batch returns. The
rejects file's ``line`` column gives each row's place in the input.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from rehber.codes import Code, message_for
from rehber.commands import ContactFields
from rehber.types import Contact, FieldValue

if TYPE_CHECKING:
    from rehber.client._client import Client

SCALARS = ("name", "surname", "email", "gsm")
IGNORED = frozenset({"id"})
FIELD_PREFIX = "field:"
_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", ";")


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
    """The rejects file: the input's columns plus line, error code and message; opened lazily."""

    def __init__(self, path: Path, layout: Layout) -> None:
        self.path = path
        self._layout = layout
        self._file: IO[str] | None = None
        self._out: Callable[[list[str]], object] | None = None

    def write(self, line: int, cells: list[str], code: int, message: str) -> None:
        if self._out is None:
            encoding = "utf-8-sig" if self._layout.bom else "utf-8"
            self._file = self.path.open("w", encoding=encoding, newline="")
            writer = csv.writer(self._file, delimiter=self._layout.delimiter)
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


def import_csv(
    client: Client,
    source: CsvSource,
    rejects: RejectsWriter,
    *,
    groups: Iterable[int] = (),
    batch_size: int = 1000,
    progress: Callable[[int, ImportSummary], None] | None = None,
) -> ImportSummary:
    """Stream ``source`` into the address book through add-contacts; reject rows as they fail.

    ``progress(bytes_read, summary)`` is called after every batch. A failure of a whole batch
    (authentication, connection, 503) propagates; the summary passed to ``progress`` so far
    tells what was added before it.
    """
    summary = ImportSummary()
    group_ids = tuple(groups)
    pending: deque[tuple[int, list[str]]] = deque()

    def contacts() -> Iterator[ContactFields]:
        for line, cells in source.rows():
            fields = row_fields(source.layout, cells, group_ids)
            if fields is None:
                summary.skipped_blank += 1
            elif isinstance(fields, str):
                summary.failed[Code.VALIDATION] += 1
                rejects.write(line, cells, Code.VALIDATION, fields)
            else:
                pending.append((line, cells))
                yield fields

    for result in client.contacts.add_many(contacts(), batch_size=batch_size):
        line, cells = pending.popleft()
        if result.code == Code.OK:
            summary.added += 1
        else:
            summary.failed[result.code] += 1
            rejects.write(line, cells, result.code, message_for(result.code))
        if not pending and progress is not None:
            progress(source.position, summary)
    summary.rejects = rejects.path if rejects.used else None
    return summary


def export_header(field_ids: Iterable[int]) -> list[str]:
    return ["id", *SCALARS, *(f"{FIELD_PREFIX}{i}" for i in field_ids)]


def export_row(contact: Contact, field_ids: Iterable[int]) -> list[str]:
    values = {f.id: f.value for f in contact.custom_fields}
    scalars = [contact.name, contact.surname, contact.email, contact.gsm]
    return [str(contact.id), *scalars, *(values.get(i, "") for i in field_ids)]
