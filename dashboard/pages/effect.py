"""Effect: did the trial areas move differently from the comparison municipalities?

Shows a published difference-in-differences estimate (dashboard/effect_data.py; computed
by indicators/effects.py): the event-study chart (one estimate per month relative to the
trial start, 95 % band where valid, the trial start marked, 2021-02 at 0; with few
trial or comparison municipalities no band, and a note saying why), the overall
estimate with its interval in words, the pre-trend test in words, the municipality
counts, and a box of caveats. Selectors: indicator, trial area(s), population, group,
window; the address holds the view.
"""

from __future__ import annotations

import re

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from dashboard import charts
from dashboard.components import field, group_options, select
from dashboard.effect_data import EFFECT_POPULATIONS, EffectReader, unpublished_kind
from dashboard.i18n import fmt_month, fmt_number, indicator_name, label, t
from dashboard.pages.common import lang_of, search_of, url_output
from dashboard.state import View
from indicators.registry import EFFECT_INDICATORS, TRIAL_START

REFERENCE_MONTH = "2021-02"

BAND = "rgba(0, 114, 178, 0.18)"
LINE = "#0072B2"
_readers: dict[int, EffectReader] = {}


def reader_for(data) -> EffectReader:
    return _readers.setdefault(id(data), EffectReader(data))


def window_options(lang: str) -> list[dict]:
    return [{"label": t(lang, "All loaded months to December 2024"), "value": "full"},
            {"label": t(lang, "Up to April 2022 (before the Nordic service model)"),
             "value": "pre_nordic"}]


def area_choices(data, lang: str) -> list[dict]:
    areas = data.areas().filter(data.areas()["area_type"] == "trial_area")
    return [{"label": t(lang, "All trial areas"), "value": "TRIALS"}] + [
        {"label": name, "value": code} for code, name in
        zip(areas["area_code"].to_list(), areas[f"name_{lang}"].to_list(), strict=True)]


def layout(view: View, data) -> html.Div:
    lang = view.lang
    indicator = view.indicator if view.indicator in EFFECT_INDICATORS else "unemployed_share"
    population = view.population if view.population in EFFECT_POPULATIONS else "all"
    return html.Div([
        html.H1(t(lang, "Did the trials work?"), className="page-title"),
        html.P(t(lang, "The trial municipalities compared with the municipalities outside the "
                       "trials, before and after March 2021 (difference-in-differences)."),
               className="lead-text"),
        dbc.Row([
            field("ef-indicator", t(lang, "Indicator"), select("ef-indicator", [
                {"label": indicator_name(i, lang), "value": i} for i in EFFECT_INDICATORS],
                indicator), 4),
            field("ef-trials", t(lang, "Trial areas"),
                  select("ef-trials", area_choices(data, lang), view.trials), 4),
            field("ef-window", t(lang, "Months"),
                  select("ef-window", window_options(lang), view.window), 4),
        ]),
        dbc.Row([
            field("ef-population", t(lang, "Population"), select("ef-population", [
                {"label": label("population", p, lang), "value": p} for p in EFFECT_POPULATIONS],
                population), 4),
            field("ef-group", t(lang, "Group"),
                  select("ef-group", group_options(lang), view.group), 4),
        ]),
        html.Div(id="ef-result"),
        dcc.Graph(id="ef-graph", config=charts.chart_config(lang), className="chart"),
        html.Div(id="ef-chart-note"),
        caveats(lang),
    ])


def caveats(lang: str) -> dbc.Alert:
    items = [
        t(lang, "The trial areas were not chosen at random: the municipalities applied. The "
                "comparison shows how they moved differently, which is not necessarily what "
                "the trial caused."),
        t(lang, "Almost every large city was in a trial area: the comparison municipalities "
                "are fewer, smaller and more rural."),
        t(lang, "Trial customers are a different group from jobseekers elsewhere, so the "
                "effect is estimated on all jobseekers (or all residents for the "
                "unemployment rate) of the municipalities, not on trial customers."),
        t(lang, "The Nordic service model started everywhere in May 2022; choose the months "
                "up to April 2022 to leave it out."),
    ]
    return dbc.Alert([html.H2(t(lang, "Read with care"), className="h6"),
                      html.Ul([html.Li(i) for i in items], className="mb-0")],
                     color="light", className="caveats mt-3", id="ef-caveats")


# ------------------------------------------------------------------------ the result


