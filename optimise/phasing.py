"""The year-by-year plan: the estate MILP with a year on each disposal (MODEL.md §7).

Design.  The single-period model (:mod:`optimise.formulation`) decides the end state:
which buildings are kept and where every service goes.  Phasing adds *when*, with
year variables only where timing is a choice that matters:

``vacate[b,t]``  binary, t = 1..T: building b is vacated in year t (its services move
                 out that year) and disposed of; ``sum_t vacate[b,t] = 1 - keep[b]``.

Everything else follows from the building's year, so the model grows by about
``buildings x T`` columns, not ``services x buildings x T``:

- a service whose home is disposed of moves in the year its home is vacated; if it
  moves into space that must first be fitted out (lead time L), that year is L + 1 or
  later: its new home is ready before its old one closes (``ready[b,L]``);
- a service that leaves a building that is *kept* (to make room, or to join a hub)
  moves in year 1 (it never waits for a fit-out: only a building that goes may hold a
  service while its new space is made ready).  Buildings that receive services are
  never disposed of, so with every such move in year 1 no building ever holds more
  than its final occupancy (arrivals only add to what the end state holds) and no
  capacity row per year is needed;
- a lease is exited at its first break or end in or after the year it is vacated
  (:func:`optimise.finance.exit_year_after`): never before a lease event.  A freehold
  is sold the disposal lag after it is vacated.  Running costs run to the exit year;
  dilapidations and receipts fall in it.

Vacating every building in year 1 is exactly the single-period model, so the plan's
NPV is never below the single-period optimum when budgets do not bind (and with no
discounting it is equal).  The objective is the single-period one plus, for each
``vacate[b,t]``, the change in present cost of exiting later, of paying the moves in
year t rather than when the single-period model pays them, and of the services'
occupancy costs falling at b rather than at their new homes until then.  Where that
last change depends on where the services go, it is ``shift[b,t]``, a column equal to
``vacate[b,t]`` times an expression in the ``assign`` columns (linearised exactly:
two rows, since ``vacate`` is binary).

**Access in every year.**  In year y a service is at its new home if its home is kept
or was vacated in year y or before, else still at home.  Every access standard must
hold in every year of the plan, not only at the end.  Those rows are many (types x
years x zones), so they are added only where needed: the plan is solved, its access
recomputed year by year, and the rows of each (type, year) it breaks are added and
the plan solved again, until no year breaks a standard.

The Total Capital pot receives ``annual_budget`` each year and pays every one-off
cost (moves and fit-out with optimism bias, dilapidations) in the year it falls:

- by default, each year's spending is at most that year's budget;
- ``carry_forward``: the pot keeps what is not spent (cumulative spending is at most
  cumulative budget);
- ``recycle_receipts``: net capital receipts go into the pot and may be spent from the
  year after the sale (they are never lost, even when the yearly budget lapses).

The plan is then priced by :func:`optimise.evaluate.evaluate` with its own exit and
move years, and every budget, lease and move rule is checked again on that output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from estate.errors import SettingsError, SolverError
from optimise.evaluate import Allocation, Evaluation, evaluate
from optimise.finance import (
    ONE_OFF_CATEGORIES,
    discount_factors,
    exit_year_after,
    instance_cash_flows,
    lease_event_years,
    move_costs,
    present_value,
)
from optimise.formulation import (
    INF,
    LinearProgram,
    conversion_costs,
    one_off_costs,
)
from optimise.instance import EstateInstance
from optimise.model import (
    EstateModel,
    Result,
    check_priced,
    decision_frames,
    is_feasible,
)
from optimise.settings import PhasingSettings, SolverSettings
from optimise.solve import SolveStatus, solve
from optimise.verify import KnownPlan, check_claim, completed_plan, known_plan
from optimise.yearly import breached_pairs, yearly_access_lp, yearly_breaches

BUDGET_TOL_GBP = 0.01


@dataclass(frozen=True)
class PhasedFormulation:
    """The single-period LP extended with vacate-year columns and yearly budget rows.

    ``vacate_col[i]`` is the column of vacating building ``vacate_building[i]`` in year
    ``vacate_year[i]``, exiting in ``exit_year[i]``.  ``use_col[y-1]`` (recycled
    receipts spent in year y) exists only with ``recycle_receipts`` and no carry-forward.
    """

    lp: LinearProgram
    n_base: int
    years: int
    budget_years: int
    vacate_col: NDArray[np.int64]
    vacate_building: NDArray[np.int64]
    vacate_year: NDArray[np.int64]
    exit_year: NDArray[np.int64]
    use_col: NDArray[np.int64]


def plan_years(instance: EstateInstance, phasing: PhasingSettings) -> int:
    """The last year a change may happen in: ``phasing.years`` or the horizon."""
    horizon = instance.finance.horizon_years
    years = phasing.years if phasing.years is not None else horizon
    if years > horizon:
        raise SettingsError(
            f"phasing.years ({years}) is beyond the appraisal horizon "
            f"(finance.horizon_years = {horizon})"
        )
    return years


def building_events(instance: EstateInstance) -> list[list[int]]:
    """Lease event years (break, end) of each building; empty for freeholds."""
    b = instance.buildings
    return [
        lease_event_years(t, brk, end, instance.finance)
        for t, brk, end in zip(b["tenure"], b["lease_break"], b["lease_end"], strict=True)
    ]


def formulate_phased(model: EstateModel, phasing: PhasingSettings) -> PhasedFormulation:
    """Extend ``model``'s single-period LP with vacate years and the yearly pot."""
    instance = model.instance
    if instance.assignment_cost is not None:
        raise SettingsError(
            "phasing does not support placement costs (assignment_cost): they depend on "
            "where and when a service moves"
        )
    f = model.formulation
    base = f.lp
    finance = instance.finance
    horizon = finance.horizon_years
    years = plan_years(instance, phasing)
    discount = discount_factors(finance)
    n_b = len(instance.buildings)
    events = building_events(instance)

    disposable = np.flatnonzero(base.col_lo[f.keep_col] < 0.5)
    vb = np.repeat(disposable, years)
    vy = np.tile(np.arange(1, years + 1), len(disposable))
    ve = np.array(
        [exit_year_after(events[b], int(t), finance) for b, t in zip(vb, vy, strict=True)],
        dtype=np.int64,
    )
    # Present cost of disposing with each exit year, against the single-period exit.
    dispose_pv = np.zeros(len(vb))
    for t in range(1, years + 1):
        exits = np.array([exit_year_after(e, t, finance) for e in events], dtype=np.int64)
        flows = instance_cash_flows(instance, exits)
        pv = present_value(flows.dispose.sum(axis=1), discount)
        dispose_pv[vy == t] = pv[vb[vy == t]]
    home = instance.home_index()
    moving = move_costs(instance.services, finance)
    out_of = np.asarray(np.bincount(home, weights=moving, minlength=n_b), dtype=float)  # GBP
    delta = _timing_deltas(model, years)
    constant_shift, varies = _constant_shifts(model, delta, vb, vy)
    cost = dispose_pv - f.dispose_cost[vb] + constant_shift

    n_base = len(base.c)
    vacate_col = n_base + np.arange(len(vb), dtype=np.int64)
    names = [f"vacate[{instance.building_ids[b]},{t}]" for b, t in zip(vb, vy, strict=True)]
    # One year for each building that goes: sum_t vacate[b,t] + keep[b] = 1.
    rank = np.searchsorted(disposable, vb)
    choose = sparse.coo_matrix(
        (
            np.ones(len(vb) + len(disposable)),
            (
                np.concatenate([rank, np.arange(len(disposable))]),
                np.concatenate([vacate_col, f.keep_col[disposable]]),
            ),
        ),
        shape=(len(disposable), n_base + len(vb)),
    )
    base_c = base.c.copy()
    if f.late is not None:
        base_c[f.late.col] = 0.0  # the vacate year prices the exit; late only links
    blocks: list[sparse.spmatrix] = [
        sparse.hstack([base.matrix, sparse.csr_matrix((base.shape[0], len(vb)))]),
        choose,
    ]
    row_lo = [base.row_lo, np.ones(len(disposable))]
    row_hi = [base.row_hi, np.ones(len(disposable))]
    row_names = base.row_names + [f"one_year[{instance.building_ids[b]}]" for b in disposable]
    col_c = [base_c, cost]
    col_lo = [base.col_lo, np.zeros(len(vb))]
    col_hi = [base.col_hi, np.ones(len(vb))]
    integer = [base.integer, np.ones(len(vb), dtype=bool)]
    col_names = base.col_names + names
    n_cols = n_base + len(vb)
    ready = _ready_rows(model, vb, vy, vacate_col, n_cols)
    if ready is not None:
        blocks.append(ready[0])
        row_lo.append(np.full(ready[0].shape[0], -INF))
        row_hi.append(np.ones(ready[0].shape[0]))
        row_names += ready[1]
    shift = _shift_columns(model, delta, vb, vy, vacate_col, varies, n_cols)
    if shift is not None:
        matrix, lo, hi, shift_names, shift_row_names, shift_row_hi = shift
        n_new = len(lo)
        blocks = [_widen(block, n_cols + n_new) for block in blocks]
        blocks.append(matrix)
        row_lo.append(np.full(matrix.shape[0], -INF))
        row_hi.append(shift_row_hi)
        row_names += shift_row_names
        col_c.append(np.ones(n_new))
        col_lo.append(lo)
        col_hi.append(hi)
        integer.append(np.zeros(n_new, dtype=bool))
        col_names += shift_names
        n_cols += n_new

    budget_years = int(max(years, ve[ve <= horizon].max(initial=0)))
    use_col = np.zeros(0, dtype=np.int64)
    if phasing.annual_budget is not None:
        spend, spend_constant = _spending(model, vb, vy, ve, vacate_col, out_of, n_cols)
        spend = spend[:budget_years]
        spend_constant = spend_constant[:budget_years]
        receipts = _receipts(instance, vb, ve, vacate_col, n_cols)[:budget_years]
        allowance = np.array([phasing.budget_in(y) for y in range(1, budget_years + 1)])
        earlier = sparse.csr_matrix(np.tril(np.ones((budget_years, budget_years)), k=-1))
        if phasing.carry_forward:
            upto = sparse.csr_matrix(np.tril(np.ones((budget_years, budget_years))))
            rows = upto @ spend
            if phasing.recycle_receipts:
                rows = rows - earlier @ receipts
            hi = np.cumsum(allowance) - upto @ spend_constant
            extra = sparse.csr_matrix((budget_years, 0))
        else:
            rows = spend
            hi = allowance - spend_constant
            extra = sparse.csr_matrix((budget_years, 0))
            if phasing.recycle_receipts:
                use_col = n_cols + np.arange(budget_years, dtype=np.int64)
                extra = -sparse.identity(budget_years, format="csr")
                col_c.append(np.zeros(budget_years))
                col_lo.append(np.zeros(budget_years))
                col_hi.append(np.full(budget_years, max(1.0, float(receipts.sum()))))
                integer.append(np.zeros(budget_years, dtype=bool))
                col_names += [f"recycled_used[{y}]" for y in range(1, budget_years + 1)]
        n_all = n_cols + (len(use_col))
        blocks = [_widen(block, n_all) for block in blocks]
        blocks.append(sparse.hstack([rows, extra]).tocsr())
        row_lo.append(np.full(budget_years, -INF))
        row_hi.append(hi)
        row_names += [f"annual_budget[{y}]" for y in range(1, budget_years + 1)]
        if len(use_col):
            upto = sparse.csr_matrix(np.tril(np.ones((budget_years, budget_years))))
            blocks.append(sparse.hstack([-(earlier @ receipts), upto]).tocsr())
            row_lo.append(np.full(budget_years, -INF))
            row_hi.append(np.zeros(budget_years))
            row_names += [f"recycled_available[{y}]" for y in range(1, budget_years + 1)]
    matrix = sparse.vstack(blocks).tocsr()
    matrix.eliminate_zeros()
    lp = LinearProgram(
        c=np.concatenate(col_c),
        constant=base.constant,
        matrix=matrix,
        row_lo=np.concatenate(row_lo),
        row_hi=np.concatenate(row_hi),
        col_lo=np.concatenate(col_lo),
        col_hi=np.concatenate(col_hi),
        integer=np.concatenate(integer),
        col_names=col_names,
        row_names=row_names,
    )
    return PhasedFormulation(lp, n_base, years, budget_years, vacate_col, vb, vy, ve, use_col)


