"""The Definitions page's section on areas: every area system's areas with their
members, source, confidence and completeness (the partial ones named)."""

from __future__ import annotations

import polars as pl
from dash import html

from dashboard.components import collation_key
from dashboard.i18n import label, t

WITHOUT_TABLE = ("municipality", "all_trials", "comparison", "country", "region")


def _members_text(frame: pl.DataFrame, names: dict[str, str], lang: str) -> str:
    """Member names in the page's language order; a closed membership shows its end."""
    parts = []
    for code, valid_to in frame.select("municipality_code", "valid_to").iter_rows():
        name = names.get(code, code)
        parts.append(f"{name} (–{valid_to:%Y-%m-%d})" if valid_to is not None else name)
    return ", ".join(sorted(parts, key=lambda text: collation_key(text, lang)))


def area_sources(data, lang: str) -> html.Section:
    areas = data.areas().filter(~pl.col("area_type").is_in(list(WITHOUT_TABLE)))
    memberships = data.memberships()
    names = data.area_names(lang)
    blocks = [html.H2(t(lang, "Areas and their sources"), className="h4")]
    for (kind,), group in areas.group_by("area_type", maintain_order=True):
        partial = group.filter(pl.col("completeness") == "partial")
        head = html.Tr([html.Th(t(lang, h), scope="col") for h in
                        ("Area", "Members", "Confidence", "Source")])
        rows = []
        for row in group.sort("area_code").iter_rows(named=True):
            members = memberships.filter((pl.col("area_type") == kind)
                                         & (pl.col("area_code") == row["area_code"]))
            confidence = t(lang, row["confidence"]) if row["confidence"] else "–"
            if row["completeness"] == "partial":
                confidence += f", {t(lang, 'partial')}"
            rows.append(html.Tr([
                html.Th(row[f"name_{lang}"], scope="row"),
                html.Td(_members_text(members, names, lang)),
                html.Td(confidence + (f" — {row['note']}" if row["note"] else "")),
                html.Td(row["source"] or "–", className="small text-break"),
            ]))
        blocks.append(html.H3(label("area_type", kind, lang), className="h6 mt-3"))
        if partial.height:
            blocks.append(html.P([html.Strong(t(lang, "Partial membership: members found so far")
                                              + ": "),
                                  ", ".join(partial[f"name_{lang}"].to_list())],
                                 className="partial-areas"))
        blocks.append(html.Div(html.Table([html.Thead(head), html.Tbody(rows)],
                                          className="table table-sm data-table"),
                               className="table-wrap", tabIndex="0"))
    return html.Section(blocks, className="mb-4", id="area-sources")


def loaded_systems(data, lang: str) -> html.Section | None:
    """The Data status page's list of area systems loaded with `trialmon load areas`:
    a (re)load is a new vintage of that system's figures."""
    systems = data.area_systems()
    if systems.is_empty():
        return None
    rows = [html.Tr([html.Th(label("area_type", r["area_type"], lang), scope="row"),
                     html.Td(r["source_file"]), html.Td(str(r["areas"]), className="num"),
                     html.Td(str(r["memberships"]), className="num"),
                     html.Td(f"{r['loaded_at']:%Y-%m-%d %H:%M} UTC")])
            for r in systems.iter_rows(named=True)]
    head = html.Tr([html.Th(t(lang, h), scope="col") for h in
                    ("Area system", "File", "Areas", "Members", "Loaded")])
    return html.Section([
        html.H2(t(lang, "Loaded area systems"), className="h5 mt-4"),
        html.Div(html.Table([html.Thead(head), html.Tbody(rows)],
                            className="table table-sm data-table", id="area-system-table"),
                 className="table-wrap", tabIndex="0"),
    ])
