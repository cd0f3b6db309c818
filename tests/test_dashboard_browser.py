"""The dashboard in real headless Chromium, walked as a user would.

The app runs on 127.0.0.1 over a SQLite database holding the hand-made published
rows of tests/test_dashboard_fixture.py, so every expected figure below is worked
out from those formulas. Headless options are set in code (CI runs plain pytest).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import threading
import time
import zipfile
from pathlib import Path

import polars as pl
import pytest

from dashboard.page_registry import PAGES as REGISTERED_PAGES
from tests.conftest import SHARED_DATA
from tests.test_dashboard_fixture import (
    MONTHS,
    publish_fixture,
    rows,
    unemployed,
    unemployed_share,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--window-size=1366,1000")
ROOT = Path(__file__).resolve().parents[1]
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
BOUNDARIES = SHARED_DATA / "geo" / "finland_kunnat_2km.geojson"
NBSP = "\u00a0"
I_2024_12, I_2024_07 = MONTHS.index("2024-12"), MONTHS.index("2024-07")

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("Chromium/chromedriver not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard on a free loopback port, in a thread of this process."""
    from werkzeug.serving import make_server

    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'trialmon.sqlite'}"
    publish_fixture(url)
    previous = os.environ.get("TRIALMON_BOUNDARIES")
    if BOUNDARIES.exists():
        os.environ["TRIALMON_BOUNDARIES"] = str(BOUNDARIES)
    from dashboard.app import create_app

    http = make_server("127.0.0.1", 0, create_app(url).server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    if previous is None:
        os.environ.pop("TRIALMON_BOUNDARIES", None)
    else:
        os.environ["TRIALMON_BOUNDARIES"] = previous


@pytest.fixture(scope="module")
def downloads_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads_dir),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads_dir)})
    yield driver
    driver.quit()


# --------------------------------------------------------------------------- helpers
def wait(driver, condition, timeout: float = 15):
    # an element found during a re-render may be replaced before it is read: try again
    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,)
                         ).until(lambda d: condition(d))


def text_of(driver, selector: str) -> str:
    """The first match's text (read again if Dash replaced the element meanwhile)."""
    for _ in range(5):
        elements = driver.find_elements(By.CSS_SELECTOR, selector)
        try:
            return elements[0].text if elements else ""
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise StaleElementReferenceException(f"{selector} kept being replaced")


def wait_text(driver, selector: str, expected: str, timeout: float = 15) -> str:
    wait(driver, lambda d: expected in text_of(d, selector), timeout)
    return text_of(driver, selector)


def open_page(driver, base: str, path: str, ready: str) -> None:
    driver.get(base + path)
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ready))
    wait(driver, lambda d: d.execute_script(
        "return !document.querySelector('[data-dash-is-loading=\"true\"]')"))


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def table_cell(driver, table_id: str, row_header: str, column: int = 1) -> str:
    """The text of a data table's cell by its row header (th) and column position."""
    rows = driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")
    for row in rows:
        header = row.find_element(By.CSS_SELECTOR, "th").text
        if header == row_header:
            return row.find_elements(By.CSS_SELECTOR, "th, td")[column].text
    raise AssertionError(f"no row {row_header!r} in {table_id}")


def select_value(driver, element_id: str, value: str) -> None:
    Select(driver.find_element(By.ID, element_id)).select_by_value(value)


# --------------------------------------------------------------------------- pages
def test_overview_cards_show_the_published_values(server, browser):
    start = time.perf_counter()
    open_page(browser, server, "/en/?area=TRIALS&month=2024-12", ".kpi-card")
    first_draw = time.perf_counter() - start
    cards = wait_text(browser, "#ov-cards", "Unemployed")
    # TRIALS base 50 000 + 10 per month: 59 months after 2020-01
    assert unemployed("TRIALS", I_2024_12) == 50590 and "50,590" in cards
    assert "+10 from previous month" in cards and "+120 from a year earlier" in cards
    assert "12,559" in cards  # trial customers: 50 000 // 4 + 59
    assert first_draw < 2.0, f"first page drawn in {first_draw:.2f} s"
    browser.find_element(By.LINK_TEXT, "Unemployed").click()
    wait(browser, lambda d: "/en/explorer" in d.current_url)
    assert "indicator=unemployed&" in browser.current_url and "areas=TRIALS" in browser.current_url
    assert console_errors(browser) == []