def _timing_deltas(model: EstateModel, years: int) -> NDArray[np.float64]:
    """pairs x (years + 1): the change in present cost when a pair's service leaves a
    disposed home in year t rather than when the single-period model moves it (year 1,
    or after its fit-out's lead time): its move paid in year t, and its occupancy costs
    at home instead of at its new building in between.  0 for pairs that stay at home
    and for years before the pair could move."""
    instance = model.instance
    f = model.formulation
    discount = discount_factors(instance.finance)
    cumulative = np.cumsum(discount)
    space = instance.spaces
    home = instance.home_index()[f.pair_service]
    moving = f.pair_building != home
    arrive = 1 + f.pair_lead
    move = move_costs(instance.services, instance.finance)[f.pair_service]
    rate_gap = (space.occupancy_rate[home] - space.occupancy_rate[f.pair_building]) * (
        space.floor_m2[f.pair_service]
    )
    out = np.zeros((len(f.pair_service), years + 1))
    for t in range(1, years + 1):
        between = cumulative[t - 1] - cumulative[np.minimum(arrive - 1, t - 1)]  # arrive..t-1
        value = move * (discount[t] - discount[np.minimum(arrive, len(discount) - 1)])
        value = value + rate_gap * between
        out[:, t] = np.where(moving & (arrive <= t), value, 0.0)
    return out


