"""Write scenario files people can read: every setting, its value and what it means.

The comments come from the settings models' own descriptions, so a template never
drifts from the schema.  :func:`init_folder` is ``estate init``: a commented template
scenario, its JSON Schema, and empty register tables with the right headers.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pandas as pd
import yaml
from pydantic import BaseModel

from estate.io import write_csv, write_text
from optimise.settings import SpaceSettings
from scenarios.scenario.runinputs import RunInputs, canonical_inputs, demo_inputs
from scenarios.scenario.schema import SECTIONS, InputFiles, NetworkTables, Scenario, schema_text

COMMENT_COLUMN = 34
SCHEMA_FILE = "scenario.schema.json"
ACCESS_EXAMPLE = """\
  # One entry per public-facing service_type of services.csv.  A type left out gets the
  # default standard: nobody loses access (no zone's minutes to its nearest service of
  # the type may rise), and the run warns.  For example:
  # gp:
  #   drive: 15                # within 15 minutes by car ...
  #   walk: 20                 # ... or 20 minutes on foot
  #   min_share: 0.95          # of 95% of people (or max_loss: 0.0: nobody loses it)
  #   max_increase_minutes: 10 # and no zone more than 10 minutes further than today
  # library: {max_increase_minutes: 0, modes: [drive, walk]}
  # museum: none               # no standard for this type
"""
SPACE_EXAMPLE = """\
  # The space each building type provides, what may be fitted out, occupancy costs, and
  # what each service type needs (defaults: docs/model.md), for example:
  # building_types:
  #   office:
  #     occupancy_cost_per_m2: 50
  #     conversions: [{to: clinical, source: office, cost_per_m2: 2000, lead_years: 2}]
  # service_types:
  #   gp: {m2_per_desk: 30}
"""
NETWORK_EXAMPLE = """\
  # A road network: an OpenStreetMap or graphml file, for example
  # network: rutland-latest.osm.pbf
  # or two CSV tables (EPSG:27700 metres):
  # network:
  #   nodes: inputs/network_nodes.csv   # node_id, x, y
  #   edges: inputs/network_edges.csv   # u, v, length_m, highway, maxspeed_kph
"""


def scalar(value: Any) -> str:
    """One value as YAML flow text that ``yaml.safe_load`` reads back as it was."""
    if isinstance(value, tuple):
        value = list(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _line(indent: int, key: str, value: str | None, comment: str) -> str:
    head = f"{' ' * indent}{key}:" + (f" {value}" if value is not None else "")
    if not comment:
        return head
    return f"{head.ljust(COMMENT_COLUMN - 1)} # {comment}"


def _doc(model: type[BaseModel]) -> str:
    """The first paragraph of a model's docstring, on one line."""
    text = inspect.cleandoc(model.__doc__ or "")
    return " ".join(text.split("\n\n")[0].split())


def _fields(model: BaseModel, indent: int) -> list[str]:
    out = []
    dumped = model.model_dump(mode="json")
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if info.exclude and value is None:
            continue  # an older form read in and converted, never written
        if isinstance(value, BaseModel):
            out.append(_line(indent, name, None, info.description or _doc(type(value))))
            out += _fields(value, indent + 2)
            continue
        comment = info.description or ""
        choices = _choices(info.annotation)
        if choices:
            comment = f"{comment}; one of {choices}" if comment else f"one of {choices}"
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        if not info.is_required() and value != default:
            comment = f"{comment} [default: {scalar(default)}]".strip()
        shown = dumped[name] if _holds_models(value) else value
        out.append(_line(indent, name, scalar(shown), comment))
    return out


def _holds_models(value: Any) -> bool:
    """A dict, list or tuple with settings models inside (written as plain data)."""
    items = value.values() if isinstance(value, dict) else value
    return isinstance(value, dict | list | tuple) and any(
        isinstance(v, BaseModel) or _holds_models(v) for v in items
    )


def _set_fields(model: BaseModel, indent: int) -> list[str]:
    """The fields of ``model`` that hold a value (an access standard's unset options
    stay out, so the file reads like the standard it states)."""
    out = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is not None:
            out.append(_line(indent, name, scalar(value), info.description or ""))
    return out


def _choices(annotation: Any) -> str:
    """``a | b`` for a Literal field (also inside ``X | None``), else empty."""
    if get_origin(annotation) is Literal:
        return " | ".join(map(str, get_args(annotation)))
    for arg in get_args(annotation):
        found = _choices(arg)
        if found:
            return found
    return ""


