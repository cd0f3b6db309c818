"""End to end, as a user runs it: demo extracts -> load -> compute -> export / dashboard.

The expected figures are counted straight from the generated register rows with
Polars in the test, independently of the indicator modules, and compared with what
the command line exports and what `python app.py` serves.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from etl.demo import generate_months
from etl.reference import load_reference
from trialmon.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCALE, START, END, SEED = 0.004, "2024-01", "2024-04", 7
UNEMPLOYED = ["unemployed", "laid_off"]


@pytest.fixture(scope="module")
def extract() -> pl.DataFrame:
    return pl.concat(generate_months(SCALE, START, END, SEED))


def export_csv(url: str, *args: str) -> pl.DataFrame:
    result = CliRunner().invoke(main, ["export", "--format", "csv", "--db", url, *args])
    assert result.exit_code == 0, result.output
    return pl.read_csv(io.StringIO(result.stdout), schema_overrides={"area_code": pl.String})


def value(table: pl.DataFrame, indicator: str, area: str, month: str,
          population: str = "all", group: str = "all") -> float:
    cell = table.filter(
        (pl.col("indicator") == indicator) & (pl.col("area_code") == area)
        & (pl.col("month") == month) & (pl.col("population") == population)
        & (pl.col("group") == group))
    assert cell.height == 1, (indicator, area, month, cell)
    return cell["value"].item()


def test_demo_through_export_matches_counts_from_the_generated_rows(db_url, extract):
    result = CliRunner().invoke(main, ["demo", "--scale", str(SCALE), "--from", START,
                                       "--to", END, "--seed", str(SEED), "--db", db_url, "-q"])
    assert result.exit_code == 0, result.output
    table = export_csv(db_url, "--area", "SSS", "--area", "TRIALS", "--area", "MK01",
                       "--from", "2024-02", "--to", "2024-03")
    assert table["synthetic"].all()  # demo data is marked wherever it is exported

    march = extract.filter(pl.col("month") == "2024-03")
    february = extract.filter(pl.col("month") == "2024-02")
    members = load_reference().members
    trial_codes = members.filter(pl.col("area_type") == "trial_area")["municipality_code"].to_list()
    uusimaa = members.filter(pl.col("area_code") == "MK01")["municipality_code"].to_list()

    assert value(table, "jobseekers", "SSS", "2024-03") == march.height
    assert value(table, "unemployed", "SSS", "2024-03") == march.filter(
        pl.col("status").is_in(UNEMPLOYED)).height
    assert value(table, "unemployed", "MK01", "2024-03") == march.filter(
        pl.col("status").is_in(UNEMPLOYED) & pl.col("municipality_code").is_in(uusimaa)).height
    trial_customers = march.filter(pl.col("responsibility") == "trial")
    assert value(table, "jobseekers", "TRIALS", "2024-03", "trial_customers") == (
        trial_customers.height)
    assert trial_customers["municipality_code"].is_in(trial_codes).all()

    # exits to the open market: the unemployed of February (cell from their February
    # row), and of them those whose March status is employed_open
    was_unemployed = february.filter(pl.col("status").is_in(UNEMPLOYED)
                                     & pl.col("municipality_code").is_in(trial_codes))
    exits = was_unemployed.join(march.filter(pl.col("status") == "employed_open"),
                                on="person_id")
    assert value(table, "exit_open_market_rate", "TRIALS", "2024-03") == pytest.approx(
        100 * exits.height / was_unemployed.height)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


@pytest.mark.slow
def test_python_app_py_builds_demo_data_and_serves_the_dashboard(tmp_path):
    """The README's run command on an empty data folder: demo data, then the dashboard."""
    port = _free_port()
    env = {**os.environ, "TRIALMON_DATA_DIR": str(tmp_path / "data"),
           "TRIALMON_PORT": str(port), "TRIALMON_DEMO_SCALE": "0.002"}
    env.pop("TRIALMON_DB_URL", None)
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-3000:]
            try:
                status, page = _get(base + "/en/")
                break
            except OSError:
                assert time.monotonic() < deadline, "dashboard did not come up in 240 s"
                time.sleep(1)
        assert status == 200 and b"<html" in page.lower()
        assert (tmp_path / "data" / "trialmon.sqlite").exists()
        assert (tmp_path / "data" / "trialmon-microdata.sqlite").exists()
        status, body = _get(base + "/api/v1/indicators?indicator=unemployed&area=SSS"
                                   "&format=json")
        rows = json.loads(body)
        rows = rows["data"] if isinstance(rows, dict) else rows
        months = sorted(r["month"] for r in rows if r["population"] == "all"
                        and r["group"] == "all")
        assert months[0] == "2020-01" and months[-1] == "2025-12" and len(months) == 72
        assert all(r["synthetic"] for r in rows)
    finally:
        server.terminate()
        server.wait(timeout=30)
