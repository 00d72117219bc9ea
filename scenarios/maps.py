"""The decision map (``map.html``), drawn from a run folder alone.

Buildings are styled by decision (retain / host / dispose) and coloured by agency; service
moves are arrows; zones are shaded by the change in minutes to the nearest service of
each public-facing type; catchments join each zone to its nearest service after the
change.  The layer control toggles agencies, decisions, access layers and catchments.

The page works with no network at all: Leaflet is inlined (:mod:`scenarios.leaflet_assets`)
and, with ``basemap="roads"``, the basemap is the run's own road network drawn as vectors.
``basemap="tiles"`` adds OpenStreetMap tiles (fetched by the browser when it is online)
with the roads as an optional overlay.

Every value that comes from data is HTML-escaped, and popups and tooltips are bound with
JSON-encoded strings rather than Folium's ``Popup``/``Tooltip`` (which need jQuery and
splice text into JavaScript template literals).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import folium
import numpy as np
import pandas as pd

from estate.coords import bng_to_lonlat
from estate.estimate import describe_estimated
from estate.io import write_text
from estate.money import gbp
from estate.textsafe import html_text
from geodata.cells import zone_polygons
from geodata.network import RoadNetwork
from scenarios.leaflet_assets import AssetError, leaflet_head, leaflet_version
from scenarios.mappage import (
    PANEL_CSS,
    Group,
    MapLayers,
    add_head,
    add_panel,
    arrow,
    bounds_of,
    circle,
    new_map,
    shape,
)
from scenarios.report import solver_failure
from scenarios.runfolder import RunFolder, catchments

Basemap = Literal["tiles", "roads"]
BASEMAPS: tuple[Basemap, ...] = ("tiles", "roads")
COORD_DP = 6

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
DECISIONS = ("retain", "host", "dispose")
# Every decision in the agency's colour: retain a solid dot, host a larger dot with a
# dark ring, dispose a hollow dashed ring (see the legend, drawn from the same styles).
DECISION_STYLE: dict[str, dict[str, Any]] = {
    "retain": {"radius": 7, "weight": 1.5, "fill_opacity": 0.9, "dash_array": None},
    "host": {"radius": 10, "weight": 3, "fill_opacity": 0.95, "dash_array": None},
    "dispose": {"radius": 7, "weight": 3, "fill_opacity": 0.9, "dash_array": "4 3"},
}
HOST_RING = "#1a1a1a"
RETAIN_RING = "#ffffff"
DISPOSE_FILL = "#ffffff"


def building_style(decision: str, colour: str) -> dict[str, Any]:
    """Leaflet path options of a building marker: its decision's shape, its agency's colour."""
    style = DECISION_STYLE[decision]
    ring = {"retain": RETAIN_RING, "host": HOST_RING, "dispose": colour}[decision]
    return {
        "radius": style["radius"],
        "color": ring,
        "weight": style["weight"],
        "fill": True,
        "fillColor": DISPOSE_FILL if decision == "dispose" else colour,
        "fillOpacity": style["fill_opacity"],
        "dashArray": style["dash_array"],
        "className": f"estate-building estate-{decision}",
    }


DECISION_LABEL = {
    "retain": "Retain",
    "host": "Retain and host services moving in",
    "dispose": "Dispose / exit",
}
# Change in minutes (after - before) -> fill colour; diverging, red = further away.
ACCESS_BINS: tuple[tuple[float, str, str], ...] = (
    (-2.0, "#2166ac", "2+ min nearer"),
    (-0.05, "#92c5de", "up to 2 min nearer"),
    (0.05, "#f7f7f7", "no change"),
    (2.0, "#fddbc7", "up to 2 min further"),
    (5.0, "#f4a582", "2–5 min further"),
    (10.0, "#d6604d", "5–10 min further"),
    (np.inf, "#b2182b", "10+ min further"),
)
UNREACHABLE_COLOUR = "#404040"
ROAD_STYLE: dict[str, tuple[str, float]] = {
    "motorway": ("#e07b39", 3.5),
    "trunk": ("#e0a339", 3.0),
    "primary": ("#d9b44a", 2.6),
    "secondary": ("#c9c36a", 2.2),
    "tertiary": ("#a8a8a8", 1.8),
}
MINOR_ROAD = ("#bdbdbd", 1.0)
BACKGROUND = "#f2efe9"
MOVES_SHOWN_MAX = 200  # more moves than this: their layer starts off


def agency_colours(agencies: list[str]) -> dict[str, str]:
    return {a: AGENCY_COLOURS[i % len(AGENCY_COLOURS)] for i, a in enumerate(sorted(agencies))}


def _e(value: Any) -> str:
    return html_text(value)


_money = gbp  # one money format everywhere (estate.money)


def _ll(lat: float, lon: float) -> list[float]:
    return [round(float(lat), COORD_DP), round(float(lon), COORD_DP)]


def pick_service_type(folder: RunFolder, service_type: str | None) -> str | None:
    """The access layer shown first: the one asked for, else the one that changes most."""
    from estate.errors import SettingsError

    types = sorted(folder.access["service_type"].unique())
    if service_type is not None:
        hidden = folder.redaction.access_withheld if folder.redaction is not None else ()
        if service_type in hidden:
            raise SettingsError(
                f"service type {service_type!r}: minutes per zone are not published, because "
                "a withheld site provides it (they would place the site); choose one of: "
                f"{', '.join(types) or '(none)'}"
            )
        if service_type not in types:
            raise SettingsError(
                f"service type {service_type!r} has no access standard in this run; "
                f"choose one of: {', '.join(types) or '(none)'}"
            )
        return service_type
    if not types:
        return None
    a = folder.access
    change = (a["minutes_after"] - a["minutes_before"]).fillna(60.0) * a["population"]
    worst = change.groupby(a["service_type"]).sum().sort_index()
    return str(worst.idxmax()) if worst.max() > 0 else types[0]


def decision_map(
    folder: RunFolder, basemap: Basemap = "roads", service_type: str | None = None
) -> folium.Map:
    """The Folium map of a run folder (private, or redacted by :mod:`scenarios.publish`)."""
    chosen = pick_service_type(folder, service_type)
    shown = folder.buildings.loc[~_withheld(folder.buildings)]
    colours = agency_colours(
        sorted(set(folder.buildings["agency"]) | set(folder.agencies["agency"]))
    )
    points = pd.concat(
        [shown[["lat", "lon"]], folder.zones[["lat", "lon"]]], ignore_index=True
    ).dropna()
    fmap = new_map(points["lat"], points["lon"])
    groups: list[Group] = []
    if folder.network is not None:
        groups.append(_roads_layer(folder, show=basemap == "roads"))
    groups.extend(_access_layers(folder, chosen))
    groups.extend(_catchment_layers(folder, colours))
    combos = _building_layers(groups, folder, shown, colours)
    groups.append(_moves_layer(folder, colours))
    MapLayers(
        groups,
        tiles_name="OpenStreetMap tiles (online)" if basemap == "tiles" else None,
        combos=combos,
        bounds=bounds_of(points["lat"], points["lon"]),
        choice_heading="Zones shaded by (choose one)",
        overlay_heading="Show",
    ).add_to(fmap)
    add_panel(fmap, _title_box(folder, basemap))
    add_panel(fmap, _legend(colours, folder, _choice_name(folder, chosen)))
    return fmap


def _withheld(buildings: pd.DataFrame) -> pd.Series:
    if "withheld" in buildings.columns:
        return buildings["withheld"].astype(bool)
    return pd.Series(False, index=buildings.index)


def _roads_layer(folder: RunFolder, show: bool) -> Group:
    """The run's road network as vector lines, one polyline set per road class."""
    assert folder.network is not None
    return roads_layer(folder.network, show, "Roads (the run's network)")


