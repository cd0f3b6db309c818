"""Dashboard building blocks: formats, address state, projection, data access, callbacks."""

from __future__ import annotations

import pytest

from dashboard import charts, geo, i18n, state
from tests.conftest import shared_file
from tests.test_dashboard_fixture import MONTHS, publish_fixture, unemployed, unemployed_share

NBSP, NNBSP, MINUS = "\u00a0", "\u202f", "\u2212"


# --------------------------------------------------------------------------- formats
@pytest.mark.parametrize("lang, expected", [("fi", f"1{NNBSP}234{NNBSP}567,9"),
                                            ("sv", f"1{NNBSP}234{NNBSP}567,9"),
                                            ("en", "1,234,567.9")])
def test_numbers_follow_the_language(lang, expected):
    assert i18n.fmt_number(1234567.89, 1, lang) == expected
    # a real minus sign, and no sign on a value that rounds to zero
    assert i18n.fmt_number(-1234567.89, 1, lang) == MINUS + expected
    assert i18n.fmt_number(-0.04, 1, lang) == ("0,0" if lang != "en" else "0.0")


def test_plural_forms_come_from_the_catalogs():
    assert i18n.nt("sv", "{n} row in the selection.", "{n} rows in the selection.", 1) == \
        "Urvalet har 1 rad."
    assert i18n.nt("sv", "{n} row in the selection.", "{n} rows in the selection.", 2) == \
        "Urvalet har 2 rader."
    assert i18n.nt("fi", "{n} row in the selection.", "{n} rows in the selection.", 1) == \
        "Valinnassa on 1 rivi."
    assert i18n.nt("fi", "{n} row in the selection.", "{n} rows in the selection.", 1200) == \
        f"Valinnassa on 1{NNBSP}200 riviä."
    assert i18n.nt("en", "{n} row in the selection.", "{n} rows in the selection.", 1) == \
        "1 row in the selection."


def test_percentages_changes_and_months():
    assert i18n.fmt_value(12.345, "unemployed_share", "fi") == f"12,3{NBSP}%"
    assert i18n.fmt_change(1.25, "unemployed_share", "en") == f"+1.2{NBSP}pp" or \
        i18n.fmt_change(1.25, "unemployed_share", "en") == f"+1.3{NBSP}pp"
    assert i18n.fmt_change(-40, "unemployed", "sv") == f"{MINUS}40"
    assert i18n.fmt_change(0.0, "unemployed_share", "en") == f"0.0{NBSP}pp"
    assert i18n.fmt_change(-0.04, "unemployed_share", "fi") == f"0,0{NBSP}%-yks."
    assert i18n.fmt_value(None, "unemployed", "fi") == ""
    assert i18n.fmt_month("2024-03", "fi") == "maaliskuu 2024"
    assert i18n.fmt_month("2024-03", "sv") == "mars 2024"


def test_interface_texts_come_from_the_catalogs():
    assert i18n.t("fi", "Overview") == "Yleiskuva"
    assert i18n.t("sv", "Overview") == "Översikt"
    assert i18n.t("en", "Overview") == "Overview"
    assert i18n.t("sv", "Employment trials") == "Kommunförsöken med sysselsättning"


# --------------------------------------------------------------------------- address state
AREAS = ["TRIALS", "NONTRIAL", "SSS", "091", "TA01"]


def test_a_view_survives_a_round_trip_through_the_address():
    view = state.View(page="explorer", lang="sv", indicator="unemployed", areas=("091", "TA01"),
                      population="target_group", group="under_30", mode="index",
                      start="2021-01", end="2023-12", tab="table")
    parsed, notices = state.parse("/sv/explorer", state.to_query(view), AREAS, MONTHS)
    assert notices == []
    for name in state.PAGE_PARAMS["explorer"]:
        field = {"from": "start", "to": "end"}.get(name, name)
        assert getattr(parsed, field) == getattr(view, field)


def test_bad_parameters_fall_back_to_defaults_with_notices():
    view, notices = state.parse("/en/explorer", "?indicator=x&areas=091,ZZ&mode=up&from=2031-01",
                                AREAS, MONTHS)
    assert view.indicator == state.DEFAULT_INDICATOR and view.areas == ("091",)
    assert view.mode == "level" and view.start is None
    assert len(notices) == 4 and "ZZ" in notices[1]


def test_unknown_pages_and_languages():
    assert state.split_path("/sv/compare") == ("sv", "compare")
    assert state.split_path("/fi/") == ("fi", "overview")
    view, notices = state.parse("/de/nothing", "", AREAS, MONTHS)
    assert view.page == "overview" and view.lang == "fi" and len(notices) == 1