def test_explorer_table_marks_suppressed_and_incomplete_and_follows_the_mode(server, browser):
    open_page(browser, server, "/en/explorer?indicator=unemployed_share&areas=091"
                               "&from=2024-01&to=2024-12&tab=table", "#ex-data-table")
    wait_text(browser, "#ex-data-table", "2024-12")
    assert table_cell(browser, "ex-data-table", "2024-06") == "··"  # suppressed, never 0
    expected = f"{unemployed_share('091', I_2024_07):.1f} % *".replace(" ", NBSP, 1)
    assert table_cell(browser, "ex-data-table", "2024-07") == expected.replace(NBSP, " ")
    # the chart draws the same frame: a gap (null) at 2024-06
    browser.find_element(By.XPATH, "//*[@id='ex-tab']//*[text()='Chart']").click()
    wait(browser, lambda d: "tab=chart" in d.current_url)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#ex-graph .main-svg"))
    y = browser.execute_script(
        "const g = document.querySelector('#ex-graph .js-plotly-plot');"
        "return g.data.filter(t => t.name === 'Helsinki')[0].y;")
    assert len(y) == 12 and y[5] is None and y[6] == unemployed_share("091", I_2024_07)
    browser.find_element(By.CSS_SELECTOR, "#ex-mode input[value='yoy']").click()
    wait(browser, lambda d: "mode=yoy" in d.current_url)
    browser.find_element(By.XPATH, "//*[@id='ex-tab']//*[text()='Table']").click()
    wait(browser, lambda d: "tab=table" in d.current_url)
    # +0.1 point a month: +1.2 percentage points from a year earlier
    wait(browser, lambda d: table_cell(d, "ex-data-table", "2024-12") == "+1.2 pp")
    assert table_cell(browser, "ex-data-table", "2024-06") == "··"
    assert console_errors(browser) == []


def test_a_copied_address_reproduces_the_view(server, browser):
    open_page(browser, server, "/en/explorer?areas=TRIALS,091&tab=table", "#ex-data-table")
    select_value(browser, "ex-indicator", "unemployed")
    wait(browser, lambda d: "indicator=unemployed&" in d.current_url)
    select_value(browser, "ex-group", "all")
    wait_text(browser, "#ex-heading", "Unemployed")
    address = browser.current_url
    shown = text_of(browser, "#ex-data-table")
    assert f"{unemployed('TRIALS', I_2024_12):,}" in shown
    browser.get("about:blank")
    open_page(browser, server, address.removeprefix(server), "#ex-data-table")
    wait_text(browser, "#ex-data-table", f"{unemployed('TRIALS', I_2024_12):,}")
    assert Select(browser.find_element(By.ID, "ex-indicator")).first_selected_option \
        .get_attribute("value") == "unemployed"
    assert text_of(browser, "#ex-data-table") == shown
    assert browser.current_url == address


def test_back_button_and_keyboard(server, browser):
    open_page(browser, server, "/en/explorer?indicator=unemployed_share&areas=TRIALS&tab=table",
              "#ex-data-table")
    wait_text(browser, "#ex-heading", "Unemployed share")
    select = browser.find_element(By.ID, "ex-indicator")
    # keyboard only, one key: type-ahead picks the one option starting with "A". (Typing
    # "Laid" passed through "Long-term unemployed share" first: two history entries, and
    # Back, depending on timing, returned to the intermediate one.)
    select.send_keys("A")
    wait(browser, lambda d: "indicator=activation_rate&" in d.current_url)
    wait(browser, lambda d: "Unemployed share" not in text_of(d, "#ex-heading"))
    browser.back()
    wait(browser, lambda d: "indicator=unemployed_share" in d.current_url)
    wait_text(browser, "#ex-heading", "Unemployed share")
    wait(browser, lambda d: Select(d.find_element(By.ID, "ex-indicator")).first_selected_option
         .get_attribute("value") == "unemployed_share")
    assert console_errors(browser) == []


