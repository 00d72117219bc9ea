"""Solvers and back-ends agree; status, gap and watchdog are honest; warm starts are used."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optimise import EstateModel, SolverSettings, SolveStatus
from optimise.solve import _run_watched, cbc_path, solve_with_cbc
from scenarios.places.synthetic import synthetic_estate
from tests.test_bruteforce import random_instance

EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30)
BACKENDS = [
    EXACT.model_copy(update={"backend": "pulp"}),
    EXACT.model_copy(update={"backend": "highspy"}),
    EXACT.model_copy(update={"backend": "highspy", "warm_start": False}),
]


@pytest.mark.parametrize("seed", range(12))
def test_backends_and_cbc_agree(seed: int) -> None:
    inst = random_instance(np.random.default_rng(seed), easy=seed % 2 == 0)
    model = EstateModel(inst)
    settings = list(BACKENDS)
    if cbc_path() is not None:
        settings.append(EXACT.model_copy(update={"solver": "cbc"}))
    results = [model.solve(s, diagnose=False) for s in settings]
    statuses = {r.status for r in results}
    assert len(statuses) == 1, [
        (s.solver, s.backend, r.status) for s, r in zip(settings, results, strict=True)
    ]
    if results[0].objective is not None:
        for r in results[1:]:
            assert r.objective == pytest.approx(results[0].objective, rel=1e-7, abs=1e-4)


def test_warm_start_from_a_feasible_baseline() -> None:
    from tests.toy import building, instance, service

    inst = instance(
        [building("A"), building("B", running_cost=3_000)],
        [service("s1", "A", desks=2), service("s2", "B", desks=3)],
    )
    model = EstateModel(inst)
    assert model.baseline_start() is not None
    assert model.solve(EXACT).warm_started


def test_time_limited_large_solve_is_feasible_with_a_gap() -> None:
    """A county-sized estate cannot be proved optimal in seconds: the answer must say so."""
    estate = synthetic_estate((400, 1200, 200), seed=1)
    from optimise import EstateInstance

    inst = EstateInstance.build(
        estate.register, estate.zones, estate.travel, estate.access, estate.finance, estate.policy
    )
    result = EstateModel(inst).solve(SolverSettings(time_limit_seconds=8, mip_rel_gap=1e-6))
    assert result.status is SolveStatus.FEASIBLE
    assert result.gap is not None and result.gap > 1e-6
    assert result.bound is not None and result.objective is not None
    assert result.bound < result.objective
    assert result.evaluation is not None and result.evaluation.feasible
    assert result.evaluation.npv_saving > 0  # better than the baseline it started from


class _SlowSolver:
    """Stands in for a HiGHS object whose solve ignores its time limit until cancelled."""

    def __init__(self) -> None:
        import threading

        self.cancelled = threading.Event()
        self.HandleUserInterrupt = False

    def startSolve(self) -> Any:
        import threading

        thread = threading.Thread(target=lambda: self.cancelled.wait(30))
        thread.start()
        return thread

    def cancelSolve(self) -> None:
        self.cancelled.set()

    def joinSolve(self, thread: Any) -> None:
        thread.join()


def test_watchdog_stops_a_solver_that_overruns() -> None:
    fake = _SlowSolver()
    settings = SolverSettings(time_limit_seconds=0.2, watchdog_grace_seconds=0.2)
    began = time.perf_counter()
    _, killed = _run_watched(fake, settings)
    assert killed and fake.cancelled.is_set()
    assert time.perf_counter() - began < 5


def test_watchdog_kills_a_cbc_that_overruns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "cbc"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr("optimise.solve.cbc_path", lambda: str(fake))
    model = EstateModel(random_instance(np.random.default_rng(0), easy=True))
    began = time.perf_counter()
    out = solve_with_cbc(
        model.formulation.lp, SolverSettings(time_limit_seconds=0.3, watchdog_grace_seconds=0.3)
    )
    assert time.perf_counter() - began < 10
    assert out.status is SolveStatus.NO_SOLUTION
    assert "watchdog" in out.detail
    assert os.path.exists(fake)


def test_a_solve_stopped_by_its_limit_with_the_gap_proven_is_optimal() -> None:
    """HiGHS says "time limit reached" when the limit and the proof arrive together;
    the gap its own dual bound proves decides, not the status string, and only
    within the gap asked for."""
    from optimise.solve import SolverOutput, proven_within

    x = np.zeros(2)
    closed = SolverOutput(SolveStatus.FEASIBLE, x, 100.0, 100.0, 0.0, 1.0, "HiGHS", "Time limit")
    assert proven_within(closed, 0.0).status is SolveStatus.OPTIMAL
    assert "within 0 when it stopped" in proven_within(closed, 0.0).detail
    open_ = SolverOutput(SolveStatus.FEASIBLE, x, 100.0, 99.0, 0.01, 1.0, "HiGHS", "Time limit")
    assert proven_within(open_, 0.005).status is SolveStatus.FEASIBLE
    assert proven_within(open_, 0.01).status is SolveStatus.OPTIMAL
    no_bound = SolverOutput(SolveStatus.FEASIBLE, x, 100.0, None, None, 1.0, "HiGHS", "Time limit")
    assert proven_within(no_bound, 1.0).status is SolveStatus.FEASIBLE
