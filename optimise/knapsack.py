"""A Lagrangian bound for estates where capacities couple the services: one knapsack a
building.

The LP relaxation of a county-sized estate is weak where services pack into kept
buildings: a building may be kept at 0.6 and hold 0.6 of each of its services.
Every row that is not a building's own (its capacity row and its ``assign <= keep``
links) is relaxed with a multiplier ``pi_r`` -- "each service in exactly one
building", the floor-area rows, access, exclusivity, fit-out timing, budgets, the keep
count -- which leaves one problem a building: keep it or not and, if kept, fill it with
the services whose reduced cost ``c_sb - (A^T pi)_sb`` is negative, within its desks --
a 0-1 knapsack, solved exactly here by dynamic programming over the desks (numpy,
every building at once); every other column takes the cheaper of its bounds.

For any multipliers of the right signs (``>=`` rows ``pi >= 0``, ``<=`` rows ``pi <=
0``) the value is a lower bound on every plan's cost.  At the LP relaxation's row duals
it is at least the LP bound (the same partial Lagrangian of the LP, with each
building's knapsack solved in integers instead of fractionally); subgradient steps
from there lift it further.  The bound also says, for each building, what forcing it
open or shut would cost: with a plan's cost as the upper bound, a building whose
forcing lifts the bound above it is fixed (reduced-cost fixing).
:func:`lagrangian_keep` gives the buildings the bound's solution keeps, for
neighbourhoods where the plan and the bound disagree.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from optimise.formulation import Formulation

INF = float("inf")


@dataclass(frozen=True)
class PackingView:
    """The model's data for the per-building Lagrangian, read from its rows.

    Pairs are the formulation's (service, building) candidates.  ``relaxed`` is every
    row but the buildings' own (rows x columns) with its bounds; ``free_col`` the
    columns that are neither a building's keep nor a pair (access, exclusivity, fit-out
    timing...).  ``capacity[b]`` is in desks, -1 where no capacity row binds.
    """

    n_buildings: int
    constant: float
    cost: NDArray[np.float64]  # every column's cost
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    keep_col: NDArray[np.int64]
    pair_col: NDArray[np.int64]
    free_col: NDArray[np.int64]
    forced_open: NDArray[np.bool_]
    forced_closed: NDArray[np.bool_]
    pair_service: NDArray[np.int64]
    pair_building: NDArray[np.int64]
    pair_weight: NDArray[np.float64]  # desks, in the building's capacity row
    pair_open: NDArray[np.bool_]  # the pair may be used (its column's upper bound)
    pair_divisible: NDArray[np.bool_]
    capacity: NDArray[np.float64]
    relaxed_rows: NDArray[np.int64]  # the formulation's row numbers
    relaxed: sparse.csr_matrix
    row_lo: NDArray[np.float64]
    row_hi: NDArray[np.float64]

    @classmethod
    def build(cls, f: Formulation) -> PackingView:
        lp = f.lp
        n_b = len(f.keep_col)
        a = lp.matrix
        keep_of_col = np.full(len(lp.c), -1, dtype=np.int64)
        keep_of_col[f.keep_col] = np.arange(n_b)
        pair_of_col = np.full(len(lp.c), -1, dtype=np.int64)
        pair_of_col[f.pair_col] = np.arange(len(f.pair_col))
        # Capacity rows: desks of each pair, desks of each building.
        capacity = np.full(n_b, -1.0)
        weight = np.zeros(len(f.pair_col))
        if len(f.capacity_rows):
            rows = a[f.capacity_rows].tocoo()
            is_keep = keep_of_col[rows.col] >= 0
            b_of_row = np.full(len(f.capacity_rows), -1, dtype=np.int64)
            b_of_row[rows.row[is_keep]] = keep_of_col[rows.col[is_keep]]
            cap = np.zeros(len(f.capacity_rows))
            cap[rows.row[is_keep]] = -rows.data[is_keep]
            capacity[b_of_row] = cap
            on_pair = pair_of_col[rows.col] >= 0
            weight[pair_of_col[rows.col[on_pair]]] = rows.data[on_pair]
        # Whole desks: an exact knapsack; otherwise only the fractional one is a bound.
        whole = bool(np.all(np.abs(weight - np.round(weight)) < 1e-9))
        # The buildings' own rows stay in the subproblems; every other row is relaxed
        # (the weak links are implied by the strong ones).
        own = np.zeros(lp.shape[0], dtype=bool)
        for block in (f.capacity_rows, f.link_rows, f.weak_link_rows):
            own[block] = True
        relaxed_rows = np.flatnonzero(~own)
        free = (keep_of_col < 0) & (pair_of_col < 0)
        return cls(
            n_buildings=n_b,
            constant=float(lp.constant),
            cost=np.asarray(lp.c, dtype=float).copy(),
            col_lo=np.asarray(lp.col_lo, dtype=float),
            col_hi=np.asarray(lp.col_hi, dtype=float),
            keep_col=np.asarray(f.keep_col, dtype=np.int64),
            pair_col=np.asarray(f.pair_col, dtype=np.int64),
            free_col=np.flatnonzero(free),
            forced_open=lp.col_lo[f.keep_col] > 0.5,
            forced_closed=lp.col_hi[f.keep_col] < 0.5,
            pair_service=f.pair_service,
            pair_building=f.pair_building,
            pair_weight=weight,
            pair_open=lp.col_hi[f.pair_col] > 0.5,
            pair_divisible=~lp.integer[f.pair_col] | (not whole),
            capacity=capacity,
            relaxed_rows=relaxed_rows,
            relaxed=a[relaxed_rows].tocsr(),
            row_lo=np.asarray(lp.row_lo[relaxed_rows], dtype=float),
            row_hi=np.asarray(lp.row_hi[relaxed_rows], dtype=float),
        )

    @property
    def n_relaxed(self) -> int:
        return len(self.relaxed_rows)

    def project(self, pi: NDArray[np.float64]) -> NDArray[np.float64]:
        """Multipliers with the signs their rows allow (``>=`` rows >= 0, ``<=`` <= 0)."""
        pi = np.asarray(pi, dtype=float)
        pi = np.where(np.isinf(self.row_hi), np.maximum(pi, 0.0), pi)
        return np.where(np.isinf(self.row_lo), np.minimum(pi, 0.0), pi)

    def reduced_costs(self, pi: NDArray[np.float64]) -> NDArray[np.float64]:
        """Every column's cost less what the relaxed rows price it at (``pi`` already
        of the right signs)."""
        return np.asarray(self.cost - self.relaxed.T @ pi, dtype=float).ravel()

    # --- one evaluation ----------------------------------------------------------

    def evaluate(self, pi: NDArray[np.float64]) -> PackingBound:
        """The Lagrangian at multipliers ``pi`` (one a relaxed row, projected to the
        signs the rows allow): its value, solution and subgradient."""
        pi = self.project(pi)
        reduced = self.reduced_costs(pi)
        with np.errstate(invalid="ignore"):
            rows_value = float(
                np.sum(np.where(pi > 0, pi * self.row_lo, 0.0))
                + np.sum(np.where(pi < 0, pi * self.row_hi, 0.0))
            )
        # Every free column at its cheaper bound (an unbounded one: no bound at all).
        free_cost = reduced[self.free_col]
        lo, hi = self.col_lo[self.free_col], self.col_hi[self.free_col]
        at = np.where(free_cost >= 0, lo, hi)
        unbounded = np.isinf(at) & (free_cost != 0)
        finite_end = np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, 0.0))
        at = np.where(np.isfinite(at), at, finite_end)
        free_value = float(free_cost @ at) if not unbounded.any() else -INF
        value = reduced[self.pair_col]
        fixed = reduced[self.keep_col]
        chosen, fill = self._fill(value)
        open_value = fixed + fill
        keep = np.where(
            self.forced_open, True, np.where(self.forced_closed, False, open_value < 0.0)
        )
        per_building = np.where(keep, open_value, 0.0)
        total = self.constant + rows_value + free_value + float(per_building.sum())
        share = chosen * keep[self.pair_building]
        x = np.zeros(len(self.cost))
        x[self.free_col] = at
        x[self.keep_col] = keep
        x[self.pair_col] = share
        activity = np.asarray(self.relaxed @ x).ravel()
        # A row priced up moves towards its lower end, one priced down towards its
        # upper end; an unpriced row only by how far it is outside its range.
        outside = np.clip(activity, self.row_lo, self.row_hi) - activity
        g = np.where(
            pi > 0, self.row_lo - activity, np.where(pi < 0, self.row_hi - activity, outside)
        )
        g = np.where(np.isfinite(g), g, 0.0)
        return PackingBound(total, pi, keep, open_value, share, np.asarray(g, dtype=float))

    def _fill(self, value: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each building's best filling at item values ``value``: the share of each pair
        taken, and the filling's value (<= 0)."""
        n_b = self.n_buildings
        useful = (value < 0.0) & self.pair_open
        chosen = useful.astype(float)
        weight = self.pair_weight
        b = self.pair_building
        load = np.bincount(b[useful], weights=weight[useful], minlength=n_b)
        over = (self.capacity >= 0) & (load > self.capacity + 1e-9)
        if over.any():
            fractional = over & np.bincount(b[useful & self.pair_divisible], minlength=n_b).astype(
                bool
            )
            exact = over & ~fractional
            if exact.any():
                mask = useful & exact[b]
                whole = np.floor(self.capacity + 1e-9).astype(np.int64)
                chosen[mask] = _knapsack(b[mask], weight[mask], value[mask], whole)
            if fractional.any():
                mask = useful & fractional[b]
                chosen[mask] = _fractional_knapsack(
                    b[mask], weight[mask], value[mask], self.capacity
                )
        fill = np.asarray(np.bincount(b, weights=chosen * value, minlength=n_b), dtype=float)
        return chosen, fill

    # --- the bound ---------------------------------------------------------------

    def lagrangian(
        self,
        upper: float,
        pi: NDArray[np.float64] | None,
        deadline: float,
        max_iterations: int = 300,
    ) -> PackingBound:
        """Subgradient steps from ``pi`` (zeros if None) towards the plan cost
        ``upper``; the best bound found."""
        pi = self.project(np.zeros(self.n_relaxed) if pi is None else pi)
        best = current = self.evaluate(pi)
        theta, stale = 1.0, 0
        for _ in range(max_iterations):
            if time.perf_counter() > deadline:
                break
            gap = upper - current.value
            if not math.isfinite(gap) or gap <= 1e-9 * max(1.0, abs(upper)):
                break
            norm = float(current.g @ current.g)
            if norm == 0.0:
                break
            pi = self.project(current.pi + theta * gap / norm * current.g)
            current = self.evaluate(pi)
            if current.value > best.value + 1e-9 * max(1.0, abs(best.value)):
                best, stale = current, 0
            else:
                stale += 1
                if stale >= 10:
                    theta, stale = theta / 2.0, 0
                    if theta < 1e-3:
                        break
        return best


