"""Result rows, targets, and the table printed and written to ``bench/RESULTS.md``."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True, slots=True)
class Target:
    """``ratio >= 0.5`` (against ``of``), ``figure <= 20`` (in ``unit``)."""

    on: Literal["ratio", "figure"]
    op: Literal[">=", "<="]
    value: float
    of: str = ""  # what a ratio compares with: "echo JSON", "1 worker", "first page"
    unit: str = ""  # of a figure target

    def met(self, measured: float) -> bool:
        return measured >= self.value if self.op == ">=" else measured <= self.value

    @property
    def text(self) -> str:
        sign = "≥" if self.op == ">=" else "≤"
        if self.on == "ratio":
            return f"{sign} {self.value:g}× {self.of}"
        return f"{sign} {self.value:g} {self.unit}"


def at_least(ratio: float, of: str) -> Target:
    return Target("ratio", ">=", ratio, of=of)


def at_most(ratio: float, of: str) -> Target:
    return Target("ratio", "<=", ratio, of=of)


def below(value: float, unit: str) -> Target:
    return Target("figure", "<=", value, unit=unit)


@dataclass(frozen=True, slots=True)
class Row:
    scenario: str
    figure: float | None = None
    unit: str = ""
    floor: float | None = None
    floor_unit: str = ""
    floor_name: str = ""  # what the floor is, in words (default: the target's ``of``)
    target: Target | None = None
    note: str = ""
    problem: str = ""  # the load saw errors: the figure does not count
    skipped: str = ""

    @property
    def ratio(self) -> float | None:
        if self.figure is None or not self.floor:
            return None
        return self.figure / self.floor

    @property
    def passed(self) -> bool | None:
        """True/False against the target; None when there is nothing to judge."""
        if self.skipped or self.target is None or self.figure is None:
            return None
        if self.problem:
            return False
        measured = self.ratio if self.target.on == "ratio" else self.figure
        return measured is not None and self.target.met(measured)

    def result(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        if self.problem and self.figure is None:
            return "error"
        verdict = self.passed
        if verdict is None:
            return "—"
        return "pass" if verdict else "FAIL"


def skipped(scenario: str, why: str, target: Target | None = None) -> Row:
    return Row(scenario, target=target, skipped=why)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}".strip()


def ratio_text(row: Row) -> str:
    """The row's ratio as :func:`format_ratio` writes it against the row's target."""
    if row.ratio is None:
        return "—"
    target = row.target
    return format_ratio(row.ratio, target.value if target and target.on == "ratio" else None)


def format_ratio(ratio: float, threshold: float | None) -> str:
    """A ratio to two decimals, or three where two would round it onto ``threshold``
    (0.296x against >= 0.3x must not read as 0.30x and FAIL)."""
    text = f"{ratio:.2f}"
    if threshold is not None and float(text) == threshold:
        text = f"{ratio:.3f}"
    return text + "×"


def _cells(row: Row) -> list[str]:
    note = "; ".join(part for part in (row.problem, row.note) if part)
    return [
        row.scenario,
        _number(row.figure, row.unit),
        _number(row.floor, row.floor_unit or row.unit),
        ratio_text(row),
        row.target.text if row.target else "—",
        row.result(),
        note,
    ]


HEADER = ["scenario", "rehber", "floor", "ratio", "target", "result", "notes"]


def _markdown(header: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(line).replace("\n", " ") + " |" for line in cells]
    return "\n".join(lines)


def markdown_table(rows: Sequence[Row]) -> str:
    return _markdown(HEADER, [_cells(row) for row in rows])


def floor_table(rows: Sequence[Row]) -> str:
    """Floors have a figure and no target."""
    cells = [
        [
            row.scenario,
            f"skipped: {row.skipped}" if row.skipped else _number(row.figure, row.unit),
            "; ".join(part for part in (row.problem, row.note) if part),
        ]
        for row in rows
    ]
    return _markdown(["floor", "figure", "notes"], cells)


def sentence(row: Row) -> str:
    """The row in words, for the list under the table."""
    if row.skipped:
        return f"**{row.scenario}** was skipped: {row.skipped}."
    if row.figure is None:
        return f"**{row.scenario}** did not run: {row.problem}."
    text = f"**{row.scenario}**: {_number(row.figure, row.unit)}"
    if row.ratio is not None:
        versus = row.floor_name or (row.target.of if row.target else "") or "the floor"
        floor = _number(row.floor, row.floor_unit or row.unit)
        text += f" against {floor} for {versus}, {ratio_text(row)}"
    if row.target is None:
        return text + " (for information; no target)."
    if row.problem:  # the figure does not count, whatever it is
        return text + f"; does not count for the target {row.target.text}: {row.problem}."
    verdict = "meets" if row.passed else "misses"
    return text + f"; {verdict} the target {row.target.text}."


def text_table(rows: Sequence[Row], note_width: int = 60) -> str:
    """The same table for a terminal: aligned columns, long notes cut."""
    cells = [HEADER, *([*c[:-1], c[-1][:note_width]] for c in map(_cells, rows))]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    out = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in cells
    ]
    out.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in out)


def summary(rows: Sequence[Row]) -> str:
    judged = [row for row in rows if row.passed is not None]
    passed = sum(1 for row in judged if row.passed)
    skipped_rows = sum(1 for row in rows if row.skipped)
    return f"{passed} of {len(judged)} targets met; {skipped_rows} skipped"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def revision() -> str:
    """The commit rehber was measured at, and whether ``src/`` differed from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}{' with uncommitted changes under src/' if dirty else ''}"


def machine() -> dict[str, str]:
    load = os.getloadavg()
    return {
        "cores": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        "revision": revision(),
    }


def write_results(
    path: Path,
    rows: Sequence[Row],
    floors: Sequence[Row],
    *,
    info: dict[str, str],
    command: str,
    seconds: float,
) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Last run: {info['date']}, `{command}`, {seconds / 60:.1f} minutes, rehber at "
        f"{info['revision']}.",
        f"Machine: {info['cores']} cores, {info['cpu']}, {info['system']}, "
        f"Python {info['python']}; load average at the start {info['load']}; processes "
        f"outside the bench used {info['others']} of the machine's CPU during the run.",
        "Every load ran on 127.0.0.1 with the load generator on the same machine; each ratio "
        "compares figures measured in this same run. What each row measures: "
        "[README.md](README.md).",
        "",
        *([f"**Warning: {info['warning']}.**", ""] if "warning" in info else []),
        f"**{summary(rows)}.**",
        "",
        markdown_table(rows),
        "",
        "## In words",
        "",
        *(f"- {sentence(row)}" for row in rows),
        "",
        "## Floors measured in this run",
        "",
        floor_table(floors),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


README_START = "<!-- bench results: written by `make bench` (bench/report.py) -->"
README_END = "<!-- end of bench results -->"


def readme_summary(rows: Sequence[Row], *, info: dict[str, str]) -> str:
    """The lines a full run writes into the top-level README: one sentence per result."""
    lines = [
        f"Last full run: {info['date']}, {info['cores']} cores, rehber at {info['revision']} "
        f"(the table: [bench/RESULTS.md](bench/RESULTS.md)). {summary(rows)}.",
        "",
        *(f"- {sentence(row)}" for row in rows),
    ]
    return "\n".join(lines)


def update_readme(path: Path, rows: Sequence[Row], *, info: dict[str, str]) -> bool:
    """Replace the text between the README's bench markers; False if it has none."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    body = readme_summary(rows, info=info)
    head = text[: start + len(README_START)]
    path.write_text(f"{head}\n{body}\n{text[end:]}", encoding="utf-8")
    return True
