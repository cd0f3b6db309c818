"""Definitions (every indicator's metadata) and Data status (what is loaded, when).

Interface: ``definitions(view, data)``, ``status(view, data)`` (page layouts).

Decisions
* Definitions: a table of contents of anchors (``#disclosure``, ``#family-<family>``,
  ``#def-<indicator>``); each indicator first in plain language (``plain`` of
  indicators/indicators.meta.yml), then its exact rule (numerator, denominator, formula,
  population and area, register fields, first month, source, unit), all from that file.
"""

from __future__ import annotations

import polars as pl
from dash import html

from dashboard.i18n import N_, fmt_month, fmt_number, indicator_text, label, nt, t
from dashboard.pages.area_sources import area_sources, loaded_systems
from dashboard.pages.common import reason_text
from dashboard.state import View
from indicators.meta import META
from indicators.registry import INDICATORS, NORDIC_MODEL_START, TRIAL_END, TRIAL_START
from indicators.texts import CELL_RULES, SOURCE, disclosure_text

FAMILIES = ("stocks", "ratios", "flows", "process", "public_statistics")
FAMILY_TITLES = {"stocks": N_("Stocks"), "ratios": N_("Shares and rates"), "flows": N_("Flows"),
                 "process": N_("Service process"),
                 "public_statistics": N_("Public statistics")}
STATUS_HEADERS = (N_("Month"), N_("Source"), N_("Loaded"), N_("Revision"), N_("Rows"),
                  N_("Rows changed"), N_("Computed"), N_("Synthetic"))


def _measure(code: str, lang: str) -> list:
    """A measure in words, then its exact rule on the register fields (or the source's
    code for Statistics Finland's measures)."""
    measure = META["measures"][code]
    return [measure[lang], " ", html.Code(measure.get("rule") or code, className="rule-code")]


def _exact_rule(ind, text, lang: str) -> list[tuple[str, object]]:
    """The exact definition: numerator, denominator, how a percent is formed, who and
    where (population, area, month), the register fields, first month, source, unit."""
    meta = META["indicators"][ind.id]
    rows = [(t(lang, "Definition"), text.short),
            (t(lang, "Numerator"), _measure(ind.numerator, lang))]
    if ind.denominator:
        rows += [(t(lang, "Denominator"), _measure(ind.denominator, lang)),
                 (t(lang, "Formula"), t(lang, "100 × numerator / denominator; both are summed "
                                             "over the area first."))]
    rows.append((t(lang, "Population and area"), CELL_RULES[meta["cell_rule"]][lang]))
    if meta.get("rule"):
        rows.append((t(lang, "Register fields"),
                     html.Code(meta["rule"].replace("`", ""), className="rule-code")))
    if ind.first_month:
        rows.append((t(lang, "Reported from"), fmt_month(ind.first_month, lang)))
    unit = t(lang, "per cent") if ind.unit == "percent" else t(lang, "persons")
    rows += [(t(lang, "Source"), SOURCE[ind.source][lang]),
             (t(lang, "Unit"), f"{unit}, {t(lang, 'Decimals').lower()} {ind.decimals}"),
             (t(lang, "Identifier"), html.Code(ind.id))]
    return rows


def _definition(ind, lang: str) -> html.Article:
    """One indicator: its name, what it tells in plain language, then the exact rule."""
    text = ind.text.get(lang) or ind.text["en"]
    return html.Article([
        html.H3(text.name, className="h6 mb-1"),
        html.P(text.plain, className="plain-text mb-2"),
        html.H4(t(lang, "Exact rule"), className="rule-title"),
        html.Dl([part for k, v in _exact_rule(ind, text, lang)
                 for part in (html.Dt(k), html.Dd(v))], className="facts"),
    ], className="definition", id=f"def-{ind.id}")


def _method_note(rule) -> html.P:
    """The stored method and its version (provenance of the rule shown above)."""
    if rule is None:
        return html.P("", id="disclosure-method")
    return html.P(html.Small([html.Code(rule.method), f" · v{rule.method_version} · ",
                              html.Code(rule.computation_id[:12])],
                             className="text-muted"), id="disclosure-method")


def definitions(view: View, data) -> html.Div:
    lang = view.lang
    threshold = data.suppression_threshold()
    sections, toc = [], []
    for family in FAMILIES:
        inds = [i for i in INDICATORS.values() if i.family == family]
        sections.append(html.Section([html.H2(t(lang, FAMILY_TITLES[family]), className="h4",
                                              id=f"family-{family}"),
                                      *[_definition(i, lang) for i in inds]],
                                     className="mb-4"))
        toc.append(html.Li([html.A(t(lang, FAMILY_TITLES[family]), href=f"#family-{family}"),
                            html.Ul([html.Li(html.A(indicator_text(i.id, lang)[0],
                                                    href=f"#def-{i.id}")) for i in inds])]))
    basics = [("disclosure", N_("Disclosure control")), ("populations",
                                                          N_("Populations and groups")),
              ("periods", N_("Periods")), ("sources", N_("Sources"))]
    contents = html.Nav([html.H2(t(lang, "On this page"), className="h5"),
                         html.Ul([*[html.Li(html.A(t(lang, text), href=f"#{key}"))
                                    for key, text in basics], *toc], className="toc")],
                        className="toc-wrap", **{"aria-label": t(lang, "On this page")})
    return html.Div([
        html.H1(t(lang, "Definitions"), className="page-title"),
        contents,
        html.Section([
            html.H2(t(lang, "Disclosure control"), className="h4", id="disclosure"),
            html.P(disclosure_text(lang, threshold, "dashboard") if threshold else "",
                   id="disclosure-rule"),
            _method_note(data.disclosure_rule()),
            html.H2(t(lang, "Populations and groups"), className="h4", id="populations"),
            html.Ul([html.Li(label("population", p, lang)) for p in
                     ("all", "target_group", "trial_customers")] +
                    [html.Li(label("group", g, lang)) for g in
                     ("under_30", "foreign_language", "no_earnings_related")]),
            html.H2(t(lang, "Periods"), className="h4", id="periods"),
            html.P(t(lang, "Trial period {a}–{b}; the Nordic service model from {c}.",
                     a=fmt_month(TRIAL_START, lang), b=fmt_month(TRIAL_END, lang),
                     c=fmt_month(NORDIC_MODEL_START, lang))),
            html.H2(t(lang, "Sources"), className="h4", id="sources"),
            html.Ul([html.Li(t(lang, "Register extract of the public employment services, "
                                     "monthly, pseudonymised.")),
                     html.Li(t(lang, "Statistics Finland, Employment Service Statistics, "
                                     "table tyonv/12r5, CC BY 4.0."))]),
        ], className="mb-4"),
        *sections,
        area_sources(data, lang),
    ])