@dataclass(frozen=True)
class PackingBound:
    """The per-building Lagrangian at one set of multipliers.

    ``value`` is a lower bound on every plan's present cost; ``keep`` the buildings its
    solution keeps; ``open_value[b]`` what keeping b adds to it (negative: worth
    keeping); ``x`` the share of each pair its solution takes; ``g`` a subgradient.
    """

    value: float
    pi: NDArray[np.float64]
    keep: NDArray[np.bool_]
    open_value: NDArray[np.float64]
    x: NDArray[np.float64]
    g: NDArray[np.float64]

    def fixed_keep(
        self, view: PackingView, upper: float, tol: float
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Buildings no plan cheaper than ``upper`` keeps, and those every such plan
        keeps: forcing the other choice lifts the bound above ``upper``."""
        limit = upper + tol
        free = ~view.forced_open & ~view.forced_closed
        shut = free & ~self.keep & (self.value + self.open_value > limit)
        kept = free & self.keep & (self.value - self.open_value > limit)
        return shut, kept


def lagrangian_keep(bound: PackingBound) -> NDArray[np.bool_]:
    """The buildings the Lagrangian solution keeps."""
    return bound.keep.copy()


def _knapsack(
    building: NDArray[np.int64],
    weight: NDArray[np.float64],
    value: NDArray[np.float64],
    capacity: NDArray[np.int64],
) -> NDArray[np.float64]:
    """0-1 knapsack of every building at once (minimise the value within its capacity)
    by dynamic programming over whole desks; 1.0 for each item taken."""
    order = np.lexsort((np.arange(len(building)), building))
    b = building[order]
    w = np.round(weight[order]).astype(np.int64)
    v = value[order]
    groups, first = np.unique(b, return_index=True)
    row_of = np.searchsorted(groups, b)
    rank = np.arange(len(b)) - first[row_of]
    cap = capacity[groups]
    width = int(cap.max()) + 1
    table = np.zeros((len(groups), width))
    columns = np.arange(width)
    decisions: list[tuple[NDArray[np.int64], NDArray[np.bool_]]] = []
    for k in range(int(rank.max()) + 1):
        at = np.flatnonzero(rank == k)
        rows = row_of[at]
        shifted = columns[None, :] - w[at][:, None]
        ok = shifted >= 0
        candidate = np.where(
            ok,
            np.take_along_axis(table[rows], np.maximum(shifted, 0), axis=1) + v[at][:, None],
            INF,
        )
        take = candidate < table[rows] - 1e-12
        table[rows] = np.where(take, candidate, table[rows])
        decisions.append((at, take))
    taken = np.zeros(len(b))
    left = cap.copy()
    for at, take in reversed(decisions):
        rows = row_of[at]
        pick = take[np.arange(len(at)), left[rows]]
        taken[at[pick]] = 1.0
        left[rows[pick]] -= w[at[pick]]
    out = np.zeros(len(building))
    out[order] = taken
    return out


def _fractional_knapsack(
    building: NDArray[np.int64],
    weight: NDArray[np.float64],
    value: NDArray[np.float64],
    capacity: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The LP relaxation of each building's knapsack: the best value per desk first."""
    ratio = np.where(weight > 0, value / np.maximum(weight, 1e-12), -INF)
    order = np.lexsort((ratio, building))
    b, w = building[order], weight[order]
    start = np.r_[0, np.flatnonzero(b[1:] != b[:-1]) + 1]
    csum = np.cumsum(w)
    before = np.repeat(np.r_[0.0, csum][start], np.diff(np.r_[start, len(b)]))
    used = csum - w - before  # desks taken before this item
    room = capacity[b] - used
    share = np.clip(room / np.maximum(w, 1e-12), 0.0, 1.0)
    share = np.where(w <= 0, 1.0, share)
    out = np.zeros(len(building))
    out[order] = share
    return out


def lp_multipliers(view: PackingView, row_dual: NDArray[np.float64]) -> NDArray[np.float64]:
    """Starting multipliers: the LP relaxation's duals of the relaxed rows (HiGHS's
    sign convention is the Lagrangian's: ``>=`` rows' duals >= 0 in a minimisation)."""
    return view.project(np.asarray(row_dual, dtype=float)[view.relaxed_rows])


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
