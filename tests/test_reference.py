"""Reference areas: the shipped CSVs, the derived area types, the database sync and
`trialmon areas`. Expected values come from independent public sources (the
municipality list and the Statistics Finland 12r5 file under ../shared/data) or are
worked out by hand below."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from etl.reference import (
    AREA_COLUMNS,
    MEMBER_COLUMNS,
    REFERENCE_DIR,
    area_reference_table,
    load_reference,
    merge_intervals,
    municipality_validity,
    sync_reference,
)
from tests.conftest import shared_file
from trialmon.errors import InputRejected

# Documented in docs/reference-data.md.
TRIAL_AREAS = 25
TRIAL_MUNICIPALITIES = 118
MUNICIPALITIES_EVER = 310  # 309 in 2021-2025, plus Honkajoki (until 2020)
ARTIFICIAL_CODES = {"KU198", "KU199", "KU200"}  # no or unknown home municipality
REGIONS = 19  # MK01, MK02, MK04..MK19, MK21 (MK03 and MK20 are not in use)
EMPLOYMENT_AREAS_SHIPPED = 27  # of the 45 of 2025: those with at least one confirmed member


@pytest.fixture(scope="module")
def ref():
    return load_reference()


def valid_on(frame: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    return frame.filter(
        (pl.col("valid_from") <= day) & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= day))
    )


# --------------------------------------------------------------------------- shape


def test_frames_have_the_table_columns(ref):
    assert ref.areas.columns == AREA_COLUMNS
    assert ref.members.columns == MEMBER_COLUMNS
    assert ref.areas["valid_from"].dtype == pl.Date
    assert ref.members["valid_to"].dtype == pl.Date
    assert ref.areas.select("area_type", "area_code", "valid_from").is_duplicated().sum() == 0
    key = ["area_type", "area_code", "municipality_code", "valid_from"]
    assert ref.members.select(key).is_duplicated().sum() == 0
    for column in ("name_fi", "name_sv", "name_en"):
        assert ref.areas[column].null_count() == 0


def test_area_type_counts(ref):
    counts = dict(ref.areas.group_by("area_type").len().iter_rows())
    assert counts == {"municipality": MUNICIPALITIES_EVER, "region": REGIONS,
                      "trial_area": TRIAL_AREAS, "all_trials": 1, "comparison": 1, "country": 1,
                      "employment_area": EMPLOYMENT_AREAS_SHIPPED}


def test_municipality_area_is_itself_with_english_name_finnish(ref):
    helsinki = ref.areas.filter(area_type="municipality", area_code="091").row(0, named=True)
    assert (helsinki["name_fi"], helsinki["name_sv"], helsinki["name_en"]) == (
        "Helsinki", "Helsingfors", "Helsinki")
    assert ref.of_type("municipality").filter(area_code="091")["municipality_code"].to_list() == [
        "091"]


def test_swedish_names_of_bilingual_municipalities(ref):
    names = dict(ref.areas.filter(area_type="municipality").select("area_code", "name_sv")
                 .iter_rows())
    expected = {"049": "Esbo", "092": "Vanda", "853": "Åbo", "837": "Tammerfors",
                "564": "Uleåborg", "905": "Vasa", "478": "Mariehamn", "297": "Kuopio"}
    assert {code: names[code] for code in expected} == expected


def test_mergers(ref):
    life = {row[0]: row[1:] for row in ref.areas.filter(area_type="municipality")
            .select("area_code", "valid_from", "valid_to").iter_rows()}
    assert life["099"][1] == dt.date(2020, 12, 31)  # Honkajoki -> Kankaanpää 2021-01-01
    assert life["588"][1] == dt.date(2025, 12, 31)  # Pertunmaa -> Mäntyharju 2026-01-01
    assert life["214"][1] is None and life["507"][1] is None
    assert len(valid_on(ref.of_type("municipality"), dt.date(2020, 6, 30))) == 310
    assert len(valid_on(ref.of_type("municipality"), dt.date(2021, 1, 1))) == 309
    assert len(valid_on(ref.of_type("municipality"), dt.date(2026, 1, 1))) == 308


# --------------------------------------------------------------------------- public sources


def test_matches_public_municipality_list(ref):
    """Codes, Finnish and Swedish names and regions agree with the public list.

    Its two caveats: it still lists Honkajoki and Pertunmaa (without Swedish names).
    """
    path = shared_file("data", "municipalities_fi.csv")
    with path.open(encoding="utf-8") as handle:
        public = {row["kuntanumero"]: row for row in csv.DictReader(handle)}
    ours = ref.areas.filter(area_type="municipality")
    assert set(ours["area_code"]) == set(public)
    regions = dict(ref.of_type("region").select("municipality_code", "area_code").iter_rows())
    for code, name_fi, name_sv in ours.select("area_code", "name_fi", "name_sv").iter_rows():
        row = public[code]
        assert name_fi == row["nimi_fi"], code
        if row["nimi_sv"]:
            assert name_sv == row["nimi_sv"], code
        assert regions[code] == "MK" + row["maakunta_koodi"], code


def _statfin_12r5():
    path = shared_file("data", "statfin", "unemployment_register_kunnat_12r5.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    measures = [c["code"] for c in document["columns"] if c["type"] == "c"]
    rows = {entry["key"][0]: dict(zip(measures, entry["values"], strict=True))
            for entry in document["data"]}
    month = document["data"][0]["key"][1]  # e.g. '2026M06'
    year, mon = int(month[:4]), int(month[5:])
    last_day = dt.date(year + mon // 12, mon % 12 + 1, 1) - dt.timedelta(days=1)
    return rows, last_day


def test_12r5_lists_exactly_our_municipalities_of_its_month(ref):
    """Åland included; the merged Honkajoki and Pertunmaa absent in 2026."""
    rows, last_day = _statfin_12r5()
    # KU199 (home municipality unknown) and KUJOU are not municipalities.
    published = {key[2:] for key in rows
                 if re.fullmatch(r"KU\d{3}", key) and key not in ARTIFICIAL_CODES}
    ours = set(valid_on(ref.of_type("municipality"), last_day)["municipality_code"])
    assert published == ours
    assert {"035", "478"} <= published  # Brändö, Mariehamn (MK21)


@pytest.mark.parametrize("measure", ["HAKIJALOPUSSA", "TYOTTOMATLOPUSSA"])
def test_region_membership_reproduces_published_region_totals(ref, measure):
    """Sum over our members = Statistics Finland's MK/SSS value, where nothing is suppressed."""
    rows, last_day = _statfin_12r5()
    members = valid_on(ref.members.filter(pl.col("area_type").is_in(["region", "country"])),
                       last_day)
    checked = []
    for code, municipalities in members.group_by("area_code"):
        code = code[0]
        values = [rows.get("KU" + m, {}).get(measure) for m in municipalities["municipality_code"]]
        published = rows[code][measure]
        if published == "..." or any(v in (None, "...") for v in values):
            continue
        assert sum(int(v) for v in values) == int(published), code
        checked.append(code)
    # Only Åland (suppressed small counts) and so the whole country may be skipped.
    assert len(checked) >= REGIONS - 1
    assert {"MK14", "MK15", "MK06", "MK07", "MK11", "MK12"} <= set(checked)