def test_downloads_keep_every_area_and_explorer_says_why_it_cuts():
    many = ",".join(f"{n:03d}" for n in range(1, 21))
    codes = [f"{n:03d}" for n in range(1, 21)]
    view, notices = state.parse("/fi/downloads", f"?areas={many}&all=trial_area", codes, MONTHS)
    assert view.areas == tuple(codes) and view.all == ("trial_area",) and notices == []
    view, notices = state.parse("/en/explorer", f"?areas={many}", codes, MONTHS)
    assert len(view.areas) == state.MAX_AREAS and "at most 8" in notices[0]


def test_overview_opens_on_the_newest_trial_month_and_compare_names_unknown_areas():
    months = [*MONTHS, "2025-01", "2025-02"]  # published after the trials ended 2024-12
    assert state.parse("/fi/", "", AREAS, months)[0].month == "2024-12"
    assert state.parse("/fi/compare", "", AREAS, months)[0].month == "2025-02"
    view, notices = state.parse("/fi/compare", "?area=XXX", AREAS, months)
    assert view.area == "" and "XXX" in notices[0]


# --------------------------------------------------------------------------- projection
def test_tm35fin_inverse_matches_known_points():
    # central meridian, and Helsinki Senate Square (EPSG:3067 385 800 / 6 672 000 ≈
    # 60.1689 N 24.9419 E, as given by the National Land Survey's coordinate service)
    lon, lat = geo.tm35fin_to_wgs84(500000.0, 0.0)
    assert abs(lon - 27.0) < 1e-9 and abs(lat) < 1e-9
    lon, lat = geo.tm35fin_to_wgs84(385800.0, 6672000.0)
    assert abs(lon - 24.9419) < 2e-4 and abs(lat - 60.1689) < 2e-4


def test_boundaries_are_reprojected_and_keyed_by_municipality_code():
    path = shared_file("data", "geo", "finland_kunnat_2km.geojson")
    collection = geo.load_boundaries(str(path))
    codes = {f["id"] for f in collection["features"]}
    assert len(codes) == 308 and "091" in codes
    ring = next(f for f in collection["features"] if f["id"] == "091")["geometry"]["coordinates"]
    while isinstance(ring[0][0], list):
        ring = ring[0]
    assert all(24.5 < x < 25.5 and 59.8 < y < 60.5 for x, y in ring)


# --------------------------------------------------------------------------- charts
def test_change_and_index_modes_are_worked_from_the_series():
    import polars as pl

    frame = pl.DataFrame({"area_code": ["A"] * 14,
                          "month": ["2021-01", "2021-02", *[f"2021-{m:02d}" for m in
                                                            range(3, 13)], "2022-01", "2022-02"],
                          "value": [90.0, 100.0, *[110.0] * 10, 99.0, 120.0]})
    index = charts.transform(frame, "index").sort("month")
    assert index["value"].to_list()[:3] == [90.0, 100.0, 110.0]
    yoy = charts.transform(frame, "yoy").sort("month")
    assert yoy["value"].to_list()[-2:] == [9.0, 20.0] and yoy["value"][0] is None


def test_trend_words():
    assert charts.trend_word([1, 2, 3, 4, 5, 6], "en") == "rising"
    assert charts.trend_word([6, 5, 4, 3, 2, 1], "en") == "falling"
    assert charts.trend_word([5, 5, 5, 5], "en") == "stable"
    assert charts.trend_word([None, 1], "en") == "not enough data for a trend"


# --------------------------------------------------------------------------- data access
def test_data_access_reads_exactly_the_published_cells(db_url):
    from dashboard.data import Data

    data = Data(publish_fixture(db_url))
    series = data.series(("unemployed_share",), "all", "all", ("091", "TRIALS"), "2024-05",
                         "2024-07")
    helsinki = series.filter(series["area_code"] == "091").sort("month")
    assert helsinki["value"].to_list() == [unemployed_share("091", MONTHS.index("2024-05")),
                                           None, unemployed_share("091", MONTHS.index("2024-07"))]
    assert helsinki["flag"].to_list() == [None, "suppressed", "incomplete"]
    section = data.cross_section("unemployed", "all", "all", "municipality", "2024-12")
    assert dict(zip(section["area_code"], section["value"], strict=True)) == {
        c: unemployed(c, MONTHS.index("2024-12")) for c in ("091", "049", "837", "092")}
    assert data.months() == MONTHS and data.latest_month() == "2024-12"
    assert data.is_synthetic()
    assert data.area_names("sv")["091"] == "Helsingfors"
    status = data.status()
    assert status.height == len(MONTHS) and str(status["vintage"].dtype) == "Datetime(time_unit='us', time_zone='UTC')"


def texts(component) -> list[str]:
    """Every string in a Dash component tree."""
    if isinstance(component, str | int | float):
        return [str(component)]
    if isinstance(component, list | tuple):
        return [t for c in component for t in texts(c)]
    children = getattr(component, "children", None)
    return texts(children) if children is not None else []


