"""Indicator names and definitions in Finnish, Swedish and English.

* ``TEXTS[indicator_id][lang]`` -> ``Text(name, short, long)`` for every indicator of
  ``indicators.registry`` (register and ``stat_*``), lang in ``fi``, ``sv``, ``en``.
  ``short`` is a one-line definition; ``long`` states the numerator, the
  denominator, the cell rule, the first month and the source; ``plain`` explains it in
  plain language (what it counts, of whom, what a rise means).
* ``POPULATION_TEXTS``, ``GROUP_TEXTS``, ``AREA_TYPE_TEXTS``: ``{code: {lang: Text(name, short)}}``
  for the dashboard's selectors and the downloads.

The indicator names, short texts, measure phrases, cell rules and sources come from
indicators/indicators.meta.yml (the one source); the long definitions are assembled
here from those phrases, so every indicator of a family is described the same way.
The texts say the same as ``shared/spec/indicators.md``; docs/indicators.md records
the decisions taken where the spec is silent.
"""

from __future__ import annotations

from dataclasses import dataclass

from indicators.meta import META
from trialmon.domain import LANGUAGES, NORDIC_MODEL_FIRST_DAY, NORDIC_MODEL_START


@dataclass(frozen=True)
class Text:
    """One language's texts of an indicator (or a population, group or area type)."""

    name: str
    short: str
    long: str = ""
    plain: str = ""  # one or two sentences in plain language (what, who, what a rise means)

LANGS = LANGUAGES

SOURCE = META["sources"]

_LABELS = {
    "fi": {"num": "Osoittaja", "den": "Nimittäjä", "cell": "Solu", "first": "Ensimmäinen kuukausi",
           "source": "Lähde", "from_start": "koko aineiston alusta"},
    "sv": {"num": "Täljare", "den": "Nämnare", "cell": "Cell", "first": "Första månad",
           "source": "Källa", "from_start": "från början av materialet"},
    "en": {"num": "Numerator", "den": "Denominator", "cell": "Cell", "first": "First month",
           "source": "Source", "from_start": "from the start of the data"},
}

# How a cell (month x area x population x group) is found, per family.
CELL_RULES = META["cell_rules"]

_NORDIC_DAY = NORDIC_MODEL_FIRST_DAY
_FIRST_NORDIC = {
    "fi": f"{NORDIC_MODEL_START} (pohjoismainen työnhakumalli otettiin käyttöön "
          f"{_NORDIC_DAY.day}.{_NORDIC_DAY.month}.{_NORDIC_DAY.year})",
    "sv": f"{NORDIC_MODEL_START} (den nordiska modellen för jobbsökning infördes "
          f"{_NORDIC_DAY.day}.{_NORDIC_DAY.month}.{_NORDIC_DAY.year})",
    "en": f"{NORDIC_MODEL_START} (the Nordic job-search model started on "
          f"{_NORDIC_DAY:%-d %B %Y})",
}


def _long(lang: str, definition: str, numerator: str, denominator: str | None,
          cell: str, source: str, first: str | None = None) -> str:
    """The long definition: definition, numerator, denominator, cell rule, first month, source."""
    label = _LABELS[lang]
    parts = [definition, f"{label['num']}: {numerator}."]
    if denominator:
        parts.append(f"{label['den']}: {denominator}.")
    parts.append(f"{label['cell']}: {CELL_RULES[cell][lang]}")
    parts.append(f"{label['first']}: {first or label['from_start']}.")
    parts.append(f"{label['source']}: {SOURCE[source][lang]}.")
    return " ".join(parts)


_DEFINITION = {
    "count": {"fi": "Henkilömäärä.", "sv": "Antal personer.", "en": "Number of persons."},
    "percent": {"fi": "Prosenttiosuus: 100 × osoittaja / nimittäjä, laskettu solun "
                      "summatuista osoittajista ja nimittäjistä.",
                "sv": "Procentandel: 100 × täljare / nämnare, beräknad av cellens summerade "
                      "täljare och nämnare.",
                "en": "Percentage: 100 × numerator / denominator, computed from the cell's "
                      "summed numerators and denominators."},
}


def _phrase(code: str, lang: str) -> str:
    return META["measures"][code][lang]


def _build() -> dict[str, dict[str, Text]]:
    texts: dict[str, dict[str, Text]] = {}
    for ind_id, ind in META["indicators"].items():
        kind = "percent" if ind["denominator"] else "count"
        texts[ind_id] = {
            lang: Text(
                name=ind["name"][lang],
                short=ind["short"][lang],
                long=_long(
                    lang,
                    f"{ind['short'][lang]} {_DEFINITION[kind][lang]}",
                    _phrase(ind["numerator"], lang),
                    _phrase(ind["denominator"], lang) if ind["denominator"] else None,
                    ind["cell_rule"],
                    ind["source"],
                    _FIRST_NORDIC[lang] if ind["first_month"] else None,
                ),
                plain=ind["plain"][lang],
            )
            for lang in LANGS
        }
    return texts


