"""Benchmark of indicators.disclosure.protect on national-scale synthetic cells.

~310 municipalities (lognormal sizes) in 19 regions, 25 trial areas of 1-22 members,
72 months x 12 population-group slices x 17 measures, counts drawn as Poisson around
size x measure share x group share (many small counts in the small groups of small
municipalities; trial customers only inside trial areas). Prints the time of one
month, of all months, and how many cells are hidden by primary and secondary rules.

Run: .venv/bin/python bench/bench_disclosure.py [months]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import polars as pl

from indicators import registry
from indicators.disclosure import protect

N_MUNIS, N_REGIONS, N_TRIALS = 310, 19, 25
POPULATIONS = {"all": 1.0, "target_group": 0.45, "trial_customers": 0.25}
GROUPS = {"all": 1.0, "under_30": 0.2, "foreign_language": 0.08, "no_earnings_related": 0.35}
POPULATION_GROUPS = [(p, g) for p in POPULATIONS for g in GROUPS]  # 12 combinations
# The registry's 17 measures with a rough share of jobseekers each;
# unemployed_or_in_services is then made exactly unemployed + in_services.
MEASURES = dict(zip(registry.MEASURES, [
    1.0, 0.6, 0.05, 0.2, 0.25, 0.06, 0.05, 0.1, 0.85, 0.07, 0.6, 0.04, 0.05, 0.5, 0.45,
    0.03, 0.02], strict=True))


def geography(rng: np.random.Generator) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """members [area_type, area_code, municipality_code]; jobseekers and trial flag."""
    munis = [f"{i:03d}" for i in range(N_MUNIS)]
    size = np.round(np.exp(rng.normal(5.5, 1.3, N_MUNIS))).astype(int) + 5
    region = np.sort(rng.integers(0, N_REGIONS, N_MUNIS))
    trial = np.full(N_MUNIS, -1)
    order = rng.permutation(N_MUNIS)[:200]  # about 200 municipalities in trials
    cuts = np.sort(rng.choice(np.arange(1, 200), N_TRIALS - 1, replace=False))
    for t, part in enumerate(np.split(np.sort(order), cuts)):
        trial[part] = t
    rows = [("region", f"MK{r + 1:02d}", m) for m, r in zip(munis, region, strict=True)]
    rows += [("trial_area", f"T{t:02d}", m) for m, t in zip(munis, trial, strict=True) if t >= 0]
    rows += [("all_trials" if t >= 0 else "comparison", "TRIALS" if t >= 0 else "NONTRIAL", m)
             for m, t in zip(munis, trial, strict=True)]
    rows += [("country", "SSS", m) for m in munis]
    members = pl.DataFrame(rows, schema=["area_type", "area_code", "municipality_code"],
                           orient="row")
    return members, size, trial >= 0


def cells_for(months: list[str], rng: np.random.Generator):
    members, size, in_trial = geography(rng)
    keys = [(p, g, m) for p, g in POPULATION_GROUPS for m in MEASURES]
    share = np.array([POPULATIONS[p] * GROUPS[g] * MEASURES[m] for p, g, m in keys])
    lam = size[None, None, :] * share[None, :, None] * rng.uniform(0.8, 1.2, (len(months), 1, 1))
    trial_customer = np.array([p == "trial_customers" for p, _, _ in keys])
    lam = np.where(trial_customer[None, :, None] & ~in_trial[None, None, :], 0.0, lam)
    values = rng.poisson(lam)
    for k, (p, g, m) in enumerate(keys):
        if m == "unemployed_or_in_services":
            values[:, k] = (values[:, keys.index((p, g, "unemployed"))]
                            + values[:, keys.index((p, g, "in_services"))])
    pops, groups, measures = zip(*keys, strict=True)
    municipal = pl.DataFrame({
        "month": np.repeat(months, len(keys) * N_MUNIS),
        "population": np.tile(np.repeat(pops, N_MUNIS), len(months)),
        "group": np.tile(np.repeat(groups, N_MUNIS), len(months)),
        "measure": np.tile(np.repeat(measures, N_MUNIS), len(months)),
        "municipality_code": np.tile([f"{i:03d}" for i in range(N_MUNIS)], len(months) * len(keys)),
        "value": values.reshape(-1).astype(np.int64),
    })
    members = members.join(pl.DataFrame({"month": months}), how="cross")
    areas = (municipal.join(members, on=["month", "municipality_code"])
             .group_by("month", "area_type", "area_code", "population", "group", "measure")
             .agg(pl.col("value").sum()))
    cells = pl.concat([
        municipal.rename({"municipality_code": "area_code"})
        .with_columns(pl.lit("municipality").alias("area_type")),
        areas,
    ], how="diagonal").select("month", "area_type", "area_code", "population", "group",
                              "measure", "value")
    return cells, members.select("month", "area_type", "area_code", "municipality_code")


def run(cells: pl.DataFrame, members: pl.DataFrame, label: str) -> None:
    start = time.perf_counter()
    out = protect(cells, members)
    seconds = time.perf_counter() - start
    primary = out.filter(pl.col("value").is_between(1, 4)).height
    hidden = out.get_column("suppressed").sum()
    positive = out.filter(pl.col("value") >= 1).height
    print(f"{label}: {cells.height:,} cells in {seconds:.2f} s; primary {primary:,}, "
          f"secondary {hidden - primary:,} ({(hidden - primary) / max(positive, 1):.1%} of "
          f"positive cells), suppressed {hidden / cells.height:.1%} of all cells")
    by_type = (out.group_by("area_type")
               .agg(pl.len().alias("cells"),
                    (pl.col("suppressed") & (pl.col("value") >= 5)).sum().alias("secondary"))
               .sort("area_type"))
    print("  secondary by area type: " + ", ".join(
        f"{r['area_type']} {r['secondary']:,}/{r['cells']:,}"
        for r in by_type.iter_rows(named=True)))


def main() -> None:
    n_months = int(sys.argv[1]) if len(sys.argv) > 1 else 72
    months = [f"{2020 + k // 12}-{k % 12 + 1:02d}" for k in range(n_months)]
    cells, members = cells_for(months, np.random.default_rng(7))
    run(cells.filter(pl.col("month") == months[0]), members.filter(pl.col("month") == months[0]),
        "one month")
    run(cells, members, f"{n_months} months")


if __name__ == "__main__":
    main()
