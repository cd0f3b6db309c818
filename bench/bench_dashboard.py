"""Benchmark: server-side time of the dashboard's callbacks on national-scale data.

Target (issue "Dashboard"): p95 < 100 ms per callback on five years of national data.

    .venv/bin/python bench/bench_dashboard.py                    # builds bench/out/dashboard.sqlite
    .venv/bin/python bench/bench_dashboard.py --db URL           # a database bench_compute built
    .venv/bin/python bench/bench_dashboard.py --calls 60

Without --db it writes a national-scale *published* table straight into a SQLite file
(every indicator x population x group x area of the shipped reference x 72 months,
about 7 million cells, 2 % suppressed) through ADBC, and reuses it on later runs.

Each timed call is what one Dash callback does on the server: read its slices, build
the figure/table/summary and serialise the outputs to JSON. Calls pick random
selections, and the data cache is cleared before each "cold" call, so "cold" is the
worst case of a selection never seen before; "warm" repeats selections (cache hits).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DB = ROOT / "bench" / "out" / "dashboard.sqlite"


def months(first: str = "2020-01", count: int = 72) -> list[str]:
    start = int(first[:4]) * 12 + int(first[5:]) - 1
    return [f"{(start + i) // 12:04d}-{(start + i) % 12 + 1:02d}" for i in range(count)]


def build_published(url: str) -> int:
    """Write a national-scale published table (ADBC bulk insert); returns the cell count."""
    import datetime as dt

    import numpy as np
    import polars as pl
    import sqlalchemy as sa

    from etl.reference import load_reference
    from indicators.registry import GROUPS, INDICATORS, POPULATIONS
    from shell.pipeline import prepare_database as upgrade
    from trialmon.db import database, get_engine
    from trialmon.schema import month_status

    upgrade(url)
    areas = load_reference().areas.select("area_type", "area_code").unique()
    register = [i for i in INDICATORS.values() if i.source == "register"]
    keys = (pl.DataFrame({"indicator": [i.id for i in register]})
            .join(pl.DataFrame({"population": list(POPULATIONS)}), how="cross")
            .join(pl.DataFrame({"group": list(GROUPS)}), how="cross"))
    statfin = pl.DataFrame({"indicator": [i.id for i in INDICATORS.values()
                                          if i.source == "statfin"],
                            "population": "all", "group": "all"})
    cells = (pl.concat([keys, statfin]).join(areas, how="cross")
             .join(pl.DataFrame({"month": months()}), how="cross"))
    rng = np.random.default_rng(7)
    value = rng.gamma(2.0, 500.0, cells.height)
    suppressed = rng.random(cells.height) < 0.02
    vintage = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    cells = cells.with_columns(
        pl.Series("value", np.where(suppressed, np.nan, value)).fill_nan(None),
        pl.Series("numerator", np.where(suppressed, np.nan, value)).fill_nan(None),
        pl.lit(None, pl.Float64).alias("denominator"),
        pl.when(pl.Series(suppressed)).then(pl.lit("suppressed")).otherwise(None).alias("flag"),
        pl.lit(vintage).alias("vintage"))
    with database(url).connect() as conn:
        cells.write_database("indicator_value", conn, if_table_exists="append", engine="adbc")
        conn.commit()
    with get_engine(url).begin() as conn:
        conn.execute(sa.insert(month_status), [
            {"month": m, "source": "register", "vintage": vintage, "revision": 0,
             "row_count": 600000, "rows_changed": 0, "synthetic": True, "computed_at": vintage}
            for m in months()])
    return cells.height


def callbacks(data, rng: random.Random):
    """One random call of each server-side callback: name -> zero-argument function."""
    from dashboard.app import PAGE_LAYOUTS, header
    from dashboard.pages import compare, explorer, overview
    from dashboard.pages import map as map_page
    from dashboard.state import View
    from indicators.registry import GROUPS, INDICATORS, POPULATIONS

    areas = data.areas()
    codes = areas["area_code"].to_list()
    municipalities = areas.filter(areas["area_type"] == "municipality")["area_code"].to_list()
    trial_areas = areas.filter(areas["area_type"] == "trial_area")["area_code"].to_list()
    all_months = data.months()
    register = [i for i in INDICATORS if not i.startswith("stat_")]
    lang = rng.choice(("fi", "sv", "en"))
    pick = dict(indicator=rng.choice(register), population=rng.choice(POPULATIONS),
                group=rng.choice(GROUPS), lang=lang)
    scope = rng.choice(("trial_area", "municipality"))
    page = rng.choice(list(PAGE_LAYOUTS))
    return {
        "route": lambda: (header(lang, page, ""), PAGE_LAYOUTS[page](
            View(page=page, lang=lang, month=all_months[-1]), data)),
        "overview": lambda: overview.build(View(area=rng.choice(codes), month=rng.choice(
            all_months[12:]), population=pick["population"], lang=lang), data),
        "explorer": lambda: explorer.build(View(page="explorer", areas=tuple(rng.sample(
            codes, 4)), mode=rng.choice(("level", "yoy", "index")), **pick), data),
        "compare": lambda: compare.build(View(page="compare", scope=scope, area=rng.choice(
            municipalities if scope == "municipality" else trial_areas),
            month=rng.choice(all_months), peers=rng.choice(("all", "region", "size")), **pick),
            data),
        "map": lambda: map_page.build(View(page="map", level=scope,
                                           month=rng.choice(all_months), **pick), data),
    }


def serialise(outputs) -> int:
    import plotly.io.json as pjson

    return len(pjson.to_json_plotly(
        [o.to_plotly_json() if hasattr(o, "to_plotly_json") else o for o in outputs]))


def measure(data, calls: int, cold: bool) -> dict[str, list[float]]:
    rng = random.Random(2021)
    times: dict[str, list[float]] = {}
    for _ in range(calls):
        for name, call in callbacks(data, rng).items():
            if cold:
                data._cached.cache_clear()
            started = time.perf_counter()
            outputs = call()
            serialise(outputs if isinstance(outputs, tuple) else [outputs])
            times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    return times


def report(label: str, times: dict[str, list[float]]) -> None:
    for name, values in times.items():
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
        print(f"{label:5s} {name:9s} n={len(values):3d}  p50 {statistics.median(values):6.1f} ms"
              f"  p95 {p95:6.1f} ms  max {values[-1]:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: build/reuse bench/out/...)")
    parser.add_argument("--calls", type=int, default=40, help="calls per callback")
    args = parser.parse_args()
    url = args.db
    if not url:
        DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DEFAULT_DB}"
        if not DEFAULT_DB.exists():
            started = time.perf_counter()
            count = build_published(url)
            print(f"built {count:,} published cells in {time.perf_counter() - started:.1f} s")
    import os

    boundaries = ROOT.parent / "shared" / "data" / "geo" / "finland_kunnat_2km.geojson"
    if boundaries.exists():  # draw the map with real boundaries where they are at hand
        os.environ.setdefault("TRIALMON_BOUNDARIES", str(boundaries))
    from dashboard.data import Data

    data = Data(url)
    print(f"database {url}: {len(data.months())} months, {data.areas().height} areas")
    report("cold", measure(data, args.calls, cold=True))
    report("warm", measure(data, args.calls, cold=False))


if __name__ == "__main__":
    main()
