"""Resolve the inputs of ``estate access`` from what a user names on the command line."""

from __future__ import annotations

from pathlib import Path

from estate.errors import CellIssue, InputDataError, SettingsError
from estate.register import Register
from geodata.network import RoadNetwork
from geodata.osm import network_from_place, read_network
from geodata.zones import LoadedZones, read_zones, synthetic_zones

# Synthetic zones are scattered this far inside the network's extent, metres.
SYNTHETIC_MARGIN_M = 500.0


def load_register(path: str | Path, services: str | Path | None = None) -> Register:
    """A canonical register: a folder with ``buildings.csv`` and ``services.csv``, or a
    buildings CSV with its services CSV (``services.csv`` beside it by default)."""
    path = Path(path)
    if path.is_dir():
        buildings_csv = path / "buildings.csv"
        services_csv = Path(services) if services is not None else path / "services.csv"
    else:
        buildings_csv = path
        services_csv = Path(services) if services is not None else path.with_name("services.csv")
    missing = [p for p in (buildings_csv, services_csv) if not p.is_file()]
    if missing:
        raise InputDataError(
            [CellIssue(str(p), None, "", "", "file not found") for p in missing],
            "the register needs a buildings CSV and a services CSV",
        )
    return Register.from_csv(buildings_csv, services_csv)


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
    """Zones from a file, or ``synthetic`` seeded zones over the network (or buildings)."""
    if path is not None:
        return read_zones(path, population, name_prefix)
    if synthetic is None:
        raise SettingsError("no zones: give a zones file or a number of synthetic zones")
    if network is not None:
        x, y = network.nodes["x"], network.nodes["y"]
    else:
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
