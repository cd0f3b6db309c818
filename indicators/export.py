"""The tidy export table shared by the command line, the downloads and the API.

Interface (the dashboard's downloads and HTTP API use exactly these):

* ``ExportQuery`` (dataclass): indicators, area_types, areas, populations, groups
  (tuples; empty = all), start, end ('YYYY-MM' or None), lang ('fi'|'sv'|'en'),
  unprotected (bool, command line only).
* Every function's database argument ``db`` is the process's ``trialmon.db.Database``
  (a URL, as the command line gives it, is looked up with ``as_database``); every read of
  the published tables goes through its serving engine.
* ``query_table(db, query) -> pl.DataFrame``: the export format's columns
  month, area_type, area_code, area_name, population, group, indicator, value,
  numerator, denominator, flag, vintage (+ synthetic marker column).
* ``validate(db, query)``: rejects an unknown code or a bad month (``BadParameter``
  naming the parameter). ``query_table`` and ``count_cells`` validate first;
  ``read_table`` and ``read_count`` are the same reads for a query the caller has just
  validated (the HTTP API validates once per request).
* ``count_cells(db, query) -> int``; ``query_table(db, query, page=Page(limit, offset))``:
  one page in PAGE_ORDER (the primary key), cut by the database (the HTTP API);
  ``Page(limit, after=key)``: the page after the row whose PAGE_ORDER key is ``key``
  (keyset paging: an index range, however deep); ``Page(limit, order=SORT_KEYS)``: the
  first rows in the export's own order (the downloads preview).
* ``newest_publication(db) -> int | None``: the id of the newest publication.
* Small reads (a page or selection of at most SMALL_READ_ROWS rows) go through the
  serving engine's connection pool; big ones through ADBC (Arrow), whose connection set-up
  costs more than a small read itself (bench/bench_serve.py, py-spy).
* ``render(table, fmt, query) -> bytes``: csv | csv-excel | parquet | xlsx (xlsx with
  metadata and definitions sheets).
* ``datapackage(table, query, fmt, filename, rule) -> dict``: a Frictionless Data Package
  (Table Schema) describing a CSV or Parquet file; written beside it.
* ``export_metadata(table, query, rule, membership=None) -> dict``: definitions (each
  indicator's name, plain-language explanation and exact definition, from
  indicators/indicators.meta.yml through the registry's texts), source,
  licence, vintage, the suppression rule stored with the computation
  (indicators.provenance), in the export's language; written as JSON beside every export.
* ``export_table(db, query, fmt, out) -> list[Path]``: for ``trialmon export``.
* ``ExportQuery.as_of`` ('YYYY-MM-DDTHH:MM', UTC) or ``ExportQuery.vintage`` (a publication
  id): the table exactly as it stood then (indicators/history.py); the metadata names
  the publication (``vintage_id``) the table reproduces.

Decisions:

* ``flag`` is '' (a value), 'no_value' (a ratio whose denominator is 0: 0/0),
  'suppressed' or 'incomplete'; ``vintage`` is ISO 8601 UTC text
  (``2026-05-04T10:11:12Z``); ``synthetic`` is true for cells built from demo data.
* ``value`` keeps full precision in every format; the number of decimals to show
  is part of each indicator's definition (definitions sheet, metadata). A count is
  written as an integer ("694", never "694.0") in CSV and as an integer-formatted
  number in XLSX; a percentage with the indicator's decimals as the XLSX cell format.
* CSV is UTF-8 with a byte-order mark (so Excel reads the letters right), comma
  separated, decimal point. "csv-excel" is the variant a Finnish or Swedish Excel
  opens directly: ';' separated, decimal comma, BOM. Text fields are quoted, and the
  datapackage.json beside every CSV/Parquet file types area_code as a string.
* XLSX: one named table "trialmon_data" with translated headers, a frozen header,
  filters, column widths and per-indicator number formats; a "metadata" sheet
  (title, source, licence, disclosure rule, vintages, synthetic warning) and a
  "definitions" sheet. More rows than one sheet holds (1 048 575) go on further data
  sheets (trialmon_data_2, ...); beyond XLSX_MAX_ROWS the export is refused with a
  message pointing to CSV or Parquet.
* XLSX speed: the workbook is written in xlsxwriter's constant_memory mode (rows go to
  a temporary file, memory stays flat). Styles, formats, the named tables, frozen panes,
  widths and the metadata and definitions sheets go through xlsxwriter; the data rows are
  built as SpreadsheetML <row> elements by one Polars expression and streamed into the
  sheet's row file (xlsxwriter's per-cell path costs ~10 µs a cell, 25 s for 200 000
  rows). bench/bench_export.py, 200 000 rows: 19.2 s CPU -> 2.6 s (docs/dashboard.md).
* Protected (the published ``indicator_value`` table) unless ``unprotected``: then
  the register indicators are rebuilt from the unprotected municipal measures
  without suppression (public-statistics indicators are public either way).
* Area names are those valid on the month's last day (a merged municipality keeps
  its last name).
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from indicators import areas, history, ratios
from indicators.areas import area_members
from indicators.provenance import DisclosureRule, published_rule, rule_statement
from indicators.registry import (
    AREA_TYPES,
    GROUPS,
    INDICATORS,
    LANGUAGES,
    POPULATIONS,
    REGISTER_INDICATORS,
)
from indicators.texts import SOURCE, disclosure_text
from trialmon.db import Database, as_database
from trialmon.errors import BadParameter, TrialmonError
from trialmon.months import check_month, month_end_expr, to_utc_datetime, valid_on
from trialmon.schema import (
    CELL_KEY,
    MICRODATA,
    area,
    area_member,
    indicator_value,
    measure_vintage,
    month_status,
    municipal_measure,
    publication,
)

FORMATS = ("csv", "csv-excel", "parquet", "xlsx")
EXTENSIONS = {"csv": "csv", "csv-excel": "csv", "parquet": "parquet", "xlsx": "xlsx"}
SHEET_ROWS = 1_048_575  # Excel's rows per sheet, less the header
XLSX_MAX_ROWS = 4 * SHEET_ROWS
XML_PIECE_ROWS = 50_000  # data rows turned into sheet XML at a time
FLAGS = ("", "no_value", "suppressed", "incomplete")
# Up to this many rows a pooled connection of the serving engine reads faster than a new
# ADBC connection (PostgreSQL: a new server process and driver set-up per connection).
SMALL_READ_ROWS = 5_000
COLUMNS = ["month", "area_type", "area_code", "area_name", "population", "group", "indicator",
           "value", "numerator", "denominator", "flag", "vintage", "synthetic"]
SCHEMA = {
    "month": pl.String, "area_type": pl.String, "area_code": pl.String, "area_name": pl.String,
    "population": pl.String, "group": pl.String, "indicator": pl.String, "value": pl.Float64,
    # numerators and denominators are person counts: integers in every format
    "numerator": pl.Int64, "denominator": pl.Int64, "flag": pl.String, "vintage": pl.String,
    "synthetic": pl.Boolean,
}
SORT_KEYS = ["indicator", "area_type", "area_code", "population", "group", "month"]
# Pages (the HTTP API) come in the primary-key order of indicator_value (month first), so
# the database cuts a page from its key instead of sorting the whole selection.
PAGE_ORDER = list(CELL_KEY)

COLUMN_DESCRIPTIONS = {
    "month": "statistical month, YYYY-MM (state on the month's last day)",
    "area_type": "municipality, region, trial_area, all_trials, comparison or country",
    "area_code": "area code: municipality 3 digits, region MK01-MK21, trial area TA.., "
                 "TRIALS, NONTRIAL, SSS (whole country)",
    "area_name": "area name in the export's language, as valid in the month",
    "population": "all, target_group or trial_customers",
    "group": "all, under_30, foreign_language or no_earnings_related",
    "indicator": "indicator id (see the definitions)",
    "value": "the indicator value (count, or percent at full precision); empty when "
             "suppressed or when a ratio's denominator is 0",
    "numerator": "count the value is built from (the count itself for count indicators)",
    "denominator": "denominator count of a percentage; empty for counts",
    "flag": "'' (published), 'suppressed' (disclosure control) or 'incomplete' (an area "
            "sum missing a member's value)",
    "vintage": "when the data the cell depends on were loaded (ISO 8601, UTC)",
    "synthetic": "true when the cell is built from synthetic demo data, not real data",
}
TITLES = {
    "fi": "Työllisyyden kuntakokeilujen seurantaindikaattorit",
    "sv": "Uppföljningsindikatorer för kommunförsöken med sysselsättning",
    "en": "Monitoring indicators of the municipal employment trials",
}
SYNTHETIC_NOTE = {
    "fi": "SYNTEETTISTÄ DEMOAINEISTOA", "sv": "SYNTETISKA DEMODATA", "en": "SYNTHETIC DEMO DATA",
}
SOURCES = {
    "register": "Customer register of the public employment services (URA), monthly "
                "pseudonymised extract; indicators computed by trialmon",
    "statfin": "Statistics Finland, Employment Service Statistics, table tyonv/12r5 (PxWeb)",
}
LICENCE = {
    "outputs": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
    "register": "the register extract is used under the terms of its data permit; "
                "only the protected aggregate outputs may be published",
    "statfin": "CC BY 4.0, Statistics Finland / KEHA Centre",
}


@dataclass(frozen=True)
class Page:
    """Rows offset .. offset+limit-1 of a selection in `order` (PAGE_ORDER, the primary
    key, unless told); with `after` (a PAGE_ORDER key) only the rows after that key."""

    limit: int
    offset: int = 0
    order: tuple[str, ...] = tuple(PAGE_ORDER)
    after: tuple[str, ...] | None = None


@dataclass
class ExportQuery:
    indicators: tuple[str, ...] = ()
    area_types: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    populations: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    lang: str = "en"
    unprotected: bool = False
    as_of: str | None = None  # 'YYYY-MM-DDTHH:MM' UTC: the table as published then
    vintage: int | None = None  # a publication id: the table as that publication left it

    def __post_init__(self):
        for name in ("indicators", "area_types", "areas", "populations", "groups"):
            setattr(self, name, tuple(getattr(self, name) or ()))
        self.start = self.start or None
        self.end = self.end or None

    def filters(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()
                if k not in ("lang", "unprotected") and (v is not None or k in ("start", "end"))}

    def publication(self, db: Database | str) -> int | None:
        """The publication id the query asks for (None: as published now)."""
        if self.as_of is None and self.vintage is None:
            return None
        if self.unprotected:
            raise TrialmonError("as_of/vintage: only the published (protected) table has a "
                                "history; drop --unprotected")
        with as_database(db).connect_published() as conn:
            return history.resolve_publication(conn, self.as_of, self.vintage)


# --------------------------------------------------------------------------- validation

def _check_codes(kind: str, parameter: str, given: tuple[str, ...], known) -> None:
    unknown = [v for v in given if v not in known]
    if unknown:
        raise BadParameter(parameter, f"unknown {kind} {unknown[0]!r}; known: "
                                      f"{', '.join(sorted(known))}")


def known_area_types(db: Database | str, conn: sa.Connection | None = None) -> set[str]:
    """The registry's area types and every area system in the database (loaded ones too)."""
    if conn is None:
        with as_database(db).connect_published() as conn:
            return known_area_types(db, conn)
    return set(AREA_TYPES) | set(conn.execute(sa.select(area.c.area_type).distinct()).scalars())


