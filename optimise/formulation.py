"""The MILP of MODEL.md section 4 as arrays: objective, bounds and a sparse row matrix.

The formulation is built with numpy, once; solver back-ends (PuLP, HiGHS directly,
CBC) only translate it.  Variables, in column order:

``keep[b]``          binary, 1 = the building is kept
``assign[s,b]``      one per candidate pair (see :mod:`optimise.candidates`); binary,
                     or in [0,1] for a ``divisible`` service
``present[k,b]``     in [0,1], a service of public-facing type k is in building b
``covered[k,z]``     in [0,1], zone z is within the standard of type k
``agency_in[a,b]``   binary, agency a has a service in b (only where an exclusive
                     service could be in b)
``late[b,L]``        in [0,1], building b is vacated only after an L-year fit-out
                     elsewhere (one a lead time among the moves out of b)

Rows are named (``capacity[B001]``, ``space[B001,clinical]``, ``access[library]``,
``increase[gp,walk,E01000001]`` ...) so that an infeasible model can be explained in
the register's own words.

Timing within the single period: every move happens in year 1, except a move into
space that must first be fitted out (lead time L years), which happens in year L + 1.
Such a move is only open to a service whose building is disposed of (it waits there,
so the building is held until then: ``late[b,L]`` prices that, exactly).  Occupancy
costs (:mod:`optimise.space`) follow each service: at its home until it moves, at its
new building after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from optimise.candidates import candidate_pairs, pair_leads
from optimise.finance import (
    DILAPIDATIONS,
    OCCUPANCY,
    building_cash_flows,
    discount_factors,
    exit_year_after,
    instance_cash_flows,
    lease_event_years,
    move_costs,
    present_value,
)
from optimise.instance import EstateInstance
from optimise.settings import AccessStandard

INF = float("inf")
ACCESS_TOL_MINUTES = 1e-9


@dataclass(frozen=True)
class LinearProgram:
    """min c.x + constant  s.t.  row_lo <= A x <= row_hi,  col_lo <= x <= col_hi."""

    c: NDArray[np.float64]
    constant: float
    matrix: sparse.csr_matrix
    row_lo: NDArray[np.float64]
    row_hi: NDArray[np.float64]
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    integer: NDArray[np.bool_]
    col_names: list[str]
    row_names: list[str]

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.row_lo), len(self.c))


@dataclass
class _Rows:
    """Accumulates constraint rows as COO triplets."""

    rows: list[NDArray[np.int64]] = field(default_factory=list)
    cols: list[NDArray[np.int64]] = field(default_factory=list)
    vals: list[NDArray[np.float64]] = field(default_factory=list)
    lo: list[NDArray[np.float64]] = field(default_factory=list)
    hi: list[NDArray[np.float64]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.names)

    def add(
        self,
        names: list[str],
        row: NDArray[np.int64],
        col: NDArray[np.int64],
        val: NDArray[np.float64] | float,
        lo: NDArray[np.float64] | float,
        hi: NDArray[np.float64] | float,
    ) -> None:
        """Add ``len(names)`` rows; ``row`` indexes within this block (0-based)."""
        n = len(names)
        row = np.asarray(row, dtype=np.int64)
        self.rows.append(row + self.count)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.broadcast_to(np.asarray(val, dtype=float), row.shape).copy())
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (n,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (n,)).copy())
        self.names.extend(names)

    def matrix(self, n_cols: int) -> sparse.csr_matrix:
        def cat(parts: list[NDArray], dtype: type) -> NDArray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        coo = sparse.coo_matrix(
            (cat(self.vals, float), (cat(self.rows, np.int64), cat(self.cols, np.int64))),
            shape=(self.count, n_cols),
        )
        return coo.tocsr()


@dataclass
class _Columns:
    """Accumulates columns: cost, bounds, integrality and names."""

    c: list[NDArray[np.float64]] = field(default_factory=list)
    lo: list[NDArray[np.float64]] = field(default_factory=list)
    hi: list[NDArray[np.float64]] = field(default_factory=list)
    integer: list[NDArray[np.bool_]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def add(
        self,
        names: list[str],
        cost: NDArray[np.float64] | float = 0.0,
        lo: NDArray[np.float64] | float = 0.0,
        hi: NDArray[np.float64] | float = 1.0,
        integer: NDArray[np.bool_] | bool = False,
    ) -> NDArray[np.int64]:
        """Add columns; returns their indices."""
        n = len(names)
        start = len(self.names)
        self.c.append(np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy())
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (n,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (n,)).copy())
        self.integer.append(np.broadcast_to(np.asarray(integer, dtype=bool), (n,)).copy())
        self.names.extend(names)
        return np.arange(start, start + n, dtype=np.int64)

    @property
    def count(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class AccessBlock:
    """Columns of one access standard's share rule, for warm starts and diagnosis.

    (The max-increase rule needs no rows: candidate pruning keeps it, service by
    service; see :func:`optimise.candidates.users_follow`.)
    """

    service_type: str
    present_col: NDArray[np.int64]
    present_building: NDArray[np.int64]
    covered_col: NDArray[np.int64]
    covered_zone: NDArray[np.int64]
    reach: sparse.csr_matrix  # covered zone x present building, 1 = within the standard


@dataclass(frozen=True)
class LateBlock:
    """``late[b,L]`` columns: building ``building[i]`` waits for an ``lead[i]``-year
    fit-out elsewhere before it is vacated (its exit then falls in ``exit_year[i]``)."""

    col: NDArray[np.int64]
    building: NDArray[np.int64]
    lead: NDArray[np.int64]
    exit_year: NDArray[np.int64]


@dataclass(frozen=True)
class Formulation:
    """The LP plus the maps from columns back to the instance."""

    lp: LinearProgram
    keep_col: NDArray[np.int64]
    pair_service: NDArray[np.int64]
    pair_building: NDArray[np.int64]
    pair_col: NDArray[np.int64]
    access_types: list[str]
    access_blocks: list[AccessBlock]
    agency_cols: dict[tuple[str, int], int]
    baseline_share: dict[str, float]
    target_share: dict[str, float]
    keep_cost: NDArray[np.float64]
    dispose_cost: NDArray[np.float64]
    move_cost: NDArray[np.float64]
    link_rows: NDArray[np.int64]  # strong linking rows: valid cuts, may be added lazily
    pair_lead: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pair_convert: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    late: LateBlock | None = None
    once_rows: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    weak_link_rows: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    keep_count_row: int | None = None
    home: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    capacity_rows: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    space_rows: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def pair_index(self, service: int, building: int) -> int | None:
        """Position of the pair (service, building) in the pair arrays, if a candidate."""
        lo = int(np.searchsorted(self.pair_service, service, side="left"))
        hi = int(np.searchsorted(self.pair_service, service, side="right"))
        at = np.flatnonzero(self.pair_building[lo:hi] == building)
        return lo + int(at[0]) if len(at) else None

    def likely_links(self, per_service: int = 4) -> NDArray[np.bool_]:
        """Link rows worth having from the start: each service's cheapest candidates,
        which the LP relaxation tends to use (row i of ``link_rows`` is pair i)."""
        cost = self.lp.c[self.pair_col]
        order = np.lexsort((cost, self.pair_service))
        first = np.searchsorted(self.pair_service[order], self.pair_service[order], side="left")
        rank = np.arange(len(order)) - first
        keep = np.zeros(len(order), dtype=bool)
        keep[order[rank < per_service]] = True
        return keep


def reachable(minutes: NDArray[np.float64], max_minutes: float) -> NDArray[np.bool_]:
    """Zone x building mask of travel times within a standard."""
    return minutes <= max_minutes + ACCESS_TOL_MINUTES


def within_standard(
    instance: EstateInstance, standard: AccessStandard, hosts: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Zone x ``hosts`` mask: within the standard's minutes by any of its modes."""
    out = np.zeros((len(instance.zones), len(hosts)), dtype=bool)
    for mode, minutes in standard.thresholds().items():
        out |= reachable(instance.travel[mode].minutes[:, hosts], minutes)
    return out


