"""Disclosure control: hand-worked cases and an independent attacker.

The attacker (``attack``) does not use indicators.disclosure: it writes every
published relation "area = sum of its member municipalities" as an integer
programme over the suppressed cells (each >= 1, published cells fixed) and asks
scipy's MILP solver for the smallest and largest value of each suppressed cell.
Protection holds when the two differ for every suppressed cell.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from indicators.disclosure import DisclosureError, WorkerPool, protect

MONTH = "2024-01"
_CAP = 10**6  # an upper bound no test value comes near: keeps every programme bounded


def geography(regions: dict[str, list[str]], trials: dict[str, list[str]],
              all_munis: list[str]) -> dict[tuple[str, str], list[str]]:
    """The areas of a geography: regions, trial areas, all_trials, comparison, country."""
    in_trial = [m for ms in trials.values() for m in ms]
    areas = {("region", r): ms for r, ms in regions.items()}
    areas |= {("trial_area", t): ms for t, ms in trials.items()}
    if in_trial:
        areas[("all_trials", "TRIALS")] = in_trial
    comparison = [m for m in all_munis if m not in in_trial]
    if comparison:
        areas[("comparison", "NONTRIAL")] = comparison
    areas[("country", "SSS")] = list(all_munis)
    return areas


def frames(areas, slices: dict[str, dict[str, int | None]]):
    """Cells (areas summed from municipalities) and members for some measures."""
    rows = []
    for measure, values in slices.items():
        for m, v in values.items():
            rows.append((MONTH, "municipality", m, measure, v))
        for (area_type, code), ms in areas.items():
            parts = [values[m] for m in ms]
            total = None if any(p is None for p in parts) else sum(parts)
            rows.append((MONTH, area_type, code, measure, total))
    cells = pl.DataFrame(
        rows, schema={"month": pl.String, "area_type": pl.String, "area_code": pl.String,
                      "measure": pl.String, "value": pl.Int64}, orient="row",
    ).with_columns(population=pl.lit("all"), group=pl.lit("all"))
    members = pl.DataFrame(
        [(MONTH, t, c, m) for (t, c), ms in areas.items() for m in ms],
        schema=["month", "area_type", "area_code", "municipality_code"], orient="row",
    )
    return cells, members


def suppressed_set(result: pl.DataFrame, measure: str | None = None) -> set[str]:
    if measure is not None:
        result = result.filter(pl.col("measure") == measure)
    return set(result.filter("suppressed").get_column("area_code"))


def attack(result: pl.DataFrame, areas, sums=()) -> dict[tuple[str, str], tuple[float, float]]:
    """min and max of every suppressed cell given everything published.

    One integer programme over all measures: the area relations of each measure and,
    for each (total, parts) in ``sums``, total = sum of parts in every area.
    """
    cell = {(r["measure"], r["area_code"]): r for r in result.iter_rows(named=True)}
    hidden = sorted(k for k, r in cell.items() if r["suppressed"])
    if not hidden:
        return {}
    index = {k: i for i, k in enumerate(hidden)}
    relations = [
        [((measure, code), 1.0)] + [((measure, m), -1.0) for m in ms]
        for measure in {k[0] for k in cell} for (_, code), ms in areas.items()
        if cell[(measure, code)]["value"] is not None
    ]
    relations += [
        [((total, code), 1.0)] + [((part, code), -1.0) for part in parts]
        for total, parts in sums for code in {k[1] for k in cell}
    ]
    rows, rhs = [], []
    for terms in relations:
        coef, const = np.zeros(len(hidden)), 0.0
        for key, sign in terms:
            if key in index:
                coef[index[key]] += sign
            else:
                const += sign * (cell[key]["value"] or 0)
        rows.append(coef)
        rhs.append(-const)
    constraints = [LinearConstraint(np.array(rows), rhs, rhs)] if rows else []
    bounds = Bounds(np.ones(len(hidden)), np.full(len(hidden), _CAP))
    ranges = {}
    for key, i in index.items():
        objective = np.zeros(len(hidden))
        objective[i] = 1.0
        low = milp(objective, constraints=constraints, bounds=bounds,
                   integrality=np.ones(len(hidden)))
        high = milp(-objective, constraints=constraints, bounds=bounds,
                    integrality=np.ones(len(hidden)))
        assert low.success and high.success, (key, low.message, high.message)
        ranges[key] = (low.fun, -high.fun)
    return ranges


def assert_safe(result, areas, sums=()):
    for cell, (low, high) in attack(result, areas, sums).items():
        assert high - low >= 1 - 1e-6, f"{cell} recoverable: it can only be {low}"


# --- hand-worked cases ---------------------------------------------------------------

TWO_REGIONS = geography({"R1": ["a", "b", "c"], "R2": ["d", "e"]}, {}, list("abcde"))


def test_one_suppressed_member_gets_the_smallest_positive_partner():
    # a=3 is primary; R1 - b - c would give it back. The cheapest partner is c (6 < 8);
    # then a + c = 9 is all the attacker learns.
    values = {"a": 3, "b": 8, "c": 6, "d": 20, "e": 30}
    cells, members = frames(TWO_REGIONS, {"u": values})
    result = protect(cells, members)
    assert suppressed_set(result) == {"a", "c"}
    assert attack(result, TWO_REGIONS)[("u", "a")] == (1, 8)
    assert result.drop("suppressed").equals(cells)


def test_two_ones_are_not_enough():
    # a + b = 2 with both >= 1 pins a = b = 1: a third cell (c, the only positive one
    # left in R1) must go.
    values = {"a": 1, "b": 1, "c": 9, "d": 20, "e": 30}
    cells, members = frames(TWO_REGIONS, {"u": values})
    result = protect(cells, members)
    assert suppressed_set(result) == {"a", "b", "c"}
    assert attack(result, TWO_REGIONS)[("u", "a")] == (1, 9)


def test_two_ones_plus_a_two_are_safe():
    # a + b = 4 (2 + 2): each is 1..3, nothing more to hide.
    values = {"a": 2, "b": 2, "c": 9, "d": 20, "e": 30}
    cells, members = frames(TWO_REGIONS, {"u": values})
    assert suppressed_set(protect(cells, members)) == {"a", "b"}


def test_zeros_are_shown_and_never_used_as_partners():
    values = {"a": 3, "b": 0, "c": 0, "d": 20, "e": 30}
    areas = geography({"R1": ["a", "b", "c", "f"], "R2": ["d", "e"]}, {}, list("abcdef"))
    cells, members = frames(areas, {"u": {**values, "f": 7}})
    result = protect(cells, members)
    assert suppressed_set(result) == {"a", "f"}
    assert_safe(result, areas)


def test_lone_member_hides_its_area_total_and_one_more_root_arc():
    # R1 = {a: 3, b: 0}: R1's total is 3 too (primary). Then R1 = SSS - R2 gives it
    # back. A cycle through R1 needs another arc at the root: either SSS and, since
    # comparison = country here, NONTRIAL (53 + 53), or R2 with its smallest member
    # c (50 + 20), which hides less.
    areas = geography({"R1": ["a", "b"], "R2": ["c", "d"]}, {}, list("abcd"))
    cells, members = frames(areas, {"u": {"a": 3, "b": 0, "c": 20, "d": 30}})
    result = protect(cells, members)
    assert suppressed_set(result) == {"a", "R1", "R2", "c"}
    assert_safe(result, areas)


def test_two_partitions_pin_a_cell_that_every_single_relation_hides():
    # Regions R1={a,b,c}, R2={e,f,g}; trial areas T1={a,b,g}, T2={c,e,f}.
    # Primary: a=4, b=3, c=2, e=3, f=4. Each relation has >= 2 hidden cells with sum
    # > count, yet R1 - T1 = c - g pins c while g (10) is published. Closing the cycle
    # costs g (10); the other ways cost R1+R2 or T1+T2 (26 each).
    areas = geography({"R1": ["a", "b", "c"], "R2": ["e", "f", "g"]},
                      {"T1": ["a", "b", "g"], "T2": ["c", "e", "f"]}, list("abcefg"))
    values = {"a": 4, "b": 3, "c": 2, "e": 3, "f": 4, "g": 10}
    cells, members = frames(areas, {"u": values})
    result = protect(cells, members)
    assert suppressed_set(result) == {"a", "b", "c", "e", "f", "g"}
    ranges = attack(result, areas)
    # R1 - T1: c = g - 8; a + b = 9 - c >= 2 and e + f = 9 - c >= 2, so c is 1..7.
    assert ranges[("u", "c")] == (1, 7)
    assert_safe(result, areas)


def test_null_values_are_left_alone_and_slices_are_independent():
    values = {"a": 3, "b": 8, "c": 6, "d": 20, "e": 30}
    cells, members = frames(TWO_REGIONS, {"u": values, "n": dict.fromkeys(values)})
    result = protect(cells, members)
    assert suppressed_set(result, "n") == set()
    assert suppressed_set(result, "u") == {"a", "c"}


def test_areas_without_a_published_total_give_the_attacker_nothing():
    # R1 and SSS have members but no cell: a=3 appears in no published relation
    # (R2 = {c} says nothing about a), so no partner is needed.
    areas = {("region", "R1"): ["a", "b"], ("region", "R2"): ["c"],
             ("country", "SSS"): ["a", "b", "c"]}
    cells, members = frames(areas, {"u": {"a": 3, "b": 8, "c": 6}})
    cells = cells.filter(~pl.col("area_code").is_in(["R1", "SSS"]))
    assert suppressed_set(protect(cells, members)) == {"a"}
    # With SSS published, a = SSS - b - c: the cheapest cycle hides b (8) too, the
    # other way (c and R2, 6 + 6) is dearer.
    cells, members = frames(areas, {"u": {"a": 3, "b": 8, "c": 6}})
    cells = cells.filter(pl.col("area_code") != "R1")
    assert suppressed_set(protect(cells, members)) == {"a", "b"}


def test_ties_are_broken_by_area_code_not_by_row_order():
    # b and c (6 each) are equally cheap partners for a=3: the first code wins, in
    # whatever order the rows come.
    values = {"a": 3, "b": 6, "c": 6, "d": 20, "e": 30}
    cells, members = frames(TWO_REGIONS, {"u": values})
    forward = protect(cells, members)
    backward = protect(cells.reverse(), members.reverse()).reverse()
    assert suppressed_set(forward) == {"a", "b"}
    assert forward.equals(backward)


IDENTITY = (("unemployed_or_in_services", ("unemployed", "in_services")),)


def test_a_sum_measure_is_hidden_where_its_parts_are():
    unemployed = {"a": 3, "b": 8, "c": 6, "d": 20, "e": 30}
    in_services = {"a": 50, "b": 7, "c": 9, "d": 40, "e": 45}
    both = {m: unemployed[m] + in_services[m] for m in unemployed}
    cells, members = frames(TWO_REGIONS, {"unemployed": unemployed, "in_services": in_services,
                                          "unemployed_or_in_services": both})
    result = protect(cells, members)
    assert suppressed_set(result, "unemployed") == {"a", "c"}
    assert suppressed_set(result, "in_services") == set()
    assert suppressed_set(result, "unemployed_or_in_services") == {"a", "c"}
    assert_safe(result, TWO_REGIONS, IDENTITY)
    # Protected slice by slice only, a = 53 - 50 would be open.
    alone = protect(cells, members, sums={})
    assert suppressed_set(alone, "unemployed_or_in_services") == set()
    assert attack(alone, TWO_REGIONS, IDENTITY)[("unemployed", "a")] == (3, 3)


def test_months_worked_in_chunks_give_the_same_result(monkeypatch):
    import indicators.disclosure as disclosure

    first = {"a": 3, "b": 8, "c": 6, "d": 20, "e": 30}
    second = {"a": 9, "b": 1, "c": 1, "d": 2, "e": 30}
    one, members = frames(TWO_REGIONS, {"u": first})
    two, _ = frames(TWO_REGIONS, {"u": second})
    cells = pl.concat([one, two.with_columns(month=pl.lit("2024-02"))])
    members = pl.concat([members, members.with_columns(month=pl.lit("2024-02"))])
    whole = protect(cells, members)
    monkeypatch.setattr(disclosure, "CHUNK_CELLS", 3)
    assert protect(cells, members).equals(whole)
    # 2024-02: b, c (1 + 1 = 2) pin each other: a third cell of R1 (a, 9) goes;
    # R2: d=2 alone, its partner is e (30) or R2 with SSS... e is cheapest.
    feb = whole.filter(pl.col("month") == "2024-02")
    assert suppressed_set(feb) == {"a", "b", "c", "d", "e"}
    assert suppressed_set(whole.filter(pl.col("month") == "2024-01")) == {"a", "c"}


def test_threshold_is_configurable():
    values = {"a": 3, "b": 8, "c": 6, "d": 20, "e": 30}
    cells, members = frames(TWO_REGIONS, {"u": values})
    assert suppressed_set(protect(cells, members, threshold=3)) == set()
    # threshold 7: a=3, c=6 primary; a + c = 9 with both hidden: safe as it stands.
    assert suppressed_set(protect(cells, members, threshold=7)) == {"a", "c"}
    # threshold 9: b=8 too; R1 = 17 hidden-free: a + b + c = 17, all three hidden.
    assert suppressed_set(protect(cells, members, threshold=9)) == {"a", "b", "c"}


def test_overlapping_areas_are_refused():
    # T1 = {a, b} and T2 = {b, c} overlap without nesting: no longer a network.
    areas = {("region", "R1"): ["a", "b", "c"], ("trial_area", "T1"): ["a", "b"],
             ("trial_area", "T2"): ["b", "c"]}
    cells, members = frames(areas, {"u": {"a": 3, "b": 7, "c": 9}})
    with pytest.raises(DisclosureError, match="overlap"):
        protect(cells, members)


def test_empty_input():
    cells, members = frames(TWO_REGIONS, {})
    assert protect(cells, members).height == 0


# --- properties on random geographies ------------------------------------------------

small_or_any = st.one_of(st.integers(0, 6), st.integers(0, 6), st.integers(0, 60))


def draw_geography(draw, fewest: int, most: int, last_area: int):
    """fewest..most municipalities, each in a region R0..R{last_area} and in a trial area
    T0..T{last_area} or none; returns (municipality codes, geography(...))."""
    n = draw(st.integers(fewest, most))
    munis = [f"m{i}" for i in range(n)]
    region_of = draw(st.lists(st.integers(0, last_area), min_size=n, max_size=n))
    trial_of = draw(st.lists(st.integers(-1, last_area), min_size=n, max_size=n))  # -1: none
    regions, trials = {}, {}
    for m, r, t in zip(munis, region_of, trial_of, strict=True):
        regions.setdefault(f"R{r}", []).append(m)
        if t >= 0:
            trials.setdefault(f"T{t}", []).append(m)
    return munis, geography(regions, trials, munis)


@st.composite
def random_case(draw):
    """Municipalities in regions, some of them in trial areas, with small counts."""
    munis, areas = draw_geography(draw, 1, 10, last_area=3)
    n = len(munis)
    measures = draw(st.integers(1, 2))
    slices = {f"u{k}": dict(zip(munis, draw(st.lists(small_or_any, min_size=n, max_size=n)),
                                strict=True))
              for k in range(measures)}
    if draw(st.booleans()):  # a measure not computable this month: null everywhere
        slices["unknown"] = dict.fromkeys(munis)
    threshold = draw(st.sampled_from([2, 3, 5, 5, 10]))
    return areas, slices, threshold


@settings(max_examples=150, deadline=None)
@given(random_case())
def test_no_suppressed_value_can_be_recovered(case):
    areas, slices, threshold = case
    cells, members = frames(areas, slices)
    result = protect(cells, members, threshold=threshold)
    assert_safe(result, areas)


@settings(max_examples=150, deadline=None)
@given(random_case())
def test_primary_cells_hidden_zeros_shown_values_unchanged(case):
    areas, slices, threshold = case
    cells, members = frames(areas, slices)
    result = protect(cells, members, threshold=threshold)
    assert result.drop("suppressed").equals(cells)
    primary = result.filter(pl.col("value").is_between(1, threshold - 1))
    assert primary.get_column("suppressed").all()
    assert not result.filter(pl.col("value") == 0).get_column("suppressed").any()
    assert not result.filter(pl.col("value").is_null()).get_column("suppressed").any()


@st.composite
def random_sum_case(draw):
    """Two random part measures on a random geography and their cell-by-cell sum."""
    areas, slices, threshold = draw(random_case())
    first = slices["u0"]
    second = dict(zip(first, draw(st.lists(small_or_any, min_size=len(first),
                                           max_size=len(first))), strict=True))
    slices = {"unemployed": first, "in_services": second,
              "unemployed_or_in_services": {m: first[m] + second[m] for m in first}}
    return areas, slices, threshold


@settings(max_examples=60, deadline=None)
@given(random_sum_case())
def test_sum_identity_reopens_nothing(case):
    areas, slices, threshold = case
    cells, members = frames(areas, slices)
    result = protect(cells, members, threshold=threshold)
    assert_safe(result, areas, IDENTITY)


# --- linked tables (issue 12) --------------------------------------------------------
#
# The attacker below knows every published cell of a month and, written here from the
# definitions (not taken from indicators.disclosure): every area relation of every
# slice; the nested populations (target_group and trial_customers inside all) and
# groups (under_30 and foreign_language inside all) with their complements >= 0;
# the nested measures (laid_off and long_term_unemployed inside unemployed;
# unemployed + in_services + employed_open inside jobseekers); the sum
# unemployed_or_in_services = unemployed + in_services; and the identities that follow
# from the target group's definition (everyone under 30 is in it, and so is every
# unemployed, laid-off or in-service foreign-language person). Hidden cells are
# integers >= 1, complements integers >= 0.

L_POPULATIONS = ("all", "target_group", "trial_customers")
L_GROUPS = ("all", "under_30", "foreign_language")
L_MEASURES = ("jobseekers", "unemployed", "laid_off", "in_services",
              "unemployed_or_in_services")
STATUS_ONLY = {"unemployed", "laid_off", "long_term_unemployed", "in_services",
               "unemployed_or_in_services"}
STATUSES = ("unemployed", "laid_off", "service", "employed_open", "other")


def person_cells(persons: list[dict], areas) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Counts of persons per municipality, population, group and measure, summed to areas."""
    munis = sorted({m for ms in areas.values() for m in ms})

    def counts(p):
        unemployed = p["status"] in ("unemployed", "laid_off")
        return {
            "jobseekers": True, "unemployed": unemployed, "laid_off": p["status"] == "laid_off",
            "long_term_unemployed": unemployed and p["long_term"],
            "in_services": p["status"] == "service", "employed_open": p["status"] == "employed_open",
            "unemployed_or_in_services": unemployed or p["status"] == "service",
        }

    def member(p, population, group):
        target = p["young"] or (p["status"] in ("unemployed", "laid_off", "service")
                                and p["foreign"])
        in_population = {"all": True, "target_group": target,
                         "trial_customers": p["trial"]}[population]
        in_group = {"all": True, "under_30": p["young"], "foreign_language": p["foreign"]}[group]
        return in_population and in_group

    value = {}
    for population in L_POPULATIONS:
        for group in L_GROUPS:
            for measure in L_MEASURES:
                for m in munis:
                    value[(population, group, measure, m)] = sum(
                        1 for p in persons if p["muni"] == m and member(p, population, group)
                        and counts(p)[measure])
    rows = []
    for (population, group, measure, m), v in value.items():
        rows.append((MONTH, "municipality", m, population, group, measure, v))
    for (area_type, code), ms in areas.items():
        for population in L_POPULATIONS:
            for group in L_GROUPS:
                for measure in L_MEASURES:
                    rows.append((MONTH, area_type, code, population, group, measure,
                                 sum(value[(population, group, measure, m)] for m in ms)))
    cells = pl.DataFrame(rows, schema={"month": pl.String, "area_type": pl.String,
                                       "area_code": pl.String, "population": pl.String,
                                       "group": pl.String, "measure": pl.String,
                                       "value": pl.Int64}, orient="row")
    members = pl.DataFrame([(MONTH, t, c, m) for (t, c), ms in areas.items() for m in ms],
                           schema=["month", "area_type", "area_code", "municipality_code"],
                           orient="row")
    return cells, members