def validate(db: Database | str, query: ExportQuery) -> None:
    """Reject a query naming an unknown code or a malformed month (BadParameter naming
    the parameter). One connection of the serving engine answers both look-ups."""
    with as_database(db).connect_published() as conn:
        _validate(conn, query)


def _validate(conn: sa.Connection, query: ExportQuery) -> None:
    _check_codes("indicator", "indicator", query.indicators, INDICATORS)
    _check_codes("area type", "area_type", query.area_types, known_area_types(None, conn))
    _check_codes("population", "population", query.populations, POPULATIONS)
    _check_codes("group", "group", query.groups, GROUPS)
    if query.lang not in LANGUAGES:
        raise BadParameter("lang", f"unknown language {query.lang!r}; known: "
                                   f"{', '.join(LANGUAGES)}")
    for month, parameter in ((query.start, "from"), (query.end, "to")):
        if month is not None:
            check_month(month, parameter)
    if query.start and query.end and query.start > query.end:
        raise BadParameter("from", f"bad month range: {query.start} is after {query.end}")
    if query.areas:
        known = set(conn.execute(sa.select(area.c.area_code).distinct()).scalars())
        unknown = [a for a in query.areas if a not in known]
        if unknown:
            raise BadParameter("area", f"unknown area {unknown[0]!r}: no area has that code")


