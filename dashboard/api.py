"""The HTTP API on the dashboard's Flask server (documented in docs/dashboard.md).

* ``GET /api/v1/indicators``: the protected tidy table (indicators/export.py), filtered by
  indicator, area, area_type, population, group (comma-separated or repeated), from, to,
  lang; ``format`` csv (default) | json | parquet.
* ``GET /api/v1/indicators/meta``: every indicator's definition in ``lang``.
* ``GET /api/v1/areas``: every area (``area_type`` filter), names in three languages.

A bad parameter gives HTTP 400 and a JSON body ``{"error": ..., "parameter": ...}``.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import flask
import polars as pl

from indicators.export import (
    EXTENSIONS,
    ExportQuery,
    datapackage,
    export_metadata,
    query_table,
    render,
)
from indicators.registry import INDICATORS, LANGUAGES
from trialmon.errors import TrialmonError

API_FORMATS = ("csv", "json", "parquet")
MIME = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
        "json": "application/json", "xlsx":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
KNOWN_PARAMS = {"indicator", "area", "area_type", "population", "group", "from", "to", "lang",
                "format"}
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
                        start=args.get("from"), end=args.get("to"), lang=lang)
    return query, fmt


def _parameter_of(message: str) -> str:
    for word, name in (("indicator", "indicator"), ("area type", "area_type"), ("area", "area"),
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
        body = {"metadata": export_metadata(table, query), "data": table.to_dicts()}
        return flask.Response(json.dumps(body, ensure_ascii=False), mimetype=MIME["json"])
    response = flask.Response(render(table, fmt, query), mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename=trialmon.{fmt}"
    if table.height and table["synthetic"].any():
        response.headers["X-Trialmon-Synthetic"] = "true"
    return response


def download_zip(table: pl.DataFrame, query: ExportQuery, fmt: str) -> bytes:
    """A zip with the data file and its metadata JSON, for the downloads page."""
    buffer = io.BytesIO()
    stem = "trialmon-synthetic-demo" if table.height and table["synthetic"].any() else "trialmon"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        name = f"{stem}.{EXTENSIONS[fmt]}"
        archive.writestr(name, render(table, fmt, query))
        archive.writestr(f"{name}.metadata.json",
                         json.dumps(export_metadata(table, query), ensure_ascii=False, indent=2))
        if fmt != "xlsx":  # a Frictionless Data Package beside every CSV/Parquet file
            archive.writestr("datapackage.json", json.dumps(
                datapackage(table, query, fmt, name), ensure_ascii=False, indent=2))
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


def register(server: flask.Flask, url: str) -> None:
    from dashboard.data import Data

    data = Data(url)

    @server.get("/api/v1/indicators")
    def api_indicators():
        return table_response(url, flask.request.args)

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
