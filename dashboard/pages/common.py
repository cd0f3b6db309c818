"""Helpers the page modules share: the language of a path, the view of the controls."""

from __future__ import annotations

from dash import Output

from dashboard.i18n import t
from dashboard.state import View, from_controls, split_path, to_query

# why a publication happened (indicators/history.py REASONS), as shown to people
REASONS = {"new_month": "new month", "corrected_delivery": "corrected delivery",
           "membership_change": "membership change",
           "disclosure_threshold": "new disclosure threshold", "new_release": "new release",
           "recompute": "recompute"}


def reason_text(reasons: str | None, lang: str) -> str:
    """'corrected_delivery,membership_change' in words."""
    return ", ".join(t(lang, REASONS.get(r, r)) for r in (reasons or "").split(",") if r)


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
                         data.vintage_ids(), **values)


def when_text(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "–"


def vintage_options(data, lang: str) -> list[dict]:
    """"As published on": 'now' and every publication, newest first."""
    options = [{"label": t(lang, "Now (newest figures)"), "value": "now"}]
    for row in data.publications().iter_rows(named=True):
        options.append({"label": f"{when_text(row['published_at'])} · {t(lang, 'vintage')} "
                                 f"{row['publication_id']} ({reason_text(row['reason'], lang)})",
                        "value": str(row["publication_id"])})
    return options


def vintage_of(value) -> str | None:
    """The selector's value as the view holds it (None = now)."""
    return None if value in (None, "", "now") else str(value)
