"""Synthetic register extracts for demos and benchmarks -- issue 2.

Interface:

* ``generate_months(scale, start, end, seed) -> Iterator[pl.DataFrame]``: one frame
  per month in the contract's columns (see etl.register).
* ``write_parquet(path, scale, start, end, seed) -> int``: the same months streamed
  into one Parquet file (rows written).
* ``build_demo(url, scale, start, end, seed, progress) -> set[str]``: generate and
  load (marked synthetic); returns the loaded months.

Why a panel simulation rather than independent monthly samples: the flow
indicators (inflow, exits, long-term unemployment, initial interviews seen in the
next month's extract) only mean something when the same pseudonymous person is
followed from month to month. The world is therefore simulated from a fixed epoch
(``EPOCH``, before any month asked for), so every window of months is a slice of
the same world: generating 2025-06 alone gives the same rows as generating it as
part of 2020-01..2025-12 (reloading it is then not a revision).

The simulation is a vectorised monthly Markov process over persons (numpy arrays,
one loop over months, never over persons). Each active person has a status
(unemployed, laid_off, short_week, service, employed_open, other); every month
they move between statuses or leave the register with probabilities that depend
on the status, a latent "slow" type (the long tail of long-term unemployment,
more common among the old), age, season and a slow business-cycle index; new
persons enter in streams (general inflow, a June-July wave of young summer
jobseekers, winter and COVID lay-offs, ...). Dates (registration, unemployment
spell start, the Nordic service model's initial interview, plan updates and
reviews from 2022-05) are kept as day numbers and never exceed the month's end.

Modelling choices where the brief is silent:

* A person leaving the register never comes back under the same id (a new spell
  is a new pseudonym), so a person present in consecutive months is always in one
  job-seeking spell and keeps ``registered_on``.
* A laid-off person who becomes unemployed (or back) keeps ``unemployment_start``;
  any other status interrupts the unemployment spell.
* ``earnings_related`` is a per-person entitlement that runs out after 400 days of
  continuous unemployment, and is false during pay-subsidised work, work trials,
  rehabilitative work and start grants (not paid from the allowance).
* The trial target group and responsibility follow the spec's attribute rule
  exactly, from the trial area membership and trial period in the reference.
* ``effect`` (``trialmon demo --effect PP``, default 0) plants PP percentage points on
  the unemployed share of trial municipalities from 2021-03 (see ``_planted``), so the
  effect view has a known answer.
* Initial interviews are scheduled on registration and appear in the first month
  whose last day is on or after them; about 4 % of spells never get one.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import holidays
import numpy as np
import polars as pl
import pyarrow.parquet as pq

from etl.reference import load_reference
from etl.register import load_register_frames
from trialmon.domain import NORDIC_MODEL_FIRST_DAY, NORDIC_MODEL_START, TRIAL_END, TRIAL_START
from trialmon.errors import TrialmonError
from trialmon.months import date_month_index_expr, is_month, month_index, month_index_expr, month_of

# The simulation always starts here (or 24 months before `start` if that is earlier)
# so that any window of months is a slice of one and the same synthetic world.
EPOCH = "2018-01"
BURN_IN_MONTHS = 24

STATUSES = ("unemployed", "laid_off", "short_week", "service", "employed_open", "other")
U, L, S, V, E, OT, X = range(7)  # status codes; X = leaves the register
SERVICE_TYPES = ("labour_training", "pay_subsidy", "coaching", "work_trial",
                 "self_motivated_study", "rehabilitative_work", "job_alternation",
                 "start_grant", "other_service")
# Share of the service stock and mean duration in months of each service type; the
# entry shares follow as stock share / duration (a longer service needs fewer starts).
SERVICE_STOCK_SHARE = np.array([0.24, 0.25, 0.13, 0.08, 0.14, 0.08, 0.02, 0.02, 0.04])
SERVICE_DURATION = np.array([4.5, 8.0, 2.5, 3.0, 10.0, 5.0, 6.0, 6.0, 2.0])
SERVICE_ENTRY_SHARE = (SERVICE_STOCK_SHARE / SERVICE_DURATION
                       / (SERVICE_STOCK_SHARE / SERVICE_DURATION).sum())

# People who register straight into a service mostly start rehabilitative work,
# self-motivated study or training (not pay subsidy, which follows a spell).
DIRECT_SERVICE_SHARE = np.array([0.25, 0.05, 0.15, 0.05, 0.2, 0.2, 0.02, 0.03, 0.05])

UNPAID_BY_ALLOWANCE = [SERVICE_TYPES.index(name) for name in (
    "pay_subsidy", "work_trial", "rehabilitative_work", "start_grant")]

TRIAL_FROM, TRIAL_TO = TRIAL_START, TRIAL_END  # used only when the reference has no period

# Municipal sizes are Statistics Finland's published jobseeker counts (table tyonv/12r5,
# 2026M06, CC BY 4.0, Statistics Finland / KEHA Centre), shipped as a small derived
# table: the demo's municipalities then have their real relative sizes (Kajaani is
# bigger than Paltamo), so "similar size" peers and rankings look like the real thing.
JOBSEEKER_TABLE = Path(__file__).with_name("reference_data") / "municipal_jobseekers_12r5.csv"
# Where the people of a municipality that ceases to exist move (the reference has
# validity but no successors). Any other ending municipality's people move to the
# largest municipality of its region that is still valid.
MERGERS = {"099": "214", "588": "507"}

# Nationwide inflow of new jobseekers per month at scale 1.0, by stream.
INFLOW_UNEMPLOYED = 19_500
INFLOW_EMPLOYED_OPEN = 6_000
INFLOW_OTHER = 8_000
INFLOW_SERVICE = 4_000
INFLOW_SHORT_WEEK = 700
INFLOW_LAID_OFF = 7_000
SUMMER_YOUNG = {5: 6_000, 6: 18_000, 7: 6_000}  # month of year -> extra young entrants
LAID_OFF_SEASON = {11: 1.5, 12: 2.0, 1: 1.7, 2: 1.1, 3: 0.8, 4: 0.6, 5: 0.6, 6: 0.8,
                   7: 1.0, 8: 0.7, 9: 0.8, 10: 1.0}
UNEMPLOYED_SEASON = {1: 1.15, 2: 0.95, 3: 0.95, 4: 0.9, 5: 0.9, 6: 1.05, 7: 1.0, 8: 1.15,
                     9: 1.0, 10: 1.0, 11: 0.95, 12: 1.0}
COVID_LAY_OFFS = {"2020-03": 30_000, "2020-04": 25_000, "2020-05": 5_000}
COVID_SHORT_WEEK = {"2020-03": 12_000, "2020-04": 10_000}

NO_DATE = -1


# --------------------------------------------------------------------------- calendar



def _first_day(index: int) -> int:
    """Day number (days since 1970-01-01) of the month's first day."""
    return int(np.datetime64(month_of(index), "M").astype("datetime64[D]").astype(np.int64))