def linked_relations_for_attack(areas):
    """[(terms {(population, group, measure, area_code): coefficient}, exact)] of a month."""
    codes = sorted({m for ms in areas.values() for m in ms}) + [c for _, c in areas]
    relations = []
    for population in L_POPULATIONS:
        for group in L_GROUPS:
            for measure in L_MEASURES:
                for (_, code), ms in areas.items():
                    terms = {(population, group, measure, code): 1}
                    terms |= {(population, group, measure, m): -1 for m in ms}
                    relations.append((terms, True))
    for code in codes:
        for measure in L_MEASURES:
            for group in L_GROUPS:
                for child in ("target_group", "trial_customers"):
                    exact = child == "target_group" and (
                        group == "under_30" or (group == "foreign_language"
                                                and measure in STATUS_ONLY))
                    relations.append(({("all", group, measure, code): 1,
                                       (child, group, measure, code): -1}, exact))
            for population in L_POPULATIONS:
                for group in ("under_30", "foreign_language"):
                    relations.append(({(population, "all", measure, code): 1,
                                       (population, group, measure, code): -1}, False))
        for population in L_POPULATIONS:
            for group in L_GROUPS:
                def key(measure, population=population, group=group, code=code):
                    return (population, group, measure, code)
                relations.append(({key("unemployed"): 1, key("laid_off"): -1}, False))
                relations.append(({key("jobseekers"): 1, key("unemployed"): -1,
                                   key("in_services"): -1}, False))
                relations.append(({key("unemployed_or_in_services"): 1, key("unemployed"): -1,
                                   key("in_services"): -1}, True))
    return relations


