"""Indicator names and definitions in Finnish, Swedish and English.

* ``TEXTS[indicator_id][lang]`` -> ``Text(name, short, long)`` for every indicator of
  ``indicators.registry`` (register and ``stat_*``), lang in ``fi``, ``sv``, ``en``.
  ``short`` is a one-line definition; ``long`` states the numerator, the
  denominator, the cell rule, the first month and the source.
* ``POPULATION_TEXTS``, ``GROUP_TEXTS``, ``AREA_TYPE_TEXTS``: ``{code: {lang: Text(name, short)}}``
  for the dashboard's selectors and the downloads.

The texts say the same as ``shared/spec/indicators.md``; docs/indicators.md records
the decisions taken where the spec is silent. The long definitions are assembled
from shared phrases (cell rules, sources) so every indicator of a family is
described the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """One language's texts of an indicator (or a population, group or area type)."""

    name: str
    short: str
    long: str = ""

LANGS = ("fi", "sv", "en")

SOURCE = {
    "register": {
        "fi": "Julkisten työvoimapalvelujen asiakasrekisterin (URA) pseudonymisoitu kuukausipoiminta",
        "sv": "Pseudonymiserat månatligt utdrag ur de offentliga arbetskraftstjänsternas "
              "kundregister (URA)",
        "en": "Register extract of the public employment services (URA), pseudonymised, monthly",
    },
    "statfin": {
        "fi": "Tilastokeskus, Työnvälitystilasto, taulukko tyonv/12r5 (PxWeb), CC BY 4.0",
        "sv": "Statistikcentralen, Arbetsförmedlingsstatistik, tabell tyonv/12r5 (PxWeb), CC BY 4.0",
        "en": "Statistics Finland, Employment Service Statistics, table tyonv/12r5 (PxWeb), "
              "CC BY 4.0",
    },
}

_LABELS = {
    "fi": {"num": "Osoittaja", "den": "Nimittäjä", "cell": "Solu", "first": "Ensimmäinen kuukausi",
           "source": "Lähde", "from_start": "koko aineiston alusta"},
    "sv": {"num": "Täljare", "den": "Nämnare", "cell": "Cell", "first": "Första månad",
           "source": "Källa", "from_start": "från början av materialet"},
    "en": {"num": "Numerator", "den": "Denominator", "cell": "Cell", "first": "First month",
           "source": "Source", "from_start": "from the start of the data"},
}