def _constant_shifts(
    model: EstateModel, delta: NDArray[np.float64], vb: NDArray[np.int64], vy: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """For each vacate column: the timing change when it does not depend on where the
    building's services go (each service's delta the same at every candidate), and
    whether it does (then a ``shift`` column carries it)."""
    f = model.formulation
    home = model.instance.home_index()
    origin = home[f.pair_service]
    moving = f.pair_building != origin
    constant = np.zeros(len(vb))
    varies = np.zeros(len(vb), dtype=bool)
    for i, (b, t) in enumerate(zip(vb, vy, strict=True)):
        pairs = np.flatnonzero(moving & (origin == b))
        if not len(pairs):
            continue
        values = delta[pairs, t]
        by_service = f.pair_service[pairs]
        total = 0.0
        for s in np.unique(by_service):
            mine = values[by_service == s]
            if np.ptp(mine) > 1e-9:
                varies[i] = True
                break
            total += float(mine[0])
        if not varies[i]:
            constant[i] = total
    return constant, varies


def _shift_columns(
    model: EstateModel,
    delta: NDArray[np.float64],
    vb: NDArray[np.int64],
    vy: NDArray[np.int64],
    vacate_col: NDArray[np.int64],
    varies: NDArray[np.bool_],
    n_cols: int,
) -> (
    tuple[
        sparse.csr_matrix,
        NDArray[np.float64],
        NDArray[np.float64],
        list[str],
        list[str],
        NDArray[np.float64],
    ]
    | None
):
    """``shift[b,t] = vacate[b,t] x D`` with ``D = sum of delta x assign`` over the moves
    out of b, exactly: ``shift >= D - Dmax (1 - vacate)`` and ``shift >= Dmin vacate``
    (Dmin <= D <= Dmax for every assignment; the objective pushes shift down)."""
    at = np.flatnonzero(varies)
    if not len(at):
        return None
    f = model.formulation
    ids = model.instance.building_ids
    origin = model.instance.home_index()[f.pair_service]
    moving = f.pair_building != origin
    n_new = len(at)
    shift_col = n_cols + np.arange(n_new)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo, hi = np.zeros(n_new), np.zeros(n_new)
    row_hi = np.zeros(2 * n_new)
    for k, i in enumerate(at):
        b, t = int(vb[i]), int(vy[i])
        pairs = np.flatnonzero(moving & (origin == b))
        values = delta[pairs, t]
        services = f.pair_service[pairs]
        d_max = sum(max(0.0, float(values[services == s].max())) for s in np.unique(services))
        d_min = sum(min(0.0, float(values[services == s].min())) for s in np.unique(services))
        lo[k], hi[k] = d_min, d_max
        row_hi[2 * k] = d_max
        # row 2k: D - shift + Dmax vacate <= Dmax
        rows += [2 * k] * (len(pairs) + 2)
        cols += [*f.pair_col[pairs].tolist(), int(shift_col[k]), int(vacate_col[i])]
        vals += [*values.tolist(), -1.0, d_max]
        # row 2k+1: Dmin vacate - shift <= 0
        rows += [2 * k + 1, 2 * k + 1]
        cols += [int(vacate_col[i]), int(shift_col[k])]
        vals += [d_min, -1.0]
    matrix = sparse.coo_matrix(
        (np.asarray(vals), (np.asarray(rows), np.asarray(cols))), shape=(2 * n_new, n_cols + n_new)
    ).tocsr()
    names = [f"shift[{ids[vb[i]]},{vy[i]}]" for i in at]
    row_names = [
        n
        for i in at
        for n in (f"shift_on[{ids[vb[i]]},{vy[i]}]", f"shift_off[{ids[vb[i]]},{vy[i]}]")
    ]
    return matrix, np.minimum(lo, 0.0), np.maximum(hi, 0.0), names, row_names, row_hi


def _ready_rows(
    model: EstateModel,
    vb: NDArray[np.int64],
    vy: NDArray[np.int64],
    vacate_col: NDArray[np.int64],
    n_cols: int,
) -> tuple[sparse.csr_matrix, list[str]] | None:
    """A building a service leaves for space fitted out over L years is vacated in year
    L + 1 or later: ``sum_{t <= L} vacate[b,t] + late[b,L] <= 1``."""
    late = model.formulation.late
    if late is None:
        return None
    ids = model.instance.building_ids
    rows: list[int] = []
    cols: list[int] = []
    names: list[str] = []
    for col, b, lead in zip(late.col, late.building, late.lead, strict=True):
        early = vacate_col[(vb == b) & (vy <= lead)]
        r = len(names)
        names.append(f"ready[{ids[b]},{lead}]")
        rows += [r] * (len(early) + 1)
        cols += [int(col), *early.tolist()]
    if not names:
        return None
    matrix = sparse.coo_matrix(
        (np.ones(len(rows)), (np.asarray(rows), np.asarray(cols))), shape=(len(names), n_cols)
    ).tocsr()
    return matrix, names


def _widen(block: sparse.spmatrix, n_cols: int) -> sparse.csr_matrix:
    extra = n_cols - block.shape[1]
    if extra == 0:
        return sparse.csr_matrix(block)
    return sparse.hstack([block, sparse.csr_matrix((block.shape[0], extra))]).tocsr()


def _spending(
    model: EstateModel,
    vb: NDArray[np.int64],
    vy: NDArray[np.int64],
    ve: NDArray[np.int64],
    vacate_col: NDArray[np.int64],
    out_of: NDArray[np.float64],
    n_cols: int,
) -> tuple[sparse.csr_matrix, NDArray[np.float64]]:
    """One-off spending in each year of the horizon as (matrix over columns, constant).

    Year t: moves out of buildings vacated in t, dilapidations of leases exited in t,
    and in year 1 every fit-out and the moves out of buildings that are kept::

        moves out of kept homes = sum(move cost x assign) - sum_b out_of[b] x (1 - keep[b])
    """
    instance = model.instance
    f = model.formulation
    horizon = instance.finance.horizon_years
    home = instance.home_index()
    move, dilaps_in_horizon = one_off_costs(instance)
    del dilaps_in_horizon  # the single-period exit's; each vacate year has its own
    dilaps = np.where(
        (instance.buildings["tenure"] == "leasehold").to_numpy(),
        instance.buildings["dilapidations"].to_numpy(dtype=float),
        0.0,
    )
    pair_cost = np.where(f.pair_building != home[f.pair_service], move[f.pair_service], 0.0)
    fit_out = conversion_costs(instance, f.pair_service, f.pair_building)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    # Year 1: every move as if from a kept home, then take back those of disposed homes
    # (all of whose services move, whatever their new home); every fit-out starts then.
    rows += [np.zeros(len(f.pair_col), dtype=np.int64), np.zeros(len(f.keep_col), dtype=np.int64)]
    cols += [f.pair_col, f.keep_col]
    vals += [pair_cost + fit_out, out_of]
    constant = np.zeros(horizon)
    constant[0] = -float(out_of.sum())
    # Moves out of a vacated building, in its year.
    rows.append(vy - 1)
    cols.append(vacate_col)
    vals.append(out_of[vb])
    inside = ve <= horizon
    rows.append(ve[inside] - 1)
    cols.append(vacate_col[inside])
    vals.append(dilaps[vb[inside]])
    matrix = sparse.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(horizon, n_cols),
    ).tocsr()
    return matrix, constant


