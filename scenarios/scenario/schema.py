"""The scenario file's schema: what a YAML scenario may say, typed with pydantic.

A scenario composes the optimiser's own settings models (``optimise.settings``):
their fields, defaults and limits are defined there once and arrive here unchanged.
Only what is not a model setting is added: where the inputs are.

``python -m scenarios.scenario.schema --write`` regenerates ``docs/scenario.schema.json``, the
JSON Schema that editors use to check and complete scenario files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from optimise.settings import (
    AccessStandard,
    FinanceSettings,
    PhasingSettings,
    PolicySettings,
    SolverSettings,
    SpaceSettings,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "scenario.schema.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkTables(_Model):
    """A road network as two CSV tables in EPSG:27700 metres."""

    nodes: str = Field(description="CSV with node_id, x, y (EPSG:27700 metres)")
    edges: str = Field(
        description="CSV with u, v, length_m, highway and optional maxspeed_kph; one row a "
        "direction"
    )


class InputFiles(_Model):
    """Where the data are.  Paths are relative to the scenario file."""

    buildings: str | list[str] = Field(
        description="buildings register: one file or a list, in any format estate validate "
        "reads (CSV, XLSX/XLS/ODS, GeoPackage, GeoJSON, Shapefile); see docs/registers.md"
    )
    services: str = Field(description="services register (canonical CSV)")
    zones: str = Field(
        description="zones: canonical CSV (zone_id, population, a point), an ONS LSOA "
        "population-weighted centroid file (with population:), or a point layer"
    )
    population: str | None = Field(
        default=None,
        description="population by zone code (e.g. ONS SAPE CSV) when the zones file has none",
    )
    zone_name_prefix: str | None = Field(
        default=None,
        description="keep only zones whose name starts with this (e.g. Rutland for its LSOAs)",
    )
    mapping: str | list[str] | None = Field(
        default=None,
        description="column mapping YAML for the buildings files (estate mapping FILE writes "
        "one): one for every file, or a list with one a file",
    )
    network: str | NetworkTables | None = Field(
        default=None,
        description="road network: an OpenStreetMap file (.osm, .osm.pbf) or .graphml, or "
        "{nodes, edges} CSV tables; without one, travel times are straight-line estimates",
    )
    allow_far_from_network: bool = Field(
        default=False,
        description="run even when a zone or building is more than 5 km from the road "
        "network (its minutes are then mostly a straight line off the map); points more "
        "than 1 km (drive) or 500 m (walk) away are listed either way",
    )

    def paths(self) -> dict[str, str]:
        """Every file named, by its key under ``inputs`` (``buildings[1]`` for a list)."""
        out: dict[str, str] = {}
        for name in ("buildings", "services", "zones", "population", "mapping"):
            value = getattr(self, name)
            if isinstance(value, list):
                out.update({f"{name}[{i}]": v for i, v in enumerate(value)})
            elif value is not None:
                out[name] = value
        if isinstance(self.network, str):
            out["network"] = self.network
        elif self.network is not None:
            out["network.nodes"] = self.network.nodes
            out["network.edges"] = self.network.edges
        return out


class Scenario(_Model):
    """One question a Board asks: the data, the standards, the money and the rules."""

    name: str = Field(default="", description="shown on every output")
    notice: str = Field(default="", description="a warning printed on every output")
    inputs: InputFiles
    access: dict[str, AccessStandard | None] = Field(
        default_factory=dict,
        description="access standard per public-facing service_type; a type left out gets "
        "the default (nobody loses access); `none` sets no standard for a type",
    )
    finance: FinanceSettings = Field(default_factory=FinanceSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    solver: SolverSettings = Field(default_factory=SolverSettings)
    phasing: PhasingSettings = Field(default_factory=PhasingSettings)
    space: SpaceSettings = Field(default_factory=SpaceSettings)

    @field_validator("access", mode="before")
    @classmethod
    def _none(cls, value: Any) -> Any:
        """``access.<type>: none`` (or null) means the type has no standard."""
        if isinstance(value, dict):
            return {k: (None if v == "none" else v) for k, v in value.items()}
        return value

    def standards(self) -> dict[str, AccessStandard | None]:
        """The access section: a standard, or None for a type the scenario exempts."""
        return dict(self.access)


SECTIONS: dict[str, type[BaseModel]] = {
    "finance": FinanceSettings,
    "policy": PolicySettings,
    "solver": SolverSettings,
    "phasing": PhasingSettings,
    "space": SpaceSettings,
}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file."""
    schema = Scenario.model_json_schema()
    # ``access.<type>: none`` is read as null (no standard for the type)
    per_type = schema["properties"]["access"]["additionalProperties"]
    per_type["anyOf"].append({"const": "none", "type": "string"})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "public-estate scenario"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {SCHEMA_PATH.name}")
    args = parser.parse_args(argv)
    if args.write:
        from estate.io import write_text

        write_text(SCHEMA_PATH, schema_text())
        print(f"wrote {SCHEMA_PATH}")
    else:
        sys.stdout.write(schema_text())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