def roads_layer(network: RoadNetwork, show: bool, name: str) -> Group:
    """A road network as vector lines, one polyline set per road class."""
    nodes = network.nodes.set_index("node_id")
    edges = network.edges
    pair = np.sort(edges[["u", "v"]].to_numpy(dtype=np.int64), axis=1)
    edges = edges.assign(a=pair[:, 0], b=pair[:, 1]).drop_duplicates(["a", "b"])
    lon, lat = bng_to_lonlat(nodes["x"].to_numpy(), nodes["y"].to_numpy())
    where = dict(
        zip(
            nodes.index,
            zip(np.round(lat, COORD_DP), np.round(lon, COORD_DP), strict=True),
            strict=True,
        )
    )
    group = Group(name, show=show)
    edges = edges.assign(style=edges["highway"].astype(str).map(_road_class))
    for style, part in sorted(edges.groupby("style"), key=lambda kv: ROAD_ORDER.index(kv[0])):
        colour, weight = ROAD_STYLE.get(style, MINOR_ROAD)
        lines = [
            [list(where[u]), list(where[v])]
            for u, v in zip(part["a"], part["b"], strict=True)
            if u in where and v in where
        ]
        if lines:
            style = {"color": colour, "weight": weight, "opacity": 0.9, "interactive": False}
            group.items.append(shape("polyline", lines, style))
    return group


