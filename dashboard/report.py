"""The monthly area review: one page per trial area, as HTML that prints well and as PDF.

Interface:

* ``build_report(data, month, areas, lang, all_areas, as_of, vintage) -> Report``: the
  figures (every number read through ``dashboard.data.Data``, the code that serves the
  dashboard, as one publication left them) and ``Report.html``.
* ``write_report(url_or_data, month, out, lang, fmt, areas, all_areas, as_of, vintage)``:
  writes ``out`` (html or pdf); ``html_to_pdf(html, pdf)`` prints with headless Chromium.
* ``write_area_reports(url_or_data, month, folder, lang, fmt, ...)``: one file per trial
  area (PDF: printed by one Chromium run, then split at each area's first page).
* ``register(server, data)``: ``GET /report/<lang>/<area>/<month>.<fmt>`` (the Overview's
  "Report" button; ``?vintage=ID`` rebuilds an old report).

Decisions:

* PDF by headless Chromium (``--print-to-pdf``), not WeasyPrint: Chromium is already
  installed for the browser tests, prints the same HTML the browser shows, runs offline,
  and adds no Python dependency with native libraries (WeasyPrint needs Pango); one
  Chromium start prints a whole all-areas document (about 2 s).
* The chart is SVG written here from the same numbers as the table (no kaleido, no
  browser needed to draw it, vector in the PDF).
* Every report is built from one publication (the newest unless ``as_of``/``vintage``)
  and states it; building again with ``vintage=`` that id gives the same numbers.
* Headline rows (population 'all' unless stated; the jobseekers served by the trials are
  the population 'trial_customers'), the ranking is among the trial areas with a
  published value, 1 = the highest value. Changes are differences of published values;
  a change involving a suppressed value is suppressed too.
* Report texts live in ``TEXTS`` here (fi, sv, en), not in the dashboard catalogs: a
  report is a document of its own and this keeps them in one reviewed place.
"""

from __future__ import annotations

import datetime as dt
import html
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import flask
import polars as pl

from dashboard.data import Data
from dashboard.i18n import fmt_change, fmt_month, fmt_number, fmt_value, indicator_text, label
from indicators import history
from indicators.registry import INDICATORS, LANGUAGES, TRIAL_END, TRIAL_START
from trialmon.errors import TrialmonError
from trialmon.months import check_month, shift_month
from trialmon.settings import get_settings

SUPPRESSED = "··"
HEADLINES = (("jobseekers", "trial_customers"), ("unemployed", "all"),
             ("unemployed_share", "all"), ("long_term_share", "all"), ("in_services", "all"),
             ("activation_rate", "all"), ("employed_open", "all"),
             ("exit_open_market_rate", "all"))
RANKED = (("unemployed_share", "all"), ("activation_rate", "all"),
          ("exit_open_market_rate", "all"), ("long_term_share", "all"))
TREND = ("unemployed_share", "all")
TREND_MONTHS = 24
COUNTRY, COMPARISON, ALL_TRIALS = "SSS", "NONTRIAL", "TRIALS"
FORMATS = ("html", "pdf")

