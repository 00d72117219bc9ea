"""Sweeps: a grid of scenario points, solved in parallel, resumable, with a frontier.

``estate sweep SCENARIO.yaml --set KEY=V1,V2 --set ...`` expands to every
combination of the values.  Each point is keyed by a hash of its resolved scenario
(every setting and the bytes of every input file), and its run folder is
``OUT/points/<key>/``: a point whose folder holds a ``summary.json`` is finished and
is never computed again, so an interrupted or extended sweep resumes where it was.
A point that fails is reported in the results (and retried next time), not fatal.

Outputs: ``results.csv`` (one row a point, byte-identical for the same grid),
``pareto.svg``/``pareto.png`` (NPV saving against the population share with access)
and ``sweep.json`` (how it ran: which points were computed or reused, seconds, workers).

Access is measured for every point against one yardstick, the access standards of
the base scenario (``access_share``: the mean over service types of the need-weighted
population share within the base standards' minutes after the point's decision), so a
point that relaxes a standard shows the access it trades for its saving.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.errors import EstateError
from estate.io import write_csv, write_json
from estate.textsafe import unprotect_frame
from optimise.formulation import reachable
from scenarios.inputs import PlaceData, load_place
from scenarios.parallel import (
    Execution,
    PointJob,
    PointOutcome,
    default_workers,
    run_dask,
    run_serial,
    write_point,
)
from scenarios.pareto import ACCESS, SAVING, frontier, plot_frontier
from scenarios.run import modes_of
from scenarios.scenario import ScenarioError, ScenarioFile, ScenarioIssue, parse_key

KEY_LENGTH = 16
POINTS = "points"
Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, message: str) -> None:
    return None


@dataclass(frozen=True)
class Axis:
    """One ``--set KEY=V1,V2,...``: a dotted key and the value texts to try."""

    key: str
    values: tuple[str, ...]


def split_values(text: str) -> list[str]:
    """Split on commas outside brackets: ``a,[b,c],d`` -> ``a``, ``[b,c]``, ``d``."""
    out, depth, current = [], 0, ""
    for char in text:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += char
    out.append(current.strip())
    return out


def parse_axis(text: str) -> Axis:
    """``KEY=V1,V2,...`` -> :class:`Axis`; raises ``ValueError`` for anything else."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep:
        raise ValueError(
            f"{text!r}: expected KEY=V1,V2,... (for example finance.discount_rate=0.03,0.035)"
        )
    parse_key(key)
    items = split_values(values)
    if any(v == "" for v in items):
        raise ValueError(f"{text!r}: an empty value")
    if len(set(items)) != len(items):
        raise ValueError(f"{text!r}: a value is repeated")
    return Axis(key, tuple(items))


@dataclass(frozen=True)
class Point:
    """One combination of axis values; ``scenario`` is None when it is invalid."""

    index: int
    settings: tuple[tuple[str, str], ...]
    scenario: ScenarioFile | None
    key: str = ""
    error: str = ""

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.settings) or "base"


def grid(base: ScenarioFile, axes: Sequence[Axis]) -> list[Point]:
    """Every combination of the axes' values, in order (the last axis varies fastest).

    A key that the schema does not know raises :class:`ScenarioError` (it would fail
    every point); a value that is invalid fails only its points.  If no point is
    valid, the first point's error is raised.
    """
    keys = [axis.key for axis in axes]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ScenarioError(
            base.path, [ScenarioIssue(k, "set twice", None, f"--set {k}") for k in twice]
        )
    points = []
    first_error: ScenarioError | None = None
    hashes: dict[Path, str] = {}
    for index, values in enumerate(itertools.product(*(axis.values for axis in axes))):
        settings = tuple(zip(keys, values, strict=True))
        try:
            scenario = base.with_overrides(dict(settings))
        except ScenarioError as exc:
            unknown = [i for i in exc.issues if i.message == "unknown key"]
            if unknown:
                raise ScenarioError(base.path, unknown) from exc
            first_error = first_error or exc
            points.append(Point(index, settings, None, "", "; ".join(map(str, exc.issues))))
            continue
        points.append(Point(index, settings, scenario, scenario.key(hashes)[:KEY_LENGTH]))
    if first_error is not None and all(p.scenario is None for p in points):
        raise first_error
    return points


def _place_id(sf: ScenarioFile) -> str:
    text = json.dumps({k: str(p) for k, p in sorted(sf.input_paths().items())}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_LENGTH]


@dataclass
class SweepResult:
    """A finished sweep: its points, results table, and how the work was done."""

    out_dir: Path
    points: list[Point]
    results: pd.DataFrame
    computed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    execution: Execution | None = None
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and all(p.scenario is not None for p in self.points)