ROAD_ORDER = ["minor", "tertiary", "secondary", "primary", "trunk", "motorway"]


def _road_class(highway: str) -> str:
    base = highway.removesuffix("_link")
    return base if base in ROAD_STYLE else "minor"


def zone_cells(zones: pd.DataFrame) -> list[list[list[float]]]:
    """A polygon (lat/lon ring) around each zone's point: its Voronoi cell
    (:func:`geodata.cells.zone_polygons`, as the GeoPackage draws it)."""
    rings = []
    for poly in zone_polygons(zones):
        x, y = np.asarray(poly.exterior.coords).T
        lon, lat = bng_to_lonlat(x, y)
        rings.append([_ll(a, o) for a, o in zip(lat, lon, strict=True)])
    return rings


def access_colour(change_minutes: float) -> str:
    if pd.isna(change_minutes):
        return UNREACHABLE_COLOUR
    for upper, colour, _ in ACCESS_BINS:
        if change_minutes < upper:
            return colour
    return ACCESS_BINS[-1][1]


def _minutes(value: float) -> str:
    return "unreachable" if pd.isna(value) else f"{value:.1f} min"


def _access_layers(folder: RunFolder, chosen: str | None) -> list[Group]:
    zones = folder.zones.reset_index(drop=True)
    rings = dict(zip(zones["zone_id"], zone_cells(zones), strict=True))
    names = dict(zip(zones["zone_id"], zones["name"], strict=True))
    layers = []
    shown = False
    for (service_type, _mode), rows in folder.access.groupby(["service_type", "mode"], sort=True):
        first = service_type == chosen and not shown
        shown = shown or first
        group = Group(
            _access_name(str(service_type), rows),
            show=first,
            choice=True,
        )
        for r in rows.itertuples():
            change = r.minutes_after - r.minutes_before
            lost = bool(r.within_before) and not bool(r.within_after)
            rise = getattr(r, "max_increase_minutes", np.nan)
            lost = lost or bool(pd.notna(rise) and pd.notna(change) and change > rise + 1e-3)
            style = {
                "color": "#b2182b" if lost else "#777777",
                "weight": 3 if lost else 0.6,
                "fill": True,
                "fillColor": access_colour(change),
                "fillOpacity": 0.45,
                "className": "estate-zone",
            }
            popup_html = _zone_popup(r, str(names[r.zone_id]), lost)
            group.items.append(shape("polygon", rings[r.zone_id], style, popup_html))
        layers.append(group)
    if layers:
        layers.append(Group(NO_SHADING, show=chosen is None, choice=True))
    return layers


NO_SHADING = "None (buildings only)"


def _access_name(service_type: str, rows: pd.DataFrame) -> str:
    """The name of an access layer (one service type by one mode), as the layer control
    and the legend show it."""
    mode = rows["mode"].iloc[0]
    limit = rows["max_minutes"].iloc[0]
    rise = rows["max_increase_minutes"].iloc[0] if "max_increase_minutes" in rows else np.nan
    rule = [f"within {limit:g} min"] if pd.notna(limit) else []
    if pd.notna(rise):
        rule.append(f"no zone +{rise:g} min" if rise else "no zone further than today")
    return f"Access change: {service_type} ({mode}; {', '.join(rule) or 'no standard'})"


