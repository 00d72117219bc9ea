"""Uncapacitated facility location inside the estate model: a start, a bound, fixings.

When nothing but the choice of buildings couples the services (no capacity, space,
access, exclusivity or budget row binds any of them: p-median, uncapacitated facility
location), the estate model is

    minimise  constant + sum_b f_b keep_b + sum_s min { c_sb : b in C(s), keep_b = 1 }

with some buildings forced open or closed and ``lo <= sum_b keep_b <= hi``.
:class:`FacilityView` holds that problem as flat arrays and gives

- a start: greedy opening, then best-improvement swaps (add, drop, or exchange one
  building; Whitaker's fast interchange evaluates every exchange at once);
- a bound: the Lagrangian relaxation of "each service served once" (multipliers
  ``lam_s``; each building then pays ``rho_b = f_b + sum_s min(0, c_sb - lam_s)`` and
  the cheapest buildings allowed by the count are opened), improved by subgradient
  steps; its value equals the LP bound at best (the subproblem has the integrality
  property), and it comes with what forcing any building open or shut would cost;
- from the bound and the start, the buildings that cannot be in a better plan and, for
  each service, the dearest cost it could have in one (:class:`Fixings`).

All arrays are numpy; nothing here calls a MIP solver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Improvements smaller than this (relative to the plan's cost) are noise.
REL_TOL = 1e-9
# Exchange moves are evaluated as a dense (buildings x open buildings) table when it fits.
MAX_SWAP_TABLE = 20_000_000


@dataclass(frozen=True)
class FacilityView:
    """Facility location data: services x candidate buildings, building costs, rules.

    Pairs are sorted by service, then by cost (the service's home first among equal
    costs, then by building index): ``start[s]:start[s+1]`` are service s's candidates,
    cheapest first.  ``home_pair`` flags each service's home building.
    """

    n_services: int
    n_sites: int
    constant: float
    fixed: NDArray[np.float64]  # f_b: cost of keeping each building
    start: NDArray[np.int64]  # CSR offsets over services, length n_services + 1
    service: NDArray[np.int64]  # per pair
    site: NDArray[np.int64]  # per pair
    cost: NDArray[np.float64]  # per pair
    pair: NDArray[np.int64]  # per pair: its position in the caller's pair arrays
    forced_open: NDArray[np.bool_]
    forced_closed: NDArray[np.bool_]
    count_lo: int
    count_hi: int

    @classmethod
    def build(
        cls,
        pair_service: NDArray[np.int64],
        pair_site: NDArray[np.int64],
        pair_cost: NDArray[np.float64],
        home: NDArray[np.int64],
        fixed: NDArray[np.float64],
        forced_open: NDArray[np.bool_],
        forced_closed: NDArray[np.bool_],
        count_lo: int,
        count_hi: int,
        constant: float = 0.0,
    ) -> FacilityView:
        n_services = len(home)
        not_home = pair_site != home[pair_service]
        order = np.lexsort((pair_site, not_home, pair_cost, pair_service))
        service = pair_service[order]
        start = np.searchsorted(service, np.arange(n_services + 1)).astype(np.int64)
        return cls(
            n_services,
            len(fixed),
            float(constant),
            np.asarray(fixed, dtype=float),
            start,
            service,
            pair_site[order],
            np.asarray(pair_cost, dtype=float)[order],
            order.astype(np.int64),
            np.asarray(forced_open, dtype=bool),
            np.asarray(forced_closed, dtype=bool),
            int(count_lo),
            int(count_hi),
        )

    @property
    def unserved_cost(self) -> float:
        """A cost for a service with no open candidate, dearer than any whole plan."""
        spread = np.abs(self.cost).max(initial=0.0) * max(self.n_services, 1)
        return 10.0 * (spread + np.abs(self.fixed).sum() + abs(self.constant)) + 1.0

    # --- plans ---------------------------------------------------------------------

    def nearest(
        self, open_: NDArray[np.bool_]
    ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        """For each service: the cost of its cheapest open candidate, that candidate's
        pair index (-1 when none is open), and the cost of its second cheapest (the
        unserved cost when there is none)."""
        big = self.unserved_cost
        d1 = np.full(self.n_services, big)
        d2 = np.full(self.n_services, big)
        p1 = np.full(self.n_services, -1, dtype=np.int64)
        idx = np.flatnonzero(open_[self.site])
        if len(idx):
            serv = self.service[idx]
            first = np.r_[True, serv[1:] != serv[:-1]]
            d1[serv[first]] = self.cost[idx[first]]
            p1[serv[first]] = idx[first]
            second = np.zeros(len(idx), dtype=bool)
            second[1:] = first[:-1] & (serv[1:] == serv[:-1])
            d2[serv[second]] = self.cost[idx[second]]
        return d1, p1, d2

    def value(self, open_: NDArray[np.bool_]) -> float:
        """Present cost of the plan that keeps ``open_`` and serves each service from
        its cheapest open candidate (inf when a service has none or a rule breaks)."""
        if not self.allowed(open_):
            return float("inf")
        d1, p1, _ = self.nearest(open_)
        if (p1 < 0).any():
            return float("inf")
        return float(self.constant + self.fixed[open_].sum() + d1.sum())

    def allowed(self, open_: NDArray[np.bool_]) -> bool:
        count = int(open_.sum())
        return bool(
            (open_ | ~self.forced_open).all()
            and not (open_ & self.forced_closed).any()
            and self.count_lo <= count <= self.count_hi
        )

    def restricted(self, fixed: Fixings) -> FacilityView:
        """The same problem over the plans ``fixed`` leaves: shut buildings closed, kept
        ones open, and candidates dearer than a service may cost gone (a service keeps
        at least its cheapest candidate)."""
        keep = self.cost <= fixed.dearest[self.service]
        keep[self.start[:-1][np.diff(self.start) > 0]] = True
        index = np.flatnonzero(keep)
        service = self.service[index]
        return FacilityView(
            self.n_services,
            self.n_sites,
            self.constant,
            self.fixed,
            np.searchsorted(service, np.arange(self.n_services + 1)).astype(np.int64),
            service,
            self.site[index],
            self.cost[index],
            self.pair[index],
            self.forced_open | fixed.open,
            self.forced_closed | fixed.shut,
            self.count_lo,
            self.count_hi,
        )

    def has_pairs(self) -> NDArray[np.bool_]:
        """Services with candidates in this view (the others belong to another model)."""
        return np.asarray(np.diff(self.start) > 0, dtype=bool)

    def assignment(self, open_: NDArray[np.bool_]) -> NDArray[np.int64]:
        """The pair (in the caller's numbering) of each service of the view to its
        cheapest open candidate: home first among equal costs, then the lowest building
        index.  Raises ``ValueError`` when one has no open candidate."""
        _, p1, _ = self.nearest(open_)
        mine = self.has_pairs()
        if (p1[mine] < 0).any():
            raise ValueError("a service has no open candidate")
        return np.asarray(self.pair[p1[mine]], dtype=np.int64)

    def greedy(self, deadline: float) -> NDArray[np.bool_] | None:
        """Open buildings one at a time, the one that lowers the cost most first, until
        the count's lower limit is reached and no opening pays (or the upper limit)."""
        open_ = self.forced_open.copy()
        may_open = ~self.forced_open & ~self.forced_closed
        while time.perf_counter() < deadline:
            count = int(open_.sum())
            if count >= self.count_hi:
                break
            d1, _, _ = self.nearest(open_)
            gain = self._gains(d1)
            gain[~may_open | open_] = -np.inf
            best = int(np.argmax(gain))
            if not np.isfinite(gain[best]):
                break
            if count >= self.count_lo and gain[best] <= REL_TOL * max(1.0, float(d1.sum())):
                break
            open_[best] = True
        return open_ if np.isfinite(self.value(open_)) else None

    def local_search(self, open_: NDArray[np.bool_], deadline: float) -> NDArray[np.bool_]:
        """Best-improvement local search over adding, dropping and exchanging one
        building, until no move pays or the deadline passes."""
        open_ = open_.copy()
        may_change = ~self.forced_open & ~self.forced_closed
        while time.perf_counter() < deadline:
            move = self._best_move(open_, may_change)
            if move is None:
                break
            add, drop = move
            if add >= 0:
                open_[add] = True
            if drop >= 0:
                open_[drop] = False
        return open_

    def _best_move(
        self, open_: NDArray[np.bool_], may_change: NDArray[np.bool_]
    ) -> tuple[int, int] | None:
        d1, p1, d2 = self.nearest(open_)
        total = float(self.fixed[open_].sum() + d1.sum())
        tol = REL_TOL * max(1.0, abs(total)) + 1e-9
        count = int(open_.sum())
        # Adding building i: every service it would serve more cheaply gains.
        gain = self._gains(d1)
        # Dropping building j: its services fall back to their second cheapest.
        phi = np.where(p1 >= 0, self.site[np.maximum(p1, 0)], -1)
        served = phi >= 0
        loss = _sums(phi[served], (d2 - d1)[served], self.n_sites) - self.fixed
        can_add = may_change & ~open_
        can_drop = may_change & open_
        best, move = tol, None
        if count < self.count_hi and can_add.any():
            i = int(np.argmax(np.where(can_add, gain, -np.inf)))
            if gain[i] > best:
                best, move = float(gain[i]), (i, -1)
        if count > self.count_lo and can_drop.any():
            j = int(np.argmax(np.where(can_drop, -loss, -np.inf)))
            if -loss[j] > best:
                best, move = float(-loss[j]), (-1, j)
        opened = np.flatnonzero(can_drop)
        if can_add.any() and len(opened) and self.n_sites * len(opened) <= MAX_SWAP_TABLE:
            column = np.full(self.n_sites, -1, dtype=np.int64)
            column[opened] = np.arange(len(opened))
            s = self.service
            j_of = column[np.maximum(phi[s], 0)]
            use = (j_of >= 0) & (self.cost < d2[s]) & (self.site != phi[s])
            extra = np.bincount(
                self.site[use] * len(opened) + j_of[use],
                weights=d2[s[use]] - np.maximum(d1[s[use]], self.cost[use]),
                minlength=self.n_sites * len(opened),
            ).reshape(self.n_sites, len(opened))
            delta = gain[:, None] - loss[opened][None, :] + extra
            delta[~can_add, :] = -np.inf
            flat = int(np.argmax(delta))
            i, k = divmod(flat, len(opened))
            if delta[i, k] > best:
                best, move = float(delta[i, k]), (i, int(opened[k]))
        return move

    def _gains(self, d1: NDArray[np.float64]) -> NDArray[np.float64]:
        """What opening each building would save: its services' cheaper costs, less its
        own cost."""
        better = np.maximum(0.0, d1[self.service] - self.cost)
        return _sums(self.site, better, self.n_sites) - self.fixed

    def heuristic(self, deadline: float) -> NDArray[np.bool_] | None:
        """Greedy opening then local search: a plan, or None when none was found."""
        open_ = self.greedy(deadline)
        if open_ is None:
            return None
        return self.local_search(open_, deadline)

    # --- the Lagrangian bound ------------------------------------------------------

    def lagrangian(
        self,
        upper: float,
        lam: NDArray[np.float64] | None,
        deadline: float,
        max_iterations: int = 400,
    ) -> LagrangeBound:
        """Subgradient steps on the Lagrangian of "each service served once".

        ``upper`` is a known plan's cost (the Polyak step aims at it); ``lam`` the
        starting multipliers (default: each service's second cheapest candidate
        cost).  Returns the best bound found, with its multipliers and what it says
        about each building.
        """
        if lam is None:
            # Each service's second cheapest candidate cost (its only one if alone).
            second = np.minimum(self.start[:-1] + 1, self.start[1:] - 1)
            has = self.has_pairs()
            lam = np.zeros(self.n_services)
            lam[has] = self.cost[second[has]]
        lam = np.asarray(lam, dtype=float).copy()
        best = self.evaluate_multipliers(lam)
        theta, stale = 2.0, 0
        for _ in range(max_iterations):
            if time.perf_counter() > deadline:
                break
            current = self.evaluate_multipliers(lam)
            if current.value > best.value + REL_TOL * max(1.0, abs(best.value)):
                best, stale = current, 0
            else:
                stale += 1
                if stale >= 20:
                    theta, stale = theta / 2.0, 0
            if theta < 1e-4 or best.value >= upper - REL_TOL * max(1.0, abs(upper)):
                break
            g = current.subgradient
            norm = float(g @ g)
            if norm == 0.0:
                best = current if current.value > best.value else best
                break
            step = theta * max(upper - current.value, 1e-9 * max(1.0, abs(upper))) / norm
            lam = lam + step * g
        return best

    def evaluate_multipliers(self, lam: NDArray[np.float64]) -> LagrangeBound:
        """The Lagrangian's value at ``lam``, its solution and its subgradient."""
        reduced = np.minimum(0.0, self.cost - lam[self.service])
        rho = self.fixed + _sums(self.site, reduced, self.n_sites)
        picked, add_cost, drop_cost = pick_buildings(
            rho, self.forced_open, self.forced_closed, self.count_lo, self.count_hi
        )
        value = self.constant + float(lam.sum()) + float(rho[picked].sum())
        served = picked[self.site] & (reduced < 0.0)
        g = 1.0 - np.bincount(self.service[served], minlength=self.n_services)
        return LagrangeBound(value, lam, rho, picked, add_cost, drop_cost, g.astype(float))


def _sums(index: NDArray[np.int64], weights: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    return np.asarray(np.bincount(index, weights=weights, minlength=n), dtype=float)


def level_starts(service: NDArray[np.int64], cost: NDArray[np.float64]) -> NDArray[np.bool_]:
    """For pairs sorted by service then cost: True where a new (service, cost) level
    starts."""
    if not len(cost):
        return np.zeros(0, dtype=bool)
    return np.r_[True, (service[1:] != service[:-1]) | (cost[1:] != cost[:-1])]


@dataclass(frozen=True)
class LagrangeBound:
    """The Lagrangian at one set of multipliers.

    ``value`` is a lower bound on every plan's cost; ``picked`` the buildings its
    subproblem opens; ``add_cost[b]`` / ``drop_cost[b]`` how much the bound rises if
    b is forced open / shut (inf where that is impossible).
    """

    value: float
    lam: NDArray[np.float64]
    rho: NDArray[np.float64]
    picked: NDArray[np.bool_]
    add_cost: NDArray[np.float64]
    drop_cost: NDArray[np.float64]
    subgradient: NDArray[np.float64]


def pick_buildings(
    rho: NDArray[np.float64],
    forced_open: NDArray[np.bool_],
    forced_closed: NDArray[np.bool_],
    count_lo: int,
    count_hi: int,
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """The cheapest set of buildings by ``rho`` within the rules, and what forcing each
    building in or out of it would add.

    Forced-open buildings are always in, forced-closed never; of the others the
    cheapest are taken until ``count_lo`` is reached, then every one with a negative
    ``rho`` while ``count_hi`` allows.
    """
    n = len(rho)
    inf = np.inf
    picked = forced_open.copy()
    optional = np.flatnonzero(~forced_open & ~forced_closed)
    order = optional[np.argsort(rho[optional], kind="stable")]
    fixed_in = int(forced_open.sum())
    need = max(0, count_lo - fixed_in)
    room = max(0, count_hi - fixed_in)
    negative = int((rho[order] < 0).sum())
    q = min(max(need, negative), room, len(order))
    picked[order[:q]] = True
    add_cost = np.full(n, inf)
    drop_cost = np.full(n, inf)
    last = rho[order[q - 1]] if q >= 1 else None
    following = rho[order[q]] if q < len(order) else None
    # Forcing a building in: it joins, and the dearest optional one leaves if the count
    # is full (or may leave if it is there only to reach the lower limit).
    out_gain = 0.0
    can_add = True
    if q >= room:
        if q >= 1 and last is not None:
            out_gain = float(last)
        else:
            can_add = False
    elif q >= 1 and q <= need and last is not None:
        out_gain = max(0.0, float(last))
    if can_add:
        rest = order[q:]
        add_cost[rest] = rho[rest] - out_gain
    # Forcing a picked optional building out: the next one joins if the count needs it
    # (or if it pays, and there is room).
    if q >= 1:
        if following is None:
            in_cost = inf if q <= need else 0.0
        elif q <= need:
            in_cost = float(following)
        else:
            in_cost = min(0.0, float(following))
        chosen = order[:q]
        drop_cost[chosen] = in_cost - rho[chosen]
    add_cost[picked] = 0.0
    drop_cost[~picked] = 0.0
    drop_cost[forced_open] = inf
    add_cost[forced_closed] = inf
    return picked, np.maximum(add_cost, 0.0), np.maximum(drop_cost, 0.0)


@dataclass(frozen=True)
class Fixings:
    """What a Lagrangian bound and a plan's cost say about every better plan.

    ``shut``/``open`` are buildings no better plan keeps / disposes of; ``dearest[s]``
    the most service s can cost in a better plan (so dearer candidates can go) -- see
    :func:`fixings`.
    """

    shut: NDArray[np.bool_]
    open: NDArray[np.bool_]
    dearest: NDArray[np.float64]  # per service: the most it can cost in a better plan

    def __and__(self, other: Fixings) -> Fixings:
        """Both sets of conclusions at once."""
        return Fixings(
            self.shut | other.shut, self.open | other.open, np.minimum(self.dearest, other.dearest)
        )


def fixings(view: FacilityView, bound: LagrangeBound, upper: float, tol: float) -> Fixings:
    """Buildings and levels that no plan cheaper than ``upper`` (less ``tol``) can use.

    A building is shut when forcing it open lifts the bound above ``upper`` (and kept
    when forcing it shut does).  A service served at cost ``D`` or more in some plan
    pays at least ``bound + sum over picked buildings b with c_sb < D of
    min(max(0, lam_s - c_sb), drop_cost[b])``: each such b either stays open and loses
    the service's contribution, or is shut at its drop cost.  The first ``D`` that
    lifts this above ``upper`` is out of reach, so the service is served below it.
    """
    limit = upper + tol
    shut = bound.value + bound.add_cost > limit
    open_ = bound.value + bound.drop_cost > limit
    lam = bound.lam[view.service]
    weight = np.where(
        bound.picked[view.site],
        np.minimum(np.maximum(0.0, lam - view.cost), bound.drop_cost[view.site]),
        0.0,
    )
    # Cumulative over each service's candidates (cheapest first): the bound of serving
    # the service at the *next* candidate's cost or more includes every cheaper one.
    csum = np.cumsum(weight)
    before = np.r_[0.0, csum][view.start[view.service]]
    through = csum - before  # weight of this pair and every cheaper candidate
    dearest = np.full(view.n_services, np.inf)
    # A service served at the cost of candidate p or more has every cheaper candidate
    # (strictly) shut or not serving it; pairs of equal cost go together.
    cheaper = _strictly_cheaper_weight(view, through)
    beyond = bound.value + cheaper > limit
    if beyond.any():
        first = np.full(view.n_services, len(view.cost), dtype=np.int64)
        idx = np.flatnonzero(beyond)
        np.minimum.at(first, view.service[idx], idx)
        has = first < len(view.cost)
        # Served below the cost of the first out-of-reach candidate.
        dearest[has] = np.nextafter(view.cost[first[has]], -np.inf)
    return Fixings(shut & ~view.forced_open, open_ & ~view.forced_closed, dearest)


def _strictly_cheaper_weight(
    view: FacilityView, through: NDArray[np.float64]
) -> NDArray[np.float64]:
    """For each pair, the summed weight of its service's candidates strictly cheaper."""
    out = np.zeros(len(view.cost))
    if not len(view.cost):
        return out
    # The first pair of each run of equal (service, cost) starts a new level; the
    # weight strictly below a level is the running sum just before its first pair.
    new_level = np.r_[
        True, (view.service[1:] != view.service[:-1]) | (view.cost[1:] != view.cost[:-1])
    ]
    level_start = np.maximum.accumulate(np.where(new_level, np.arange(len(view.cost)), 0))
    before_start = np.where(
        level_start > view.start[view.service], through[np.maximum(level_start - 1, 0)], 0.0
    )
    out[:] = before_start
    return out
