"""Overview: headline indicators of one area in the latest month, as cards."""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, dcc, html

from dashboard import charts
from dashboard.components import (
    area_options,
    collation_key,
    field,
    month_options,
    population_options,
    select,
)
from dashboard.i18n import (
    N_,
    fmt_change,
    fmt_month,
    fmt_number,
    fmt_value,
    indicator_name,
    label,
    t,
)
from dashboard.pages.common import controls_view, explorer_href, url_output
from dashboard.state import View, to_query
from indicators.registry import INDICATORS, TRIAL_END, TRIAL_START
from trialmon.months import shift_month

# (indicator, population): trial customers are the jobseekers whose responsibility is the trial.
CARDS = (("jobseekers", "trial_customers"), ("unemployed", None), ("unemployed_share", None),
         ("long_term_share", None), ("activation_rate", None), ("exit_open_market_rate", None),
         ("stat_unemployment_rate", "all"))
SPARK_MONTHS = 36


def layout(view: View, data) -> html.Div:
    lang = view.lang
    return html.Div([
        html.H1(t(lang, "Overview"), className="page-title"),
        html.P(t(lang, "Headline indicators of one area in one month, with the change from "
                       "the previous month and from a year earlier."), className="lead-text"),
        dbc.Row([
            field("ov-area", t(lang, "Area"),
                  select("ov-area", area_options(data.areas(), lang), view.area), 5),
            field("ov-population", t(lang, "Population"),
                  select("ov-population", population_options(lang), view.population), 3),
            field("ov-month", t(lang, "Month"),
                  select("ov-month", month_options(data.months(), lang), view.month), 4),
        ]),
        html.Div(id="ov-cards"),
    ])



REFERENCES = ("SSS", "NONTRIAL")  # the whole country and the comparison (non-trial) area


def _changes(values: dict, value, month: str, indicator: str, lang: str) -> list:
    changes = []
    for months_back, text in ((1, N_("from previous month")), (12, N_("from a year earlier"))):
        before, _ = values.get(shift_month(month, -months_back), (None, None))
        delta = value - before if value is not None and before is not None else None
        arrow = "" if delta is None else ("▲ " if delta > 0 else ("▼ " if delta < 0 else "● "))
        changes.append(html.Li([html.Span(arrow + (fmt_change(delta, indicator, lang) or "–"),
                                          className="delta"), " ", t(lang, text)]))
    return changes


def year_change(values: dict, month: str, indicator: str, lang: str) -> str:
    """The change from a year earlier, comparable between areas of any size: percentage
    points for a share, per cent of the earlier count for a count."""
    value, _ = values.get(month, (None, None))
    before, _ = values.get(shift_month(month, -12), (None, None))
    if value is None or before is None:
        return "–"
    if INDICATORS[indicator].unit == "percent":
        return fmt_change(value - before, indicator, lang)
    if not before:
        return "–"
    return fmt_number(100 * (value - before) / before, 1, lang, signed=True) + "\u00a0%"


def _cell_text(values: dict, month: str, indicator: str, lang: str) -> str:
    value, flag = values.get(month, (None, None))
    return "··" if flag == "suppressed" else (fmt_value(value, indicator, lang) or "–")


def comparison_table(indicator: str, series: dict[str, dict], area_code: str, month: str,
                     names: dict[str, str], lang: str) -> html.Table:
    """The area against the whole country and the comparison area: value and the change
    from a year earlier."""
    rows = [html.Tr([html.Th(names.get(code, code), scope="row"),
                     html.Td(_cell_text(series.get(code, {}), month, indicator, lang),
                             className="num"),
                     html.Td(year_change(series.get(code, {}), month, indicator, lang),
                             className="num")],
                    className="own-row" if code == area_code else None)
            for code in dict.fromkeys((area_code, *REFERENCES))]
    head = html.Tr([html.Th(t(lang, "Area"), scope="col"),
                    html.Th(t(lang, "Value"), scope="col", className="num"),
                    html.Th(t(lang, "In a year"), scope="col", className="num")])
    return html.Table([html.Thead(head), html.Tbody(rows)],
                      className="table table-sm card-compare mb-1")


