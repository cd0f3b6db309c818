"""Small building blocks shared by the pages: labelled controls and option lists."""

from __future__ import annotations

import unicodedata

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.i18n import fmt_month, indicator_name, label, t
from indicators.registry import GROUPS, INDICATORS, POPULATIONS


def field(control_id: str, text: str, control, width: int = 3) -> dbc.Col:
    """A control with a visible <label for=...>."""
    return dbc.Col([html.Label(text, htmlFor=control_id, className="form-label"), control],
                   md=width, className="mb-3")


def select(control_id: str, options: list[dict], value) -> dbc.Select:
    """A native <select>: keyboard-operable and announced by screen readers."""
    return dbc.Select(id=control_id, options=options, value=value, size="sm")


def multi(control_id: str, options: list[dict], value, lang: str) -> dcc.Dropdown:
    return dcc.Dropdown(id=control_id, options=options, value=list(value), multi=True,
                        clearable=False, placeholder=t(lang, "Choose…"),
                        labels={"search": t(lang, "Search"),
                                "no_options_found": t(lang, "No matches"),
                                "select_all": t(lang, "Select all"),
                                "deselect_all": t(lang, "Deselect all"),
                                "clear_search": t(lang, "Clear search"),
                                "clear_selection": t(lang, "Clear selection"),
                                "selected_count": t(lang, "Selected: {n}", n="{num_selected}")})


def population_group_fields(prefix: str, lang: str, view, width: int = 3) -> list[dbc.Col]:
    """The population and group selectors every chart page has (ids `<prefix>-population`,
    `<prefix>-group`)."""
    return [
        field(f"{prefix}-population", t(lang, "Population"),
              select(f"{prefix}-population", population_options(lang), view.population), width),
        field(f"{prefix}-group", t(lang, "Group"),
              select(f"{prefix}-group", group_options(lang), view.group), width),
    ]


def period_fields(prefix: str, lang: str, view, period: list[dict],
                  width: int = 3) -> list[dbc.Col]:
    """From/to month selectors (ids `<prefix>-from`, `<prefix>-to`)."""
    return [
        field(f"{prefix}-from", t(lang, "From"), select(f"{prefix}-from", period,
                                                         view.start or "all"), width),
        field(f"{prefix}-to", t(lang, "To"), select(f"{prefix}-to", period, view.end or "all"),
              width),
    ]


def indicator_month_fields(prefix: str, lang: str, view, months: list[str],
                           widths: tuple[int, int] = (4, 2)) -> list[dbc.Col]:
    """Indicator and month selectors (ids `<prefix>-indicator`, `<prefix>-month`)."""
    return [
        field(f"{prefix}-indicator", t(lang, "Indicator"),
              select(f"{prefix}-indicator", indicator_options(lang), view.indicator), widths[0]),
        field(f"{prefix}-month", t(lang, "Month"),
              select(f"{prefix}-month", month_options(months, lang), view.month), widths[1]),
    ]


def indicator_options(lang: str) -> list[dict]:
    return [{"label": indicator_name(i, lang), "value": i} for i in INDICATORS]


def population_options(lang: str) -> list[dict]:
    return [{"label": label("population", p, lang), "value": p} for p in POPULATIONS]


def group_options(lang: str) -> list[dict]:
    return [{"label": label("group", g, lang), "value": g} for g in GROUPS]


def month_options(months: list[str], lang: str) -> list[dict]:
    return [{"label": fmt_month(m, lang), "value": m} for m in reversed(months)]


def area_options(areas, lang: str, types: tuple[str, ...] | None = None) -> list[dict]:
    """Areas grouped by area system (a disabled heading option before each group, in the
    order of ``areas``), names sorted in the page's language within a group."""
    frame = areas if types is None else areas.filter(areas["area_type"].is_in(types))
    options: list[dict] = []
    for (kind,), group in frame.group_by("area_type", maintain_order=True):
        options.append({"label": f"── {label('area_type', kind, lang)} ──",
                        "value": f"__group__{kind}", "disabled": True})
        named = sorted(zip(group[f"name_{lang}"].to_list(), group["area_code"].to_list(),
                           strict=True), key=lambda pair: collation_key(pair[0], lang))
        options += [{"label": name, "value": code} for name, code in named]
    return options


# Finnish and Swedish sort å, ä, ö after z (and ü as y, w as v in Finnish dictionaries
# only for equal words, not modelled); English folds the diacritics into their base letter.
_NORDIC_TAIL = {"å": "{", "ä": "|", "ö": "}", "ü": "y", "æ": "|", "ø": "}"}


def collation_key(text: str, lang: str) -> tuple:
    """A sort key for names in the page's language (Unicode case folding, then the
    alphabet of fi/sv, or diacritics removed for en); ties broken by the text itself."""
    folded = text.casefold()
    if lang in ("fi", "sv"):
        primary = "".join(_NORDIC_TAIL.get(ch, ch) for ch in folded)
    else:
        primary = "".join(ch for ch in unicodedata.normalize("NFD", folded)
                          if not unicodedata.combining(ch))
    return primary, text


def radio(control_id: str, options: list[dict], value) -> dbc.RadioItems:
    return dbc.RadioItems(id=control_id, options=options, value=value, inline=True,
                          name=control_id)  # one group: one tab stop, arrow keys move


def notice_box(messages: list[str]) -> list:
    return [dbc.Alert(m, color="warning", className="py-2 mb-2", dismissable=True)
            for m in messages]


def summary_block(summary_id: str, sentences: list[str], lang: str) -> html.Div:
    return html.Div([html.H3(t(lang, "Summary"), className="visually-hidden"),
                     html.Ul([html.Li(s) for s in sentences], className="summary-list")],
                    id=summary_id, className="chart-summary")