def linked_attack(result: pl.DataFrame, areas, threshold: int):
    """Violations: protected counts the attacker pins to one value (hidden cells; and
    complements from 1 to threshold - 1, published or pinned)."""
    cell = {(r["population"], r["group"], r["measure"], r["area_code"]): r
            for r in result.iter_rows(named=True)}
    hidden = sorted(k for k, r in cell.items() if r["suppressed"])
    relations = linked_relations_for_attack(areas)
    n_hidden = len(hidden)
    complements = [i for i, (_, exact) in enumerate(relations) if not exact]
    n = n_hidden + len(complements)
    index = {k: i for i, k in enumerate(hidden)}
    comp_index = {r: n_hidden + j for j, r in enumerate(complements)}
    rows, rhs, truth = [], [], {}
    violations = []
    for r, (terms, exact) in enumerate(relations):
        coef, const = np.zeros(n), 0.0
        true_value = 0
        for key, c in terms.items():
            true_value += c * cell[key]["value"]
            if key in index:
                coef[index[key]] += c
            else:
                const += c * cell[key]["value"]
        if not exact:
            coef[comp_index[r]] = -1.0
            truth[r] = true_value
            if not coef[:n_hidden].any() and 1 <= true_value < threshold:
                violations.append(("published complement", terms, true_value))
        rows.append(coef)
        rhs.append(-const)
    lower = np.r_[np.ones(n_hidden), np.zeros(len(complements))]
    bounds = Bounds(lower, np.full(n, _CAP))
    constraints = [LinearConstraint(np.array(rows), rhs, rhs)]
    asked = [(k, index[k]) for k in hidden]
    asked += [(relations[r][0], comp_index[r]) for r in complements
              if 1 <= truth[r] < threshold and np.array(rows)[r, :n_hidden].any()]
    true_of = {i: cell[k]["value"] for k, i in index.items()}
    true_of |= {comp_index[r]: truth[r] for r in complements}
    for what, i in asked:
        objective = np.zeros(n)
        objective[i] = 1.0
        # the true table is feasible: one other value (below, else above) is enough
        low = milp(objective, constraints=constraints, bounds=bounds, integrality=np.ones(n))
        assert low.success, (what, low.message)
        if low.fun < true_of[i] - 1e-6:
            continue
        high = milp(-objective, constraints=constraints, bounds=bounds, integrality=np.ones(n))
        assert high.success, (what, high.message)
        if -high.fun - low.fun < 1 - 1e-6:
            violations.append(("pinned", what, low.fun))
    return violations


