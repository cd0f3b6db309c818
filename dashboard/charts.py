"""Figures, text summaries and table alternatives, built from one frame each.

A chart and its table are always drawn from the same Polars frame, so they agree.
Colours are Okabe-Ito (safe for colour-blind readers) and every series also has
its own marker symbol and dash style, so no distinction relies on colour alone.
"""

from __future__ import annotations

import base64

import polars as pl
from dash import html

from dashboard.i18n import fmt_change, fmt_month, fmt_value, plotly_separators, t
from indicators.registry import INDICATORS, NORDIC_MODEL_START, TRIAL_END, TRIAL_START
from trialmon.months import shift_month

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
             "#F0E442")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "star",
           "hexagon")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")
HIGHLIGHT, HIGHLIGHT_LIGHT, MUTED = "#D55E00", "#F4C09A", "#B9CCE0"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
MODEBAR = {"cartesian": [["toImage", "zoomIn2d", "zoomOut2d", "resetScale2d"]],
           "geo": [["toImage", "zoomInGeo", "zoomOutGeo", "resetGeo"]]}


def chart_config(lang: str, kind: str = "cartesian") -> dict:
    """Plotly's config: the toolbar in the page's language (locales served from
    dashboard/assets), only a picture download, zoom and reset; no cloud links."""
    return {"displaylogo": False, "responsive": True, "locale": lang,
            "modeBarButtons": MODEBAR[kind], "showSendToCloud": False,
            "showEditInChartStudio": False, "showLink": False, "showTips": False,
            "toImageButtonOptions": {"format": "png", "filename": "trialmon", "scale": 2}}


AXIS = dict(showline=True, linecolor="#1f2933", ticks="outside", tickcolor="#1f2933",
            showgrid=False, zeroline=False, automargin=True, tickformat=",~f",
            hoverformat=",~f")
NAME_BREAK = 18  # longer area names wrap onto two lines in a ranking (phones)


def base_layout(lang: str, height: int = 420, **overrides) -> dict:
    """A plain-dict layout (no plotly.graph_objects validation: callbacks stay fast)."""
    return {**dict(
        height=height, separators=plotly_separators(lang),
        font=dict(family=FONT, size=13, color="#1f2933"),
        margin=dict(l=60, r=20, t=28, b=50), hovermode="x unified",
        legend=dict(orientation="h", yanchor="top", y=-0.12, x=0),
        plot_bgcolor="white", paper_bgcolor="white", xaxis=dict(AXIS), yaxis=dict(AXIS),
    ), **overrides}


def month_dates(frame: pl.DataFrame) -> list[str]:
    """'2024-03' as '2024-03-01' (a date Plotly places on a date axis)."""
    return (frame["month"] + "-01").to_list()


def month_date(column: str = "month") -> pl.Expr:
    return (pl.col(column) + "-01").str.to_date()


def unit_label(indicator: str, mode: str, lang: str) -> str:
    ind = INDICATORS[indicator]
    if mode == "index":
        return t(lang, "Index, 2021-02 = 100")
    if mode == "yoy":
        return t(lang, "Change from a year earlier, percentage points") if ind.unit == \
            "percent" else t(lang, "Change from a year earlier, persons")
    return t(lang, "Per cent") if ind.unit == "percent" else t(lang, "Persons")


# --------------------------------------------------------------------------- series
def transform(frame: pl.DataFrame, mode: str) -> pl.DataFrame:
    """Level, change from a year earlier, or index 2021-02 = 100, per area.

    A suppressed month stays null in every mode (its change or index cannot be known)."""
    frame = frame.sort("area_code", "month")
    if mode == "yoy":
        earlier = frame.select(
            "area_code", (month_date().dt.offset_by("12mo").dt.strftime("%Y-%m")).alias("month"),
            pl.col("value").alias("_earlier"))
        frame = frame.join(earlier, on=["area_code", "month"], how="left").with_columns(
            (pl.col("value") - pl.col("_earlier")).alias("value")).drop("_earlier")
    elif mode == "index":
        base = frame.filter(pl.col("month") == "2021-02").select(
            "area_code", pl.col("value").alias("_base"))
        frame = frame.join(base, on="area_code", how="left").with_columns(
            pl.when(pl.col("_base") > 0).then(100 * pl.col("value") / pl.col("_base"))
            .alias("value")).drop("_base")
    return frame