# How a cell (month x area x population x group) is found, per family.
CELL_RULES = {
    "stock": {
        "fi": "Kunta, perusjoukko ja ryhmä määräytyvät henkilön kuukauden t rivin mukaan "
              "(tilanne kuukauden viimeisenä päivänä). Suuremmat alueet ovat kuntien summia.",
        "sv": "Kommun, population och grupp bestäms av personens rad för månad t (läget "
              "på månadens sista dag). Större områden är summor av kommunerna.",
        "en": "Municipality, population and group are taken from the person's row of month t "
              "(the state on the month's last day). Larger areas are sums of municipalities.",
    },
    "ratio": {
        "fi": "Osoittaja ja nimittäjä lasketaan kuukauden t riveistä ja summataan solun "
              "alueelle ennen jakamista; jos nimittäjä on 0, arvoa ei ole.",
        "sv": "Täljare och nämnare räknas från raderna för månad t och summeras över cellens "
              "område före divisionen; är nämnaren 0 finns inget värde.",
        "en": "Numerator and denominator are counted from the rows of month t and summed over "
              "the cell's area before dividing; a zero denominator gives no value.",
    },
    "inflow": {
        "fi": "Henkilöt yhdistetään kuukausien t−1 ja t välillä tunnisteen perusteella. Solu "
              "määräytyy kuukauden t rivin mukaan. Arvo lasketaan vain, kun kuukausi t−1 on ladattu.",
        "sv": "Personerna kopplas mellan månaderna t−1 och t med sin identifierare. Cellen "
              "bestäms av raden för månad t. Värdet räknas bara när månad t−1 är inläst.",
        "en": "Persons are paired between months t−1 and t by their identifier. The cell comes "
              "from the row in month t. Computed only where month t−1 is loaded.",
    },
    "exit": {
        "fi": "Henkilöt yhdistetään kuukausien t−1 ja t välillä. Solu määräytyy kuukauden t−1 "
              "rivin mukaan, arvo raportoidaan kuukaudelle t ja lasketaan vain, kun t−1 on "
              "ladattu. Kuukaudella t rekisteristä poistuneet ovat mukana nimittäjässä mutta "
              "eivät osoittajassa.",
        "sv": "Personerna kopplas mellan månaderna t−1 och t. Cellen bestäms av raden för "
              "månad t−1, värdet redovisas för månad t och räknas bara när t−1 är inläst. "
              "Personer som inte längre finns i registret månad t ingår i nämnaren men inte "
              "i täljaren.",
        "en": "Persons are paired between months t−1 and t. The cell comes from the row in "
              "month t−1; the value is reported under month t and only where t−1 is loaded. "
              "Persons absent from the register in month t stay in the denominator but not in "
              "the numerator.",
    },
    "recency": {
        "fi": "Solu määräytyy kuukauden t rivin mukaan. Päivämäärä on ajantasainen, jos se osuu "
              "kuukaudelle t, t−1 tai t−2.",
        "sv": "Cellen bestäms av raden för månad t. Ett datum räknas som aktuellt om det "
              "infaller i månad t, t−1 eller t−2.",
        "en": "The cell comes from the row in month t. A date is recent if it falls in month t, "
              "t−1 or t−2.",
    },
    "interview": {
        "fi": "Kohortti nähdään kuukauden t+1 poiminnasta, ja solu määräytyy tämän rivin mukaan; "
              "arvo raportoidaan kuukaudelle t ja vain, kun sekä t että t+1 on ladattu, joten "
              "uusimmalla kuukaudella ei vielä ole arvoa. Arkipäivät ovat maanantaista "
              "perjantaihin pois lukien Suomen yleiset vapaapäivät (myös juhannusaatto ja "
              "jouluaatto).",
        "sv": "Kohorten ses i utdraget för månad t+1 och cellen bestäms av den raden; värdet "
              "redovisas för månad t och bara när både t och t+1 är inlästa, så den senaste "
              "månaden har ännu inget värde. Vardagar är måndag–fredag utom finländska "
              "allmänna helgdagar (även midsommarafton och julafton).",
        "en": "The cohort is seen in the extract of month t+1 and the cell comes from that row; "
              "the value is reported under month t and only where both t and t+1 are loaded, "
              "so the newest month has no value yet. Working days are Monday–Friday except "
              "Finnish public holidays (including Midsummer Eve and Christmas Eve).",
    },
    "statfin": {
        "fi": "Kuntien luvut summataan kullekin aluetyypille (perusjoukko ja ryhmä 'kaikki'). "
              "Lähteessä salattu tai puuttuva arvo ('.', '..', '...', tyhjä) puuttuu eikä ole "
              "nolla; summa, josta puuttuu jonkin jäsenkunnan arvo, merkitään vajaaksi.",
        "sv": "Kommunernas tal summeras för varje områdestyp (population och grupp 'alla'). "
              "Ett värde som är skyddat eller saknas i källan ('.', '..', '...', tomt) saknas "
              "och är inte noll; en summa där någon medlemskommuns värde saknas markeras som "
              "ofullständig.",
        "en": "Municipal figures are summed to every area type (population and group 'all'). "
              "A value suppressed or missing at source ('.', '..', '...', empty) is missing, "
              "never zero; a sum missing any member's value is flagged incomplete.",
    },
}

