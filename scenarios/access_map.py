"""The access map (``map.html`` of ``estate access``): minutes from each zone to the
nearest building of each service type.

Zones are drawn as cells around their population-weighted centroids (as on the decision
map), one layer per service type, coloured by minutes to the nearest building; buildings
are dots (sensitive ones are not drawn).  The page is self-contained like the decision
map: Leaflet inlined, the road network as a vector basemap with ``basemap="roads"``, or
OpenStreetMap tiles (fetched by the browser when online) with ``basemap="tiles"``.
Straight-line estimates say ESTIMATE in the title and in every layer's name.
"""

from __future__ import annotations

import html
from pathlib import Path

import folium
import numpy as np

from estate.coords import bng_to_lonlat
from estate.io import write_text
from estate.register import Register
from geodata.access import share_column
from geodata.access_report import AccessInputs, AccessReport
from scenarios.mappage import Group, MapLayers, add_panel, bounds_of, circle, new_map, shape
from scenarios.maps import Basemap, roads_layer, standalone_page, zone_cells

# Minutes to the nearest building (upper bound) -> fill colour and legend text.
BANDS: tuple[tuple[float, str, str], ...] = (
    (10.0, "#1a9850", "up to 10 min"),
    (15.0, "#91cf60", "10–15 min"),
    (20.0, "#fee08b", "15–20 min"),
    (30.0, "#fc8d59", "20–30 min"),
    (np.inf, "#d73027", "over 30 min"),
)
UNREACHED = ("#777777", "none within the cutoff")


def band_colour(minutes: float) -> str:
    """The fill colour of a zone ``minutes`` from its nearest building."""
    if not np.isfinite(minutes):
        return UNREACHED[0]
    return next(colour for upper, colour, _ in BANDS if minutes <= upper)


def _label(report: AccessReport) -> str:
    return " (ESTIMATE)" if report.is_estimate else ""


def _zone_layers(report: AccessReport, inputs: AccessInputs) -> list[Group]:
    zones = inputs.zones.zones.reset_index(drop=True)
    rings = dict(zip(zones["zone_id"].astype(str), zone_cells(zones), strict=True))
    names = dict(zip(zones["zone_id"].astype(str), zones["name"].astype(str), strict=True))
    people = dict(zip(zones["zone_id"].astype(str), zones["population"], strict=True))
    layers = []
    for i, (service_type, rows) in enumerate(report.nearest.groupby("service_type", sort=True)):
        group = Group(
            f"Minutes to nearest {service_type}{_label(report)}", show=i == 0, choice=True
        )
        for r in rows.itertuples():
            zone = str(r.zone_id)
            minutes = float(r.minutes_to_nearest)
            shown = f"{minutes:.1f} min" if np.isfinite(minutes) else UNREACHED[1]
            text = (
                f"{names[zone] or zone} ({zone}), {people[zone]:,.0f} people: {shown} to the "
                f"nearest {service_type}{_label(report)}"
            )
            style = {
                "color": "#555555",
                "weight": 0.6,
                "fill": True,
                "fillColor": band_colour(minutes),
                "fillOpacity": 0.55,
            }
            group.items.append(shape("polygon", rings[zone], style, tooltip=text))
        layers.append(group)
    return layers


def _building_layer(register: Register) -> tuple[Group, int]:
    buildings = register.buildings
    hidden = buildings["sensitive"].astype(bool)
    shown = buildings.loc[~hidden]
    types = register.services.groupby("building_id")["service_type"].agg(
        lambda s: ", ".join(sorted(set(map(str, s))))
    )
    lon, lat = bng_to_lonlat(shown["easting"].to_numpy(), shown["northing"].to_numpy())
    group = Group("Buildings")
    style = {
        "radius": 6,
        "color": "#000000",
        "weight": 1.5,
        "fill": True,
        "fillColor": "#2b6cb0",
        "fillOpacity": 0.95,
        "className": "estate-building",
    }
    for b, a, o in zip(shown.itertuples(), lat, lon, strict=True):
        text = f"{b.name} ({b.building_id}): {types.get(b.building_id, 'no services')}"
        group.items.append(circle([round(float(a), 6), round(float(o), 6)], style, tooltip=text))
    return group, int(hidden.sum())


