"""The bulk download: every published cell as one gzipped CSV per language, with its
metadata JSON, built when indicators are computed and served as a plain file.

Interface:

* ``bulk_files(url, lang) -> (data_path, metadata_path)``: where the files are
  (``trialmon.settings.downloads_dir``: beside the SQLite file, else TRIALMON_DATA_DIR).
* ``build_bulk(url) -> list[Path]``: (re)writes the files of every language.

Decisions:

* Memory stays bounded: the cells are read one indicator at a time (about 1/40 of the
  table) and appended to the three gzip streams, one writer thread per language (CSV and
  gzip run without the GIL) while the next indicator is read; the rows are in the export's order
  (SORT_KEYS starts with the indicator, read in sorted order), so the file equals
  ``trialmon export`` of everything. The metadata is built from a running summary.
* Each file is written under a temporary name and renamed into place, so a server
  never serves a half-written file; the metadata names the computation it belongs to.
* Gzip level 3: close to the size of level 9 at a fraction of its time.
"""

from __future__ import annotations

import gzip
import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import polars as pl

from indicators.export import (
    SCHEMA,
    SORT_KEYS,
    ExportQuery,
    area_names,
    csv_bytes,
    export_format,
    metadata_of,
    published_cells,
)
from indicators.provenance import published_rule
from indicators.registry import INDICATORS, LANGUAGES
from trialmon.settings import downloads_dir

STEM = "trialmon-indicators"
GZIP_LEVEL = 3


def bulk_files(url: str, lang: str) -> tuple[Path, Path]:
    folder = downloads_dir(url).absolute()  # send_file reads relative paths from the app
    data = folder / f"{STEM}-{lang}.csv.gz"
    return data, data.with_name(f"{STEM}-{lang}.metadata.json")


class _Summary:
    def __init__(self):
        self.indicators: list[str] = []
        self.vintages: set[str] = set()
        self.synthetic = False
        self.rows = 0
        self.columns: list[str] = []

    def add(self, table: pl.DataFrame) -> None:
        self.indicators += table["indicator"].unique().to_list()
        self.vintages |= set(table["vintage"].unique().to_list())
        self.synthetic = self.synthetic or bool(table["synthetic"].any())
        self.rows += table.height
        self.columns = table.columns


def build_bulk(url: str, languages=LANGUAGES) -> list[Path]:
    """Write every language's bulk CSV (gzip) and metadata; returns the paths."""
    rule = published_rule(url)
    paths = {lang: bulk_files(url, lang) for lang in languages}
    next(iter(paths.values()))[0].parent.mkdir(parents=True, exist_ok=True)
    summaries = {lang: _Summary() for lang in languages}
    with ExitStack() as stack:
        streams = {lang: stack.enter_context(gzip.open(_partial(data), "wb", GZIP_LEVEL))
                   for lang, (data, _meta) in paths.items()}
        writers = {lang: stack.enter_context(ThreadPoolExecutor(1)) for lang in languages}
        pending: list[Future] = []
        for indicator in sorted(INDICATORS):
            cells = published_cells(url, ExportQuery(indicators=(indicator,)))
            if cells.is_empty():
                continue
            tables = list(_in_languages(url, cells, languages))
            for future in pending:  # at most one indicator is being written meanwhile
                future.result()
            pending = [writers[lang].submit(_append, streams[lang], table,
                                            summaries[lang].rows == 0)
                       for lang, table in tables]
            for lang, table in tables:
                summaries[lang].add(table)
        for future in pending:
            future.result()
        for lang in languages:
            if summaries[lang].rows == 0:  # nothing published: the header alone
                streams[lang].write(csv_bytes(pl.DataFrame(schema=SCHEMA)))
    written = []
    for lang, (data, meta) in paths.items():
        summary = summaries[lang]
        metadata = metadata_of(ExportQuery(lang=lang), rule, indicator_ids=summary.indicators,
                               vintages=list(summary.vintages), synthetic=summary.synthetic,
                               row_count=summary.rows, columns=summary.columns)
        metadata["file"] = data.name
        _partial(meta).write_text(json.dumps(metadata, ensure_ascii=False, indent=2),
                                  encoding="utf-8")
        os.replace(_partial(data), data)
        os.replace(_partial(meta), meta)
        written += [data, meta]
    return written


def _in_languages(url: str, cells: pl.DataFrame, languages):
    """(lang, table) for each language: the table is built and sorted once, then only
    its area names change."""
    table = export_format(url, cells, languages[0], SORT_KEYS)
    yield languages[0], table
    keys = ["month", "area_type", "area_code"]
    unique_keys = table.select(keys).unique()
    for lang in languages[1:]:
        names = area_names(url, unique_keys, lang).rename({"area_name": "_name"})
        yield lang, (table.join(names, on=keys, how="left", maintain_order="left")
                     .with_columns(pl.col("_name").alias("area_name")).drop("_name"))


def _append(stream, table: pl.DataFrame, header: bool) -> None:
    """CSV (Polars, without the GIL) then gzip (zlib, without the GIL): the languages'
    files are written in parallel with reading the next indicator."""
    stream.write(csv_bytes(table, header=header, bom=header))


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")
