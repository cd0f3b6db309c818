"""The indicator texts: complete in fi/sv/en and saying what the registry says."""

from __future__ import annotations

import pytest

from indicators import registry
from indicators.texts import AREA_TYPE_TEXTS, GROUP_TEXTS, POPULATION_TEXTS, TEXTS


@pytest.mark.parametrize("indicator", list(registry.INDICATORS.values()), ids=lambda i: i.id)
def test_every_indicator_has_three_languages(indicator):
    assert set(TEXTS[indicator.id]) == set(registry.LANGUAGES)
    for lang, text in TEXTS[indicator.id].items():
        assert text.name and text.short and text.long, (indicator.id, lang)
        assert "\n" not in text.short
        # the registry hands these very texts to the dashboard
        assert indicator.text[lang] == text


@pytest.mark.parametrize("indicator", list(registry.INDICATORS.values()), ids=lambda i: i.id)
def test_long_definition_names_denominator_first_month_and_source(indicator):
    en = TEXTS[indicator.id]["en"].long
    assert "Numerator:" in en
    assert ("Denominator:" in en) == indicator.is_ratio
    assert ("2022-05" in en) == (indicator.first_month == "2022-05")
    if indicator.source == "statfin":
        assert "tyonv/12r5" in en and "CC BY 4.0" in en
        assert indicator.numerator in en  # the source measure code
    else:
        assert "Register extract of the public employment services (URA), pseudonymised, monthly" in en
    assert ("Täljare:" in TEXTS[indicator.id]["sv"].long)
    assert ("Osoittaja:" in TEXTS[indicator.id]["fi"].long)


def test_terminology():
    assert TEXTS["long_term_unemployed"]["fi"].name == "Pitkäaikaistyöttömät"
    assert TEXTS["long_term_unemployed"]["sv"].name == "Långtidsarbetslösa"
    assert TEXTS["activation_rate"]["fi"].name == "Aktivointiaste"
    assert TEXTS["activation_rate"]["sv"].name == "Aktiveringsgrad"
    assert TEXTS["laid_off"]["fi"].name == "Lomautetut"
    assert TEXTS["laid_off"]["sv"].name == "Permitterade"
    assert "alkuhaastattelu" in TEXTS["initial_interview_5wd_share"]["fi"].long
    assert "inledande intervju" in TEXTS["initial_interview_5wd_share"]["sv"].long
    assert POPULATION_TEXTS["trial_customers"]["sv"].name == "Kunder i försöken"  # TEM


def test_population_group_and_area_type_texts_cover_the_registry():
    assert set(POPULATION_TEXTS) == set(registry.POPULATIONS)
    assert set(GROUP_TEXTS) == set(registry.GROUPS)
    assert set(AREA_TYPE_TEXTS) == set(registry.AREA_TYPES)
    for table in (POPULATION_TEXTS, GROUP_TEXTS, AREA_TYPE_TEXTS):
        for code, langs in table.items():
            assert set(langs) == set(registry.LANGUAGES), code
            assert all(t.name and t.short for t in langs.values()), code
