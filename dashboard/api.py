"""The HTTP API on the dashboard's Flask server (documented in docs/dashboard.md and by
its own OpenAPI 3.1 document, ``GET /api/v1/openapi.json``).

Interface:

* ``register(server, data)``: adds the routes below to the Flask server; ``data`` is the
  process's one ``dashboard.data.Data`` (the app's cache), and every read goes through
  its database object (``data.db``, a ``trialmon.db.Database``).
* ``GET /api/v1/indicators``: the protected tidy table (indicators/export.py), filtered by
  indicator, area, area_type, population, group (comma-separated or repeated), from, to,
  lang; ``format`` csv (default) | json | parquet; paged by ``limit`` and ``cursor``
  (keyset: the ``next`` link carries it) or, deprecated, ``limit`` and ``offset``.
* ``GET /api/v1/indicators/meta``: every indicator's name, plain-language explanation
  (``explanation``) and exact definition in ``lang`` (indicators/indicators.meta.yml),
  and the disclosure rule stored with the published computation.
* ``GET /api/v1/areas``: every area (``area_type`` filter), names in three languages, its
  source, confidence and completeness, and its members (municipality, valid_from,
  valid_to, source, confidence of each membership).
* ``GET /api/v1/bulk/trialmon-indicators-{lang}.csv.gz`` (and ``...metadata.json``):
  everything, as a plain file built at compute time (indicators/bulk.py).
* ``GET /api/v1/openapi.json``: the OpenAPI document, generated from ``ENDPOINTS``.
* ``as_of=YYYY-MM-DDTHH:MM`` (UTC) or ``vintage=ID`` on ``/api/v1/indicators``: the table
  exactly as it stood then; the response names the publication in
  ``X-Trialmon-Vintage`` (and ``metadata.vintage_id``).
* ``GET /api/v1/revisions``: old -> new value of every revised cell (indicator, area,
  population, group, from, to filters), with the vintage of each and why.

Decisions:

* One source of truth: ``ENDPOINTS`` lists every endpoint's parameters as JSON Schema;
  requests are validated against those definitions and the OpenAPI document is built
  from them, so the document and the validation cannot drift.
* Every answer is bounded. Without ``limit`` the selection comes whole if it has at most
  ``MAX_ROWS`` rows; a bigger one gets 413 with the row count, how to narrow or page it,
  and the link to its first page.
  With ``limit`` (1..MAX_ROWS) one page comes back in primary-key order (month,
  indicator, population, group, area_type, area_code), cut by the database, with a
  ``next`` link (JSON ``paging.next``, the ``Link`` header) while rows remain.
* Keyset paging (the default): the ``next`` link carries ``cursor``, an opaque token
  (URL-safe base64 of JSON: the last row's primary key and the publication the walk
  reads). A page is the index range after that key, so a deep page costs what the first
  does, and the walk reads one publication from its first page to its last: a
  publication committed mid-walk neither duplicates, drops nor mixes rows (later pages
  read the cells as that publication left them, indicators/history.py). A cursor that
  does not decode is a 400 naming ``cursor``.
* ``offset`` (deprecated, kept for existing clients): with it the ``next`` links keep
  using offsets; a page is then cut after skipping rows, and a publication between pages
  can shift rows across page boundaries.
* A table request is validated once: the parameters by ``ENDPOINTS``, then the codes
  against the database (``export.validate``); the reads that follow take the validated
  query (``export.read_count`` / ``read_table``).
* Errors are JSON ``{"error": ..., "parameter": ...}``: the parameter is carried by the
  exception that rejected it (``BadParameter``), never guessed from the message.
* ``ETag`` = hash of the data version (published months, newest vintage and computation)
  and the request; ``If-None-Match`` gets 304 before any query runs.
  ``Cache-Control: public, max-age=60``: data change only with a load.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

import flask
import polars as pl

from dashboard.data import Data
from dashboard.effect_data import EFFECT_POPULATIONS, WINDOWS
from indicators import history
from indicators.bulk import bulk_files
from indicators.export import (
    EXTENSIONS,
    PAGE_ORDER,
    ExportQuery,
    Page,
    datapackage,
    export_metadata,
    newest_publication,
    read_count,
    read_table,
    render,
    stored_membership,
    validate,
)
from indicators.provenance import rule_statement
from indicators.registry import (
    AREA_TYPES,
    EFFECT_INDICATORS,
    GROUPS,
    INDICATORS,
    LANGUAGES,
    POPULATIONS,
)
from trialmon.db import Database
from trialmon.errors import BadParameter

MAX_ROWS = 100_000
API_FORMATS = ("csv", "json", "parquet")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
                 "json": "application/json", "xlsx":
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MIME = CONTENT_TYPES  # the downloads page's name for it
CACHE_CONTROL = "public, max-age=60"
MONTH_REGEX = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
CODE_REGEX = r"^[A-Za-z0-9_]{1,16}$"


# --------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class Param:
    """One query parameter: its JSON Schema (for a list: of one item) and meaning."""

    name: str
    schema: dict
    description: str
    is_list: bool = False  # comma-separated and/or repeated
    default: object = None
    deprecated: bool = False

    def openapi(self) -> dict:
        schema = ({"type": "array", "items": self.schema} if self.is_list
                  else dict(self.schema))
        if self.default is not None:
            schema["default"] = self.default
        spec = {"name": self.name, "in": "query", "required": False,
                "description": self.description, "schema": schema}
        if self.is_list:
            spec.update(style="form", explode=False)
        if self.deprecated:
            spec["deprecated"] = True
        return spec

    def parse(self, args) -> object:
        """The parameter's value from request arguments (BadParameter when invalid)."""
        raw = args.getlist(self.name)
        if self.is_list:
            values = tuple(v for item in raw for v in item.split(",") if v)
            for value in values:
                self._check(value)
            return values
        if not raw:
            return self.default
        if len(raw) > 1:
            raise BadParameter(self.name, f"{self.name} given {len(raw)} times; give it once")
        return self._check(raw[0])

    def _check(self, value: str):
        schema, name = self.schema, self.name
        if schema.get("type") == "integer":
            if not re.fullmatch(r"[0-9]{1,12}", value):
                raise BadParameter(name, f"{name} must be a whole number, got {value!r}")
            number = int(value)
            low, high = schema.get("minimum"), schema.get("maximum")
            if (low is not None and number < low) or (high is not None and number > high):
                raise BadParameter(name, f"{name} must be from {low} to {high}, got {number}"
                                 + (" (page with limit and offset)" if name == "limit" else ""))
            return number
        if "enum" in schema and value not in schema["enum"]:
            raise BadParameter(name, f"unknown {name} {value!r}; known: "
                                   f"{', '.join(schema['enum'])}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise BadParameter(name, f"bad {name} {value!r}: {self.description}")
        return value


LANG = Param("lang", {"type": "string", "enum": list(LANGUAGES)},
             "language of names and texts", default="en")
# Area systems can be loaded at run time (`trialmon load areas`), so the document gives the
# registry's types as examples and a pattern; the answer checks the types stored.
AREA_TYPE = Param("area_type", {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,15}$",
                                "examples": list(AREA_TYPES)},
                  "area types to include (municipality, region, trial_area, all_trials, "
                  "comparison, country, employment_area, or a loaded area system)",
                  is_list=True)
