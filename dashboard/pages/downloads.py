"""Downloads: choose a slice, preview it, download it with its metadata (a zip).

Decisions: every area the page lets a user pick is kept in the address (no cap);
"all trial areas" / "all municipalities" are one choice each (``all=`` in the
address), added to the areas picked one by one. The API example below the preview
is the call that returns the same selection.
The "download everything" link is a plain link to the bulk file written at compute time.
The preview reads only what it shows: the count and the first rows (the database cuts
them), remembered per view and data version like the other pages' outputs.
"""

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
from dashboard.i18n import N_, fmt_month, fmt_number, indicator_name, label, nt, t
from dashboard.pages.common import controls_view, search_of, url_output, vintage_options
from dashboard.state import View
from indicators.export import SORT_KEYS, ExportQuery, Page, count_cells, query_table
from indicators.registry import INDICATORS

PREVIEW_ROWS = 12
PREVIEW_COLUMNS = ("month", "area_name", "population", "group", "indicator", "value", "flag")
PREVIEW_HEADERS = {"month": N_("Month"), "area_name": N_("Area"), "population": N_("Population"),
                   "group": N_("Group"), "indicator": N_("Indicator"), "value": N_("Value"),
                   "flag": N_("Flag")}
FLAG_TEXTS = {"suppressed": N_("suppressed"), "incomplete": N_("incomplete"),
              "no_value": N_("no value (0/0)")}
ALL_CHOICES = (("trial_area", N_("All trial areas")), ("municipality", N_("All municipalities")))


def layout(view: View, data) -> html.Div:
    lang = view.lang
    period = [{"label": t(lang, "All months"), "value": "all"}] + month_options(data.months(), lang)
    formats = [{"label": "CSV (UTF-8)", "value": "csv"},
               {"label": t(lang, "CSV for Excel (Finnish/Swedish: ; and decimal comma)"),
                "value": "csv-excel"},
               {"label": "Excel (XLSX)", "value": "xlsx"},
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
        html.Fieldset([html.Legend(t(lang, "Whole sets of areas (added to the areas above)"),
                                   className="form-label fs-6"),
                       dbc.Checklist(id="dl-all", inline=True, value=list(view.all),
                                     options=[{"label": t(lang, text), "value": key}
                                              for key, text in ALL_CHOICES])],
                      className="mb-3"),
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
            # a plain file built at compute time, never sent through a callback
            html.A(t(lang, "Download everything (CSV)"), id="dl-bulk",
                   href=f"/api/v1/bulk/trialmon-indicators-{lang}.csv.gz", download="",
                   className="btn btn-outline-secondary me-2"),
            html.A(t(lang, "Metadata"), id="dl-bulk-meta",
                   href=f"/api/v1/bulk/trialmon-indicators-{lang}.metadata.json",
                   className="small"),
        ], className="mb-3"),
        dcc.Download(id="dl-file"),
        html.H2(t(lang, "Preview"), className="h5 mt-3"),
        html.Div(id="dl-preview", className="table-wrap", tabIndex="0"),
        html.P([t(lang, "The same data are available from the HTTP API: "),
                html.Code(id="dl-api")], className="small text-muted mt-3"),
    ])


def selected_codes(view: View, data) -> tuple[str, ...]:
    """The areas picked one by one plus every area of the types chosen as a whole."""
    areas = data.areas()
    whole = areas.filter(areas["area_type"].is_in(list(view.all)))["area_code"].to_list()
    return tuple(dict.fromkeys((*view.areas, *whole)))


def export_query(view: View, data) -> ExportQuery:
    return ExportQuery(indicators=view.indicators, areas=selected_codes(view, data),
                       populations=(view.population,), groups=(view.group,),
                       start=view.start, end=view.end, lang=view.lang,
                       vintage=int(view.vintage) if view.vintage else None)


def api_example(view: View, codes: tuple[str, ...]) -> str:
    """The HTTP API call that returns the page's selection (`codes`: every area in it)."""
    params = [("indicator", ",".join(view.indicators))]
    if view.all and not view.areas:
        params.append(("area_type", ",".join(view.all)))
    else:
        params.append(("area", ",".join(codes)))
    params += [("population", view.population), ("group", view.group),
               ("from", view.start), ("to", view.end), ("lang", view.lang),
               ("format", view.format if view.format in ("csv", "parquet") else "csv"),
               ("vintage", view.vintage)]
    query = "&".join(f"{k}={v}" for k, v in params if v)
    return f"/api/v1/indicators?{query}"


