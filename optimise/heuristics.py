"""Primal heuristics for large estates: a good plan fast, for the MIP to start from.

At county size (1,000 buildings, 3,000 services) HiGHS spends minutes in its root
node and may not improve on the baseline at all.  Two heuristics find good plans in
seconds and hand them to the exact solver as a warm start:

- :func:`greedy_disposal` — guided by the LP relaxation, try to dispose of one
  building at a time: re-house each of its services in a kept candidate building with
  room (best LP affinity first), keep the move only if every rule still holds and the
  present cost falls.
- :func:`improve_by_windows` — large-neighbourhood search: free the buildings of one
  geographical window (and the services in them), fix everything else, and solve that
  small MIP exactly; sweep the windows while time allows.  :func:`solve_large` visits
  first the windows where the plan and a relaxation (the per-building Lagrangian of
  :mod:`optimise.knapsack`, then the LP) disagree most.

Both only ever accept plans that satisfy every row of the model.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.cluster.vq import kmeans2

from optimise.clock import Deadline
from optimise.formulation import LinearProgram
from optimise.settings import SolverSettings
from optimise.solve import (
    SolverOutput,
    SolveStatus,
    proven_status,
    relative_gap,
    solve,
    solve_with_highspy,
)

if TYPE_CHECKING:
    from optimise.model import EstateModel

WINDOW_BUILDINGS = 40


@dataclass
class _State:
    """A plan under construction, with the bookkeeping to test one change quickly."""

    keep: NDArray[np.bool_]
    assign: NDArray[np.int64]
    load: NDArray[np.float64]
    space_load: NDArray[np.float64]  # buildings x space types, m2 used (fit-outs included)
    hosting: list[NDArray[np.int64]]  # per access block: services of the type per host
    cover: list[NDArray[np.int64]]  # per access block: hosts within reach per zone
    covered_weight: NDArray[np.float64]  # per access block


def lp_relaxation(model: EstateModel, settings: SolverSettings) -> NDArray[np.float64] | None:
    """Column values of the LP relaxation, or None if it could not be solved."""
    lp = model.formulation.lp
    relaxed = dataclasses.replace(lp, integer=np.zeros_like(lp.integer))
    out = solve_with_highspy(relaxed, settings.model_copy(update={"mip_rel_gap": 0.0}))
    return out.x


Move = tuple[int, int, int]  # (service, from building, to building)


def greedy_disposal(
    model: EstateModel, x_lp: NDArray[np.float64] | None, deadline: float
) -> NDArray[np.float64] | None:
    """From the baseline, dispose of buildings one by one while it pays and stays feasible.

    Buildings go in order of the LP relaxation's advice (disposed there first), then by
    saving per desk displaced.  Each service of the building goes to the kept candidate
    with the best LP affinity that has room; if none has, one smaller service already
    there may be moved on to make room (a one-step ejection chain).  Returns full column
    values of the plan, or None when the baseline itself is infeasible.
    """
    f = model.formulation
    inst = model.instance
    start = model.baseline_start()
    if start is None:
        return None
    n_b = len(inst.buildings)
    home = inst.home_index()
    desks = inst.services["desks"].to_numpy(dtype=float)
    space = inst.spaces
    source = space.need_type[f.pair_service].copy()
    for o in space.conversions:
        at = (
            f.pair_convert
            & (f.pair_building == o.building)
            & (space.need_type[f.pair_service] == o.to)
        )
        source[at] = o.source
    ctx = _Context(
        f=f,
        first=np.searchsorted(f.pair_service, np.arange(len(home) + 1)),
        affinity=np.zeros(len(f.pair_col)) if x_lp is None else x_lp[f.pair_col],
        desks=desks,
        cap=inst.buildings["capacity_desks"].to_numpy(dtype=float) * inst.policy.utilisation,
        home=home,
        agency=inst.services["agency"].to_numpy(dtype=object),
        exclusive=inst.services["exclusive"].to_numpy(dtype=bool),
        movable=np.bincount(f.pair_service, minlength=len(home)) > 1,
        ruled=space.ruled,
        area=space.area_m2,
        floor=space.floor_m2,
        pair_source=source,
        pair_cost=f.lp.c[f.pair_col],
    )
    saving = f.keep_cost - f.dispose_cost
    keep_lp = np.ones(n_b) if x_lp is None else x_lp[f.keep_col]
    state = _initial_state(model, home, desks)
    weight = inst.zone_weight()
    targets = [f.target_share[b.service_type] * weight.sum() for b in f.access_blocks]
    s_type = inst.services["service_type"].to_numpy(dtype=object)
    block_of_type = {b.service_type: i for i, b in enumerate(f.access_blocks)}
    displaced = np.maximum(np.bincount(home, weights=desks, minlength=n_b), 1.0)
    order = np.lexsort((-saving / displaced, keep_lp > 0.5))
    forced = f.lp.col_lo[f.keep_col] > 0.5
    changed = True
    while changed and time.perf_counter() < deadline:
        changed = False
        for b in order:
            if time.perf_counter() > deadline:
                break
            if forced[b] or saving[b] <= 0 or not state.keep[b]:
                continue
            if _try_dispose(int(b), state, ctx, f, saving, s_type, block_of_type, weight, targets):
                changed = True
    x = model.columns(state.keep, state.assign)
    return x if x is not None else start


def _try_dispose(
    b: int,
    state: _State,
    ctx: _Context,
    f: object,
    saving: NDArray[np.float64],
    s_type: NDArray[np.object_],
    block_of_type: dict[str, int],
    weight: NDArray[np.float64],
    targets: list[float],
) -> bool:
    """Dispose of ``b`` if its services can be re-housed, every rule holds and it pays."""
    residents = np.flatnonzero(state.assign == b)
    if not ctx.movable[residents].all():
        return False
    plan = _rehouse(b, residents, state, ctx)
    if plan is None:
        return False
    move_delta = sum(ctx.cost(s, to) - ctx.cost(s, fr) for s, fr, to in plan)
    move_delta += _waiting_cost(b, plan, ctx)
    if saving[b] - move_delta <= 1e-6:
        return False
    if not _access_ok_after(state, plan, f, s_type, block_of_type, weight, targets):
        return False
    _commit(state, plan, b, ctx, f, s_type, block_of_type, weight)
    return True


@dataclass(frozen=True)
class _Context:
    f: object
    first: NDArray[np.int64]
    affinity: NDArray[np.float64]
    desks: NDArray[np.float64]
    cap: NDArray[np.float64]
    home: NDArray[np.int64]
    agency: NDArray[np.object_]
    exclusive: NDArray[np.bool_]
    movable: NDArray[np.bool_]
    ruled: NDArray[np.bool_]
    area: NDArray[np.float64]
    floor: NDArray[np.float64]
    pair_source: NDArray[np.int64]  # space type a pair's m2 come out of
    pair_cost: NDArray[np.float64]  # objective coefficient of each pair

    def options(self, s: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        lo, hi = self.first[s], self.first[s + 1]
        return self.f.pair_building[lo:hi], self.affinity[lo:hi]  # type: ignore[attr-defined]

    def pair(self, s: int, b: int) -> int:
        lo, hi = self.first[s], self.first[s + 1]
        at = np.flatnonzero(self.f.pair_building[lo:hi] == b)  # type: ignore[attr-defined]
        return int(lo + at[0])

    def cost(self, s: int, b: int) -> float:
        return float(self.pair_cost[self.pair(s, b)])

    def lead(self, s: int, b: int) -> int:
        return int(self.f.pair_lead[self.pair(s, b)])  # type: ignore[attr-defined]

    def source(self, s: int, b: int) -> int:
        return int(self.pair_source[self.pair(s, b)])


def _waiting_cost(b: int, plan: list[Move], ctx: _Context) -> float:
    """Extra cost of holding ``b`` until the longest fit-out its services wait for."""
    late = ctx.f.late  # type: ignore[attr-defined]
    longest = max((ctx.lead(s, to) for s, fr, to in plan if fr == b), default=0)
    if late is None or longest == 0:
        return 0.0
    mine = (late.building == b) & (late.lead <= longest)
    return float(ctx.f.lp.c[late.col[mine]].sum())  # type: ignore[attr-defined]


def _initial_state(
    model: EstateModel, home: NDArray[np.int64], desks: NDArray[np.float64]
) -> _State:
    f = model.formulation
    inst = model.instance
    n_b = len(inst.buildings)
    s_type = inst.services["service_type"].to_numpy(dtype=object)
    weight = inst.zone_weight()
    hosting, cover, covered = [], [], []
    for block in f.access_blocks:
        position = np.full(n_b, -1)
        position[block.present_building] = np.arange(len(block.present_building))
        of_type = np.flatnonzero(s_type == block.service_type)
        h = np.bincount(position[home[of_type]], minlength=len(block.present_building))
        hosting.append(h)
        c = np.asarray(block.reach @ (h > 0).astype(np.int64)).ravel().astype(np.int64)
        cover.append(c)
        covered.append(float(weight[block.covered_zone][c > 0].sum()))
    space = inst.spaces
    space_load = np.zeros_like(space.area_m2)
    np.add.at(space_load, (home, space.need_type), space.floor_m2)
    return _State(
        keep=np.ones(n_b, dtype=bool),
        assign=home.copy(),
        load=np.bincount(home, weights=desks, minlength=n_b).astype(float),
        space_load=space_load,
        hosting=hosting,
        cover=cover,
        covered_weight=np.asarray(covered, dtype=float),
    )


def _rehouse(
    b: int, residents: NDArray[np.int64], state: _State, ctx: _Context
) -> list[Move] | None:
    """Moves that empty ``b`` (largest service first), or None if one cannot be placed."""
    extra = np.zeros_like(state.load)
    extra_m2 = np.zeros_like(state.space_load)
    plan: list[Move] = []
    moved: set[int] = set()
    for s in residents[np.argsort(-ctx.desks[residents], kind="stable")]:
        s = int(s)
        options, affinity = ctx.options(s)
        score = np.where(options == ctx.home[s], affinity + 10.0, affinity)  # home is free
        ranked = [int(options[k]) for k in np.argsort(-score, kind="stable")]
        ranked = [d for d in ranked if d != b and state.keep[d] and _may_wait(s, b, d, ctx)]
        placed = False
        for dest in ranked:
            if _fits(s, dest, b, state, ctx, plan, extra, extra_m2):
                _book(plan, extra, extra_m2, (s, b, dest), ctx)
                moved.add(s)
                placed = True
                break
        if not placed:
            for dest in ranked:
                ejection = _make_room(s, dest, b, state, ctx, plan, extra, extra_m2, moved)
                if ejection is not None:
                    r, r_dest = ejection
                    _book(plan, extra, extra_m2, (r, dest, r_dest), ctx)
                    moved.add(r)
                    _book(plan, extra, extra_m2, (s, b, dest), ctx)
                    moved.add(s)
                    placed = True
                    break
        if not placed:
            return None
    return plan


def _may_wait(s: int, leaving: int, dest: int, ctx: _Context) -> bool:
    """A move into space still to be fitted out only leaves the service's own home, the
    building that is going."""
    return ctx.lead(s, dest) == 0 or (ctx.home[s] == leaving)


def _book(
    plan: list[Move],
    extra: NDArray[np.float64],
    extra_m2: NDArray[np.float64],
    move: Move,
    ctx: _Context,
) -> None:
    s, fr, to = move
    plan.append(move)
    extra[fr] -= ctx.desks[s]
    extra[to] += ctx.desks[s]
    extra_m2[fr, ctx.source(s, fr)] -= ctx.floor[s]
    extra_m2[to, ctx.source(s, to)] += ctx.floor[s]


def _fits(
    s: int,
    dest: int,
    leaving: int,
    state: _State,
    ctx: _Context,
    plan: list[Move],
    extra: NDArray[np.float64],
    extra_m2: NDArray[np.float64],
) -> bool:
    if state.load[dest] + extra[dest] + ctx.desks[s] > ctx.cap[dest] + 1e-9:
        return False
    if ctx.ruled[dest]:
        t = ctx.source(s, dest)
        if state.space_load[dest, t] + extra_m2[dest, t] + ctx.floor[s] > ctx.area[dest, t] + 1e-6:
            return False
    return _exclusive_ok(s, dest, state, ctx, plan)


def _make_room(
    s: int,
    dest: int,
    leaving: int,
    state: _State,
    ctx: _Context,
    plan: list[Move],
    extra: NDArray[np.float64],
    extra_m2: NDArray[np.float64],
    moved: set[int],
) -> tuple[int, int] | None:
    """A resident of ``dest`` to move on, and where, so that ``s`` fits in ``dest``."""
    need = state.load[dest] + extra[dest] + ctx.desks[s] - ctx.cap[dest]
    residents = [
        int(r)
        for r in np.flatnonzero(state.assign == dest)
        if int(r) not in moved and ctx.movable[r] and ctx.desks[r] + 1e-9 >= need
    ]
    for r in sorted(residents, key=lambda r: ctx.desks[r]):
        options, affinity = ctx.options(r)
        for k in np.argsort(-affinity, kind="stable"):
            r_dest = int(options[k])
            if r_dest in (dest, leaving) or not state.keep[r_dest] or ctx.lead(r, r_dest) > 0:
                continue
            if not _fits(r, r_dest, dest, state, ctx, plan, extra, extra_m2):
                continue
            trial = list(plan)
            bumped, bumped_m2 = extra.copy(), extra_m2.copy()
            _book(trial, bumped, bumped_m2, (r, dest, r_dest), ctx)
            if _fits(s, dest, leaving, state, ctx, trial, bumped, bumped_m2):
                return r, r_dest
    return None


def _exclusive_ok(s: int, dest: int, state: _State, ctx: _Context, plan: list[Move]) -> bool:
    if not ctx.exclusive.any():
        return True
    gone = {m for m, fr, _ in plan if fr == dest}
    there = {int(t) for t in np.flatnonzero(state.assign == dest)} - gone
    there |= {m for m, _, to in plan if to == dest}
    mine = ctx.agency[s]
    for t in there:
        if ctx.agency[t] != mine and (ctx.exclusive[s] or ctx.exclusive[t]):
            return False
    return True


def _access_ok_after(
    state: _State,
    plan: list[Move],
    f: object,
    s_type: NDArray[np.object_],
    block_of_type: dict[str, int],
    weight: NDArray[np.float64],
    targets: list[float],
) -> bool:
    for i, delta in _hosting_deltas(plan, f, s_type, block_of_type).items():
        block = f.access_blocks[i]  # type: ignore[attr-defined]
        cover = _cover_after(state.hosting[i], state.cover[i], delta, block)
        covered = float(weight[block.covered_zone][cover > 0].sum())
        if covered < targets[i] - 1e-6 * max(1.0, targets[i]):
            return False
    return True


def _cover_after(
    hosting: NDArray[np.int64], cover: NDArray[np.int64], delta: NDArray[np.int64], block: object
) -> NDArray[np.int64]:
    """Hosts within reach of each zone once ``delta`` services of the type have moved."""
    before = hosting > 0
    after = (hosting + delta) > 0
    changed = np.flatnonzero(before != after)
    if len(changed) == 0:
        return cover
    step = after[changed].astype(np.int64) - before[changed].astype(np.int64)
    return np.asarray(cover + block.reach[:, changed] @ step)  # type: ignore[attr-defined]


def _hosting_deltas(
    plan: list[Move],
    f: object,
    s_type: NDArray[np.object_],
    block_of_type: dict[str, int],
) -> dict[int, NDArray[np.int64]]:
    deltas: dict[int, NDArray[np.int64]] = {}
    for s, origin, dest in plan:
        i = block_of_type.get(str(s_type[s]))
        if i is None:
            continue
        block = f.access_blocks[i]  # type: ignore[attr-defined]
        d = deltas.setdefault(i, np.zeros(len(block.present_building), dtype=np.int64))
        d[np.searchsorted(block.present_building, origin)] -= 1
        d[np.searchsorted(block.present_building, dest)] += 1
    return deltas


def _commit(
    state: _State,
    plan: list[Move],
    b: int,
    ctx: _Context,
    f: object,
    s_type: NDArray[np.object_],
    block_of_type: dict[str, int],
    weight: NDArray[np.float64],
) -> None:
    for i, delta in _hosting_deltas(plan, f, s_type, block_of_type).items():
        block = f.access_blocks[i]  # type: ignore[attr-defined]
        state.cover[i] = _cover_after(state.hosting[i], state.cover[i], delta, block)
        state.hosting[i] = state.hosting[i] + delta
        state.covered_weight[i] = float(weight[block.covered_zone][state.cover[i] > 0].sum())
    for s, origin, dest in plan:
        state.load[origin] -= ctx.desks[s]
        state.load[dest] += ctx.desks[s]
        state.space_load[origin, ctx.source(s, origin)] -= ctx.floor[s]
        state.space_load[dest, ctx.source(s, dest)] += ctx.floor[s]
        state.assign[s] = dest
    state.keep[b] = False


# --- large-neighbourhood search ------------------------------------------------------


def windows(
    model: EstateModel, size: int = WINDOW_BUILDINGS, seed: int = 0
) -> list[NDArray[np.int64]]:
    """Geographical groups of about ``size`` buildings (k-means on their coordinates)."""
    xy = model.instance.buildings[["easting", "northing"]].to_numpy(dtype=float)
    k = max(1, len(xy) // size)
    if k == 1:
        return [np.arange(len(xy))]
    _, label = kmeans2(xy, k, seed=np.random.default_rng(seed), minit="++")
    groups = [np.flatnonzero(label == g) for g in range(k)]
    return [g for g in groups if len(g)]


def restrict(
    lp: LinearProgram, free: NDArray[np.bool_], x: NDArray[np.float64]
) -> tuple[LinearProgram, NDArray[np.int64]]:
    """The sub-problem in the ``free`` columns with every other column fixed at ``x``.

    Rows touching no free column are dropped (``x`` satisfies them already).
    """
    fixed_cols = np.flatnonzero(~free)
    free_cols = np.flatnonzero(free)
    contribution = lp.matrix[:, fixed_cols] @ x[fixed_cols]
    sub = lp.matrix[:, free_cols].tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    return (
        LinearProgram(
            lp.c[free],
            float(lp.c[~free] @ x[~free] + lp.constant),
            sparse.csr_matrix(sub[rows]),
            lp.row_lo[rows] - contribution[rows],
            lp.row_hi[rows] - contribution[rows],
            lp.col_lo[free],
            lp.col_hi[free],
            lp.integer[free],
            [lp.col_names[j] for j in free_cols],
            [lp.row_names[i] for i in rows],
        ),
        rows,
    )


def free_columns(
    model: EstateModel, window: NDArray[np.int64], x: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Columns a window frees: its buildings' keep, every pair of a service that lives or
    sits in it, and the access/exclusivity columns of the buildings those services may use."""
    f = model.formulation
    n_b = len(model.instance.buildings)
    in_window = np.zeros(n_b, dtype=bool)
    in_window[window] = True
    home = model.instance.home_index()
    sits = np.full(len(home), -1)
    chosen = x[f.pair_col] > 0.5
    sits[f.pair_service[chosen]] = f.pair_building[chosen]
    loose = in_window[home] | in_window[np.maximum(sits, 0)]
    free = np.zeros(len(f.lp.c), dtype=bool)
    free[f.keep_col[window]] = True
    free_pairs = loose[f.pair_service]
    free[f.pair_col[free_pairs]] = True
    touched = np.zeros(n_b, dtype=bool)
    touched[f.pair_building[free_pairs]] = True
    for block in f.access_blocks:
        hosts = touched[block.present_building]
        free[block.present_col[hosts]] = True
        near = np.asarray(block.reach[:, np.flatnonzero(hosts)].sum(axis=1)).ravel() > 0
        # A zone already served by a building outside the window stays served whatever
        # the window does: leave its covered column fixed.
        served = block.reach[:, np.flatnonzero(~hosts)] @ x[block.present_col[~hosts]]
        free[block.covered_col[near & (np.asarray(served).ravel() < 0.5)]] = True
    for (_, b), col in f.agency_cols.items():
        if touched[b]:
            free[col] = True
    return free