def test_linked_attacker_finds_the_issue_differences_in_slice_wise_protection():
    # One small municipality where three jobseekers are outside the target group:
    # slice by slice nothing is small in all or target_group, so the old protection
    # publishes both and their difference, 3.
    areas = geography({"R1": ["a", "b"], "R2": ["c"]}, {}, ["a", "b", "c"])
    persons = ([{"muni": "a", "young": True, "foreign": False, "trial": False,
                 "status": "unemployed", "long_term": False}] * 12
               + [{"muni": "a", "young": False, "foreign": False, "trial": False,
                   "status": "other", "long_term": False}] * 3
               + [{"muni": m, "young": True, "foreign": False, "trial": False,
                   "status": "unemployed", "long_term": False} for m in "bc" for _ in range(20)])
    cells, members = person_cells(persons, areas)
    old = protect(cells, members, linked=False)
    assert ("published complement", {("all", "all", "jobseekers", "a"): 1,
                                     ("target_group", "all", "jobseekers", "a"): -1}, 3) \
        in linked_attack(old, areas, 5)
    new = protect(cells, members)
    assert linked_attack(new, areas, 5) == []
    assert new.drop("suppressed").equals(cells)


person = st.fixed_dictionaries({
    "young": st.booleans(), "foreign": st.booleans(), "trial": st.booleans(),
    "status": st.sampled_from(STATUSES), "long_term": st.booleans()})