def _pp(value, lang: str, signed: bool = True) -> str:
    return f"{fmt_number(value, 2, lang, signed=signed)}\u00a0{t(lang, 'pp')}"


def result_block(row: dict | None, view: View, lang: str) -> html.Div:
    kind = unpublished_kind(view.trials, view.group) if row is None else None
    if kind == "not_offered":
        return dbc.Alert(t(lang, "For a single trial area the estimate is given for the group "
                                 "All only: within one trial area a group is too small for a "
                                 "reliable comparison. Choose the group All, or all trial "
                                 "areas."), color="secondary", id="ef-not-offered")
    if kind == "pending":
        return dbc.Alert(t(lang, "Not estimated yet. The estimates for a single trial area "
                                 "and for a group are published by a separate step after each "
                                 "computation of the data (trialmon effect --grid); it has not "
                                 "yet reached this combination."),
                         color="secondary", id="ef-pending")
    if row is None:
        return dbc.Alert(t(lang, "This combination has not been estimated. The data team can "
                                 "publish it with the command line (trialmon effect … "
                                 "--publish)."), color="secondary", id="ef-missing")
    if row["status"] != "ok":
        return dbc.Alert([html.Strong(t(lang, "No estimate.")), " ",
                          t(lang, "Reason: {reason}", reason=row["reason"] or "")],
                         color="secondary", id="ef-refused")
    estimate, low, high = row["estimate"], row["ci_low"], row["ci_high"]
    if low is None:
        verdict = t(lang, "No reliable interval can be given with so few trial "
                          "municipalities; the estimate alone is no evidence of an effect.")
    elif low <= 0 <= high:
        verdict = t(lang, "No effect detected: the interval includes zero.")
    else:
        verdict = t(lang, "The trial areas moved differently from the comparison "
                          "municipalities after March 2021.")
    headline = [html.Span(t(lang, "Estimated effect"), className="effect-label"), " ",
                html.Strong(_pp(estimate, lang), className="effect-value", id="ef-estimate")]
    if low is not None:
        headline += [" ", html.Span(t(lang, "(95 % interval {low} … {high})",
                                      low=_pp(low, lang), high=_pp(high, lang)),
                                    id="ef-interval")]
    return html.Div([
        html.P(headline, className="effect-headline"),
        html.P(verdict, id="ef-verdict"),
        html.P(pre_trend_words(row["pre_trend_p_value"], lang), id="ef-pretrend"),
        html.P(t(lang, "{treated} trial municipalities compared with {control} comparison "
                       "municipalities, {start} – {end}.", treated=row["n_treated"],
                 control=row["n_control"], start=fmt_month(row["from"], lang),
                 end=fmt_month(row["to"], lang)), id="ef-counts"),
        html.P(t(lang, "How the interval was obtained: {method}",
                 method=method_words(row["method"], lang)),
               className="small text-muted", id="ef-method"),
    ], className="effect-result")


def method_words(method: str, lang: str) -> str:
    """The stored method (English, as in the API) in the page's language."""
    if method.startswith("wild cluster bootstrap"):
        return t(lang, "wild cluster bootstrap (restricted, Webb weights, 999 draws; interval "
                       "by test inversion), as there are few trial or comparison "
                       "municipalities")
    found = re.search(r"(\d+) degrees of freedom", method)
    if method.startswith("cluster-robust") and found:
        return t(lang, "standard errors clustered by municipality (CRV1), t distribution with "
                       "{df} degrees of freedom", df=found.group(1))
    return method


def pre_trend_words(p_value: float | None, lang: str) -> str:
    if p_value is None:
        return t(lang, "Too few months before the trial to test whether the areas moved alike.")
    p_text = fmt_number(p_value, 2, lang)
    if p_value >= 0.05:
        return t(lang, "Before March 2021 the trial areas moved like the comparison "
                       "municipalities (p = {p}).", p=p_text)
    return t(lang, "Before March 2021 the trial areas already drifted away from the "
                   "comparison municipalities (p = {p}): read the estimate with extra care.",
             p=p_text)


