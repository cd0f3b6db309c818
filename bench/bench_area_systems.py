"""Benchmark: area systems -- loading one, recomputing its months, and what the overlay
disclosure rule costs (share of suppressed cells per area type).

    .venv/bin/python bench/bench_area_systems.py                  # scale 0.05, 6 months
    .venv/bin/python bench/bench_area_systems.py --scale 0.2 --months 12

Builds synthetic demo months of 2025 into a fresh SQLite database, computes them,
loads the shipped employment areas less one membership as a user-loaded system (a
change -> recompute of every month), and prints: times, and per area type the number of count
cells and the share suppressed.

Measured on the shared 2-core machine, 2026-12-03 (count indicators unemployed,
jobseekers, long_term_unemployed; all populations and groups):

* scale 0.05, 6 months: build 14.7 s, compute 24.6 s; suppressed: municipality 22.5 %,
  trial_area 6.0 %, region 0.5 %, employment_area 46.4 % (the overlay rule: hidden
  where any member is); load of the changed system 0.14 s, recompute of its 6 months
  21.0 s; peak RSS 736 MB.
* scale 0.3, 2 months: compute 13.0 s; suppressed: municipality 11.2 %, trial_area
  1.8 %, region 0.0 %, employment_area 24.2 %; load 0.06 s, recompute 9.9 s; peak RSS
  572 MB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from etl.area_systems import load_area_system  # noqa: E402
from etl.demo import build_demo  # noqa: E402
from etl.reference import REFERENCE_DIR  # noqa: E402
from indicators.engine import compute  # noqa: E402
from shell.pipeline import prepare_database  # noqa: E402
from trialmon.db import get_engine  # noqa: E402
from trialmon.months import shift_month  # noqa: E402
from trialmon.schema import indicator_value  # noqa: E402


def suppression_by_type(url: str) -> pl.DataFrame:
    c = indicator_value.c
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sa.select(c.area_type, sa.func.count(),
                      sa.func.sum(sa.case((c.flag == "suppressed", 1), else_=0)))
            .where(c.indicator.in_(["unemployed", "jobseekers", "long_term_unemployed"]))
            .group_by(c.area_type)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=["area_type", "cells", "suppressed"],
                        orient="row").with_columns(
        (pl.col("suppressed") / pl.col("cells") * 100).round(1).alias("suppressed_%")
    ).sort("area_type")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--months", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        prepare_database(url)
        end = shift_month("2025-01", args.months - 1)
        started = time.perf_counter()
        months = build_demo(url, args.scale, "2025-01", end, 11, progress=False)
        built = time.perf_counter() - started
        started = time.perf_counter()
        compute(url, months=sorted(months), progress=False)
        computed = time.perf_counter() - started
        print(f"demo scale {args.scale}, {len(months)} months: build {built:.1f} s, "
              f"compute {computed:.1f} s")
        print(suppression_by_type(url))
        # the shipped employment areas less one membership: a changed system
        lines = (REFERENCE_DIR / "employment_areas_2025.csv").read_text("utf-8").splitlines()
        changed = Path(tmp) / "employment_areas_changed.csv"
        changed.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
        started = time.perf_counter()
        report = load_area_system(url, changed)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        compute(url, months=report.affected_months, progress=False)
        recomputed = time.perf_counter() - started
        print(f"load areas: {loaded:.2f} s ({report.summary()}); recompute of "
              f"{len(report.affected_months)} affected months: {recomputed:.1f} s")


if __name__ == "__main__":
    main()