def _receipts(
    instance: EstateInstance,
    vb: NDArray[np.int64],
    ve: NDArray[np.int64],
    vacate_col: NDArray[np.int64],
    n_cols: int,
) -> sparse.csr_matrix:
    """Net capital receipts (positive ones only) in each year of the horizon."""
    horizon = instance.finance.horizon_years
    receipt = building_receipts(instance)
    inside = (ve <= horizon) & (receipt[vb] > 0)
    return sparse.coo_matrix(
        (receipt[vb[inside]], (ve[inside] - 1, vacate_col[inside])), shape=(horizon, n_cols)
    ).tocsr()


def building_receipts(instance: EstateInstance) -> NDArray[np.float64]:
    """Net receipt (disposal value - disposal cost) of selling each freehold; 0 for leases."""
    b = instance.buildings
    leasehold = (b["tenure"] == "leasehold").to_numpy()
    receipt = (b["disposal_value"] - b["disposal_cost"]).to_numpy(dtype=float)
    return np.where(leasehold, 0.0, receipt)


# --- the result ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PhasedResult:
    """A phased plan, priced and checked.

    ``result`` is the run's :class:`~optimise.model.Result` (its evaluation priced with
    the plan's own exit and move years; ``buildings`` gains ``vacate_year`` and
    ``moves`` gains ``year``).  ``years`` is the pot year by year; ``actions`` one row a
    disposal or move with its year.  ``violations`` lists every plan rule the output
    breaks (empty for a plan the solver returned: it is checked, not assumed).
    """

    result: Result
    phasing: PhasingSettings
    plan_years: int
    years: pd.DataFrame | None
    actions: pd.DataFrame | None
    violations: tuple[str, ...] = ()

    @property
    def status(self) -> SolveStatus:
        return self.result.status

    @property
    def evaluation(self) -> Evaluation | None:
        return self.result.evaluation