EFFECT_PARAMS = [
    Param("indicator", {"type": "string", "enum": list(EFFECT_INDICATORS)},
          "a share or rate indicator (docs/effects.md)"),
    Param("population", {"type": "string", "enum": list(EFFECT_POPULATIONS)}, "population",
          default="all"),
    Param("group", {"type": "string", "enum": list(GROUPS)}, "group", default="all"),
    Param("areas", {"type": "string", "pattern": "^(TRIALS|TA[0-9]{2}(,TA[0-9]{2})*)$"},
          "TRIALS (all trial areas) or trial area codes, comma-separated", default="TRIALS"),
    Param("window", {"type": "string", "enum": list(WINDOWS)},
          "full (to 2024-12) or pre_nordic (to 2022-04)", default="full"),
]
INDICATOR_PARAMS = [
    Param("indicator", {"type": "string", "enum": sorted(INDICATORS)},
          "indicator ids (see /api/v1/indicators/meta)", is_list=True),
    Param("area", {"type": "string", "pattern": CODE_REGEX},
          "area codes (see /api/v1/areas)", is_list=True),
    AREA_TYPE,
    Param("population", {"type": "string", "enum": list(POPULATIONS)}, "populations",
          is_list=True),
    Param("group", {"type": "string", "enum": list(GROUPS)}, "groups", is_list=True),
    Param("from", {"type": "string", "pattern": MONTH_REGEX}, "first month, YYYY-MM"),
    Param("to", {"type": "string", "pattern": MONTH_REGEX}, "last month, YYYY-MM"),
    LANG,
    Param("format", {"type": "string", "enum": list(API_FORMATS)}, "file format",
          default="csv"),
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_ROWS},
          f"rows per page (1..{MAX_ROWS}); without it the whole selection, if it has at "
          f"most {MAX_ROWS} rows"),
    Param("cursor", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,1000}$"},
          "where the page starts: the opaque cursor of the previous page's `next` link "
          "(keyset paging; the walk reads one publication from first page to last)"),
    Param("offset", {"type": "integer", "minimum": 0, "maximum": 10**12},
          "deprecated (use cursor): rows to skip (with limit)", default=0, deprecated=True),
    Param("as_of", {"type": "string", "pattern": history.AS_OF.pattern},
          "the table as published at this time, YYYY-MM-DDTHH:MM (UTC)"),
    Param("vintage", {"type": "integer", "minimum": 0, "maximum": 10**9},
          "the table as publication (vintage) ID left it"),
]
REVISION_LIMIT = 10_000
REVISION_PARAMS = [
    *(p for p in INDICATOR_PARAMS if p.name in ("indicator", "area", "population", "group",
                                                 "from", "to")),
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_ROWS},
          f"at most this many revisions, newest first (1..{MAX_ROWS})",
          default=REVISION_LIMIT),
]


