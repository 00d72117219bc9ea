"""Read the data a scenario names: register, zones and road network.

Input files are canonical CSV tables for now (``estate init`` writes empty ones with
the right headers).  An optional mapping file renames a source file's columns to the
canonical names first.  Problems with the data raise
:class:`~estate.errors.InputDataError` naming file, row, column and value; problems
with the scenario itself (unknown agencies or buildings) raise
:class:`~scenarios.scenario.ScenarioError` naming the key and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from estate.errors import CellIssue, InputDataError
from estate.register import Register
from estate.schema import BUILDINGS, SERVICES, ZONES, TableSpec
from geodata.network import RoadNetwork
from geodata.zones import validate_zones
from scenarios.run import RunInputs
from scenarios.scenario import ScenarioError, ScenarioFile, ScenarioIssue, key_lines

TABLES: dict[str, TableSpec] = {"buildings": BUILDINGS, "services": SERVICES, "zones": ZONES}
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
    """Everything :func:`scenarios.run.run` needs for the scenario in ``sf``."""
    return run_inputs(sf, load_place(sf))


def load_place(sf: ScenarioFile) -> PlaceData:
    """Read and validate the register, zones and network named by ``sf``."""
    paths = sf.input_paths()
    mapping = read_mapping(paths["mapping"]) if "mapping" in paths else {}
    frames = {
        table: read_table(paths[table], mapping.get(table, {}), paths.get("mapping"))
        for table in TABLES
    }
    register = Register.from_frames(
        frames["buildings"],
        frames["services"],
        str(paths["buildings"]),
        str(paths["services"]),
    )
    zones = validate_zones(frames["zones"], str(paths["zones"]))
    network = None
    if "network.nodes" in paths:
        network = read_network(paths["network.nodes"], paths["network.edges"])
    return PlaceData(register, zones, network)


def run_inputs(sf: ScenarioFile, place: PlaceData) -> RunInputs:
    """Combine a scenario's settings with loaded data, checking the names it uses."""
    check_scope(sf, place.register)
    s = sf.scenario
    return RunInputs(
        name=s.name or sf.path.stem,
        register=place.register,
        zones=place.zones,
        access=dict(s.access),
        network=place.network,
        finance=s.finance,
        policy=s.policy.settings(),
        solver=s.solver,
        notice=s.notice,
        agencies=s.policy.agencies,
        keep=s.policy.keep,
    )


def check_scope(sf: ScenarioFile, register: Register) -> None:
    """``policy.agencies`` and ``policy.keep`` must name what the register holds."""
    policy = sf.scenario.policy
    issues: list[ScenarioIssue] = []
    known = set(register.agencies)
    for i, agency in enumerate(policy.agencies or ()):
        if agency not in known:
            issues.append(
                sf.issue(
                    ("policy", "agencies", i),
                    f"no agency {agency!r} in the register (it has {', '.join(sorted(known))})",
                )
            )
    buildings = set(register.buildings["building_id"])
    for i, building in enumerate(policy.keep):
        if building not in buildings:
            issues.append(
                sf.issue(("policy", "keep", i), f"no building_id {building!r} in the register")
            )
    if issues:
        raise sf.error(issues)


# --- tables ------------------------------------------------------------------------------


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV as text cells, every row kept (blank cells are empty strings)."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputDataError(
            [CellIssue(str(path), None, "", "", f"cannot be read as CSV: {exc}")],
            f"{path} cannot be read",
        ) from exc


def read_table(path: Path, renames: dict[str, str], mapping_path: Path | None) -> pd.DataFrame:
    """Read one register table, renaming source columns by the mapping first."""
    frame = read_csv(path)
    missing = [source for source in renames if source not in frame.columns]
    if missing:
        raise InputDataError(
            [
                CellIssue(str(mapping_path), None, source, "", f"no column {source!r} in {path}")
                for source in missing
            ],
            "the mapping names columns the file does not have",
        )
    frame = frame.rename(columns=renames)
    if frame.empty:
        raise InputDataError([CellIssue(str(path), None, "", "", "the table has no rows")])
    return frame


def read_mapping(path: Path) -> dict[str, dict[str, str]]:
    """A column mapping: ``{table: {source column: canonical column}}``."""
    import yaml

    text = path.read_text(encoding="utf-8-sig")
    lines = key_lines(text, str(path))
    data = yaml.safe_load(text) or {}
    issues: list[ScenarioIssue] = []
    if not isinstance(data, dict):
        raise ScenarioError(path, [ScenarioIssue("", "expected {table: {source: canonical}}", 1)])
    out: dict[str, dict[str, str]] = {}
    for table, renames in data.items():
        if table not in TABLES:
            issues.append(
                ScenarioIssue(str(table), f"not one of {sorted(TABLES)}", lines.get((table,)))
            )
            continue
        if not isinstance(renames, dict):
            issues.append(ScenarioIssue(table, "expected {source: canonical}", lines.get((table,))))
            continue
        names = TABLES[table].names
        for source, target in renames.items():
            if target not in names:
                issues.append(
                    ScenarioIssue(
                        f"{table}.{source}",
                        f"{target!r} is not a {table} column (one of {', '.join(names)})",
                        lines.get((table, str(source))),
                    )
                )
        out[table] = {str(k): str(v) for k, v in renames.items()}
    if issues:
        raise ScenarioError(path, issues)
    return out


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
