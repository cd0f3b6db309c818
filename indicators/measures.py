"""Municipal measures: the additive counts every register indicator is built from -- issue 3.

Interface:

* ``municipal_measures(rows: pl.LazyFrame, months: list[str], loaded: set[str]) -> pl.DataFrame``
  ``rows`` holds the register rows of the months in ``months`` and their neighbours
  (t-1, t+1) as far as loaded; returns the long frame
  [month, municipality_code, population, group, measure, value (Int64, null when a
  needed neighbouring month is not loaded or the month precedes the measure's first month)]
  for every measure of ``indicators.registry.MEASURES`` and every month in ``months``.
"""