# --------------------------------------------------------------------------- trial areas


def test_trial_areas_and_members(ref):
    trials = ref.areas.filter(area_type="trial_area")
    assert trials.height == TRIAL_AREAS
    assert trials["area_code"].to_list() == [f"TA{i:02d}" for i in range(1, TRIAL_AREAS + 1)]
    assert set(trials["trial_from"]) == {"2021-03"} and set(trials["trial_to"]) == {"2024-12"}
    assert trials["source"].null_count() == 0
    members = ref.of_type("trial_area")
    assert members["municipality_code"].n_unique() == TRIAL_MUNICIPALITIES
    municipalities = set(ref.areas.filter(area_type="municipality")["area_code"])
    assert set(members["municipality_code"]) <= municipalities
    # Every membership starts with the municipality, long before the trial (baselines).
    assert members["valid_from"].max() <= dt.date(2020, 1, 1)


def test_no_municipality_in_two_trial_areas_at_once(ref):
    members = ref.of_type("trial_area").with_columns(pl.col("valid_to").fill_null(dt.date.max))
    pairs = members.join(members, on="municipality_code", suffix="_b").filter(
        (pl.col("area_code") != pl.col("area_code_b"))
        & (pl.col("valid_from") <= pl.col("valid_to_b"))
        & (pl.col("valid_from_b") <= pl.col("valid_to"))
    )
    assert pairs.height == 0


def test_mikkeli_area_and_the_pertunmaa_merger(ref):
    mikkeli = ref.of_type("trial_area").filter(area_code="TA12")
    ends = dict(mikkeli.select("municipality_code", "valid_to").iter_rows())
    assert set(ends) == {"491", "178", "097", "507", "213", "623", "588"}
    assert ends["588"] == dt.date(2025, 12, 31)
    assert ends["507"] is None
    assert len(valid_on(mikkeli, dt.date(2026, 1, 31))) == 6