TEXTS = {
    "en": {
        "title": "Monthly review of the employment trials",
        "area_title": "{area}: {month}",
        "national_title": "All trial areas: {month}",
        "vintage": "Figures as published in vintage {id} ({when} UTC).",
        "vintage_none": "Figures as published before publications were recorded (vintage 0).",
        "synthetic": "SYNTHETIC DEMO DATA: these figures describe no real person or area.",
        "lead_served": "At the end of {month} the {area} trial area served {n} jobseekers, "
                       "{d1} than in {prev} and {d12} than a year earlier.",
        "lead_served_all": "At the end of {month} the trial areas together served {n} "
                           "jobseekers, {d1} than in {prev} and {d12} than a year earlier.",
        "lead_suppressed": "The number of jobseekers served by the trial is not published "
                           "for {month} (disclosure control).",
        "lead_unemployed": "{u} jobseekers were unemployed; the unemployed made up {share} of "
                           "all jobseekers, {dshare} than a year earlier (whole country "
                           "{country}, non-trial areas {comparison}).",
        "lead_rank": "Among the {n} trial areas with a published figure it ranked {rank} "
                     "by the unemployed share (1 = highest).",
        "more": "{x} more", "fewer": "{x} fewer", "same": "the same number",
        "higher": "{x} percentage points higher", "lower": "{x} percentage points lower",
        "unchanged": "unchanged",
        "headline": "Headline indicators",
        "col_indicator": "Indicator", "col_value": "Value", "col_month": "Change from "
        "previous month", "col_year": "Change from a year earlier", "col_rank": "Rank among "
        "trial areas", "col_country": "Whole country", "col_comparison": "Non-trial areas",
        "trend": "Unemployed share of jobseekers, last {n} months (%)",
        "trial_period": "Trial period",
        "ranking": "Trial areas ranked: {indicator}",
        "col_area": "Trial area",
        "definitions": "Definitions",
        "rule": "Disclosure control: a count from 1 to {k} persons is not published and a "
                "percentage is not published when its numerator or denominator is from 1 to "
                "{k}; further cells are hidden where a hidden count could be worked out. "
                "Hidden figures are shown as ·· (never as 0). – means no value.",
        "source": "Source: register extract of the public employment services; indicators "
                  "by trialmon. Rank 1 = the highest value among the trial areas.",
        "of_pop": "{name} ({population})",
    },
    "fi": {
        "title": "Työllisyyden kuntakokeilujen kuukausikatsaus",
        "area_title": "{area}: {month}",
        "national_title": "Kaikki kokeilualueet: {month}",
        "vintage": "Luvut sellaisina kuin ne julkaistiin versiossa {id} ({when} UTC).",
        "vintage_none": "Luvut sellaisina kuin ne julkaistiin ennen julkaisujen kirjaamista "
                        "(versio 0).",
        "synthetic": "SYNTEETTISTÄ DEMOAINEISTOA: luvut eivät kuvaa todellisia henkilöitä "
                     "tai alueita.",
        "lead_served": "{area} palveli {month_gen} lopussa {n} työnhakijaa, {d1} kuin "
                       "edellisenä kuukautena ({prev}) ja {d12} kuin vuotta aiemmin.",
        "lead_served_all": "Kokeilualueet palvelivat yhteensä {month_gen} lopussa {n} "
                           "työnhakijaa, {d1} kuin edellisenä kuukautena ({prev}) ja {d12} "
                           "kuin vuotta aiemmin.",
        "lead_suppressed": "Kokeilun asiakkaina olleiden työnhakijoiden määrää ei julkaista "
                           "kuukaudelta {month} (tietosuoja).",
        "lead_unemployed": "Työttömiä työnhakijoita oli {u}; työttömien osuus kaikista "
                           "työnhakijoista oli {share}, {dshare} kuin vuotta aiemmin (koko "
                           "maa {country}, kokeilujen ulkopuoliset alueet {comparison}).",
        "lead_rank": "Työttömien osuudella mitattuna alue oli sijalla {rank} niiden {n} "
                     "kokeilualueen joukossa, joilta luku on julkaistu (1 = suurin).",
        "more": "{x} enemmän", "fewer": "{x} vähemmän", "same": "yhtä monta",
        "higher": "{x} prosenttiyksikköä suurempi", "lower": "{x} prosenttiyksikköä pienempi",
        "unchanged": "saman suuruinen",
        "headline": "Keskeiset indikaattorit",
        "col_indicator": "Indikaattori", "col_value": "Arvo",
        "col_month": "Muutos edellisestä kuukaudesta", "col_year": "Muutos vuodentakaisesta",
        "col_rank": "Sija kokeilualueiden joukossa", "col_country": "Koko maa",
        "col_comparison": "Kokeilujen ulkopuoliset alueet",
        "trend": "Työttömien osuus työnhakijoista, viimeiset {n} kuukautta (%)",
        "trial_period": "Kokeilukausi",
        "ranking": "Kokeilualueet järjestyksessä: {indicator}",
        "col_area": "Kokeilualue",
        "definitions": "Määritelmät",
        "rule": "Tietosuoja: 1–{k} henkilön lukumääriä ei julkaista, eikä prosenttiosuutta, "
                "jonka osoittaja tai nimittäjä on 1–{k}; lisäksi piilotetaan luvut, joista "
                "piilotetun luvun voisi päätellä. Piilotetut luvut on merkitty ·· (ei "
                "koskaan 0). – tarkoittaa, ettei arvoa ole.",
        "source": "Lähde: työ- ja elinkeinopalvelujen rekisteriote; indikaattorit trialmon. "
                  "Sija 1 = suurin arvo kokeilualueiden joukossa.",
        "of_pop": "{name} ({population})",
    },
    "sv": {
        "title": "Månadsöversikt över kommunförsöken med sysselsättning",
        "area_title": "{area}: {month}",
        "national_title": "Alla försöksområden: {month}",
        "vintage": "Siffrorna som de publicerades i version {id} ({when} UTC).",
        "vintage_none": "Siffrorna som de publicerades innan publiceringarna registrerades "
                        "(version 0).",
        "synthetic": "SYNTETISKA DEMODATA: siffrorna beskriver inga verkliga personer eller "
                     "områden.",
        "lead_served": "I slutet av {month} betjänade försöksområdet {area} {n} "
                       "arbetssökande, {d1} än i {prev} och {d12} än ett år tidigare.",
        "lead_served_all": "I slutet av {month} betjänade försöksområdena sammanlagt {n} "
                           "arbetssökande, {d1} än i {prev} och {d12} än ett år tidigare.",
        "lead_suppressed": "Antalet arbetssökande som försöket betjänade publiceras inte för "
                           "{month} (röjandeskydd).",
        "lead_unemployed": "{u} arbetssökande var arbetslösa; de arbetslösas andel av alla "
                           "arbetssökande var {share}, {dshare} än ett år tidigare (hela "
                           "landet {country}, områden utanför försöken {comparison}).",
        "lead_rank": "Bland de {n} försöksområden vars siffra publiceras låg området på "
                     "plats {rank} efter de arbetslösas andel (1 = högst).",
        "more": "{x} fler", "fewer": "{x} färre", "same": "lika många",
        "higher": "{x} procentenheter högre", "lower": "{x} procentenheter lägre",
        "unchanged": "oförändrad",
        "headline": "Centrala indikatorer",
        "col_indicator": "Indikator", "col_value": "Värde",
        "col_month": "Förändring från föregående månad",
        "col_year": "Förändring från ett år tidigare",
        "col_rank": "Plats bland försöksområdena", "col_country": "Hela landet",
        "col_comparison": "Områden utanför försöken",
        "trend": "De arbetslösas andel av de arbetssökande, senaste {n} månaderna (%)",
        "trial_period": "Försöksperiod",
        "ranking": "Försöksområdena i ordning: {indicator}",
        "col_area": "Försöksområde",
        "definitions": "Definitioner",
        "rule": "Röjandeskydd: antal på 1–{k} personer publiceras inte, och inte heller en "
                "andel vars täljare eller nämnare är 1–{k}; dessutom döljs siffror ur vilka "
                "en dold siffra kunde räknas ut. Dolda siffror visas som ·· (aldrig 0). – "
                "betyder att värde saknas.",
        "source": "Källa: registerutdrag från arbets- och näringstjänsterna; indikatorer av "
                  "trialmon. Plats 1 = högsta värdet bland försöksområdena.",
        "of_pop": "{name} ({population})",
    },
}


