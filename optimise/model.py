"""The estate model: build once, solve, get a frozen :class:`Result`."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from estate.errors import SolverError
from optimise.evaluate import Evaluation, evaluate
from optimise.formulation import Formulation, formulate
from optimise.instance import EstateInstance
from optimise.settings import SolverSettings
from optimise.solve import SolverOutput, SolveStatus, solve_with_pulp

# The solver's objective and our independent pricing of its decision must agree.
CONSISTENCY_TOL_GBP = 1.0


@dataclass(frozen=True)
class Result:
    """The outcome of one solve, keyed on the register's own ids.

    ``evaluation`` is ``None`` unless a decision was found (``optimal`` or
    ``feasible``); ``gap`` is the relative gap between the decision's present cost and
    the solver's proven bound.
    """

    status: SolveStatus
    objective: float | None
    bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float
    solver: str
    detail: str
    keep: pd.Series | None
    assignment: pd.Series | None
    evaluation: Evaluation | None

    @property
    def has_solution(self) -> bool:
        return self.evaluation is not None


class EstateModel:
    """The MILP of MODEL.md section 4 over one :class:`EstateInstance`."""

    def __init__(self, instance: EstateInstance) -> None:
        start = time.perf_counter()
        self.instance = instance
        self.formulation: Formulation = formulate(instance)
        self.build_seconds = time.perf_counter() - start

    def solve(self, settings: SolverSettings | None = None) -> Result:
        """Solve and price the decision; never raises for infeasible or unfinished solves."""
        settings = settings or SolverSettings()
        output = solve_with_pulp(self.formulation.lp, settings)
        return self._result(output)

    def decision(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keep flags and each service's building index from column values."""
        f = self.formulation
        keep = x[f.keep_col] > 0.5
        chosen = x[f.pair_col] > 0.5
        assign = np.full(len(self.instance.services), -1, dtype=np.int64)
        assign[f.pair_service[chosen]] = f.pair_building[chosen]
        if (assign < 0).any():
            raise SolverError("the solver left a service unassigned")
        return keep, assign

    def _result(self, output: SolverOutput) -> Result:
        keep_s = assign_s = evaluation = None
        if output.x is not None:
            keep, assign = self.decision(output.x)
            evaluation = evaluate(self.instance, keep, assign)
            assert output.objective is not None
            if abs(evaluation.present_cost - output.objective) > CONSISTENCY_TOL_GBP:
                raise SolverError(
                    f"solver objective {output.objective:,.2f} disagrees with the priced "
                    f"decision {evaluation.present_cost:,.2f}"
                )
            if evaluation.violations:
                raise SolverError(
                    "the solver's decision breaks constraints: " + "; ".join(evaluation.violations)
                )
            ids = self.instance.building_ids
            keep_s = pd.Series(keep, index=pd.Index(ids, name="building_id"), name="keep")
            assign_s = pd.Series(
                np.asarray(ids, dtype=object)[assign],
                index=pd.Index(self.instance.service_ids, name="service_id"),
                name="building_id",
            )
        return Result(
            status=output.status,
            objective=output.objective,
            bound=output.bound,
            gap=output.gap,
            build_seconds=self.build_seconds,
            solve_seconds=output.seconds,
            solver=output.solver,
            detail=output.detail,
            keep=keep_s,
            assignment=assign_s,
            evaluation=evaluation,
        )
