"""indicators/indicators.meta.yml is the one source: the registry, the texts and the docs
table say what it says, and the published definition names the measures the computation
divides."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from indicators import ratios
from indicators.meta import META, MetaError, check, docs_table
from indicators.registry import INDICATORS, MEASURES, REGISTER_INDICATORS
from indicators.texts import TEXTS
from trialmon.domain import LANGUAGES, NORDIC_MODEL_START

DOCS = Path(__file__).resolve().parents[1] / "docs" / "indicators.md"
LABELS = {"fi": ("Osoittaja", "Nimittäjä"), "sv": ("Täljare", "Nämnare"),
          "en": ("Numerator", "Denominator")}


def test_docs_table_is_the_one_built_from_the_file():
    """Regenerate with `python -m indicators.meta` when this fails."""
    assert docs_table() in DOCS.read_text(encoding="utf-8")


def test_registry_is_the_file():
    assert list(INDICATORS) == list(META["indicators"])
    for ind_id, entry in META["indicators"].items():
        ind = INDICATORS[ind_id]
        assert (ind.family, ind.unit, ind.numerator, ind.denominator, ind.source,
                ind.decimals, ind.headline) == (
            entry["family"], entry["unit"], entry["numerator"], entry["denominator"],
            entry["source"], entry["decimals"], bool(entry["headline"]))
        expected_first = NORDIC_MODEL_START if entry["first_month"] else None
        assert ind.first_month == expected_first
        for lang in LANGUAGES:
            assert ind.name(lang) == entry["name"][lang]
    assert set(MEASURES) == {m for m, e in META["measures"].items() if e["source"] == "register"}


@pytest.mark.parametrize("ind", REGISTER_INDICATORS + [INDICATORS["stat_unemployment_rate"]],
                         ids=lambda i: i.id)
def test_published_definition_names_the_measures_the_computation_divides(ind):
    """The long text states, in every language, the phrase of exactly the numerator and
    the denominator the registry (and so the engine) uses -- and of no neighbour."""
    phrases = {code: entry for code, entry in META["measures"].items()}
    for lang in LANGUAGES:
        text = TEXTS[ind.id][lang].long
        num_label, den_label = LABELS[lang]
        assert f"{num_label}: {phrases[ind.numerator][lang]}." in text
        if ind.denominator:
            assert f"{den_label}: {phrases[ind.denominator][lang]}." in text
        else:
            assert f"{den_label}:" not in text
        others = [c for c in phrases if c not in (ind.numerator, ind.denominator)
                  and f": {phrases[c][lang]}." in text]
        assert others == []


def test_the_computation_divides_the_registered_measures():
    """Each measure gets its own prime count in one cell: a ratio's value then identifies
    the pair it divided (100 * p / q is different for every pair of distinct primes)."""
    primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67]
    count = dict(zip(MEASURES, primes, strict=False))
    assert len(count) == len(MEASURES)
    cells = pl.DataFrame({
        "month": "2023-01", "area_type": "country", "area_code": "SSS", "population": "all",
        "group": "all", "measure": list(count), "value": list(count.values()),
        "suppressed": False})
    vintages = pl.DataFrame({"month": "2023-01", "measure": list(count),
                             "vintage": dt.datetime(2023, 2, 1, tzinfo=dt.UTC)})
    out = {r["indicator"]: r for r in ratios.indicator_cells(cells, vintages).to_dicts()}
    for ind in REGISTER_INDICATORS:
        if ind.denominator:
            pair = 100 * count[ind.numerator] / count[ind.denominator]
            matches = [(n, d) for n in count for d in count
                       if abs(100 * count[n] / count[d] - out[ind.id]["value"]) < 1e-9]
            assert matches == [(ind.numerator, ind.denominator)] and out[ind.id]["value"] == pair
        else:
            assert out[ind.id]["value"] == count[ind.numerator]


@pytest.mark.parametrize("path, value, message", [
    (("indicators", "activation_rate", "denominator"), "nonsense",
     "indicators.activation_rate.denominator: 'nonsense' is no register measure"),
    (("indicators", "unemployed_share", "denominator"), "TYOVOIMATK",
     "indicators.unemployed_share.denominator: 'TYOVOIMATK' is no register measure"),
    (("indicators", "unemployed", "unit"), "percent",
     "indicators.unemployed.denominator: a percent has a denominator, a count none"),
    (("indicators", "laid_off", "first_month"), "2022-05",
     "indicators.laid_off.first_month: one of ['nordic_model_start'] or null"),
    (("indicators", "laid_off", "name", "sv"), "",
     "indicators.laid_off.name: no text in sv"),
    (("measures", "jobseekers", "fi"), None, "measures.jobseekers: no text in fi"),
    (("indicators", "activation_rate", "plain", "sv"), "",
     "indicators.activation_rate.plain: no text in sv"),
])
def test_a_broken_file_is_refused_naming_the_field(path, value, message):
    meta = copy.deepcopy(META)
    entry = meta
    for key in path[:-1]:
        entry = entry[key]
    entry[path[-1]] = value
    with pytest.raises(MetaError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        check(meta)