@st.composite
def linked_case(draw):
    """A few municipalities in regions (some in trial areas) and a few dozen persons."""
    munis, areas = draw_geography(draw, 2, 4, last_area=1)
    n = len(munis)
    people = draw(st.lists(person, min_size=1, max_size=30))
    placed = [{**p, "muni": munis[draw(st.integers(0, n - 1))]} for p in people]
    threshold = draw(st.sampled_from([3, 5]))
    return areas, placed, threshold


@settings(max_examples=6, deadline=None)
@given(linked_case())
def test_linked_attacker_recovers_nothing(case):
    areas, persons, threshold = case
    cells, members = person_cells(persons, areas)
    result = protect(cells, members, threshold=threshold)
    assert result.drop("suppressed").equals(cells)
    assert linked_attack(result, areas, threshold) == []


def test_demo_month_linked_protection():
    """The synthetic register (etl.demo, scale 0.02) through the real measures: no small
    difference of published cells over populations, groups or measures in the whole
    month, and the MILP attacker pins nothing in a few small municipalities."""
    from etl.demo import generate_months
    from etl.reference import load_reference
    from indicators import areas as area_module
    from indicators.measures import municipal_measures

    rows = pl.concat(list(generate_months(0.02, "2023-02", "2023-04", 3)))
    municipal = municipal_measures(rows.lazy(), ["2023-03"], set(rows["month"].unique()))
    members = area_module.members_by_month(load_reference().members, ["2023-03"])
    cells = area_module.roll_up(municipal, members)
    result = protect(cells, area_module.without_municipalities(members))
    published = result.filter(~pl.col("suppressed"))
    keys = ["area_type", "area_code", "measure"]
    for dimension, other, child in (("population", "group", "target_group"),
                                    ("population", "group", "trial_customers"),
                                    ("group", "population", "under_30"),
                                    ("group", "population", "no_earnings_related")):
        parent = published.filter(pl.col(dimension) == "all")
        kid = published.filter(pl.col(dimension) == child).rename({"value": "child"})
        pairs = parent.join(kid, on=[*keys, other])
        assert pairs.height > 1000
        assert pairs.filter((pl.col("value") - pl.col("child")).is_between(1, 4)).height == 0
    # the attacker on four small municipalities of one region, as a region of their own
    sizes = (municipal.filter((pl.col("measure") == "jobseekers") & (pl.col("population") == "all")
                              & (pl.col("group") == "all"))
             .join(members.filter(pl.col("area_type") == "region"), on="municipality_code")
             .sort("area_code", "value", "municipality_code"))
    region = sizes.row(0, named=True)["area_code"]
    four = sizes.filter(pl.col("area_code") == region)["municipality_code"].head(4).to_list()
    small_areas = {("region", "R"): four}
    subset = municipal.filter(pl.col("municipality_code").is_in(four)
                              & pl.col("population").is_in(L_POPULATIONS)
                              & pl.col("group").is_in(L_GROUPS)
                              & pl.col("measure").is_in(L_MEASURES))
    small_members = pl.DataFrame([("2023-03", "region", "R", m) for m in four],
                                 schema=["month", "area_type", "area_code", "municipality_code"],
                                 orient="row")
    small_cells = area_module.roll_up(subset, pl.concat([
        small_members, small_members.with_columns(area_type=pl.lit("municipality"),
                                                  area_code=pl.col("municipality_code"))]))
    small = protect(small_cells, small_members)
    assert small["suppressed"].any()
    assert linked_attack(small, small_areas, 5) == []


