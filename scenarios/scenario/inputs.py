"""Read the data a scenario names: register, zones and road network.

The road network is an OpenStreetMap or graphml file (read by ``geodata.osm``, cached
by its bytes) or the two CSV tables a run folder holds in ``inputs/``.

Every table is read as ``estate validate`` reads it, by the same code
(:func:`account_place`; ``estate validate SCENARIO`` prints its account): the buildings
register, one file or several in any format, with an optional column mapping, and the
services table through ``estate.load`` (:func:`estate.register.account_register`), the
zones through :func:`geodata.zones.account_zones`.  Every row must be accepted, or the
run stops listing every table's rejected rows with their reasons (a run on a register
with rows silently left out would price a different estate).  Problems with the data
raise :class:`~estate.errors.InputDataError` naming file, row, column and value;
problems with the scenario itself (a bad mapping file, unknown agencies or buildings)
raise :class:`~scenarios.scenario.file.ScenarioError` naming the key and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from estate.errors import CellIssue, InputDataError, SettingsError
from estate.io import read_csv_text
from estate.mapping import Mapping
from estate.register import Register, RegisterAccount, account_register
from geodata.network import RoadNetwork
from geodata.placecheck import check_place
from geodata.zones import ZonesAccount, account_zones
from scenarios.scenario.file import Key, ScenarioFile, ScenarioIssue, key_of
from scenarios.scenario.runinputs import RunInputs, modes_of

NODE_COLUMNS = {"node_id": "int", "x": "float", "y": "float"}
EDGE_COLUMNS = {
    "u": "int",
    "v": "int",
    "length_m": "float",
    "highway": "text",
    "maxspeed_kph": "float?",
}


@dataclass(frozen=True)
class PlaceData:
    """The data of a place, loaded once and shared by every run that uses it."""

    register: Register
    zones: pd.DataFrame
    network: RoadNetwork | None


def load_inputs(sf: ScenarioFile) -> RunInputs:
    """Everything :func:`scenarios.running.run.run` needs for the scenario in ``sf``."""
    return run_inputs(sf, load_place(sf))


def load_place(sf: ScenarioFile) -> PlaceData:
    """Read and validate the register, zones and network named by ``sf``; raises
    listing every problem of every table (:func:`account_place` is the account)."""
    return account_place(sf).checked()


@dataclass(frozen=True)
class PlaceAccount:
    """Every input a scenario names, read as ``estate run`` reads it, every row of every
    table accounted for: what ``estate validate SCENARIO`` prints, and what a run stops
    on (:meth:`checked`)."""

    scenario: Path
    register: RegisterAccount
    zones: ZonesAccount
    network: RoadNetwork | None
    network_issues: tuple[CellIssue, ...] = ()

    @property
    def errors(self) -> list[CellIssue]:
        return self.register.errors + self.zones.errors + list(self.network_issues)

    def checked(self) -> PlaceData:
        """The place's data, or an :class:`InputDataError` listing every problem."""
        if not self.errors and self.register.register is not None and self.zones.zones:
            return PlaceData(self.register.register, self.zones.zones.zones, self.network)
        parts = []
        for what, result in (
            ("buildings register", self.register.buildings),
            ("services table", self.register.services),
            ("zones", self.zones.load),
        ):
            rejected = sum(f.rows_rejected for f in result.files)
            if rejected:
                parts.append(f"{rejected} row(s) of the {what} are rejected")
            parts += [f"cannot use {i.file}" for i in result.unreadable]
        if self.register.across:
            parts.append("the buildings and services do not fit together")
        if self.network_issues:
            parts.append("the road network cannot be used")
        raise InputDataError(
            self.errors,
            f"the inputs cannot be used as they stand ({'; '.join(parts) or 'no rows'}); "
            f"estate validate {self.scenario} lists every problem with its cells",
        )


def account_place(sf: ScenarioFile) -> PlaceAccount:
    """Read every input ``sf`` names, as ``estate run`` reads it, accounting for every
    row: the buildings (any format, with the scenario's mapping) and services through
    :func:`estate.register.account_register`, the zones through
    :func:`geodata.zones.account_zones` (the reader ``estate access`` and ``estate init``
    use), and the road network.  A mapping file that cannot be used is a
    :class:`~scenarios.scenario.file.ScenarioError` naming its key and line."""
    paths = sf.input_paths()
    files, mappings = _buildings_files(sf)
    try:
        register = account_register(files, str(paths["services"]), mappings or None)
    except SettingsError as exc:  # a mapping naming a column the file lacks
        raise sf.error([sf.issue(("inputs", "buildings"), str(exc))]) from exc
    zones = account_zones(
        paths["zones"], paths.get("population"), sf.scenario.inputs.zone_name_prefix
    )
    network: RoadNetwork | None = None
    issues: tuple[CellIssue, ...] = ()
    try:
        if "network" in paths:
            from geodata.osm import read_network as read_network_file

            network = read_network_file(paths["network"], use_cache=True)
        elif "network.nodes" in paths:
            network = read_network(paths["network.nodes"], paths["network.edges"])
    except InputDataError as exc:
        issues = tuple(exc.issues)
    return PlaceAccount(sf.path, register, zones, network, issues)


