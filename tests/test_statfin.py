"""Reading Statistics Finland's PxWeb files (json, JSON-stat2, CSV) and loading them.

The expected side is always built straight from the shared real 12r5 response with
the json module (no code under test), then compared with what the readers return.
"""

from __future__ import annotations

import csv
import io
import json

import polars as pl
import pytest
import sqlalchemy as sa

from etl.statfin import (
    PxFormatError,
    load_statfin_files,
    read_pxweb_file,
    read_statfin_file,
)
from tests.conftest import shared_file
from trialmon.db import get_engine
from trialmon.errors import InputRejected

REAL_12R5 = ("data", "statfin", "unemployment_register_kunnat_12r5.json")


def _raw(path) -> dict:
    return json.loads(path.read_text("utf-8"))


def _expected_cells(document: dict) -> dict[tuple[str, str], float | None]:
    """(area, measure) -> value, read by hand: '...' is None."""
    measures = [c["code"] for c in document["columns"] if c["type"] == "c"]
    return {(row["key"][0], m): (None if v == "..." else float(v))
            for row in document["data"] for m, v in zip(measures, row["values"], strict=True)}


def _as_dict(frame: pl.DataFrame) -> dict[tuple[str, str], float | None]:
    return {(a, m): v for a, m, v in frame.select("area_code", "measure", "value").iter_rows()}


# ------------------------------------------------------------------------ PxWeb json


def test_real_12r5_json_parses_with_known_values():
    path = shared_file(*REAL_12R5)
    frame = read_statfin_file(path)
    assert frame.schema == pl.Schema({"month": pl.String, "area_code": pl.String,
                                      "measure": pl.String, "value": pl.Float64})
    assert frame.height == 421 * 23 and frame["month"].unique().to_list() == ["2026-06"]
    cells = _as_dict(frame)
    # values read off the file by eye
    assert cells[("SSS", "HAKIJALOPUSSA")] == 542318
    assert cells[("SSS", "TYOTOSUUS")] == 12.8
    assert cells[("KU020", "TYOTTOMATLOPUSSA")] == 1013
    assert cells[("KU020", "KOKEILULOP")] is None  # '...' in the file
    assert cells[("MK21", "LOMAUTETTU")] == 13
    assert cells[("SSS", "TYOHARJOITTELULOP")] == 0  # a true zero stays zero
    assert cells == _expected_cells(_raw(path))
    assert frame["value"].null_count() == sum(
        v == "..." for row in _raw(path)["data"] for v in row["values"]) == 904


@pytest.mark.parametrize("name, time_code, area, measure, expected, areas", [
    ("population_register_kunnat_121w.json", "timeperiod_y", "SSS", "ssaaty-vaesto", 5652881, 309),
    ("age_register_kunnat_11ra.json", "timeperiod_y", "KU020", "vaesto_keski_ika", 45.9, 568),
])
def test_stamped_variable_codes_are_found_from_the_metadata(name, time_code, area, measure,
                                                            expected, areas):
    path = shared_file("data", "statfin", name)
    columns = _raw(path)["columns"]
    # the files really use the stamped codes, in different column orders
    assert {c["code"] for c in columns if c["type"] != "c"} == {"alue_23_20260101", time_code}
    frame = read_pxweb_file(path)
    assert frame["period"].unique().to_list() == ["2025"]
    assert frame["area_code"].n_unique() == areas
    assert _as_dict(frame)[(area, measure)] == expected
    assert _as_dict(frame) == _expected_cells_any_order(_raw(path))


def _expected_cells_any_order(document):
    keys = [i for i, c in enumerate(c for c in document["columns"] if c["type"] != "c")
            if document["columns"][i]["code"].startswith("alue")]
    measures = [c["code"] for c in document["columns"] if c["type"] == "c"]
    return {(row["key"][keys[0]], m): float(v) for row in document["data"]
            for m, v in zip(measures, row["values"], strict=True)}


def test_yearly_tables_are_rejected_by_the_monthly_loader(db):
    path = shared_file("data", "statfin", "age_register_kunnat_11ra.json")
    with pytest.raises(InputRejected) as caught:
        load_statfin_files(db, [path])
    assert "age_register_kunnat_11ra.json" in str(caught.value)
    assert "'2025' is not a month" in str(caught.value)


