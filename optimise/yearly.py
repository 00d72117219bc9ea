"""Access in every year of a phased plan, not only at its end.

In year y of a plan (:mod:`optimise.phasing`) a service is at its new building if its
home is kept (it moved in year 1) or was vacated in year y or before, and still at home
otherwise.  :func:`yearly_breaches` recomputes every access standard in each year
1..T-1 from a decision (from year T on the plan is in its end state, which the model
keeps anyway).

:func:`yearly_access_lp` adds the rows that keep one standard in one year, exactly:

``present[k,b,y] <= sum of assign[s,b] over type-k services that stay in b``
                   ``+ sum_{t>y} vacate[b,t]`` (b still open with its type-k services)
                   ``+ sum of assign[s,b] over type-k services from buildings that stay``
                   ``+ sum_h arrived[h,b,k,y]`` (from h that may go, if it has gone)

``arrived[h,b,k,y] <= sum of assign[s,b]`` over type-k services of h, and
``arrived[h,b,k,y] <= keep[h] + sum_{t<=y} vacate[h,t]``; then the share rule over
``present[k,.,y]`` as in the single-period model.  (The max-increase rule
needs no yearly rows: candidate pruning keeps it service by service, and in any year a
service is either at home or at its new building.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from optimise.evaluate import Allocation, access_breaches
from optimise.formulation import INF, LinearProgram, _Columns, _Rows
from optimise.instance import EstateInstance

if TYPE_CHECKING:
    from optimise.phasing import PhasedModel


def allocation_in_year(
    instance: EstateInstance, alloc: Allocation, vacate: NDArray[np.int64], year: int
) -> Allocation:
    """Where each service (or share of one) is in ``year``: ``vacate[b]`` is the year
    building b is vacated (0 for kept buildings)."""
    home = instance.home_index()[alloc.service]
    waiting = (alloc.building != home) & (vacate[home] > year)
    return Allocation(alloc.service, np.where(waiting, home, alloc.building), alloc.share)


def yearly_breaches(
    instance: EstateInstance, alloc: Allocation, vacate: NDArray[np.int64], years: int
) -> dict[int, list[tuple[str, str]]]:
    """The access standards each year 1..years-1 of the plan breaks: (type, words)."""
    out: dict[int, list[tuple[str, str]]] = {}
    for year in range(1, years):
        if not (vacate > year).any():
            break  # from here on the plan is in its end state
        broken = access_breaches(instance, allocation_in_year(instance, alloc, vacate, year))
        if broken:
            out[year] = broken
    return out


def breached_pairs(
    instance: EstateInstance, alloc: Allocation, vacate: NDArray[np.int64], years: int
) -> list[tuple[str, int]]:
    """(service type, year) of every standard broken in an intermediate year."""
    found = set()
    for year, broken in yearly_breaches(instance, alloc, vacate, years).items():
        found |= {(k, year) for k, _ in broken}
    return sorted(found)


def yearly_access_lp(
    model: PhasedModel, lp: LinearProgram, wanted: list[tuple[str, int]]
) -> LinearProgram:
    """``lp`` with the rows that keep standard k in year y for each (k, y) of ``wanted``."""
    single = model.single.formulation
    pf = model.formulation
    instance = model.instance
    n = len(lp.c)
    cols = _Columns()
    rows = _Rows()
    home = instance.home_index()
    s_type = instance.services["service_type"].to_numpy(dtype=object)
    disposable = np.zeros(len(instance.buildings), dtype=bool)
    disposable[pf.vacate_building] = True
    b_ids = instance.building_ids
    weight = instance.zone_weight()
    z_ids = instance.zones["zone_id"].to_numpy(dtype=object)
    blocks = {b.service_type: b for b in single.access_blocks}
    for k, year in wanted:
        block = blocks.get(k)
        if block is None:
            continue  # a max-increase rule only: kept by candidate pruning in every year
        hosts = block.present_building
        where = {int(b): i for i, b in enumerate(hosts)}
        present = n + cols.add([f"present[{k},{b_ids[b]},y{year}]" for b in hosts])
        terms: list[list[tuple[int, float]]] = [[(int(present[i]), 1.0)] for i in range(len(hosts))]
        of_type = s_type[single.pair_service] == k
        origin = home[single.pair_service]
        for p in np.flatnonzero(of_type):
            b, h = int(single.pair_building[p]), int(origin[p])
            if b not in where or (b != h and disposable[h]):
                continue
            terms[where[b]].append((int(single.pair_col[p]), -1.0))  # stays, or moved in year 1
        for b in hosts:
            if disposable[b] and (s_type[home == b] == k).any():
                later = pf.vacate_col[(pf.vacate_building == b) & (pf.vacate_year > year)]
                terms[where[int(b)]] += [(int(c), -1.0) for c in later]
        pairs = np.flatnonzero(of_type & (single.pair_building != origin) & disposable[origin])
        keys = sorted({(int(origin[p]), int(single.pair_building[p])) for p in pairs})
        arrived = n + cols.add([f"arrived[{b_ids[h]},{b_ids[b]},{k},y{year}]" for h, b in keys])
        for (h, b), col in zip(keys, arrived, strict=True):
            terms[where[b]].append((int(col), -1.0))
            moves = pairs[(origin[pairs] == h) & (single.pair_building[pairs] == b)]
            rows.add(
                [f"arrived_moved[{b_ids[h]},{b_ids[b]},{k},y{year}]"],
                np.zeros(len(moves) + 1, dtype=np.int64),
                np.concatenate([[col], single.pair_col[moves]]),
                np.concatenate([[1.0], -np.ones(len(moves))]),
                -INF,
                0.0,
            )
            gone = pf.vacate_col[(pf.vacate_building == h) & (pf.vacate_year <= year)]
            rows.add(
                [f"arrived_gone[{b_ids[h]},{b_ids[b]},{k},y{year}]"],
                np.zeros(len(gone) + 2, dtype=np.int64),
                np.concatenate([[col, single.keep_col[h]], gone]),
                np.concatenate([[1.0, -1.0], -np.ones(len(gone))]),
                -INF,
                0.0,
            )
        for i, term in enumerate(terms):
            rows.add(
                [f"present[{k},{b_ids[hosts[i]]},y{year}]"],
                np.zeros(len(term), dtype=np.int64),
                np.array([c for c, _ in term]),
                np.array([v for _, v in term]),
                -INF,
                0.0,
            )
        if len(block.covered_zone):
            covered = n + cols.add([f"covered[{k},{z_ids[z]},y{year}]" for z in block.covered_zone])
            zr, hb = block.reach.nonzero()
            rows.add(
                [f"covers[{k},{z_ids[z]},y{year}]" for z in block.covered_zone],
                np.concatenate([np.arange(len(covered)), zr]),
                np.concatenate([covered, present[hb]]),
                np.concatenate([np.ones(len(covered)), -np.ones(len(zr))]),
                -INF,
                0.0,
            )
            total = weight.sum()
            target = single.target_share[k]
            rows.add(
                [f"access[{k},y{year}]"],
                np.zeros(len(covered), dtype=np.int64),
                covered,
                weight[block.covered_zone],
                target * total - 1e-9 * max(total, 1.0),
                INF,
            )
    width = n + cols.count
    old = sparse.hstack([lp.matrix, sparse.csr_matrix((lp.shape[0], cols.count))]).tocsr()
    new = rows.matrix(width)
    return LinearProgram(
        c=np.concatenate([lp.c, *cols.c]),
        constant=lp.constant,
        matrix=sparse.vstack([old, new]).tocsr(),
        row_lo=np.concatenate([lp.row_lo, *rows.lo]),
        row_hi=np.concatenate([lp.row_hi, *rows.hi]),
        col_lo=np.concatenate([lp.col_lo, *cols.lo]),
        col_hi=np.concatenate([lp.col_hi, *cols.hi]),
        integer=np.concatenate([lp.integer, *cols.integer]),
        col_names=lp.col_names + cols.names,
        row_names=lp.row_names + rows.names,
    )