class PhasedModel:
    """The estate MILP with a year for each disposal and move (see the module notes)."""

    def __init__(self, instance: EstateInstance, phasing: PhasingSettings) -> None:
        start = time.perf_counter()
        self.instance = instance
        self.phasing = phasing
        self.single = EstateModel(instance)
        self.formulation = formulate_phased(self.single, phasing)
        self.build_seconds = time.perf_counter() - start

    def baseline_start(self) -> NDArray[np.float64] | None:
        """The baseline (keep everything, move nothing) as column values, if feasible."""
        base = self.single.baseline_start()
        if base is None:
            return None
        x = np.zeros(len(self.formulation.lp.c))
        x[: self.formulation.n_base] = base
        return x if is_feasible(self.formulation.lp, x) else None

    def known_plans(self, settings: SolverSettings) -> list[KnownPlan]:
        """Plans built without the MIP solver that satisfy every row: the baseline, and
        each single-period known plan with every disposal in its cheapest year, or else
        in its earliest, among the years its services' fit-outs allow (kept only where
        that keeps to the pot)."""
        pf = self.formulation
        lp = pf.lp
        plans = [known_plan(lp, "baseline", self.baseline_start())]
        keep_col = self.single.formulation.keep_col
        by_column = lp.matrix.tocsc()
        for single in self.single.known_plans(settings):
            going = np.flatnonzero(single.x[keep_col] < 0.5)
            if single.name == "baseline" or not np.isin(going, pf.vacate_building).all():
                continue
            for when, cheapest in (
                ("each disposal in its cheapest year", True),
                ("each disposal in its earliest year", False),
            ):
                x = np.zeros(len(lp.c))
                x[: pf.n_base] = single.x
                for b in going:
                    self._pick_year(x, int(b), cheapest, by_column)
                # The plan's timing columns take their cheapest values given its decisions.
                plan = completed_plan(lp, f"{single.name} ({when})", x)
                if plan is not None:
                    plans.append(plan)
                    break
        return [p for p in plans if p is not None]

    def _pick_year(
        self, x: NDArray[np.float64], building: int, cheapest: bool, by_column: sparse.csc_matrix
    ) -> None:
        """Set the building's vacate year in ``x``: its cheapest (or earliest) year whose
        rows hold (a year before its services' fit-outs are ready breaks its own rows)."""
        pf = self.formulation
        lp = pf.lp
        cols = pf.vacate_col[pf.vacate_building == building]  # in year order
        order = np.argsort(lp.c[cols], kind="stable") if cheapest else np.arange(len(cols))
        for col in cols[order]:
            x[col] = 1.0
            rows = by_column[:, col].indices
            activity = lp.matrix[rows] @ x
            lo, hi = lp.row_lo[rows], lp.row_hi[rows]
            tol = 1e-6 * np.maximum(1.0, np.abs(np.where(np.isfinite(lo), lo, hi)))
            if ((activity >= lo - tol) & (activity <= hi + tol)).all():
                return
            x[col] = 0.0

    def solve(self, settings: SolverSettings | None = None) -> PhasedResult:
        """Solve the phased MILP; never raises for infeasible or unfinished solves.

        Access in every year: after each solve the plan's access is recomputed year by
        year, and the rows of every (type, year) it breaks are added (:mod:`optimise.yearly`)
        before solving again, within the one time limit.  If the time runs out with a
        year still short, every year's rows go in for a last solve.
        """
        settings = settings or SolverSettings()
        pf = self.formulation
        start = self.baseline_start()
        began = time.perf_counter()
        lp, rounds = pf.lp, 0
        added: list[tuple[str, int]] = []
        while True:
            left = settings.time_limit_seconds - (time.perf_counter() - began)
            local = settings.model_copy(update={"time_limit_seconds": max(1.0, left)})
            output = solve(
                lp, local, start if not added else None, self.single.formulation.link_rows
            )
            if output.x is None:
                break
            _, alloc, vacate = self.decode(output.x[: len(pf.lp.c)])
            wanted = [
                w for w in breached_pairs(self.instance, alloc, vacate, pf.years) if w not in added
            ]
            if not wanted:
                break
            if left <= 1.0:  # out of time: every year, once
                wanted = [
                    (k, y) for k in self.single.formulation.access_types for y in range(1, pf.years)
                ]
                wanted = [w for w in wanted if w not in added]
            added += wanted
            rounds += 1
            lp = yearly_access_lp(self, pf.lp, added)
            if left <= 1.0:
                output = solve(lp, local, None, self.single.formulation.link_rows)
                break
        detail = output.detail
        if rounds:
            detail += (
                f"; access kept in every year ({len(added)} type-years added in {rounds} round(s))"
            )
        # Trust but verify (optimise.verify): plans known to be feasible check the claim.
        # The yearly rows only restrict the plan, so a known plan counts only where it
        # keeps every standard in every year, and the claim is checked on the rows every
        # plan must satisfy (the yearly rows' own columns left out).
        plans = [p for p in self.known_plans(settings) if self._keeps_every_year(p.x)]
        if output.x is not None:
            output = replace(output, x=output.x[: len(pf.lp.c)])
        output, check = check_claim(pf.lp, output, plans, settings.mip_rel_gap)
        base = Result(
            status=output.status,
            objective=output.objective,
            bound=output.bound,
            gap=output.gap,
            build_seconds=self.build_seconds + output.build_seconds,
            solve_seconds=output.seconds,
            solver=output.solver,
            detail=detail,
            keep=None,
            assignment=None,
            allocation=None,
            evaluation=None,
            warm_started=start is not None and settings.warm_start and not added,
            check=check,
        )
        if output.x is None:
            return PhasedResult(base, self.phasing, pf.years, None, None)
        assert output.objective is not None
        return self.price(output.x[: len(pf.lp.c)], base)

    def _keeps_every_year(self, x: NDArray[np.float64]) -> bool:
        """Whether the plan in ``x`` keeps every access standard in every year."""
        _, alloc, vacate = self.decode(x[: len(self.formulation.lp.c)])
        return not breached_pairs(self.instance, alloc, vacate, self.formulation.years)

    def decode(
        self, x: NDArray[np.float64]
    ) -> tuple[NDArray[np.bool_], Allocation, NDArray[np.int64]]:
        """Keep flags, allocation, and the vacate year of each building (0 = kept)."""
        pf = self.formulation
        keep, alloc = self.single.decision(x[: pf.n_base])
        chosen = x[pf.vacate_col] > 0.5
        vacate = np.zeros(len(keep), dtype=np.int64)
        vacate[pf.vacate_building[chosen]] = pf.vacate_year[chosen]
        if ((vacate > 0) == keep).any():
            raise SolverError("the solver gave a building both a vacate year and a keep")
        return keep, alloc, vacate

    def price(self, x: NDArray[np.float64], base: Result) -> PhasedResult:
        """Price and check the plan in column values ``x`` (independently of the LP)."""
        keep, alloc, vacate = self.decode(x)
        instance = self.instance
        finance = instance.finance
        events = building_events(instance)
        exits = instance_cash_flows(instance).exit_years.copy()
        for b in np.flatnonzero(vacate):
            exits[b] = exit_year_after(events[b], int(vacate[b]), finance)
        home = instance.home_index()
        move_years = np.where(vacate[home] > 0, vacate[home], 1)
        evaluation = evaluate(instance, keep, alloc, exits, move_years)
        objective = float(self.formulation.lp.c @ x + self.formulation.lp.constant)
        check_priced(evaluation, objective, "phased objective", "plan")
        evaluation = _with_years(evaluation, instance, vacate, move_years)
        years = pot_by_year(evaluation, self.phasing, self.formulation.years)
        violations = check_plan(evaluation, instance, years, self.formulation.years)
        for year, broken in yearly_breaches(
            instance, alloc, vacate, self.formulation.years
        ).items():
            violations += [f"year {year}: {message}" for _, message in broken]
        if violations:
            raise SolverError("the plan breaks phasing rules: " + "; ".join(violations))
        keep_s, assign_s, alloc_df = decision_frames(instance, keep, alloc)
        result = replace(
            base,
            keep=keep_s,
            assignment=assign_s,
            allocation=alloc_df,
            evaluation=evaluation,
        )
        return PhasedResult(
            result, self.phasing, self.formulation.years, years, plan_actions(evaluation)
        )