def improve_by_windows(
    model: EstateModel,
    x: NDArray[np.float64],
    settings: SolverSettings,
    deadline: float,
    per_window_seconds: float = 10.0,
) -> NDArray[np.float64]:
    """Sweep the windows, solving each restricted MIP from the current plan, until a
    sweep improves nothing or the deadline passes."""
    groups = windows(model)
    best = x.copy()
    while time.perf_counter() < deadline:
        best, improved = improve_windows(
            model, best, groups, settings, deadline, per_window_seconds
        )
        if not improved:
            break
    return best


# Milestones as shares of the whole time to the solver's end, fixed when the large-estate
# solve starts: the LP relaxation by 25% (or it is abandoned), the greedy plan by 40%, the
# Lagrangian and the neighbourhood search by 60%, and the final MIP has at least the last
# 40% (its root LP alone takes minutes on a region: with less, it ends with no bound).
LP_SHARE = 0.25
GREEDY_SHARE = 0.40
LAGRANGE_SHARE = 0.06  # of the time left after the greedy plan (and before MIP_FROM)
MIP_FROM = 0.60
WINDOW_SECONDS = 3.0  # each window's sub-MIP


# Above this many rows the LP relaxation is solved by interior point without
# crossover: on the synthetic region (227,000 rows) 52 s against the dual simplex's
# 125 s on a free core.  Its value is then not a proven bound (the point is only
# near-optimal); the bound comes from the Lagrangian at its duals, which is proven for
# any multipliers.
INTERIOR_POINT_ROWS = 100_000