def test_bad_parameters_fall_back_with_a_notice(server, browser):
    open_page(browser, server, "/en/explorer?indicator=nonsense&areas=XX9&mode=up", ".alert")
    notices = text_of(browser, "#notices")
    assert "nonsense" in notices and "XX9" in notices and "mode" in notices
    wait_text(browser, "#ex-heading", "Unemployed share")
    assert console_errors(browser) == []


def test_language_switch_translates_texts_names_and_numbers(server, browser):
    open_page(browser, server, "/en/compare?scope=municipality&area=091&month=2024-12&tab=table",
              "#cmp-data-table")
    browser.find_element(By.ID, "lang-sv").click()
    wait(browser, lambda d: d.current_url.startswith(f"{server}/sv/compare"))
    wait(browser, lambda d: d.find_elements(By.ID, "cmp-data-table"))
    assert browser.execute_script("return document.documentElement.lang") == "sv"
    assert "Översikt" in text_of(browser, "header")
    table = wait_text(browser, "#cmp-data-table", "Helsingfors")
    value = unemployed_share("091", I_2024_12)  # 10 + 5.9 + 3.0 = 18.9
    assert f"{value:.1f}".replace(".", ",") + " %" in table
    assert "scope=municipality" in browser.current_url and "area=091" in browser.current_url


def test_compare_ranks_highlights_and_filters_peers(server, browser):
    open_page(browser, server, "/en/compare?scope=municipality&area=091&month=2024-12&tab=table",
              "#cmp-data-table")
    wait_text(browser, "#cmp-data-table", "Helsinki")
    # shares grow 0.5 points per position in AREAS: 092 > 837 > 049 > 091
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#cmp-data-table tbody tr")]
    assert rows[0].startswith("1 Vantaa") and rows[3].startswith("4 ▶ Helsinki")
    assert "own-row" in browser.find_elements(By.CSS_SELECTOR, "#cmp-data-table tbody tr")[3] \
        .get_attribute("class")
    # reference rows: the whole country (16.9 %) and the comparison area (16.4 %)
    assert rows[-2].endswith(f"{unemployed_share('SSS', I_2024_12):.1f} %")
    assert rows[-1].endswith(f"{unemployed_share('NONTRIAL', I_2024_12):.1f} %")
    select_value(browser, "cmp-peers", "region")  # Uusimaa: Helsinki, Espoo, Vantaa
    wait(browser, lambda d: "peers=region" in d.current_url)
    wait(browser, lambda d: "Tampere" not in text_of(d, "#cmp-data-table"))
    names = text_of(browser, "#cmp-data-table")
    assert "Espoo" in names and "Vantaa" in names
    assert console_errors(browser) == []


def test_map_draws_municipalities(server, browser):
    if not BOUNDARIES.exists():
        pytest.skip("boundaries file not available")
    open_page(browser, server, "/en/map?month=2024-12", "#map-graph .js-plotly-plot")
    wait(browser, lambda d: d.execute_script(
        "const g = document.querySelector('#map-graph .js-plotly-plot');"
        "return g && g.data && g.data.length === 3;"))
    locations = browser.execute_script(
        "return document.querySelector('#map-graph .js-plotly-plot').data[1].locations;")
    assert sorted(locations) == ["049", "091", "092", "837"]
    # the trial areas' dissolved outlines: closed rings (first point = last) between gaps
    lon = browser.execute_script(
        "return document.querySelector('#map-graph .js-plotly-plot').data[2].lon;")
    rings, ring = [], []
    for x in lon:
        if x is None:
            rings.append(ring)
            ring = []
        else:
            ring.append(x)
    assert rings and all(r[0] == r[-1] and len(r) > 3 for r in rings)
    assert console_errors(browser) == []


