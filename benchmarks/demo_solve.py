"""The demo's solve (what `make demo` does), timed: status, gap, seconds, NPV saving.

    python benchmarks/demo_solve.py [--repeat 3] [--seed 2026]

Times whichever checkout comes first on the path: to time another one, put it first
(``PYTHONPATH=/path/to/other/checkout python benchmarks/demo_solve.py``).  One JSON
line a repeat; no files are written.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    import scenarios.running.run
    from scenarios.running.run import run_demo

    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        _, doc = run_demo(None, args.seed)
        record = {
            "code": os.path.dirname(os.path.dirname(scenarios.running.run.__file__)),
            "status": doc["status"],
            "gap": doc["gap"],
            "solve_seconds": doc["solve_seconds"],
            "npv_saving": doc.get("npv_saving"),
            "disposed": doc.get("buildings", {}).get("disposed"),
            "wall_seconds": round(time.perf_counter() - wall, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "load_average": round(os.getloadavg()[0], 2),
        }
        print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