TEXTS: dict[str, dict[str, Text]] = _build()

POPULATION_TEXTS: dict[str, dict[str, Text]] = {
    "all": {
        "fi": Text("Kaikki työnhakijat", "Kaikki poiminnan työnhakijat."),
        "sv": Text("Alla arbetssökande", "Alla arbetssökande i utdraget."),
        "en": Text("All jobseekers", "Every jobseeker in the extract."),
    },
    "target_group": {
        "fi": Text("Kokeilujen kohderyhmä", "Alle 30-vuotiaat sekä työttömät, lomautetut ja "
                   "palveluissa olevat, jotka ovat vieraskielisiä tai joilla ei ole oikeutta "
                   "ansiosidonnaiseen päivärahaan; lasketaan myös kokeilualueiden ulkopuolella "
                   "ja ennen kokeiluja."),
        "sv": Text("Försökens målgrupp", "Personer under 30 år samt arbetslösa, permitterade "
                   "och personer i service som är främmandespråkiga eller saknar rätt till "
                   "inkomstrelaterad dagpenning; räknas även utanför försöksområdena och före "
                   "försöken."),
        "en": Text("Trial target group", "Under-30s, and unemployed, laid-off or in-service "
                   "jobseekers who are foreign-language speakers or not entitled to "
                   "earnings-related allowance; also computed outside trial areas and before "
                   "the trials."),
    },
    "trial_customers": {
        "fi": Text("Kokeilujen asiakkaat", "Työnhakijat, joiden palveluista vastaa kunnallinen "
                   "työllisyyskokeilu."),
        "sv": Text("Kunder i försöken", "Arbetssökande som betjänas av ett kommunalt "
                   "försök med sysselsättning."),
        "en": Text("Trial customers", "Jobseekers served by a municipal employment trial."),
    },
}

GROUP_TEXTS: dict[str, dict[str, Text]] = {
    "all": {
        "fi": Text("Kaikki", "Kaikki perusjoukon henkilöt."),
        "sv": Text("Alla", "Alla personer i populationen."),
        "en": Text("All", "Everyone in the population."),
    },
    "under_30": {
        "fi": Text("Alle 30-vuotiaat", "Ikä alle 30 vuotta kuukauden viimeisenä päivänä."),
        "sv": Text("Under 30 år", "Under 30 år på månadens sista dag."),
        "en": Text("Under 30", "Aged under 30 on the month's last day."),
    },
    "foreign_language": {
        "fi": Text("Vieraskieliset", "Äidinkieli muu kuin suomi, ruotsi tai saame."),
        "sv": Text("Främmandespråkiga", "Modersmål annat än finska, svenska eller samiska."),
        "en": Text("Foreign-language speakers", "Mother tongue other than Finnish, Swedish "
                   "or Sami."),
    },
    "no_earnings_related": {
        "fi": Text("Ei ansiosidonnaista päivärahaa", "Ei oikeutta ansiosidonnaiseen "
                   "työttömyyspäivärahaan."),
        "sv": Text("Utan inkomstrelaterad dagpenning", "Saknar rätt till inkomstrelaterad "
                   "arbetslöshetsdagpenning."),
        "en": Text("No earnings-related allowance", "Not entitled to earnings-related "
                   "unemployment allowance."),
    },
}

