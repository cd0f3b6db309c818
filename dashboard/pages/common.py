"""Helpers the page modules share: the language of a path, the view of the controls."""

from __future__ import annotations

from dash import Output

from dashboard.state import View, from_controls, split_path, to_query


def lang_of(pathname: str | None) -> str:
    return split_path(pathname)[0] or "fi"


def url_output():
    """Each page writes its controls' state to the `view-search` store; one callback copies
    it into the address (no reload), so the router can tell such writes from Back/Forward."""
    return Output("view-search", "data", allow_duplicate=True)


def search_of(page: str, lang: str, **fields) -> str:
    return to_query(View(page=page, lang=lang, **fields))


def explorer_href(lang: str, **fields) -> str:
    return f"/{lang}/explorer{to_query(View(page='explorer', lang=lang, **fields))}"


def controls_view(page: str, pathname, data, **values) -> View:
    """The view a callback's control values describe, each checked against the published
    areas and months (dashboard.state.InvalidInput -> HTTP 400 for a crafted value)."""
    return from_controls(page, pathname, data.areas()["area_code"].to_list(), data.months(),
                         **values)
