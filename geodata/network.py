"""Road networks as plain tables, and their conversion to a sparse travel-time graph.

A :class:`RoadNetwork` is two DataFrames in British National Grid metres: ``nodes``
(``node_id``, ``x``, ``y``) and directed ``edges`` (``u``, ``v``, ``length_m``,
``highway``, ``maxspeed_kph``).  A two-way road is two edges.  Readers for
OpenStreetMap files (:mod:`geodata.osm`) build these tables, adding the optional
boolean edge columns ``drivable`` and ``walkable`` from access tags; the synthetic
demo builds them in code and leaves access to the road class.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from estate.errors import CellIssue, InputDataError

Mode = Literal["drive", "walk"]
MODES: tuple[Mode, ...] = ("drive", "walk")

WALK_SPEED_KPH = 4.8

# Typical free-flow speeds by OSM road class where no maxspeed is tagged, km/h.
# Below the legal limits on purpose: they stand for average running speeds.
DRIVE_SPEED_KPH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 65.0,
    "primary_link": 40.0,
    "secondary": 55.0,
    "secondary_link": 35.0,
    "tertiary": 45.0,
    "tertiary_link": 30.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 15.0,
    "service": 15.0,
    "road": 30.0,
}
DEFAULT_DRIVE_KPH = 30.0
# A tagged maxspeed is a legal limit, not a running speed: drive at this share of it
# (OSRM's car profile uses the same 0.8), consistent with the class defaults above.
MAXSPEED_RUNNING_FACTOR = 0.8

# Classes a person may not walk along.
NOT_WALKABLE = frozenset({"motorway", "motorway_link"})
# Classes a car may not drive along.
NOT_DRIVABLE = frozenset({"footway", "path", "pedestrian", "steps", "cycleway", "bridleway"})

# Hashing a network for cache keys reads these columns, in this order.
_NODE_KEY = ("node_id", "x", "y")
_EDGE_KEY = ("u", "v", "length_m", "highway", "maxspeed_kph", "drivable", "walkable")


@dataclass(frozen=True)
class RoadNetwork:
    """Nodes and directed edges of a road network in EPSG:27700 metres."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    name: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        for col in ("node_id", "x", "y"):
            if col not in self.nodes.columns:
                problems.append(
                    CellIssue(self.name or "network", None, col, "", "missing nodes column")
                )
        for col in ("u", "v", "length_m", "highway"):
            if col not in self.edges.columns:
                problems.append(
                    CellIssue(self.name or "network", None, col, "", "missing edges column")
                )
        if problems:
            raise InputDataError(problems, "the road network is incomplete")

    @classmethod
    def from_file(cls, path: str | Path) -> RoadNetwork:
        """Read an OpenStreetMap file (``.osm.pbf``, ``.osm``) or osmnx ``.graphml``.

        :func:`geodata.osm.read_network` reads the same files and can keep the parsed
        tables on disk, keyed by the file's bytes (``use_cache``).
        """
        from geodata.osmparse import file_tables

        tables = file_tables(path)
        return cls(tables.nodes, tables.edges, name=tables.name, notes=tables.notes)

    @classmethod
    def from_osmnx(cls, graph: Any, name: str = "osmnx graph") -> RoadNetwork:
        """A graph osmnx made (``ox.graph_from_place``, ``graph_from_xml``, ...), as it is
        in memory: projected or not (its ``crs``), simplified or not.

        Tags are read as for a file: ``maxspeed`` (lists of merged ways too),
        ``highway``, ``access``; edge ``length`` in metres.  ``name`` names the graph in
        errors and notes.
        """
        from geodata.osmparse import graph_tables

        tables = graph_tables(graph, name, f"from an osmnx graph in memory ({name})")
        return cls(tables.nodes, tables.edges, name=tables.name, notes=tables.notes)

    def content_hash(self) -> str:
        """SHA-256 of the node and edge tables: equal tables, equal hash (cache keys)."""
        digest = hashlib.sha256()
        for frame, columns in ((self.nodes, _NODE_KEY), (self.edges, _EDGE_KEY)):
            present = [c for c in columns if c in frame.columns]
            digest.update(repr(present).encode())
            hashed = pd.util.hash_pandas_object(frame[present], index=False)
            digest.update(hashed.to_numpy().tobytes())
        return digest.hexdigest()

    def _classes(self) -> tuple[NDArray[np.int64], list[str]]:
        """Road class of every edge as a code into a list of distinct classes (fast)."""
        codes, uniques = pd.factorize(self.edges["highway"].astype(str), sort=True)
        return np.asarray(codes, dtype=np.int64), [str(u) for u in uniques]

    def _allowed(self, mode: Mode, codes: NDArray[np.int64], classes: list[str]) -> NDArray:
        """Edges a mode may use: the road-class rule, and the access column when present."""
        barred = NOT_WALKABLE if mode == "walk" else NOT_DRIVABLE
        allowed = ~np.array([c in barred for c in classes], dtype=bool)[codes]
        column = "walkable" if mode == "walk" else "drivable"
        if column in self.edges.columns:
            allowed &= self.edges[column].to_numpy(dtype=bool)
        return allowed

    def edge_minutes(self, mode: Mode) -> pd.DataFrame:
        """Edges usable by ``mode`` with their traversal time in ``minutes``."""
        edges = self.edges
        codes, classes = self._classes()
        keep = self._allowed(mode, codes, classes)
        u = edges["u"].to_numpy()[keep]
        v = edges["v"].to_numpy()[keep]
        length = edges["length_m"].to_numpy(dtype=float)[keep]
        if mode == "walk":
            # Pedestrians ignore one-way rules: add every reverse edge.
            metres = np.concatenate([length, length])
            return pd.DataFrame(
                {
                    "u": np.concatenate([u, v]),
                    "v": np.concatenate([v, u]),
                    "length_m": metres,
                    "minutes": metres / (WALK_SPEED_KPH * 1000.0 / 60.0),
                }
            )
        by_class = np.array([DRIVE_SPEED_KPH.get(c, DEFAULT_DRIVE_KPH) for c in classes])
        speed = by_class[codes] if len(classes) else np.empty(0)
        if "maxspeed_kph" in edges.columns:
            tagged = pd.to_numeric(edges["maxspeed_kph"], errors="coerce").to_numpy(dtype=float)
            speed = np.where(tagged > 0, tagged * MAXSPEED_RUNNING_FACTOR, speed)
        minutes = length / (speed[keep] * 1000.0 / 60.0)
        return pd.DataFrame({"u": u, "v": v, "length_m": length, "minutes": minutes})

    def graph(self, mode: Mode) -> SparseGraph:
        """The sparse graph of ``mode`` restricted to its largest strongly connected part."""
        return SparseGraph.from_edges(self.nodes, self.edge_minutes(mode))


