"""The HTTP API on the dashboard's Flask server, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
import yaml

from tests.test_dashboard_fixture import AREAS, MONTHS, publish_fixture, rows, unemployed

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def client(db_url):
    from dashboard.app import create_app

    server = create_app(publish_fixture(db_url)).server
    server.config["TRIALMON_TEST_URL"] = db_url
    return server.test_client()


def test_indicators_as_csv_json_and_parquet(client):
    base = "/api/v1/indicators?indicator=unemployed&area=091&from=2024-05&to=2024-07"
    csv = client.get(base + "&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    assert csv.headers["X-Trialmon-Synthetic"] == "true"
    table = pl.read_csv(io.BytesIO(csv.data), schema_overrides={"area_code": pl.String})
    assert table["month"].to_list() == ["2024-05", "2024-06", "2024-07"]
    assert table["value"].to_list() == [unemployed("091", 52), None, unemployed("091", 54)]
    assert table["flag"].to_list()[1] == "suppressed"  # never a zero

    body = client.get(base + "&format=json&lang=sv").get_json()
    assert [r["area_name"] for r in body["data"]] == ["Helsingfors"] * 3
    assert body["metadata"]["synthetic"] is True and body["metadata"]["language"] == "sv"

    parquet = client.get(base + "&format=parquet")
    assert pl.read_parquet(io.BytesIO(parquet.data))["value"].to_list() == \
        table["value"].to_list()


def test_filters_combine(client):
    response = client.get("/api/v1/indicators?indicator=unemployed,unemployed_share"
                          "&area_type=municipality&population=all&group=all&from=2024-12"
                          "&format=json")
    data = response.get_json()["data"]
    municipalities = sorted(c for c, (t, _) in AREAS.items() if t == "municipality")
    assert sorted({r["area_code"] for r in data}) == municipalities
    assert len(data) == 2 * len(municipalities)
    assert {r["month"] for r in data} == {MONTHS[-1]}


@pytest.mark.parametrize("query, parameter", [
    ("indicator=nope", "indicator"), ("format=xml", "format"), ("from=2024-13", "from"),
    ("to=May", "to"), ("lang=de", "lang"), ("area=ZZZ", "area"), ("population=kids", "population"),
    ("group=x", "group"), ("area_type=planet", "area_type"), ("colour=red", "colour"),
    ("from=2024-05&to=2024-01", "from"), ("limit=0", "limit"), ("limit=100001", "limit"),
    ("limit=ten", "limit"), ("offset=-1", "offset"),
    ("lang=fi&lang=sv", "lang"),
])
def test_bad_parameters_get_a_400_with_a_clear_message(client, query, parameter):
    response = client.get(f"/api/v1/indicators?{query}")
    assert response.status_code == 400
    body = json.loads(response.data)
    assert body["parameter"] == parameter and body["error"]


def test_areas_and_meta(client):
    areas = client.get("/api/v1/areas?area_type=trial_area").get_json()["areas"]
    assert {a["area_type"] for a in areas} == {"trial_area"}
    helsinki = next(a for a in areas if a["area_code"] == "TA01")
    assert (helsinki["name_fi"], helsinki["name_sv"]) == ("Helsinki", "Helsingfors")
    assert client.get("/api/v1/areas?area_type=moon").status_code == 400
    meta = client.get("/api/v1/indicators/meta?lang=fi").get_json()["indicators"]
    share = next(m for m in meta if m["id"] == "unemployed_share")
    assert share["unit"] == "percent" and share["decimals"] == 1 and share["denominator"]
    assert client.get("/api/v1/indicators/meta?lang=xx").status_code == 400


def test_meta_gives_the_plain_language_explanation_of_the_meta_file(client):
    meta_file = yaml.safe_load((ROOT / "indicators" / "indicators.meta.yml").read_text("utf-8"))
    for lang in ("fi", "sv"):
        meta = client.get(f"/api/v1/indicators/meta?lang={lang}").get_json()["indicators"]
        share = next(m for m in meta if m["id"] == "unemployed_share")
        assert share["explanation"] == meta_file["indicators"]["unemployed_share"]["plain"][lang]
        assert share["explanation"] != share["definition"]
    assert meta_file["indicators"]["unemployed_share"]["plain"]["fi"] != \
        meta_file["indicators"]["unemployed_share"]["plain"]["sv"]


@contextmanager
def statements(client) -> Iterator[list[str]]:
    """The SQL the app's serving engine runs while the block runs."""
    engine = client.application.extensions["trialmon_data"].db.published
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("query", [
    "indicator=unemployed&area=091&area_type=municipality&format=json",
    "indicator=unemployed&area=091&limit=2&offset=1",  # deprecated offset paging
    "indicator=unemployed&area=091&area_type=municipality&limit=2",  # keyset paging
])
def test_a_table_request_is_validated_once(client, query):
    with statements(client) as seen:
        assert client.get(f"/api/v1/indicators?{query}").status_code == 200
    # validation looks up the stored area types and area codes: once each per request
    assert sum("SELECT DISTINCT area.area_type" in s for s in seen) == 1
    assert sum("SELECT DISTINCT area.area_code" in s for s in seen) == 1


