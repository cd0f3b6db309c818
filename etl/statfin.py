"""Statistics Finland's monthly municipal table tyonv/12r5: reading, loading, fetching.

Public statistics on all residents (not the register extract), so they need no
disclosure control here: Statistics Finland has already protected them and marks a
confidential cell with ``...``.

Interface:

* ``read_statfin_file(path) -> pl.DataFrame``: one file (PxWeb ``json``, JSON-stat2 or
  PxWeb CSV) as the tidy frame [month 'YYYY-MM', area_code, measure, value Float64].
* ``read_pxweb_file(path) -> pl.DataFrame``: the same reader for any PxWeb table,
  [period, area_code, measure, value]; the period as published but normalised
  ('2026M06' -> '2026-06', '2025' stays '2025').
* ``load_statfin_files(url, paths) -> StatfinLoadReport``: validate every file, then
  replace the stored rows of the months they hold in one transaction.
* ``fetch_pxweb(table, start, end, out, base_url, lang, ...) -> list[Path]``: download
  months from the PxWeb API v1 in queries under its cell and rate limits.

Decisions (to be mirrored in docs/indicators.md, "Public statistics"):

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
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import product
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from trialmon.db import get_engine
from trialmon.errors import InputRejected, Problem, TrialmonError
from trialmon.schema import month_status, statfin_value

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


def read_statfin_file(path: Path) -> pl.DataFrame:
    """A monthly 12r5 file as the tidy frame; non-monthly periods are rejected."""
    frame = read_pxweb_file(path)
    bad = frame.filter(~pl.col("period").str.contains(r"^\d{4}-\d{2}$"))
    if bad.height:
        raise PxFormatError(f"time period {bad['period'][0]!r} is not a month (YYYYMmm); "
                            "tyonv/12r5 is a monthly table")
    return frame.rename({"period": "month"})


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


# --------------------------------------------------------------------------- loading


@dataclass
class StatfinLoadReport:
    files: list[str]
    rows: int = 0
    new_months: list[str] = field(default_factory=list)
    revised_months: list[str] = field(default_factory=list)
    unchanged_months: list[str] = field(default_factory=list)
    missing_values: int = 0

    @property
    def months(self) -> list[str]:
        """Every month the files hold (the ones public statistics are computed for)."""
        return sorted({*self.new_months, *self.revised_months, *self.unchanged_months})

    @property
    def changed_months(self) -> list[str]:
        return sorted({*self.new_months, *self.revised_months})

    def summary(self) -> str:
        parts = [f"statfin: {self.rows} values from {len(self.files)} file(s)",
                 f"{len(self.new_months)} new month(s)",
                 f"{len(self.revised_months)} revised", f"{len(self.unchanged_months)} unchanged",
                 f"{self.missing_values} missing at source"]
        span = f" ({self.months[0]}..{self.months[-1]})" if self.months else ""
        return ", ".join(parts) + span


def read_statfin_files(paths: Sequence[Path]) -> pl.DataFrame:
    """Read and validate every file; InputRejected names each bad file and its problem."""
    frames, problems = [], []
    for path in paths:
        try:
            frames.append(read_statfin_file(Path(path)).with_columns(
                source=pl.lit(Path(path).name)))
        except (PxFormatError, OSError, KeyError, TypeError, pl.exceptions.PolarsError) as error:
            problems.append(Problem(str(path), None, None, None, _describe(error)))
    if problems:
        raise InputRejected(problems)
    combined = pl.concat(frames) if frames else pl.DataFrame(schema={**TIDY_SCHEMA,
                                                                     "source": pl.String})
    _reject_conflicts(combined)
    return combined.unique(["month", "area_code", "measure"], keep="first", maintain_order=True)


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"not a PxWeb response: missing {error}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _reject_conflicts(frame: pl.DataFrame) -> None:
    """The same cell in two files with different values: which one is right is unknown."""
    conflicts = (frame.group_by("month", "area_code", "measure")
                 .agg(pl.col("value").n_unique().alias("n"), pl.col("source").unique())
                 .filter(pl.col("n") > 1))
    if conflicts.height:
        problems = [Problem(", ".join(sorted(r["source"])), None, None, None,
                            f"cell {r['area_code']}/{r['measure']}/{r['month']} has different "
                            "values in these files") for r in conflicts.head(10).to_dicts()]
        raise InputRejected(problems, total=conflicts.height)


def load_statfin_files(url: str, paths: Sequence[Path]) -> StatfinLoadReport:
    """Load 12r5 files: every month they hold replaces that month's stored rows, atomically.

    A month whose values are exactly those stored is left alone (its vintage stays), so
    loading the same file twice changes nothing. Load all files of one month together:
    the month is replaced by what the given files hold.
    """
    incoming = read_statfin_files(paths)
    report = StatfinLoadReport(files=[str(p) for p in paths], rows=incoming.height,
                               missing_values=incoming["value"].null_count())
    months = incoming["month"].unique().sort().to_list()
    engine = get_engine(url)
    loaded_at = datetime.now(UTC)
    with engine.begin() as conn:
        stored = _stored_values(conn, statfin_value, months)
        previous = _stored_status(conn, month_status, months)
        changes = _changes_by_month(incoming, stored)
        stored_months = set(stored["month"].unique())
        for month in months:
            changed = changes.get(month, 0)
            if month not in stored_months:
                report.new_months.append(month)
            elif changed:
                report.revised_months.append(month)
            else:
                report.unchanged_months.append(month)
        to_write = report.changed_months
        if to_write:
            conn.execute(sa.delete(statfin_value).where(statfin_value.c.month.in_(to_write)))
            rows = incoming.filter(pl.col("month").is_in(to_write)).with_columns(
                loaded_at=pl.lit(loaded_at))
            conn.execute(sa.insert(statfin_value), rows.to_dicts())
            _write_month_status(conn, month_status, incoming, to_write, changes, previous,
                                loaded_at)
    return report


def _stored_values(conn, table, months: list[str]) -> pl.DataFrame:
    result = conn.execute(sa.select(table.c.month, table.c.area_code, table.c.measure,
                                    table.c.value).where(table.c.month.in_(months)))
    return pl.DataFrame(result.all(), schema=TIDY_SCHEMA, orient="row")


def _stored_status(conn, table, months: list[str]) -> dict[str, int]:
    result = conn.execute(sa.select(table.c.month, table.c.revision)
                          .where(table.c.month.in_(months), table.c.source == "statfin"))
    return dict(result.all())


def _changes_by_month(incoming: pl.DataFrame, stored: pl.DataFrame) -> dict[str, int]:
    """Cells added, removed or changed (null-aware) per month, against the stored rows."""
    keys = ["month", "area_code", "measure"]
    present = pl.lit(True)
    joined = (incoming.select(*keys, "value", present.alias("in_new"))
              .join(stored.with_columns(present.alias("in_old")), on=keys, how="full",
                    coalesce=True, suffix="_stored"))
    differs = (~pl.col("value").eq_missing(pl.col("value_stored"))
               | pl.col("in_new").is_null() | pl.col("in_old").is_null())
    return dict(joined.group_by("month").agg(differs.sum()).iter_rows())


def _write_month_status(conn, table, incoming, months, changes, previous, loaded_at) -> None:
    counts = dict(incoming.group_by("month").len().iter_rows())
    conn.execute(sa.delete(table).where(table.c.month.in_(months), table.c.source == "statfin"))
    conn.execute(sa.insert(table), [
        {"month": m, "source": "statfin", "vintage": loaded_at,
         "revision": previous[m] + 1 if m in previous else 0, "row_count": counts[m],
         "rows_changed": changes.get(m, 0) if m in previous else 0, "synthetic": False,
         "computed_at": None}
        for m in months
    ])


# --------------------------------------------------------------------------- fetching

DEFAULT_BASE_URL = "https://pxdata.stat.fi/PxWeb/api/v1"


class RateLimiter:
    """At most `calls` requests in any `window` seconds (a sliding window), by sleeping."""

    def __init__(self, calls: int, window: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.calls, self.window = calls, window
        self.clock, self.sleep = clock, sleep
        self.sent: deque[float] = deque()

    def wait(self) -> None:
        now = self.clock()
        while self.sent and now - self.sent[0] >= self.window:
            self.sent.popleft()
        if len(self.sent) >= self.calls:
            self.sleep(self.window - (now - self.sent[0]) + 0.05)
            self.sent.popleft()
        self.sent.append(self.clock())


@dataclass
class PxWebClient:
    """A minimal PxWeb API v1 client: pacing, retries on 429/503, clear errors."""

    base_url: str
    limiter: RateLimiter
    max_retries: int = 5
    backoff: float = 1.0
    timeout: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def request(self, url: str, body: dict | None = None) -> bytes:
        data = None if body is None else json.dumps(body).encode("utf-8")
        for attempt in range(self.max_retries + 1):
            self.limiter.wait()
            req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as response:
                    return response.read()
            except urllib.error.HTTPError as error:
                if error.code in (429, 503) and attempt < self.max_retries:
                    self.sleep(_retry_after(error) or self.backoff * 2 ** attempt)
                    continue
                detail = error.read()[:300].decode("utf-8", "replace")
                raise TrialmonError(f"PxWeb {url}: HTTP {error.code} {detail}".strip()) from None
            except urllib.error.URLError as error:
                raise TrialmonError(f"PxWeb {url}: {error.reason}") from None
        raise AssertionError("unreachable")


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def fetch_pxweb(table: str, start: str, end: str | None, out: Path,
                base_url: str = DEFAULT_BASE_URL, lang: str = "fi", progress: bool = True, *,
                max_cells: int = 100_000, max_calls: int = 30, window_seconds: float = 10.0,
                max_retries: int = 5, backoff: float = 1.0) -> list[Path]:
    """Download months start..end of StatFin/tyonv/TABLE as PxWeb ``json`` files in `out`.

    Queries select every value of every non-time variable and are split (by months, and
    by the largest other variable when one month alone is too big) so that none asks for
    more than `max_cells` cells; requests are paced to at most `max_calls` per
    `window_seconds` and retried with exponential backoff on 429/503. The table
    metadata is written beside the data as ``<table>.meta.json``.
    """
    table_url = f"{base_url.rstrip('/')}/{lang}/StatFin/tyonv/{table}.px"
    client = PxWebClient(base_url, RateLimiter(max_calls, window_seconds),
                         max_retries=max_retries, backoff=backoff)
    metadata = _parse_metadata(client.request(table_url), table_url)
    queries = plan_queries(metadata, start, end, max_cells)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{table}.meta.json").write_text(json.dumps(metadata, ensure_ascii=False), "utf-8")
    written = []
    for number, query in enumerate(queries, start=1):
        body = client.request(table_url, query)
        path = out / f"{table}_{_query_span(query, metadata)}_{number:03d}.json"
        path.write_bytes(body)
        written.append(path)
        if progress:
            print(f"fetched {number}/{len(queries)}: {path.name}", file=sys.stderr)
    return written


def _parse_metadata(body: bytes, url: str) -> dict:
    try:
        metadata = json.loads(body)
        variables = metadata["variables"]
        assert all("code" in v and "values" in v for v in variables)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise TrialmonError(f"PxWeb {url}: not table metadata (no 'variables')") from None
    return metadata


def time_variable(metadata: dict) -> dict:
    """The variable marked ``time: true`` (else the one whose values are all periods)."""
    variables = metadata["variables"]
    marked = [v for v in variables if v.get("time")]
    if not marked:
        marked = [v for v in variables if v["values"]
                  and all(PERIOD_PATTERN.match(x) for x in v["values"])]
    if len(marked) != 1:
        raise TrialmonError(f"cannot tell the time variable among {[v['code'] for v in variables]}")
    return marked[0]


def plan_queries(metadata: dict, start: str, end: str | None, max_cells: int) -> list[dict]:
    """PxWeb v1 queries for months start..end, each at most `max_cells` cells."""
    time_var = time_variable(metadata)
    wanted = [m for m in time_var["values"] if _in_span(m, start, end)]
    if not wanted:
        raise TrialmonError(f"no month of the table lies in {start}..{end or 'newest'}")
    others = [v for v in metadata["variables"] if v is not time_var]
    per_month = _product(len(v["values"]) for v in others)
    if per_month <= max_cells:
        chunks = {time_var["code"]: _chunks(wanted, max_cells // per_month)}
        return [_query({time_var["code"]: month_chunk, **_all(others)})
                for month_chunk in chunks[time_var["code"]]]
    largest = max(others, key=lambda v: len(v["values"]))
    rest = per_month // len(largest["values"])
    if rest > max_cells:
        raise TrialmonError(f"one month of one {largest['code']} value already has {rest} "
                            f"cells, more than the limit {max_cells}")
    return [_query({time_var["code"]: [month], **_all(others), largest["code"]: part})
            for month, part in product(wanted, _chunks(largest["values"], max_cells // rest))]


def _in_span(period: str, start: str, end: str | None) -> bool:
    if not re.match(MONTH_PATTERN, period):
        return False
    month = period.replace("M", "-")
    return month >= start and (end is None or month <= end)


def _product(numbers: Iterable[int]) -> int:
    total = 1
    for n in numbers:
        total *= n
    return total


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[i:i + size] for i in range(0, len(values), max(size, 1))]


def _all(variables: list[dict]) -> dict[str, list[str]]:
    return {v["code"]: list(v["values"]) for v in variables}


def _query(selection: dict[str, list[str]]) -> dict:
    return {"query": [{"code": code, "selection": {"filter": "item", "values": values}}
                      for code, values in selection.items()],
            "response": {"format": "json"}}


def _query_span(query: dict, metadata: dict) -> str:
    time_code = time_variable(metadata)["code"]
    months = next(q["selection"]["values"] for q in query["query"] if q["code"] == time_code)
    return months[0] if len(months) == 1 else f"{months[0]}-{months[-1]}"
