"""Benchmark: load + compute of a national-scale synthetic extract into SQLite.

Targets (issue 9): five years at national scale (~38 million person-months) loaded
and computed in under 150 s and 8 GB peak memory; one new month's incremental load +
compute in under 8 s (the issue "Indicator engine" asked 5 minutes and 20 s). The
last lines are a summary of these figures with the machine's load average.

    .venv/bin/python bench/bench_compute.py                 # full size (minutes)
    .venv/bin/python bench/bench_compute.py --scale 0.05 --months 12

The synthetic Parquet files are generated in a child process (so the generator's
memory is not counted) and kept in --workdir for reuse; the database is fresh each run.
Prints every figure: times, rows/s, peak RSS, SQLite file sizes.

Measured on the 2-core development machine (shared, so +-20%), 2026-11-22:

* full size, 60 months, 37.8M rows: load 157 s + compute 104 s = 260 s (compute was
  254 s before row-sized chunks, prefetching reads, one sorted publish and background
  writes); incremental month: load 2.8 s + compute 9.3 s = 12.0 s (was 14.3 s).
  Peak RSS 10.96 GB, reached during the load (the same before and after); a full
  recompute of the 61 months alone in a fresh process peaks at 5.7 GB.
* after the loader streams large sources (same day, later run): load 137.0 s +
  compute 88.2 s = 225.2 s; incremental month 2.8 s + 8.1 s = 10.9 s; peak RSS
  5,845 MB (2,267 MB after the load); SQLite files 850 MB published, 5,096 MB microdata.
* the demo (`trialmon demo --scale 0.02`, 72 months, 0.94M rows): compute 33 s, 41 s
  with building the data (was 110 s / 120 s).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trialmon.months import shift_month  # noqa: E402 (after the path insert)

BULK_TARGET_SECONDS = 150  # issue 9
INCREMENT_TARGET_SECONDS = 8  # issue 9


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, scale: float, start: str, end: str, seed: int) -> None:
    """Write the synthetic extract in a child process, unless already there."""
    if path.exists():
        print(f"reusing {path}")
        return
    code = ("import sys; from etl.demo import write_parquet; "
            "print(write_parquet(sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], "
            "int(sys.argv[5])))")
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(path), str(scale), start, end,
                          str(seed)], cwd=ROOT, check=True, capture_output=True, text=True)
    print(f"generated {int(out.stdout.split()[-1]):,} rows {start}..{end} -> {path} in "
          f"{time.perf_counter() - started:.1f} s")


def load_and_compute(url: str, path: Path, label: str) -> tuple[float, int]:
    """What `trialmon load register --synthetic FILE` does; prints and returns (s, rows)."""
    from etl.register import load_register_files
    from indicators.engine import compute

    started = time.perf_counter()
    loaded = load_register_files(url, [path], synthetic=True, progress=False)
    load_seconds = time.perf_counter() - started
    load_peak = peak_rss_mb()
    report = compute(url, months=sorted(loaded.changed_months), progress=False)
    total = time.perf_counter() - started
    rows = loaded.rows_read
    print(f"[{label}] load {load_seconds:.1f} s, compute {report.seconds:.1f} s "
          f"({len(report.months)} months, {report.rows_read:,} rows read, "
          f"{report.published_rows:,} cells published), total {total:.1f} s")
    print(f"[{label}] compute phases: " + ", ".join(
        f"{name} {seconds:.1f} s" for name, seconds in report.phases.items()))
    print(f"[{label}] peak RSS so far {peak_rss_mb():,.0f} MB (after the load: {load_peak:,.0f} MB)")
    return total, rows


def sizes(url: str) -> None:
    from trialmon.db import sqlite_paths

    for file in sqlite_paths(url):
        wal = file.with_name(file.name + "-wal")
        extra = wal.stat().st_size if wal.exists() else 0
        print(f"size {file.name}: {(file.stat().st_size + extra) / 1e6:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--start", default="2020-01")
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/trialmon-bench"))
    parser.add_argument("--new-months", type=int, default=3,
                        help="new months loaded and computed one after another (each timed)")
    args = parser.parse_args()

    end = shift_month(args.start, args.months - 1)
    new_months = [shift_month(end, i + 1) for i in range(args.new_months)]
    args.workdir.mkdir(parents=True, exist_ok=True)
    stem = f"demo-{args.scale:g}-{args.seed}"
    bulk = args.workdir / f"{stem}-{args.start}-{end}.parquet"
    increments = {m: args.workdir / f"{stem}-{m}.parquet" for m in new_months}
    generate(bulk, args.scale, args.start, end, args.seed)
    for month, increment in increments.items():
        generate(increment, args.scale, month, month, args.seed)

    database = args.workdir / "db"
    shutil.rmtree(database, ignore_errors=True)
    url = f"sqlite:///{(database / 'trialmon.sqlite').as_posix()}"
    from shell.pipeline import prepare_database as upgrade

    upgrade(url)
    bulk_total, rows = load_and_compute(url, bulk, f"bulk {args.start}..{end}")
    print(f"bulk: {bulk_total:.1f} s end to end = {rows / bulk_total:,.0f} rows/s")
    bulk_load_average = os.getloadavg()
    increment_totals = {m: load_and_compute(url, increment, f"incremental {m}")[0]
                        for m, increment in increments.items()}
    sizes(url)
    print(f"\nsummary ({rows:,} rows, {args.months} months, scale {args.scale:g}; load average "
          f"{', '.join(f'{x:.1f}' for x in bulk_load_average)} after the bulk run, "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end):\n"
          f"  load + compute of {args.start}..{end}: {bulk_total:.1f} s "
          f"(target < {BULK_TARGET_SECONDS} s at national scale, 60 months)\n"
          f"  one new month, incremental load + compute: "
          f"{', '.join(f'{m} {t:.1f} s' for m, t in increment_totals.items())}; "
          f"slowest {max(increment_totals.values(), default=0):.1f} s "
          f"(target < {INCREMENT_TARGET_SECONDS} s)\n"
          f"  peak RSS {peak_rss_mb():,.0f} MB (target < 8,192 MB)")


if __name__ == "__main__":
    main()