def test_too_big_a_selection_is_validated_once(client, monkeypatch):
    from dashboard import api

    monkeypatch.setattr(api, "MAX_ROWS", 10)
    with statements(client) as seen:
        assert client.get("/api/v1/indicators?indicator=unemployed&area=091,092"
                          ).status_code == 413
    assert sum("SELECT DISTINCT area.area_code" in s for s in seen) == 1


def test_the_api_and_the_pages_share_one_data_cache(client):
    """The app read the areas when it started (warm_up); the API answers from the same
    cache, so it reads no area row again."""
    with statements(client) as seen:
        areas = client.get("/api/v1/areas").get_json()["areas"]
    assert set(AREAS) <= {a["area_code"] for a in areas}
    assert not [s for s in seen if re.search(r"\bFROM area\b(?!_)", s)]


def test_root_redirects_by_accept_language_and_sets_html_lang(client):
    assert client.get("/", headers={"Accept-Language": "sv-FI,sv;q=0.9"}).headers[
        "Location"].endswith("/sv/")
    assert client.get("/", headers={"Accept-Language": "de"}).headers["Location"].endswith("/fi/")
    page = client.get("/en/explorer?indicator=unemployed").data.decode()
    assert '<html lang="en">' in page
    assert "cdn" not in page.lower() and "https://" not in page


def fixture_cell_count(**where) -> int:
    """Cells of the hand-made fixture matching `where` (counted from its own rows)."""
    return sum(all(r[k] in v for k, v in where.items()) for r in rows())


