"""Map: a choropleth of municipalities or trial areas (when boundaries are configured).

No basemap tiles: the outline of Finland is the boundaries themselves, so the map
works offline. Trial areas are drawn as their member municipalities, each shaded
with its trial area's value, and every trial area's outline (its members dissolved
into one shape with shapely) is drawn over the municipalities on both levels.

Decisions: the project ships Statistics Finland's municipality boundaries 2026
(generalised 2 km, CC BY 4.0), reprojected to WGS84 with 4 decimals (about 10 m;
dashboard/geodata, 170 kB); ``TRIALMON_BOUNDARIES`` still overrides them. The
attribution is shown under the map.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import dash_bootstrap_components as dbc
import flask
import polars as pl
import shapely
from dash import Input, Output, State, dcc, html
from shapely.geometry import Polygon, shape

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
SHIPPED_BOUNDARIES = Path(__file__).resolve().parents[1] / "geodata" / \
    "municipalities_2026.geojson"


@functools.cache
def _geojson_bytes(path: str) -> bytes:
    return json.dumps(load_boundaries(path), separators=(",", ":")).encode()


def boundaries_path() -> str:
    """TRIALMON_BOUNDARIES when set, else the boundaries shipped with the project."""
    return get_settings().boundaries_path or str(SHIPPED_BOUNDARIES)


def boundaries():
    return load_boundaries(boundaries_path())


@functools.cache
def _shapes(path: str) -> dict:
    return {f["id"]: shape(f["geometry"]) for f in load_boundaries(path)["features"]}


@functools.cache
def _land(path: str):
    return shapely.unary_union(list(_shapes(path).values()))


def _without_slivers(merged, land):
    """Generalised boundaries leave thin gaps between neighbours, which a union shows as
    holes; a hole stays only where it is some other municipality (mostly on land)."""
    polygons = []
    for part in getattr(merged, "geoms", [merged]):
        holes = [ring for ring in part.interiors
                 if Polygon(ring).intersection(land).area > 0.5 * Polygon(ring).area]
        polygons.append(Polygon(part.exterior, holes))
    return shapely.unary_union(polygons)


@functools.lru_cache(maxsize=8)
def trial_outlines(path: str, members: tuple[tuple[str, str], ...]) -> tuple[list, list]:
    """(lon, lat) of every trial area's outline: its members dissolved into one shape,
    rings separated by None (one Plotly line trace)."""
    shapes, land = _shapes(path), _land(path)
    groups: dict[str, list] = {}
    for area_code, municipality in members:
        if municipality in shapes:
            groups.setdefault(area_code, []).append(shapes[municipality])
    lon, lat = [], []
    for parts in groups.values():
        merged = _without_slivers(shapely.unary_union(parts), land)
        for line in getattr(merged.boundary, "geoms", [merged.boundary]):
            xs, ys = line.xy
            lon += [*xs, None]
            lat += [*ys, None]
    return lon, lat


def layout(view: View, data) -> html.Div:
    lang = view.lang
    levels = [{"label": label("area_type", "municipality", lang), "value": "municipality"},
              {"label": label("area_type", "trial_area", lang), "value": "trial_area"}]
    missing = None if boundaries() else dbc.Alert(
        t(lang, "The boundaries file {path} (TRIALMON_BOUNDARIES) was not found, so the map "
                "cannot be drawn; the table has the same values.", path=boundaries_path()),
        color="warning")
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
                    children=[dcc.Graph(id="map-graph", className="map-graph", config={
                        **charts.chart_config(lang, "geo"), "topojsonURL": "/assets/topojson/"})]),
            dcc.Tab(label=t(lang, "Table"), value="table",
                    children=[html.Div(id="map-table", className="table-wrap", tabIndex="0")]),
        ]),
        charts.legend_note(lang, data.suppression_threshold()),
        html.P(t(lang, "Boundaries: Statistics Finland, municipal boundaries 2026 (CC BY 4.0); "
                       "thick lines: trial areas.") if not get_settings().boundaries_path
               else t(lang, "Boundaries: {path}; thick lines: trial areas.",
                      path=Path(boundaries_path()).name), className="map-attribution"),
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
        return charts.empty_figure(view.lang, t(view.lang, "No boundaries: see the table."))
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
    pairs = tuple(data.members("trial_area").select("area_code", "municipality_code")
                  .iter_rows())
    lon, lat = trial_outlines(boundaries_path(), pairs)
    outlines = dict(type="scattergeo", mode="lines", lon=lon, lat=lat, hoverinfo="skip",
                    showlegend=False, line=dict(color="#1f2933", width=1.6))
    layout = charts.base_layout(lang, 680, hovermode="closest",
                                margin=dict(l=0, r=0, t=10, b=10),
                                geo=dict(fitbounds="locations", visible=False,
                                         projection=dict(type="mercator")))
    layout.pop("height")  # the container's height (CSS: shorter on a phone)
    layout["autosize"] = True
    return dict(data=[outline, values, outlines], layout=layout)


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
        geo = boundaries()
        if not geo:
            return flask.make_response(flask.jsonify(error="no boundaries file found"), 404)
        response = flask.Response(_geojson_bytes(boundaries_path()),
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