def period_marks(lang: str) -> tuple[list[dict], list[dict]]:
    """(shapes, annotations): the trial period shaded, the Nordic service model's start."""
    shapes = [
        dict(type="rect", xref="x", yref="paper", x0=f"{TRIAL_START}-01", x1=f"{TRIAL_END}-28",
             y0=0, y1=1, fillcolor="#E8EEF4", opacity=0.7, layer="below", line=dict(width=0)),
        dict(type="line", xref="x", yref="paper", x0=f"{NORDIC_MODEL_START}-01",
             x1=f"{NORDIC_MODEL_START}-01", y0=0, y1=1,
             line=dict(color="#3d4b5c", width=1, dash="dot")),
    ]
    label = dict(showarrow=False, xref="x", yref="paper", y=1, yanchor="bottom",
                 xanchor="left", font=dict(size=11, color="#3d4b5c"))
    # two rows, so that the labels never collide on a narrow screen
    annotations = [dict(label, x=f"{TRIAL_START}-01", text=t(lang, "Trial period"), yshift=16),
                   dict(label, x=f"{NORDIC_MODEL_START}-01",
                        text="┆ " + t(lang, "Nordic service model"))]
    return shapes, annotations


def line_figure(frame: pl.DataFrame, indicator: str, mode: str, names: dict[str, str],
                codes: tuple[str, ...], lang: str) -> dict:
    """One line per area; suppressed months are gaps, incomplete cells open markers."""
    traces = []
    for i, code in enumerate(codes):
        part = frame.filter(pl.col("area_code") == code).sort("month")
        if part.is_empty():
            continue
        colour = OKABE_ITO[i % 8]
        labels = [_hover(v, f, indicator, mode, lang) for v, f in
                  zip(part["value"], part["flag"], strict=True)]
        traces.append(dict(
            type="scatter", x=month_dates(part), y=part["value"].to_list(),
            name=names.get(code, code), mode="lines+markers", connectgaps=False,
            text=labels, hovertemplate="%{text}",
            line=dict(color=colour, dash=DASHES[i % 8], width=2.2),
            marker=dict(symbol=SYMBOLS[i % 8], size=5, color=colour)))
        incomplete = part.filter(pl.col("flag") == "incomplete")
        if incomplete.height:
            traces.append(dict(
                type="scatter", x=month_dates(incomplete), y=incomplete["value"].to_list(),
                mode="markers", showlegend=False, hoverinfo="skip",
                marker=dict(symbol="circle-open", size=11, color=colour)))
    if not traces:
        return empty_figure(lang, t(lang, "No published values for this selection."))
    shapes, annotations = period_marks(lang)
    layout = base_layout(lang, shapes=shapes, annotations=annotations,
                         margin=dict(l=60, r=20, t=44, b=50))
    layout["xaxis"].update(type="date", tickformat="%Y", dtick="M12", hoverformat="%B %Y")
    layout["yaxis"].update(title=dict(text=unit_label(indicator, mode, lang)), showgrid=True,
                           gridcolor="#eceff3", zeroline=mode == "yoy",
                           zerolinecolor="#9aa5b1", rangemode="tozero" if mode == "level"
                           else "normal")
    return dict(data=traces, layout=layout)


def _hover(value, flag, indicator: str, mode: str, lang: str) -> str:
    if flag == "suppressed":
        return t(lang, "suppressed")
    text = fmt_change(value, indicator, lang) if mode == "yoy" else (
        fmt_value(value, indicator, lang) if mode == "level" else
        fmt_value(value, "unemployed_share", lang, unit=False))
    if flag == "incomplete":
        text += f" ({t(lang, 'incomplete')})"
    return text or "–"


