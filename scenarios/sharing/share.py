"""Who pays, who gains: a fair share of the saving for each agency (MODEL.md §7).

``estate share SCENARIO.yaml`` solves the scenario for every coalition of agencies
(only they pool their estates; the others' buildings and services stay as they are)
through the sweep engine, in parallel and resumable (``OUT/coalitions/``); computes
each agency's Shapley value of the game ``v(coalition) = NPV saving``; checks it
against every coalition (the core); and sets it beside *where the money lands* in the
grand coalition's plan (each agency's own NPV saving: receipts and running costs to
the building's holder, move costs to the agency whose service moves).  The transfer
takes an agency from where the money lands to its fair share:
``shapley = lands + transfer``, and transfers add up to zero.

Solver gaps.  Shapley values are differences of coalition values, so a loose gap on
each solve could move a share by more than the gap itself.  Coalitions are solved to
``gap`` (default 1e-6 relative, tighter than a scenario's usual 0.5%), each value is
kept as the interval between the plan found and the solver's bound, monotonicity is
restored where solver noise broke it (:func:`scenarios.sharing.shapley.repair`: a coalition
may always take a sub-coalition's plan), and every share is reported with the most
the gaps could move it.

Outputs in ``OUT``: the grand coalition's run folder (``summary.json``, the tables,
map and ``report.html``/``report.xlsx`` with a "Who pays, who gains" section),
``sharing.json``, ``sharing.csv`` (one row an agency) and ``coalitions.csv`` (one row
a coalition).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.errors import EstateError, SettingsError
from estate.io import atomic_write, write_csv, write_json
from optimise.model import GivenPlan
from scenarios.scenario.file import ScenarioFile
from scenarios.sharing.shapley import (
    EXACT_UP_TO,
    CoreCheck,
    Shares,
    Values,
    all_coalitions,
    core_check,
    exact_shapley,
    members,
    prefix_coalitions,
    repair,
    sample_orders,
    sampled_shapley,
)
from scenarios.sweeps.sweep import POINT_JSON, POINTS, Axis, SweepResult, grid, run_sweep

SHARING_JSON = "sharing.json"
SHARING_CSV = "sharing.csv"
COALITIONS_CSV = "coalitions.csv"
COALITIONS_DIR = "coalitions"
SHARING_FILES = (SHARING_JSON, SHARING_CSV, COALITIONS_CSV)
DEFAULT_GAP = 1e-6
DEFAULT_SAMPLES = 200
SOLVED = ("optimal", "feasible")
Progress = Callable[[int, int, str], None]


class ShareError(EstateError):
    """A coalition could not be valued, so no fair share can be computed."""


def _no_progress(done: int, total: int, message: str) -> None:
    return None


@dataclass(frozen=True)
class ShareOptions:
    """How coalitions are solved and the Shapley value computed."""

    gap: float = DEFAULT_GAP  # relative MIP gap of every coalition's solve
    samples: int = DEFAULT_SAMPLES  # random orders when there are too many agencies
    seed: int = 0
    exact_up_to: int = EXACT_UP_TO


@dataclass
class ShareResult:
    """Coalition values, shares, the core check and where the money lands."""

    players: list[str]
    values: Values
    shares: Shares
    core: CoreCheck
    lands: dict[str, float]
    coalitions: pd.DataFrame
    doc: dict[str, Any]
    sweep: SweepResult
    out_dir: Path
    plan_folder: Path  # the coalition run folder whose plan the grand coalition takes
    files: list[Path] = field(default_factory=list)


def players_of(sf: ScenarioFile, register_agencies: list[str]) -> list[str]:
    """The agencies that may pool their estates: the scenario's, or the register's."""
    agencies = sf.scenario.policy.agencies
    return sorted(agencies) if agencies is not None else sorted(register_agencies)


def _check_policy(sf: ScenarioFile, buildings: pd.DataFrame, players: list[str]) -> None:
    forced = buildings.loc[buildings["building_id"].isin(sf.scenario.policy.force_dispose)]
    if len(forced) and len(players) > 1:
        named = ", ".join(
            f"{b} ({a})" for b, a in zip(forced["building_id"], forced["agency"], strict=True)
        )
        raise SettingsError(
            f"policy.force_dispose names {named}: a coalition without its agency keeps that "
            "agency's buildings as they are, so the forced disposal cannot hold in every "
            "coalition; remove it from the scenario for estate share"
        )


def coalition_masks(n: int, options: ShareOptions) -> tuple[list[int], np.ndarray | None]:
    """The coalitions to solve: all of them, or the prefixes of sampled orders."""
    if n <= options.exact_up_to:
        return all_coalitions(n), None
    orders = sample_orders(n, options.samples, options.seed)
    return prefix_coalitions(orders), orders


def _gap_text(gap: float) -> str:
    return np.format_float_positional(gap, trim="-")


def share_scenario(
    sf: ScenarioFile,
    out_dir: str | Path,
    options: ShareOptions | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    progress: Progress = _no_progress,
    force: bool = False,
) -> ShareResult:
    """Value every coalition, share the grand coalition's saving, write ``out_dir``.

    ``out_dir`` is written whole (:func:`scenarios.outputs.folders.writing_folder`): the
    coalitions are solved into ``OUT/coalitions/`` as they finish (so a stopped share
    resumes), and the grand coalition's run folder replaces ``OUT`` at the end, with
    ``coalitions/`` carried over.
    """
    from scenarios.outputs.folders import writing_folder

    protect = list(sf.input_paths().values())
    with writing_folder(out_dir, force=force, protect=protect, carry=(COALITIONS_DIR,)) as staging:
        result = _share(
            sf, staging.target, options or ShareOptions(), scheduler, workers, serial, progress
        )
        result.files = list(staging.finals(write_share(staging.path, result)))
    return result


def _share(
    sf: ScenarioFile,
    out: Path,
    options: ShareOptions,
    scheduler: str | None,
    workers: int | None,
    serial: bool,
    progress: Progress,
) -> ShareResult:
    from scenarios.scenario.inputs import load_inputs

    inputs = load_inputs(sf)  # checks the data and the names the policy uses
    players = players_of(sf, inputs.register.agencies)
    _check_policy(sf, inputs.register.buildings, players)
    masks, orders = coalition_masks(len(players), options)
    base = sf.with_overrides({"solver.mip_rel_gap": _gap_text(options.gap)})
    axis = Axis("policy.agencies", tuple(json.dumps(members(m, players)) for m in masks))
    points = grid(base, [axis])
    sweep, solves = _solve_coalitions(
        base,
        axis,
        points,
        masks,
        players,
        inputs.register,
        out,
        (scheduler, workers, serial),
        progress,
    )
    docs = _coalition_summaries(sweep, masks, players)
    lo, hi = {}, {}
    for mask, doc in docs.items():
        lo[mask], hi[mask] = _interval(doc)
    values = repair(lo, hi)
    if orders is None:
        shares = exact_shapley(players, values)
    else:
        shares = sampled_shapley(players, values, orders)
    core = core_check(values, shares.shapley, len(players))
    grand = (1 << len(players)) - 1
    source = values.source[grand] or grand
    lands_by_agency = {a["agency"]: float(a["npv_saving"]) for a in docs[source]["agencies"]}
    lands = {p: lands_by_agency.get(p, 0.0) for p in players}
    keys = {mask: point.key for mask, point in zip(masks, points, strict=True)}
    table = coalition_table(players, values, docs, keys, solves, options.gap)
    doc = sharing_doc(sf, players, values, shares, core, lands, table, options, source)
    plan = sweep.out_dir / POINTS / keys[source]
    return ShareResult(players, values, shares, core, lands, table, doc, sweep, out, plan)


@dataclass(frozen=True)
class Decision:
    """A coalition's plan in the register's ids: buildings disposed of, and where each
    service that moves goes."""

    disposed: frozenset[str]
    moves: dict[str, str]


@dataclass(frozen=True)
class CoalitionSolve:
    """How one coalition was solved: its place in the order (1 = first), the plans
    given to its solver, the best plan known before the solve, and its seconds."""

    order: int
    plans_given: int
    started_from: str | None
    seconds: float | None


@dataclass(frozen=True)
class _Estate:
    """Who holds what: each building's and service's agency, each service's home."""

    building_agency: dict[str, str]
    service_agency: dict[str, str]
    home: dict[str, str]

    @classmethod
    def of(cls, register: Any) -> _Estate:
        b, sv = register.buildings, register.services
        return cls(
            dict(zip(b["building_id"], b["agency"], strict=True)),
            dict(zip(sv["service_id"], sv["agency"], strict=True)),
            dict(zip(sv["service_id"], sv["building_id"], strict=True)),
        )

    def plan(self, parts: list[tuple[Decision, set[str]]], name: str) -> GivenPlan:
        """The plan that takes, for each (decision, agencies), those agencies' buildings
        and services as the decision has them; everything else stays as it is.  A
        building left holding a service is kept."""
        disposed: set[str] = set()
        moves: dict[str, str] = {}
        for decision, agencies in parts:
            disposed |= {b for b in decision.disposed if self.building_agency[b] in agencies}
            for service, building in decision.moves.items():
                if (
                    self.service_agency[service] in agencies
                    and self.building_agency[building] in agencies
                ):
                    moves[service] = building
        occupied = {moves.get(service, home) for service, home in self.home.items()}
        return GivenPlan(name, tuple(sorted(disposed - occupied)), tuple(sorted(moves.items())))