# --------------------------------------------------------------------------- reading

def _where(columns, query: ExportQuery, *, with_indicator: bool = True) -> list:
    conditions = []
    pairs = [("area_type", query.area_types), ("area_code", query.areas),
             ("population", query.populations), ("group", query.groups)]
    if with_indicator:
        pairs.append(("indicator", query.indicators))
    for name, values in pairs:
        if values and name in columns:
            conditions.append(columns[name].in_(values))
    if query.start:
        conditions.append(columns["month"] >= query.start)
    if query.end:
        conditions.append(columns["month"] <= query.end)
    return conditions


def _nullable(column, fill):
    """A nullable numeric column as (filled value, is-null marker): SQLite's ADBC driver
    infers a column's type from its first values, so nulls must not come first."""
    return (sa.func.coalesce(column, fill).label(column.name),
            (column.is_(None)).label(f"{column.name}__null"))


def _restore_nulls(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col(f"{n}__null").cast(pl.Boolean)).then(None).otherwise(pl.col(n)).alias(n)
        for n in names
    ).drop(f"{n}__null" for n in names)


def _cell_columns(table: sa.Table) -> list:
    c = table.c
    return [c.indicator, c.population, c.group, c.area_type, c.area_code, c.month,
            *_nullable(c.value, 0.0), *_nullable(c.numerator, 0.0),
            *_nullable(c.denominator, 0.0), sa.func.coalesce(c.flag, "").label("flag"),
            c.vintage]


def _after(columns, after: tuple[str, ...] | None) -> list:
    """Rows whose PAGE_ORDER key comes after `after` (a row-value comparison: the database
    starts an index range there)."""
    if after is None:
        return []
    return [sa.tuple_(*(columns[k] for k in PAGE_ORDER)) > sa.tuple_(*map(sa.literal, after))]


def _published_select(query: ExportQuery, publication_id: int | None,
                      page: Page | None = None):
    """The cells matching `query` now, or as they stood after publication `publication_id`;
    with `page`, ordered and cut (each branch of the as-of union cut first, so a page
    is read from the index, not by sorting the whole selection)."""
    def where(c) -> list:
        return [*_where(c, query), *_after(c, page.after if page else None)]

    if publication_id is None:
        statement = sa.select(*_cell_columns(indicator_value)).where(*where(indicator_value.c))
        return _cut(statement, page) if page else statement
    if page is None:
        return history.as_of_select(_cell_columns, where, publication_id)
    first = Page(page.offset + page.limit, 0, page.order)
    branches = history.as_of_select(_cell_columns, where, publication_id).selects
    union = sa.union_all(*(sa.select(_cut(b, first).subquery()) for b in branches)).subquery()
    return _cut(sa.select(union), page)


def _cut(statement, page: Page):
    return (statement.order_by(*(sa.column(k) for k in page.order))
            .limit(page.limit).offset(page.offset))


def _read_cells(db: Database, statement, rows: int | None) -> pl.DataFrame:
    """The rows of `statement`: at most SMALL_READ_ROWS expected (`rows`) through the
    serving engine's pooled connection; more through a new ADBC connection (Arrow)."""
    if rows is not None and rows <= SMALL_READ_ROWS:
        return db.read_published(statement)
    return db.read_frame(db.sql_text(statement), batch_rows=65_536)


def published_cells(db: Database | str, query: ExportQuery, page: Page | None = None,
                    publication_id: int | None = None,
                    expected_rows: int | None = None) -> pl.DataFrame:
    """The protected cells of indicator_value matching the query (`page`: one slice of
    them in primary-key order, cut by the database; `publication_id`: as they stood after
    that publication; `expected_rows`: how many the selection has, when known)."""
    statement = _published_select(query, publication_id, page)
    bounds = [n for n in (page.limit if page else None, expected_rows) if n is not None]
    frame = _read_cells(as_database(db), statement, min(bounds) if bounds else None)
    if frame.is_empty():
        return _empty_cells()
    frame = _restore_nulls(frame, ["value", "numerator", "denominator"])
    return frame.with_columns(to_utc_datetime(frame["vintage"]),
                              pl.col("value", "numerator", "denominator").cast(pl.Float64))


def _empty_cells() -> pl.DataFrame:
    return pl.DataFrame(schema={**{c: pl.String for c in ratios.INDICATOR_COLUMNS},
                                "value": pl.Float64, "numerator": pl.Float64,
                                "denominator": pl.Float64, "vintage": pl.Datetime("us", "UTC")})


def unprotected_cells(db: Database | str, query: ExportQuery) -> pl.DataFrame:
    """Register-indicator cells rebuilt from the unprotected municipal measures (the
    command line's staff-only export; never the serving process)."""
    db = as_database(db)
    mm = db.adbc_table(municipal_measure).c
    statement = sa.select(
        mm.month, mm.municipality_code, mm.population, mm.group, mm.measure,
        *_nullable(mm.value, 0),
    ).where(*_where(mm, query, with_indicator=False))
    municipal = db.read_frame(db.sql_text(statement), MICRODATA)
    if municipal.is_empty():
        return _empty_cells()
    municipal = _restore_nulls(municipal, ["value"]).with_columns(pl.col("value").cast(pl.Int64))
    months = municipal["month"].unique().sort().to_list()
    mv = db.adbc_table(measure_vintage).c
    vintages = db.read_frame(db.sql_text(
        sa.select(mv.month, mv.measure, mv.vintage).where(mv.month.in_(months))), MICRODATA)
    vintages = vintages.with_columns(to_utc_datetime(vintages["vintage"]))
    members = area_members(db.url, months)
    cells = ratios.unprotected(areas.roll_up(municipal, members))
    built = ratios.indicator_cells(cells, vintages).with_columns(pl.col("flag").fill_null(""))
    return built.filter(pl.all_horizontal(_frame_filters(query)))


def _frame_filters(query: ExportQuery) -> list[pl.Expr]:
    filters = [pl.lit(True)]
    for name, values in [("indicator", query.indicators), ("area_type", query.area_types),
                         ("area_code", query.areas)]:
        if values:
            filters.append(pl.col(name).is_in(list(values)))
    return filters


