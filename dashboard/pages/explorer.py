"""Explorer: one indicator over time for several areas, in levels, changes or an index."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from dashboard import charts
from dashboard.components import (
    area_options,
    field,
    indicator_options,
    month_options,
    multi,
    period_fields,
    population_group_fields,
    radio,
    select,
    summary_block,
)
from dashboard.i18n import fmt_change, fmt_value, indicator_text, label, t
from dashboard.pages.common import controls_view, url_output
from dashboard.state import MAX_AREAS, View, to_query
from indicators.registry import INDICATORS


def mode_options(lang: str) -> list[dict]:
    return [{"label": t(lang, "Level"), "value": "level"},
            {"label": t(lang, "Change from a year earlier"), "value": "yoy"},
            {"label": t(lang, "Index (2021-02 = 100)"), "value": "index"}]


def layout(view: View, data) -> html.Div:
    lang = view.lang
    months = data.months()
    period = [{"label": t(lang, "All months"), "value": "all"}] + month_options(months, lang)
    return html.Div([
        html.H1(t(lang, "Explorer"), className="page-title"),
        html.P(t(lang, "One indicator over time for up to {n} areas of any type.", n=MAX_AREAS),
               className="lead-text"),
        dbc.Row([
            field("ex-indicator", t(lang, "Indicator"),
                  select("ex-indicator", indicator_options(lang), view.indicator), 4),
            field("ex-areas", t(lang, "Areas"),
                  multi("ex-areas", area_options(data.areas(), lang), view.areas, lang), 8),
        ]),
        dbc.Row([
            *population_group_fields("ex", lang, view),
            *period_fields("ex", lang, view, period),
        ]),
        html.Fieldset([html.Legend(t(lang, "Show as"), className="form-label fs-6"),
                       radio("ex-mode", mode_options(lang), view.mode)], className="mb-3"),
        html.Div(id="ex-heading"),
        dcc.Tabs(id="ex-tab", value=view.tab, children=[
            dcc.Tab(label=t(lang, "Chart"), value="chart", children=[
                dcc.Graph(id="ex-graph", config=charts.chart_config(lang), className="chart"),
            ]),
            dcc.Tab(label=t(lang, "Table"), value="table", children=[
                html.Div(id="ex-table", className="table-wrap", tabIndex="0")]),
        ]),
        html.Div(id="ex-legend", children=charts.legend_note(lang, data.suppression_threshold())),
        html.Div(id="ex-summary"),
    ])


def build(view: View, data):
    """(heading, figure, table, summary) for an explorer view -- one frame for all."""
    lang = view.lang
    names = data.area_names(lang)
    frame = data.series((view.indicator,), view.population, view.group, view.areas,
                        view.start, view.end)
    if view.mode != "level":
        # a change or an index needs months before the shown period
        full = data.series((view.indicator,), view.population, view.group, view.areas)
        frame = charts.transform(full, view.mode)
        if view.start:
            frame = frame.filter(frame["month"] >= view.start)
        if view.end:
            frame = frame.filter(frame["month"] <= view.end)
    name, short, _ = indicator_text(view.indicator, lang)
    unit = charts.unit_label(view.indicator, view.mode, lang)
    heading = html.Div([
        html.H2(name, className="chart-title"),
        html.P(f"{label('population', view.population, lang)} · "
               f"{label('group', view.group, lang)} · {unit}", className="chart-subtitle"),
        html.P(short, className="small text-muted") if short else None,
    ])
    figure = charts.line_figure(frame, view.indicator, view.mode, names, view.areas, lang)
    not_loaded = frame.is_empty() and INDICATORS[view.indicator].source == "statfin"
    if not_loaded:
        figure = charts.empty_figure(lang, t(lang, "Statistics Finland's data (table "
                                                   "tyonv/12r5) are not loaded."))
    fmt = (lambda v: fmt_change(v, view.indicator, lang)) if view.mode == "yoy" else (
        (lambda v: fmt_value(v, view.indicator, lang)) if view.mode == "level" else
        (lambda v: fmt_value(v, "unemployed_share", lang, unit=False)))
    table = charts.wide_table(frame, view.areas, names, fmt, f"{name}: {unit}", lang,
                              "ex-data-table")
    sentences = charts.series_summary(frame, view.indicator, view.mode, names, view.areas, lang)
    if frame.is_empty():
        sentences = [t(lang, "Statistics Finland's data (table tyonv/12r5) are not loaded.")
                     if not_loaded else t(lang, "No published values for this selection.")]
    return heading, figure, table, summary_block("ex-summary-list", sentences, lang)


def register(app, data) -> None:
    @app.callback(
        Output("ex-heading", "children"), Output("ex-graph", "figure"),
        Output("ex-table", "children"), Output("ex-summary", "children"), url_output(),
        Input("ex-indicator", "value"), Input("ex-areas", "value"),
        Input("ex-population", "value"), Input("ex-group", "value"),
        Input("ex-mode", "value"), Input("ex-from", "value"), Input("ex-to", "value"),
        Input("ex-tab", "value"), State("url", "pathname"),
        prevent_initial_call="initial_duplicate",
    )
    def update(indicator, areas, population, group, mode, start, end, tab, pathname):
        view = controls_view("explorer", pathname, data, indicator=indicator, areas=areas,
                             population=population, group=group, mode=mode,
                             **{"from": start, "to": end}, tab=tab)
        return (*data.memo(build, view), to_query(view))

