"""A Lagrangian bound for estates where capacities couple the services: one knapsack a
building.

The LP relaxation of a county-sized estate is weak where services pack into kept
buildings: a building may be kept at 0.6 and hold 0.6 of each of its services.
Relaxing "each service in exactly one building" with multipliers ``lam_s`` (and the
floor-area rows with multipliers ``mu_r >= 0``) leaves one problem a building: keep
it or not and, if kept, fill it with the services whose ``c_sb - lam_s`` is negative,
within its desks -- a 0-1 knapsack, solved exactly here by dynamic programming over
the desks (numpy, every building at once).  The rows that couple buildings (access,
exclusivity, fit-out timing, budgets, the keep count) are left out, which can only
lower the bound.  Its best value over the multipliers is at least the LP bound, since
each building's knapsack is solved in integers.

Started from the LP relaxation's duals and improved by subgradient steps, the bound
also says, for each building, what forcing it open or shut would cost: with a plan's
cost as the upper bound, a building whose forcing lifts the bound above it is fixed
(reduced-cost fixing).  :func:`lagrangian_keep` gives the buildings the bound's
solution keeps, for neighbourhoods where the plan and the bound disagree.
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

    Pairs are the formulation's (service, building) candidates; ``space`` is the
    floor-area rows (rows x pairs, coefficients in m2) with their building and area.
    (``capacity[b]`` is in desks, -1 where no capacity row binds.)
    ``constant`` holds the objective's constant and the cheapest value of every column
    the relaxation leaves free (access, exclusivity, fit-out columns).
    """

    n_services: int
    n_buildings: int
    constant: float
    keep_cost: NDArray[np.float64]
    forced_open: NDArray[np.bool_]
    forced_closed: NDArray[np.bool_]
    pair_service: NDArray[np.int64]
    pair_building: NDArray[np.int64]
    pair_cost: NDArray[np.float64]
    pair_weight: NDArray[np.float64]  # desks, in the building's capacity row
    pair_open: NDArray[np.bool_]  # the pair may be used (its column's upper bound)
    pair_divisible: NDArray[np.bool_]
    capacity: NDArray[np.float64]
    space: sparse.csr_matrix  # space rows x pairs
    space_building: NDArray[np.int64]
    space_area: NDArray[np.float64]

    @classmethod
    def build(cls, f: Formulation) -> PackingView:
        lp = f.lp
        n_b = len(f.keep_col)
        n_s = len(f.once_rows)
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
        # Floor-area rows.
        if len(f.space_rows):
            rows = a[f.space_rows].tocoo()
            is_keep = keep_of_col[rows.col] >= 0
            space_building = np.full(len(f.space_rows), -1, dtype=np.int64)
            space_building[rows.row[is_keep]] = keep_of_col[rows.col[is_keep]]
            area = np.zeros(len(f.space_rows))
            area[rows.row[is_keep]] = -rows.data[is_keep]
            on_pair = pair_of_col[rows.col] >= 0
            space = sparse.csr_matrix(
                (rows.data[on_pair], (rows.row[on_pair], pair_of_col[rows.col[on_pair]])),
                shape=(len(f.space_rows), len(f.pair_col)),
            )
        else:
            space_building = np.zeros(0, dtype=np.int64)
            area = np.zeros(0)
            space = sparse.csr_matrix((0, len(f.pair_col)))
        # Every column the relaxation leaves free takes its cheapest value.
        free = (keep_of_col < 0) & (pair_of_col < 0)
        c, lo, hi = lp.c[free], lp.col_lo[free], lp.col_hi[free]
        free_value = np.where(c >= 0, c * lo, c * hi)
        return cls(
            n_services=n_s,
            n_buildings=n_b,
            constant=float(lp.constant + np.sum(free_value)),
            keep_cost=lp.c[f.keep_col].copy(),
            forced_open=lp.col_lo[f.keep_col] > 0.5,
            forced_closed=lp.col_hi[f.keep_col] < 0.5,
            pair_service=f.pair_service,
            pair_building=f.pair_building,
            pair_cost=lp.c[f.pair_col].copy(),
            pair_weight=weight,
            pair_open=lp.col_hi[f.pair_col] > 0.5,
            pair_divisible=~lp.integer[f.pair_col] | (not whole),
            capacity=capacity,
            space=space,
            space_building=space_building,
            space_area=area,
        )

    # --- one evaluation ----------------------------------------------------------

    def evaluate(self, lam: NDArray[np.float64], mu: NDArray[np.float64]) -> PackingBound:
        """The Lagrangian at ``(lam, mu)``: its value, solution and subgradient."""
        value = self.pair_cost - lam[self.pair_service]
        if self.space.shape[0]:
            value = value + np.asarray(self.space.T @ mu).ravel()
        fixed = self.keep_cost.copy()
        if len(mu):
            np.subtract.at(fixed, self.space_building, mu * self.space_area)
        chosen, fill = self._fill(value)
        open_value = fixed + fill
        keep = np.where(
            self.forced_open, True, np.where(self.forced_closed, False, open_value < 0.0)
        )
        per_building = np.where(keep, open_value, 0.0)
        total = self.constant + float(lam.sum()) + float(per_building.sum())
        x = chosen * keep[self.pair_building]
        served = np.bincount(self.pair_service, weights=x, minlength=self.n_services)
        g_lam = np.asarray(1.0 - served, dtype=float)
        g_mu = np.zeros(len(mu))
        if len(mu):
            g_mu = np.asarray(self.space @ x).ravel() - self.space_area * keep[self.space_building]
        return PackingBound(total, lam, mu, keep, open_value, x, g_lam, g_mu)

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
        lam: NDArray[np.float64],
        mu: NDArray[np.float64] | None,
        deadline: float,
        max_iterations: int = 300,
    ) -> PackingBound:
        """Subgradient steps from ``(lam, mu)`` towards the plan cost ``upper``; the
        best bound found."""
        lam = np.asarray(lam, dtype=float).copy()
        mu = np.zeros(self.space.shape[0]) if mu is None else np.maximum(0.0, mu).copy()
        best = current = self.evaluate(lam, mu)
        theta, stale = 1.0, 0
        for _ in range(max_iterations):
            if time.perf_counter() > deadline:
                break
            gap = upper - current.value
            if gap <= 1e-9 * max(1.0, abs(upper)):
                break
            norm = float(current.g_lam @ current.g_lam + current.g_mu @ current.g_mu)
            if norm == 0.0:
                break
            step = theta * gap / norm
            lam = lam + step * current.g_lam
            mu = np.maximum(0.0, mu + step * current.g_mu)
            current = self.evaluate(lam, mu)
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
    keeping); ``x`` the share of each pair its solution takes.
    """

    value: float
    lam: NDArray[np.float64]
    mu: NDArray[np.float64]
    keep: NDArray[np.bool_]
    open_value: NDArray[np.float64]
    x: NDArray[np.float64]
    g_lam: NDArray[np.float64]
    g_mu: NDArray[np.float64]

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


def lp_multipliers(
    f: Formulation, row_dual: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Starting multipliers from the LP relaxation's row duals: ``lam_s`` the dual of
    service s's "in one building" row, ``mu_r`` minus the dual of each floor-area row
    (a <= row's dual is not positive in a minimisation)."""
    lam = np.asarray(row_dual[f.once_rows], dtype=float)
    mu = np.maximum(0.0, -np.asarray(row_dual[f.space_rows], dtype=float))
    return lam, mu


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
