"""Tiny places worked by hand: a register, a road on a line, zones, and an OSM writer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from estate.coords import bng_to_lonlat

BASE = (480_000.0, 300_000.0)


def write_tiny_register(folder: Path) -> Path:
    """Buildings A (library) at x=0, B (library + gp) at x=2000, C (gp, sensitive) at
    x=6000, all on y=0 relative to :data:`BASE`; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    buildings = pd.DataFrame(
        {
            "building_id": ["A", "B", "C"],
            "agency": ["council", "council", "nhs"],
            "name": ["Alpha", "Beta", "Gamma"],
            "easting": [BASE[0], BASE[0] + 2000, BASE[0] + 6000],
            "northing": [BASE[1]] * 3,
            "capacity_desks": [10, 10, 10],
            "running_cost": [1000, 1000, 1000],
            "sensitive": ["no", "no", "yes"],
        }
    )
    services = pd.DataFrame(
        {
            "service_id": ["s1", "s2", "s3", "s4"],
            "agency": ["council", "council", "nhs", "nhs"],
            "building_id": ["A", "B", "B", "C"],
            "desks": [1, 1, 1, 1],
            "service_type": ["library", "library", "gp", "gp"],
            "public_facing": ["yes"] * 4,
        }
    )
    buildings.to_csv(folder / "buildings.csv", index=False)
    services.to_csv(folder / "services.csv", index=False)
    return folder


def write_osm(
    path: Path,
    nodes: dict[int, tuple[float, float]],
    ways: list[tuple[int, list[int], dict[str, str]]],
) -> Path:
    """An OpenStreetMap XML file of ``nodes`` (EPSG:27700 metres) and ``ways``."""
    ids = list(nodes)
    lon, lat = bng_to_lonlat([nodes[i][0] for i in ids], [nodes[i][1] for i in ids])
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='test'>"]
    for node, a, b in zip(ids, lon, lat, strict=True):
        lines.append(f"  <node id='{node}' version='1' lat='{b:.9f}' lon='{a:.9f}'/>")
    for way_id, refs, tags in ways:
        lines.append(f"  <way id='{way_id}' version='1'>")
        lines += [f"    <nd ref='{r}'/>" for r in refs]
        lines += [f"    <tag k='{k}' v='{v}'/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_line_road(path: Path) -> Path:
    """A two-way residential road (30 km/h: 2 minutes a km) along y = 0 from x = -2 km
    to x = 8 km relative to :data:`BASE`, a node every kilometre."""
    nodes = {k: (BASE[0] + 1000.0 * (k - 3), BASE[1]) for k in range(1, 12)}
    return write_osm(path, nodes, [(1, list(nodes), {"highway": "residential"})])


def write_line_zones(path: Path) -> Path:
    """Zones on the line road at x = 0, 4 and 8 km with 100, 300 and 600 people."""
    lon, lat = bng_to_lonlat([BASE[0], BASE[0] + 4000, BASE[0] + 8000], [BASE[1], BASE[1], BASE[1]])
    frame = pd.DataFrame(
        {
            "zone_id": ["z1", "z2", "z3"],
            "name": ["West", "Middle", "East"],
            "population": [100, 300, 600],
            "lon": lon,
            "lat": lat,
        }
    )
    frame.to_csv(path, index=False)
    return path


LINE_STANDARDS = {
    "library": "{max_minutes: 10, mode: drive, max_loss: 0.0}",
    "gp": "{max_minutes: 20, mode: drive, max_loss: 0.0}",
}


# The line place's scenario up to its access standards (6 lines: tests count on them).
LINE_SCENARIO_HEAD = (
    "name: Tiny line\n"
    "inputs:\n"
    "  buildings: register/buildings.csv\n"
    "  services: register/services.csv\n"
    "  zones: zones.csv\n"
    "  network: road.osm\n"
)


def write_line_scenario(folder: Path, standards: tuple[str, ...] = ("library", "gp")) -> Path:
    """The line road, its zones and ``tiny.yaml`` over ``folder/register`` (written by the
    caller, e.g. :func:`write_tiny_register`), with the access standards named."""
    write_line_road(folder / "road.osm")
    write_line_zones(folder / "zones.csv")
    access = "".join(f"  {kind}: {LINE_STANDARDS[kind]}\n" for kind in standards)
    scenario = folder / "tiny.yaml"
    scenario.write_text(LINE_SCENARIO_HEAD + "access:\n" + access, encoding="utf-8")
    return scenario
