"""Record the demo's model and what the installed HiGHS says about it.

Run from the repository root, with the highspy whose answer is to be recorded:

    python tests/data/highspy-1.16.0-demo/record.py --model    # write demo.mps.gz
    python tests/data/highspy-1.16.0-demo/record.py --claims   # add this HiGHS's answers
    python tests/data/highspy-1.16.0-demo/record.py --optimum  # add the gap-0 optimum

Everything goes into ``record.json`` beside this file (merged with what is there).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import metadata
from pathlib import Path

import highspy
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from optimise.model import EstateModel  # noqa: E402
from optimise.solve import read_mps, write_mps  # noqa: E402
from scenarios.running.run import travel_times  # noqa: E402
from scenarios.scenario.runinputs import demo_inputs, modes_of  # noqa: E402

MODEL = HERE / "demo.mps.gz"
RECORD = HERE / "record.json"
SEED = 2026
DEMO_GAP = 0.005


def demo_model() -> EstateModel:
    from optimise.instance import EstateInstance

    inputs = demo_inputs(SEED)
    times = travel_times(inputs)
    instance = EstateInstance.build(
        inputs.register,
        inputs.zones,
        {mode: times[mode] for mode in modes_of(inputs.access)},
        inputs.access,
        inputs.finance,
        inputs.policy,
    )
    return EstateModel(instance)


def run_highs(
    start: list[float] | None, gap: float, seconds: float, keep_plan: bool = False
) -> dict[str, object]:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(MODEL))
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("time_limit", seconds)
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = start
        solution.value_valid = True
        h.setSolution(solution)
    began = time.perf_counter()
    h.run()
    info = h.getInfo()
    has = int(info.primal_solution_status) == 2
    plan = {}
    if has and keep_plan:
        x = np.asarray(h.getSolution().col_value, dtype=float)
        integer = np.asarray(h.getLp().integrality_) == highspy.HighsVarType.kInteger
        x[integer] = np.round(x[integer])
        plan = {"plan_nonzero_columns": {str(j): float(x[j]) for j in np.flatnonzero(x)}}
    return plan | {
        "highspy": metadata.version("highspy"),
        "warm_start": start is not None,
        "mip_rel_gap": gap,
        "model_status": h.getModelStatus().name,
        "objective": float(info.objective_function_value) if has else None,
        "mip_dual_bound": float(info.mip_dual_bound) if has else None,
        "seconds": round(time.perf_counter() - began, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", action="store_true")
    parser.add_argument("--claims", action="store_true")
    parser.add_argument("--optimum", action="store_true")
    args = parser.parse_args()
    record = json.loads(RECORD.read_text()) if RECORD.is_file() else {}
    if args.model:
        model = demo_model()
        write_mps(model.formulation.lp, MODEL)
        start = model.baseline_start()
        assert start is not None and set(np.unique(start)) <= {0.0, 1.0}
        lp = read_mps(MODEL)
        record["model"] = {
            "what": f"estate demo, seed {SEED}: the MILP as written by HiGHS",
            "columns": len(lp.c),
            "rows": len(lp.row_lo),
            "baseline_columns_at_one": [int(j) for j in np.flatnonzero(start)],
            "baseline_objective": float(lp.c @ start + lp.constant),
        }
    start = [0.0] * record["model"]["columns"]
    for j in record["model"]["baseline_columns_at_one"]:
        start[j] = 1.0
    if args.claims:
        claims = record.setdefault("claims", {})
        claims[metadata.version("highspy")] = [
            run_highs(start, DEMO_GAP, 60.0),
            run_highs(None, DEMO_GAP, 60.0),
        ]
    if args.optimum:
        record["optimum"] = run_highs(start, 0.0, 900.0, keep_plan=True)
    RECORD.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