def read_decision(folder: Path) -> Decision | None:
    """A finished coalition's plan from its run folder, or None when it has none (or
    splits a service, which a start cannot)."""
    from estate.io import read_csv_text

    buildings, moves = folder / "buildings.csv", folder / "moves.csv"
    if not buildings.is_file() or not moves.is_file():
        return None
    table = read_csv_text(buildings)
    moved = read_csv_text(moves)
    if len(moved) and (moved["share"].astype(float) < 1.0 - 1e-9).any():
        return None
    disposed = frozenset(table.loc[table["decision"] == "dispose", "building_id"])
    return Decision(disposed, dict(zip(moved["service_id"], moved["to_building"], strict=True)))


def solve_order(masks: list[int], n: int) -> list[list[int]]:
    """Two waves of coalitions: first the grand coalition with every coalition of up
    to n - 2 agencies, all at once; then the coalitions of n - 1 agencies (the largest
    and slowest after the grand one), each started from the grand plan cut down to its
    members and from its splits into two coalitions solved in the first wave.

    Only the second wave waits (measured on the demo: the small coalitions solve in
    seconds whatever their start, and holding them back idles a worker while the grand
    coalition solves).  A wave starts when the one before it has finished, so every
    coalition's starts are the same whatever order the solves finish in."""
    grand = (1 << n) - 1
    first = [m for m in masks if m == grand or m.bit_count() <= max(n - 2, 1)]
    second = [m for m in masks if m not in first]
    return [sorted(wave) for wave in (first, second) if wave]


