"""OpenStreetMap road data parsed into the tables of a :class:`~geodata.network.RoadNetwork`.

The parsing half of :mod:`geodata.osm`, with no dependency on the network class, so
that :meth:`RoadNetwork.from_file` and :meth:`RoadNetwork.from_osmnx` can use it:

- ``.osm`` and ``.osm.pbf`` (and ``.osm.bz2``/``.osm.gz``) are read with pyosmium, the
  OpenStreetMap Foundation's bindings of libosmium: wheels for Linux, macOS and Windows
  on PyPI, exact node identities (no coordinate matching), one reader for every format.
- ``.graphml`` (osmnx's format) is parsed attribute by attribute: older osmnx versions
  wrote every value as text (``"20 mph"``, ``"['a', 'b']"``, ``"True"``).
- a networkx graph in osmnx's layout, in memory, with its attributes as Python values.

Each way's consecutive node pairs become directed edges (both ways unless the way is
one-way) in EPSG:27700 metres, with the road class, the speed limit in km/h (``nan``
where untagged or unreadable, so the class default applies), and whether cars and
pedestrians may use it.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from estate.coords import BNG, lonlat_to_bng
from estate.errors import CellIssue, InputDataError
from geodata import osmtags

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".o5m")
GRAPHML_SUFFIXES = (".graphml",)


@dataclass(frozen=True)
class Tables:
    """A road network's nodes and directed edges, as :class:`RoadNetwork` holds them."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    name: str
    notes: tuple[str, ...]


@dataclass
class _Ways:
    """Directed edges gathered way by way before they become tables."""

    u: list[int] = field(default_factory=list)
    v: list[int] = field(default_factory=list)
    highway: list[str] = field(default_factory=list)
    maxspeed: list[float] = field(default_factory=list)
    drivable: list[bool] = field(default_factory=list)
    walkable: list[bool] = field(default_factory=list)
    way_id: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def count(self, what: str, example: object = "") -> None:
        self.counts[what] = self.counts.get(what, 0) + 1
        if example != "" and what not in self.examples:
            self.examples[what] = str(example)

    def add_way(
        self,
        way_id: int,
        refs: list[int],
        tags: Mapping[str, object],
        direction: int | None = None,
    ) -> bool:
        """Add a way's segments; ``False`` when it is neither drivable nor walkable.

        ``direction`` (1 along, -1 against, 0 both) overrides the way's own one-way
        tags, for sources whose edges are already directed.
        """
        highway = osmtags.first(tags.get("highway", "")).lower()
        drive, walk = osmtags.drivable(tags), osmtags.walkable(tags)
        if not (drive or walk) or len(refs) < 2:
            self.count("ways that are not roads anyone may use")
            return False
        oneway = osmtags.parse_oneway(tags.get("oneway", ""), tags)
        general = tags.get("maxspeed", "") or tags.get("maxspeed:type", "")
        speeds = []
        for side in ("forward", "backward"):
            value = tags.get(f"maxspeed:{side}", "") or general
            kph = osmtags.parse_maxspeed(value, highway, oneway != 0)
            if value != "" and math.isnan(kph):
                self.count("maxspeed values not understood (road-class speed used)", value)
            speeds.append(kph)
        pairs = list(itertools.pairwise(refs))
        travel = oneway if direction is None else direction
        if travel >= 0:
            self._extend(pairs, way_id, highway, speeds[0], drive, walk)
        if travel <= 0:
            self._extend([(b, a) for a, b in pairs], way_id, highway, speeds[1], drive, walk)
        return True

    def _extend(
        self,
        pairs: list[tuple[int, int]],
        way_id: int,
        highway: str,
        kph: float,
        drive: bool,
        walk: bool,
    ) -> None:
        n = len(pairs)
        self.u.extend(a for a, _ in pairs)
        self.v.extend(b for _, b in pairs)
        self.highway.extend([highway] * n)
        self.maxspeed.extend([kph] * n)
        self.drivable.extend([drive] * n)
        self.walkable.extend([walk] * n)
        self.way_id.extend([way_id] * n)

    def tables(self, nodes: pd.DataFrame, name: str, extra_notes: list[str]) -> Tables:
        edges = pd.DataFrame(
            {
                "u": np.asarray(self.u, dtype=np.int64),
                "v": np.asarray(self.v, dtype=np.int64),
                "highway": pd.Series(self.highway, dtype=str),
                "maxspeed_kph": np.asarray(self.maxspeed, dtype=float),
                "drivable": np.asarray(self.drivable, dtype=bool),
                "walkable": np.asarray(self.walkable, dtype=bool),
                "way_id": np.asarray(self.way_id, dtype=np.int64),
            }
        )
        nodes = nodes.loc[nodes["node_id"].isin(pd.unique(edges[["u", "v"]].to_numpy().ravel()))]
        nodes = nodes.sort_values("node_id", kind="stable").reset_index(drop=True)
        xy = nodes.set_index("node_id")[["x", "y"]]
        a = xy.loc[edges["u"]].to_numpy()
        b = xy.loc[edges["v"]].to_numpy()
        edges.insert(2, "length_m", np.hypot(*(a - b).T))
        notes = [f"{count:,} {what}" for what, count in sorted(self.counts.items())]
        notes += [f"e.g. {what}: {value!r}" for what, value in sorted(self.examples.items())]
        return Tables(nodes, edges, name, tuple(notes + extra_notes))