def _last_day(index: int) -> int:
    return _first_day(index + 1) - 1


def _business_day_calendar(first_year: int, last_year: int) -> np.busdaycalendar:
    """Monday-Friday except Finnish public holidays (the spec's working days)."""
    days = sorted(holidays.Finland(years=range(first_year, last_year + 1)))
    return np.busdaycalendar(weekmask="1111100", holidays=np.array(days, dtype="datetime64[D]"))


def _business_cycle(index: int) -> float:
    """Slack of the labour market (1.0 = the 2018-2019 level): COVID peak in 2020,
    recovery to a low in 2022, rising again through 2023-2025."""
    points = [("2018-01", 1.0), ("2019-06", 0.97), ("2020-02", 0.98), ("2020-05", 1.12),
              ("2020-12", 1.07), ("2021-12", 0.96), ("2022-06", 0.93), ("2023-06", 1.0),
              ("2024-06", 1.03), ("2025-06", 1.04), ("2026-12", 1.04)]
    xs = [month_index(m) for m, _ in points]
    return float(np.interp(index, xs, [v for _, v in points]))


# --------------------------------------------------------------------------- geography


@dataclass(frozen=True)
class Geography:
    """Municipalities as arrays, with what the simulation needs to know about them."""

    codes: np.ndarray  # str, one per municipality
    valid_from: np.ndarray  # first month index the code exists
    valid_to: np.ndarray  # last month index (large when still valid)
    weight: np.ndarray  # relative number of jobseekers
    foreign_share: np.ndarray  # probability that a jobseeker is foreign-language
    late_interview_share: np.ndarray  # share of initial interviews later than 5 working days
    service_quality: np.ndarray  # multiplies plan-update and review probabilities
    successor: np.ndarray  # index of the municipality its people move to when it ends
    trial_members: tuple[np.ndarray, np.ndarray, np.ndarray]  # municipality, first, last month

    def valid(self, index: int) -> np.ndarray:
        return (self.valid_from <= index) & (self.valid_to >= index)

    def in_trial(self, index: int) -> np.ndarray:
        """Boolean per municipality: in a trial area that runs its trial this month."""
        municipality, first, last = self.trial_members
        mask = np.zeros(len(self.codes), dtype=bool)
        mask[municipality[(first <= index) & (last >= index)]] = True
        return mask


def _code_rng(code: str) -> np.random.Generator:
    """A generator seeded by the municipality code only, so that sizes and local
    practices are the same whatever the simulation seed."""
    return np.random.default_rng(zlib.crc32(f"trialmon-municipality-{code}".encode()))


def published_jobseekers() -> pl.DataFrame:
    """[municipality_code, jobseekers, unemployed, unemployed_foreign] from the shipped
    12r5 extract (null where Statistics Finland suppressed the value)."""
    return pl.read_csv(JOBSEEKER_TABLE, schema_overrides={"municipality_code": pl.String})


