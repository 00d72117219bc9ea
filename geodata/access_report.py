"""The ``estate access`` report: travel-time matrix, coverage per service type, and a map.

A report folder holds:

- ``travel_times.parquet``: the sparse long table (``zone_id``, ``building_id``,
  ``minutes``) of every pair within the cutoff; its schema metadata says the mode and
  whether the times are road times or straight-line estimates;
- ``coverage.csv``: per service type, the share of the population within each
  threshold and the population-weighted mean minutes to the nearest building;
- ``nearest.csv``: per zone and service type, minutes to the nearest building;
- ``access.json``: what was computed, from what, and the coverage, for scripts;
- ``map.html``: zones coloured by minutes to the nearest building of each type.

CSV, JSON and parquet outputs are identical for identical inputs; files are written
atomically.  Estimated times say ``ESTIMATE`` in every one of them.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd

from estate.coords import bng_to_lonlat
from estate.io import write_csv, write_json, write_text
from estate.register import Register
from geodata.access import DEFAULT_THRESHOLDS, coverage, hosts_by_type, nearest
from geodata.cache import points_hash, travel_table, write_long_parquet
from geodata.network import Mode, RoadNetwork
from geodata.traveltime import TravelTable
from geodata.zones import LoadedZones, points

Progress = Callable[[str], None]
DEFAULT_CUTOFF_MINUTES = 60.0
# Colour bands of the map, minutes (upper bounds) -> colour.
BANDS: tuple[tuple[float, str], ...] = (
    (10.0, "#1a9850"),
    (15.0, "#91cf60"),
    (20.0, "#fee08b"),
    (30.0, "#fc8d59"),
    (float("inf"), "#d73027"),
)
UNREACHED_COLOUR = "#777777"


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class AccessInputs:
    """Everything one access report needs."""

    register: Register
    zones: LoadedZones
    network: RoadNetwork | None
    mode: Mode = "drive"
    cutoff_minutes: float | None = DEFAULT_CUTOFF_MINUTES
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    use_cache: bool = True
    network_source: str = ""


@dataclass(frozen=True)
class AccessReport:
    """A computed access report and the files written for it."""

    table: TravelTable
    nearest: pd.DataFrame
    coverage: pd.DataFrame
    cache_hit: bool
    summary: dict[str, Any]
    files: tuple[Path, ...] = field(default=())

    @property
    def is_estimate(self) -> bool:
        return self.table.method == "estimate"


def compute_access(inputs: AccessInputs, progress: Progress = _silent) -> AccessReport:
    """Travel times (from the cache when it has them), nearest minutes and coverage."""
    zones = inputs.zones.zones
    buildings = inputs.register.buildings
    origins = points(zones, "zone_id")
    destinations = points(buildings, "building_id")
    what = "road" if inputs.network is not None else "straight-line (ESTIMATE)"
    progress(
        f"{inputs.mode} {what} times: {len(origins):,} zones x {len(destinations):,} buildings"
    )
    cached = travel_table(
        inputs.network,
        origins,
        destinations,
        inputs.mode,
        inputs.cutoff_minutes,
        use_cache=inputs.use_cache,
    )
    progress("coverage")
    hosts = hosts_by_type(inputs.register.services)
    near = nearest(cached.table, list(origins["id"]), hosts)
    cover = coverage(near, zones, hosts, inputs.thresholds, inputs.cutoff_minutes)
    cover.insert(1, "mode", inputs.mode)
    cover.insert(2, "method", cached.table.method)
    summary = _summary(inputs, cached.table, cover, cached.key)
    return AccessReport(cached.table, near, cover, cached.hit, summary)


def _summary(
    inputs: AccessInputs, table: TravelTable, cover: pd.DataFrame, key: str
) -> dict[str, Any]:
    network = inputs.network
    doc: dict[str, Any] = {
        "mode": inputs.mode,
        "method": table.method,
        "note": table.note,
        "cutoff_minutes": inputs.cutoff_minutes,
        "thresholds_minutes": list(inputs.thresholds),
        "zones": {
            "source": inputs.zones.source,
            "count": len(inputs.zones.zones),
            "population": float(inputs.zones.zones["population"].sum()),
            "notes": list(inputs.zones.notes),
            "hash": points_hash(points(inputs.zones.zones, "zone_id")),
        },
        "buildings": {
            "count": len(inputs.register.buildings),
            "hash": points_hash(points(inputs.register.buildings, "building_id")),
        },
        "network": None,
        "pairs_within_cutoff": len(table.pairs),
        # Whether the cache served this run is not written: the file must not differ
        # between a first and a second run on the same inputs.
        "travel_times_key": key,
        "coverage": _records(cover),
    }
    if network is not None:
        doc["network"] = {
            "source": inputs.network_source or network.name,
            "nodes": len(network.nodes),
            "edges": len(network.edges),
            "notes": list(network.notes),
            "hash": network.content_hash(),
        }
    return doc


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for record in frame.to_dict(orient="records"):
        out.append(
            {
                k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in record.items()
            }
        )
    return out


def _rounded(frame: pd.DataFrame, digits: int) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(digits)
    return out


def write_access(report: AccessReport, inputs: AccessInputs, out_dir: str | Path) -> AccessReport:
    """Write the report folder; returns the report with its file list."""
    out = Path(out_dir)
    files = [write_long_parquet(report.table, out / "travel_times.parquet")]
    files.append(write_csv(out / "coverage.csv", _rounded(report.coverage, 6)))
    near = report.nearest.copy()
    near["minutes_to_nearest"] = near["minutes_to_nearest"].where(
        np.isfinite(near["minutes_to_nearest"])
    )
    near.insert(2, "method", report.table.method)
    files.append(write_csv(out / "nearest.csv", _rounded(near, 3)))
    files.append(write_json(out / "access.json", report.summary))
    fmap = access_map(report, inputs)
    files.append(write_text(out / "map.html", fmap.get_root().render()))
    return AccessReport(
        report.table,
        report.nearest,
        report.coverage,
        report.cache_hit,
        report.summary,
        tuple(files),
    )


def run_access(
    inputs: AccessInputs, out_dir: str | Path, progress: Progress = _silent
) -> AccessReport:
    """Compute the access report and write its folder."""
    report = compute_access(inputs, progress)
    progress("writing the report")
    return write_access(report, inputs, out_dir)


# ------------------------------------------------------------------------------- map


def band_colour(minutes: float) -> str:
    """The map colour of a zone ``minutes`` from its nearest building."""
    if not np.isfinite(minutes):
        return UNREACHED_COLOUR
    for upper, colour in BANDS:
        if minutes <= upper:
            return colour
    return BANDS[-1][1]


def _title(report: AccessReport, inputs: AccessInputs) -> str:
    e = html.escape
    estimate = report.is_estimate
    warning = (
        "<p style='color:#b00;margin:4px 0'><b>ESTIMATE</b>: straight-line distance, no "
        "road network. Not road travel times.</p>"
        if estimate
        else ""
    )
    rows = "".join(
        f"<tr><td>{e(str(r.service_type))}</td>"
        + "".join(
            f"<td style='text-align:right'>{getattr(r, f'share_within_{t:g}_min'):.0%}</td>"
            for t in inputs.thresholds
        )
        + "</tr>"
        for r in report.coverage.itertuples()
    )
    heads = "".join(f"<th>≤{t:g} min</th>" for t in inputs.thresholds)
    return (
        "<div style='position:fixed;top:10px;left:50px;z-index:9999;background:white;"
        "padding:8px 12px;border:1px solid #888;border-radius:4px;font:13px sans-serif;"
        f"max-width:460px'><b>Access by {e(inputs.mode)}</b>{warning}"
        f"<div>{e(report.table.note)}</div>"
        f"<table><tr><th>population within</th>{heads}</tr>{rows}</table></div>"
    )


def _legend() -> str:
    labels = []
    lower = 0.0
    for upper, colour in BANDS:
        text = f"over {lower:g} min" if not np.isfinite(upper) else f"{lower:g}–{upper:g} min"
        labels.append((colour, text))
        lower = upper
    labels.append((UNREACHED_COLOUR, "none within the cutoff"))
    items = "".join(
        f"<div><span style='display:inline-block;width:12px;height:12px;border-radius:6px;"
        f"background:{c};margin-right:6px'></span>{html.escape(t)}</div>"
        for c, t in labels
    )
    return (
        "<div style='position:fixed;bottom:20px;left:10px;z-index:9999;background:white;"
        "padding:8px 12px;border:1px solid #888;border-radius:4px;font:12px sans-serif'>"
        f"<b>Minutes to nearest</b>{items}<div>■ building (sensitive ones not shown)</div></div>"
    )


def access_map(report: AccessReport, inputs: AccessInputs) -> folium.Map:
    """Zones coloured by minutes to the nearest building, one layer per service type."""
    zones = inputs.zones.zones
    zlon, zlat = bng_to_lonlat(zones["easting"], zones["northing"])
    where = {
        str(z): (float(a), float(b)) for z, a, b in zip(zones["zone_id"], zlat, zlon, strict=True)
    }
    people = dict(zip(zones["zone_id"].astype(str), zones["population"].astype(float), strict=True))
    centre = [float(np.mean(zlat)), float(np.mean(zlon))]
    fmap = folium.Map(location=centre, zoom_start=11, tiles="OpenStreetMap", control_scale=True)
    label = " (ESTIMATE)" if report.is_estimate else ""
    for i, (service_type, rows) in enumerate(report.nearest.groupby("service_type", sort=True)):
        layer = folium.FeatureGroup(name=f"{service_type}{label}", show=i == 0)
        for r in rows.itertuples():
            minutes = float(r.minutes_to_nearest)
            shown = f"{minutes:.1f} min" if np.isfinite(minutes) else "none within the cutoff"
            tip = f"{r.zone_id}: {shown} to nearest {service_type}{label}"
            folium.CircleMarker(
                location=list(where[str(r.zone_id)]),
                radius=4 + float(np.sqrt(people[str(r.zone_id)])) / 8,
                color="#333",
                weight=1,
                fill=True,
                fill_color=band_colour(minutes),
                fill_opacity=0.85,
                tooltip=html.escape(tip),
            ).add_to(layer)
        layer.add_to(fmap)
    _building_layer(inputs.register).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    root: Any = fmap.get_root()
    root.html.add_child(folium.Element(_title(report, inputs)))
    root.html.add_child(folium.Element(_legend()))
    fmap.fit_bounds(
        [[float(np.min(zlat)), float(np.min(zlon))], [float(np.max(zlat)), float(np.max(zlon))]]
    )
    return fmap


def _building_layer(register: Register) -> folium.FeatureGroup:
    layer = folium.FeatureGroup(name="Buildings")
    buildings = register.buildings.loc[~register.buildings["sensitive"].astype(bool)]
    types = register.services.groupby("building_id")["service_type"].agg(
        lambda s: ", ".join(sorted(set(map(str, s))))
    )
    lon, lat = bng_to_lonlat(buildings["easting"], buildings["northing"])
    for b, a, o in zip(buildings.itertuples(), lat, lon, strict=True):
        text = f"{b.name} ({b.building_id}): {types.get(b.building_id, 'no services')}"
        folium.RegularPolygonMarker(
            location=[float(a), float(o)],
            number_of_sides=4,
            radius=6,
            color="#000",
            weight=1,
            fill=True,
            fill_color="#2b6cb0",
            fill_opacity=0.9,
            tooltip=html.escape(text),
        ).add_to(layer)
    return layer