def start_plans(
    mask: int,
    players: list[str],
    estate: _Estate,
    decisions: dict[int, Decision | None],
    values: dict[int, float],
    grand: int,
    limit: int = 32,
) -> tuple[tuple[GivenPlan, ...], float]:
    """Plans for coalition ``mask`` from coalitions solved before it, and the value
    they promise (what orders the wave: largest first).

    The grand coalition's plan cut down to the members (the others' buildings and
    services as they are), and for each split of the coalition into two solved parts,
    the two parts' plans side by side: v(S) >= v(A) + v(S minus A) whenever that plan
    keeps every rule (the solver checks each, row by row).  At most ``limit`` splits,
    the most valuable first.
    """
    agencies = set(members(mask, players))
    plans: list[GivenPlan] = []
    promise = float("inf") if mask == grand else 0.0  # the largest benefit of all
    if grand != mask and decisions.get(grand) is not None:
        decision = decisions[grand]
        assert decision is not None
        plans.append(estate.plan([(decision, agencies)], "grand coalition's plan"))
        promise = values.get(grand, 0.0)
    splits = []
    lowest = mask & -mask
    part = (mask - 1) & mask
    while part:
        other = mask & ~part
        if part & lowest and decisions.get(part) is not None and decisions.get(other) is not None:
            splits.append((values.get(part, 0.0) + values.get(other, 0.0), part, other))
        part = (part - 1) & mask
    splits.sort(key=lambda t: (-t[0], t[1]))
    for _, a, b in splits[:limit]:
        da, db = decisions[a], decisions[b]
        assert da is not None and db is not None
        name = f"{' + '.join(members(a, players))} with {' + '.join(members(b, players))}"
        plans.append(
            estate.plan([(da, set(members(a, players))), (db, set(members(b, players)))], name)
        )
    if splits:
        promise = max(splits[0][0], promise)
    return tuple(plans), promise