def suffix(path: Path) -> str:
    """The road-network format a file name says (``.osm.pbf``, ``.graphml``, ...)."""
    name = path.name.lower()
    for suffix in (*OSM_SUFFIXES, *GRAPHML_SUFFIXES):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def file_tables(path: str | Path) -> Tables:
    """Parse a road network file, choosing the reader by its suffix (no cache)."""
    path = Path(path)
    if not path.is_file():
        raise InputDataError(
            [CellIssue(str(path), None, "", "", "no such road network file")],
            "the road network cannot be read",
        )
    kind = suffix(path)
    if kind in OSM_SUFFIXES:
        return osm_tables(path)
    if kind in GRAPHML_SUFFIXES:
        return graphml_tables(path)
    raise InputDataError(
        [
            CellIssue(
                str(path),
                None,
                "",
                kind,
                "unknown road network format: use .osm, .osm.pbf or .graphml",
            )
        ],
        "the road network cannot be read",
    )


def osm_tables(path: str | Path) -> Tables:
    """Read the ``highway=*`` ways of an OpenStreetMap file (``.osm``, ``.osm.pbf``, ...)."""
    import osmium

    path = Path(path)
    ways = _Ways()
    lon: dict[int, float] = {}
    lat: dict[int, float] = {}
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way):
                continue
            refs: list[int] = []
            for node in obj.nodes:
                if not node.location.valid():
                    ways.count("way nodes without a location (segments skipped)", node.ref)
                    continue
                refs.append(node.ref)
                lon[node.ref] = node.location.lon
                lat[node.ref] = node.location.lat
            ways.add_way(obj.id, refs, {tag.k: tag.v for tag in obj.tags})
    except RuntimeError as exc:
        raise InputDataError(
            [CellIssue(str(path), None, "", "", f"not a readable OpenStreetMap file: {exc}")],
            "the road network cannot be read",
        ) from exc
    if not ways.u:
        raise InputDataError(
            [CellIssue(str(path), None, "highway", "", "no usable highway ways in the file")],
            "the road network is empty",
        )
    ids = np.fromiter(lon.keys(), dtype=np.int64, count=len(lon))
    x, y = lonlat_to_bng(np.fromiter(lon.values(), float), np.fromiter(lat.values(), float))
    nodes = pd.DataFrame({"node_id": ids, "x": x, "y": y})
    return ways.tables(nodes, path.name, [f"read with pyosmium from {path.name}"])


_NUMBER = re.compile(r"^-?\d+$")


def _node_key(value: str) -> int | None:
    return int(value) if _NUMBER.match(value) else None


def _float(value: object) -> float:
    try:
        return float(osmtags.first(value))
    except ValueError:
        return math.nan


