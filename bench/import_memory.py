"""Peak memory of ``rehber contacts import`` for CSV files of growing size (issue 3).

The import streams the file through add-contacts in batches, so the client's peak memory
should not grow with the file. This script starts a ``rehber serve`` on a fresh SQLite file
(127.0.0.1, a free port, stopped by its process id at the end), writes CSV files of each size
(semicolon-separated, with a BOM and a custom-field column, as Excel in Turkish writes them),
and imports each twice, in a fresh Python process every time:

* plain: the child reports its peak RSS (``ru_maxrss``), its RSS before the import started
  (interpreter + rehber + click + rich + httpx loaded) and the wall time;
* traced: the same under ``tracemalloc``, which reports the peak of Python allocations.

    .venv/bin/python bench/import_memory.py                 # 10,000 and 100,000 rows
    .venv/bin/python bench/import_memory.py --rows 1000 --rows 200000

Work files go to ``bench/.work/import_memory/`` (ignored by git) and are removed afterwards.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work" / "import_memory"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rehber(*args: str) -> str:
    command = [sys.executable, "-m", "rehber.cli", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _write_csv(path: Path, rows: int, field_id: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["name", "surname", "email", "gsm", f"field:{field_id}"])
        for i in range(rows):
            gsm = f"05{30 + i % 10}{i % 10_000_000:07d}"
            email = f"kisi{i}@example.com"
            writer.writerow([f"Kişi {i}", "Yılmaz", email, gsm, f"{i % 28 + 1}/09"])


def _start_server(database: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHBER_")}
    args = [sys.executable, "-m", "rehber.cli", "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*args, "--database", database], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rehber serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/_rehber/health", timeout=1).status_code == 200:
                return process, f"{base}/v1/"
        except httpx.TransportError:
            time.sleep(0.1)  # the port is not open yet
    process.terminate()
    raise RuntimeError("rehber serve did not start in 60 s")


def _measure(path: Path, env: dict[str, str], traced: bool, rows: int) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", str(path)] + (["--traced"] if traced else [])
    done = subprocess.run(args, check=True, capture_output=True, text=True, env=env)
    summary, measured = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    if summary["added"] != rows:
        raise RuntimeError(f"import of {rows:,} rows went wrong: {summary}")
    return {**measured, "added": summary["added"]}


def child(path: Path, traced: bool) -> None:
    """Run the import in this process and print what it cost (the last stdout line)."""
    from rehber.cli.main import main

    if traced:
        tracemalloc.start()
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        main(["contacts", "import", str(path), "--json"], standalone_mode=False)
    finally:
        elapsed = time.perf_counter() - started
    result = {
        "seconds": round(elapsed, 2),
        "rss_before_mib": round(before_kib / 1024, 1),
        "rss_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if traced:
        result["traced_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="rows per file (repeatable)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.traced)
        return
    sizes = options.rows or [10_000, 100_000]
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    database = f"sqlite:///{WORK / 'rehber.db'}"
    account = json.loads(_rehber("accounts", "create", "bench", "--json", "--database", database))
    account_option = ["--account", str(account["account_id"]), "--database", database]
    field = json.loads(_rehber("fields", "create", "Tarih", "--json", *account_option))
    process, base_url = _start_server(database, WORK / "server.log")
    env = {**os.environ, "REHBER_BASE_URL": base_url}
    env |= {"REHBER_API_KEY": account["key"], "REHBER_API_HASH": account["hash"]}
    rows = []
    try:
        for size in sizes:
            path = WORK / f"contacts-{size}.csv"
            _write_csv(path, size, field["id"])
            plain = _measure(path, env, False, size)
            traced = _measure(path, env, True, size)
            rows.append((size, path.stat().st_size, plain, traced))
            path.unlink()
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(WORK, ignore_errors=True)
    print("| rows | added | file MiB | seconds | RSS before import | peak RSS | peak traced |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, file_bytes, plain, traced in rows:
        print(
            f"| {size:,} | {plain['added']:,} | {file_bytes / 2**20:.1f} | {plain['seconds']} | "
            f"{plain['rss_before_mib']} MiB | {plain['rss_peak_mib']} MiB | "
            f"{traced['traced_peak_mib']} MiB |"
        )


if __name__ == "__main__":
    main()
