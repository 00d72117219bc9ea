"""Solve one OR-Library instance through the estate model and print the result.

    python -m benchmarks.orlib ../shared/data/orlib/pmed/pmed1.txt --json
    python -m benchmarks.orlib ../shared/data/orlib/cap/capb.txt --capacity 5000 --json

The format is detected: p-median (``n m p`` then edges ``i j cost``; duplicate edges:
the last one wins, as OR-Library's own reader does) or capacitated warehouse location
(``m n``, m lines of capacity and fixed cost, then per customer its demand and the
cost of serving all of it from each warehouse; capa/b/c carry the word "capacity",
given with ``--capacity``).  The instance is mapped to the estate model
(:mod:`optimise.special_cases`) and solved exactly (relative gap 0).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from optimise.instance import EstateInstance
from optimise.model import EstateModel
from optimise.settings import SolverSettings
from optimise.special_cases import facility_location, p_median

ORLIB = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "orlib"


@dataclass(frozen=True)
class PMedianData:
    n: int
    p: int
    cost: np.ndarray  # all-pairs shortest path lengths


@dataclass(frozen=True)
class CapData:
    fixed: np.ndarray
    capacity: np.ndarray
    demand: np.ndarray
    cost: np.ndarray  # customers x warehouses


def read_pmed(path: Path) -> PMedianData:
    tokens = path.read_text().split()
    n, m, p = (int(t) for t in tokens[:3])
    edges = np.asarray(tokens[3 : 3 + 3 * m], dtype=float).reshape(m, 3)
    weight: dict[tuple[int, int], float] = {}
    for i, j, c in edges:
        a, b = int(i) - 1, int(j) - 1
        weight[(min(a, b), max(a, b))] = c  # the last listing wins
    rows = [a for a, b in weight] + [b for a, b in weight]
    cols = [b for a, b in weight] + [a for a, b in weight]
    vals = list(weight.values()) * 2
    graph = csr_matrix((vals, (rows, cols)), shape=(n, n))
    return PMedianData(n, p, shortest_path(graph, method="D", directed=False))


def read_cap(path: Path, capacity: float | None = None) -> CapData:
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    pos = 2
    cap, fixed = [], []
    for _ in range(m):
        word = tokens[pos]
        if word.lower() == "capacity":
            if capacity is None:
                raise SystemExit(f"{path.name} gives no capacities: pass --capacity C")
            cap.append(capacity)
        else:
            cap.append(float(word.rstrip(".")) if word.endswith(".") else float(word))
        fixed.append(float(tokens[pos + 1]))
        pos += 2
    demand, cost = [], []
    for _ in range(n):
        demand.append(float(tokens[pos]))
        cost.append([float(t) for t in tokens[pos + 1 : pos + 1 + m]])
        pos += 1 + m
    return CapData(np.asarray(fixed), np.asarray(cap), np.asarray(demand), np.asarray(cost))


def detect(path: Path) -> str:
    """``"pmed"`` or ``"cap"`` from the file's shape."""
    tokens = path.read_text().split()
    try:
        n, m, p = (float(t) for t in tokens[:3])
    except ValueError:
        return "cap"
    whole = n.is_integer() and m.is_integer() and p.is_integer()
    return "pmed" if whole and len(tokens) == 3 + 3 * int(m) else "cap"


def instance_for(path: Path, capacity: float | None = None) -> tuple[str, EstateInstance]:
    kind = detect(path)
    if kind == "pmed":
        data = read_pmed(path)
        return kind, p_median(data.cost, data.p)
    cap = read_cap(path, capacity)
    return kind, facility_location(cap.fixed, cap.capacity, cap.demand, cap.cost)


def solve_file(
    path: Path, time_limit: float, capacity: float | None = None, formulation: str = "auto"
) -> dict[str, object]:
    """Read, build and solve one instance; the time limit covers all of it."""
    start = time.perf_counter()
    kind, instance = instance_for(path, capacity)
    model = EstateModel(instance, started=start)
    settings = SolverSettings(
        time_limit_seconds=time_limit,
        mip_rel_gap=0.0,
        strategy="exact",
        formulation=formulation,  # type: ignore[arg-type]
    )
    result = model.solve(settings, diagnose=False)
    name = path.stem + (f"-{capacity:g}" if capacity is not None else "")
    return {
        "instance": name,
        "kind": kind,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "status": result.status.value,
        "seconds": round(time.perf_counter() - start, 3),
        "build_seconds": round(result.build_seconds, 3),
        "solve_seconds": round(result.solve_seconds, 3),
        "formulation": formulation,
        "solver": result.solver,
        "detail": result.detail,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--capacity", type=float, default=None, help="for capa/capb/capc")
    parser.add_argument(
        "--formulation",
        choices=["auto", "strong", "sorted"],
        default="auto",
        help="solver.formulation (strong: as before the sorted-distance form)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    out = solve_file(args.file, args.time_limit, args.capacity, args.formulation)
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:>14}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