def render_scenario(scenario: Scenario, header: str = "", schema_hint: bool = False) -> str:
    """The scenario as commented YAML; loading it gives ``scenario`` back."""
    lines = []
    if schema_hint:
        lines.append(f"# yaml-language-server: $schema={SCHEMA_FILE}")
    lines += [f"# {text}".rstrip() for text in header.splitlines()]
    lines.append("# Paths are relative to this file.  Check a setting's meaning in the comments.")
    lines.append(_line(0, "name", scalar(scenario.name), "shown on every output"))
    lines.append(_line(0, "notice", scalar(scenario.notice), "a warning printed on every output"))
    lines.append("")
    lines.append(_line(0, "inputs", None, _doc(InputFiles)))
    lines += _fields(scenario.inputs, 2)
    if scenario.inputs.network is None:
        lines.append(NETWORK_EXAMPLE.rstrip("\n"))
    lines.append("")
    if scenario.access:
        lines.append(_line(0, "access", None, "access standard per public-facing service_type"))
        for service_type, standard in sorted(scenario.standards().items()):
            if standard is None:
                lines.append(_line(2, service_type, "none", "no standard for this type"))
                continue
            lines.append(_line(2, service_type, None, standard.describe()))
            lines += _set_fields(standard, 4)
    else:
        lines.append(_line(0, "access", "{}", "access standard per public-facing service_type"))
        lines.append(ACCESS_EXAMPLE.rstrip("\n"))
    for section, model in SECTIONS.items():
        lines.append("")
        lines.append(_line(0, section, None, _doc(model)))
        lines += _fields(getattr(scenario, section), 2)
        if section == "space" and scenario.space == SpaceSettings():
            lines.append(SPACE_EXAMPLE.rstrip("\n"))
    return "\n".join(lines) + "\n"


def template_scenario() -> Scenario:
    """A scenario with every default, pointing at the tables :func:`init_folder` writes."""
    return Scenario(
        name="My place",
        inputs=InputFiles(
            buildings="inputs/buildings.csv",
            services="inputs/services.csv",
            zones="inputs/zones.csv",
        ),
    )


def init_folder(
    folder: str | Path, force: bool = False, demo_seed: int | None = None
) -> list[Path]:
    """Write a template scenario, its JSON Schema and empty register tables; or, with
    ``demo_seed``, the synthetic demo place's scenario and its generated inputs.

    Raises ``FileExistsError`` naming a file that is there already, unless ``force``.
    """
    from estate.schema import BUILDINGS, SERVICES, ZONES

    folder = Path(folder)
    targets = {
        "scenario.yaml": None,
        SCHEMA_FILE: None,
        "inputs/buildings.csv": BUILDINGS,
        "inputs/services.csv": SERVICES,
        "inputs/zones.csv": ZONES,
    }
    if not force:
        for name in targets:
            if (folder / name).exists():
                raise FileExistsError(folder / name)
    if demo_seed is not None:
        files = write_scenario_folder(folder, demo_inputs(demo_seed))
        return [*files, write_text(folder / SCHEMA_FILE, schema_text())]
    header = (
        "A scenario for the public-estate optimiser, written by `estate init`.\n"
        "Fill in inputs/*.csv (one row a building, a service, a zone), add an access\n"
        "standard for each public-facing service type, then: estate run scenario.yaml"
    )
    files = [
        write_text(
            folder / "scenario.yaml",
            render_scenario(template_scenario(), header, schema_hint=True),
        ),
        write_text(folder / SCHEMA_FILE, schema_text()),
    ]
    for name, spec in targets.items():
        if spec is not None:
            files.append(write_csv(folder / name, pd.DataFrame(columns=spec.names)))
    return files


def network_tables(folder: str = "inputs") -> NetworkTables:
    return NetworkTables(nodes=f"{folder}/network_nodes.csv", edges=f"{folder}/network_edges.csv")


REGISTER_HEADER = """\
A scenario over real inputs, written by `estate init --register`.
Register: {register} ({buildings} buildings, {services} services, {estimated} with
estimated figures: see their `estimated` column and docs/real-place.md).
Zones: {zones_note}.
ASSUMPTIONS TO REVIEW: the access standards below are defaults (estate/data/services.yaml)
for every public-facing service type in the register, not the Board's; set each one,
then: estate run scenario.yaml"""