def test_page_builders_show_the_fixture_values(sqlite_url):
    from dashboard.data import Data
    from dashboard.pages import compare, explorer, overview

    data = Data(publish_fixture(sqlite_url))
    view = state.View(page="explorer", lang="fi", indicator="unemployed", areas=("091",),
                      start="2024-05", end="2024-07")
    _, figure, table, summary, _ = explorer.build(view, data)
    assert figure["data"][0]["y"] == [unemployed("091", 52), None, unemployed("091", 54)]
    text = texts(table)
    assert "··" in text and f"{unemployed('091', 54):,}".replace(",", NNBSP) in text
    cards = texts(overview.build(state.View(area="TRIALS", month="2024-12", lang="en"), data))
    assert "50,590" in cards and "12,559" in cards
    # each card against the whole country (base 90 000) and the comparison area (40 000):
    # +120 on a year earlier's 90 470 is +0.1 %; 40 590 against 40 470 is +0.3 %
    assert "90,590" in cards and "40,590" in cards and "+0.1\u00a0%" in cards
    assert "+0.3\u00a0%" in cards
    after = texts(overview.build(state.View(area="TRIALS", month="2025-01", lang="en"), data))
    assert "not applicable" in after and "12,559" not in after
    cmp = state.View(page="compare", lang="en", scope="municipality", area="091",
                     month="2024-12", peers="size")
    _, bars, _, _ = compare.build(cmp, data)
    assert len(bars["data"][0]["y"]) == 4  # all four municipalities are within the 15 nearest


def test_download_zip_holds_the_file_and_its_metadata(sqlite_url):
    import io
    import json
    import zipfile

    import polars as pl

    from dashboard.api import download_zip
    from indicators.export import ExportQuery, query_table
    from indicators.provenance import published_rule

    url = publish_fixture(sqlite_url)
    query = ExportQuery(indicators=("unemployed",), areas=("091",), start="2024-06",
                        end="2024-06", lang="fi")
    archive = zipfile.ZipFile(io.BytesIO(download_zip(query_table(url, query), query, "xlsx",
                                                      published_rule(url))))
    names = sorted(archive.namelist())
    assert names == ["trialmon-synthetic-demo.xlsx", "trialmon-synthetic-demo.xlsx.metadata.json"]
    sheet = pl.read_excel(io.BytesIO(archive.read(names[0])), sheet_name="data")
    # Finnish headers in a Finnish file
    assert sheet["alue"].to_list() == ["Helsinki"] and sheet["merkintä"].to_list() == [
        "suppressed"] and sheet["arvo"].to_list() == [None]
    meta = json.loads(archive.read(names[1]))
    assert meta["language"] == "fi" and meta["disclosure_control"]["threshold"] == 5


def test_shipped_boundaries_are_small_wgs84_and_cover_every_municipality(monkeypatch):
    from dashboard.pages import map as map_page

    monkeypatch.delenv("TRIALMON_BOUNDARIES", raising=False)
    path = map_page.boundaries_path()
    assert path == str(map_page.SHIPPED_BOUNDARIES)
    assert map_page.SHIPPED_BOUNDARIES.stat().st_size < 300_000
    collection = geo.load_boundaries(path)
    codes = {f["id"] for f in collection["features"]}
    assert len(codes) == 308 and {"091", "205", "837"} <= codes  # 2026: 308 municipalities
    points = [p for f in collection["features"] for p in _points(f["geometry"]["coordinates"])]
    assert all(19 < lon < 32 and 59 < lat < 71 for lon, lat in points)  # Finland, degrees
    # Kainuu's trial area (Kajaani, Hyrynsalmi, Kuhmo, Paltamo, Ristijärvi, Sotkamo,
    # Suomussalmi) dissolved: of the plain union's 7 rings (2 outlines, 5 holes) the 4 thin
    # gaps between neighbours go; the outline, a detached piece of Kajaani and the one
    # hole that is another municipality's land (Vaala, 785) stay
    kainuu = tuple(("TA", c) for c in ("205", "105", "290", "620", "697", "765", "777"))
    lon, _ = map_page.trial_outlines(path, kainuu)
    assert lon.count(None) == 3
    # Espoo alone keeps its real hole: Kauniainen (235), which it surrounds
    lon, _ = map_page.trial_outlines(path, (("TA", "049"),))
    assert lon.count(None) == 2


def _points(coords):
    if coords and isinstance(coords[0], int | float):
        return [coords]
    return [p for part in coords for p in _points(part)]