def _with_years(
    evaluation: Evaluation,
    instance: EstateInstance,
    vacate: NDArray[np.int64],
    move_years: NDArray[np.int64],
) -> Evaluation:
    """The evaluation's tables with the plan's years: ``buildings.vacate_year`` (empty
    for kept buildings) and ``moves.year``."""
    buildings = evaluation.buildings.copy()
    at = list(buildings.columns).index("exit_year")
    years = [int(v) if v > 0 else pd.NA for v in vacate]
    buildings.insert(at, "vacate_year", pd.array(years, dtype="Int64"))
    moves = evaluation.moves.copy()
    year_of = dict(zip(instance.service_ids, move_years.tolist(), strict=True))
    moves["year"] = moves["service_id"].map(year_of).astype("int64")
    return replace(evaluation, buildings=buildings, moves=moves)


def pot_by_year(evaluation: Evaluation, phasing: PhasingSettings, years: int) -> pd.DataFrame:
    """The Total Capital pot year by year, from the priced plan (not from the LP).

    ``spent`` = moves, fit-outs and dilapidations falling in the year (with optimism
    bias); ``receipts`` = net capital receipts of sales completing in the year;
    ``available`` = what the pot could pay that year (budget, carried-forward money
    and recycled receipts); ``headroom`` = available - spent (never negative in a
    plan the optimiser returns).  Budget columns are empty when it is unlimited.
    """
    cash = evaluation.cash_flows
    one_off = cash.loc[cash["category"].isin(ONE_OFF_CATEGORIES)]
    spent = one_off.groupby("year")["scenario_gbp"].sum()
    b = evaluation.buildings
    sold = b.loc[(b["decision"] == "dispose") & (b["capital_receipt_gbp"] > 0)]
    receipts = sold.groupby("exit_year")["capital_receipt_gbp"].sum()
    last = int(max([years, *spent.index[spent.abs() > 0].tolist(), *receipts.index.tolist()]))
    last = min(last, int(cash["year"].max()) if len(cash) else last)
    rows = []
    balance = 0.0  # carried money (allocation with carry_forward) or unspent receipts
    for year in range(1, last + 1):
        spend = float(spent.get(year, 0.0))
        got = float(receipts.get(year, 0.0))
        allowance = phasing.budget_in(year)
        recycled_in = 0.0
        if phasing.recycle_receipts:
            recycled_in = float(receipts.get(year - 1, 0.0))
        if phasing.annual_budget is None:
            available = None
            headroom = None
        elif phasing.carry_forward:
            available = balance + allowance + recycled_in
            balance = available - spend
            headroom = balance
        else:
            pot = balance + recycled_in  # receipts never lapse
            available = allowance + pot
            balance = pot - max(0.0, spend - allowance)
            headroom = available - spend
        rows.append(
            {
                "year": year,
                "spent": round(spend, 2),
                "receipts": round(got, 2),
                "budget": None if phasing.annual_budget is None else round(allowance, 2),
                "recycled_in": round(recycled_in, 2) if phasing.recycle_receipts else None,
                "available": None if available is None else round(available, 2),
                "headroom": None if headroom is None else round(headroom, 2),
            }
        )
    return pd.DataFrame(rows)


