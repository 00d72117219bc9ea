"""Where a county's lower bound can come from: the LP relaxation, the per-building
knapsack Lagrangian (coupling rows priced) at the LP duals and after subgradient steps,
and the same with each building's floor-area rows kept inside its own problem.

    python -m benchmarks.county_bounds [--size county] [--steps 300] [--simplex]

Each building's problem with its floor-area rows inside is solved exactly as a small
MIP (scipy's HiGHS).  If that barely lifts the bound, the per-building decomposition is
near its best and branch-and-price on it would not close the gap at the root.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from optimise import EstateInstance, EstateModel, heuristics
from optimise.formulation import Formulation
from optimise.heuristics import lp_relaxation_duals
from optimise.knapsack import PackingView, lp_multipliers
from optimise.solve import quiet_native_stdout
from scenarios.places.synthetic import synthetic_estate


def local_space_rows(
    f: Formulation, view: PackingView
) -> tuple[dict[int, list[tuple[np.ndarray, np.ndarray, float]]], list[int]]:
    """Floor-area rows ``pairs of b <= area x keep[b]`` touching one building only: per
    building (pairs, coefficients, area), and their positions among the relaxed rows."""
    lp = f.lp
    keep_of_col = np.full(len(lp.c), -1)
    keep_of_col[f.keep_col] = np.arange(len(f.keep_col))
    pair_of_col = np.full(len(lp.c), -1)
    pair_of_col[f.pair_col] = np.arange(len(f.pair_col))
    a = lp.matrix.tocsr()
    position = {int(row): i for i, row in enumerate(view.relaxed_rows)}
    inside: dict[int, list[tuple[np.ndarray, np.ndarray, float]]] = {}
    moved = []
    for row in f.space_rows:
        cols = a.indices[a.indptr[row] : a.indptr[row + 1]]
        vals = a.data[a.indptr[row] : a.indptr[row + 1]]
        kb, pp = keep_of_col[cols], pair_of_col[cols]
        if ((kb < 0) & (pp < 0)).any() or (kb >= 0).sum() != 1:
            continue
        if lp.row_hi[row] != 0 or np.isfinite(lp.row_lo[row]):
            continue
        b = int(kb[kb >= 0][0])
        if (view.pair_building[pp[pp >= 0]] != b).any():
            continue
        inside.setdefault(b, []).append((pp[pp >= 0], vals[pp >= 0], -float(vals[kb >= 0][0])))
        moved.append(position[int(row)])
    return inside, moved


def with_space_inside(f: Formulation, view: PackingView, pi: np.ndarray) -> tuple[float, int]:
    """The Lagrangian at ``pi`` with each building's floor-area rows in its own problem
    (their multipliers dropped), each building solved exactly; and how many rows moved."""
    inside, moved = local_space_rows(f, view)
    pi = pi.copy()
    pi[moved] = 0.0
    base = view.evaluate(pi)
    reduced = view.reduced_costs(view.project(pi))
    value, fixed = reduced[view.pair_col], reduced[view.keep_col]
    open_value = fixed.copy()
    for b in range(view.n_buildings):
        items = np.flatnonzero((view.pair_building == b) & view.pair_open & (value < 0))
        if not len(items):
            continue
        at = {int(p): i for i, p in enumerate(items)}
        constraints = []
        if view.capacity[b] >= 0:
            constraints.append(
                LinearConstraint(view.pair_weight[items][None, :], -np.inf, view.capacity[b])
            )
        for pairs, coef, area in inside.get(b, []):
            row = np.zeros(len(items))
            for p, c in zip(pairs, coef, strict=True):
                if int(p) in at:
                    row[at[int(p)]] = c
            constraints.append(LinearConstraint(row[None, :], -np.inf, area))
        with quiet_native_stdout():
            res = milp(
                value[items],
                constraints=constraints or None,
                integrality=(~view.pair_divisible[items]).astype(int),
                bounds=Bounds(0, 1),
            )
        open_value[b] = fixed[b] + min(0.0, float(res.fun))
    keep = np.where(view.forced_open, True, np.where(view.forced_closed, False, open_value < 0))
    old_part = float(np.where(base.keep, base.open_value, 0.0).sum())
    new_part = float(np.where(keep, open_value, 0.0).sum())
    return base.value - old_part + new_part, len(moved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="county")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=300, help="subgradient steps")
    parser.add_argument(
        "--simplex",
        action="store_true",
        help="solve the LP by dual simplex at any size (default: interior point above "
        f"{heuristics.INTERIOR_POINT_ROWS:,} rows, as the solver does)",
    )
    args = parser.parse_args(argv)
    if args.simplex:
        heuristics.INTERIOR_POINT_ROWS = 1 << 62
    estate = synthetic_estate(args.size, args.seed)
    instance = EstateInstance.build(
        estate.register, estate.zones, estate.travel, estate.access, estate.finance, estate.policy
    )
    model = EstateModel(instance)
    f = model.formulation
    out: dict[str, object] = {"size": args.size, "seed": args.seed}
    t = time.perf_counter()
    relaxed = lp_relaxation_duals(model, 3600.0)
    if relaxed is None:
        print(json.dumps(out | {"error": "LP relaxation not solved"}))
        return 1
    out |= {"lp": relaxed.value, "lp_exact": relaxed.exact, "lp_seconds": time.perf_counter() - t}
    view = PackingView.build(f)
    pi = lp_multipliers(view, relaxed.row_dual)
    out["priced_at_duals"] = view.evaluate(pi).value
    t = time.perf_counter()
    upper = 1.1 * abs(relaxed.value)  # a step target above the bound; no plan is needed
    best = view.lagrangian(upper, pi, np.inf, args.steps)
    out |= {"priced_after_steps": best.value, "steps_seconds": time.perf_counter() - t}
    t = time.perf_counter()
    value, moved = with_space_inside(f, view, pi)
    out |= {
        "space_inside_at_duals": value,
        "space_rows_inside": moved,
        "space_rows": len(f.space_rows),
        "space_inside_seconds": time.perf_counter() - t,
    }
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
