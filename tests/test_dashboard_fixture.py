"""Published rows with hand-chosen values, written straight into the published tables.

The dashboard tests draw pages from these rows and assert that exactly these values
appear: each value is a simple formula of (area, month) so a test can work out the
expected figure by hand. Special cells: Helsinki's (091) unemployed share is
suppressed in 2024-06 and incomplete in 2024-07; Helsinki's unemployed count is
suppressed in 2024-06 (so it must show as a gap, never 0).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from indicators.bulk import build_bulk
from indicators.disclosure import METHOD, METHOD_VERSION
from shell.pipeline import prepare_database as upgrade
from trialmon.db import get_engine
from trialmon.schema import computation, indicator_value, month_status

AREAS = {  # code: (area_type, base)
    "TRIALS": ("all_trials", 50000), "NONTRIAL": ("comparison", 40000),
    "SSS": ("country", 90000), "TA01": ("trial_area", 20000), "TA02": ("trial_area", 8000),
    "TA10": ("trial_area", 12000), "091": ("municipality", 20000),
    "049": ("municipality", 8000), "837": ("municipality", 9000),
    "092": ("municipality", 7000), "MK01": ("region", 40000),
}
FIRST, LAST = "2020-01", "2024-12"
VINTAGE = dt.datetime(2025, 1, 15, 8, 30)
FIXTURE_COMPUTATION = "f1x7" * 8  # the fixture's cells follow threshold 5


def months(first: str = FIRST, last: str = LAST) -> list[str]:
    out, year, mon = [], int(first[:4]), int(first[5:])
    while f"{year:04d}-{mon:02d}" <= last:
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return out


MONTHS = months()


def unemployed(code: str, month_index: int) -> int:
    """Unemployed persons: base + 10 per month since 2020-01."""
    return AREAS[code][1] + 10 * month_index


def unemployed_share(code: str, month_index: int) -> float:
    """Unemployed share: 10 % + 0.1 point per month + 0.5 point per position in AREAS."""
    return round(10 + 0.1 * month_index + 0.5 * list(AREAS).index(code), 1)


def trial_customers(code: str, month_index: int) -> int:
    return AREAS[code][1] // 4 + month_index


def _cell(indicator, population, code, month, value, flag=None, numerator=None,
          denominator=None):
    return {"indicator": indicator, "population": population, "group": "all",
            "area_type": AREAS[code][0], "area_code": code, "month": month, "value": value,
            "numerator": numerator, "denominator": denominator, "flag": flag,
            "vintage": VINTAGE}


def rows() -> list[dict]:
    out = []
    for code in AREAS:
        for i, month in enumerate(MONTHS):
            u, s = unemployed(code, i), unemployed_share(code, i)
            out.append(_cell("unemployed", "all", code, month, float(u), numerator=float(u)))
            out.append(_cell("unemployed_share", "all", code, month, s,
                             numerator=float(u), denominator=round(100 * u / s)))
            out.append(_cell("jobseekers", "trial_customers", code, month,
                             float(trial_customers(code, i))))
            out.append(_cell("jobseekers", "all", code, month, float(u * 3)))
            out.append(_cell("long_term_share", "all", code, month, 25.0))
    for row in out:
        if row["area_code"] == "091" and row["month"] == "2024-06" and \
                row["indicator"] in ("unemployed_share", "unemployed"):
            row.update(value=None, numerator=None, denominator=None, flag="suppressed")
        if row["area_code"] == "091" and row["month"] == "2024-07" and \
                row["indicator"] == "unemployed_share":
            row["flag"] = "incomplete"
    return out


def publish_fixture(url: str) -> str:
    """Create the schema and write the fixture's published rows; returns `url`."""
    upgrade(url)
    status = [{"month": m, "source": "register", "vintage": VINTAGE, "revision": 0,
               "row_count": 1000, "rows_changed": 0, "synthetic": True,
               "computed_at": VINTAGE, "computation_id": FIXTURE_COMPUTATION} for m in MONTHS]
    with get_engine(url).begin() as conn:
        conn.execute(sa.delete(indicator_value))
        conn.execute(sa.delete(month_status))
        conn.execute(sa.delete(computation))
        conn.execute(sa.insert(computation), [{
            "computation_id": FIXTURE_COMPUTATION, "computed_at": VINTAGE, "threshold": 5,
            "method": METHOD, "method_version": METHOD_VERSION}])
        conn.execute(sa.insert(indicator_value), rows())
        conn.execute(sa.insert(month_status), status)
    build_bulk(url)  # what `trialmon compute` writes at its end
    return url