@dataclass(frozen=True)
class SparseGraph:
    """A CSR matrix of edge minutes over the largest strongly connected component.

    ``node_ids`` maps matrix index to the network's ``node_id``; ``xy`` holds their
    coordinates.  Parallel edges are reduced to their minimum time (scipy would sum
    duplicates, which is wrong for travel times).
    """

    matrix: sparse.csr_matrix
    node_ids: NDArray[np.int64]
    xy: NDArray[np.float64]

    @classmethod
    def from_edges(cls, nodes: pd.DataFrame, edges: pd.DataFrame) -> SparseGraph:
        ids = nodes["node_id"].to_numpy(dtype=np.int64)
        index = pd.Index(ids)
        rows = index.get_indexer(edges["u"].to_numpy(dtype=np.int64))
        cols = index.get_indexer(edges["v"].to_numpy(dtype=np.int64))
        weights = edges["minutes"].to_numpy(dtype=float)
        valid = (rows >= 0) & (cols >= 0) & (rows != cols)
        rows, cols, weights = rows[valid], cols[valid], weights[valid]
        rows, cols, weights = _fastest(rows, cols, weights)
        # Zero-length edges would vanish from a sparse matrix; keep them tiny instead.
        weights = np.maximum(weights, 1e-9)
        n = len(ids)
        full = sparse.csr_matrix((weights, (rows, cols)), shape=(n, n))
        n_parts, labels = connected_components(full, directed=True, connection="strong")
        if n_parts > 1:
            largest = np.bincount(labels).argmax()
            keep = np.flatnonzero(labels == largest)
        else:
            keep = np.arange(n)
        matrix = full[keep][:, keep].tocsr()
        xy = nodes[["x", "y"]].to_numpy(dtype=float)[keep]
        return cls(matrix, ids[keep], xy)

    @property
    def n_nodes(self) -> int:
        return int(self.matrix.shape[0])

    @cached_property
    def tree(self) -> cKDTree:
        """A KD-tree of the node coordinates, for snapping points (built once)."""
        return cKDTree(self.xy)

    @cached_property
    def _chains(self) -> _Chains:
        return _Chains.of(self.matrix)

    def contract(self, keep: NDArray[np.bool_]) -> tuple[sparse.csr_matrix, NDArray[np.int64]]:
        """The graph with its through-nodes contracted away, exactly.

        OpenStreetMap ways carry a node at every bend, so most nodes (about 80% in
        Rutland) have two neighbours and lie on a road between junctions.  Replacing
        each such chain by one edge whose minutes are the chain's sum leaves every
        shortest path between the remaining nodes unchanged and makes dijkstra several
        times faster.  Nodes where ``keep`` is true (snapped origins and destinations)
        are never contracted.

        Returns the contracted CSR matrix and, for every original node, its index in
        it (``-1`` for contracted nodes).
        """
        return self._chains.contract(np.asarray(keep, dtype=bool))


