"""Access today: how many people live within reach of each type of public service.

From a zone-to-building :class:`~geodata.traveltime.TravelTable`, the zones'
populations and which buildings host which service types: minutes from each zone to
its nearest building of each type, and per type the share of the population within
each threshold and the population-weighted mean minutes to the nearest building.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from estate.errors import SettingsError
from geodata.traveltime import TravelTable

DEFAULT_THRESHOLDS: tuple[float, ...] = (10.0, 15.0, 20.0, 30.0)


def share_column(threshold: float) -> str:
    """Name of the coverage column for one threshold: ``share_within_15_min``."""
    return f"share_within_{threshold:g}_min"


def hosts_by_type(services: pd.DataFrame) -> dict[str, list[str]]:
    """Building ids hosting each service type today, sorted, types in name order."""
    grouped = services.groupby("service_type", sort=True)["building_id"]
    return {str(k): sorted(set(map(str, v))) for k, v in grouped}


def nearest(
    table: TravelTable, zone_ids: Sequence[str], hosts: dict[str, list[str]]
) -> pd.DataFrame:
    """Minutes from every zone to its nearest building of every service type.

    One row per (zone, service type), zones in the given order: ``zone_id``,
    ``service_type``, ``minutes_to_nearest`` (``inf`` when no building of that type is
    within the table's cutoff) and ``nearest_building_id`` (empty then).  Ties go to
    the building listed first in the table's destinations.
    """
    pairs = table.pairs
    destination_ids = np.asarray(table.destination_ids, dtype=object)
    origin_position = {z: i for i, z in enumerate(table.origin_ids)}
    rows = np.array([origin_position[str(z)] for z in zone_ids], dtype=np.int64)
    parts = []
    for service_type, buildings in hosts.items():
        wanted = np.flatnonzero(np.isin(destination_ids, buildings))
        chosen = pairs.loc[pairs["destination"].isin(wanted)]
        chosen = chosen.sort_values(["origin", "minutes", "destination"], kind="stable")
        best = chosen.drop_duplicates("origin", keep="first").set_index("origin")
        minutes = best["minutes"].reindex(rows).to_numpy(dtype=float)
        building = best["destination"].reindex(rows)
        parts.append(
            pd.DataFrame(
                {
                    "zone_id": [str(z) for z in zone_ids],
                    "service_type": service_type,
                    "minutes_to_nearest": np.where(np.isnan(minutes), np.inf, minutes),
                    "nearest_building_id": [
                        "" if pd.isna(b) else str(destination_ids[int(b)]) for b in building
                    ],
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            columns=["zone_id", "service_type", "minutes_to_nearest", "nearest_building_id"]
        )
    return pd.concat(parts, ignore_index=True)


def coverage(
    nearest_table: pd.DataFrame,
    zones: pd.DataFrame,
    hosts: dict[str, list[str]],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    cutoff_minutes: float | None = None,
) -> pd.DataFrame:
    """Coverage per service type.

    Columns: ``service_type``, ``buildings`` (how many host it), ``population``,
    one ``share_within_T_min`` per threshold (share of the population whose nearest
    building of the type is at most T minutes away), ``mean_minutes_to_nearest``
    (population-weighted, over the zones that reach one within the cutoff) and
    ``share_beyond_cutoff`` (population share that reaches none).
    """
    thresholds = sorted(float(t) for t in thresholds)
    if not thresholds or thresholds[0] <= 0:
        raise SettingsError(f"thresholds must be positive minutes, got {thresholds}")
    if cutoff_minutes is not None and thresholds[-1] > cutoff_minutes:
        raise SettingsError(
            f"the largest threshold ({thresholds[-1]:g} min) exceeds the travel-time cutoff "
            f"({cutoff_minutes:g} min): raise the cutoff"
        )
    population = zones.set_index(zones["zone_id"].astype(str))["population"].astype(float)
    total = float(population.sum())
    if total <= 0:
        raise SettingsError("the zones hold no population: coverage shares are undefined")
    records = []
    for service_type, buildings in hosts.items():
        rows = nearest_table.loc[nearest_table["service_type"] == service_type]
        minutes = rows["minutes_to_nearest"].to_numpy(dtype=float)
        people = population.reindex(rows["zone_id"].to_numpy()).to_numpy(dtype=float)
        reached = np.isfinite(minutes)
        record: dict[str, object] = {
            "service_type": service_type,
            "buildings": len(buildings),
            "population": total,
        }
        for t in thresholds:
            record[share_column(t)] = float(people[minutes <= t].sum() / total)
        weight = float(people[reached].sum())
        record["mean_minutes_to_nearest"] = (
            float(np.dot(people[reached], minutes[reached]) / weight) if weight > 0 else np.nan
        )
        record["share_beyond_cutoff"] = float(people[~reached].sum() / total)
        records.append(record)
    return pd.DataFrame.from_records(records)