def text(lang: str, key: str, **values) -> str:
    return TEXTS[lang][key].format(**values) if values else TEXTS[lang][key]


# --------------------------------------------------------------------------- figures

@dataclass
class Row:
    """One headline indicator of one area in the report month."""
    indicator: str
    population: str
    value: float | None = None
    flag: str | None = None
    previous: float | None = None
    year_ago: float | None = None
    rank: int | None = None
    ranked: int = 0
    country: float | None = None
    country_flag: str | None = None
    comparison: float | None = None
    comparison_flag: str | None = None

    @property
    def change_month(self) -> float | None:
        return None if self.value is None or self.previous is None else \
            self.value - self.previous

    @property
    def change_year(self) -> float | None:
        return None if self.value is None or self.year_ago is None else \
            self.value - self.year_ago


@dataclass
class AreaPage:
    code: str
    name: str
    rows: dict[str, Row]
    trend: dict[str, list[tuple[str, float | None]]]  # area code -> [(month, value)]


@dataclass
class Report:
    month: str
    lang: str
    vintage: int
    published_at: dt.datetime | None
    synthetic: bool
    national: AreaPage | None
    rankings: dict[str, list[tuple[int | None, str, float | None, str | None, float | None]]]
    names: dict[str, str] = field(default_factory=dict)
    pages: list[AreaPage] = field(default_factory=list)

    @property
    def html(self) -> str:
        return render_html(self)


def _value_at(frame: pl.DataFrame, indicator: str, code: str, month: str):
    part = frame.filter(pl.col("indicator") == indicator, pl.col("area_code") == code,
                        pl.col("month") == month)
    if part.is_empty():
        return None, None
    return part["value"][0], part["flag"][0]


def _ranks(data: Data, month: str, vintage: int) -> dict[str, pl.DataFrame]:
    """Per headline indicator: the trial areas' values in the month, ranked (1 = highest)."""
    out = {}
    for indicator, population in HEADLINES:
        frame = data.cross_section(indicator, population, "all", "trial_area", month, vintage)
        out[indicator] = (frame.filter(pl.col("value").is_not_null())
                          .sort("value", descending=True)
                          .with_columns(pl.col("value").rank("min", descending=True)
                                        .cast(pl.Int64).alias("rank")))
    return out


