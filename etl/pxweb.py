"""PxWeb response formats: a PxWeb ``json`` response, JSON-stat2 or PxWeb CSV as one
tidy frame, for any PxWeb table.

Interface
* ``read_pxweb_file(path) -> pl.DataFrame``: [period, area_code, measure, value Float64];
  the period as published but normalised ('2026M06' -> '2026-06', '2025' stays '2025').
* ``parse_pxweb_json(document)``, ``parse_jsonstat2(document)``, ``parse_pxweb_csv(text,
  metadata)``: the three formats, raw ([period, area_code, measure, text]).
* ``municipality_code(area_code)``: 'KU091' -> '091' (null for other areas).
* ``PxFormatError``: a file that is not a readable PxWeb response.

Decisions
* **Variables are found from the metadata, never by code**: Statistics Finland renamed
  them in June 2026 (``Alue``/``Kuukausi``/``Tiedot`` became stamped codes such as
  ``alue_23_20260101``, ``timeperiod_m``, ``contentscode``). In the ``json`` format
  the time column has type ``t`` and every contents value is its own column of type
  ``c``; in JSON-stat2 ``role.time`` and ``role.metric`` name them (else the dimension
  whose categories are all period codes, and the one whose categories carry units).
  The area variable is what is left; more than one leftover variable is rejected.
* **Missing is never zero**: ``.``, ``..``, ``...`` (any run of dots) and the empty
  string are missing (null). ``-`` is PX's DATASYMBOLNIL, which Statistics Finland
  explains as "magnitude nil": it is stored as 0. (12r5 itself writes true zeros as ``0``.)
* **Area codes**: municipalities are stored as ``KU`` + 3 digits (``091`` and ``KU091``
  both become ``KU091``); every other area (SSS, MK.., SK.., ELY..) as published.
"""


from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl

TIDY_SCHEMA = {"month": pl.String, "area_code": pl.String, "measure": pl.String,
               "value": pl.Float64}
RAW_SCHEMA = {"period": pl.String, "area_code": pl.String, "measure": pl.String,
              "text": pl.String}
MISSING_PATTERN = r"^(\.+)?$"  # '', '.', '..', '...', ...
NIL_SYMBOL = "-"  # PX DATASYMBOLNIL: magnitude nil, a true zero
MONTH_PATTERN = r"^\d{4}M(0[1-9]|1[0-2])$"
PERIOD_PATTERN = re.compile(r"^\d{4}([MQ]\d{1,2}|H[12])?$")


class PxFormatError(ValueError):
    """A file that is not a readable PxWeb response (the loader names the file)."""


# --------------------------------------------------------------------------- readers


def read_pxweb_file(path: Path) -> pl.DataFrame:
    """Any PxWeb table as [period, area_code, measure, value], the format told by content."""
    raw = _read_raw(Path(path))
    return _tidy(raw)


def _read_raw(path: Path) -> pl.DataFrame:
    data = path.read_bytes()
    text = _decode(data)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise PxFormatError(f"not valid JSON: {error}") from None
        if isinstance(document, dict) and "columns" in document and "data" in document:
            return parse_pxweb_json(document)
        if isinstance(document, dict) and document.get("class") == "dataset":
            return parse_jsonstat2(document)
        raise PxFormatError("JSON that is neither a PxWeb 'json' response (columns, data) "
                            "nor a JSON-stat2 dataset (class 'dataset')")
    return parse_pxweb_csv(text, metadata=_sidecar_metadata(path))


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); PxWeb's older CSV exports are Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def parse_pxweb_json(document: dict) -> pl.DataFrame:
    """PxWeb ``json``: ``columns`` (type d/t/c) and ``data`` [{key, values}]."""
    columns = document["columns"]
    keys = [c for c in columns if c.get("type") != "c"]
    contents = [c["code"] for c in columns if c.get("type") == "c"]
    times = [i for i, c in enumerate(keys) if c.get("type") == "t"]
    areas = [i for i, c in enumerate(keys) if c.get("type") != "t"]
    if len(times) != 1 or not contents:
        raise PxFormatError(f"columns {[c.get('code') for c in columns]}: expected one time "
                            "column (type 't') and at least one contents column (type 'c')")
    area_index = _single_area(areas, [keys[i]["code"] for i in areas])
    wide = pl.DataFrame(document["data"], schema={"key": pl.List(pl.String),
                                                  "values": pl.List(pl.String)})
    bad = wide.filter((pl.col("key").list.len() != len(keys))
                      | (pl.col("values").list.len() != len(contents)))
    if bad.height:
        raise PxFormatError(f"{bad.height} data row(s) do not have {len(keys)} keys and "
                            f"{len(contents)} values, as the columns say")
    wide = wide.select(pl.col("key").list.get(times[0]).alias("period"),
                       pl.col("key").list.get(area_index).alias("area_code"), "values")
    return (wide.with_columns(pl.lit(contents, dtype=pl.List(pl.String)).alias("measure"))
            .explode("measure", "values").rename({"values": "text"}).select(*RAW_SCHEMA))


