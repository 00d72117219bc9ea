"""The large-estate heuristics only ever walk between feasible plans, and help."""

from __future__ import annotations

import time

import numpy as np
import pytest

from optimise import EstateModel, SolverSettings
from optimise.heuristics import greedy_disposal, improve_by_windows, lp_relaxation
from optimise.model import is_feasible
from tests.test_bruteforce import random_instance

EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30, strategy="exact")


def _estates_with_a_feasible_baseline(count: int, rich: bool = False) -> list[EstateModel]:
    found = []
    for seed in range(200):
        model = EstateModel(random_instance(np.random.default_rng(seed), easy=True, rich=rich))
        if model.baseline_start() is not None:
            found.append(model)
        if len(found) == count:
            break
    return found


@pytest.mark.parametrize(
    "model",
    _estates_with_a_feasible_baseline(12) + _estates_with_a_feasible_baseline(12, rich=True),
)
def test_greedy_and_windows_give_feasible_plans_between_baseline_and_optimum(
    model: EstateModel,
) -> None:
    lp = model.formulation.lp
    baseline = model.baseline_start()
    assert baseline is not None
    cost = lambda x: float(lp.c @ x + lp.constant)  # noqa: E731
    x_lp = lp_relaxation(model, EXACT)
    greedy = greedy_disposal(model, x_lp, time.perf_counter() + 10)
    assert greedy is not None and is_feasible(lp, greedy)
    assert cost(greedy) <= cost(baseline) + 1e-6
    better = improve_by_windows(model, greedy, EXACT, time.perf_counter() + 10)
    assert is_feasible(lp, better)
    assert cost(better) <= cost(greedy) + 1e-6
    optimum = model.solve(EXACT, diagnose=False)
    assert optimum.objective is not None
    assert cost(better) >= optimum.objective - 1e-6
    assert x_lp is not None and cost(x_lp) <= optimum.objective + 1e-6


def test_heuristic_strategy_reaches_the_optimum_on_a_small_estate() -> None:
    """Forced onto the heuristic route, a small estate still ends optimal: the final
    MIP starts from the heuristic plan and proves it."""
    model = EstateModel(random_instance(np.random.default_rng(4), easy=True))
    exact = model.solve(EXACT, diagnose=False)
    heuristic = model.solve(EXACT.model_copy(update={"strategy": "heuristic"}), diagnose=False)
    assert heuristic.status == exact.status
    if exact.objective is not None:
        assert heuristic.objective == pytest.approx(exact.objective, rel=1e-7, abs=1e-4)
