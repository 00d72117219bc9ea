"""The co-location search: groups of sites, exact against brute force, and at scale."""

from __future__ import annotations

import itertools
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from benchmarks.colocation_scale import register
from cli import main
from estate.load import find_colocations


def _frame(xy: np.ndarray, agency: list[str], uprn: list[str] | None = None) -> pd.DataFrame:
    n = len(xy)
    return pd.DataFrame(
        {
            "building_id": [f"b{i}" for i in range(n)],
            "agency": agency,
            "name": [f"Site {i}" for i in range(n)],
            "uprn": uprn if uprn is not None else [""] * n,
            "easting": xy[:, 0],
            "northing": xy[:, 1],
            "lat": np.nan,
            "lon": np.nan,
        }
    )


def _brute_force(frame: pd.DataFrame, metres: float) -> set[frozenset[str]]:
    """Every pair checked: union the pairs with one UPRN or within ``metres``; keep the
    parts with two or more agencies."""
    n = len(frame)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    xy = frame[["easting", "northing"]].to_numpy(float)
    uprn = frame["uprn"].tolist()
    for i, j in itertools.combinations(range(n), 2):
        same_uprn = uprn[i] != "" and uprn[i] == uprn[j]
        if same_uprn or np.hypot(*(xy[i] - xy[j])) <= metres:
            parent[root(i)] = root(j)
    parts: dict[int, list[int]] = {}
    for i in range(n):
        parts.setdefault(root(i), []).append(i)
    return {
        frozenset(frame["building_id"].iloc[p])
        for p in parts.values()
        if len(p) >= 2 and frame["agency"].iloc[p].nunique() >= 2
    }


def _groups(found: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(rows["building_id"]) for _, rows in found.groupby("group")}


@pytest.mark.parametrize("layout", ["scattered", "on a line", "repeated points", "one point"])
def test_groups_equal_brute_force(layout: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(1, 30))
        if layout == "scattered":
            xy = rng.uniform(0, 200, (n, 2)) + 480_000
        elif layout == "on a line":  # no triangulation exists without the helper points
            xy = np.column_stack([rng.uniform(0, 300, n) + 480_000, np.full(n, 300_000.0)])
        elif layout == "repeated points":
            xy = np.round(rng.uniform(0, 100, (n, 2)) / 30) * 30 + 480_000
        else:
            xy = np.full((n, 2), 480_000.0)
        agency = list(rng.choice(["A", "B", "C"], n))
        uprn = [str(rng.integers(1, 5)) if rng.random() < 0.2 else "" for _ in range(n)]
        frame = _frame(xy, agency, uprn)
        metres = float(rng.choice([5.0, 25.0, 60.0]))
        assert _groups(find_colocations(frame, metres)) == _brute_force(frame, metres)


def test_a_chain_of_links_is_one_group_with_its_extent() -> None:
    xy = np.array([[0.0, 0.0], [20.0, 0.0], [40.0, 0.0], [100.0, 0.0]]) + 480_000
    found = find_colocations(_frame(xy, ["A", "B", "A", "B"]), 25.0)
    assert found["building_id"].tolist() == ["b0", "b1", "b2"]
    assert set(found["group"]) == {1}
    assert found["extent_m"].tolist() == [40.0] * 3
    assert found["basis"].tolist() == ["distance"] * 3


def test_one_agency_alone_is_not_a_colocation() -> None:
    xy = np.full((3, 2), 480_000.0)
    assert find_colocations(_frame(xy, ["A", "A", "A"], ["7", "7", ""]), 25.0).empty


def test_uprn_links_sites_without_points() -> None:
    xy = np.array([[np.nan, np.nan], [480_000.0, 300_000.0], [490_000.0, 300_000.0]])
    found = find_colocations(_frame(xy, ["A", "B", "C"], ["100", "100", ""]), 25.0)
    assert found["building_id"].tolist() == ["b0", "b1"]
    assert found["basis"].tolist() == ["uprn", "uprn"]
    assert found["extent_m"].isna().all()  # one of the two has no point


def test_ten_thousand_at_one_point_is_one_group_quickly_and_in_bounded_memory() -> None:
    """The CI variant of benchmarks/colocation_scale.py: 20,000 rows, 2,000 at one point
    (the search used to list every pair: 2,000 at one point took 165 s and 1.5 GB)."""
    frame = register(20_000, 2_000, seed=0)
    tracemalloc.start()
    start = time.perf_counter()
    found = find_colocations(frame, 25.0)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seconds < 15.0
    assert peak < 200 * 2**20
    sizes = found.groupby("group")["building_id"].count()
    assert sizes.iloc[0] == 2_000 and found["sites"].iloc[0] == 2_000
    assert set(found.loc[found["group"] == 1, "building_id"]) == {f"S{i:06d}" for i in range(2_000)}
    assert (sizes.iloc[1:] >= 2).all()  # the near twins, each a group of its own


def test_validate_prints_a_large_group_as_one_readable_line(tmp_path: Path) -> None:
    frame = register(600, 500, seed=1).drop(columns=["lat", "lon"])
    path = tmp_path / "sites.csv"
    frame.to_csv(path, index=False)
    runner = CliRunner()
    args = ["validate", str(path), "--kind", "assets", "--rejected", str(tmp_path / "r.csv")]
    args += ["--set-aside", str(tmp_path / "s.csv")]
    done = runner.invoke(main, args)
    assert done.exit_code == 0, done.output
    lines = [line for line in done.output.splitlines() if "group 1:" in line]
    assert len(lines) == 1
    assert lines[0].startswith("  - group 1: 500 sites, at one point: S000000 (Council), ")
    assert lines[0].endswith("... and 496 more (Council 167, NHS 167, Police 166)")
    doc = json.loads(runner.invoke(main, [*args, "--json"]).output)
    first = doc["colocations"][0]
    assert first["sites"] == 500 and len(first["buildings"]) == 500
    assert first["agencies"] == {"Council": 167, "NHS": 167, "Police": 166}