def municipal_weights(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(relative number of jobseekers, foreign-language share) per municipality code.

    Codes the table lacks (municipalities merged before 2026, e.g. Pertunmaa into
    Mantyharju) get a small deterministic size; suppressed foreign counts (``...``)
    and very small municipalities fall back to a size-based foreign share.
    """
    table = published_jobseekers()
    frame = (pl.DataFrame({"municipality_code": codes.tolist()})
             .join(table, on="municipality_code", how="left"))
    fallback = np.array([_code_rng(c).lognormal(np.log(150), 0.5) for c in codes])
    jobseekers = frame["jobseekers"].cast(pl.Float64).to_numpy()
    weight = np.where(np.isnan(jobseekers), fallback, np.maximum(jobseekers, 5.0))
    unemployed = frame["unemployed"].cast(pl.Float64).to_numpy()
    foreign = frame["unemployed_foreign"].cast(pl.Float64).to_numpy()
    modelled = np.clip(0.02 + 0.05 * np.log10(np.maximum(weight, 1.0) / 100.0), 0.02, 0.3)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = foreign / unemployed
    usable = ~np.isnan(observed) & (unemployed >= 50)
    # Foreign-language jobseekers stay longer in the register than others (the "slow"
    # type is more common among them), so their share of entrants is set below their
    # published share of the stock: 0.95 x the stock share lands the simulated stock
    # on it (15-20 % nationally, as published).
    return weight, 1.0 * np.where(usable, np.clip(observed, 0.01, 0.45), modelled)


def _date_to_month(column: str) -> pl.Expr:
    return date_month_index_expr(pl.col(column))


def _last_month_valid(column: str) -> pl.Expr:
    """The last month whose last day is on or before the date `column` (validity is
    judged on the calculation date, the month's last day); null stays null."""
    return date_month_index_expr(pl.col(column) + pl.duration(days=1)) - 1


def build_geography(reference) -> Geography:
    """Arrays per municipality from the reference frames (areas and members)."""
    far = month_index("9999-12")
    municipalities = (
        reference.areas.lazy()
        .filter(pl.col("area_type") == "municipality")
        .group_by("area_code")
        .agg(first=_date_to_month("valid_from").min(),
             last=pl.when(pl.col("valid_to").is_null().any()).then(far)
             .otherwise(_last_month_valid("valid_to").max()))
        .sort("area_code")
        .collect()
    )
    codes = municipalities["area_code"].to_numpy().astype(str)
    position = {code: i for i, code in enumerate(codes)}
    weight, foreign = municipal_weights(codes)
    local = [_code_rng(c + "-practice") for c in codes]
    late = np.array([0.05 + 0.3 * rng.beta(2, 5) for rng in local])
    quality = np.array([rng.uniform(0.75, 1.15) for rng in local])
    valid_to = municipalities["last"].to_numpy()
    successor = _successors(reference, codes, position, weight, valid_to)
    return Geography(
        codes=codes,
        valid_from=municipalities["first"].to_numpy(),
        valid_to=valid_to,
        weight=weight,
        foreign_share=foreign,
        late_interview_share=late,
        service_quality=quality,
        successor=successor,
        trial_members=_trial_members(reference, position),
    )


def _successors(reference, codes: np.ndarray, position: dict[str, int], sizes: np.ndarray,
                valid_to: np.ndarray) -> np.ndarray:
    """For each municipality, the index its people move to when it ceases (itself if it
    never does): the known merger partner, else the largest lasting one of its region."""
    region = dict(reference.members.filter(pl.col("area_type") == "region")
                  .select("municipality_code", "area_code").iter_rows())
    successor = np.arange(len(codes))
    for i in np.flatnonzero(valid_to < valid_to.max()):  # the few that cease, not rows
        partner = MERGERS.get(codes[i])
        if partner not in position:
            lasting = [j for j, c in enumerate(codes)
                       if valid_to[j] > valid_to[i] and region.get(c) == region.get(codes[i])]
            lasting = lasting or list(np.flatnonzero(valid_to > valid_to[i]))
            partner = codes[max(lasting, key=lambda j: sizes[j])] if lasting else codes[i]
        successor[i] = position[partner]
    return successor


def _trial_members(reference, position: dict[str, int]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Municipality index with the first and last month it is served by a running trial:
    the intersection of its membership and its trial area's trial period."""
    areas = reference.areas.filter(pl.col("area_type") == "trial_area").select(
        "area_code",
        first_trial=pl.col("trial_from").fill_null(TRIAL_FROM),
        last_trial=pl.col("trial_to").fill_null(TRIAL_TO),
    ).unique("area_code")
    members = reference.members.filter(pl.col("area_type") == "trial_area").join(
        areas, on="area_code", how="left"
    )
    far = month_index("9999-12")
    members = members.select(
        mun=pl.col("municipality_code").replace_strict(position, default=None, return_dtype=pl.Int64),
        first=pl.max_horizontal(_date_to_month("valid_from"),
                                month_index_expr(pl.col("first_trial").fill_null(TRIAL_FROM))),
        last=pl.min_horizontal(_last_month_valid("valid_to").fill_null(far),
                               month_index_expr(pl.col("last_trial").fill_null(TRIAL_TO))),
    ).drop_nulls("mun")
    return (members["mun"].to_numpy(), members["first"].to_numpy(), members["last"].to_numpy())


# --------------------------------------------------------------------------- persons


@dataclass
class Panel:
    """The persons currently in the register: one array per attribute (structure of arrays)."""

    pid: np.ndarray  # int64, printed as "P" + digits
    mun: np.ndarray  # int32 index into Geography.codes
    birth: np.ndarray  # int32 month index of birth (age advances with time)
    female: np.ndarray  # bool
    foreign: np.ndarray  # bool
    eligible: np.ndarray  # bool: has earned a right to the earnings-related allowance
    slow: np.ndarray  # bool: latent type with low exit hazards (long-term unemployment)
    summer: np.ndarray  # bool: a young summer jobseeker, who leaves in the autumn
    status: np.ndarray  # int8: U..OT
    service: np.ndarray  # int8 index into SERVICE_TYPES, -1 when not in a service
    registered: np.ndarray  # int32 day number: start of the job-seeking spell
    unemp_start: np.ndarray  # int32 day number or NO_DATE
    interview: np.ndarray  # int32 day number (may be scheduled after this month) or NO_DATE
    plan: np.ndarray  # int32 day number (may be scheduled after this month) or NO_DATE
    review: np.ndarray  # int32 day number or NO_DATE

    def __len__(self) -> int:
        return len(self.pid)

    def take(self, selector: np.ndarray) -> Panel:
        return Panel(**{f.name: getattr(self, f.name)[selector] for f in fields(self)})

    @staticmethod
    def concat(first: Panel, second: Panel) -> Panel:
        return Panel(**{f.name: np.concatenate([getattr(first, f.name), getattr(second, f.name)])
                        for f in fields(first)})


AGES = np.arange(15, 100)
# Age on entry: mostly 17-67 (15-16 and pensioners are rare).
AGE_WEIGHTS = np.interp(AGES, [15, 17, 19, 22, 30, 40, 50, 58, 63, 65, 67, 68, 75, 99],
                        [0.05, 0.7, 2.0, 2.5, 2.1, 1.6, 1.5, 1.5, 1.3, 0.6, 0.3, 0.02, 0.005, 0.0005])
AGE_WEIGHTS_SUMMER = np.interp(AGES, [15, 16, 18, 21, 24, 26, 30], [0, 0.6, 2.0, 1.5, 0.6, 0.1, 0])
AGE_WEIGHTS_LAID_OFF = np.interp(AGES, [15, 18, 20, 30, 55, 63, 66, 67], [0, 0, 0.6, 1.5, 1.5, 1, 0.1, 0])


def _probabilities(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


# Monthly transition probabilities by status, destinations U L S V E OT X.
# Fast and slow types differ only when unemployed (the long tail of unemployment).
RATES_FAST = np.array([
    [0.0, 0.0, 0.003, 0.100, 0.085, 0.015, 0.105],  # unemployed
    [0.040, 0.0, 0.0, 0.010, 0.0, 0.0, 0.380],  # laid_off: most return to their employer
    [0.020, 0.040, 0.0, 0.0, 0.0, 0.0, 0.250],  # short_week
    [0.0] * 7,  # service: set from the service type's duration
    [0.035, 0.0, 0.0, 0.005, 0.0, 0.005, 0.090],  # employed_open
    [0.030, 0.0, 0.0, 0.020, 0.010, 0.0, 0.070],  # other
])
RATES_SLOW = RATES_FAST.copy()
RATES_SLOW[U] = [0.0, 0.0, 0.001, 0.024, 0.014, 0.005, 0.008]
# Where people go when a service ends.
AFTER_SERVICE = np.array([0.45, 0.0, 0.0, 0.0, 0.20, 0.08, 0.27])
# One row of rates per profile: the six statuses (fast type), the slow unemployed,
# then each service type (ending with probability 1 / its mean duration).
SLOW_PROFILE, SERVICE_PROFILE = len(STATUSES), len(STATUSES) + 1
PROFILE_RATES = np.vstack([RATES_FAST, RATES_SLOW[U],
                           (1.0 / SERVICE_DURATION)[:, None] * AFTER_SERVICE[None, :]]
                          ).astype(np.float32)
INITIAL_STOCK = {U: 250_000, L: 25_000, S: 4_000, V: 100_000, E: 150_000, OT: 100_000}


class World:
    """The synthetic register, advanced one month at a time."""

    def __init__(self, geography: Geography, scale: float, seed: int, first_month: int,
                 last_month: int):
        self.geo = geography
        self.scale = scale
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.next_pid = 1
        self.calendar = _business_day_calendar(first_month // 12 - 1, last_month // 12 + 1)
        self.nordic_day = int(np.datetime64(NORDIC_MODEL_FIRST_DAY).astype(np.int64))
        self.nordic_month = month_index(NORDIC_MODEL_START)
        self.month = first_month
        self.panel = self._initial_stock(first_month)

    # ---- entrants

    def _count(self, expected: float) -> int:
        return int(self.rng.poisson(expected * self.scale))

    def _new_persons(self, n: int, status: int, t: int, age_weights: np.ndarray,
                     summer: bool = False, service_mix: np.ndarray = SERVICE_ENTRY_SHARE
                     ) -> Panel:
        rng, geo = self.rng, self.geo
        valid = geo.valid(t)
        weights = np.where(valid, geo.weight, 0.0)
        mun = rng.choice(len(weights), size=n, p=weights / weights.sum()).astype(np.int32)
        age = rng.choice(AGES, size=n, p=_probabilities(age_weights))
        foreign = rng.random(n) < geo.foreign_share[mun] * (0.5 if summer else 1.0)
        eligible = rng.random(n) < _eligibility(age, foreign, status, summer)
        slow_share = np.select([age < 25, age < 45, age < 55], [0.13, 0.22, 0.33], 0.50)
        slow = rng.random(n) < slow_share + 0.05 * foreign
        first, last = _first_day(t), _last_day(t)
        registered = rng.integers(first, last + 1, size=n).astype(np.int32)
        service = np.full(n, -1, dtype=np.int8)
        if status == V:
            service = rng.choice(len(SERVICE_TYPES), size=n, p=service_mix).astype(np.int8)
        pid = np.arange(self.next_pid, self.next_pid + n, dtype=np.int64)
        self.next_pid += n
        none = np.full(n, NO_DATE, dtype=np.int32)
        return Panel(
            pid=pid, mun=mun, birth=(t - age * 12 - rng.integers(0, 12, size=n)).astype(np.int32),
            female=rng.random(n) < (0.45 if status in (L, S) else 0.48), foreign=foreign,
            eligible=eligible, slow=slow, summer=np.full(n, summer), status=np.full(n, status, np.int8),
            service=service, registered=registered,
            unemp_start=registered.copy() if status in (U, L) else none.copy(),
            interview=none.copy(), plan=none.copy(), review=none.copy(),
        )

    def _initial_stock(self, t: int) -> Panel:
        """A cross-section resembling the steady state, back-dated durations included;
        the burn-in months before any output let it settle."""
        parts = []
        for status, size in INITIAL_STOCK.items():
            persons = self._new_persons(self._count(size), status, t, AGE_WEIGHTS,
                                        service_mix=SERVICE_STOCK_SHARE)
            hazard = np.where(persons.slow & (status == U), 0.06, 0.25 if status != L else 0.4)
            months_ago = self.rng.geometric(hazard) - 1
            persons.registered -= (months_ago * 30.4).astype(np.int32)
            if status in (U, L):
                persons.unemp_start = persons.registered.copy()
            self._schedule_first_meetings(persons, t)
            parts.append(persons)
        panel = parts[0]
        for part in parts[1:]:
            panel = Panel.concat(panel, part)
        return panel

    def _entrants(self, t: int) -> Panel:
        label, month_of_year = month_of(t), t % 12 + 1
        cycle = _business_cycle(t)
        streams = [
            (self._count(INFLOW_UNEMPLOYED * cycle ** 0.5 * UNEMPLOYED_SEASON[month_of_year]), U,
             AGE_WEIGHTS, False),
            (self._count(SUMMER_YOUNG.get(month_of_year, 0) * 0.8), U, AGE_WEIGHTS_SUMMER, True),
            (self._count(SUMMER_YOUNG.get(month_of_year, 0) * 0.2), E, AGE_WEIGHTS_SUMMER, True),
            (self._count(INFLOW_LAID_OFF * cycle * LAID_OFF_SEASON[month_of_year]
                         + COVID_LAY_OFFS.get(label, 0)), L, AGE_WEIGHTS_LAID_OFF, False),
            (self._count(INFLOW_SHORT_WEEK + COVID_SHORT_WEEK.get(label, 0)), S,
             AGE_WEIGHTS_LAID_OFF, False),
            (self._count(INFLOW_EMPLOYED_OPEN), E, AGE_WEIGHTS, False),
            (self._count(INFLOW_OTHER), OT, AGE_WEIGHTS, False),
            (self._count(INFLOW_SERVICE), V, AGE_WEIGHTS, False),
        ]
        panel = self._new_persons(0, U, t, AGE_WEIGHTS)
        for n, status, ages, summer in streams:
            panel = Panel.concat(panel, self._new_persons(n, status, t, ages, summer,
                                                          DIRECT_SERVICE_SHARE))
        return panel

    # ---- monthly transitions

    def _transition_rates(self, t: int) -> np.ndarray:
        """(persons x destinations U L S V E OT X) monthly probabilities of moving."""
        p = self.panel
        month_of_year = t % 12 + 1
        profile = np.where(p.status == V, SERVICE_PROFILE + p.service,
                           np.where((p.status == U) & p.slow, SLOW_PROFILE, p.status))
        rates = PROFILE_RATES[profile]
        unemployed = np.flatnonzero(p.status == U)
        age = (t - p.birth) // 12
        # Jobs are harder to find when the labour market is slack, and for the old.
        job_factor = np.where(age[unemployed] >= 55, 0.7, 1.0) * _business_cycle(t) ** -1.5
        rates[unemployed, E] *= job_factor
        rates[unemployed, X] *= job_factor
        rates[unemployed, X] += np.where(age[unemployed] >= 63, 0.04, 0.0)
        rates[age >= 65, X] += 0.15
        if month_of_year in (8, 9, 10):  # summer jobseekers go back to school
            rates[p.summer, X] += 0.5
        season = {3: 1.3, 4: 1.4, 5: 1.4, 6: 1.1, 11: 0.7, 12: 0.6, 1: 0.7}.get(month_of_year, 1.0)
        if month_index("2020-04") <= t <= month_index("2020-05"):
            season = 0.6  # COVID lay-offs last
        rates[p.status == L, X] *= season
        very_old = age >= 99  # the contract's ages end at 99
        rates[very_old] = 0.0
        rates[very_old, X] = 1.0
        return rates

    def _transition(self, t: int) -> None:
        rng, p = self.rng, self.panel
        rates = self._transition_rates(t)
        draw = rng.random(len(p)).astype(np.float32)
        moves = draw < rates.sum(axis=1)
        # Only the movers need a destination: the first whose cumulative rate exceeds the draw.
        drawn = np.full(len(p), len(STATUSES) + 1)
        drawn[moves] = (draw[moves, None] >= np.cumsum(rates[moves], axis=1)).sum(axis=1)
        moves = drawn <= X  # the others (7) stay in the same status
        stays = drawn != X
        destination = np.where(moves, drawn, p.status).astype(np.int8)
        p = self.panel = p.take(stays)
        destination, moves = destination[stays], moves[stays]
        first, last = _first_day(t), _last_day(t)
        was_unemployed = p.status <= L  # U or L
        is_unemployed = destination <= L
        new_spell = moves & is_unemployed & ~was_unemployed
        spell_day = np.maximum(rng.integers(first, last + 1, size=len(p)), p.registered)
        p.unemp_start = np.where(new_spell, spell_day, np.where(is_unemployed, p.unemp_start,
                                                                NO_DATE)).astype(np.int32)
        new_service = moves & (destination == V)
        p.service = np.where(destination == V, p.service, -1).astype(np.int8)
        p.service[new_service] = rng.choice(len(SERVICE_TYPES), size=int(new_service.sum()),
                                            p=SERVICE_ENTRY_SHARE)
        p.status = destination

    def _relocate(self, t: int) -> None:
        """A few people move each month; everyone leaves a municipality that has ceased."""
        rng, p, geo = self.rng, self.panel, self.geo
        movers = rng.random(len(p)) < 0.002
        if movers.any():
            weights = np.where(geo.valid(t), geo.weight, 0.0)
            p.mun[movers] = rng.choice(len(weights), size=int(movers.sum()), p=weights / weights.sum())
        ceased = ~geo.valid(t)[p.mun]
        p.mun[ceased] = geo.successor[p.mun[ceased]]

    # ---- the Nordic service model and employment plans

    def _schedule_first_meetings(self, persons: Panel, t: int) -> None:
        """Initial interviews from 2022-05-02 (most within five working days, a share
        later varying by area, a few never) and the first employment plan."""
        rng, n = self.rng, len(persons)
        nordic = persons.registered >= self.nordic_day
        late = rng.random(n) < self.geo.late_interview_share[persons.mun]
        working_days = np.where(late, rng.integers(6, 30, size=n), rng.choice(
            [0, 1, 2, 3, 4, 5], size=n, p=[0.05, 0.3, 0.25, 0.2, 0.12, 0.08]))
        next_day = (persons.registered + 1).astype("datetime64[D]")
        interview = np.where(working_days == 0, persons.registered, np.busday_offset(
            next_day, np.maximum(working_days - 1, 0), roll="forward", busdaycal=self.calendar
        ).astype(np.int64))
        interviewed = nordic & (rng.random(n) < 0.96)
        persons.interview = np.where(interviewed, interview, NO_DATE).astype(np.int32)
        drawn_up = rng.random(n) < np.where(nordic, 0.6, 0.85)
        plan = persons.registered + rng.integers(0, 21, size=n)
        persons.plan = np.where(interviewed, persons.interview,
                                np.where(drawn_up, plan, NO_DATE)).astype(np.int32)

    def _follow_up(self, t: int) -> None:
        """Plan updates and job-search reviews: every 1-3 months for most of the
        unemployed under the Nordic model, rarely before it."""
        rng, p = self.rng, self.panel
        first, last = _first_day(t), _last_day(t)
        nordic = t >= self.nordic_month
        active = p.status <= L  # U or L
        quality = self.geo.service_quality[p.mun]
        plan_p = np.where(active, 0.45 if nordic else 0.10, np.where(p.status == V, 0.25, 0.06))
        review_p = np.where(active, 0.55 if nordic else 0.02, 0.12 if nordic else 0.01)
        day = np.maximum(rng.integers(first, last + 1, size=len(p)), p.registered)
        due = p.plan < first  # a plan scheduled later this month is not redone
        updated = due & (rng.random(len(p)) < plan_p * quality)
        p.plan = np.where(updated, day, p.plan).astype(np.int32)
        reviewed = rng.random(len(p)) < review_p * quality
        p.review = np.where(reviewed, np.maximum(day, p.review), p.review).astype(np.int32)

    # ---- one month

    def advance(self) -> None:
        """Move the world to the next month."""
        t = self.month + 1
        self._transition(t)
        self._relocate(t)
        entrants = self._entrants(t)
        self._schedule_first_meetings(entrants, t)
        self.panel = Panel.concat(self.panel, entrants)
        self._follow_up(t)
        self.month = t


def _eligibility(age: np.ndarray, foreign: np.ndarray, status: int, summer: bool) -> np.ndarray:
    """Probability of having earned the earnings-related allowance (work history, fund
    membership): low for the young and foreign-language speakers, high for the laid off."""
    if summer:
        return np.full(len(age), 0.02)
    base = np.select([age < 20, age < 25, age < 30, age < 55], [0.08, 0.45, 0.65, 0.85], 0.88)
    if status in (L, S):
        base = np.maximum(base, 0.85)
    return base * np.where(foreign, 0.8, 1.0)


# --------------------------------------------------------------------------- frames


PLANT_FROM = "2021-03"  # `--effect`: the trial start


def _planted(world: World, effect: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status, service and unemployment start of the output rows with ``effect``
    percentage points added to the unemployed share (unemployed or laid off, of all
    jobseekers) of every municipality in a running trial area from 2021-03.

    Only the extract is changed, never the simulated world (so every other month and
    municipality is as without it): in each such municipality a random share
    effect / (100 - share) of the rows not unemployed become unemployed (service type
    cleared, spell starting on the later of registration and the month's first day), or,
    for a negative effect, a share -effect / share of the unemployed rows become 'other'.
    The draws come from their own generator (seed, month). Flows of the flipped persons
    are not consistent from month to month: the planted answer is the unemployed share.
    """
    p, t = world.panel, world.month
    status, service, start = p.status.copy(), p.service.copy(), p.unemp_start.copy()
    if effect == 0 or t < month_index(PLANT_FROM):
        return status, service, start
    unemployed = status <= L
    treated = world.geo.in_trial(t)[p.mun]
    n_mun = len(world.geo.codes)
    share = (np.bincount(p.mun, weights=unemployed, minlength=n_mun)
             / np.maximum(np.bincount(p.mun, minlength=n_mun), 1))[p.mun]
    rng = np.random.default_rng([world.seed, t])
    draw = rng.random(len(p))
    if effect > 0:
        flip = treated & ~unemployed & (draw < effect / 100 / np.maximum(1 - share, 1e-9))
        status[flip], service[flip] = U, -1
        start[flip] = np.maximum(p.registered[flip], _first_day(t))
    else:
        flip = treated & unemployed & (draw < -effect / 100 / np.maximum(share, 1e-9))
        status[flip], start[flip] = OT, NO_DATE
    return status, service, start


def _month_frame(world: World, effect: float = 0.0) -> pl.DataFrame:
    """The world's current month in the contract's columns and Polars types."""
    p, geo, t = world.panel, world.geo, world.month
    last = _last_day(t)
    age = (t - p.birth) // 12
    status, service, unemp_start = _planted(world, effect)
    unemployed = status <= L  # U or L
    # The earnings-related allowance runs out after about 400 days of unemployment.
    earnings_related = p.eligible & ~(unemployed & (last - unemp_start > 400))
    # Paid work with a subsidy, work trials, rehabilitative work and start grants are
    # not paid from the earnings-related allowance.
    earnings_related &= ~np.isin(service, UNPAID_BY_ALLOWANCE)
    target_group = (age < 30) | ((unemployed | (status == V)) & (p.foreign | ~earnings_related))
    trial = target_group & geo.in_trial(t)[p.mun]
    raw = pl.DataFrame({
        "pid": p.pid, "mun": p.mun.astype(np.uint32), "age": age.astype(np.int16),
        "female": p.female, "foreign_language": p.foreign, "earnings_related": earnings_related,
        "status_code": status.astype(np.uint32),
        "service_code": np.where(service < 0, len(SERVICE_TYPES), service).astype(np.uint32),
        "trial": trial, "registered_on": p.registered, "unemployment_start": unemp_start,
        "initial_interview_on": p.interview, "plan_updated_on": p.plan, "last_review_on": p.review,
    })
    codes = pl.Series(geo.codes.tolist(), dtype=pl.Utf8)
    statuses = pl.Series(STATUSES, dtype=pl.Utf8)
    services = pl.Series([*SERVICE_TYPES, None], dtype=pl.Utf8)

    def day(column: str) -> pl.Expr:
        value = pl.col(column)
        return pl.when(value.is_between(0, last)).then(value).cast(pl.Date).alias(column)

    return raw.select(
        month=pl.lit(month_of(t)),
        person_id=pl.lit("P") + pl.col("pid").cast(pl.Utf8),
        municipality_code=pl.lit(codes).gather(pl.col("mun")),
        age=pl.col("age"),
        sex=pl.when(pl.col("female")).then(pl.lit("F")).otherwise(pl.lit("M")),
        foreign_language=pl.col("foreign_language"),
        earnings_related=pl.col("earnings_related"),
        status=pl.lit(statuses).gather(pl.col("status_code")),
        service_type=pl.lit(services).gather(pl.col("service_code")),
        responsibility=pl.when(pl.col("trial")).then(pl.lit("trial")).otherwise(pl.lit("te_office")),
        registered_on=pl.col("registered_on").cast(pl.Date),
        unemployment_start=day("unemployment_start"),
        initial_interview_on=day("initial_interview_on"),
        plan_updated_on=day("plan_updated_on"),
        last_review_on=day("last_review_on"),
    )


def generate_months(scale: float, start: str, end: str, seed: int, *,
                    reference=None, effect: float = 0.0) -> Iterator[pl.DataFrame]:
    """One frame of valid contract rows per month from `start` to `end` (inclusive).

    The same seed gives identical frames; the world is simulated from EPOCH (or 24
    months before `start`), so a month's rows do not depend on the window asked for.
    `reference` defaults to the project's reference (etl.reference.load_reference).
    Bad options raise TrialmonError at once, before anything is generated.
    """
    first, last = _checked_range(scale, start, end)
    if reference is None:
        reference = load_reference()
    return _simulate(build_geography(reference), scale, first, last, seed, effect)


def _checked_range(scale: float, start: str, end: str) -> tuple[int, int]:
    for option, value in (("start", start), ("end", end)):
        if not is_month(value):
            raise TrialmonError(f"demo: {option} month must be YYYY-MM, not {value!r}")
    if not scale > 0:
        raise TrialmonError(f"demo: scale must be positive, not {scale}")
    first, last = month_index(start), month_index(end)
    if last < first:
        raise TrialmonError(f"demo: empty month range {start}..{end}")
    return first, last


def _simulate(geography: Geography, scale: float, first: int, last: int, seed: int,
              effect: float = 0.0) -> Iterator[pl.DataFrame]:
    epoch = min(month_index(EPOCH), first - BURN_IN_MONTHS)
    world = World(geography, scale, seed, epoch, last)
    while world.month < last:
        world.advance()
        if world.month >= first:
            yield _month_frame(world, effect)


def write_parquet(path: str | Path, scale: float, start: str, end: str, seed: int, *,
                  reference=None, effect: float = 0.0) -> int:
    """Stream the months into one Parquet file, a month (one row group) at a time, so
    national five-year data never sits in memory at once. Returns the rows written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    writer = None
    try:
        for frame in generate_months(scale, start, end, seed, reference=reference,
                                     effect=effect):
            table = frame.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
            rows += frame.height
    finally:
        if writer is not None:
            writer.close()
    return rows


def demo_source_name(month: str, scale: float, seed: int) -> str:
    """The source name a demo month is loaded under (shown in the load history)."""
    return f"demo:scale={scale:g}:seed={seed}:{month}"


def build_demo(url: str, scale: float, start: str, end: str, seed: int,
               progress: bool = True, *, reference=None, effect: float = 0.0,
               only: Collection[str] | None = None) -> set[str]:
    """Generate the months and load them through the register loader, marked synthetic.
    `only`: load just these of the months (all are generated: each month follows from
    the one before; generating is a few seconds, loading most of the time). Returns the
    months whose stored rows changed."""
    generated = generate_months(scale, start, end, seed, reference=reference, effect=effect)
    if only is not None:
        generated = (frame for frame in generated if frame["month"][0] in only)
    frames = _named(generated, scale, seed)
    report = load_register_frames(url, frames, synthetic=True, progress=progress)
    return set(report.changed_months)


def _named(frames: Iterable[pl.DataFrame], scale: float, seed: int
           ) -> Iterator[tuple[str, pl.DataFrame]]:
    for frame in frames:
        yield demo_source_name(frame["month"][0], scale, seed), frame
