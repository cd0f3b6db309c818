"""The difference-in-differences estimator (indicators/effects.py) on synthetic panels
with a planted effect, against pyfixest called directly on a table built here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pyfixest as pf
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from indicators import effects
from indicators.effects import COUNT_SCHEMA, EffectSpec, estimate_effect, municipal_panel

TRIAL = 2021 * 12 + 2  # running month number of 2021-03


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def synthetic_rows(n_treated: int, n_control: int, effect: float, seed: int, *,
                   pre_trend: float = 0.0, first: str = "2019-01", months: int = 72,
                   missing: float = 0.05, codes: list[str] | None = None) -> pl.DataFrame:
    """Municipal counts: a municipality level, a common monthly shock, binomial noise of
    uneven sizes (30 .. 20,000 persons), `effect` percentage points on the treated from
    2021-03, an optional treated pre-trial trend (pp per month, zero from 2021-02 on),
    and a share `missing` of municipality-months dropped (plus one municipality whose
    first year is missing)."""
    rng = np.random.default_rng(seed)
    n = n_treated + n_control
    codes = codes or [f"{i:03d}" for i in range(n)]
    start = int(first[:4]) * 12 + int(first[5:7]) - 1
    month_idx = np.arange(start, start + months)
    sizes = np.exp(rng.uniform(np.log(30), np.log(20_000), n)).astype(int)
    level = rng.uniform(5, 20, n)
    shock = rng.normal(0, 1.0, months)
    treated = np.arange(n) < n_treated
    event = month_idx - TRIAL
    share = (level[:, None] + shock[None, :]
             + np.where(treated[:, None] & (event[None, :] >= 0), effect, 0.0)
             + np.where(treated[:, None] & (event[None, :] < -1),
                        pre_trend * (event[None, :] + 1), 0.0))
    denominator = np.broadcast_to(sizes[:, None], share.shape)
    numerator = rng.binomial(denominator, np.clip(share, 0.5, 99) / 100)
    frame = pl.DataFrame({
        "month": np.tile([month_label(m) for m in month_idx], n),
        "municipality_code": np.repeat(codes, months),
        "numerator": numerator.ravel().astype(float),
        "denominator": denominator.ravel().astype(float),
        "keep": rng.random(n * months) >= missing,
    })
    frame = frame.filter(pl.col("keep") | pl.col("month").is_in(["2021-02", "2021-03"]))
    frame = frame.filter(~((pl.col("municipality_code") == codes[-1])
                           & (pl.col("month") < month_label(start + 12))))
    return frame.drop("keep").cast(COUNT_SCHEMA), set(codes[:n_treated]), set(codes[n_treated:])


def independent_table(rows: pl.DataFrame, treated: set[str]) -> pd.DataFrame:
    """The regression table built here with pandas, not with the module's code."""
    table = rows.to_pandas()
    table = table[table["denominator"] > 0].copy()
    table["y"] = 100.0 * table["numerator"] / table["denominator"]
    table["treated"] = table["municipality_code"].isin(treated).astype(int)
    year, month = table["month"].str[:4].astype(int), table["month"].str[5:7].astype(int)
    table["rel"] = year * 12 + month - 1 - TRIAL
    table["treat_post"] = table["treated"] * (table["rel"] >= 0).astype(int)
    return table


def library_did(table: pd.DataFrame):
    return pf.feols("y ~ treat_post | municipality_code + month", data=table,
                    weights="denominator", vcov={"CRV1": "municipality_code"})


def estimate(rows, treated, control, start=None, end="2024-12", threshold=5):
    spec = EffectSpec("unemployed_share", start=start, end=end)
    return estimate_effect(municipal_panel(rows, treated, control, start, end), spec, threshold)


@pytest.mark.parametrize("effect", [0.0, 2.5])
def test_many_clusters_recover_the_planted_effect_and_match_pyfixest(effect):
    rows, treated, control = synthetic_rows(60, 140, effect, seed=7)
    result = estimate(rows, treated, control)
    fit = library_did(independent_table(rows, treated))
    assert result.estimate == pytest.approx(float(fit.coef()["treat_post"]), abs=1e-8)
    assert result.std_error == pytest.approx(float(fit.se()["treat_post"]), abs=1e-8)
    low, high = fit.confint(alpha=0.05).loc["treat_post"]
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), abs=1e-8)
    assert result.ci_low <= effect <= result.ci_high
    assert "CRV1" in result.method
    assert (result.n_treated, result.n_control) == (60, 140)
    assert result.pre_trend_p_value > 0.01  # parallel by construction


