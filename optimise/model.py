"""The estate model: build once, solve, get a frozen :class:`Result`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from estate.errors import SolverError
from optimise.clock import Deadline, watchdog_grace
from optimise.evaluate import Allocation, Evaluation, evaluate
from optimise.formulation import Formulation, formulate
from optimise.instance import EstateInstance
from optimise.settings import SolverSettings
from optimise.solve import SolverOutput, SolveStatus, solve
from optimise.verify import KnownPlan, SolverCheck, check_claim, is_feasible, known_plan

# The solver's objective and our independent pricing of its decision must agree.
CONSISTENCY_TOL_GBP = 1.0
# Above this many integer columns HiGHS alone rarely improves on the baseline in minutes.
HEURISTIC_ABOVE = 20_000
# The greedy heuristic that checks the solver gets this share of the time limit, at most
# CHECK_MAX_SECONDS (it takes well under a second on a county-sized estate).
CHECK_TIME_SHARE = 0.1
CHECK_MAX_SECONDS = 10.0
# formulation "auto" takes the sorted-distance form when the services it applies to hold
# at least this share of the candidate pairs (or the model is pure facility location).
SORTED_AUTO_SHARE = 0.5


@dataclass(frozen=True)
class GivenPlan:
    """A plan from elsewhere to start from and check against, in the register's ids:
    the buildings it disposes of and where each service that moves goes (every other
    service stays at home).  ``name`` says where it came from."""

    name: str
    disposed: tuple[str, ...]
    moves: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Result:
    """The outcome of one solve, keyed on the register's own ids.

    ``evaluation`` is ``None`` unless a decision was found (``optimal`` or
    ``feasible``); ``gap`` is the relative gap between the decision's present cost and
    the solver's proven bound.  ``allocation`` has one row per (service, building,
    share); ``assignment`` the building holding the largest share of each service.
    ``diagnosis`` explains an ``infeasible`` result.  ``check`` is what checking the
    solver's claim against plans known to be feasible found (:mod:`optimise.verify`);
    when it fails the status is ``solver_error`` and the decision is the best plan
    that passed the check.
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
    allocation: pd.DataFrame | None
    evaluation: Evaluation | None
    diagnosis: object | None = None
    warm_started: bool = False
    check: SolverCheck | None = None

    @property
    def has_solution(self) -> bool:
        return self.evaluation is not None

    @property
    def ok(self) -> bool:
        """A decision was found and the solver's claim passed the check."""
        return self.has_solution and self.status is not SolveStatus.SOLVER_ERROR