def init_from_register(
    folder: str | Path,
    register: str | Path,
    zones: str | Path,
    population: str | Path | None = None,
    zone_name_prefix: str | None = None,
    network: str | Path | None = None,
    force: bool = False,
    name: str | None = None,
) -> list[Path]:
    """Write ``scenario.yaml`` (and its JSON Schema) over a register folder (the
    ``buildings.csv`` and ``services.csv`` that ``estate estimate`` writes) and real
    zones, with a default access standard for every public-facing service type present.

    Every input is read first with the readers ``estate run`` uses (so a scenario that
    cannot run is not written) and named by its path relative to ``folder``.
    """
    import os

    from estate.errors import CellIssue, InputDataError
    from estate.rates import service_rules
    from estate.register import account_register
    from geodata.zones import read_zones
    from optimise.settings import AccessStandard

    folder = Path(folder)
    reg = Path(register)
    buildings_csv, services_csv = reg / "buildings.csv", reg / "services.csv"
    missing = [p for p in (buildings_csv, services_csv) if not p.is_file()]
    if missing:
        raise InputDataError(
            [CellIssue(str(p), None, "", "", "file not found") for p in missing],
            f"{reg} is not a register folder (estate estimate writes one)",
        )
    for target in ("scenario.yaml", SCHEMA_FILE):
        if (folder / target).exists() and not force:
            raise FileExistsError(folder / target)
    loaded = account_register([str(buildings_csv)], str(services_csv)).checked()
    found = read_zones(zones, population, zone_name_prefix)
    public = sorted(set(loaded.services.loc[loaded.services["public_facing"], "service_type"]))
    defaults = service_rules().access
    access: dict[str, AccessStandard | None] = {
        t: AccessStandard.model_validate(
            defaults.get(t, {"drive": 30, "max_loss": 0.0, "max_increase_minutes": 15})
        )
        for t in public
    }

    def rel(path: str | Path) -> str:
        return Path(os.path.relpath(Path(path).resolve(), folder.resolve())).as_posix()

    scenario = Scenario(
        name=name or reg.resolve().name,
        inputs=InputFiles(
            buildings=rel(buildings_csv),
            services=rel(services_csv),
            zones=rel(zones),
            population=rel(population) if population is not None else None,
            zone_name_prefix=zone_name_prefix,
            network=rel(network) if network is not None else None,
        ),
        access=access,
    )
    estimated = 0
    if "estimated" in loaded.buildings:
        estimated = int(
            loaded.buildings["estimated"]
            .map(lambda v: isinstance(v, str) and v.strip() != "")
            .sum()
        )
    header = REGISTER_HEADER.format(
        register=reg,
        buildings=len(loaded.buildings),
        services=len(loaded.services),
        estimated=estimated,
        zones_note="; ".join(found.notes),
    )
    return [
        write_text(folder / "scenario.yaml", render_scenario(scenario, header, schema_hint=True)),
        write_text(folder / SCHEMA_FILE, schema_text()),
    ]


def write_inputs(folder: Path, inputs: RunInputs) -> list[Path]:
    """The register, zones and network the run used, in canonical CSV form."""
    return [
        write_csv(folder / f"{name}.csv", frame) for name, frame in canonical_inputs(inputs).items()
    ]


def copied_input_files(inputs: RunInputs, folder: str = "inputs") -> InputFiles:
    """Where the run folder keeps its copy of the inputs
    (:func:`scenarios.outputs.writer.write_run`), relative to the folder."""
    return InputFiles(
        buildings=f"{folder}/buildings.csv",
        services=f"{folder}/services.csv",
        zones=f"{folder}/zones.csv",
        network=None if inputs.network is None else network_tables(folder),
        allow_far_from_network=inputs.checks is not None and inputs.checks.allow_far,
    )


def scenario_of(inputs: RunInputs, files: InputFiles) -> Scenario:
    """The scenario file that gives ``inputs`` when loaded."""
    return Scenario(
        name=inputs.name,
        notice=inputs.notice,
        inputs=files,
        access=dict(inputs.access),
        finance=inputs.finance,
        policy=inputs.policy,
        solver=inputs.solver,
        phasing=inputs.phasing,
        space=inputs.space,
    )


def write_scenario_folder(folder: Path, inputs: RunInputs) -> list[Path]:
    """``inputs/`` and ``scenario.yaml`` without solving: a folder ``estate run`` takes."""
    files = write_inputs(folder / "inputs", inputs)
    files.append(write_scenario(folder / "scenario.yaml", inputs, copied_input_files(inputs)))
    return files


def write_scenario(path: Path, inputs: RunInputs, files: InputFiles) -> Path:
    """``scenario.yaml`` of a run folder: the scenario that gives ``inputs`` again."""
    header = (
        "The scenario of this run, written with its results.  Run it again with:\n"
        "  estate run scenario.yaml --out OTHER_FOLDER"
    )
    return write_text(path, render_scenario(scenario_of(inputs, files), header))
