"""Solving a :class:`~optimise.formulation.LinearProgram`, with an honest status.

The status comes from the solver's own model and solution status, never from
PuLP's ``LpStatus`` (which says "Optimal" for an incumbent found at a time limit).
Every solver runs under a watchdog that stops it, keeping its incumbent, if it
overruns its own time limit.  Solver codes stop here: callers see
:class:`SolveStatus` and :class:`SolverOutput`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pulp
from numpy.typing import NDArray
from scipy import sparse

from estate.errors import SolverError
from optimise.formulation import LinearProgram
from optimise.settings import SolverSettings

# Above this many nonzeros PuLP's per-row model building costs more than it is worth.
AUTO_PULP_MAX_NONZEROS = 60_000
# Above this many optional (cut) rows, add them only where the LP breaks them, but
# only when the whole model is large too: OR-Library capa (101,000 linking rows, 0.4M
# nonzeros) is proven in 90 s with every row in from the start against 300 s unproven
# by 20-48 rounds of row generation; a region (123,000 rows, 2.6M nonzeros) or the
# strong p-median form (810,000 rows) is too big to solve whole.
LAZY_ABOVE = 90_000
LAZY_NONZEROS = 1_000_000
LAZY_ROUNDS = 50


class SolveStatus(StrEnum):
    """What the solver proved about the model."""

    OPTIMAL = "optimal"  # optimal within the relative gap asked for
    FEASIBLE = "feasible"  # an incumbent, stopped early (time limit); see gap
    INFEASIBLE = "infeasible"  # no decision satisfies every constraint
    NO_SOLUTION = "no_solution"  # stopped before any incumbent was found
    # The solver's claim failed the independent check (optimise.verify): it said
    # "optimal" or "infeasible", or gave a bound, that a plan known to be feasible
    # refutes.  The result carries the best plan that passed the check, if any.
    SOLVER_ERROR = "solver_error"


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
    build_seconds: float = 0.0


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
    if model_status == "kModelEmpty":
        return SolveStatus.OPTIMAL
    raise SolverError(f"HiGHS stopped with status {model_status}: the model could not be solved")


def solve(
    lp: LinearProgram,
    settings: SolverSettings,
    start: NDArray[np.float64] | None = None,
    cut_rows: NDArray[np.int64] | None = None,
    first_cuts: NDArray[np.bool_] | None = None,
) -> SolverOutput:
    """Solve with the solver and back-end the settings ask for.

    ``start`` is a feasible point to warm-start from (ignored when
    ``settings.warm_start`` is off).  ``cut_rows`` are rows every integer solution
    satisfies anyway (valid cuts): when there are many, they are added only where the
    LP relaxation breaks them, starting from those flagged in ``first_cuts``.
    """
    start = start if settings.warm_start else None
    if settings.solver == "cbc":
        out = solve_with_cbc(lp, settings, start)
    elif choose_backend(lp, settings) == "pulp":
        out = solve_with_pulp(lp, settings, start)
    elif cut_rows is not None and lazy(lp, cut_rows):
        out = solve_with_row_generation(lp, cut_rows, settings, start, first_cuts)
    else:
        out = solve_with_highspy(lp, settings, start)
    return proven_within(out, settings.mip_rel_gap)


def proven_status(status: SolveStatus, gap: float | None, mip_rel_gap: float) -> SolveStatus:
    """``optimal`` for a plan stopped early whose proven ``gap`` is already within the
    gap asked for; otherwise ``status`` unchanged."""
    if status is SolveStatus.FEASIBLE and gap is not None and gap <= mip_rel_gap:
        return SolveStatus.OPTIMAL
    return status


def proven_within(out: SolverOutput, mip_rel_gap: float) -> SolverOutput:
    """``optimal`` when a solve stopped by its limit had already proved the gap asked
    for (its bound is the solver's own dual bound): HiGHS says "time limit reached"
    when the limit and the proof arrive together (OR-Library capb-7000: gap 0 at 295 s)."""
    status = proven_status(out.status, out.gap, mip_rel_gap)
    if status is out.status:
        return out
    return dataclasses.replace(
        out,
        status=status,
        detail=f"{out.detail}; the gap was within {mip_rel_gap:g} when it stopped",
    )


def lazy(lp: LinearProgram, cut_rows: NDArray[np.int64]) -> bool:
    """Whether ``cut_rows`` are added only where the LP breaks them (row generation)."""
    return len(cut_rows) > LAZY_ABOVE and lp.matrix.nnz > LAZY_NONZEROS


def choose_backend(lp: LinearProgram, settings: SolverSettings) -> str:
    """``"pulp"`` or ``"highspy"``: what ``backend="auto"`` means for this model."""
    if settings.backend != "auto":
        return settings.backend
    return "pulp" if lp.matrix.nnz <= AUTO_PULP_MAX_NONZEROS else "highspy"


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


# --- HiGHS -------------------------------------------------------------------------


def _new_highs(settings: SolverSettings) -> Any:
    with quiet_native_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(settings.time_limit_seconds))
    h.setOptionValue("mip_rel_gap", float(settings.mip_rel_gap))
    h.setOptionValue("threads", int(settings.threads))
    h.setOptionValue("random_seed", int(settings.random_seed))
    return h


def _set_start(h: Any, start: NDArray[np.float64] | None) -> None:
    if start is None:
        return
    # With a start there is an incumbent already, and HiGHS's feasibility jump heuristic
    # neither looks at the clock nor answers an interrupt: on OR-Library capa it ran
    # 5 s past a 3 s limit (and 30 s past the watchdog's interrupt on a 150 s one).
    h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
    solution = highspy.HighsSolution()
    solution.col_value = np.asarray(start, dtype=float).tolist()
    solution.value_valid = True
    h.setSolution(solution)


def _run_watched(h: Any, settings: SolverSettings) -> tuple[float, bool]:
    """Run HiGHS in a thread; interrupt it if it overruns its limit by the grace period.

    Returns (seconds, whether the watchdog had to step in).
    """
    h.HandleUserInterrupt = True
    start = time.perf_counter()
    thread = h.startSolve()
    thread.join(settings.time_limit_seconds + settings.watchdog_grace_seconds)
    killed = thread.is_alive()
    if killed:
        h.cancelSolve()
    h.joinSolve(thread)
    return time.perf_counter() - start, killed


def _read_highs(
    h: Any, lp: LinearProgram, seconds: float, killed: bool, solver: str, build_seconds: float
) -> SolverOutput:
    status_obj = h.getModelStatus()
    info = h.getInfo()
    has_solution = int(info.primal_solution_status) == _HIGHS_FEASIBLE_SOLUTION
    status = status_from_highs(status_obj.name, has_solution)
    detail = h.modelStatusToString(status_obj)
    if killed:
        detail += " (stopped by the watchdog after overrunning its time limit)"
    x = objective = bound = gap = None
    if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        x = np.asarray(h.getSolution().col_value, dtype=float)[: len(lp.c)]
        objective = float(lp.c @ x + lp.constant)
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
        if not lp.integer.any():
            bound = objective
        gap = relative_gap(objective, bound)
    return SolverOutput(status, x, objective, bound, gap, seconds, solver, detail, build_seconds)


def solve_with_highspy(
    lp: LinearProgram, settings: SolverSettings, start: NDArray[np.float64] | None = None
) -> SolverOutput:
    """Pass the arrays straight to HiGHS: no per-row Python work, for large models."""
    built = time.perf_counter()
    h = _new_highs(settings)
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
    _set_start(h, start)
    build_seconds = time.perf_counter() - built
    seconds, killed = _run_watched(h, settings)
    return _read_highs(h, lp, seconds, killed, "HiGHS", build_seconds)


def _highs_lp(lp: LinearProgram, rows: NDArray[np.int64], integer: bool) -> Any:
    model = highspy.HighsLp()
    sub = lp.matrix[rows].tocsc()
    model.num_col_ = len(lp.c)
    model.num_row_ = len(rows)
    model.col_cost_ = lp.c
    model.offset_ = lp.constant
    model.col_lower_ = lp.col_lo
    model.col_upper_ = lp.col_hi
    model.row_lower_ = lp.row_lo[rows]
    model.row_upper_ = lp.row_hi[rows]
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = sub.indptr
    model.a_matrix_.index_ = sub.indices
    model.a_matrix_.value_ = sub.data
    if integer:
        model.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in lp.integer
        ]
    return model


def solve_with_row_generation(
    lp: LinearProgram,
    cut_rows: NDArray[np.int64],
    settings: SolverSettings,
    start: NDArray[np.float64] | None = None,
    first_cuts: NDArray[np.bool_] | None = None,
) -> SolverOutput:
    """Solve with the ``cut_rows`` added only where the LP relaxation breaks them.

    Round by round, the LP relaxation is re-solved (warm) with the broken cut rows
    added, until it breaks none: its bound is then the full LP's bound, from a much
    smaller LP.  The MIP is solved over the rows so gathered; its solutions satisfy
    every cut row anyway, so they are solutions of the full model.
    """
    began = time.perf_counter()
    h, added, rounds = gather_cut_rows(lp, cut_rows, settings, first_cuts)
    build_seconds = time.perf_counter() - began
    if h.getModelStatus().name == "kInfeasible":
        return SolverOutput(
            SolveStatus.INFEASIBLE, None, None, None, None, build_seconds, "HiGHS", "LP infeasible"
        )
    left = max(1.0, settings.time_limit_seconds - (time.perf_counter() - began))
    h.setOptionValue("time_limit", float(left))
    _set_start(h, start)
    _, killed = _run_watched(h, settings.model_copy(update={"time_limit_seconds": left}))
    out = _read_highs(h, lp, time.perf_counter() - began, killed, "HiGHS", build_seconds)
    return SolverOutput(
        out.status,
        out.x,
        out.objective,
        out.bound,
        out.gap,
        out.seconds,
        f"HiGHS (strong linking as cuts: {int(added.sum())} of {len(cut_rows)} rows, "
        f"{rounds} rounds)",
        out.detail,
        out.build_seconds,
    )


def gather_cut_rows(
    lp: LinearProgram,
    cut_rows: NDArray[np.int64],
    settings: SolverSettings,
    first_cuts: NDArray[np.bool_] | None = None,
) -> tuple[Any, NDArray[np.bool_], int]:
    """Row generation's rounds: HiGHS holding every row but the ``cut_rows``, with the
    cut rows its LP relaxation breaks added round by round until it breaks none (or
    the time runs out).  Returns it with its columns made integer again (ready for
    the MIP; its model status is the last LP's), which cut rows are in, and the rounds."""
    began = time.perf_counter()
    is_cut = np.zeros(len(lp.row_lo), dtype=bool)
    is_cut[cut_rows] = True
    if first_cuts is not None:
        is_cut[cut_rows[first_cuts]] = False  # in the LP from the start
    core = np.flatnonzero(~is_cut)
    cuts = lp.matrix[cut_rows].tocsr()
    added = np.zeros(len(cut_rows), dtype=bool) if first_cuts is None else first_cuts.copy()
    h = _new_highs(settings)
    h.passModel(_highs_lp(lp, core, integer=False))
    rounds = 0
    while rounds < LAZY_ROUNDS:
        left = settings.time_limit_seconds - (time.perf_counter() - began)
        if left <= 0:
            break
        h.setOptionValue("time_limit", float(left))
        h.run()
        if h.getModelStatus().name != "kOptimal":
            break
        x = np.asarray(h.getSolution().col_value, dtype=float)
        broken = (~added) & (cuts @ x > lp.row_hi[cut_rows] + 1e-7)
        if not broken.any():
            break
        new = np.flatnonzero(broken)
        block = cuts[new].tocsr()
        h.addRows(
            len(new),
            lp.row_lo[cut_rows[new]],
            lp.row_hi[cut_rows[new]],
            block.nnz,
            block.indptr[:-1].astype(np.int32),
            block.indices.astype(np.int32),
            block.data,
        )
        added[new] = True
        rounds += 1
    status = h.getModelStatus()
    integer_cols = np.flatnonzero(lp.integer).astype(np.int32)
    if status.name != "kInfeasible":
        h.changeColsIntegrality(
            len(integer_cols),
            integer_cols,
            np.full(len(integer_cols), highspy.HighsVarType.kInteger),
        )
    return h, added, rounds


# --- PuLP --------------------------------------------------------------------------


def to_pulp(lp: LinearProgram) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """The LinearProgram as a PuLP problem (columns x0, x1, ...; rows r0, r1, ...)."""
    prob = pulp.LpProblem("estate", pulp.LpMinimize)
    variables = [
        prob.add_variable(
            f"x{j}",
            lowBound=float(lp.col_lo[j]) if math.isfinite(lp.col_lo[j]) else None,
            upBound=float(lp.col_hi[j]) if math.isfinite(lp.col_hi[j]) else None,
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


class _PulpHiGHS(pulp.HiGHS):
    """PuLP's in-process HiGHS: quiet, watched, warm-started, and tolerant of statuses
    PuLP does not map.  We read status, values and gap from HiGHS ourselves."""

    def __init__(
        self, settings: SolverSettings, start: NDArray[np.float64] | None, columns: list[Any]
    ) -> None:
        super().__init__(msg=False)
        self.settings = settings
        self.start = start
        self.columns = columns
        self.killed = False
        self.seconds = 0.0

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        lp.solverModel = _new_highs(self.settings)

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:
        super().buildSolverModel(lp)
        # PuLP drops the objective's constant; HiGHS needs it for a true relative gap.
        lp.solverModel.changeObjectiveOffset(float(lp.objective.constant))
        if self.start is not None:
            ordered = np.zeros(len(self.columns))
            for value, var in zip(self.start, self.columns, strict=True):
                ordered[var.index] = value
            _set_start(lp.solverModel, ordered)

    def callSolver(self, lp: pulp.LpProblem) -> None:
        self.seconds, self.killed = _run_watched(lp.solverModel, self.settings)

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:
        try:
            status, sol_status = super().findSolutionValues(lp)
            return int(status), int(sol_status)
        except KeyError:
            return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound


def solve_with_pulp(
    lp: LinearProgram, settings: SolverSettings, start: NDArray[np.float64] | None = None
) -> SolverOutput:
    """Build the model in PuLP and solve it with HiGHS in process (highspy)."""
    built = time.perf_counter()
    prob, variables = to_pulp(lp)
    build_seconds = time.perf_counter() - built
    solver = _PulpHiGHS(settings, start, variables)
    prob.solve(solver)
    h = prob.solverModel
    output = _read_highs(h, lp, solver.seconds, solver.killed, "HiGHS (via PuLP)", build_seconds)
    if output.x is not None:
        values = np.asarray(h.getSolution().col_value, dtype=float)
        x = values[[v.index for v in variables]] if variables else values
        objective = float(lp.c @ x + lp.constant)
        output = SolverOutput(
            output.status,
            x,
            objective,
            output.bound,
            relative_gap(objective, output.bound),
            output.seconds,
            output.solver,
            output.detail,
            build_seconds,
        )
    return output


# --- CBC ---------------------------------------------------------------------------


def cbc_path() -> str | None:
    """The CBC binary: on PATH, or the one bundled with PuLP; None when neither exists."""
    found = shutil.which("cbc")
    if found:
        return found
    with contextlib.suppress(Exception):
        bundled = pulp.PULP_CBC_CMD().path
        if bundled and Path(bundled).is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    return None


_CBC_STATUS = re.compile(r"^(?P<word>\w+)")
_CBC_FIGURE = re.compile(r"^(Objective value|Lower bound|Gap):\s+(?P<value>\S+)", re.M)


def solve_with_cbc(
    lp: LinearProgram, settings: SolverSettings, start: NDArray[np.float64] | None = None
) -> SolverOutput:
    """Solve with the CBC binary in a subprocess, killed by the watchdog if it overruns.

    The model goes to CBC as an MPS file written by HiGHS; an incumbent written before
    a kill is still read back.
    """
    binary = cbc_path()
    if binary is None:
        raise SolverError("CBC is not installed: put cbc on PATH or install PuLP's bundled CBC")
    with tempfile.TemporaryDirectory(prefix="estate-cbc-") as tmp:
        folder = Path(tmp)
        built = time.perf_counter()
        h = _new_highs(settings)
        model_path = folder / "model.mps"
        _pass_arrays(h, lp)
        h.writeModel(str(model_path))
        cmd = [
            binary,
            str(model_path),
            "-sec",
            f"{settings.time_limit_seconds:g}",
            "-ratioGap",
            f"{settings.mip_rel_gap:g}",
            "-threads",
            str(settings.threads),
            "-randomSeed",
            str(settings.random_seed + 1),
        ]
        if start is not None:
            mst = folder / "start.sol"
            lines = ["Stopped on time - objective value 0\n"]
            lines += [f"{j} c{j} {v:.12g} 0\n" for j, v in enumerate(start)]
            mst.write_text("".join(lines))
            cmd += ["-mips", str(mst)]
        solution = folder / "solution.txt"
        cmd += ["-solve", "-solution", str(solution)]
        build_seconds = time.perf_counter() - built
        began = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so the watchdog can stop everything it started
        )
        killed = False
        try:
            log, _ = proc.communicate(
                timeout=settings.time_limit_seconds + settings.watchdog_grace_seconds
            )
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            log, _ = proc.communicate()
            killed = True
        seconds = time.perf_counter() - began
        return _read_cbc(lp, solution, log or "", seconds, killed, build_seconds)


def write_mps(lp: LinearProgram, path: str | Path) -> Path:
    """Write ``lp`` as an MPS file (``.mps.gz``: compressed), as HiGHS writes it: the
    form in which a solver's wrong answer can be recorded and reported."""
    target = Path(path)
    h = _new_highs(SolverSettings())
    _pass_arrays(h, lp)
    with tempfile.TemporaryDirectory(prefix="estate-mps-") as tmp:
        plain = Path(tmp) / "model.mps"
        with quiet_native_stdout():
            status = h.writeModel(str(plain))  # a warning: the columns have no names
        if status == highspy.HighsStatus.kError or not plain.is_file():
            raise SolverError(f"HiGHS could not write the model to {target}")
        data = plain.read_bytes()
    if target.suffix == ".gz":
        data = gzip.compress(data, compresslevel=9, mtime=0)  # same model, same bytes
    target.write_bytes(data)
    return target


def read_mps(path: str | Path) -> LinearProgram:
    """A model written by :func:`write_mps` (or any MPS file HiGHS reads), as arrays."""
    h = _new_highs(SolverSettings())
    with quiet_native_stdout():
        status = h.readModel(str(path))
    if status == highspy.HighsStatus.kError:
        raise SolverError(f"HiGHS could not read a model from {path}")
    model = h.getLp()
    n_rows, n_cols = int(model.num_row_), int(model.num_col_)
    a = model.a_matrix_
    matrix = sparse.csc_matrix(
        (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)), shape=(n_rows, n_cols)
    ).tocsr()
    kinds = list(model.integrality_)
    return LinearProgram(
        c=np.asarray(model.col_cost_, dtype=float),
        constant=float(model.offset_),
        matrix=matrix,
        row_lo=np.asarray(model.row_lower_, dtype=float),
        row_hi=np.asarray(model.row_upper_, dtype=float),
        col_lo=np.asarray(model.col_lower_, dtype=float),
        col_hi=np.asarray(model.col_upper_, dtype=float),
        integer=np.array(
            [k == highspy.HighsVarType.kInteger for k in kinds] if kinds else [False] * n_cols,
            dtype=bool,
        ),
        col_names=[f"c{j}" for j in range(n_cols)],
        row_names=[f"r{i}" for i in range(n_rows)],
    )


def _pass_arrays(h: Any, lp: LinearProgram) -> None:
    csc = lp.matrix.tocsc()
    h.passModel(
        len(lp.c),
        len(lp.row_lo),
        csc.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        lp.constant,
        lp.c,
        lp.col_lo,
        lp.col_hi,
        lp.row_lo,
        lp.row_hi,
        csc.indptr,
        csc.indices,
        csc.data,
        lp.integer.astype(np.int32),
    )


def _read_cbc(
    lp: LinearProgram,
    solution: Path,
    log: str,
    seconds: float,
    killed: bool,
    build_seconds: float,
) -> SolverOutput:
    detail = "killed by the watchdog" if killed else ""
    if not solution.is_file() or solution.stat().st_size == 0:
        return SolverOutput(
            SolveStatus.NO_SOLUTION, None, None, None, None, seconds, "CBC", detail, build_seconds
        )
    lines = solution.read_text().splitlines()
    head = lines[0] if lines else ""
    word = (_CBC_STATUS.match(head) or _CBC_STATUS.match("Unknown"))["word"]  # type: ignore[index]
    detail = (head + (" " + detail if detail else "")).strip()
    if word in ("Infeasible", "Integer"):
        return SolverOutput(
            SolveStatus.INFEASIBLE, None, None, None, None, seconds, "CBC", detail, build_seconds
        )
    x = np.zeros(len(lp.c))
    found = False
    for line in lines[1:]:
        parts = line.replace("**", " ").split()
        if len(parts) >= 3 and parts[1].startswith("c") and parts[1][1:].isdigit():
            x[int(parts[1][1:])] = float(parts[2])
            found = True
    has_value = "objective value" in head and (found or len(lp.c) == 0)
    if not has_value:
        return SolverOutput(
            SolveStatus.NO_SOLUTION, None, None, None, None, seconds, "CBC", detail, build_seconds
        )
    objective = float(lp.c @ x + lp.constant)
    figures = {m.group(1): m.group("value") for m in _CBC_FIGURE.finditer(log)}
    bound = _float_or_none(figures.get("Lower bound"))
    reported = _float_or_none(figures.get("Objective value"))
    if bound is not None and reported is not None:
        # CBC may leave out the objective's constant: shift its bound the same way.
        bound += objective - reported
    optimal = word == "Optimal" and not killed
    if optimal and bound is None:
        bound = objective
    status = SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE
    return SolverOutput(
        status,
        x,
        objective,
        bound,
        relative_gap(objective, bound),
        seconds,
        "CBC",
        detail,
        build_seconds,
    )


def _float_or_none(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def relative_gap(objective: float, bound: float | None) -> float | None:
    """Relative gap (objective - bound) / max(|objective|, 1), as HiGHS reports it."""
    if bound is None:
        return None
    return max(0.0, objective - bound) / max(abs(objective), 1.0)
