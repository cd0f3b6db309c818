"""The indicator engine: from stored register rows to published, protected cells -- issue 3.

Interface:

* ``compute(url, months=None, progress=True) -> ComputeReport``: months=None recomputes
  everything; otherwise the given (changed) months and what depends on them
  (M+1 for flows, M-1 for the interview cohort). ``ComputeReport.summary()``.
"""
