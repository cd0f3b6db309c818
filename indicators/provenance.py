"""Provenance of the disclosure rule: which threshold and method produced what is published.

Interface:

* ``DisclosureRule`` (threshold, method, method_version, computation_id, computed_at).
* ``new_computation(threshold) -> DisclosureRule``: the rule a computation run is about
  to apply (a fresh ``computation_id``); ``computation_frame(rule)`` is its row of
  the ``computation`` table, written by the engine in the transaction that publishes.
* ``published_rules(db) -> list[DisclosureRule]``: the distinct rules of the
  computations that published the current register months (newest first), read with
  the serving engine of ``db`` (a ``trialmon.db.Database`` or a URL). Empty when nothing
  was computed since provenance was recorded.
* ``published_rule(db) -> DisclosureRule | None``: the one rule in force (the newest).
* ``rule_statement(rule) -> dict``: the rule as the export and API metadata state it.
* ``warn_if_environment_differs(rule)``: logs once when the serving process's threshold
  setting (TRIALMON_SUPPRESSION_THRESHOLD) differs from the stored threshold.

Decisions:

* The threshold shown anywhere is the stored one, never the serving environment's: the
  environment only decides what the next computation applies. A computation whose
  threshold or method version differs from any published month's recomputes every
  month (indicators.engine), so the published table has one rule at a time.
* Months published before provenance was recorded (migration 0002) have no rule; the
  next compute recomputes them.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from indicators.disclosure import METHOD, METHOD_VERSION
from indicators.texts import disclosure_text
from trialmon.db import Database, as_database
from trialmon.schema import computation, month_status
from trialmon.settings import get_settings

log = logging.getLogger("trialmon.provenance")


@dataclass(frozen=True)
class DisclosureRule:
    threshold: int
    method: str = METHOD
    method_version: str = METHOD_VERSION
    computation_id: str = ""
    computed_at: dt.datetime | None = None

    @property
    def key(self) -> tuple[int, str]:
        return self.threshold, self.method_version


def new_computation(threshold: int) -> DisclosureRule:
    return DisclosureRule(threshold=int(threshold), computation_id=uuid.uuid4().hex,
                          computed_at=dt.datetime.now(dt.UTC))


def computation_frame(rule: DisclosureRule) -> pl.DataFrame:
    return pl.DataFrame({
        "computation_id": [rule.computation_id], "computed_at": [rule.computed_at],
        "threshold": [rule.threshold], "method": [rule.method],
        "method_version": [rule.method_version],
    }, schema={"computation_id": pl.String, "computed_at": pl.Datetime("us", "UTC"),
               "threshold": pl.Int64, "method": pl.String, "method_version": pl.String})


def published_rules(db: Database | str) -> list[DisclosureRule]:
    c, s = computation.c, month_status.c
    stmt = (sa.select(c.threshold, c.method, c.method_version, c.computation_id,
                      c.computed_at)
            .where(c.computation_id.in_(sa.select(s.computation_id).where(
                s.source == "register", s.computation_id.is_not(None))))
            .order_by(c.computed_at.desc()))
    with as_database(db).connect_published() as conn:
        rows = conn.execute(stmt).all()
    rules, seen = [], set()
    for row in rows:
        rule = DisclosureRule(*row)
        if rule.key not in seen:
            seen.add(rule.key)
            rules.append(rule)
    return rules


def published_rule(db: Database | str) -> DisclosureRule | None:
    rules = published_rules(db)
    return rules[0] if rules else None


def rule_statement(rule: DisclosureRule | None) -> dict:
    """The rule as the metadata states it (threshold None: not recorded)."""
    if rule is None:
        return {"threshold": None, "method": None, "method_version": None,
                "computation_id": None,
                "rule": "not recorded: the published months were computed before the "
                        "disclosure rule was stored; run `trialmon compute`"}
    return {
        "threshold": rule.threshold, "method": rule.method,
        "method_version": rule.method_version, "computation_id": rule.computation_id,
        "computed_at": (rule.computed_at.isoformat() if rule.computed_at else None),
        "rule": disclosure_text("en", rule.threshold, "export"),
    }


_warned: set[tuple[int, int]] = set()


def warn_if_environment_differs(rule: DisclosureRule | None) -> None:
    """Log once per (environment, stored) pair when the environment asks for another
    threshold than the one the published cells were computed with."""
    if rule is None:
        return
    wanted = get_settings().suppression_threshold
    if wanted != rule.threshold and (wanted, rule.threshold) not in _warned:
        _warned.add((wanted, rule.threshold))
        log.warning("TRIALMON_SUPPRESSION_THRESHOLD=%d is ignored while serving: the published "
                    "cells were computed with threshold %d (computation %s); run `trialmon "
                    "compute` to apply a new threshold", wanted, rule.threshold,
                    rule.computation_id)
