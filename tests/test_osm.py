"""OpenStreetMap readers: tag parsing, a hand-made .osm file, old-osmnx graphml text,
and place names (cache hit; offline failure without a hang).  No test goes online."""

from __future__ import annotations

import itertools
import math
import socket
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from estate.coords import bng_to_lonlat
from estate.errors import InputDataError
from geodata import osmtags
from geodata.network import MAXSPEED_RUNNING_FACTOR, RoadNetwork
from geodata.osm import NetworkUnavailableError, network_from_place, place_cache_path, read_network
from geodata.traveltime import network_travel_times
from tests.tiny_places import write_osm, write_tiny_register

MPH = 1.609344


@pytest.mark.parametrize(
    ("value", "highway", "oneway", "kph"),
    [
        ("30 mph", "", False, 30 * MPH),
        ("20mph", "", False, 20 * MPH),
        ("50", "", False, 50.0),
        ("50 km/h", "", False, 50.0),
        ("national", "primary", False, 60 * MPH),
        ("national", "trunk", True, 70 * MPH),
        ("national", "motorway", True, 70 * MPH),
        ("GB:nsl_single", "", False, 60 * MPH),
        ("GB:nsl_dual", "", False, 70 * MPH),
        ("30;40", "", False, 35.0),
        ("['30 mph', '40 mph']", "", False, 35 * MPH),
        (["30 mph", "50 mph"], "", False, 40 * MPH),
        ("10 knots", "", False, 18.52),
    ],
)
def test_maxspeed_values(value: object, highway: str, oneway: bool, kph: float) -> None:
    assert osmtags.parse_maxspeed(value, highway, oneway) == pytest.approx(kph)


@pytest.mark.parametrize("value", ["", "none", "signals", "variable", "walk", "fast", None])
def test_maxspeed_without_a_number_is_nan(value: object) -> None:
    assert math.isnan(osmtags.parse_maxspeed(value))


@pytest.mark.parametrize(
    ("value", "tags", "expected"),
    [
        ("yes", {}, 1),
        ("True", {}, 1),
        ("-1", {}, -1),
        ("no", {"junction": "roundabout"}, 0),
        ("False", {}, 0),
        ("", {"junction": "roundabout"}, 1),
        ("", {"highway": "motorway"}, 1),
        ("", {"highway": "primary"}, 0),
        ("['True', 'False']", {}, 1),
    ],
)
def test_oneway(value: str, tags: dict[str, str], expected: int) -> None:
    assert osmtags.parse_oneway(value, tags) == expected


@pytest.mark.parametrize(
    ("tags", "drive", "walk"),
    [
        ({"highway": "primary"}, True, True),
        ({"highway": "motorway"}, True, False),
        ({"highway": "footway"}, False, True),
        ({"highway": "track"}, False, True),
        ({"highway": "residential", "access": "private"}, False, False),
        ({"highway": "residential", "access": "private", "foot": "yes"}, False, True),
        ({"highway": "residential", "motor_vehicle": "no"}, False, True),
        ({"highway": "service", "service": "parking_aisle"}, False, True),
        ({"highway": "primary", "foot": "no"}, True, False),
        ({"highway": "proposed"}, False, False),
        ({"highway": "['residential', 'unclassified']"}, True, True),
        ({"highway": "pedestrian", "area": "yes"}, False, True),
    ],
)
def test_who_may_use_a_way(tags: dict[str, str], drive: bool, walk: bool) -> None:
    assert osmtags.drivable(tags) is drive
    assert osmtags.walkable(tags) is walk