def area_page(data: Data, code: str, month: str, lang: str, vintage: int,
              ranks: dict[str, pl.DataFrame]) -> AreaPage:
    """The figures of one area's page, read through the dashboard's data code."""
    codes = tuple(dict.fromkeys((code, COUNTRY, COMPARISON)))
    start = shift_month(month, -TREND_MONTHS)
    frames = {}
    for population in {p for _, p in HEADLINES}:
        indicators = tuple(i for i, p in HEADLINES if p == population)
        frames[population] = data.series(indicators, population, "all", codes, start, month,
                                         vintage)
    rows = {}
    for indicator, population in HEADLINES:
        frame = frames[population]
        value, flag = _value_at(frame, indicator, code, month)
        ranked = ranks[indicator]
        own = ranked.filter(pl.col("area_code") == code)
        country = _value_at(frame, indicator, COUNTRY, month)
        comparison = _value_at(frame, indicator, COMPARISON, month)
        rows[indicator] = Row(
            indicator, population, value, flag,
            _value_at(frame, indicator, code, shift_month(month, -1))[0],
            _value_at(frame, indicator, code, shift_month(month, -12))[0],
            int(own["rank"][0]) if own.height and value is not None else None, ranked.height,
            country[0], country[1], comparison[0], comparison[1])
    trend_frame = frames[TREND[1]].filter(pl.col("indicator") == TREND[0],
                                          pl.col("month") > shift_month(month, -TREND_MONTHS))
    months = [shift_month(month, -k) for k in range(TREND_MONTHS - 1, -1, -1)]
    trend = {}
    for c in codes:
        values = dict(trend_frame.filter(pl.col("area_code") == c)
                      .select("month", "value").iter_rows())
        trend[c] = [(m, values.get(m)) for m in months]
    return AreaPage(code, data.area_names(lang).get(code, code), rows, trend)


def rankings(data: Data, month: str, lang: str, vintage: int,
             ranks: dict[str, pl.DataFrame]) -> dict[str, list]:
    """Per ranked indicator: [(rank, name, value, flag, change from a year earlier)]."""
    names = data.area_names(lang)
    out = {}
    for indicator, population in RANKED:
        year_ago = data.cross_section(indicator, population, "all", "trial_area",
                                      shift_month(month, -12), vintage)
        before = dict(year_ago.select("area_code", "value").iter_rows())
        now = data.cross_section(indicator, population, "all", "trial_area", month, vintage)
        ranked = ranks[indicator]
        position = dict(ranked.select("area_code", "rank").iter_rows())
        rows = []
        for c, v, f in now.select("area_code", "value", "flag").iter_rows():
            change = None if v is None or before.get(c) is None else v - before[c]
            rows.append((position.get(c), names.get(c, c), v, f, change))
        rows.sort(key=lambda r: (r[0] is None, r[0] or 0, r[1]))
        out[indicator] = rows
    return out


def resolve_vintage(data: Data, as_of: str | None, vintage: int | None
                    ) -> tuple[int, dt.datetime | None]:
    """The publication the report is built from (the newest when neither is given)."""
    with data.db.connect_published() as conn:
        pid = history.resolve_publication(conn, as_of, vintage)
    publications = data.publications()
    if pid is None:
        pid = int(publications["publication_id"][0]) if publications.height else 0
    match = publications.filter(pl.col("publication_id") == pid)
    return pid, (match["published_at"][0] if match.height else None)


def trial_area_codes(data: Data) -> list[str]:
    areas = data.areas()
    return areas.filter(pl.col("area_type") == "trial_area")["area_code"].sort().to_list()


def build_report(data: Data, month: str, areas: tuple[str, ...] = (), lang: str = "fi",
                 all_areas: bool = False, as_of: str | None = None,
                 vintage: int | None = None) -> Report:
    """The report's figures for `areas` (trial area codes, or TRIALS) in `month`."""
    check_month(month)
    if lang not in LANGUAGES:
        raise TrialmonError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    known = set(data.areas()["area_code"])
    codes = trial_area_codes(data) if all_areas else list(areas)
    if not codes:
        raise TrialmonError("name an area (--area CODE) or ask for --all-areas")
    bad = [c for c in codes if c not in known]
    if bad:
        raise TrialmonError(f"unknown area {bad[0]!r}: no area has that code")
    if month not in data.months():
        raise TrialmonError(f"month {month} is not published; published months: "
                            f"{', '.join(data.months()[-3:]) or 'none'} …")
    pid, published_at = resolve_vintage(data, as_of, vintage)
    ranks = _ranks(data, month, pid)
    report = Report(month, lang, pid, published_at, data.is_synthetic(), None, {},
                    data.area_names(lang))
    if all_areas:
        report.national = area_page(data, ALL_TRIALS, month, lang, pid, ranks)
        report.rankings = rankings(data, month, lang, pid, ranks)
    report.pages = [area_page(data, c, month, lang, pid, ranks) for c in codes]
    return report


# --------------------------------------------------------------------------- HTML

def fmt_cell(value, flag, indicator: str, lang: str, change: bool = False) -> str:
    if flag == "suppressed":
        return SUPPRESSED
    if value is None:
        return "–"
    out = fmt_change(value, indicator, lang) if change else fmt_value(value, indicator, lang)
    return out + ("\u00a0*" if flag == "incomplete" else "")


def _change_words(value, indicator: str, lang: str) -> str:
    """'288 more' / '0,4 percentage points lower' / suppressed '··'."""
    if value is None:
        return SUPPRESSED
    decimals = INDICATORS[indicator].decimals
    size = fmt_number(abs(value), decimals, lang)
    if round(value, decimals) == 0:
        return text(lang, "unchanged" if INDICATORS[indicator].unit == "percent" else "same")
    if INDICATORS[indicator].unit == "percent":
        return text(lang, "higher" if value > 0 else "lower", x=size)
    return text(lang, "more" if value > 0 else "fewer", x=size)