def test_joint_move_keeps_the_compensation_among_sibling_municipalities(monkeypatch):
    # Municipality a has one person in services among seven jobseekers, all young: the
    # 1 must be hidden, and since a's other statuses and a's over-30s are 0, it can only
    # rise together with a's jobseekers and the under-30 cells. b (three in services)
    # cannot fall by that move as it stands (b's all - under_30 complements are 0
    # too), so the 2-linked move climbs to R1 and the country and hides their
    # jobseekers totals; the joint move grows until b can take its fall and keeps the
    # compensation between a and b. The attacker must find nothing either way.
    import indicators.disclosure as disclosure

    def young(muni, status):
        return {"muni": muni, "young": True, "foreign": False, "trial": False,
                "status": status, "long_term": False}
    areas = geography({"R1": ["a", "b", "c"], "R2": ["d", "e"]}, {}, list("abcde"))
    persons = ([young("a", "service")] + [young("a", "unemployed")] * 6
               + [young("b", "service")] * 3 + [young("b", "unemployed")] * 6
               + [young("c", "unemployed")] * 8
               + [young(m, "unemployed") for m in "de" for _ in range(9)]
               + [young("d", "service")] * 7 + [young("e", "service")] * 8
               # over-30s in R2 only: all - under_30 is 0 in R1 but not everywhere, so
               # it is a nest here, not an identity of these data (which would merge
               # the two cells into one unit and make the 2-linked move fall in b too)
               + [{**young("d", "unemployed"), "young": False}] * 6)
    cells, members = person_cells(persons, areas)
    totals = (pl.col("area_type").is_in(["region", "country"])
              & (pl.col("measure") == "jobseekers") & (pl.col("population") == "all")
              & (pl.col("group") == "all"))
    hidden = {}
    for joint in (False, True):
        monkeypatch.setattr(disclosure, "JOINT_MOVES", joint)
        result = protect(cells, members)
        assert linked_attack(result, areas, 5) == []
        assert result.filter((pl.col("area_code") == "a") & (pl.col("measure") == "in_services")
                             & (pl.col("population") == "all") & (pl.col("group") == "all")
                             )["suppressed"].item()
        hidden[joint] = dict(result.filter(totals).select("area_code", "suppressed").rows())
    assert hidden[False]["R1"] and hidden[False]["SSS"]  # the climb without joint moves
    assert hidden[True] == {"R1": False, "R2": False, "SSS": False}


