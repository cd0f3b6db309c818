"""Public-statistics indicators from the real 12r5 file, checked against Statistics
Finland's own published area figures in the same file (both backends).

Expected sides are computed here from the raw json with the json module, and region
membership from the shared municipality list (2021 regions), independent of our code.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime

import pytest
import sqlalchemy as sa

from etl.statfin import load_statfin_files
from indicators.public_statistics import compute_public_statistics
from indicators.registry import STATFIN_INDICATORS
from tests.conftest import shared_file
from trialmon.db import get_engine

REAL_12R5 = ("data", "statfin", "unemployment_register_kunnat_12r5.json")
COUNTS = [i for i in STATFIN_INDICATORS if not i.is_ratio]


def _file_cells(path) -> dict[str, dict[str, str]]:
    document = json.loads(path.read_text("utf-8"))
    measures = [c["code"] for c in document["columns"] if c["type"] == "c"]
    return {row["key"][0]: dict(zip(measures, row["values"], strict=True))
            for row in document["data"]}


def _regions() -> dict[str, list[str]]:
    """Region -> its municipalities' KU codes, from the shared list (2021 division)."""
    regions: dict[str, list[str]] = {}
    with shared_file("data", "municipalities_fi.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            regions.setdefault(f"MK{int(row['maakunta_koodi']):02d}", []).append(
                row["statfin_alue_code"])
    return regions


def _cells(url) -> dict[tuple, tuple]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text(
            'select indicator, area_type, area_code, value, numerator, denominator, flag, '
            'population, "group", vintage from indicator_value')).all()
    return {(r[0], r[1], r[2]): tuple(r[3:]) for r in rows}


@pytest.fixture
def computed(db):
    source = shared_file(*REAL_12R5)
    load_statfin_files(db, [source])
    report = compute_public_statistics(db)
    return db, _file_cells(source), _cells(db), report


def test_regions_equal_the_published_totals_where_complete(computed):
    _, file, cells, _ = computed
    checked = 0
    for region, members in _regions().items():
        present = [m for m in members if m in file]  # 099, 588: merged before 2026-06
        for indicator in COUNTS:
            missing = [m for m in present if file[m][indicator.numerator] == "..."]
            value, _, _, flag, *_ = cells[(indicator.id, "region", region)]
            if missing:  # incomplete exactly where a member is '...'
                assert flag == "incomplete", (region, indicator.id)
                known = sum(int(file[m][indicator.numerator]) for m in present
                            if m not in missing)
                assert value == known
            else:
                assert flag is None, (region, indicator.id)
                assert value == int(file[region][indicator.numerator]), (region, indicator.id)
                checked += 1
    assert checked == 66  # of 19 regions x 6 counts; the other 48 have a member at "..."


def test_unemployment_rate_matches_published_tyotosuus(computed):
    _, file, cells, _ = computed
    checked = 0
    for region, members in _regions().items():
        present = [m for m in members if m in file]
        value, numerator, denominator, flag, *_ = cells[("stat_unemployment_rate", "region",
                                                         region)]
        complete = all(file[m]["TYOTTOMATLOPUSSA"] != "..." for m in present)
        assert (flag is None) == complete
        if complete:
            assert numerator == int(file[region]["TYOTTOMATLOPUSSA"])
            assert denominator == int(file[region]["TYOVOIMATK"])
            assert value == float(file[region]["TYOTOSUUS"]), region
            checked += 1
    assert checked >= 15


def test_municipality_cells_copy_the_file_and_mark_source_suppression(computed):
    _, file, cells, _ = computed
    municipalities = [c for c in file if c.startswith("KU") and c[2:].isdigit() and c != "KU199"]
    assert len(municipalities) == 308
    for code in municipalities:
        for indicator in COUNTS:
            text = file[code][indicator.numerator]
            value, numerator, denominator, flag, population, group, vintage = cells[
                (indicator.id, "municipality", code[2:])]
            assert (population, group) == ("all", "all") and vintage is not None
            if text == "...":
                assert (value, flag) == (None, "suppressed")
            else:
                assert (value, flag) == (int(text), None)
            assert numerator is None and denominator is None
        rate = cells[("stat_unemployment_rate", "municipality", code[2:])]
        if file[code]["TYOTTOMATLOPUSSA"] != "...":
            assert rate[0] == float(file[code]["TYOTOSUUS"]), code
        else:
            assert rate[:4] == (None, None, None, "suppressed")


def test_country_sums_every_municipal_row_including_unallocated(computed):
    _, file, cells, report = computed
    assert report.unallocated == ["KU199", "KUJOU"]
    ku = [code for code in file if code.startswith("KU")]
    for indicator in COUNTS:
        texts = [file[code][indicator.numerator] for code in ku]
        value, _, _, flag, *_ = cells[(indicator.id, "country", "SSS")]
        assert value == sum(int(t) for t in texts if t != "...")
        assert flag == ("incomplete" if "..." in texts else None)
    # the labour force is complete everywhere: our denominator base equals SSS
    published = int(file["SSS"]["TYOVOIMATK"])
    assert sum(int(file[c]["TYOVOIMATK"]) for c in ku) == published


def test_only_the_stat_rows_of_the_month_are_replaced(db):
    source = shared_file(*REAL_12R5)
    load_statfin_files(db, [source])
    register_row = {"indicator": "unemployed", "population": "all", "group": "all",
                    "area_type": "country", "area_code": "SSS", "month": "2026-06",
                    "value": 5.0, "numerator": None, "denominator": None, "flag": None,
                    "vintage": datetime(2026, 7, 1)}
    from trialmon.schema import indicator_value

    with get_engine(db).begin() as conn:
        conn.execute(sa.insert(indicator_value), [register_row])
    first = compute_public_statistics(db, ["2026-06"])
    second = compute_public_statistics(db, ["2026-06"])  # a recompute replaces, no duplicates
    assert first.cells == second.cells == len(_cells(db)) - 1
    assert ("unemployed", "country", "SSS") in _cells(db)
    with get_engine(db).connect() as conn:
        status = conn.execute(sa.text("select source, revision, computed_at from month_status"
                                      )).all()
    assert [(s, r) for s, r, _ in status] == [("statfin", 0)] and status[0][2] is not None


def test_nothing_loaded_computes_nothing(db):
    assert compute_public_statistics(db).cells == 0
