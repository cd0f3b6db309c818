"""Map: a choropleth of municipalities or trial areas (when boundaries are configured).

No basemap tiles: the outline of Finland is the boundaries themselves, so the map
works offline. Trial areas are drawn as their member municipalities, each shaded
with its trial area's value.
"""

from __future__ import annotations

import functools
import json

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, dcc, html

from dashboard import charts
from dashboard.components import (
    field,
    indicator_month_fields,
    population_group_fields,
    select,
    summary_block,
)
from dashboard.geo import load_boundaries
from dashboard.i18n import fmt_month, fmt_value, indicator_name, label, t
from dashboard.pages.common import controls_view, url_output
from dashboard.state import View, to_query
from trialmon.settings import get_settings

NO_VALUE_GREY = "#d9dde3"
GEOJSON_URL = "/geo/municipalities.geojson"


@functools.cache
def _geojson_bytes(path: str) -> bytes:
    return json.dumps(load_boundaries(path), separators=(",", ":")).encode()


def boundaries():
    path = get_settings().boundaries_path
    return load_boundaries(path) if path else None


def layout(view: View, data) -> html.Div:
    lang = view.lang
    levels = [{"label": label("area_type", "municipality", lang), "value": "municipality"},
              {"label": label("area_type", "trial_area", lang), "value": "trial_area"}]
    missing = None if boundaries() else dbc.Alert(
        t(lang, "No boundaries file is configured (TRIALMON_BOUNDARIES), so the map "
                "cannot be drawn; the table below has the same values."), color="info")
    return html.Div([
        html.H1(t(lang, "Map"), className="page-title"),
        dbc.Row([
            *indicator_month_fields("map", lang, view, data.months()),
            *population_group_fields("map", lang, view, width=2),
            field("map-level", t(lang, "Areas"), select("map-level", levels, view.level), 2),
        ]),
        missing,
        html.Div(id="map-heading"),
        dcc.Tabs(id="map-tab", value=view.tab, children=[
            dcc.Tab(label=t(lang, "Map"), value="chart",
                    children=[dcc.Graph(id="map-graph", config={
                        **charts.CONFIG, "topojsonURL": "/assets/topojson/"})]),
            dcc.Tab(label=t(lang, "Table"), value="table",
                    children=[html.Div(id="map-table", className="table-wrap", tabIndex="0")]),
        ]),
        charts.legend_note(lang),
        html.Div(id="map-summary"),
    ])


def municipality_values(frame: pl.DataFrame, view: View, data) -> pl.DataFrame:
    """One row per municipality: its own cell, or its trial area's cell."""
    if view.level == "municipality":
        return frame.rename({"area_code": "municipality_code"}).with_columns(
            pl.col("municipality_code").alias("area_code"))
    members = data.members("trial_area")
    return members.join(frame, on="area_code", how="left")


def figure(frame: pl.DataFrame, view: View, data, names: dict[str, str]) -> dict:
    """A plain-dict choropleth; the boundaries load once from GEOJSON_URL (browser-cached)."""
    geo = boundaries()
    if not geo:
        return dict(data=[], layout=charts.base_layout(view.lang, 200))
    lang = view.lang
    shaded = municipality_values(frame, view, data)
    known = shaded.filter(pl.col("value").is_not_null())
    outline = dict(  # every boundary in grey: no data, suppressed or not a member
        type="choropleth", geojson=GEOJSON_URL, locations=[f["id"] for f in geo["features"]],
        z=[0] * len(geo["features"]), colorscale=[[0, NO_VALUE_GREY], [1, NO_VALUE_GREY]],
        showscale=False, marker=dict(line=dict(color="white", width=0.4)), hoverinfo="skip")
    hover = [f"{names.get(a, a)}: {fmt_value(v, view.indicator, lang)}" for a, v in
             zip(known["area_code"], known["value"], strict=True)]
    values = dict(
        type="choropleth", geojson=GEOJSON_URL, locations=known["municipality_code"].to_list(),
        z=known["value"].to_list(), colorscale="Cividis", reversescale=True,
        marker=dict(line=dict(color="white", width=0.4)), text=hover,
        hovertemplate="%{text}<extra></extra>",
        colorbar=dict(title=dict(text=charts.unit_label(view.indicator, "level", lang)),
                      thickness=12, len=0.7))
    layout = charts.base_layout(lang, 680, hovermode="closest",
                                margin=dict(l=0, r=0, t=10, b=10),
                                geo=dict(fitbounds="locations", visible=False,
                                         projection=dict(type="mercator")))
    return dict(data=[outline, values], layout=layout)


def build(view: View, data):
    lang = view.lang
    names = data.area_names(lang)
    frame = data.cross_section(view.indicator, view.population, view.group, view.level,
                               view.month or "")
    name = indicator_name(view.indicator, lang)
    heading = html.Div([
        html.H2(f"{name}, {fmt_month(view.month, lang)}", className="chart-title"),
        html.P(f"{label('population', view.population, lang)} · "
               f"{label('group', view.group, lang)}. " +
               t(lang, "Grey: suppressed, no value or not in a trial area."),
               className="chart-subtitle")])
    ranked = frame.sort("value", descending=True, nulls_last=True)
    rows = [html.Tr([html.Th(names.get(c, c), scope="row"),
                     _cell(v, f, view, lang)])
            for c, v, f in ranked.select("area_code", "value", "flag").iter_rows()]
    table = html.Table([html.Caption(f"{name}, {fmt_month(view.month, lang)}"),
                        html.Thead(html.Tr([html.Th(t(lang, "Area"), scope="col"),
                                            html.Th(name, scope="col", className="num")])),
                        html.Tbody(rows)], className="table table-sm data-table",
                       id="map-data-table")
    known = ranked.filter(pl.col("value").is_not_null())
    sentences = [t(lang, "No published values for this selection.")] if known.is_empty() else [
        t(lang, "Highest: {area} {value}; lowest: {area2} {value2}.",
          area=names.get(known["area_code"][0]),
          value=fmt_value(known["value"][0], view.indicator, lang),
          area2=names.get(known["area_code"][-1]),
          value2=fmt_value(known["value"][-1], view.indicator, lang))]
    return heading, figure(frame, view, data, names), table, summary_block(
        "map-summary-list", sentences, lang)


def _cell(value, flag, view, lang):
    text, css = charts.cell_text(value, flag, lambda v: fmt_value(v, view.indicator, lang))
    return html.Td(text, className=f"num {css}".strip())


def register(app, data) -> None:
    @app.server.get(GEOJSON_URL)
    def municipalities_geojson():
        import flask

        geo = boundaries()
        if not geo:
            return flask.make_response(flask.jsonify(error="no boundaries configured"), 404)
        response = flask.Response(_geojson_bytes(get_settings().boundaries_path),
                                  mimetype="application/geo+json")
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    @app.callback(
        Output("map-heading", "children"), Output("map-graph", "figure"),
        Output("map-table", "children"), Output("map-summary", "children"), url_output(),
        Input("map-indicator", "value"), Input("map-month", "value"),
        Input("map-population", "value"), Input("map-group", "value"),
        Input("map-level", "value"), Input("map-tab", "value"), State("url", "pathname"),
        prevent_initial_call="initial_duplicate")
    def update(indicator, month, population, group, level, tab, pathname):
        view = controls_view("map", pathname, data, indicator=indicator, month=month,
                             population=population, group=group, level=level, tab=tab)
        return (*data.memo(build, view), to_query(view))
