"""Speed-up of a 16-point sweep of the demo place with 2 Dask workers against 1.

    python -m benchmarks.sweep_speedup [--json]

Both sweeps run in this one invocation, one after the other, into fresh folders, on
the same 16 points (library access 10/15 min x discount rate 3%/3.5% x shared/siloed x
optimism bias 10%/20%), each on its own LocalCluster of single-threaded worker
processes; wall time includes starting the cluster.  The load average is recorded
before and after each, since the machine may be shared.  The solver's time limit is
raised to 600 s so that every point stops at the demo's 0.5% gap, not at a limit that
a loaded machine reaches sooner; the two results tables must then be byte-identical.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

GRID = {
    "access.library.max_minutes": ("10", "15"),
    "finance.discount_rate": ("0.03", "0.035"),
    "policy.sharing": ("shared", "siloed"),
    "finance.optimism_bias": ("0.1", "0.2"),
}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


TIME_LIMIT = "600"


def one(base: Path, out: Path, workers: int) -> dict[str, Any]:
    from scenarios.scenario.file import load_scenario
    from scenarios.sweeps.sweep import Axis, run_sweep

    axes = [Axis(k, v) for k, v in GRID.items()]
    scenario = load_scenario(base, {"solver.time_limit_seconds": TIME_LIMIT})
    before = load()
    start = time.perf_counter()
    result = run_sweep(scenario, axes, out, workers=workers)
    wall = time.perf_counter() - start
    doc = json.loads((out / "sweep.json").read_text())
    return {
        "workers": workers,
        "points": len(result.points),
        "computed": len(result.computed),
        "failed": len(result.failed),
        "statuses": result.results["status"].value_counts().to_dict(),
        "wall_seconds": round(wall, 2),
        "point_seconds_sum": round(sum(p["seconds"] or 0 for p in doc["points"]), 2),
        "point_cpu_seconds_sum": round(sum(p["cpu_seconds"] or 0 for p in doc["points"]), 2),
        "load_before": before,
        "load_after": load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", type=Path, help="keep the sweep folders here")
    args = parser.parse_args()
    from scenarios.scenario.template import init_folder

    with tempfile.TemporaryDirectory(prefix="estate-bench-") as tmp:
        folder = args.keep or Path(tmp)
        init_folder(folder / "demo", demo_seed=2026, force=True)
        base = folder / "demo" / "scenario.yaml"
        for n in (1, 2):
            shutil.rmtree(folder / f"w{n}", ignore_errors=True)
        runs = [one(base, folder / f"w{n}", n) for n in (1, 2)]
        tables = [pd.read_csv(folder / f"w{n}" / "results.csv") for n in (1, 2)]
        same = tables[0].equals(tables[1])
        differ = [] if same else _differences(*tables)
    doc = {
        "benchmark": "sweep_speedup",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "runs": runs,
        "speedup_2_vs_1": round(runs[0]["wall_seconds"] / runs[1]["wall_seconds"], 2),
        "identical_results": same,
        "differences": differ,
    }
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    for r in runs:
        print(
            f"{r['workers']} worker(s): {r['points']} points in {r['wall_seconds']} s "
            f"(sum of point times {r['point_seconds_sum']} s; load {r['load_before']} -> "
            f"{r['load_after']})"
        )
    print(f"speed-up 2 vs 1: {doc['speedup_2_vs_1']}x; identical results: {same}")
    for row in differ:
        print(f"  differs: {row}")


def _differences(a: pd.DataFrame, b: pd.DataFrame) -> list[dict[str, Any]]:
    cols = ["point", "status", "gap", "npv_saving"]
    merged = a[cols].merge(b[cols], on="point", suffixes=("_1", "_2"))
    changed = (merged["npv_saving_1"] != merged["npv_saving_2"]) | (
        merged["status_1"] != merged["status_2"]
    )
    return list(merged.loc[changed].to_dict(orient="records"))


if __name__ == "__main__":
    main()