def area_names(db: Database | str, keys: pl.DataFrame, lang: str) -> pl.DataFrame:
    """[month, area_type, area_code, area_name]: the name valid on the month's last day,
    else the area's latest name."""
    versions = as_database(db).read_published(
        sa.select(area.c.area_type, area.c.area_code, area.c[f"name_{lang}"],
                  area.c.valid_from, area.c.valid_to),
        {"area_type": pl.String, "area_code": pl.String, "area_name": pl.String,
         "valid_from": pl.Date, "valid_to": pl.Date})
    valid = valid_on(month_end_expr("month"))
    return (
        keys.join(versions, on=["area_type", "area_code"], how="left")
        .sort(valid, pl.col("valid_from"), descending=True, nulls_last=True)
        .unique(["month", "area_type", "area_code"], keep="first")
        .select("month", "area_type", "area_code", "area_name")
    )


def _synthetic_months(db: Database) -> pl.DataFrame:
    return db.read_published(
        sa.select(month_status.c.month, month_status.c.source, month_status.c.synthetic),
        {"month": pl.String, "source": pl.String, "synthetic": pl.Boolean})


def count_cells(db: Database | str, query: ExportQuery) -> int:
    """How many published cells match `query` (validated first)."""
    validate(db, query)
    return read_count(db, query)


def read_count(db: Database | str, query: ExportQuery) -> int:
    """`count_cells` for a query the caller has validated (`validate`)."""
    db = as_database(db)
    inner = _published_select(query, query.publication(db)).subquery()
    statement = sa.select(sa.func.count()).select_from(inner)
    with db.connect_published() as conn:
        return conn.execute(statement).scalar_one()


def newest_publication(db: Database | str) -> int | None:
    """The id of the newest publication (None before any)."""
    with as_database(db).connect_published() as conn:
        return conn.execute(sa.select(sa.func.max(publication.c.publication_id))).scalar()


def query_table(db: Database | str, query: ExportQuery, page: Page | None = None,
                expected_rows: int | None = None) -> pl.DataFrame:
    """The export table for `query` (validated first), in the export format's columns,
    sorted by SORT_KEYS; with `page`, one page of it in PAGE_ORDER (protected only);
    `expected_rows` (count_cells, when known) lets a small read skip opening ADBC."""
    validate(db, query)
    return read_table(db, query, page, expected_rows)


def read_table(db: Database | str, query: ExportQuery, page: Page | None = None,
               expected_rows: int | None = None) -> pl.DataFrame:
    """`query_table` for a query the caller has validated (`validate`)."""
    db = as_database(db)
    if page is not None and query.unprotected:
        raise TrialmonError("an unprotected export is not paged")
    cells = published_cells(db, query, page, query.publication(db), expected_rows)
    if query.unprotected:
        register_ids = {i.id for i in REGISTER_INDICATORS}
        cells = pl.concat([cells.filter(~pl.col("indicator").is_in(list(register_ids))),
                           unprotected_cells(db, query)], how="diagonal_relaxed")
    return export_format(db, cells, query.lang, SORT_KEYS if page is None else list(page.order))