def test_event_study_matches_pyfixest_i_syntax_and_centres_on_the_effect():
    rows, treated, control = synthetic_rows(60, 140, 3.0, seed=11)
    result = estimate(rows, treated, control)
    table = independent_table(rows, treated)
    fit = pf.feols("y ~ i(rel, treated, ref=-1) | municipality_code + month", data=table,
                   weights="denominator", vcov={"CRV1": "municipality_code"})
    library = {int(name.split("::")[1].split(":")[0]): value  # 'rel::-14:treated'
               for name, value in fit.coef().items()}
    ours = {e["event_month"]: e["estimate"] for e in result.event_study}
    assert ours.pop(-1) == 0.0  # the reference month
    assert set(ours) == set(library)
    for month, value in ours.items():
        assert value == pytest.approx(library[month], abs=1e-8)
    post = [v for k, v in ours.items() if k >= 0]
    assert abs(np.mean(post) - 3.0) < 0.3
    assert [e["month"] for e in result.event_study][:2] == ["2019-01", "2019-02"]
    assert all(e["ci_low"] <= e["estimate"] <= e["ci_high"]
               for e in result.event_study if e["event_month"] != -1)


def test_pre_trend_test_rejects_diverging_pre_trends():
    rows, treated, control = synthetic_rows(60, 140, 0.0, seed=3, pre_trend=0.1)
    result = estimate(rows, treated, control)
    assert result.pre_trend_p_value < 0.001


@pytest.mark.parametrize("effect", [0.0, 2.0])
def test_few_treated_municipalities_use_the_wild_cluster_bootstrap(effect):
    rows, treated, control = synthetic_rows(4, 150, effect, seed=5)
    result = estimate(rows, treated, control)
    fit = library_did(independent_table(rows, treated))
    assert result.estimate == pytest.approx(float(fit.coef()["treat_post"]), abs=1e-8)
    assert "wild cluster bootstrap" in result.method and "WCR" in result.method
    assert result.ci_low <= effect <= result.ci_high
    # The interval is the set of effects the bootstrap test does not reject at 5 %.
    panel = municipal_panel(rows, treated, control, None, "2024-12")
    inside = effects.wild_bootstrap_p_value(panel, (result.ci_low + result.ci_high) / 2)
    outside = effects.wild_bootstrap_p_value(panel, result.ci_high + (result.ci_high
                                                                        - result.ci_low))
    assert inside > 0.05 > outside
    assert result.pre_trend_p_value > 0.01  # parallel by construction
    assert all(e["ci_low"] is None for e in result.event_study)
    assert result.n_treated == 4


def test_a_single_treated_municipality_gets_its_estimate_and_an_honest_interval():
    rows, treated, control = synthetic_rows(1, 150, 2.0, seed=9, missing=0.1)
    result = estimate(rows, treated, control)
    fit = library_did(independent_table(rows, treated))
    assert result.estimate == pytest.approx(float(fit.coef()["treat_post"]), abs=1e-8)
    assert "wild cluster bootstrap" in result.method and result.n_treated == 1
    if result.ci_low is None:  # one treated cluster: the bootstrap may not bound it
        assert "unbounded" in result.reason
    else:
        assert result.ci_low <= 2.0 <= result.ci_high


def test_the_vectorised_bootstrap_denominator_equals_wildboottest_s_own():
    """The faster CRV1 denominator gives the library's bootstrap t statistics draw by draw."""
    from wildboottest.wildboottest import WildboottestCL

    rows, treated, control = synthetic_rows(3, 80, 1.0, seed=17)
    demeaned = effects._demeaned(municipal_panel(rows, treated, control, None, "2024-12"))
    for null in (0.0, 1.0, -2.5):
        y = demeaned["y"] - null * demeaned["d"]
        boots = []
        for kind in (WildboottestCL, effects.VectorisedWildboottestCL):
            boot = kind(X=demeaned["d"].reshape(-1, 1), Y=y, cluster=demeaned["cluster"],
                        R=np.array([1.0]), B=199, seed=3, parallel=False)
            boot.get_scores(bootstrap_type="11", impose_null=True, adj=True, cluster_adj=True)
            boot.get_weights(weights_type="webb")
            boot.get_numer()
            boot.get_denom()
            boot.get_tboot()
            boots.append(boot.t_boot)
        np.testing.assert_allclose(boots[1], boots[0], rtol=1e-10)
        assert effects._wcr_p_value(demeaned, null, 199, 3) == effects._wcr_p_value(
            demeaned, null, 199, 3, bootstrap=WildboottestCL)


