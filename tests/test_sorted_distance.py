"""The sorted-distance formulation and the facility-location bound, start and cuts.

Every claim is checked against enumeration on tiny instances: the Lagrangian bound is
below every plan, what forcing a building in or out costs is what enumeration says,
the cuts an upper bound allows never remove an optimal plan, the local search ends
where no single move pays, and the sorted form (with and without cuts) has the
strong form's optimum.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from optimise import EstateModel, SolverSettings, SolveStatus
from optimise.facility import FacilityView, fixings, pick_buildings
from optimise.formulation import LinearProgram
from optimise.solve import solve_with_highspy
from optimise.sorted_distance import build_sorted, facility_view, qualifying_services
from optimise.special_cases import facility_location, p_median

EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30, strategy="exact")
FORMULATIONS = ("strong", "sorted", "auto")


def _plans(view: FacilityView) -> list[tuple[float, np.ndarray]]:
    """Every allowed plan of a tiny view with its cost."""
    out = []
    for bits in itertools.product([False, True], repeat=view.n_sites):
        open_ = np.array(bits)
        value = view.value(open_)
        if np.isfinite(value):
            out.append((value, open_))
    return out


def _random_view(seed: int) -> FacilityView:
    """A tiny p-median, 'at most p' or uncapacitated facility location view."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7))
    n_s = int(rng.integers(2, 7))
    kind = ("exact", "at_most", "free")[seed % 3]
    pairs_s, pairs_b, cost = [], [], []
    home = rng.integers(0, n, size=n_s)
    for s in range(n_s):
        cands = set(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)) | {home[s]}
        for b in sorted(cands):
            pairs_s.append(s)
            pairs_b.append(b)
            cost.append(float(rng.integers(0, 6)) if b != home[s] else float(rng.integers(0, 3)))
    fixed = rng.integers(-3, 8, size=n).astype(float) if kind != "exact" else np.zeros(n)
    forced_open = rng.random(n) < 0.15
    forced_closed = (rng.random(n) < 0.15) & ~forced_open
    p = int(rng.integers(1, n + 1))
    lo, hi = {"exact": (p, p), "at_most": (0, p), "free": (0, n)}[kind]
    return FacilityView.build(
        np.array(pairs_s),
        np.array(pairs_b),
        np.array(cost),
        home,
        fixed,
        forced_open,
        forced_closed,
        lo,
        hi,
        constant=float(rng.integers(0, 5)),
    )


@pytest.mark.parametrize("seed", range(60))
def test_picking_buildings_and_forcing_them_match_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    rho = rng.integers(-5, 6, size=n).astype(float)
    forced_open = rng.random(n) < 0.2
    forced_closed = (rng.random(n) < 0.2) & ~forced_open
    lo = int(rng.integers(0, n + 1))
    hi = int(rng.integers(lo, n + 1))
    sets = [
        np.array(bits)
        for bits in itertools.product([False, True], repeat=n)
        if lo <= sum(bits) <= hi
        and all(b or not f for b, f in zip(bits, forced_open, strict=True))
        and not any(b and c for b, c in zip(bits, forced_closed, strict=True))
    ]
    if not sets:
        return
    best = min(float(rho[s].sum()) for s in sets)
    picked, add, drop = pick_buildings(rho, forced_open, forced_closed, lo, hi)
    assert float(rho[picked].sum()) == pytest.approx(best)
    for j in range(n):
        with_j = [float(rho[s].sum()) for s in sets if s[j]]
        without_j = [float(rho[s].sum()) for s in sets if not s[j]]
        assert best + add[j] == pytest.approx(min(with_j, default=np.inf))
        assert best + drop[j] == pytest.approx(min(without_j, default=np.inf))


@pytest.mark.parametrize("seed", range(60))
def test_lagrangian_bound_and_its_cuts_never_exclude_an_optimum(seed: int) -> None:
    """For any multipliers (random here, and after subgradient steps) the bound is below
    every plan, and with an upper bound at the optimum no optimal plan keeps a building
    the cuts shut, shuts one they keep, or serves a service dearer than allowed."""
    view = _random_view(seed)
    plans = _plans(view)
    if not plans:
        return
    optimum = min(v for v, _ in plans)
    rng = np.random.default_rng(seed + 1)
    lams = [rng.uniform(-2, 8, size=view.n_services), None]
    for lam in lams:
        if lam is None:
            bound = view.lagrangian(optimum, None, deadline=np.inf)
        else:
            bound = view.evaluate_multipliers(lam)
        assert bound.value <= optimum + 1e-9
        cut = fixings(view, bound, optimum, 1e-9)
        for value, open_ in plans:
            if value > optimum + 1e-9:
                continue
            assert not (open_ & cut.shut).any()
            assert not (cut.open & ~open_).any()
            d1, _, _ = view.nearest(open_)
            mine = view.has_pairs()
            assert (d1[mine] <= cut.dearest[mine]).all()