def test_download_a_zip_and_read_it_back(server, browser, downloads_dir):
    for old in downloads_dir.iterdir():
        old.unlink()
    open_page(browser, server, "/en/downloads?indicators=unemployed&areas=091"
                               "&from=2024-05&to=2024-07&format=csv", "#dl-preview-table")
    wait_text(browser, "#dl-count", "3 rows")
    browser.find_element(By.ID, "dl-button").click()
    wait(browser, lambda d: any(p.suffix == ".zip" for p in downloads_dir.iterdir()), 20)
    archive = zipfile.ZipFile(next(p for p in downloads_dir.iterdir() if p.suffix == ".zip"))
    names = archive.namelist()
    data = pl.read_csv(io.BytesIO(archive.read(next(n for n in names if n.endswith(".csv")))),
                       schema_overrides={"area_code": pl.String})
    meta = json.loads(archive.read(next(n for n in names if n.endswith(".json"))))
    assert data["month"].to_list() == ["2024-05", "2024-06", "2024-07"]
    assert data["value"].to_list() == [unemployed("091", MONTHS.index("2024-05")), None,
                                       unemployed("091", I_2024_07)]
    assert data["flag"].to_list()[1] == "suppressed"
    assert meta["synthetic"] is True and meta["row_count"] == 3

    link = browser.find_element(By.ID, "dl-bulk")  # everything: a plain link to a file
    assert link.get_attribute("href").endswith("/api/v1/bulk/trialmon-indicators-en.csv.gz")
    link.click()
    bulk = downloads_dir / "trialmon-indicators-en.csv.gz"
    wait(browser, lambda d: bulk.exists(), 30)
    wait(browser, lambda d: not list(downloads_dir.glob("*.crdownload")), 30)
    table = pl.read_csv(gzip.decompress(bulk.read_bytes()),
                        schema_overrides={"area_code": pl.String, "value": pl.Float64})
    assert table.height == len(rows())  # every published cell of the fixture


def test_definitions_and_status_pages(server, browser):
    open_page(browser, server, "/fi/definitions", "#def-unemployed_share")
    assert "Tietosuoja" in text_of(browser, "main")
    open_page(browser, server, "/en/status", "#status-table")
    summary = text_of(browser, "#status-summary")
    assert f"{len(MONTHS)} months loaded" in summary and "January 2020" in summary
    assert len(browser.find_elements(By.CSS_SELECTOR, "#status-table tbody tr")) == len(MONTHS)
    assert console_errors(browser) == []


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_definitions_contents_links_reach_their_sections(server, browser, lang):
    """Every link of the table of contents names an element of the rendered page, and
    following one scrolls that indicator to the top, plain language before the rule."""
    open_page(browser, server, f"/{lang}/definitions", "#def-unemployed_share")
    missing = browser.execute_script(
        "return [...document.querySelectorAll('.toc a')].map(a => a.getAttribute('href'))"
        ".filter(h => !h.startsWith('#') || !document.getElementById(h.slice(1)));")
    count = browser.execute_script("return document.querySelectorAll('.toc a').length")
    assert count > 25 and missing == []
    browser.find_element(By.CSS_SELECTOR, ".toc a[href='#def-activation_rate']").click()
    wait(browser, lambda d: abs(d.execute_script(
        "return document.getElementById('def-activation_rate').getBoundingClientRect().top"))
        < 5, 10)
    assert browser.current_url.endswith(f"/{lang}/definitions#def-activation_rate")
    order = browser.execute_script(
        "return [...document.querySelectorAll('#def-activation_rate > *')].map(e => e.className)")
    assert order[1].startswith("plain-text") and order[2] == "rule-title"
    assert console_errors(browser) == []


PAGES = {"overview": ("/en/", ".kpi-card"),
         "explorer": ("/en/explorer?areas=TRIALS,NONTRIAL,SSS,091", "#ex-graph .main-svg"),
         "compare": ("/en/compare?scope=municipality&area=091", "#cmp-graph .main-svg"),
         "map": ("/fi/map", "#map-graph .main-svg"),
         "downloads": ("/sv/downloads", "#dl-preview-table"),
         "definitions": ("/en/definitions", "#def-unemployed"),
         "status": ("/en/status", "#status-table")}


