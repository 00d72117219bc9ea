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
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components

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

    def content_hash(self) -> str:
        """SHA-256 of the node and edge tables: equal tables, equal hash (cache keys)."""
        digest = hashlib.sha256()
        for frame, columns in ((self.nodes, _NODE_KEY), (self.edges, _EDGE_KEY)):
            present = [c for c in columns if c in frame.columns]
            digest.update(repr(present).encode())
            hashed = pd.util.hash_pandas_object(frame[present], index=False)
            digest.update(hashed.to_numpy().tobytes())
        return digest.hexdigest()

    def _allowed(self, mode: Mode) -> pd.Series:
        """Edges a mode may use: the road-class rule, and the access column when present."""
        highway = self.edges["highway"].astype(str)
        barred = NOT_WALKABLE if mode == "walk" else NOT_DRIVABLE
        allowed = ~highway.isin(barred)
        column = "walkable" if mode == "walk" else "drivable"
        if column in self.edges.columns:
            allowed &= self.edges[column].astype(bool)
        return allowed

    def edge_minutes(self, mode: Mode) -> pd.DataFrame:
        """Edges usable by ``mode`` with their traversal time in ``minutes``."""
        edges = self.edges
        highway = edges["highway"].astype(str)
        keep = self._allowed(mode)
        if mode == "walk":
            usable = edges.loc[keep, ["u", "v", "length_m"]].copy()
            # Pedestrians ignore one-way rules: add every reverse edge.
            reverse = usable.rename(columns={"u": "v", "v": "u"})
            usable = pd.concat([usable, reverse], ignore_index=True)
            usable["minutes"] = usable["length_m"] / (WALK_SPEED_KPH * 1000.0 / 60.0)
            return usable
        default = highway.map(DRIVE_SPEED_KPH).fillna(DEFAULT_DRIVE_KPH)
        if "maxspeed_kph" in edges.columns:
            tagged = pd.to_numeric(edges["maxspeed_kph"], errors="coerce")
            speed = (tagged * MAXSPEED_RUNNING_FACTOR).where(tagged > 0, default)
        else:
            speed = default
        usable = edges.loc[keep, ["u", "v", "length_m"]].copy()
        usable["minutes"] = usable["length_m"] / (speed[keep] * 1000.0 / 60.0)
        return usable

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
        position = pd.Series(np.arange(len(ids)), index=ids)
        edges = edges.loc[edges["u"].isin(position.index) & edges["v"].isin(position.index)]
        edges = edges.loc[edges["u"] != edges["v"]]
        best = edges.groupby(["u", "v"], sort=True)["minutes"].min().reset_index()
        rows = position.loc[best["u"]].to_numpy()
        cols = position.loc[best["v"]].to_numpy()
        # Zero-length edges would vanish from a sparse matrix; keep them tiny instead.
        weights = np.maximum(best["minutes"].to_numpy(dtype=float), 1e-9)
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
