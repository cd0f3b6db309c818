"""The monthly area review: its numbers are the API's, in HTML and in the PDF's text.

The database holds the hand-made published rows of tests/test_dashboard_fixture.py
(values are simple formulas of area and month); one trial-area cell is suppressed here
so that the report must show ·· for it. Numbers are read back from the report (HTML
table cells, PDF text) and compared with the HTTP API's JSON for the same area, month
and language; PDF pages are counted and rendered to PNG (screenshots/report/).
"""

from __future__ import annotations

import html.parser
import re
import shutil
import subprocess
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.numbers import format_decimal, parse_decimal
from click.testing import CliRunner

from dashboard.report import HEADLINES, write_report
from indicators.registry import INDICATORS
from tests.test_dashboard_fixture import publish_fixture
from trialmon.db import get_engine
from trialmon.schema import indicator_value

MONTH, PREVIOUS, YEAR_AGO = "2024-06", "2024-05", "2023-06"
AREA, SUPPRESSED_AREA = "TA01", "TA02"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots" / "report"
pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium")


@pytest.fixture
def url(db_url) -> str:
    publish_fixture(db_url)
    with get_engine(db_url).begin() as conn:  # TA02's unemployed count is suppressed
        conn.execute(sa.update(indicator_value).where(
            indicator_value.c.area_code == SUPPRESSED_AREA, indicator_value.c.month == MONTH,
            indicator_value.c.indicator == "unemployed").values(
            value=None, numerator=None, flag="suppressed"))
    return db_url


@pytest.fixture
def client(url):
    from dashboard.app import create_app

    return create_app(url).server.test_client()


def api_values(client, area: str, lang: str) -> dict[tuple[str, str, str, str], float | None]:
    """(indicator, population, area_code, month) -> value, from the HTTP API."""
    out = {}
    for population in {p for _, p in HEADLINES}:
        indicators = ",".join(i for i, p in HEADLINES if p == population)
        body = client.get(f"/api/v1/indicators?indicator={indicators}&population={population}"
                          f"&group=all&area={area},SSS,NONTRIAL&from={YEAR_AGO}&to={MONTH}"
                          f"&lang={lang}&format=json").get_json()
        for row in body["data"]:
            out[(row["indicator"], population, row["area_code"], row["month"])] = row["value"]
    return out


class Cells(html.parser.HTMLParser):
    """{(indicator, column): text} of the headline table."""

    def __init__(self):
        super().__init__()
        self.cells, self.indicator, self.column, self.text = {}, None, None, ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-indicator" in attrs:
            self.indicator = attrs["data-indicator"]
        if tag == "td" and "data-col" in attrs:
            self.column, self.text = attrs["data-col"], ""

    def handle_data(self, data):
        if self.column:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "td" and self.column:
            self.cells[(self.indicator, self.column)] = self.text
            self.column = None


def number(text: str, lang: str) -> Decimal | None:
    """A report cell's text back to a number (Babel's parser for the language)."""
    match = re.search(r"[+\-\u2212]?\d[\d\s\u00a0\u202f.,]*", text)
    if not match:
        return None
    digits = re.sub(r"[\s\u00a0\u202f]", "", match.group()).rstrip(".,")
    return parse_decimal(digits.replace("\u2212", "-").lstrip("+"), locale=lang, strict=False)


def rounded(value: float, indicator: str) -> Decimal:
    return Decimal(str(round(value, INDICATORS[indicator].decimals)))


def formatted(value: float, indicator: str, lang: str) -> str:
    """The expected text, formatted independently with Babel's own format_decimal."""
    decimals = INDICATORS[indicator].decimals
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    text = format_decimal(round(value, decimals), format=pattern, locale=lang)
    # the project's typography (docs/dashboard.md): a narrow no-break space groups the
    # thousands in fi/sv (Babel's CLDR data gives a no-break space) and U+2212 is the minus
    return text.replace("\xa0", "\u202f").replace("-", "\u2212")


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_report_numbers_equal_the_api(url, client, lang, tmp_path):
    expected = api_values(client, AREA, lang)
    out = tmp_path / f"report-{lang}.html"
    report = write_report(url, MONTH, out, lang=lang, fmt="html", areas=(AREA,))
    parser = Cells()
    parser.feed(out.read_text(encoding="utf-8"))
    compared = 0
    for indicator, population in HEADLINES:
        now = expected.get((indicator, population, AREA, MONTH))
        cell = parser.cells[(indicator, "value")]
        if now is None:
            assert cell == "–"  # not published at all in the fixture
            continue
        assert number(cell, lang) == rounded(now, indicator), (indicator, cell)
        before = expected[(indicator, population, AREA, PREVIOUS)]
        year = expected[(indicator, population, AREA, YEAR_AGO)]
        assert number(parser.cells[(indicator, "month")], lang) == rounded(now - before,
                                                                           indicator)
        assert number(parser.cells[(indicator, "year")], lang) == rounded(now - year, indicator)
        for column, code in (("country", "SSS"), ("comparison", "NONTRIAL")):
            assert number(parser.cells[(indicator, column)], lang) == rounded(
                expected[(indicator, population, code, MONTH)], indicator)
        compared += 1
    assert compared >= 4
    assert report.vintage == 0  # the fixture's rows predate any recorded publication
    # the lead paragraph quotes the same number of jobseekers served
    served = expected[("jobseekers", "trial_customers", AREA, MONTH)]
    assert formatted(served, "jobseekers", lang) in out.read_text(encoding="utf-8")


