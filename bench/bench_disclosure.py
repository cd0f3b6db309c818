"""Benchmark of indicators.disclosure.protect: before (slice by slice) and after (linked).

Data: the project's synthetic register (etl.demo, the real reference geography: 308
municipalities, regions, trial areas, ...) turned into cells by the real measures and
roll-up, so that every relation the protection knows holds exactly (nested populations,
groups and measures, target-group identities). Scale 1.0 is national (~650k register
rows a month); the default demo is scale 0.02.

Prints, for one national month and for the demo month: cells, share suppressed and
time before and after, and the issue's differencing table (pairs of published cells of
the same month, area, measure and group/population, and how many differ by 1..4).
Times are wall clock and CPU time of the process (the CPU figure is the steadier one on a
shared machine; polars threads add a little to it). 72 months are estimated as 72 x one
month: months are protected one after another and
independently (each carries only the previous month's unemployed pattern), so the time
is linear in the number of months.

Run: PYTHONPATH=. .venv/bin/python bench/bench_disclosure.py [--scale 1.0] [--month 2023-03]
"""

from __future__ import annotations

import argparse
import time

import polars as pl

from etl.demo import generate_months
from etl.reference import load_reference
from indicators import areas
from indicators.disclosure import protect
from indicators.measures import municipal_measures
from trialmon.months import shift_month
from trialmon.settings import get_settings

# The dashboard's headline counts: the Overview's cards and the comparison lines.
HEADLINE = ("unemployed", "jobseekers")
KEYS = ["month", "area_type", "area_code", "population", "group", "measure"]
DIFFERENCES = [  # (dimension, parent, child)
    ("population", "all", "target_group"),
    ("population", "all", "trial_customers"),
    ("group", "all", "under_30"),
    ("group", "all", "no_earnings_related"),
]


def demo_cells(scale: float, month: str, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cells and area membership of ``month`` from the synthetic register."""
    rows = pl.concat(list(generate_months(scale, shift_month(month, -1),
                                          shift_month(month, 1), seed)))
    loaded = set(rows["month"].unique())
    municipal = municipal_measures(rows.lazy(), [month], loaded)
    reference = load_reference().members
    members = areas.members_by_month(reference, [month])
    return areas.roll_up(municipal, members), areas.without_municipalities(members)


def differencing(protected: pl.DataFrame, threshold: int = 5) -> pl.DataFrame:
    """[difference, pairs, small]: published pairs and those differing by 1..threshold-1."""
    published = protected.filter(~pl.col("suppressed") & pl.col("value").is_not_null())
    out = []
    for dimension, parent, child in DIFFERENCES:
        other = [k for k in KEYS if k != dimension]
        pairs = (published.filter(pl.col(dimension) == parent).select(*other, "value")
                 .join(published.filter(pl.col(dimension) == child)
                       .select(*other, pl.col("value").alias("child")), on=other))
        gap = pl.col("value") - pl.col("child")
        out.append((f"{dimension} {parent} - {child}", pairs.height,
                    pairs.filter(gap.is_between(1, threshold - 1)).height))
    return pl.DataFrame(out, schema=["difference", "pairs", "small"], orient="row")


def run(cells: pl.DataFrame, members: pl.DataFrame, label: str) -> None:
    print(f"\n{label}: {cells.height:,} cells")
    for name, linked in (("before (slice by slice)", False), ("after (linked)", True)):
        start, cpu = time.perf_counter(), time.process_time()
        out = protect(cells, members, linked=linked)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        primary = out.filter(pl.col("value").is_between(1, 4)).height
        hidden = int(out["suppressed"].sum())
        print(f"  {name}: {seconds:.2f} s ({cpu:.2f} s CPU), suppressed {hidden:,} = "
              f"{hidden / cells.height:.1%} of cells (primary {primary:,}); "
              f"72 months ~ {72 * seconds / 60:.1f} min")
        by_type = out.group_by("area_type").agg(pl.col("suppressed").mean()).sort("area_type")
        print("    by area type: " + ", ".join(
            f"{r['area_type']} {r['suppressed']:.0%}" for r in by_type.iter_rows(named=True)))
        headline = (out.filter(pl.col("population") == "all", pl.col("group") == "all",
                               pl.col("measure").is_in(HEADLINE))
                    .group_by("area_type").agg(pl.col("suppressed").mean()).sort("area_type"))
        print(f"    headline ({' and '.join(HEADLINE)}, all x all) by area type: " + ", ".join(
            f"{r['area_type']} {r['suppressed']:.0%}" for r in headline.iter_rows(named=True)))
        for r in differencing(out).iter_rows(named=True):
            print(f"    {r['difference']:<38} pairs {r['pairs']:>7,}  differences 1-4: "
                  f"{r['small']:>5,}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--month", default="2023-03")
    parser.add_argument("--demo-scale", type=float, default=get_settings().demo_scale,
                        help="the second run's scale (default: the demo's, TRIALMON_DEMO_SCALE)")
    args = parser.parse_args()
    start = time.perf_counter()
    cells, members = demo_cells(args.scale, args.month)
    print(f"generated scale {args.scale} {args.month} in {time.perf_counter() - start:.0f} s")
    run(cells, members, f"scale {args.scale} (national = 1.0), {args.month}")
    cells, members = demo_cells(args.demo_scale, args.month)
    run(cells, members, f"demo scale {args.demo_scale:g}, {args.month}")


if __name__ == "__main__":
    main()
