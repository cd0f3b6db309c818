"""`trialmon load areas`: a good file, each kind of bad file (clean error, database
unchanged), the recompute of the affected months, and a made-up area system showing
up in the API and the area pickers without code changes -- on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from etl.area_systems import affected_months, load_area_system
from shell.cli import main
from shell.pipeline import prepare_database
from trialmon.db import get_engine
from trialmon.errors import InputRejected
from trialmon.schema import area, area_member, area_system

HEADER = ("area_type,area_code,name_fi,name_sv,name_en,municipality_code,valid_from,valid_to,"
          "source,confidence,completeness\n")
# A made-up system: two 'river valleys' over four real municipalities.
GOOD = HEADER + (
    "river_valley,RV1,Kemijoki,Kemi älv,Kemi river,698,2024-01-01,,council decision 1/2024,"
    "confirmed,complete\n"
    "river_valley,RV1,Kemijoki,Kemi älv,Kemi river,320,2024-01-01,,council decision 1/2024,"
    "confirmed,complete\n"
    "river_valley,RV2,Tornionjoki,Torne älv,Torne river,851,2024-01-01,2024-12-31,"
    "council decision 2/2024,inferred,partial\n"
)


def _snapshot(url: str) -> tuple:
    with get_engine(url).connect() as conn:
        return tuple(sorted(map(tuple, conn.execute(sa.select(t)).all()), key=str)
                     for t in (area, area_member, area_system))


def _write(tmp_path, text: str, name: str = "areas.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads_and_shows_in_the_api_and_pickers(db, tmp_path):
    prepare_database(db)
    report = load_area_system(db, _write(tmp_path, GOOD))
    assert (report.area_type, report.areas, report.memberships, report.changed) == (
        "river_valley", 2, 3, True)
    with get_engine(db).connect() as conn:
        rows = conn.execute(sa.select(area_member.c.area_code, area_member.c.municipality_code,
                                      area_member.c.valid_to, area_member.c.confidence)
                            .where(area_member.c.area_type == "river_valley")).all()
    assert sorted(map(tuple, rows)) == [("RV1", "320", None, "confirmed"),
                                        ("RV1", "698", None, "confirmed"),
                                        ("RV2", "851", dt.date(2024, 12, 31), "inferred")]
    # the same file again: nothing written
    assert not load_area_system(db, _write(tmp_path, GOOD)).changed

    from dashboard.app import create_app
    from dashboard.components import area_options

    app = create_app(db)
    payload = app.server.test_client().get("/api/v1/areas?area_type=river_valley").get_json()
    rv1 = next(a for a in payload["areas"] if a["area_code"] == "RV1")
    assert rv1["name_sv"] == "Kemi älv" and rv1["completeness"] == "complete"
    assert {m["municipality_code"] for m in rv1["members"]} == {"698", "320"}
    assert rv1["members"][0]["valid_from"] == "2024-01-01"
    assert rv1["members"][0]["source"] == "council decision 1/2024"
    from dashboard.data import Data

    options = area_options(Data(db).areas(), "en")
    values = [o["value"] for o in options]
    assert "RV1" in values and "RV2" in values
    header = next(o for o in options if o.get("disabled") and "river_valley" in o["value"])
    assert values.index(header["value"]) < values.index("RV1")


def test_shipped_employment_areas_can_be_replaced_and_stay_after_restart(db, tmp_path):
    prepare_database(db)
    text = HEADER + "employment_area,TY01,Helsinki,Helsingfors,Helsinki,091,2025-01-01,,x,," \
                    "complete\n"
    load_area_system(db, _write(tmp_path, text))
    prepare_database(db)  # the start-up sync must not put the shipped system back
    with get_engine(db).connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(area_member).where(
            area_member.c.area_type == "employment_area")).scalar()
    assert count == 1


BAD = {
    "bad date": (GOOD.replace("2024-01-01,,council decision 1/2024", "2024-02-30,,c", 1),
                 ["row 1", "'valid_from'", "'2024-02-30'", "not a date"]),
    "unknown municipality": (GOOD.replace(",698,", ",999,"),
                             ["row 1", "'municipality_code'", "'999'", "unknown municipality"]),
    "missing column": (GOOD.replace("source,", "origin,", 1), ["'source'", "required column"]),
    "reserved type": (GOOD.replace("river_valley", "trial_area"),
                      ["row 1", "'area_type'", "'trial_area'", "cannot be loaded"]),
    "two systems": (GOOD.replace("river_valley,RV2", "lake,RV2"),
                    ["row 3", "'area_type'", "'lake'", "one file holds one area system"]),
    "code of another type": (GOOD.replace("RV2", "TA01"),
                             ["row 3", "'area_code'", "'TA01'", "another area type"]),
    "overlap": (GOOD + "river_valley,RV2,Tornionjoki,Torne älv,Torne river,698,2024-06-01,,c,,"
                "partial\n", ["row 4", "'municipality_code'", "'698'", "also in area 'RV1'"]),
    "names disagree": (GOOD.replace("Kemijoki,Kemi älv,Kemi river,320", "Kemi,Kemi älv,Kemi "
                                    "river,320"), ["row 2", "'name_fi'", "differs"]),
    "bad confidence": (GOOD.replace("inferred", "likely"),
                       ["row 3", "'confidence'", "'likely'", "confirmed, inferred"]),
    "ends before start": (GOOD.replace("2024-01-01,2024-12-31", "2024-01-01,2023-12-31"),
                          ["row 3", "'valid_to'", "ends before it starts"]),
    "not a csv": ("\x00\x01\x02binary", ["areas.csv"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file_is_rejected_cleanly_and_changes_nothing(db, tmp_path, case):
    prepare_database(db)
    load_area_system(db, _write(tmp_path, GOOD, "first.csv"))
    before = _snapshot(db)
    text, expected = BAD[case]
    path = _write(tmp_path, text)
    with pytest.raises(InputRejected) as error:
        load_area_system(db, path)
    message = str(error.value)
    for part in expected:
        assert part in message, (part, message)
    assert _snapshot(db) == before
    result = CliRunner().invoke(main, ["load", "areas", str(path), "--db", db])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "database is unchanged" in result.output
    assert _snapshot(db) == before


def test_affected_months_are_those_whose_last_day_changed_membership():
    d = dt.date
    old = pl.DataFrame({"area_code": ["A"], "municipality_code": ["091"],
                        "valid_from": [d(2025, 1, 1)], "valid_to": [None]},
                       schema_overrides={"valid_to": pl.Date})
    new = pl.DataFrame({"area_code": ["A", "A"], "municipality_code": ["091", "049"],
                        "valid_from": [d(2025, 1, 1), d(2025, 3, 15)],
                        "valid_to": [None, d(2025, 4, 30)]})
    months = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
    # Espoo joins on 15.3. (so from the March calculation date, 31.3.) until 30.4.
    assert affected_months(old, new, months) == ["2025-03", "2025-04"]
    assert affected_months(old, old, months) == []
