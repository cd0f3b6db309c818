"""Interface texts, indicator texts and number formats in Finnish, Swedish and English.

Interface strings are written in English in the code (``t(lang, "...")``, and
``nt(lang, singular, plural, n)`` where the text depends on a number) and translated
by the gettext catalogs ``dashboard/locale/{fi,sv}/LC_MESSAGES/messages.po``: Babel
compiles each catalog in memory at start (no .mo files in the tree) and Python's
gettext applies the catalog's own ``Plural-Forms`` rule. The extract/update/compile
workflow is in docs/dashboard.md.

Interface: ``t``, ``nt``, ``fmt_number``, ``fmt_value``, ``fmt_change``, ``fmt_month``,
``plotly_separators``, ``indicator_text``/``indicator_name``, ``label``.

Decisions:

* Numbers follow Babel's CLDR data for the decimal mark; the thousands separator is a
  narrow no-break space (U+202F) in Finnish and Swedish (the Finnish and Swedish
  style guides' "thin space", which also never breaks a number over two lines), a
  comma in English; a negative number has a real minus sign (U+2212) in every language.
* A value that rounds to zero is written without a sign ("0,0", never "−0,0").
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import parse_pattern

from indicators import registry, texts
from trialmon.domain import LANGUAGES

LANGS = LANGUAGES
DEFAULT_LANG = "fi"
LOCALE_DIR = Path(__file__).with_name("locale")
LANG_NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}
MINUS = "\u2212"
THOUSANDS = {"fi": "\u202f", "sv": "\u202f", "en": ","}


@functools.cache
def _translations(lang: str) -> gettext.NullTranslations:
    """The catalog of `lang`, compiled in memory (plural rule from its header)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def N_(message: str) -> str:
    """Marks a message for extraction where the text is looked up later (``t(lang, x)``)."""
    return message


def t(lang: str, message: str, **values) -> str:
    """`message` in `lang` (English is the source language), with {name} fields filled."""
    text = _translations(lang).gettext(message)
    return text.format(**values) if values else text


def nt(lang: str, singular: str, plural: str, n: int, **values) -> str:
    """The form of a message that fits the number `n` (gettext ngettext); `{n}` is
    filled with `n` written as `lang` writes numbers unless given in `values`."""
    text = _translations(lang).ngettext(singular, plural, n)
    return text.format(**{"n": fmt_number(n, 0, lang), **values})


def plotly_separators(lang: str) -> str:
    """Plotly's `separators`: decimal mark, then thousands separator."""
    return ".," if lang == "en" else "," + THOUSANDS[lang]


def fmt_number(value: float | None, decimals: int, lang: str, signed: bool = False) -> str:
    """A value as the reader of `lang` expects it; None becomes an empty string."""
    if value is None:
        return ""
    if round(value, decimals) == 0:
        value = 0.0  # no "−0,0"
    text = _pattern(decimals).apply(abs(value), _locale(lang))
    if lang in THOUSANDS and lang != "en":
        text = text.replace("\u00a0", THOUSANDS[lang])
    if value < 0:
        return MINUS + text
    return ("+" + text) if signed and value > 0 else text


@functools.cache
def _pattern(decimals: int):
    """Parsed once: Babel's pattern parsing dominates formatting a table's cells."""
    return parse_pattern("#,##0" + ("." + "0" * decimals if decimals else ""))


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
    text = fmt_number(value, ind.decimals, lang, signed=True)
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
    "population": {"all": N_("All jobseekers"), "target_group": N_("Target group"),
                   "trial_customers": N_("Trial customers")},
    "group": {"all": N_("All"), "under_30": N_("Under 30"), "foreign_language": N_("Foreign-language"),
              "no_earnings_related": N_("No earnings-related benefit")},
    "area_type": {"municipality": N_("Municipalities"), "region": N_("Regions"),
                  "trial_area": N_("Trial areas"), "all_trials": N_("All trial areas"),
                  "comparison": N_("Comparison area"), "country": N_("Whole country"),
                  "employment_area": N_("Employment areas (2025)")},
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