def status(view: View, data) -> html.Div:
    lang = view.lang
    frame = data.status()
    if frame.is_empty():
        return html.Div([html.H1(t(lang, "Data status"), className="page-title"),
                         html.P(t(lang, "No data has been published yet.")),
                         loaded_systems(data, lang)])
    register = frame.filter(pl.col("source") == "register")
    months = register["month"].sort()
    synthetic = frame["synthetic"].any()
    numeric = {"Revision", "Rows", "Rows changed"}
    head = html.Tr([html.Th(t(lang, h), scope="col", className="num" if h in numeric else None)
                    for h in STATUS_HEADERS])
    rows = [html.Tr([
        html.Th(r["month"], scope="row"), html.Td(t(lang, "Register extract") if r["source"] == "register"
                                            else t(lang, "Statistics Finland, table tyonv/12r5")),
        html.Td(_when(r["vintage"])), html.Td(str(r["revision"]), className="num"),
        html.Td(fmt_number(r["row_count"], 0, lang), className="num"),
        html.Td(fmt_number(r["rows_changed"], 0, lang), className="num"),
        html.Td(_when(r["computed_at"])),
        html.Td(t(lang, "yes") if r["synthetic"] else t(lang, "no")),
    ]) for r in frame.iter_rows(named=True)]
    summary = nt(lang, "{n} month loaded from the register, {a} to {b}; newest load {v}.",
                 "{n} months loaded from the register, {a} to {b}; newest load {v}.",
                 len(months), a=fmt_month(months[0], lang) if len(months) else "–",
                 b=fmt_month(months[-1], lang) if len(months) else "–",
                 v=_when(frame["vintage"].max()))
    return html.Div([
        html.H1(t(lang, "Data status"), className="page-title"),
        html.P(summary, className="lead-text", id="status-summary"),
        revisions_table(data, lang),
        html.P(t(lang, "All figures are synthetic demo data.") if synthetic else
               t(lang, "No synthetic data is loaded."), className="fw-semibold"),
        html.Div(html.Table([html.Caption(t(lang, "Loaded months")), html.Thead(head),
                             html.Tbody(rows)], className="table table-sm data-table",
                            id="status-table"), className="table-wrap", tabIndex="0"),
        loaded_systems(data, lang),
    ])


def revisions_table(data, lang: str) -> html.Div:
    """Every publication that changed published cells: when, why, the months it revised
    and how many published cells changed (changed or removed) and were added."""
    publications = data.publications()
    title = html.H2(t(lang, "Publications and revisions"), className="h5")
    if publications.is_empty():
        return html.Div([title, html.P(t(lang, "No publication has been recorded yet."))])
    months = data.publication_months()
    head = html.Tr([html.Th(t(lang, h), scope="col", className="num" if h.startswith("Cells")
                            else None)
                    for h in ("Vintage", "Published", "Why", "Months revised",
                              "Cells changed", "Cells added")])
    rows = []
    for p in publications.iter_rows(named=True):
        mine = months.filter(pl.col("publication_id") == p["publication_id"])
        revised = mine.filter((pl.col("cells_changed") + pl.col("cells_removed")) > 0)
        listed = ", ".join(f"{fmt_month(m, lang, short=True)} ({fmt_number(c + r, 0, lang)})"
                           for m, c, r in revised.select("month", "cells_changed",
                                                         "cells_removed").sort("month")
                           .iter_rows())
        rows.append(html.Tr([
            html.Th(str(p["publication_id"]), scope="row"), html.Td(_when(p["published_at"])),
            html.Td(reason_text(p["reason"], lang)),
            html.Td(listed or "–"),
            html.Td(fmt_number(p["cells_changed"] + p["cells_removed"], 0, lang),
                    className="num"),
            html.Td(fmt_number(p["cells_added"], 0, lang), className="num"),
        ]))
    return html.Div([title, html.Div(html.Table(
        [html.Caption(t(lang, "Every publication that changed published figures; "
                              "older figures stay available “as published”.")),
         html.Thead(head), html.Tbody(rows)], className="table table-sm data-table",
        id="revisions-table"), className="table-wrap mb-4", tabIndex="0")])


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "–"
