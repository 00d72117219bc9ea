"""The sorted-distance formulation of assignment, where nothing but the choice of
buildings couples the services.

For a service s with candidate costs sorted into distinct levels ``D_1 < ... < D_K``
(S. Elloumi, "A tighter formulation of the p-median problem", J. Comb. Optim. 19
(2010) 69-83; the radius formulation of Garcia, Labbe and Marin, INFORMS J. Comput. 23
(2011) 546-556), the columns ``beyond[s,k] >= 0`` mean "no building within cost
``D_k`` of s is kept" (no upper bound: it would never bind, and without it the LP's
duals map onto the strong form's), and

    cost of s = D_1 + sum_{k<K} (D_{k+1} - D_k) beyond[s,k]
    beyond[s,1] + sum_{b: c_sb = D_1} keep_b >= 1
    beyond[s,k] + sum_{b: c_sb = D_k} keep_b >= beyond[s,k-1]      k = 2..K-1
                  sum_{b: c_sb = D_K} keep_b >= beyond[s,K-1]

replace the service's ``assign[s,b]`` columns, its "in one building" row and its
linking rows ``assign[s,b] <= keep[b]``.  Its LP bound is the strong formulation's;
what changes is size: costs that tie (OR-Library distances: 28-79 distinct levels a
client) give a fraction of the columns and rows, and no linking rows are left to
generate.  A service qualifies when its ``assign`` columns appear in no other row (no
capacity or space row that can bind, no access, exclusivity, fit-out or budget row):
its cost then depends only on which building serves it, and the cheapest kept
candidate does.  The others keep the strong model, in the same LP.

Levels are cut where no better plan can reach them (``beyond[s,k]`` is fixed at 0 and
the rows and columns past it go):

- Elloumi's cut-off: once the candidates within ``D_k`` include a building that must
  be kept, or more buildings than can be shut (``n - p + 1`` with p kept at least),
  one of them is kept;
- beyond an upper bound: a plan's cost and the Lagrangian bound
  (:func:`optimise.facility.fixings`) say the service is served below some cost in
  every better plan, and which buildings no better plan keeps or shuts.

After the solve each qualifying service is assigned to its cheapest kept candidate
(home first among equal costs), so the plan is a plan of the strong model, checked and
priced as every plan is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from estate.errors import SolverError
from optimise.clock import Deadline
from optimise.facility import FacilityView, Fixings, LagrangeBound, fixings, level_starts
from optimise.formulation import Formulation, LinearProgram
from optimise.settings import SolverSettings
from optimise.solve import (
    SolverOutput,
    SolveStatus,
    proven_status,
    relative_gap,
    solve,
)
from optimise.verify import is_feasible

# Shares of the time to the solver's end for the start and for the Lagrangian bound.
HEURISTIC_SHARE = 0.05
LAGRANGE_SHARE = 0.10
# The LP relaxation whose duals give the second bound: at most this share of the time.
LP_SHARE = 0.3


def qualifying_services(f: Formulation) -> NDArray[np.bool_]:
    """Services whose ``assign`` columns appear only in their own "in one building"
    row and in linking rows: their cost depends only on the building that serves them."""
    lp = f.lp
    n_services = len(f.once_rows)
    ordinary = np.zeros(lp.shape[0], dtype=bool)
    ordinary[f.once_rows] = True
    ordinary[f.link_rows] = True
    ordinary[f.weak_link_rows] = True
    pairs = lp.matrix[:, f.pair_col].tocsc()
    elsewhere = (
        np.add.reduceat((~ordinary[pairs.indices]).astype(np.int64), pairs.indptr[:-1])
        if pairs.nnz
        else np.zeros(len(f.pair_col), dtype=np.int64)
    )
    elsewhere = np.where(np.diff(pairs.indptr) > 0, elsewhere, 0)
    blocked = np.bincount(f.pair_service, weights=elsewhere > 0, minlength=n_services)
    return np.asarray(blocked == 0, dtype=bool)


def count_limits(f: Formulation) -> tuple[int, int]:
    """The least and most buildings a plan may keep, by the keep-count row."""
    n = len(f.keep_col)
    if f.keep_count_row is None:
        return 0, n
    lo, hi = f.lp.row_lo[f.keep_count_row], f.lp.row_hi[f.keep_count_row]
    return int(np.ceil(max(lo, 0) - 1e-9)), int(np.floor(min(hi, n) + 1e-9))


@dataclass(frozen=True)
class SortedForm:
    """The model with the qualifying services in sorted-distance form.

    ``lp`` is what the solver sees: the strong model's columns ``cols`` (in that
    order) then the ``beyond`` columns; ``cut_rows``/``first_cuts`` are the strong
    linking rows left (of the services not in sorted form), valid cuts the solver may
    add as needed.  ``pure`` when every service is in sorted form and no row but the
    keep count is left: the model is then facility location (``view``, over the
    candidates the cuts leave; ``full_view`` has them all, to assign services by).
    ``first_row[s]`` is the row of service s's first level in ``lp`` (-1 if not sorted).
    """

    lp: LinearProgram
    strong: Formulation
    cols: NDArray[np.int64]
    sorted_services: NDArray[np.bool_]
    view: FacilityView
    full_view: FacilityView
    first_row: NDArray[np.int64]
    level_cost: NDArray[np.float64]  # all levels of every sorted service, flattened
    level_start: NDArray[np.int64]  # per service (length n_services + 1)
    cut: NDArray[np.int64]  # per service: last level kept (0-based; -1 if not sorted)
    cut_rows: NDArray[np.int64] | None
    first_cuts: NDArray[np.bool_] | None
    pure: bool
    count: tuple[int, int]
    levels_kept: int
    levels_cut: int

    @property
    def keep_cols(self) -> NDArray[np.int64]:
        """Column of each building's ``keep`` in ``lp``."""
        position = np.full(len(self.strong.lp.c), -1, dtype=np.int64)
        position[self.cols] = np.arange(len(self.cols))
        return position[self.strong.keep_col]

    def cut_view(self) -> FacilityView:
        """``view`` without the candidates past each service's last level: every plan
        of ``lp`` serves the service within that level, so they never count."""
        dearest = np.full(len(self.sorted_services), np.inf)
        services = np.flatnonzero(self.sorted_services)
        dearest[services] = self.level_cost[self.level_start[services] + self.cut[services]]
        none = np.zeros(self.view.n_sites, dtype=bool)
        return self.view.restricted(Fixings(none, none, dearest))

    def to_strong(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Column values of the strong model for a solution of ``lp``: each sorted
        service assigned to its cheapest kept candidate."""
        f = self.strong
        out = np.zeros(len(f.lp.c))
        out[self.cols] = x[: len(self.cols)]
        integer = f.lp.integer
        out[integer] = np.round(out[integer])
        keep = out[f.keep_col] > 0.5
        if self.sorted_services.any():
            try:
                chosen = self.full_view.assignment(keep)
            except ValueError as exc:
                raise SolverError(
                    "the solver's plan leaves a service with no kept candidate building"
                ) from exc
            out[f.pair_col[chosen]] = 1.0
        return out

    def from_strong(self, x: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """A solution of ``lp`` from strong column values (each sorted service at its
        cheapest kept candidate); None when it is past a level cut."""
        f = self.strong
        keep = x[f.keep_col] > 0.5
        out = np.zeros(self.lp.shape[1])
        out[: len(self.cols)] = x[self.cols]
        if not self.sorted_services.any():
            return out
        d1, p1, _ = self.full_view.nearest(keep)
        services = np.flatnonzero(self.sorted_services)
        if (p1[services] < 0).any():
            return None
        cut_cost = self.level_cost[self.level_start[services] + self.cut[services]]
        if (d1[services] > cut_cost + 1e-9 * np.maximum(1.0, np.abs(cut_cost))).any():
            return None
        n_z = self.cut[services]
        z_start = len(self.cols) + np.r_[0, np.cumsum(n_z)[:-1]]
        for s, z0, nz in zip(services, z_start, n_z, strict=True):
            levels = self.level_cost[self.level_start[s] : self.level_start[s] + nz]
            out[z0 : z0 + nz] = (levels < d1[s] - 1e-12 * max(1.0, abs(d1[s]))).astype(float)
        return out


def facility_view(f: Formulation, services: NDArray[np.bool_]) -> FacilityView:
    """The qualifying services' part of the model as facility location data."""
    lp = f.lp
    mine = services[f.pair_service]
    index = np.flatnonzero(mine)
    lo, hi = count_limits(f)
    view = FacilityView.build(
        f.pair_service[index],
        f.pair_building[index],
        lp.c[f.pair_col[index]],
        f.home,
        lp.c[f.keep_col],
        lp.col_lo[f.keep_col] > 0.5,
        lp.col_hi[f.keep_col] < 0.5,
        lo,
        hi,
        lp.constant,
    )
    # The view's pairs point back at positions in the formulation's pair arrays.
    return FacilityView(
        view.n_services,
        view.n_sites,
        view.constant,
        view.fixed,
        view.start,
        view.service,
        view.site,
        view.cost,
        index[view.pair],
        view.forced_open,
        view.forced_closed,
        view.count_lo,
        view.count_hi,
    )


def build_sorted(
    f: Formulation,
    services: NDArray[np.bool_],
    full_view: FacilityView | None = None,
    fixed: Fixings | None = None,
) -> SortedForm:
    """The model with ``services`` in sorted-distance form, with Elloumi's cut-off and,
    given ``fixed``, the cuts an upper bound and a Lagrangian bound allow.
    ``full_view`` is :func:`facility_view` of ``services`` if already built."""
    lp = f.lp
    n_services = len(services)
    n_b = len(f.keep_col)
    full_view = full_view if full_view is not None else facility_view(f, services)
    view = full_view if fixed is None else full_view.restricted(fixed)
    count_lo, count_hi = count_limits(f)
    keep_lo = lp.col_lo[f.keep_col].copy()
    keep_hi = lp.col_hi[f.keep_col].copy()
    if fixed is not None:
        keep_hi[fixed.shut] = 0.0
        keep_lo[fixed.open] = 1.0

    # Levels: runs of equal cost among each service's candidates (cheapest first).
    s_of = view.service
    cost = view.cost
    new_level = level_starts(s_of, cost)
    level_id = np.cumsum(new_level) - 1  # global level index of each pair
    level_cost = cost[new_level]
    level_service = s_of[new_level]
    n_levels = np.bincount(level_service, minlength=n_services).astype(np.int64)
    level_start = np.r_[0, np.cumsum(n_levels)].astype(np.int64)
    local = level_id - level_start[s_of] if len(cost) else np.zeros(0, np.int64)

    # Elloumi's cut-off: the candidates within a level hold a building that is kept
    # for sure, or more buildings than may be shut.
    openable = keep_hi > 0.5
    sure = keep_lo > 0.5
    least_kept = max(count_lo, int(sure.sum()))
    may_shut = int(openable.sum()) - least_kept
    pair_open = openable[view.site].astype(float)
    pair_sure = sure[view.site].astype(float)
    per_level_open = np.asarray(
        np.bincount(level_id, weights=pair_open, minlength=len(level_cost)), dtype=float
    )
    per_level_sure = np.asarray(
        np.bincount(level_id, weights=pair_sure, minlength=len(level_cost)), dtype=float
    )
    cum_open = _cumsum_within(per_level_open, level_start)
    cum_sure = _cumsum_within(per_level_sure, level_start)
    guaranteed = (cum_sure > 0) | ((least_kept >= 1) & (cum_open >= may_shut + 1))
    if fixed is not None:
        dearest = fixed.dearest[level_service]
        guaranteed |= np.r_[level_cost[1:], np.inf] > dearest  # the next level is out of reach
    last = level_start[1:] - 1
    guaranteed[last[n_levels > 0]] = True
    first_true = np.full(n_services, -1, dtype=np.int64)
    idx = np.flatnonzero(guaranteed)
    svc = level_service[idx]
    starts = np.r_[True, svc[1:] != svc[:-1]] if len(svc) else np.zeros(0, bool)
    first_true[svc[starts]] = idx[starts] - level_start[svc[starts]]
    cut = np.where(services, first_true, -1)
    if fixed is not None:
        # A level past the dearest cost a better plan allows is never reached: a
        # service whose cheapest level is already past it is infeasible for better
        # plans, which cannot happen when the bound is valid (keep level 0 then).
        cut = np.where(services, np.maximum(cut, 0), -1)

    # The strong part that stays: every column but the sorted services' assign
    # columns; every row but their own rows and weak linking rows left with no pair.
    in_sorted = services[f.pair_service]
    keep_col_mask = np.ones(len(lp.c), dtype=bool)
    keep_col_mask[f.pair_col[in_sorted]] = False
    cols = np.flatnonzero(keep_col_mask).astype(np.int64)
    sub = lp.matrix[:, cols].tocsr()
    dropped = np.zeros(lp.shape[0], dtype=bool)
    dropped[f.once_rows[services]] = True
    dropped[f.link_rows[in_sorted]] = True
    nnz_left = np.diff(sub.indptr)
    weak = np.zeros(lp.shape[0], dtype=bool)
    weak[f.weak_link_rows] = True
    dropped |= weak & (nnz_left <= 1)
    rows = np.flatnonzero(~dropped)
    position = np.full(len(lp.c), -1, dtype=np.int64)
    position[cols] = np.arange(len(cols))
    keep_new = position[f.keep_col]

    # The sorted block.
    sv = np.flatnonzero(services)
    n_rows_s = np.zeros(n_services, dtype=np.int64)
    n_rows_s[sv] = cut[sv] + 1
    row_start = np.r_[0, np.cumsum(n_rows_s)].astype(np.int64)
    n_z = np.maximum(n_rows_s - 1, 0)
    z_start = np.r_[0, np.cumsum(n_z)].astype(np.int64)
    total_rows, total_z = int(row_start[-1]), int(z_start[-1])
    within = local <= cut[s_of]
    y_row = row_start[s_of[within]] + local[within]
    y_col = keep_new[view.site[within]]
    z_index = np.arange(total_z, dtype=np.int64)
    z_service = np.repeat(np.arange(n_services), n_z)
    z_level = z_index - z_start[z_service]
    z_cost = (
        level_cost[level_start[z_service] + z_level + 1]
        - level_cost[level_start[z_service] + z_level]
    )
    base = len(cols)
    block = sparse.csr_matrix(
        (
            np.concatenate([np.ones(len(y_row)), np.ones(total_z), -np.ones(total_z)]),
            (
                np.concatenate(
                    [y_row, row_start[z_service] + z_level, row_start[z_service] + z_level + 1]
                ),
                np.concatenate([y_col, base + z_index, base + z_index]),
            ),
        ),
        shape=(total_rows, base + total_z),
    )
    first_row = np.zeros(total_rows, dtype=bool)
    first_row[row_start[sv]] = True
    matrix = sparse.vstack(
        [sparse.hstack([sub[rows], sparse.csr_matrix((len(rows), total_z))]), block]
    ).tocsr()
    col_lo = np.concatenate([lp.col_lo[cols], np.zeros(total_z)])
    col_hi = np.concatenate([lp.col_hi[cols], np.full(total_z, np.inf)])  # z >= 0 only
    col_lo[keep_new] = keep_lo
    col_hi[keep_new] = keep_hi
    ids = [name for name in lp.col_names]
    s_names = [lp.row_names[r][len("assign_once[") : -1] for r in f.once_rows]
    z_names = [f"beyond[{s_names[s]},{k + 1}]" for s, k in zip(z_service, z_level, strict=True)]
    r_service = np.repeat(np.arange(n_services), n_rows_s)
    r_level = np.arange(total_rows) - row_start[r_service]
    r_names = [f"within[{s_names[s]},{k + 1}]" for s, k in zip(r_service, r_level, strict=True)]
    new_lp = LinearProgram(
        c=np.concatenate([lp.c[cols], z_cost]),
        constant=float(lp.constant + level_cost[level_start[sv]].sum()),
        matrix=matrix,
        row_lo=np.concatenate([lp.row_lo[rows], first_row.astype(float)]),
        row_hi=np.concatenate([lp.row_hi[rows], np.full(total_rows, np.inf)]),
        col_lo=col_lo,
        col_hi=col_hi,
        integer=np.concatenate([lp.integer[cols], np.zeros(total_z, dtype=bool)]),
        col_names=[ids[j] for j in cols] + z_names,
        row_names=[lp.row_names[r] for r in rows] + r_names,
    )
    # Linking rows of the services not in sorted form: valid cuts, added as needed.
    row_position = np.full(lp.shape[0], -1, dtype=np.int64)
    row_position[rows] = np.arange(len(rows))
    strong_pairs = ~in_sorted
    cut_rows = row_position[f.link_rows[strong_pairs]]
    first_cuts = f.likely_links()[strong_pairs]
    others = np.setdiff1d(rows, [] if f.keep_count_row is None else [f.keep_count_row])
    pure = bool(services.all()) and len(cols) == n_b and not len(others)
    return SortedForm(
        lp=new_lp,
        strong=f,
        cols=cols,
        sorted_services=services.copy(),
        view=view,
        full_view=full_view,
        first_row=np.where(services, len(rows) + row_start[:-1], -1),
        level_cost=level_cost,
        level_start=level_start,
        cut=cut,
        cut_rows=cut_rows if len(cut_rows) else None,
        first_cuts=first_cuts if len(cut_rows) else None,
        pure=pure,
        count=(count_lo, count_hi),
        levels_kept=int(n_rows_s.sum()),
        levels_cut=int(n_levels[sv].sum() - n_rows_s.sum()),
    )


def _cumsum_within(values: NDArray[np.float64], start: NDArray[np.int64]) -> NDArray[np.float64]:
    """Running sums of ``values`` restarting at each ``start`` offset."""
    total = np.cumsum(values)
    before = np.r_[0.0, total][start[:-1]]
    counts = np.diff(start)
    return total - np.repeat(before, counts)


@dataclass(frozen=True)
class SortedSolve:
    """What solving in sorted form gave: the solver's output (in strong columns), the
    heuristic plan found first (strong columns) and the Lagrangian bound, if any."""

    output: SolverOutput
    heuristic: NDArray[np.float64] | None
    lagrangian: float | None
    detail: str
    started_from: str | None = None  # "start" (the plan given) or "heuristic"


def solve_sorted(
    f: Formulation,
    services: NDArray[np.bool_],
    settings: SolverSettings,
    deadline: Deadline,
    start: NDArray[np.float64] | None,
) -> SortedSolve:
    """Solve with ``services`` in sorted-distance form.

    When the model is pure facility location: a start from greedy opening and swaps;
    a Lagrangian bound from subgradient steps, then from the duals of the LP relaxation
    of the model they leave; after each bound, the buildings and levels no better plan
    can use are cut; the MIP (from the better of that start and ``start``) only if the
    bound has not already proved it within the gap.  Otherwise ``start`` (strong
    columns) starts the MIP.
    """
    began = time.perf_counter()
    full = facility_view(f, services)
    form = build_sorted(f, services, full)
    heuristic = None
    lower: float | None = None
    started_from = None if start is None else "start"
    notes = [f"sorted-distance form for {int(services.sum())} of {len(services)} services"]
    if form.pure:
        open_ = full.heuristic(deadline.share(HEURISTIC_SHARE))
        if open_ is not None:
            heuristic = form.to_strong(_keep_solution(form, open_))
            given = np.inf if start is None else float(f.lp.c @ start + f.lp.constant)
            if given < full.value(open_) - 1e-9 * max(1.0, abs(given)):
                assert start is not None
                open_ = start[f.keep_col] > 0.5  # the plan given is the better start
            else:
                start, started_from = heuristic, "heuristic"
            upper = full.value(open_)
            best_plan = form.to_strong(_keep_solution(form, open_))
            tol = 1e-9 * max(1.0, abs(upper))
            allowed = settings.mip_rel_gap * max(1.0, abs(upper)) + tol
            bound: LagrangeBound = full.lagrangian(upper, None, deadline.share(LAGRANGE_SHARE))
            lower = bound.value
            notes.append(f"greedy and swap plan {upper:,.10g}; Lagrangian bound {lower:,.10g}")
            fixed = fixings(full, bound, upper, tol)
            if lower < upper - allowed:
                form = build_sorted(f, services, full, fixed)
                by_lp = _dual_bound(form, deadline)
                if by_lp is not None and by_lp.value > lower:
                    lower = by_lp.value
                    notes.append(f"from the LP duals {lower:,.10g}")
                    fixed = fixed & fixings(form.cut_view(), by_lp, upper, tol)
                    form = build_sorted(f, services, full, fixed)
            if lower >= upper - allowed:
                seconds = time.perf_counter() - began
                bound_value = min(lower, upper)
                output = SolverOutput(
                    SolveStatus.OPTIMAL,
                    best_plan,
                    float(f.lp.c @ best_plan + f.lp.constant),
                    bound_value,
                    relative_gap(upper, bound_value),
                    seconds,
                    "Lagrangian bound (no MIP needed)",
                    "; ".join(notes),
                    seconds,
                )
                return SortedSolve(output, heuristic, lower, "; ".join(notes), started_from)
            start = best_plan
            notes.append(
                f"{int(fixed.shut.sum())} buildings shut and {int(fixed.open.sum())} kept by "
                "the bound"
            )
    notes.append(f"{form.levels_kept} levels kept, {form.levels_cut} cut")
    x0 = form.from_strong(start) if start is not None else None
    if x0 is not None and not is_feasible(form.lp, x0):
        x0 = None
    built = time.perf_counter() - began
    local = settings.model_copy(update={"time_limit_seconds": deadline.for_solver()})
    out = solve(form.lp, local, x0, form.cut_rows, form.first_cuts)
    seconds = time.perf_counter() - began
    detail = "; ".join(notes)
    if out.x is None:
        if heuristic is not None and start is not None and out.status is not SolveStatus.INFEASIBLE:
            objective = float(f.lp.c @ start + f.lp.constant)
            final_bound = _best_bound(out.bound, lower)
            output = SolverOutput(
                SolveStatus.FEASIBLE,
                start,
                objective,
                final_bound,
                relative_gap(objective, final_bound),
                seconds,
                out.solver,
                f"{out.detail}; the start is reported ({detail})",
                built + out.build_seconds,
            )
            return SortedSolve(output, heuristic, lower, detail, started_from)
        output = SolverOutput(
            out.status, None, None, out.bound, None, seconds, out.solver, out.detail, built
        )
        return SortedSolve(output, heuristic, lower, detail, started_from)
    x = form.to_strong(out.x)
    objective = float(f.lp.c @ x + f.lp.constant)
    final_bound = _best_bound(out.bound, lower)
    if final_bound is not None:
        final_bound = min(final_bound, objective)
    gap = relative_gap(objective, final_bound)
    status = proven_status(out.status, gap, settings.mip_rel_gap)
    output = SolverOutput(
        status,
        x,
        objective,
        final_bound,
        gap,
        seconds,
        f"{out.solver}, sorted-distance form",
        f"{out.detail}; {detail}",
        built + out.build_seconds,
    )
    return SortedSolve(output, heuristic, lower, detail, started_from)


def _dual_bound(form: SortedForm, deadline: Deadline) -> LagrangeBound | None:
    """The Lagrangian at the multipliers the LP relaxation's duals give.

    With ``pi`` the dual of a service's first level row, ``lam_s = D_s1 + pi_s`` is the
    multiplier of its "served once" row in the strong form's dual (the level rows'
    duals telescope), so the Lagrangian there is the LP bound of the model ``form``
    leaves (a bound on every plan it holds: every better plan).  None when the LP is
    not solved in time.
    """
    import highspy

    from optimise.solve import _highs_lp, _new_highs

    seconds = min(deadline.for_solver() * LP_SHARE, deadline.left())
    if seconds <= 0.1:
        return None
    lp = form.lp
    h = _new_highs(SolverSettings(time_limit_seconds=seconds))
    h.passModel(_highs_lp(lp, np.arange(lp.shape[0]), integer=False))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    dual = np.asarray(h.getSolution().row_dual, dtype=float)
    services = np.flatnonzero(form.sorted_services)
    lam = np.zeros(len(form.sorted_services))
    first_cost = form.level_cost[form.level_start[services]]
    lam[services] = first_cost + dual[form.first_row[services]]
    return form.cut_view().evaluate_multipliers(lam)


def _best_bound(solver: float | None, lagrangian: float | None) -> float | None:
    bounds = [b for b in (solver, lagrangian) if b is not None]
    return max(bounds) if bounds else None


def _keep_solution(form: SortedForm, open_: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Values of ``form.lp``'s kept strong columns for a pure model's plan."""
    x = np.zeros(form.lp.shape[1])
    x[form.keep_cols] = open_.astype(float)
    return x