def export_format(db: Database | str, cells: pl.DataFrame, lang: str,
                  order: list[str]) -> pl.DataFrame:
    """Cells (published_cells) in the export format's columns, names in `lang`."""
    db = as_database(db)
    sources = pl.DataFrame({"indicator": list(INDICATORS),
                            "source": [i.source for i in INDICATORS.values()]})
    keys = cells.select("month", "area_type", "area_code").unique()
    table = (
        cells.join(sources, on="indicator", how="left")
        .join(_synthetic_months(db), on=["month", "source"], how="left")
        .join(area_names(db, keys, lang), on=["month", "area_type", "area_code"],
              how="left")
        .with_columns(
            pl.when(pl.col("flag").fill_null("").eq("") & pl.col("value").is_null())
            .then(pl.lit("no_value")).otherwise(pl.col("flag").fill_null("")).alias("flag"),
            pl.col("synthetic").fill_null(False),
            pl.col("vintage").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    )
    return table.select(pl.col(c).cast(t) for c, t in SCHEMA.items()).sort(order)


# --------------------------------------------------------------------------- rendering

def _text(indicator, lang: str):
    return indicator.text.get(lang) or indicator.text.get("en")


def definitions(table: pl.DataFrame, lang: str) -> pl.DataFrame:
    """One row per indicator in the table, with its texts in `lang`."""
    return definitions_of(table["indicator"].unique().to_list(), lang)


def definitions_of(indicator_ids, lang: str) -> pl.DataFrame:
    """The definitions of `indicator_ids` in `lang`: the plain-language explanation
    (``explanation``, the meta file's ``plain``) first, the exact definition second."""
    used = [INDICATORS[i] for i in sorted(set(indicator_ids)) if i in INDICATORS]
    return pl.DataFrame({
        "indicator": [i.id for i in used],
        "name": [_text(i, lang).name for i in used],
        "explanation": [_text(i, lang).plain for i in used],
        "definition": [_text(i, lang).long or _text(i, lang).short for i in used],
        "unit": [i.unit for i in used],
        "decimals": [i.decimals for i in used],
        "numerator": [i.numerator for i in used],
        "denominator": [i.denominator for i in used],
        "first_month": [i.first_month for i in used],
        "source": [SOURCES[i.source] for i in used],
    }, schema={"indicator": pl.String, "name": pl.String, "explanation": pl.String,
               "definition": pl.String,
               "unit": pl.String, "decimals": pl.Int64, "numerator": pl.String,
               "denominator": pl.String, "first_month": pl.String, "source": pl.String})


def render(table: pl.DataFrame, fmt: str, query: ExportQuery,
           sheet_rows: int = SHEET_ROWS, rule: DisclosureRule | None = None) -> bytes:
    """The table as file contents: CSV (UTF-8 with BOM), CSV for Finnish/Swedish Excel,
    Parquet (types kept) or XLSX (see the module's decisions)."""
    if fmt not in FORMATS:
        raise TrialmonError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt in ("csv", "csv-excel"):
        return csv_bytes(table, excel=fmt == "csv-excel")
    buffer = io.BytesIO()
    if fmt == "parquet":
        table.write_parquet(buffer)
        return buffer.getvalue()
    return xlsx_bytes(table, query, sheet_rows, rule)


def _is_count() -> pl.Expr:
    units = {i.id: i.unit for i in INDICATORS.values()}
    return pl.col("indicator").replace_strict(units, default="count") != "percent"


def csv_bytes(table: pl.DataFrame, excel: bool = False, *, header: bool = True,
              bom: bool = True) -> bytes:
    """CSV with a BOM; counts as integers; `excel`: ';' and the decimal comma. The bulk
    file is written in pieces with the same format (the first with header and BOM)."""
    value = (pl.when(_is_count()).then(pl.col("value").round(0).cast(pl.Int64).cast(pl.String))
             .otherwise(pl.col("value").cast(pl.String)))
    if excel:
        value = value.str.replace(".", ",", literal=True)
    text = table.with_columns(value.alias("value")).write_csv(
        separator=";" if excel else ",", quote_style="non_numeric", include_header=header)
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


HEADERS = {
    "fi": {"month": "kuukausi", "area_type": "aluetyyppi", "area_code": "aluekoodi",
           "area_name": "alue", "population": "perusjoukko", "group": "ryhmä",
           "indicator": "indikaattori", "value": "arvo", "numerator": "osoittaja",
           "denominator": "nimittäjä", "flag": "merkintä", "vintage": "aineiston versio",
           "synthetic": "synteettinen"},
    "sv": {"month": "månad", "area_type": "områdestyp", "area_code": "områdeskod",
           "area_name": "område", "population": "population", "group": "grupp",
           "indicator": "indikator", "value": "värde", "numerator": "täljare",
           "denominator": "nämnare", "flag": "flagga", "vintage": "dataversion",
           "synthetic": "syntetisk"},
    "en": {c: c.replace("_", " ") for c in COLUMNS},
}
# The definitions sheet's own headers (its indicator, numerator and denominator columns
# take the data sheet's words above).
DEFINITION_HEADERS = {
    "fi": {"name": "nimi", "explanation": "selitys", "definition": "määritelmä",
           "unit": "yksikkö", "decimals": "desimaalit", "first_month": "ensimmäinen kuukausi",
           "source": "lähde"},
    "sv": {"name": "namn", "explanation": "förklaring", "definition": "definition",
           "unit": "enhet", "decimals": "decimaler", "first_month": "första månad",
           "source": "källa"},
    "en": {},
}
COLUMN_WIDTHS = {"month": 10, "area_type": 13, "area_code": 11, "area_name": 28,
                 "population": 16, "group": 20, "indicator": 28, "value": 12, "numerator": 12,
                 "denominator": 12, "flag": 12, "vintage": 21, "synthetic": 11}


def _number_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def xlsx_bytes(table: pl.DataFrame, query: ExportQuery, sheet_rows: int = SHEET_ROWS,
               rule: DisclosureRule | None = None) -> bytes:
    """A workbook: data sheet(s) as named tables, then metadata and definitions. Written
    in xlsxwriter's constant_memory mode: each row goes to a temporary file as soon as the
    next one starts, so memory stays flat and no cell object outlives its row."""
    import xlsxwriter  # start-up: only the xlsx format needs it (~0.3 s)

    if table.height > XLSX_MAX_ROWS:
        raise TrialmonError(
            f"the selection has {table.height:,} rows; an Excel workbook of this export holds "
            f"at most {XLSX_MAX_ROWS:,} ({XLSX_MAX_ROWS // SHEET_ROWS} sheets): choose fewer "
            "indicators, areas or months, or download CSV or Parquet")
    lang = query.lang
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"constant_memory": True}) as workbook:
        header = workbook.add_format({"bold": True, "bg_color": "#0B4F8A",
                                      "font_color": "#FFFFFF", "text_wrap": True,
                                      "valign": "top", "border": 1})
        formats = {d: workbook.add_format({"num_format": _number_format(d)})
                   for d in {i.decimals for i in INDICATORS.values()} | {0}}
        chunks = [table.slice(o, sheet_rows) for o in range(0, max(table.height, 1), sheet_rows)]
        for n, chunk in enumerate(chunks, start=1):
            _data_sheet(workbook, chunk, lang, n, header, formats)
        _metadata_sheet(workbook, table, query, header, rule)
        _definitions_sheet(workbook, definitions(table, lang), header, lang)
    return buffer.getvalue()


def _named_table(sheet, name: str, headers: list[str], rows: int, header) -> None:
    """A named table (filters, banded style) over the header and `rows` data rows, with
    styled headers and the header row frozen.

    Two steps around xlsxwriter's add_table: it refuses constant_memory mode only because
    it writes the header cells itself (as shared strings), so the table is added with
    the sheet briefly in row-store mode and the header cells are written again as the
    inline strings constant_memory writes; and its overlap check stores one dict entry
    per cell of the range (13.6 million for a full sheet: 2 GB and a minute), so the
    table is added over the header and one row, then its range set to the full extent
    (nothing else on the sheet can overlap it)."""
    from xlsxwriter.utility import xl_range  # start-up: loaded with xlsxwriter (xlsx_bytes)

    last_col = len(headers) - 1
    sheet.constant_memory = False
    sheet.add_table(0, 0, 1, last_col, {
        "name": name, "style": "Table Style Light 1",
        "columns": [{"header": h} for h in headers]})
    sheet.constant_memory = True
    extent = xl_range(0, 0, max(rows, 1), last_col)
    sheet.tables[-1].update({"range": extent, "a_range": extent, "autofilter": extent})
    for col, text in enumerate(headers):
        sheet.write_string(0, col, text, header)
    sheet.freeze_panes(1, 0)


def _data_sheet(workbook, chunk: pl.DataFrame, lang: str, n: int, header, formats) -> None:
    """One data sheet: a named table with frozen, styled, translated headers; each value in
    its indicator's number format, counts (numerator, denominator) as integers, codes as
    text. The header goes through xlsxwriter; the data rows are built as sheet XML by
    Polars (``_rows_xml``) and streamed into the sheet's constant_memory row file."""
    sheet = workbook.add_worksheet("data" if n == 1 else f"data_{n}")
    _named_table(sheet, "trialmon_data" + ("" if n == 1 else f"_{n}"),
                 [HEADERS[lang][c] for c in COLUMNS], chunk.height, header)
    for col, column in enumerate(COLUMNS):
        sheet.set_column(col, col, COLUMN_WIDTHS[column])
    styles = {d: f._get_xf_index() for d, f in formats.items()}
    pieces = (_rows_xml(part, styles, first_row=2 + offset)
              for offset, part in zip(range(0, chunk.height, XML_PIECE_ROWS),
                                      chunk.iter_slices(XML_PIECE_ROWS), strict=False))
    _stream_rows(sheet, pieces, chunk.height, len(COLUMNS) - 1)


