"""What one run is given (:class:`RunInputs`), whoever assembled it: a scenario file
(:func:`scenarios.scenario.inputs.load_inputs`), the demo place (:func:`demo_inputs`) or
a caller of the Python API; and the tables a run folder keeps of it
(:func:`canonical_inputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from estate.register import Register
from geodata.network import RoadNetwork
from geodata.placecheck import PlaceChecks
from optimise.instance import travel_modes
from optimise.settings import (
    AccessStandard,
    FinanceSettings,
    Mode,
    PhasingSettings,
    PolicySettings,
    SolverSettings,
    SpaceSettings,
)


@dataclass(frozen=True)
class RunInputs:
    """Everything one run needs.  ``notice`` is shown on every output (e.g. synthetic data).

    ``access`` maps a service type to its standard, or to None where the scenario sets
    none (``access.<type>: none``); a public-facing type it leaves out gets the default.
    """

    name: str
    register: Register
    zones: pd.DataFrame
    access: Mapping[str, AccessStandard | None]
    network: RoadNetwork | None = None
    finance: FinanceSettings = field(default_factory=FinanceSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    solver: SolverSettings = field(default_factory=SolverSettings)
    notice: str = ""
    # How `estate plan` phases the change; carried so that a run folder's scenario.yaml
    # and summary.json give the same plan again (`estate run` does not use it).
    phasing: PhasingSettings = field(default_factory=PhasingSettings)
    checks: PlaceChecks | None = None  # the points checked against the place
    space: SpaceSettings = field(default_factory=SpaceSettings)

    def with_sharing(self, sharing: str) -> RunInputs:
        """The same run under the other policy (``shared`` or ``siloed``)."""
        policy = self.policy.model_copy(update={"sharing": sharing})
        return replace(self, policy=PolicySettings.model_validate(policy.model_dump()))


def modes_of(
    access: Mapping[str, AccessStandard | None], register: Register | None = None
) -> list[Mode]:
    """Every travel mode the run needs: those its standards use, defaults included
    (drive when there are none)."""
    public: set[str] = set()
    if register is not None:
        services = register.services
        public = set(services.loc[services["public_facing"], "service_type"])
    return travel_modes(access, public)


def canonical_inputs(inputs: RunInputs) -> dict[str, pd.DataFrame]:
    """The register, zones and network the run used, as the tables written to ``inputs/``."""
    from estate.validate import FILE_COLUMN, ROW_COLUMN

    def canonical(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.drop(columns=[c for c in (FILE_COLUMN, ROW_COLUMN) if c in frame.columns])
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].dt.strftime("%Y-%m-%d").fillna("")
        return frame

    out = {
        "buildings": canonical(inputs.register.buildings),
        "services": canonical(inputs.register.services),
        "zones": canonical(inputs.zones),
    }
    if inputs.network is not None:
        out["network_nodes"] = inputs.network.nodes
        out["network_edges"] = inputs.network.edges
    return out


DEMO_GAP = 0.005


def demo_inputs(
    seed: int, time_limit_seconds: float = 60.0, mip_rel_gap: float = DEMO_GAP
) -> RunInputs:
    """The run inputs of the embedded synthetic place."""
    from scenarios.places.demo import demo_place

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
