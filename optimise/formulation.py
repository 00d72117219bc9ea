"""The MILP of MODEL.md section 4 as arrays: objective, bounds and a sparse row matrix.

The formulation is built with numpy, once; solver back-ends (PuLP, or HiGHS
directly) only translate it.  Variables, in column order:

``keep[b]``          binary, 1 = the building is kept
``assign[s,b]``      binary, one per candidate pair (see :mod:`optimise.candidates`)
``present[k,b]``     in [0,1], a service of public-facing type k is in building b
``covered[k,z]``     in [0,1], zone z is within the standard of type k
``agency_in[a,b]``   binary, agency a has a service in b (only where an exclusive
                     service could be in b)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from optimise.candidates import candidate_pairs
from optimise.finance import building_cash_flows, discount_factors, move_costs, present_value
from optimise.instance import EstateInstance

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


@dataclass(frozen=True)
class Formulation:
    """The LP plus the maps from columns back to the instance."""

    lp: LinearProgram
    keep_col: NDArray[np.int64]
    pair_service: NDArray[np.int64]
    pair_building: NDArray[np.int64]
    pair_col: NDArray[np.int64]
    access_types: list[str]
    baseline_share: dict[str, float]
    target_share: dict[str, float]
    keep_cost: NDArray[np.float64]
    dispose_cost: NDArray[np.float64]
    move_cost: NDArray[np.float64]


def reachable(minutes: NDArray[np.float64], max_minutes: float) -> NDArray[np.bool_]:
    """Zone x building mask of travel times within a standard."""
    return minutes <= max_minutes + ACCESS_TOL_MINUTES


def baseline_access_share(
    instance: EstateInstance, service_type: str, home: NDArray[np.int64]
) -> float:
    """Share of weighted population within the standard of ``service_type`` today."""
    standard = instance.access[service_type]
    weight = instance.zone_weight()
    is_type = (instance.services["service_type"] == service_type).to_numpy()
    hosts = np.unique(home[is_type])
    within = reachable(instance.travel[standard.mode].minutes[:, hosts], standard.max_minutes)
    total = weight.sum()
    return float(weight[within.any(axis=1)].sum() / total) if total > 0 else 1.0


def formulate(instance: EstateInstance) -> Formulation:
    """Build the MILP of MODEL.md section 4 for ``instance``."""
    n_b = len(instance.buildings)
    finance = instance.finance
    discount = discount_factors(finance)
    flows = building_cash_flows(instance.buildings, finance)
    keep_cost = present_value(flows.keep.sum(axis=1), discount)
    dispose_cost = present_value(flows.dispose.sum(axis=1), discount)
    move_cost = move_costs(instance.services, finance) * discount[1]
    home = instance.home_index()
    pair_s, pair_b = candidate_pairs(instance)
    n_p = len(pair_s)
    b_ids = instance.building_ids
    s_ids = instance.service_ids

    col_names = [f"keep[{b}]" for b in b_ids]
    col_names += [f"assign[{s_ids[s]},{b_ids[b]}]" for s, b in zip(pair_s, pair_b, strict=True)]
    keep_col = np.arange(n_b)
    pair_col = n_b + np.arange(n_p)
    c = [keep_cost - dispose_cost]
    moved = pair_b != home[pair_s]
    c.append(np.where(moved, move_cost[pair_s], 0.0))
    lo = [np.where(instance.buildings["must_retain"].to_numpy(dtype=bool), 1.0, 0.0), np.zeros(n_p)]
    hi = [np.ones(n_b), np.ones(n_p)]
    integer = [np.ones(n_b, bool), np.ones(n_p, bool)]
    rows = _Rows()

    # Each service in exactly one building.
    rows.add([f"assign_once[{s}]" for s in s_ids], pair_s, pair_col, 1.0, 1.0, 1.0)
    # Capacity: desks in b <= capacity x utilisation x keep[b].
    desks = instance.services["desks"].to_numpy(dtype=float)
    cap = instance.buildings["capacity_desks"].to_numpy(dtype=float) * instance.policy.utilisation
    rows.add(
        [f"capacity[{b}]" for b in b_ids],
        np.concatenate([pair_b, np.arange(n_b)]),
        np.concatenate([pair_col, keep_col]),
        np.concatenate([desks[pair_s], -cap]),
        -INF,
        0.0,
    )
    # Strong linking: assign[s,b] <= keep[b].
    rows.add(
        [f"link[{s_ids[s]},{b_ids[b]}]" for s, b in zip(pair_s, pair_b, strict=True)],
        np.concatenate([np.arange(n_p), np.arange(n_p)]),
        np.concatenate([pair_col, keep_col[pair_b]]),
        np.concatenate([np.ones(n_p), -np.ones(n_p)]),
        -INF,
        0.0,
    )
    n_cols = n_b + n_p
    access_types = sorted(instance.access)
    baseline_share: dict[str, float] = {}
    target_share: dict[str, float] = {}
    weight = instance.zone_weight()
    s_type = instance.services["service_type"].to_numpy(dtype=object)
    for k in access_types:
        standard = instance.access[k]
        baseline_share[k] = baseline_access_share(instance, k, home)
        target_share[k] = standard.target_share(baseline_share[k])
        of_type = s_type[pair_s] == k
        hosts = np.unique(pair_b[of_type])
        # present[k,b] <= sum of assign[s,b] over services of type k.
        present_col = n_cols + np.arange(len(hosts))
        col_names += [f"present[{k},{b_ids[b]}]" for b in hosts]
        n_cols += len(hosts)
        host_pos = np.searchsorted(hosts, pair_b[of_type])
        rows.add(
            [f"present[{k},{b_ids[b]}]" for b in hosts],
            np.concatenate([np.arange(len(hosts)), host_pos]),
            np.concatenate([present_col, pair_col[of_type]]),
            np.concatenate([np.ones(len(hosts)), -np.ones(int(of_type.sum()))]),
            -INF,
            0.0,
        )
        c.append(np.zeros(len(hosts)))
        lo.append(np.zeros(len(hosts)))
        hi.append(np.ones(len(hosts)))
        integer.append(np.zeros(len(hosts), bool))
        # covered[k,z] <= sum of present[k,b] over b within the standard of z.
        within = reachable(instance.travel[standard.mode].minutes[:, hosts], standard.max_minutes)
        zones_in = np.flatnonzero(within.any(axis=1) & (weight > 0))
        z_ids = instance.zones["zone_id"].to_numpy(dtype=object)
        covered_col = n_cols + np.arange(len(zones_in))
        col_names += [f"covered[{k},{z_ids[z]}]" for z in zones_in]
        n_cols += len(zones_in)
        zr, hb = np.nonzero(within[zones_in])
        rows.add(
            [f"covers[{k},{z_ids[z]}]" for z in zones_in],
            np.concatenate([np.arange(len(zones_in)), zr]),
            np.concatenate([covered_col, present_col[hb]]),
            np.concatenate([np.ones(len(zones_in)), -np.ones(len(zr))]),
            -INF,
            0.0,
        )
        c.append(np.zeros(len(zones_in)))
        lo.append(np.zeros(len(zones_in)))
        hi.append(np.ones(len(zones_in)))
        integer.append(np.zeros(len(zones_in), bool))
        # Weighted population covered >= target share of the total.
        rows.add(
            [f"access[{k}]"],
            np.zeros(len(zones_in), dtype=np.int64),
            covered_col,
            weight[zones_in],
            target_share[k] * weight.sum() - 1e-9 * max(weight.sum(), 1.0),
            INF,
        )

    n_cols = _exclusivity(
        instance, pair_s, pair_b, pair_col, n_cols, rows, col_names, c, lo, hi, integer
    )
    lp = LinearProgram(
        c=np.concatenate(c),
        constant=float(dispose_cost.sum()),
        matrix=rows.matrix(n_cols),
        row_lo=np.concatenate(rows.lo),
        row_hi=np.concatenate(rows.hi),
        col_lo=np.concatenate(lo),
        col_hi=np.concatenate(hi),
        integer=np.concatenate(integer),
        col_names=col_names,
        row_names=rows.names,
    )
    return Formulation(
        lp=lp,
        keep_col=keep_col,
        pair_service=pair_s,
        pair_building=pair_b,
        pair_col=pair_col,
        access_types=access_types,
        baseline_share=baseline_share,
        target_share=target_share,
        keep_cost=keep_cost,
        dispose_cost=dispose_cost,
        move_cost=move_cost,
    )


def _exclusivity(
    instance: EstateInstance,
    pair_s: NDArray[np.int64],
    pair_b: NDArray[np.int64],
    pair_col: NDArray[np.int64],
    n_cols: int,
    rows: _Rows,
    col_names: list[str],
    c: list[NDArray[np.float64]],
    lo: list[NDArray[np.float64]],
    hi: list[NDArray[np.float64]],
    integer: list[NDArray[np.bool_]],
) -> int:
    """Exclusive services share a building with no other agency.

    Where an exclusive service of agency a may be in b, each other agency a' with a
    candidate service in b gets ``agency_in[a',b] >= assign[s',b]``, and
    ``assign[s,b] + agency_in[a',b] <= 1``.
    """
    services = instance.services
    exclusive = services["exclusive"].to_numpy(dtype=bool)
    if not exclusive.any():
        return n_cols
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
    excl_buildings = np.unique(pairs.loc[pairs["excl"], "b"])
    at = pairs.loc[pairs["b"].isin(excl_buildings)]
    groups = at.groupby(["agency", "b"], sort=True)
    names, r_link, c_link = [], [], []
    y_of: dict[tuple[str, int], int] = {}
    for (agency, b), group in groups:
        y = n_cols + len(y_of)
        y_of[(str(agency), int(b))] = y
        col_names.append(f"agency_in[{agency},{b_ids[b]}]")
        for col, s in zip(group["col"], group["s"], strict=True):
            names.append(f"agency_link[{s_ids[s]},{b_ids[b]}]")
            r_link.append(len(names) - 1)
            c_link.append((col, y))
    n_y = len(y_of)
    if names:
        idx = np.arange(len(names))
        cols_x = np.array([a for a, _ in c_link], dtype=np.int64)
        cols_y = np.array([b for _, b in c_link], dtype=np.int64)
        rows.add(
            names,
            np.concatenate([idx, idx]),
            np.concatenate([cols_x, cols_y]),
            np.concatenate([np.ones(len(idx)), -np.ones(len(idx))]),
            -INF,
            0.0,
        )
    names, r, cols = [], [], []
    for row in at.loc[at["excl"]].itertuples():
        for (agency, b), y in y_of.items():
            if b == row.b and agency != row.agency:
                names.append(f"exclusive[{s_ids[row.s]},{agency}]")
                r += [len(names) - 1, len(names) - 1]
                cols += [int(row.col), y]
    if names:
        rows.add(names, np.array(r), np.array(cols), 1.0, -INF, 1.0)
    c.append(np.zeros(n_y))
    lo.append(np.zeros(n_y))
    hi.append(np.ones(n_y))
    integer.append(np.ones(n_y, bool))
    return n_cols + n_y
