"""The view state held in the address: parse, validate and write it back.

Every page's whole view lives in the path (language, page) and the query string,
so that copying the address reproduces the view and reloading keeps it. A bad or
outdated parameter (an area that no longer exists, a month not published) falls
back to its default and adds a notice the page shows, never an error.

Interface: `parse(pathname, search, area_codes, months) -> (View, notices)` for an address;
`from_controls(page, pathname, area_codes, months, **values) -> View` for the values a
page's callback receives; `to_query`, `href`, `split_path`; `InvalidInput`.

Decisions: the address is forgiving (a person may have typed or kept an old link), the
callbacks are strict: their values come from controls whose options the server wrote, so
a value outside them (an unknown indicator, a month "x", a list where one value belongs)
is a crafted request. `from_controls` checks every value with the same rules as `parse`
and raises `InvalidInput`, which the web layer (dashboard/web.py) answers with HTTP 400.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from dashboard.i18n import DEFAULT_LANG, LANGS, t
from dashboard.page_registry import PAGE_KEYS, PAGE_PARAMS
from indicators.registry import GROUPS, INDICATORS, POPULATIONS, TRIAL_END
from trialmon.months import is_month

PAGES = PAGE_KEYS
MODES = ("level", "yoy", "index")
TABS = ("chart", "table")
SCOPES = ("trial_area", "municipality")
PEERS = ("all", "region", "size")
FORMATS = ("csv", "csv-excel", "xlsx", "parquet")
DEFAULT_INDICATOR = "unemployed_share"
DEFAULT_AREAS = ("TRIALS", "NONTRIAL", "SSS")
MAX_AREAS = 8



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
    all: tuple[str, ...] = ()  # downloads: every area of these types ("trial_area", ...)
    trials: str = "TRIALS"  # effect page: all trial areas or one trial area code
    window: str = "full"  # effect page: full | pre_nordic
    vintage: str | None = None  # explorer: "as published on" (a publication id); None = now

    def replace(self, **changes) -> View:
        return dataclasses.replace(self, **changes)


_FIELD = {"from": "start", "to": "end"}
MULTI_VALUED = ("areas", "indicators", "all")
ALL_MONTHS = "all"  # the period selectors' "no limit" option


class InvalidInput(ValueError):
    """A callback value that no control of the page can send."""

    def __init__(self, name: str, value):
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        super().__init__(f"invalid value for {name!r}: {shown}")
        self.name, self.value = name, value


def split_path(pathname: str | None) -> tuple[str | None, str | None]:
    """('fi', 'explorer') from '/fi/explorer'; (None, None) parts when absent or unknown.
    InvalidInput when `pathname` is not a string (a crafted callback value)."""
    parts = [p for p in (checked_text("pathname", pathname) or "/").split("/") if p]
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

    def __init__(self, lang: str, raw: dict[str, list[str]], area_codes, months,
                 strict: bool = False):
        self.lang, self.raw, self.strict = lang, raw, strict
        self.area_codes, self.months = set(area_codes), list(months)
        self.notices: list[str] = []

    def notice(self, name: str, value: str, default) -> None:
        if self.strict:
            raise InvalidInput(name, value)
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

    def many(self, name: str, allowed, default, limit: int | None = None):
        values = self.raw.get(name)
        if not values:
            return default
        items = [v for part in values for v in part.split(",") if v]
        good = tuple(dict.fromkeys(v for v in items if v in allowed))
        if self.strict and good and all(v in allowed for v in items):
            return good[:limit]  # a person may pick more than `limit`: the first ones
        bad = [v for v in items if v not in allowed]
        if bad or not good:
            self.notice(name, ",".join(bad) or ",".join(items), good or default)
        if limit is not None and len(good) > limit:
            self.notices.append(t(self.lang, "This page shows at most {n} areas; the first {n} "
                                  "of the {m} in the address are shown.", n=limit, m=len(good)))
            good = good[:limit]
        return good or default

    def month(self, name: str, default):
        values = self.raw.get(name)
        if not values:
            return default
        value = values[-1]
        if is_month(value) and (not self.months or
                                      self.months[0] <= value <= self.months[-1]):
            return value
        self.notice(name, value, default)
        return default


def _rules(p: _Parser, latest: str | None, page: str | None = None,
           vintages=()) -> dict:
    """Each View field from the raw values, by the rules both the address and the controls
    follow (parameter name -> value)."""
    default_area = "TRIALS" if "TRIALS" in p.area_codes else next(iter(sorted(p.area_codes)), "")
    if page == "compare" and not p.strict and _unknown_compare_area(p, p.lang):
        default_area = ""
    return {
        "indicator": lambda: p.one("indicator", INDICATORS, DEFAULT_INDICATOR),
        "indicators": lambda: p.many("indicators", INDICATORS, View.indicators,
                                     limit=len(INDICATORS)),
        "areas": lambda: p.many("areas", p.area_codes, _existing(DEFAULT_AREAS, p.area_codes),
                                limit=MAX_AREAS if page == "explorer" else None),
        "all": lambda: p.many("all", SCOPES, ()),
        # "": no area highlighted (Compare, when the address named an unknown one)
        "area": lambda: p.one("area", p.area_codes | {""}, default_area),
        "population": lambda: p.one("population", POPULATIONS, "all"),
        "group": lambda: p.one("group", GROUPS, "all"),
        "mode": lambda: p.one("mode", MODES, "level"),
        "from": lambda: p.month("from", None),
        "to": lambda: p.month("to", None),
        "month": lambda: p.month("month", latest),
        "tab": lambda: p.one("tab", TABS, "chart"),
        "scope": lambda: p.one("scope", SCOPES, "trial_area"),
        "peers": lambda: p.one("peers", PEERS, "all"),
        "level": lambda: p.one("level", SCOPES, "municipality"),
        "format": lambda: p.one("format", FORMATS, "csv"),
        "trials": lambda: p.one("trials", p.area_codes | {"TRIALS"}, "TRIALS"),
        "window": lambda: p.one("window", ("full", "pre_nordic"), "full"),
        "vintage": lambda: p.one("vintage", set(vintages), None),
    }


def parse(pathname: str | None, search: str | None, area_codes, months,
          vintages=()) -> tuple[View, list[str]]:
    """The view an address asks for, and the notices for whatever had to fall back."""
    pathname, search = checked_text("pathname", pathname), checked_text("search", search)
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
    if page == "overview":  # opens on the newest month with trial data
        latest = max((m for m in months if m <= TRIAL_END), default=latest)
    fields = {_FIELD.get(name, name): rule()
              for name, rule in _rules(p, latest, page, vintages).items()}
    view = View(page=page, lang=lang, **fields)
    if view.start and view.end and view.start > view.end:
        p.notice("from", view.start, None)
        view = view.replace(start=None)
    return view, notices + p.notices


def _unknown_compare_area(p: _Parser, lang: str) -> bool:
    """Compare highlights no area rather than another one when the address names an
    unknown area (and says so)."""
    values = p.raw.get("area")
    if values and values[-1] not in p.area_codes:
        p.notices.append(t(lang, "No area has the code “{value}” given in the address; no "
                                 "area is highlighted.", value=values[-1]))
        p.raw = {k: v for k, v in p.raw.items() if k != "area"}
        return True
    return False


def from_controls(page: str, pathname, area_codes, months, vintages=(), **values) -> View:
    """The view a page's controls describe (names as in the address: indicator, areas,
    from, to, ...), every value checked; InvalidInput for anything the controls cannot send.
    A missing (None) value takes its default; "all" for from/to means no limit; a "from"
    after "to" (both selectable) is read as the period between them."""
    lang, _page = split_path(checked_text("pathname", pathname))
    raw = {name: _raw_values(name, value) for name, value in values.items()}
    p = _Parser(lang or DEFAULT_LANG, raw, area_codes, months, strict=True)
    rules = _rules(p, months[-1] if months else None, page, vintages)
    unknown = set(raw) - set(rules)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "")
    fields = {_FIELD.get(name, name): rules[name]() for name in raw}
    view = View(page=page, lang=lang or DEFAULT_LANG, **fields)
    if view.start and view.end and view.start > view.end:  # a person can pick them so
        view = view.replace(start=view.end, end=view.start)
    return view


def checked_text(name: str, value) -> str | None:
    """`value` when it is a string or None; InvalidInput otherwise."""
    if value is None or isinstance(value, str):
        return value
    raise InvalidInput(name, value)


def _raw_values(name: str, value) -> list[str]:
    """A control's value as the address would carry it (a list of strings)."""
    if value is None or (name in ("from", "to") and value in ("", ALL_MONTHS)) or (
            name == "vintage" and value == "now"):  # "as published on": now
        return []
    if name in MULTI_VALUED:
        if not isinstance(value, list | tuple):
            raise InvalidInput(name, value)  # a multi-select always sends a list
        if not value:
            return []  # every choice removed: the default
        if not all(isinstance(v, str) and v and "," not in v for v in value):
            raise InvalidInput(name, value)
        return [",".join(value)]
    if not isinstance(value, str) or (not value and name != "area"):
        raise InvalidInput(name, value)
    return [value]


def _existing(codes: tuple[str, ...], known: set[str]) -> tuple[str, ...]:
    return tuple(c for c in codes if c in known) or tuple(sorted(known))[:1]