def _choice_name(folder: RunFolder, chosen: str | None) -> str:
    """The access layer the map opens with (the chosen type by its first mode), named as
    the layer control names it."""
    rows = folder.access.loc[folder.access["service_type"] == chosen]
    if chosen is None or rows.empty:
        return NO_SHADING
    first = sorted(rows["mode"].unique())[0]
    return _access_name(str(chosen), rows.loc[rows["mode"] == first])


def _zone_popup(r: Any, name: str, lost: bool) -> str:
    change = r.minutes_after - r.minutes_before
    verdict = "loses access within the standard" if lost else ""
    lines = [
        f"<b>{_e(name)}</b> ({_e(r.zone_id)}), population {r.population:,.0f}",
        f"Nearest {_e(r.service_type)} ({_e(r.mode)}): {_e(_minutes(r.minutes_before))} now, "
        f"{_e(_minutes(r.minutes_after))} after"
        + ("" if pd.isna(change) else f" ({change:+.1f} min)"),
    ]
    if pd.notna(r.max_minutes):
        lines.append(
            f"Standard: {r.max_minutes:g} min — within now: {'yes' if r.within_before else 'no'}, "
            f"after: {'yes' if r.within_after else 'no'}"
        )
    rise = getattr(r, "max_increase_minutes", np.nan)
    if pd.notna(rise):
        lines.append(f"Standard: at most {rise:g} min further than today")
    if verdict:
        lines.append(f"<b style='color:#b2182b'>{verdict}</b>")
    return "<br>".join(lines)


def _catchment_layers(folder: RunFolder, colours: dict[str, str]) -> list[Group]:
    table = folder.catchments if folder.catchments is not None else catchments(folder)
    if table is None or not len(table):
        return []
    zones = folder.zones.set_index("zone_id")
    b = folder.buildings.set_index("building_id")
    withheld = _withheld(folder.buildings).to_numpy()
    hidden = set(folder.buildings["building_id"].to_numpy()[withheld])
    layers = []
    for service_type, rows in table.groupby("service_type", sort=True):
        group = Group(f"Catchment after: {service_type} (zone → nearest)", show=False)
        for r in rows.itertuples():
            if r.building_id in hidden or r.building_id not in b.index:
                continue
            home = b.loc[r.building_id]
            style = {
                "color": colours.get(str(home["agency"]), "#333333"),
                "weight": 1.2,
                "opacity": 0.7,
                "className": "estate-catchment",
            }
            latlngs = [
                _ll(zones.at[r.zone_id, "lat"], zones.at[r.zone_id, "lon"]),
                _ll(home["lat"], home["lon"]),
            ]
            text = f"{r.zone_id} → {home['name']}: {_minutes(r.minutes)}"
            group.items.append(shape("polyline", latlngs, style, tooltip=text))
        layers.append(group)
    return layers


def _building_layers(
    groups: list[Group], folder: RunFolder, shown: pd.DataFrame, colours: dict[str, str]
) -> list[tuple[int, list[int]]]:
    """One hidden group per (agency, decision), shown while both its toggles are ticked.

    Appends the toggles and the combined groups to ``groups``; returns the combinations
    as indexes into ``groups`` (see :class:`scenarios.mappage.MapLayers`).
    """
    moves = folder.moves
    names = dict(zip(folder.buildings["building_id"], folder.buildings["name"], strict=True))
    agency_toggles = {}
    for a in sorted(colours):
        agency_toggles[a] = len(groups)
        groups.append(Group(f"Agency: {a}"))
    decision_toggles = {}
    for d in DECISIONS:
        decision_toggles[d] = len(groups)
        groups.append(Group(f"Decision: {DECISION_LABEL[d]}"))
    combos: dict[tuple[str, str], Group] = {}
    for row in shown.sort_values("building_id").itertuples():
        key = (str(row.agency), str(row.decision))
        if key not in combos:
            combos[key] = Group(f"{key[0]} {key[1]}", control=False)
        path = building_style(key[1], colours[key[0]])
        moves_in = moves.loc[moves["to_building"] == row.building_id]
        moves_out = moves.loc[moves["from_building"] == row.building_id]
        combos[key].items.append(
            circle(
                _ll(row.lat, row.lon),
                path,
                _building_popup(row, moves_in, moves_out, names),
                f"{row.name} — {DECISION_LABEL[key[1]]}",
                spread=True,
            )
        )
    pairs = []
    for (agency, decision), group in sorted(combos.items()):
        pairs.append((len(groups), [agency_toggles[agency], decision_toggles[decision]]))
        groups.append(group)
    return pairs


