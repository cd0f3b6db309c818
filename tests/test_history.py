"""Figures as published, on SQLite and PostgreSQL: load -> revise -> as_of.

Synthetic months are loaded and computed; one month is then re-delivered with some
jobseekers of one municipality removed. The expected changes are worked out
independently: the test snapshots the whole published table before and after and
compares the two itself; the stored history must hold exactly those cells, and the
table as of the first publication (through the export code and the HTTP API) must be
the first snapshot again, figure for figure.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import shutil
import time
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from etl.demo import generate_months
from etl.register import load_register_frames
from indicators.engine import compute
from indicators.export import ExportQuery, query_table
from shell.pipeline import prepare_database
from tests import pgserver
from trialmon.db import get_engine

KEY = ["indicator", "population", "group", "area_type", "area_code", "month"]
FIGURES = ["value", "numerator", "denominator", "flag"]
MONTHS = ("2024-04", "2024-06")


def snapshot(url: str) -> pl.DataFrame:
    """Every published cell, read straight from the table (not through the code under test)."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text(
            'SELECT indicator, population, "group", area_type, area_code, month, value, '
            "numerator, denominator, flag FROM indicator_value")).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        **{k: pl.String for k in KEY}, "value": pl.Float64, "numerator": pl.Float64,
        "denominator": pl.Float64, "flag": pl.String}).with_columns(
        pl.col("flag").fill_null(""))