@dataclass(frozen=True)
class Endpoint:
    path: str
    summary: str
    params: list[Param] = field(default_factory=list)
    responses: dict = field(default_factory=dict)


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "string"}, "parameter": {"type": ["string", "null"]},
    "rows": {"type": "integer"}, "max_rows": {"type": "integer"}}}
ERRORS = {
    "400": {"description": "a bad parameter, named in `parameter`", "content": _json(ERROR_SCHEMA)},
}
NOT_MODIFIED = {"304": {"description": "unchanged since the ETag given in If-None-Match"}}
ROW_SCHEMA = {"type": "object", "properties": {
    "month": {"type": "string"}, "area_type": {"type": "string"},
    "area_code": {"type": "string"}, "area_name": {"type": ["string", "null"]},
    "population": {"type": "string"}, "group": {"type": "string"},
    "indicator": {"type": "string"}, "value": {"type": ["number", "null"]},
    "numerator": {"type": ["integer", "null"]}, "denominator": {"type": ["integer", "null"]},
    "flag": {"type": "string"}, "vintage": {"type": "string"}, "synthetic": {"type": "boolean"}}}
PAGING_SCHEMA = {"type": "object", "properties": {
    "offset": {"type": ["integer", "null"]}, "limit": {"type": ["integer", "null"]},
    "returned": {"type": "integer"}, "total": {"type": "integer"},
    "cursor": {"type": ["string", "null"]}, "next_cursor": {"type": ["string", "null"]},
    "publication": {"type": ["integer", "null"]}, "next": {"type": ["string", "null"]},
    "order": {"type": "array", "items": {"type": "string"}}}}
