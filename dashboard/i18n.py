"""Interface texts, indicator texts and number formats in Finnish, Swedish and English.

Interface strings are written in English in the code (``t(lang, "...")``) and
translated by the gettext catalogs ``dashboard/locale/{fi,sv}/LC_MESSAGES/messages.po``,
read with Babel. Numbers and months are formatted with Babel's CLDR data, so Finnish
and Swedish get a decimal comma and a non-breaking space as thousands separator.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import parse_pattern

from indicators import registry, texts
from trialmon.domain import LANGUAGES

LANGS = LANGUAGES
DEFAULT_LANG = "fi"
LOCALE_DIR = Path(__file__).with_name("locale")
LANG_NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}


@functools.cache
def _catalog(lang: str) -> dict[str, str]:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {m.id: m.string for m in catalog if m.id and m.string}


def t(lang: str, message: str, **values) -> str:
    """`message` in `lang` (English is the source language), with {name} fields filled."""
    text = _catalog(lang).get(message, message) if lang != "en" else message
    return text.format(**values) if values else text


def plotly_separators(lang: str) -> str:
    """Plotly's `separators`: decimal mark, then thousands separator."""
    return ".," if lang == "en" else ",\u00a0"


def fmt_number(value: float | None, decimals: int, lang: str, signed: bool = False) -> str:
    """A value as the reader of `lang` expects it; None becomes an empty string."""
    if value is None:
        return ""
    return _pattern(decimals, signed).apply(value, _locale(lang))


@functools.cache
def _pattern(decimals: int, signed: bool):
    """Parsed once: Babel's pattern parsing dominates formatting a table's cells."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return parse_pattern(f"+{pattern};-{pattern}" if signed else pattern)


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def fmt_value(value: float | None, indicator_id: str, lang: str, signed: bool = False,
              unit: bool = True) -> str:
    """An indicator value with its decimals and unit (%, or none for counts)."""
    ind = registry.INDICATORS[indicator_id]
    text = fmt_number(value, ind.decimals, lang, signed)
    if text and unit and ind.unit == "percent":
        text += "\u00a0%"
    return text


def fmt_change(value: float | None, indicator_id: str, lang: str) -> str:
    """A change: signed, in percentage points for percentages."""
    ind = registry.INDICATORS[indicator_id]
    text = fmt_number(value, ind.decimals, lang, signed=value is not None and
                      round(value, ind.decimals) != 0)
    if text and ind.unit == "percent":
        text += "\u00a0" + t(lang, "pp")
    return text


def fmt_month(month: str | None, lang: str, short: bool = False) -> str:
    """'2024-03' as 'maaliskuu 2024' / 'mars 2024' / 'March 2024'."""
    if not month:
        return ""
    date = dt.date(int(month[:4]), int(month[5:7]), 1)
    return format_date(date, "LLL yyyy" if short else "LLLL yyyy", locale=lang)


def indicator_text(indicator_id: str, lang: str):
    """(name, short, long) of an indicator in `lang`, falling back to English, then the id."""
    ind = registry.INDICATORS.get(indicator_id)
    text = ind and (ind.text.get(lang) or ind.text.get("en"))
    if not text:
        return indicator_id, "", ""
    return text.name, text.short, text.long


def indicator_name(indicator_id: str, lang: str) -> str:
    return indicator_text(indicator_id, lang)[0]


_FALLBACK_LABELS = {
    "population": {"all": "All jobseekers", "target_group": "Target group",
                   "trial_customers": "Trial customers"},
    "group": {"all": "All", "under_30": "Under 30", "foreign_language": "Foreign-language",
              "no_earnings_related": "No earnings-related benefit"},
    "area_type": {"municipality": "Municipalities", "region": "Regions",
                  "trial_area": "Trial areas", "all_trials": "All trial areas",
                  "comparison": "Comparison area", "country": "Whole country",
                  "employment_area": "Employment areas (2025)"},
}


def _shared_label(kind: str, key: str, lang: str) -> str | None:
    """A label from indicators/texts.py (POPULATION_TEXTS, ...) when that module has it."""
    table = getattr(texts, f"{kind.upper()}_TEXTS", None) or {}
    entry = (table.get(key) or {}) if isinstance(table, dict) else {}
    value = entry.get(lang) or entry.get("en") if isinstance(entry, dict) else None
    if value is None:
        return None
    return value if isinstance(value, str) else getattr(value, "name", None)


def label(kind: str, key: str, lang: str) -> str:
    """The name of a population, group or area type in `lang`."""
    shared = _shared_label(kind, key, lang)
    if shared:
        return shared
    english = _FALLBACK_LABELS.get(kind, {}).get(key)
    if english is None:  # e.g. a loaded area system: its own name, made readable
        return key.replace("_", " ").capitalize()
    return t(lang, english)
