"""Points checked against the place: the zones' extent and the road network.

Travel times snap every zone and building to its nearest node of the network and time
the straight leg between them at a connector speed (:mod:`geodata.traveltime`).  A
point far from every road gets its minutes mostly from that leg, which says little:
a building 10 km outside a network's extent would show "mean 32 minutes" without a
word.  So every point snapped further than :data:`SNAP_WARN_M` (1 km by car, 500 m on
foot) is listed with its distance, and beyond :data:`SNAP_ERROR_M` (5 km) it is an
error unless the user allows it (``--allow-far-from-network`` on ``estate access``,
``inputs.allow_far_from_network`` in a scenario).

Buildings outside the area the zones cover are warned about: nobody is counted as
living near them, so they look worse for access than they are.  The area is the
convex hull of the zone points grown by a margin: the typical spacing of the zones
(the median distance from a zone to its nearest neighbour), at least
:data:`MIN_MARGIN_M`, since a zone's people live around its point, not at it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from estate.errors import CellIssue, InputDataError
from estate.validate import FILE_COLUMN, ROW_COLUMN
from geodata.network import Mode, RoadNetwork

#: A point snapped further than this from the network is listed (metres).
SNAP_WARN_M: dict[str, float] = {"drive": 1_000.0, "walk": 500.0}
#: ... and beyond this it is an error unless allowed (metres).
SNAP_ERROR_M = 5_000.0
#: Buildings further than the zones' extent plus this margin (at least) are warned about.
MIN_MARGIN_M = 1_000.0
#: How the user allows points far from the network, per command.
ALLOW_HINT = (
    "--allow-far-from-network (estate access) or inputs.allow_far_from_network: true (a scenario)"
)


@dataclass(frozen=True)
class FarPoint:
    """A zone or building whose nearest node of the ``mode`` network is ``distance_m``
    away (the straight leg its travel times start or end with)."""

    kind: Literal["zone", "building"]
    id: str
    mode: str
    distance_m: float
    file: str
    row: int | None

    @property
    def is_error(self) -> bool:
        return self.distance_m > SNAP_ERROR_M

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "mode": self.mode,
            "distance_m": self.distance_m,
            "file": self.file,
            "row": self.row,
        }


@dataclass(frozen=True)
class OutsidePoint:
    """A building ``distance_m`` outside the convex hull of the zone points (further
    than the margin)."""

    id: str
    distance_m: float
    file: str
    row: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "distance_m": self.distance_m, "file": self.file, "row": self.row}


@dataclass(frozen=True)
class PlaceChecks:
    """What the checks found: points far from the network (by mode), buildings outside
    the zones' extent, zones with no people.  Points beyond :data:`SNAP_ERROR_M` are
    :attr:`errors` unless ``allow_far``; everything found is listed either way."""

    far_from_network: tuple[FarPoint, ...] = ()
    outside_zones: tuple[OutsidePoint, ...] = ()
    zones_without_people: tuple[str, ...] = ()
    margin_m: float | None = None
    modes: tuple[str, ...] = ()
    allow_far: bool = False
    network: bool = True

    @property
    def errors(self) -> list[CellIssue]:
        """Points beyond :data:`SNAP_ERROR_M` of the network, unless allowed."""
        if self.allow_far:
            return []
        return [_far_issue(p) for p in self.far_from_network if p.is_error]

    def raise_for_errors(self) -> None:
        errors = self.errors
        if errors:
            raise FarFromNetworkError(errors, self)

    def as_dict(self) -> dict[str, Any]:
        """The checks for ``summary.json`` and ``access.json``."""
        return {
            "far_from_network": {
                "checked": self.network,
                "modes": list(self.modes),
                "listed_beyond_m": {m: SNAP_WARN_M[m] for m in self.modes},
                "error_beyond_m": SNAP_ERROR_M,
                "allowed": self.allow_far,
                "points": [p.as_dict() for p in self.far_from_network],
            },
            "outside_zones": {
                "margin_m": self.margin_m,
                "buildings": [p.as_dict() for p in self.outside_zones],
            },
            "zones_without_people": list(self.zones_without_people),
        }


class FarFromNetworkError(InputDataError):
    """Points further than :data:`SNAP_ERROR_M` from the road network, not allowed;
    ``checks`` holds everything the checks found."""

    def __init__(self, issues: list[CellIssue], checks: PlaceChecks) -> None:
        super().__init__(
            issues,
            f"{len(issues)} point(s) more than {SNAP_ERROR_M / 1000:g} km from the road "
            f"network: their travel times would be mostly a straight line off the map (use "
            f"a network that covers them, or allow it: {ALLOW_HINT})",
        )
        self.checks = checks


def _far_issue(point: FarPoint) -> CellIssue:
    return CellIssue(
        point.file,
        point.row,
        "",
        "",
        f"{point.kind} {point.id}: {point.distance_m / 1000:,.2f} km from the nearest node "
        f"of the {point.mode} network (more than {SNAP_ERROR_M / 1000:g} km from it)",
    )


def check_place(
    buildings: pd.DataFrame,
    zones: pd.DataFrame,
    network: RoadNetwork | None,
    modes: Iterable[Mode],
    allow_far: bool = False,
) -> PlaceChecks:
    """Check the buildings and zones against each other and against the network.

    ``buildings`` and ``zones`` carry ``easting``/``northing`` (and, when loaded from
    files, ``source_file``/``source_row``, which the findings name); ``modes`` are the
    travel modes the caller will compute times for.
    """
    used = tuple(sorted(set(modes)))
    far: list[FarPoint] = []
    if network is not None:
        for mode in used:
            far += snapped_far(network, mode, zones, "zone", "zone_id")
            far += snapped_far(network, mode, buildings, "building", "building_id")
    outside, margin = outside_zones(buildings, zones)
    people = (zones["population"] * zones.get("weight", 1.0)).to_numpy(dtype=float)
    empty = tuple(str(z) for z in zones.loc[people <= 0, "zone_id"])
    return PlaceChecks(
        tuple(far),
        tuple(outside),
        empty,
        margin,
        used,
        allow_far,
        network is not None,
    )


def _origin(table: pd.DataFrame, default: str) -> tuple[list[str], list[int | None]]:
    n = len(table)
    files = table[FILE_COLUMN].astype(str).tolist() if FILE_COLUMN in table else [default] * n
    rows: list[int | None] = (
        [int(r) for r in table[ROW_COLUMN]] if ROW_COLUMN in table else [None] * n
    )
    return files, rows


def snapped_far(
    network: RoadNetwork,
    mode: Mode,
    table: pd.DataFrame,
    kind: Literal["zone", "building"],
    id_column: str,
) -> list[FarPoint]:
    """The points of ``table`` whose nearest node of the ``mode`` network (the node the
    travel times snap them to) is further than :data:`SNAP_WARN_M`, furthest first."""
    if table.empty:
        return []
    graph = network.graph(mode)
    xy = table[["easting", "northing"]].to_numpy(dtype=float)
    distance, _ = graph.tree.query(xy, k=1)
    files, rows = _origin(table, kind + "s")
    ids = table[id_column].astype(str).tolist()
    found = [
        FarPoint(kind, ids[i], mode, round(float(distance[i]), 1), files[i], rows[i])
        for i in np.flatnonzero(distance > SNAP_WARN_M[mode])
    ]
    return sorted(found, key=lambda p: (-p.distance_m, p.id))


def zone_margin(zones: pd.DataFrame) -> float:
    """How far outside the zone points' hull a building may lie unremarked: the median
    distance from a zone to its nearest neighbour, at least :data:`MIN_MARGIN_M`."""
    xy = np.unique(zones[["easting", "northing"]].to_numpy(dtype=float), axis=0)
    if len(xy) < 2:
        return MIN_MARGIN_M
    distance, _ = cKDTree(xy).query(xy, k=2)
    return max(MIN_MARGIN_M, float(np.median(distance[:, 1])))


def outside_zones(
    buildings: pd.DataFrame, zones: pd.DataFrame
) -> tuple[list[OutsidePoint], float | None]:
    """Buildings further than :func:`zone_margin` outside the convex hull of the zone
    points, furthest first, and the margin used."""
    if buildings.empty or zones.empty:
        return [], None
    margin = zone_margin(zones)
    hull = shapely.MultiPoint(zones[["easting", "northing"]].to_numpy(dtype=float)).convex_hull
    points = shapely.points(buildings[["easting", "northing"]].to_numpy(dtype=float))
    distance = shapely.distance(hull, points)
    files, rows = _origin(buildings, "buildings")
    ids = buildings["building_id"].astype(str).tolist()
    found = [
        OutsidePoint(ids[i], round(float(distance[i]), 1), files[i], rows[i])
        for i in np.flatnonzero(distance > margin)
    ]
    return sorted(found, key=lambda p: (-p.distance_m, p.id)), round(margin, 1)


def check_lines(doc: dict[str, Any], limit: int = 20) -> list[str]:
    """Plain lines for the terminal from :meth:`PlaceChecks.as_dict` (as summary.json
    and access.json hold it): what the checks found, furthest first."""
    lines: list[str] = []
    far = doc["far_from_network"]
    points = far["points"]
    if points:
        limits = ", ".join(f"{v:,.0f} m ({m})" for m, v in far["listed_beyond_m"].items())
        lines.append(
            f"far from the road network: {len(points)} point(s) snapped more than {limits} "
            "from it (their minutes start with a straight leg that long):"
        )
        for p in points[:limit]:
            beyond = p["distance_m"] > far["error_beyond_m"]
            flag = (" (allowed)" if far["allowed"] else " ERROR") if beyond else ""
            lines.append(
                f"  - {p['kind']} {p['id']}: {p['distance_m'] / 1000:,.2f} km ({p['mode']})"
                f"{flag}{_at(p)}"
            )
        if len(points) > limit:
            lines.append(f"  ... and {len(points) - limit} more (all in the JSON)")
    outside = doc["outside_zones"]
    if outside["buildings"]:
        lines.append(
            f"outside the zones' extent: {len(outside['buildings'])} building(s) more than "
            f"{outside['margin_m'] / 1000:,.1f} km beyond the hull of the zone points (nobody "
            "is counted as living near them):"
        )
        for p in outside["buildings"][:limit]:
            lines.append(f"  - building {p['id']}: {p['distance_m'] / 1000:,.1f} km{_at(p)}")
        if len(outside["buildings"]) > limit:
            lines.append(f"  ... and {len(outside['buildings']) - limit} more (all in the JSON)")
    empty = doc["zones_without_people"]
    if empty:
        lines.append(
            f"{len(empty)} zone(s) with no people (they count for nothing in access shares): "
            + ", ".join(empty[:10])
            + (f" and {len(empty) - 10} more" if len(empty) > 10 else "")
        )
    return lines


def _at(point: dict[str, Any]) -> str:
    return f" ({point['file']}, row {point['row']})" if point.get("row") is not None else ""
