"""Run one scenario end to end: register -> travel times -> MILP -> run folder."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from estate.register import Register
from geodata.network import RoadNetwork
from geodata.traveltime import TravelTimes, estimated_travel_times, network_travel_times
from geodata.zones import points
from optimise.instance import EstateInstance
from optimise.model import EstateModel, GivenPlan, Result
from optimise.settings import Mode
from scenarios.outputs.folders import Staging, destination
from scenarios.scenario.runinputs import DEMO_GAP, RunInputs, demo_inputs, modes_of

Progress = Callable[[str], None]
# After the main solve, before its folder is written: a table of extra columns for
# buildings.csv keyed on building_id (the price of keeping each disposal), or None.
Annotate = Callable[["RunInputs", EstateInstance, Result], pd.DataFrame | None]


def _silent(_: str) -> None:
    return None


Travel = dict[Mode, TravelTimes]


@dataclass(frozen=True)
class RunOutcome:
    """A finished run: its instance, result and where its files are."""

    inputs: RunInputs
    instance: EstateInstance
    result: Result
    out_dir: Path | None
    files: tuple[Path, ...] = ()


def mode_travel_times(
    register: Register, zones: pd.DataFrame, network: RoadNetwork | None, mode: Mode
) -> TravelTimes:
    """Zone-to-building minutes by ``mode``: on the network, or estimated without one."""
    origins = points(zones, "zone_id")
    destinations = points(register.buildings, "building_id")
    if network is not None:
        return network_travel_times(network, origins, destinations, mode)
    return estimated_travel_times(origins, destinations, mode)


def travel_times(inputs: RunInputs, progress: Progress = _silent) -> Travel:
    """Zone-to-building minutes for every mode an access standard uses."""
    out: Travel = {}
    for mode in modes_of(inputs.access, inputs.register):
        progress(f"travel times ({mode})")
        out[mode] = mode_travel_times(inputs.register, inputs.zones, inputs.network, mode)
    return out


def build_instance(inputs: RunInputs, times: Travel) -> EstateInstance:
    """The checked problem of ``inputs`` (what ``estate validate SCENARIO`` builds too)."""
    return EstateInstance.build(
        inputs.register,
        inputs.zones,
        {mode: times[mode] for mode in modes_of(inputs.access, inputs.register)},
        inputs.access,
        inputs.finance,
        inputs.policy,
        space=inputs.space,
    )


def solve_inputs(
    inputs: RunInputs,
    progress: Progress = _silent,
    travel: Travel | None = None,
    started: float | None = None,
    plans: Sequence[GivenPlan] = (),
) -> tuple[EstateInstance, Result]:
    """Travel times (unless given), model, solve: the computation without file output.

    The solver's time limit counts from ``started`` (``time.perf_counter()``; default:
    now), so that a run's reading and building fit in it too.  ``plans`` (from other
    solves) are checked and the cheapest that keeps every rule starts the solver."""
    started = time.perf_counter() if started is None else started
    times = travel if travel is not None else travel_times(inputs, progress)
    instance = build_instance(inputs, times)
    progress("building the model")
    model = EstateModel(instance, started=started)
    progress("solving")
    return instance, model.solve(inputs.solver, plans=plans)


def with_building_columns(result: Result, table: pd.DataFrame | None) -> Result:
    """``result`` with ``table``'s columns (keyed on building_id) added to its buildings."""
    if table is None or result.evaluation is None or table.empty:
        return result
    buildings = result.evaluation.buildings
    extra = table.set_index("building_id")
    added = buildings.drop(columns=[c for c in extra.columns if c in buildings.columns])
    added = added.join(extra, on="building_id")
    return replace(result, evaluation=replace(result.evaluation, buildings=added))


def run(
    inputs: RunInputs,
    out_dir: str | Path | Staging | None,
    progress: Progress = _silent,
    travel: Travel | None = None,
    extra: dict[str, Any] | None = None,
    *,
    force: bool = False,
    annotate: Annotate | None = None,
) -> RunOutcome:
    """Solve ``inputs`` and, when ``out_dir`` is given, write the run folder there.

    The folder is written whole or not at all, one command at a time
    (:func:`scenarios.outputs.folders.writing_folder`; ``force`` replaces a folder that is
    not a run folder); a :class:`~scenarios.outputs.folders.Staging` the caller holds is
    written into as it is.  ``extra`` adds keys to ``summary.json`` (for example the
    value of sharing); ``annotate`` adds columns to ``buildings.csv`` (the price of
    keeping).
    """
    from scenarios.outputs.writer import write_run

    started = time.perf_counter()

    def solved() -> tuple[EstateInstance, Result]:
        instance, result = solve_inputs(inputs, progress, travel, started)
        if annotate is not None:
            result = with_building_columns(result, annotate(inputs, instance, result))
        return instance, result

    if out_dir is None:
        instance, result = solved()
        return RunOutcome(inputs, instance, result, None)
    with destination(out_dir, force=force) as staging:
        assert staging is not None
        instance, result = solved()
        progress("writing outputs")
        files = write_run(staging.path, inputs, instance, result, extra=extra)
    return RunOutcome(inputs, instance, result, staging.given, staging.finals(files))