def test_window_and_missing_months():
    rows, treated, control = synthetic_rows(60, 140, 1.0, seed=13, missing=0.2)
    result = estimate(rows, treated, control, start="2020-01", end="2022-04")
    table = independent_table(rows.filter(pl.col("month").is_between(
        pl.lit("2020-01"), pl.lit("2022-04"))), treated)
    fit = library_did(table)
    assert result.estimate == pytest.approx(float(fit.coef()["treat_post"]), abs=1e-8)
    assert (result.to_json()["from"], result.to_json()["to"]) == ("2020-01", "2022-04")
    assert min(e["month"] for e in result.event_study) == "2020-01"
    assert max(e["month"] for e in result.event_study) == "2022-04"


def test_zero_denominators_drop_out():
    rows, treated, control = synthetic_rows(30, 60, 0.0, seed=2)
    zeroed = rows.with_columns(
        denominator=pl.when(pl.col("month") == "2022-06").then(0.0).otherwise("denominator"),
        numerator=pl.when(pl.col("month") == "2022-06").then(0.0).otherwise("numerator"))
    panel = municipal_panel(zeroed, treated, control, None, "2024-12")
    assert "2022-06" not in panel["month"].to_list()
    fit = library_did(independent_table(zeroed, treated))
    result = estimate(zeroed, treated, control)
    assert result.estimate == pytest.approx(float(fit.coef()["treat_post"]), abs=1e-8)


def test_refused_when_a_side_has_fewer_persons_than_the_threshold():
    rows, treated, control = synthetic_rows(2, 60, 0.0, seed=4)
    small = rows.with_columns(denominator=pl.when(
        pl.col("municipality_code").is_in(sorted(treated)) & (pl.col("month") == "2020-05"))
        .then(1.0).otherwise("denominator"), numerator=pl.when(
        pl.col("municipality_code").is_in(sorted(treated)) & (pl.col("month") == "2020-05"))
        .then(0.0).otherwise("numerator"))
    result = estimate(small, treated, control, threshold=5)
    assert result.status == "refused" and result.estimate is None
    assert "2020-05" in result.reason and "trial" in result.reason
    assert result.event_study == []
    assert (result.n_treated, result.n_control) == (2, 60)


# ---------------------------------------------------------------- database, CLI, publishing


def _store_measures(url: str, rows: pl.DataFrame) -> None:
    from trialmon.db import get_engine
    from trialmon.schema import municipal_measure

    long = pl.concat([
        rows.select("month", "municipality_code", pl.lit(measure).alias("measure"),
                    pl.col(column).cast(pl.Int64).alias("value"))
        for measure, column in (("unemployed", "numerator"), ("jobseekers", "denominator"))])
    records = long.with_columns(population=pl.lit("all"), group=pl.lit("all")).to_dicts()
    with get_engine(url).begin() as conn:
        conn.execute(sa.insert(municipal_measure), records)


def _reference_sides(url: str) -> tuple[list[str], list[str]]:
    from trialmon.db import get_engine

    with get_engine(url).connect() as conn:
        return tuple(sorted(s) for s in effects.trial_membership(conn, ("TRIALS",)))


