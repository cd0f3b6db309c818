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
    # as Excel saves it (BOM, CRLF): the same content, nothing written
    assert not load_area_system(db, _write(tmp_path, "\ufeff" + GOOD.replace("\n", "\r\n"),
                                           "excel.csv")).changed

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
    import json

    import plotly

    from dashboard.pages.static_pages import status
    from dashboard.state import View

    page = json.dumps(status(View(page="status", lang="en"), Data(db)),
                      cls=plotly.utils.PlotlyJSONEncoder)
    assert "River valley" in page and "areas.csv" in page


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


# --------------------------------------------------------------------------- computed cells


def test_overlay_cell_is_hidden_exactly_where_a_member_is_or_it_is_small():
    from indicators.overlay import protect_overlay

    key = {"month": "2025-01", "population": "all", "group": "all", "measure": "unemployed"}
    cells = pl.DataFrame([
        {**key, "area_type": "ea", "area_code": "E1", "value": 40},  # a member hidden
        {**key, "area_type": "ea", "area_code": "E2", "value": 30},  # all members shown
        {**key, "area_type": "ea", "area_code": "E3", "value": 3},  # small itself
        {**key, "area_type": "ea", "area_code": "E4", "value": None},  # not computable
    ]).select("month", "area_type", "area_code", "population", "group", "measure", "value")
    members = pl.DataFrame({"month": ["2025-01"] * 5, "area_type": ["ea"] * 5,
                            "area_code": ["E1", "E1", "E2", "E3", "E4"],
                            "municipality_code": ["001", "002", "003", "004", "005"]})
    flags = pl.DataFrame({**{k: [v] * 5 for k, v in key.items()},
                          "area_code": ["001", "002", "003", "004", "005"],
                          "suppressed": [False, True, False, False, False]})
    result = protect_overlay(cells, members, flags, threshold=5)
    assert dict(zip(result["area_code"], result["suppressed"], strict=True)) == {
        "E1": True, "E2": False, "E3": True, "E4": False}


def test_employment_areas_and_a_loaded_system_are_computed_and_protected(db, tmp_path):
    """Demo data for two months of 2025: the employment areas get cells; each published
    count is the sum of its members' published municipality counts, and a cell with a
    hidden member is hidden. A system loaded afterwards is computed at once, with its
    load time as vintage."""
    from etl.demo import build_demo
    from indicators.engine import compute
    from trialmon.schema import indicator_value

    prepare_database(db)
    months = build_demo(db, 0.003, "2025-01", "2025-02", 5, progress=False)
    compute(db, months=sorted(months), progress=False)
    with get_engine(db).connect() as conn:
        cells = pl.DataFrame(conn.execute(sa.select(
            indicator_value.c.indicator, indicator_value.c.population, indicator_value.c.group,
            indicator_value.c.area_type, indicator_value.c.area_code, indicator_value.c.month,
            indicator_value.c.value, indicator_value.c.flag).where(
            indicator_value.c.indicator == "unemployed")).all(),
            schema=["indicator", "population", "group", "area_type", "area_code", "month",
                    "value", "flag"], orient="row")
        members = pl.DataFrame(conn.execute(sa.select(
            area_member.c.area_code, area_member.c.municipality_code).where(
            area_member.c.area_type == "employment_area")).all(),
            schema=["area_code", "municipality_code"], orient="row")
    employment = cells.filter(area_type="employment_area")
    assert set(employment["area_code"]) == set(members["area_code"])
    municipal = cells.filter(area_type="municipality").rename(
        {"area_code": "municipality_code", "value": "m_value", "flag": "m_flag"})
    joined = employment.join(members, on="area_code").join(
        municipal.drop("area_type"), on=["indicator", "population", "group", "month",
                                         "municipality_code"], how="left")
    per_area = joined.group_by("population", "group", "month", "area_code").agg(
        pl.col("value").first(), pl.col("flag").first(),
        (pl.col("m_flag") == "suppressed").any().alias("member_hidden"),
        pl.col("m_value").fill_null(0).sum().alias("member_sum"))
    shown = per_area.filter(pl.col("flag").is_null() & pl.col("value").is_not_null())
    assert shown.height > 0
    assert (shown["value"] == shown["member_sum"]).all()
    assert not shown["member_hidden"].any()
    assert per_area.filter("member_hidden")["flag"].to_list() == \
        ["suppressed"] * per_area.filter("member_hidden").height

    report = load_area_system(db, _write(tmp_path, GOOD.replace("2024-12-31", "")))
    assert report.affected_months == ["2025-01", "2025-02"]
    compute(db, months=report.affected_months, progress=False)
    with get_engine(db).connect() as conn:
        loaded_at = conn.execute(sa.select(area_system.c.loaded_at)).scalar()
        vintages = set(conn.execute(sa.select(indicator_value.c.vintage).where(
            indicator_value.c.area_type == "river_valley")).scalars())
    norm = {(v if v.tzinfo else v.replace(tzinfo=dt.UTC)).replace(microsecond=0) for v in vintages}
    stamp = (loaded_at if loaded_at.tzinfo else loaded_at.replace(tzinfo=dt.UTC))
    assert norm == {stamp.replace(microsecond=0)}


