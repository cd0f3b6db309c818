"""The Effect page in headless Chromium, in Finnish, Swedish and English, and its API.

The database holds synthetic municipal counts for real municipality codes (40 trial,
100 comparison municipalities, 1.5 percentage points planted from 2021-03); the
default specifications are estimated and published as `trialmon compute` does, plus one
trial area's part of the grid (`trialmon effect --grid --areas TAxx`), and the expected
estimates are pyfixest's, called here on tables built independently.
"""

from __future__ import annotations

import threading
from pathlib import Path

import polars as pl
import pytest

from indicators import effects
from tests.test_dashboard_browser import CHROMEDRIVER, CHROMIUM, FLAGS, console_errors, open_page
from tests.test_effects import (
    _reference_sides,
    _store_measures,
    independent_table,
    library_did,
    synthetic_rows,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from shell.pipeline import prepare_database

    url = f"sqlite:///{tmp_path_factory.mktemp('effect') / 'trialmon.sqlite'}"
    prepare_database(url)
    trial, comparison = _reference_sides(url)
    rows, treated, _ = synthetic_rows(40, 100, 1.5, seed=21, codes=trial[:40] + comparison[:100],
                                      first="2020-01", months=60)
    _store_measures(url, rows)
    effects.publish_default_effects(url)
    area, members = _area_inside(url, set(treated))
    effects.publish_grid_effects(url, areas=(area,))  # one area of the grid; the rest pending
    _mark_months_published(url, rows["month"].unique().to_list())
    fit = library_did(independent_table(rows.filter(pl.col("month") <= "2024-12"), treated))
    low, high = fit.confint(alpha=0.05).loc["treat_post"]
    area_fit = library_did(independent_table(
        rows.filter(pl.col("month") <= "2024-12", ~pl.col("municipality_code").is_in(
            sorted(set(treated) - members))), members))
    return (url, float(fit.coef()["treat_post"]), float(low), float(high), area, len(members),
            float(area_fit.coef()["treat_post"]))


def _area_inside(url: str, treated: set[str]) -> tuple[str, set[str]]:
    """The trial area with the most members (at least two) all among `treated`."""
    from trialmon.db import get_engine

    with get_engine(url).connect() as conn:
        in_trials = effects.trial_areas_of_municipalities(conn)
    members: dict[str, set[str]] = {}
    for municipality, areas in in_trials.items():
        for area in areas:
            members.setdefault(area, set()).add(municipality)
    inside = sorted((len(m), a) for a, m in members.items() if len(m) >= 2 and m <= treated)
    area = inside[-1][1]
    return area, members[area]


def _mark_months_published(url: str, months: list[str]) -> None:
    """The server serves pages only when published months exist (/readyz); this fixture
    publishes estimates from stored measures alone, so it records its months as such."""
    import datetime as dt

    import sqlalchemy as sa

    from trialmon.db import get_engine
    from trialmon.schema import month_status

    now = dt.datetime.now(dt.UTC)
    with get_engine(url).begin() as conn:
        conn.execute(sa.insert(month_status), [
            {"month": m, "source": "register", "vintage": now, "revision": 0, "row_count": 0,
             "rows_changed": 0, "synthetic": True, "computed_at": now} for m in months])


@pytest.fixture(scope="module")
def server(published):
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    http = make_server("127.0.0.1", 0, create_app(published[0]).server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def pp(value: float, lang: str) -> str:
    text = f"{value:+.2f}".replace("-", "\u2212" if lang != "en" else "-")
    return text.replace(".", ",") if lang != "en" else text


EXPECTED = {
    "fi": ("Toimivatko kokeilut?", "40 kokeilukuntaa verrattuna 100 vertailukuntaan",
           "Lue harkiten"),
    "sv": ("Fungerade försöken?", "40 försökskommuner jämförda med 100 jämförelsekommuner",
           "Läs med eftertanke"),
    "en": ("Did the trials work?", "40 trial municipalities compared with 100 comparison",
           "Read with care"),
}


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_effect_page_in_three_languages(server, browser, published, lang):
    _, estimate, low, high, *_ = published
    open_page(browser, server, f"/{lang}/effect", "#ef-estimate")
    title, counts, caveat = EXPECTED[lang]
    assert browser.find_element(By.CSS_SELECTOR, "h1").text == title
    shown = browser.find_element(By.ID, "ef-estimate").text
    assert shown.replace("\u2212", "-").replace(",", ".").startswith(f"{estimate:+.2f}")
    interval = browser.find_element(By.ID, "ef-interval").text.replace("\u2212", "-")
    assert f"{low:.2f}" in interval.replace(",", ".") and f"{high:.2f}" in interval.replace(
        ",", ".")
    assert counts in browser.find_element(By.ID, "ef-counts").text
    assert "p = " in browser.find_element(By.ID, "ef-pretrend").text
    assert caveat in browser.find_element(By.ID, "ef-caveats").text
    # the chart: the band, the line with 2021-02 at 0, the trial start marked
    WebDriverWait(browser, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#ef-graph .scatterlayer .trace"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#ef-graph .scatterlayer .trace")) == 2
    assert "2021" in browser.find_element(By.CSS_SELECTOR, "#ef-graph .annotation").text
    assert not browser.find_elements(By.ID, "ef-no-band")
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    browser.set_window_size(1366, 1500)
    browser.save_screenshot(str(out / f"effect-{lang}.png"))
    browser.set_window_size(1366, 1000)
    assert not console_errors(browser)


def test_selectors_write_the_address_and_a_copied_address_reproduces_it(server, browser):
    open_page(browser, server, "/en/effect", "#ef-estimate")
    Select(browser.find_element(By.ID, "ef-window")).select_by_value("pre_nordic")
    WebDriverWait(browser, 15).until(lambda d: "window=pre_nordic" in d.current_url)
    WebDriverWait(browser, 15).until(
        lambda d: "April 2022" in d.find_element(By.ID, "ef-counts").text)
    copied = browser.current_url
    browser.get("about:blank")
    open_page(browser, server, copied.split(server)[1], "#ef-estimate")
    assert Select(browser.find_element(By.ID, "ef-window")).first_selected_option.get_attribute(
        "value") == "pre_nordic"
    # a group of all trial areas: part of the grid, not yet published here: pending
    Select(browser.find_element(By.ID, "ef-group")).select_by_value("under_30")
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "ef-pending"))
    assert "trialmon effect --grid" in browser.find_element(By.ID, "ef-pending").text


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_a_single_trial_area_shows_its_own_bootstrap_estimate(server, browser, published, lang):
    _, _, _, _, area, n_members, area_estimate = published
    open_page(browser, server, f"/{lang}/effect?trials={area}", "#ef-estimate")
    assert Select(browser.find_element(By.ID, "ef-trials")).first_selected_option.get_attribute(
        "value") == area
    shown = browser.find_element(By.ID, "ef-estimate").text
    assert shown.replace("\u2212", "-").replace(",", ".").startswith(f"{area_estimate:+.2f}")
    assert str(n_members) in browser.find_element(By.ID, "ef-counts").text.split()[0]
    method = browser.find_element(By.ID, "ef-method").text
    assert {"fi": "bootstrap", "sv": "bootstrap", "en": "wild cluster bootstrap"}[lang] in method
    # the monthly points have no band, and the page says why
    WebDriverWait(browser, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#ef-graph .scatterlayer .trace"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#ef-graph .scatterlayer .trace")) == 1
    assert browser.find_element(By.ID, "ef-no-band").text
    on_chart = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#ef-graph .annotation")]
    assert any("95" in a for a in on_chart)  # the chart itself says it has no band
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    browser.set_window_size(1366, 1500)
    browser.save_screenshot(str(out / f"effect-area-{lang}.png"))
    browser.set_window_size(1366, 1000)
    # another trial area is pending (its grid step has not run); a group is not offered
    other = next(o.get_attribute("value") for o in Select(browser.find_element(
        By.ID, "ef-trials")).options if o.get_attribute("value") not in ("", "TRIALS", area))
    Select(browser.find_element(By.ID, "ef-trials")).select_by_value(other)
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "ef-pending"))
    browser.save_screenshot(str(out / f"effect-pending-{lang}.png"))
    Select(browser.find_element(By.ID, "ef-group")).select_by_value("under_30")
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "ef-not-offered"))
    assert not console_errors(browser)


