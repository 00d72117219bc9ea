"""The co-location search at scale: many sites, thousands of them at one point.

Run from the repository root:

    python -m benchmarks.colocation_scale                     # 100,000 rows, 10,000 at one point
    python -m benchmarks.colocation_scale --rows 5000 --same 5000 --validate
    python -m benchmarks.colocation_scale --spread 8      # 10,000 distinct points within 8 m

Generates a register (seeded): ``--same`` sites of three agencies at one point (a
shared campus listed site by site) and the rest scattered over a 40 x 40 km county,
with one site in twenty given a twin of another agency within 10 m.  Times
:func:`estate.load.find_colocations` on it in a child process and reports its peak
memory (the child's maximum resident set, so the figure includes Python, pandas and
scipy themselves).  With ``--validate`` it also times ``estate validate FILE --kind
assets --json`` end to end on the same rows written as a CSV.  Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

AGENCIES = ("Council", "NHS", "Police")
#: A county-sized square, National Grid metres (south-west corner).
ORIGIN = (460_000.0, 280_000.0)
SIDE_M = 40_000.0


def register(rows: int, same: int, seed: int, spread_m: float = 0.0) -> pd.DataFrame:
    """``rows`` sites, the first ``same`` at one point (or scattered within
    ``spread_m`` of it: distinct points, every pair within the radius); the rest
    scattered, with one site in twenty followed by a near twin of another agency."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, SIDE_M, size=(rows, 2)) + np.array(ORIGIN)
    xy[:same] = np.array(ORIGIN) + SIDE_M / 2
    xy[:same] += rng.uniform(-spread_m, spread_m, size=(same, 2))
    twins = np.arange(same + 1, rows, 20)
    xy[twins] = xy[twins - 1] + rng.uniform(-7.0, 7.0, size=(len(twins), 2))
    agency = np.array(AGENCIES)[np.arange(rows) % len(AGENCIES)]
    return pd.DataFrame(
        {
            "building_id": [f"S{i:06d}" for i in range(rows)],
            "agency": agency,
            "name": [f"Site {i}" for i in range(rows)],
            "uprn": "",
            "easting": np.round(xy[:, 0], 1),
            "northing": np.round(xy[:, 1], 1),
            "lat": np.nan,
            "lon": np.nan,
        }
    )


def _search(rows: int, same: int, seed: int, metres: float, spread: float) -> dict[str, object]:
    from estate.load import find_colocations

    frame = register(rows, same, seed, spread)
    start = time.perf_counter()
    found = find_colocations(frame, metres)
    seconds = time.perf_counter() - start
    return {
        "search_seconds": round(seconds, 2),
        "groups": int(found["group"].nunique()),
        "sites_in_groups": len(found),
        "largest_group": int(found["sites"].max()) if len(found) else 0,
    }


def _child(args: list[str]) -> tuple[float, float, str]:
    """Run a child process: wall seconds, its own peak resident memory (MB), stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode not in (0, 1):
            raise SystemExit(f"{args[0]} failed ({child.returncode}): {err.read()[-2000:]!r}")
        return seconds, usage.ru_maxrss / 1024.0, out.read().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--same", type=int, default=10_000, help="sites at one point")
    parser.add_argument("--metres", type=float, default=25.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--spread", type=float, default=0.0, help="scatter the --same sites within this (m)"
    )
    parser.add_argument("--validate", action="store_true", help="also time estate validate")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_search(args.rows, args.same, args.seed, args.metres, args.spread)))
        return 0
    out: dict[str, object] = {
        "rows": args.rows,
        "same_point": args.same,
        "metres": args.metres,
        "spread_m": args.spread,
        "load_average": round(os.getloadavg()[0], 2),
    }
    me = [sys.executable, "-m", "benchmarks.colocation_scale", "--child"]
    sizes = ["--rows", str(args.rows), "--same", str(args.same), "--seed", str(args.seed)]
    sizes += ["--spread", str(args.spread)]
    seconds, peak, text = _child([*me, *sizes, "--metres", str(args.metres)])
    out.update(json.loads(text))
    out["search_process_seconds"] = round(seconds, 2)
    out["search_process_peak_mb"] = round(peak, 1)
    if args.validate:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sites.csv"
            frame = register(args.rows, args.same, args.seed, args.spread)
            frame.drop(columns=["lat", "lon"]).to_csv(path, index=False)
            estate = Path(sys.executable).with_name("estate")
            seconds, peak, text = _child(
                [
                    str(estate),
                    "validate",
                    str(path),
                    "--kind",
                    "assets",
                    "--json",
                    "--colocation-metres",
                    str(args.metres),
                    "--rejected",
                    str(Path(tmp) / "rejected.csv"),
                    "--set-aside",
                    str(Path(tmp) / "set_aside.csv"),
                ]
            )
            doc = json.loads(text)
            out["validate_seconds"] = round(seconds, 2)
            out["validate_peak_mb"] = round(peak, 1)
            out["validate_groups"] = len(doc["colocations"])
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
