"""The indicator registry: every indicator's metadata as Python objects, built from
indicators/indicators.meta.yml (the one source; indicators.meta reads and checks it).

The dashboard, the downloads and the API take their texts from here; the texts
say the same as `shared/spec/indicators.md` (see docs/indicators.md for the
decisions taken where the spec is silent).

A register indicator is built from *measures*: additive person counts computed
once per (month, municipality, population, group) by the family modules
(stocks, flows, process) and summed to larger areas. A count indicator is one
measure; a percentage is 100 x sum(numerator) / sum(denominator) of its cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from indicators.meta import META, first_month
from indicators.texts import TEXTS, Text  # defined there so texts.py needs nothing from here
from trialmon.domain import (  # noqa: F401 (re-exported: the dashboard reads them here)
    LANGUAGES,
    NORDIC_MODEL_START,
    TRIAL_END,
    TRIAL_START,
)

AREA_TYPES = ("municipality", "region", "trial_area", "all_trials", "comparison", "country",
              "employment_area")
POPULATIONS = ("all", "target_group", "trial_customers")
GROUPS = ("all", "under_30", "foreign_language", "no_earnings_related")

# The share and rate indicators the effect view (indicators/effects.py) estimates.
EFFECT_INDICATORS = ("unemployed_share", "long_term_share", "activation_rate",
                     "exit_open_market_rate", "exit_services_rate", "stat_unemployment_rate")

# Additive measures per (month, municipality, population, group), with the rule that
# defines each (indicators.meta.yml). The cell of a measure comes from the row named in
# the rule; null where a needed month is not loaded.
MEASURES: dict[str, str] = {name: m["rule"] for name, m in META["measures"].items()
                            if m["source"] == "register"}


@dataclass(frozen=True)
class Indicator:
    id: str
    family: str  # stocks | ratios | flows | process | public_statistics
    unit: str  # count | percent
    numerator: str  # a measure (register) or a source measure code (statfin)
    denominator: str | None = None
    first_month: str | None = None  # no value is reported before this month
    source: str = "register"  # register | statfin
    decimals: int = 0
    headline: bool = False
    text: dict[str, Text] = field(default_factory=dict)

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    def name(self, lang: str = "en") -> str:
        return (self.text.get(lang) or self.text["en"]).name


def _indicator(ind_id: str, ind: dict) -> Indicator:
    return Indicator(id=ind_id, family=ind["family"], unit=ind["unit"],
                     numerator=ind["numerator"], denominator=ind["denominator"],
                     first_month=first_month(ind["first_month"]), source=ind["source"],
                     decimals=ind["decimals"], headline=bool(ind.get("headline")))


_DEFINITIONS: list[Indicator] = [_indicator(i, ind) for i, ind in META["indicators"].items()]


def _with_texts(indicators: list[Indicator]) -> dict[str, Indicator]:
    out = {}
    for ind in indicators:
        texts = TEXTS.get(ind.id, {})
        out[ind.id] = Indicator(**{**ind.__dict__, "text": texts or {
            "en": Text(ind.id.replace("_", " ").capitalize(), "")}})
    return out


INDICATORS: dict[str, Indicator] = _with_texts(_DEFINITIONS)
REGISTER_INDICATORS = [i for i in INDICATORS.values() if i.source == "register"]
STATFIN_INDICATORS = [i for i in INDICATORS.values() if i.source == "statfin"]


def get(indicator_id: str) -> Indicator:
    return INDICATORS[indicator_id]