def changed_keys(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Cells of `before` whose figures differ in `after`, or which `after` lacks."""
    joined = before.join(after, on=KEY, how="left", suffix="_new")
    differs = pl.any_horizontal(
        *[pl.col(c).ne_missing(pl.col(f"{c}_new")) for c in FIGURES])
    return joined.filter(differs).select(KEY).sort(KEY)


def figures(table: pl.DataFrame) -> pl.DataFrame:
    """The key and figures of an export table, typed as the snapshot."""
    # the export names a 0/0 cell's empty flag "no_value"; the table stores it empty
    return table.select(*KEY, pl.col("value", "numerator", "denominator").cast(pl.Float64),
                        pl.col("flag").fill_null("").replace("no_value", "")).sort(KEY)


def history_rows(url: str) -> pl.DataFrame:
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text(
            'SELECT indicator, population, "group", area_type, area_code, month, '
            "published_in, replaced_in FROM indicator_value_history")).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        **{k: pl.String for k in KEY}, "published_in": pl.Int64, "replaced_in": pl.Int64})


def publications(url: str) -> list[dict]:
    with get_engine(url).connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "SELECT * FROM publication ORDER BY publication_id")).mappings()]


def _publish_three_months(url: str) -> list[pl.DataFrame]:
    """Three synthetic months loaded and computed; returns their register frames."""
    frames = list(generate_months(0.01, *MONTHS, seed=11))
    load_register_frames(url, [(f"first-{f['month'][0]}", f) for f in frames],
                         synthetic=True, progress=False)
    compute(url, ["2024-04", "2024-05", "2024-06"], progress=False)
    return frames


def _redeliver_june(url: str, frames: list[pl.DataFrame]) -> None:
    """2024-06 re-delivered without 40 jobseekers of its biggest municipality, computed."""
    june = frames[-1]
    biggest = june.group_by("municipality_code").len().sort("len")["municipality_code"][-1]
    dropped = june.filter(pl.col("municipality_code") == biggest).head(40)["person_id"]
    corrected = june.filter(~pl.col("person_id").is_in(dropped.implode()))
    report = load_register_frames(url, [("corrected-2024-06", corrected)], synthetic=True,
                                  progress=False)
    assert report.changed_months == {"2024-06"}
    compute(url, ["2024-06"], progress=False)


class _Template:
    """A database built once per module and backend; each test works on its own copy
    (SQLite: the folder of its files; PostgreSQL: CREATE DATABASE ... TEMPLATE), so the
    tests stay independent without rebuilding it."""

    def __init__(self, url: str, server: str | None):
        self.url, self.server = url, server  # server: PostgreSQL's, None on SQLite

    @classmethod
    def empty(cls, backend: str, folder, request) -> _Template:
        if backend == "sqlite":
            return cls(f"sqlite:///{(folder / 'trialmon.sqlite').as_posix()}", None)
        server = request.getfixturevalue("pg_server_url")
        return cls(pgserver.create_database(server, f"template_{os.getpid()}_"
                                                    f"{next(_copies)}"), server)

    def copy(self, tmp_path, monkeypatch) -> str:
        """A new database with this one's contents; its URL."""
        get_engine(self.url).dispose()  # PostgreSQL copies only a database nobody is in
        name = make_url(self.url).database
        if self.server is None:
            shutil.copytree(Path(name).parent, tmp_path / "copy")
            return f"sqlite:///{(tmp_path / 'copy' / 'trialmon.sqlite').as_posix()}"
        monkeypatch.setenv("TRIALMON_DOWNLOADS_DIR", str(tmp_path / "downloads"))
        return pgserver.create_database(self.server, f"{name}_{next(_copies)}",
                                        template=name)


_copies = itertools.count()


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def published_template(request, tmp_path_factory):
    """Three synthetic months published (``_publish_three_months``), once per backend:
    (template, the months' register frames)."""
    folder = tmp_path_factory.mktemp("published")
    template = _Template.empty(request.param, folder, request)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRIALMON_DOWNLOADS_DIR", str(folder / "downloads"))
        prepare_database(template.url)
        frames = _publish_three_months(template.url)
    return template, frames


@pytest.fixture(scope="module")
def revised_template(published_template, tmp_path_factory):
    """The published template with 2024-06 re-delivered (``_redeliver_june``):
    (template, before, after, a moment between the two publications)."""
    published, frames = published_template
    with pytest.MonkeyPatch.context() as patch:
        url = published.copy(tmp_path_factory.mktemp("revised"), patch)
        before = snapshot(url)
        time.sleep(1.2)
        between = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        time.sleep(1.2)
        _redeliver_june(url, frames)
        after = snapshot(url)
    return _Template(url, published.server), before, after, between


@pytest.fixture
def revised(revised_template, tmp_path, monkeypatch):
    """Three synthetic months published, then 2024-06 re-delivered without 40 jobseekers
    of its biggest municipality (a copy of ``revised_template``). Returns (url, before,
    after, moment between)."""
    template, before, after, between = revised_template
    return template.copy(tmp_path, monkeypatch), before, after, between


def test_a_revision_keeps_exactly_the_changed_cells(revised):
    url, before, after, _ = revised
    first, second = publications(url)
    assert first["reason"] == "new_month" and first["cells_changed"] == 0
    assert first["cells_added"] == before.height
    expected = changed_keys(before, after)
    assert 0 < expected.height < before.height // 10  # a small revision
    kept = history_rows(url)
    assert kept.select(KEY).sort(KEY).equals(expected)  # only the changed cells
    assert set(kept["published_in"]) == {first["publication_id"]}
    assert set(kept["replaced_in"]) == {second["publication_id"]}
    assert second["reason"] == "corrected_delivery"
    assert second["cells_changed"] + second["cells_removed"] == expected.height
    # months: the revised month and 2024-05 (its interview cohort reads June)
    assert set(kept["month"]) <= {"2024-05", "2024-06"}


def test_as_of_returns_the_old_figures_then_and_the_new_ones_now(revised):
    url, before, after, between = revised
    first, second = publications(url)
    for query in (ExportQuery(vintage=first["publication_id"]), ExportQuery(as_of=between)):
        assert figures(query_table(url, query)).equals(before.sort(KEY))
    assert figures(query_table(url, ExportQuery())).equals(after.sort(KEY))
    latest = query_table(url, ExportQuery(vintage=second["publication_id"]))
    assert figures(latest).equals(after.sort(KEY))


def test_the_api_serves_the_table_as_published_and_the_revision_table(revised):
    from dashboard.app import create_app

    url, before, after, between = revised
    first, second = publications(url)
    client = create_app(url).server.test_client()
    changed = changed_keys(before, after).filter(pl.col("area_type") == "country")
    indicator = changed["indicator"][0]
    base = f"/api/v1/indicators?indicator={indicator}&area=SSS&format=csv"
    for suffix in (f"&vintage={first['publication_id']}", f"&as_of={between}"):
        response = client.get(base + suffix)
        assert response.status_code == 200
        assert response.headers["X-Trialmon-Vintage"] == str(first["publication_id"])
        table = pl.read_csv(io.BytesIO(response.data), schema_overrides={"flag": pl.String})
        expected = before.filter(pl.col("indicator") == indicator, pl.col("area_code") == "SSS")
        assert sorted(zip(table["month"], table["population"], table["group"],
                          table["value"], strict=True)) == sorted(zip(
            expected["month"], expected["population"], expected["group"], expected["value"],
            strict=True))
    revisions = client.get(f"/api/v1/revisions?indicator={indicator}&area=SSS").get_json()
    rows = revisions["revisions"]
    assert len(rows) == changed.filter(pl.col("indicator") == indicator).height
    row = rows[0]
    old = before.filter(*[pl.col(k) == row[k] for k in KEY]).row(0, named=True)
    new = after.filter(*[pl.col(k) == row[k] for k in KEY]).row(0, named=True)
    assert (row["old_value"], row["new_value"]) == (old["value"], new["value"])
    assert (row["old_vintage"], row["new_vintage"]) == (first["publication_id"],
                                                        second["publication_id"])
    assert row["reason"] == "corrected_delivery"
    for bad in ("as_of=yesterday", "vintage=x", "vintage=999"):
        assert client.get(f"/api/v1/indicators?{bad}").status_code == 400
    for bad in ("limit=0", "from=June", "indicator=nope", "colour=red"):
        assert client.get(f"/api/v1/revisions?{bad}").status_code == 400
    everything = client.get("/api/v1/revisions?limit=1").get_json()
    assert len(everything["revisions"]) == 1 and everything["truncated"] is True
    assert everything["total"] == changed_keys(before, after).height


def test_a_recompute_that_changes_nothing_records_nothing(revised):
    url, _, after, _ = revised
    count = len(publications(url))
    kept = history_rows(url).height
    compute(url, None, progress=False)
    assert len(publications(url)) == count and history_rows(url).height == kept
    assert snapshot(url).sort(KEY).equals(after.sort(KEY))


def test_a_report_rebuilt_from_its_vintage_gives_the_old_numbers(revised, tmp_path):
    from dashboard.data import Data
    from dashboard.report import HEADLINES, build_report

    url, before, after, between = revised
    first, second = publications(url)
    changed = changed_keys(before, after).filter(pl.col("area_type") == "trial_area")
    shown = pl.DataFrame(list(HEADLINES), orient="row", schema=["indicator", "population"])
    hit = changed.join(shown, on=["indicator", "population"], how="semi").filter(
        pl.col("group") == "all", pl.col("month") == "2024-06")
    assert hit.height, "the revision should touch a headline figure of a trial area"
    key = hit.row(0, named=True)
    data = Data(url)
    old = build_report(data, "2024-06", (key["area_code"],), "en",
                       vintage=first["publication_id"])
    again = build_report(data, "2024-06", (key["area_code"],), "en", as_of=between)
    now = build_report(data, "2024-06", (key["area_code"],), "en")
    assert (old.vintage, again.vintage, now.vintage) == (
        first["publication_id"], first["publication_id"], second["publication_id"])

    def published(table: pl.DataFrame) -> float | None:
        return table.filter(*[pl.col(k) == key[k] for k in KEY])["value"][0]

    assert published(before) != published(after)
    assert old.pages[0].rows[key["indicator"]].value == published(before)
    assert again.pages[0].rows[key["indicator"]].value == published(before)
    assert now.pages[0].rows[key["indicator"]].value == published(after)
    assert old.html != now.html and old.html == again.html


def test_public_statistics_keep_their_replaced_cells(db):
    from etl.statfin import load_statfin_files
    from indicators.public_statistics import compute_public_statistics
    from tests.conftest import shared_file

    load_statfin_files(db, [shared_file("data", "statfin",
                                        "unemployment_register_kunnat_12r5.json")])
    compute_public_statistics(db)
    before = snapshot(db)
    with get_engine(db).begin() as conn:  # Statistics Finland revises Helsinki's count
        conn.execute(sa.text("UPDATE statfin_value SET value = value + 7 WHERE area_code = "
                             "'KU091' AND measure = 'TYOTTOMATLOPUSSA'"))
    compute_public_statistics(db)
    after = snapshot(db)
    expected = changed_keys(before, after)
    assert expected.height >= 4  # Helsinki, its region, its trial area, the country ...
    assert history_rows(db).select(KEY).sort(KEY).equals(expected)
    last = publications(db)[-1]
    assert (last["source"], last["reason"]) == ("statfin", "new_release")
    assert last["cells_changed"] == expected.height


def test_a_new_threshold_and_a_membership_change_are_recorded_as_such(revised, monkeypatch):
    url, _, after, _ = revised
    monkeypatch.setenv("TRIALMON_SUPPRESSION_THRESHOLD", "10")
    compute(url, None, progress=False)
    stricter = snapshot(url)
    newly_suppressed = changed_keys(after, stricter)
    last = publications(url)[-1]
    assert last["reason"] == "disclosure_threshold" and last["threshold"] == 10
    assert last["cells_changed"] + last["cells_removed"] == newly_suppressed.height > 0
    kept = history_rows(url).filter(pl.col("replaced_in") == last["publication_id"])
    assert kept.select(KEY).sort(KEY).equals(newly_suppressed)

    with get_engine(url).begin() as conn:  # a trial area loses a member from 2024-05 on
        member = conn.execute(sa.text(
            "SELECT area_code, municipality_code FROM area_member WHERE area_type = "
            "'trial_area' AND valid_to IS NULL ORDER BY area_code, municipality_code")).first()
        conn.execute(sa.text(
            "UPDATE area_member SET valid_to = '2024-04-30' WHERE area_type = 'trial_area' "
            "AND area_code = :a AND municipality_code = :m"),
            {"a": member[0], "m": member[1]})
    compute(url, None, progress=False)
    last = publications(url)[-1]
    assert last["reason"] == "membership_change"
    moved = changed_keys(stricter, snapshot(url))
    assert set(moved["area_code"]) >= {member[0]}


_REWRITE_LOG = {
    "sqlite": [
        'CREATE TABLE rewritten (indicator TEXT, population TEXT, "group" TEXT, '
        "area_type TEXT, area_code TEXT, month TEXT)",
        *(f"CREATE TRIGGER log_{event} AFTER {event} ON indicator_value BEGIN "
          'INSERT INTO rewritten VALUES (old.indicator, old.population, old."group", '
          "old.area_type, old.area_code, old.month); END" for event in ("DELETE", "UPDATE")),
    ],
    "postgresql": [
        'CREATE TABLE rewritten (indicator TEXT, population TEXT, "group" TEXT, '
        "area_type TEXT, area_code TEXT, month TEXT)",
        "CREATE FUNCTION log_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        'INSERT INTO rewritten VALUES (OLD.indicator, OLD.population, OLD."group", '
        "OLD.area_type, OLD.area_code, OLD.month); RETURN NULL; END $$",
        "CREATE TRIGGER log_rewrite AFTER DELETE OR UPDATE ON indicator_value "
        "FOR EACH ROW EXECUTE FUNCTION log_rewrite()",
    ],
}


def log_rewrites(url: str) -> None:
    """From now on every published cell deleted or updated (a rewrite deletes and
    inserts) is logged by key in a table ``rewritten``, by the database itself."""
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    with get_engine(url).begin() as conn:
        for statement in _REWRITE_LOG[backend]:
            conn.exec_driver_sql(statement)


def rewritten(url: str) -> pl.DataFrame:
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM rewritten")).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row",
                        schema={k: pl.String for k in KEY})