def _solve_coalitions(
    base: ScenarioFile,
    axis: Axis,
    points: list[Any],
    masks: list[int],
    players: list[str],
    register: Any,
    out: Path,
    execution: tuple[str | None, int | None, bool],
    progress: Progress,
) -> tuple[SweepResult, dict[int, CoalitionSolve]]:
    """Solve every coalition, wave by wave (:func:`solve_order`), each from the plans
    of the coalitions solved before it (:func:`start_plans`), into ``OUT/coalitions/``
    (resumable: a coalition already solved is not solved again)."""
    from scenarios.sweeps.parallel import default_workers, local_cluster

    scheduler, workers, serial = execution
    point_of = dict(zip(masks, points, strict=True))
    estate = _Estate.of(register)
    grand = (1 << len(players)) - 1
    decisions: dict[int, Decision | None] = {}
    values: dict[int, float] = {}
    solves: dict[int, CoalitionSolve] = {}
    folder = out / COALITIONS_DIR
    total = len(masks)
    finished_before = 0
    order = 0

    def wave_progress(done: int, size: int, message: str) -> None:
        progress(finished_before + done, total, message)

    cluster: contextlib.AbstractContextManager[str | None] = contextlib.nullcontext(scheduler)
    if not serial and scheduler is None:
        cluster = local_cluster(min(workers or default_workers(), total))
    with cluster as address:
        for wave in solve_order(masks, len(players)):
            given = {m: start_plans(m, players, estate, decisions, values, grand) for m in wave}
            ranked = sorted(wave, key=lambda m: (-given[m][1], -m.bit_count(), m))
            wave_points = [point_of[m] for m in ranked if point_of[m].scenario is not None]
            result = run_sweep(
                base,
                [axis],
                folder,
                scheduler=address,
                workers=workers,
                serial=serial,
                progress=wave_progress,
                points=wave_points,
                presentation=False,
                plans={point_of[m].key: given[m][0] for m in wave},
            )
            for m in ranked:
                order += 1
                key = point_of[m].key
                point_folder = result.out_dir / POINTS / key
                decisions[m] = read_decision(point_folder)
                summary = point_folder / "summary.json"
                doc = json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {}
                if "npv_saving" in doc:
                    values[m] = float(doc["npv_saving"])
                outcome = result.outcomes.get(key)
                check = doc.get("solver_check") or {}
                solves[m] = CoalitionSolve(
                    order,
                    len(given[m][0]),
                    check.get("started_from"),
                    None if outcome is None else round(outcome.seconds, 3),
                )
            finished_before += len(wave)
        sweep = run_sweep(  # every coalition is finished: this writes the whole table
            base,
            [axis],
            folder,
            scheduler=address,
            workers=workers,
            serial=serial,
            points=points,
            presentation=False,
        )
    return sweep, solves