def _doc(values: list[str], columns=None) -> dict:
    columns = columns or [{"code": "Alue", "text": "Alue", "type": "d"},
                          {"code": "Kuukausi", "text": "Kuukausi", "type": "t"},
                          {"code": "A", "text": "A", "type": "c"}]
    return {"columns": columns,
            "data": [{"key": [f"KU{i:03d}", "2024M01"], "values": [v]}
                     for i, v in enumerate(values)]}


def test_missing_symbols_are_null_and_nil_is_zero(tmp_path):
    path = tmp_path / "symbols.json"
    path.write_text(json.dumps(_doc([".", "..", "...", "", "-", "0", "7", "12.5"])))
    frame = read_statfin_file(path).sort("area_code")
    assert frame["value"].to_list() == [None, None, None, None, 0.0, 0.0, 7.0, 12.5]
    assert frame["month"].unique().to_list() == ["2024-01"]


def test_bare_municipality_codes_are_stored_with_ku_prefix(tmp_path):
    path = tmp_path / "bare.json"
    doc = _doc(["1", "2"])
    doc["data"][0]["key"][0], doc["data"][1]["key"][0] = "091", "MK01"
    path.write_text(json.dumps(doc))
    assert sorted(read_statfin_file(path)["area_code"]) == ["KU091", "MK01"]


@pytest.mark.parametrize("values, columns, message", [
    (["12x"], None, "neither numbers nor missing symbols"),
    (["1"], [{"code": "Alue", "type": "d"}, {"code": "Sukupuoli", "type": "d"},
             {"code": "A", "type": "c"}], "time"),
])
def test_bad_files_are_rejected_with_file_and_reason(db, tmp_path, values, columns, message):
    good = shared_file(*REAL_12R5)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_doc(values, columns)))
    with pytest.raises(InputRejected) as caught:
        load_statfin_files(db, [good, bad])
    assert "bad.json" in str(caught.value) and message in str(caught.value)
    with get_engine(db).connect() as conn:  # nothing written, not even the good file
        assert conn.execute(sa.text("select count(*) from statfin_value")).scalar() == 0


def test_two_area_like_variables_are_ambiguous(tmp_path):
    doc = {"columns": [{"code": "alue", "type": "d"}, {"code": "sukupuoli", "type": "d"},
                       {"code": "timeperiod_m", "type": "t"}, {"code": "A", "type": "c"}],
           "data": [{"key": ["SSS", "1", "2024M01"], "values": ["1"]}]}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(PxFormatError, match="cannot tell the area variable"):
        read_statfin_file(path)


# ------------------------------------------------------------------ JSON-stat2 and CSV


def _jsonstat2(document: dict) -> dict:
    """The same numbers as JSON-stat2 (row-major: area, month, contents), built by hand."""
    contents = [c for c in document["columns"] if c["type"] == "c"]
    areas = [row["key"][0] for row in document["data"]]
    values, status = [], {}
    for row in document["data"]:
        for text in row["values"]:
            if text == "...":
                status[str(len(values))] = "..."
                values.append(None)
            else:
                values.append(float(text) if "." in text else int(text))
    return {
        "version": "2.0", "class": "dataset", "label": "12r5",
        "id": ["Alue", "Kuukausi", "Tiedot"], "size": [len(areas), 1, len(contents)],
        "role": {"time": ["Kuukausi"], "metric": ["Tiedot"]},
        "dimension": {
            "Alue": {"label": "Alue", "category": {"index": {a: i for i, a in enumerate(areas)},
                                                   "label": {a: a for a in areas}}},
            "Kuukausi": {"label": "Kuukausi", "category": {"index": {"2026M06": 0}}},
            "Tiedot": {"label": "Tiedot", "category": {
                "index": {c["code"]: i for i, c in enumerate(contents)},
                "label": {c["code"]: c["text"] for c in contents}}},
        },
        "value": values, "status": status,
    }


def test_jsonstat2_version_gives_the_same_cells(tmp_path):
    source = shared_file(*REAL_12R5)
    document = _raw(source)
    path = tmp_path / "12r5.jsonstat2.json"
    path.write_text(json.dumps(_jsonstat2(document)))
    frame = read_statfin_file(path)
    assert frame["month"].unique().to_list() == ["2026-06"]
    assert _as_dict(frame) == _expected_cells(document)


