"""Benchmark: loading a national-scale register extract (issues 2 and 9).

Writes a 12-month Parquet extract (about 8 million rows at --scale 1.0), then runs
each stage in a fresh subprocess and prints its time, rows per second and peak
memory (the child's own ru_maxrss):

1. Polars read of the file (for reference);
2. the floor: Polars reads the Parquet and ADBC writes it into a fresh SQLite table
   (read + write timed together);
3. end to end ``trialmon load register`` (read, validate, write into the table keyed by
   (month, person_id)) into SQLite, and its ratio to the floor, side by side in the same
   run (the floor stays a bare table: rowid, no key, dates as ADBC writes them);
4. the same into PostgreSQL (a throwaway server, tests.pgserver).

Target (issue 9): end to end within 1.5x of the floor, peak memory under 4 GB.
``--profile FILE`` runs stage 3 under py-spy (``pip install py-spy``) and writes its
samples as a speedscope/flamegraph file; ``--top`` prints the profile's top lines.

    .venv/bin/python bench/bench_load.py                  # full size
    .venv/bin/python bench/bench_load.py --scale 0.02     # small
    .venv/bin/python bench/bench_load.py --rows 200000 --months 3   # built-in generator
    .venv/bin/python bench/bench_load.py --extract five-years.parquet --no-postgres
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ROWS_PER_MONTH_NATIONAL = 650_000
END_MONTH = "2024-12"


# --------------------------------------------------------------------------- the extract


def months_ending(end: str, months: int) -> list[str]:
    from trialmon.months import month_range, shift_month

    return list(month_range(shift_month(end, 1 - months), end))


def simple_month(month: str, rows: int, codes: list[str], rng: np.random.Generator
                 ) -> pl.DataFrame:
    """Valid contract rows for one month, vectorised (used when etl.demo is not available)."""
    from etl.contract import SERVICE_TYPES, STATUS_CODES

    month_start = pl.Series([month + "-01"]).str.to_date()[0]
    status = rng.choice(STATUS_CODES, rows, p=[0.45, 0.05, 0.02, 0.25, 0.08, 0.15])
    spell_days = rng.integers(0, 2000, rows)
    return pl.DataFrame({
        "month": month,
        "person_id": rng.permutation(int(rows * 1.3))[:rows],
        "municipality_code": rng.choice(codes, rows),
        "age": rng.integers(15, 100, rows).astype(np.int16),
        "sex": rng.choice(["M", "F"], rows),
        "foreign_language": rng.random(rows) < 0.15,
        "earnings_related": rng.random(rows) < 0.6,
        "status": status,
        "service_days": spell_days // 3,
        "spell_days": spell_days,
        "responsibility": rng.choice(["trial", "te_office"], rows, p=[0.4, 0.6]),
        "service_pick": rng.choice(SERVICE_TYPES, rows),
        "review_days": rng.integers(-400, 28, rows),
    }).select(
        "month",
        pl.format("P{}", pl.col("person_id").cast(pl.String).str.zfill(9)).alias("person_id"),
        "municipality_code", "age", "sex", "foreign_language", "earnings_related", "status",
        pl.when(pl.col("status") == "service").then("service_pick").alias("service_type"),
        "responsibility",
        (pl.lit(month_start) - pl.duration(days="spell_days")).alias("registered_on"),
        pl.when(pl.col("status").is_in(["unemployed", "laid_off"]))
        .then(pl.lit(month_start) - pl.duration(days="service_days")).alias("unemployment_start"),
        pl.when(pl.col("review_days") > 0)
        .then(pl.lit(month_start) + pl.duration(days="review_days")).alias("initial_interview_on"),
        pl.when(pl.col("review_days") % 3 == 0)
        .then(pl.lit(month_start) - pl.duration(days=pl.col("review_days").abs()))
        .alias("plan_updated_on"),
        pl.when(pl.col("review_days") % 2 == 0)
        .then(pl.lit(month_start) + pl.duration(days=pl.col("review_days") // 2))
        .alias("last_review_on"),
    )


def write_simple(path: Path, months: list[str], rows_per_month: int, seed: int) -> int:
    import pyarrow.parquet as pq

    from etl.reference import load_reference

    areas = load_reference().areas
    codes = (areas.filter((pl.col("area_type") == "municipality") & pl.col("valid_to").is_null())
             ["area_code"].to_list())
    rng = np.random.default_rng(seed)
    writer = None
    for month in months:
        table = simple_month(month, rows_per_month, codes, rng).to_arrow()
        writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)
    writer.close()
    return rows_per_month * len(months)


def write_extract(path: Path, args) -> str:
    months = months_ending(END_MONTH, args.months)
    if args.rows is None:
        try:
            from etl.demo import write_parquet

            write_parquet(path, scale=args.scale, start=months[0], end=months[-1], seed=2021)
            return f"etl.demo.write_parquet(scale={args.scale})"
        except Exception as error:  # the demo generator is optional for this benchmark
            print(f"etl.demo unavailable ({type(error).__name__}: {error}); "
                  "using the built-in generator", file=sys.stderr)
    rows = args.rows or int(args.scale * ROWS_PER_MONTH_NATIONAL * args.months)
    write_simple(path, months, rows // args.months, seed=2021)
    return "built-in generator"


# --------------------------------------------------------------------------- stages


def stage_read(path: str) -> int:
    return pl.read_parquet(path).height


def stage_bare_sqlite(path: str, db: str) -> int:
    """The floor: Arrow rows straight into an empty, index-free SQLite table."""
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    started, cpu = time.perf_counter(), time.process_time()  # read + write: the floor
    table = pl.read_parquet(path).with_columns(
        pl.col("age").cast(pl.Int16), pl.lit(1, pl.Int32).alias("vintage_id")
    ).to_arrow(compat_level=pl.CompatLevel.newest())
    with adbc_sqlite.connect(db) as conn, conn.cursor() as cursor:
        cursor.adbc_ingest("register_row", table, mode="create")
        conn.commit()
    print(json.dumps({"write_seconds": time.perf_counter() - started,
                      "write_cpu": time.process_time() - cpu}))
    return table.num_rows


def stage_load(path: str, url: str) -> int:
    import adbc_driver_sqlite.dbapi  # noqa: F401 (imported before the clock, as in the floor)

    from etl.register import load_register_files
    from shell.pipeline import prepare_database as upgrade

    upgrade(url)
    started, cpu = time.perf_counter(), time.process_time()
    report = load_register_files(url, [path], synthetic=True, progress=True)
    print(json.dumps({"write_seconds": time.perf_counter() - started,
                      "write_cpu": time.process_time() - cpu}))
    return report.rows_read


def run_stage(*argv: str, profile: Path | None = None) -> dict:
    """One stage in a fresh interpreter; its time, rows and peak memory (under py-spy
    when `profile` names an output file)."""
    started = time.perf_counter()
    command = [sys.executable, __file__, "--stage", *argv]
    if profile is not None:
        spy = Path(sys.executable).with_name("py-spy")
        command = [str(spy), "record", "--native", "--threads", "--rate", "50", "--format",
                   "raw", "--output", str(profile), "--", *command]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"stage {argv[0]} failed:\n{done.stderr}")
    figures = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            figures.update(json.loads(line))
    figures["process_seconds"] = seconds
    return figures


def child(argv: list[str]) -> None:
    name, *rest = argv
    started, cpu = time.perf_counter(), time.process_time()
    rows = {"read": stage_read, "bare": stage_bare_sqlite, "load": stage_load}[name](*rest)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started,
                      "cpu": time.process_time() - cpu, "peak_mb": peak_kb / 1024}))


def profile_top(profile: Path, lines: int = 15) -> str:
    """The profile's top lines: inclusive share of the project's functions (main thread
    and helpers together) and the heaviest leaf frames, from py-spy's collapsed stacks."""
    inclusive: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = stack.split(";")
        for frame in dict.fromkeys(f for f in frames if any(
                part in f for part in ("etl/", "trialmon/", "indicators/"))):
            inclusive[frame] = inclusive.get(frame, 0) + samples
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + samples
    out = [f"profile: {total} samples; project functions, inclusive:"]
    out += [f"  {100 * n / total:5.1f}%  {f}" for f, n in
            sorted(inclusive.items(), key=lambda kv: -kv[1])[:lines]]
    out += ["leaf frames (self):"]
    out += [f"  {100 * n / total:5.1f}%  {f[:110]}" for f, n in
            sorted(leaves.items(), key=lambda kv: -kv[1])[:lines]]
    return "\n".join(out)