def graphml_tables(path: str | Path) -> Tables:
    """Read an osmnx graphml file, parsing its text attributes (any osmnx version).

    Node coordinates are transformed from the graph's ``crs`` attribute (WGS84 when
    absent) to EPSG:27700.  Edge ``length`` (metres) is used when present and numeric,
    else the straight line between the end nodes.  An undirected graph gives both
    directions of every edge.
    """
    import networkx as nx

    path = Path(path)
    try:
        graph = nx.read_graphml(path, node_type=str, force_multigraph=True)
    except (nx.NetworkXError, OSError, ValueError, SyntaxError) as exc:
        raise InputDataError(
            [CellIssue(str(path), None, "", "", f"not a readable graphml file: {exc}")],
            "the road network cannot be read",
        ) from exc
    return graph_tables(graph, path.name, f"read from graphml {path.name}")


def graph_tables(graph: Any, name: str, how: str = "") -> Tables:
    """A networkx graph in osmnx's layout as road network tables.

    Nodes carry ``x``/``y`` in the graph's ``crs`` (WGS84 when absent); edges carry the
    way's tags (``highway``, ``maxspeed``, ``access``, ...), ``length`` in metres and
    ``osmid``, as text (graphml files) or as Python values (a graph in memory: numbers,
    booleans, lists of merged ways' values).  ``name`` names the graph in errors.
    """
    keys = list(graph.nodes)
    numeric = [_node_key(str(k)) for k in keys]
    if all(n is not None for n in numeric):
        ids = np.asarray(numeric, dtype=np.int64)
    else:
        ids = np.arange(len(keys), dtype=np.int64)
    index = dict(zip(keys, ids.tolist(), strict=True))
    data = [graph.nodes[k] for k in keys]
    x = np.array([_float(d.get("x", "")) for d in data], dtype=float)
    y = np.array([_float(d.get("y", "")) for d in data], dtype=float)
    bad = [k for k, a, b in zip(keys, x, y, strict=True) if not (np.isfinite(a) and np.isfinite(b))]
    if bad:
        raise InputDataError(
            [CellIssue(name, None, "x/y", str(k), "node without numeric x and y") for k in bad],
            "the road network has nodes without coordinates",
        )
    crs_text = str(graph.graph.get("crs", "epsg:4326"))
    try:
        transformer = Transformer.from_crs(CRS.from_user_input(crs_text), BNG, always_xy=True)
    except Exception as exc:  # pyproj raises its own CRSError; name it in our terms
        raise InputDataError(
            [CellIssue(name, None, "crs", crs_text, f"unknown coordinate system: {exc}")],
            "the road network cannot be read",
        ) from exc
    bx, by = transformer.transform(x, y)
    nodes = pd.DataFrame({"node_id": ids, "x": np.asarray(bx), "y": np.asarray(by)})
    position = dict(zip(ids.tolist(), zip(nodes["x"], nodes["y"], strict=True), strict=True))

    ways = _Ways()
    directed = graph.is_directed()
    lengths: list[float] = []
    for u_key, v_key, attrs in graph.edges(data=True):
        u, v = index[u_key], index[v_key]
        tags = {k: text for k, val in attrs.items() if (text := _tag_text(val)) is not None}
        tags["highway"] = osmtags.first(attrs.get("highway", ""))
        length = _float(attrs.get("length", ""))
        if not math.isfinite(length):
            length = math.dist(position[u], position[v])
        # An osmnx edge is already one direction of travel; an undirected graph's edge
        # order says nothing about the way's direction, so it is used both ways.
        before = len(ways.u)
        ways.add_way(_int_or_zero(attrs.get("osmid", "")), [u, v], tags, 1 if directed else 0)
        lengths.extend([length] * (len(ways.u) - before))
    if not ways.u:
        raise InputDataError(
            [CellIssue(name, None, "highway", "", "no usable road edges in the graph")],
            "the road network is empty",
        )
    tables = ways.tables(nodes, name, [f"{how or name} ({crs_text})"])
    tables.edges["length_m"] = np.asarray(lengths, dtype=float)
    return tables


def _tag_text(value: object) -> str | None:
    """A tag's value as OpenStreetMap writes it: text as it is, a list of merged ways'
    values joined by ``;``, ``yes``/``no`` for a boolean; ``None`` for no value."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set):
        parts = [t for v in value if (t := _tag_text(v))]
        return ";".join(parts) if parts else None
    if isinstance(value, int | float | np.integer | np.floating):
        return str(value)
    return None  # geometry and other objects are not tags


def _int_or_zero(value: object) -> int:
    text = osmtags.first(value)
    return int(text) if _NUMBER.match(text) else 0