# A hand-made network (EPSG:27700 offsets from BASE, metres):
#
#   4 (1000,1000)
#   | \          way 11: 3 -> 4 residential, one-way
#   |  \         way 12: 4 -> 1 residential, one-way
#   1---2---3---5   way 10: 1-2-3 primary, 30 mph, two-way
#       (footway 2-4: walkers only)
#   way 14: 5-3 tertiary oneway=-1 (so 3 -> 5); way 15: 5-3 residential oneway (5 -> 3)
#   way 16: 2-5 private service road (nobody); way 17: 1-3 proposed (not a road)
BASE = (480_000.0, 300_000.0)
XY = {1: (0, 0), 2: (1000, 0), 3: (2000, 0), 4: (1000, 1000), 5: (3000, 0)}
WAYS = [
    (10, [1, 2, 3], {"highway": "primary", "maxspeed": "30 mph"}),
    (11, [3, 4], {"highway": "residential", "oneway": "yes"}),
    (12, [4, 1], {"highway": "residential", "oneway": "yes"}),
    (13, [2, 4], {"highway": "footway"}),
    (14, [5, 3], {"highway": "tertiary", "oneway": "-1"}),
    (15, [5, 3], {"highway": "residential", "oneway": "yes"}),
    (16, [2, 5], {"highway": "service", "access": "private"}),
    (17, [1, 3], {"highway": "proposed"}),
]


def _lonlat() -> dict[int, tuple[float, float]]:
    e = np.array([BASE[0] + XY[n][0] for n in XY])
    n_ = np.array([BASE[1] + XY[n][1] for n in XY])
    lon, lat = bng_to_lonlat(e, n_)
    return {node: (float(a), float(b)) for node, a, b in zip(XY, lon, lat, strict=True)}


def _write_osm(path: Path) -> Path:
    nodes = {k: (BASE[0] + x, BASE[1] + y) for k, (x, y) in XY.items()}
    return write_osm(path, nodes, WAYS)


def _on_nodes(ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [str(i) for i in ids],
            "x": [BASE[0] + XY[i][0] for i in ids],
            "y": [BASE[1] + XY[i][1] for i in ids],
        }
    )


def _per_metre(kph: float) -> float:
    return 60.0 / (kph * 1000.0)


PRIMARY = 30 * MPH * MAXSPEED_RUNNING_FACTOR  # tagged 30 mph, driven at 0.8 of it
RESIDENTIAL = 30.0
TERTIARY = 45.0
DIAGONAL = math.hypot(1000, 1000)


def _expected_drive() -> np.ndarray:
    """Drive minutes between nodes 1..5 worked by hand from the picture above."""
    p, r, t = _per_metre(PRIMARY), _per_metre(RESIDENTIAL), _per_metre(TERTIARY)
    one_two, two_three = 1000 * p, 1000 * p
    three_four, four_one = DIAGONAL * r, DIAGONAL * r
    three_five, five_three = 1000 * t, 1000 * r
    d13 = one_two + two_three
    m = np.zeros((5, 5))
    m[0] = [0, one_two, d13, d13 + three_four, d13 + three_five]
    m[1] = [one_two, 0, two_three, two_three + three_four, two_three + three_five]
    m[2] = [d13, two_three, 0, three_four, three_five]
    m[3] = [four_one, four_one + one_two, four_one + d13, 0, four_one + d13 + three_five]
    m[4] = [five_three + m[2, 0], five_three + m[2, 1], five_three, five_three + three_four, 0]
    return m


def test_osm_file_gives_directed_edges_speeds_and_access(tmp_path: Path) -> None:
    network = read_network(_write_osm(tmp_path / "tiny.osm"))
    edges = network.edges
    pairs = set(zip(edges["u"], edges["v"], strict=True))
    assert {(1, 2), (2, 1), (2, 3), (3, 2)} <= pairs  # two-way primary
    assert (3, 4) in pairs and (4, 3) not in pairs  # one-way
    assert (3, 5) in pairs and (5, 3) in pairs  # -1 gives 3->5; the other way 5->3
    tertiary = edges.loc[edges["way_id"] == 14]
    assert list(zip(tertiary["u"], tertiary["v"], strict=True)) == [(3, 5)]
    assert not set(edges["way_id"]) & {16, 17}  # private and proposed ways are not roads
    assert any("not roads anyone may use" in n for n in network.notes)
    footway = edges.loc[edges["way_id"] == 13]
    assert not footway["drivable"].any() and footway["walkable"].all()
    primary = edges.loc[edges["way_id"] == 10, "maxspeed_kph"]
    assert primary.to_numpy() == pytest.approx(30 * MPH)
    assert edges.loc[edges["way_id"] == 10, "length_m"].to_numpy() == pytest.approx(1000, abs=0.05)


