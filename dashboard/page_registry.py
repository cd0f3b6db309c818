"""The dashboard's pages, each listed once: key (the path), title (the navigation link,
a msgid of the catalogs) and the view parameters it keeps in its address.

Interface
* ``PAGES``: the pages in navigation order (``Page(key, title, params)``).
* ``PAGE_KEYS``, ``PAGE_PARAMS`` (key -> params), ``DEFAULT_PAGE``.

Decisions
* Only facts live here, no page code: the page modules import ``dashboard.state`` (the
  view), which reads this registry, so a registry that imported the pages would close a
  circle. ``dashboard.app`` maps each key to its layout and refuses to start when a
  registered page has none, or a layout has no registered page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    params: tuple[str, ...] = ()


PAGES = (
    Page("overview", "Overview", ("area", "population", "month")),
    Page("explorer", "Explorer",
         ("indicator", "areas", "population", "group", "mode", "from", "to", "tab",
          "vintage")),
    Page("compare", "Compare",
         ("indicator", "population", "group", "month", "scope", "area", "peers", "tab")),
    Page("map", "Map", ("indicator", "population", "group", "month", "level", "tab")),
    Page("effect", "Effect", ("indicator", "trials", "population", "group", "window")),
    Page("downloads", "Downloads",
         ("indicators", "areas", "all", "population", "group", "from", "to", "format",
          "vintage")),
    Page("definitions", "Definitions"),
    Page("status", "Data status"),
)
PAGE_KEYS = tuple(page.key for page in PAGES)
PAGE_PARAMS = {page.key: page.params for page in PAGES}
DEFAULT_PAGE = PAGES[0].key