@dataclass(frozen=True)
class _Chains:
    """Each edge's place on its chain (a run of edges through through-nodes, from one
    junction to the next), worked out once per graph so that a query's contraction is
    a few vectorised passes.

    Edges are in CSR order.  ``to_end`` is the minutes from an edge's tail to its
    chain's end; ``order`` lists edges chain by chain, from first to last.
    """

    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    minutes: NDArray[np.float64]
    through: NDArray[np.bool_]
    to_end: NDArray[np.float64]
    order: NDArray[np.int64]

    @classmethod
    def of(cls, matrix: sparse.csr_matrix) -> _Chains:
        m = matrix.tocsr(copy=True)
        m.sort_indices()
        n = m.shape[0]
        out_degree = np.diff(m.indptr)
        tail = np.repeat(np.arange(n, dtype=np.int64), out_degree)
        head = m.indices.astype(np.int64)
        minutes = m.data.astype(float)
        in_degree = np.bincount(head, minlength=n)
        neighbours = np.diff(((m + m.T) != 0).tocsr().indptr)
        candidate = (neighbours == 2) & (out_degree >= 1) & (out_degree == in_degree)
        # Edge x -> v continues along v's out-edge whose head is not x; a through-node
        # has at most two out-edges, stored side by side in CSR order.
        last_position = max(len(head) - 1, 0)
        p1 = m.indptr[:-1][head].astype(np.int64)
        h1 = head[np.minimum(p1, last_position)]
        h2 = head[np.minimum(p1 + 1, last_position)]
        out_of_head = out_degree[head]
        next_edge = np.full(len(head), -1, dtype=np.int64)
        along_first = (out_of_head >= 1) & (h1 != tail)
        along_second = ~along_first & (out_of_head == 2) & (h2 != tail)
        next_edge[along_first] = p1[along_first]
        next_edge[along_second] = p1[along_second] + 1
        stuck = np.bincount(head[next_edge < 0], minlength=n) > 0
        through = candidate & ~stuck
        # List ranking by pointer jumping: every edge learns the minutes and the number
        # of edges to its chain's end, and the chain's last edge, in O(log length)
        # numpy passes.  A ring made only of through-nodes has no end; its first node
        # is then treated as a junction (it cannot occur in a connected graph that has
        # any junction).
        pointer = np.where(through[head], next_edge, -1)
        to_end = minutes.copy()
        steps = np.ones(len(head), dtype=np.int64)
        last = np.arange(len(head), dtype=np.int64)
        for _ in range(64):
            active = np.flatnonzero(pointer >= 0)
            if not len(active):
                break
            ahead = pointer[active]
            to_end[active], steps[active], last[active], pointer[active] = (
                to_end[active] + to_end[ahead],
                steps[active] + steps[ahead],
                last[ahead],
                pointer[ahead],
            )
        else:  # pragma: no cover - only a graph that is one ring of through-nodes
            return cls.of_without_rings(matrix, tail, head, minutes)
        order = np.lexsort((-steps, last)).astype(np.int64)
        return cls(tail, head, minutes, through, to_end, order)

    @classmethod
    def of_without_rings(
        cls,
        matrix: sparse.csr_matrix,
        tail: NDArray[np.int64],
        head: NDArray[np.int64],
        minutes: NDArray[np.float64],
    ) -> _Chains:  # pragma: no cover - see above
        n = matrix.shape[0]
        order = np.arange(len(head), dtype=np.int64)
        return cls(tail, head, minutes, np.zeros(n, dtype=bool), minutes.copy(), order)

    def contract(self, keep: NDArray[np.bool_]) -> tuple[sparse.csr_matrix, NDArray[np.int64]]:
        through = self.through & ~keep
        kept = np.flatnonzero(~through)
        index = np.full(len(through), -1, dtype=np.int64)
        index[kept] = np.arange(len(kept))
        # A chain now ends wherever its head is a junction or a kept node, and starts
        # wherever its tail is one; each start runs to the next end on its chain.
        ends = ~through[self.head][self.order]
        position = np.arange(len(ends))
        next_end = np.minimum.accumulate(np.where(ends, position, len(ends))[::-1])[::-1]
        starts = ~through[self.tail][self.order]
        first = self.order[starts]
        final = self.order[next_end[starts]]
        rows = index[self.tail[first]]
        cols = index[self.head[final]]
        weights = self.to_end[first] - self.to_end[final] + self.minutes[final]
        useful = rows != cols
        # Parallel chains between the same two nodes: keep the fastest.
        rows, cols, weights = _fastest(rows[useful], cols[useful], weights[useful])
        size = len(kept)
        return sparse.csr_matrix((weights, (rows, cols)), shape=(size, size)), index


def _fastest(
    rows: NDArray[np.int64], cols: NDArray[np.int64], weights: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """One edge per (row, col): the one with the least minutes (scipy would add them)."""
    order = np.lexsort((weights, cols, rows))
    rows, cols, weights = rows[order], cols[order], weights[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return rows[first], cols[first], weights[first]