def month_genitive(month: str, lang: str) -> str:
    """Finnish 'kesäkuun 2024' (every Finnish month name ends in -kuu: genitive -kuun)."""
    name = fmt_month(month, lang)
    if lang != "fi":
        return name
    word, year = name.rsplit(" ", 1)
    return f"{word}n {year}"


def lead_paragraph(page: AreaPage, month: str, lang: str, national: bool = False) -> str:
    served = page.rows["jobseekers"]
    sentences = []
    if served.value is None:
        sentences.append(text(lang, "lead_suppressed", month=fmt_month(month, lang)))
    else:
        key = "lead_served_all" if national else "lead_served"
        sentences.append(text(
            lang, key, month=fmt_month(month, lang), month_gen=month_genitive(month, lang),
            area=page.name,
            n=fmt_value(served.value, "jobseekers", lang),
            d1=_change_words(served.change_month, "jobseekers", lang),
            d12=_change_words(served.change_year, "jobseekers", lang),
            prev=fmt_month(shift_month(month, -1), lang).split(" ")[0]))
    unemployed, share = page.rows["unemployed"], page.rows["unemployed_share"]
    sentences.append(text(
        lang, "lead_unemployed",
        u=fmt_cell(unemployed.value, unemployed.flag, "unemployed", lang),
        share=fmt_cell(share.value, share.flag, "unemployed_share", lang),
        dshare=_change_words(share.change_year, "unemployed_share", lang),
        country=fmt_cell(share.country, share.country_flag, "unemployed_share", lang),
        comparison=fmt_cell(share.comparison, share.comparison_flag, "unemployed_share", lang)))
    if share.rank is not None and not national:
        sentences.append(text(lang, "lead_rank", n=share.ranked, rank=share.rank))
    return " ".join(sentences)


def _name(indicator: str, population: str, lang: str) -> str:
    name = indicator_text(indicator, lang)[0]
    if population != "all":
        return text(lang, "of_pop", name=name, population=label("population", population, lang))
    return name


def headline_table(page: AreaPage, lang: str, with_rank: bool = True) -> str:
    heads = ["col_indicator", "col_value", "col_month", "col_year"] + \
        (["col_rank"] if with_rank else []) + ["col_country", "col_comparison"]
    head = "".join(f'<th scope="col"{"" if i == 0 else " class=num"}>'
                   f"{html.escape(text(lang, h))}</th>" for i, h in enumerate(heads))
    body = []
    for indicator, population in HEADLINES:
        row = page.rows[indicator]
        change_flag = "suppressed" if row.flag == "suppressed" else None
        cells = [
            ("value", fmt_cell(row.value, row.flag, indicator, lang)),
            ("month", fmt_cell(row.change_month, change_flag, indicator, lang, change=True)
             if row.change_month is not None or change_flag else "–"),
            ("year", fmt_cell(row.change_year, change_flag, indicator, lang, change=True)
             if row.change_year is not None or change_flag else "–"),
        ]
        if with_rank:
            cells.append(("rank", f"{row.rank}/{row.ranked}" if row.rank else
                          (SUPPRESSED if row.flag == "suppressed" else "–")))
        cells += [("country", fmt_cell(row.country, row.country_flag, indicator, lang)),
                  ("comparison", fmt_cell(row.comparison, row.comparison_flag, indicator,
                                          lang))]
        tds = "".join(f'<td class="num" data-col="{k}">{html.escape(v)}</td>' for k, v in cells)
        body.append(f'<tr data-indicator="{indicator}" data-population="{population}">'
                    f'<th scope="row">{html.escape(_name(indicator, population, lang))}</th>'
                    f"{tds}</tr>")
    return (f'<table class="headline"><caption>{html.escape(text(lang, "headline"))}'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


# --------------------------------------------------------------------------- the chart

SERIES_STYLE = (("#0072B2", "", 2.4), ("#1f2933", "6 3", 1.6), ("#D55E00", "2 3", 1.8))


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = (high - low) or 1.0
    raw = span / (count - 1)
    magnitude = 10 ** int(f"{raw:e}".split("e")[1])
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = (low // step) * step
    ticks, tick = [], first
    while tick <= high + step * 0.001:
        ticks.append(round(tick, 6))
        tick += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 6))
    return ticks


