"""Origin-destination travel times: on a road network, or estimated from distance.

Network times use ``scipy.sparse.csgraph.dijkstra`` from every distinct origin node
at once (with an optional cutoff), never a Python loop over single-source searches.
Each point is snapped to its nearest network node and the straight-line leg between
the point and that node is timed at a connector speed.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

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


@dataclass(frozen=True)
class TravelTable:
    """Travel times as a sparse long table: one row per (origin, destination) pair
    reachable within the cutoff.

    ``pairs`` has integer ``origin`` and ``destination`` positions into
    ``origin_ids``/``destination_ids`` and ``minutes``; pairs not listed are beyond the
    cutoff or unreachable.  ``method`` is ``"estimate"`` for straight-line times.
    """

    origin_ids: tuple[str, ...]
    destination_ids: tuple[str, ...]
    pairs: pd.DataFrame
    mode: Mode
    method: Method
    cutoff_minutes: float | None = None
    note: str = field(default="")

    def long(
        self, origin_name: str = "origin_id", destination_name: str = "destination_id"
    ) -> pd.DataFrame:
        """The pairs with the caller's ids: ``origin_name``, ``destination_name``, minutes."""
        origins = np.asarray(self.origin_ids, dtype=object)
        destinations = np.asarray(self.destination_ids, dtype=object)
        return pd.DataFrame(
            {
                origin_name: pd.array(origins[self.pairs["origin"].to_numpy()], dtype=str),
                destination_name: pd.array(
                    destinations[self.pairs["destination"].to_numpy()], dtype=str
                ),
                "minutes": self.pairs["minutes"].to_numpy(dtype=float),
            }
        )

    def dense(self) -> TravelTimes:
        """The same times as a dense :class:`TravelTimes` matrix (``inf`` where absent)."""
        minutes = np.full((len(self.origin_ids), len(self.destination_ids)), np.inf)
        minutes[self.pairs["origin"].to_numpy(), self.pairs["destination"].to_numpy()] = self.pairs[
            "minutes"
        ].to_numpy(dtype=float)
        return TravelTimes(
            self.origin_ids,
            self.destination_ids,
            minutes,
            self.mode,
            self.method,
            self.cutoff_minutes,
            self.note,
        )

    @classmethod
    def from_dense(cls, times: TravelTimes) -> TravelTable:
        rows = np.arange(len(times.origin_ids), dtype=np.int64)
        return cls(
            times.origin_ids,
            times.destination_ids,
            _long_from_blocks([(rows, times.minutes)]),
            times.mode,
            times.method,
            times.cutoff_minutes,
            times.note,
        )