@dataclass(frozen=True)
class Relaxation:
    """The LP relaxation's column values, row duals and value; ``exact``: solved to a
    vertex by simplex, so ``value`` is a proven bound (interior point without
    crossover: near-optimal only, its duals still serve the Lagrangian)."""

    x: NDArray[np.float64]
    row_dual: NDArray[np.float64]
    value: float
    exact: bool = True


def lp_relaxation_duals(model: EstateModel, seconds: float) -> Relaxation | None:
    """The LP relaxation with every row, solved by HiGHS; None if not solved in time."""
    import highspy

    from optimise.solve import _highs_lp, _new_highs

    lp = model.formulation.lp
    if seconds <= 0.1:
        return None
    h = _new_highs(SolverSettings(time_limit_seconds=seconds))
    interior = lp.shape[0] > INTERIOR_POINT_ROWS
    if interior:
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "off")
    h.passModel(_highs_lp(lp, np.arange(lp.shape[0]), integer=False))
    h.run()
    status = h.getModelStatus()
    solution = h.getSolution()
    solved = status == highspy.HighsModelStatus.kOptimal or (
        # without crossover HiGHS says "unknown" for a converged interior point
        interior
        and status == highspy.HighsModelStatus.kUnknown
        and solution.value_valid
        and solution.dual_valid
    )
    if not solved:
        return None
    x = np.asarray(solution.col_value, dtype=float)
    return Relaxation(
        x,
        np.asarray(solution.row_dual, dtype=float),
        float(lp.c @ x + lp.constant),
        exact=not interior,
    )