def test_tampere_area_is_tampere_and_21_pirkanmaa_municipalities(ref):
    tampere = set(ref.of_type("trial_area").filter(area_code="TA10")["municipality_code"])
    pirkanmaa = set(ref.of_type("region").filter(area_code="MK06")["municipality_code"])
    assert len(tampere) == 22 and "837" in tampere
    assert pirkanmaa - tampere == {"291"}  # Kuhmoinen joined Pirkanmaa only in 2021


def test_aggregates_partition_the_country(ref):
    trials = set(ref.of_type("all_trials")["municipality_code"])
    comparison = set(ref.of_type("comparison")["municipality_code"])
    country = set(ref.of_type("country")["municipality_code"])
    assert trials == set(ref.of_type("trial_area")["municipality_code"])
    assert not trials & comparison
    assert trials | comparison == country
    assert (len(trials), len(comparison), len(country)) == (118, 192, 310)
    pertunmaa = ref.of_type("all_trials").filter(municipality_code="588").row(0, named=True)
    assert pertunmaa["valid_to"] == dt.date(2025, 12, 31)
    names = ref.areas.filter(area_type="country").row(0, named=True)
    assert (names["area_code"], names["name_fi"], names["name_sv"], names["name_en"]) == (
        "SSS", "Koko maa", "Hela landet", "Whole country")


def test_merge_intervals_joins_touching_and_keeps_gaps():
    d = dt.date
    members = pl.DataFrame({
        "municipality_code": ["001", "001", "002", "002", "003"],
        "valid_from": [d(2000, 1, 1), d(2023, 1, 1), d(2000, 1, 1), d(2022, 6, 1), d(2010, 1, 1)],
        "valid_to": [d(2022, 12, 31), None, d(2021, 12, 31), d(2024, 12, 31), d(2012, 1, 1)],
    })
    merged = merge_intervals(members)
    assert merged.rows() == [
        ("001", d(2000, 1, 1), None),  # touching: one membership
        ("002", d(2000, 1, 1), d(2021, 12, 31)),  # five-month gap: two
        ("002", d(2022, 6, 1), d(2024, 12, 31)),
        ("003", d(2010, 1, 1), d(2012, 1, 1)),
    ]


# --------------------------------------------------------------------------- bad input


def _copy_reference(tmp_path):
    target = tmp_path / "reference_data"
    shutil.copytree(REFERENCE_DIR, target)
    return target


def test_bad_date_is_rejected_with_its_location(tmp_path):
    directory = _copy_reference(tmp_path)
    path = directory / "municipalities.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "091,Helsinki,Helsingfors,2000-01-01", "091,Helsinki,Helsingfors,2000-13-01"),
        encoding="utf-8")
    with pytest.raises(InputRejected) as error:
        load_reference(directory)
    message = str(error.value)
    assert "municipalities.csv" in message and "'valid_from'" in message
    assert "'2000-13-01'" in message and "row " in message


def test_member_of_unknown_municipality_is_rejected(tmp_path):
    directory = _copy_reference(tmp_path)
    with (directory / "area_members.csv").open("a", encoding="utf-8") as handle:
        handle.write("trial_area,TA01,999,,,\n")
    with pytest.raises(InputRejected, match="'999'.*not listed in municipalities.csv"):
        load_reference(directory)


# --------------------------------------------------------------------------- database


def _count_writes(engine, action):
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return [s for s in statements if s in {"INSERT", "DELETE", "UPDATE"}]


def test_sync_reference_is_idempotent_and_repairs(db, ref):
    from trialmon.db import get_engine
    from trialmon.schema import area, area_member

    engine = get_engine(db)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(area)) == ref.areas.height
        assert conn.scalar(sa.select(sa.func.count()).select_from(area_member)) == \
            ref.members.height
    assert _count_writes(engine, lambda: sync_reference(engine)) == []

    with engine.begin() as conn:
        conn.execute(sa.update(area).where(area.c.area_code == "091").values(name_sv="x"))
        conn.execute(sa.delete(area_member).where(area_member.c.area_type == "country"))
    assert _count_writes(engine, lambda: sync_reference(engine))  # it rewrote
    with engine.connect() as conn:
        assert conn.scalar(sa.select(area.c.name_sv).where(
            area.c.area_type == "municipality", area.c.area_code == "091")) == "Helsingfors"
        assert conn.scalar(sa.select(sa.func.count()).select_from(area_member).where(
            area_member.c.area_type == "country")) == 310


def test_concurrent_syncs_both_succeed(db, ref):
    """Two processes starting at once on an emptied table: no error, correct content."""
    import threading

    from trialmon.db import get_engine
    from trialmon.schema import area, area_member

    engine = get_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.delete(area_member))
        conn.execute(sa.delete(area))
    errors = []

    def run():
        try:
            sync_reference(engine)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(area_member)) == \
            ref.members.height


