"""Sweeps: a grid of scenario points, solved in parallel, resumable, with a frontier.

``estate sweep SCENARIO.yaml --set KEY=V1,V2 --set ...`` expands to every
combination of the values.  Each point is keyed by a hash of its resolved scenario
(every setting and the bytes of every input file) and of the versions that shape its
results (this package, the model, HiGHS and PuLP: :func:`point_versions`), and its run
folder is ``OUT/points/<key>/``: a point whose folder holds a ``summary.json`` is
finished and is never computed again, so an interrupted or extended sweep resumes
where it was.  After an upgrade the keys change, so every point is computed again;
the points an earlier version solved are named in ``sweep.json`` and the terminal
summary, and their folders are left in ``points/``.  A point that fails is reported
in the results (and retried next time), not fatal.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.errors import EstateError
from estate.io import write_csv, write_json
from estate.textsafe import unprotect_frame
from optimise.formulation import reachable
from optimise.model import GivenPlan
from optimise.solve import SolveStatus
from scenarios.scenario.file import ScenarioError, ScenarioFile, ScenarioIssue, parse_key
from scenarios.scenario.inputs import PlaceData, load_place
from scenarios.scenario.runinputs import modes_of
from scenarios.sweeps.parallel import (
    Execution,
    PointJob,
    PointOutcome,
    default_workers,
    run_dask,
    run_serial,
    write_point,
)
from scenarios.sweeps.pareto import ACCESS, SAVING, frontier, plot_frontier

KEY_LENGTH = 16
POINTS = "points"
SOLVER_ERROR = SolveStatus.SOLVER_ERROR.value
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
    content: str = ""  # the scenario's own key: settings and input bytes, no versions

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
    versions = point_versions()
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
        content = scenario.key(hashes)
        key = point_key(content, versions)
        points.append(Point(index, settings, scenario, key, content=content))
    if first_error is not None and all(p.scenario is None for p in points):
        raise first_error
    return points


VERSIONED = ("public-estate", "model", "highspy", "pulp")
POINT_JSON = "point.json"


def point_versions() -> dict[str, str]:
    """What a point's results depend on besides its settings and inputs: the versions
    of this package, of the model (:data:`optimise.version.MODEL_VERSION`), of HiGHS
    and of PuLP."""
    from scenarios.outputs.writer import versions

    found = versions()
    return {name: found[name] for name in VERSIONED}


def point_key(content: str, versions: dict[str, str]) -> str:
    """A point's folder name: a hash of its scenario's key and the versions."""
    text = json.dumps({"scenario": content, "versions": versions}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_LENGTH]


@dataclass(frozen=True)
class Earlier:
    """A finished point folder of the same scenario, solved by other versions."""

    folder: str
    versions: dict[str, str]


def earlier_points(points_dir: Path) -> dict[str, Earlier]:
    """Finished point folders by the first characters of their scenario's key.

    A folder written since points were keyed by version has a ``point.json`` naming
    its scenario key and versions; an older one is named by its scenario key, and its
    ``summary.json`` says which versions solved it (no model version then).
    """
    out: dict[str, Earlier] = {}
    if not points_dir.is_dir():
        return out
    for folder in sorted(points_dir.iterdir()):
        summary = folder / "summary.json"
        if folder.name.startswith(".") or not summary.is_file():
            continue
        try:
            meta = json.loads((folder / POINT_JSON).read_text(encoding="utf-8"))
            content, found = str(meta["scenario"]), dict(meta["versions"])
        except (OSError, ValueError, KeyError, TypeError):
            try:
                found = json.loads(summary.read_text(encoding="utf-8")).get("versions", {})
            except (OSError, ValueError):
                continue
            content = folder.name
        versions = {name: str(found.get(name, "unknown")) for name in VERSIONED}
        out.setdefault(content[:KEY_LENGTH], Earlier(folder.name, versions))
    return out


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
    outcomes: dict[str, PointOutcome] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    # point key -> the folder of the same point that other versions solved
    recomputed: dict[str, Earlier] = field(default_factory=dict)

    @property
    def solver_errors(self) -> int:
        """Points whose solver's claim failed the check (status ``solver_error``)."""
        if "status" not in self.results.columns:
            return 0
        return int((self.results["status"] == SOLVER_ERROR).sum())

    @property
    def ok(self) -> bool:
        return (
            not self.failed
            and all(p.scenario is not None for p in self.points)
            and not self.solver_errors
        )


