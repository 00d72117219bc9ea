"""The per-building Lagrangian bound: exact knapsacks, a valid bound for any
multipliers, and reduced-cost fixing that never cuts off an optimum.

Checked against enumeration: each knapsack against every subset of its items, the
bound against the brute-force optimum of random tiny estates (with space rules,
exclusivity, fit-outs and access standards, whose rows the relaxation prices), the
bound at the LP's duals against the LP bound, and the fixings against that optimum's
plan.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from optimise import EstateModel, SolverSettings, SolveStatus
from optimise.knapsack import PackingView, _fractional_knapsack, _knapsack
from tests.test_bruteforce import brute_force, random_instance

EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30, formulation="strong")


@pytest.mark.parametrize("seed", range(40))
def test_knapsacks_of_many_buildings_at_once_match_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_b = int(rng.integers(1, 5))
    building = np.sort(rng.integers(0, n_b, size=int(rng.integers(1, 12))))
    weight = rng.integers(1, 8, size=len(building)).astype(float)
    value = -rng.integers(1, 20, size=len(building)).astype(float)
    capacity = rng.integers(0, 15, size=n_b)
    taken = _knapsack(building, weight, value, capacity)
    for b in range(n_b):
        mine = np.flatnonzero(building == b)
        best = 0.0
        for k in range(len(mine) + 1):
            for subset in itertools.combinations(mine, k):
                if weight[list(subset)].sum() <= capacity[b]:
                    best = min(best, float(value[list(subset)].sum()))
        assert float(taken[mine] @ value[mine]) == pytest.approx(best)
        assert float(taken[mine] @ weight[mine]) <= capacity[b] + 1e-9
        assert set(np.unique(taken[mine])) <= {0.0, 1.0}


@pytest.mark.parametrize("seed", range(20))
def test_fractional_knapsack_is_the_lp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    building = np.zeros(n, dtype=np.int64)
    weight = rng.uniform(0.5, 6, size=n)
    value = -rng.uniform(1, 20, size=n)
    capacity = np.array([rng.uniform(0, 15)])
    share = _fractional_knapsack(building, weight, value, capacity)
    lp = linprog(value, A_ub=weight[None, :], b_ub=capacity, bounds=[(0, 1)] * n)
    assert float(share @ value) == pytest.approx(lp.fun, abs=1e-7)
    assert float(share @ weight) <= capacity[0] + 1e-9


def _solved(seed: int, rich: bool):  # type: ignore[no-untyped-def]
    inst = random_instance(np.random.default_rng(seed), easy=seed % 2 == 0, rich=rich)
    optimum = brute_force(inst)
    if optimum is None:
        return None
    model = EstateModel(inst)
    result = model.solve(EXACT)
    assert result.status is SolveStatus.OPTIMAL
    return model, optimum, result


@pytest.mark.parametrize("rich", [False, True], ids=["plain", "space"])
@pytest.mark.parametrize("seed", range(40))
def test_the_bound_holds_for_any_multipliers_and_its_fixings_keep_the_optimum(
    seed: int, rich: bool
) -> None:
    solved = _solved(20_000 + seed, rich)
    if solved is None:
        return
    model, optimum, result = solved
    f = model.formulation
    view = PackingView.build(f)
    rng = np.random.default_rng(seed)
    spread = max(1.0, float(np.abs(view.cost[view.pair_col]).max()))
    plan_keep = result.keep.to_numpy(dtype=bool)  # type: ignore[union-attr]
    for _ in range(5):
        pi = rng.uniform(-spread, spread, size=view.n_relaxed)
        bound = view.evaluate(pi)
        assert bound.value <= optimum + 1e-6 * max(1.0, abs(optimum))
        shut, kept = bound.fixed_keep(view, optimum, 1e-6 * max(1.0, abs(optimum)))
        assert not (shut & plan_keep).any()
        assert not (kept & ~plan_keep).any()
    improved = view.lagrangian(optimum, None, np.inf, 50)
    assert improved.value <= optimum + 1e-6 * max(1.0, abs(optimum))


@pytest.mark.parametrize("rich", [False, True], ids=["plain", "space"])
@pytest.mark.parametrize("seed", range(20))
def test_from_the_lp_duals_the_bound_is_at_least_the_lp_bound(seed: int, rich: bool) -> None:
    """Every coupling row is priced (not dropped), so at the LP relaxation's duals the
    Lagrangian is the LP bound with each building's knapsack solved in integers: never
    below the LP bound, never above the optimum; subgradient steps only lift it."""
    from optimise.heuristics import lp_relaxation_duals
    from optimise.knapsack import lp_multipliers

    solved = _solved(30_000 + seed, rich)
    if solved is None:
        return
    model, optimum, _ = solved
    relaxed = lp_relaxation_duals(model, 30.0)
    assert relaxed is not None
    view = PackingView.build(model.formulation)
    tol = 1e-6 * max(1.0, abs(optimum))
    at_duals = view.evaluate(lp_multipliers(view, relaxed.row_dual))
    assert relaxed.value - tol <= at_duals.value <= optimum + tol
    improved = view.lagrangian(optimum, lp_multipliers(view, relaxed.row_dual), np.inf, 50)
    assert at_duals.value - tol <= improved.value <= optimum + tol


@pytest.mark.parametrize("seed", range(8))
def test_an_interior_point_relaxation_gives_a_proven_bound_through_the_lagrangian(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large models solve the LP by interior point without crossover: its value is not
    claimed as a bound (``exact`` is False), but the Lagrangian at its duals is one,
    and it is as good as the simplex's LP bound to within the interior point's
    tolerance."""
    from optimise import heuristics
    from optimise.knapsack import lp_multipliers

    solved = _solved(40_000 + seed, rich=True)
    if solved is None:
        return
    model, optimum, _ = solved
    simplex = heuristics.lp_relaxation_duals(model, 30.0)
    monkeypatch.setattr(heuristics, "INTERIOR_POINT_ROWS", 0)
    interior = heuristics.lp_relaxation_duals(model, 30.0)
    assert simplex is not None and simplex.exact
    assert interior is not None and not interior.exact
    tol = 1e-6 * max(1.0, abs(optimum))
    assert interior.value == pytest.approx(simplex.value, rel=1e-5, abs=1e-3)
    view = PackingView.build(model.formulation)
    bound = view.evaluate(lp_multipliers(view, interior.row_dual)).value
    assert bound <= optimum + tol
    assert bound >= simplex.value - 1e-4 * max(1.0, abs(simplex.value))


def test_the_county_bounds_benchmark_on_a_district(capsys: pytest.CaptureFixture[str]) -> None:
    """``benchmarks.county_bounds`` (BENCHMARKS.md: where the county's bound can come
    from) on the smallest synthetic size: both Lagrangians at the LP duals are proven
    bounds at least the LP's, and every floor-area row is a building's own."""
    import json

    from benchmarks.county_bounds import main

    assert main(["--size", "district", "--steps", "5"]) == 0
    out = json.loads(capsys.readouterr().out)
    tol = 1e-6 * abs(out["lp"])
    assert out["priced_at_duals"] >= out["lp"] - tol
    assert out["priced_after_steps"] >= out["priced_at_duals"] - tol
    assert out["space_inside_at_duals"] >= out["lp"] - tol
    assert out["space_rows_inside"] == out["space_rows"] > 0