@pytest.mark.parametrize("page", list(PAGES))
def test_axe_finds_no_serious_violation_and_nothing_leaves_loopback(server, browser, page):
    path, ready = PAGES[page]
    open_page(browser, server, path, ready)
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));")
    serious = [(v["id"], v["help"], [n["target"] for n in v.get("nodes", [])][:3])
               for v in result if v["impact"] in ("serious", "critical")]
    assert serious == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert [r for r in resources if not r.startswith(server)] == []
    assert console_errors(browser) == []


# --------------------------------------------------------------------------- keyboard
FOCUSED = """const e = document.activeElement;
if (!e || e === document.body) { return 'body'; }
if (e.classList.contains('modebar-btn')) { return 'modebar'; }
if (e.getAttribute('role') === 'tab') { return 'tab'; }
if (e.type === 'radio') { return 'radio:' + e.name; }
if (e.type === 'checkbox' && e.id) { return 'checkbox:' + e.id; }
return e.id || (e.tagName + ':' + (e.className || ''));"""

# What Tab must reach on each page: controls by id, radio groups by name, chart tabs,
# the chart toolbar, scrollable tables.
KEYBOARD = {
    "": ["ov-area", "ov-population", "ov-month", "A:stretched-link card-link"],
    "explorer": ["ex-indicator", "ex-areas", "ex-population", "ex-group", "ex-from", "ex-to",
                 "radio:ex-mode", "tab", "modebar"],
    "compare": ["cmp-indicator", "cmp-month", "cmp-population", "cmp-group", "cmp-scope",
                "cmp-area", "cmp-peers", "tab", "modebar"],
    "map": ["map-indicator", "map-month", "map-population", "map-group", "map-level", "tab",
            "modebar"],
    "downloads": ["dl-indicators", "dl-areas", "dl-population", "dl-group", "dl-from", "dl-to",
                  "radio:dl-format", "dl-button", "dl-bulk", "dl-preview"],
    "definitions": ["main-nav"],
    "status": ["DIV:table-wrap"],
}
READY = {"": ".kpi-card", "explorer": "#ex-graph .modebar-btn", "compare": "#cmp-graph .modebar-btn",
         "map": "#map-graph .modebar-btn", "downloads": "#dl-preview-table",
         "definitions": "#def-unemployed", "status": "#status-table"}


def press(driver, key, shift: bool = False):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    chain = ActionChains(driver)
    if shift:
        chain = chain.key_down(Keys.SHIFT)
    chain = chain.send_keys(key)
    if shift:
        chain = chain.key_up(Keys.SHIFT)
    chain.perform()
    time.sleep(0.05)
    return driver.execute_script(FOCUSED)


def tab_walk(driver, limit: int = 80) -> list[str]:
    """Focus stops from the top of the page, Tab by Tab, until the footer's end."""
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("document.activeElement && document.activeElement.blur();"
                          "window.scrollTo(0, 0);")
    stops = []
    for _ in range(limit):
        stop = press(driver, Keys.TAB)
        if stop == "body" or (stops and stop == stops[0]):
            break
        stops.append(stop)
    return stops


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_every_page_is_reachable_by_keyboard_alone(server, browser, lang):
    """Tab reaches every control of every page (nav links for the static pages too),
    Shift-Tab walks back the same way, and every page has its own title."""
    from selenium.webdriver.common.keys import Keys

    titles = set()
    for page, expected in KEYBOARD.items():
        open_page(browser, server, f"/{lang}/{page}", READY[page])
        time.sleep(0.5)
        stops = tab_walk(browser)
        if page == "definitions":  # no controls: the navigation and language links
            assert len([s for s in stops if s.startswith("A:nav-link")]) == len(REGISTERED_PAGES)
        else:
            missing = [e for e in expected if e not in stops]
            assert missing == [], f"{lang}/{page}: Tab never reached {missing}: {stops}"
        assert stops[0] == "A:visually-hidden-focusable skip-link"  # skip link first
        # Shift-Tab goes back through the same stops
        back = [press(browser, Keys.TAB, shift=True) for _ in range(3)]
        forward = back[::-1]
        assert any(stops[i:i + 3] == forward for i in range(len(stops))), (stops[-6:], back)
        titles.add(browser.title)
    assert len(titles) == len(KEYBOARD)  # each page its own title
    assert all(title.endswith({"fi": "Työllisyyden kuntakokeilujen seuranta",
                               "sv": "Uppföljning av kommunförsöken med sysselsättning",
                               "en": "Monitoring of the municipal employment trials"}[lang])
               for title in titles)
    assert console_errors(browser) == []