def test_pages_follow_the_next_link_to_exactly_the_whole_selection(client):
    query = "/api/v1/indicators?indicator=unemployed,unemployed_share&population=all&format=json"
    whole = client.get(query).get_json()
    expected = fixture_cell_count(indicator={"unemployed", "unemployed_share"},
                                  population={"all"})
    assert whole["paging"]["total"] == len(whole["data"]) == expected
    seen, link, pages = [], query + "&limit=7", 0
    while link:
        answer = client.get(link)
        body = answer.get_json()
        assert len(body["data"]) <= 7
        seen += body["data"]
        link = body["paging"]["next"]
        assert ("Link" in answer.headers) == bool(link)
        if link:
            assert answer.headers["Link"] == f'<{link}>; rel="next"'
        pages += 1
    assert pages == -(-expected // 7)
    past = client.get(query + "&limit=7&offset=1000000000").get_json()
    assert past["data"] == [] and past["paging"]["next"] is None
    assert [tuple(r[k] for k in KEY) for r in seen] == sorted(
        tuple(r[k] for k in KEY) for r in whole["data"])  # primary-key order, no overlap


# the documented page order (docs/dashboard.md): indicator_value's primary key, month first
KEY = ("month", "indicator", "population", "group", "area_type", "area_code")


def walk(client, link: str, keyset: bool = True) -> tuple[list[dict], int]:
    """Every row of a walk from `link` along the next links (and the number of pages)."""
    seen, pages = [], 0
    while link:
        answer = client.get(link)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        seen += body["data"]
        link = body["paging"]["next"]
        assert ("Link" in answer.headers) == bool(link)
        if keyset:
            assert (link is None) == (body["paging"]["next_cursor"] is None)
        pages += 1
    return seen, pages


@pytest.mark.parametrize("limit", [1, 7, 60, 100_000])
def test_a_cursor_walk_returns_exactly_the_rows_of_the_selection(client, limit):
    query = ("/api/v1/indicators?indicator=unemployed,unemployed_share,jobseekers"
             "&area_type=municipality,trial_area&format=json")
    seen, pages = walk(client, f"{query}&limit={limit}")
    # the oracle: the hand-made fixture's own rows, selected here
    wanted = {"unemployed", "unemployed_share", "jobseekers"}
    expected = sorted((tuple(r[k] for k in KEY), r["value"]) for r in rows()
                      if r["indicator"] in wanted
                      and r["area_type"] in ("municipality", "trial_area"))
    keys = [tuple(r[k] for k in KEY) for r in seen]
    assert len(keys) == len(set(keys))  # no row twice
    assert keys == [k for k, _ in expected]  # none missing, in primary-key order
    assert [r["value"] for r in seen] == [v for _, v in expected]
    assert pages == max(1, -(-len(expected) // limit))


def test_cursor_links_carry_the_filters_and_offset_paging_still_works(client):
    query = "/api/v1/indicators?indicator=unemployed&area=091,049&format=json"
    first = client.get(query + "&limit=2").get_json()["paging"]
    assert "cursor=" in first["next"] and "offset" not in first["next"]
    assert "indicator=unemployed" in first["next"] and "area=091%2C049" in first["next"]
    assert first["offset"] is None and first["publication"] is None  # no publication yet
    by_offset, _ = walk(client, query + "&limit=2&offset=0", keyset=False)
    by_cursor, _ = walk(client, query + "&limit=2")
    assert by_offset == by_cursor
    assert client.get(query + "&limit=2&offset=0").get_json()["paging"]["next"].endswith(
        "offset=2")


def _token(payload) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "not-base64!", "@@@", "AAAA", _token([1, 2]), _token({"after": ["a"] * 5,
                                                          "publication": None}),
    _token({"after": ["a"] * 5 + [6], "publication": None}),
    _token({"after": ["a"] * 6, "publication": "1"}),
    _token({"after": ["a"] * 6, "publication": 7}),  # no such publication
])
def test_a_bad_cursor_is_a_400_naming_it(client, cursor):
    answer = client.get(f"/api/v1/indicators?indicator=unemployed&limit=5&cursor={cursor}")
    assert answer.status_code == 400
    assert answer.get_json()["parameter"] == "cursor"


def test_cursor_and_offset_together_are_refused(client):
    link = client.get("/api/v1/indicators?indicator=unemployed&format=json&limit=3"
                      ).get_json()["paging"]["next"]
    answer = client.get(link + "&offset=3")
    assert answer.status_code == 400 and answer.get_json()["parameter"] == "cursor"


def test_a_selection_over_the_maximum_needs_paging(client, monkeypatch):
    from dashboard import api

    monkeypatch.setattr(api, "MAX_ROWS", 10)  # the fixture is small; the rule is the same
    answer = client.get("/api/v1/indicators?indicator=unemployed&format=json")
    assert answer.status_code == 413
    body = answer.get_json()
    assert body["parameter"] == "limit" and body["rows"] == fixture_cell_count(
        indicator={"unemployed"}) and "limit" in body["error"] and body["next"]
    assert client.get(body["next"]).status_code == 200


def test_etag_and_cache_control_from_the_data_version(client):
    url = "/api/v1/indicators?indicator=unemployed&area=091&format=csv"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get(url.replace("091", "049"))
    assert other.headers["ETag"] != etag
    assert client.get("/api/v1/areas").headers["ETag"]


def test_openapi_document_lists_every_route_and_parameter(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    app_routes = {r.rule.replace("<lang>", "{lang}") for r in client.application.url_map.iter_rules()
                  if r.rule.startswith("/api/v1/") and r.rule != "/api/v1/openapi.json"}
    assert set(doc["paths"]) == app_routes
    names = {p["name"] for p in doc["paths"]["/api/v1/indicators"]["get"]["parameters"]}
    assert names == {"indicator", "area", "area_type", "population", "group", "from", "to",
                     "lang", "format", "limit", "cursor", "offset", "as_of", "vintage"}
    deprecated = {p["name"] for p in doc["paths"]["/api/v1/indicators"]["get"]["parameters"]
                  if p.get("deprecated")}
    assert deprecated == {"offset"}


def test_bulk_file_is_a_plain_file_with_every_cell(client):
    answer = client.get("/api/v1/bulk/trialmon-indicators-en.csv.gz")
    assert answer.status_code == 200 and answer.mimetype == "application/gzip"
    # as the datapackage describes it: codes are text, the value is a number
    types = {"area_code": pl.String, "value": pl.Float64}
    table = pl.read_csv(gzip.decompress(answer.data), schema_overrides=types)
    assert table.height == len(rows())
    # built one indicator at a time, it equals the whole table exported in one piece
    from indicators.export import ExportQuery, query_table, render

    url = client.application.config["TRIALMON_TEST_URL"]
    whole = pl.read_csv(render(query_table(url, ExportQuery()), "csv", ExportQuery()),
                        schema_overrides=types)
    assert table.equals(whole)
    meta = client.get("/api/v1/bulk/trialmon-indicators-en.metadata.json").get_json()
    assert meta["row_count"] == len(rows()) and meta["disclosure_control"]["threshold"] == 5
    assert client.get("/api/v1/bulk/trialmon-indicators-de.csv.gz").status_code == 404