def baseline_access_share(
    instance: EstateInstance, service_type: str, home: NDArray[np.int64]
) -> float:
    """Share of weighted population within the standard of ``service_type`` today."""
    standard = instance.access[service_type]
    weight = instance.zone_weight()
    is_type = (instance.services["service_type"] == service_type).to_numpy()
    hosts = np.unique(home[is_type])
    within = within_standard(instance, standard, hosts)
    total = weight.sum()
    return float(weight[within.any(axis=1)].sum() / total) if total > 0 else 1.0


def one_off_costs(instance: EstateInstance) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Undiscounted one-off costs a capital budget pays for.

    Returns (moving each service, with optimism bias; exiting each building:
    dilapidations falling inside the horizon, at the single-period exit).
    """
    flows = building_cash_flows(instance.buildings, instance.finance)
    return move_costs(instance.services, instance.finance), flows.dispose[:, DILAPIDATIONS].sum(
        axis=1
    )


def conversion_costs(
    instance: EstateInstance, pair_s: NDArray[np.int64], pair_b: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Undiscounted one-off cost of fitting out the space each pair's service needs in
    its building (0 where none is needed), with optimism bias: m2 x cost per m2."""
    space = instance.spaces
    _, convert = pair_leads(instance, pair_s, pair_b)
    _, _, cost = space.conversion_arrays()
    per_m2 = cost[pair_b, space.need_type[pair_s]]
    uplift = 1.0 + instance.finance.optimism_bias
    return np.where(convert, space.floor_m2[pair_s] * per_m2 * uplift, 0.0)