ENDPOINTS = [
    Endpoint("/api/v1/indicators", "The protected indicator table (tidy), filtered and paged",
             INDICATOR_PARAMS, {
                 "200": {"description": "one page (or the whole selection)", "content": {
                     CONTENT_TYPES["csv"]: {"schema": {"type": "string"}},
                     CONTENT_TYPES["parquet"]: {"schema": {"type": "string",
                                                           "format": "binary"}},
                     **_json({"type": "object", "required": ["metadata", "paging", "data"],
                              "properties": {"metadata": {"type": "object"},
                                             "paging": PAGING_SCHEMA,
                                             "data": {"type": "array",
                                                      "items": ROW_SCHEMA}}})}},
                 "413": {"description": f"more than {MAX_ROWS} rows without limit: narrow "
                                        "the selection or page it", "content":
                         _json(ERROR_SCHEMA)},
                 **ERRORS, **NOT_MODIFIED}),
    Endpoint("/api/v1/indicators/meta", "Every indicator's definition and the disclosure rule",
             [LANG], {"200": {"description": "definitions", "content": _json({
                 "type": "object", "required": ["indicators", "disclosure_control"],
                 "properties": {"indicators": {"type": "array", "items": {"type": "object"}},
                                "disclosure_control": {"type": "object"}}})},
                 **ERRORS, **NOT_MODIFIED}),
    Endpoint("/api/v1/areas", "Every area, names in Finnish, Swedish and English",
             [AREA_TYPE], {"200": {"description": "areas", "content": _json({
                 "type": "object", "required": ["areas"],
                 "properties": {"areas": {"type": "array", "items": {"type": "object"}}}})},
                 **ERRORS, **NOT_MODIFIED}),
    Endpoint("/api/v1/revisions", "Every revised published cell: old and new value, the "
             "publication of each and why", REVISION_PARAMS, {
                 "200": {"description": "revisions, newest first", "content": _json({
                     "type": "object", "required": ["revisions", "total", "truncated"],
                     "properties": {"revisions": {"type": "array",
                                                  "items": {"type": "object"}},
                                    "total": {"type": "integer"},
                                    "truncated": {"type": "boolean"}}})},
                 **ERRORS}),
    Endpoint("/api/v1/effects", "A published effect estimate (difference-in-differences, "
             "docs/effects.md)", EFFECT_PARAMS, {
                 "200": {"description": "the estimate, its interval, the event study and the "
                                        "numbers of municipalities", "content": _json({
                                            "type": "object",
                                            "required": ["indicator", "estimate", "n_treated",
                                                         "n_control", "event_study"]})},
                 "404": {"description": "this specification is not published; `error` "
                                        "says why: pending until `trialmon effect --grid` "
                                        "has run after the last computation, not offered "
                                        "(a group within a single trial area; `parameter` "
                                        "is `group`), or the command that publishes it",
                         "content": _json(ERROR_SCHEMA)},
                 **ERRORS}),
]