def disagreement_windows(
    model: EstateModel, x: NDArray[np.float64], keep: NDArray[np.bool_], groups: list[NDArray]
) -> list[NDArray[np.int64]]:
    """The geographical windows holding buildings the plan ``x`` and a relaxation's
    solution (``keep``) decide differently, most disagreements first."""
    f = model.formulation
    differ = (x[f.keep_col] > 0.5) != keep
    scored = [(int(differ[g].sum()), k) for k, g in enumerate(groups)]
    return [groups[k] for n, k in sorted(scored, key=lambda t: (-t[0], t[1])) if n > 0]


def improve_windows(
    model: EstateModel,
    x: NDArray[np.float64],
    groups: list[NDArray[np.int64]],
    settings: SolverSettings,
    deadline: float,
    per_window_seconds: float,
    found: Callable[[NDArray[np.float64]], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[NDArray[np.float64], int]:
    """One pass over ``groups``: each window's sub-MIP from the current plan, keeping
    what improves it (and telling ``found``).  Returns the plan and how many windows
    improved it.  Stops early when ``stop()`` says so."""
    from optimise.verify import is_feasible

    lp = model.formulation.lp
    best = x.copy()
    improved = 0
    for window in groups:
        left = deadline - time.perf_counter()
        if left <= 0.5 or (stop is not None and stop()):
            break
        free = free_columns(model, window, best)
        sub, _ = restrict(lp, free, best)
        local = settings.model_copy(
            update={
                "time_limit_seconds": min(per_window_seconds, left),
                "mip_rel_gap": 1e-6,
                "warm_start": True,
            }
        )
        out = solve_with_highspy(sub, local, start=best[free])
        if out.x is None:
            continue
        candidate = best.copy()
        candidate[free] = np.where(sub.integer, np.round(out.x), out.x)
        cheaper = lp.c @ candidate < lp.c @ best - 1e-9 * max(1.0, abs(float(lp.c @ best)))
        if cheaper and is_feasible(lp, candidate):
            best = candidate
            improved += 1
            if found is not None:
                found(best)
    return best, improved


def solve_large(
    model: EstateModel,
    settings: SolverSettings,
    run_deadline: Deadline | None = None,
    start: NDArray[np.float64] | None = None,
) -> SolverOutput:
    """LP relaxation, greedy disposal, the per-building Lagrangian bound, large-
    neighbourhood search, then the MIP from the best plan, with reduced-cost fixing.

    1. the LP relaxation with its duals (its value is a bound);
    2. greedy disposal guided by it;
    3. the Lagrangian of "each service in one building" with one knapsack a building
       (:mod:`optimise.knapsack`), from the LP duals: a second bound, and a second
       opinion on which buildings to keep;
    4. large-neighbourhood search: geographical windows of about 40 buildings, each
       re-optimised with the rest of the plan fixed -- first the windows where the
       plan and the Lagrangian's solution disagree most, then those where it and the
       LP disagree, then every window in turn;
    5. buildings whose forcing the other way lifts the Lagrangian bound above the best
       plan's cost are fixed, and the MIP is solved from that plan for the time left.

    The whole run shares ``run_deadline`` (default: the settings' time limit from
    now).  ``start`` (a plan from elsewhere) replaces the greedy plan when cheaper.
    The bound reported is the best of the LP's, the Lagrangian's and the final
    MIP's; the status is ``optimal`` only if that bound proves the plan within the gap.

    With ``settings.threads >= 2`` step 5 runs beside steps 1-4 instead of after them
    (:class:`optimise.beside.BoundBeside`): the whole MIP in a second process from the
    start, handed each plan found; the search runs to the end (or until that MIP
    proves a plan optimal), and the answer is the cheaper plan and the best bound.
    """
    from optimise.beside import BoundBeside, can_start
    from optimise.knapsack import PackingBound, PackingView, lp_multipliers

    began = time.perf_counter()
    deadline = run_deadline or Deadline.start(settings.time_limit_seconds, began)
    f = model.formulation
    lp = f.lp
    notes: list[str] = []
    lp_until, greedy_until, mip_from = (
        deadline.share(share) for share in (LP_SHARE, GREEDY_SHARE, MIP_FROM)
    )
    beside: BoundBeside | None = None
    if settings.threads >= 2 and settings.solver == "highs" and can_start():
        # Two threads: the whole MIP in a second process from now to the end, for the
        # bound (and fed every plan found here); the search here takes all the time.
        beside = BoundBeside(
            lp, settings, deadline.for_solver(), cut_rows=f.link_rows, first_cuts=f.likely_links()
        )
        settings = settings.model_copy(update={"threads": 1})
        mip_from = deadline.share(1.0)
    found = None if beside is None else beside.offer
    stop = None if beside is None else beside.done
    relaxed = lp_relaxation_duals(model, max(0.0, lp_until - began))
    x_lp = relaxed.x if relaxed is not None else None
    lp_bound = relaxed.value if relaxed is not None and relaxed.exact else None
    if lp_bound is not None:
        notes.append(f"LP bound {lp_bound:,.0f}")
    elif relaxed is not None:
        notes.append(f"LP relaxation by interior point about {relaxed.value:,.0f}")
    x = greedy_disposal(model, x_lp, greedy_until)
    if start is not None and (x is None or lp.c @ start < lp.c @ x):
        x = start
    lagrange: PackingBound | None = None
    view: PackingView | None = None
    if x is not None:
        notes.append(f"greedy plan {float(lp.c @ x + lp.constant):,.0f}")
        if found is not None:
            found(x)
        if relaxed is not None:
            view = PackingView.build(f)
            pi = lp_multipliers(view, relaxed.row_dual)
            upper = float(lp.c @ x + lp.constant)
            until = min(deadline.share(LAGRANGE_SHARE), mip_from)
            lagrange = view.lagrangian(upper, pi, until, 100)
            notes.append(f"Lagrangian bound {lagrange.value:,.0f}")
        groups = windows(model)
        lns_until = mip_from
        passes = []
        if lagrange is not None:
            passes.append(disagreement_windows(model, x, lagrange.keep, groups))
        if x_lp is not None:
            passes.append(disagreement_windows(model, x, x_lp[f.keep_col] > 0.5, groups))
        improved_total = 0
        for group_list in passes:
            x, improved = improve_windows(
                model, x, group_list, settings, lns_until, WINDOW_SECONDS, found, stop
            )
            improved_total += improved
        while time.perf_counter() < lns_until - 0.5 and not (stop is not None and stop()):
            x, improved = improve_windows(
                model, x, groups, settings, lns_until, WINDOW_SECONDS, found, stop
            )
            improved_total += improved
            if not improved:
                break
        notes.append(
            f"after the neighbourhood search {float(lp.c @ x + lp.constant):,.0f} "
            f"({improved_total} windows improved it)"
        )
    bounds = [b for b in (lp_bound, None if lagrange is None else lagrange.value) if b is not None]
    lower = max(bounds) if bounds else None
    if beside is not None:
        return _with_beside(lp, x, beside.finish(), lower, settings, began, notes)
    final_lp = lp
    if x is not None and lagrange is not None and view is not None:
        upper = float(lp.c @ x + lp.constant)
        shut, kept = lagrange.fixed_keep(view, upper, 1e-9 * max(1.0, abs(upper)))
        plan_keep = x[f.keep_col] > 0.5
        if (shut & plan_keep).any() or (kept & ~plan_keep).any():
            shut, kept = shut & ~plan_keep, kept & plan_keep  # never cut the start off
        if shut.any() or kept.any():
            col_lo, col_hi = lp.col_lo.copy(), lp.col_hi.copy()
            col_hi[f.keep_col[shut]] = 0.0
            col_lo[f.keep_col[kept]] = 1.0
            final_lp = dataclasses.replace(lp, col_lo=col_lo, col_hi=col_hi)
        notes.append(f"{int(shut.sum())} buildings shut and {int(kept.sum())} kept by the bound")
    final = solve(
        final_lp,
        settings.model_copy(update={"time_limit_seconds": deadline.for_solver()}),
        x,
        f.link_rows,
        f.likely_links(),
    )
    seconds = time.perf_counter() - began
    detail = "; ".join(notes)
    if final.x is None and x is not None:
        objective = float(lp.c @ x + lp.constant)
        return SolverOutput(
            SolveStatus.FEASIBLE,
            x,
            objective,
            lower,
            relative_gap(objective, lower),
            seconds,
            "HiGHS (heuristic start)",
            f"heuristic plan; final MIP: {final.detail}; {detail}",
            final.build_seconds,
        )
    if final.x is None:
        return SolverOutput(
            final.status, None, None, lower, None, seconds, final.solver, final.detail
        )
    if final.objective is None:
        bound, gap = _best_bound([final.bound, lower], None), None
    else:
        bound = _best_bound([final.bound, lower], final.objective)
        gap = relative_gap(final.objective, bound)
    status = proven_status(final.status, gap, settings.mip_rel_gap)
    mip_bound = "none" if final.bound is None else f"{final.bound:,.0f}"
    return SolverOutput(
        status,
        final.x,
        final.objective,
        bound,
        gap,
        seconds,
        "HiGHS (heuristic start)",
        f"{final.detail}; {detail}; final MIP bound {mip_bound}",
        final.build_seconds,
    )


def _best_bound(bounds: list[float | None], objective: float | None) -> float | None:
    """The best of the bounds proved (None if none), never above the plan's cost."""
    known = [b for b in bounds if b is not None]
    if not known:
        return None
    return max(known) if objective is None else min(max(known), objective)


def _with_beside(
    lp: LinearProgram,
    x: NDArray[np.float64] | None,
    other: SolverOutput,
    lower: float | None,
    settings: SolverSettings,
    began: float,
    notes: list[str],
) -> SolverOutput:
    """The answer when the whole MIP ran beside the search: the cheaper of the two
    plans, the best of the bounds (LP, Lagrangian, the MIP's), status from the proof."""
    seconds = time.perf_counter() - began
    mip_bound = "none" if other.bound is None else f"{other.bound:,.0f}"
    if other.status == SolveStatus.INFEASIBLE and x is not None:
        mip_bound += " (its 'infeasible' is refuted by the search's plan, which keeps every row)"
    detail = f"{other.detail}; {'; '.join(notes)}; MIP beside the search: bound {mip_bound}"
    plans = [p for p in (x, other.x) if p is not None]
    if not plans:
        none = other.status if other.status == SolveStatus.INFEASIBLE else SolveStatus.NO_SOLUTION
        bound = _best_bound([lower, other.bound], None)
        return SolverOutput(none, None, None, bound, None, seconds, other.solver, detail)
    best = min(plans, key=lambda p: float(lp.c @ p))
    objective = float(lp.c @ best + lp.constant)
    bound = _best_bound([lower, other.bound], objective)
    gap = relative_gap(objective, bound)
    status = proven_status(SolveStatus.FEASIBLE, gap, settings.mip_rel_gap)
    return SolverOutput(
        status, best, objective, bound, gap, seconds, "HiGHS (heuristic search beside)", detail
    )
