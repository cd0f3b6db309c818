"""The HTTP API on the dashboard's Flask server (documented in docs/dashboard.md).

* ``GET /api/v1/indicators``: the protected tidy table (indicators/export.py), filtered by
  indicator, area, area_type, population, group (comma-separated or repeated), from, to,
  lang; ``format`` csv (default) | json | parquet.
* ``GET /api/v1/indicators/meta``: every indicator's definition in ``lang``.
* ``GET /api/v1/areas``: every area (``area_type`` filter), names in three languages, its
  source, confidence and completeness, and its members (municipality, valid_from,
  valid_to, source, confidence of each membership).

A bad parameter gives HTTP 400 and a JSON body ``{"error": ..., "parameter": ...}``.
"""

from __future__ import annotations

import io
import json
import zipfile

import flask
import polars as pl

from dashboard.data import Data
from indicators.export import (
    EXTENSIONS,
    ExportQuery,
    datapackage,
    export_metadata,
    query_table,
    render,
    stored_membership,
)
from indicators.registry import INDICATORS, LANGUAGES
from trialmon.errors import BadParameter, TrialmonError
from trialmon.months import is_month

API_FORMATS = ("csv", "json", "parquet")
MIME = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
        "json": "application/json", "xlsx":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
KNOWN_PARAMS = {"indicator", "area", "area_type", "population", "group", "from", "to", "lang",
                "format"}



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
        if args.get(name) and not is_month(args[name]):
            raise BadParameter(name, f"{name} must be a month YYYY-MM, got {args[name]!r}")
    query = ExportQuery(indicators=_values(args, "indicator"),
                        area_types=_values(args, "area_type"), areas=_values(args, "area"),
                        populations=_values(args, "population"), groups=_values(args, "group"),
                        start=args.get("from"), end=args.get("to"), lang=lang)
    return query, fmt



def bad_request(parameter: str, message: str):
    return flask.make_response(flask.jsonify(error=message, parameter=parameter), 400)


def table_response(url: str, args):
    try:
        query, fmt = query_from_args(args)
        table = query_table(url, query)
    except BadParameter as error:  # every bad query names its parameter
        return bad_request(error.parameter, str(error))
    except TrialmonError as error:
        return bad_request("", str(error))
    if fmt == "json":
        metadata = export_metadata(table, query, stored_membership(url, table))
        body = {"metadata": metadata, "data": table.to_dicts()}
        return flask.Response(json.dumps(body, ensure_ascii=False), mimetype=MIME["json"])
    response = flask.Response(render(table, fmt, query), mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename=trialmon.{fmt}"
    if table.height and table["synthetic"].any():
        response.headers["X-Trialmon-Synthetic"] = "true"
    return response


def download_zip(table: pl.DataFrame, query: ExportQuery, fmt: str,
                 url: str | None = None) -> bytes:
    """A zip with the data file and its metadata JSON, for the downloads page (with `url`,
    the metadata lists the areas' membership)."""
    membership = stored_membership(url, table) if url else None
    buffer = io.BytesIO()
    stem = "trialmon-synthetic-demo" if table.height and table["synthetic"].any() else "trialmon"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        name = f"{stem}.{EXTENSIONS[fmt]}"
        archive.writestr(name, render(table, fmt, query))
        archive.writestr(f"{name}.metadata.json",
                         json.dumps(export_metadata(table, query, membership), ensure_ascii=False, indent=2))
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


def register(server: flask.Flask, url: str, data: Data | None = None) -> None:
    """The API routes on `server`; `data` is the app's one data cache (one per process:
    the dashboard passes its own; a bare server gets a new one)."""
    data = data if data is not None else Data(url)

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
        return flask.jsonify(areas=with_members(areas, data.memberships()))


def with_members(areas: pl.DataFrame, memberships: pl.DataFrame) -> list[dict]:
    """Each area with its members: municipality, validity (ISO dates, null = open), source
    and confidence of the membership (municipality areas list no members)."""
    grouped = (
        memberships.with_columns(pl.col("valid_from", "valid_to").dt.to_string("%Y-%m-%d"))
        .group_by("area_type", "area_code", maintain_order=True)
        .agg(pl.struct("municipality_code", "valid_from", "valid_to", "source", "confidence")
             .alias("members"))
    )
    return (areas.join(grouped, on=["area_type", "area_code"], how="left", maintain_order="left")
            .with_columns(pl.col("members").fill_null([])).to_dicts())