def _focus_until(driver, stop: str, limit: int = 60) -> None:
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("document.activeElement && document.activeElement.blur();")
    for _ in range(limit):
        if press(driver, Keys.TAB) == stop:
            return
    raise AssertionError(f"Tab never reached {stop}")


def test_controls_are_operated_by_keyboard(server, browser, downloads_dir):
    from selenium.webdriver.common.keys import Keys

    open_page(browser, server, "/fi/explorer?areas=TRIALS&tab=chart", READY["explorer"])
    # the multi-select: Enter opens it, arrows move, Space picks, Escape closes
    _focus_until(browser, "ex-areas")
    press(browser, Keys.ENTER)
    # the options are grouped by area system under disabled headings, which Space cannot
    # pick: move on until Space picks a second area
    for _ in range(6):
        press(browser, Keys.ARROW_DOWN)
        press(browser, Keys.SPACE)
        time.sleep(0.3)
        if "areas=TRIALS," in browser.current_url:
            break
    assert press(browser, Keys.ESCAPE) == "ex-areas"
    wait(browser, lambda d: "areas=TRIALS," in d.current_url)  # a second area picked
    # the radio group: one stop, arrows choose
    _focus_until(browser, "radio:ex-mode")
    press(browser, Keys.ARROW_RIGHT)
    wait(browser, lambda d: "mode=yoy" in d.current_url)
    # the tabs: arrows move and select, aria-selected follows, the panel is labelled
    _focus_until(browser, "tab")
    press(browser, Keys.ARROW_RIGHT)
    wait(browser, lambda d: "tab=table" in d.current_url)
    wait(browser, lambda d: d.find_elements(By.ID, "ex-data-table"))
    tabs = browser.find_elements(By.CSS_SELECTOR, "#ex-tab [role=tab]")
    wait(browser, lambda d: tabs[1].get_attribute("aria-selected") == "true")
    assert tabs[0].get_attribute("aria-selected") == "false"
    panel = browser.find_element(By.CSS_SELECTOR, "#ex-tab-parent [role=tabpanel]")
    assert panel.get_attribute("aria-labelledby") == tabs[1].get_attribute("id")
    assert browser.find_element(By.CSS_SELECTOR, "[role=tablist]")
    press(browser, Keys.HOME)
    wait(browser, lambda d: "tab=chart" in d.current_url)
    # the chart toolbar: named in Finnish, operated with Enter
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#ex-graph .modebar-btn"))
    names = [b.get_attribute("aria-label") for b in
             browser.find_elements(By.CSS_SELECTOR, "#ex-graph .modebar-btn")]
    assert names == ["Lataa kuvio PNG-muodossa", "Zoomaa sisään", "Zoomaa ulos",
                     "Palauta akselien oletusasetukset"]
    _focus_until(browser, "modebar")
    press(browser, Keys.TAB)  # zoom in
    press(browser, Keys.ENTER)
    wait(browser, lambda d: d.execute_script(
        "const g = document.querySelector('#ex-graph .js-plotly-plot');"
        "return g.layout.xaxis.autorange === false;"))
    # downloads: the "all trial areas" choice with Space, the file with Enter
    for old in downloads_dir.iterdir():
        old.unlink()
    open_page(browser, server, "/sv/downloads?indicators=unemployed&areas=091&from=2024-12"
                               "&to=2024-12", "#dl-preview-table")
    _focus_until(browser, "checkbox:_dbcprivate_checklist_dl-all_input_trial_area")
    press(browser, Keys.SPACE)
    wait(browser, lambda d: "all=trial_area" in d.current_url)
    wait_text(browser, "#dl-count", "Urvalet har 4 rader.")  # Helsinki + three trial areas
    # the API call shown returns the same selection
    import urllib.request

    with urllib.request.urlopen(server + text_of(browser, "#dl-api")) as response:
        api = pl.read_csv(response.read(), schema_overrides={"area_code": pl.String})
    assert sorted(api["area_code"]) == ["091", "TA01", "TA02", "TA10"]  # the fixture's
    _focus_until(browser, "dl-button")
    press(browser, Keys.ENTER)
    wait(browser, lambda d: any(p.suffix == ".zip" for p in downloads_dir.iterdir()), 20)
    assert console_errors(browser) == []


