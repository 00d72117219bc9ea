"""Travel times on tiny hand-made graphs and against networkx on random graphs."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from estate.errors import SettingsError
from geodata.network import Mode, RoadNetwork
from geodata.traveltime import (
    estimated_travel_table,
    estimated_travel_times,
    network_travel_table,
    network_travel_times,
)


def _network(
    edges: list[tuple[int, int, float, str]], xy: list[tuple[float, float]]
) -> RoadNetwork:
    nodes = pd.DataFrame(
        {"node_id": range(len(xy)), "x": [p[0] for p in xy], "y": [p[1] for p in xy]}
    )
    frame = pd.DataFrame(edges, columns=["u", "v", "length_m", "highway"])
    return RoadNetwork(nodes, frame)


def _points(xy: list[tuple[float, float]], prefix: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(len(xy))],
            "x": [p[0] for p in xy],
            "y": [p[1] for p in xy],
        }
    )


def _networkx_reference(network: RoadNetwork, mode: Mode) -> nx.DiGraph:
    """The mode's usable edges in networkx (parallel edges at their minimum), restricted
    to the largest strongly connected component: the reference our searches must match."""
    usable = network.edge_minutes(mode)
    g = nx.DiGraph()
    for u, v, minutes in zip(usable["u"], usable["v"], usable["minutes"], strict=True):
        if not g.has_edge(u, v) or g[u][v]["w"] > minutes:
            g.add_edge(u, v, w=minutes)
    component = max(nx.strongly_connected_components(g), key=len)
    return g.subgraph(component).copy()


def test_line_graph_times_by_hand() -> None:
    """0 --1 km residential (30 km/h, 2 min)-- 1 --2 km primary (65 km/h)-- 2, both ways.

    From node 0 to node 2: 2 + 2000 / (65000/60) = 2 + 1.84615 minutes.  Points sit on
    nodes, so there is no off-network leg.
    """
    xy = [(0.0, 0.0), (1000.0, 0.0), (3000.0, 0.0)]
    edges = [
        (0, 1, 1000, "residential"),
        (1, 0, 1000, "residential"),
        (1, 2, 2000, "primary"),
        (2, 1, 2000, "primary"),
    ]
    times = network_travel_times(
        _network(edges, xy), _points(xy[:1], "o"), _points(xy, "d"), "drive"
    )
    np.testing.assert_allclose(times.minutes[0], [0.0, 2.0, 2.0 + 2000 / (65000 / 60)])
    walk = network_travel_times(_network(edges, xy), _points(xy[:1], "o"), _points(xy, "d"), "walk")
    np.testing.assert_allclose(walk.minutes[0], [0.0, 12.5, 37.5])  # 4.8 km/h = 80 m/min


def test_parallel_edges_take_the_fastest_and_one_way_is_respected() -> None:
    """Two parallel 0->1 edges (residential and primary); 1->0 only by a long detour."""
    xy = [(0.0, 0.0), (1000.0, 0.0), (500.0, 5000.0)]
    edges = [
        (0, 1, 1000, "residential"),
        (0, 1, 1000, "primary"),
        (1, 2, 5000, "primary"),
        (2, 0, 5000, "primary"),
    ]
    times = network_travel_times(_network(edges, xy), _points(xy, "o"), _points(xy, "d"), "drive")
    per_km = 60 / 65
    assert times.minutes[0, 1] == pytest.approx(per_km)
    assert times.minutes[1, 0] == pytest.approx(10 * per_km)


def test_off_network_leg_and_cutoff() -> None:
    """A point 200 m off node 0 walks... drives 200 m at 20 km/h = 0.6 min first."""
    xy = [(0.0, 0.0), (1000.0, 0.0)]
    edges = [(0, 1, 1000, "residential"), (1, 0, 1000, "residential")]
    origins = _points([(0.0, 200.0)], "o")
    times = network_travel_times(_network(edges, xy), origins, _points(xy, "d"), "drive")
    np.testing.assert_allclose(times.minutes[0], [0.6, 2.6])
    cut = network_travel_times(
        _network(edges, xy), origins, _points(xy, "d"), "drive", cutoff_minutes=1.0
    )
    assert cut.minutes[0, 0] == pytest.approx(0.6)
    assert np.isinf(cut.minutes[0, 1])


@pytest.mark.parametrize("seed", range(8))
def test_random_graphs_agree_with_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    xy = [(float(x), float(y)) for x, y in rng.uniform(0, 5000, size=(n, 2))]
    graph = nx.gnm_random_graph(n, 120, seed=seed, directed=True)
    classes = ["residential", "primary", "tertiary"]
    edges = []
    for u, v in graph.edges():
        length = float(np.hypot(xy[u][0] - xy[v][0], xy[u][1] - xy[v][1])) + 1.0
        edges.append((u, v, length, classes[int(rng.integers(0, 3))]))
    network = _network(edges, xy)
    times = network_travel_times(network, _points(xy, "o"), _points(xy, "d"), "drive")
    sub = _networkx_reference(network, "drive")
    nodes = sorted(sub.nodes)
    for i in nodes:
        lengths = nx.single_source_dijkstra_path_length(sub, i, weight="w")
        for j in nodes:
            assert times.minutes[i, j] == pytest.approx(lengths[j], abs=1e-9)


def test_estimate_is_labelled() -> None:
    times = estimated_travel_times(
        _points([(0.0, 0.0)], "o"), _points([(4000.0, 3000.0)], "d"), "drive"
    )
    assert times.method == "estimate"
    assert "ESTIMATE" in times.note
    assert times.minutes[0, 0] == pytest.approx(5000 * 1.3 / (40000 / 60))


def _random_network(seed: int, n: int = 60, m: int = 200) -> tuple[RoadNetwork, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    xy = [(float(x), float(y)) for x, y in rng.uniform(0, 5000, size=(n, 2))]
    graph = nx.gnm_random_graph(n, m, seed=seed, directed=True)
    classes = ["residential", "primary", "tertiary", "footway"]
    edges = [
        (u, v, float(np.hypot(xy[u][0] - xy[v][0], xy[u][1] - xy[v][1])) + 1.0, classes[k])
        for (u, v), k in zip(graph.edges(), rng.integers(0, 4, size=m), strict=True)
    ]
    points = _points([(float(x), float(y)) for x, y in rng.uniform(0, 5000, size=(25, 2))], "p")
    return _network(edges, xy), points


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_sparse_table_in_small_batches_equals_the_dense_matrix(seed: int, mode: Mode) -> None:
    """Batches of 1-3 sources, off-network legs and a cutoff: same numbers as dense."""
    network, points = _random_network(seed)
    dense = network_travel_times(network, points, points[:10], mode, cutoff_minutes=25.0)
    for batch in (1, 3):
        table = network_travel_table(
            network,
            points,
            points[:10],
            mode,
            cutoff_minutes=25.0,
            batch_sources=batch,
        )
        np.testing.assert_array_equal(table.dense().minutes, dense.minutes)
        assert table.pairs["minutes"].max() <= 25.0
        assert len(table.pairs) == int(np.isfinite(dense.minutes).sum())
    long = table.long("zone_id", "building_id")
    assert list(long.columns) == ["zone_id", "building_id", "minutes"]
    assert set(long["zone_id"]) <= set(points["id"])


@pytest.mark.parametrize("seed", range(4))
def test_walk_agrees_with_networkx_on_random_graphs(seed: int) -> None:
    """Walk mode: reverse edges added, footways in, shortest paths as networkx says."""
    network, _ = _random_network(seed)
    nodes = network.nodes.rename(columns={"node_id": "id"}).astype({"id": str})
    times = network_travel_times(network, nodes, nodes, "walk")
    sub = _networkx_reference(network, "walk")
    for i in sorted(sub.nodes):
        lengths = nx.single_source_dijkstra_path_length(sub, i, weight="w")
        for j in sorted(sub.nodes):
            assert times.minutes[i, j] == pytest.approx(lengths[j], abs=1e-9)


def test_tagged_maxspeed_is_driven_below_the_limit_and_access_column_is_honoured() -> None:
    """1 km at a tagged 50 km/h drives at 40 km/h (1.5 min); a drivable=False edge is not
    driven even though its class would allow it."""
    xy = [(0.0, 0.0), (1000.0, 0.0), (0.0, 500.0)]
    edges = pd.DataFrame(
        {
            "u": [0, 1, 0, 2, 1, 2],
            "v": [1, 0, 2, 0, 2, 1],
            "length_m": [1000.0, 1000.0, 500.0, 500.0, 2000.0, 2000.0],
            "highway": ["primary", "primary", "residential", "residential", "primary", "primary"],
            "maxspeed_kph": [50.0, 50.0, np.nan, np.nan, np.nan, np.nan],
            "drivable": [True, True, False, False, True, True],
        }
    )
    nodes = pd.DataFrame({"node_id": [0, 1, 2], "x": [p[0] for p in xy], "y": [p[1] for p in xy]})
    network = RoadNetwork(nodes, edges)
    pts = _points(xy, "n")
    drive = network_travel_times(network, pts, pts, "drive").minutes
    assert drive[0, 1] == pytest.approx(1.5)
    assert drive[0, 2] == pytest.approx(1.5 + 2000 / (65000 / 60))  # around, not the 500 m
    walk = network_travel_times(network, pts, pts, "walk").minutes
    assert walk[0, 2] == pytest.approx(500 / 80)


def test_content_hash_follows_the_tables() -> None:
    network, _ = _random_network(0)
    same = RoadNetwork(network.nodes.copy(), network.edges.copy(), name="other name")
    assert same.content_hash() == network.content_hash()
    edges = network.edges.copy()
    edges.loc[0, "length_m"] += 1.0
    assert RoadNetwork(network.nodes, edges).content_hash() != network.content_hash()


def test_bad_cutoff_is_refused() -> None:
    network, points = _random_network(0)
    with pytest.raises(SettingsError, match="cutoff_minutes must be positive"):
        network_travel_table(network, points, points, "drive", cutoff_minutes=0.0)


def _chained_network(seed: int) -> RoadNetwork:
    """A random road graph whose roads are split into 1-4 pieces by bend nodes, as
    OpenStreetMap ways are: two-way roads (both directions) and some one-way ones."""
    rng = np.random.default_rng(seed)
    n = 30
    xy = [(float(x), float(y)) for x, y in rng.uniform(0, 5000, size=(n, 2))]
    base = nx.gnm_random_graph(n, 60, seed=seed)
    edges: list[tuple[int, int, float, str]] = []
    for u, v in base.edges():
        pieces = int(rng.integers(1, 5))
        chain = [u]
        for k in range(1, pieces):
            t = k / pieces
            xy.append((xy[u][0] * (1 - t) + xy[v][0] * t, xy[u][1] * (1 - t) + xy[v][1] * t))
            chain.append(len(xy) - 1)
        chain.append(v)
        one_way = rng.random() < 0.2
        highway = ["residential", "primary", "tertiary"][int(rng.integers(0, 3))]
        for a, b in itertools.pairwise(chain):
            length = float(np.hypot(xy[a][0] - xy[b][0], xy[a][1] - xy[b][1])) + 1.0
            edges.append((a, b, length, highway))
            if not one_way:
                edges.append((b, a, length, highway))
    return _network(edges, xy)


@pytest.mark.parametrize("seed", range(6))
def test_contracted_search_agrees_with_networkx_on_chained_graphs(seed: int) -> None:
    """Origins and destinations on junctions and on bend nodes (also on one chain)."""
    network = _chained_network(seed)
    graph = network.graph("drive")
    rng = np.random.default_rng(seed)
    picked = rng.choice(graph.n_nodes, size=min(20, graph.n_nodes), replace=False)
    node_ids = graph.node_ids[picked]
    xy = [tuple(p) for p in graph.xy[picked]]
    times = network_travel_times(network, _points(xy, "o"), _points(xy, "d"), "drive")
    g = _networkx_reference(network, "drive")
    for i, source in enumerate(node_ids):
        lengths = nx.single_source_dijkstra_path_length(g, int(source), weight="w")
        for j, target in enumerate(node_ids):
            assert times.minutes[i, j] == pytest.approx(lengths[int(target)], abs=1e-9)
    keep = np.zeros(graph.n_nodes, dtype=bool)
    keep[picked] = True
    matrix, index = graph.contract(keep)
    assert matrix.shape[0] < graph.n_nodes  # bend nodes were contracted away
    assert (index[picked] >= 0).all()


def test_worker_processes_give_the_same_table() -> None:
    network, points = _random_network(1)
    one = network_travel_table(network, points, points, "drive", 20.0, batch_sources=4)
    two = network_travel_table(network, points, points, "drive", 20.0, batch_sources=4, workers=2)
    pd.testing.assert_frame_equal(one.pairs, two.pairs)


def test_estimate_table_in_blocks_equals_the_dense_estimate() -> None:
    _, points = _random_network(2)
    dense = estimated_travel_times(points, points[:7], "walk", cutoff_minutes=40.0)
    table = estimated_travel_table(
        points, points[:7], "walk", cutoff_minutes=40.0, rows_per_block=4
    )
    np.testing.assert_array_equal(table.dense().minutes, dense.minutes)
    assert table.method == "estimate" and table.note == dense.note
