"""Run one scenario end to end: register -> travel times -> MILP -> run folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from estate.register import Register
from geodata.network import RoadNetwork
from geodata.traveltime import TravelTimes, estimated_travel_times, network_travel_times
from geodata.zones import points
from optimise.instance import EstateInstance
from optimise.model import EstateModel, Result
from optimise.settings import (
    AccessStandard,
    FinanceSettings,
    Mode,
    PolicySettings,
    SolverSettings,
)

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class RunInputs:
    """Everything one run needs.  ``notice`` is shown on every output (e.g. synthetic data)."""

    name: str
    register: Register
    zones: pd.DataFrame
    access: Mapping[str, AccessStandard]
    network: RoadNetwork | None = None
    finance: FinanceSettings = field(default_factory=FinanceSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    solver: SolverSettings = field(default_factory=SolverSettings)
    notice: str = ""


@dataclass(frozen=True)
class RunOutcome:
    """A finished run: its instance, result and where its files are."""

    inputs: RunInputs
    instance: EstateInstance
    result: Result
    out_dir: Path | None
    files: tuple[Path, ...] = ()


def travel_times(inputs: RunInputs, progress: Progress = _silent) -> dict[Mode, TravelTimes]:
    """Zone-to-building minutes for every mode an access standard uses."""
    modes: list[Mode] = sorted({s.mode for s in inputs.access.values()}) or ["drive"]
    origins = points(inputs.zones, "zone_id")
    destinations = points(inputs.register.buildings, "building_id")
    out: dict[Mode, TravelTimes] = {}
    for mode in modes:
        progress(f"travel times ({mode})")
        if inputs.network is not None:
            out[mode] = network_travel_times(inputs.network, origins, destinations, mode)
        else:
            out[mode] = estimated_travel_times(origins, destinations, mode)
    return out


def solve_inputs(inputs: RunInputs, progress: Progress = _silent) -> tuple[EstateInstance, Result]:
    """Travel times, model, solve: the computation without any file output."""
    times = travel_times(inputs, progress)
    instance = EstateInstance.build(
        inputs.register, inputs.zones, times, inputs.access, inputs.finance, inputs.policy
    )
    progress("building the model")
    model = EstateModel(instance)
    progress("solving")
    return instance, model.solve(inputs.solver)


def run(inputs: RunInputs, out_dir: str | Path | None, progress: Progress = _silent) -> RunOutcome:
    """Solve ``inputs`` and, when ``out_dir`` is given, write the run folder there."""
    from scenarios.outputs import write_run

    instance, result = solve_inputs(inputs, progress)
    if out_dir is None:
        return RunOutcome(inputs, instance, result, None)
    progress("writing outputs")
    files = write_run(Path(out_dir), inputs, instance, result)
    return RunOutcome(inputs, instance, result, Path(out_dir), tuple(files))


DEMO_GAP = 0.005


def demo_inputs(
    seed: int, time_limit_seconds: float = 60.0, mip_rel_gap: float = DEMO_GAP
) -> RunInputs:
    """The run inputs of the embedded synthetic place."""
    from scenarios.demo import demo_place

    place = demo_place(seed)
    return RunInputs(
        name=f"{place.name} (synthetic demo, seed {seed})",
        register=place.register,
        zones=place.zones,
        access=place.access,
        network=place.network,
        finance=place.finance,
        policy=place.policy,
        solver=SolverSettings(time_limit_seconds=time_limit_seconds, mip_rel_gap=mip_rel_gap),
        notice=place.notice,
    )


def run_demo(
    out_dir: str | Path | None,
    seed: int,
    time_limit_seconds: float = 60.0,
    mip_rel_gap: float = DEMO_GAP,
    progress: Progress = _silent,
) -> tuple[RunOutcome, dict[str, object]]:
    """Generate the demo place, run it, and return the outcome and its summary."""
    from scenarios.outputs import summary

    progress("generating the demo place")
    outcome = run(demo_inputs(seed, time_limit_seconds, mip_rel_gap), out_dir, progress)
    return outcome, summary(outcome.inputs, outcome.instance, outcome.result)