def _coalition_summaries(
    sweep: SweepResult, masks: list[int], players: list[str]
) -> dict[int, dict[str, Any]]:
    """Each coalition's ``summary.json``; raises naming every coalition without a plan."""
    problems = []
    docs: dict[int, dict[str, Any]] = {}
    for mask, point in zip(masks, sweep.points, strict=True):
        label = " + ".join(members(mask, players))
        if point.scenario is None or point.key in sweep.failed:
            error = point.error or sweep.failed.get(point.key, "")
            problems.append(f"{label}: failed ({error.splitlines()[0] if error else 'unknown'})")
            continue
        path = sweep.out_dir / POINTS / point.key / "summary.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc["status"] not in SOLVED:
            findings = doc.get("diagnosis", {}).get("findings", [])
            check = doc.get("solver_check") or {}
            why = f": {findings[0].get('message', '')}" if findings else ""
            if not check.get("passed", True):  # a solver failure: its value is not a value
                why = f": {check.get('message', '')}"
            problems.append(f"{label}: {doc['status']}{why}")
            continue
        docs[mask] = doc
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ShareError(
            f"{len(problems)} coalition(s) have no plan, or one the solver failed to prove, "
            f"so the saving cannot be shared (each needs the baseline, everything kept, to "
            f"be allowed, and a solver whose claim passes the check; see "
            f"{sweep.out_dir / POINTS}):\n{listed}"
        )
    return docs


def _interval(doc: dict[str, Any]) -> tuple[float, float]:
    """A coalition's value as (plan found, most the solver's bound allows)."""
    low = float(doc["npv_saving"])
    bound = doc.get("bound")
    if bound is None:
        high = low if doc["status"] == "optimal" else float("inf")
    else:
        high = float(doc["baseline_present_cost"]) - float(bound)
    return low, max(low, high)


