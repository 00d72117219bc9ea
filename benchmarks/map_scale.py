"""The decision map at county scale: page size and drawing time in headless Chromium.

    python -m benchmarks.map_scale [--folder runs/county-map] [--time-limit 60]
                                   [--roads ../shared/data/osm/rutland-latest.osm.pbf]

Makes (once) the run folder of the synthetic county estate (1,000 buildings, 3,000
services, 500 zones; straight-line travel times) with a short time limit, draws its map
with ``estate map --offline``, and opens it at 1366x768 in headless Chromium with the
network closed: seconds until the page has loaded and painted twice after its script
ran, markers drawn, errors.  With ``--roads``, a real county's road network (the file's
nodes moved so that its centre is the estate's) is put in the folder as its basemap, to
measure the roads layer too.  Prints one JSON line a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = (1366, 768)
PAINTED = (
    "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => "
    "r(performance.now()))))"
)


def make_run(folder: Path, time_limit: float, seed: int) -> dict[str, object]:
    """The county estate's run folder, solved with a short time limit."""
    from optimise.settings import SolverSettings
    from scenarios.api import run_scenario
    from scenarios.run import RunInputs
    from scenarios.synthetic import synthetic_estate

    began = time.perf_counter()
    estate = synthetic_estate("county", seed)
    inputs = RunInputs(
        name=estate.name,
        register=estate.register,
        zones=estate.zones,
        access=estate.access,
        finance=estate.finance,
        policy=estate.policy,
        solver=SolverSettings(time_limit_seconds=time_limit, mip_rel_gap=0.01),
        notice="SYNTHETIC: a generated county estate for the map benchmark.",
    )
    run = run_scenario(inputs, out=folder, travel=estate.travel, force=True)
    return {
        "made": str(folder),
        "status": run.status,
        "buildings": len(estate.register.buildings),
        "zones": len(estate.zones),
        "moves": run.summary.get("services_moved"),
        "seconds": round(time.perf_counter() - began, 1),
    }


def add_roads(folder: Path, roads: Path) -> dict[str, object]:
    """A real network, centred on the estate, as the folder's roads (drawn, not used)."""
    import pandas as pd

    from estate.io import write_csv
    from geodata.osm import read_network

    network = read_network(roads)
    zones = pd.read_csv(folder / "inputs" / "zones.csv")
    dx = zones["easting"].mean() - network.nodes["x"].mean()
    dy = zones["northing"].mean() - network.nodes["y"].mean()
    nodes = network.nodes.assign(x=network.nodes["x"] + dx, y=network.nodes["y"] + dy)
    write_csv(folder / "inputs" / "network_nodes.csv", nodes)
    write_csv(folder / "inputs" / "network_edges.csv", network.edges)
    return {"roads": roads.name, "road_nodes": len(nodes), "road_edges": len(network.edges)}


def draw(folder: Path) -> dict[str, object]:
    """``estate map --offline`` and the page in headless Chromium."""
    sys.path.insert(0, str(ROOT))
    from tests.browser import Chromium, find_chromium

    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cli", "map", str(folder), "--offline", "--quiet"],
        check=True,
        cwd=ROOT,
    )
    written = time.perf_counter() - began
    page = folder / "map.html"
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no Chromium installed (apt-get install chromium)")
    with Chromium(chromium) as browser:
        browser.open("about:blank", settle_seconds=0.0, viewport=VIEWPORT)
        began = time.perf_counter()
        report = browser.open(page.as_uri(), settle_seconds=0.0, viewport=VIEWPORT)
        painted = browser.call(
            "Runtime.evaluate", {"expression": PAINTED, "awaitPromise": True, "returnByValue": True}
        )["result"]["value"]
        wall = time.perf_counter() - began
        markers = browser.evaluate("document.querySelectorAll('path.estate-building').length")
        shot = folder.parent / f"{folder.name}-1366x768.png"
        shot.write_bytes(browser.screenshot())
    return {
        "page_mb": round(page.stat().st_size / 1e6, 2),
        "write_map_seconds": round(written, 2),
        "painted_ms_after_navigation": round(float(painted)),
        "open_and_paint_seconds": round(wall, 2),
        "markers": markers,
        "errors": report.errors[:3],
        "screenshot": str(shot),
        "load_average": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "runs" / "county-map")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--roads", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    if not (folder / "summary.json").is_file():
        print(json.dumps(make_run(folder, args.time_limit, args.seed)), flush=True)
    if args.roads is not None:
        target = folder.with_name(folder.name + "-roads")
        if not target.exists():
            shutil.copytree(folder, target)
        print(json.dumps(add_roads(target, args.roads)), flush=True)
        folder = target
    for _ in range(args.repeat):
        print(json.dumps({"folder": folder.name, **draw(folder)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
