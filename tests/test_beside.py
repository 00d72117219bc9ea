"""The whole MIP in a second process beside the heuristic search (``threads >= 2``).

Against brute force on tiny estates: the heuristic route with two threads ends at the
brute-force optimum, proven.  The process on its own: it starts from the plan it is
given, never claims a bound above the optimum, and is stopped within its grace when
it overruns.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import numpy as np
import pytest

from optimise import EstateInstance, EstateModel, SolverSettings, SolveStatus
from optimise.beside import ANSWER_GRACE_SECONDS, STOP_GRACE_SECONDS, BoundBeside
from scenarios.places.synthetic import synthetic_estate
from tests.test_bruteforce import brute_force, random_instance

TWO = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30, strategy="heuristic", threads=2)


def _instances(count: int, rich: bool) -> list[object]:
    found = []
    for seed in range(300):
        inst = random_instance(np.random.default_rng(1000 + seed), easy=True, rich=rich)
        if brute_force(inst) is not None:
            found.append(inst)
        if len(found) == count:
            break
    return found


@pytest.mark.parametrize("inst", _instances(3, rich=False) + _instances(3, rich=True))
def test_two_threads_reach_the_brute_force_optimum(inst: object) -> None:
    optimum = brute_force(inst)
    assert optimum is not None
    result = EstateModel(inst).solve(TWO, diagnose=False)  # type: ignore[arg-type]
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(optimum, rel=1e-7, abs=1e-3)
    assert result.bound is not None and result.bound <= optimum + 1e-3
    assert "beside the search" in result.detail


def _district() -> EstateModel:
    estate = synthetic_estate("district", 0)
    return EstateModel(
        EstateInstance.build(
            estate.register,
            estate.zones,
            estate.travel,
            estate.access,
            estate.finance,
            estate.policy,
        )
    )


@pytest.mark.parametrize("row_generation", [False, True])
@pytest.mark.parametrize("inst", _instances(3, rich=True))
def test_alone_it_proves_the_brute_force_optimum(inst: object, row_generation: bool) -> None:
    optimum = brute_force(inst)
    assert optimum is not None
    model = EstateModel(inst)  # type: ignore[arg-type]
    lp = model.formulation.lp
    start = model.baseline_start()
    if start is None:
        pytest.skip("this estate's baseline breaks a rule: no plan to start from")
    f = model.formulation
    out = BoundBeside(
        lp,
        SolverSettings(mip_rel_gap=0.0),
        20.0,
        first=start,
        cut_rows=f.link_rows,
        first_cuts=np.zeros(len(f.link_rows), dtype=bool),
        row_generation=row_generation,
    ).finish()
    assert ("strong linking as cuts" in out.detail) is row_generation
    assert out.status is SolveStatus.OPTIMAL
    assert out.objective == pytest.approx(optimum, rel=1e-7, abs=1e-3)
    assert out.bound is not None and out.bound <= optimum + 1e-3


def test_it_takes_the_plan_it_is_given() -> None:
    """The district does not fall to presolve: HiGHS asks for a plan after its setup
    and takes the baseline, so it never ends above it."""
    model = _district()
    lp = model.formulation.lp
    start = model.baseline_start()
    assert start is not None
    out = BoundBeside(lp, SolverSettings(mip_rel_gap=0.0), 3.0, first=start).finish()
    assert "took 1 of 1 plans" in out.detail
    assert out.objective is not None
    assert out.objective <= float(lp.c @ start + lp.constant) + 1e-6
    assert out.bound is not None and out.bound <= out.objective


def test_an_overrunning_process_is_stopped_within_its_grace() -> None:
    """HiGHS in the child told to run for an hour: it is interrupted after the
    parent's limit and grace, keeping what it proved."""
    model = _district()
    lp = model.formulation.lp
    began = time.perf_counter()
    beside = BoundBeside(
        lp,
        SolverSettings(mip_rel_gap=0.0),
        1.0,
        first=model.baseline_start(),
        child_seconds=3600.0,
    )
    out = beside.finish()
    wall = time.perf_counter() - began
    assert wall <= 1.0 + ANSWER_GRACE_SECONDS + 2 * STOP_GRACE_SECONDS + 1.0
    assert out.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION)


def test_the_heuristic_route_with_two_threads_keeps_the_time_limit() -> None:
    began = time.perf_counter()
    model = _district()
    limit = 4.0
    settings = TWO.model_copy(update={"time_limit_seconds": limit})
    result = EstateModel(model.instance, started=began).solve(settings, diagnose=False)
    wall = time.perf_counter() - began
    assert result.has_solution
    assert wall <= limit + 1.0


def test_a_process_that_dies_gives_no_bound_and_stops_nothing() -> None:
    """Killed mid-solve (as by the kernel's OOM killer): the search beside it is not
    told to stop, and the answer says there is nothing from it."""
    model = _district()
    beside = BoundBeside(model.formulation.lp, SolverSettings(mip_rel_gap=0.0), 30.0)
    beside._proc.kill()
    beside._proc.join()
    assert not beside.done()
    out = beside.finish()
    assert out.status is SolveStatus.NO_SOLUTION and out.bound is None
    assert "without an answer" in out.detail


def _solve_in_a_worker(seed: int, out: Any) -> None:
    inst = _instances(1, rich=False)[0]
    result = EstateModel(inst).solve(TWO, diagnose=False)  # type: ignore[arg-type]
    out.put((result.status.value, result.objective, result.detail))


def test_a_daemonic_worker_solves_on_one_process() -> None:
    """A daemonic process (as a sweep's workers are) may not start one of its own:
    the large-estate route then runs the MIP after the search, and still proves it."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    worker = ctx.Process(target=_solve_in_a_worker, args=(0, out), daemon=True)
    worker.start()
    status, objective, detail = out.get(timeout=120)
    worker.join(30)
    assert worker.exitcode == 0
    optimum = brute_force(_instances(1, rich=False)[0])
    assert status == "optimal" and objective == pytest.approx(optimum, rel=1e-7, abs=1e-3)
    assert "beside the search" not in detail