SHARING_FIGURES = (
    "npv_saving",
    "annual_revenue_saving",
    "capital_receipts",
    "one_off_costs",
)
OTHER_POLICY = {"shared": "siloed", "siloed": "shared"}


@dataclass(frozen=True)
class SharingOutcome:
    """A run, the same run under the other policy, and the value of sharing."""

    main: RunOutcome
    other: RunOutcome
    value: dict[str, Any]


def run_with_sharing_value(
    inputs: RunInputs,
    out_dir: str | Path | Staging | None,
    progress: Progress = _silent,
    *,
    force: bool = False,
    annotate: Annotate | None = None,
) -> SharingOutcome:
    """Run ``inputs`` and the same scenario under the other policy; the value of sharing
    is the ``shared`` result against the ``siloed`` one.

    The other policy's run folder goes in ``OUT_DIR/<policy>/``; the main folder's
    ``summary.json`` carries ``value_of_sharing``.  Both are written in one folder swap
    (see :func:`run`).
    """
    from scenarios.outputs.writer import summary, write_run

    other_policy = OTHER_POLICY[inputs.policy.sharing]
    other_inputs = inputs.with_sharing(other_policy)
    with destination(out_dir, force=force) as staging:
        times = travel_times(inputs, progress)
        progress(f"solving the {inputs.policy.sharing} scenario")
        main_instance, main_result = solve_inputs(inputs, _silent, times)
        if annotate is not None:
            main_result = with_building_columns(
                main_result, annotate(inputs, main_instance, main_result)
            )
        progress(f"solving the {other_policy} scenario")
        other_instance, other_result = solve_inputs(other_inputs, _silent, times)
        docs = {
            inputs.policy.sharing: summary(inputs, main_instance, main_result),
            other_policy: summary(other_inputs, other_instance, other_result),
        }
        value = sharing_value(docs["shared"], docs["siloed"], other_policy)
        main_files: tuple[Path, ...] = ()
        other_files: tuple[Path, ...] = ()
        if staging is not None:
            progress("writing outputs")
            other_dir = staging.path / other_policy
            other_files = tuple(write_run(other_dir, other_inputs, other_instance, other_result))
            extra = {"value_of_sharing": value}
            main_files = tuple(
                write_run(staging.path, inputs, main_instance, main_result, extra=extra)
            )
    where = None if staging is None else staging.given
    other = RunOutcome(
        other_inputs,
        other_instance,
        other_result,
        None if where is None else where / other_policy,
        () if staging is None else staging.finals(other_files),
    )
    main = RunOutcome(
        inputs,
        main_instance,
        main_result,
        where,
        () if staging is None else staging.finals(main_files),
    )
    return SharingOutcome(main, other, value)


def sharing_value(
    shared: dict[str, Any], siloed: dict[str, Any], other_folder: str
) -> dict[str, Any]:
    """The ``shared`` figures, the ``siloed`` ones, and their differences (None when
    either run found no decision)."""
    out: dict[str, Any] = {"other_run": other_folder}
    for name, doc in (("shared", shared), ("siloed", siloed)):
        out[name] = {"status": doc["status"], **{k: doc.get(k) for k in SHARING_FIGURES}}
        out[name]["buildings_disposed"] = doc.get("buildings", {}).get("disposed")
    both = "npv_saving" in shared and "npv_saving" in siloed
    out["difference"] = {
        k: (round(shared[k] - siloed[k], 2) if both else None) for k in SHARING_FIGURES
    }
    return out


def run_demo(
    out_dir: str | Path | None,
    seed: int,
    time_limit_seconds: float = 60.0,
    mip_rel_gap: float = DEMO_GAP,
    progress: Progress = _silent,
    *,
    force: bool = False,
) -> tuple[RunOutcome, dict[str, object]]:
    """Generate the demo place, run it, and return the outcome and its summary."""
    from scenarios.outputs.writer import summary

    with destination(out_dir, force=force) as staging:
        progress("generating the demo place")
        outcome = run(demo_inputs(seed, time_limit_seconds, mip_rel_gap), staging, progress)
    return outcome, summary(outcome.inputs, outcome.instance, outcome.result)
