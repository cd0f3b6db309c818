"""The dashboard application: `create_app(url) -> dash.Dash`.

One Dash app with its own routing: the path holds language and page
(`/fi/explorer`), the query string the rest of the view (see dashboard/state.py).
Every asset is served by the app itself (Bootstrap CSS from dashboard/assets,
Plotly and Dash from their packages), so it works offline.
"""

from __future__ import annotations

import json
import re

import dash
import flask
from dash import Input, Output, State, dcc, html

from dashboard import api, i18n, report, web
from dashboard.components import notice_box
from dashboard.data import Data
from dashboard.effect_data import register_effects
from dashboard.i18n import LANG_NAMES, LANGS, N_, t
from dashboard.page_registry import PAGE_KEYS, PAGES
from dashboard.pages import compare, downloads, effect, explorer, overview, static_pages
from dashboard.pages import map as map_page
from dashboard.state import checked_text, parse, split_path
from trialmon.db import database

NAV = tuple((page.key, page.title) for page in PAGES)
# The code of each registered page (dashboard/page_registry.py): its layout and, where it
# has callbacks, the module whose `register(app, data)` adds them.
PAGE_CODE = {"overview": (overview.layout, overview), "explorer": (explorer.layout, explorer),
             "compare": (compare.layout, compare), "map": (map_page.layout, map_page),
             "effect": (effect.layout, effect),
             "downloads": (downloads.layout, downloads),
             "definitions": (static_pages.definitions, None),
             "status": (static_pages.status, None)}
if set(PAGE_CODE) != set(PAGE_KEYS):
    raise RuntimeError(f"pages registered {sorted(PAGE_KEYS)} but coded {sorted(PAGE_CODE)}")
PAGE_LAYOUTS = {key: PAGE_CODE[key][0] for key in PAGE_KEYS}
SITE_TITLE = N_("Monitoring of the municipal employment trials")


def create_app(url: str, warm: bool = True) -> dash.Dash:
    """The dashboard on the database at `url` (published tables only). `warm=False` runs no
    query: for a server that forks workers after building the app (shell/server.py), since
    Polars' thread pool does not survive a fork; each worker then calls `warm_up`."""
    data = Data(database(url))  # the process's one data cache, on its one database object
    app = dash.Dash(__name__, title=page_title("fi", "overview"),
                    suppress_callback_exceptions=True, serve_locally=True,
                    update_title=None, assets_folder="assets")
    app.layout = shell()
    _serve_language(app)
    api.register(app.server, data)  # the same cache as the pages
    register_effects(app.server, data)
    report.register(app.server, data)
    _register_routing(app, data)
    for key in PAGE_KEYS:
        module = PAGE_CODE[key][1]
        if module is not None:
            module.register(app, data)
    web.install(app, data)  # after every callback: the CSP hashes Dash's inline scripts
    app.server.extensions["trialmon_data"] = data  # the server disposes data.db on fork
    finish_dash_setup(app)
    if warm:
        warm_up(data)
    return app


def finish_dash_setup(app: dash.Dash) -> None:
    """Run Dash's first-request setup now, once, in one thread.

    Dash does it in a `before_request` hook that marks itself done *before* it registers
    the script paths it will serve. In a threaded server the browser's parallel script
    requests reach a fresh worker together: all but the first skip the setup and are
    answered 500 ("not a registered library") until it has finished. Seen in CI as a
    page that never drew (prop-types 500). Done here, before gunicorn forks, every
    worker starts with the paths registered. Runs no query (safe before a fork)."""
    with app.server.app_context():
        app._setup_server()  # noqa: SLF001 (no public hook; the flag makes it run once)


def warm_up(data: Data) -> None:
    """Read the small reference slices, catalogs, locale data and boundaries once at start,
    so that the first visitor does not pay for them."""
    data.areas(), data.months(), data.status(), data.disclosure_rule()
    for lang in LANGS:
        t(lang, "Overview"), i18n.fmt_number(1.5, 1, lang), i18n.fmt_month("2024-01", lang)
    map_page.boundaries()


def shell() -> html.Div:
    """The static frame; the header and page are filled in from the address."""
    return html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="lang-sink"), dcc.Store(id="view-search"), dcc.Store(id="page-title"),
        html.Header(id="header", className="site-header"),
        html.Div(id="banner"),
        html.Main([html.Div(id="notices"), dcc.Loading(html.Div(id="page"), type="dot",
                                                       delay_show=400)],
                  id="main", className="container-xl py-3", tabIndex="-1"),
        html.Footer(id="footer", className="site-footer"),
    ])


def header(lang: str, page: str, search: str) -> list:
    links = [html.Li(dcc.Link(t(lang, text), href=f"/{lang}/{'' if key == 'overview' else key}",
                              className="nav-link" + (" active" if key == page else "")),
                     className="nav-item") for key, text in NAV]
    path = "" if page == "overview" else page
    langs = [html.A(code.upper(), href=f"/{code}/{path}{search or ''}", lang=code,
                    title=LANG_NAMES[code], id=f"lang-{code}",
                    className="lang-link" + (" active" if code == lang else ""),
                    **({"aria-current": "true"} if code == lang else {}))
             for code in LANGS]
    return [html.A(t(lang, "Skip to content"), href="#main",
                   className="visually-hidden-focusable skip-link"),
            html.Div([
        html.Div([html.Div(t(lang, "Employment trials"), className="brand-kicker"),
                  html.Div(t(lang, "Monthly monitoring"), className="brand-title")],
                 className="brand"),
        html.Nav(langs, className="lang-switch", **{"aria-label": t(lang, "Language")}),
    ], className="container-xl header-top"),
        html.Nav(html.Ul(links, className="nav main-nav container-xl"),
                 className="nav-wrap", **{"aria-label": t(lang, "Main navigation")})]


