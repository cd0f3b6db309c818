"""Facts of the domain that every layer shares, each written once.

Interface
* ``LANGUAGES``: the languages of everything a person reads (fi, sv, en; first = default
  of the dashboard).
* ``TRIAL_START``, ``TRIAL_END``: the municipal employment trials, 2021-03 … 2024-12 (the
  national period; a trial area's own period lives in the reference data).
* ``NORDIC_MODEL_FIRST_DAY`` (a date) and ``NORDIC_MODEL_START`` (its month): the Nordic
  service model (pohjoismainen työnhakumalli), in force from 2 May 2022.

Decisions
* Ground facts, not settings: nothing here reads the environment (trialmon.settings does).
"""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("fi", "sv", "en")
TRIAL_START, TRIAL_END = "2021-03", "2024-12"
NORDIC_MODEL_FIRST_DAY = dt.date(2022, 5, 2)
NORDIC_MODEL_START = NORDIC_MODEL_FIRST_DAY.strftime("%Y-%m")
