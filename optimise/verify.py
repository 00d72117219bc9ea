"""Trust but verify: a solver's claim is checked against plans known to be feasible.

A MIP solver that says "optimal" claims two things: its plan costs no more than the
best plan there is plus the relative gap, and its bound is below the cost of every
feasible plan.  "Infeasible" claims there is no feasible plan at all.  A plan built
without the solver (the baseline, the baseline with the forced moves, the greedy
heuristic's plan) and checked row by row refutes such a claim by being cheaper than
the bound, cheaper than an "optimal" plan by more than the gap, or by existing.

This is not hypothetical: highspy 1.16.0 returns the demo's warm start (the
baseline, a 0 saving) as "optimal" with bound = objective although a plan 21 million
pounds cheaper is feasible, and without the warm start says "infeasible".  A refuted
claim becomes status ``solver_error`` and the result keeps the best plan that passed
the check, as a feasible plan with no proven bound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from estate.money import gbp
from optimise.formulation import LinearProgram
from optimise.solve import SolverOutput, SolveStatus, relative_gap

# Pricing noise in pounds: costs are sums of discounted cash flows.
CHECK_TOL_GBP = 1.0
# A solver's bound may sit this far (relative) above a feasible plan's cost through its
# own feasibility tolerances without being wrong.
BOUND_REL_TOL = 1e-6
FEASIBILITY_TOL = 1e-6


def is_feasible(lp: LinearProgram, x: NDArray[np.float64], tol: float = FEASIBILITY_TOL) -> bool:
    """Whether ``x`` satisfies every bound and row of ``lp`` (relative tolerance)."""
    inside = (x >= lp.col_lo - tol) & (x <= lp.col_hi + tol)
    activity = lp.matrix @ x
    rows_ok = (activity >= lp.row_lo - tol * np.maximum(1, np.abs(lp.row_lo))) & (
        activity <= lp.row_hi + tol * np.maximum(1, np.abs(lp.row_hi))
    )
    integral = np.abs(x[lp.integer] - np.round(x[lp.integer])) <= tol
    return bool(inside.all() and rows_ok.all() and integral.all())


@dataclass(frozen=True)
class KnownPlan:
    """A plan built without the solver that satisfies every row of the model.

    ``name`` says where it came from, in words (``"baseline"``, ``"greedy heuristic"``);
    ``objective`` is its present cost, GBP.
    """

    name: str
    x: NDArray[np.float64]
    objective: float


def known_plan(lp: LinearProgram, name: str, x: NDArray[np.float64] | None) -> KnownPlan | None:
    """``x`` as a :class:`KnownPlan`, or None when it is missing or breaks a row."""
    if x is None or not is_feasible(lp, x):
        return None
    return KnownPlan(name, x, float(lp.c @ x + lp.constant))


def completed_plan(
    lp: LinearProgram, name: str, x: NDArray[np.float64], time_limit_seconds: float = 10.0
) -> KnownPlan | None:
    """The plan whose integer columns (the decisions) are those of ``x``, with the
    continuous columns (timings, coverage) at their cheapest values: an LP with every
    decision fixed.  None when no such plan meets every row.

    The LP is solved by HiGHS's simplex (not the MIP search whose claims are being
    checked), and its answer counts only after the row-by-row check of
    :func:`known_plan`, so a wrong LP answer can hide a known plan but never invent one.
    """
    from optimise.settings import SolverSettings
    from optimise.solve import solve_with_highspy

    decided = np.round(np.asarray(x, dtype=float))
    fixed = dataclasses.replace(
        lp,
        col_lo=np.where(lp.integer, decided, lp.col_lo),
        col_hi=np.where(lp.integer, decided, lp.col_hi),
        integer=np.zeros(len(lp.c), dtype=bool),
    )
    settings = SolverSettings(time_limit_seconds=time_limit_seconds, mip_rel_gap=0.0)
    output = solve_with_highspy(fixed, settings)
    if output.x is None:
        return None
    return known_plan(lp, name, np.where(lp.integer, decided, output.x))


@dataclass(frozen=True)
class SolverCheck:
    """What checking the solver's claim found.

    ``claimed_*`` are what the solver said; ``reference`` is the best known plan it was
    checked against (None when no plan was known) and ``reference_objective`` its
    present cost; ``plan`` is whose plan the result holds (``"solver"``, a known plan's
    name, or None); ``message`` says it in words; ``started_from`` names the plan the
    solver was started from (None: no start).
    """

    passed: bool
    claimed_status: str
    claimed_objective: float | None
    claimed_bound: float | None
    reference: str | None
    reference_objective: float | None
    plan: str | None
    message: str
    started_from: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _gbp(value: float) -> str:
    return gbp(value)


def refutation(output: SolverOutput, best: KnownPlan, mip_rel_gap: float) -> str:
    """Why ``best`` proves the solver's claim wrong, or "" when it does not."""
    claim = output.status
    if claim is SolveStatus.INFEASIBLE:
        return (
            f"the solver said no plan meets every rule, but the {best.name} plan does "
            f"(present cost {_gbp(best.objective)})"
        )
    if claim is SolveStatus.OPTIMAL and output.objective is not None:
        allowed = mip_rel_gap * max(abs(output.objective), 1.0) + CHECK_TOL_GBP
        if output.objective - best.objective > allowed:
            return (
                f"the solver said its plan ({_gbp(output.objective)}) is optimal within "
                f"{mip_rel_gap:.2%}, but the {best.name} plan costs {_gbp(best.objective)}, "
                f"{_gbp(output.objective - best.objective)} less"
            )
    bound = output.bound
    if bound is not None:
        slack = BOUND_REL_TOL * max(abs(bound), 1.0) + CHECK_TOL_GBP
        if best.objective < bound - slack:
            return (
                f"the solver's bound says no plan costs less than {_gbp(bound)}, but the "
                f"{best.name} plan costs {_gbp(best.objective)}"
            )
    return ""