def test_months_protected_in_parallel_processes_get_the_same_flags_as_in_one():
    """Runs of months in separate processes (TRIALMON_COMPUTE_WORKERS) must not change a
    single flag: each run re-derives the month before it, as the one-process loop does.
    13 demo months: two runs (7 + 6), the second starting mid-year."""
    from etl.demo import generate_months
    from etl.reference import load_reference
    from indicators import areas
    from indicators.measures import municipal_measures

    months = [f"2021-{m:02d}" for m in range(1, 13)] + ["2022-01"]
    rows = pl.concat(list(generate_months(0.004, "2020-12", "2022-02", 3)))
    loaded = set(rows["month"].unique())
    municipal = municipal_measures(rows.lazy(), months, loaded)
    members = areas.members_by_month(load_reference().members, months)
    cells = areas.roll_up(municipal, members)
    network = areas.without_municipalities(members)
    one = protect(cells, network, 5)
    two = protect(cells, network, 5, workers=2)
    assert one["suppressed"].sum() > 1000  # a real pattern, not an empty one
    assert one["suppressed"].to_list() == two["suppressed"].to_list()
    # a computation's pool serves chunk after chunk with the same processes, and runs
    # as short as three months (six months: two runs) keep every flag
    first_half = pl.col("month").is_in(months[:6])
    with WorkerPool(2) as pool:
        pooled = protect(cells, network, 5, pool=pool)
        processes = set(pool.executor()._processes)
        half = protect(cells.filter(first_half), network, 5, pool=pool)
        assert set(pool.executor()._processes) == processes and len(processes) == 2
    assert pooled["suppressed"].to_list() == one["suppressed"].to_list()
    assert half["suppressed"].to_list() == one.filter(first_half)["suppressed"].to_list()