def _stream_rows(sheet, pieces, last_row: int, last_col: int) -> None:
    """Append finished <row> elements (rows 2.. of the sheet) to a constant_memory sheet.

    In constant_memory mode xlsxwriter writes each finished row to a temporary file
    (``row_data_fh``) and copies that file into <sheetData> when the workbook closes.
    This flushes the pending header row, appends the rows, and records the sheet's
    extent, exactly as xlsxwriter's own writers would; xlsxwriter's per-cell path
    (about 10 µs a cell) would take 25 s for 200 000 rows. tests/test_export.py opens
    the result with openpyxl and fastexcel (formats, table, frozen header, values)."""
    if last_row == 0:
        return
    sheet._write_single_row(1)  # the header row (row 0) goes to the row file first
    handle = sheet.row_data_fh
    for rows in pieces:  # XML_PIECE_ROWS rows at a time: memory stays flat
        handle.write("".join(rows.to_list()))
    sheet.previous_row = last_row
    sheet._check_dimensions(last_row, last_col)


def _xml_text(column: str) -> pl.Expr:
    """A text column escaped for XML (control characters other than tab/newline dropped)."""
    return (pl.col(column).str.replace_all(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "")
            .str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True))


def _rows_xml(chunk: pl.DataFrame, styles: dict[int, int], first_row: int = 2) -> pl.Series:
    """Each row of `chunk` as a SpreadsheetML <row> element (the first is sheet row
    `first_row`, 1-based): text as inline strings, numbers with their style (value: the
    indicator's decimals; numerator and denominator: integers), booleans, no element for
    an empty cell."""
    row = (pl.int_range(first_row, pl.len() + first_row)).cast(pl.String)
    decimals = {i.id: i.decimals for i in INDICATORS.values()}
    value_style = pl.col("indicator").replace_strict(
        {k: str(styles[d]) for k, d in decimals.items()}, default=str(styles[1]),
        return_dtype=pl.String)
    letters = "ABCDEFGHIJKLM"

    def text(col: int, column: str) -> pl.Expr:
        return pl.when(pl.col(column).fill_null("") != "").then(pl.concat_str(
            pl.lit(f'<c r="{letters[col]}'), row, pl.lit('" t="inlineStr"><is><t>'),
            _xml_text(column), pl.lit("</t></is></c>")))

    def number(col: int, column: str, style: pl.Expr) -> pl.Expr:
        return pl.when(pl.col(column).is_not_null()).then(pl.concat_str(
            pl.lit(f'<c r="{letters[col]}'), row, pl.lit('" s="'), style, pl.lit('"><v>'),
            pl.col(column).cast(pl.String), pl.lit("</v></c>")))

    count_style = pl.lit(str(styles[0]))
    cells = [text(COLUMNS.index(c), c) for c in COLUMNS[:7]] + [
        number(7, "value", value_style), number(8, "numerator", count_style),
        number(9, "denominator", count_style), text(10, "flag"), text(11, "vintage"),
        pl.concat_str(pl.lit('<c r="M'), row, pl.lit('" t="b"><v>'),
                      pl.col("synthetic").fill_null(False).cast(pl.Int8).cast(pl.String),
                      pl.lit("</v></c>"))]
    assert len(cells) == len(COLUMNS) == len(letters)
    return chunk.select(pl.concat_str(pl.lit('<row r="'), row, pl.lit('">'), *cells,
                                      pl.lit("</row>"), ignore_nulls=True).alias("row"))["row"]


def _definitions_sheet(workbook, frame: pl.DataFrame, header, lang: str) -> None:
    """The indicators' definitions as the named table trialmon_definitions, with headers
    in the file's language."""
    sheet = workbook.add_worksheet("definitions")
    words = {**HEADERS[lang], **DEFINITION_HEADERS[lang]}
    _named_table(sheet, "trialmon_definitions", [words.get(c, c) for c in frame.columns],
                 frame.height, header)
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    widths = {"indicator": 28, "name": 36, "explanation": 70, "definition": 90, "source": 40}
    for col, column in enumerate(frame.columns):
        sheet.set_column(col, col, widths.get(column, 12),
                         wrap if column in ("explanation", "definition") else None)
    for r, row in enumerate(frame.iter_rows(), start=1):
        sheet.write_row(r, 0, row)


def _metadata_sheet(workbook, table: pl.DataFrame, query: ExportQuery, header,
                    rule: DisclosureRule | None) -> None:
    meta = export_metadata(table, query, rule)
    labels = METADATA_LABELS[query.lang]
    rows = [(labels["title"], meta["title"]),
            (labels["synthetic"], meta["synthetic_note"]),
            (labels["source"], "; ".join(meta["source"])),
            (labels["licence"], "; ".join(f"{v}" for v in meta["licence"].values())),
            (labels["rule"], meta["disclosure_control"]["rule"]),
            (labels["flags"], "; ".join(f"'{k}': {v}" for k, v in meta["flags"].items())),
            (labels["vintages"], ", ".join(meta["vintages"])),
            (labels["rows"], meta["row_count"])]
    sheet = workbook.add_worksheet("metadata")
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, 24, header)
    sheet.set_column(1, 1, 110, wrap)
    for r, (key, value) in enumerate(rows):
        sheet.write(r, 0, key, header)
        sheet.write(r, 1, value, wrap)