def snap(
    graph: SparseGraph, xy: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Index of the nearest graph node to each point, and the distance to it in metres."""
    distance, index = graph.tree.query(np.asarray(xy, dtype=float), k=1)
    return np.asarray(index, dtype=np.int64), np.asarray(distance, dtype=float)


Block = tuple[NDArray[np.int64], NDArray[np.float64]]


def _check_cutoff(cutoff_minutes: float | None) -> None:
    if cutoff_minutes is not None and not cutoff_minutes > 0:
        raise SettingsError(f"cutoff_minutes must be positive, got {cutoff_minutes}")


def _network_blocks(
    graph: SparseGraph,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    mode: Mode,
    cutoff_minutes: float | None,
    connector_kph: float | None,
    batch_sources: int,
    workers: int = 1,
) -> Iterator[Block]:
    """Origin rows and their minutes to every destination, one dijkstra batch at a time.

    Origins snapped to the same node share one search, on the graph with its
    through-nodes contracted (:meth:`SparseGraph.contract`).  Entries above the cutoff
    are ``inf``.  Each block holds at most ``batch_sources`` distinct origin nodes, which
    bounds memory at ``batch_sources x nodes x 8`` bytes.
    """
    speed = connector_kph if connector_kph is not None else CONNECTOR_KPH[mode]
    per_metre = 60.0 / (speed * 1000.0)
    o_node, o_gap = snap(graph, origins[["x", "y"]].to_numpy(dtype=float))
    d_node, d_gap = snap(graph, destinations[["x", "y"]].to_numpy(dtype=float))
    o_leg = o_gap * per_metre
    d_leg = d_gap * per_metre
    keep = np.zeros(graph.n_nodes, dtype=bool)
    keep[o_node] = True
    keep[d_node] = True
    matrix, index = graph.contract(keep)
    sources, source_row = np.unique(index[o_node], return_inverse=True)
    targets = index[d_node]
    order = np.argsort(source_row, kind="stable")
    starts = np.arange(0, len(sources), batch_sources)
    bounds = np.searchsorted(source_row[order], np.append(starts, len(sources)))
    limit = np.inf if cutoff_minutes is None else float(cutoff_minutes)
    batches = [sources[start : start + batch_sources] for start in starts.tolist()]
    searches = _searches(matrix, batches, targets, limit, workers)
    for k, (start, between) in enumerate(zip(starts.tolist(), searches, strict=True)):
        rows = order[bounds[k] : bounds[k + 1]]
        block = o_leg[rows, None] + between[source_row[rows] - start] + d_leg[None, :]
        if cutoff_minutes is not None:
            block[block > cutoff_minutes] = np.inf
        yield rows, block


_SHARED: dict[str, object] = {}


def _share(matrix: sparse.csr_matrix, targets: NDArray[np.int64], limit: float) -> None:
    _SHARED.update(matrix=matrix, targets=targets, limit=limit)


def _search_shared(batch: NDArray[np.int64]) -> NDArray[np.float64]:
    return _search(_SHARED["matrix"], batch, _SHARED["targets"], _SHARED["limit"])  # type: ignore[arg-type]


def _search(
    matrix: sparse.csr_matrix, batch: NDArray[np.int64], targets: NDArray[np.int64], limit: float
) -> NDArray[np.float64]:
    dist = dijkstra(matrix, directed=True, indices=batch, limit=limit)
    return np.asarray(dist[:, targets], dtype=float)


def _searches(
    matrix: sparse.csr_matrix,
    batches: list[NDArray[np.int64]],
    targets: NDArray[np.int64],
    limit: float,
    workers: int,
) -> Iterator[NDArray[np.float64]]:
    """Minutes from each batch of sources to the targets, in batch order.

    scipy's dijkstra holds the GIL, so ``workers > 1`` uses processes, each given the
    matrix once.  They are spawned, not forked: forking a process that runs threads
    (BLAS, rich's progress display) can deadlock.
    """
    if workers <= 1 or len(batches) <= 1:
        for batch in batches:
            yield _search(matrix, batch, targets, limit)
        return
    with ProcessPoolExecutor(
        max_workers=min(workers, len(batches)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_share,
        initargs=(matrix, targets, limit),
    ) as pool:
        yield from pool.map(_search_shared, batches)


def network_travel_times(
    network: RoadNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    mode: Mode,
    cutoff_minutes: float | None = None,
    connector_kph: float | None = None,
    graph: SparseGraph | None = None,
) -> TravelTimes:
    """Minutes by road from each origin to each destination, as a dense matrix.

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
    return network_travel_table(
        network, origins, destinations, mode, cutoff_minutes, connector_kph, graph
    ).dense()


def _network_note(mode: Mode, graph: SparseGraph) -> str:
    return f"{mode} times on the road network ({graph.n_nodes:,} nodes)"


def _long_from_blocks(blocks: Iterable[Block]) -> pd.DataFrame:
    """Finite entries of row blocks as (origin, destination, minutes) index triples."""
    o_parts, d_parts, m_parts = [], [], []
    for rows, block in blocks:
        r, c = np.nonzero(np.isfinite(block))
        o_parts.append(rows[r])
        d_parts.append(c)
        m_parts.append(block[r, c])
    if not o_parts:
        return pd.DataFrame(
            {"origin": np.empty(0, np.int64), "destination": np.empty(0, np.int64), "minutes": []}
        )
    table = pd.DataFrame(
        {
            "origin": np.concatenate(o_parts).astype(np.int64),
            "destination": np.concatenate(d_parts).astype(np.int64),
            "minutes": np.concatenate(m_parts).astype(float),
        }
    )
    return table.sort_values(["origin", "destination"], kind="stable", ignore_index=True)


def network_travel_table(
    network: RoadNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    mode: Mode,
    cutoff_minutes: float | None = None,
    connector_kph: float | None = None,
    graph: SparseGraph | None = None,
    batch_sources: int = BATCH_SOURCES,
    workers: int = 1,
) -> TravelTable:
    """Minutes by road as a sparse long table: only pairs within the cutoff are kept.

    The same searches as :func:`network_travel_times`, without ever holding the dense
    origins x destinations matrix, so region-sized problems fit in memory.  With
    ``workers > 1`` the batches of ``batch_sources`` searches run in that many processes.
    """
    _check_cutoff(cutoff_minutes)
    graph = graph if graph is not None else network.graph(mode)
    blocks = _network_blocks(
        graph, origins, destinations, mode, cutoff_minutes, connector_kph, batch_sources, workers
    )
    return TravelTable(
        origin_ids=tuple(origins["id"].astype(str)),
        destination_ids=tuple(destinations["id"].astype(str)),
        pairs=_long_from_blocks(blocks),
        mode=mode,
        method="network",
        cutoff_minutes=cutoff_minutes,
        note=_network_note(mode, graph),
    )


def _estimate_blocks(
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    per_metre: float,
    cutoff_minutes: float | None,
    rows_per_block: int,
) -> Iterator[Block]:
    o = origins[["x", "y"]].to_numpy(dtype=float)
    d = destinations[["x", "y"]].to_numpy(dtype=float)
    for start in range(0, len(o), rows_per_block):
        rows = np.arange(start, min(start + rows_per_block, len(o)), dtype=np.int64)
        block = np.hypot(o[rows, None, 0] - d[None, :, 0], o[rows, None, 1] - d[None, :, 1])
        block *= per_metre
        if cutoff_minutes is not None:
            block[block > cutoff_minutes] = np.inf
        yield rows, block


def _estimate_settings(mode: Mode, circuity: float, speed_kph: float | None) -> tuple[float, str]:
    """Minutes per straight-line metre, and the note every output shows."""
    if circuity < 1.0:
        raise SettingsError(f"circuity must be at least 1, got {circuity}")
    speed = speed_kph if speed_kph is not None else ESTIMATE_KPH[mode]
    note = (
        f"ESTIMATE: straight-line distance x {circuity:g} circuity at {speed:g} km/h "
        "(no road network)"
    )
    return circuity * 60.0 / (speed * 1000.0), note


def estimated_travel_table(
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    mode: Mode,
    circuity: float = DEFAULT_CIRCUITY,
    speed_kph: float | None = None,
    cutoff_minutes: float | None = None,
    rows_per_block: int = 1024,
) -> TravelTable:
    """Straight-line estimates as a sparse table, computed a block of origins at a time."""
    _check_cutoff(cutoff_minutes)
    per_metre, note = _estimate_settings(mode, circuity, speed_kph)
    blocks = _estimate_blocks(origins, destinations, per_metre, cutoff_minutes, rows_per_block)
    return TravelTable(
        origin_ids=tuple(origins["id"].astype(str)),
        destination_ids=tuple(destinations["id"].astype(str)),
        pairs=_long_from_blocks(blocks),
        mode=mode,
        method="estimate",
        cutoff_minutes=cutoff_minutes,
        note=note,
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
    return estimated_travel_table(
        origins, destinations, mode, circuity, speed_kph, cutoff_minutes
    ).dense()