def test_a_suppressed_figure_is_dots_never_zero(url, tmp_path):
    out = tmp_path / "suppressed.html"
    write_report(url, MONTH, out, lang="en", fmt="html", areas=(SUPPRESSED_AREA,))
    parser = Cells()
    parser.feed(out.read_text(encoding="utf-8"))
    for column in ("value", "month", "year", "rank"):
        assert parser.cells[("unemployed", column)] == "··"
    assert "is not published" in out.read_text() or "··" in out.read_text()
    assert "Hidden figures are shown as ··" in out.read_text()


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    # NFKC: the text layer holds typographic ligatures (ﬂ) and no-break spaces
    return [unicodedata.normalize("NFKC", page.extract_text()) for page in PdfReader(path).pages]


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_pdf_text_holds_the_api_numbers_and_screenshot(url, client, lang, tmp_path):
    expected = api_values(client, AREA, lang)
    out = tmp_path / f"report-{lang}.pdf"
    write_report(url, MONTH, out, lang=lang, fmt="pdf", areas=(AREA,))
    pages = pdf_pages(out)
    assert len(pages) == 1  # one area fits one page
    text = pages[0].replace("\u00a0", " ").replace("\u202f", " ")
    for indicator, population in HEADLINES:
        value = expected.get((indicator, population, AREA, MONTH))
        if value is not None:
            assert formatted(value, indicator, lang).replace("\u202f", " ") in text, indicator
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", str(out),
                    str(SCREENSHOTS / f"report-{lang}")], check=True)
    assert (SCREENSHOTS / f"report-{lang}.png").stat().st_size > 10_000


def test_all_areas_pdf_has_a_national_summary_then_one_page_per_trial_area(url, client,
                                                                           tmp_path):
    areas = client.get("/api/v1/areas?area_type=trial_area").get_json()["areas"]
    names = [a["name_en"] for a in sorted(areas, key=lambda a: a["area_code"])]
    out = tmp_path / "all.pdf"
    write_report(url, MONTH, out, lang="en", fmt="pdf", all_areas=True)
    pages = pdf_pages(out)
    national = len(pages) - len(names)
    assert national in (1, 2)
    assert "All trial areas: June 2024" in pages[0]
    for name, page in zip(names, pages[national:], strict=True):
        assert f"{name}: June 2024" in page.replace("\n", " ")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile",
                    str(out), str(SCREENSHOTS / "report-national-en")], check=True)


def test_report_route_and_cli(url, client, tmp_path):
    from shell.cli import main

    response = client.get(f"/report/sv/{AREA}/{MONTH}.html")
    assert response.status_code == 200 and "attachment" in response.headers[
        "Content-Disposition"]
    assert 'lang="sv"' in response.data.decode()
    assert client.get(f"/report/sv/{AREA}/2099-01.html").status_code == 400
    assert client.get(f"/report/sv/NOPE/{MONTH}.pdf").status_code == 400
    result = CliRunner().invoke(main, ["report", "--db", url, "--month", MONTH, "--area",
                                       "NOPE", "--format", "html", "--out",
                                       str(tmp_path / "x.html")])
    assert result.exit_code == 1 and "unknown area 'NOPE'" in result.output
    result = CliRunner().invoke(main, ["report", "--db", url, "--month", MONTH, "--area",
                                       AREA, "--lang", "fi", "--format", "html", "--out",
                                       str(tmp_path / "ok.html")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ok.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_one_file_per_trial_area_split_from_one_print(url, client, tmp_path):
    from dashboard.report import write_area_reports

    areas = client.get("/api/v1/areas?area_type=trial_area").get_json()["areas"]
    files = write_area_reports(url, MONTH, tmp_path, lang="sv", fmt="pdf")
    assert len(files) == len(areas)
    by_code = {a["area_code"]: a["name_sv"] for a in areas}
    for path in files:
        code = path.name.split("-")[2]
        pages = pdf_pages(path)
        assert len(pages) == 1
        assert f"{by_code[code]}: juni 2024" in pages[0].replace("\n", " ")


def test_load_register_writes_the_review_of_the_new_month(db_url, tmp_path):
    from etl.demo import generate_months
    from shell.cli import main

    extract = tmp_path / "2024-06.parquet"
    next(iter(generate_months(0.01, MONTH, MONTH, seed=5))).write_parquet(extract)
    folder = tmp_path / "reviews"
    result = CliRunner().invoke(main, ["load", "register", str(extract), "--synthetic",
                                       "--db", db_url, "-q", "--reports", str(folder),
                                       "--report-lang", "en"])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in folder.iterdir())
    assert f"trialmon-review-all-areas-{MONTH}-en.pdf" in written
    assert len([n for n in written if n.startswith("trialmon-review-TA")]) == 25
    pages = pdf_pages(folder / f"trialmon-review-all-areas-{MONTH}-en.pdf")
    assert "All trial areas: June 2024" in pages[0] and "vintage 1 " in pages[0]