def _building_popup(
    row: Any, moves_in: pd.DataFrame, moves_out: pd.DataFrame, names: dict[str, str]
) -> str:
    lines = [
        f"<b>{_e(row.name)}</b> ({_e(row.building_id)})",
        f"Agency: {_e(row.agency)}",
        f"Decision: <b>{_e(DECISION_LABEL[str(row.decision)])}</b>",
        f"Tenure: {_e(row.tenure)}",
        f"Running cost: {_money(row.running_cost_gbp)} a year",
        f"Backlog: {_money(row.backlog_cost_gbp)}",
        f"Desks: {row.desks_before:g} now, {row.desks_after:g} after"
        f" (capacity {row.capacity_desks:g})",
    ]
    if row.decision == "dispose":
        saving = getattr(row, "annual_saving_gbp", np.nan)
        if pd.notna(saving):
            lines.append(
                f"<b>Saves {_money(saving)} a year</b> once gone "
                f"({_money(row.npv_saving_gbp)} over the appraisal, after moving its services)"
            )
        price = getattr(row, "price_of_keeping_gbp", np.nan)
        if pd.notna(price):
            low = getattr(row, "price_of_keeping_low_gbp", np.nan)
            high = getattr(row, "price_of_keeping_high_gbp", np.nan)
            spread = (
                f" ({_money(low)} to {_money(high)} within the solvers' gaps)"
                if pd.notna(low) and pd.notna(high) and high - low >= 0.5
                else ""
            )
            lines.append(f"Price of keeping it: {_money(price)} of NPV saving given up{spread}")
        change = getattr(row, "access_change", "")
        if isinstance(change, str) and change:
            lines.append(f"People it served as their nearest: {_e(change)}")
        if row.capital_receipt_gbp:
            lines.append(
                f"Net receipt: {_money(row.capital_receipt_gbp)} in year {row.exit_year:g}"
            )
        if row.dilapidations_gbp:
            lines.append(f"Dilapidations: {_money(row.dilapidations_gbp)}")
        lines.append(f"Exit in year {row.exit_year:g}")
    estimated = describe_estimated(getattr(row, "estimated", ""))
    if estimated:
        lines.append(f"<i>Estimated, not the body's figures: {_e(estimated)}</i>")
    if bool(getattr(row, "sensitive", False)):
        lines.append("<b style='color:#b2182b'>Sensitive site: never publish its location</b>")
    for label, frame, other in (
        ("Moving in", moves_in, "from_building"),
        ("Moving out", moves_out, "to_building"),
    ):
        if len(frame):
            items = "".join(
                f"<li>{_e(m['name'])} ({m['desks']:g} desks) "
                f"{'from' if other == 'from_building' else 'to'} "
                f"{_e(names.get(m[other], m[other]))}{_when(m)}</li>"
                for _, m in frame.iterrows()
            )
            lines.append(f"{label}:<ul style='margin:2px 0 2px 16px;padding:0'>{items}</ul>")
    return "<br>".join(lines)


def _when(move: pd.Series) -> str:
    """``, year 2, 348 m2 of library fitted out`` for a move read from moves.csv."""
    text = ""
    year = str(move.get("year", "")).strip()
    if year and year != "1":
        text += f", year {_e(year)}"
    fitted = str(move.get("fitted_out_from", "")).strip()
    if fitted:
        text += (
            f", {_e(move.get('floor_m2', ''))} m² of {_e(move.get('space_type', ''))} fitted out"
        )
    return text


