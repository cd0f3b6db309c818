"""The published effect estimates (table ``effect_estimate``) for the Effect page and the API.

Interface:

* ``EffectReader(data)``: ``.rows()`` every published estimate (cached per data version);
  ``.find(indicator, population, group, areas, window) -> dict | None``.
* ``effects_response(reader, args) -> flask.Response``: ``GET /api/v1/effects``.
* ``register_effects(server, data)``: adds the endpoint to the Flask server.

Decisions: the dashboard reads only this published table; the estimates are computed in
the compute process from the unprotected municipal counts (indicators/effects.py), so
only coefficients, intervals and municipality counts reach the serving process. A
specification that was not estimated is a 404 saying why: a single trial area with a
group (not offered), the grid that ``trialmon effect --grid`` publishes after each
computation (pending), or anything else (with the command that publishes it).

API parameters (for the OpenAPI document): ``indicator`` (required; one of
``indicators.registry.EFFECT_INDICATORS``), ``population`` (all | target_group, default
all), ``group`` (all | under_30 | foreign_language | no_earnings_related, default all),
``areas`` (TRIALS or comma-separated trial area codes, default TRIALS), ``window`` (full |
pre_nordic, default full). 200: the estimate as JSON (the ``trialmon effect`` fields);
400: a bad parameter ``{"error", "parameter"}``; 404: not published (``error`` says why).
"""

from __future__ import annotations

import functools
import json

import flask
import sqlalchemy as sa

from indicators.registry import EFFECT_INDICATORS, GROUPS, INDICATORS
from trialmon.errors import BadParameter
from trialmon.schema import effect_estimate

EFFECT_POPULATIONS = ("all", "target_group")
WINDOWS = ("full", "pre_nordic")
KNOWN_PARAMS = {"indicator", "population", "group", "areas", "window"}
RESULT_FIELDS = ("indicator", "population", "group", "areas", "window", "period_from",
                 "period_to", "estimate", "std_error", "ci_low", "ci_high", "method",
                 "n_treated", "n_control", "pre_trend_p_value", "event_study", "status",
                 "reason", "computed_at")


class EffectReader:
    def __init__(self, data):
        self.data = data
        self._cached = functools.lru_cache(maxsize=8)(self._read)

    def rows(self) -> list[dict]:
        return self._cached(self.data.version())

    def _read(self, _version) -> list[dict]:
        with self.data.db.connect_published() as conn:
            rows = conn.execute(sa.select(effect_estimate)).mappings().all()
        return [_as_json(r) for r in rows]

    def find(self, indicator: str, population: str, group: str, areas: str,
             window: str) -> dict | None:
        for row in self.rows():
            if (row["indicator"], row["population"], row["group"], row["areas"],
                    row["window"]) == (indicator, population, group, areas, window):
                return row
        return None


def _as_json(row) -> dict:
    out = {k: row[k] for k in RESULT_FIELDS}
    out["event_study"] = json.loads(row["event_study"])
    out["from"], out["to"] = out.pop("period_from"), out.pop("period_to")
    out["computed_at"] = str(row["computed_at"])
    unit = INDICATORS[row["indicator"]].unit
    out["unit"] = "percentage points" if unit == "percent" else "count"
    return out


def effect_query(args, trial_areas: set[str]) -> dict:
    """The specification asked for (BadParameter naming the parameter when wrong)."""
    unknown = sorted(set(args) - KNOWN_PARAMS)
    if unknown:
        raise BadParameter(unknown[0], f"unknown parameter {unknown[0]!r}; known: "
                                       f"{', '.join(sorted(KNOWN_PARAMS))}")
    query = {"indicator": args.get("indicator", ""), "population": args.get("population", "all"),
             "group": args.get("group", "all"), "areas": args.get("areas", "TRIALS"),
             "window": args.get("window", "full")}
    allowed = {"indicator": EFFECT_INDICATORS, "population": EFFECT_POPULATIONS,
               "group": GROUPS, "window": WINDOWS}
    for name, values in allowed.items():
        if query[name] not in values:
            raise BadParameter(name, f"{name} must be one of {', '.join(values)}; "
                                     f"got {query[name]!r}")
    parts = sorted({a for a in query["areas"].split(",") if a})
    bad = [a for a in parts if a != "TRIALS" and a not in trial_areas]
    if bad or not parts:
        raise BadParameter("areas", "areas must be TRIALS or trial area codes (TA01,TA02); "
                                    f"got {query['areas']!r}")
    query["areas"] = ",".join(parts)
    return query


def unpublished_kind(areas: str, group: str) -> str:
    """Why a specification may be missing from the published table: ``not_offered`` (a
    single trial area with a group other than all: not estimated by design), ``pending``
    (part of the grid ``trialmon effect --grid`` publishes after each computation) or
    ``not_estimated`` (anything else: published on demand with ``--publish``)."""
    single_area = areas != "TRIALS" and "," not in areas
    if single_area and group != "all":
        return "not_offered"
    if single_area or (areas == "TRIALS" and group != "all"):
        return "pending"
    return "not_estimated"


def effects_response(reader: EffectReader, args, trial_areas: set[str]):
    try:
        query = effect_query(args, trial_areas)
    except BadParameter as error:
        return flask.make_response(flask.jsonify(error=str(error), parameter=error.parameter),
                                   400)
    row = reader.find(**query)
    kind = unpublished_kind(query["areas"], query["group"]) if row is None else None
    if kind == "not_offered":
        return flask.make_response(flask.jsonify(
            error="for a single trial area the estimate is given for group all only (within "
                  "one trial area a group is too small for a reliable comparison)",
            parameter="group"), 404)
    if kind == "pending":
        return flask.make_response(flask.jsonify(
            error="not estimated yet: the estimates for a single trial area and for a group "
                  "are published by a separate step after each computation (trialmon effect "
                  "--grid), which has not yet reached this combination", parameter=""), 404)
    if row is None:
        command = (f"trialmon effect --indicator {query['indicator']} --population "
                   f"{query['population']} --group {query['group']} --areas {query['areas']}"
                   + (" --to 2022-04" if query["window"] == "pre_nordic" else "") + " --publish")
        return flask.make_response(flask.jsonify(
            error="this specification has not been estimated and published; the data "
                  f"team can publish it with: {command}", parameter=""), 404)
    return flask.Response(json.dumps(row, ensure_ascii=False), mimetype="application/json")


def register_effects(server: flask.Flask, data) -> EffectReader:
    reader = EffectReader(data)

    @server.get("/api/v1/effects")
    def api_effects():
        areas = data.areas()
        trial_areas = set(areas.filter(areas["area_type"] == "trial_area")["area_code"])
        return effects_response(reader, flask.request.args, trial_areas)

    return reader