def sparkline_svg(values: list[float | None], width: int = 240, height: int = 48) -> str:
    """A small trend line as an SVG data URI: drawn by the browser without Plotly, so the
    overview page stays light. Suppressed months break the line (separate segments)."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    segments, current = [], []
    for i, v in enumerate(values):
        if v is None:
            segments, current = segments + ([current] if current else []), []
            continue
        current.append(f"{i * step:.1f},{height - 4 - (v - low) / span * (height - 8):.1f}")
    segments += [current] if current else []
    lines = "".join(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{OKABE_ITO[0]}" '
                    'stroke-width="2" stroke-linejoin="round"/>' for seg in segments)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'preserveAspectRatio="none">{lines}</svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


# --------------------------------------------------------------------------- summaries
def trend_word(values: list[float | None], lang: str) -> str:
    """Rising / falling / stable over the last 12 published values (least squares slope)."""
    points = [(i, v) for i, v in enumerate(values[-12:]) if v is not None]
    if len(points) < 3:
        return t(lang, "not enough data for a trend")
    n = len(points)
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mean_x) ** 2 for p in points)
    slope = sum((p[0] - mean_x) * (p[1] - mean_y) for p in points) / sxx
    relative = abs(slope * 12) / (abs(mean_y) or 1)
    if relative < 0.02:
        return t(lang, "stable")
    return t(lang, "rising") if slope > 0 else t(lang, "falling")


def series_summary(frame: pl.DataFrame, indicator: str, mode: str, names: dict[str, str],
                   codes: tuple[str, ...], lang: str) -> list[str]:
    """One sentence per area: latest value, change from a year earlier, 12-month trend."""
    sentences = []
    for code in codes:
        part = frame.filter(pl.col("area_code") == code).sort("month")
        known = part.filter(pl.col("value").is_not_null())
        if known.is_empty():
            sentences.append(t(lang, "{area}: no published values.", area=names.get(code, code)))
            continue
        last = known.row(-1, named=True)
        year_before = part.filter(pl.col("month") == shift_month(last["month"], -12))
        change = None
        if year_before.height and year_before["value"][0] is not None and mode == "level":
            change = last["value"] - year_before["value"][0]
        value_text = _hover(last["value"], None, indicator, mode, lang)
        sentence = t(lang, "{area}: {value} in {month}", area=names.get(code, code),
                     value=value_text, month=fmt_month(last["month"], lang))
        if change is not None:
            sentence += "; " + t(lang, "{change} from a year earlier",
                                 change=fmt_change(change, indicator, lang))
        sentence += "; " + t(lang, "trend over the last 12 months: {trend}.",
                             trend=trend_word(part["value"].to_list(), lang))
        sentences.append(sentence)
    return sentences



# --------------------------------------------------------------------------- tables
def cell_text(value, flag, fmt) -> tuple[str, str]:
    """(text, css class) of a table cell: suppressed and incomplete cells are marked."""
    if flag == "suppressed":
        return "··", "cell-suppressed"
    text = fmt(value) if value is not None else "–"
    if flag == "incomplete":
        return f"{text}\u00a0*", "cell-incomplete"
    return text, ""


def wide_table(frame: pl.DataFrame, codes: tuple[str, ...], names: dict[str, str], fmt,
               caption: str, lang: str, table_id: str) -> html.Table:
    """Months as rows (newest first), areas as columns."""
    months = sorted(set(frame["month"].to_list()), reverse=True)
    lookup = {(r["area_code"], r["month"]): (r["value"], r["flag"])
              for r in frame.select("area_code", "month", "value", "flag").iter_rows(named=True)}
    head = html.Tr([html.Th(t(lang, "Month"), scope="col")] +
                   [html.Th(names.get(c, c), scope="col", className="num") for c in codes])
    rows = []
    for month in months:
        cells = [html.Th(month, scope="row")]
        for code in codes:
            text, css = cell_text(*lookup.get((code, month), (None, None)), fmt)
            cells.append(html.Td(text, className=f"num {css}".strip()))
        rows.append(html.Tr(cells))
    return html.Table([html.Caption(caption), html.Thead(head), html.Tbody(rows)],
                      className="table table-sm table-hover data-table", id=table_id)


def legend_note(lang: str, threshold: int | None) -> html.P:
    """`threshold`: the stored one of the published cells (None: not recorded)."""
    suppressed = (t(lang, "suppressed: fewer than {n} persons, not published (a gap in the "
                          "chart)", n=threshold) if threshold else t(lang, "Disclosure control"))
    return html.P([
        html.Span("··", className="cell-suppressed legend-key"), " ", suppressed, " · ",
        html.Span("*", className="legend-key"), " ",
        t(lang, "incomplete: some member municipalities missing at source"), " · ",
        "– ", t(lang, "no value"),
    ], className="legend-note small text-muted")


def empty_figure(lang: str, message: str, height: int = 220) -> dict:
    """A figure that says there is nothing to draw (no axes, no empty box)."""
    return dict(data=[], layout=base_layout(
        lang, height, xaxis=dict(visible=False), yaxis=dict(visible=False),
        annotations=[dict(text=message, showarrow=False, xref="paper", yref="paper",
                          x=0.5, y=0.5, font=dict(size=15, color="#52606d"))]))


def wrap_name(name: str, width: int = NAME_BREAK) -> str:
    """A long area name broken at the space nearest its middle (Plotly's <br>)."""
    if len(name) <= width or " " not in name:
        return name
    middle = len(name) // 2
    cut = min((i for i, c in enumerate(name) if c == " "), key=lambda i: abs(i - middle))
    return name[:cut] + "<br>" + name[cut + 1:]


def ranked_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Every area of `frame` in ranking order, highest first; areas without a value
    (suppressed or none) keep their place at the end, by code, and are never dropped."""
    return frame.sort(pl.col("value").is_null(), pl.col("value"), pl.col("area_code"),
                      descending=[False, True, False])


def bar_figure(frame: pl.DataFrame, indicator: str, names: dict[str, str], own: str,
               references: dict[str, float | None], lang: str) -> dict:
    """Ranked horizontal bars; the user's own area highlighted (colour, hatching and ▶).

    A suppressed area stays in the ranking as a labelled "··" entry (after the ranked
    ones). Reference lines (whole country, comparison area) are drawn only for shares
    and rates -- a count of the whole country says nothing against a municipality's --
    beneath the bars, whose value labels sit inside them, so a line never crosses a label.
    """
    rows = ranked_rows(frame).reverse()  # Plotly draws the first category at the bottom
    codes, values, flags = rows["area_code"].to_list(), rows["value"].to_list(), \
        rows["flag"].to_list()
    is_own = [c == own for c in codes]
    labels = [wrap_name(("▶ " if o else "") + names.get(c, c)) for c, o in
              zip(codes, is_own, strict=True)]
    texts = [("·· " + t(lang, "suppressed")) if f == "suppressed" else
             (fmt_value(v, indicator, lang) if v is not None else "– " + t(lang, "no value"))
             for v, f in zip(values, flags, strict=True)]
    bars = dict(
        type="bar", orientation="h", x=[v if v is not None else 0 for v in values], y=labels,
        text=texts, textposition=["inside" if v is not None else "outside" for v in values],
        insidetextanchor="end", textfont=dict(color="#1f2933"), cliponaxis=False,
        hovertemplate="%{y}: %{text}<extra></extra>", showlegend=False,
        marker=dict(color=[HIGHLIGHT_LIGHT if o else MUTED for o in is_own],
                    line=dict(color=[HIGHLIGHT if o else MUTED for o in is_own], width=1),
                    pattern=dict(shape=["/" if o else "" for o in is_own], fgcolor=HIGHLIGHT,
                                 fillmode="overlay", size=10, solidity=0.15)))
    shapes, annotations = [], []
    shown_refs = references if INDICATORS[indicator].unit == "percent" else {}
    for (name, value), dash, shift in zip(shown_refs.items(), ("dash", "dot"), (16, 0),
                                          strict=False):
        if value is None:
            continue
        shapes.append(dict(type="line", xref="x", yref="paper", x0=value, x1=value, y0=0, y1=1,
                           layer="below", line=dict(color="#1f2933", width=1.5, dash=dash)))
        annotations.append(dict(
            x=value, xref="x", yref="paper", y=1, yshift=shift, yanchor="bottom",
            showarrow=False, bgcolor="rgba(255,255,255,.85)",
            text=f"{'┄' if dash == 'dash' else '┈'} {name} {fmt_value(value, indicator, lang)}",
            font=dict(size=11)))
    layout = base_layout(lang, max(260, 26 * rows.height + 100), hovermode="closest",
                         shapes=shapes, annotations=annotations, bargap=0.25,
                         margin=dict(l=10, r=20, t=56 if shapes else 20, b=60))
    layout["xaxis"].update(title=dict(text=unit_label(indicator, "level", lang)),
                           showgrid=True, gridcolor="#eceff3", rangemode="tozero")
    layout["yaxis"].update(tickfont=dict(size=12), ticks="", type="category")
    return dict(data=[bars], layout=layout)