def check_plan(
    evaluation: Evaluation, instance: EstateInstance, pot: pd.DataFrame, years: int
) -> list[str]:
    """Every phasing rule the priced plan breaks, in words: a year's budget exceeded, a
    lease exited other than at a break or its end, a move after its building's exit or
    after the plan's last year."""
    out = []
    for row in pot.itertuples():
        if row.available is not None and row.spent > row.available + BUDGET_TOL_GBP:
            out.append(
                f"year {row.year}: one-off costs {row.spent:,.2f} exceed the "
                f"{row.available:,.2f} the pot holds"
            )
    b = evaluation.buildings
    events = dict(zip(instance.building_ids, building_events(instance), strict=True))
    lag = instance.finance.disposal_lag_years
    for row in b.loc[b["decision"] == "dispose"].itertuples():
        vacate, exit_ = int(row.vacate_year), int(row.exit_year)
        if not 1 <= vacate <= years:
            out.append(f"building {row.building_id} vacated in year {vacate}, outside 1..{years}")
        if exit_ < vacate:
            out.append(f"building {row.building_id} exited in year {exit_}, before it is vacated")
        ahead = [e for e in events[row.building_id] if e >= vacate]
        if ahead and exit_ not in ahead:
            out.append(
                f"lease of {row.building_id} exited in year {exit_}, not at a break or its "
                f"end (years {events[row.building_id]})"
            )
        if not ahead and exit_ != vacate + lag - 1:
            out.append(
                f"building {row.building_id} exited in year {exit_}, not the disposal lag "
                f"({lag} year(s)) after it is vacated in year {vacate}"
            )
    vacated = dict(zip(b["building_id"], b["vacate_year"], strict=True))
    for row in evaluation.moves.itertuples():
        from_year = vacated.get(row.from_building)
        if row.year > years:
            out.append(f"service {row.service_id} moves in year {row.year}, after the plan")
        if from_year is not None and not pd.isna(from_year) and row.year != from_year:
            out.append(
                f"service {row.service_id} moves in year {row.year}, but its building "
                f"{row.from_building} is vacated in {from_year}"
            )
    return out