def _buildings_files(sf: ScenarioFile) -> tuple[list[str], list[Mapping]]:
    """The buildings files and their column mappings; a mapping that cannot be used is
    a scenario error naming its key and line."""
    from estate.mapping import load_mapping

    paths = sf.input_paths()
    files = [str(p) for k, p in paths.items() if k == "buildings" or k.startswith("buildings[")]
    mapping_paths = [p for k, p in paths.items() if k == "mapping" or k.startswith("mapping[")]
    mappings = []
    for key, path in ((k, p) for k, p in paths.items() if k.startswith("mapping")):
        try:
            mappings.append(load_mapping(path))
        except SettingsError as exc:
            raise sf.error([sf.issue(key_of(f"inputs.{key}"), str(exc))]) from exc
    if mapping_paths and len(mappings) not in (1, len(files)):
        issue = sf.issue(
            ("inputs", "mapping"),
            f"give one mapping for every buildings file or one a file: {len(mappings)} "
            f"mappings for {len(files)} files",
        )
        raise sf.error([issue])
    return files, mappings


def run_inputs(sf: ScenarioFile, place: PlaceData) -> RunInputs:
    """Combine a scenario's settings with loaded data, checking the names it uses."""
    check_scope(sf, place.register)
    s = sf.scenario
    checks = check_place(
        place.register.buildings,
        place.zones,
        place.network,
        modes_of(s.access),
        s.inputs.allow_far_from_network,
    )
    checks.raise_for_errors()
    return RunInputs(
        name=s.name or sf.path.stem,
        register=place.register,
        zones=place.zones,
        access=s.standards(),
        network=place.network,
        finance=s.finance,
        policy=s.policy,
        solver=s.solver,
        notice=s.notice,
        phasing=s.phasing,
        checks=checks,
        space=s.space,
    )


def check_scope(sf: ScenarioFile, register: Register) -> None:
    """The agencies and buildings the policy names must be in the register (the model
    checks too; here the error names the key and its line)."""
    policy = sf.scenario.policy
    issues: list[ScenarioIssue] = []
    known = set(register.agencies)
    named: list[tuple[Key, str]] = [
        (("policy", "agencies", i), a) for i, a in enumerate(policy.agencies or ())
    ]
    named += [(("policy", "agency_budgets", a), a) for a in policy.agency_budgets or {}]
    have = ", ".join(sorted(known))
    for key, agency in named:
        if agency not in known:
            issues.append(sf.issue(key, f"no agency {agency!r} in the register (it has {have})"))
    buildings = set(register.buildings["building_id"])
    for name in ("force_keep", "force_dispose"):
        for i, building in enumerate(getattr(policy, name)):
            if building not in buildings:
                issues.append(
                    sf.issue(("policy", name, i), f"no building_id {building!r} in the register")
                )
    if issues:
        raise sf.error(issues)


# --- tables ------------------------------------------------------------------------------


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV as text cells, every row kept (blank cells are empty strings)."""
    try:
        return read_csv_text(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputDataError(
            [CellIssue(str(path), None, "", "", f"cannot be read as CSV: {exc}")],
            f"{path} cannot be read",
        ) from exc


# --- road network ------------------------------------------------------------------------


def read_network(nodes_path: Path, edges_path: Path) -> RoadNetwork:
    """A road network from its node and edge CSV tables (EPSG:27700 metres)."""
    nodes, issues = _typed(read_csv(nodes_path), NODE_COLUMNS, str(nodes_path))
    edges, more = _typed(read_csv(edges_path), EDGE_COLUMNS, str(edges_path))
    issues += more
    if not issues:
        known = set(nodes["node_id"])
        for col in ("u", "v"):
            bad = ~edges[col].isin(known)
            for i in np.flatnonzero(bad.to_numpy()):
                issues.append(
                    CellIssue(
                        str(edges_path), int(i) + 2, col, str(edges[col].iat[i]), "no such node"
                    )
                )
    if issues:
        raise InputDataError(issues, "the road network cannot be used as it stands")
    return RoadNetwork(nodes, edges, name=str(nodes_path.parent))


def _typed(
    raw: pd.DataFrame, columns: dict[str, str], source: str
) -> tuple[pd.DataFrame, list[CellIssue]]:
    issues: list[CellIssue] = []
    out = pd.DataFrame(index=raw.index)
    for col, kind in columns.items():
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        if col not in raw.columns:
            if optional:
                out[col] = np.nan
                continue
            issues.append(CellIssue(source, None, col, "", "missing column"))
            continue
        text = raw[col].astype(str).str.strip()
        if kind == "text":
            out[col] = text
            continue
        number = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = number.isna() & ((text != "") | (not optional))
        if kind == "int":
            bad |= number.notna() & (number != number.round())
        for i in np.flatnonzero(bad.to_numpy()):
            issues.append(
                CellIssue(source, int(i) + 2, col, str(text.iat[i]), f"expected {kind} number")
            )
        out[col] = number.astype("int64") if kind == "int" and not bad.any() else number
    return out, issues