def report_line(label: str, figures: dict, timed: str = "seconds", cpu: str = "cpu") -> str:
    """Wall time (the machine may be shared, so CPU time too), rows/s, peak memory."""
    seconds = figures[timed]
    return (f"{label:<42} {seconds:7.1f} s (cpu {figures[cpu]:6.1f} s) "
            f"{figures['rows'] / seconds:>10,.0f} rows/s  peak {figures['peak_mb']:>6,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = national size")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--rows", type=int, default=None,
                        help="total rows, with the built-in generator instead of etl.demo")
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    parser.add_argument("--extract", type=Path, default=None,
                        help="an existing Parquet extract to load instead of generating one")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", type=Path, default=None,
                        help="py-spy samples of the SQLite load stage (collapsed stacks)")
    parser.add_argument("--top", type=Path, default=None,
                        help="print the top lines of an existing profile and stop")
    args = parser.parse_args()
    if args.top is not None:
        print(profile_top(args.top))
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="trialmon-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(work, args)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args) -> None:
    extract = args.extract or work / "extract.parquet"
    if not extract.exists():
        started = time.perf_counter()
        source = write_extract(extract, args)
        print(f"extract: {source}, {time.perf_counter() - started:.0f} s to generate")
    rows = pl.scan_parquet(extract).select(pl.len()).collect().item()
    months = pl.scan_parquet(extract).select(pl.col("month").n_unique()).collect().item()
    print(f"extract: {rows:,} rows, {months} months, "
          f"{extract.stat().st_size / 2**20:,.0f} MB Parquet\n")

    read = run_stage("read", str(extract))
    print(report_line("Polars read_parquet", read))
    (work / "bare.sqlite").unlink(missing_ok=True)
    bare = run_stage("bare", str(extract), str(work / "bare.sqlite"))
    print(report_line("floor: Polars read + ADBC write, fresh table", bare, "write_seconds",
                      "write_cpu"))
    sqlite_url = f"sqlite:///{(work / 'trialmon.sqlite').as_posix()}"
    for leftover in work.glob("trialmon*.sqlite*"):
        leftover.unlink()
    end_to_end = run_stage("load", str(extract), sqlite_url, profile=args.profile)
    print(report_line("trialmon load register -> SQLite", end_to_end, "write_seconds",
                      "write_cpu"))
    ratio = end_to_end["write_seconds"] / bare["write_seconds"]
    cpu_ratio = end_to_end["write_cpu"] / bare["write_cpu"]
    print(f"  = {ratio:.2f}x the floor in wall time, {cpu_ratio:.2f}x in CPU time "
          "(target <= 1.5x)")
    load_average = os.getloadavg()
    if args.profile is not None:
        print(profile_top(args.profile))
    if not args.no_postgres:
        from tests.pgserver import create_database, postgres_server

        with postgres_server() as server:
            pg = run_stage("load", str(extract), create_database(server, "bench"))
        print(report_line("end to end load register -> PostgreSQL", pg, "write_seconds",
                          "write_cpu"))
    peak = max(f["peak_mb"] for f in (read, end_to_end, *([pg] if not args.no_postgres else [])))
    print(f"peak memory of any load stage: {peak:,.0f} MB (target < 4096 MB)")
    print(f"\nsummary ({rows:,} rows, {months} months; load average "
          f"{', '.join(f'{x:.1f}' for x in load_average)} after the SQLite stages):\n"
          f"  load / floor: {ratio:.2f}x wall ({end_to_end['write_seconds']:.1f} s / "
          f"{bare['write_seconds']:.1f} s), {cpu_ratio:.2f}x CPU "
          f"({end_to_end['write_cpu']:.1f} s / {bare['write_cpu']:.1f} s), target <= 1.5x: "
          f"{'met' if max(ratio, cpu_ratio) <= 1.5 else 'MISSED'}\n"
          f"  peak memory of the load: {end_to_end['peak_mb']:,.0f} MB (target < 4,096 MB)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--stage":
        child(sys.argv[2:])
    else:
        main()
