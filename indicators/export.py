"""The tidy export table shared by the command line, the downloads and the API.

Interface (the dashboard's downloads and HTTP API use exactly these):

* ``ExportQuery`` (dataclass): indicators, area_types, areas, populations, groups
  (tuples; empty = all), start, end ('YYYY-MM' or None), lang ('fi'|'sv'|'en'),
  unprotected (bool, command line only).
* ``query_table(url, query) -> pl.DataFrame``: the export format's columns
  month, area_type, area_code, area_name, population, group, indicator, value,
  numerator, denominator, flag, vintage (+ synthetic marker column).
* ``render(table, fmt, query) -> bytes``: csv | parquet | xlsx (xlsx with a
  definitions sheet).
* ``export_metadata(table, query) -> dict``: definitions, source, licence, vintage,
  suppression rule; written as JSON beside every export.
* ``export_table(url, query, fmt, out) -> list[Path]``: for ``trialmon export``.
* ``ExportQuery.as_of`` ('YYYY-MM-DDTHH:MM', UTC) or ``ExportQuery.vintage`` (a publication
  id): the table exactly as it stood then (indicators/history.py); the metadata names
  the publication (``vintage_id``) the table reproduces.

Decisions:

* ``flag`` is '' (a value, or no value because a ratio's denominator is 0),
  'suppressed' or 'incomplete'; ``vintage`` is ISO 8601 UTC text
  (``2026-05-04T10:11:12Z``); ``synthetic`` is true for cells built from demo data.
* ``value`` keeps full precision in every format; the number of decimals to show
  is part of each indicator's definition (definitions sheet, metadata).
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
from indicators.engine import (
    adbc_table,
    area_members,
    check_month,
    read_frame,
    to_utc_datetime,
)
from indicators.registry import (
    AREA_TYPES,
    GROUPS,
    INDICATORS,
    LANGUAGES,
    POPULATIONS,
    REGISTER_INDICATORS,
)
from trialmon.db import get_engine
from trialmon.errors import TrialmonError
from trialmon.schema import MICRODATA, area, indicator_value, month_status, municipal_measure

FORMATS = ("csv", "parquet", "xlsx")
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
    "sv": "Uppföljningsindikatorer för kommunförsöken för sysselsättning",
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

    def publication(self, url: str) -> int | None:
        """The publication id the query asks for (None: as published now)."""
        if self.as_of is None and self.vintage is None:
            return None
        if self.unprotected:
            raise TrialmonError("as_of/vintage: only the published (protected) table has a "
                                "history; drop --unprotected")
        with get_engine(url).connect() as conn:
            return history.resolve_publication(conn, self.as_of, self.vintage)


# --------------------------------------------------------------------------- validation

def _check_codes(kind: str, given: tuple[str, ...], known) -> None:
    unknown = [v for v in given if v not in known]
    if unknown:
        raise TrialmonError(f"unknown {kind} {unknown[0]!r}; known: {', '.join(sorted(known))}")


def validate(url: str, query: ExportQuery) -> None:
    """Reject a query naming an unknown code or a malformed month (TrialmonError)."""
    _check_codes("indicator", query.indicators, INDICATORS)
    _check_codes("area type", query.area_types, AREA_TYPES)
    _check_codes("population", query.populations, POPULATIONS)
    _check_codes("group", query.groups, GROUPS)
    if query.lang not in LANGUAGES:
        raise TrialmonError(f"unknown language {query.lang!r}; known: {', '.join(LANGUAGES)}")
    for month in (query.start, query.end):
        if month is not None:
            check_month(month)
    if query.start and query.end and query.start > query.end:
        raise TrialmonError(f"bad month range: {query.start} is after {query.end}")
    if query.areas:
        with get_engine(url).connect() as conn:
            known = set(conn.execute(sa.select(area.c.area_code).distinct()).scalars())
        unknown = [a for a in query.areas if a not in known]
        if unknown:
            raise TrialmonError(f"unknown area {unknown[0]!r}: no area has that code")


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


def _sql(url: str, statement) -> str:
    """A SELECT as SQL text for ADBC (values are validated codes, bound as literals)."""
    return str(statement.compile(dialect=get_engine(url).dialect,
                                 compile_kwargs={"literal_binds": True}))


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


def published_cells(url: str, query: ExportQuery,
                    publication_id: int | None = None) -> pl.DataFrame:
    """The protected cells of indicator_value matching the query (as they stood after
    publication `publication_id` when given)."""
    if publication_id is None:
        statement = sa.select(*_cell_columns(indicator_value)).where(
            *_where(indicator_value.c, query))
    else:
        statement = history.as_of_select(_cell_columns, lambda c: _where(c, query),
                                         publication_id)
    frame = read_frame(url, _sql(url, statement))
    if frame.is_empty():
        return _empty_cells()
    frame = _restore_nulls(frame, ["value", "numerator", "denominator"])
    return frame.with_columns(to_utc_datetime(frame["vintage"]),
                              pl.col("value", "numerator", "denominator").cast(pl.Float64))


def _empty_cells() -> pl.DataFrame:
    return pl.DataFrame(schema={**{c: pl.String for c in ratios.INDICATOR_COLUMNS},
                                "value": pl.Float64, "numerator": pl.Float64,
                                "denominator": pl.Float64, "vintage": pl.Datetime("us", "UTC")})


def unprotected_cells(url: str, query: ExportQuery) -> pl.DataFrame:
    """Register-indicator cells rebuilt from the unprotected municipal measures."""
    mm = adbc_table(url, municipal_measure).c
    statement = sa.select(
        mm.month, mm.municipality_code, mm.population, mm.group, mm.measure,
        *_nullable(mm.value, 0), mm.vintage,
    ).where(*_where(mm, query, with_indicator=False))
    municipal = read_frame(url, _sql(url, statement), MICRODATA)
    if municipal.is_empty():
        return _empty_cells()
    municipal = _restore_nulls(municipal, ["value"]).with_columns(
        to_utc_datetime(municipal["vintage"]), pl.col("value").cast(pl.Int64))
    vintages = municipal.group_by("month", "measure").agg(pl.col("vintage").max())
    members = area_members(url, municipal["month"].unique().sort().to_list())
    cells = ratios.unprotected(areas.roll_up(municipal.drop("vintage"), members))
    built = ratios.indicator_cells(cells, vintages).with_columns(pl.col("flag").fill_null(""))
    return built.filter(pl.all_horizontal(_frame_filters(query)))


def _frame_filters(query: ExportQuery) -> list[pl.Expr]:
    filters = [pl.lit(True)]
    for name, values in [("indicator", query.indicators), ("area_type", query.area_types),
                         ("area_code", query.areas)]:
        if values:
            filters.append(pl.col(name).is_in(list(values)))
    return filters


def _area_names(url: str, keys: pl.DataFrame, lang: str) -> pl.DataFrame:
    """[month, area_type, area_code, area_name]: the name valid on the month's last day,
    else the area's latest name."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.select(area.c.area_type, area.c.area_code,
                                      area.c[f"name_{lang}"], area.c.valid_from,
                                      area.c.valid_to)).all()
    versions = pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "area_type": pl.String, "area_code": pl.String, "area_name": pl.String,
        "valid_from": pl.Date, "valid_to": pl.Date})
    month_end = pl.col("month").str.to_date("%Y-%m").dt.month_end()
    valid = (pl.col("valid_from") <= month_end) & (
        pl.col("valid_to").is_null() | (pl.col("valid_to") >= month_end))
    return (
        keys.join(versions, on=["area_type", "area_code"], how="left")
        .sort(valid, pl.col("valid_from"), descending=True, nulls_last=True)
        .unique(["month", "area_type", "area_code"], keep="first")
        .select("month", "area_type", "area_code", "area_name")
    )


