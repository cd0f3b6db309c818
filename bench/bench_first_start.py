"""Benchmark of the first start: `python app.py` on an empty data folder (README's `make run`).

Issue 13 asks the first start to take under a minute on this machine. It builds the
synthetic demo data (generate and load 72 months), publishes the Overview's first view
(shell/pipeline.py, DEMO_FIRST_VIEW) and starts serving; the other months, the effect
estimates and the bulk download files follow while it serves.

Prints: seconds until the dashboard answers with data (/readyz 200 and a page), until
every demo month is published, the process tree's peak resident memory (sampled from
/proc every 0.2 s) and the data folder's size at the end.

Run: .venv/bin/python bench/bench_first_start.py [--scale 0.2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONTHS = 72  # the demo's 2020-01 .. 2025-12


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=None,
                        help="demo scale (default: the product's default)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="trialmon-first-start-"))
    data = folder / "data"
    shutil.rmtree(data, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {**os.environ, "TRIALMON_DATA_DIR": str(data), "TRIALMON_PORT": str(port)}
    env.pop("TRIALMON_DB_URL", None)
    if args.scale is not None:
        env["TRIALMON_DEMO_SCALE"] = str(args.scale)
    base = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=log)
    peak, done = [0], threading.Event()

    def sample() -> None:  # the process tree's resident memory, every 0.2 s
        while not done.wait(0.2):
            peak[0] = max(peak[0], _tree_rss(server.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        up = _wait(lambda: _status(base + "/readyz") == 200 and _status(base + "/en/") == 200,
                   server, started)
        first_view = len(_months(base))
        _wait(lambda: len(_months(base)) >= MONTHS, server, started)
        history = time.monotonic() - started
        _wait(lambda: b"demo data complete" in (folder / "server.log").read_bytes(),
              server, started)
        complete = time.monotonic() - started
    finally:
        done.set()
        sampler.join()
        server.terminate()
        server.wait(60)
        log.close()
    peak = peak[0]
    size = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
    print(f"first start, scale {env.get('TRIALMON_DEMO_SCALE', 'default')}:")
    print(f"  dashboard up with data: {up:.1f} s ({first_view} months published)")
    print(f"  all {MONTHS} months published: {history:.1f} s")
    print(f"  complete (effects and bulk files too): {complete:.1f} s")
    print(f"  peak memory of the process tree: {peak / 2**30:.2f} GiB")
    files = ", ".join(f"{p.name} {p.stat().st_size / 1e6:,.0f} MB"
                      for p in sorted(data.glob("*.sqlite")))
    print(f"  data folder: {size / 1e6:,.0f} MB = {size / 2**30:.2f} GiB ({files})")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


def _wait(ready, server, started) -> float:
    while not ready():
        assert server.poll() is None, "the server stopped"
        assert time.monotonic() - started < 1800, "not up in 30 minutes"
        time.sleep(0.2)
    return time.monotonic() - started


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            answer.read()
            return answer.status
    except OSError:
        return 0


def _months(base: str) -> list[str]:
    url = (base + "/api/v1/indicators?indicator=unemployed&area=SSS&population=all"
           "&group=all&format=json")
    with urllib.request.urlopen(url, timeout=30) as answer:
        rows = json.load(answer)
    rows = rows["data"] if isinstance(rows, dict) else rows
    return sorted({r["month"] for r in rows})


def _tree_rss(pid: int) -> int:
    """Resident memory of `pid` and its descendants (bytes), from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except OSError:
                continue
    tree, grew = {pid}, True
    while grew:
        children = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    total = 0
    for member in tree:
        try:
            pages = int((Path("/proc") / str(member) / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += pages * os.sysconf("SC_PAGE_SIZE")
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