def plan_actions(evaluation: Evaluation) -> pd.DataFrame:
    """One row a change with its year: buildings vacated (and when they are exited or
    sold) and services moved, in year order."""
    b = evaluation.buildings
    gone = b.loc[b["decision"] == "dispose"]
    disposals = pd.DataFrame(
        {
            "year": gone["vacate_year"].astype("int64"),
            "action": np.where(gone["tenure"] == "leasehold", "exit lease", "sell"),
            "agency": gone["agency"],
            "building_id": gone["building_id"],
            "service_id": "",
            "to_building": "",
            "exit_year": gone["exit_year"].astype("int64"),
            "one_off_cost_gbp": gone["dilapidations_gbp"],
            "receipt_gbp": gone["capital_receipt_gbp"],
        }
    )
    m = evaluation.moves
    moves = pd.DataFrame(
        {
            "year": m["year"].astype("int64"),
            "action": "move",
            "agency": m["agency"],
            "building_id": m["from_building"],
            "service_id": m["service_id"],
            "to_building": m["to_building"],
            "exit_year": pd.array([pd.NA] * len(m), dtype="Int64"),
            "one_off_cost_gbp": m["cost"],
            "receipt_gbp": 0.0,
        }
    )
    frames = [f for f in (disposals, moves) if len(f)]
    if not frames:
        return disposals.iloc[0:0]
    out = pd.concat(frames, ignore_index=True)
    out["exit_year"] = out["exit_year"].astype("Int64")
    order = out["action"].map({"move": 0, "exit lease": 1, "sell": 1})
    out = out.assign(_o=order).sort_values(["year", "_o", "building_id", "service_id"])
    return out.drop(columns="_o").reset_index(drop=True)
