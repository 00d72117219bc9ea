"""Solve one OR-Library p-median instance with PySAL spopt, for comparison.

    python -m benchmarks.spopt_pmed ../shared/data/orlib/pmed/pmed1.txt --json

Same distances as ``benchmarks.orlib`` (last-listed duplicate edge wins), same
solver (HiGHS in process, through PuLP, spopt's own route), relative gap 0.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pulp

from benchmarks.orlib import read_pmed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from spopt.locate import PMedian  # optional: pip install spopt

    start = time.perf_counter()
    data = read_pmed(args.file)
    model = PMedian.from_cost_matrix(data.cost, np.ones(data.n), p_facilities=data.p)
    built = time.perf_counter()
    solver = pulp.HiGHS(msg=False, timeLimit=args.time_limit, gapRel=0.0, threads=1)
    model.solve(solver, results=False)
    done = time.perf_counter()
    out = {
        "instance": args.file.stem,
        "kind": "pmed",
        "objective": float(pulp.value(model.problem.objective)),
        "status": pulp.LpStatus[model.problem.status],
        "sol_status": int(model.problem.sol_status),
        "seconds": round(done - start, 3),
        "build_seconds": round(built - start, 3),
        "solve_seconds": round(done - built, 3),
    }
    print(json.dumps(out) if args.json else out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
