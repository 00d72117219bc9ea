"""Candidate buildings for each service: C(s) of MODEL.md section 4.

C(s) is the service's home building, plus every building it may move into: one of
its own agency's, or (``shared`` policy) any building that ``can_host``; big enough
for it; with the space it needs, or space of that type that may be fitted out
(:mod:`optimise.space`; a move into space still to be fitted out is only open to a
service whose own building may go, since it waits there until the works are done);
not forced to close; within the move radius and among the k nearest when those are
set.  A service whose type has a max-increase rule moves only where its own users can
follow it: for each zone it is the nearest service of its type to today (and that the
rule protects), the new building is no more than the rule's minutes further than its
home, by each mode of the rule.  This *is* the max-increase rule, kept service by
service: every protected zone's nearest service today ends no more than the minutes
further away, so no zone's minutes to its nearest rise by more, in the end state and in
every year of a plan (a service is at home or at its new building).  It is stronger in
one way a Board wants: services of one type cannot swap towns (a town keeping a
library, but not its own).  When ``policy.agencies`` is set, the other agencies stay as they are:
their services do not move and their buildings take no one in.  Pruning never
removes the home building.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from optimise.instance import EstateInstance


def candidate_pairs(instance: EstateInstance) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Service index and building index of every (service, candidate building) pair.

    Sorted by service, then building; each service's home building is included.
    """
    b = instance.buildings
    s = instance.services
    policy = instance.policy
    home = instance.home_index()
    xy = b[["easting", "northing"]].to_numpy(dtype=float)
    capacity = b["capacity_desks"].to_numpy(dtype=float) * policy.utilisation
    can_host = b["can_host"].to_numpy(dtype=bool) & _taking_part(b["agency"], policy.agencies)
    closing = b["building_id"].isin(policy.force_dispose).to_numpy()
    b_agency = b["agency"].to_numpy(dtype=object)
    movable = s["movable"].to_numpy(dtype=bool) & _taking_part(s["agency"], policy.agencies)
    desks = s["desks"].to_numpy(dtype=float)
    # A divisible service may be split, so no single building need hold all of it.
    if "divisible" in s.columns:
        desks = np.where(s["divisible"].fillna(False).to_numpy(dtype=bool), 0.0, desks)
    s_agency = s["agency"].to_numpy(dtype=object)

    pair_s: list[NDArray[np.int64]] = []
    pair_b: list[NDArray[np.int64]] = []
    cache: dict[tuple[int, str], NDArray[np.int64]] = {}
    for i in range(len(s)):
        h = int(home[i])
        if not movable[i]:
            chosen = np.array([h], dtype=np.int64)
        else:
            key = (h, str(s_agency[i]))
            if key not in cache:
                cache[key] = _reachable(h, str(s_agency[i]), xy, can_host, b_agency, instance)
            options = cache[key]
            options = options[(capacity[options] + 1e-9 >= desks[i]) & ~closing[options]]
            chosen = np.union1d(options, [h]).astype(np.int64)
        pair_s.append(np.full(len(chosen), i, dtype=np.int64))
        pair_b.append(chosen)
    ps, pb = np.concatenate(pair_s), np.concatenate(pair_b)
    ok, lead, _ = instance.spaces.placements(ps, pb, home)
    ok &= users_follow(instance, ps, pb)
    ok &= ~((lead > 0) & instance.forced_keep()[home[ps]])
    ok &= lead < instance.finance.horizon_years  # it must be able to move within the horizon
    return ps[ok], pb[ok]


def users_follow(
    instance: EstateInstance, pair_s: NDArray[np.int64], pair_b: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Pairs whose service's own users stay within its type's max-increase rule: every
    zone with people that has the service's home as its nearest of the type today (by a
    mode of the rule, within the mode's minutes where the standard gives them) is no more
    than ``max_increase_minutes`` further from the new building than from home.  (Ties:
    a zone with several nearest buildings is a user of each.)"""
    out = np.ones(len(pair_s), dtype=bool)
    services = instance.services
    home = instance.home_index()
    weight = instance.zone_weight()
    s_type = services["service_type"].to_numpy(dtype=object)
    for k, standard in instance.access.items():
        if standard.max_increase_minutes is None:
            continue
        today = np.unique(home[s_type == k])
        mine = np.flatnonzero((s_type[pair_s] == k) & (pair_b != home[pair_s]))
        if not len(mine) or not len(today):
            continue
        for mode in standard.increase_modes():
            minutes = instance.travel[mode].minutes
            nearest = minutes[:, today].min(axis=1)
            guard = (weight > 0) & np.isfinite(nearest)
            limit = standard.thresholds().get(mode)
            if limit is not None:
                guard &= nearest <= limit + 1e-9
            for p in mine:
                h, b = home[pair_s[p]], pair_b[p]
                users = guard & (minutes[:, h] <= nearest + 1e-9)
                further = minutes[users, b] - minutes[users, h]
                if (further > standard.max_increase_minutes + 1e-9).any():
                    out[p] = False
    return out


def pair_leads(
    instance: EstateInstance, pair_s: NDArray[np.int64], pair_b: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Lead years before each pair's service can move in (0 unless space must be fitted
    out first), and whether the pair needs space fitted out."""
    _, lead, convert = instance.spaces.placements(pair_s, pair_b, instance.home_index())
    return lead.astype(np.int64), convert


def _taking_part(agency: object, agencies: tuple[str, ...] | None) -> NDArray[np.bool_]:
    column = np.asarray(agency, dtype=object)
    if agencies is None:
        return np.ones(len(column), dtype=bool)
    return np.isin(column, list(agencies))


def _reachable(
    home: int,
    agency: str,
    xy: NDArray[np.float64],
    can_host: NDArray[np.bool_],
    b_agency: NDArray[np.object_],
    instance: EstateInstance,
) -> NDArray[np.int64]:
    policy = instance.policy
    allowed = b_agency == agency
    if policy.sharing == "shared":
        allowed = allowed | can_host
    distance_km = np.hypot(xy[:, 0] - xy[home, 0], xy[:, 1] - xy[home, 1]) / 1000.0
    if policy.move_radius_km is not None:
        allowed &= distance_km <= policy.move_radius_km
    options = np.flatnonzero(allowed)
    if policy.k_nearest is not None and len(options) > policy.k_nearest:
        order = np.lexsort((options, distance_km[options]))
        options = np.sort(options[order[: policy.k_nearest]])
    return options.astype(np.int64)