def _view(pathname, data, indicators, areas, population, group, start, end, fmt,
          whole=(), vintage=None) -> View:
    """The view the controls describe (each value checked); "all trial areas" / "all
    municipalities" stand for themselves, so no default area is added to them."""
    view = controls_view("downloads", pathname, data, indicators=indicators, areas=areas,
                         all=list(whole or []), population=population, group=group,
                         **{"from": start, "to": end}, format=fmt, vintage=vintage)
    return view.replace(areas=()) if view.all and not areas else view


def _preview_cell(name: str, value, row: dict, lang: str) -> str:
    """Cells as the page's language writes them: labels, months, the indicator's decimals."""
    if name == "value":
        decimals = INDICATORS[row["indicator"]].decimals
        return fmt_number(value, decimals, lang) if value is not None else "–"
    if name == "month":
        return fmt_month(value, lang, short=True)
    if name in ("population", "group"):
        return label(name, value, lang)
    if name == "indicator":
        return indicator_name(value, lang)
    if name == "flag":
        return t(lang, FLAG_TEXTS[value]) if value in FLAG_TEXTS else ""
    return "" if value is None else str(value)


def preview(table, lang: str, total: int | None = None) -> list:
    """The first rows of `table` and the count of the selection (`total`, default: the
    table's rows)."""
    total = table.height if total is None else total
    head = html.Tr([html.Th(t(lang, PREVIEW_HEADERS[c]), scope="col",
                            className="num" if c == "value" else None) for c in PREVIEW_COLUMNS])
    rows = [html.Tr([html.Td(_preview_cell(name, value, row, lang),
                             className="num" if name == "value" else None)
                     for name, value in row.items()])
            for row in table.select(PREVIEW_COLUMNS).head(PREVIEW_ROWS).iter_rows(named=True)]
    count = nt(lang, "{n} row in the selection.", "{n} rows in the selection.", total)
    if total > PREVIEW_ROWS:
        count += " " + t(lang, "The first {k} are shown.", k=PREVIEW_ROWS)
    return [html.P(count, id="dl-count"),
            html.Table([html.Thead(head), html.Tbody(rows)],
                       className="table table-sm data-table", id="dl-preview-table")]


def build_preview(view: View, data) -> tuple:
    """The preview, the API example and the address of a view (the first rows only)."""
    query = export_query(view, data)
    total = count_cells(data.db, query)
    table = query_table(data.db, query, Page(PREVIEW_ROWS, order=tuple(SORT_KEYS)), total)
    fields = {k: getattr(view, k) for k in ("indicators", "areas", "all", "population",
                                            "group", "start", "end", "format", "vintage")}
    return (preview(table, view.lang, total), api_example(view, query.areas),
            search_of("downloads", view.lang, **fields))


def register(app, data) -> None:
    controls = [Input("dl-indicators", "value"), Input("dl-areas", "value"),
                Input("dl-population", "value"), Input("dl-group", "value"),
                Input("dl-from", "value"), Input("dl-to", "value"), Input("dl-format", "value"),
                Input("dl-all", "value"), Input("dl-vintage", "value")]

    @app.callback(Output("dl-preview", "children"), Output("dl-api", "children"), url_output(),
                  *controls, State("url", "pathname"), prevent_initial_call="initial_duplicate")
    def update(indicators, areas, population, group, start, end, fmt, whole, vintage,
               pathname):
        view = _view(pathname, data, indicators, areas, population, group, start, end, fmt,
                     whole, vintage)
        return data.memo(build_preview, view)

    @app.callback(Output("dl-file", "data"), Input("dl-button", "n_clicks"),
                  *[State(c.component_id, c.component_property) for c in controls],
                  State("url", "pathname"), prevent_initial_call=True)
    def download(_clicks, indicators, areas, population, group, start, end, fmt, whole,
                 vintage, pathname):
        view = _view(pathname, data, indicators, areas, population, group, start, end, fmt,
                     whole, vintage)
        query = export_query(view, data)
        table = query_table(data.db, query)
        return dcc.send_bytes(api.download_zip(table, query, fmt, data.disclosure_rule(),
                                                db=data.db),
                              f"trialmon-{fmt}.zip")