def coalition_table(
    players: list[str],
    values: Values,
    docs: dict[int, dict[str, Any]],
    keys: dict[int, str],
    solves: dict[int, CoalitionSolve] | None = None,
    gap: float = DEFAULT_GAP,
) -> pd.DataFrame:
    """One row a coalition solved: its value, the solver's bound on it, whose plan,
    whether the value is proven within ``gap`` (and by what), and how it was solved."""
    rows = []
    solves = solves or {}
    for mask in sorted(values.lo, key=lambda m: (m.bit_count(), m)):
        doc = docs[mask]
        source = values.source[mask]
        solve = solves.get(mask)
        proven_by = proof(doc, values.lo[mask], values.hi[mask], gap)
        rows.append(
            {
                "coalition": " + ".join(members(mask, players)),
                "size": mask.bit_count(),
                "value": round(values.lo[mask], 2),
                "upper_bound": round(values.hi[mask], 2) if np.isfinite(values.hi[mask]) else None,
                "own_plan_value": round(float(doc["npv_saving"]), 2),
                "plan_from": "baseline" if source == 0 else " + ".join(members(source, players)),
                "status": doc["status"],
                "solver_gap": doc.get("gap"),
                "proven": proven_by is not None,
                "proven_by": proven_by,
                "solve_order": None if solve is None else solve.order,
                "started_from": None if solve is None else solve.started_from,
                "plans_given": None if solve is None else solve.plans_given,
                "seconds": None if solve is None or solve.seconds is None else solve.seconds,
                "buildings_disposed": doc.get("buildings", {}).get("disposed"),
                "point": keys[mask],
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("buildings_disposed", "solve_order", "plans_given"):
        frame[column] = frame[column].astype("Int64")
    return frame


def proof(doc: dict[str, Any], lo: float, hi: float, gap: float) -> str | None:
    """How a coalition's value is proven within the relative ``gap`` (of its present
    cost): ``"solver"`` when its own solve proved it, ``"other coalitions"`` when the
    bounds of the coalitions holding it narrow its interval enough; None otherwise."""
    if doc.get("status") == "optimal":
        return "solver"
    cost = abs(float(doc.get("objective") or 0.0))
    if np.isfinite(hi) and hi - lo <= gap * max(cost, 1.0) + 1e-6:
        return "other coalitions"
    return None


def sharing_doc(
    sf: ScenarioFile,
    players: list[str],
    values: Values,
    shares: Shares,
    core: CoreCheck,
    lands: dict[str, float],
    table: pd.DataFrame,
    options: ShareOptions,
    source: int,
) -> dict[str, Any]:
    """The ``sharing.json`` document (also what ``estate share --json`` prints)."""
    grand = (1 << len(players)) - 1

    def coalition(mask: int) -> list[str]:
        return members(mask, players)

    agencies = []
    for i, agency in enumerate(players):
        shapley = round(float(shares.shapley[i]), 2)
        landed = round(lands[agency], 2)
        agencies.append(
            {
                "agency": agency,
                "shapley": shapley,
                "lands": landed,
                "transfer": round(shapley - landed, 2),
                "standard_error": _money(shares.standard_error[i]),
                "uncertainty": _money(shares.uncertainty[i]),
            }
        )
    hi = values.hi[grand]
    return {
        "scenario": sf.scenario.name or sf.path.stem,
        "agencies_in_game": players,
        "method": shares.method,
        "samples": shares.samples,
        "seed": options.seed if shares.method == "sampled" else None,
        "mip_rel_gap": options.gap,
        "coalitions_proven": int(table["proven"].sum()) if "proven" in table else None,
        "all_proven": bool(table["proven"].all()) if "proven" in table else None,
        "grand_coalition_saving": round(values.lo[grand], 2),
        "grand_coalition_upper_bound": round(hi, 2) if np.isfinite(hi) else None,
        "plan_from": coalition(source) if source else [],
        "in_core": core.in_core,
        "core": {
            "coalitions_checked": core.checked,
            "least_core_epsilon": None
            if core.least_core_epsilon is None
            else round(core.least_core_epsilon, 2),
            "blocking": [
                {"coalition": coalition(m), "excess": round(e, 2)} for m, e in core.blocking
            ],
            "may_block": [
                {"coalition": coalition(m), "excess_at_bound": round(e, 2)}
                for m, e in core.may_block
            ],
            "worst": None
            if core.worst is None
            else {"coalition": coalition(core.worst[0]), "excess": round(core.worst[1], 2)},
        },
        "agencies": agencies,
        "coalitions": [
            {k: (None if pd.isna(v) else v) for k, v in row.items()}
            for row in table.astype(object).to_dict(orient="records")
        ],
    }


def _money(value: float) -> float | None:
    return round(float(value), 2) if np.isfinite(value) else None


def sharing_table(doc: dict[str, Any]) -> pd.DataFrame:
    """``sharing.csv``: one row an agency."""
    return pd.DataFrame(
        doc["agencies"],
        columns=["agency", "lands", "shapley", "transfer", "standard_error", "uncertainty"],
    )


def write_share(out: Path, result: ShareResult) -> list[Path]:
    """The grand coalition's run folder (its plan, copied from its coalition's folder),
    the sharing files, and the map and reports drawn with them, into a fresh ``out``."""
    from scenarios.outputs.presentation import write_presentation

    out.mkdir(parents=True, exist_ok=True)
    for item in sorted(result.plan_folder.rglob("*")):
        if item.is_file() and item.name != POINT_JSON:  # the sweep's own record
            atomic_write(out / item.relative_to(result.plan_folder), partial(_copy, item))
    files = [
        write_json(out / SHARING_JSON, result.doc),
        write_csv(out / SHARING_CSV, sharing_table(result.doc)),
        write_csv(out / COALITIONS_CSV, result.coalitions),
    ]
    return files + write_presentation(out, basemap="roads")


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
