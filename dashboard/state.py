"""The view state held in the address: parse, validate and write it back.

Every page's whole view lives in the path (language, page) and the query string,
so that copying the address reproduces the view and reloading keeps it. A bad or
outdated parameter (an area that no longer exists, a month not published) falls
back to its default and adds a notice the page shows, never an error.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from dashboard.i18n import DEFAULT_LANG, LANGS, t
from indicators.registry import GROUPS, INDICATORS, POPULATIONS

PAGES = ("overview", "explorer", "compare", "map", "downloads", "definitions", "status")
MODES = ("level", "yoy", "index")
TABS = ("chart", "table")
SCOPES = ("trial_area", "municipality")
PEERS = ("all", "region", "size")
FORMATS = ("csv", "xlsx", "parquet")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DEFAULT_INDICATOR = "unemployed_share"
DEFAULT_AREAS = ("TRIALS", "NONTRIAL", "SSS")
MAX_AREAS = 8

# Which parameters each page keeps in its address.
PAGE_PARAMS = {
    "overview": ("area", "population", "month"),
    "explorer": ("indicator", "areas", "population", "group", "mode", "from", "to", "tab",
                 "vintage"),
    "compare": ("indicator", "population", "group", "month", "scope", "area", "peers", "tab"),
    "map": ("indicator", "population", "group", "month", "level", "tab"),
    "downloads": ("indicators", "areas", "population", "group", "from", "to", "format",
                  "vintage"),
    "definitions": (),
    "status": (),
}


@dataclass(frozen=True)
class View:
    page: str = "overview"
    lang: str = DEFAULT_LANG
    indicator: str = DEFAULT_INDICATOR
    indicators: tuple[str, ...] = ("unemployed", "unemployed_share")
    areas: tuple[str, ...] = DEFAULT_AREAS
    area: str = "TRIALS"
    population: str = "all"
    group: str = "all"
    mode: str = "level"
    start: str | None = None
    end: str | None = None
    month: str | None = None
    tab: str = "chart"
    scope: str = "trial_area"
    peers: str = "all"
    level: str = "municipality"
    format: str = "csv"
    vintage: str | None = None  # explorer: "as published on" (a publication id); None = now

    def replace(self, **changes) -> View:
        return dataclasses.replace(self, **changes)


_FIELD = {"from": "start", "to": "end"}


def split_path(pathname: str | None) -> tuple[str | None, str | None]:
    """('fi', 'explorer') from '/fi/explorer'; (None, None) parts when absent or unknown."""
    parts = [p for p in (pathname or "/").split("/") if p]
    lang = parts[0] if parts and parts[0] in LANGS else None
    page = parts[1] if len(parts) > 1 else ("overview" if lang else None)
    return lang, page if page in PAGES else None


def to_query(view: View) -> str:
    """The query string ('?a=b...') that reproduces `view` on its page."""
    params = {}
    for name in PAGE_PARAMS.get(view.page, ()):
        value = getattr(view, _FIELD.get(name, name))
        if isinstance(value, tuple):
            value = ",".join(value)
        if value in (None, ""):
            continue
        params[name] = value
    return "?" + urlencode(params, safe=",") if params else ""


def href(view: View) -> str:
    return f"/{view.lang}/{'' if view.page == 'overview' else view.page}{to_query(view)}"


class _Parser:
    """Validates one query string against the published data, collecting notices."""

    def __init__(self, lang: str, raw: dict[str, list[str]], area_codes, months):
        self.lang, self.raw = lang, raw
        self.area_codes, self.months = set(area_codes), list(months)
        self.notices: list[str] = []

    def notice(self, name: str, value: str, default) -> None:
        shown = ",".join(default) if isinstance(default, tuple) else (default or "–")
        self.notices.append(t(self.lang, "The address had an unknown value for “{name}” "
                              "({value}); showing {default} instead.",
                              name=name, value=value, default=shown))

    def one(self, name: str, allowed, default):
        values = self.raw.get(name)
        if not values:
            return default
        value = values[-1]
        if value in allowed:
            return value
        self.notice(name, value, default)
        return default

    def many(self, name: str, allowed, default, limit: int = MAX_AREAS):
        values = self.raw.get(name)
        if not values:
            return default
        items = [v for part in values for v in part.split(",") if v]
        good = tuple(dict.fromkeys(v for v in items if v in allowed))[:limit]
        if len(good) != len(items) or not good:
            bad = [v for v in items if v not in allowed]
            self.notice(name, ",".join(bad) or ",".join(items), good or default)
        return good or default

    def month(self, name: str, default):
        values = self.raw.get(name)
        if not values:
            return default
        value = values[-1]
        if MONTH_RE.match(value) and (not self.months or
                                      self.months[0] <= value <= self.months[-1]):
            return value
        self.notice(name, value, default)
        return default


def parse(pathname: str | None, search: str | None, area_codes, months,
          vintages=()) -> tuple[View, list[str]]:
    """The view an address asks for, and the notices for whatever had to fall back."""
    lang, page = split_path(pathname)
    lang = lang or DEFAULT_LANG
    raw = parse_qs((search or "").lstrip("?"), keep_blank_values=False)
    p = _Parser(lang, raw, area_codes, months)
    notices = []
    if page is None:
        page = "overview"
        if pathname and pathname.strip("/") not in LANGS:
            notices.append(t(lang, "The page in the address was not found; showing the "
                                   "overview instead."))
    latest = months[-1] if months else None
    default_area = "TRIALS" if "TRIALS" in p.area_codes else next(iter(sorted(p.area_codes)), "")
    view = View(
        page=page, lang=lang,
        indicator=p.one("indicator", INDICATORS, DEFAULT_INDICATOR),
        indicators=p.many("indicators", INDICATORS, View.indicators, limit=len(INDICATORS)),
        areas=p.many("areas", p.area_codes, _existing(DEFAULT_AREAS, p.area_codes)),
        area=p.one("area", p.area_codes, default_area),
        population=p.one("population", POPULATIONS, "all"),
        group=p.one("group", GROUPS, "all"),
        mode=p.one("mode", MODES, "level"),
        start=p.month("from", None), end=p.month("to", None),
        month=p.month("month", latest),
        tab=p.one("tab", TABS, "chart"),
        scope=p.one("scope", SCOPES, "trial_area"),
        peers=p.one("peers", PEERS, "all"),
        level=p.one("level", SCOPES, "municipality"),
        format=p.one("format", FORMATS, "csv"),
        vintage=p.one("vintage", set(vintages), None),
    )
    if view.start and view.end and view.start > view.end:
        p.notice("from", view.start, None)
        view = view.replace(start=None)
    return view, notices + p.notices


def _existing(codes: tuple[str, ...], known: set[str]) -> tuple[str, ...]:
    return tuple(c for c in codes if c in known) or tuple(sorted(known))[:1]
