"""Solving a :class:`~optimise.formulation.LinearProgram`, with an honest status.

The status comes from the solver's own model and solution status, never from
PuLP's ``LpStatus`` (which says "Optimal" for an incumbent found at a time limit).
Solver codes stop here: callers see :class:`SolveStatus` and :class:`SolverOutput`.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import highspy
import numpy as np
import pulp
from numpy.typing import NDArray

from estate.errors import SolverError
from optimise.formulation import LinearProgram
from optimise.settings import SolverSettings


class SolveStatus(StrEnum):
    """What the solver proved about the model."""

    OPTIMAL = "optimal"  # optimal within the relative gap asked for
    FEASIBLE = "feasible"  # an incumbent, stopped early (time limit); see gap
    INFEASIBLE = "infeasible"  # no decision satisfies every constraint
    NO_SOLUTION = "no_solution"  # stopped before any incumbent was found


@dataclass(frozen=True)
class SolverOutput:
    """Raw outcome of one solve, in column order of the LinearProgram."""

    status: SolveStatus
    x: NDArray[np.float64] | None
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    solver: str
    detail: str


_STOPPED_EARLY = (
    "kTimeLimit",
    "kIterationLimit",
    "kInterrupt",
    "kSolutionLimit",
    "kMemoryLimit",
    "kObjectiveBound",
    "kObjectiveTarget",
    "kHighsInterrupt",
)
_HIGHS_FEASIBLE_SOLUTION = 2  # HiGHS primal_solution_status: kSolutionStatusFeasible


def status_from_highs(model_status: str, has_solution: bool) -> SolveStatus:
    """Map a HiGHS model status name (``"kOptimal"``...) to a :class:`SolveStatus`.

    Raises :class:`SolverError` for statuses that mean the model or solver broke.
    """
    if model_status == "kOptimal":
        return SolveStatus.OPTIMAL if has_solution else SolveStatus.NO_SOLUTION
    if model_status in ("kInfeasible", "kUnboundedOrInfeasible"):
        return SolveStatus.INFEASIBLE
    if model_status in _STOPPED_EARLY:
        return SolveStatus.FEASIBLE if has_solution else SolveStatus.NO_SOLUTION
    if model_status in ("kModelEmpty",):
        return SolveStatus.OPTIMAL
    raise SolverError(f"HiGHS stopped with status {model_status}: the model could not be solved")


def to_pulp(lp: LinearProgram) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """The LinearProgram as a PuLP problem (columns x0, x1, ...; rows r0, r1, ...)."""
    prob = pulp.LpProblem("estate", pulp.LpMinimize)
    variables = [
        prob.add_variable(
            f"x{j}",
            lowBound=float(lp.col_lo[j]),
            upBound=float(lp.col_hi[j]),
            # Not LpBinary: PuLP would reset its bounds to [0, 1] (must_retain sets lo = 1).
            cat=pulp.LpInteger if lp.integer[j] else pulp.LpContinuous,
        )
        for j in range(len(lp.c))
    ]
    nz = np.flatnonzero(lp.c)
    prob += pulp.LpAffineExpression([(variables[j], float(lp.c[j])) for j in nz]) + lp.constant
    matrix = lp.matrix
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        expr = pulp.LpAffineExpression(
            [
                (variables[j], float(v))
                for j, v in zip(matrix.indices[start:end], matrix.data[start:end], strict=True)
            ]
        )
        lo, hi = float(lp.row_lo[i]), float(lp.row_hi[i])
        if lo == hi:
            prob += (expr == lo, f"r{i}")
        else:
            if math.isfinite(lo):
                prob += (expr >= lo, f"r{i}_lo" if math.isfinite(hi) else f"r{i}")
            if math.isfinite(hi):
                prob += (expr <= hi, f"r{i}_hi" if math.isfinite(lo) else f"r{i}")
    return prob, variables


@contextlib.contextmanager
def quiet_native_stdout() -> Iterator[None]:
    """Silence C-level stdout (HiGHS prints a banner when an instance is created)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. CliRunner)
        fd = 1
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


