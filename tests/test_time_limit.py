"""The time limit is a promise: reading, building, solving and pricing fit inside it.

The slow model is the synthetic district (60 buildings, 180 services) solved to a gap
of 0: HiGHS needs far longer than the limits here, so every run ends at its limit.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import optimise.model
import optimise.solve
from optimise import EstateInstance, EstateModel, SolverSettings, SolveStatus
from optimise.clock import Deadline, tolerance, watchdog_grace
from scenarios.places.synthetic import synthetic_estate


def _district() -> EstateInstance:
    estate = synthetic_estate("district", 0)
    return EstateInstance.build(
        estate.register, estate.zones, estate.travel, estate.access, estate.finance, estate.policy
    )


SLOW = SolverSettings(time_limit_seconds=3.0, mip_rel_gap=0.0, strategy="exact")


def test_the_limit_covers_slow_reading_and_building(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second of reading and a second of building come out of the solver's time."""
    formulate = optimise.model.formulate

    def slow_formulate(instance: EstateInstance) -> Any:
        time.sleep(1.0)
        return formulate(instance)

    monkeypatch.setattr(optimise.model, "formulate", slow_formulate)
    began = time.perf_counter()
    instance = _district()
    time.sleep(1.0)  # reading the register
    result = EstateModel(instance, started=began).solve(SLOW)
    wall = time.perf_counter() - began
    assert result.status is SolveStatus.FEASIBLE  # stopped by the limit, with a plan
    assert result.gap is not None and result.gap > 0
    assert wall <= SLOW.time_limit_seconds + 0.5


def test_a_second_solve_of_one_model_gets_its_own_limit() -> None:
    model = EstateModel(_district())
    model.solve(SLOW.model_copy(update={"time_limit_seconds": 1.0}))
    began = time.perf_counter()
    result = model.solve(SLOW.model_copy(update={"time_limit_seconds": 2.0}))
    wall = time.perf_counter() - began
    assert result.has_solution
    assert 1.0 <= wall <= 2.5


def test_the_watchdog_stops_a_solver_that_ignores_its_limit_within_the_promise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HiGHS told to run for an hour (as if it overran its own limit): the watchdog
    interrupts it, keeping its incumbent, inside the promised tolerance."""
    new_highs = optimise.solve._new_highs

    def deaf_highs(settings: SolverSettings) -> Any:
        h = new_highs(settings)
        h.setOptionValue("time_limit", 3600.0)
        return h

    monkeypatch.setattr(optimise.solve, "_new_highs", deaf_highs)
    limit = 2.0
    began = time.perf_counter()
    result = EstateModel(_district(), started=began).solve(
        SLOW.model_copy(update={"time_limit_seconds": limit})
    )
    wall = time.perf_counter() - began
    assert result.has_solution
    assert "watchdog" in result.detail
    assert wall <= limit + tolerance(limit)
    assert wall >= limit  # it did overrun, and was stopped


def test_the_promise_in_numbers() -> None:
    assert tolerance(300.0) == pytest.approx(15.0)
    assert tolerance(60.0) == pytest.approx(10.0)
    assert watchdog_grace(300.0, 30.0) == pytest.approx(7.5)
    assert watchdog_grace(3600.0, 30.0) == pytest.approx(30.0)
    deadline = Deadline(started=0.0, limit=100.0)
    assert deadline.at == 100.0
    assert deadline.reserve() == pytest.approx(3.0)