class EstateModel:
    """The MILP of MODEL.md section 4 over one :class:`EstateInstance`."""

    def __init__(self, instance: EstateInstance, started: float | None = None) -> None:
        """``started`` (``time.perf_counter``) is when the run began, if before now: the
        first solve's time limit then counts from it (reading and building included)."""
        start = time.perf_counter()
        self.started = None if started is None else min(started, start)
        self.instance = instance
        self.formulation: Formulation = formulate(instance)
        self.build_seconds = time.perf_counter() - start
        self._solved = False

    def solve(
        self,
        settings: SolverSettings | None = None,
        diagnose: bool = True,
        started: float | None = None,
        plans: Sequence[GivenPlan] = (),
    ) -> Result:
        """Solve and price the decision; never raises for infeasible or unfinished solves.

        The time limit covers the whole solve, from ``started`` (default: the model's
        own ``started`` for its first solve, else now) to the priced result:
        every phase shares one :class:`~optimise.clock.Deadline`.  The solver's claim
        is checked against plans known to be feasible (:meth:`known_plans`): a refuted
        claim gives status ``solver_error``.  ``plans`` (from other solves) that satisfy
        every row join those plans, and the cheapest of them is the solver's start.
        An infeasible model is re-solved with penalised slack to say why
        (``Result.diagnosis``) unless ``diagnose`` is False.
        """
        settings = settings or SolverSettings()
        if started is None:
            started = self.started if not self._solved else None
        self._solved = True
        deadline = Deadline.start(settings.time_limit_seconds, started)
        settings = settings.model_copy(
            update={
                "watchdog_grace_seconds": watchdog_grace(
                    settings.time_limit_seconds, settings.watchdog_grace_seconds
                )
            }
        )
        given = [p for p in (self.given_plan(g) for g in plans) if p is not None]
        known = self.known_plans(settings, deadline) + given
        f = self.formulation
        sorted_services = self.sorted_services(settings)
        if sorted_services is not None:
            from optimise.sorted_distance import solve_sorted

            start, start_name = self._start(given)
            solved = solve_sorted(f, sorted_services, settings, deadline, start)
            output = solved.output
            heuristic = known_plan(f.lp, "greedy and swap heuristic", solved.heuristic)
            if heuristic is not None:
                known.append(heuristic)
            if solved.started_from == "heuristic":
                start_name = "greedy and swap heuristic"
            warm = (start is not None or solved.heuristic is not None) and settings.warm_start
        elif self.use_heuristics(settings):
            from optimise.heuristics import solve_large

            start, start_name = self._start(given) if given else (None, "greedy heuristic")
            output = solve_large(self, _within(settings, deadline), deadline, start)
            warm = True
        else:
            start, start_name = self._start(given)
            output = solve(f.lp, _within(settings, deadline), start, f.link_rows, f.likely_links())
            warm = start is not None and settings.warm_start
        output, check = check_claim(f.lp, output, known, settings.mip_rel_gap)
        check = dataclasses.replace(check, started_from=start_name if warm else None)
        result = self._result(output, warm_started=warm, check=check)
        if result.status is SolveStatus.INFEASIBLE and diagnose:
            from optimise.diagnose import diagnose_infeasibility

            left = max(1.0, deadline.left() - deadline.reserve())
            diagnosis = diagnose_infeasibility(
                self, settings.model_copy(update={"time_limit_seconds": left})
            )
            result = Result(**{**result.__dict__, "diagnosis": diagnosis})
        return result

    def _start(self, given: list[KnownPlan]) -> tuple[NDArray[np.float64] | None, str | None]:
        """The solver's start and its name: the cheapest plan given from elsewhere, else
        the baseline.

        Not the greedy plan: a solver that hands back its start as "optimal" is then
        refuted by the greedy plan (see :mod:`optimise.verify`)."""
        if given:
            best = min(given, key=lambda p: p.objective)
            return best.x, best.name
        base = self.baseline_start()
        return base, None if base is None else "baseline"

    def given_plan(self, plan: GivenPlan) -> KnownPlan | None:
        """``plan`` as a :class:`KnownPlan` of this model, or None when it names a
        building or service the model lacks, places a service outside its candidates
        or breaks a row."""
        inst = self.instance
        b_pos = {b: i for i, b in enumerate(inst.building_ids)}
        s_pos = {s: i for i, s in enumerate(inst.service_ids)}
        if any(b not in b_pos for b in plan.disposed) or any(
            s not in s_pos or b not in b_pos for s, b in plan.moves
        ):
            return None
        keep = np.ones(len(b_pos), dtype=bool)
        keep[[b_pos[b] for b in plan.disposed]] = False
        assign = inst.home_index().copy()
        for s, b in plan.moves:
            assign[s_pos[s]] = b_pos[b]
        return known_plan(self.formulation.lp, plan.name, self._repaired(keep, assign))

    def _repaired(
        self, keep: NDArray[np.bool_], assign: NDArray[np.int64], rounds: int = 5
    ) -> NDArray[np.float64] | None:
        """Column values of a plan, with the services that moved into an over-full
        building sent back home (and their homes kept) until no capacity or floor-area
        row is broken; None when another row stays broken."""
        f = self.formulation
        lp = f.lp
        home = self.instance.home_index()
        local = np.concatenate([f.capacity_rows, f.space_rows])
        keep_row = lp.matrix[local][:, f.keep_col].tocoo()
        building_of_row = np.full(len(local), -1, dtype=np.int64)
        building_of_row[keep_row.row] = keep_row.col
        keep, assign = keep.copy(), assign.copy()
        for _ in range(rounds):
            x = self.column_values(keep, assign)
            if x is None:
                return None
            if is_feasible(lp, x):
                return x
            activity = lp.matrix[local] @ x
            over = activity > lp.row_hi[local] + 1e-6 * np.maximum(1.0, np.abs(lp.row_hi[local]))
            full = np.unique(building_of_row[over & (building_of_row >= 0)])
            back = np.isin(assign, full) & (assign != home)
            if not back.any():
                return None
            assign[back] = home[back]
            keep[home[back]] = True
        return None

    def use_heuristics(self, settings: SolverSettings) -> bool:
        """Whether ``settings`` ask for the heuristic-first strategy on this model."""
        if settings.strategy != "auto":
            return settings.strategy == "heuristic" and settings.solver == "highs"
        return (
            settings.solver == "highs" and int(self.formulation.lp.integer.sum()) > HEURISTIC_ABOVE
        )

    def sorted_services(self, settings: SolverSettings) -> NDArray[np.bool_] | None:
        """The services to put in sorted-distance form under ``settings``, or None for
        the strong model throughout (see :mod:`optimise.sorted_distance`).

        ``sorted`` takes every service it applies to; ``auto`` does too when they hold
        at least half the candidate pairs, unless the heuristic-first strategy is asked
        for (it works on the strong model)."""
        if settings.formulation == "strong":
            return None
        from optimise.sorted_distance import qualifying_services

        f = self.formulation
        services = qualifying_services(f)
        if not services.any():
            return None
        if settings.formulation == "sorted":
            return services
        if settings.strategy == "heuristic":
            return None
        share = float(services[f.pair_service].mean()) if len(f.pair_service) else 0.0
        return services if share >= SORTED_AUTO_SHARE else None

    def baseline_start(self) -> NDArray[np.float64] | None:
        """Column values of the baseline (keep everything, move nothing), if feasible."""
        keep = np.ones(len(self.instance.buildings), dtype=bool)
        return self.columns(keep, self.instance.home_index())

    def known_plans(
        self, settings: SolverSettings, deadline: Deadline | None = None
    ) -> list[KnownPlan]:
        """Plans built without the MIP solver that satisfy every row: the baseline and
        the greedy heuristic's plan from it, or, when the policy forces buildings out,
        the baseline with the forced moves."""
        from optimise.heuristics import greedy_disposal

        lp = self.formulation.lp
        base = self.baseline_start()
        if base is None:
            forced = known_plan(lp, "baseline with the forced moves", self.forced_moves_plan())
            return [forced] if forced is not None else []
        seconds = min(CHECK_MAX_SECONDS, CHECK_TIME_SHARE * settings.time_limit_seconds)
        until = time.perf_counter() + seconds
        if deadline is not None:
            until = min(until, deadline.share(CHECK_TIME_SHARE))
        greedy = greedy_disposal(self, None, until)
        plans = [known_plan(lp, "baseline", base), known_plan(lp, "greedy heuristic", greedy)]
        return [p for p in plans if p is not None]

    def forced_moves_plan(self) -> NDArray[np.float64] | None:
        """The baseline with every building the policy forces out disposed of and each
        of its services moved to its cheapest kept candidate with room (largest
        services first); None when that breaks a rule or nothing is forced out."""
        f = self.formulation
        lp = f.lp
        inst = self.instance
        keep = lp.col_hi[f.keep_col] > 0.5
        assign = inst.home_index().copy()
        displaced = np.flatnonzero(~keep[assign])
        if len(displaced) == 0:
            return None
        desks = inst.services["desks"].to_numpy(dtype=float)
        room = inst.buildings["capacity_desks"].to_numpy(dtype=float) * inst.policy.utilisation
        room = room - np.bincount(
            assign[keep[assign]], weights=desks[keep[assign]], minlength=len(keep)
        )
        cost = lp.c[f.pair_col]
        for s in displaced[np.argsort(-desks[displaced], kind="stable")]:
            pairs = np.flatnonzero(f.pair_service == s)
            where = f.pair_building[pairs]
            fits = keep[where] & (room[where] >= desks[s] - 1e-9)
            if not fits.any():
                return None
            pick = pairs[fits][np.argmin(cost[pairs[fits]])]
            assign[s] = f.pair_building[pick]
            room[assign[s]] -= desks[s]
        return self.columns(keep, assign)

    def columns(
        self, keep: NDArray[np.bool_], assign: NDArray[np.int64]
    ) -> NDArray[np.float64] | None:
        """Full column values for a decision (derived columns filled in), or None when
        the decision breaks a row or bound of the model."""
        x = self.column_values(keep, assign)
        return x if x is not None and is_feasible(self.formulation.lp, x) else None

    def column_values(
        self, keep: NDArray[np.bool_], assign: NDArray[np.int64]
    ) -> NDArray[np.float64] | None:
        """Column values for a decision, rows unchecked: ``assign[s]`` is service s's
        building, or -1 for none.  Derived columns take the values most favourable to
        the rows (each zone covered wherever a host is within reach).  None when a
        service is placed outside its candidates."""
        f = self.formulation
        x = np.zeros(len(f.lp.c))
        x[f.keep_col] = keep.astype(float)
        at = assign[f.pair_service] == f.pair_building
        x[f.pair_col[at]] = 1.0
        if np.count_nonzero(at) != np.count_nonzero(assign >= 0):
            return None  # a service placed outside its candidates
        for block in f.access_blocks:
            held = np.isin(
                block.present_building, _hosts(self.instance, block.service_type, assign)
            )
            x[block.present_col] = held.astype(float)
            if len(block.covered_col):
                x[block.covered_col] = np.minimum(1.0, block.reach @ held.astype(float))
        agency = self.instance.services["agency"].to_numpy(dtype=object)
        for (a, b), col in f.agency_cols.items():
            x[col] = float(np.any((assign == b) & (agency == a)))
        if f.late is not None:
            chosen = np.flatnonzero(at & (f.pair_lead > 0))
            origin = self.instance.home_index()[f.pair_service[chosen]]
            for col, h, lead in zip(f.late.col, f.late.building, f.late.lead, strict=True):
                x[col] = float(np.any((origin == h) & (f.pair_lead[chosen] >= lead)))
        return x

    def decision(self, x: NDArray[np.float64]) -> tuple[NDArray[np.bool_], Allocation]:
        """Keep flags and where each service (or share of one) goes, from column values."""
        f = self.formulation
        keep = x[f.keep_col] > 0.5
        values = x[f.pair_col]
        integer = self.formulation.lp.integer[f.pair_col]
        share = np.where(integer, np.round(values), values)
        used = share > 1e-9
        sv, bv, fv = f.pair_service[used], f.pair_building[used], share[used]
        totals = np.bincount(sv, weights=fv, minlength=len(self.instance.services))
        if (np.abs(totals - 1.0) > 1e-6).any():
            raise SolverError("the solver left a service unplaced or placed twice")
        return keep, Allocation(sv, bv, fv / totals[sv])

    def _result(
        self, output: SolverOutput, warm_started: bool, check: SolverCheck | None = None
    ) -> Result:
        keep_s = assign_s = alloc_df = evaluation = None
        if output.x is not None:
            keep, alloc = self.decision(output.x)
            evaluation = evaluate(self.instance, keep, alloc)
            assert output.objective is not None
            check_priced(evaluation, output.objective, "solver objective", "decision")
            keep_s, assign_s, alloc_df = decision_frames(self.instance, keep, alloc)
        return Result(
            status=output.status,
            objective=output.objective,
            bound=output.bound,
            gap=output.gap,
            build_seconds=self.build_seconds + output.build_seconds,
            solve_seconds=output.seconds,
            solver=output.solver,
            detail=output.detail,
            keep=keep_s,
            assignment=assign_s,
            allocation=alloc_df,
            evaluation=evaluation,
            warm_started=warm_started,
            check=check,
        )