def check_claim(
    lp: LinearProgram, output: SolverOutput, plans: Sequence[KnownPlan], mip_rel_gap: float
) -> tuple[SolverOutput, SolverCheck]:
    """Check ``output`` against ``plans``; returns the output to use and the finding.

    A refuted claim comes back with status ``solver_error``, no bound or gap, and the
    cheapest plan that passed the check (the solver's own, when it satisfies every row
    and costs no more).  A solver stopped early (``feasible`` or ``no_solution``) with
    a plan worse than a known one comes back ``feasible`` with the known plan.
    """
    claimed = output.status.value
    best = min(plans, key=lambda p: p.objective, default=None)

    def finding(passed: bool, plan: str | None, message: str) -> SolverCheck:
        return SolverCheck(
            passed,
            claimed,
            output.objective,
            output.bound,
            None if best is None else best.name,
            None if best is None else best.objective,
            plan,
            message,
        )

    own = "solver" if output.x is not None else None
    if best is None:
        return output, finding(True, own, "no plan known to be feasible to check the claim against")
    why = refutation(output, best, mip_rel_gap)
    if why:
        x, objective, plan = best.x, best.objective, best.name
        if (
            output.x is not None
            and output.objective is not None
            and output.objective <= best.objective + CHECK_TOL_GBP
            and is_feasible(lp, output.x)
        ):
            x, objective, plan = output.x, output.objective, "solver"
        failed = dataclasses.replace(
            output,
            status=SolveStatus.SOLVER_ERROR,
            x=x,
            objective=objective,
            bound=None,
            gap=None,
            detail=f"{output.detail}; check failed: {why}",
        )
        kept = "the solver's own" if plan == "solver" else f"the {plan}"
        message = (
            f"Solver failure: {why}. The result holds {kept} plan, which satisfies every "
            "rule, as a feasible plan; nothing is proven about how far it is from the best."
        )
        return failed, finding(False, plan, message)
    worse = output.objective is None or best.objective < output.objective - CHECK_TOL_GBP
    if output.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION) and worse:
        replaced = dataclasses.replace(
            output,
            status=SolveStatus.FEASIBLE,
            x=best.x,
            objective=best.objective,
            gap=relative_gap(best.objective, output.bound),
            detail=f"{output.detail}; the {best.name} plan is better than the solver's",
        )
        message = (
            f"The solver stopped early ({claimed}) with no plan better than the {best.name} "
            f"plan ({_gbp(best.objective)}): that plan is reported."
        )
        return replaced, finding(True, best.name, message)
    return output, finding(
        True,
        own,
        f"The solver's claim ({claimed}) stands against the {best.name} plan "
        f"({_gbp(best.objective)}).",
    )