def event_figure(row: dict | None, lang: str) -> dict:
    layout = charts.base_layout(lang, height=400)
    if row is None or row["status"] != "ok":
        layout["xaxis"]["visible"] = layout["yaxis"]["visible"] = False
        return dict(data=[], layout=layout)
    events = row["event_study"]
    x = [f"{e['month']}-01" for e in events]
    y = [e["estimate"] for e in events]
    traces = []
    banded = [e for e in events if e["ci_low"] is not None]
    if banded:
        bx = [f"{e['month']}-01" for e in banded]
        traces.append(dict(type="scatter", x=bx + bx[::-1],
                           y=[e["ci_high"] for e in banded] + [e["ci_low"] for e in banded][::-1],
                           fill="toself", fillcolor=BAND, line=dict(width=0), hoverinfo="skip",
                           name=t(lang, "95 % interval")))
    traces.append(dict(type="scatter", x=x, y=y, mode="lines+markers",
                       name=t(lang, "Difference from the comparison municipalities"),
                       line=dict(color=LINE, width=2), marker=dict(size=5, color=LINE),
                       text=[_pp(v, lang) for v in y], hovertemplate="%{text}"))
    start = f"{TRIAL_START}-01"
    layout["shapes"] = [
        dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=0, y1=0,
             line=dict(color="#3d4b5c", width=1)),
        dict(type="line", xref="x", yref="paper", x0=start, x1=start, y0=0, y1=1,
             line=dict(color="#D55E00", width=2, dash="dash")),
    ]
    layout["annotations"] = [dict(x=start, y=1, xref="x", yref="paper", yanchor="bottom",
                                  xanchor="left", showarrow=False,
                                  text=t(lang, "Trial starts (March 2021)"),
                                  font=dict(size=11, color="#D55E00")),
                            dict(x=f"{REFERENCE_MONTH}-01", y=0, xref="x", yref="y", ax=-40,
                                 ay=40, showarrow=True, arrowhead=0, arrowcolor="#3d4b5c",
                                 text=t(lang, "Reference: February 2021 = 0"),
                                 font=dict(size=11, color="#3d4b5c"), bgcolor="white")]
    if not banded and len(events) > 1:
        layout["annotations"].append(dict(
            x=1, y=0, xref="paper", yref="paper", xanchor="right", yanchor="bottom",
            showarrow=False, font=dict(size=11, color="#3d4b5c"),
            bgcolor="rgba(255, 255, 255, 0.85)",
            text=t(lang, "No 95 % band: too few municipalities for a valid one (see below)")))
    layout["xaxis"].update(type="date", tickformat="%Y", dtick="M12")
    layout["yaxis"].update(title=dict(text=t(lang, "Percentage points")), showgrid=True,
                           gridcolor="#eceff3")
    return dict(data=traces, layout=layout)


def chart_note(row: dict | None, lang: str) -> html.Div | None:
    if row is None or row["status"] != "ok":
        return None
    notes = [html.P(t(lang, "Each point is how much more (or less) the trial municipalities "
                            "had than the comparison municipalities in that month, relative "
                            "to February 2021 (set to 0)."), className="small")]
    if any(e["event_month"] != -1 and e["ci_low"] is None for e in row["event_study"]):
        notes.append(html.P(t(lang, "No band is drawn around the monthly points: with so few "
                                    "trial or comparison municipalities the usual "
                                    "cluster-robust intervals are far too narrow to be trusted, "
                                    "and a bootstrap interval for every month is not computed. "
                                    "The interval of the overall estimate and the pre-trend "
                                    "test above do use the bootstrap."),
                            className="small", id="ef-no-band"))
    return html.Div(notes)


def build(view: View, data):
    row = reader_for(data).find(view.indicator, view.population, view.group, view.trials,
                                view.window)
    return result_block(row, view, view.lang), event_figure(row, view.lang), chart_note(
        row, view.lang)


def register(app, data) -> None:
    @app.callback(
        Output("ef-result", "children"), Output("ef-graph", "figure"),
        Output("ef-chart-note", "children"), url_output(),
        Input("ef-indicator", "value"), Input("ef-trials", "value"),
        Input("ef-population", "value"), Input("ef-group", "value"),
        Input("ef-window", "value"), State("url", "pathname"),
        prevent_initial_call="initial_duplicate",
    )
    def update(indicator, trials, population, group, window, pathname):
        lang = lang_of(pathname)
        view = View(page="effect", lang=lang, indicator=indicator, trials=trials or "TRIALS",
                    population=population, group=group, window=window)
        return (*build(view, data), search_of("effect", lang, **_fields(view)))


def _fields(view: View) -> dict:
    return {k: getattr(view, k) for k in ("indicator", "trials", "population", "group",
                                          "window")}