@pytest.mark.parametrize("seed", range(40))
def test_local_search_ends_where_no_single_move_pays(seed: int) -> None:
    view = _random_view(seed)
    if not _plans(view):
        return
    start = view.greedy(np.inf)
    assert start is not None and view.allowed(start)
    found = view.local_search(start, np.inf)
    value = view.value(found)
    assert value <= view.value(start) + 1e-9
    free = np.flatnonzero(~view.forced_open & ~view.forced_closed)
    for i in free:  # add or drop one building
        other = found.copy()
        other[i] = not other[i]
        assert view.value(other) >= value - 1e-9
    for i, j in itertools.permutations(free, 2):  # exchange two
        if found[j] and not found[i]:
            other = found.copy()
            other[i], other[j] = True, False
            assert view.value(other) >= value - 1e-9


def _solve_lp(lp: LinearProgram) -> float:
    out = solve_with_highspy(lp, EXACT)
    assert out.objective is not None
    return out.objective


def _tiny_p_median(seed: int) -> tuple[np.ndarray, int, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(4, 8)), int(rng.integers(1, 4))
    cost = rng.integers(0, 8, size=(n, n)).astype(float)  # ties on purpose
    np.fill_diagonal(cost, 0.0)
    weights = rng.integers(1, 4, size=n).astype(float)
    best = min(
        float((cost[:, list(o)].min(axis=1) * weights).sum())
        for o in itertools.combinations(range(n), p)
    )
    return cost, p, weights, best


@pytest.mark.parametrize("seed", range(25))
def test_sorted_form_with_and_without_cuts_has_the_optimum(seed: int) -> None:
    """Solved as a MIP directly: Elloumi's cut-off alone, then with the cuts of an upper
    bound (the greedy and swap plan) and the Lagrangian bound."""
    cost, p, weights, best = _tiny_p_median(seed)
    f = EstateModel(p_median(cost, p, weights)).formulation
    services = qualifying_services(f)
    assert services.all()
    plain = build_sorted(f, services)
    assert plain.pure
    assert _solve_lp(plain.lp) == pytest.approx(best)
    view = facility_view(f, services)
    start = view.heuristic(np.inf)
    assert start is not None
    upper = view.value(start)
    bound = view.lagrangian(upper, None, np.inf, max_iterations=30)
    cut = build_sorted(f, services, view, fixings(view, bound, upper, 1e-9))
    assert cut.levels_kept <= plain.levels_kept
    assert _solve_lp(cut.lp) == pytest.approx(best)


def test_elloumi_cut_off_by_hand() -> None:
    """Four nodes on a line 0-1-2-3 (unit steps), p = 2.  Node 0's distinct distances
    are 0, 1, 2, 3; with 2 of 4 kept at most 2 are shut, so any 3 nodes hold a kept
    one: node 0 is served within distance 2 (levels 0, 1, 2 kept, level 3 cut).
    Nodes 1 and 2 have levels 0, 1, 2 (ties: 1 and 2 each have two nodes at 1) and are
    cut at level 1 (3 nodes within 1); node 3 as node 0.  Kept: 3 + 2 + 2 + 3 = 10
    levels, cut 1 + 1 + 1 + 1 = 4."""
    x = np.arange(4.0)
    cost = np.abs(x[:, None] - x[None, :])
    f = EstateModel(p_median(cost, 2)).formulation
    form = build_sorted(f, qualifying_services(f))
    assert form.levels_kept == 10
    assert form.levels_cut == 4
    # The optimum keeps nodes 0-1 and 2-3 apart: cost 1 + 1 = 2.
    assert _solve_lp(form.lp) == pytest.approx(2.0)


@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("seed", range(12))
def test_p_median_by_formulation_matches_brute_force(seed: int, formulation: str) -> None:
    cost, p, weights, best = _tiny_p_median(seed)
    settings = EXACT.model_copy(update={"formulation": formulation})
    result = EstateModel(p_median(cost, p, weights)).solve(settings)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(best)
    assert result.evaluation is not None and result.evaluation.present_cost == pytest.approx(best)
    assert ("sorted-distance" in result.detail) == (formulation != "strong")


@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("seed", range(12))
def test_uncapacitated_facility_location_by_formulation(seed: int, formulation: str) -> None:
    """Facility location with room for everyone: fixed costs, no count rule."""
    rng = np.random.default_rng(100 + seed)
    m, n = int(rng.integers(2, 6)), int(rng.integers(2, 7))
    fixed = rng.integers(0, 30, size=m).astype(float)
    demand = rng.integers(1, 5, size=n).astype(float)
    cost = rng.integers(0, 20, size=(n, m)).astype(float)
    best = min(
        float(fixed[list(o)].sum() + cost[:, list(o)].min(axis=1).sum())
        for k in range(1, m + 1)
        for o in itertools.combinations(range(m), k)
    )
    inst = facility_location(fixed, np.full(m, demand.sum()), demand, cost)
    settings = EXACT.model_copy(update={"formulation": formulation})
    result = EstateModel(inst).solve(settings)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(best)


def test_capacities_that_bind_keep_the_strong_model() -> None:
    """Where a capacity row can bind, the services it holds are not in sorted form."""
    inst = facility_location([100.0, 10.0], [5.0, 5.0], [8.0], [[80.0, 40.0]])
    f = EstateModel(inst).formulation
    assert not qualifying_services(f).any()
    result = EstateModel(inst).solve(EXACT.model_copy(update={"formulation": "sorted"}))
    assert result.objective == pytest.approx(165.0)
    assert "sorted-distance" not in result.detail