def trend_svg(page: AreaPage, names: dict[str, str], lang: str, width: int = 680,
              height: int = 205) -> str:
    """The last months of the trend indicator for the area, the country and the
    comparison area as inline SVG; suppressed months are gaps; trial period shaded."""
    left, right, top, bottom = 46, 24, 12, 52
    series = list(page.trend.items())
    months = [m for m, _ in series[0][1]]
    known = [v for _, points in series for _, v in points if v is not None]
    if not known:
        return ""
    pad = (max(known) - min(known)) * 0.05 or 0.5  # lines do not run along the axis
    floor = min(known) - pad
    if min(known) >= 0:  # counts and shares: the axis does not go below zero
        floor = max(floor, 0.0)
    ticks = _nice_ticks(floor, max(known) + pad)
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + plot_w * i / max(len(months) - 1, 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / ((high - low) or 1))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'class="trend" role="img" aria-label="{html.escape(text(lang, "trend", n=len(months)))}">']
    inside = [i for i, m in enumerate(months) if TRIAL_START <= m <= TRIAL_END]
    if inside:
        x0, x1 = x(inside[0]) - (plot_w / len(months) / 2 if inside[0] else 0), x(inside[-1])
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" '
                     f'height="{plot_h}" fill="#E8EEF4"/>')
        parts.append(f'<text x="{x0 + 4:.1f}" y="{top + 12}" class="svg-note">'
                     f'{html.escape(text(lang, "trial_period"))}</text>')
    for tick in ticks:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="#d9dee4" stroke-width="0.6"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
                     f'class="svg-tick">{fmt_number(tick, 1 if tick % 1 else 0, lang)}</text>')
    for i, month in enumerate(months):
        if month.endswith(("-01", "-07")) or i in (0, len(months) - 1):
            parts.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top + plot_h}" '
                         f'y2="{top + plot_h + 4}" stroke="#1f2933"/>')
            parts.append(f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                         f'class="svg-tick">{month[5:]}/{month[2:4]}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
                 f'y2="{top + plot_h}" stroke="#1f2933"/>')
    legend_x = left
    for (code, points), (colour, dash, stroke) in zip(series, SERIES_STYLE, strict=False):
        segments, current = [], []
        for i, (_, v) in enumerate(points):
            if v is None:
                segments, current = segments + ([current] if current else []), []
            else:
                current.append(f"{x(i):.1f},{y(v):.1f}")
        segments += [current] if current else []
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for segment in segments:
            if len(segment) == 1:
                cx, cy = segment[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{colour}"/>')
            else:
                parts.append(f'<polyline points="{" ".join(segment)}" fill="none" '
                             f'stroke="{colour}" stroke-width="{stroke}"{dash_attr} '
                             'stroke-linejoin="round"/>')
        name = names.get(code, code)
        ly = height - 12
        parts.append(f'<line x1="{legend_x}" x2="{legend_x + 22}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="{stroke}"{dash_attr}/>')
        parts.append(f'<text x="{legend_x + 27}" y="{ly}" class="svg-legend">'
                     f"{html.escape(name)}</text>")
        legend_x += 40 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- pages

CSS = """
@page { size: A4; margin: 14mm 14mm 14mm 14mm; }
* { box-sizing: border-box; }
body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; font-size: 9.5pt;
       color: #1f2933; margin: 0; line-height: 1.35; }
.page { break-after: page; page-break-after: always; }
.page:last-child { break-after: auto; page-break-after: auto; }
.kicker { font-size: 8pt; text-transform: uppercase; letter-spacing: .06em; color: #52606d;
          margin: 0; }
h1 { font-size: 17pt; margin: 2pt 0 4pt; color: #0b3a67; }
h2 { font-size: 11pt; margin: 8pt 0 4pt; color: #0b3a67; }
.vintage { font-size: 8pt; color: #52606d; margin: 0 0 6pt; }
.synthetic { font-weight: bold; color: #8a1c00; font-size: 8.5pt; margin: 0 0 6pt; }
.lead { font-size: 10.5pt; margin: 4pt 0 8pt; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; color: #0b3a67; font-size: 11pt;
          padding: 6pt 0 3pt; }
table.headline { font-size: 9pt; }
th, td { padding: 2pt 4pt; border-bottom: 0.5pt solid #d9dee4; vertical-align: top; }
thead th { font-size: 7.5pt; font-weight: bold; color: #3d4b5c; border-bottom: 1pt solid #1f2933;
           vertical-align: bottom; }
tbody th { font-weight: normal; text-align: left; }
table.headline { table-layout: fixed; }
table.headline tr > :first-child { width: 27%; }
thead th.num { white-space: normal; }
.num { text-align: right; white-space: nowrap; }
figure { margin: 6pt 0 0; }
figcaption { font-weight: bold; color: #0b3a67; font-size: 10pt; margin-bottom: 2pt; }
svg.trend { width: 100%; height: auto; }
.svg-tick { font-size: 10px; fill: #3d4b5c; }
.svg-note { font-size: 10px; fill: #3d4b5c; }
.svg-legend { font-size: 11px; fill: #1f2933; }
.notes { font-size: 7.5pt; color: #3d4b5c; border-top: 0.5pt solid #9aa5b1; margin-top: 8pt;
         padding-top: 4pt; }
.notes dt { font-weight: bold; display: inline; }
.notes dd { display: inline; margin: 0 0 0 3pt; }
.notes dd::after { content: ""; display: block; }
.notes p { margin: 3pt 0; }
.rankings { display: grid; grid-template-columns: 1fr 1fr; column-gap: 10pt; }
.rankings table { font-size: 8pt; }
.rankings caption { font-size: 9pt; }
"""


def _notes(lang: str) -> str:
    k = get_settings().suppression_threshold - 1
    items = []
    for indicator, population in HEADLINES:
        short = indicator_text(indicator, lang)[1] or indicator_text(indicator, lang)[2]
        items.append(f"<dt>{html.escape(_name(indicator, population, lang))}:</dt>"
                     f"<dd>{html.escape(short)}</dd>")
    return (f'<footer class="notes"><p><strong>{html.escape(text(lang, "definitions"))}</strong>'
            f"</p><dl>{''.join(items)}</dl><p>{html.escape(text(lang, 'rule', k=k))}</p>"
            f"<p>{html.escape(text(lang, 'source'))}</p></footer>")


def _header(report: Report, title: str) -> str:
    lang = report.lang
    when = report.published_at.strftime("%Y-%m-%d %H:%M") if report.published_at else None
    vintage = (text(lang, "vintage", id=report.vintage, when=when) if when else
               text(lang, "vintage_none"))
    synthetic = (f'<p class="synthetic">{html.escape(text(lang, "synthetic"))}</p>'
                 if report.synthetic else "")
    return (f'<p class="kicker">{html.escape(text(lang, "title"))}</p>'
            f"<h1>{html.escape(title)}</h1>"
            f'<p class="vintage" data-vintage="{report.vintage}">{html.escape(vintage)}</p>'
            f"{synthetic}")


def _area_section(report: Report, page: AreaPage, names: dict[str, str],
                  national: bool = False) -> str:
    lang, month = report.lang, report.month
    title = (text(lang, "national_title", month=fmt_month(month, lang)) if national else
             text(lang, "area_title", area=page.name, month=fmt_month(month, lang)))
    chart = trend_svg(page, names, lang)
    figure = (f"<figure><figcaption>{html.escape(text(lang, 'trend', n=TREND_MONTHS))}"
              f"</figcaption>{chart}</figure>") if chart else ""
    extra = _rankings_html(report) if national else ""
    return (f'<section class="page" data-area="{page.code}">{_header(report, title)}'
            f'<p class="lead">{html.escape(lead_paragraph(page, month, lang, national))}</p>'
            f"{headline_table(page, lang, with_rank=not national)}{figure}{extra}"
            f"{_notes(lang)}</section>")


def _rankings_html(report: Report) -> str:
    lang = report.lang
    tables = []
    for indicator, rows in report.rankings.items():
        caption = text(lang, "ranking", indicator=indicator_text(indicator, lang)[0])
        body = "".join(
            f'<tr data-area-name="{html.escape(name)}"><td class="num">{rank or ""}</td>'
            f"<th scope=row>{html.escape(name)}</th>"
            f'<td class="num">{html.escape(fmt_cell(value, flag, indicator, lang))}</td>'
            f'<td class="num">{html.escape(fmt_cell(change, "suppressed" if flag == "suppressed" else None, indicator, lang, change=True) if change is not None or flag == "suppressed" else "–")}</td></tr>'
            for rank, name, value, flag, change in rows) or (
            '<tr><td class="num"></td><td>–</td><td class="num">–</td>'
            '<td class="num">–</td></tr>')
        tables.append(
            f'<table data-indicator="{indicator}"><caption>{html.escape(caption)}</caption>'
            f'<thead><tr><th class="num">#</th><th>{html.escape(text(lang, "col_area"))}</th>'
            f'<th class="num">{html.escape(text(lang, "col_value"))}</th>'
            f'<th class="num">{html.escape(text(lang, "col_year"))}</th></tr></thead>'
            f"<tbody>{body}</tbody></table>")
    return f'<div class="rankings">{"".join(tables)}</div>'


def render_html(report: Report) -> str:
    names = report.names
    sections = []
    if report.national is not None:
        sections.append(_area_section(report, report.national, names, national=True))
    sections += [_area_section(report, page, names) for page in report.pages]
    title = text(report.lang, "title") + " " + fmt_month(report.month, report.lang)
    return (f'<!DOCTYPE html><html lang="{report.lang}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
            f"<body>{''.join(sections)}</body></html>")


# --------------------------------------------------------------------------- files

def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise TrialmonError("PDF reports need Chromium (apt-get install chromium); "
                        "--format html works without it")


def html_to_pdf(source: Path, target: Path, timeout: float = 120) -> None:
    """Print an HTML file to PDF with headless Chromium (offline: a local file)."""
    with tempfile.TemporaryDirectory(prefix="trialmon-chromium-") as profile:
        command = [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-extensions", "--no-first-run", "--disable-background-networking",
                   f"--user-data-dir={profile}", "--no-pdf-header-footer",
                   "--generate-pdf-document-outline",
                   f"--print-to-pdf={target.resolve()}", source.resolve().as_uri()]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                check=False)
    if result.returncode != 0 or not target.exists():
        raise TrialmonError(f"Chromium could not print the report: {result.stderr[-500:]}")