def test_api_effects(server, published):
    import json
    import urllib.error
    import urllib.request

    _, estimate, low, high, area, *_ = published
    with urllib.request.urlopen(f"{server}/api/v1/effects?indicator=unemployed_share") as r:
        body = json.loads(r.read())
    assert body["estimate"] == pytest.approx(estimate, abs=1e-8)
    assert (body["ci_low"], body["ci_high"]) == pytest.approx((low, high), abs=1e-8)
    assert (body["n_treated"], body["n_control"]) == (40, 100)
    assert body["event_study"][0]["event_month"] < 0
    for query, status, parameter in (("indicator=nope", 400, "indicator"),
                                     ("indicator=unemployed_share&window=x", 400, "window"),
                                     ("indicator=unemployed_share&colour=red", 400, "colour"),
                                     ("indicator=unemployed_share&areas=TA99", 400, "areas"),
                                     ("indicator=unemployed_share&group=under_30", 404, ""),
                                     (f"indicator=unemployed_share&areas={area}&group=under_30",
                                      404, "group")):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{server}/api/v1/effects?{query}")
        assert error.value.code == status
        assert json.loads(error.value.read())["parameter"] == parameter
    with urllib.request.urlopen(f"{server}/api/v1/effects?indicator=unemployed_share&"
                                f"areas={area}") as r:
        body = json.loads(r.read())
    assert body["areas"] == area and body["method"].startswith("wild cluster bootstrap")


def test_axe_finds_no_serious_violation_on_the_effect_page(server, browser):
    from tests.test_dashboard_browser import AXE

    open_page(browser, server, "/fi/effect", "#ef-estimate")
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));")
    serious = [(v["id"], v["help"]) for v in result if v["impact"] in ("serious", "critical")]
    assert serious == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert [r for r in resources if not r.startswith(server)] == []