def sparkline(part: pl.DataFrame, month: str, lang: str):
    """The trend line of the last SPARK_MONTHS months with a text alternative naming its
    period and trend; a text instead when fewer than two months are published."""
    spark = part.filter(pl.col("month") <= month).tail(SPARK_MONTHS)
    values = _monthly(spark)
    source = charts.sparkline_svg(values)
    if not source:
        return html.P(t(lang, "Too few published months for a trend line."),
                      className="sparkline-empty")
    months = spark.sort("month")["month"]
    alt = t(lang, "Trend line {a}–{b}: {trend}.", a=fmt_month(months[0], lang),
            b=fmt_month(months[-1], lang), trend=charts.trend_word(values, lang))
    return html.Img(src=source, alt=alt, className="sparkline")


def card(indicator: str, population: str, frame: pl.DataFrame, area_code: str, month: str,
         lang: str, names: dict[str, str] | None = None) -> dbc.Col:
    """One headline card: value, changes, the area against the country and the comparison
    area, a small trend line and a link to the explorer."""
    names = names or {}
    by_area = {code: {m: (v, f) for m, v, f in part.sort("month").select(
        "month", "value", "flag").iter_rows()}
        for (code,), part in frame.filter(pl.col("indicator") == indicator)
        .partition_by("area_code", as_dict=True).items()}
    values = by_area.get(area_code, {})
    part = frame.filter((pl.col("indicator") == indicator) & (pl.col("area_code") == area_code))
    value, flag = values.get(month, (None, None))
    name = indicator_name(indicator, lang)
    trial_only = population == "trial_customers"
    if indicator == "jobseekers" and trial_only:
        name = label("population", "trial_customers", lang)
    href = explorer_href(lang, indicator=indicator, areas=(area_code,), population=population)
    title = html.H2(dcc.Link(name, href=href, className="stretched-link card-link"),
                    className="card-name")
    meta = html.P(t(lang, "{month}, {population}", month=fmt_month(month, lang),
                    population=label("population", population, lang)), className="card-meta")
    if trial_only and month > TRIAL_END:
        body = [title, html.Div(t(lang, "not applicable"), className="card-value card-na"),
                html.P(t(lang, "The trial period ended in {month}; trials have no customers "
                               "after it.", month=fmt_month(TRIAL_END, lang)),
                       className="card-changes"), meta]
        return _column(body)
    shown = (t(lang, "suppressed") if flag == "suppressed" else
             fmt_value(value, indicator, lang) or "–")
    body = [
        title,
        html.Div([shown, html.Span(" *", title=t(lang, "incomplete"))
                  if flag == "incomplete" else None], className="card-value"),
        html.Ul(_changes(values, value, month, indicator, lang), className="card-changes"),
        None if trial_only else comparison_table(indicator, by_area, area_code, month,
                                                 names, lang),
        sparkline(part, month, lang),
        meta,
    ]
    return _column(body)


def _column(body: list) -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody(body), className="kpi-card h-100"),
                   xs=12, sm=6, lg=4, xl=3, className="mb-3")


def _monthly(frame: pl.DataFrame) -> list[float | None]:
    """Values in month order; a suppressed month is None (a break in the line)."""
    return frame.sort("month")["value"].to_list()


def default_month(months: list[str]) -> str | None:
    """The newest month with trial data (the trials ended in TRIAL_END), else the newest."""
    during = [m for m in months if m <= TRIAL_END]
    return during[-1] if during else (months[-1] if months else None)


def report_link(view: View) -> html.Div:
    """The Report button: a plain link to the monthly review PDF of the area and month."""
    href = f"/report/{view.lang}/{view.area}/{view.month}.pdf"
    return html.Div(html.A(t(view.lang, "Report") + " (PDF)", href=href, id="ov-report",
                           className="btn btn-outline-primary btn-sm", download="",
                           title=t(view.lang, "Monthly review of this area and month")),
                    className="mb-3")


