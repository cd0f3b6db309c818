"""trialmon.months against answers worked out by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from trialmon.errors import TrialmonError
from trialmon.months import (
    BadMonth,
    as_naive_utc,
    as_utc,
    check_month,
    is_month,
    month_end,
    month_end_expr,
    month_index,
    month_of,
    month_range,
    month_to_utc,
    shift_month,
    to_utc_datetime,
    valid_on,
)


@pytest.mark.parametrize("value", ["2024-01", "2024-12", "0001-01", "9999-12"])
def test_well_formed_months(value):
    assert is_month(value) and check_month(value) == value


@pytest.mark.parametrize("value", ["2024-13", "2024-00", "2024-1", "24-01", "2024-01-01",
                                   " 2024-01", "2024M01", None, 202401])
def test_malformed_months_name_their_parameter(value):
    assert not is_month(value)
    with pytest.raises(BadMonth) as caught:
        check_month(value, parameter="from")
    assert caught.value.parameter == "from" and isinstance(caught.value, TrialmonError)
    assert str(caught.value) == f"bad month {value!r}: expected YYYY-MM"


def test_shift_and_range_cross_year_ends():
    assert shift_month("2024-01", -1) == "2023-12"
    assert shift_month("2023-12", 1) == "2024-01"
    assert shift_month("2024-03", -12) == "2023-03"
    assert shift_month("2024-03", -26) == "2022-01"
    assert month_of(month_index("2021-03")) == "2021-03"
    assert month_index("2021-03") - month_index("2020-12") == 3
    assert list(month_range("2023-11", "2024-02")) == ["2023-11", "2023-12", "2024-01",
                                                       "2024-02"]
    assert list(month_range("2024-02", "2024-01")) == []


def test_month_end_knows_leap_years():
    assert month_end("2024-02") == dt.date(2024, 2, 29)
    assert month_end("2023-02") == dt.date(2023, 2, 28)
    assert month_end("1900-02") == dt.date(1900, 2, 28)  # not a leap year
    assert month_end("2024-04") == dt.date(2024, 4, 30)
    ends = pl.DataFrame({"month": ["2024-02", "2023-12", "bad"]}).select(month_end_expr())
    assert ends["month"].to_list() == [dt.date(2024, 2, 29), dt.date(2023, 12, 31), None]
    assert month_to_utc("2024-02") == dt.datetime(2024, 2, 1, tzinfo=dt.UTC)


def test_valid_on_is_inclusive_and_open_ended():
    day = dt.date(2024, 1, 31)
    intervals = pl.DataFrame({
        "valid_from": [dt.date(2024, 1, 31), dt.date(2024, 2, 1), dt.date(2020, 1, 1),
                       dt.date(2020, 1, 1), dt.date(2020, 1, 1)],
        "valid_to": [None, None, dt.date(2024, 1, 31), dt.date(2024, 1, 30), None]})
    assert intervals.select(valid_on(pl.lit(day)))["valid_from"].to_list() == [
        True, False, True, False, True]


def test_utc_normalising_of_both_backends():
    helsinki = dt.timezone(dt.timedelta(hours=2))
    aware = dt.datetime(2024, 1, 1, 14, 0, tzinfo=helsinki)
    assert as_utc(aware) == dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert as_utc(dt.datetime(2024, 1, 1, 12, 0)) == dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert as_utc("2024-01-01 12:00:00") == dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert as_naive_utc(aware) == dt.datetime(2024, 1, 1, 12, 0)
    assert as_utc(None) is None
    text = pl.Series(["2024-01-01 12:00:00.000000", "2024-01-01T12:00:00+00:00"])
    assert to_utc_datetime(text).to_list() == [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)] * 2
    aware_series = pl.Series([aware]).dt.convert_time_zone("Europe/Helsinki")
    assert to_utc_datetime(aware_series).to_list() == [dt.datetime(2024, 1, 1, 12,
                                                                   tzinfo=dt.UTC)]
