"""Resolve the inputs of ``estate access`` from what a user names on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from estate.errors import CellIssue, InputDataError, SettingsError
from estate.register import Register
from geodata.network import RoadNetwork
from geodata.osm import network_from_place, read_network
from geodata.zones import LoadedZones, read_zones, synthetic_zones, synthetic_zones_near

# Synthetic zones are scattered this far inside the buildings' extent, metres.
SYNTHETIC_MARGIN_M = 500.0
# ... or this far (each axis) from a node of the network: within the 500 m a walk
# check allows (geodata.placecheck), so no synthetic zone is reported as off the map.
SYNTHETIC_NEAR_M = 250.0


def load_register(path: str | Path, services: str | Path | None = None) -> Register:
    """The buildings and services access is measured for: locations, not costs.

    ``path`` is a folder holding ``buildings.csv`` (and ``services.csv``), or any
    buildings file ``estate validate`` reads, of any kind (a full register, a list of
    sites, the CSV or GeoPackage ``estate geocode`` writes).  Services come from
    ``services`` (default: ``services.csv`` beside the buildings, when there is one);
    without one, each building's services follow from its building type by the rules
    ``estate estimate`` uses.  Rows that are rejected, or that have no point, stop it
    with their reasons (``estate geocode`` places rows by postcode or UPRN).
    """
    from estate.estimate import default_services
    from estate.load import load_files
    from estate.register import check_links
    from estate.schema import SERVICES
    from estate.validate import FILE_COLUMN, ROW_COLUMN, coerce_table, fill_coordinates

    path = Path(path)
    buildings_file = path / "buildings.csv" if path.is_dir() else path
    if not buildings_file.is_file():
        raise InputDataError(
            [CellIssue(str(buildings_file), None, "", "", "file not found")],
            "the register needs a buildings file",
        )
    result = load_files([str(buildings_file)], kind="assets")
    if result.unreadable:
        raise InputDataError(result.unreadable, "the buildings file cannot be read")
    rejected = [issue for report in result.files for issue in report.errors]
    if rejected:
        raise InputDataError(rejected, f"{buildings_file}: some rows are rejected")
    buildings = result.accepted.reset_index(drop=True)
    if buildings.empty:
        raise InputDataError(
            [CellIssue(str(buildings_file), None, "", "", "no buildings in the file")],
            "the register has no buildings",
        )
    unplaced = [
        CellIssue(str(row[FILE_COLUMN]), int(row[ROW_COLUMN]), "", str(row["building_id"]), msg)
        for (_, row), msg in zip(
            buildings.iterrows(), _placement(buildings, fill_coordinates), strict=True
        )
        if msg
    ]
    if unplaced:
        raise InputDataError(unplaced, "access needs a point for every building")
    services_file = (
        Path(services) if services is not None else buildings_file.with_name("services.csv")
    )
    if services is None and not services_file.is_file():
        table = default_services(buildings)
        return Register(buildings, table)
    if not services_file.is_file():
        raise InputDataError([CellIssue(str(services_file), None, "", "", "file not found")])
    from estate.io import read_csv_text

    coerced = coerce_table(read_csv_text(services_file), SERVICES, str(services_file))
    issues = coerced.issues + check_links(buildings, coerced.accepted, str(services_file))
    if issues:
        raise InputDataError(issues, "the services cannot be used as they stand")
    return Register(buildings, coerced.accepted)


def _placement(buildings: pd.DataFrame, fill: Any) -> list[str]:
    """Fill easting/northing from lat/lon (and back) in place; a message for each row
    without a point."""
    fill(buildings, "")
    has = buildings["easting"].notna() & buildings["northing"].notna()
    return ["" if ok else "no point: give coordinates or run estate geocode" for ok in has]


def load_network(
    path: str | Path | None, place: str | None = None, use_cache: bool = True
) -> tuple[RoadNetwork | None, str]:
    """The road network from a file or a place name, or ``None`` (estimates only).

    Parsed network files are cached (keyed by the file's bytes) unless ``use_cache``
    is false.
    """
    if path is not None:
        return read_network(path, use_cache=use_cache), str(path)
    if place is not None:
        return network_from_place(place), f"place {place!r} (osmnx, cached)"
    return None, ""


def load_zones(
    path: str | Path | None,
    population: str | Path | None,
    name_prefix: str | None,
    synthetic: int | None,
    seed: int,
    network: RoadNetwork | None,
    register: Register,
) -> LoadedZones:
    """Zones from a file, or ``synthetic`` seeded zones: within ``SYNTHETIC_NEAR_M`` of
    the network's nodes (so none lies off the map), or over the buildings' extent."""
    if path is not None:
        return read_zones(path, population, name_prefix)
    if synthetic is None:
        raise SettingsError("no zones: give a zones file or a number of synthetic zones")
    if network is not None:  # people live along roads: zones near the network's nodes
        nodes = network.nodes[["x", "y"]].to_numpy(dtype=float)
        return synthetic_zones_near(nodes, synthetic, seed, SYNTHETIC_NEAR_M)
    x, y = register.buildings["easting"], register.buildings["northing"]
    bounds = (
        float(x.min()) + SYNTHETIC_MARGIN_M,
        float(y.min()) + SYNTHETIC_MARGIN_M,
        float(x.max()) - SYNTHETIC_MARGIN_M,
        float(y.max()) - SYNTHETIC_MARGIN_M,
    )
    if bounds[0] >= bounds[2] or bounds[1] >= bounds[3]:
        span = max(float(x.max() - x.min()), float(y.max() - y.min()), 1.0)
        bounds = (float(x.min()), float(y.min()), float(x.min()) + span, float(y.min()) + span)
    return synthetic_zones(bounds, synthetic, seed)
