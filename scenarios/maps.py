"""The decision map (``map.html``): which buildings stay, host or go, and who moves where."""

from __future__ import annotations

import html
from typing import Any

import folium
import numpy as np
import pandas as pd
from folium.plugins import PolyLineTextPath

from optimise.evaluate import Evaluation
from optimise.instance import EstateInstance
from scenarios.run import RunInputs

AGENCY_COLOURS = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#17becf",
    "#e377c2",
]
DECISION_STYLE: dict[str, dict[str, Any]] = {
    "retain": {"radius": 7, "weight": 2, "fill_opacity": 0.85, "dash_array": None},
    "host": {"radius": 11, "weight": 4, "fill_opacity": 0.95, "dash_array": None},
    "dispose": {"radius": 7, "weight": 2, "fill_opacity": 0.15, "dash_array": "3 3"},
}
DECISION_LABEL = {
    "retain": "Retain",
    "host": "Retain and host services moving in",
    "dispose": "Dispose / exit",
}


def agency_colours(agencies: list[str]) -> dict[str, str]:
    return {a: AGENCY_COLOURS[i % len(AGENCY_COLOURS)] for i, a in enumerate(sorted(agencies))}


def _money(value: float) -> str:
    return f"£{value:,.0f}"


def _popup(row: pd.Series, moves_in: pd.DataFrame, moves_out: pd.DataFrame) -> str:
    e = html.escape
    lines = [
        f"<b>{e(str(row['name']))}</b> ({e(str(row['building_id']))})",
        f"Agency: {e(str(row['agency']))}",
        f"Decision: <b>{e(DECISION_LABEL[str(row['decision'])])}</b>",
        f"Tenure: {e(str(row['tenure']))}",
        f"Running cost: {_money(row['running_cost_gbp'])} a year",
        f"Backlog: {_money(row['backlog_cost_gbp'])}",
        f"Desks: {row['desks_before']:g} now, {row['desks_after']:g} after"
        f" (capacity {row['capacity_desks']:g})",
    ]
    if row["decision"] == "dispose" and row["capital_receipt_gbp"]:
        lines.append(
            f"Net receipt: {_money(row['capital_receipt_gbp'])} in year {row['exit_year']}"
        )
    if len(moves_in):
        items = "".join(
            f"<li>{e(str(m.name))} from {e(str(m.from_building))}</li>"
            for m in moves_in.itertuples()
        )
        lines.append(f"Moving in:<ul>{items}</ul>")
    if len(moves_out):
        items = "".join(
            f"<li>{e(str(m.name))} to {e(str(m.to_building))}</li>" for m in moves_out.itertuples()
        )
        lines.append(f"Moving out:<ul>{items}</ul>")
    return "<br>".join(lines)


def _title_box(inputs: RunInputs, evaluation: Evaluation) -> str:
    e = html.escape
    agencies = evaluation.agencies
    figures = [
        ("NPV saving", _money(float(agencies["npv_saving"].sum()))),
        ("Annual revenue saving", _money(float(agencies["annual_revenue_saving"].sum()))),
        ("Capital receipts", _money(float(agencies["capital_receipts"].sum()))),
        ("One-off costs", _money(float(agencies["one_off_costs"].sum()))),
        ("Buildings disposed", str(int((evaluation.buildings["decision"] == "dispose").sum()))),
    ]
    rows = "".join(
        f"<tr><td>{e(k)}</td><td style='text-align:right'>{e(v)}</td></tr>" for k, v in figures
    )
    notice = f"<p style='color:#b00;margin:4px 0'>{e(inputs.notice)}</p>" if inputs.notice else ""
    return (
        "<div style='position:fixed;top:10px;left:50px;z-index:9999;background:white;"
        "padding:8px 12px;border:1px solid #888;border-radius:4px;font:13px sans-serif;"
        f"max-width:420px'><b>{e(inputs.name)}</b>{notice}<table>{rows}</table></div>"
    )


def _legend(colours: dict[str, str]) -> str:
    e = html.escape
    agencies = "".join(
        f"<div><span style='display:inline-block;width:12px;height:12px;border-radius:6px;"
        f"background:{c};margin-right:6px'></span>{e(a)}</div>"
        for a, c in colours.items()
    )
    return (
        "<div style='position:fixed;bottom:20px;left:10px;z-index:9999;background:white;"
        "padding:8px 12px;border:1px solid #888;border-radius:4px;font:12px sans-serif'>"
        f"<b>Agency</b>{agencies}<b>Decision</b>"
        "<div>● solid: retain</div><div>◉ large, thick ring: host</div>"
        "<div>○ faint, dashed: dispose</div><div>→ service move</div></div>"
    )


def decision_map(inputs: RunInputs, instance: EstateInstance, evaluation: Evaluation) -> folium.Map:
    """Folium map: buildings styled by decision and coloured by agency, moves as arrows."""
    b = instance.buildings
    table = evaluation.buildings
    colours = agency_colours(list(table["agency"].unique()))
    centre = [float(b["lat"].mean()), float(b["lon"].mean())]
    fmap = folium.Map(location=centre, zoom_start=11, tiles="OpenStreetMap", control_scale=True)
    lat = dict(zip(b["building_id"], b["lat"], strict=True))
    lon = dict(zip(b["building_id"], b["lon"], strict=True))
    moves = evaluation.moves
    layers = {d: folium.FeatureGroup(name=DECISION_LABEL[d]) for d in DECISION_STYLE}
    for _, row in table.iterrows():
        style = DECISION_STYLE[str(row["decision"])]
        colour = colours[str(row["agency"])]
        popup = _popup(
            row,
            moves.loc[moves["to_building"] == row["building_id"]],
            moves.loc[moves["from_building"] == row["building_id"]],
        )
        folium.CircleMarker(
            location=[lat[row["building_id"]], lon[row["building_id"]]],
            radius=style["radius"],
            color="#555" if row["decision"] == "dispose" else colour,
            weight=style["weight"],
            fill=True,
            fill_color=colour,
            fill_opacity=style["fill_opacity"],
            dash_array=style["dash_array"],
            popup=folium.Popup(popup, max_width=360),
            tooltip=html.escape(f"{row['name']} — {row['decision']}"),
        ).add_to(layers[str(row["decision"])])
    move_layer = folium.FeatureGroup(name="Service moves")
    for m in moves.itertuples():
        path = [
            [lat[m.from_building], lon[m.from_building]],
            [lat[m.to_building], lon[m.to_building]],
        ]
        line = folium.PolyLine(
            path,
            color=colours.get(str(m.agency), "#333"),
            weight=2 + float(np.sqrt(m.desks)) / 2,
            opacity=0.8,
            tooltip=html.escape(
                f"{m.name}: {m.desks:g} desks, {m.from_building} → {m.to_building}"
            ),
        )
        line.add_to(move_layer)
        PolyLineTextPath(
            line,
            "►",
            repeat=False,
            offset=6,
            center=True,
            attributes={"font-size": "16", "fill": colours.get(str(m.agency), "#333")},
        ).add_to(move_layer)
    for layer in layers.values():
        layer.add_to(fmap)
    move_layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    root: Any = fmap.get_root()
    root.html.add_child(folium.Element(_title_box(inputs, evaluation)))
    root.html.add_child(folium.Element(_legend(colours)))
    fmap.fit_bounds(
        [
            [float(b["lat"].min()), float(b["lon"].min())],
            [float(b["lat"].max()), float(b["lon"].max())],
        ]
    )
    return fmap
