"""Disclosure control (primary and secondary suppression) -- issue 3.

Interface:

* ``protect(cells, members, threshold=5) -> pl.DataFrame``
  ``cells``: [month, area_type, area_code, population, group, measure, value (Int64, may be null)]
  with every area type, municipality cells included; ``members``: [month, area_type,
  area_code, municipality_code] for every non-municipality area. Returns ``cells`` with a
  Boolean column ``suppressed``: primary (1 <= value < threshold) plus secondary
  suppression so that no suppressed value can be recovered from the published ones.
"""
