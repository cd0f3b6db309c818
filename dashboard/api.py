"""The HTTP API on the dashboard's Flask server (documented in docs/dashboard.md).

* ``GET /api/v1/indicators``: the protected tidy table (indicators/export.py), filtered by
  indicator, area, area_type, population, group (comma-separated or repeated), from, to,
  lang; ``format`` csv (default) | json | parquet.
* ``GET /api/v1/indicators/meta``: every indicator's definition in ``lang``.
* ``GET /api/v1/areas``: every area (``area_type`` filter), names in three languages.
* ``as_of=YYYY-MM-DDTHH:MM`` (UTC) or ``vintage=ID`` on ``/api/v1/indicators``: the table
  exactly as it stood then (``as_published_fields``); the response names the publication
  in ``X-Trialmon-Vintage``.
* ``GET /api/v1/revisions``: old -> new value of every revised cell (indicator, area,
  population, group, from, to filters), with the vintage of each and why
  (``revisions_response``).

A bad parameter gives HTTP 400 and a JSON body ``{"error": ..., "parameter": ...}``.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import flask
import polars as pl

from indicators import history
from indicators.export import ExportQuery, export_metadata, query_table, render
from indicators.registry import INDICATORS, LANGUAGES
from trialmon.db import get_engine
from trialmon.errors import TrialmonError

API_FORMATS = ("csv", "json", "parquet")
MIME = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
        "json": "application/json", "xlsx":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
KNOWN_PARAMS = {"indicator", "area", "area_type", "population", "group", "from", "to", "lang",
                "format"}
AS_PUBLISHED_PARAMS = {"as_of", "vintage"}
KNOWN_PARAMS |= AS_PUBLISHED_PARAMS
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class BadParameter(ValueError):
    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter


def _values(args, name: str) -> tuple[str, ...]:
    return tuple(v for raw in args.getlist(name) for v in raw.split(",") if v)


def query_from_args(args) -> tuple[ExportQuery, str]:
    """An ExportQuery and the format from request arguments (BadParameter when wrong)."""
    unknown = sorted(set(args) - KNOWN_PARAMS)
    if unknown:
        raise BadParameter(unknown[0], f"unknown parameter {unknown[0]!r}; known: "
                                       f"{', '.join(sorted(KNOWN_PARAMS))}")
    fmt = args.get("format", "csv")
    if fmt not in API_FORMATS:
        raise BadParameter("format", f"unknown format {fmt!r}; known: {', '.join(API_FORMATS)}")
    lang = args.get("lang", "en")
    if lang not in LANGUAGES:
        raise BadParameter("lang", f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    for name in ("from", "to"):
        if args.get(name) and not MONTH.match(args[name]):
            raise BadParameter(name, f"{name} must be a month YYYY-MM, got {args[name]!r}")
    query = ExportQuery(indicators=_values(args, "indicator"),
                        area_types=_values(args, "area_type"), areas=_values(args, "area"),
                        populations=_values(args, "population"), groups=_values(args, "group"),
                        start=args.get("from"), end=args.get("to"), lang=lang,
                        **as_published_fields(args))
    return query, fmt


def as_published_fields(args) -> dict:
    """ExportQuery fields of the `as_of` / `vintage` parameters (figures as published)."""
    if args.get("as_of") and args.get("vintage"):
        raise BadParameter("as_of", "give as_of or vintage, not both")
    if args.get("as_of") and not history.AS_OF.match(args["as_of"]):
        raise BadParameter("as_of", f"as_of must be YYYY-MM-DDTHH:MM (UTC), got "
                                    f"{args['as_of']!r}")
    vintage = args.get("vintage")
    if vintage and not vintage.isdigit():
        raise BadParameter("vintage", f"vintage must be a publication id, got {vintage!r}")
    return {"as_of": args.get("as_of") or None, "vintage": int(vintage) if vintage else None}


def _parameter_of(message: str) -> str:
    for word, name in (("as_of", "as_of"), ("vintage", "vintage"), ("indicator", "indicator"), ("area type", "area_type"), ("area", "area"),
                       ("population", "population"), ("group", "group"),
                       ("month", "from"), ("language", "lang")):
        if word in message:
            return name
    return ""


def bad_request(parameter: str, message: str):
    return flask.make_response(flask.jsonify(error=message, parameter=parameter), 400)


def table_response(url: str, args):
    try:
        query, fmt = query_from_args(args)
        table = query_table(url, query)
    except BadParameter as error:
        return bad_request(error.parameter, str(error))
    except TrialmonError as error:
        return bad_request(_parameter_of(str(error)), str(error))
    if fmt == "json":
        meta = export_metadata(table, query)
        if query.as_of or query.vintage is not None:
            meta["vintage_id"] = query.publication(url)
        body = {"metadata": meta, "data": table.to_dicts()}
        return flask.Response(json.dumps(body, ensure_ascii=False), mimetype=MIME["json"])
    response = flask.Response(render(table, fmt, query), mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename=trialmon.{fmt}"
    if query.as_of or query.vintage is not None:
        response.headers["X-Trialmon-Vintage"] = str(query.publication(url))
    if table.height and table["synthetic"].any():
        response.headers["X-Trialmon-Synthetic"] = "true"
    return response


def download_zip(table: pl.DataFrame, query: ExportQuery, fmt: str) -> bytes:
    """A zip with the data file and its metadata JSON, for the downloads page."""
    buffer = io.BytesIO()
    stem = "trialmon-synthetic-demo" if table.height and table["synthetic"].any() else "trialmon"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.{fmt}", render(table, fmt, query))
        archive.writestr(f"{stem}.{fmt}.metadata.json",
                         json.dumps(export_metadata(table, query), ensure_ascii=False, indent=2))
    return buffer.getvalue()


def indicator_meta(lang: str) -> list[dict]:
    out = []
    for ind in INDICATORS.values():
        text = ind.text.get(lang) or ind.text.get("en")
        out.append({"id": ind.id, "name": text.name if text else ind.id,
                    "short": text.short if text else "", "definition": text.long if text else "",
                    "unit": ind.unit, "decimals": ind.decimals, "family": ind.family,
                    "source": ind.source, "numerator": ind.numerator,
                    "denominator": ind.denominator, "first_month": ind.first_month})
    return out


REVISION_PARAMS = {"indicator", "area", "population", "group", "from", "to", "limit"}
REVISION_LIMIT = 10_000


def revisions_response(url: str, args):
    """The revision table (history.revisions) as JSON, newest first."""
    unknown = sorted(set(args) - REVISION_PARAMS)
    if unknown:
        return bad_request(unknown[0], f"unknown parameter {unknown[0]!r}; known: "
                                       f"{', '.join(sorted(REVISION_PARAMS))}")
    for name in ("from", "to"):
        if args.get(name) and not MONTH.match(args[name]):
            return bad_request(name, f"{name} must be a month YYYY-MM, got {args[name]!r}")
    bad = [i for i in _values(args, "indicator") if i not in INDICATORS]
    if bad:
        return bad_request("indicator", f"unknown indicator {bad[0]!r}")
    limit = args.get("limit", str(REVISION_LIMIT))
    if not limit.isdigit() or not 0 < int(limit) <= 100_000:
        return bad_request("limit", f"limit must be a whole number 1..100000, got {limit!r}")
    with get_engine(url).connect() as conn:
        table = history.revisions(conn, _values(args, "indicator"), _values(args, "area"),
                                  _values(args, "population"), _values(args, "group"),
                                  args.get("from"), args.get("to"))
    shown = table.head(int(limit)).with_columns(pl.col("old_published_at", "new_published_at")
                                                .dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return flask.jsonify(revisions=shown.to_dicts(), total=table.height,
                         truncated=table.height > shown.height)


def register(server: flask.Flask, url: str) -> None:
    from dashboard.data import Data

    data = Data(url)

    @server.get("/api/v1/indicators")
    def api_indicators():
        return table_response(url, flask.request.args)

    @server.get("/api/v1/revisions")
    def api_revisions():
        return revisions_response(url, flask.request.args)

    @server.get("/api/v1/indicators/meta")
    def api_meta():
        lang = flask.request.args.get("lang", "en")
        if lang not in LANGUAGES:
            return bad_request("lang", f"unknown language {lang!r}; known: "
                                       f"{', '.join(LANGUAGES)}")
        return flask.jsonify(indicators=indicator_meta(lang))

    @server.get("/api/v1/areas")
    def api_areas():
        areas = data.areas()
        wanted = _values(flask.request.args, "area_type")
        known = set(areas["area_type"])
        bad = [w for w in wanted if w not in known]
        if bad:
            return bad_request("area_type", f"unknown area type {bad[0]!r}; known: "
                                            f"{', '.join(sorted(known))}")
        if wanted:
            areas = areas.filter(pl.col("area_type").is_in(wanted))
        return flask.jsonify(areas=areas.to_dicts())
