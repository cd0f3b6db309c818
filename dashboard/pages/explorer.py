"""Explorer: one indicator over time for several areas, in levels, changes or an index.

"As published on" (``vintage`` in the address) shows the figures as one publication left
them; points whose value was revised (later, or at any time when showing the newest
figures) are ringed, and the revision table lists old -> new for the indicator and areas.
"""

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
from dashboard.i18n import fmt_change, fmt_month, fmt_value, indicator_text, label, t
from dashboard.pages.common import (
    controls_view,
    reason_text,
    url_output,
    vintage_options,
    when_text,
)
from dashboard.state import MAX_AREAS, View, to_query
from indicators.registry import INDICATORS


def mode_options(lang: str) -> list[dict]:
    return [{"label": t(lang, "Level"), "value": "level"},
            {"label": t(lang, "Change from a year earlier"), "value": "yoy"},
            {"label": t(lang, "Index (2021-02 = 100)"), "value": "index"}]


REVISION_ROWS = 200
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
        dbc.Row([
            dbc.Col(html.Fieldset([html.Legend(t(lang, "Show as"), className="form-label fs-6"),
                                   radio("ex-mode", mode_options(lang), view.mode)]),
                    md=7, className="mb-3"),
            field("ex-vintage", t(lang, "As published on"),
                  select("ex-vintage", vintage_options(data, lang), view.vintage or "now"), 5),
        ]),
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
        html.Div(id="ex-revisions"),
    ])


def build(view: View, data):
    """(heading, figure, table, summary, revisions) for an explorer view -- one frame."""
    lang = view.lang
    names = data.area_names(lang)
    as_of = int(view.vintage) if view.vintage else None
    frame = data.series((view.indicator,), view.population, view.group, view.areas,
                        view.start, view.end, as_of)
    if view.mode != "level":
        # a change or an index needs months before the shown period
        full = data.series((view.indicator,), view.population, view.group, view.areas,
                           as_of=as_of)
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
    revised = data.revised_cells((view.indicator,), view.population, view.group, view.areas,
                                 as_of)
    figure["data"] += revised_markers(frame, revised, lang, as_of is not None)
    fmt = (lambda v: fmt_change(v, view.indicator, lang)) if view.mode == "yoy" else (
        (lambda v: fmt_value(v, view.indicator, lang)) if view.mode == "level" else
        (lambda v: fmt_value(v, "unemployed_share", lang, unit=False)))
    table = charts.wide_table(frame, view.areas, names, fmt, f"{name}: {unit}", lang,
                              "ex-data-table")
    sentences = charts.series_summary(frame, view.indicator, view.mode, names, view.areas, lang)
    if frame.is_empty():
        sentences = [t(lang, "Statistics Finland's data (table tyonv/12r5) are not loaded.")
                     if not_loaded else t(lang, "No published values for this selection.")]
    return (heading, figure, table, summary_block("ex-summary-list", sentences, lang),
            revision_table(view, data, names))


def revised_markers(frame, revised, lang: str, past: bool) -> list[dict]:
    """Open rings on the points whose published value was revised (one legend entry)."""
    if revised.is_empty() or frame.is_empty():
        return []
    points = frame.join(revised.select("area_code", "month"), on=["area_code", "month"],
                        how="semi").drop_nulls("value").sort("month")
    if points.is_empty():
        return []
    name = t(lang, "revised later") if past else t(lang, "revised")
    return [dict(type="scatter", mode="markers", x=charts.month_dates(points),
                 y=points["value"].to_list(), name=name, hoverinfo="skip",
                 marker=dict(symbol="circle-open", size=13, color="#1f2933",
                             line=dict(width=2)))]


def revision_table(view: View, data, names: dict[str, str]) -> html.Div:
    """Old -> new value of every revised cell of the indicator and areas, with the
    vintage of each and why."""
    lang = view.lang
    table = data.revisions((view.indicator,), view.areas, view.population, view.group)
    title = html.H2(t(lang, "Revisions"), className="h5 mt-4")
    if table.is_empty():
        return html.Div([title, html.P(t(lang, "No published value of this selection has "
                                               "been revised."), id="ex-no-revisions")])
    def fmt(value, flag) -> str:
        return charts.cell_text(value, flag, lambda x: fmt_value(x, view.indicator, lang))[0]

    head = html.Tr([html.Th(t(lang, h), scope="col", className="num" if i in (2, 4) else None)
                    for i, h in enumerate(("Area", "Month", "Old value", "Published",
                                           "New value", "Revised", "Why"))])
    rows = [html.Tr([
        html.Td(names.get(r["area_code"], r["area_code"])),
        html.Td(fmt_month(r["month"], lang)),
        html.Td(fmt(r["old_value"], r["old_flag"]), className="num"),
        html.Td(f"{t(lang, 'vintage')} {r['old_vintage']}, {when_text(r['old_published_at'])}"),
        html.Td(t(lang, "removed") if r["removed"] else fmt(r["new_value"], r["new_flag"]),
                className="num"),
        html.Td(f"{t(lang, 'vintage')} {r['new_vintage']}, {when_text(r['new_published_at'])}"),
        html.Td(reason_text(r["reason"], lang)),
    ]) for r in table.head(REVISION_ROWS).iter_rows(named=True)]
    return html.Div([title, html.Div(html.Table(
        [html.Thead(head), html.Tbody(rows)], className="table table-sm data-table",
        id="ex-revision-table"), className="table-wrap", tabIndex="0")])


def register(app, data) -> None:
    @app.callback(
        Output("ex-heading", "children"), Output("ex-graph", "figure"),
        Output("ex-table", "children"), Output("ex-summary", "children"),
        Output("ex-revisions", "children"), url_output(),
        Input("ex-indicator", "value"), Input("ex-areas", "value"),
        Input("ex-population", "value"), Input("ex-group", "value"),
        Input("ex-mode", "value"), Input("ex-from", "value"), Input("ex-to", "value"),
        Input("ex-tab", "value"), Input("ex-vintage", "value"), State("url", "pathname"),
        prevent_initial_call="initial_duplicate",
    )
    def update(indicator, areas, population, group, mode, start, end, tab, vintage,
               pathname):
        view = controls_view("explorer", pathname, data, indicator=indicator, areas=areas,
                             population=population, group=group, mode=mode,
                             **{"from": start, "to": end}, tab=tab,
                             vintage=vintage)
        return (*data.memo(build, view), to_query(view))