def _moves_layer(folder: RunFolder, colours: dict[str, str]) -> Group:
    b = folder.buildings.set_index("building_id")
    withheld = set(folder.buildings.loc[_withheld(folder.buildings), "building_id"])
    # Hundreds of arrows hide the buildings: then they start off, a tick away.
    group = Group("Service moves (arrows)", show=len(folder.moves) <= MOVES_SHOWN_MAX)
    for m in folder.moves.sort_values("service_id").itertuples():
        if m.from_building in withheld or m.to_building in withheld:
            continue
        start, end = b.loc[m.from_building], b.loc[m.to_building]
        colour = colours.get(str(m.agency), "#333333")
        style = {
            "color": colour,
            "weight": 2 + float(np.sqrt(m.desks)) / 2,
            "opacity": 0.8,
            "className": "estate-move",
        }
        text = f"{m.name}: {m.desks:g} desks, {start['name']} → {end['name']}"
        latlngs = [_ll(start["lat"], start["lon"]), _ll(end["lat"], end["lon"])]
        group.items.append(shape("polyline", latlngs, style, tooltip=text))
        group.items.append(_arrowhead(start, end, colour, text))
    return group


def _arrowhead(start: pd.Series, end: pd.Series, colour: str, text: str) -> dict[str, Any]:
    """A triangle two thirds of the way along, pointing at the destination (grid bearing)."""
    dx = float(end["easting"] - start["easting"])
    dy = float(end["northing"] - start["northing"])
    angle = float(np.degrees(np.arctan2(-dy, dx)))  # screen y grows downwards
    lat = start["lat"] + (end["lat"] - start["lat"]) * 2 / 3
    lon = start["lon"] + (end["lon"] - start["lon"]) * 2 / 3
    return arrow(_ll(lat, lon), angle, colour, 16, tooltip=text)


def _title_box(folder: RunFolder, basemap: Basemap) -> str:
    s = folder.summary
    figures = [
        ("NPV saving", _money(s.get("npv_saving", np.nan))),
        ("Annual revenue saving", _money(s.get("annual_revenue_saving", np.nan))),
        ("Capital receipts", _money(s.get("capital_receipts", np.nan))),
        ("One-off costs", _money(s.get("one_off_costs", np.nan))),
        ("Payback year", str(s.get("payback_year") or "—")),
        ("Buildings disposed", f"{s.get('buildings', {}).get('disposed', '—')}"),
        ("Services moved", f"{s.get('services_moved', '—')}"),
    ]
    rows = "".join(
        f"<tr><td>{_e(k)}</td><td class='estate-number' "
        f"style='text-align:right;padding-left:12px'>{_e(v)}</td></tr>"
        for k, v in figures
    )
    notes = []
    if folder.notice:
        notes.append(f"<p style='color:#b00;margin:4px 0'>{_e(folder.notice)}</p>")
    if folder.redaction is not None:
        notes.append(
            "<p class='estate-withheld' style='color:#b00;margin:4px 0'>"
            f"<b>{_e(folder.redaction.note)}</b></p>"
        )
    if solver_failure(s):
        notes.append(f"<p style='color:#b00;margin:4px 0'>{_e(solver_failure(s))}</p>")
    status = f"{s.get('status', '?')}" + (
        f", gap {s['gap']:.2%}" if isinstance(s.get("gap"), int | float) else ""
    )
    base = {
        "roads": "basemap: the run's road network (works offline)",
        "tiles": "basemap: OpenStreetMap tiles (needs internet)",
    }[basemap]
    if basemap == "roads" and folder.network is None:
        base = "no road network in this run: no basemap"
    return (
        "<div id='estate-title' class='estate-panel' style='font-size:13px'>"
        f"<b>{_e(folder.scenario)}</b>{''.join(notes)}<table>{rows}</table>"
        f"<div style='color:#555;font-size:11px'>Solver status {_e(status)}; {_e(base)}; "
        f"Leaflet {_e(leaflet_version())} inlined</div></div>"
    )