def report_html(data: Data, **kwargs) -> tuple[Report, str]:
    report = build_report(data, **kwargs)
    return report, render_html(report)


def write_report(data: Data | str, month: str, out: Path, lang: str = "fi",
                 fmt: str = "pdf", areas: tuple[str, ...] = (), all_areas: bool = False,
                 as_of: str | None = None, vintage: int | None = None) -> Report:
    """Write the report for `month` to `out` as HTML or PDF."""
    if fmt not in FORMATS:
        raise TrialmonError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    data = Data(data) if isinstance(data, str) else data
    report, page = report_html(data, month=month, areas=tuple(areas), lang=lang,
                               all_areas=all_areas, as_of=as_of, vintage=vintage)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        out.write_text(page, encoding="utf-8")
        return report
    with tempfile.TemporaryDirectory(prefix="trialmon-report-") as folder:
        source = Path(folder) / "report.html"
        source.write_text(page, encoding="utf-8")
        html_to_pdf(source, out)
    return report


def write_area_reports(data: Data | str, month: str, folder: Path, lang: str = "fi",
                       fmt: str = "pdf", as_of: str | None = None,
                       vintage: int | None = None) -> list[Path]:
    """One report file per trial area. For PDF the areas are printed in one Chromium run
    (a start costs seconds) and the document is split where each area's page begins."""
    data = Data(data) if isinstance(data, str) else data
    report = build_report(data, month, tuple(trial_area_codes(data)), lang, as_of=as_of,
                          vintage=vintage)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / default_name(month, lang, fmt, page.code) for page in report.pages]
    if fmt == "html":
        for page, target in zip(report.pages, targets, strict=True):
            single = Report(**{**report.__dict__, "pages": [page]})
            target.write_text(render_html(single), encoding="utf-8")
        return targets
    with tempfile.TemporaryDirectory(prefix="trialmon-report-") as work:
        source, printed = Path(work) / "areas.html", Path(work) / "areas.pdf"
        source.write_text(render_html(report), encoding="utf-8")
        html_to_pdf(source, printed)
        titles = [text(lang, "area_title", area=page.name, month=fmt_month(month, lang))
                  for page in report.pages]
        split_pdf(printed, titles, targets)
    return targets