def test_export_metadata_and_definitions_carry_membership(db):
    from dashboard.data import Data
    from dashboard.pages.area_sources import area_sources
    from indicators.export import membership_metadata

    prepare_database(db)
    data = Data(db)
    table = pl.DataFrame({"area_type": ["trial_area", "employment_area", "municipality"],
                          "area_code": ["TA24", "TY15", "091"]})
    meta = membership_metadata(table, data.areas(), data.memberships())
    assert [m["area_code"] for m in meta] == ["TY15", "TA24"]
    kainuu = meta[1]
    assert kainuu["confidence"] == "confirmed" and len(kainuu["members"]) == 7
    assert meta[0]["completeness"] == "partial"
    from indicators.export import stored_membership

    assert stored_membership(db, table) == meta  # what the API and the CLI export write
    import json

    import plotly

    text = json.dumps(area_sources(data, "fi"), cls=plotly.utils.PlotlyJSONEncoder,
                      ensure_ascii=False)
    assert "Tampereen seudun työllisyysalue" in text and "osittainen" in text
    assert "Etelä-Pohjanmaan seutukaupunkien kuntakokeilu" in text
    assert "Hyrynsalmi, Kajaani, Kuhmo" in text


def test_overview_names_the_members_of_the_areas_of_a_month(db):
    import json

    import plotly

    from dashboard.data import Data
    from dashboard.pages.overview import membership_lines

    prepare_database(db)
    data = Data(db)

    def text(area, month, lang="en"):
        return json.dumps(membership_lines(data, area, month, lang),
                          cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)

    kainuu = text("TA24", "2024-12")
    assert "Kainuu trial area" in kainuu
    assert "Hyrynsalmi, Kajaani, Kuhmo, Paltamo, Ristijärvi, Sotkamo, Suomussalmi" in kainuu
    # a municipality: its trial area; from 2025 also its employment area; never its region
    assert "Kainuu-Koillismaa" not in text("205", "2024-12")
    in_2025 = text("205", "2025-06")
    assert "Kainuu trial area" in in_2025 and "Kainuu-Koillismaa employment area" in in_2025
    assert "Region" not in in_2025
    # Pertunmaa leaves the Mikkeli areas with its merger on 2026-01-01
    assert "Pertunmaa" in text("TA12", "2025-12") and "Pertunmaa" not in text("TA12", "2026-01")
    # a partial area says so
    assert "members found so far" in text("TY15", "2025-06")


def test_cli_loads_a_system_and_lists_it(db, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["load", "areas", str(_write(tmp_path, GOOD)), "--db", db])
    assert result.exit_code == 0, result.output
    assert "'river_valley': 2 areas, 3 memberships loaded" in result.output
    assert "0 register months and 0 Statistics Finland months affected" in result.output
    listed = runner.invoke(main, ["areas", "--format", "csv", "--db", db])
    rows = [line for line in listed.output.splitlines() if line.startswith("river_valley,")]
    assert len(rows) == 3 and all("council decision" in r for r in rows)
    # one system's rows of the listing load back unchanged
    again = _write(tmp_path, listed.output.splitlines()[0] + "\n" + "\n".join(rows) + "\n",
                   "listed.csv")
    assert not load_area_system(db, again).changed


def test_public_statistics_are_recomputed_for_a_loaded_system(db, tmp_path):
    """The 12r5 file of 2026M06: a system valid then gets stat_* cells, each the sum of
    its members' published municipal values."""
    import json

    from tests.conftest import shared_file
    from trialmon.schema import indicator_value

    path = shared_file("data", "statfin", "unemployment_register_kunnat_12r5.json")
    runner = CliRunner()
    assert runner.invoke(main, ["load", "statfin", str(path), "--db", db, "-q"]).exit_code == 0
    result = runner.invoke(main, ["load", "areas", str(_write(tmp_path, GOOD)), "--db", db])
    assert result.exit_code == 0, result.output
    assert "1 Statistics Finland months affected" in result.output
    document = json.loads(path.read_text(encoding="utf-8"))
    measures = [c["code"] for c in document["columns"] if c["type"] == "c"]
    rows = {e["key"][0]: dict(zip(measures, e["values"], strict=True)) for e in document["data"]}
    expected = int(rows["KU698"]["TYOTTOMATLOPUSSA"]) + int(rows["KU320"]["TYOTTOMATLOPUSSA"])
    with get_engine(db).connect() as conn:
        cells = dict(conn.execute(sa.select(indicator_value.c.area_code,
                                            indicator_value.c.value).where(
            indicator_value.c.area_type == "river_valley",
            indicator_value.c.indicator == "stat_unemployed")).all())
    assert cells["RV1"] == expected  # Rovaniemi + Kemijärvi
    assert "RV2" not in cells  # Tornio's membership ended 2024-12-31