def build(view: View, data) -> list:
    lang, month = view.lang, view.month
    if not month:
        return [html.P(t(lang, "No data has been published yet."))]
    start = shift_month(month, -SPARK_MONTHS)
    names = data.area_names(lang)
    codes = tuple(dict.fromkeys((view.area, *REFERENCES)))
    by_population: dict[str, list[str]] = {}
    for indicator, population in CARDS:
        by_population.setdefault(population or view.population, []).append(indicator)
    frames = {pop: data.series(tuple(inds), pop, "all", codes, start, month)
              for pop, inds in by_population.items()}
    cols = []
    for indicator, population in CARDS:
        pop = population or view.population
        frame = frames[pop]
        if indicator.startswith("stat_") and frame.filter(
                pl.col("indicator") == indicator).is_empty():
            continue  # public statistics not loaded: no card rather than an empty one
        cols.append(card(indicator, pop, frame, view.area, month, lang, names))
    after = [dbc.Alert(t(lang, "{month} is after the trial period ({a}–{b}): trial customers "
                              "are not applicable.", month=fmt_month(month, lang),
                         a=fmt_month(TRIAL_START, lang), b=fmt_month(TRIAL_END, lang)),
                       color="info", className="py-2", id="ov-after-trials")
             ] if month > TRIAL_END else []
    return [*after, *membership_lines(data, view.area, month, lang), report_link(view),
            dbc.Row(cols)]


NO_MEMBER_LINE = ("municipality", "all_trials", "comparison", "country")


def membership_lines(data, area_code: str, month: str, lang: str) -> list:
    """'Kainuu trial area: Hyrynsalmi, Kajaani, …' for the chosen area, or for each area
    system a chosen municipality belongs to, as valid on the month's last day."""
    end = dt.date(int(month[:4]), int(month[5:7]), 1) + dt.timedelta(days=31)
    end = end.replace(day=1) - dt.timedelta(days=1)
    members = data.memberships().filter(
        (pl.col("valid_from") <= end) & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= end))
        & ~pl.col("area_type").is_in(list(NO_MEMBER_LINE)))
    areas = data.areas()
    kind = dict(zip(areas["area_code"], areas["area_type"], strict=True)).get(area_code)
    if kind == "municipality":  # its trial area, employment area, loaded systems
        wanted = members.filter((pl.col("municipality_code") == area_code)
                                & (pl.col("area_type") != "region")).select(
            "area_type", "area_code").unique(maintain_order=True)
    else:
        wanted = members.filter(pl.col("area_code") == area_code).select(
            "area_type", "area_code").unique()
    names = data.area_names(lang)
    partial = set(areas.filter(pl.col("completeness") == "partial")["area_code"])
    lines = []
    for system, code in wanted.sort("area_type", "area_code").iter_rows():
        towns = sorted((names.get(m, m) for m in members.filter(
            (pl.col("area_type") == system) & (pl.col("area_code") == code))["municipality_code"]),
            key=lambda name: collation_key(name, lang))
        title = (t(lang, "{area} trial area", area=names.get(code, code))
                 if system == "trial_area" else
                 f"{names.get(code, code)} ({label('area_type', system, lang)})")
        note = f" ({t(lang, 'Partial membership: members found so far')})" if code in partial \
            else ""
        lines.append(html.P([html.Strong(title + ": "), ", ".join(towns) + note],
                            className="membership-line mb-1"))
    return lines


def register(app, data) -> None:
    @app.callback(Output("ov-cards", "children"), url_output(),
                  Input("ov-area", "value"), Input("ov-population", "value"),
                  Input("ov-month", "value"), State("url", "pathname"),
                  prevent_initial_call="initial_duplicate")
    def update(area, population, month, pathname):
        view = controls_view("overview", pathname, data, area=area, population=population,
                             month=month)
        return data.memo(build, view), to_query(view)
