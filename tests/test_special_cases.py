"""p-median and facility location through the estate model: brute force and OR-Library."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from optimise import EstateModel, SolverSettings, SolveStatus
from optimise.special_cases import facility_location, p_median

EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=60, strategy="exact")
ORLIB = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "orlib"


@pytest.mark.parametrize("seed", range(10))
def test_p_median_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(4, 8)), int(rng.integers(1, 4))
    cost = rng.integers(0, 50, size=(n, n)).astype(float)
    np.fill_diagonal(cost, 0.0)
    weights = rng.integers(1, 5, size=n).astype(float)
    best = min(
        float((cost[:, list(open_)].min(axis=1) * weights).sum())
        for open_ in itertools.combinations(range(n), p)
    )
    result = EstateModel(p_median(cost, p, weights)).solve(EXACT)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(best)
    assert int(result.keep.sum()) == p  # type: ignore[union-attr]


def test_facility_location_splits_demand_by_hand() -> None:
    """Two facilities (fixed 100 and 10, capacity 5 each), one customer of demand 8.

    Serving all 8 costs 80 from facility 1 and 40 from facility 2 (per unit 10 and 5).
    Both must open (8 > 5): fixed 110; facility 2 takes 5 units (25), facility 1 takes
    3 (30).  Optimum 165, with the customer split 3/8 and 5/8.
    """
    inst = facility_location([100.0, 10.0], [5.0, 5.0], [8.0], [[80.0, 40.0]])
    result = EstateModel(inst).solve(EXACT)
    assert result.objective == pytest.approx(165.0)
    shares = result.allocation.set_index("building_id")["share"]  # type: ignore[union-attr]
    assert shares["F1"] == pytest.approx(3 / 8) and shares["F2"] == pytest.approx(5 / 8)


def _published(kind: str) -> dict[str, float]:
    name = "pmedopt.txt" if kind == "pmed" else "capopt.txt"
    out = {}
    for line in (ORLIB / kind / name).read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(kind[:3]):
            out[parts[0]] = float(parts[1])
    return out


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["pmed1", "pmed2", "cap41", "cap71", "cap131"])
def test_orlib_published_optima(name: str) -> None:
    kind = "pmed" if name.startswith("pmed") else "cap"
    path = ORLIB / kind / f"{name}.txt"
    if not path.is_file():
        pytest.skip(f"OR-Library data not found at {path} (../shared/data is absent)")
    from benchmarks.orlib import solve_file

    out = solve_file(path, time_limit=120)
    assert out["status"] == "optimal"
    assert out["objective"] == pytest.approx(_published(kind)[name], rel=1e-6)


def _brute_force_cflp(
    fixed: np.ndarray, cap: np.ndarray, demand: np.ndarray, cost: np.ndarray
) -> float:
    """Every set of open facilities, each priced by its transportation LP (scipy)."""
    from scipy.optimize import linprog

    n, m = cost.shape
    best = np.inf
    for size in range(1, m + 1):
        for open_ in itertools.combinations(range(m), size):
            cols = list(open_)
            if cap[cols].sum() < demand.sum() - 1e-9:
                continue
            k = len(cols)
            # share[i, j] of customer i's demand from open facility j; rows: each
            # customer wholly served; each facility within its capacity.
            a_eq = np.kron(np.eye(n), np.ones(k))
            a_ub = np.zeros((k, n * k))
            for i in range(n):
                a_ub[:, i * k : (i + 1) * k] = np.eye(k) * demand[i]
            lp = linprog(
                cost[:, cols].ravel(),
                A_ub=a_ub,
                b_ub=cap[cols],
                A_eq=a_eq,
                b_eq=np.ones(n),
                bounds=(0, 1),
                method="highs",
            )
            if lp.status == 0:
                best = min(best, float(fixed[cols].sum() + lp.fun))
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rows", ["all", "generated"])
def test_capacitated_facility_location_matches_brute_force(
    seed: int, rows: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Splittable capacitated facility location, against every set of open sites.

    ``rows="generated"`` forces the strong linking rows to be added only where the LP
    breaks them (row generation, as on a region), ``"all"`` hands them to HiGHS from
    the start (as on OR-Library capa): both must reach the brute-force optimum.
    """
    from optimise import solve as solve_module

    if rows == "generated":
        monkeypatch.setattr(solve_module, "LAZY_ABOVE", 0)
        monkeypatch.setattr(solve_module, "LAZY_NONZEROS", 0)
    else:
        monkeypatch.setattr(solve_module, "LAZY_ABOVE", 10**9)
    called: list[int] = []
    real = solve_module.solve_with_row_generation

    def spy(*args: object, **kwargs: object) -> solve_module.SolverOutput:
        called.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(solve_module, "solve_with_row_generation", spy)
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(4, 8)), int(rng.integers(3, 6))
    demand = rng.integers(1, 10, size=n).astype(float)
    cap = rng.integers(5, 20, size=m).astype(float)
    cap *= max(1.0, 1.2 * demand.sum() / cap.sum())  # the sites can hold every customer
    fixed = rng.integers(10, 60, size=m).astype(float)
    cost = rng.integers(1, 40, size=(n, m)).astype(float) * demand[:, None]
    best = _brute_force_cflp(fixed, cap, demand, cost)
    settings = EXACT.model_copy(update={"backend": "highspy"})
    result = EstateModel(facility_location(fixed, cap, demand, cost)).solve(settings)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(best, rel=1e-9)
    assert bool(called) == (rows == "generated")