AREA_TYPE_TEXTS: dict[str, dict[str, Text]] = {
    "municipality": {
        "fi": Text("Kunta", "Asuinkunta kuukauden viimeisenä päivänä."),
        "sv": Text("Kommun", "Hemkommun på månadens sista dag."),
        "en": Text("Municipality", "Municipality of residence on the month's last day."),
    },
    "region": {
        "fi": Text("Maakunta", "Kunnan maakunta."),
        "sv": Text("Landskap", "Kommunens landskap."),
        "en": Text("Region", "The municipality's region (maakunta)."),
    },
    "trial_area": {
        "fi": Text("Kokeilualue", "Työllisyyskokeilun jäsenkunnat; sama jäsenyys ennen "
                   "kokeilua, sen aikana ja sen jälkeen."),
        "sv": Text("Försöksområde", "Medlemskommunerna i ett sysselsättningsförsök; samma "
                   "medlemskap före, under och efter försöket."),
        "en": Text("Trial area", "The member municipalities of an employment trial; the same "
                   "membership before, during and after the trial."),
    },
    "all_trials": {
        "fi": Text("Kaikki kokeilualueet", "Kaikkien kokeilualueiden kunnat yhteensä."),
        "sv": Text("Alla försöksområden", "Kommunerna i alla försöksområden sammanlagt."),
        "en": Text("All trial areas", "The municipalities of all trial areas together."),
    },
    "comparison": {
        "fi": Text("Vertailualue", "Kunnat, jotka eivät kuulu mihinkään kokeilualueeseen."),
        "sv": Text("Jämförelseområde", "Kommuner som inte hör till något försöksområde."),
        "en": Text("Comparison area", "Municipalities in no trial area."),
    },
    "country": {
        "fi": Text("Koko maa", "Kaikki kunnat."),
        "sv": Text("Hela landet", "Alla kommuner."),
        "en": Text("Whole country", "All municipalities."),
    },
    "employment_area": {
        "fi": Text("Työllisyysalue (2025)", "Työvoimapalveluja 1.1.2025 alkaen järjestävän "
                   "työllisyysalueen jäsenkunnat; osittaisista alueista vain lähteen vahvistamat."),
        "sv": Text("Sysselsättningsområde (2025)", "Medlemskommunerna i det sysselsättningsområde "
                   "som ordnar arbetskraftsservicen från 1.1.2025; för ofullständiga områden "
                   "bara de som en källa bekräftar."),
        "en": Text("Employment area (2025)", "The member municipalities of the employment area "
                   "that runs the public employment services from 1.1.2025; for partial areas "
                   "only the members a source confirms."),
    },
}


# Disclosure control in plain words: the one statement of the rule, used by the Definitions
# page, the export and API metadata and the bulk files (docs/disclosure.md has the full
# statement). {n} is the suppression threshold, {m} = {n} - 1.
DISCLOSURE_TEXT: dict[str, str] = {
    "fi": ("Henkilöiden tietosuojan vuoksi lukua 1–{m} (alle {n} henkeä) ei julkaista (nolla "
           "näytetään), eikä prosenttia, jonka osoittaja tai nimittäjä on sellainen. Lisäksi "
           "piilotetaan muita lukuja niin, ettei piilotettua lukua eikä pientä ryhmää "
           "(esimerkiksi kohderyhmän ulkopuolisia) voi laskea julkaistuista luvuista "
           "vähentämällä – ei alueiden, perusjoukkojen, ryhmien, mittareiden eikä peräkkäisten "
           "kuukausien välillä."),
    "sv": ("För att skydda personuppgifter publiceras inte ett antal på 1–{m} (under {n} "
           "personer; noll visas), inte heller en procentandel vars täljare eller nämnare är "
           "ett sådant tal. Dessutom döljs andra tal så att varken ett dolt tal eller en liten "
           "grupp (till exempel de utanför målgruppen) kan räknas fram ur publicerade tal "
           "genom subtraktion – varken mellan områden, populationer, grupper, mått eller på "
           "varandra följande månader."),
    "en": ("To protect individuals, a count from 1 to {m} persons (below {n}) is not published "
           "(zero is shown), nor is a percentage whose numerator or denominator is such a "
           "count. Further cells are hidden so that neither a hidden count nor a small group "
           "(for example the people outside the target group) can be worked out by "
           "subtracting published figures – across areas, populations, groups, measures or "
           "consecutive months."),
}

# How a hidden cell looks, per output (appended to DISCLOSURE_TEXT).
HIDDEN_CELL_TEXT: dict[str, dict[str, str]] = {
    "dashboard": {
        "fi": "Piilotetut luvut näkyvät taulukoissa merkkinä ·· ja kaavioissa aukkoina, "
              "ei koskaan nollina.",
        "sv": "Dolda tal visas som ·· i tabeller och som luckor i diagram, aldrig som nollor.",
        "en": "Hidden cells are marked ·· in tables and are gaps in charts, never zeros.",
    },
    "export": {
        "fi": "Piilotetun solun arvo on tyhjä ja merkintä 'suppressed'.",
        "sv": "En dold cell har tomt värde och flaggan 'suppressed'.",
        "en": "A hidden cell has an empty value and the flag 'suppressed'.",
    },
}


def disclosure_text(lang: str, threshold: int, output: str | None = None) -> str:
    """The plain-language statement of the protection (fi, sv or en); with ``output``
    ('dashboard' or 'export') followed by how a hidden cell looks there."""
    text = DISCLOSURE_TEXT[lang].format(n=threshold, m=threshold - 1)
    return text if output is None else f"{text} {HIDDEN_CELL_TEXT[output][lang]}"
