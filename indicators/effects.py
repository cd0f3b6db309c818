"""Did the trial work? Difference-in-differences of trial against comparison municipalities.

Interface:

* ``EffectSpec(indicator, population="all", group="all", areas=("TRIALS",), start=None,
  end="2024-12")``: what to estimate; ``spec.check()`` raises ``TrialmonError`` naming the
  bad parameter.
* ``municipal_panel(counts, treated, control, start, end) -> pl.DataFrame``: the
  regression table [municipality_code, month, y, weight, treated, post, treat_post,
  event_month] from municipal counts [month, municipality_code, numerator, denominator].
* ``estimate_effect(panel, spec, threshold) -> EffectResult``: the estimates (pure).
* ``effect_from_db(url, spec) -> EffectResult``: reads the counts in the *compute*
  process (register indicators: ``microdata.municipal_measure``; the public-statistics
  rate: ``statfin_value``) and the trial membership, then estimates.
* ``publish_default_effects(url) -> int``: estimates the default specifications
  (``default_specs``) and replaces the published table ``effect_estimate``, which is all
  the dashboard and the API read. Returns the rows written.
* ``publish_grid_effects(url, areas=("TRIALS",)) -> int``: the rest of what the Effect
  page offers (``grid_specs``: each trial area alone, each group), run as a separate step
  after a computation (``trialmon effect --grid``), one trial area at a time.

Model (docs/effects.md): ``y[m,t] = 100 * numerator / denominator`` regressed on
``treated[m] x post[t]`` with municipality and month fixed effects, weighted by the
denominator, standard errors clustered by municipality (pyfixest ``feols``, CRV1,
t with G-1 degrees of freedom). The event study replaces ``treat_post`` by one dummy
per month relative to 2021-03 (2021-02 = -1 is the reference). The pre-trend test asks
whether the trial municipalities drifted away from the comparison ones before the trial:
the slope of treated x month in the pre-trial months (one restriction; CRV1 t test, or
the wild cluster bootstrap when clusters are few). Not the joint Wald test of all pre-trial coefficients: with
municipality sizes as uneven as Finland's, a few large municipalities carry the weighted
regression, and the cluster-robust Wald test of 13-26 restrictions then rejects far too
often (3 of 6 synthetic panels with exactly parallel trends at p < 0.001; docs/effects.md).

Decisions:

* pyfixest: fixest's estimator in Python, with absorbed fixed effects, weights and
  CRV1 in one call, maintained, and validated against R's fixest. Its own wild
  bootstrap refuses weighted regressions, so the few-cluster interval uses the
  ``wildboottest`` package it wraps, on the fixed-effect-demeaned (pyfixest
  ``demean``, weighted) and sqrt(weight)-scaled data: by Frisch-Waugh-Lovell the same
  coefficient and residuals as the full regression.
* Few clusters: when fewer than ``FEW_CLUSTERS`` municipalities are treated (or
  controls), the interval is the restricted wild cluster bootstrap (WCR, Webb
  six-point weights, 999 draws, fixed seed) inverted into a 95 %
  interval (the set of effects the bootstrap test does not reject, MacKinnon & Webb);
  event-study intervals are then not given (they rest on cluster-robust variances that
  are not valid with so few treated municipalities; a bootstrap inversion per event month
  would cost ~70 inversions per estimate, about 40 s, times 550 grid estimates); the
  page says so under the chart.
* ``VectorisedWildboottestCL``: the library's class with its CRV1 bootstrap denominator
  in numpy (the library loops over G x G clusters in Python and compiles a numba kernel
  on every call: 0.7-3 s a call, 15-20 calls an interval); same t statistics (tested).
  If the inverted interval is unbounded within +-64 standard errors, no interval.
* treated = member of a chosen trial area at any time in the trial period; control =
  member of no trial area at any time; ``post`` = month >= 2021-03 for all.
* Refusal (disclosure): if in any month of the window the treated or the control
  municipalities together have 1 .. threshold-1 persons (denominator), as a published
  count would be suppressed; a side without data in a month reveals nothing.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pyfixest as pf
import sqlalchemy as sa
from pyfixest.core.demean import demean
from scipy import optimize
from wildboottest.wildboottest import WildboottestCL

from indicators.registry import (
    EFFECT_INDICATORS,
    GROUPS,
    INDICATORS,
    POPULATIONS,
    TRIAL_END,
    TRIAL_START,
)
from trialmon.db import get_engine
from trialmon.errors import TrialmonError
from trialmon.months import month_index, month_of, shift_month
from trialmon.progress import progress_bar
from trialmon.schema import area_member, effect_estimate, municipal_measure, statfin_value
from trialmon.settings import get_settings

# A municipality with one usable month is a singleton fixed effect: pyfixest drops it (as
# it should) and says so on stderr for every estimate, which reads like an error on a
# user's first start. The number of municipalities used is reported with each estimate.
warnings.filterwarnings("ignore", message=r"\d+ singleton fixed effect", category=UserWarning,
                        module="pyfixest")

REFERENCE_MONTH = "2021-02"  # event month -1
ALL_TRIALS = "TRIALS"
FEW_CLUSTERS = 20
BOOTSTRAP_REPS = 999
BOOTSTRAP_SEED = 20210301
EFFECT_POPULATIONS = ("all", "target_group")
PRE_NORDIC_END = "2022-04"  # the last month before the Nordic service model
COUNT_SCHEMA = {"month": pl.String, "municipality_code": pl.String,
                "numerator": pl.Float64, "denominator": pl.Float64}
_MONTH = r"\d{4}-(0[1-9]|1[0-2])"


# --------------------------------------------------------------------------- specification


@dataclass(frozen=True)
class EffectSpec:
    indicator: str
    population: str = "all"
    group: str = "all"
    areas: tuple[str, ...] = (ALL_TRIALS,)
    start: str | None = None  # None: the first loaded month
    end: str = TRIAL_END

    @property
    def areas_key(self) -> str:
        return ",".join(self.areas)

    def check(self) -> EffectSpec:
        if self.indicator not in EFFECT_INDICATORS:
            raise TrialmonError(f"effect: --indicator must be one of {', '.join(EFFECT_INDICATORS)}"
                                f", not {self.indicator!r}")
        if self.population not in POPULATIONS or self.population == "trial_customers":
            raise TrialmonError(f"effect: --population must be all or target_group, not "
                                f"{self.population!r} (trial customers exist only in trial areas)")
        if self.group not in GROUPS:
            raise TrialmonError(f"effect: --group must be one of {', '.join(GROUPS)}, "
                                f"not {self.group!r}")
        if INDICATORS[self.indicator].source == "statfin" and (self.population, self.group) != (
                "all", "all"):
            raise TrialmonError("effect: the public-statistics rate exists only for population "
                                "all and group all")
        for option, value in (("--from", self.start), ("--to", self.end)):
            if value is not None and not re.fullmatch(_MONTH, value):
                raise TrialmonError(f"effect: {option} must be YYYY-MM, not {value!r}")
        if self.start is not None and self.start > REFERENCE_MONTH:
            raise TrialmonError(f"effect: --from must be {REFERENCE_MONTH} or earlier (a month "
                                f"before the trial is needed), not {self.start!r}")
        if self.end < TRIAL_START:
            raise TrialmonError(f"effect: --to must be {TRIAL_START} or later, not {self.end!r}")
        if not self.areas or any(not a for a in self.areas):
            raise TrialmonError("effect: --areas must be TRIALS or trial area codes (TA01,TA02)")
        return self


@dataclass
class EffectResult:
    indicator: str
    population: str
    group: str
    areas: str
    start: str | None
    end: str
    unit: str
    estimate: float | None = None
    std_error: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    method: str = ""
    n_treated: int = 0
    n_control: int = 0
    pre_trend_p_value: float | None = None
    event_study: list[dict] = field(default_factory=list)
    status: str = "ok"  # ok | refused
    reason: str | None = None

    def to_json(self) -> dict:
        out = asdict(self)
        out["from"], out["to"] = out.pop("start"), out.pop("end")
        return out


def _empty_result(spec: EffectSpec, reason: str, **counts) -> EffectResult:
    return EffectResult(indicator=spec.indicator, population=spec.population, group=spec.group,
                        areas=spec.areas_key, start=spec.start, end=spec.end,
                        unit=_unit(spec.indicator), status="refused", reason=reason,
                        method="none", **counts)


def _unit(indicator: str) -> str:
    return "percentage points" if INDICATORS[indicator].unit == "percent" else "count"


# --------------------------------------------------------------------------- the panel


def municipal_panel(counts: pl.DataFrame, treated: set[str], control: set[str],
                    start: str | None, end: str) -> pl.DataFrame:
    """The regression table: one row per municipality x month with a positive denominator,
    treated or control, inside the window."""
    first = start or counts["month"].min()
    ref = month_index(TRIAL_START)
    return (counts.lazy()
            .filter(pl.col("month").is_between(pl.lit(first), pl.lit(end)),
                    pl.col("denominator") > 0, pl.col("numerator").is_not_null(),
                    pl.col("municipality_code").is_in(sorted(treated | control)))
            .select("municipality_code", "month",
                    y=100 * pl.col("numerator") / pl.col("denominator"),
                    weight=pl.col("denominator"),
                    treated=pl.col("municipality_code").is_in(sorted(treated)).cast(pl.Int8))
            .with_columns(post=(pl.col("month") >= TRIAL_START).cast(pl.Int8),
                          event_month=(pl.col("month").str.slice(0, 4).cast(pl.Int32) * 12
                                       + pl.col("month").str.slice(5, 2).cast(pl.Int32) - 1
                                       - ref))
            .with_columns(treat_post=pl.col("treated") * pl.col("post"))
            .sort("municipality_code", "month")
            .collect())


def _disclosure_refusal(panel: pl.DataFrame, threshold: int) -> str | None:
    sides = panel.group_by("month", "treated").agg(pl.col("weight").sum())
    months = panel["month"].unique()
    full = (pl.DataFrame({"month": months}).join(pl.DataFrame({"treated": [0, 1]},
                                                              schema={"treated": pl.Int8}),
                                                 how="cross")
            .join(sides, on=["month", "treated"], how="left").fill_null(0))
    small = full.filter(pl.col("weight") > 0, pl.col("weight") < threshold)
    if small.is_empty():
        return None
    side = "trial" if small["treated"][0] == 1 else "comparison"
    return (f"too few persons in the {side} municipalities in {small['month'].min()} "
            f"(fewer than the disclosure threshold {threshold})")


# --------------------------------------------------------------------------- estimation


def estimate_effect(panel: pl.DataFrame, spec: EffectSpec, threshold: int) -> EffectResult:
    """DiD estimate, interval, event study and pre-trend test of the panel (see module)."""
    n_treated = panel.filter(pl.col("treated") == 1)["municipality_code"].n_unique()
    n_control = panel.filter(pl.col("treated") == 0)["municipality_code"].n_unique()
    counts = {"n_treated": n_treated, "n_control": n_control}
    if n_treated == 0 or n_control == 0:
        return _empty_result(spec, "no trial or no comparison municipality with data", **counts)
    if panel.filter(pl.col("post") == 0).is_empty() or panel.filter(pl.col("post") == 1).is_empty():
        return _empty_result(spec, "the window needs months before and after 2021-03", **counts)
    if panel.filter(pl.col("month") == REFERENCE_MONTH).is_empty():
        return _empty_result(spec, f"no data for the reference month {REFERENCE_MONTH}", **counts)
    refusal = _disclosure_refusal(panel, threshold)
    if refusal:
        return _empty_result(spec, refusal, **counts)
    data = panel.to_pandas()
    fit = did_fit(data)
    estimate, std_error = float(fit.coef()["treat_post"]), float(fit.se()["treat_post"])
    few = min(n_treated, n_control) < FEW_CLUSTERS
    if few:
        interval, method = _wild_bootstrap_interval(panel, estimate, std_error)
    else:
        low, high = fit.confint(alpha=0.05).loc["treat_post"]
        interval = (float(low), float(high))
        method = (f"cluster-robust (CRV1, by municipality) t interval, "
                  f"{n_treated + n_control - 1} degrees of freedom")
    events = _event_study(panel, with_intervals=not few)
    pre_p = pre_trend_p_value(panel, few)
    return EffectResult(
        indicator=spec.indicator, population=spec.population, group=spec.group,
        areas=spec.areas_key, start=spec.start or panel["month"].min(), end=spec.end,
        unit=_unit(spec.indicator), estimate=estimate, std_error=std_error,
        ci_low=interval[0] if interval else None, ci_high=interval[1] if interval else None,
        method=method, pre_trend_p_value=pre_p, event_study=events,
        reason=None if interval else "the wild bootstrap interval is unbounded: "
                                     "the data cannot pin the effect down", **counts)


def did_fit(data):
    """The main regression (pyfixest): y ~ treat_post | municipality + month."""
    return pf.feols("y ~ treat_post | municipality_code + month", data=data, weights="weight",
                    vcov={"CRV1": "municipality_code"})


def event_columns(panel: pl.DataFrame) -> list[int]:
    """The event months with a coefficient: every month of the window except -1."""
    return [k for k in sorted(panel["event_month"].unique().to_list()) if k != -1]


def _event_name(k: int) -> str:
    return f"ev_m{-k}" if k < 0 else f"ev_p{k}"


def event_study_fit(panel: pl.DataFrame):
    """The event-study regression (pyfixest): one treated x event-month dummy per month."""
    months = event_columns(panel)
    data = panel.with_columns(
        [((pl.col("event_month") == k) & (pl.col("treated") == 1)).cast(pl.Int8)
         .alias(_event_name(k)) for k in months]).to_pandas()
    formula = f"y ~ {' + '.join(_event_name(k) for k in months)} | municipality_code + month"
    return pf.feols(formula, data=data, weights="weight", vcov={"CRV1": "municipality_code"}), months


def _event_study(panel: pl.DataFrame, with_intervals: bool) -> list[dict]:
    fit, months = event_study_fit(panel)
    coef, names = fit.coef(), list(fit.coef().index)
    confint = fit.confint(alpha=0.05)
    events = [{"event_month": -1, "month": REFERENCE_MONTH, "estimate": 0.0, "ci_low": None,
               "ci_high": None}]
    for k in months:
        name = _event_name(k)
        if name not in names or not math.isfinite(coef[name]):
            continue
        low, high = confint.loc[name] if with_intervals else (None, None)
        events.append({"event_month": k, "month": month_of(month_index(TRIAL_START) + k),
                       "estimate": float(coef[name]),
                       "ci_low": _finite(low), "ci_high": _finite(high)})
    return sorted(events, key=lambda e: e["event_month"])


def pre_trend_p_value(panel: pl.DataFrame, few: bool) -> float | None:
    """Do the trial municipalities drift away from the comparison ones before the trial?
    On the months before 2021-03: y ~ pre_slope | municipality + month, weighted, where
    pre_slope = treated x (months relative to 2021-03); the p-value of a zero slope, from
    the cluster-robust t test (CRV1, G-1 degrees of freedom) or, with few treated or
    comparison municipalities, from the restricted wild cluster bootstrap. One
    restriction, not the joint Wald test of every pre-trial month (see module)."""
    pre = panel.filter(pl.col("post") == 0).with_columns(
        pre_slope=(pl.col("treated") * pl.col("event_month")).cast(pl.Float64))
    if pre["month"].n_unique() < 3:
        return None
    if few:
        return _wcr_p_value(_demeaned(pre, "pre_slope"), 0.0, BOOTSTRAP_REPS, BOOTSTRAP_SEED)
    fit = pf.feols("y ~ pre_slope | municipality_code + month", data=pre.to_pandas(),
                   weights="weight", vcov={"CRV1": "municipality_code"})
    return float(fit.pvalue()["pre_slope"])


def _finite(value) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


# --------------------------------------------------------------------------- few clusters


def wild_bootstrap_p_value(panel: pl.DataFrame, null_effect: float,
                           reps: int = BOOTSTRAP_REPS, seed: int = BOOTSTRAP_SEED) -> float:
    """p-value of H0: effect = null_effect by the restricted wild cluster bootstrap (WCR,
    Webb weights, clustered by municipality) of the ``wildboottest`` package."""
    demeaned = _demeaned(panel)
    return _wcr_p_value(demeaned, null_effect, reps, seed)


def _demeaned(panel: pl.DataFrame, regressor: str = "treat_post") -> dict:
    """Weighted within transform (pyfixest ``demean``) of y and treat_post, scaled by
    sqrt(weight), so OLS on them is the weighted fixed-effects regression (FWL)."""
    codes = panel.select(pl.col("municipality_code").rank("dense"),
                         pl.col("month").rank("dense")).to_numpy().astype(np.uint64) - 1
    weight = panel["weight"].to_numpy().astype(np.float64)
    values = panel.select(pl.col("y").cast(pl.Float64),
                          pl.col(regressor).cast(pl.Float64)).to_numpy()
    within, converged = demean(np.ascontiguousarray(values), np.ascontiguousarray(codes), weight,
                               tol=1e-10)
    if not converged:
        raise TrialmonError("effect: the fixed-effects demeaning did not converge")
    root = np.sqrt(weight)
    return {"y": within[:, 0] * root, "d": within[:, 1] * root,
            "cluster": codes[:, 0].astype(np.int64)}


class VectorisedWildboottestCL(WildboottestCL):
    """``wildboottest``'s cluster bootstrap with its CRV1 denominator computed with numpy
    instead of a G x G Python loop and a numba kernel compiled anew on every call (which
    took ~80 % of a call, ~0.7 s). The same formula, term by term:
    H[g, h] = R (X'X)^-1 X_g'X_g (X'X)^-1 score_h and, per draw b,
    denom[b] = ssc * sum_g (C_g v[g, b] - sum_h H[g, h] v[h, b])^2; the tests check the
    p-values equal the library's own."""

    def get_denom(self):
        if self.crv_type != "crv1":
            return super().get_denom()
        left = np.stack([self.R @ self.tXXinv @ block @ self.tXXinv
                         for block in self.tXgXg_list])  # G x k
        spill = left @ (self.scores_mat @ self.v)  # (H @ v) with H = left @ scores: G x B
        self.denom = self.ssc * np.sum((self.Cg[:, None] * self.v - spill) ** 2, axis=0)
        return None


def _wcr_p_value(demeaned: dict, null_effect: float, reps: int, seed: int,
                 bootstrap=VectorisedWildboottestCL) -> float:
    y = demeaned["y"] - null_effect * demeaned["d"]
    boot = bootstrap(X=demeaned["d"].reshape(-1, 1), Y=y, cluster=demeaned["cluster"],
                          R=np.array([1.0]), B=reps, seed=seed, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=True, adj=True, cluster_adj=True)
    boot.get_weights(weights_type="webb")
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    return float(np.asarray(boot.pvalue).ravel()[0])


def _wild_bootstrap_interval(panel: pl.DataFrame, estimate: float, std_error: float
                             ) -> tuple[tuple[float, float] | None, str]:
    """The 95 % interval of effects the WCR test does not reject (test inversion)."""
    method = (f"wild cluster bootstrap (restricted, WCR; Webb weights; {BOOTSTRAP_REPS} draws; "
              "interval by test inversion): few treated or comparison municipalities")
    demeaned = _demeaned(panel)

    def excess(b0: float) -> float:
        return _wcr_p_value(demeaned, b0, BOOTSTRAP_REPS, BOOTSTRAP_SEED) - 0.05

    scale = max(std_error, 1e-6)
    bounds = []
    for direction in (-1.0, 1.0):
        inside = estimate
        found = None
        for step in (2.0, 4.0, 8.0, 16.0, 32.0, 64.0):
            outside = estimate + direction * step * scale
            if excess(outside) < 0:
                found = optimize.brentq(excess, *sorted((inside, outside)), xtol=1e-2 * scale)
                break
            inside = outside
        if found is None:
            return None, method
        bounds.append(found)
    return (bounds[0], bounds[1]), method


# --------------------------------------------------------------------------- database


def trial_membership(conn, areas: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(treated, control) municipality codes for the chosen trial areas."""
    return membership_sides(trial_areas_of_municipalities(conn), areas)


def trial_areas_of_municipalities(conn) -> dict[str, set[str]]:
    """Every municipality -> the trial areas it belonged to at any time in 2021-03 ..
    2024-12 (empty: a comparison municipality)."""
    start, end = _date(TRIAL_START, first=True), _date(TRIAL_END, first=False)
    t = area_member
    rows = conn.execute(sa.select(t.c.area_type, t.c.area_code, t.c.municipality_code)
                        .where(t.c.area_type.in_(["trial_area", "municipality"]),
                               t.c.valid_from <= end,
                               sa.or_(t.c.valid_to.is_(None), t.c.valid_to >= start))).all()
    in_trials = {r.municipality_code: set() for r in rows}
    for r in rows:
        if r.area_type == "trial_area":
            in_trials[r.municipality_code].add(r.area_code)
    return in_trials


def membership_sides(in_trials: dict[str, set[str]], areas: tuple[str, ...]
                     ) -> tuple[set[str], set[str]]:
    """(treated, control): members of the chosen areas; members of no trial area."""
    known = set().union(*in_trials.values()) if in_trials else set()
    unknown = [a for a in areas if a != ALL_TRIALS and a not in known]
    if unknown:
        raise TrialmonError(f"effect: --areas: no trial area {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(known))})")
    chosen = known if ALL_TRIALS in areas else set(areas)
    treated = {m for m, a in in_trials.items() if a & chosen}
    control = {m for m, a in in_trials.items() if not a}
    return treated, control


def _date(month: str, first: bool):
    start = date(int(month[:4]), int(month[5:7]), 1)
    if first:
        return start
    following = shift_month(month, 1)
    return date.fromordinal(date(int(following[:4]), int(following[5:7]), 1).toordinal() - 1)


def read_counts(conn, spec: EffectSpec) -> pl.DataFrame:
    """Municipal numerator and denominator of the indicator (compute process only)."""
    return _wide_counts(_read_long(conn, [spec]), spec.indicator)


LONG_SCHEMA = {"month": pl.String, "municipality_code": pl.String, "population": pl.String,
               "group": pl.String, "measure": pl.String, "value": pl.Float64}


def _read_long(conn, specs: list[EffectSpec]) -> pl.DataFrame:
    """In one pass each, the municipal counts every spec needs:
    [month, municipality_code, population, group, measure, value]."""
    frames = []
    indicators = [INDICATORS[s.indicator] for s in specs]
    statfin = {m for i in indicators if i.source == "statfin" for m in (i.numerator,
                                                                        i.denominator)}
    if statfin:
        t = statfin_value
        rows = conn.execute(sa.select(t.c.month, t.c.area_code, t.c.measure, t.c.value)
                            .where(t.c.area_code.like("KU%"), t.c.measure.in_(sorted(statfin))))
        frames.append(pl.DataFrame([(m, a[2:], "all", "all", s, v) for m, a, s, v in rows],
                                   orient="row", schema=LONG_SCHEMA))
    register = [s for s in specs if INDICATORS[s.indicator].source == "register"]
    if register:
        t = municipal_measure
        measures = sorted({m for s in register for m in (INDICATORS[s.indicator].numerator,
                                                          INDICATORS[s.indicator].denominator)})
        rows = conn.execute(sa.select(t.c.month, t.c.municipality_code, t.c.population,
                                      t.c.group, t.c.measure, t.c.value)
                            .where(t.c.population.in_(sorted({s.population for s in register})),
                                   t.c.group.in_(sorted({s.group for s in register})),
                                   t.c.measure.in_(measures))).all()
        frames.append(pl.DataFrame(rows, orient="row", schema=LONG_SCHEMA))
    return pl.concat(frames) if frames else pl.DataFrame(schema=LONG_SCHEMA)


def _wide_counts(long: pl.DataFrame, indicator_id: str) -> pl.DataFrame:
    """[month, municipality_code, numerator, denominator] of one indicator."""
    indicator = INDICATORS[indicator_id]
    long = long.filter(pl.col("measure").is_in([indicator.numerator, indicator.denominator]))
    if long.is_empty():
        return pl.DataFrame(schema=COUNT_SCHEMA)
    role = pl.when(pl.col("measure") == indicator.numerator).then(pl.lit("numerator")).otherwise(
        pl.lit("denominator"))
    wide = long.with_columns(measure=role).pivot("measure", index=["month", "municipality_code"],
                                                 values="value")
    for column in ("numerator", "denominator"):
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(column))
    return wide.select(list(COUNT_SCHEMA)).cast(COUNT_SCHEMA)


def effect_from_db(url: str, spec: EffectSpec, threshold: int | None = None) -> EffectResult:
    """Estimate one specification from the database (compute process: reads microdata)."""
    spec.check()
    threshold = get_settings().suppression_threshold if threshold is None else threshold
    with get_engine(url).connect() as conn:
        treated, control = trial_membership(conn, spec.areas)
        counts = read_counts(conn, spec)
    return _estimate_counts(counts, treated, control, spec, threshold)


def _estimate_counts(counts, treated, control, spec, threshold) -> EffectResult:
    if counts.is_empty():
        return _empty_result(spec, "no data for this indicator")
    panel = municipal_panel(counts, treated, control, spec.start, spec.end)
    if panel.is_empty():
        return _empty_result(spec, "no data in the window")
    return estimate_effect(panel, spec, threshold)


# --------------------------------------------------------------------------- publishing


def default_specs() -> list[EffectSpec]:
    """All trial areas together, every indicator, population all and target group (group
    all), the full window and the window before the Nordic service model. Others (a single
    trial area, a group) are published on demand: ``trialmon effect ... --publish``."""
    specs = []
    for indicator in EFFECT_INDICATORS:
        statfin = INDICATORS[indicator].source == "statfin"
        for population in ("all",) if statfin else EFFECT_POPULATIONS:
            specs += [EffectSpec(indicator, population, "all", (ALL_TRIALS,), None, end)
                      for end in (TRIAL_END, PRE_NORDIC_END)]
    return specs


def window_key(spec: EffectSpec) -> str:
    """'full' (first month..2024-12), 'pre_nordic' (first month..2022-04) or 'FROM..TO'."""
    if spec.start is None and spec.end == TRIAL_END:
        return "full"
    if spec.start is None and spec.end == PRE_NORDIC_END:
        return "pre_nordic"
    return f"{spec.start or ''}..{spec.end}"


def publish_default_effects(url: str, threshold: int | None = None) -> int:
    """Estimate the default specifications and replace the published table with them:
    every other row (the extended grid, estimates published on demand) rested on the data
    before this computation, so it is withdrawn until ``publish_grid_effects`` (``trialmon
    effect --grid``) runs again; the page says which are pending. Returns the rows written."""
    threshold = get_settings().suppression_threshold if threshold is None else threshold
    specs = default_specs()
    with get_engine(url).connect() as conn:
        in_trials = trial_areas_of_municipalities(conn)
        long = _read_long(conn, specs)
    results = _estimate_specs(long, in_trials, specs, threshold)
    with get_engine(url).begin() as conn:
        conn.execute(sa.delete(effect_estimate))
    return publish_results(url, results)


def _estimate_specs(long: pl.DataFrame, in_trials: dict[str, set[str]],
                    specs: list[EffectSpec], threshold: int) -> list[tuple]:
    """Estimate each specification from counts read once (one table per indicator,
    population and group, reused across areas and windows)."""
    counts: dict[tuple[str, str, str], pl.DataFrame] = {}
    results = []
    for spec in specs:
        key = (spec.indicator, spec.population, spec.group)
        if key not in counts:
            counts[key] = _wide_counts(long.filter(pl.col("population") == spec.population,
                                                   pl.col("group") == spec.group),
                                       spec.indicator)
        treated, control = membership_sides(in_trials, spec.areas)
        results.append((spec, _estimate_counts(counts[key], treated, control, spec, threshold)))
    return results


def grid_specs(trial_areas: list[str]) -> list[EffectSpec]:
    """The rest of what the Effect page offers: each trial area alone (every indicator,
    both populations, group all, both windows) and all trial areas together for each
    group. Within a single trial area the page offers group all only (docs/effects.md)."""
    specs = []
    for indicator in EFFECT_INDICATORS:
        statfin = INDICATORS[indicator].source == "statfin"
        for population in ("all",) if statfin else EFFECT_POPULATIONS:
            for end in (TRIAL_END, PRE_NORDIC_END):
                specs += [EffectSpec(indicator, population, "all", (area,), None, end)
                          for area in sorted(trial_areas)]
                if not statfin:
                    specs += [EffectSpec(indicator, population, group, (ALL_TRIALS,), None, end)
                              for group in GROUPS if group != "all"]
    return specs


def publish_grid_effects(url: str, threshold: int | None = None, progress: bool = False,
                         areas: tuple[str, ...] = (ALL_TRIALS,)) -> int:
    """Estimate and publish ``grid_specs`` (run after the main computation: ``trialmon
    effect --grid``); ``areas``: only these trial areas' own estimates (default: the whole
    grid). Published one trial area at a time, so the page answers for the areas done
    while the rest are pending. Returns the rows written."""
    threshold = get_settings().suppression_threshold if threshold is None else threshold
    with get_engine(url).connect() as conn:
        in_trials = trial_areas_of_municipalities(conn)
        membership_sides(in_trials, areas)  # an unknown area code is an error naming it
        specs = grid_specs(sorted(set().union(*in_trials.values())) if in_trials else [])
        if ALL_TRIALS not in areas:
            specs = [s for s in specs if s.areas[0] in areas]
        long = _read_long(conn, specs)
    batches: dict[str, list[EffectSpec]] = {}
    for spec in specs:
        batches.setdefault(spec.areas_key, []).append(spec)
    written = 0
    with progress_bar(progress, "effects (grid)", length=len(specs)) as bar:
        for batch in batches.values():
            written += publish_results(url, _estimate_specs(long, in_trials, batch, threshold))
            bar.update(len(batch))
    return written


def publish_results(url: str, results: list[tuple[EffectSpec, EffectResult]]) -> int:
    """Replace the published rows of these specifications (one transaction)."""
    now = datetime.now(UTC)
    rows = [_published_row(result, spec, now) for spec, result in results]
    t = effect_estimate
    with get_engine(url).begin() as conn:
        for row in rows:
            conn.execute(sa.delete(t).where(*(t.c[k] == row[k] for k in (
                "indicator", "population", "group", "areas", "window"))))
        if rows:
            conn.execute(sa.insert(t), rows)
    return len(rows)


def _published_row(result: EffectResult, spec: EffectSpec, now: datetime) -> dict:
    return {
        "indicator": spec.indicator, "population": spec.population, "group": spec.group,
        "areas": spec.areas_key, "window": window_key(spec),
        "period_from": result.start, "period_to": result.end,
        "estimate": result.estimate, "std_error": result.std_error,
        "ci_low": result.ci_low, "ci_high": result.ci_high, "method": result.method,
        "n_treated": result.n_treated, "n_control": result.n_control,
        "pre_trend_p_value": result.pre_trend_p_value,
        "event_study": json.dumps(result.event_study), "status": result.status,
        "reason": result.reason, "computed_at": now,
    }


def format_table(result: EffectResult) -> str:
    """The result as a plain-text table for the terminal."""
    def fmt(value) -> str:
        return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    head = result.to_json()
    lines = [f"{key:<18} {fmt(head[key])}" for key in (
        "indicator", "population", "group", "areas", "from", "to", "unit", "estimate",
        "std_error", "ci_low", "ci_high", "method", "n_treated", "n_control",
        "pre_trend_p_value", "status", "reason")]
    lines.append("")
    lines.append(f"{'event_month':>11} {'month':>8} {'estimate':>9} {'ci_low':>9} {'ci_high':>9}")
    lines += [f"{e['event_month']:>11} {e['month']:>8} {fmt(e['estimate']):>9} "
              f"{fmt(e['ci_low']):>9} {fmt(e['ci_high']):>9}" for e in result.event_study]
    return "\n".join(lines)