def run_sweep(
    base: ScenarioFile,
    axes: Sequence[Axis],
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    progress: Progress = _no_progress,
    points: list[Point] | None = None,
    presentation: bool = True,
) -> SweepResult:
    """Solve every point of the grid not already finished in ``out_dir``.

    ``points`` is the grid if the caller has expanded it already (:func:`grid`).
    Without ``presentation`` the points' folders hold the tables only (no map, report
    or GeoPackage) and no Pareto plot is drawn: for sweeps of many points whose folders
    nobody opens one by one (coalitions, the price of keeping).
    """
    start = time.perf_counter()
    out = Path(out_dir).resolve()
    points = grid(base, axes) if points is None else points
    result = SweepResult(out, points, pd.DataFrame())
    pending: dict[str, Point] = {}
    for point in points:
        if point.scenario is None:
            continue
        if (out / POINTS / point.key / "summary.json").is_file():
            result.cached.append(point.key)
        else:
            pending.setdefault(point.key, point)
    total = len({p.key for p in points if p.scenario is not None})
    done = total - len(pending)
    progress(done, total, f"{len(result.cached)} finished before")
    outcomes: dict[str, PointOutcome] = {}

    def on_done(outcome: PointOutcome) -> None:
        nonlocal done
        write_point(out / POINTS / outcome.key, outcome)
        outcomes[outcome.key] = outcome
        if outcome.ok:
            result.computed.append(outcome.key)
        else:
            result.failed[outcome.key] = outcome.error
        done += 1
        label = pending[outcome.key].label
        progress(done, total, f"{label}: {outcome.status or 'failed'}")

    jobs, places = _jobs(base, list(pending.values()), out, on_done, presentation)
    if jobs:
        if serial:
            result.execution = run_serial(jobs, places, on_done)
        else:
            n = None if scheduler else min(workers or default_workers(), len(jobs))
            result.execution = run_dask(jobs, places, on_done, scheduler, n)
    standards = {
        k: {str(m): x for m, x in v.thresholds().items()}
        for k, v in base.scenario.standards().items()
        if v and v.thresholds()
    }
    result.results = results_table(points, axes, out, result.failed, standards)
    result.seconds = time.perf_counter() - start
    result.files = _write_outputs(result, base, axes, outcomes, presentation)
    return result


def _jobs(
    base: ScenarioFile,
    points: list[Point],
    out: Path,
    on_done: Callable[[PointOutcome], None],
    presentation: bool = True,
) -> tuple[list[PointJob], dict[str, PlaceData]]:
    """Load each place once; points whose place cannot be loaded fail here."""
    places: dict[str, PlaceData] = {}
    broken: dict[str, EstateError] = {}
    jobs = []
    for point in points:
        sf = point.scenario
        assert sf is not None
        pid = _place_id(sf)
        if pid not in places and pid not in broken:
            try:
                places[pid] = load_place(sf)
            except EstateError as exc:
                broken[pid] = exc
        if pid in broken:
            error = broken[pid]
            text = f"{type(error).__name__}: {error}"
            on_done(PointOutcome(point.key, {"error.txt": text.encode()}, "", text))
            continue
        name = f"{sf.scenario.name or base.path.stem} [{point.label}]"
        jobs.append(
            PointJob(
                point.key,
                name,
                sf,
                pid,
                tuple(modes_of(sf.scenario.standards(), places[pid].register)),
                presentation,
            )
        )
    return jobs, places


RESULT_FIGURES = (
    "npv_saving",
    "annual_revenue_saving",
    "capital_receipts",
    "one_off_costs",
    "payback_year",
)

INTEGER_FIGURES = ("payback_year", "buildings_disposed", "services_moved")


def point_row(doc: dict[str, Any]) -> dict[str, Any]:
    """The results-table figures of one finished point's ``summary.json``."""
    row: dict[str, Any] = {"status": doc["status"], "gap": doc.get("gap")}
    for key in RESULT_FIGURES:
        row[key] = doc.get(key)
    row["buildings_disposed"] = doc.get("buildings", {}).get("disposed")
    row["services_moved"] = doc.get("services_moved")
    return row