def _title(report: AccessReport, inputs: AccessInputs, withheld: int) -> str:
    e = html.escape
    warning = (
        "<p style='color:#b00;margin:4px 0'><b>ESTIMATE</b>: straight-line distance, no "
        "road network. These are not road travel times.</p>"
        if report.is_estimate
        else ""
    )
    heads = "".join(f"<th>≤{t:g} min</th>" for t in inputs.thresholds)
    rows = "".join(
        f"<tr><td>{e(str(r['service_type']))}</td>"
        + "".join(
            f"<td style='text-align:right'>{r[share_column(t)]:.0%}</td>" for t in inputs.thresholds
        )
        + "</tr>"
        for r in report.coverage.to_dict(orient="records")
    )
    hidden = f"<div>{withheld} sensitive site(s) not drawn.</div>" if withheld else ""
    return (
        "<div class='estate-panel' style='font-size:13px'>"
        f"<b>Access by {e(inputs.mode)}</b>{warning}"
        f"<div>{e(report.table.note)}</div>{hidden}"
        f"<table><tr><th>share of people within</th>{heads}</tr>{rows}</table></div>"
    )


def _legend(active: str) -> str:
    """The legend; ``active`` names the layer the map opens with (the drawing script
    renames it when another is chosen in the layer control)."""
    entries = [(colour, text) for _, colour, text in BANDS] + [UNREACHED]
    items = "".join(
        f"<div><span style='display:inline-block;width:12px;height:12px;"
        f"background:{c};margin-right:6px'></span>{html.escape(t)}</div>"
        for c, t in entries
    )
    return (
        "<div class='estate-panel'>"
        f"<b id='estate-active-choice'>{html.escape(active)}</b>{items}<div>● building</div>"
        "<div style='color:#555;font-size:11px'>Choose the service type in the layer "
        "control (top right).</div></div>"
    )


def access_map(
    report: AccessReport, inputs: AccessInputs, basemap: Basemap = "tiles"
) -> folium.Map:
    """The Folium map of an access report."""
    zones = inputs.zones.zones
    lon, lat = bng_to_lonlat(zones["easting"].to_numpy(), zones["northing"].to_numpy())
    fmap = new_map(lat, lon, zoom_start=11)
    groups: list[Group] = []
    if inputs.network is not None:
        groups.append(roads_layer(inputs.network, basemap == "roads", "Roads (the network used)"))
    zone_layers = _zone_layers(report, inputs)
    groups.extend(zone_layers)
    buildings, withheld = _building_layer(inputs.register)
    groups.append(buildings)
    tiles = "OpenStreetMap tiles (online)" if basemap == "tiles" else None
    MapLayers(
        groups,
        tiles_name=tiles,
        bounds=bounds_of(lat, lon),
        choice_heading="Zones shaded by (choose one)",
        overlay_heading="Show",
    ).add_to(fmap)
    add_panel(fmap, _title(report, inputs, withheld))
    active = next((g.name for g in zone_layers if g.show), "")
    add_panel(fmap, _legend(active))
    return fmap


def write_access_map(
    report: AccessReport,
    inputs: AccessInputs,
    out_dir: str | Path,
    basemap: Basemap = "tiles",
) -> AccessReport:
    """Write ``map.html`` into the report folder; returns the report with it listed."""
    path = write_text(
        Path(out_dir) / "map.html", standalone_page(access_map(report, inputs, basemap))
    )
    return AccessReport(
        report.table,
        report.nearest,
        report.coverage,
        report.cache_hit,
        report.summary,
        (*report.files, path),
    )
