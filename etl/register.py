"""Loading monthly register extracts (the input contract) -- issue 2.

Interface:

* ``load_register_files(url, paths, *, synthetic=False, progress=True) -> LoadReport``
* ``load_register_frames(url, frames, *, synthetic, progress) -> LoadReport`` where
  ``frames`` is an iterable of ``(source_name, pl.DataFrame)`` in the contract's
  columns with Polars types (month Utf8 'YYYY-MM', dates pl.Date, booleans
  pl.Boolean, age integer, service_type/unemployment_start/... null when empty).
  Both validate exactly the same way and load atomically.
* ``LoadReport.changed_months``: months whose stored rows changed (new or revised);
  ``LoadReport.summary()``: a human-readable line.
* ``load_history(url)``: for ``trialmon status``.
"""
