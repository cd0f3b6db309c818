"""Reads indicators/indicators.meta.yml, the one source of every indicator's metadata.

Interface
* ``load_meta(path=META_FILE) -> dict``: the file, checked: every indicator names a known
  family, unit, source, cell rule, measures that exist (of its source), a first month
  that is null or a symbol below, and a name, a short text and a plain-language
  explanation (``plain``) in every language.
  A bad file raises ``MetaError`` naming the indicator (or measure) and the field.
* ``META``: the checked file (read once per process).
* ``first_month(value)``: a first_month symbol resolved (``nordic_model_start`` is
  ``trialmon.domain.NORDIC_MODEL_START``).

Decisions
* YAML (pyyaml, the C loader where built): people edit it, comments stay beside the facts.
* Symbols instead of repeated dates, so the Nordic-model month has one home (the domain).
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from trialmon.domain import LANGUAGES, NORDIC_MODEL_START
from trialmon.errors import TrialmonError

META_FILE = Path(__file__).with_name("indicators.meta.yml")
FAMILIES = ("stocks", "ratios", "flows", "process", "public_statistics")
UNITS = ("count", "percent")
SOURCES = ("register", "statfin")
FIRST_MONTHS = {None: None, "nordic_model_start": NORDIC_MODEL_START}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MetaError(TrialmonError):
    """indicators.meta.yml breaks its own rules."""


def first_month(value: str | None) -> str | None:
    return FIRST_MONTHS[value]


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise MetaError(f"{META_FILE.name}: {where}: {message}")


def _check_languages(entry: dict, where: str) -> None:
    missing = [lang for lang in LANGUAGES if not entry.get(lang)]
    _require(not missing, where, f"no text in {', '.join(missing)}")


def check(meta: dict) -> dict:
    for key in ("sources", "cell_rules", "measures", "indicators"):
        _require(isinstance(meta.get(key), dict), key, "missing section")
    for name, entry in meta["sources"].items():
        _check_languages(entry, f"sources.{name}")
    for name, entry in meta["cell_rules"].items():
        _check_languages(entry, f"cell_rules.{name}")
    for name, entry in meta["measures"].items():
        _require(entry.get("source") in SOURCES, f"measures.{name}.source", "unknown source")
        _check_languages(entry, f"measures.{name}")
    for ind_id, ind in meta["indicators"].items():
        where = f"indicators.{ind_id}"
        _require(ind.get("family") in FAMILIES, f"{where}.family", f"one of {FAMILIES}")
        _require(ind.get("unit") in UNITS, f"{where}.unit", f"one of {UNITS}")
        _require(ind.get("source") in SOURCES, f"{where}.source", f"one of {SOURCES}")
        _require(ind.get("cell_rule") in meta["cell_rules"], f"{where}.cell_rule", "unknown")
        _require(ind.get("first_month") in FIRST_MONTHS, f"{where}.first_month",
                 f"one of {sorted(k for k in FIRST_MONTHS if k)} or null")
        _require(isinstance(ind.get("decimals"), int), f"{where}.decimals", "an integer")
        _require(ind["source"] != "register" or bool(ind.get("rule")), f"{where}.rule",
                 "a register indicator states its rule (the docs table's definition)")
        _require((ind["unit"] == "percent") == (ind.get("denominator") is not None),
                 f"{where}.denominator", "a percent has a denominator, a count none")
        for field in ("numerator", "denominator"):
            measure = ind.get(field)
            if measure is not None:
                known = meta["measures"].get(measure)
                _require(known is not None and known["source"] == ind["source"],
                         f"{where}.{field}", f"{measure!r} is no {ind['source']} measure")
        for field in ("name", "short", "plain"):
            _check_languages(ind.get(field) or {}, f"{where}.{field}")
    return meta


@functools.cache
def load_meta(path: Path = META_FILE) -> dict:
    with open(path, encoding="utf-8") as handle:
        return check(yaml.load(handle, Loader=_Loader))  # noqa: S506 (a safe loader)


META = load_meta()


# --------------------------------------------------------------------------- docs table

DOCS_TABLE_HEADER = ("| id | definition | numerator measure | denominator measure | cell from "
                     "| first month |\n|---|---|---|---|---|---|")


def docs_table(meta: dict = META) -> str:
    """The register indicators' table of docs/indicators.md, as built from the file."""
    rows = [DOCS_TABLE_HEADER]
    for ind_id, ind in meta["indicators"].items():
        if ind["source"] != "register":
            continue
        den = f"`{ind['denominator']}`" if ind["denominator"] else ""
        rows.append(f"| `{ind_id}` | {ind['rule']} | `{ind['numerator']}` | {den} | "
                    f"{meta['cell_rules'][ind['cell_rule']]['cell_from']} | "
                    f"{first_month(ind['first_month']) or ''} |")
    return "\n".join(rows).replace("|  |", "| |")


if __name__ == "__main__":  # python -m indicators.meta: print the docs table
    print(docs_table())
