"""Scale: a 100,000-node road network x 1,000 origins, 30-minute cutoff.

The network is SYNTHETIC (seeded), shaped like an unsimplified OpenStreetMap network:
a jittered grid of junctions with roads of several classes (trunk every 40th line,
primary every 10th, unclassified and residential between), 5% of local roads missing,
and each road split into 1-5 pieces by bend nodes, so that about 80% of the nodes are
bend nodes, as in the real Rutland extract.  A second variant has no bend nodes at
all (every node a junction): the worst case for the contraction step.

Origins are 1,000 random points (zones), destinations 2,000 random points (buildings);
:func:`geodata.traveltime.network_travel_table` computes the sparse long table of every
pair within 30 minutes, by car.  Each variant runs in its own process so its peak
memory (max RSS) is its own.

Run from the repository root::

    .venv/bin/python benchmarks/traveltime_scale.py            # both variants
    .venv/bin/python benchmarks/traveltime_scale.py --workers 2
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata.network import RoadNetwork
from geodata.traveltime import network_travel_table

SEED = 2026
TARGET_NODES = 100_000
ORIGINS = 1_000
DESTINATIONS = 2_000
CUTOFF_MINUTES = 30.0


def synthetic_network(bends: bool, seed: int = SEED) -> RoadNetwork:
    """About 100,000 nodes; see the module docstring."""
    rng = np.random.default_rng(seed)
    side = 145 if bends else 316
    spacing = 400.0 if bends else 180.0
    jitter = spacing * 0.2
    j = np.arange(side * side)
    jx = (j % side) * spacing + rng.uniform(-jitter, jitter, j.size)
    jy = (j // side) * spacing + rng.uniform(-jitter, jitter, j.size)
    right = j[(j % side) != side - 1]
    up = j[j + side < side * side]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + side])
    line = np.concatenate([right // side, up % side])  # the grid line a road runs along
    highway = np.where(
        line % 40 == 0,
        "trunk",
        np.where(line % 10 == 0, "primary", np.where(line % 2 == 0, "unclassified", "residential")),
    )
    local = np.isin(highway, ["unclassified", "residential"])
    present = ~local | (rng.random(u.size) >= 0.05)
    u, v, highway = u[present], v[present], highway[present]
    xs, ys = [jx], [jy]
    next_id = j.size
    tails, heads, classes = [], [], []
    pieces = rng.integers(1, 6, size=u.size) if bends else np.ones(u.size, dtype=np.int64)
    for k in range(1, int(pieces.max()) + 1):
        chosen = np.flatnonzero(pieces == k)
        if not chosen.size:
            continue
        a, b = u[chosen], v[chosen]
        chain = [a]
        for step in range(1, k):
            t = step / k
            ids = np.arange(next_id, next_id + chosen.size)
            next_id += chosen.size
            xs.append(jx[a] * (1 - t) + jx[b] * t + rng.normal(0, 15, chosen.size))
            ys.append(jy[a] * (1 - t) + jy[b] * t + rng.normal(0, 15, chosen.size))
            chain.append(ids)
        chain.append(b)
        for first, second in itertools.pairwise(chain):
            tails += [first, second]
            heads += [second, first]
            classes += [highway[chosen]] * 2
    x, y = np.concatenate(xs), np.concatenate(ys)
    nodes = pd.DataFrame({"node_id": np.arange(x.size), "x": x + 400_000, "y": y + 200_000})
    tail, head = np.concatenate(tails), np.concatenate(heads)
    edges = pd.DataFrame(
        {
            "u": tail,
            "v": head,
            "length_m": np.hypot(x[tail] - x[head], y[tail] - y[head]) + 1.0,
            "highway": np.concatenate(classes),
        }
    )
    return RoadNetwork(nodes, edges, name=f"synthetic grid ({'bends' if bends else 'no bends'})")


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MB (Linux reports KB); RUSAGE_CHILDREN: the largest
    worker process."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def run_variant(bends: bool, workers: int) -> None:
    network = synthetic_network(bends)
    rng = np.random.default_rng(SEED + 1)
    lo_x, hi_x = network.nodes["x"].min(), network.nodes["x"].max()
    lo_y, hi_y = network.nodes["y"].min(), network.nodes["y"].max()

    def scatter(n: int, prefix: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": [f"{prefix}{i}" for i in range(n)],
                "x": rng.uniform(lo_x, hi_x, n),
                "y": rng.uniform(lo_y, hi_y, n),
            }
        )

    origins, destinations = scatter(ORIGINS, "z"), scatter(DESTINATIONS, "b")
    before = rss_mb()
    start = time.perf_counter()
    graph = network.graph("drive")
    graph_s = time.perf_counter() - start
    start = time.perf_counter()
    table = network_travel_table(
        network, origins, destinations, "drive", CUTOFF_MINUTES, graph=graph, workers=workers
    )
    search_s = time.perf_counter() - start
    kept = graph.contract(np.zeros(graph.n_nodes, dtype=bool))[0].shape[0]
    print(
        f"{network.name}: {len(network.nodes):,} nodes, {len(network.edges):,} edges; "
        f"drive graph {graph.n_nodes:,} nodes ({kept:,} junctions after contraction)\n"
        f"  {ORIGINS:,} origins x {DESTINATIONS:,} destinations, cutoff {CUTOFF_MINUTES:g} min, "
        f"{workers} worker(s): graph {graph_s:.2f} s + table {search_s:.2f} s = "
        f"{graph_s + search_s:.2f} s; {len(table.pairs):,} pairs within the cutoff; "
        f"peak RSS {rss_mb():,.0f} MB ({before:,.0f} MB before the graph)"
        + (f", largest worker {rss_mb(resource.RUSAGE_CHILDREN):,.0f} MB" if workers > 1 else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["bends", "no-bends"])
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.variant:
        run_variant(args.variant == "bends", args.workers)
        return
    print(f"load average before: {os.getloadavg()} (2 cores, shared)")
    for variant in ("bends", "no-bends"):
        subprocess.run(
            [sys.executable, __file__, "--variant", variant, "--workers", str(args.workers)],
            check=True,
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
