"""Synthetic register extracts for demos and benchmarks -- issue 2.

Interface:

* ``generate_months(scale, start, end, seed) -> Iterator[pl.DataFrame]``: one frame
  per month in the contract's columns (see etl.register).
* ``write_parquet(path, scale, start, end, seed)``: the same as one Parquet file.
* ``build_demo(url, scale, start, end, seed, progress) -> set[str]``: generate and
  load (marked synthetic); returns the loaded months.
"""