class _PulpHiGHS(pulp.HiGHS):
    """PuLP's in-process HiGHS, quiet, and tolerant of statuses PuLP does not map.

    We read status, values and gap from the HiGHS object ourselves afterwards.
    """

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        with quiet_native_stdout():
            super().createAndConfigureSolver(lp)

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:
        super().buildSolverModel(lp)
        # PuLP drops the objective's constant; HiGHS needs it for a true relative gap.
        lp.solverModel.changeObjectiveOffset(float(lp.objective.constant))

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:
        try:
            status, sol_status = super().findSolutionValues(lp)
            return int(status), int(sol_status)
        except KeyError:
            return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound


def solve_with_pulp(lp: LinearProgram, settings: SolverSettings) -> SolverOutput:
    """Build the model in PuLP and solve it with HiGHS in process (highspy)."""
    if not pulp.HiGHS().available():
        raise SolverError("HiGHS is not available: install highspy")
    prob, variables = to_pulp(lp)
    solver = _PulpHiGHS(
        msg=False,
        timeLimit=settings.time_limit_seconds,
        gapRel=settings.mip_rel_gap,
        threads=settings.threads,
        random_seed=0,
    )
    start = time.perf_counter()
    prob.solve(solver)
    seconds = time.perf_counter() - start
    highs = prob.solverModel
    model_status = highs.modelStatusToString(highs.getModelStatus())
    name = highs.getModelStatus().name
    info = highs.getInfo()
    has_solution = int(info.primal_solution_status) == _HIGHS_FEASIBLE_SOLUTION
    status = status_from_highs(name, has_solution)
    x = None
    objective = bound = gap = None
    if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        values = np.asarray(highs.getSolution().col_value, dtype=float)
        x = values[[v.index for v in variables]] if len(variables) else values
        objective = float(lp.c @ x + lp.constant)
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
        gap = _gap(objective, bound)
    return SolverOutput(status, x, objective, bound, gap, seconds, "HiGHS (via PuLP)", model_status)


def _gap(objective: float, bound: float | None) -> float | None:
    """Relative gap |objective - bound| / max(|objective|, 1), as HiGHS reports it."""
    if bound is None:
        return None
    return max(0.0, objective - bound) / max(abs(objective), 1.0)


def _new_highs() -> Any:
    with quiet_native_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def solve_with_highspy(lp: LinearProgram, settings: SolverSettings) -> SolverOutput:
    """Pass the arrays straight to HiGHS (no per-row Python work): for large models."""
    h = _new_highs()
    model = highspy.HighsLp()
    n_rows, n_cols = lp.shape
    model.num_col_ = n_cols
    model.num_row_ = n_rows
    model.col_cost_ = lp.c
    model.offset_ = lp.constant
    model.col_lower_ = lp.col_lo
    model.col_upper_ = lp.col_hi
    model.row_lower_ = lp.row_lo
    model.row_upper_ = lp.row_hi
    csc = lp.matrix.tocsc()
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = csc.indptr
    model.a_matrix_.index_ = csc.indices
    model.a_matrix_.value_ = csc.data
    model.integrality_ = [
        highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
        for flag in lp.integer
    ]
    h.passModel(model)
    h.setOptionValue("time_limit", float(settings.time_limit_seconds))
    h.setOptionValue("mip_rel_gap", float(settings.mip_rel_gap))
    h.setOptionValue("threads", int(settings.threads))
    h.setOptionValue("random_seed", 0)
    start = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - start
    status_obj = h.getModelStatus()
    info = h.getInfo()
    has_solution = int(info.primal_solution_status) == _HIGHS_FEASIBLE_SOLUTION
    status = status_from_highs(status_obj.name, has_solution)
    x = None
    objective = bound = gap = None
    if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        x = np.asarray(h.getSolution().col_value, dtype=float)
        objective = float(lp.c @ x + lp.constant)
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
        gap = _gap(objective, bound)
    return SolverOutput(
        status, x, objective, bound, gap, seconds, "HiGHS", h.modelStatusToString(status_obj)
    )