def test_municipality_validity_and_reference_table(db):
    validity = municipality_validity(db)
    assert validity.columns == ["code", "valid_from", "valid_to"]
    assert validity.height == 310
    assert validity.filter(code="099")["valid_to"].to_list() == [dt.date(2020, 12, 31)]

    table = area_reference_table(db)
    assert table.height == 310  # one period each: no membership changes inside a life
    pertunmaa = table.filter(municipality_code="588").row(0, named=True)
    assert (pertunmaa["region_code"], pertunmaa["trial_area_code"], pertunmaa["valid_to"]) == (
        "MK10", "TA12", dt.date(2025, 12, 31))
    outside = table.filter(municipality_code="005").row(0, named=True)
    assert outside["trial_area_code"] is None and outside["region_name_sv"] == "Södra Österbotten"


def test_areas_command_prints_json_and_csv(db):
    from shell.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["areas", "--by-municipality", "--format", "json", "--db", db])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    helsinki = [r for r in rows if r["municipality_code"] == "091"]
    assert helsinki and helsinki[0]["name_sv"] == "Helsingfors"
    assert helsinki[0]["trial_area_code"] == "TA01"

    result = runner.invoke(main, ["areas", "--db", db])
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(result.output.splitlines()))
    trial = [r for r in table if r["area_type"] == "trial_area"]
    employment = [r for r in table if r["area_type"] == "employment_area"]
    assert len({r["area_code"] for r in trial}) == TRIAL_AREAS
    assert len(trial) == TRIAL_MUNICIPALITIES
    assert len({r["area_code"] for r in employment}) == EMPLOYMENT_AREAS_SHIPPED
    assert all(r["source"] and r["confidence"] in {"confirmed", "inferred"} for r in trial)
    assert {r["completeness"] for r in employment} == {"complete", "partial"}
    assert all(r["valid_from"] == "2025-01-01" for r in employment)


# --------------------------------------------------------------------------- the sources

# Written from the sources themselves (docs/reference-data.md), not from the CSVs:
# every municipality a confirming page names, and the area that page puts it in.
# A source naming a trial by its members puts them in one area: the test checks that
# each group is exactly one area's membership (or, for pages that list only some,
# inside one area).
CONFIRMED_TRIAL_GROUPS = {
    "vuoksi.fi kuntakokeilun eteneminen": ["232", "301", "846", "151", "218", "010", "759"],
    "tampere.fi pilot FAQ (22)": ["837", "020", "108", "143", "177", "211", "250", "418", "508",
                                  "536", "562", "581", "604", "619", "635", "702", "790", "887",
                                  "908", "922", "936", "980"],
    "salo.fi pilot page": ["734", "284", "480"],
    "vantaa.fi Vantaa and Kerava": ["092", "245"],
    "kommuntorget.fi Hangö och Raseborg": ["078", "710"],
    "Mikkeli city board 19.9.2022": ["491", "178", "097", "507", "213", "623", "588"],
    "kokkola.fi pilot page": ["272", "217", "584", "236", "924", "074", "849", "421"],
    "valtioneuvosto.fi 27.8.2020 item 1": ["009", "208", "483", "563", "977"],
    "ktlehti.fi Kainuu except Puolanka": ["205", "105", "290", "765", "777", "578", "697"],
    "TEM tilastokatsaus: Jämsä-Keuruu-Saarijärvi": ["182", "249", "729"],
    "savonlinna.fi": ["740"], "visitporvoo.fi": ["638"], "espoo.fi: Espoo": ["049"],
    "espoo.fi: Helsinki": ["091"],
}
NOT_IN_ANY_TRIAL = {  # the withdrawn Maisema-Karjala group (lieksa.fi)
    "260", "422", "176", "707", "090", "146", "848"}


@pytest.mark.parametrize("source", sorted(CONFIRMED_TRIAL_GROUPS))
def test_confirmed_sources_place_their_municipalities_together(ref, source):
    named = set(CONFIRMED_TRIAL_GROUPS[source])
    members = ref.of_type("trial_area")
    areas = members.filter(pl.col("municipality_code").is_in(list(named)))["area_code"].unique()
    assert areas.len() == 1, (source, areas.to_list())
    whole = set(members.filter(area_code=areas[0])["municipality_code"])
    assert whole == named, source
    confidence = ref.areas.filter(area_type="trial_area", area_code=areas[0])["confidence"][0]
    assert confidence == "confirmed"


