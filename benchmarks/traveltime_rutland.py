"""Rutland drive times three ways, side by side in one run, with identical answers.

Real inputs: the OpenStreetMap extract of Rutland (Feb 2018), its 23 LSOA
population-weighted centroids, and every building of the public-list register (static
libraries, fire stations, GP practices).  Each method gets the same sparse graph (the
largest strongly connected drive component, parallel edges at their minimum) and the
same snapped nodes, so their node-to-node minutes must agree exactly:

1. ``scipy``: :func:`geodata.traveltime.network_travel_times` (through-nodes
   contracted, then one multi-source ``scipy.sparse.csgraph.dijkstra`` call);
2. ``networkx``: a loop of ``nx.single_source_dijkstra_path_length``, one per zone;
3. ``osmnx``: ``ox.routing.shortest_path`` for every zone-building pair, the route's
   minutes summed edge by edge.

Run from the repository root (needs ../shared/data)::

    .venv/bin/python benchmarks/traveltime_rutland.py

Prints a table and the machine load.  "routing s" times the searches on a graph built
beforehand (scipy: best of 5; networkx and osmnx: one run each, they are slow); "graph
s" is the time to build that graph.  Repeat counts are small on purpose (the machine
is shared).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata.network import SparseGraph
from geodata.osm import read_network
from geodata.traveltime import CONNECTOR_KPH, network_travel_times, snap
from geodata.zones import points, read_zones
from tests import rutland

REPEATS = 5


def best_of(repeats: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Fastest wall time of ``repeats`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def digraph(graph: SparseGraph) -> nx.DiGraph:
    coo = graph.matrix.tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    g.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True), weight="minutes"
    )
    return g


def multidigraph(graph: SparseGraph) -> nx.MultiDiGraph:
    """The same graph as osmnx expects it: a MultiDiGraph with x/y and a crs."""
    coo = graph.matrix.tocoo()
    g = nx.MultiDiGraph(crs="EPSG:27700")
    for i, (x, y) in enumerate(graph.xy.tolist()):
        g.add_node(i, x=x, y=y)
    for u, v, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
        g.add_edge(u, v, minutes=w)
    return g


def networkx_loop(g: nx.DiGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    out = np.full((len(sources), len(targets)), np.inf)
    for i, s in enumerate(sources.tolist()):
        lengths = nx.single_source_dijkstra_path_length(g, s, weight="minutes")
        out[i] = [lengths.get(t, np.inf) for t in targets.tolist()]
    return out


def osmnx_routes(g: nx.MultiDiGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    import osmnx as ox

    orig = np.repeat(sources, len(targets)).tolist()
    dest = np.tile(targets, len(sources)).tolist()
    routes = ox.routing.shortest_path(g, orig, dest, weight="minutes", cpus=1)
    minutes = []
    for route in routes:
        steps = itertools.pairwise(route)
        minutes.append(sum(min(d["minutes"] for d in g[u][v].values()) for u, v in steps))
    return np.asarray(minutes).reshape(len(sources), len(targets))


def main() -> None:
    if not rutland.available():
        sys.exit(f"needs the real data at {rutland.DATA}")
    load_before = os.getloadavg()
    parse_s, network = best_of(1, lambda: read_network(rutland.PBF))
    zones = read_zones(rutland.ZONES).zones
    origins = points(zones, "zone_id")
    destinations = rutland.building_points()
    graph_s, graph = best_of(REPEATS, lambda: network.graph("drive"))
    scipy_s, times = best_of(
        REPEATS,
        lambda: network_travel_times(network, origins, destinations, "drive", graph=graph),
    )
    fresh_s, _ = best_of(
        REPEATS, lambda: network_travel_times(network, origins, destinations, "drive")
    )
    o_node, o_gap = snap(graph, origins[["x", "y"]].to_numpy())
    d_node, d_gap = snap(graph, destinations[["x", "y"]].to_numpy())
    per_metre = 60.0 / (CONNECTOR_KPH["drive"] * 1000.0)
    legs = o_gap[:, None] * per_metre + d_gap[None, :] * per_metre
    node_minutes = times.minutes - legs

    nx_build_s, g = best_of(1, lambda: digraph(graph))
    nx_s, nx_minutes = best_of(1, lambda: networkx_loop(g, o_node, d_node))
    ox_build_s, mg = best_of(1, lambda: multidigraph(graph))
    ox_s, ox_minutes = best_of(1, lambda: osmnx_routes(mg, o_node, d_node))
    load_after = os.getloadavg()

    nx_diff = float(np.max(np.abs(nx_minutes - node_minutes)))
    ox_diff = float(np.max(np.abs(ox_minutes - node_minutes)))
    pairs = len(origins) * len(destinations)
    print(
        f"Rutland drive network: {len(network.nodes):,} nodes / {len(network.edges):,} edges "
        f"read in {parse_s:.2f} s; drive graph {graph.n_nodes:,} nodes, "
        f"{graph.matrix.nnz:,} edges"
    )
    print(f"{len(origins)} LSOA centroids x {len(destinations)} buildings = {pairs} pairs")
    print(f"minutes: min {times.minutes.min():.2f}, max {times.minutes.max():.2f}")
    rows = [
        ("scipy multi-source dijkstra", scipy_s, graph_s, "reference"),
        ("networkx single-source loop", nx_s, nx_build_s, f"max |diff| {nx_diff:.1e} min"),
        ("osmnx shortest_path per pair", ox_s, ox_build_s, f"max |diff| {ox_diff:.1e} min"),
    ]
    print(f"{'method':32} {'routing s':>10} {'x scipy':>8} {'graph s':>8}  answers")
    for name, seconds, build, note in rows:
        print(f"{name:32} {seconds:10.4f} {seconds / scipy_s:8.1f} {build:8.3f}  {note}")
    nx_total = graph_s + nx_build_s + nx_s
    ox_total = graph_s + ox_build_s + ox_s
    print(
        "end to end from the network tables (graph, contraction, snapping, routing): "
        f"scipy {fresh_s:.3f} s, networkx {nx_total:.3f} s ({nx_total / fresh_s:.1f}x), "
        f"osmnx {ox_total:.3f} s ({ox_total / fresh_s:.1f}x)"
    )
    print(f"load average before {load_before}, after {load_after} (2 cores, shared)")
    if max(nx_diff, ox_diff) > 1e-9:
        sys.exit("the methods disagree")


if __name__ == "__main__":
    main()
