"""Compare: one indicator in one month across trial areas or municipalities, ranked."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, dcc, html

from dashboard import charts
from dashboard.components import (
    area_options,
    field,
    indicator_month_fields,
    population_group_fields,
    select,
    summary_block,
)
from dashboard.i18n import fmt_month, fmt_value, indicator_name, label, nt, t
from dashboard.pages.common import controls_view, url_output
from dashboard.state import View, to_query
from trialmon.settings import get_settings

SIMILAR_SIZE_COUNT = 15  # the own area and its 14 nearest by number of jobseekers


def layout(view: View, data) -> html.Div:
    lang = view.lang
    scopes = [{"label": label("area_type", "trial_area", lang), "value": "trial_area"},
              {"label": label("area_type", "municipality", lang), "value": "municipality"}]
    peers = [{"label": t(lang, "All"), "value": "all"},
             {"label": t(lang, "Same region"), "value": "region"},
             {"label": t(lang, "Similar size (jobseekers)"), "value": "size"}]
    own = area_options(data.areas(), lang, ("trial_area", "municipality"))
    area = view.area if view.area in {o["value"] for o in own} else _first_of(data, view.scope)
    if view.area == "":  # the address named an unknown area: highlight none
        own, area = [{"label": t(lang, "(none)"), "value": ""}, *own], ""
    return html.Div([
        html.H1(t(lang, "Compare areas"), className="page-title"),
        html.P(t(lang, "One indicator in one month across areas, ranked. The whole country "
                       "and the comparison area are shown as reference lines."),
               className="lead-text"),
        dbc.Row([
            *indicator_month_fields("cmp", lang, view, data.months()),
            *population_group_fields("cmp", lang, view),
        ]),
        dbc.Row([
            field("cmp-scope", t(lang, "Compare"), select("cmp-scope", scopes, view.scope), 3),
            field("cmp-area", t(lang, "Your area (highlighted)"),
                  select("cmp-area", own, area), 5),
            field("cmp-peers", t(lang, "Peer group"), select("cmp-peers", peers, view.peers), 4),
        ]),
        html.Div(id="cmp-heading"),
        dcc.Tabs(id="cmp-tab", value=view.tab, children=[
            dcc.Tab(label=t(lang, "Chart"), value="chart",
                    children=[dcc.Graph(id="cmp-graph", config=charts.chart_config(lang))]),
            dcc.Tab(label=t(lang, "Table"), value="table",
                    children=[html.Div(id="cmp-table", className="table-wrap", tabIndex="0")]),
        ]),
        charts.legend_note(lang, data.suppression_threshold()),
        html.Div(id="cmp-summary"),
    ])


def _first_of(data, area_type: str) -> str:
    """The default highlighted area: the first area of the compared type."""
    areas = data.areas()
    codes = areas.filter(pl.col("area_type") == area_type)["area_code"]
    return codes[0] if codes.len() else ""


def _region_of(data, code: str) -> set[str]:
    """Regions of an area: a municipality's own, or those of a trial area's members."""
    regions = data.members("region")
    if code.isdigit():
        municipalities = {code}
    else:
        members = data.members("trial_area")
        municipalities = set(members.filter(pl.col("area_code") == code)["municipality_code"])
    return set(regions.filter(pl.col("municipality_code").is_in(municipalities))["area_code"])


def peer_filter(frame: pl.DataFrame, view: View, data) -> pl.DataFrame:
    """Keep the peer group: all, the same region, or similar size by jobseekers."""
    if view.peers == "region":
        regions = _region_of(data, view.area)
        if view.scope == "municipality":
            codes = data.members("region").filter(pl.col("area_code").is_in(regions))
            keep = set(codes["municipality_code"])
        else:
            members = data.members("trial_area")
            in_region = set(data.members("region").filter(
                pl.col("area_code").is_in(regions))["municipality_code"])
            keep = set(members.filter(pl.col("municipality_code").is_in(in_region))["area_code"])
        return frame.filter(pl.col("area_code").is_in(keep | {view.area}))
    if view.peers == "size":
        sizes = data.cross_section("jobseekers", "all", "all", view.scope, view.month)
        own = sizes.filter(pl.col("area_code") == view.area)["value"]
        if own.is_empty() or own[0] is None:
            return frame
        nearest = (sizes.filter(pl.col("value").is_not_null())
                   .with_columns((pl.col("value") - own[0]).abs().alias("_d"))
                   .sort("_d").head(SIMILAR_SIZE_COUNT))
        keep = [*nearest["area_code"].to_list(), view.area]
        return frame.filter(pl.col("area_code").is_in(keep))
    return frame


def build(view: View, data):
    lang = view.lang
    names = data.area_names(lang)
    frame = data.cross_section(view.indicator, view.population, view.group, view.scope,
                               view.month or "")
    frame = peer_filter(frame, view, data)
    refs = {}
    for code in ("SSS", "NONTRIAL"):
        ref = data.series((view.indicator,), view.population, view.group, (code,),
                          view.month, view.month)
        refs[names.get(code, code)] = ref["value"][0] if ref.height else None
    name = indicator_name(view.indicator, lang)
    heading = html.Div([
        html.H2(f"{name}, {fmt_month(view.month, lang)}", className="chart-title"),
        html.P(f"{label('population', view.population, lang)} · "
               f"{label('group', view.group, lang)} · {label('area_type', view.scope, lang)}",
               className="chart-subtitle")])
    figure = charts.bar_figure(frame, view.indicator, names, view.area, refs, lang)
    table = rank_table(frame, view, names, refs)
    return heading, figure, table, summary_block("cmp-summary-list",
                                                 summary(frame, view, names, refs), lang)


def rank_table(frame: pl.DataFrame, view: View, names, refs) -> html.Table:
    lang = view.lang
    ranked = charts.ranked_rows(frame).with_row_index("rank", 1)
    rows = []
    for r in ranked.iter_rows(named=True):
        text, css = charts.cell_text(r["value"], r["flag"],
                                     lambda v: fmt_value(v, view.indicator, lang))
        own = r["area_code"] == view.area
        rows.append(html.Tr([html.Td(r["rank"] if r["value"] is not None else "", className="num"),
                             html.Th(("▶ " if own else "") + names.get(r["area_code"],
                                                                        r["area_code"]),
                                     scope="row"),
                             html.Td(text, className=f"num {css}")],
                            className="own-row" if own else None))
    for ref_name, value in refs.items():
        rows.append(html.Tr([html.Td(""), html.Th(ref_name, scope="row"),
                             html.Td(fmt_value(value, view.indicator, lang) or "–",
                                     className="num")], className="ref-row"))
    head = html.Tr([html.Th(t(lang, "Rank"), scope="col"), html.Th(t(lang, "Area"), scope="col"),
                    html.Th(indicator_name(view.indicator, lang), scope="col",
                            className="num")])
    return html.Table([html.Caption(f"{indicator_name(view.indicator, lang)}, "
                                    f"{fmt_month(view.month, lang)}"),
                       html.Thead(head), html.Tbody(rows)],
                      className="table table-sm data-table", id="cmp-data-table")


def summary(frame: pl.DataFrame, view: View, names, refs) -> list[str]:
    lang = view.lang
    known = frame.filter(pl.col("value").is_not_null()).sort("value", descending=True)
    if known.is_empty():
        return [t(lang, "No published values for this selection.")]
    top, bottom = known.row(0, named=True), known.row(-1, named=True)
    out = [t(lang, "Highest: {area} {value}; lowest: {area2} {value2}.",
             area=names.get(top["area_code"]), value=fmt_value(top["value"], view.indicator, lang),
             area2=names.get(bottom["area_code"]),
             value2=fmt_value(bottom["value"], view.indicator, lang))]
    own = known.with_row_index("rank", 1).filter(pl.col("area_code") == view.area)
    if own.height:
        out.append(t(lang, "{area}: {value}, rank {rank} of {n}.", area=names.get(view.area),
                     value=fmt_value(own["value"][0], view.indicator, lang),
                     rank=own["rank"][0], n=known.height))
    elif view.area and view.area in set(frame["area_code"]):
        out.append(t(lang, "{area}: suppressed (fewer than {k} persons), not ranked.",
                     area=names.get(view.area, view.area),
                     k=get_settings().suppression_threshold))
    suppressed = frame.filter(pl.col("flag") == "suppressed").height
    if suppressed:
        out.append(nt(lang, "{n} area is suppressed: shown as ·· after the ranked areas.",
                      "{n} areas are suppressed: shown as ·· after the ranked areas.",
                      suppressed))
    return out


def register(app, data) -> None:
    @app.callback(
        Output("cmp-heading", "children"), Output("cmp-graph", "figure"),
        Output("cmp-table", "children"), Output("cmp-summary", "children"), url_output(),
        Input("cmp-indicator", "value"), Input("cmp-month", "value"),
        Input("cmp-population", "value"), Input("cmp-group", "value"),
        Input("cmp-scope", "value"), Input("cmp-area", "value"), Input("cmp-peers", "value"),
        Input("cmp-tab", "value"), State("url", "pathname"),
        prevent_initial_call="initial_duplicate")
    def update(indicator, month, population, group, scope, area, peers, tab, pathname):
        view = controls_view("compare", pathname, data, indicator=indicator, month=month,
                             population=population, group=group, scope=scope, area=area,
                             peers=peers, tab=tab)
        return (*data.memo(build, view), to_query(view))
