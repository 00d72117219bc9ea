"""The whole MIP solved in a second process while the heuristics search for plans.

On a large estate the plan comes from heuristics (greedy disposal, then the window
search) and the bound from HiGHS on the whole model; one after the other, each gets
part of the time.  With two threads allowed (``SolverSettings.threads >= 2``) they run
side by side: :class:`BoundBeside` starts HiGHS on the whole MIP in its own process at
once, the heuristics run in this one, and every plan they find is handed to HiGHS
through its user-solution callback, so that it prunes against the best plan known and
its own heuristics start from it.

A process, not a thread: highspy resets its task scheduler after every solve started
from Python, which is not safe while another HiGHS runs in the same process.  Plans go
over shared memory (never a blocking pipe, so the search never waits on HiGHS); the
answer comes back once, at the end.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from estate.errors import SolverError
from optimise.formulation import LinearProgram
from optimise.settings import SolverSettings
from optimise.solve import (
    _HIGHS_FEASIBLE_SOLUTION,
    SolverOutput,
    SolveStatus,
    _highs_lp,
    _new_highs,
    gather_cut_rows,
    lazy,
    quiet_native_stdout,
    relative_gap,
    status_from_highs,
)

# Seconds the parent waits, after the MIP's own limit, for its answer before stopping
# it (then killing it): the run's time promise comes first.
ANSWER_GRACE_SECONDS = 2.0
STOP_GRACE_SECONDS = 1.0


def _worker(
    conn: Any,
    lp: LinearProgram,
    settings: SolverSettings,
    ends: float,
    cut_rows: NDArray[np.int64] | None,
    first_cuts: NDArray[np.bool_] | None,
    row_generation: bool | None,
    plan: Any,
    version: Any,
    stop: Any,
) -> None:
    """Child process: solve ``lp`` as a MIP until ``ends`` (``time.time()``; starting
    the process takes a second of imports), taking plans from ``plan`` when
    ``version`` moves, stopping when ``stop`` is set; send back one answer."""
    import highspy

    left = max(0.05, ends - time.time())
    settings = settings.model_copy(update={"time_limit_seconds": left})
    rounds = ""
    if cut_rows is not None and (lazy(lp, cut_rows) if row_generation is None else row_generation):
        # As the MIP alone would be solved (optimise.solve.solve): on a region, HiGHS
        # 1.15 given every linking row at once says "infeasible" after its root cuts.
        h, added, n = gather_cut_rows(lp, cut_rows, settings, first_cuts)
        rounds = f"; strong linking as cuts: {int(added.sum())} of {len(cut_rows)} rows, {n} rounds"
        if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
            conn.send(
                {
                    "status": "kInfeasible",
                    "text": "LP infeasible",
                    "has_solution": False,
                    "x": None,
                    "bound": None,
                    "plans_taken": 0,
                    "ok": True,
                }
            )
            conn.close()
            return
        h.setOptionValue("time_limit", max(0.05, ends - time.time()))
    else:
        h = _new_highs(settings)
        h.passModel(_highs_lp(lp, np.arange(lp.shape[0]), integer=True))
    # The plans come from the search beside it: HiGHS's feasibility jump would only
    # look for one (and it neither looks at the clock nor answers an interrupt).
    h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
    seen = 0
    taken = 0

    def give(event: Any) -> None:
        nonlocal seen, taken
        with plan.get_lock():
            if version.value == seen:
                return
            seen = version.value
            x = np.frombuffer(plan.get_obj(), dtype=np.float64).copy()
        event.data_in.setSolution(x)
        taken += 1

    def interrupt(event: Any) -> None:
        if stop.is_set():
            event.interrupt()

    h.cbMipUserSolution.subscribe(give)
    h.cbMipInterrupt.subscribe(interrupt)
    h.cbSimplexInterrupt.subscribe(interrupt)
    with quiet_native_stdout():
        h.run()
    info = h.getInfo()
    has = int(info.primal_solution_status) == _HIGHS_FEASIBLE_SOLUTION
    x = np.asarray(h.getSolution().col_value, dtype=float)[: len(lp.c)] if has else None
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
    status = h.getModelStatus()
    conn.send(
        {
            "status": status.name,
            "text": h.modelStatusToString(status) + rounds,
            "has_solution": has,
            "x": x,
            "bound": bound,
            "plans_taken": taken,
            "ok": status != highspy.HighsModelStatus.kSolveError,
        }
    )
    conn.close()


def can_start() -> bool:
    """Whether this process may start one of its own: a daemonic process (a Dask or
    multiprocessing worker) may not have children, and then the MIP runs after the
    search, as with one thread."""
    return not multiprocessing.current_process().daemon


class BoundBeside:
    """HiGHS on the whole MIP ``lp`` in a second process for ``seconds``.

    :meth:`offer` hands it a feasible plan (it takes the newest at its next callback);
    :meth:`finish` waits for its answer (stopping it if it overruns) and returns it as
    a :class:`SolverOutput` whose bound is proven whatever the plans offered were.
    """

    def __init__(
        self,
        lp: LinearProgram,
        settings: SolverSettings,
        seconds: float,
        first: NDArray[np.float64] | None = None,
        cut_rows: NDArray[np.int64] | None = None,
        first_cuts: NDArray[np.bool_] | None = None,
        row_generation: bool | None = None,
        child_seconds: float | None = None,
    ) -> None:
        """Start it now; ``first``: a feasible plan it starts from; ``cut_rows`` and
        ``first_cuts`` as for :func:`optimise.solve.solve` (row generation when the
        model is large; ``row_generation`` forces it on or off).  ``child_seconds``
        (tests only): the limit HiGHS itself is given, as if it overran ``seconds``."""
        self.lp = lp
        self.seconds = max(0.1, float(seconds))
        ctx = multiprocessing.get_context("spawn")
        self._plan: Any = ctx.Array("d", len(lp.c), lock=True)
        self._version = ctx.Value("l", 0, lock=False)
        self._stop = ctx.Event()
        self._conn, child = ctx.Pipe(duplex=False)
        self.offered = 0
        self._answer: dict[str, Any] | None = None
        self._best = math.inf
        limit = self.seconds if child_seconds is None else child_seconds
        one = settings.model_copy(update={"time_limit_seconds": limit, "threads": 1})
        bare = dataclasses.replace(lp, col_names=[], row_names=[])  # names: not needed there
        if first is not None:
            self.offer(first)
        self._began = time.perf_counter()
        self._proc = ctx.Process(
            target=_worker,
            args=(
                child,
                bare,
                one,
                time.time() + limit,
                cut_rows,
                first_cuts,
                row_generation,
                self._plan,
                self._version,
                self._stop,
            ),
            daemon=True,
        )
        self._proc.start()
        child.close()

    def offer(self, x: NDArray[np.float64]) -> None:
        """Hand HiGHS a feasible plan, if cheaper than any offered before."""
        cost = float(self.lp.c @ x)
        if cost >= self._best:
            return
        self._best = cost
        with self._plan.get_lock():
            np.frombuffer(self._plan.get_obj(), dtype=np.float64)[:] = x
            self._version.value += 1
        self.offered += 1

    def done(self) -> bool:
        """Whether HiGHS has already answered "optimal": the search beside it may then
        stop.  Never on "infeasible": the search holds plans that pass every row, and
        HiGHS has said "infeasible" of the synthetic region when it is not."""
        if self._answer is None and self._conn.poll(0):
            self._answer = self._receive()
        return self._answer is not None and self._answer.get("status") == "kOptimal"

    def _receive(self) -> dict[str, Any]:
        """The child's answer; if it died without one (the pipe closed), a failed one."""
        try:
            answer: dict[str, Any] = self._conn.recv()
        except (EOFError, OSError):
            code = self._proc.exitcode
            return {"ok": False, "text": f"the process ended without an answer (exit {code})"}
        return answer

    def finish(self) -> SolverOutput:
        """Its answer: status, its own incumbent (if any), its bound."""
        left = self.seconds - (time.perf_counter() - self._began)
        answer = self._answer
        if answer is not None:
            pass
        elif self._conn.poll(max(0.0, left) + ANSWER_GRACE_SECONDS):
            answer = self._receive()
        else:
            self._stop.set()
            if self._conn.poll(STOP_GRACE_SECONDS):
                answer = self._receive()
        self._proc.join(STOP_GRACE_SECONDS)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        seconds = time.perf_counter() - self._began
        solver = "HiGHS (beside the search)"
        if answer is None or not answer["ok"]:
            why = "did not answer in time" if answer is None else answer["text"]
            return SolverOutput(
                SolveStatus.NO_SOLUTION, None, None, None, None, seconds, solver, why
            )
        try:
            status = status_from_highs(answer["status"], answer["has_solution"])
        except SolverError as error:  # the search's plan still stands
            return SolverOutput(
                SolveStatus.NO_SOLUTION, None, None, None, None, seconds, solver, str(error)
            )
        x = answer["x"]
        objective = None if x is None else float(self.lp.c @ x + self.lp.constant)
        bound = answer["bound"]  # HiGHS's, with the model's constant in it
        detail = f"{answer['text']}; took {answer['plans_taken']} of {self.offered} plans"
        gap = None if objective is None else relative_gap(objective, bound)
        return SolverOutput(status, x, objective, bound, gap, seconds, solver, detail)
