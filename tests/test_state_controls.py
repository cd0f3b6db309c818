"""dashboard.state.from_controls: callback values are checked strictly (crafted -> InvalidInput)
but everything a person can select with the controls is accepted."""

from __future__ import annotations

import pytest

from dashboard.state import MAX_AREAS, InvalidInput, View, from_controls

AREAS = ["TRIALS", "SSS", "NONTRIAL", "091", "049", "837", "092", "MK01", "TA01", "TA02"]
MONTHS = ["2024-01", "2024-02", "2024-03"]


def explorer(**values) -> View:
    base = {"indicator": "unemployed", "areas": ["SSS"], "population": "all", "group": "all",
            "mode": "level", "from": "all", "to": "all", "tab": "chart"}
    return from_controls("explorer", "/sv/explorer", AREAS, MONTHS, **{**base, **values})


def test_the_values_the_controls_hold_make_the_view():
    view = explorer(areas=["SSS", "091"], **{"from": "2024-02"})
    assert (view.page, view.lang, view.indicator, view.areas) == (
        "explorer", "sv", "unemployed", ("SSS", "091"))
    assert (view.start, view.end) == ("2024-02", None)


def test_what_a_person_can_select_is_accepted():
    assert explorer(areas=AREAS).areas == tuple(AREAS[:MAX_AREAS])  # more than shown
    assert explorer(areas=[]).areas == ("TRIALS", "NONTRIAL", "SSS")  # every chip removed
    swapped = explorer(**{"from": "2024-03", "to": "2024-01"})
    assert (swapped.start, swapped.end) == ("2024-01", "2024-03")


@pytest.mark.parametrize("name, value", [
    ("indicator", "nope"), ("indicator", ["unemployed"]), ("from", "x"), ("to", "2024-13"),
    ("from", "2023-12"),  # not published
    ("areas", ["SSS", None]), ("areas", "SSS,091"), ("areas", ["a,b"]), ("mode", 3),
    ("tab", {"$ne": 1}), ("group", ""),
])
def test_a_value_no_control_can_send_is_refused(name, value):
    with pytest.raises(InvalidInput) as caught:
        explorer(**{name: value})
    assert caught.value.name == name


def test_the_pathname_must_be_text():
    with pytest.raises(InvalidInput):
        from_controls("explorer", ["/fi/explorer"], AREAS, MONTHS, indicator="unemployed")
