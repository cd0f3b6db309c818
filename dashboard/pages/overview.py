"""Overview: headline indicators of one area in the latest month, as cards."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, dcc, html

from dashboard import charts
from dashboard.components import area_options, field, month_options, population_options, select
from dashboard.i18n import fmt_change, fmt_month, fmt_value, indicator_name, label, t
from dashboard.pages.common import explorer_href, lang_of, search_of, url_output
from dashboard.state import View

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


def _months_back(month: str, n: int) -> str:
    return charts._months_back(month, n)


def card(indicator: str, population: str, frame: pl.DataFrame, area_code: str, month: str,
         lang: str) -> dbc.Col:
    """One headline card: value, changes, a small trend line and a link to the explorer."""
    part = frame.filter(pl.col("indicator") == indicator).sort("month")
    values = {m: (v, f) for m, v, f in part.select("month", "value", "flag").iter_rows()}
    value, flag = values.get(month, (None, None))
    name = indicator_name(indicator, lang)
    if indicator == "jobseekers" and population == "trial_customers":
        name = label("population", "trial_customers", lang)
    shown = (t(lang, "suppressed") if flag == "suppressed" else
             fmt_value(value, indicator, lang) or "–")
    changes = []
    for months_back, text in ((1, "from previous month"), (12, "from a year earlier")):
        before, _ = values.get(_months_back(month, months_back), (None, None))
        delta = value - before if value is not None and before is not None else None
        arrow = "" if delta is None else ("▲ " if delta > 0 else ("▼ " if delta < 0 else "● "))
        changes.append(html.Li([html.Span(arrow + (fmt_change(delta, indicator, lang) or "–"),
                                          className="delta"), " ", t(lang, text)]))
    spark = part.filter(pl.col("month") <= month).tail(SPARK_MONTHS)
    href = explorer_href(lang, indicator=indicator, areas=(area_code,),
                         population=population)
    body = [
        html.H2(dcc.Link(name, href=href, className="stretched-link card-link"),
                className="card-name"),
        html.Div([shown, html.Span(" *", title=t(lang, "incomplete"))
                  if flag == "incomplete" else None], className="card-value"),
        html.Ul(changes, className="card-changes"),
        html.Img(src=charts.sparkline_svg(_monthly(spark)), alt="", className="sparkline")
        if spark.height > 1 else None,
        html.P(t(lang, "{month}, {population}", month=fmt_month(month, lang),
                 population=label("population", population, lang)), className="card-meta"),
    ]
    return dbc.Col(dbc.Card(dbc.CardBody(body), className="kpi-card h-100"),
                   xs=12, sm=6, lg=4, xl=3, className="mb-3")


def _monthly(frame: pl.DataFrame) -> list[float | None]:
    """Values in month order; a suppressed month is None (a break in the line)."""
    return frame.sort("month")["value"].to_list()


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
    start = _months_back(month, SPARK_MONTHS)
    cols = []
    by_population: dict[str, list[str]] = {}
    for indicator, population in CARDS:
        by_population.setdefault(population or view.population, []).append(indicator)
    frames = {pop: data.series(tuple(inds), pop, "all", (view.area,), start, month)
              for pop, inds in by_population.items()}
    for indicator, population in CARDS:
        pop = population or view.population
        frame = frames[pop]
        if indicator.startswith("stat_") and frame.filter(
                pl.col("indicator") == indicator).is_empty():
            continue  # public statistics not loaded: no card rather than an empty one
        cols.append(card(indicator, pop, frame, view.area, month, lang))
    return [report_link(view), dbc.Row(cols)]


def register(app, data) -> None:
    @app.callback(Output("ov-cards", "children"), url_output(),
                  Input("ov-area", "value"), Input("ov-population", "value"),
                  Input("ov-month", "value"), State("url", "pathname"),
                  prevent_initial_call="initial_duplicate")
    def update(area, population, month, pathname):
        lang = lang_of(pathname)
        view = View(page="overview", lang=lang, area=area, population=population, month=month)
        return build(view, data), search_of("overview", lang, area=area,
                                            population=population, month=month)
