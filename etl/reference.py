"""Reference areas: municipalities, regions, trial areas and their versioned membership.

(Issue 2 fills this in.) Interface used by the rest of the project:

* ``load_reference() -> Reference``: the shipped CSVs (etl/reference_data/) as
  Polars frames, no database needed (the demo generator uses it). ``Reference``
  has ``areas`` and ``members``, frames with exactly the columns of the ``area``
  and ``area_member`` tables (trialmon/schema.py), every area type included
  (member rows for municipality areas list the municipality itself).
* ``sync_reference(engine)``: write them into the ``area`` and ``area_member``
  tables (idempotent; called by ``trialmon.db.upgrade``).
* ``area_reference_table(url) -> pl.DataFrame``: for ``trialmon areas``.

Area codes: municipality = 3-digit code ("091"); region = "MK01".."MK21";
trial_area = "TA01"..; all_trials = "TRIALS"; comparison = "NONTRIAL";
country = "SSS".
"""

from __future__ import annotations


def sync_reference(engine) -> None:
    """Write the shipped reference CSVs into the area tables (idempotent)."""