def stored_cells(url: str) -> pl.DataFrame:
    """Every published cell with its figures and vintage (as text)."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text(
            'SELECT indicator, population, "group", area_type, area_code, month, value, '
            "numerator, denominator, coalesce(flag, ''), CAST(vintage AS VARCHAR(40)) "
            "FROM indicator_value")).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        **{k: pl.String for k in KEY}, "value": pl.Float64, "numerator": pl.Float64,
        "denominator": pl.Float64, "flag": pl.String, "vintage": pl.String})


def test_a_revision_rewrites_only_the_cells_it_changes(published_template, tmp_path,
                                                       monkeypatch):
    """A re-delivered month is recomputed with its neighbour (2024-05: its interview
    cohort reads June); the neighbour's cells whose figures and vintage stay the same are
    left where they are, not deleted and inserted again (the database's own triggers log
    every cell deleted or updated)."""
    template, frames = published_template
    url = template.copy(tmp_path, monkeypatch)
    before = stored_cells(url)
    log_rewrites(url)
    _redeliver_june(url, frames)
    joined = before.join(stored_cells(url), on=KEY, suffix="_new")
    same = pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"{c}_new"))
                             for c in ["value", "numerator", "denominator", "flag", "vintage"])
    kept = joined.filter(same)
    may_2024 = kept.filter(pl.col("month") == "2024-05").height
    assert may_2024 > 0.9 * before.filter(pl.col("month") == "2024-05").height
    touched = rewritten(url)
    assert kept.join(touched, on=KEY, how="semi").height == 0
    changed_june = joined.filter(~same & (pl.col("month") == "2024-06"))
    assert changed_june.height > 0
    assert changed_june.join(touched, on=KEY, how="anti").height == 0  # the log works


def test_a_cursor_walk_reads_one_publication_while_another_is_committed(
        published_template, tmp_path, monkeypatch):
    """Keyset paging (dashboard/api.py): a walk begun before a revision returns exactly
    the table of its first page's publication; a new walk returns the revised table. The
    oracle is the table read straight from the database before and after."""
    from dashboard.app import create_app

    template, frames = published_template
    db = template.copy(tmp_path, monkeypatch)
    before = snapshot(db)
    client = create_app(db).server.test_client()
    query = "/api/v1/indicators?area_type=country,all_trials&format=json"
    first = client.get(query + "&limit=40").get_json()
    seen, link = list(first["data"]), first["paging"]["next"]

    _redeliver_june(db, frames)
    after = snapshot(db)
    selected = pl.col("area_type").is_in(["country", "all_trials"])
    last = tuple(seen[-1][k] for k in KEY)
    # the revision changed cells the walk has yet to read (else the test proves nothing)
    assert [key for key in changed_keys(before.filter(selected), after.filter(selected))
            .iter_rows() if key > last]

    while link:
        body = client.get(link).get_json()
        assert body["paging"]["publication"] == first["paging"]["publication"]
        seen += body["data"]
        link = body["paging"]["next"]
    walked = figures(pl.DataFrame(seen, infer_schema_length=None))
    assert walked.select(KEY).is_duplicated().sum() == 0
    assert walked.equals(before.filter(selected).sort(KEY))

    fresh = []
    link = query + "&limit=40"
    while link:
        body = client.get(link).get_json()
        fresh += body["data"]
        link = body["paging"]["next"]
    assert figures(pl.DataFrame(fresh, infer_schema_length=None)).equals(
        after.filter(selected).sort(KEY))