def finished(folder: Path) -> bool:
    """Whether a point's folder holds a result worth reusing: a point whose solver
    failed its check is solved again when the sweep resumes."""
    path = folder / "summary.json"
    if not path.is_file():
        return False
    try:
        status = json.loads(path.read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        return False
    return bool(status != SOLVER_ERROR)


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
    force: bool = False,
    plans: Mapping[str, tuple[GivenPlan, ...]] | None = None,
) -> SweepResult:
    """Solve every point of the grid not already finished in ``out_dir``.

    ``points`` is the grid if the caller has expanded it already (:func:`grid`).
    Without ``presentation`` the points' folders hold the tables only (no map, report
    or GeoPackage) and no Pareto plot is drawn: for sweeps of many points whose folders
    nobody opens one by one (coalitions, the price of keeping).  ``plans`` gives, by
    point key, plans from other solves for that point's solver to start from.
    One sweep writes ``out_dir`` at a time; each point's folder is swapped in whole as
    it finishes, and the results, frontier and ``sweep.json`` replace the previous
    ones together (:func:`scenarios.outputs.folders.writing_folder`; ``force`` replaces a
    folder that is not a sweep folder).
    """
    from scenarios.outputs.folders import writing_folder

    start = time.perf_counter()
    with writing_folder(out_dir, kind="sweep", force=force, carry=(POINTS,)) as staging:
        result = _sweep(
            base,
            axes,
            staging.target,
            scheduler,
            workers,
            serial,
            progress,
            points,
            presentation,
            plans or {},
        )
        result.seconds = time.perf_counter() - start
        written = _write_outputs(result, base, axes, staging.path, presentation)
        result.files = list(staging.finals(written))
    return result


def _sweep(
    base: ScenarioFile,
    axes: Sequence[Axis],
    out: Path,
    scheduler: str | None,
    workers: int | None,
    serial: bool,
    progress: Progress,
    points: list[Point] | None,
    presentation: bool,
    plans: Mapping[str, tuple[GivenPlan, ...]],
) -> SweepResult:
    """Solve the pending points into ``out/points/`` (each folder swapped in whole as it
    finishes) and build the results table."""
    points = grid(base, axes) if points is None else points
    versions = point_versions()
    result = SweepResult(out, points, pd.DataFrame(), versions=versions)
    pending: dict[str, Point] = {}
    earlier = earlier_points(out / POINTS)
    for point in points:
        if point.scenario is None:
            continue
        if finished(out / POINTS / point.key):
            result.cached.append(point.key)
        else:
            pending.setdefault(point.key, point)
            before = earlier.get(point.content[:KEY_LENGTH])
            if before is not None and before.folder != point.key:
                result.recomputed[point.key] = before
    total = len({p.key for p in points if p.scenario is not None})
    done = total - len(pending)
    progress(done, total, f"{len(result.cached)} finished before")

    def on_done(outcome: PointOutcome) -> None:
        nonlocal done
        meta = {"scenario": pending[outcome.key].content, "versions": versions}
        text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
        outcome = replace(outcome, files={**outcome.files, POINT_JSON: text.encode("utf-8")})
        write_point(out / POINTS / outcome.key, outcome)
        result.outcomes[outcome.key] = outcome
        if outcome.ok:
            result.computed.append(outcome.key)
        else:
            result.failed[outcome.key] = outcome.error
        done += 1
        label = pending[outcome.key].label
        progress(done, total, f"{label}: {outcome.status or 'failed'}")

    jobs, places = _jobs(base, list(pending.values()), out, on_done, presentation, plans)
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
    return result


def _jobs(
    base: ScenarioFile,
    points: list[Point],
    out: Path,
    on_done: Callable[[PointOutcome], None],
    presentation: bool = True,
    plans: Mapping[str, tuple[GivenPlan, ...]] | None = None,
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
                (plans or {}).get(point.key, ()),
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
            doc = json.loads(summary.read_text(encoding="utf-8"))
            row.update(point_row(doc))
            shares = reference_access(folder / "access.csv", standards)
            if shares:
                row[ACCESS] = round(sum(shares.values()) / len(shares), 6)
                row["min_access_share"] = min(shares.values())
            check = doc.get("solver_check") or {}
            row["error"] = "" if check.get("passed", True) else str(check.get("message", ""))
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
    out: Path,
    presentation: bool = True,
) -> list[Path]:
    """``results.csv``, the frontier and ``sweep.json``, into ``out``."""
    outcomes = result.outcomes
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
        "versions": result.versions,
        "recomputed_after_upgrade": [
            {"point": key, "earlier_folder": f"{POINTS}/{e.folder}", "earlier_versions": e.versions}
            for key, e in sorted(result.recomputed.items())
        ],
        "failed": len(result.failed),
        "invalid": sum(p.scenario is None for p in result.points),
        "execution": None
        if execution is None
        else {"kind": execution.kind, "workers": execution.workers, "address": execution.address},
        "wall_seconds": round(result.seconds, 3),
    }
    files.append(write_json(out / "sweep.json", doc))
    return files