def openapi_document() -> dict:
    """The OpenAPI 3.1 document of ENDPOINTS (and the bulk files)."""
    paths = {}
    for endpoint in ENDPOINTS:
        paths[endpoint.path] = {"get": {
            "summary": endpoint.summary, "operationId": endpoint.path.strip("/").replace(
                "/", "_"),
            "parameters": [p.openapi() for p in endpoint.params],
            "responses": endpoint.responses}}
    for kind, media, body, description in (
            ("csv.gz", "application/gzip", {"type": "string", "format": "binary"},
             "every published cell, gzipped CSV"),
            ("metadata.json", "application/json", {"type": "object"},
             "the bulk file's metadata")):
        paths[f"/api/v1/bulk/trialmon-indicators-{{lang}}.{kind}"] = {"get": {
            "summary": f"Bulk download: {description} (built at compute time)",
            "operationId": f"bulk_{kind.replace('.', '_')}",
            "parameters": [{"name": "lang", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": list(LANGUAGES)}}],
            "responses": {"200": {"description": description,
                                  "content": {media: {"schema": body}}},
                          "404": {"description": "not built yet (run `trialmon compute`)",
                                  "content": _json(ERROR_SCHEMA)},
                          **NOT_MODIFIED}}}
    return {"openapi": "3.1.0",
            "info": {"title": "trialmon API", "version": "1",
                     "description": "Protected monitoring indicators of Finland's municipal "
                                    "employment trials."},
            "paths": paths}


# --------------------------------------------------------------------------- answers

def parse_args(args, params: list[Param]) -> dict:
    """Validated values of `params` from request arguments (BadParameter when wrong)."""
    known = {p.name for p in params}
    unknown = sorted(set(args) - known)
    if unknown:
        raise BadParameter(unknown[0], f"unknown parameter {unknown[0]!r}; known: "
                                     f"{', '.join(sorted(known))}")
    return {p.name: p.parse(args) for p in params}


def query_from_args(args) -> tuple[ExportQuery, dict]:
    """An ExportQuery and the other options (format, limit, offset) from request arguments."""
    values = parse_args(args, INDICATOR_PARAMS)
    if values["as_of"] and values["vintage"] is not None:
        raise BadParameter("as_of", "give as_of or vintage, not both")
    query = ExportQuery(indicators=values["indicator"], area_types=values["area_type"],
                        areas=values["area"], populations=values["population"],
                        groups=values["group"], start=values["from"], end=values["to"],
                        lang=values["lang"], as_of=values["as_of"], vintage=values["vintage"])
    return query, {k: values[k] for k in ("format", "limit", "offset", "cursor")}


def error_response(status: int, parameter: str | None, message: str, **extra):
    return flask.make_response(flask.jsonify(error=message, parameter=parameter, **extra),
                               status)


def bad_request(parameter: str, message: str):
    return error_response(400, parameter, message)


def _page_link(args, limit: int, **position) -> str:
    """This request's address for another page: `position` is offset=N or cursor=C."""
    pairs = [(k, v) for k in args for v in args.getlist(k)
             if k not in ("offset", "limit", "cursor")]
    return f"{flask.request.path}?{urlencode([*pairs, ('limit', limit), *position.items()])}"


@dataclass(frozen=True)
class Cursor:
    """Where a keyset page starts: after the row with PAGE_ORDER key `after`, in the
    table as publication `publication` left it (None: no publication yet)."""

    after: tuple[str, ...]
    publication: int | None

    def encode(self) -> str:
        text = json.dumps({"after": list(self.after), "publication": self.publication},
                          separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        problem = "bad cursor: give the cursor of a previous page's next link unchanged"
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            fields = json.loads(raw.decode())
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise BadParameter("cursor", problem) from None
        after = fields.get("after") if isinstance(fields, dict) else None
        pub = fields.get("publication") if isinstance(fields, dict) else None
        if (not isinstance(after, list) or len(after) != len(PAGE_ORDER)
                or not all(isinstance(v, str) for v in after)
                or not (pub is None or (type(pub) is int and 0 <= pub <= 10**12))):
            raise BadParameter("cursor", problem)
        return cls(tuple(after), pub)


@dataclass
class Selection:
    """What one answer reads: the query (pinned to a publication for a keyset walk),
    the page, the total and the rows."""

    query: ExportQuery
    page: Page
    publication: int | None = None
    keyset: bool = True
    total: int = 0
    table: pl.DataFrame | None = None


def _pinned(query: ExportQuery, publication: int | None, newest: int | None) -> ExportQuery:
    """`query` reading the table as `publication` left it (as it is now: unchanged)."""
    if publication is None or (query.as_of is None and query.vintage is None
                               and publication == newest):
        return query
    return replace(query, as_of=None, vintage=publication)


def select_page(db: Database, query: ExportQuery, options: dict, args) -> Selection | None:
    """The page a request asks for (None: no limit and too many rows for one answer).
    `query` is validated here, once, where the first count needs it (after the paging
    parameters, as before: the same parameter is named for the same bad request)."""
    limit, cursor_text = options["limit"], options["cursor"]
    if "offset" in args:  # deprecated offset paging
        if cursor_text:
            raise BadParameter("cursor", "give cursor or offset, not both")
        chosen = Selection(query, Page(limit or MAX_ROWS, options["offset"]), keyset=False)
        validate(db, query)
        chosen.total = read_count(db, query)
        if limit is None and chosen.total - chosen.page.offset > MAX_ROWS:
            return None
        return _read(db, chosen)
    cursor = Cursor.decode(cursor_text) if cursor_text else None
    asked = query.publication(db)
    newest = newest_publication(db)
    publication = cursor.publication if cursor else (asked if asked is not None else newest)
    if cursor and asked is not None and publication != asked:
        raise BadParameter("cursor", "this cursor walks another publication than as_of/"
                                     "vintage name; start again without cursor")
    if publication is not None and (newest is None or publication > newest):
        raise BadParameter("cursor", f"bad cursor: no publication {publication}")
    chosen = Selection(_pinned(query, publication, newest), Page(
        (limit or MAX_ROWS) + 1, after=cursor.after if cursor else None), publication)
    validate(db, query)  # the pinned query differs only in as_of/vintage
    chosen.total = read_count(db, chosen.query)
    if limit is None and cursor is None and chosen.total > MAX_ROWS:
        return None
    _read(db, chosen)
    if chosen.query is query and publication is not None and newest_publication(db) != newest:
        # a publication was committed around the read: read the pinned one again
        chosen.query = _pinned(query, publication, None)
        chosen.total = read_count(db, chosen.query)
        _read(db, chosen)
    return chosen


def _read(db: Database, chosen: Selection) -> Selection:
    page = chosen.page
    # past the end: nothing to read (the database would still walk the index to offset)
    empty = not chosen.keyset and page.offset >= chosen.total
    rows = max(0, chosen.total - page.offset)
    chosen.table = read_table(db, chosen.query, Page(0, 0) if empty else page, rows)
    return chosen


def _next_link(args, chosen: Selection, limit: int | None) -> tuple[str | None, str | None]:
    """(next link, next cursor) of a page (None, None on the last page)."""
    table, page = chosen.table, chosen.page
    if not chosen.keyset:
        more = page.offset + table.height < chosen.total
        return (_page_link(args, page.limit, offset=page.offset + page.limit)
                if more else None), None
    size = page.limit - 1  # one row more was read to know whether another page follows
    if table.height <= size:
        return None, None
    chosen.table = table.head(size)
    last = chosen.table.row(size - 1, named=True)
    token = Cursor(tuple(last[k] for k in PAGE_ORDER), chosen.publication).encode()
    return _page_link(args, limit or MAX_ROWS, cursor=token), token


def table_response(db: Database, args, rule):
    try:
        query, options = query_from_args(args)
        chosen = select_page(db, query, options, args)
        if chosen is None:
            total = read_count(db, query)
            return error_response(
                413, "limit", f"the selection has {total:,} rows, more than {MAX_ROWS:,}: "
                f"narrow it (indicator, area, area_type, population, group, from, to) or "
                f"page it with limit (at most {MAX_ROWS}) and the next links' cursor",
                rows=total, max_rows=MAX_ROWS, next=_page_link(args, MAX_ROWS))
    except BadParameter as error:
        return bad_request(error.parameter, str(error))
    limit = options["limit"]
    next_link, next_cursor = _next_link(args, chosen, limit)
    table, query, total = chosen.table, chosen.query, chosen.total
    fmt = options["format"]
    if fmt == "json":
        paging = {"offset": None if chosen.keyset else chosen.page.offset, "limit": limit,
                  "returned": table.height, "total": total, "cursor": options["cursor"],
                  "next_cursor": next_cursor, "publication": chosen.publication,
                  "next": next_link, "order": PAGE_ORDER}
        metadata = export_metadata(table, query, rule, stored_membership(db, table))
        if query.as_of or query.vintage is not None:
            metadata["vintage_id"] = query.publication(db)
        head = json.dumps({"metadata": metadata, "paging": paging}, ensure_ascii=False)
        body = head[:-1] + ', "data": ' + table.write_json() + "}"
        response = flask.Response(body, content_type=CONTENT_TYPES["json"])
    else:
        response = flask.Response(render(table, fmt, query), content_type=CONTENT_TYPES[fmt])
        response.headers["Content-Disposition"] = f"attachment; filename=trialmon.{fmt}"
    response.headers["X-Total-Count"] = str(total)
    if query.as_of or query.vintage is not None:
        response.headers["X-Trialmon-Vintage"] = str(query.publication(db))
    if next_link:
        response.headers["Link"] = f'<{next_link}>; rel="next"'
    if table.height and table["synthetic"].any():
        response.headers["X-Trialmon-Synthetic"] = "true"
    return response


def download_zip(table: pl.DataFrame, query: ExportQuery, fmt: str, rule,
                 db: Database | None = None) -> bytes:
    """A zip with the data file, its metadata JSON and (CSV, Parquet) a Frictionless
    datapackage.json, for the downloads page (with `db`, the metadata lists the areas'
    membership)."""
    membership = stored_membership(db, table) if db else None
    buffer = io.BytesIO()
    stem = "trialmon-synthetic-demo" if table.height and table["synthetic"].any() else "trialmon"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        name = f"{stem}.{EXTENSIONS[fmt]}"
        archive.writestr(name, render(table, fmt, query, rule=rule))
        archive.writestr(f"{name}.metadata.json", json.dumps(
            export_metadata(table, query, rule, membership), ensure_ascii=False, indent=2))
        if fmt != "xlsx":  # a Frictionless Data Package beside every CSV/Parquet file
            archive.writestr("datapackage.json", json.dumps(
                datapackage(table, query, fmt, name, rule), ensure_ascii=False, indent=2))
    return buffer.getvalue()


def indicator_meta(lang: str) -> list[dict]:
    """Every indicator's metadata in `lang`: name, one-line text, the plain-language
    explanation, the exact definition (texts built from indicators.meta.yml)."""
    out = []
    for ind in INDICATORS.values():
        text = ind.text.get(lang) or ind.text.get("en")
        out.append({"id": ind.id, "name": text.name if text else ind.id,
                    "short": text.short if text else "",
                    "explanation": text.plain if text else "",
                    "definition": text.long if text else "",
                    "unit": ind.unit, "decimals": ind.decimals, "family": ind.family,
                    "source": ind.source, "numerator": ind.numerator,
                    "denominator": ind.denominator, "first_month": ind.first_month})
    return out


def revisions_response(db: Database, args):
    """The revision table (history.revisions) as JSON, newest first."""
    try:
        values = parse_args(args, REVISION_PARAMS)
    except BadParameter as error:
        return bad_request(error.parameter, str(error))
    with db.connect_published() as conn:
        table = history.revisions(conn, values["indicator"], values["area"],
                                  values["population"], values["group"], values["from"],
                                  values["to"])
    shown = table.head(values["limit"]).with_columns(
        pl.col("old_published_at", "new_published_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return flask.jsonify(revisions=shown.to_dicts(), total=table.height,
                         truncated=table.height > shown.height)


def _etag(version: tuple) -> str:
    request = flask.request
    key = json.dumps([list(version), request.path, sorted(request.args.items(multi=True))])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _cached(version_of, answer):
    """`answer()` with ETag/Cache-Control from the data version; 304 when the client
    already holds it (no query runs)."""
    etag = _etag(version_of())
    if flask.request.if_none_match.contains(etag):
        response = flask.Response(status=304)
    else:
        response = flask.make_response(answer())
        if response.status_code != 200:
            return response
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def register(server: flask.Flask, data: Data) -> None:
    """The API routes on `server`; `data` is the app's one data cache (one per process:
    the dashboard passes its own), `data.db` the database object every read goes through."""
    db = data.db
    openapi = json.dumps(openapi_document(), ensure_ascii=False)

    @server.get("/api/v1/openapi.json")
    def api_openapi():
        return flask.Response(openapi, content_type=CONTENT_TYPES["json"])

    @server.get("/api/v1/indicators")
    def api_indicators():
        return _cached(data.version, lambda: table_response(db, flask.request.args,
                                                            data.disclosure_rule()))

    @server.get("/api/v1/revisions")
    def api_revisions():
        return revisions_response(db, flask.request.args)

    @server.get("/api/v1/indicators/meta")
    def api_meta():
        def answer():
            try:
                lang = parse_args(flask.request.args, [LANG])["lang"]
            except BadParameter as error:
                return bad_request(error.parameter, str(error))
            return flask.jsonify(indicators=indicator_meta(lang),
                                 disclosure_control=rule_statement(data.disclosure_rule()))
        return _cached(data.version, answer)

    @server.get("/api/v1/areas")
    def api_areas():
        def answer():
            try:
                wanted = parse_args(flask.request.args, [AREA_TYPE])["area_type"]
            except BadParameter as error:
                return bad_request(error.parameter, str(error))
            areas = data.areas()
            known = set(areas["area_type"])
            bad = [w for w in wanted if w not in known]
            if bad:
                return bad_request("area_type", f"unknown area type {bad[0]!r}; known: "
                                                f"{', '.join(sorted(known))}")
            if wanted:
                areas = areas.filter(pl.col("area_type").is_in(wanted))
            return flask.jsonify(areas=with_members(areas, data.memberships()))
        return _cached(data.version, answer)

    @server.get("/api/v1/bulk/trialmon-indicators-<lang>.csv.gz", defaults={"kind": "csv.gz"})
    @server.get("/api/v1/bulk/trialmon-indicators-<lang>.metadata.json",
                defaults={"kind": "metadata.json"})
    def api_bulk(lang: str, kind: str):
        if lang not in LANGUAGES:
            return error_response(404, "lang", f"no bulk file in language {lang!r}; known: "
                                               f"{', '.join(LANGUAGES)}")
        data_file, meta_file = bulk_files(db.url, lang)
        path = data_file if kind == "csv.gz" else meta_file
        if not path.exists():
            return error_response(404, None, "the bulk file is not built yet: it is written "
                                             "by `trialmon compute`")
        return flask.send_file(path, mimetype="application/gzip" if kind == "csv.gz"
                               else "application/json", as_attachment=True,
                               download_name=path.name, conditional=True, etag=True,
                               max_age=60)


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