def test_from_the_database_through_the_cli_and_the_published_table(db_url):
    sqlite_url = db_url  # both backends
    from shell.cli import main
    from shell.pipeline import prepare_database
    from trialmon.db import get_engine

    prepare_database(sqlite_url)
    trial, comparison = _reference_sides(sqlite_url)
    assert len(trial) > 50 and len(comparison) > 100
    codes = trial[:40] + comparison[:100]
    rows, treated, control = synthetic_rows(40, 100, 1.5, seed=21, codes=codes,
                                            first="2020-01", months=60)
    _store_measures(sqlite_url, rows)

    runner = CliRunner()
    out = runner.invoke(main, ["effect", "--db", sqlite_url, "--indicator", "unemployed_share",
                               "--format", "json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    fit = library_did(independent_table(rows.filter(pl.col("month") <= "2024-12"), treated))
    assert body["estimate"] == pytest.approx(float(fit.coef()["treat_post"]), abs=1e-8)
    for key in ("indicator", "population", "group", "areas", "from", "to", "estimate",
                "std_error", "ci_low", "ci_high", "method", "n_treated", "n_control",
                "pre_trend_p_value", "event_study"):
        assert key in body
    assert (body["n_treated"], body["n_control"], body["from"], body["to"]) == (
        40, 100, "2020-01", "2024-12")
    assert {"event_month", "estimate", "ci_low", "ci_high"} <= set(body["event_study"][0])
    assert body["ci_low"] <= 1.5 <= body["ci_high"]

    table = runner.invoke(main, ["effect", "--db", sqlite_url, "--indicator",
                                 "unemployed_share", "--format", "table"])
    assert table.exit_code == 0 and "n_treated" in table.output

    bad = runner.invoke(main, ["effect", "--db", sqlite_url, "--indicator", "nope"])
    assert bad.exit_code != 0 and "--indicator" in bad.output and "Traceback" not in bad.output
    bad_area = runner.invoke(main, ["effect", "--db", sqlite_url, "--indicator",
                                    "unemployed_share", "--areas", "TA99"])
    assert bad_area.exit_code == 1 and "TA99" in bad_area.output

    written = effects.publish_default_effects(sqlite_url)
    assert written == len(effects.default_specs())
    with get_engine(sqlite_url).connect() as conn:
        from trialmon.schema import effect_estimate as t

        row = conn.execute(sa.select(t).where(t.c.indicator == "unemployed_share",
                                              t.c.population == "all",
                                              t.c.window == "full")).one()
    assert row.estimate == pytest.approx(body["estimate"], abs=1e-8)
    assert json.loads(row.event_study) == body["event_study"]


def _area_rows(url: str, area: str, effect: float, seed: int):
    """Counts for the members of one real trial area (planted `effect` from 2021-03) and
    100 comparison municipalities."""
    from trialmon.db import get_engine

    with get_engine(url).connect() as conn:
        members, comparison = (sorted(s) for s in effects.trial_membership(conn, (area,)))
    rows, treated, _ = synthetic_rows(len(members), 100, effect, seed=seed,
                                      codes=members + comparison[:100], first="2020-01",
                                      months=60)
    return rows, treated


@pytest.mark.parametrize(("area", "effect", "seed"), [("TA12", 0.0, 31), ("TA12", 3.0, 32),
                                                      ("TA06", 2.0, 33)])
def test_a_single_trial_area_recovers_the_planted_effect_with_the_bootstrap(
        sqlite_url, area, effect, seed):
    from shell.pipeline import prepare_database

    prepare_database(sqlite_url)
    rows, treated = _area_rows(sqlite_url, area, effect, seed)
    _store_measures(sqlite_url, rows)
    result = effects.effect_from_db(sqlite_url, EffectSpec("unemployed_share", areas=(area,)))
    fit = library_did(independent_table(rows.filter(pl.col("month") <= "2024-12"), treated))
    assert result.estimate == pytest.approx(float(fit.coef()["treat_post"]), abs=1e-8)
    assert result.n_treated == len(treated) < effects.FEW_CLUSTERS
    assert result.method.startswith("wild cluster bootstrap (restricted, WCR; Webb weights")
    assert result.ci_low <= effect <= result.ci_high
    assert (result.ci_low > 0) == (effect > 0)  # 2-3 pp on 5-7 municipalities is detected
    assert result.areas == area


def test_the_grid_publishes_each_trial_area_and_a_new_computation_withdraws_it(sqlite_url):
    from shell.pipeline import prepare_database
    from trialmon.db import get_engine
    from trialmon.schema import effect_estimate as t

    prepare_database(sqlite_url)
    rows, treated = _area_rows(sqlite_url, "TA17", 2.0, 41)
    _store_measures(sqlite_url, rows)
    assert effects.publish_default_effects(sqlite_url) == len(effects.default_specs())
    written = effects.publish_grid_effects(sqlite_url)
    assert written == len(effects.grid_specs([f"TA{i:02d}" for i in range(1, 26)]))
    with get_engine(sqlite_url).connect() as conn:
        published = {(r.areas, r.group, r.window, r.indicator, r.population): r
                     for r in conn.execute(sa.select(t))}
    direct = effects.effect_from_db(sqlite_url, EffectSpec("unemployed_share", areas=("TA17",)))
    row = published[("TA17", "all", "full", "unemployed_share", "all")]
    assert row.status == "ok" and row.estimate == pytest.approx(direct.estimate, abs=1e-12)
    assert (row.ci_low, row.ci_high) == pytest.approx((direct.ci_low, direct.ci_high), abs=1e-12)
    assert "wild cluster bootstrap" in row.method and row.n_treated == 4
    # an area none of whose municipalities has data is refused, not left out
    assert published[("TA01", "all", "full", "unemployed_share", "all")].status == "refused"
    assert ("TRIALS", "under_30", "pre_nordic", "long_term_share", "target_group") in published
    assert not any(k[0] != "TRIALS" and k[1] != "all" for k in published)

    effects.publish_default_effects(sqlite_url)  # new data: the grid is pending again
    with get_engine(sqlite_url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() == len(
            effects.default_specs())


def test_the_grid_from_the_command_line_for_chosen_areas(sqlite_url):
    from shell.cli import main
    from shell.pipeline import prepare_database
    from trialmon.db import get_engine
    from trialmon.schema import effect_estimate as t

    prepare_database(sqlite_url)
    rows, _ = _area_rows(sqlite_url, "TA17", 2.0, 41)
    _store_measures(sqlite_url, rows)
    runner = CliRunner()
    out = runner.invoke(main, ["effect", "--db", sqlite_url, "--grid", "--areas", "TA17", "-q"])
    assert out.exit_code == 0, out.output
    per_area = [s for s in effects.grid_specs(["TA17"]) if s.areas == ("TA17",)]
    assert f"{len(per_area)} further specification(s)" in out.output
    with get_engine(sqlite_url).connect() as conn:
        assert set(conn.execute(sa.select(t.c.areas).distinct()).scalars()) == {"TA17"}
    bad = runner.invoke(main, ["effect", "--db", sqlite_url, "--grid", "--areas", "TA99"])
    assert bad.exit_code == 1 and "TA99" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(main, ["effect", "--db", sqlite_url])
    assert missing.exit_code == 2 and "--indicator" in missing.output


# ---------------------------------------------------------------- demo --effect


def test_demo_effect_plants_the_unemployed_share_only_where_and_when_asked(sqlite_url):
    from etl.demo import build_demo, generate_months
    from shell.pipeline import prepare_database

    def frames(effect):
        return {f["month"][0]: f for f in generate_months(0.01, "2021-01", "2021-04", 3,
                                                          effect=effect)}

    plain, planted = frames(0.0), frames(5.0)
    trial, _ = _reference_sides_of_reference()
    for month in ("2021-01", "2021-02"):
        assert planted[month].equals(plain[month])  # before the trial: nothing changes
    for month in ("2021-03", "2021-04"):
        before, after = plain[month], planted[month]
        assert before.select("person_id", "municipality_code").equals(
            after.select("person_id", "municipality_code"))  # the same persons
        outside = ~pl.col("municipality_code").is_in(trial)
        assert after.filter(outside).equals(before.filter(outside))
        share = [f.filter(~outside).select(
            pl.col("status").is_in(["unemployed", "laid_off"]).mean() * 100).item()
            for f in (before, after)]
        jobseekers = before.filter(~outside).height
        noise = 3 * 100 * (0.05 * 0.95 / jobseekers) ** 0.5  # 3 binomial standard errors
        assert abs(share[1] - share[0] - 5.0) < noise
    prepare_database(sqlite_url)  # the planted extract passes the loader's checks
    assert build_demo(sqlite_url, 0.005, "2021-03", "2021-03", 3, progress=False,
                      effect=5.0) == {"2021-03"}


def _reference_sides_of_reference() -> tuple[list[str], list[str]]:
    """Trial municipalities from the shipped reference file, read here with Polars."""
    from etl.reference import load_reference

    members = load_reference().members
    trial = members.filter(pl.col("area_type") == "trial_area")["municipality_code"]
    return sorted(set(trial.to_list())), []


def test_fetch_statfin_reaches_back_to_2019_and_loads(sqlite_url, tmp_path):
    """`trialmon fetch statfin --from 2019-01` then `load statfin`: the pre-trial years
    the public-statistics effect needs (a fake PxWeb on 127.0.0.1)."""
    from shell.cli import main
    from tests.fake_pxweb import FakePxWeb, table_from_file
    from trialmon.db import get_engine
    from trialmon.schema import statfin_value

    months = [f"{y}M{m:02d}" for y in (2018, 2019) for m in range(1, 13)]
    with FakePxWeb(table_from_file(None, months)) as fake:
        fetched = CliRunner().invoke(main, ["fetch", "statfin", "--from", "2019-01", "--to",
                                            "2019-03", "--out", str(tmp_path / "px"),
                                            "--base-url", fake.base_url, "-q"])
    assert fetched.exit_code == 0, fetched.output
    files = sorted(p for p in (tmp_path / "px").glob("*.json") if "meta" not in p.name)
    loaded = CliRunner().invoke(main, ["load", "statfin", "--db", sqlite_url, "-q",
                                       *map(str, files)])
    assert loaded.exit_code == 0, loaded.output
    with get_engine(sqlite_url).connect() as conn:
        stored = sorted(conn.execute(sa.select(statfin_value.c.month).distinct()).scalars())
    assert stored == ["2019-01", "2019-02", "2019-03"]