def pair_costs(
    instance: EstateInstance, pair_s: NDArray[np.int64], pair_b: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Present cost of placing each pair's service in its building: the move (in year 1,
    or after the fit-out's lead time), the fit-out, the service's occupancy costs over
    the horizon (at home until it moves) and any placement cost."""
    finance = instance.finance
    discount = discount_factors(finance)
    cumulative = np.cumsum(discount)
    horizon = finance.horizon_years
    space = instance.spaces
    home = instance.home_index()[pair_s]
    lead, _ = pair_leads(instance, pair_s, pair_b)
    arrive = 1 + lead
    moved = pair_b != home
    move = move_costs(instance.services, finance)[pair_s]
    at = np.minimum(arrive, horizon)
    cost = np.where(moved, move * discount[at], 0.0)
    cost = cost + conversion_costs(instance, pair_s, pair_b) * discount[1]
    before = cumulative[np.minimum(arrive - 1, horizon)] - cumulative[0]  # years 1..arrive-1
    after = cumulative[horizon] - cumulative[np.minimum(arrive - 1, horizon)]  # arrive..H
    floor = space.floor_m2[pair_s]
    cost = cost + floor * (
        space.occupancy_rate[home] * before + space.occupancy_rate[pair_b] * after
    )
    if instance.assignment_cost is not None:
        cost = cost + instance.assignment_cost[pair_s, pair_b] * discount[1]
    return np.asarray(cost, dtype=float)


def late_exits(
    instance: EstateInstance, leads: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """For each lead time in ``leads`` (shape L) and building: the exit year if it is
    vacated after that lead (year lead + 1), the present cost of disposing of it so,
    and its dilapidations inside the horizon; arrays of shape (L, buildings)."""
    b = instance.buildings
    finance = instance.finance
    discount = discount_factors(finance)
    events = [
        lease_event_years(t, brk, end, finance)
        for t, brk, end in zip(b["tenure"], b["lease_break"], b["lease_end"], strict=True)
    ]
    exits, pv, dilaps = [], [], []
    for lead in leads:
        years = np.array(
            [exit_year_after(e, int(lead) + 1, finance) for e in events], dtype=np.int64
        )
        flows = instance_cash_flows(instance, years)
        exits.append(years)
        pv.append(present_value(flows.dispose.sum(axis=1), discount))
        dilaps.append(flows.dispose[:, DILAPIDATIONS].sum(axis=1))
    n = len(b)
    if not len(leads):
        return np.zeros((0, n), dtype=np.int64), np.zeros((0, n)), np.zeros((0, n))
    return np.asarray(exits), np.asarray(pv), np.asarray(dilaps)


def formulate(instance: EstateInstance) -> Formulation:
    """Build the MILP of MODEL.md section 4 for ``instance``."""
    b = instance.buildings
    s = instance.services
    policy = instance.policy
    n_b = len(b)
    discount = discount_factors(instance.finance)
    flows = instance_cash_flows(instance)
    fixed_keep = flows.keep.copy()
    fixed_keep[:, OCCUPANCY, :] = 0.0  # occupancy costs follow the services (pair costs)
    keep_cost = present_value(fixed_keep.sum(axis=1), discount)
    dispose_cost = present_value(flows.dispose.sum(axis=1), discount)
    move_cost = move_costs(s, instance.finance) * discount[1]
    home = instance.home_index()
    pair_s, pair_b = candidate_pairs(instance)
    pair_lead, pair_convert = pair_leads(instance, pair_s, pair_b)
    b_ids = instance.building_ids
    s_ids = instance.service_ids
    cols = _Columns()
    rows = _Rows()

    keep_lo = instance.forced_keep().astype(float)
    keep_hi = np.where(b["building_id"].isin(policy.force_dispose).to_numpy(), 0.0, 1.0)
    keep_col = cols.add(
        [f"keep[{x}]" for x in b_ids], keep_cost - dispose_cost, keep_lo, keep_hi, True
    )
    pair_cost = pair_costs(instance, pair_s, pair_b)
    divisible = _flag(s, "divisible")
    pair_col = cols.add(
        [f"assign[{s_ids[i]},{b_ids[j]}]" for i, j in zip(pair_s, pair_b, strict=True)],
        pair_cost,
        0.0,
        1.0,
        ~divisible[pair_s],
    )
    n_p = len(pair_s)

    # Each service in exactly one building.
    once_rows = np.arange(rows.count, rows.count + len(s_ids), dtype=np.int64)
    rows.add([f"assign_once[{x}]" for x in s_ids], pair_s, pair_col, 1.0, 1.0, 1.0)
    # Capacity: desks in b <= capacity x utilisation x keep[b].  Where every candidate
    # service together fits, the linking rows already imply it: leave it out.
    desks = s["desks"].to_numpy(dtype=float)
    cap = b["capacity_desks"].to_numpy(dtype=float) * policy.utilisation
    demand = np.bincount(pair_b, weights=desks[pair_s], minlength=n_b)
    binding = demand > cap + 1e-9
    on_pair = binding[pair_b]
    capacity_rows = np.arange(rows.count, rows.count + int(binding.sum()), dtype=np.int64)
    rows.add(
        [f"capacity[{x}]" for x, bind in zip(b_ids, binding, strict=True) if bind],
        np.concatenate([np.cumsum(binding)[pair_b[on_pair]] - 1, np.cumsum(binding)[binding] - 1]),
        np.concatenate([pair_col[on_pair], keep_col[binding]]),
        np.concatenate([desks[pair_s[on_pair]], -cap[binding]]),
        -INF,
        0.0,
    )
    if binding.any():
        # Every desk is somewhere kept: the kept buildings hold all the desks between
        # them.  Implied by the capacity rows (and, where none binds, by the candidates'
        # desks fitting), but not by their LP relaxation: it lifts the LP bound where
        # capacity is scarce (OR-Library capa: proven optimal in 71 s, not in 300 s).
        rows.add(
            ["desks_kept"],
            np.zeros(n_b, dtype=np.int64),
            keep_col,
            cap,
            float(desks.sum()),
            INF,
        )
    before_space = rows.count
    _space_rows(instance, pair_s, pair_b, pair_col, pair_convert, keep_col, rows)
    space_rows = np.arange(before_space, rows.count, dtype=np.int64)
    # Weak linking where no capacity row binds: sum of assign[., b] <= count x keep[b].
    # It keeps every integer solution valid on its own, so the strong rows below may be
    # handed to the solver as cuts, only where the LP breaks them (row generation).
    loose = ~binding
    n_cand = np.bincount(pair_b, minlength=n_b).astype(float)
    loose_pair = loose[pair_b]
    loose_rank = np.cumsum(loose) - 1
    weak_link_rows = np.arange(rows.count, rows.count + int(loose.sum()), dtype=np.int64)
    rows.add(
        [f"weak_link[{x}]" for x, lo_ in zip(b_ids, loose, strict=True) if lo_],
        np.concatenate([loose_rank[pair_b[loose_pair]], loose_rank[loose]]),
        np.concatenate([pair_col[loose_pair], keep_col[loose]]),
        np.concatenate([np.ones(int(loose_pair.sum())), -n_cand[loose]]),
        -INF,
        0.0,
    )
    # Strong linking: assign[s,b] <= keep[b].
    first_link = rows.count
    rows.add(
        [f"link[{s_ids[i]},{b_ids[j]}]" for i, j in zip(pair_s, pair_b, strict=True)],
        np.concatenate([np.arange(n_p), np.arange(n_p)]),
        np.concatenate([pair_col, keep_col[pair_b]]),
        np.concatenate([np.ones(n_p), -np.ones(n_p)]),
        -INF,
        0.0,
    )
    link_rows = np.arange(first_link, rows.count, dtype=np.int64)
    late = _late_block(instance, pair_s, pair_b, pair_col, pair_lead, home, keep_col, cols, rows)
    access_types = sorted(k for k, v in instance.access.items() if v.has_share_rule)
    blocks, baseline_share, target_share = [], {}, {}
    for k in access_types:
        baseline_share[k] = baseline_access_share(instance, k, home)
        target_share[k] = instance.access[k].target_share(baseline_share[k])
        blocks.append(
            _access_rows(instance, k, target_share[k], pair_s, pair_b, pair_col, cols, rows)
        )
    agency_cols = _exclusivity(instance, pair_s, pair_b, pair_col, cols, rows)
    before_count = rows.count
    _cardinality_rows(instance, keep_col, rows)
    keep_count_row = before_count if rows.count > before_count else None
    _budget_rows(instance, pair_s, pair_b, pair_col, home, keep_col, late, rows)

    lp = LinearProgram(
        c=np.concatenate(cols.c),
        constant=float(dispose_cost.sum()),
        matrix=rows.matrix(cols.count),
        row_lo=np.concatenate(rows.lo),
        row_hi=np.concatenate(rows.hi),
        col_lo=np.concatenate(cols.lo),
        col_hi=np.concatenate(cols.hi),
        integer=np.concatenate(cols.integer),
        col_names=cols.names,
        row_names=rows.names,
    )
    return Formulation(
        lp=lp,
        keep_col=keep_col,
        pair_service=pair_s,
        pair_building=pair_b,
        pair_col=pair_col,
        access_types=access_types,
        access_blocks=blocks,
        agency_cols=agency_cols,
        baseline_share=baseline_share,
        target_share=target_share,
        keep_cost=keep_cost,
        dispose_cost=dispose_cost,
        move_cost=move_cost,
        link_rows=link_rows,
        pair_lead=pair_lead,
        pair_convert=pair_convert,
        late=late,
        once_rows=once_rows,
        weak_link_rows=weak_link_rows,
        keep_count_row=keep_count_row,
        home=home,
        capacity_rows=capacity_rows,
        space_rows=space_rows,
    )


def _space_rows(
    instance: EstateInstance,
    pair_s: NDArray[np.int64],
    pair_b: NDArray[np.int64],
    pair_col: NDArray[np.int64],
    pair_convert: NDArray[np.bool_],
    keep_col: NDArray[np.int64],
    rows: _Rows,
) -> None:
    """Floor area by space type: in each ruled building b and space type t it has,
    m2 of services needing t, plus m2 fitted out of t for services needing another
    type, <= area[b,t] x keep[b].  Rows only where the candidates could overfill it."""
    space = instance.spaces
    floor = space.floor_m2[pair_s]
    need = space.need_type[pair_s]
    source = need.copy()
    for o in space.conversions:
        at = pair_convert & (pair_b == o.building) & (need == o.to)
        source[at] = o.source
    use = space.ruled[pair_b] & (floor > 0)
    n_t = space.area_m2.shape[1]
    key = pair_b[use] * n_t + source[use]
    demand = np.bincount(key, weights=floor[use], minlength=len(space.ruled) * n_t)
    area = space.area_m2.reshape(-1)
    binding = np.flatnonzero(demand > area + 1e-6)
    if not len(binding):
        return
    rank = np.full(len(area), -1, dtype=np.int64)
    rank[binding] = np.arange(len(binding))
    on = use.copy()
    on[use] = rank[key] >= 0
    b_of = binding // n_t
    names = [f"space[{instance.building_ids[x // n_t]},{space.types[x % n_t]}]" for x in binding]
    rows.add(
        names,
        np.concatenate([rank[pair_b[on] * n_t + source[on]], np.arange(len(binding))]),
        np.concatenate([pair_col[on], keep_col[b_of]]),
        np.concatenate([floor[on], -area[binding]]),
        -INF,
        0.0,
    )


def _late_block(
    instance: EstateInstance,
    pair_s: NDArray[np.int64],
    pair_b: NDArray[np.int64],
    pair_col: NDArray[np.int64],
    pair_lead: NDArray[np.int64],
    home: NDArray[np.int64],
    keep_col: NDArray[np.int64],
    cols: _Columns,
    rows: _Rows,
) -> LateBlock | None:
    """``late[h,L]`` = 1 when a service leaves h for space fitted out over L years or
    more: h is then vacated in year L + 1 at the earliest, and its exit is priced from
    there (the cost is the extra over leaving in year 1, step by step in L).  A service
    that waits for a fit-out must leave a building that goes (``late[h,L1] + keep[h]
    <= 1``): a kept building never holds it and newcomers at once."""
    waiting = pair_lead > 0
    if not waiting.any():
        return None
    b_ids = instance.building_ids
    s_ids = instance.service_ids
    origin = home[pair_s]
    leads = np.unique(pair_lead[waiting])
    exits, pv, _ = late_exits(instance, leads)
    dispose = present_value(
        instance_cash_flows(instance).dispose.sum(axis=1), discount_factors(instance.finance)
    )
    col_b, col_l, col_exit, col_cost, names = [], [], [], [], []
    for h in np.unique(origin[waiting]):
        mine = leads[leads <= pair_lead[waiting & (origin == h)].max()]
        previous = dispose[h]
        for lead in mine:
            at = int(np.searchsorted(leads, lead))
            col_b.append(int(h))
            col_l.append(int(lead))
            col_exit.append(int(exits[at, h]))
            col_cost.append(float(pv[at, h] - previous))
            previous = pv[at, h]
            names.append(f"late[{b_ids[h]},{int(lead)}]")
    late_col = cols.add(names, np.asarray(col_cost))
    block = LateBlock(
        late_col,
        np.asarray(col_b, dtype=np.int64),
        np.asarray(col_l, dtype=np.int64),
        np.asarray(col_exit, dtype=np.int64),
    )
    # late >= assign for each waiting move; late <= sum of those moves (so it is exact).
    r_names: list[str] = []
    o_names: list[str] = []
    r_rows, r_cols, r_vals = [], [], []
    o_rows, o_cols, o_vals = [], [], []
    for c, h, lead in zip(block.col, block.building, block.lead, strict=True):
        moves = np.flatnonzero(waiting & (origin == h) & (pair_lead >= lead))
        for p in moves:
            r = len(r_names)
            r_names.append(f"late_link[{s_ids[pair_s[p]]},{b_ids[pair_b[p]]},{lead}]")
            r_rows += [r, r]
            r_cols += [int(pair_col[p]), int(c)]
            r_vals += [1.0, -1.0]
        r = len(o_names)
        o_names.append(f"late_only[{b_ids[h]},{lead}]")
        o_rows += [r] * (1 + len(moves))
        o_cols += [int(c), *pair_col[moves].tolist()]
        o_vals += [1.0] + [-1.0] * len(moves)
    rows.add(r_names, np.array(r_rows), np.array(r_cols), np.array(r_vals), -INF, 0.0)
    rows.add(o_names, np.array(o_rows), np.array(o_cols), np.array(o_vals), -INF, 0.0)
    first = np.flatnonzero(np.r_[True, block.building[1:] != block.building[:-1]])
    rows.add(
        [f"fit_out_first[{b_ids[h]}]" for h in block.building[first]],
        np.concatenate([np.arange(len(first)), np.arange(len(first))]),
        np.concatenate([block.col[first], keep_col[block.building[first]]]),
        1.0,
        -INF,
        1.0,
    )
    return block


def _flag(table: pd.DataFrame, column: str) -> NDArray[np.bool_]:
    if column not in table.columns:
        return np.zeros(len(table), dtype=bool)
    return table[column].fillna(False).to_numpy(dtype=bool)


def _not_taking_part(agency: pd.Series, agencies: tuple[str, ...] | None) -> NDArray[np.bool_]:
    if agencies is None:
        return np.zeros(len(agency), dtype=bool)
    return ~agency.isin(list(agencies)).to_numpy()


def _access_rows(
    instance: EstateInstance,
    k: str,
    target: float,
    pair_s: NDArray[np.int64],
    pair_b: NDArray[np.int64],
    pair_col: NDArray[np.int64],
    cols: _Columns,
    rows: _Rows,
) -> AccessBlock:
    """The share rule: present[k,b] <= sum assign; covered[k,z] <= sum present within
    reach; share >= target."""
    standard = instance.access[k]
    b_ids = instance.building_ids
    weight = instance.zone_weight()
    s_type = instance.services["service_type"].to_numpy(dtype=object)
    of_type = s_type[pair_s] == k
    hosts = np.unique(pair_b[of_type])
    present_col = cols.add([f"present[{k},{b_ids[x]}]" for x in hosts])
    host_pos = np.searchsorted(hosts, pair_b[of_type])
    rows.add(
        [f"present[{k},{b_ids[x]}]" for x in hosts],
        np.concatenate([np.arange(len(hosts)), host_pos]),
        np.concatenate([present_col, pair_col[of_type]]),
        np.concatenate([np.ones(len(hosts)), -np.ones(int(of_type.sum()))]),
        -INF,
        0.0,
    )
    z_ids = instance.zones["zone_id"].to_numpy(dtype=object)
    within = within_standard(instance, standard, hosts)
    zones_in = np.flatnonzero(within.any(axis=1) & (weight > 0))
    covered_col = cols.add([f"covered[{k},{z_ids[z]}]" for z in zones_in])
    zr, hb = np.nonzero(within[zones_in])
    rows.add(
        [f"covers[{k},{z_ids[z]}]" for z in zones_in],
        np.concatenate([np.arange(len(zones_in)), zr]),
        np.concatenate([covered_col, present_col[hb]]),
        np.concatenate([np.ones(len(zones_in)), -np.ones(len(zr))]),
        -INF,
        0.0,
    )
    total = weight.sum()
    rows.add(
        [f"access[{k}]"],
        np.zeros(len(zones_in), dtype=np.int64),
        covered_col,
        weight[zones_in],
        target * total - 1e-9 * max(total, 1.0),
        INF,
    )
    reach = sparse.csr_matrix((np.ones(len(zr)), (zr, hb)), shape=(len(zones_in), len(hosts)))
    return AccessBlock(k, present_col, hosts, covered_col, zones_in, reach)


def _exclusivity(
    instance: EstateInstance,
    pair_s: NDArray[np.int64],
    pair_b: NDArray[np.int64],
    pair_col: NDArray[np.int64],
    cols: _Columns,
    rows: _Rows,
) -> dict[tuple[str, int], int]:
    """Exclusive services share a building with no other agency.

    Where an exclusive service of agency a may be in b, each agency a' with a
    candidate service in b gets ``agency_in[a',b] >= assign[s',b]``, and
    ``assign[s,b] + agency_in[a',b] <= 1`` for every a' other than a.
    """
    services = instance.services
    exclusive = services["exclusive"].to_numpy(dtype=bool)
    if not exclusive.any():
        return {}
    s_agency = services["agency"].to_numpy(dtype=object)
    b_ids = instance.building_ids
    s_ids = instance.service_ids
    pairs = pd.DataFrame(
        {
            "s": pair_s,
            "b": pair_b,
            "col": pair_col,
            "agency": s_agency[pair_s],
            "excl": exclusive[pair_s],
        }
    )
    at = pairs.loc[pairs["b"].isin(np.unique(pairs.loc[pairs["excl"], "b"]))]
    keys = sorted({(str(a), int(x)) for a, x in zip(at["agency"], at["b"], strict=True)})
    y_cols = cols.add([f"agency_in[{a},{b_ids[x]}]" for a, x in keys], integer=True)
    agency_cols = {key: int(c) for key, c in zip(keys, y_cols, strict=True)}
    y_of_pair = np.array(
        [agency_cols[(str(a), int(x))] for a, x in zip(at["agency"], at["b"], strict=True)],
        dtype=np.int64,
    )
    idx = np.arange(len(at))
    rows.add(
        [f"agency_link[{s_ids[i]},{b_ids[x]}]" for i, x in zip(at["s"], at["b"], strict=True)],
        np.concatenate([idx, idx]),
        np.concatenate([at["col"].to_numpy(), y_of_pair]),
        np.concatenate([np.ones(len(idx)), -np.ones(len(idx))]),
        -INF,
        0.0,
    )
    names, r, c = [], [], []
    for row in at.loc[at["excl"]].itertuples():
        for (agency, x), y in agency_cols.items():
            if x == row.b and agency != row.agency:
                names.append(f"exclusive[{s_ids[row.s]},{agency},{b_ids[x]}]")
                r += [len(names) - 1, len(names) - 1]
                c += [int(row.col), y]
    if names:
        rows.add(names, np.array(r), np.array(c), 1.0, -INF, 1.0)
    return agency_cols


def _cardinality_rows(instance: EstateInstance, keep_col: NDArray[np.int64], rows: _Rows) -> None:
    policy = instance.policy
    n = len(keep_col)
    if policy.keep_exactly is not None:
        p = float(policy.keep_exactly)
        rows.add(["keep_count"], np.zeros(n, dtype=np.int64), keep_col, 1.0, p, p)
    elif policy.keep_at_most is not None:
        p = float(policy.keep_at_most)
        rows.add(["keep_count"], np.zeros(n, dtype=np.int64), keep_col, 1.0, -INF, p)


def _budget_rows(
    instance: EstateInstance,
    pair_s: NDArray[np.int64],
    pair_b: NDArray[np.int64],
    pair_col: NDArray[np.int64],
    home: NDArray[np.int64],
    keep_col: NDArray[np.int64],
    late: LateBlock | None,
    rows: _Rows,
) -> None:
    """One-off costs within the capital budget, pooled or per agency.

    moves and fit-outs (+ placement costs) + dilapidations x (1 - keep) <= budget, i.e.
    moves - dilapidations x keep <= budget - sum of dilapidations.  A building held for
    a fit-out elsewhere may exit later, past the horizon: ``late`` carries the change in
    the dilapidations that fall inside it.
    """
    policy = instance.policy
    if policy.capital_budget is None and not policy.agency_budgets:
        return
    move, dilaps = one_off_costs(instance)
    pair_cost = np.where(pair_b != home[pair_s], move[pair_s], 0.0)
    pair_cost = pair_cost + conversion_costs(instance, pair_s, pair_b)
    if instance.assignment_cost is not None:
        pair_cost = pair_cost + instance.assignment_cost[pair_s, pair_b]
    late_cost = np.zeros(0)
    late_b = np.zeros(0, dtype=np.int64)
    late_col = np.zeros(0, dtype=np.int64)
    if late is not None:
        _, _, late_dilaps = late_exits(instance, late.lead)
        step = late_dilaps[np.arange(len(late.lead)), late.building]
        previous = np.r_[np.nan, step[:-1]]
        first = np.r_[True, late.building[1:] != late.building[:-1]]
        previous = np.where(first, dilaps[late.building], previous)
        late_cost, late_b, late_col = step - previous, late.building, late.col
    s_agency = instance.services["agency"].to_numpy(dtype=object)
    b_agency = instance.buildings["agency"].to_numpy(dtype=object)
    budgets: list[tuple[str, float, NDArray[np.bool_], NDArray[np.bool_]]] = []
    if policy.capital_budget is not None:
        budgets.append(
            (
                "budget[pooled]",
                policy.capital_budget,
                np.ones(len(pair_s), bool),
                np.ones(len(keep_col), bool),
            )
        )
    for agency, amount in sorted((policy.agency_budgets or {}).items()):
        budgets.append(
            (f"budget[{agency}]", amount, s_agency[pair_s] == agency, b_agency == agency)
        )
    for name, amount, pairs_in, buildings_in in budgets:
        use_p = pairs_in & (pair_cost != 0)
        use_b = buildings_in & (dilaps != 0)
        use_l = buildings_in[late_b] & (late_cost != 0)
        rows.add(
            [name],
            np.zeros(int(use_p.sum() + use_b.sum() + use_l.sum()), dtype=np.int64),
            np.concatenate([pair_col[use_p], keep_col[use_b], late_col[use_l]]),
            np.concatenate([pair_cost[use_p], -dilaps[use_b], late_cost[use_l]]),
            -INF,
            amount - float(dilaps[buildings_in].sum()),
        )
