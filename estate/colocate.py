"""Sites two or more agencies already share: the co-location search.

Two buildings are linked when they carry the same UPRN or their points lie within a
distance of each other; a **group** is a set of buildings joined by such links (the
connected parts of that graph: single linkage).  A group held by two or more agencies
is a co-location already.  Groups are reported, not pairs: 10,000 sites at one point
are one group of 10,000, not 50 million pairs.

The search is O(n log n) in time and O(n) in memory whatever the data look like:

- identical points (to the millimetre) are merged first;
- the distinct points are triangulated (Delaunay).  Every edge of the Euclidean
  minimum spanning tree is a Delaunay edge, and the connected parts of "within r"
  equal those of the spanning tree's edges no longer than r, so the triangulation's
  edges no longer than r join exactly the points that "within r" joins, from O(n)
  edges rather than the O(n^2) pairs a dense cluster holds;
- three far-away helper points make the triangulation exist for any input (one point,
  two points, points on a line) and lie too far away to join anything.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay

from estate.validate import fill_coordinates

#: One row a building in a co-located group.
COLOCATION_COLUMNS = [
    "group",
    "building_id",
    "agency",
    "name",
    "basis",
    "sites",
    "agencies",
    "extent_m",
]
#: Points closer than this are one point (metres): below any register's precision.
SAME_POINT_M = 0.001
_UPRN_PATTERN = r"\d{1,12}"


def find_colocations(buildings: pd.DataFrame, metres: float = 25.0) -> pd.DataFrame:
    """Groups of buildings, held by two or more agencies, that are one site: linked by
    the same UPRN or by points within ``metres`` of each other (chains of links join
    a group).

    Returns one row a building of each such group (:data:`COLOCATION_COLUMNS`):
    ``group`` (1, 2, ... in the order of each group's first building), ``basis``
    (``uprn``, ``distance`` or ``uprn+distance``: the links that joined it), ``sites``
    and ``agencies`` (the group's counts) and ``extent_m`` (the diagonal of the box
    around the group's points: the distance apart for two; blank when fewer than two
    members have a point).
    """
    if buildings.empty or "agency" not in buildings:
        return pd.DataFrame(columns=COLOCATION_COLUMNS)
    b = buildings.reset_index(drop=True).copy()
    for column in ("lat", "lon", "easting", "northing"):
        if column not in b:
            b[column] = np.nan
        b[column] = pd.to_numeric(b[column], errors="coerce")
    fill_coordinates(b, "")  # points from lat/lon where only those were given
    xy = b[["easting", "northing"]].to_numpy(dtype=float)
    n = len(b)
    uprn_edges = _uprn_edges(b)
    point_edges = _point_edges(xy, metres)
    edges = np.vstack([uprn_edges, point_edges])
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return _groups(b, xy, labels.astype(np.int64), uprn_edges, point_edges)


def _uprn_edges(b: pd.DataFrame) -> NDArray[np.int64]:
    """Each building with a UPRN linked to the first building with the same UPRN."""
    if "uprn" not in b:
        return np.empty((0, 2), dtype=np.int64)
    uprn = b["uprn"].astype(str).str.strip()
    valid = uprn.str.fullmatch(_UPRN_PATTERN).fillna(False).to_numpy(dtype=bool)
    rows = np.flatnonzero(valid)
    codes, _ = pd.factorize(uprn.to_numpy()[rows].astype(str))
    return _to_first(rows, codes)


def _to_first(rows: NDArray[np.int64], codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Edges from each row to the first row with the same code."""
    if not len(rows):
        return np.empty((0, 2), dtype=np.int64)
    first = np.full(int(codes.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, rows)
    edges = np.column_stack([rows, first[codes]]).astype(np.int64)
    return edges[edges[:, 0] != edges[:, 1]]


def _point_edges(xy: NDArray[np.float64], metres: float) -> NDArray[np.int64]:
    """Edges joining rows whose points are within ``metres`` (as parts, not all pairs)."""
    rows = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if len(rows) < 2:
        return np.empty((0, 2), dtype=np.int64)
    cells = np.round(xy[rows] / SAME_POINT_M).astype(np.int64)
    _, first_index, inverse = np.unique(cells, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    same = _to_first(rows, inverse)  # rows at one point to the first row there
    representative = rows[first_index]
    near = _near_pairs(xy[representative], metres)
    return np.vstack([same, representative[near]]) if len(near) else same


def _near_pairs(points: NDArray[np.float64], metres: float) -> NDArray[np.int64]:
    """Pairs of distinct points, no longer than ``metres``, whose parts are the parts of
    the "within ``metres``" graph: the short edges of a Delaunay triangulation."""
    if len(points) < 2:
        return np.empty((0, 2), dtype=np.int64)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2.0
    local = points - centre
    reach = float(np.hypot(*np.ptp(points, axis=0))) / 2.0 + metres
    # Helpers this far out are never inside the circle on any edge no longer than
    # ``metres`` between the points, so those edges stay in the triangulation.
    radius = 4.0 * reach + 1.0
    angles = np.array([90.0, 210.0, 330.0]) * math.pi / 180.0
    helpers = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    tri = Delaunay(np.vstack([local, helpers]))
    simplices = tri.simplices
    pairs = np.vstack([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    if len(tri.coplanar):  # a point Qhull left out: join it to its nearest vertex
        pairs = np.vstack([pairs, tri.coplanar[:, [0, 2]]])
    pairs = pairs[(pairs < len(points)).all(axis=1)]
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    length = np.hypot(*(local[pairs[:, 0]] - local[pairs[:, 1]]).T)
    return pairs[length <= metres].astype(np.int64)


def _groups(
    b: pd.DataFrame,
    xy: NDArray[np.float64],
    labels: NDArray[np.int64],
    uprn_edges: NDArray[np.int64],
    point_edges: NDArray[np.int64],
) -> pd.DataFrame:
    n = len(b)
    size = np.bincount(labels, minlength=int(labels.max()) + 1)
    agency_code, _ = pd.factorize(b["agency"].astype(str))
    pairs = np.unique(np.column_stack([labels, agency_code]), axis=0)
    agencies = np.bincount(pairs[:, 0], minlength=len(size))
    wanted = (size >= 2) & (agencies >= 2)
    rows = np.flatnonzero(wanted[labels])
    if not len(rows):
        return pd.DataFrame(columns=COLOCATION_COLUMNS)
    by_uprn = np.bincount(labels[uprn_edges[:, 0]], minlength=len(size)) > 0
    by_point = np.bincount(labels[point_edges[:, 0]], minlength=len(size)) > 0
    basis = np.where(by_uprn & by_point, "uprn+distance", np.where(by_uprn, "uprn", "distance"))
    extent = _extents(xy, labels, len(size))
    # Groups are numbered by their first building, so the order follows the input.
    first = np.full(len(size), n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    chosen = np.flatnonzero(wanted)
    number = np.zeros(len(size), dtype=np.int64)
    number[chosen[np.argsort(first[chosen], kind="stable")]] = np.arange(1, len(chosen) + 1)
    label = labels[rows]
    out = pd.DataFrame(
        {
            "group": number[label],
            "building_id": b["building_id"].astype(str).to_numpy()[rows],
            "agency": b["agency"].astype(str).to_numpy()[rows],
            "name": b["name"].astype(str).to_numpy()[rows] if "name" in b else "",
            "basis": basis[label],
            "sites": size[label],
            "agencies": agencies[label],
            "extent_m": extent[label],
        }
    )
    return out.sort_values(["group"], kind="stable", ignore_index=True)


def _extents(xy: NDArray[np.float64], labels: NDArray[np.int64], count: int) -> NDArray:
    """Diagonal of the box around each group's points, to 0.1 m (NaN: fewer than two
    members have a point)."""
    located = np.isfinite(xy).all(axis=1)
    low = np.full((count, 2), np.inf)
    high = np.full((count, 2), -np.inf)
    np.minimum.at(low, labels[located], xy[located])
    np.maximum.at(high, labels[located], xy[located])
    diagonal = np.hypot(*(high - low).T)
    located_count = np.bincount(labels[located], minlength=count)
    return np.where(located_count >= 2, np.round(diagonal, 1), np.nan)


def colocation_groups(members: pd.DataFrame) -> list[dict[str, Any]]:
    """The groups as JSON-ready records: ``group``, ``basis``, ``sites``, ``agencies``
    (sites per agency, by name), ``extent_m`` and ``buildings`` (id, agency, name of
    each), in one pass over the members (sorted by group, as
    :func:`find_colocations` returns them)."""
    if members.empty:
        return []
    columns = ("group", "building_id", "agency", "name", "basis", "sites", "extent_m")
    values = [members[c].tolist() for c in columns]
    out: list[dict[str, Any]] = []
    by_agency: dict[str, int] = {}
    for group, building_id, agency, name, basis, sites, extent in zip(*values, strict=True):
        if not out or out[-1]["group"] != group:
            by_agency = {}
            out.append(
                {
                    "group": int(group),
                    "basis": str(basis),
                    "sites": int(sites),
                    "agencies": by_agency,
                    "extent_m": None if math.isnan(float(extent)) else float(extent),
                    "buildings": [],
                }
            )
        out[-1]["buildings"].append(
            {"building_id": str(building_id), "agency": str(agency), "name": str(name)}
        )
        by_agency[str(agency)] = by_agency.get(str(agency), 0) + 1
    for record in out:
        record["agencies"] = dict(sorted(record["agencies"].items()))
    return out