def _synthetic_months(url: str) -> pl.DataFrame:
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.select(month_status.c.month, month_status.c.source,
                                      month_status.c.synthetic)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "month": pl.String, "source": pl.String, "synthetic": pl.Boolean})


def query_table(url: str, query: ExportQuery) -> pl.DataFrame:
    """The export table for `query` (validated first), in the export format's columns."""
    validate(url, query)
    cells = published_cells(url, query, query.publication(url))
    if query.unprotected:
        register_ids = {i.id for i in REGISTER_INDICATORS}
        cells = pl.concat([cells.filter(~pl.col("indicator").is_in(list(register_ids))),
                           unprotected_cells(url, query)], how="diagonal_relaxed")
    sources = pl.DataFrame({"indicator": list(INDICATORS),
                            "source": [i.source for i in INDICATORS.values()]})
    keys = cells.select("month", "area_type", "area_code").unique()
    table = (
        cells.join(sources, on="indicator", how="left")
        .join(_synthetic_months(url), on=["month", "source"], how="left")
        .join(_area_names(url, keys, query.lang), on=["month", "area_type", "area_code"],
              how="left")
        .with_columns(
            pl.col("flag").fill_null(""),
            pl.col("synthetic").fill_null(False),
            pl.col("vintage").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    )
    return table.select(pl.col(c).cast(t) for c, t in SCHEMA.items()).sort(SORT_KEYS)


# --------------------------------------------------------------------------- rendering

def _text(indicator, lang: str):
    return indicator.text.get(lang) or indicator.text.get("en")


def definitions(table: pl.DataFrame, lang: str) -> pl.DataFrame:
    """One row per indicator in the table, with its texts in `lang`."""
    used = [INDICATORS[i] for i in table["indicator"].unique().sort().to_list() if i in INDICATORS]
    return pl.DataFrame({
        "indicator": [i.id for i in used],
        "name": [_text(i, lang).name for i in used],
        "definition": [_text(i, lang).long or _text(i, lang).short for i in used],
        "unit": [i.unit for i in used],
        "decimals": [i.decimals for i in used],
        "numerator": [i.numerator for i in used],
        "denominator": [i.denominator for i in used],
        "first_month": [i.first_month for i in used],
        "source": [SOURCES[i.source] for i in used],
    }, schema={"indicator": pl.String, "name": pl.String, "definition": pl.String,
               "unit": pl.String, "decimals": pl.Int64, "numerator": pl.String,
               "denominator": pl.String, "first_month": pl.String, "source": pl.String})


def render(table: pl.DataFrame, fmt: str, query: ExportQuery) -> bytes:
    """The table as file contents: CSV (UTF-8, header), Parquet (types kept) or XLSX."""
    if fmt not in FORMATS:
        raise TrialmonError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    buffer = io.BytesIO()
    if fmt == "csv":
        table.write_csv(buffer)
    elif fmt == "parquet":
        table.write_parquet(buffer)
    else:
        import xlsxwriter

        with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
            table.write_excel(workbook=workbook, worksheet="data", autofit=False)
            definitions(table, query.lang).write_excel(workbook=workbook,
                                                       worksheet="definitions")
    return buffer.getvalue()


def export_metadata(table: pl.DataFrame, query: ExportQuery) -> dict:
    """What a reader of the file needs to use it correctly (written as JSON beside it)."""
    from trialmon.settings import get_settings

    threshold = get_settings().suppression_threshold
    synthetic = bool(table["synthetic"].any()) if table.height else False
    title = TITLES[query.lang] + (f" -- {SYNTHETIC_NOTE[query.lang]}" if synthetic else "")
    used_sources = sorted({INDICATORS[i].source for i in table["indicator"].unique()})
    return {
        "title": title,
        "language": query.lang,
        "indicators": definitions(table, query.lang).to_dicts(),
        "source": [SOURCES[s] for s in used_sources],
        "licence": {"outputs": LICENCE["outputs"],
                    **{f"source_{s}": LICENCE[s] for s in used_sources}},
        "vintages": table["vintage"].unique().sort().to_list(),
        "disclosure_control": {
            "protected": not query.unprotected,
            "threshold": threshold,
            "rule": (f"a count from 1 to {threshold - 1} is suppressed (zero is shown); a "
                     f"percentage is suppressed when its numerator or denominator is from 1 "
                     f"to {threshold - 1}; secondary suppression keeps suppressed municipal "
                     "counts from being recovered from area totals; suppressed cells have "
                     "an empty value and the flag 'suppressed'"),
            "note": ("UNPROTECTED: for staff who hold the extract; not for publication"
                     if query.unprotected else "protected for publication"),
        },
        "synthetic": synthetic,
        "filters": query.filters(),
        "row_count": table.height,
        "columns": {c: COLUMN_DESCRIPTIONS[c] for c in table.columns if c in COLUMN_DESCRIPTIONS},
    }


def export_table(url: str, query: ExportQuery, fmt: str = "csv",
                 out: Path | None = None) -> list[Path]:
    """Write the export and its metadata JSON; CSV goes to stdout when `out` is None."""
    if fmt not in FORMATS:
        raise TrialmonError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if out is None and fmt != "csv":
        raise TrialmonError(f"--out is required for {fmt}: only CSV can go to standard output")
    table = query_table(url, query)
    data = render(table, fmt, query)
    if out is None:
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return []
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    meta = out.with_name(out.name + ".metadata.json")
    meta.write_text(json.dumps(export_metadata(table, query), ensure_ascii=False, indent=2),
                    encoding="utf-8")
    return [out, meta]
