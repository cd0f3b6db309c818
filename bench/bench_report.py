"""Benchmark: the monthly review for all 25 trial areas, and the storage of one revision.

Goal (issue 11): all 25 area reports of one month in under 60 s at national scale;
one month's revision keeps only the changed cells (history rows and bytes printed).

    .venv/bin/python bench/bench_report.py                  # national scale, 25 months
    .venv/bin/python bench/bench_report.py --scale 0.02     # quick

Steps: a synthetic extract of --months months (24 for the trend + the report month) is
generated in a child process and kept in --workdir; a fresh SQLite database is loaded
and computed; then the reports of the last month are written (one all-areas PDF, the
25 single-area PDFs one by one, and the all-areas HTML); then the last month is
re-delivered with 2 % of one municipality's jobseekers removed, recomputed, and the
history rows, publication record and bytes it added are printed.

Measured 2026-12-03 at national scale (25 months, 16.2 M rows) on the 2-core machine
while seven other engineers' jobs ran (load average 15, so every time is several times
its quiet value; the load alone took 410 s against 39 s for 12 months in the README):

* all 25 trial areas + the national summary as one PDF: 12.4 s; the 25 single-area PDF
  files (one Chromium run, split): 15.5 s; one area alone: 2.9 s; all areas as HTML
  (every figure read + rendered): 3.0 s. Goal < 60 s: met.
* a revision of the newest month (1,535 of 668,570 rows removed, Helsinki): 900
  published cells changed (all in that month), so 900 history rows = 102 kB of
  history table and index; the published file grew 16 MB, which is the engine's
  rewrite of the two recomputed months (free pages), not history. Peak RSS 4.9 GB
  (during the load).
* the diff itself (read the months' published cells + one Polars join), measured on
  that database under the same load: 1.8 M cells (25 months) 16 s read + 11 s diff;
  3 months (214 k cells) 3.7 s + 1.2 s.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_compute import generate, load_and_compute, shift_month  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table_bytes(path: Path, prefix: str) -> int | None:
    """Bytes of a table and its indexes (SQLite's dbstat), or None where not built in."""
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE ?",
                                (f"{prefix}%",)).fetchone()[0] or 0
        except sqlite3.OperationalError:
            return None


def checkpointed_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def write_reports(url: str, month: str, out: Path) -> None:
    from dashboard.data import Data
    from dashboard.report import trial_area_codes, write_area_reports, write_report

    data = Data(url)
    codes = trial_area_codes(data)
    started = time.perf_counter()
    write_report(data, month, out / "all-areas.pdf", lang="fi", fmt="pdf", all_areas=True)
    print(f"[reports] all {len(codes)} trial areas + national summary, one PDF: "
          f"{time.perf_counter() - started:.1f} s (goal < 60 s)")
    data = Data(url)  # cold cache again
    started = time.perf_counter()
    files = write_area_reports(data, month, out / "areas", lang="fi", fmt="pdf")
    print(f"[reports] {len(files)} single-area PDF files (one Chromium run, split): "
          f"{time.perf_counter() - started:.1f} s (goal < 60 s)")
    data = Data(url)
    started = time.perf_counter()
    write_report(data, month, out / f"{codes[0]}.pdf", lang="fi", fmt="pdf", areas=codes[:1])
    print(f"[reports] one area's PDF on its own (one Chromium start): "
          f"{time.perf_counter() - started:.1f} s")
    data = Data(url)
    started = time.perf_counter()
    write_report(data, month, out / "all-areas.html", lang="fi", fmt="html", all_areas=True)
    print(f"[reports] all areas as HTML (figures + rendering, no PDF): "
          f"{time.perf_counter() - started:.1f} s")


def revise(url: str, bulk: Path, month: str, workdir: Path) -> None:
    import polars as pl
    import sqlalchemy as sa

    from etl.register import load_register_files
    from indicators.engine import compute
    from trialmon.db import get_engine, sqlite_paths

    published = sqlite_paths(url)[0]
    rows = pl.scan_parquet(bulk).filter(pl.col("month") == month).collect()
    biggest = rows.group_by("municipality_code").len().sort("len")
    code, count = biggest.row(-1)
    dropped = rows.filter(pl.col("municipality_code") == code).head(max(count // 50, 1))
    corrected = rows.filter(~pl.col("person_id").is_in(dropped["person_id"].implode()))
    path = workdir / f"corrected-{month}.parquet"
    corrected.write_parquet(path)
    before_bytes = table_bytes(published, "indicator_value_history")
    before_size = checkpointed_size(published)
    started = time.perf_counter()
    loaded = load_register_files(url, [path], synthetic=True, progress=False)
    report = compute(url, months=sorted(loaded.changed_months), progress=False)
    seconds = time.perf_counter() - started
    with get_engine(url).connect() as conn:
        history_rows = conn.execute(sa.text(
            "SELECT count(*) FROM indicator_value_history")).scalar()
        last = conn.execute(sa.text(
            "SELECT * FROM publication ORDER BY publication_id DESC LIMIT 1")).mappings().one()
        months = conn.execute(sa.text(
            "SELECT month, cells_changed, cells_removed FROM publication_month "
            f"WHERE publication_id = {last['publication_id']} ORDER BY month")).all()
    after_bytes = table_bytes(published, "indicator_value_history")
    after_size = checkpointed_size(published)
    print(f"[revision] {month}: {len(dropped):,} of {len(rows):,} rows removed "
          f"(municipality {code}); load + compute {seconds:.1f} s, "
          f"{report.published_rows:,} cells recomputed in {len(report.months)} months")
    print(f"[revision] publication {last['publication_id']} ({last['reason']}): "
          f"{last['cells_changed']:,} cells changed, {last['cells_removed']:,} removed, "
          f"{last['cells_added']:,} added; per month: "
          + ", ".join(f"{m} {c + r:,}" for m, c, r in months))
    print(f"[revision] history rows now {history_rows:,}; history table "
          + (f"{(after_bytes - before_bytes) / 1e3:,.0f} kB added" if after_bytes is not None
             else "size not measurable (no dbstat)")
          + f"; published file {(after_size - before_size) / 1e6:+,.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--months", type=int, default=25)
    parser.add_argument("--end", default="2024-06")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/trialmon-bench-report"))
    args = parser.parse_args()

    start = shift_month(args.end, 1 - args.months)
    args.workdir.mkdir(parents=True, exist_ok=True)
    bulk = args.workdir / f"demo-{args.scale:g}-{args.seed}-{start}-{args.end}.parquet"
    generate(bulk, args.scale, start, args.end, args.seed)
    database = args.workdir / "db"
    shutil.rmtree(database, ignore_errors=True)
    url = f"sqlite:///{(database / 'trialmon.sqlite').as_posix()}"
    from shell.pipeline import prepare_database

    prepare_database(url)
    load_and_compute(url, bulk, f"load {start}..{args.end}")
    with tempfile.TemporaryDirectory(prefix="trialmon-reports-") as out:
        write_reports(url, args.end, Path(out))
    revise(url, bulk, args.end, args.workdir)
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
