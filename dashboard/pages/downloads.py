"""Downloads: choose a slice, preview it, download it with its metadata (a zip)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from dashboard import api
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
)
from dashboard.i18n import fmt_number, t
from dashboard.pages.common import lang_of, search_of, url_output, vintage_of, vintage_options
from dashboard.state import View
from indicators.export import ExportQuery, query_table
from indicators.registry import INDICATORS

PREVIEW_ROWS = 12
PREVIEW_COLUMNS = ("month", "area_name", "population", "group", "indicator", "value", "flag")


def layout(view: View, data) -> html.Div:
    lang = view.lang
    period = [{"label": t(lang, "All months"), "value": "all"}] + month_options(data.months(), lang)
    formats = [{"label": "CSV", "value": "csv"}, {"label": "Excel (XLSX)", "value": "xlsx"},
               {"label": "Parquet", "value": "parquet"}]
    return html.Div([
        html.H1(t(lang, "Downloads"), className="page-title"),
        html.P(t(lang, "Choose indicators, areas and a period. Every file comes in a zip "
                       "with a metadata file (definitions, sources, licence, disclosure rule)."),
               className="lead-text"),
        dbc.Row([
            field("dl-indicators", t(lang, "Indicators"),
                  multi("dl-indicators", indicator_options(lang), view.indicators, lang), 6),
            field("dl-areas", t(lang, "Areas"),
                  multi("dl-areas", area_options(data.areas(), lang), view.areas, lang), 6),
        ]),
        dbc.Row([
            *population_group_fields("dl", lang, view),
            *period_fields("dl", lang, view, period),
        ]),
        dbc.Row([
            dbc.Col(html.Fieldset([html.Legend(t(lang, "File format"),
                                               className="form-label fs-6"),
                                   radio("dl-format", formats, view.format)]), md=7,
                    className="mb-3"),
            field("dl-vintage", t(lang, "As published on"),
                  select("dl-vintage", vintage_options(data, lang), view.vintage or "now"), 5),
        ]),
        html.Div([
            dbc.Button(t(lang, "Download selection"), id="dl-button", color="primary",
                       className="me-2"),
            dbc.Button(t(lang, "Download everything (Parquet)"), id="dl-bulk",
                       color="secondary", outline=True),
        ], className="mb-3"),
        dcc.Download(id="dl-file"), dcc.Download(id="dl-bulk-file"),
        html.H2(t(lang, "Preview"), className="h5 mt-3"),
        html.Div(id="dl-preview", className="table-wrap", tabIndex="0"),
        html.P([t(lang, "The same data are available from the HTTP API: "),
                html.Code("/api/v1/indicators?indicator=unemployed&area=TRIALS&format=csv")],
               className="small text-muted mt-3"),
    ])


def export_query(view: View) -> ExportQuery:
    return ExportQuery(indicators=view.indicators, areas=view.areas,
                       populations=(view.population,), groups=(view.group,),
                       start=view.start, end=view.end, lang=view.lang,
                       vintage=int(view.vintage) if view.vintage else None)


def _view(lang, indicators, areas, population, group, start, end, fmt, vintage=None) -> View:
    return View(page="downloads", lang=lang, indicators=tuple(indicators or ("unemployed",)),
                areas=tuple(areas or ("TRIALS",)), population=population, group=group,
                start=None if start in (None, "", "all") else start,
                end=None if end in (None, "", "all") else end, format=fmt,
                vintage=vintage_of(vintage))


def _preview_cell(name: str, value, indicator: str, lang: str) -> str:
    """Values as the page language writes them, with the indicator's own decimals."""
    if name != "value":
        return "" if value is None else str(value)
    return fmt_number(value, INDICATORS[indicator].decimals, lang) if value is not None else "–"


def preview(table, lang: str) -> list:
    head = html.Tr([html.Th(c, scope="col") for c in PREVIEW_COLUMNS])
    rows = [html.Tr([html.Td(_preview_cell(name, value, row["indicator"], lang),
                             className="num" if name == "value" else None)
                     for name, value in row.items()])
            for row in table.select(PREVIEW_COLUMNS).head(PREVIEW_ROWS).iter_rows(named=True)]
    count = t(lang, "{n} rows in the selection; the first {k} are shown.",
              n=fmt_number(table.height, 0, lang), k=min(PREVIEW_ROWS, table.height))
    return [html.P(count, id="dl-count"),
            html.Table([html.Thead(head), html.Tbody(rows)],
                       className="table table-sm data-table", id="dl-preview-table")]


def register(app, data) -> None:
    controls = [Input("dl-indicators", "value"), Input("dl-areas", "value"),
                Input("dl-population", "value"), Input("dl-group", "value"),
                Input("dl-from", "value"), Input("dl-to", "value"), Input("dl-format", "value"),
                Input("dl-vintage", "value")]

    @app.callback(Output("dl-preview", "children"), url_output(), *controls,
                  State("url", "pathname"), prevent_initial_call="initial_duplicate")
    def update(indicators, areas, population, group, start, end, fmt, vintage, pathname):
        view = _view(lang_of(pathname), indicators, areas, population, group, start, end, fmt,
                     vintage)
        table = query_table(data.url, export_query(view))
        fields = {k: getattr(view, k) for k in ("indicators", "areas", "population", "group",
                                                "start", "end", "format", "vintage")}
        return preview(table, view.lang), search_of("downloads", view.lang, **fields)

    @app.callback(Output("dl-file", "data"), Input("dl-button", "n_clicks"),
                  *[State(c.component_id, c.component_property) for c in controls],
                  State("url", "pathname"), prevent_initial_call=True)
    def download(_clicks, indicators, areas, population, group, start, end, fmt, vintage,
                 pathname):
        view = _view(lang_of(pathname), indicators, areas, population, group, start, end, fmt,
                     vintage)
        query = export_query(view)
        table = query_table(data.url, query)
        return dcc.send_bytes(api.download_zip(table, query, fmt), f"trialmon-{fmt}.zip")

    @app.callback(Output("dl-bulk-file", "data"), Input("dl-bulk", "n_clicks"),
                  State("url", "pathname"), prevent_initial_call=True)
    def download_all(_clicks, pathname):
        query = ExportQuery(lang=lang_of(pathname))
        table = query_table(data.url, query)
        return dcc.send_bytes(api.download_zip(table, query, "parquet"), "trialmon-all.zip")