def test_jsonstat2_without_roles_uses_period_codes_and_units(tmp_path):
    source = shared_file(*REAL_12R5)
    document = _jsonstat2(_raw(source))
    del document["role"]
    document["dimension"]["Tiedot"]["category"]["unit"] = {
        code: {"decimals": 0} for code in document["dimension"]["Tiedot"]["category"]["index"]}
    path = tmp_path / "noroles.json"
    path.write_text(json.dumps(document))
    assert _as_dict(read_statfin_file(path)) == _expected_cells(_raw(source))


def _csv_texts_in_heading(document: dict) -> str:
    """PxWeb's 'comma delimited with heading': area in the stub, time+contents texts heading."""
    contents = [c for c in document["columns"] if c["type"] == "c"]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(["Alue", *(f"2026M06 {c['text']}" for c in contents)])
    for row in document["data"]:
        writer.writerow([row["key"][0], *(v if v == "..." else float(v) if "." in v else int(v)
                                          for v in row["values"])])
    return out.getvalue()


def test_csv_with_texts_in_the_heading_uses_the_metadata_beside_it(tmp_path):
    source = shared_file(*REAL_12R5)
    document = _raw(source)
    contents = [c for c in document["columns"] if c["type"] == "c"]
    path = tmp_path / "12r5.csv"
    path.write_bytes(_csv_texts_in_heading(document).encode("utf-8-sig"))
    (tmp_path / "12r5.meta.json").write_text(json.dumps({"variables": [
        {"code": "Tiedot", "text": "Tiedot", "values": [c["code"] for c in contents],
         "valueTexts": [c["text"] for c in contents]}]}))
    frame = read_statfin_file(path)
    assert frame["month"].unique().to_list() == ["2026-06"]
    assert _as_dict(frame) == _expected_cells(document)


def test_csv_without_metadata_names_the_missing_codes(tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text(_csv_texts_in_heading(_raw(shared_file(*REAL_12R5))))
    with pytest.raises(PxFormatError, match="meta.json"):
        read_statfin_file(path)


def test_semicolon_csv_with_time_in_the_stub_and_decimal_commas(tmp_path):
    source = shared_file(*REAL_12R5)
    document = _raw(source)
    codes = [c["code"] for c in document["columns"] if c["type"] == "c"]
    lines = [";".join(['"Alue"', '"Kuukausi"', *(f'"{c}"' for c in codes)])]
    lines += [";".join([f'"{row["key"][0]} Nimi"', '"2026M06"',
                        *(v.replace(".", ",") if v != "..." else '"..."' for v in row["values"])])
              for row in document["data"]]
    path = tmp_path / "stub.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    frame = read_statfin_file(path)
    assert _as_dict(frame) == _expected_cells(document)


# ------------------------------------------------------------------------- loading


def test_load_is_idempotent_and_revisions_are_counted(db, tmp_path):
    source = shared_file(*REAL_12R5)
    first = load_statfin_files(db, [source])
    assert first.new_months == ["2026-06"] and first.rows == 9683
    again = load_statfin_files(db, [source])
    assert again.unchanged_months == ["2026-06"] and again.changed_months == []
    document = _raw(source)
    document["data"][1]["values"][0] = "1500"  # KU020 HAKIJALOPUSSA 1494 -> 1500
    document["data"][1]["values"][17] = "3"  # KU020 KOKEILULOP '...' -> 3
    revised = tmp_path / "revised.json"
    revised.write_text(json.dumps(document))
    report = load_statfin_files(db, [revised])
    assert report.revised_months == ["2026-06"]
    assert "1 revised" in report.summary()
    with get_engine(db).connect() as conn:
        status = conn.execute(sa.text(
            "select revision, row_count, rows_changed from month_status "
            "where source = 'statfin'")).one()
        value = conn.execute(sa.text(
            "select value, source from statfin_value where area_code = 'KU020' "
            "and measure = 'HAKIJALOPUSSA'")).one()
    assert tuple(status) == (1, 9683, 2)
    assert tuple(value) == (1500.0, "revised.json")


def test_conflicting_files_for_the_same_cell_are_rejected(db, tmp_path):
    source = shared_file(*REAL_12R5)
    document = _raw(source)
    document["data"][0]["values"][0] = "1"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(document))
    with pytest.raises(InputRejected, match="different values"):
        load_statfin_files(db, [source, other])
