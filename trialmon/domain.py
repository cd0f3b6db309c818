"""Facts of the domain that every layer shares, each written once.

Interface
* ``LANGUAGES``: the languages of everything a person reads (fi, sv, en; first = default
  of the dashboard).
* ``TRIAL_START``, ``TRIAL_END``: the municipal employment trials, 2021-03 … 2024-12 (the
  national period; a trial area's own period lives in the reference data).
* ``NORDIC_MODEL_FIRST_DAY`` (a date) and ``NORDIC_MODEL_START`` (its month): the Nordic
  service model (pohjoismainen työnhakumalli), in force from 2 May 2022.
* ``DEMO_MONTHS``, ``DEMO_SEED``: the months and random seed of the default demo data
  (`python app.py`, `trialmon demo`); ``demo_unfinished(oldest, newest,
  all_synthetic)``: whether published register months are a demo whose first view came
  first and whose other months are still being computed (shell/pipeline.py builds it,
  the dashboard says so).
* ``STATUS_CODES``, ``SERVICE_TYPES``, ``RESPONSIBILITIES``, ``SEXES``: the values of the
  register extract's category columns (the input contract, ``register-extract.md``;
  etl.contract validates against them and re-exports them).

Decisions
* Ground facts, not settings: nothing here reads the environment (trialmon.settings does).
* The category values live here, not in etl.contract, because the schema (this layer)
  stores them: on SQLite as their position in the tuple (`trialmon.schema.Coded`,
  migration 0012). So a tuple may only grow at its end: reordering or removing a value
  would silently change what every stored row means (tests/test_db.py pins the order).
"""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("fi", "sv", "en")
TRIAL_START, TRIAL_END = "2021-03", "2024-12"
NORDIC_MODEL_FIRST_DAY = dt.date(2022, 5, 2)
NORDIC_MODEL_START = NORDIC_MODEL_FIRST_DAY.strftime("%Y-%m")
DEMO_MONTHS = ("2020-01", "2025-12")
DEMO_SEED = 2021

# The register's category values. SQLite stores each as its position in its tuple
# (trialmon.schema.Coded): values may only be appended, never reordered or removed.
STATUS_CODES = ("unemployed", "laid_off", "short_week", "service", "employed_open", "other")
SERVICE_TYPES = (
    "pay_subsidy", "labour_training", "coaching", "work_trial", "self_motivated_study",
    "rehabilitative_work", "job_alternation", "start_grant", "other_service",
)
RESPONSIBILITIES = ("trial", "te_office")
SEXES = ("M", "F")


def demo_unfinished(oldest: str | None, newest: str | None, all_synthetic: bool) -> bool:
    """Synthetic published months lying strictly inside the demo's range: the first view
    is published, the months before and after it are not yet."""
    return (bool(all_synthetic) and oldest is not None and newest is not None
            and DEMO_MONTHS[0] < oldest <= newest < DEMO_MONTHS[1])
