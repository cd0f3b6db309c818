"""The HTTP API on the dashboard's Flask server, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest

from tests.test_dashboard_fixture import AREAS, MONTHS, publish_fixture, unemployed


@pytest.fixture
def client(db_url):
    from dashboard.app import create_app

    return create_app(publish_fixture(db_url)).server.test_client()


def test_indicators_as_csv_json_and_parquet(client):
    base = "/api/v1/indicators?indicator=unemployed&area=091&from=2024-05&to=2024-07"
    csv = client.get(base + "&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
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
    ("from=2024-05&to=2024-01", "from"),
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


def test_root_redirects_by_accept_language_and_sets_html_lang(client):
    assert client.get("/", headers={"Accept-Language": "sv-FI,sv;q=0.9"}).headers[
        "Location"].endswith("/sv/")
    assert client.get("/", headers={"Accept-Language": "de"}).headers["Location"].endswith("/fi/")
    page = client.get("/en/explorer?indicator=unemployed").data.decode()
    assert '<html lang="en">' in page
    assert "cdn" not in page.lower() and "https://" not in page
