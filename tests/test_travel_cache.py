"""The travel-time cache: a second run is served from disk; any changed input misses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.cache import read_parquet_metadata, travel_table, write_long_parquet
from geodata.network import Mode, RoadNetwork


def _grid(n: int = 6, spacing: float = 400.0) -> RoadNetwork:
    ids = np.arange(n * n)
    nodes = pd.DataFrame({"node_id": ids, "x": (ids % n) * spacing, "y": (ids // n) * spacing})
    pairs = [(i, i + 1) for i in ids if i % n != n - 1] + [(i, i + n) for i in ids if i + n < n * n]
    u = [a for a, b in pairs] + [b for a, b in pairs]
    v = [b for a, b in pairs] + [a for a, b in pairs]
    edges = pd.DataFrame({"u": u, "v": v, "length_m": spacing, "highway": "residential"})
    return RoadNetwork(nodes, edges, name="grid")


def _points(prefix: str, xy: list[tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(len(xy))],
            "x": [p[0] for p in xy],
            "y": [p[1] for p in xy],
        }
    )


ZONES = _points("z", [(0.0, 0.0), (1000.0, 900.0), (1900.0, 100.0)])
SITES = _points("b", [(400.0, 400.0), (2000.0, 2000.0)])


def test_second_run_is_served_from_the_cache(isolated_cache: Path) -> None:
    network = _grid()
    first = travel_table(network, ZONES, SITES, "drive", 30.0)
    assert not first.hit and first.path is not None and first.path.is_file()
    assert first.path.parent == isolated_cache / "travel_times"
    second = travel_table(_grid(), ZONES.copy(), SITES.copy(), "drive", 30.0)
    assert second.hit and second.key == first.key
    pd.testing.assert_frame_equal(second.table.pairs, first.table.pairs)
    assert second.table.note == first.table.note and second.table.method == "network"


@pytest.mark.parametrize("change", ["network", "zones", "ids", "mode", "cutoff", "connector"])
def test_any_changed_input_misses_the_cache(change: str) -> None:
    network = _grid()
    travel_table(network, ZONES, SITES, "drive", 30.0)
    zones = ZONES.copy()
    mode: Mode = "drive"
    cutoff: float = 30.0
    connector: float | None = None
    if change == "network":
        edges = network.edges.copy()
        edges.loc[0, "length_m"] = 100.0
        network = RoadNetwork(network.nodes, edges)
    elif change == "zones":
        zones.loc[1, "x"] += 1.0
    elif change == "ids":
        zones.loc[1, "id"] = "renamed"
    elif change == "mode":
        mode = "walk"
    elif change == "cutoff":
        cutoff = 20.0
    else:
        connector = 10.0
    again = travel_table(network, zones, SITES, mode, cutoff, connector_kph=connector)
    assert not again.hit
    fresh = travel_table(
        network, zones, SITES, mode, cutoff, connector_kph=connector, use_cache=False
    )
    pd.testing.assert_frame_equal(again.table.pairs, fresh.table.pairs)


def test_changed_network_gives_new_times_not_stale_ones() -> None:
    network = _grid()
    before = travel_table(network, ZONES, SITES, "drive", None).table.dense().minutes
    edges = network.edges.assign(highway="primary")  # faster roads everywhere
    after = travel_table(RoadNetwork(network.nodes, edges), ZONES, SITES, "drive", None)
    assert not after.hit
    assert (after.table.dense().minutes < before).all()


def test_a_damaged_cache_entry_is_recomputed() -> None:
    network = _grid()
    first = travel_table(network, ZONES, SITES, "drive", 30.0)
    assert first.path is not None
    first.path.write_bytes(b"garbage")
    again = travel_table(network, ZONES, SITES, "drive", 30.0)
    assert not again.hit
    pd.testing.assert_frame_equal(again.table.pairs, first.table.pairs)


def test_estimates_are_cached_and_labelled_in_the_parquet(tmp_path: Path) -> None:
    first = travel_table(None, ZONES, SITES, "drive", 60.0)
    assert first.table.method == "estimate" and "ESTIMATE" in first.table.note
    assert travel_table(None, ZONES, SITES, "drive", 60.0).hit
    assert not travel_table(None, ZONES, SITES, "drive", 60.0, circuity=1.5).hit
    path = write_long_parquet(first.table, tmp_path / "t.parquet")
    meta = read_parquet_metadata(path)
    assert meta["method"] == "estimate" and "ESTIMATE" in meta["note"]
    back = pd.read_parquet(path)
    assert list(back.columns) == ["zone_id", "building_id", "minutes"]
    pd.testing.assert_series_equal(back["minutes"], first.table.pairs["minutes"], check_names=False)
