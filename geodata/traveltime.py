"""Origin-destination travel times: on a road network, or estimated from distance.

Network times use ``scipy.sparse.csgraph.dijkstra`` from every distinct origin node
at once (with an optional cutoff), never a Python loop over single-source searches.
Each point is snapped to its nearest network node and the straight-line leg between
the point and that node is timed at a connector speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from estate.errors import SettingsError
from geodata.network import WALK_SPEED_KPH, Mode, RoadNetwork, SparseGraph

Method = Literal["network", "estimate"]

# Speed of the off-network leg from a point to its nearest node, km/h.
CONNECTOR_KPH: dict[str, float] = {"drive": 20.0, "walk": WALK_SPEED_KPH}
# Straight-line estimates: road distance = crow-fly distance x circuity.
DEFAULT_CIRCUITY = 1.3
ESTIMATE_KPH: dict[str, float] = {"drive": 40.0, "walk": WALK_SPEED_KPH}
# Sources per dijkstra batch: bounds memory at batch x nodes x 8 bytes.
BATCH_SOURCES = 256


@dataclass(frozen=True)
class TravelTimes:
    """A dense matrix of minutes from each origin (row) to each destination (column).

    ``inf`` marks a destination beyond the cutoff or unreachable.  ``method`` is
    ``"estimate"`` when times come from straight-line distance rather than roads;
    every output that shows them must say so.
    """

    origin_ids: tuple[str, ...]
    destination_ids: tuple[str, ...]
    minutes: NDArray[np.float64]
    mode: Mode
    method: Method
    cutoff_minutes: float | None = None
    note: str = field(default="")

    def __post_init__(self) -> None:
        expected = (len(self.origin_ids), len(self.destination_ids))
        if self.minutes.shape != expected:
            raise SettingsError(
                f"travel-time matrix has shape {self.minutes.shape}, expected {expected}"
            )

    def frame(self) -> pd.DataFrame:
        """The matrix as a DataFrame indexed by origin id, one column per destination."""
        return pd.DataFrame(
            self.minutes, index=list(self.origin_ids), columns=list(self.destination_ids)
        )

    def long(self) -> pd.DataFrame:
        """The finite entries as a long table: origin_id, destination_id, minutes."""
        rows, cols = np.nonzero(np.isfinite(self.minutes))
        return pd.DataFrame(
            {
                "origin_id": np.asarray(self.origin_ids, dtype=object)[rows],
                "destination_id": np.asarray(self.destination_ids, dtype=object)[cols],
                "minutes": self.minutes[rows, cols],
            }
        )


def snap(
    graph: SparseGraph, xy: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Index of the nearest graph node to each point, and the distance to it in metres."""
    tree = cKDTree(graph.xy)
    distance, index = tree.query(np.asarray(xy, dtype=float), k=1)
    return np.asarray(index, dtype=np.int64), np.asarray(distance, dtype=float)


def network_travel_times(
    network: RoadNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    mode: Mode,
    cutoff_minutes: float | None = None,
    connector_kph: float | None = None,
    graph: SparseGraph | None = None,
) -> TravelTimes:
    """Minutes by road from each origin to each destination.

    Parameters
    ----------
    network
        The road network (EPSG:27700 metres).
    origins, destinations
        Frames with ``id``, ``x`` and ``y`` columns (EPSG:27700 metres).
    mode
        ``"drive"`` or ``"walk"``.
    cutoff_minutes
        Times above this are returned as ``inf``; searches stop early there.
    connector_kph
        Speed of the off-network leg from a point to its nearest node.
    graph
        A prebuilt graph for ``mode`` (saves rebuilding it for several calls).
    """
    if cutoff_minutes is not None and cutoff_minutes <= 0:
        raise SettingsError(f"cutoff_minutes must be positive, got {cutoff_minutes}")
    graph = graph if graph is not None else network.graph(mode)
    speed = connector_kph if connector_kph is not None else CONNECTOR_KPH[mode]
    per_metre = 60.0 / (speed * 1000.0)
    o_node, o_gap = snap(graph, origins[["x", "y"]].to_numpy(dtype=float))
    d_node, d_gap = snap(graph, destinations[["x", "y"]].to_numpy(dtype=float))
    o_leg = o_gap * per_metre
    d_leg = d_gap * per_metre

    sources, source_row = np.unique(o_node, return_inverse=True)
    between = np.full((len(sources), len(d_node)), np.inf)
    limit = np.inf if cutoff_minutes is None else float(cutoff_minutes)
    for start in range(0, len(sources), BATCH_SOURCES):
        batch = sources[start : start + BATCH_SOURCES]
        dist = dijkstra(graph.matrix, directed=True, indices=batch, limit=limit)
        between[start : start + len(batch)] = dist[:, d_node]
    minutes = o_leg[:, None] + between[source_row] + d_leg[None, :]
    if cutoff_minutes is not None:
        minutes[minutes > cutoff_minutes] = np.inf
    return TravelTimes(
        origin_ids=tuple(origins["id"].astype(str)),
        destination_ids=tuple(destinations["id"].astype(str)),
        minutes=minutes,
        mode=mode,
        method="network",
        cutoff_minutes=cutoff_minutes,
        note=f"{mode} times on the road network ({graph.n_nodes} nodes)",
    )


def estimated_travel_times(
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    mode: Mode,
    circuity: float = DEFAULT_CIRCUITY,
    speed_kph: float | None = None,
    cutoff_minutes: float | None = None,
) -> TravelTimes:
    """Straight-line distance x circuity / speed: an estimate, labelled as one."""
    if circuity < 1.0:
        raise SettingsError(f"circuity must be at least 1, got {circuity}")
    speed = speed_kph if speed_kph is not None else ESTIMATE_KPH[mode]
    o = origins[["x", "y"]].to_numpy(dtype=float)
    d = destinations[["x", "y"]].to_numpy(dtype=float)
    metres = np.hypot(o[:, None, 0] - d[None, :, 0], o[:, None, 1] - d[None, :, 1])
    minutes = metres * circuity * 60.0 / (speed * 1000.0)
    if cutoff_minutes is not None:
        minutes[minutes > cutoff_minutes] = np.inf
    return TravelTimes(
        origin_ids=tuple(origins["id"].astype(str)),
        destination_ids=tuple(destinations["id"].astype(str)),
        minutes=minutes,
        mode=mode,
        method="estimate",
        cutoff_minutes=cutoff_minutes,
        note=(
            f"ESTIMATE: straight-line distance x {circuity:g} circuity at {speed:g} km/h "
            "(no road network)"
        ),
    )