def test_withdrawn_maisema_karjala_group_is_in_no_trial_area(ref):
    trial = set(ref.of_type("trial_area")["municipality_code"])
    assert not trial & NOT_IN_ANY_TRIAL


def test_every_trial_area_has_source_and_a_reason_when_inferred(ref):
    trials = ref.areas.filter(area_type="trial_area")
    assert set(trials["confidence"]) <= {"confirmed", "inferred"}
    assert trials["source"].null_count() == 0
    inferred = trials.filter(confidence="inferred")
    assert inferred["note"].null_count() == 0


# Employment areas of 2025, from the Government decision TEM/2024/18 of 22.2.2024, the
# founding agreements and the City of Vaasa's page (docs/reference-data.md).
EMPLOYMENT_SOURCES = {
    "Keski-Pohjanmaa, VN 22.2.2024": ["272", "217", "074", "421", "236", "584", "849", "924"],
    "Suupohja, VN 22.2.2024": ["151", "218", "846", "232", "287", "301"],
    "Kymppi, perussopimus 25.9.2023": ["005", "010", "052", "233", "300", "403", "408", "759",
                                       "934", "989"],
    "Pohjanmaa, vaasa.fi 26.2.2024": ["905", "893", "946", "499", "399", "475", "545", "280",
                                      "231"],
    "Pohjois-Karjala, agreement (13)": ["167", "276", "426", "309", "607", "260", "848", "707",
                                        "090", "146", "176", "422", "541"],
    "Läntinen Pirkanmaa, agreement": ["790", "108", "143", "250", "581", "619"],
    "Etelä-Satakunta, eurajoki.fi": ["684", "050", "051", "102", "783"],
    "Mikkeli, agreement": ["491", "097", "178", "213", "507", "588", "593", "623"],
}


# Sources that describe an area by a whole region: checked against the region
# membership (itself checked against the public municipality list above).
WHOLE_REGIONS = {
    "Pohjois-Karjala: the 13 municipalities of North Karelia": ("MK12", set()),
    "Etelä-Karjala: 'maakunnan kokoinen'": ("MK09", set()),
    "Kainuu-Koillismaa: all of Kainuu, Kuusamo, Taivalkoski": ("MK18", {"305", "832"}),
}


@pytest.mark.parametrize("source", sorted(WHOLE_REGIONS))
def test_employment_areas_that_sources_describe_by_region(ref, source):
    region, extra = WHOLE_REGIONS[source]
    day = dt.date(2025, 1, 31)
    expected = set(valid_on(ref.of_type("region"), day).filter(area_code=region)[
        "municipality_code"]) | extra
    members = valid_on(ref.of_type("employment_area"), day)
    areas = members.filter(pl.col("municipality_code").is_in(list(expected)))["area_code"].unique()
    assert areas.len() == 1, areas.to_list()
    assert set(members.filter(area_code=areas[0])["municipality_code"]) == expected


def test_satakunta_is_split_into_two_employment_areas(ref):
    """Pori's eleven (pori.fi) and Rauma's five (eurajoki.fi) make up Satakunta."""
    day = dt.date(2025, 1, 31)
    satakunta = set(valid_on(ref.of_type("region"), day).filter(area_code="MK04")[
        "municipality_code"])
    members = valid_on(ref.of_type("employment_area"), day).filter(
        pl.col("municipality_code").is_in(list(satakunta)))
    sizes = sorted(members.group_by("area_code").len()["len"].to_list())
    assert sizes == [5, 11] and set(members["municipality_code"]) == satakunta


@pytest.mark.parametrize("source", sorted(EMPLOYMENT_SOURCES))
def test_employment_areas_follow_their_sources(ref, source):
    named = set(EMPLOYMENT_SOURCES[source])
    members = valid_on(ref.of_type("employment_area"), dt.date(2025, 1, 31))
    areas = members.filter(pl.col("municipality_code").is_in(list(named)))["area_code"].unique()
    assert areas.len() == 1, (source, areas.to_list())
    assert set(members.filter(area_code=areas[0])["municipality_code"]) == named
    assert ref.areas.filter(area_type="employment_area", area_code=areas[0])[
        "completeness"][0] == "complete"


def test_employment_areas_start_2025_and_partition(ref):
    members = ref.of_type("employment_area")
    assert members["valid_from"].min() == dt.date(2025, 1, 1)
    assert len(valid_on(members, dt.date(2024, 12, 31))) == 0
    assert members.filter(pl.col("municipality_code").is_duplicated()).height == 0
    partial = ref.areas.filter(area_type="employment_area", completeness="partial")
    assert set(partial["area_code"]) and partial["source"].null_count() == 0