def reference_access(access_csv: Path, standards: dict[str, dict[str, float]]) -> dict[str, float]:
    """Share of (need-weighted) population within each reference standard (minutes by
    mode; within any of them counts) after the point's decision, from its ``access.csv``:
    one yardstick for every point, so a point that relaxes a standard shows the access
    it gives up."""
    if not access_csv.is_file():
        return {}
    table = unprotect_frame(pd.read_csv(access_csv))
    out = {}
    for service_type, thresholds in sorted(standards.items()):
        rows = table.loc[table["service_type"] == service_type]
        if rows.empty:
            continue
        zones = rows.drop_duplicates("zone_id").set_index("zone_id")
        need = zones["weight"] if "weight" in zones.columns else 1.0
        weight = (zones["population"] * need).to_numpy(dtype=float)
        within = np.zeros(len(zones), dtype=bool)
        for mode, max_minutes in thresholds.items():
            by_mode = rows.loc[rows["mode"] == mode].set_index("zone_id")
            if by_mode.empty:
                continue
            minutes = by_mode["minutes_after"].reindex(zones.index).to_numpy(dtype=float)
            within |= reachable(np.where(np.isnan(minutes), np.inf, minutes), max_minutes)
        total = weight.sum()
        out[service_type] = round(float(weight[within].sum() / total), 6) if total > 0 else 1.0
    return out


def results_table(
    points: Sequence[Point],
    axes: Sequence[Axis],
    out: Path,
    failed: dict[str, str],
    standards: dict[str, dict[str, float]],
) -> pd.DataFrame:
    """One row a point in grid order, with access against the reference ``standards``
    (service type -> minutes by mode) and the Pareto flag."""
    rows = []
    for point in points:
        row: dict[str, Any] = {"point": point.key}
        row.update({axis.key: value for axis, (_, value) in zip(axes, point.settings, strict=True)})
        folder = out / POINTS / point.key
        summary = folder / "summary.json"
        if point.scenario is not None and point.key not in failed and summary.is_file():
            row.update(point_row(json.loads(summary.read_text(encoding="utf-8"))))
            shares = reference_access(folder / "access.csv", standards)
            if shares:
                row[ACCESS] = round(sum(shares.values()) / len(shares), 6)
                row["min_access_share"] = min(shares.values())
            row["error"] = ""
        else:
            row["status"] = "invalid" if point.scenario is None else "failed"
            row["error"] = point.error or failed.get(point.key, "")
        rows.append(row)
    frame = pd.DataFrame(rows)
    for col in (SAVING, ACCESS):
        if col not in frame.columns:
            frame[col] = None
    solved = frame[SAVING].notna() & frame[ACCESS].notna()
    frame["pareto"] = False
    if solved.any():
        flags = frontier(frame.loc[solved, SAVING], frame.loc[solved, ACCESS])
        frame.loc[solved, "pareto"] = flags
    for col in INTEGER_FIGURES:
        if col in frame.columns:
            frame[col] = frame[col].astype("Int64")
    columns = ["point", *(a.key for a in axes), "status", "gap", *RESULT_FIGURES]
    columns += ["buildings_disposed", "services_moved", ACCESS, "min_access_share", "pareto"]
    columns.append("error")
    return frame.reindex(columns=columns)


def _write_outputs(
    result: SweepResult,
    base: ScenarioFile,
    axes: Sequence[Axis],
    outcomes: dict[str, PointOutcome],
    presentation: bool = True,
) -> list[Path]:
    out = result.out_dir
    files = [write_csv(out / "results.csv", result.results)]
    labels = [p.label for p in result.points]
    title = f"{base.scenario.name or base.path.stem}: {len(result.points)} points"
    if presentation and result.results[SAVING].notna().any():
        files += plot_frontier(
            result.results, labels, title, [out / "pareto.svg", out / "pareto.png"]
        )
    execution = result.execution
    doc = {
        "scenario": str(base.path),
        "axes": {a.key: list(a.values) for a in axes},
        "points": [
            {
                "index": p.index,
                "settings": dict(p.settings),
                "point": p.key,
                "folder": f"{POINTS}/{p.key}" if p.key else None,
                "computed": p.key in outcomes,
                "seconds": round(outcomes[p.key].seconds, 3) if p.key in outcomes else None,
                "cpu_seconds": (
                    round(outcomes[p.key].cpu_seconds, 3) if p.key in outcomes else None
                ),
                "worker": outcomes[p.key].worker if p.key in outcomes else None,
                "error": p.error or result.failed.get(p.key, ""),
            }
            for p in result.points
        ],
        "computed": len(result.computed),
        "cached": len(result.cached),
        "failed": len(result.failed),
        "invalid": sum(p.scenario is None for p in result.points),
        "execution": None
        if execution is None
        else {"kind": execution.kind, "workers": execution.workers, "address": execution.address},
        "wall_seconds": round(result.seconds, 3),
    }
    files.append(write_json(out / "sweep.json", doc))
    return files