def test_osm_file_drive_times_by_hand(tmp_path: Path) -> None:
    network = read_network(_write_osm(tmp_path / "tiny.osm"))
    points = _on_nodes([1, 2, 3, 4, 5])
    times = network_travel_times(network, points, points, "drive")
    # Snapping legs are at most a few centimetres of projection round-off.
    np.testing.assert_allclose(times.minutes, _expected_drive(), atol=2e-4)


def test_osm_file_walk_uses_footways_and_ignores_one_way(tmp_path: Path) -> None:
    network = read_network(_write_osm(tmp_path / "tiny.osm"))
    points = _on_nodes([1, 2, 4])
    walk = network_travel_times(network, points, points, "walk").minutes
    per_m = _per_metre(4.8)
    assert walk[1, 2] == pytest.approx(1000 * per_m, abs=2e-4)  # the footway
    assert walk[0, 2] == pytest.approx(DIAGONAL * per_m, abs=2e-4)  # against the one-way
    np.testing.assert_allclose(walk, walk.T, atol=2e-4)


def _old_osmnx_graphml(path: Path) -> Path:
    """The tiny network as older osmnx wrote it: every attribute text, lists as literals."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, (lon, lat) in _lonlat().items():
        graph.add_node(str(node), x=repr(lon), y=repr(lat), osmid=str(node))

    def add(u: int, v: int, tags: dict[str, str], way: int, oneway: bool) -> None:
        length = math.dist(XY[u], XY[v])
        attrs = {k: val for k, val in tags.items() if k != "oneway"}
        attrs.update(osmid=str(way), length=repr(length), oneway=str(oneway))
        graph.add_edge(str(u), str(v), **attrs)

    for way_id, refs, tags in WAYS:
        if not (osmtags.drivable(tags) or osmtags.walkable(tags)):
            continue
        direction = osmtags.parse_oneway(tags.get("oneway", ""), tags)
        for a, b in itertools.pairwise(refs):
            if direction >= 0:
                add(a, b, tags, way_id, direction != 0)
            if direction <= 0:
                add(b, a, tags, way_id, direction != 0)
    # Older osmnx merged parallel ways into list-valued attributes.
    graph.edges["1", "2", 0].update(highway="['primary', 'secondary']", maxspeed="['30 mph']")
    nx.write_graphml(graph, path)
    return path


def test_graphml_text_attributes_give_the_same_times(tmp_path: Path) -> None:
    network = read_network(_old_osmnx_graphml(tmp_path / "tiny.graphml"))
    assert isinstance(network, RoadNetwork)
    points = _on_nodes([1, 2, 3, 4, 5])
    times = network_travel_times(network, points, points, "drive")
    np.testing.assert_allclose(times.minutes, _expected_drive(), atol=2e-4)


def test_unknown_format_and_missing_file_name_the_file(tmp_path: Path) -> None:
    odd = tmp_path / "roads.shp"
    odd.write_text("x")
    with pytest.raises(InputDataError, match=r"roads\.shp.*unknown road network format"):
        read_network(odd)
    with pytest.raises(InputDataError, match="no such road network file"):
        read_network(tmp_path / "absent.osm.pbf")
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a pbf")
    with pytest.raises(InputDataError, match=r"broken\.osm\.pbf"):
        read_network(broken)


def test_place_is_read_from_the_cache_without_going_online(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import osmnx as ox

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("went online")

    monkeypatch.setattr(ox, "graph_from_place", refuse)
    cached = place_cache_path("Tiny Town")
    _old_osmnx_graphml(cached)
    network = network_from_place("Tiny Town")
    assert len(network.nodes) == 5


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_place_offline_fails_fast_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nominatim and Overpass pointed at a closed loopback port: as if offline."""
    import osmnx as ox

    port = _closed_port()
    monkeypatch.setattr(ox.settings, "nominatim_url", f"http://127.0.0.1:{port}/")
    monkeypatch.setattr(ox.settings, "overpass_url", f"http://127.0.0.1:{port}/api")
    start = time.monotonic()
    with pytest.raises(NetworkUnavailableError, match=r"'Nowhere Vale'.*--network"):
        network_from_place("Nowhere Vale")
    assert time.monotonic() - start < 15
    assert ox.settings.overpass_rate_limit is True  # settings are put back

    register = write_tiny_register(tmp_path / "register")
    result = CliRunner().invoke(
        main,
        [
            *("access", "--register", str(register), "--synthetic-zones", "3"),
            *("--place", "Nowhere Vale", "-o", str(tmp_path / "out")),
        ],
    )
    assert result.exit_code == 1
    assert "Error: could not download the road network of 'Nowhere Vale'" in result.output
    assert not (tmp_path / "out").exists()