def split_pdf(source: Path, titles: list[str], targets: list[Path]) -> None:
    """Split `source` into `targets`: target i starts at the page of the heading titles[i]
    in the PDF's outline (Chromium writes one entry per <h1>) and runs to the next one."""
    from pypdf import PdfReader, PdfWriter  # start-up: only splitting a printed PDF needs it

    reader = PdfReader(source)
    # compared without white space: Chromium drops the space where a heading wraps
    headings = [("".join(entry.title.split()), reader.get_destination_page_number(entry))
                for entry in reader.outline if not isinstance(entry, list)]
    starts, position = [], 0
    for title in titles:
        wanted = "".join(title.split())
        while position < len(headings) and headings[position][0] != wanted:
            position += 1
        if position == len(headings):
            raise TrialmonError(f"report split: no heading {title!r} in the PDF outline")
        starts.append(headings[position][1])
        position += 1
    for index, target in enumerate(targets):
        writer = PdfWriter()
        end = starts[index + 1] if index + 1 < len(starts) else len(reader.pages)
        for number in range(starts[index], end):
            writer.add_page(reader.pages[number])
        with target.open("wb") as handle:
            writer.write(handle)


def default_name(month: str, lang: str, fmt: str, area: str | None) -> str:
    return f"trialmon-review-{area or 'all-areas'}-{month}-{lang}.{fmt}"


def register(server: flask.Flask, data: Data) -> None:
    """GET /report/<lang>/<area>/<month>.<fmt>: the Overview's Report button."""

    @server.get("/report/<lang>/<area>/<month>.<fmt>")
    def report_file(lang: str, area: str, month: str, fmt: str):
        vintage = flask.request.args.get("vintage")
        try:
            if vintage is not None and not vintage.isdigit():
                raise TrialmonError(f"vintage must be a publication id, got {vintage!r}")
            with tempfile.TemporaryDirectory(prefix="trialmon-download-") as folder:
                target = Path(folder) / default_name(month, lang, fmt, area)
                write_report(data, month, target, lang=lang, fmt=fmt, areas=(area,),
                             vintage=int(vintage) if vintage else None)
                body = target.read_bytes()
        except TrialmonError as error:
            return flask.make_response(flask.jsonify(error=str(error)), 400)
        response = flask.Response(body, mimetype="application/pdf" if fmt == "pdf" else
                                  "text/html; charset=utf-8")
        response.headers["Content-Disposition"] = (
            f"attachment; filename={default_name(month, lang, fmt, area)}")
        return response