def banner(lang: str, data: Data) -> list:
    if not data.is_synthetic():
        return []
    text = [html.Strong(t(lang, "Synthetic demo data.")), " ",
            t(lang, "These figures are generated for demonstration and describe no real "
                    "person or municipality.")]
    if data.demo_unfinished():  # a first start serves before the whole demo is computed
        text += [" ", html.Span(t(lang, "The other months are still being computed and "
                                        "appear here within a few minutes."),
                                id="demo-unfinished")]
    return [html.Div(html.Div(text, className="container-xl"),
                     className="synthetic-banner", role="note", id="synthetic-banner")]


def page_title(lang: str, page: str) -> str:
    """The document title: the page, then the site, in the page's language."""
    return f"{t(lang, dict(NAV)[page])} – {t(lang, SITE_TITLE)}"


SOURCE_NOTES = {
    "register": N_("Source: register extract of the public employment services (KEHA Centre)."),
    "statfin": N_("Source: Statistics Finland, table tyonv/12r5 (CC BY 4.0)."),
}


def footer(lang: str, data: Data) -> list:
    """Cites only the sources whose data are loaded, and the disclosure rule stored with
    the computation of the published cells (`data.suppression_threshold()`), not this
    process's setting."""
    threshold = data.suppression_threshold()
    status = data.status()
    loaded = set(status["source"].to_list()) if status.height else set()
    return [html.Div([
        *[html.P(t(lang, note)) for source, note in SOURCE_NOTES.items() if source in loaded],
        html.P(t(lang, "Counts from 1 to {k} persons are not published.", k=threshold - 1)
               if threshold else "", id="footer-rule"),
    ], className="container-xl small")]


def _register_routing(app: dash.Dash, data: Data) -> None:
    @app.callback(Output("header", "children"), Output("banner", "children"),
                  Output("notices", "children"), Output("page", "children"),
                  Output("footer", "children"), Output("page-title", "data"),
                  Input("url", "pathname"), Input("url", "search"), State("view-search", "data"))
    def route(pathname, search, written):
        if dash.ctx.triggered_prop_ids.keys() == {"url.search"} and search == written:
            raise dash.exceptions.PreventUpdate  # the page itself wrote its state
        view, notices = parse(pathname, search, data.areas()["area_code"].to_list(),
                              data.months(), vintages=data.vintage_ids())
        # InvalidInput (HTTP 400) for a crafted value
        body = data.memo(PAGE_LAYOUTS[view.page], view)
        return (header(view.lang, view.page, search), banner(view.lang, data),
                notice_box(notices), body, footer(view.lang, data),
                page_title(view.lang, view.page))

    app.clientside_callback(
        "function(search) { return search ? search : window.dash_clientside.no_update; }",
        Output("url", "search"), Input("view-search", "data"), prevent_initial_call=True)

    app.clientside_callback(
        "function(title) { if (title) { document.title = title; } "
        "return window.dash_clientside.no_update; }",
        Output("lang-sink", "data", allow_duplicate=True), Input("page-title", "data"),
        prevent_initial_call=True)

    app.clientside_callback(
                "function(pathname) {"
        "  const lang = (pathname || '/').split('/')[1];"
        f"  if ({json.dumps(list(LANGS))}.includes(lang)) {{ document.documentElement.lang = lang; }}"
        "  return window.dash_clientside.no_update;"
        "}",
        Output("lang-sink", "data"), Input("url", "pathname"))

    @app.callback(Output("header", "children", allow_duplicate=True),
                  Input("url", "search"), State("url", "pathname"),
                  prevent_initial_call=True)
    def keep_language_links(search, pathname):
        lang, page = split_path(checked_text("pathname", pathname))
        return header(lang or "fi", page or "overview", checked_text("search", search))


def _serve_language(app: dash.Dash) -> None:
    """`/` redirects by Accept-Language; every page is served with its <html lang>."""
    server = app.server

    @server.before_request
    def redirect_root():
        if flask.request.path == "/":
            best = flask.request.accept_languages.best_match(LANGS) or i18n.DEFAULT_LANG
            return flask.redirect(f"/{best}/", code=302)
        return None

    original = app.interpolate_index

    def interpolate_index(**kwargs):
        lang, page = split_path(flask.request.path)
        lang = lang or i18n.DEFAULT_LANG
        html_text = original(**kwargs).replace("<html>", f'<html lang="{lang}">', 1)
        return re.sub(r"<title>[^<]*</title>",
                      f"<title>{page_title(lang, page or 'overview')}</title>", html_text,
                      count=1)

    app.interpolate_index = interpolate_index