def test_a_protection_worker_ends_when_its_computation_is_killed(tmp_path):
    """Months are protected in spawned worker processes; when the computation is killed
    (SIGKILL: no clean-up runs), its workers must not go on protecting months for
    nobody. A parent starts a worker through the same initializer the pool uses, writes
    the worker's pid and waits; the test kills the parent and the worker must be gone."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    pid_file = tmp_path / "worker.pid"
    script.write_text(
        "import multiprocessing, os, sys, time\n"
        "from indicators.disclosure import _die_with_parent\n"
        "def work(parent, path):\n"
        "    _die_with_parent(parent)\n"
        "    open(path, 'w').write(str(os.getpid()))\n"
        "    time.sleep(120)\n"
        "if __name__ == '__main__':\n"
        "    ctx = multiprocessing.get_context('spawn')\n"
        "    ctx.Process(target=work, args=(os.getpid(), sys.argv[1])).start()\n"
        "    time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, str(script), str(pid_file)],
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = int(pid_file.read_text())
        os.kill(worker, 0)  # alive while its parent is
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            try:  # a zombie of init's is gone for our purpose
                if Path(f"/proc/{worker}/stat").read_text().split()[2] == "Z":
                    break
            except FileNotFoundError:
                break
            time.sleep(0.1)
        else:
            os.kill(worker, signal.SIGKILL)
            raise AssertionError("the worker outlived its killed parent by 10 s")
    finally:
        parent.kill()
