"""Travel-time tables on disk: parquet, keyed by a hash of everything that shapes them.

The key covers the network's tables, the origin and destination points (ids and
coordinates, in order), the mode, the cutoff, the connector speed, the speed model's
constants and :data:`FORMAT_VERSION`; any change to one of them is a different key, so
a stale table is never served.  Entries are written atomically under
:func:`estate.settings.cache_dir` ``("travel_times")``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from estate.io import atomic_write
from estate.settings import cache_dir
from geodata import network as net
from geodata.network import Mode, RoadNetwork, SparseGraph
from geodata.traveltime import (
    CONNECTOR_KPH,
    DEFAULT_CIRCUITY,
    ESTIMATE_KPH,
    TravelTable,
    estimated_travel_table,
    network_travel_table,
)

# Bump when the way times are computed changes, so old cache entries stop matching.
FORMAT_VERSION = "travel-table-1"
CACHE_KIND = "travel_times"
_META = b"estate.travel_table"
_NETWORK_META = b"estate.road_network"


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_network(path: Path, version: str, reader: Callable[[Path], RoadNetwork]) -> RoadNetwork:
    """``reader(path)``, or its tables from the cache when the same file was read before.

    The entry is two parquet files (nodes, then edges with the name and notes in its
    metadata); the edges file is written last, so its presence marks a whole entry.
    """
    key = hashlib.sha256(f"{version}|{file_hash(path)}".encode()).hexdigest()[:32]
    folder = cache_dir("networks")
    nodes_path = folder / f"{key}.nodes.parquet"
    edges_path = folder / f"{key}.edges.parquet"
    if nodes_path.is_file() and edges_path.is_file():
        try:
            meta = json.loads((pq.read_schema(edges_path).metadata or {})[_NETWORK_META])
            return RoadNetwork(
                pq.read_table(nodes_path).to_pandas(),
                pq.read_table(edges_path).to_pandas(),
                name=meta["name"],
                notes=tuple(meta["notes"]),
            )
        except (OSError, KeyError, ValueError, pa.ArrowException):
            pass  # a damaged entry is parsed again and overwritten
    network = reader(path)
    _write(network.nodes, {}, nodes_path)
    doc = {"name": network.name, "notes": list(network.notes)}
    _write(network.edges, {_NETWORK_META: json.dumps(doc).encode()}, edges_path)
    return network


@dataclass(frozen=True)
class CachedTable:
    """A travel table, its cache key, and whether it was served from the cache."""

    table: TravelTable
    key: str
    hit: bool
    path: Path | None


def points_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of an ``id``/``x``/``y`` points frame, order included."""
    hashed = pd.util.hash_pandas_object(
        pd.DataFrame(
            {
                "id": frame["id"].astype(str).to_numpy(),
                "x": frame["x"].to_numpy(dtype=float),
                "y": frame["y"].to_numpy(dtype=float),
            }
        ),
        index=False,
    )
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()


def travel_key(
    network: RoadNetwork | None,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    mode: Mode,
    cutoff_minutes: float | None,
    settings: dict[str, Any],
) -> str:
    """The cache key of one travel table."""
    parts = {
        "version": FORMAT_VERSION,
        "network": network.content_hash() if network is not None else None,
        "origins": points_hash(origins),
        "destinations": points_hash(destinations),
        "mode": mode,
        "cutoff_minutes": cutoff_minutes,
        "settings": settings,
        "speed_model": {
            "drive_kph": net.DRIVE_SPEED_KPH,
            "default_drive_kph": net.DEFAULT_DRIVE_KPH,
            "walk_kph": net.WALK_SPEED_KPH,
            "maxspeed_factor": net.MAXSPEED_RUNNING_FACTOR,
            "not_drivable": sorted(net.NOT_DRIVABLE),
            "not_walkable": sorted(net.NOT_WALKABLE),
        },
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _metadata(table: TravelTable, key: str = "") -> dict[bytes, bytes]:
    doc = {
        "mode": table.mode,
        "method": table.method,
        "cutoff_minutes": table.cutoff_minutes,
        "note": table.note,
        "key": key,
    }
    return {_META: json.dumps(doc, sort_keys=True).encode()}


def _write(frame: pd.DataFrame, meta: dict[bytes, bytes], path: Path) -> Path:
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **meta})
    return atomic_write(path, lambda tmp: pq.write_table(arrow, tmp, compression="zstd"))


def write_long_parquet(
    table: TravelTable,
    path: str | Path,
    origin_name: str = "zone_id",
    destination_name: str = "building_id",
) -> Path:
    """Write the sparse long table (origin id, destination id, minutes) as parquet.

    The file's schema metadata (key ``estate.travel_table``) records the mode, the
    method (``"estimate"`` for straight-line times) and the note shown to users.
    """
    return _write(table.long(origin_name, destination_name), _metadata(table), Path(path))


def read_parquet_metadata(path: str | Path) -> dict[str, Any]:
    """The ``estate.travel_table`` metadata of a parquet file this module wrote."""
    meta = pq.read_schema(path).metadata or {}
    return dict(json.loads(meta[_META])) if _META in meta else {}


def _read_entry(path: Path, origins: pd.DataFrame, destinations: pd.DataFrame) -> TravelTable:
    pairs = pq.read_table(path).to_pandas()
    doc = read_parquet_metadata(path)
    return TravelTable(
        origin_ids=tuple(origins["id"].astype(str)),
        destination_ids=tuple(destinations["id"].astype(str)),
        pairs=pairs,
        mode=doc["mode"],
        method=doc["method"],
        cutoff_minutes=doc["cutoff_minutes"],
        note=doc["note"],
    )


def travel_table(
    network: RoadNetwork | None,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    mode: Mode,
    cutoff_minutes: float | None = None,
    connector_kph: float | None = None,
    circuity: float = DEFAULT_CIRCUITY,
    use_cache: bool = True,
    graph: SparseGraph | None = None,
) -> CachedTable:
    """Zone-to-building minutes as a sparse table, from the cache when it holds them.

    With a network: road times (:func:`~geodata.traveltime.network_travel_table`).
    Without one (``network=None``): straight-line estimates, labelled ``"estimate"``.
    """
    if network is not None:
        settings: dict[str, Any] = {
            "connector_kph": connector_kph if connector_kph is not None else CONNECTOR_KPH[mode]
        }
    else:
        settings = {"circuity": circuity, "estimate_kph": ESTIMATE_KPH[mode]}
    key = travel_key(network, origins, destinations, mode, cutoff_minutes, settings)
    path = cache_dir(CACHE_KIND) / f"{key}.parquet" if use_cache else None
    if path is not None and path.is_file():
        try:
            return CachedTable(_read_entry(path, origins, destinations), key, True, path)
        except (OSError, KeyError, ValueError, pa.ArrowException):
            path.unlink(missing_ok=True)  # a damaged entry is recomputed, not trusted
    if network is not None:
        table = network_travel_table(
            network, origins, destinations, mode, cutoff_minutes, connector_kph, graph
        )
    else:
        table = estimated_travel_table(
            origins, destinations, mode, circuity=circuity, cutoff_minutes=cutoff_minutes
        )
    if path is not None:
        _write(table.pairs, _metadata(table, key), path)
    return CachedTable(table, key, False, path)
