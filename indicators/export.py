"""The tidy export table shared by the command line, the downloads and the API -- issue 3.

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
"""