METADATA_LABELS = {
    "fi": {"title": "Otsikko", "synthetic": "Aineisto", "source": "Lähde", "licence": "Lisenssi",
           "rule": "Tietosuojasääntö", "flags": "Merkinnät", "vintages": "Aineistoversiot",
           "rows": "Rivejä"},
    "sv": {"title": "Titel", "synthetic": "Data", "source": "Källa", "licence": "Licens",
           "rule": "Röjandekontroll", "flags": "Flaggor", "vintages": "Dataversioner",
           "rows": "Rader"},
    "en": {"title": "Title", "synthetic": "Data", "source": "Source", "licence": "Licence",
           "rule": "Disclosure rule", "flags": "Flags", "vintages": "Vintages", "rows": "Rows"},
}
SYNTHETIC_TEXT = {
    "fi": ("SYNTEETTISTÄ DEMOAINEISTOA: luvut eivät kuvaa todellisia henkilöitä tai kuntia.",
           "Rekisteriaineisto."),
    "sv": ("SYNTETISKA DEMODATA: siffrorna beskriver inga verkliga personer eller kommuner.",
           "Registerdata."),
    "en": ("SYNTHETIC DEMO DATA: the figures describe no real person or municipality.",
           "Register data."),
}
FLAG_MEANINGS = {
    "fi": {"": "julkaistu arvo", "no_value": "ei arvoa: osuuden nimittäjä on 0 (0/0)",
           "suppressed": "suojattu tietosuojan vuoksi (arvo tyhjä)",
           "incomplete": "puutteellinen: jonkin jäsenkunnan tieto puuttuu lähteestä"},
    "sv": {"": "publicerat värde", "no_value": "inget värde: andelens nämnare är 0 (0/0)",
           "suppressed": "skyddad av röjandekontroll (värdet tomt)",
           "incomplete": "ofullständig: en medlemskommuns uppgift saknas i källan"},
    "en": {"": "published value", "no_value": "no value: the share's denominator is 0 (0/0)",
           "suppressed": "suppressed by disclosure control (value empty)",
           "incomplete": "incomplete: a member municipality's value is missing at source"},
}
LICENCE_TEXT = {
    "fi": {"outputs": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
           "register": "rekisteriotetta käytetään tietoluvan ehdoin; vain suojatut "
                       "yhteenvetotiedot saa julkaista",
           "statfin": "CC BY 4.0, Tilastokeskus / KEHA-keskus"},
    "sv": {"outputs": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
           "register": "registerutdraget används enligt villkoren i dataillståndet; endast "
                       "skyddade sammanställningar får publiceras",
           "statfin": "CC BY 4.0, Statistikcentralen / KEHA-centret"},
    "en": LICENCE,
}
COLUMN_TEXTS = {
    "fi": {"month": "tilastokuukausi, VVVV-KK (tilanne kuun viimeisenä päivänä)",
           "area_type": "municipality, region, trial_area, all_trials, comparison tai country",
           "area_code": "aluekoodi (teksti): kunta 3 numeroa, maakunta MK01–MK21, kokeilualue "
                        "TA.., TRIALS, NONTRIAL, SSS (koko maa)",
           "area_name": "alueen nimi, kuukauden aikaan voimassa ollut",
           "population": "all, target_group tai trial_customers",
           "group": "all, under_30, foreign_language tai no_earnings_related",
           "indicator": "indikaattorin tunnus (ks. määritelmät)",
           "value": "indikaattorin arvo (lukumäärä kokonaislukuna tai prosentti täydellä "
                    "tarkkuudella); tyhjä, kun suojattu tai 0/0",
           "numerator": "lukumäärä, josta arvo lasketaan", "denominator": "osuuden nimittäjä",
           "flag": "merkintä: '' julkaistu, 'no_value' 0/0, 'suppressed' suojattu, "
                   "'incomplete' puutteellinen",
           "vintage": "milloin solun lähdeaineisto ladattiin (ISO 8601, UTC)",
           "synthetic": "true, kun solu on synteettistä demoaineistoa"},
    "sv": {"month": "statistikmånad, ÅÅÅÅ-MM (läget på månadens sista dag)",
           "area_type": "municipality, region, trial_area, all_trials, comparison eller country",
           "area_code": "områdeskod (text): kommun 3 siffror, landskap MK01–MK21, försöksområde "
                        "TA.., TRIALS, NONTRIAL, SSS (hela landet)",
           "area_name": "områdets namn, som gällde under månaden",
           "population": "all, target_group eller trial_customers",
           "group": "all, under_30, foreign_language eller no_earnings_related",
           "indicator": "indikatorns id (se definitionerna)",
           "value": "indikatorns värde (antal som heltal eller procent med full precision); "
                    "tomt när skyddat eller 0/0",
           "numerator": "antalet som värdet räknas ur", "denominator": "andelens nämnare",
           "flag": "flagga: '' publicerat, 'no_value' 0/0, 'suppressed' skyddat, "
                   "'incomplete' ofullständigt",
           "vintage": "när cellens källdata lästes in (ISO 8601, UTC)",
           "synthetic": "true när cellen är syntetiska demodata"},
    "en": COLUMN_DESCRIPTIONS,
}


def membership_metadata(table: pl.DataFrame, areas_frame: pl.DataFrame,
                        memberships: pl.DataFrame) -> list[dict]:
    """The areas of `table` (but municipalities) with their source, confidence,
    completeness and members (municipality, valid_from, valid_to) -- how each area was
    made up, which a figure cannot be read without. ``areas_frame``: area_type,
    area_code, name_fi/sv/en, source, confidence, completeness, note (one row per area);
    ``memberships``: area_type, area_code, municipality_code, valid_from, valid_to."""
    if table.is_empty():
        return []
    wanted = table.select("area_type", "area_code").unique().filter(
        pl.col("area_type") != "municipality")
    members = (
        memberships.join(wanted, on=["area_type", "area_code"], how="semi")
        .with_columns(pl.col("valid_from", "valid_to").cast(pl.Date).dt.to_string("%Y-%m-%d"))
        .group_by("area_type", "area_code")
        .agg(pl.struct("municipality_code", "valid_from", "valid_to").sort_by(
            "municipality_code").alias("members"))
    )
    columns = [c for c in ("area_type", "area_code", "name_fi", "name_sv", "name_en", "source",
                           "confidence", "completeness", "note") if c in areas_frame.columns]
    return (areas_frame.select(columns).unique(["area_type", "area_code"], keep="last")
            .join(wanted, on=["area_type", "area_code"], how="semi")
            .join(members, on=["area_type", "area_code"], how="left")
            .sort("area_type", "area_code").to_dicts())