def _single_area(candidates: list, codes: list[str]):
    if len(candidates) != 1:
        raise PxFormatError(f"cannot tell the area variable: expected exactly one variable "
                            f"besides time and contents, found {codes}")
    return candidates[0]


def parse_jsonstat2(document: dict) -> pl.DataFrame:
    """JSON-stat2: ``id``/``size``/``dimension``/``value``/``status`` (row-major order)."""
    ids, sizes = document.get("id"), document.get("size")
    dims = document.get("dimension", {})
    if not ids or not sizes or len(ids) != len(sizes) or set(ids) - set(dims):
        raise PxFormatError("JSON-stat2 dataset without consistent id, size and dimension")
    codes = {d: _category_codes(dims[d]) for d in ids}
    time_dim = _role(document, "time") or _guess_time(codes)
    metric_dim = _role(document, "metric") or _guess_metric(dims)
    if time_dim is None or metric_dim is None:
        raise PxFormatError(f"dimensions {ids}: cannot tell time and contents (no role)")
    area_dim = _single_area([d for d in ids if d not in (time_dim, metric_dim)],
                            [d for d in ids if d not in (time_dim, metric_dim)])
    cells = pl.DataFrame({ids[0]: codes[ids[0]]})
    for dim in ids[1:]:
        cells = cells.join(pl.DataFrame({dim: codes[dim]}), how="cross", maintain_order="left")
    n = cells.height
    values, status = _dense(document.get("value"), n, "value"), _dense(document.get("status"), n, "status")
    cells = cells.with_columns(
        pl.Series("number", values, dtype=pl.Float64, strict=False),
        pl.Series("status", [None if s is None else str(s) for s in status], dtype=pl.String),
    )
    return cells.select(
        pl.col(time_dim).alias("period"), pl.col(area_dim).alias("area_code"),
        pl.col(metric_dim).alias("measure"),
        pl.when(pl.col("number").is_not_null())
        .then(pl.col("number").cast(pl.String))
        .otherwise(pl.col("status").fill_null("")).alias("text"),
    )


def _category_codes(dimension: dict) -> list[str]:
    index = dimension.get("category", {}).get("index")
    if isinstance(index, list):
        return [str(c) for c in index]
    if isinstance(index, dict):
        return [str(c) for c, _ in sorted(index.items(), key=lambda item: item[1])]
    labels = dimension.get("category", {}).get("label", {})
    if len(labels) == 1:
        return list(labels)
    raise PxFormatError("a JSON-stat2 dimension has no category index")


def _role(document: dict, role: str) -> str | None:
    names = (document.get("role") or {}).get(role) or []
    return names[0] if len(names) == 1 else None


def _guess_time(codes: dict[str, list[str]]) -> str | None:
    found = [d for d, cs in codes.items() if all(PERIOD_PATTERN.match(c) for c in cs)]
    return found[0] if len(found) == 1 else None


def _guess_metric(dims: dict) -> str | None:
    found = [d for d, v in dims.items() if v.get("category", {}).get("unit")]
    return found[0] if len(found) == 1 else None


def _dense(values, n: int, what: str) -> list:
    """JSON-stat2 allows a list or a sparse {index: value} object (and one status for all)."""
    if values is None:
        return [None] * n
    if isinstance(values, str):
        return [values] * n
    if isinstance(values, dict):
        dense = [None] * n
        for key, value in values.items():
            dense[int(key)] = value
        return dense
    if len(values) != n:
        raise PxFormatError(f"JSON-stat2 {what} has {len(values)} entries, size says {n}")
    return list(values)


# ---------------------------------------------------------------------------- CSV


def parse_pxweb_csv(text: str, metadata: dict | None = None) -> pl.DataFrame:
    """PxWeb's CSV export ("comma/semicolon/tab delimited with heading").

    Layout: one header row; the stub columns come first (the area, and the time when
    it is in the stub), then one column per heading combination, headed by the heading
    values joined by a space -- e.g. ``"2026M06 Työttömät työnhakijat ..."`` (time and
    contents in the heading) or ``"TYOTTOMATLOPUSSA"`` (time in the stub). Values and
    headers may be codes or texts: texts are mapped to codes through the table metadata
    (``<file>.meta.json`` beside the CSV, as ``fetch statfin`` writes it); an area
    written ``"KU091 Helsinki"`` gives its leading code. Decimal commas are accepted
    when the delimiter is not a comma.
    """
    delimiter = _sniff_delimiter(text)
    frame = pl.read_csv(io.StringIO(text), separator=delimiter, infer_schema=False,
                        quote_char='"')
    if frame.width < 2:
        raise PxFormatError("CSV with fewer than two columns")
    lookup = _code_lookup(metadata)
    stub = _stub_columns(frame)
    time_stub = [c for c in stub if frame[c].str.contains(PERIOD_PATTERN.pattern).all()]
    area_cols = [c for c in stub if c not in time_stub]
    area_col = _single_area(area_cols, area_cols)
    value_cols = [c for c in frame.columns if c not in stub]
    if not value_cols:
        raise PxFormatError("CSV has no value columns")
    heading = pl.DataFrame([_split_heading(c, bool(time_stub), lookup) for c in value_cols],
                           schema={"column": pl.String, "period": pl.String,
                                   "measure": pl.String}, orient="row")
    long = frame.unpivot(index=[area_col, *time_stub], on=value_cols, variable_name="column",
                         value_name="text").join(heading, on="column", how="left")
    if time_stub:
        long = long.with_columns(pl.col(time_stub[0]).alias("period"))
    text_expr = pl.col("text").str.strip_chars()
    if delimiter != ",":
        text_expr = text_expr.str.replace(",", ".", literal=True)
    return long.select(
        "period", _area_code_expr(pl.col(area_col), lookup).alias("area_code"), "measure",
        text_expr.alias("text"),
    )


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _code_lookup(metadata: dict | None) -> dict[str, str]:
    """Text -> code (and code -> code) for every value of every variable in the metadata."""
    lookup: dict[str, str] = {}
    for variable in (metadata or {}).get("variables", []):
        for code, label in zip(variable.get("values", []), variable.get("valueTexts", []),
                               strict=False):
            lookup[label] = code
            lookup[code] = code
    return lookup


