"""The indicator registry: every indicator's metadata, in one place.

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

from indicators.texts import Text  # defined there so texts.py needs nothing from here

LANGUAGES = ("fi", "sv", "en")
AREA_TYPES = ("municipality", "region", "trial_area", "all_trials", "comparison", "country")
POPULATIONS = ("all", "target_group", "trial_customers")
GROUPS = ("all", "under_30", "foreign_language", "no_earnings_related")

# The share and rate indicators the effect view (indicators/effects.py) estimates.
EFFECT_INDICATORS = ("unemployed_share", "long_term_share", "activation_rate",
                     "exit_open_market_rate", "exit_services_rate", "stat_unemployment_rate")

NORDIC_MODEL_START = "2022-05"  # the Nordic service model (pohjoismainen työnhakumalli)
TRIAL_START, TRIAL_END = "2021-03", "2024-12"

# Additive measures per (month, municipality, population, group). The cell of a
# measure comes from the row named in `cell_from`; null where a needed month is
# not loaded.
MEASURES: dict[str, str] = {
    "jobseekers": "rows of month t",
    "unemployed": "status unemployed or laid_off in t",
    "laid_off": "status laid_off in t",
    "long_term_unemployed": "unemployed in t, unemployment_start <= month_end(t - 12 months)",
    "in_services": "status service in t",
    "in_labour_training": "service_type labour_training in t",
    "in_pay_subsidy": "service_type pay_subsidy in t",
    "employed_open": "status employed_open in t",
    "unemployed_or_in_services": "unemployed + in_services in t",
    "inflow_unemployed": "unemployed in t, not unemployed in t-1 (cell: row in t)",
    "unemployed_previous_month": "unemployed in t-1 (cell: row in t-1; reported under t)",
    "exit_open_market": "unemployed in t-1 and employed_open in t (cell: row in t-1)",
    "exit_services": "unemployed in t-1 and service in t (cell: row in t-1)",
    "plan_up_to_date": "unemployed in t with plan_updated_on in t, t-1 or t-2",
    "review_3m": "unemployed in t with last_review_on in t, t-1 or t-2",
    "interview_cohort": "registered_on in t and >= 2022-05-02, seen in t+1 (cell: row in t+1)",
    "interview_5wd": "interview_cohort with initial_interview_on <= 5th working day after registered_on",
}


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


def _i(id, family, unit, numerator, denominator=None, **kw) -> Indicator:
    return Indicator(id=id, family=family, unit=unit, numerator=numerator,
                     denominator=denominator, **kw)


# Texts are filled in by indicators/texts.py (fi, sv, en) -- see TEXTS below.
_DEFINITIONS: list[Indicator] = [
    _i("jobseekers", "stocks", "count", "jobseekers"),
    _i("unemployed", "stocks", "count", "unemployed", headline=True),
    _i("laid_off", "stocks", "count", "laid_off"),
    _i("long_term_unemployed", "stocks", "count", "long_term_unemployed"),
    _i("in_services", "stocks", "count", "in_services"),
    _i("in_labour_training", "stocks", "count", "in_labour_training"),
    _i("in_pay_subsidy", "stocks", "count", "in_pay_subsidy"),
    _i("employed_open", "stocks", "count", "employed_open"),
    _i("unemployed_share", "ratios", "percent", "unemployed", "jobseekers", decimals=1,
       headline=True),
    _i("long_term_share", "ratios", "percent", "long_term_unemployed", "unemployed", decimals=1,
       headline=True),
    _i("activation_rate", "ratios", "percent", "in_services", "unemployed_or_in_services",
       decimals=1, headline=True),
    _i("inflow_unemployed", "flows", "count", "inflow_unemployed"),
    _i("exit_open_market_rate", "flows", "percent", "exit_open_market",
       "unemployed_previous_month", decimals=1, headline=True),
    _i("exit_services_rate", "flows", "percent", "exit_services", "unemployed_previous_month",
       decimals=1),
    _i("plan_up_to_date_share", "process", "percent", "plan_up_to_date", "unemployed",
       first_month=NORDIC_MODEL_START, decimals=1),
    _i("review_3m_share", "process", "percent", "review_3m", "unemployed",
       first_month=NORDIC_MODEL_START, decimals=1),
    _i("initial_interview_5wd_share", "process", "percent", "interview_5wd", "interview_cohort",
       first_month=NORDIC_MODEL_START, decimals=1),
    _i("stat_jobseekers", "public_statistics", "count", "HAKIJALOPUSSA", source="statfin"),
    _i("stat_unemployed", "public_statistics", "count", "TYOTTOMATLOPUSSA", source="statfin"),
    _i("stat_long_term_unemployed", "public_statistics", "count", "PITKAAIKAISTYOTTOMAT",
       source="statfin"),
    _i("stat_foreign_unemployed", "public_statistics", "count", "TYOTTOMATULK",
       source="statfin"),
    _i("stat_under25_unemployed", "public_statistics", "count", "TYOTTOMAT25",
       source="statfin"),
    _i("stat_vacancies", "public_statistics", "count", "AVPAIKATLOPUSSA", source="statfin"),
    _i("stat_unemployment_rate", "public_statistics", "percent", "TYOTTOMATLOPUSSA",
       "TYOVOIMATK", source="statfin", decimals=1, headline=True),
]


def _with_texts(indicators: list[Indicator]) -> dict[str, Indicator]:
    from indicators.texts import TEXTS

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