def stored_membership(db: Database | str, table: pl.DataFrame) -> list[dict]:
    """``membership_metadata`` from the database's area tables."""
    with as_database(db).connect_published() as conn:
        areas_frame = pl.DataFrame([tuple(r) for r in conn.execute(sa.select(
            area.c.area_type, area.c.area_code, area.c.name_fi, area.c.name_sv, area.c.name_en,
            area.c.source, area.c.confidence, area.c.completeness, area.c.note)).all()],
            schema={c: pl.String for c in ("area_type", "area_code", "name_fi", "name_sv",
                                           "name_en", "source", "confidence", "completeness",
                                           "note")}, orient="row")
        memberships = pl.DataFrame([tuple(r) for r in conn.execute(sa.select(
            area_member.c.area_type, area_member.c.area_code, area_member.c.municipality_code,
            area_member.c.valid_from, area_member.c.valid_to)).all()],
            schema={"area_type": pl.String, "area_code": pl.String,
                    "municipality_code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date},
            orient="row")
    return membership_metadata(table, areas_frame, memberships)


def export_metadata(table: pl.DataFrame, query: ExportQuery, rule: DisclosureRule | None,
                    membership: list[dict] | None = None) -> dict:
    """What a reader of the file needs to use it correctly (written as JSON beside it), in
    the export's language. `rule`: the stored disclosure rule of the published cells
    (provenance.published_rule), never this process's threshold setting. ``membership``
    (``membership_metadata``): the areas' members, sources, confidence and completeness;
    partial areas are listed under ``partial_areas`` too."""
    return metadata_of(query, rule, indicator_ids=table["indicator"].unique().to_list(),
                       vintages=table["vintage"].unique().to_list(),
                       synthetic=bool(table["synthetic"].any()) if table.height else False,
                       row_count=table.height, columns=table.columns, membership=membership)


def metadata_of(query: ExportQuery, rule: DisclosureRule | None, *, indicator_ids: list[str],
                vintages: list[str], synthetic: bool, row_count: int, columns: list[str],
                membership: list[dict] | None = None) -> dict:
    """export_metadata from a summary of the table (for files written chunk by chunk)."""
    lang = query.lang
    title = TITLES[lang] + (f" -- {SYNTHETIC_NOTE[lang]}" if synthetic else "")
    used_sources = sorted({INDICATORS[i].source for i in indicator_ids})
    licence = LICENCE_TEXT[lang]
    statement = rule_statement(rule)
    if statement["threshold"]:
        statement["rule"] = disclosure_text(lang, statement["threshold"], "export")
    return {
        "title": title,
        "language": lang,
        "synthetic_note": SYNTHETIC_TEXT[lang][0 if synthetic else 1],
        "indicators": definitions_of(indicator_ids, lang).to_dicts(),
        "source": [SOURCE[s][lang] for s in used_sources],
        "licence": {"outputs": licence["outputs"],
                    **{f"source_{s}": licence[s] for s in used_sources}},
        "vintages": sorted(set(vintages)),
        "disclosure_control": {
            "protected": not query.unprotected,
            **(statement if not query.unprotected else
               {"threshold": None, "rule": "none: register indicators rebuilt without "
                                            "disclosure control"}),
            "note": ("UNPROTECTED: for staff who hold the extract; not for publication"
                     if query.unprotected else "protected for publication"),
        },
        "flags": FLAG_MEANINGS[lang],
        "synthetic": synthetic,
        "filters": query.filters(),
        "row_count": row_count,
        "columns": {c: COLUMN_TEXTS[lang][c] for c in columns if c in COLUMN_TEXTS[lang]},
        **({} if membership is None else {
            "areas": membership,
            "partial_areas": [f"{a['area_type']}/{a['area_code']}" for a in membership
                              if a.get("completeness") == "partial"],
        }),
    }


FIELD_TYPES = {"month": ("yearmonth", {}), "area_type": ("string", {}),
               "area_code": ("string", {}), "area_name": ("string", {}),
               "population": ("string", {}), "group": ("string", {}),
               "indicator": ("string", {}), "value": ("number", {}),
               "numerator": ("integer", {}), "denominator": ("integer", {}),
               "flag": ("string", {"constraints": {"enum": list(FLAGS)}}),
               "vintage": ("datetime", {}), "synthetic": ("boolean", {})}


def datapackage(table: pl.DataFrame, query: ExportQuery, fmt: str, filename: str,
                rule: DisclosureRule | None) -> dict:
    """A Frictionless Data Package describing `filename` (a CSV or Parquet export):
    codes as strings, the value's unit per indicator, the flag's meaning, licence, sources."""
    meta = export_metadata(table, query, rule)
    fields = []
    for column in table.columns:
        kind, extra = FIELD_TYPES[column]
        field = {"name": column, "type": kind, "description": meta["columns"][column], **extra}
        if column == "value":
            field["unit"] = {i["indicator"]: i["unit"] for i in meta["indicators"]}
            if fmt == "csv-excel":
                field["decimalChar"] = ","
        if column == "flag":
            field["categories"] = [{"value": k, "label": v} for k, v in meta["flags"].items()]
        fields.append(field)
    resource = {
        "name": "trialmon-indicators", "path": filename, "profile": "tabular-data-resource",
        "format": "parquet" if fmt == "parquet" else "csv",
        "mediatype": "application/vnd.apache.parquet" if fmt == "parquet" else "text/csv",
        "schema": {"fields": fields, "missingValues": [""],
                   "primaryKey": ["indicator", "area_type", "area_code", "population", "group",
                                  "month"]},
    }
    if fmt != "parquet":
        resource["encoding"] = "utf-8-sig"
        resource["dialect"] = {"delimiter": ";" if fmt == "csv-excel" else ",",
                               "header": True, "quoteChar": '"'}
    return {
        "name": "trialmon-export", "title": meta["title"], "profile": "tabular-data-package",
        "description": meta["synthetic_note"],
        "licenses": [{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
                      "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "sources": [{"title": title} for title in meta["source"]],
        "resources": [resource],
        "trialmon": {"disclosure_control": meta["disclosure_control"],
                     "vintages": meta["vintages"], "synthetic": meta["synthetic"],
                     "indicators": meta["indicators"]},
    }


def export_table(db: Database | str, query: ExportQuery, fmt: str = "csv",
                 out: Path | None = None) -> list[Path]:
    """Write the export and its metadata JSON; CSV goes to stdout when `out` is None."""
    if fmt not in FORMATS:
        raise TrialmonError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if out is None and fmt not in ("csv", "csv-excel"):
        raise TrialmonError(f"--out is required for {fmt}: only CSV can go to standard output")
    db = as_database(db)
    table = query_table(db, query)
    rule = published_rule(db)
    data = render(table, fmt, query, rule=rule)
    if out is None:
        sys.stdout.write(data.decode("utf-8-sig"))  # no byte-order mark in a pipe
        sys.stdout.flush()
        return []
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    meta = out.with_name(out.name + ".metadata.json")
    meta.write_text(json.dumps(export_metadata(table, query, rule,
                                               stored_membership(db, table)),
                               ensure_ascii=False, indent=2),
                    encoding="utf-8")
    written = [out, meta]
    if fmt != "xlsx":
        package = out.with_name(out.name + ".datapackage.json")
        package.write_text(json.dumps(datapackage(table, query, fmt, out.name, rule),
                                      ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(package)
    return written