def test_every_interface_text_is_translated_and_plurals_follow_the_catalog_rule():
    """The workflow of docs/dashboard.md: every message extracted from the code (t, nt, N_)
    has a Finnish and a Swedish translation, with both plural forms where it has them."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    keywords = {"t": (2,), "nt": (2, 3), "N_": None}
    root = i18n.LOCALE_DIR.parent
    extracted = {m[2] for m in extract_from_dir(str(root), method_map=[("**.py", "python")],
                                                keywords=keywords)}
    assert ("{n} row in the selection.", "{n} rows in the selection.") in extracted
    for lang in ("fi", "sv"):
        with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        assert catalog.num_plurals == 2 and catalog.plural_expr == "(n != 1)"
        translated = {m.id for m in catalog if m.id and (
            all(m.string) if isinstance(m.string, tuple) else m.string)}
        missing = sorted(map(str, extracted - translated))
        assert missing == [], f"{lang}: untranslated {missing[:5]}"


def test_empty_states_say_what_is_missing(sqlite_url):
    """A Statistics Finland indicator without loaded data: a message, no empty axes."""
    from dashboard.data import Data
    from dashboard.pages import explorer

    data = Data(publish_fixture(sqlite_url))  # the fixture has no Statistics Finland rows
    view = state.View(page="explorer", lang="en", indicator="stat_unemployment_rate",
                      areas=("SSS",))
    _, figure, _, summary, _ = explorer.build(view, data)
    assert figure["data"] == [] and figure["layout"]["xaxis"]["visible"] is False
    assert "not loaded" in figure["layout"]["annotations"][0]["text"]
    assert "not loaded" in " ".join(texts(summary))


def test_footer_cites_only_the_sources_loaded(sqlite_url):
    from dashboard.app import footer
    from dashboard.data import Data

    data = Data(publish_fixture(sqlite_url))  # register months only
    text = " ".join(texts(footer("en", data)))
    assert "register extract" in text and "Statistics Finland" not in text


def test_a_fully_suppressed_sparkline_is_a_text_and_a_drawn_one_names_its_period():
    import polars as pl
    from dash import html

    from dashboard.pages import overview

    suppressed = pl.DataFrame({"month": ["2025-10", "2025-11", "2025-12"],
                               "value": [None, None, None]}, schema={"month": pl.String,
                                                                     "value": pl.Float64})
    shown = overview.sparkline(suppressed, "2025-12", "fi")
    assert isinstance(shown, html.P) and "kehityskäyrään" in shown.children  # never <img src="">
    drawn = overview.sparkline(suppressed.with_columns(pl.Series("value", [1.0, 2.0, 3.0])),
                               "2025-12", "en")
    assert isinstance(drawn, html.Img) and drawn.src.startswith("data:image/svg+xml")
    assert drawn.alt.startswith("Trend line October 2025–December 2025")


def _walk(component):
    """Every Dash component in a tree, depth first."""
    if isinstance(component, list | tuple):
        for c in component:
            yield from _walk(c)
        return
    if not hasattr(component, "to_plotly_json"):
        return
    yield component
    yield from _walk(getattr(component, "children", None))


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_definitions_contents_link_to_anchors_and_plain_language_comes_first(sqlite_url, lang):
    """Every link of the table of contents targets an element of the page; every indicator
    is listed and opens with its plain-language text (read here straight from the YAML
    file), then the exact rule with its numerator (and denominator) measure."""
    import yaml

    from dashboard.data import Data
    from dashboard.pages import static_pages
    from indicators.meta import META_FILE

    meta = yaml.safe_load(META_FILE.read_text(encoding="utf-8"))
    page = static_pages.definitions(state.View(page="definitions", lang=lang),
                                    Data(publish_fixture(sqlite_url)))
    nodes = list(_walk(page))
    ids = {n.id for n in nodes if getattr(n, "id", None)}
    toc = next(n for n in nodes if n.__class__.__name__ == "Nav")
    targets = [n.href for n in _walk(toc.children) if getattr(n, "href", None)]
    assert targets and all(h.startswith("#") and h[1:] in ids for h in targets)
    assert {f"#def-{i}" for i in meta["indicators"]} <= set(targets)
    links = [n.href for n in nodes if getattr(n, "href", "") and n.href.startswith("#")]
    assert all(h[1:] in ids for h in links)  # links inside the definitions too
    articles = {n.id: n for n in nodes if getattr(n, "id", "").startswith("def-")}
    for ind_id, ind in meta["indicators"].items():
        heading, plain, rule_title, facts = articles[f"def-{ind_id}"].children
        assert heading.children == ind["name"][lang]
        assert plain.children == ind["plain"][lang] and len(plain.children) > 60
        assert rule_title.__class__.__name__ == "H4"
        rule = " ".join(texts(facts))
        assert meta["measures"][ind["numerator"]][lang] in rule
        if ind["denominator"]:
            assert meta["measures"][ind["denominator"]][lang] in rule and "100 ×" in rule
        if ind["source"] == "register":
            assert ind["rule"].replace("`", "") in rule  # the register fields (spec table)