_FIRST_NORDIC = {
    "fi": "2022-05 (pohjoismainen työnhakumalli otettiin käyttöön 2.5.2022)",
    "sv": "2022-05 (den nordiska modellen för jobbsökning infördes 2.5.2022)",
    "en": "2022-05 (the Nordic job-search model started on 2 May 2022)",
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


# --------------------------------------------------------------------------- phrases

# Numerators/denominators (measures), per language.
_M = {
    "jobseekers": {
        "fi": "työnhakijat (kaikki poiminnan rivit)",
        "sv": "arbetssökande (alla rader i utdraget)",
        "en": "jobseekers (all rows of the extract)",
    },
    "unemployed": {
        "fi": "työttömät (tila työtön tai kokoaikaisesti lomautettu)",
        "sv": "arbetslösa (status arbetslös eller helt permitterad)",
        "en": "unemployed (status unemployed or fully laid off)",
    },
    "laid_off": {
        "fi": "kokoaikaisesti lomautetut", "sv": "helt permitterade", "en": "fully laid off",
    },
    "long_term_unemployed": {
        "fi": "työttömät, joiden työttömyysjakso on alkanut viimeistään saman kuukauden "
              "viimeisenä päivänä vuotta aiemmin",
        "sv": "arbetslösa vars arbetslöshetsperiod började senast på samma månads sista dag "
              "ett år tidigare",
        "en": "unemployed whose unemployment spell started on or before the last day of the "
              "same month one year earlier",
    },
    "in_services": {
        "fi": "työllistymistä edistävissä palveluissa olevat (tila palvelu)",
        "sv": "personer i sysselsättningsfrämjande service (status service)",
        "en": "persons in employment-promoting services (status service)",
    },
    "in_labour_training": {
        "fi": "työvoimakoulutuksessa olevat (palvelulaji työvoimakoulutus)",
        "sv": "personer i arbetskraftsutbildning (servicetyp arbetskraftsutbildning)",
        "en": "persons in labour market training (service type labour_training)",
    },
    "in_pay_subsidy": {
        "fi": "palkkatuetussa työssä olevat (palvelulaji palkkatuki)",
        "sv": "personer i lönesubventionerat arbete (servicetyp lönesubvention)",
        "en": "persons in pay-subsidised work (service type pay_subsidy)",
    },
    "employed_open": {
        "fi": "avoimilla työmarkkinoilla työssä olevat työnhakijat",
        "sv": "arbetssökande som arbetar på den öppna arbetsmarknaden",
        "en": "jobseekers working on the open labour market",
    },
    "unemployed_or_in_services": {
        "fi": "työttömät + palveluissa olevat",
        "sv": "arbetslösa + personer i service",
        "en": "unemployed + persons in services",
    },
    "inflow_unemployed": {
        "fi": "kuukaudella t työttömät, jotka eivät olleet työttömiä kuukaudella t−1 (eivät "
              "olleet rekisterissä tai olivat muussa tilassa)",
        "sv": "arbetslösa i månad t som inte var arbetslösa i månad t−1 (fanns inte i "
              "registret eller hade annan status)",
        "en": "persons unemployed in month t who were not unemployed in month t−1 (absent "
              "from the register or in another status)",
    },
    "unemployed_previous_month": {
        "fi": "kuukaudella t−1 työttömät",
        "sv": "arbetslösa i månad t−1",
        "en": "persons unemployed in month t−1",
    },
    "exit_open_market": {
        "fi": "heistä ne, jotka ovat kuukaudella t työssä avoimilla työmarkkinoilla",
        "sv": "de av dem som i månad t arbetar på den öppna arbetsmarknaden",
        "en": "those of them whose status in month t is employed on the open labour market",
    },
    "exit_services": {
        "fi": "heistä ne, jotka ovat kuukaudella t palveluissa",
        "sv": "de av dem som i månad t deltar i service",
        "en": "those of them whose status in month t is in services",
    },
    "plan_up_to_date": {
        "fi": "työttömät, joiden työllistymissuunnitelma on laadittu tai päivitetty kuukaudella "
              "t, t−1 tai t−2",
        "sv": "arbetslösa vars sysselsättningsplan har gjorts upp eller uppdaterats i månad t, "
              "t−1 eller t−2",
        "en": "unemployed whose employment plan was drawn up or updated in month t, t−1 or t−2",
    },
    "review_3m": {
        "fi": "työttömät, joiden viimeisin työnhakukeskustelu on kuukaudella t, t−1 tai t−2",
        "sv": "arbetslösa vars senaste jobbsökarsamtal infaller i månad t, t−1 eller t−2",
        "en": "unemployed whose latest job-search review falls in month t, t−1 or t−2",
    },
    "interview_cohort": {
        "fi": "henkilöt, joiden työnhaku on alkanut (rekisteröintipäivä) kuukaudella t ja "
              "aikaisintaan 2.5.2022, kuukauden t+1 poiminnan mukaan",
        "sv": "personer vars arbetssökande började (registreringsdag) i månad t och tidigast "
              "2.5.2022, enligt utdraget för månad t+1",
        "en": "persons whose registration date (start of the job-seeking spell) is in month t "
              "and on or after 2 May 2022, as seen in the extract of month t+1",
    },
    "interview_5wd": {
        "fi": "heistä ne, joiden alkuhaastattelu on pidetty viimeistään viidentenä "
              "arkipäivänä rekisteröintipäivän jälkeen",
        "sv": "de av dem vars inledande intervju hölls senast den femte vardagen efter "
              "registreringsdagen",
        "en": "those of them whose initial interview took place no later than the fifth "
              "working day after the registration date",
    },
}

_STAT = {
    "HAKIJALOPUSSA": {"fi": "työnhakijat kuukauden lopussa (HAKIJALOPUSSA)",
                      "sv": "arbetssökande vid månadens slut (HAKIJALOPUSSA)",
                      "en": "jobseekers at the end of the month (HAKIJALOPUSSA)"},
    "TYOTTOMATLOPUSSA": {"fi": "työttömät työnhakijat kuukauden lopussa (TYOTTOMATLOPUSSA)",
                         "sv": "arbetslösa arbetssökande vid månadens slut (TYOTTOMATLOPUSSA)",
                         "en": "unemployed jobseekers at the end of the month (TYOTTOMATLOPUSSA)"},
    "PITKAAIKAISTYOTTOMAT": {"fi": "pitkäaikaistyöttömät (PITKAAIKAISTYOTTOMAT)",
                             "sv": "långtidsarbetslösa (PITKAAIKAISTYOTTOMAT)",
                             "en": "long-term unemployed (PITKAAIKAISTYOTTOMAT)"},
    "TYOTTOMATULK": {"fi": "ulkomaalaiset työttömät työnhakijat (TYOTTOMATULK)",
                     "sv": "arbetslösa arbetssökande som är utländska medborgare (TYOTTOMATULK)",
                     "en": "unemployed jobseekers who are foreign nationals (TYOTTOMATULK)"},
    "TYOTTOMAT25": {"fi": "alle 25-vuotiaat työttömät työnhakijat (TYOTTOMAT25)",
                    "sv": "arbetslösa arbetssökande under 25 år (TYOTTOMAT25)",
                    "en": "unemployed jobseekers under 25 (TYOTTOMAT25)"},
    "AVPAIKATLOPUSSA": {"fi": "avoimet työpaikat kuukauden lopussa (AVPAIKATLOPUSSA)",
                        "sv": "lediga arbetsplatser vid månadens slut (AVPAIKATLOPUSSA)",
                        "en": "open vacancies at the end of the month (AVPAIKATLOPUSSA)"},
    "TYOVOIMATK": {"fi": "työvoima (TYOVOIMATK)", "sv": "arbetskraften (TYOVOIMATK)",
                   "en": "labour force (TYOVOIMATK)"},
}


def _share(lang: str, numerator: str) -> str:
    return {"fi": f"100 × {numerator} / nimittäjä", "sv": f"100 × {numerator} / nämnaren",
            "en": f"100 × {numerator} / denominator"}[lang]


# id -> (names {lang: (name, short)}, numerator, denominator, cell rule, source, first)
_SPEC: dict[str, tuple[dict[str, tuple[str, str]], str, str | None, str, str, bool]] = {
    "jobseekers": ({
        "fi": ("Työnhakijat", "Kaikki työnhakijat kuukauden viimeisenä päivänä."),
        "sv": ("Arbetssökande", "Alla arbetssökande på månadens sista dag."),
        "en": ("Jobseekers", "All jobseekers on the month's last day."),
    }, "jobseekers", None, "stock", "register", False),
    "unemployed": ({
        "fi": ("Työttömät", "Työttömät ja kokoaikaisesti lomautetut työnhakijat kuukauden "
                            "viimeisenä päivänä."),
        "sv": ("Arbetslösa", "Arbetslösa och helt permitterade arbetssökande på månadens "
                             "sista dag."),
        "en": ("Unemployed", "Unemployed and fully laid-off jobseekers on the month's last day."),
    }, "unemployed", None, "stock", "register", False),
    "laid_off": ({
        "fi": ("Lomautetut", "Kokoaikaisesti lomautetut työnhakijat kuukauden viimeisenä "
                             "päivänä."),
        "sv": ("Permitterade", "Helt permitterade arbetssökande på månadens sista dag."),
        "en": ("Laid off", "Fully laid-off jobseekers on the month's last day."),
    }, "laid_off", None, "stock", "register", False),
    "long_term_unemployed": ({
        "fi": ("Pitkäaikaistyöttömät", "Työttömät, jotka ovat olleet yhtäjaksoisesti työttöminä "
                                       "vähintään vuoden."),
        "sv": ("Långtidsarbetslösa", "Arbetslösa som har varit oavbrutet arbetslösa i minst "
                                     "ett år."),
        "en": ("Long-term unemployed", "Unemployed who have been continuously unemployed for "
                                       "at least a year."),
    }, "long_term_unemployed", None, "stock", "register", False),
    "in_services": ({
        "fi": ("Palveluissa olevat", "Työllistymistä edistävissä palveluissa olevat "
                                     "työnhakijat."),
        "sv": ("Personer i service", "Arbetssökande i sysselsättningsfrämjande service."),
        "en": ("In services", "Jobseekers in employment-promoting services."),
    }, "in_services", None, "stock", "register", False),
    "in_labour_training": ({
        "fi": ("Työvoimakoulutuksessa olevat", "Työnhakijat työvoimakoulutuksessa."),
        "sv": ("Personer i arbetskraftsutbildning", "Arbetssökande i arbetskraftsutbildning."),
        "en": ("In labour market training", "Jobseekers in labour market training."),
    }, "in_labour_training", None, "stock", "register", False),
    "in_pay_subsidy": ({
        "fi": ("Palkkatuetussa työssä olevat", "Työnhakijat palkkatuetussa työssä."),
        "sv": ("Personer i lönesubventionerat arbete",
               "Arbetssökande i lönesubventionerat arbete."),
        "en": ("In pay-subsidised work", "Jobseekers in pay-subsidised work."),
    }, "in_pay_subsidy", None, "stock", "register", False),
    "employed_open": ({
        "fi": ("Avoimilla työmarkkinoilla työssä olevat",
               "Työnhakijat, jotka ovat työssä avoimilla työmarkkinoilla."),
        "sv": ("Sysselsatta på den öppna arbetsmarknaden",
               "Arbetssökande som arbetar på den öppna arbetsmarknaden."),
        "en": ("Employed on the open labour market",
               "Jobseekers working on the open labour market."),
    }, "employed_open", None, "stock", "register", False),
    "unemployed_share": ({
        "fi": ("Työttömien osuus työnhakijoista", "Työttömien osuus kaikista työnhakijoista, %."),
        "sv": ("Arbetslösas andel av de arbetssökande",
               "Arbetslösa i procent av alla arbetssökande."),
        "en": ("Unemployed share of jobseekers", "Unemployed as a percentage of all jobseekers."),
    }, "unemployed", "jobseekers", "ratio", "register", False),
    "long_term_share": ({
        "fi": ("Pitkäaikaistyöttömien osuus", "Pitkäaikaistyöttömien osuus työttömistä, %."),
        "sv": ("Långtidsarbetslösas andel", "Långtidsarbetslösa i procent av de arbetslösa."),
        "en": ("Long-term unemployed share", "Long-term unemployed as a percentage of the "
                                             "unemployed."),
    }, "long_term_unemployed", "unemployed", "ratio", "register", False),
    "activation_rate": ({
        "fi": ("Aktivointiaste", "Palveluissa olevien osuus työttömistä ja palveluissa "
                                 "olevista yhteensä, %."),
        "sv": ("Aktiveringsgrad", "Personer i service i procent av arbetslösa och personer "
                                  "i service sammanlagt."),
        "en": ("Activation rate", "Persons in services as a percentage of the unemployed plus "
                                  "those in services."),
    }, "in_services", "unemployed_or_in_services", "ratio", "register", False),
    "inflow_unemployed": ({
        "fi": ("Työttömiksi tulleet", "Kuukauden työttömät, jotka eivät olleet työttömiä "
                                      "edellisenä kuukautena."),
        "sv": ("Nya arbetslösa", "Månadens arbetslösa som inte var arbetslösa föregående "
                                 "månad."),
        "en": ("Inflow into unemployment", "Persons unemployed this month who were not "
                                           "unemployed the month before."),
    }, "inflow_unemployed", None, "inflow", "register", False),
    "exit_open_market_rate": ({
        "fi": ("Siirtymät avoimille työmarkkinoille", "Edellisen kuukauden työttömistä "
               "avoimilla työmarkkinoilla työssä olevien osuus, %."),
        "sv": ("Övergångar till den öppna arbetsmarknaden", "Andel av föregående månads "
               "arbetslösa som arbetar på den öppna arbetsmarknaden, %."),
        "en": ("Exits to the open labour market", "Share of last month's unemployed who now "
               "work on the open labour market, %."),
    }, "exit_open_market", "unemployed_previous_month", "exit", "register", False),
    "exit_services_rate": ({
        "fi": ("Siirtymät palveluihin", "Edellisen kuukauden työttömistä palveluihin "
               "siirtyneiden osuus, %."),
        "sv": ("Övergångar till service", "Andel av föregående månads arbetslösa som nu "
               "deltar i service, %."),
        "en": ("Exits to services", "Share of last month's unemployed who are now in "
               "services, %."),
    }, "exit_services", "unemployed_previous_month", "exit", "register", False),
    "plan_up_to_date_share": ({
        "fi": ("Ajantasaiset työllistymissuunnitelmat", "Työttömien osuus, joiden "
               "työllistymissuunnitelma on laadittu tai päivitetty kolmen kuukauden aikana, %."),
        "sv": ("Aktuella sysselsättningsplaner", "Andel arbetslösa vars sysselsättningsplan "
               "har gjorts upp eller uppdaterats under de senaste tre månaderna, %."),
        "en": ("Employment plans up to date", "Share of the unemployed whose employment plan "
               "was drawn up or updated within three months, %."),
    }, "plan_up_to_date", "unemployed", "recency", "register", True),
    "review_3m_share": ({
        "fi": ("Työnhakukeskustelu kolmen kuukauden sisällä", "Työttömien osuus, joilla on "
               "ollut työnhakukeskustelu kolmen kuukauden aikana, %."),
        "sv": ("Jobbsökarsamtal inom tre månader", "Andel arbetslösa som har haft ett "
               "jobbsökarsamtal under de senaste tre månaderna, %."),
        "en": ("Job-search review within three months", "Share of the unemployed whose latest "
               "job-search review was within three months, %."),
    }, "review_3m", "unemployed", "recency", "register", True),
    "initial_interview_5wd_share": ({
        "fi": ("Alkuhaastattelu viidessä arkipäivässä", "Kuukauden aikana työnhakijaksi "
               "ilmoittautuneista niiden osuus, joiden alkuhaastattelu pidettiin viiden "
               "arkipäivän kuluessa, %."),
        "sv": ("Inledande intervju inom fem vardagar", "Andel av dem som anmälde sig som "
               "arbetssökande under månaden vars inledande intervju hölls inom fem vardagar, %."),
        "en": ("Initial interview within five working days", "Share of those who registered "
               "as jobseekers in the month whose initial interview took place within five "
               "working days, %."),
    }, "interview_5wd", "interview_cohort", "interview", "register", True),
    "stat_jobseekers": ({
        "fi": ("Työnhakijat (Tilastokeskus)", "Työnhakijat kuukauden lopussa, "
               "työnvälitystilasto."),
        "sv": ("Arbetssökande (Statistikcentralen)", "Arbetssökande vid månadens slut, "
               "arbetsförmedlingsstatistiken."),
        "en": ("Jobseekers (Statistics Finland)", "Jobseekers at the end of the month, "
               "employment service statistics."),
    }, "HAKIJALOPUSSA", None, "statfin", "statfin", False),
    "stat_unemployed": ({
        "fi": ("Työttömät (Tilastokeskus)", "Työttömät työnhakijat kuukauden lopussa, "
               "työnvälitystilasto."),
        "sv": ("Arbetslösa (Statistikcentralen)", "Arbetslösa arbetssökande vid månadens slut, "
               "arbetsförmedlingsstatistiken."),
        "en": ("Unemployed (Statistics Finland)", "Unemployed jobseekers at the end of the "
               "month, employment service statistics."),
    }, "TYOTTOMATLOPUSSA", None, "statfin", "statfin", False),
    "stat_long_term_unemployed": ({
        "fi": ("Pitkäaikaistyöttömät (Tilastokeskus)", "Vähintään vuoden yhtäjaksoisesti "
               "työttömänä olleet, työnvälitystilasto."),
        "sv": ("Långtidsarbetslösa (Statistikcentralen)", "Personer som varit oavbrutet "
               "arbetslösa i minst ett år, arbetsförmedlingsstatistiken."),
        "en": ("Long-term unemployed (Statistics Finland)", "Continuously unemployed for at "
               "least a year, employment service statistics."),
    }, "PITKAAIKAISTYOTTOMAT", None, "statfin", "statfin", False),
    "stat_foreign_unemployed": ({
        "fi": ("Ulkomaalaiset työttömät (Tilastokeskus)", "Ulkomaan kansalaiset työttömät "
               "työnhakijat, työnvälitystilasto (ei sama kuin rekisterin vieraskieliset)."),
        "sv": ("Utländska arbetslösa (Statistikcentralen)", "Arbetslösa arbetssökande som är "
               "utländska medborgare, arbetsförmedlingsstatistiken (inte samma som "
               "registrets främmandespråkiga)."),
        "en": ("Unemployed foreign nationals (Statistics Finland)", "Unemployed jobseekers "
               "who are foreign nationals, employment service statistics (not the register's "
               "foreign-language speakers)."),
    }, "TYOTTOMATULK", None, "statfin", "statfin", False),
    "stat_under25_unemployed": ({
        "fi": ("Alle 25-vuotiaat työttömät (Tilastokeskus)", "Alle 25-vuotiaat työttömät "
               "työnhakijat, työnvälitystilasto."),
        "sv": ("Arbetslösa under 25 år (Statistikcentralen)", "Arbetslösa arbetssökande under "
               "25 år, arbetsförmedlingsstatistiken."),
        "en": ("Unemployed under 25 (Statistics Finland)", "Unemployed jobseekers under 25, "
               "employment service statistics."),
    }, "TYOTTOMAT25", None, "statfin", "statfin", False),
    "stat_vacancies": ({
        "fi": ("Avoimet työpaikat (Tilastokeskus)", "Avoimet työpaikat kuukauden lopussa, "
               "työnvälitystilasto."),
        "sv": ("Lediga arbetsplatser (Statistikcentralen)", "Lediga arbetsplatser vid "
               "månadens slut, arbetsförmedlingsstatistiken."),
        "en": ("Open vacancies (Statistics Finland)", "Open vacancies at the end of the month, "
               "employment service statistics."),
    }, "AVPAIKATLOPUSSA", None, "statfin", "statfin", False),
    "stat_unemployment_rate": ({
        "fi": ("Työttömien osuus työvoimasta (Tilastokeskus)", "Työttömät työnhakijat "
               "prosentteina työvoimasta, yksi desimaali."),
        "sv": ("Arbetslösas andel av arbetskraften (Statistikcentralen)", "Arbetslösa "
               "arbetssökande i procent av arbetskraften, en decimal."),
        "en": ("Unemployed share of the labour force (Statistics Finland)", "Unemployed "
               "jobseekers as a percentage of the labour force, one decimal."),
    }, "TYOTTOMATLOPUSSA", "TYOVOIMATK", "statfin", "statfin", False),
}

_DEFINITION = {
    "count": {"fi": "Henkilömäärä.", "sv": "Antal personer.", "en": "Number of persons."},
    "percent": {"fi": "Prosenttiosuus: 100 × osoittaja / nimittäjä, laskettu solun "
                      "summatuista osoittajista ja nimittäjistä.",
                "sv": "Procentandel: 100 × täljare / nämnare, beräknad av cellens summerade "
                      "täljare och nämnare.",
                "en": "Percentage: 100 × numerator / denominator, computed from the cell's "
                      "summed numerators and denominators."},
}


def _phrase(source: str, code: str, lang: str) -> str:
    return (_M if source == "register" else _STAT)[code][lang]


def _build() -> dict[str, dict[str, Text]]:
    texts: dict[str, dict[str, Text]] = {}
    for ind_id, (names, num, den, cell, source, nordic) in _SPEC.items():
        kind = "percent" if den else "count"
        texts[ind_id] = {
            lang: Text(
                name=names[lang][0],
                short=names[lang][1],
                long=_long(
                    lang,
                    f"{names[lang][1]} {_DEFINITION[kind][lang]}",
                    _phrase(source, num, lang),
                    _phrase(source, den, lang) if den else None,
                    cell,
                    source,
                    _FIRST_NORDIC[lang] if nordic else None,
                ),
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
        "sv": Text("Försökens kunder", "Arbetssökande som betjänas av ett kommunalt "
                   "sysselsättningsförsök."),
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
}


# Disclosure control in plain words, for the Definitions page and export metadata
# (docs/disclosure.md has the full statement). {n} is the suppression threshold.
DISCLOSURE_TEXT: dict[str, str] = {
    "fi": ("Henkilöiden tietosuojan vuoksi alle {n} hengen lukuja (1–{m}) ei julkaista, eikä "
           "prosenttia, jonka osoittaja tai nimittäjä on sellainen. Lisäksi piilotetaan muita "
           "lukuja niin, ettei piilotettua lukua eikä pientä ryhmää (esimerkiksi kohderyhmän "
           "ulkopuolisia) voi laskea julkaistuista luvuista vähentämällä – ei alueiden, "
           "perusjoukkojen, ryhmien, mittareiden eikä peräkkäisten kuukausien välillä."),
    "sv": ("För att skydda personuppgifter publiceras inte tal under {n} personer (1–{m}), "
           "inte heller en procentandel vars täljare eller nämnare är ett sådant tal. Dessutom "
           "döljs andra tal så att varken ett dolt tal eller en liten grupp (till exempel de "
           "utanför målgruppen) kan räknas fram ur publicerade tal genom subtraktion – varken "
           "mellan områden, populationer, grupper, mått eller på varandra följande månader."),
    "en": ("To protect individuals, counts below {n} persons (1 to {m}) are not published, nor "
           "is a percentage whose numerator or denominator is such a count. Further cells are "
           "hidden so that neither a hidden count nor a small group (for example the people "
           "outside the target group) can be worked out by subtracting published figures -- "
           "across areas, populations, groups, measures or consecutive months."),
}


def disclosure_text(lang: str, threshold: int) -> str:
    """The plain-language description of the protection (fi, sv or en)."""
    return DISCLOSURE_TEXT[lang].format(n=threshold, m=threshold - 1)