def _stub_columns(frame: pl.DataFrame) -> list[str]:
    """The leading columns that label rows: not headed by a period, not all numbers."""
    stub = []
    for name in frame.columns:
        head, _, rest = name.partition(" ")
        if PERIOD_PATTERN.match(head) and rest:
            break
        values = frame[name].str.strip_chars()
        numeric = values.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
        is_number = (numeric.is_not_null() | values.str.contains(MISSING_PATTERN)
                     | (values == NIL_SYMBOL)).all()
        if is_number and not values.str.contains(PERIOD_PATTERN.pattern).all():
            break
        stub.append(name)
    return stub


def _split_heading(header: str, time_in_stub: bool, lookup: dict[str, str]):
    period, contents = (None, header) if time_in_stub else header.split(" ", 1)
    measure = lookup.get(contents, contents)
    if " " in measure:
        raise PxFormatError(f"column {header!r}: contents {contents!r} is a text with no code; "
                            "put the table metadata beside the CSV as <file>.meta.json")
    return header, period, measure


def _area_code_expr(area: pl.Expr, lookup: dict[str, str]) -> pl.Expr:
    mapped = area.replace_strict(lookup, default=None) if lookup else pl.lit(None, pl.String)
    leading = area.str.extract(r"^(SSS|(?:KU|MK|SK|ELY)[A-Z0-9]+|\d{3})\s", 1)
    return pl.coalesce(mapped, leading, area)


def _sidecar_metadata(path: Path) -> dict | None:
    sidecar = path.with_name(path.stem + ".meta.json")
    return json.loads(sidecar.read_text("utf-8")) if sidecar.exists() else None


# ------------------------------------------------------------------------ normalising


def _tidy(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw texts -> typed values; rejects anything that is neither a number nor a symbol."""
    text = pl.col("text").fill_null("").str.strip_chars()
    number = text.str.replace(r"^-$", "0").str.replace(" ", "", literal=True) \
        .cast(pl.Float64, strict=False)
    typed = raw.with_columns(
        period=_period_expr(pl.col("period").str.strip_chars()),
        area_code=_storage_area_code(pl.col("area_code").str.strip_chars()),
        value=number,
        missing=text.str.contains(MISSING_PATTERN),
    )
    bad = typed.filter(pl.col("value").is_null() & ~pl.col("missing"))
    if bad.height:
        row = bad.row(0, named=True)
        raise PxFormatError(f"{bad.height} value(s) are neither numbers nor missing symbols, "
                            f"e.g. {row['text']!r} at area {row['area_code']}, "
                            f"measure {row['measure']}, period {row['period']}")
    bad = typed.filter(pl.col("period").is_null() | pl.col("area_code").is_null()
                       | pl.col("measure").is_null())
    if bad.height:
        raise PxFormatError(f"{bad.height} cell(s) without a readable period, area or measure")
    dupes = typed.filter(pl.struct("period", "area_code", "measure").is_duplicated())
    if dupes.height:
        row = dupes.row(0, named=True)
        raise PxFormatError(f"cell {row['area_code']}/{row['measure']}/{row['period']} "
                            "appears more than once")
    return typed.select("period", "area_code", "measure", "value")


def _period_expr(period: pl.Expr) -> pl.Expr:
    """'2026M06' -> '2026-06'; other period codes as published (None when not a period)."""
    return (pl.when(period.str.contains(MONTH_PATTERN))
            .then(period.str.replace("M", "-", literal=True))
            .when(period.str.contains(PERIOD_PATTERN.pattern)).then(period))


def _storage_area_code(area: pl.Expr) -> pl.Expr:
    """Bare 3-digit municipality codes gain the published 'KU' prefix; others unchanged."""
    return pl.when(area.str.contains(r"^\d{3}$")).then(pl.lit("KU") + area).otherwise(area)


def municipality_code(area_code: pl.Expr) -> pl.Expr:
    """'KU091' -> '091' (the form area_member uses); None for areas that are not KU."""
    return area_code.str.extract(r"^KU(\d{3})$", 1)
