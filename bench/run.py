"""``python -m bench.run``: measure the floors and rehber in one run, print the table, and
write it to ``bench/RESULTS.md``.

    python -m bench.run                      # everything (make bench), 5 to 8 minutes
    python -m bench.run --quick              # shorter loads, 50,000 contacts at scale
    python -m bench.run --only reads,writes  # some scenarios (and the floors they need)

A full run writes ``bench/RESULTS.md``; ``--quick`` and ``--only`` write
``bench/.work/RESULTS.md`` unless ``--output`` says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from bench import scenarios
from bench.common import BENCH, ROOT, WORK, CpuClock, Options, Skip, log
from bench.context import Bench
from bench.load import ensure_wrk
from bench.peers import peers
from bench.report import (
    Row,
    machine,
    skipped,
    summary,
    text_table,
    update_readme,
    write_results,
)
from bench.scale import scale


def floors(bench: Bench) -> None:
    """Every floor not measured yet, so that the floor table is complete. It runs last: each
    scenario measures the floors it is compared with right before its own figures."""
    bench.measure_missing_floors()


README = ROOT / "README.md"
_BUSY = 0.15  # share of the machine's CPU other processes may use before the results warn

SCENARIOS: dict[str, Callable[[Bench], None]] = {
    "reads": scenarios.reads,
    "writes": scenarios.writes,
    "workers": scenarios.workers,
    "ingest": scenarios.ingest,
    "postgres": scenarios.postgres,
    "mixed": scenarios.mixed,
    "scale": scale,
    "peers": peers,
    "floors": floors,
}


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short loads, for development")
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated scenarios out of: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample rehber with py-spy during each measurement (bench/.work/profiles/)",
    )
    parser.add_argument("--output", type=Path, default=None, help="where to write the table")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        parser.error(
            f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}"
        )
    args.chosen = chosen or list(SCENARIOS)
    if args.output is None:
        partial = args.quick or args.profile or bool(chosen)
        args.output = WORK / "RESULTS.md" if partial else BENCH / "RESULTS.md"
    return args


def _run(bench: Bench, name: str) -> bool:
    """Run one scenario; False if it crashed (recorded as a failed row)."""
    log(f"== {name}")
    try:
        SCENARIOS[name](bench)
    except Skip as exc:
        log(f"   skipped: {exc}")
        bench.add(skipped(name, str(exc)))
    except Exception as exc:  # one broken scenario must not hide the others' figures
        traceback.print_exc()
        bench.add(Row(name, problem=f"crashed: {type(exc).__name__}: {exc}"[:200]))
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    opts = replace(Options.create(quick=args.quick), profile=args.profile)
    info = machine()
    WORK.mkdir(parents=True, exist_ok=True)
    started, clock = time.monotonic(), CpuClock.now()
    log(f"{info['cores']} cores, {info['cpu']}, load average {info['load']}")
    bench = Bench(opts)
    try:
        ensure_wrk()
    except Skip as exc:
        log(f"cannot run without wrk: {exc}")
        return 2
    try:
        crashed = [name for name in args.chosen if not _run(bench, name)]
    finally:
        bench.close()
    seconds = time.monotonic() - started
    others = CpuClock.now().others_since(clock)
    share = others / seconds / (os.cpu_count() or 1)
    info["others"] = f"{others:,.0f} CPU-seconds ({share:.0%})"
    if share > _BUSY:
        info["warning"] = (
            f"other processes used {share:.0%} of this machine's CPU during the run: every "
            "figure is depressed and noisy, and ratios only partly make up for that"
        )
        log(f"warning: {info['warning']}")
    print()
    print(text_table(bench.rows))
    print()
    print(
        f"{summary(bench.rows)}; {seconds / 60:.1f} minutes; other processes used {info['others']}"
    )
    command = "python -m bench.run" + (" " + " ".join(sys.argv[1:]) if argv is None else "")
    write_results(
        args.output,
        bench.rows,
        bench.floor_rows(),
        info=info,
        command=command.strip(),
        seconds=seconds,
    )
    log(f"wrote {args.output}")
    if args.output == BENCH / "RESULTS.md" and update_readme(README, bench.rows, info=info):
        log(f"updated the results in {README}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