def test_compare_keeps_a_suppressed_own_area_in_chart_table_and_summary(server, browser):
    # Helsinki's unemployed count is suppressed in 2024-06 (the fixture)
    open_page(browser, server, "/en/compare?indicator=unemployed&scope=municipality&area=091"
                               "&month=2024-06&tab=chart", "#cmp-graph .main-svg")
    wait(browser, lambda d: d.execute_script(
        "const g = document.querySelector('#cmp-graph .js-plotly-plot');"
        "return g && g.data && g.data[0].y.length === 4;"))
    labels, texts = browser.execute_script(
        "const t = document.querySelector('#cmp-graph .js-plotly-plot').data[0];"
        "return [t.y, t.text];")
    own = labels.index("▶ Helsinki")
    assert texts[own] == "·· suppressed" and own == 0  # drawn last: at the bottom
    assert "Helsinki: suppressed" in text_of(browser, "#cmp-summary")
    # a count: no reference lines of the whole country against municipalities
    assert browser.execute_script(
        "return (document.querySelector('#cmp-graph .js-plotly-plot').layout.shapes || [])"
        ".length") == 0
    browser.find_element(By.CSS_SELECTOR, "#cmp-tab [role=tab]:nth-child(2)").click()
    wait(browser, lambda d: "tab=table" in d.current_url)
    own = wait(browser, lambda d: d.execute_script(
        "const r = document.querySelector('#cmp-data-table tr.own-row');"
        "return r && r.innerText;"))
    assert "Helsinki" in own and "··" in own
    assert console_errors(browser) == []


def test_an_unknown_area_is_named_and_nothing_else_highlighted(server, browser):
    open_page(browser, server, "/fi/compare?area=XXX&tab=table", "#cmp-data-table")
    assert "XXX" in text_of(browser, "#notices")
    assert browser.find_elements(By.CSS_SELECTOR, "#cmp-data-table .own-row") == []
    assert "▶" not in text_of(browser, "#cmp-data-table")


SHOTS = {"overview": "/fi/?area=TRIALS", "explorer": "/en/explorer?areas=TRIALS,NONTRIAL,SSS,091",
         "compare": "/fi/compare?scope=municipality&area=091&month=2024-06",
         "map": "/sv/map?level=trial_area", "downloads": "/sv/downloads",
         "definitions": "/fi/definitions", "definitions-sv": "/sv/definitions",
         "status": "/fi/status"}


def test_screenshots_of_every_page(server, browser):
    """Every page at 1440 px (desktop) and 390 px (phone) into screenshots/."""
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    for width in (1440, 390):
        for name, path in SHOTS.items():
            browser.set_window_size(width, 900)
            open_page(browser, server, path,
                      READY["" if name == "overview" else name.removesuffix("-sv")])
            time.sleep(0.6)  # let Plotly finish its transitions
            height = browser.execute_script("return document.body.scrollHeight")
            browser.set_window_size(width, min(max(height, 900), 4000))
            time.sleep(0.4)
            browser.save_screenshot(str(out / f"{name}-{width}.png"))
            if width == 390:  # nothing wider than the phone
                assert browser.execute_script(
                    "return document.documentElement.scrollWidth") <= 390 + 1, name
    browser.set_window_size(1366, 1000)
    assert len(list(out.glob("*.png"))) == 2 * len(SHOTS)