def _swatch(decision: str, colour: str) -> str:
    """A legend's picture of a building marker, drawn with the marker's own style."""
    style = building_style(decision, colour)
    r = style["radius"]
    size = 2 * r + 2 * style["weight"] + 2
    dash = f" stroke-dasharray='{style['dashArray']}'" if style["dashArray"] else ""
    return (
        f"<svg width='{size}' height='{size}' style='vertical-align:middle;margin-right:6px'>"
        f"<circle cx='{size / 2:g}' cy='{size / 2:g}' r='{r}' fill='{style['fillColor']}' "
        f"fill-opacity='{style['fillOpacity']}' stroke='{style['color']}' "
        f"stroke-width='{style['weight']}'{dash}/></svg>"
    )


def _legend(colours: dict[str, str], folder: RunFolder, active: str) -> str:
    """The legend; ``active`` names the access layer the map opens with (the drawing
    script renames it when another is chosen in the layer control)."""
    dot = "display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:6px"
    agencies = "".join(
        f"<div><span style='{dot};background:{c}'></span>{_e(a)}</div>" for a, c in colours.items()
    )
    decisions = "".join(
        f"<div>{_swatch(d, LEGEND_GREY)}{_e(DECISION_LABEL[d])}</div>" for d in DECISIONS
    )
    box = "display:inline-block;width:12px;height:10px;margin-right:6px;border:1px solid #999"
    access = "".join(
        f"<div><span style='{box};background:{c}'></span>{_e(label)}</div>"
        for _, c, label in ACCESS_BINS
    )
    return (
        "<div id='estate-legend' class='estate-panel'>"
        f"<b>Agency</b>{agencies}<b>Decision</b> (in the agency's colour){decisions}"
        "<div>▶ service move</div><div>Buildings that would overlap are set apart, each on "
        "a thin line to where it is; many in one place are one numbered circle (click to "
        "zoom in).</div>"
        f"<b>Zones: <span id='estate-active-choice'>{_e(active)}</span></b>"
        "<div style='display:grid;grid-template-columns:1fr 1fr;column-gap:8px'>"
        f"{access}<div><span style='{box};background:{UNREACHABLE_COLOUR}'></span>"
        "unreachable after</div></div>"
        "<div>red outline: zone loses access within the standard</div>"
        "<div style='color:#555;font-size:11px'>Choose the zones' layer in the layer control "
        "(top right). Zone areas are Voronoi cells around zone centroids.</div></div>"
    )


LEGEND_GREY = "#777777"


_ID = re.compile(r"_([0-9a-f]{32})(?![0-9a-f])")
_EXTERNAL = re.compile(r"<(script|link)\b[^>]*\b(src|href)\s*=", re.IGNORECASE)


def render_map(
    folder: RunFolder, basemap: Basemap = "roads", service_type: str | None = None
) -> str:
    """The map as one self-contained HTML page, byte-identical for the same folder."""
    return standalone_page(decision_map(folder, basemap, service_type))


def standalone_page(fmap: folium.Map) -> str:
    """A Folium map as one self-contained page: Leaflet inlined, no external script or
    stylesheet (the map must drop Folium's ``default_js``/``default_css``), element ids
    numbered in order so the same map gives the same bytes."""
    root: Any = fmap.get_root()
    add_head(fmap, leaflet_head(), "leaflet_inline")
    add_head(
        fmap,
        f"<style>.leaflet-container{{background:{BACKGROUND}}}"
        ".leaflet-control-layers{font:12px/1.35 sans-serif}</style>" + PANEL_CSS,
        "estate_background",
    )
    page = root.render()
    if _EXTERNAL.search(page):
        raise AssetError("the map still links an external script or stylesheet")
    ids: dict[str, str] = {}

    def stable(match: re.Match[str]) -> str:
        return "_" + ids.setdefault(match.group(1), f"{len(ids):06d}")

    return _ID.sub(stable, page)


def write_map(
    folder: RunFolder,
    path: str | Path,
    basemap: Basemap = "roads",
    service_type: str | None = None,
) -> Path:
    """Write ``map.html`` atomically."""
    return write_text(path, render_map(folder, basemap, service_type))
