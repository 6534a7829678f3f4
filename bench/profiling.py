"""``--profile``: sample the rehber server with py-spy while each figure is measured.

py-spy attaches to the running ``rehber serve`` (and its worker processes) from outside, sees
every thread, and needs no change to the server. It is installed on first use with pip into
``bench/.work/tools`` at a pinned version. For each measurement it writes
``bench/.work/profiles/<name>.raw`` (collapsed stacks, for flame-graph tools) and
``<name>.txt``: the functions with the most samples, by own time and including callees.
Sampling costs CPU on the same machine, so a profiled run's figures are not comparable with an
unprofiled one's; ``--profile`` therefore never writes ``bench/RESULTS.md``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench.common import WORK, Skip, log

PY_SPY = "py-spy==0.4.3"
TOOLS = WORK / "tools"
PROFILES = WORK / "profiles"
_RATE = 200  # samples per second


def ensure_py_spy() -> Path:
    binary = TOOLS / "bin" / "py-spy"
    if binary.exists():
        return binary
    log(f"  pip install {PY_SPY} (into {TOOLS})")
    argv = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(TOOLS), PY_SPY]
    try:
        subprocess.run(argv, check=True, capture_output=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        raise Skip(f"could not install {PY_SPY}: {exc}") from exc
    if not binary.exists():
        raise Skip(f"{PY_SPY} installed no py-spy binary")
    return binary


@contextlib.contextmanager
def sampled(pid: int, name: str) -> Iterator[None]:
    """Sample process ``pid`` and its children for the duration of the block."""
    raw = PROFILES / f"{name}.raw"
    raw.parent.mkdir(parents=True, exist_ok=True)
    argv = [str(ensure_py_spy()), "record", "--pid", str(pid), "--subprocesses",
            "--rate", str(_RATE), "--format", "raw", "--output", str(raw),
            "--duration", "900", "--nonblocking"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(TOOLS)}
    spy = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
    if raw.exists():
        summary = raw.with_suffix(".txt")
        summary.write_text(summarize(raw))
        log(f"  profile: {summary.relative_to(WORK.parent.parent)}")


def summarize(raw: Path, top: int = 30) -> str:
    """The frames with the most samples: own time, then including callees (rehber's own code
    and the libraries it calls; interpreter and threading plumbing left out)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")[1:]  # the first entry names the process
        if not frames:
            continue
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    if not total:
        return "no samples\n"
    plumbing = ("threading.py", "click/core.py", "runners.py", "uvicorn/main.py", "<module>")
    lines = [f"{total} samples at {_RATE}/s", "", "own time:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "including callees:"]
    listed = [(f, n) for f, n in inclusive.most_common() if not any(p in f for p in plumbing)]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in listed[:top]]
    return "\n".join(lines) + "\n"
