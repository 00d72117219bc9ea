"""County and region synthetic estates: build seconds, solve seconds, gap, peak memory.

    python -m benchmarks.estate_scale [--sizes county region] [--time-limit 600]
    python -m benchmarks.estate_scale --one county --time-limit 120   # one run, JSON

Each size runs in its own process so peak memory (ru_maxrss) is that run's own.  Also
times building the same model through PuLP, to show why large models go straight
into highspy.  The plan's present cost (``objective``) and the bound are reported
separately, with the solver's account of each bound (``detail``), and the wall time
of the whole run (generating the estate included) against the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from optimise import EstateInstance, EstateModel, SolverSettings
from optimise.solve import to_pulp
from scenarios.places.synthetic import synthetic_estate


def one(
    size: str, time_limit: float, seed: int, pulp_build: bool, threads: int = 1
) -> dict[str, object]:
    began = time.perf_counter()
    estate = synthetic_estate(size, seed)
    generated = time.perf_counter()
    instance = EstateInstance.build(
        estate.register, estate.zones, estate.travel, estate.access, estate.finance, estate.policy
    )
    model = EstateModel(instance, started=generated)
    formulated = time.perf_counter()
    lp = model.formulation.lp
    pulp_seconds = None
    if pulp_build:
        t = time.perf_counter()
        to_pulp(lp)
        pulp_seconds = round(time.perf_counter() - t, 2)
    result = model.solve(
        SolverSettings(time_limit_seconds=time_limit, mip_rel_gap=0.005, threads=threads)
    )
    done = time.perf_counter()
    evaluation = result.evaluation
    return {
        "size": size,
        "seed": seed,
        "threads": threads,
        "buildings": len(instance.buildings),
        "services": len(instance.services),
        "zones": len(instance.zones),
        "rows": lp.shape[0],
        "columns": lp.shape[1],
        "nonzeros": int(lp.matrix.nnz),
        "generate_seconds": round(generated - began, 2),
        "formulate_seconds": round(formulated - generated, 2),
        "pulp_build_seconds": pulp_seconds,
        "solver_build_seconds": round(result.build_seconds - model.build_seconds, 2),
        "solve_seconds": round(result.solve_seconds, 2),
        "total_seconds": round(done - began, 2),
        "status": result.status.value,
        "gap": None if result.gap is None else round(result.gap, 5),
        "objective": result.objective,
        "bound": result.bound,
        "baseline_cost": None if evaluation is None else round(evaluation.baseline_cost, 2),
        "npv_saving": None if evaluation is None else round(evaluation.npv_saving, 2),
        "solver": result.solver,
        "detail": result.detail,
        "wall_after_generating_seconds": round(done - generated, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # the MIP's own process beside the search (threads >= 2), 0 when there is none
        "peak_child_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        "load_average": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["county", "region"])
    parser.add_argument("--one", default=None, help="run one size in this process, print JSON")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pulp-build", action="store_true", help="also time a PuLP build")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="2: the whole MIP runs in a second process beside the heuristic search",
    )
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.time_limit, args.seed, args.pulp_build, args.threads)))
        return 0
    for size in args.sizes:
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.estate_scale",
            "--one",
            size,
            "--time-limit",
            str(args.time_limit),
            "--seed",
            str(args.seed),
            "--threads",
            str(args.threads),
        ]
        if args.pulp_build:
            cmd.append("--pulp-build")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        print(line or json.dumps({"size": size, "error": proc.stderr[-500:]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
