"""Servers the benchmark starts: subprocesses in their own session, stopped by their own id,
with their resident memory (the process and all its children) sampled while they run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx

from bench.common import HOST, ROOT, WORK, log

_PAGE_KB = 1024


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants that are alive now."""
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue.extend(_children(current))
    return tree


def _status_kb(pid: int, fields: Sequence[str]) -> dict[str, int]:
    values: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            if name in fields:
                values[name] = int(rest.split()[0])
    return values


class MemoryWatch(threading.Thread):
    """Samples VmRSS of a process tree every ``interval`` seconds and keeps each process's
    last VmHWM (its own peak, which catches spikes between samples)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True, name=f"memory-{pid}")
        self.pid = pid
        self.interval = interval
        self.peak_tree_rss_kb = 0
        self.hwm_kb: dict[int, int] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def sample(self) -> None:
        total = 0
        for pid in process_tree(self.pid):
            values = _status_kb(pid, ("VmRSS", "VmHWM"))
            total += values.get("VmRSS", 0)
            if "VmHWM" in values:
                self.hwm_kb[pid] = values["VmHWM"]
        self.peak_tree_rss_kb = max(self.peak_tree_rss_kb, total)

    def stop(self) -> None:
        self.sample()
        self._stop_event.set()

    @property
    def peak_mb(self) -> float:
        """The larger of the sampled peak of the whole tree and the sum of every process's
        own high-water mark (an upper bound: the peaks need not coincide)."""
        return max(self.peak_tree_rss_kb, sum(self.hwm_kb.values())) / _PAGE_KB


class Service:
    """A server subprocess: started in its own session, ready once ``ready`` answers, stopped
    (with its children) by signalling its own process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int,
        ready_path: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        start_timeout: float = 60.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.ready_path = ready_path
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.log_path = WORK / "logs" / f"{name}-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.memory: MemoryWatch | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Service:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as output:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.memory = MemoryWatch(self.process.pid)
        self.memory.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}: {self.tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if self.ready_path is None:
                    with httpx.Client() as client:  # any HTTP answer means it is listening
                        client.get(self.url + "/", timeout=1.0)
                    return
                if httpx.get(self.url + self.ready_path, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready in {self.start_timeout:.0f}s")

    def tail(self, lines: int = 5) -> str:
        with contextlib.suppress(OSError):
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            if self.memory is not None:
                self.memory.stop()
            return
        if self.memory is not None:
            self.memory.stop()
        pgid = self.process.pid  # start_new_session: the group is ours alone
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log(f"{self.name} ignored SIGTERM; killing its process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=5)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def peak_rss_mb(self) -> float:
        return self.memory.peak_mb if self.memory else 0.0