def _within(settings: SolverSettings, deadline: Deadline) -> SolverSettings:
    """``settings`` with the time the solver may take now under ``deadline``."""
    return settings.model_copy(update={"time_limit_seconds": deadline.for_solver()})


def check_priced(evaluation: Evaluation, objective: float, source: str, what: str) -> None:
    """Raise unless the independently priced decision agrees with the solver's objective
    and breaks no constraint: the solver's answer is checked, not trusted."""
    tolerance = max(CONSISTENCY_TOL_GBP, 1e-9 * abs(objective))
    if abs(evaluation.present_cost - objective) > tolerance:
        raise SolverError(
            f"{source} {objective:,.2f} disagrees with the priced {what} "
            f"{evaluation.present_cost:,.2f}"
        )
    if evaluation.violations:
        raise SolverError(f"the {what} breaks constraints: " + "; ".join(evaluation.violations))


def decision_frames(
    instance: EstateInstance, keep: NDArray[np.bool_], alloc: Allocation
) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Keep flags by building, each service's main building, and every (share of a)
    service's building, labelled with the register's ids."""
    b_ids = np.asarray(instance.building_ids, dtype=object)
    s_ids = np.asarray(instance.service_ids, dtype=object)
    keep_s = pd.Series(keep, index=pd.Index(b_ids, name="building_id"), name="keep")
    main = alloc.main_building(len(s_ids))
    assign_s = pd.Series(b_ids[main], index=pd.Index(s_ids, name="service_id"), name="building_id")
    alloc_df = pd.DataFrame(
        {
            "service_id": s_ids[alloc.service],
            "building_id": b_ids[alloc.building],
            "share": alloc.share,
        }
    )
    return keep_s, assign_s, alloc_df


def _hosts(
    instance: EstateInstance, service_type: str, home: NDArray[np.int64]
) -> NDArray[np.int64]:
    is_type = (instance.services["service_type"] == service_type).to_numpy()
    return np.unique(home[is_type & (home >= 0)])
