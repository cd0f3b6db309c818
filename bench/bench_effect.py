"""Benchmark of one effect estimate (indicators.effects) at national scale.

A synthetic municipal panel: 309 municipalities (lognormal sizes, 20 .. 80,000
jobseekers), 118 of them in trial areas, MONTHS months from 2019-01 (default 72), the
unemployed share binomial around a municipal level + a common monthly shock + 1 pp on
the trial municipalities from 2021-03. Prints the processor time of one estimate with all trial
areas treated (DiD + event study + pre-trend test, cluster-robust intervals) and of one
with a single treated municipality (wild cluster bootstrap interval by test inversion),
each after a warm-up (numba compiles pyfixest's demeaning on first use in a process).
Then the cost of the extended grid (``trialmon effect --grid``: each trial area alone):
one wild-bootstrap p-value with the library's class and with the vectorised one, and
single-area estimates for areas of 1 .. 8 municipalities (the real trial areas have
1 .. 22, median 4), extrapolated to the 550 per-area specifications of the grid.

Run: .venv/bin/python bench/bench_effect.py [months]
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import polars as pl
from wildboottest.wildboottest import WildboottestCL

from indicators.effects import (
    COUNT_SCHEMA,
    EffectSpec,
    _demeaned,
    _wcr_p_value,
    estimate_effect,
    grid_specs,
    municipal_panel,
)

N_MUNIS, N_TRIAL = 309, 118


def panel_counts(months: int, seed: int = 1) -> tuple[pl.DataFrame, set[str], set[str]]:
    rng = np.random.default_rng(seed)
    codes = [f"{i:03d}" for i in range(N_MUNIS)]
    size = np.clip(np.exp(rng.normal(6.0, 1.4, N_MUNIS)), 20, 80_000).astype(int)
    level = rng.uniform(5, 20, N_MUNIS)
    month_idx = np.arange(2019 * 12, 2019 * 12 + months)
    event = month_idx - (2021 * 12 + 2)
    trial = np.arange(N_MUNIS) < N_TRIAL
    share = (level[:, None] + rng.normal(0, 1, months)[None, :]
             + np.where(trial[:, None] & (event[None, :] >= 0), 1.0, 0.0))
    numerator = rng.binomial(np.broadcast_to(size[:, None], share.shape), share / 100)
    counts = pl.DataFrame({
        "month": np.tile([f"{m // 12}-{m % 12 + 1:02d}" for m in month_idx], N_MUNIS),
        "municipality_code": np.repeat(codes, months),
        "numerator": numerator.ravel().astype(float),
        "denominator": np.repeat(size, months).astype(float)}).cast(COUNT_SCHEMA)
    return counts, set(codes[:N_TRIAL]), set(codes[N_TRIAL:])


def timed(counts, treated, control, end: str) -> tuple[float, object]:
    """Processor seconds (all threads of this process: on a shared machine the wall
    time mostly measures the other jobs) of one estimate, and the estimate."""
    spec = EffectSpec("unemployed_share", end=end)
    start = time.process_time()
    result = estimate_effect(municipal_panel(counts, treated, control, None, end), spec, 5)
    return time.process_time() - start, result


def main() -> None:
    months = int(sys.argv[1]) if len(sys.argv) > 1 else 72
    end = f"{2019 + (months - 1) // 12}-{(months - 1) % 12 + 1:02d}"
    counts, treated, control = panel_counts(months)
    print(f"panel: {N_MUNIS} municipalities x {months} months = {counts.height} cells "
          f"(2019-01..{end}), {len(treated)} treated")
    warm, _ = timed(counts, treated, control, end)
    seconds, result = timed(counts, treated, control, end)
    print(f"all trial areas: first call {warm:.2f} s, one estimate {seconds:.2f} s "
          "(processor time); "
          f"estimate {result.estimate:.3f} pp [{result.ci_low:.3f}, {result.ci_high:.3f}] "
          f"(planted 1.000), {len(result.event_study)} event months, "
          f"pre-trend p {result.pre_trend_p_value:.2f}")
    one = {sorted(treated)[0]}
    seconds, result = timed(counts, one, control, end)
    interval = ("no interval" if result.ci_low is None
                else f"[{result.ci_low:.3f}, {result.ci_high:.3f}]")
    print(f"one treated municipality (wild cluster bootstrap): {seconds:.2f} s; estimate "
          f"{result.estimate:.3f} pp {interval}")
    grid_costs(counts, treated, control, end)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB")


def grid_costs(counts, treated, control, end: str) -> None:
    """What one wild-bootstrap call and one single-area estimate cost."""
    panel = municipal_panel(counts, {sorted(treated)[0]}, control, None, end)
    demeaned = _demeaned(panel)
    for name, kind in (("wildboottest's class", WildboottestCL),
                       ("vectorised denominator", None)):
        extra = {} if kind is None else {"bootstrap": kind}
        _wcr_p_value(demeaned, 0.5, 999, 1, **extra)  # warm-up
        start = time.process_time()
        for null in (0.0, 0.5, 1.0):
            _wcr_p_value(demeaned, null, 999, 1, **extra)
        print(f"one wild-bootstrap p-value (999 draws), {name}: "
              f"{(time.process_time() - start) / 3:.3f} s")
    codes = sorted(treated)
    seconds = []
    for size in (1, 2, 3, 4, 5, 8):
        took, result = timed(counts, set(codes[10 * size:11 * size]), control, end)
        seconds.append(took)
        interval = ("no interval" if result.ci_low is None
                    else f"[{result.ci_low:.2f}, {result.ci_high:.2f}]")
        print(f"  one trial area of {size} municipalities: {took:.2f} s, "
              f"{result.estimate:.2f} pp {interval}, {result.method.split(' (')[0]}")
    n_areas = 25
    per_area = sum(1 for s in grid_specs([f"TA{i:02d}" for i in range(1, n_areas + 1)])
                   if s.areas[0] != "TRIALS")
    mean = sum(seconds) / len(seconds)
    print(f"grid: {per_area} single-area specifications x {mean:.2f} s (mean of the above) "
          f"= about {per_area * mean / 60:.0f} min of processor time at national scale, "
          "if none is refused")


if __name__ == "__main__":
    main()
