"""Scenarios: runs, outputs, maps and comparisons; and the Python API.

    from scenarios import run_scenario, Run

See :mod:`scenarios.api` (and ``docs/api.md``).  The names below are imported on first
use, so that importing one module of the package stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from estate import __version__

if TYPE_CHECKING:
    from estate.register import Register
    from geodata.network import RoadNetwork
    from geodata.traveltime import TravelTimes
    from optimise.settings import (
        AccessStandard,
        FinanceSettings,
        PhasingSettings,
        PolicySettings,
        SolverSettings,
    )
    from scenarios.api import MapView, ReportView, Run, read_zones, run_scenario, travel_times
    from scenarios.run import RunInputs
    from scenarios.scenario import load_scenario
    from scenarios.schema import Scenario

# name -> the module it lives in
_PUBLIC = {
    "run_scenario": "scenarios.api",
    "Run": "scenarios.api",
    "MapView": "scenarios.api",
    "ReportView": "scenarios.api",
    "read_zones": "scenarios.api",
    "travel_times": "scenarios.api",
    "RunInputs": "scenarios.run",
    "Scenario": "scenarios.schema",
    "load_scenario": "scenarios.scenario",
    "Register": "estate.register",
    "RoadNetwork": "geodata.network",
    "TravelTimes": "geodata.traveltime",
    "AccessStandard": "optimise.settings",
    "FinanceSettings": "optimise.settings",
    "PhasingSettings": "optimise.settings",
    "PolicySettings": "optimise.settings",
    "SolverSettings": "optimise.settings",
}

__all__ = [
    "AccessStandard",
    "FinanceSettings",
    "MapView",
    "PhasingSettings",
    "PolicySettings",
    "Register",
    "ReportView",
    "RoadNetwork",
    "Run",
    "RunInputs",
    "Scenario",
    "SolverSettings",
    "TravelTimes",
    "__version__",
    "load_scenario",
    "read_zones",
    "run_scenario",
    "travel_times",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scenarios' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
