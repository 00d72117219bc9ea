"""The ``estate access`` report: travel-time matrix, coverage per service type, and a map.

A report folder holds:

- ``travel_times.parquet``: the sparse long table (``zone_id``, ``building_id``,
  ``minutes``) of every pair within the cutoff; its schema metadata says the mode and
  whether the times are road times or straight-line estimates;
- ``coverage.csv``: per service type, the share of the population within each
  threshold and the population-weighted mean minutes to the nearest building;
- ``nearest.csv``: per zone and service type, minutes to the nearest building;
- ``access.json``: what was computed, from what, and the coverage, for scripts;
- ``map.html`` (drawn by :mod:`scenarios.outputs.access_map`): zones coloured by minutes to the
  nearest building of each type.

CSV, JSON and parquet outputs are identical for identical inputs; files are written
atomically.  Estimated times say ``ESTIMATE`` in every one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.io import write_csv, write_json
from estate.register import Register
from geodata.access import DEFAULT_THRESHOLDS, coverage, hosts_by_type, nearest
from geodata.cache import points_hash, travel_table, write_long_parquet
from geodata.network import Mode, RoadNetwork
from geodata.placecheck import check_place
from geodata.traveltime import TravelTable
from geodata.zones import LoadedZones, points

Progress = Callable[[str], None]
DEFAULT_CUTOFF_MINUTES = 60.0


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
    allow_far_from_network: bool = False


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
    checks = check_place(
        buildings,
        zones,
        inputs.network,
        [inputs.mode],
        inputs.allow_far_from_network,
    )
    checks.raise_for_errors()  # points beyond 5 km of the network, unless allowed
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
    summary["place_checks"] = checks.as_dict()
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


def write_access(report: AccessReport, out_dir: str | Path) -> AccessReport:
    """Write the report's tables and summary; returns the report with its file list."""
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
    """Compute the access report and write its tables (the map is drawn by
    :func:`scenarios.outputs.access_map.write_access_map`)."""
    report = compute_access(inputs, progress)
    progress("writing the report")
    return write_access(report, out_dir)