def test_parsed_network_is_cached_by_file_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geodata.osm as osm

    path = _write_osm(tmp_path / "tiny.osm")
    first = read_network(path, use_cache=True)

    def refuse(_: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(osm, "read_osm", refuse)
    again = read_network(path, use_cache=True)
    assert again.content_hash() == first.content_hash()
    assert again.notes == first.notes and again.name == first.name
    pd.testing.assert_frame_equal(again.edges, first.edges)

    changed = path.read_text().replace("30 mph", "40 mph")
    path.write_text(changed)
    with pytest.raises(AssertionError, match="parsed again"):
        read_network(path, use_cache=True)


def test_an_osmnx_graph_in_memory_gives_the_same_times(tmp_path: Path) -> None:
    """RoadNetwork.from_osmnx on a graph osmnx itself built from the .osm file."""
    import osmnx as ox

    graph = ox.graph_from_xml(_write_osm(tmp_path / "tiny.osm"), simplify=False, retain_all=True)
    assert isinstance(graph.edges[1, 2, 0]["length"], float)  # typed, not text
    network = RoadNetwork.from_osmnx(graph, "tiny")
    points = _on_nodes([1, 2, 3, 4, 5])
    times = network_travel_times(network, points, points, "drive")
    # osmnx measures each edge on a sphere (haversine), the hand-worked times in grid
    # metres: they differ by the sphere's radius against the ellipsoid's here (< 0.5%).
    np.testing.assert_allclose(times.minutes, _expected_drive(), rtol=5e-3, atol=2e-4)
    # A projected graph is read in its own coordinate system, with the same lengths.
    projected = RoadNetwork.from_osmnx(ox.project_graph(graph, to_crs="EPSG:32630"))
    again = network_travel_times(projected, points, points, "drive")
    np.testing.assert_allclose(again.minutes, times.minutes, atol=2e-3)


def test_python_values_of_merged_ways_are_read_as_tags() -> None:
    """Lists (merged ways), booleans and numbers, as osmnx keeps them in memory."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, (lon, lat) in _lonlat().items():
        graph.add_node(node, x=lon, y=lat)
    graph.add_edge(1, 2, highway=["primary", "secondary"], maxspeed=["30 mph"], osmid=[10, 11])
    graph.add_edge(2, 1, highway="primary", maxspeed=48, oneway=False, osmid=10, length=1000.0)
    network = RoadNetwork.from_osmnx(graph)
    edges = network.edges.set_index(["u", "v"])
    assert edges.loc[(1, 2), "highway"] == "primary"
    assert edges.loc[(1, 2), "maxspeed_kph"] == pytest.approx(30 * MPH)
    assert edges.loc[(2, 1), "maxspeed_kph"] == pytest.approx(48)
    assert edges.loc[(2, 1), "length_m"] == pytest.approx(1000.0)


def test_road_network_from_file_reads_every_format(tmp_path: Path) -> None:
    osm = RoadNetwork.from_file(_write_osm(tmp_path / "tiny.osm"))
    graphml = RoadNetwork.from_file(_old_osmnx_graphml(tmp_path / "tiny.graphml"))
    points = _on_nodes([1, 2, 3, 4, 5])
    for network in (osm, graphml):
        times = network_travel_times(network, points, points, "drive")
        np.testing.assert_allclose(times.minutes, _expected_drive(), atol=2e-4)
