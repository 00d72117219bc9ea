"""Read a run folder back: everything the map and the reports are drawn from.

The map (``map.html``) and the reports (``report.html``, ``report.xlsx``) are made from
the run folder alone, so ``estate map RUN_DIR`` and ``estate report RUN_DIR`` reproduce
them on any machine that has the folder, with no solver and no network.  Every file is
checked on the way in: a missing file, column or unreadable cell is reported with its
file, row, column and value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from estate.coords import bng_to_lonlat, lonlat_to_bng
from estate.errors import CellIssue, InputDataError
from estate.io import read_csv_text
from geodata.network import RoadNetwork

Kind = Literal["text", "float", "int", "bool"]

# The columns each file must have, and how to read them.  Ids stay text (leading zeros).
BUILDINGS_OUT: dict[str, Kind] = {
    "building_id": "text",
    "agency": "text",
    "name": "text",
    "decision": "text",
    "tenure": "text",
    "exit_year": "int",
    "capacity_desks": "float",
    "desks_before": "float",
    "desks_after": "float",
    "services_in": "int",
    "services_out": "int",
    "running_cost_gbp": "float",
    "backlog_cost_gbp": "float",
    "capital_receipt_gbp": "float",
    "dilapidations_gbp": "float",
    "scenario_present_cost_gbp": "float",
    "annual_saving_gbp": "float",
    "npv_saving_gbp": "float",
    "people_served": "float",
    "largest_increase_minutes": "float",
    "price_of_keeping_gbp": "float",
    "price_of_keeping_low_gbp": "float",
    "price_of_keeping_high_gbp": "float",
    "services_go_to": "text",
    "access_change": "text",
}
BUILDINGS_IN: dict[str, Kind] = {
    "building_id": "text",
    "estimated": "text",  # the values that are estimates (estate estimate)
    "address": "text",
    "postcode": "text",
    "lease_end": "text",
    "lease_break": "text",
    "gia_m2": "float",
    "disposal_value": "float",
    "disposal_cost": "float",
    "dilapidations": "float",
    "must_retain": "bool",
    "listed": "bool",
    "sensitive": "bool",
    "lat": "float",
    "lon": "float",
    "easting": "float",
    "northing": "float",
}
MOVES: dict[str, Kind] = {
    "service_id": "text",
    "agency": "text",
    "name": "text",
    "service_type": "text",
    "from_building": "text",
    "to_building": "text",
    "desks": "float",
    "cost": "float",
}
# Columns of moves.csv added with phasing and space types (older run folders lack them).
MOVES_MORE: dict[str, Kind] = {
    "year": "int",
    "share": "float",
    "space_type": "text",
    "floor_m2": "float",
    "fitted_out_from": "text",
    "fit_out_cost": "float",
}
AGENCIES: dict[str, Kind] = {
    "agency": "text",
    "baseline_present_cost": "float",
    "scenario_present_cost": "float",
    "npv_saving": "float",
    "annual_revenue_saving": "float",
    "capital_receipts": "float",
    "one_off_costs": "float",
    "backlog_avoided": "float",
    "backlog_optimism_bias": "float",
    "buildings_before": "int",
    "buildings_disposed": "int",
    "services_moved": "int",
    "payback_year": "int",
}
ACCESS: dict[str, Kind] = {
    "service_type": "text",
    "zone_id": "text",
    "population": "float",
    "mode": "text",
    "max_minutes": "float",
    "minutes_before": "float",
    "minutes_after": "float",
    "within_before": "bool",
    "within_after": "bool",
    "change_minutes": "float",
    "max_increase_minutes": "float",
}
CASH_FLOWS: dict[str, Kind] = {
    "agency": "text",
    "year": "int",
    "category": "text",
    "baseline_gbp": "float",
    "scenario_gbp": "float",
    "saving_gbp": "float",
}
SERVICES: dict[str, Kind] = {
    "service_id": "text",
    "agency": "text",
    "name": "text",
    "building_id": "text",
    "service_type": "text",
    "public_facing": "bool",
}
ZONES: dict[str, Kind] = {
    "zone_id": "text",
    "name": "text",
    "population": "float",
    "lat": "float",
    "lon": "float",
    "easting": "float",
    "northing": "float",
}
NODES: dict[str, Kind] = {"node_id": "float", "x": "float", "y": "float"}
EDGES: dict[str, Kind] = {"u": "float", "v": "float", "length_m": "float", "highway": "text"}
OPTIONAL_COLUMNS = {"lat", "lon", "easting", "northing", "name", "address", "postcode"}
OPTIONAL_COLUMNS |= {"lease_end", "lease_break", "gia_m2", "disposal_value", "disposal_cost"}
OPTIONAL_COLUMNS |= {"dilapidations", "must_retain", "listed", "sensitive", "public_facing"}
OPTIONAL_COLUMNS |= {"estimated"}
OPTIONAL_COLUMNS |= set(MOVES_MORE)
OPTIONAL_COLUMNS |= {"backlog_optimism_bias"}  # run folders written before it was reported
# Added with space types, per-zone standards and reasons (older run folders lack them).
OPTIONAL_COLUMNS |= {"change_minutes", "max_increase_minutes", "annual_saving_gbp"}
OPTIONAL_COLUMNS |= {"price_of_keeping_gbp", "npv_saving_gbp", "people_served"}
OPTIONAL_COLUMNS |= {"price_of_keeping_low_gbp", "price_of_keeping_high_gbp"}
OPTIONAL_COLUMNS |= {"largest_increase_minutes", "services_go_to", "access_change"}
DEFAULTS: dict[Kind, Any] = {"text": "", "float": np.nan, "int": pd.NA, "bool": False}
TRUE = {"true", "1", "yes", "y", "t"}
FALSE = {"false", "0", "no", "n", "f", ""}


@dataclass(frozen=True)
class Redaction:
    """What publishing withheld: sensitive sites, shown only as how many there are."""

    withheld_sites: int
    note: str
    access_withheld: tuple[str, ...] = ()  # service types with no minutes per zone
    fields_withheld: tuple[str, ...] = ()  # fields not on the publication allow-list
    warnings: tuple[str, ...] = ()  # for the publisher, not published


@dataclass(frozen=True)
class RunFolder:
    """A run folder's tables, checked and joined, ready to draw and price.

    ``buildings`` is ``buildings.csv`` joined with the register's location and flags
    (``lat``/``lon`` WGS84, ``easting``/``northing`` EPSG:27700, ``sensitive``, address,
    disposal figures) from ``inputs/buildings.csv``.  ``network`` is ``None`` when the
    run had no road network.  ``redaction`` is set on a published (redacted) copy, and
    ``documents`` holds its other JSON documents (``plan.json``, ``sharing.json``) as
    published; ``None`` reads them from ``path``.
    """

    path: Path
    summary: Mapping[str, Any]
    buildings: pd.DataFrame
    moves: pd.DataFrame
    agencies: pd.DataFrame
    access: pd.DataFrame
    cash_flows: pd.DataFrame
    services: pd.DataFrame
    zones: pd.DataFrame
    network: RoadNetwork | None = None
    redaction: Redaction | None = field(default=None)
    catchments: pd.DataFrame | None = field(default=None)
    documents: Mapping[str, Any] | None = field(default=None)

    @property
    def scenario(self) -> str:
        return str(self.summary.get("scenario", self.path.name))

    @property
    def notice(self) -> str:
        return str(self.summary.get("notice") or "")

    @property
    def finance(self) -> Mapping[str, Any]:
        return dict(self.summary.get("settings", {}).get("finance", {}))

    def with_(self, **changes: Any) -> RunFolder:
        return replace(self, **changes)


def load_run(path: str | Path) -> RunFolder:
    """Read and check a run folder written by ``estate demo`` or ``estate run``."""
    root = Path(path)
    if not root.is_dir():
        raise InputDataError(
            [CellIssue(str(root), None, "", "", "is not a folder")], "no run folder"
        )
    issues: list[CellIssue] = []
    summary = _read_summary(root / "summary.json", issues)
    if summary is not None and "npv_saving" not in summary:
        issues.append(
            CellIssue(
                str(root / "summary.json"),
                None,
                "npv_saving",
                str(summary.get("status", "")),
                "the run found no decision (status shown), so there is nothing to map or price",
            )
        )
    reader = _Reader(root, issues)
    out = reader.table("buildings.csv", BUILDINGS_OUT)
    register = reader.table("inputs/buildings.csv", BUILDINGS_IN)
    moves = reader.table("moves.csv", {**MOVES, **MOVES_MORE})
    agencies = reader.table("agencies.csv", AGENCIES)
    access = reader.table("access.csv", ACCESS)
    cash = reader.table("cash_flows.csv", CASH_FLOWS)
    services = reader.table("inputs/services.csv", SERVICES)
    zones = reader.table("inputs/zones.csv", ZONES)
    network = _read_network(reader)
    if issues or summary is None:
        raise InputDataError(issues, f"cannot read the run folder {root}")
    zones = _locate(zones, str(root / "inputs/zones.csv"), issues)
    register = _locate(register, str(root / "inputs/buildings.csv"), issues)
    buildings = _join_buildings(out, register, root, issues)
    _check_references(buildings, moves, access, zones, root, issues)
    if issues:
        raise InputDataError(issues, f"the run folder {root} is inconsistent")
    return RunFolder(
        path=root,
        summary=summary,
        buildings=buildings,
        moves=moves,
        agencies=agencies,
        access=access,
        cash_flows=cash,
        services=services,
        zones=zones,
        network=network,
    )


def read_summary(root: str | Path) -> dict[str, Any]:
    """A run folder's ``summary.json`` alone (a run with no decision has nothing else)."""
    issues: list[CellIssue] = []
    doc = _read_summary(Path(root) / "summary.json", issues)
    if doc is None:
        raise InputDataError(issues, f"cannot read the run folder {root}")
    return doc


def _read_summary(path: Path, issues: list[CellIssue]) -> dict[str, Any] | None:
    if not path.is_file():
        issues.append(CellIssue(str(path), None, "", "", "missing: not a run folder?"))
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        issues.append(CellIssue(str(path), None, "", "", f"is not valid JSON: {exc}"))
        return None
    if not isinstance(doc, dict):
        issues.append(CellIssue(str(path), None, "", "", "is not a JSON object"))
        return None
    return doc


class _Reader:
    """Reads CSV tables of one folder, collecting every problem found."""

    def __init__(self, root: Path, issues: list[CellIssue]) -> None:
        self.root = root
        self.issues = issues

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def table(self, name: str, columns: Mapping[str, Kind]) -> pd.DataFrame:
        path = self.root / name
        source = str(path)
        if not path.is_file():
            self.issues.append(CellIssue(source, None, "", "", "missing"))
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        raw = read_csv_text(path, encoding="utf-8")
        out = pd.DataFrame(index=raw.index)
        for col, kind in columns.items():
            if col not in raw.columns:
                if col in OPTIONAL_COLUMNS:
                    out[col] = DEFAULTS[kind]
                    continue
                self.issues.append(CellIssue(source, None, col, "", "missing column"))
                out[col] = DEFAULTS[kind]
                continue
            out[col] = self._parse(raw[col], kind, source, col)
        extra = [c for c in raw.columns if c not in columns]
        for col in extra:
            out[col] = raw[col]
        return out

    def _parse(self, values: pd.Series, kind: Kind, source: str, col: str) -> pd.Series:
        text = values.astype(str).str.strip()
        if kind == "text":
            return values.astype(str)
        if kind == "bool":
            lower = text.str.lower()
            bad = ~lower.isin(TRUE | FALSE)
            self._report(text, bad, source, col, "is not true or false")
            return lower.isin(TRUE)
        number = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(float)
        bad = number.isna() & (text != "")
        self._report(text, bad, source, col, "is not a number")
        if kind == "int":
            fractional = number.notna() & (number != number.round())
            self._report(text, fractional, source, col, "is not a whole number")
            return number.round().astype("Int64")
        return number

    def _report(self, text: pd.Series, bad: pd.Series, source: str, col: str, msg: str) -> None:
        for index in np.flatnonzero(bad.to_numpy()):
            self.issues.append(CellIssue(source, int(index) + 2, col, text.iloc[index], msg))


def _read_network(reader: _Reader) -> RoadNetwork | None:
    if not (
        reader.exists("inputs/network_nodes.csv") and reader.exists("inputs/network_edges.csv")
    ):
        return None
    nodes = reader.table("inputs/network_nodes.csv", NODES)
    edges = reader.table("inputs/network_edges.csv", EDGES)
    if reader.issues:
        return None
    nodes["node_id"] = nodes["node_id"].astype(np.int64)
    edges["u"] = edges["u"].astype(np.int64)
    edges["v"] = edges["v"].astype(np.int64)
    if "maxspeed_kph" in edges.columns:
        edges["maxspeed_kph"] = pd.to_numeric(edges["maxspeed_kph"], errors="coerce")
    return RoadNetwork(nodes=nodes, edges=edges, name=str(reader.root / "inputs/network_*.csv"))


def _locate(frame: pd.DataFrame, source: str, issues: list[CellIssue]) -> pd.DataFrame:
    """Fill WGS84 from National Grid or the other way round; every row needs one of them."""
    frame = frame.copy()
    has_ll = frame["lat"].notna() & frame["lon"].notna()
    has_en = frame["easting"].notna() & frame["northing"].notna()
    fill_ll = ~has_ll & has_en
    if fill_ll.any():
        lon, lat = bng_to_lonlat(frame.loc[fill_ll, "easting"], frame.loc[fill_ll, "northing"])
        frame.loc[fill_ll, "lon"], frame.loc[fill_ll, "lat"] = lon, lat
    fill_en = has_ll & ~has_en
    if fill_en.any():
        e, n = lonlat_to_bng(frame.loc[fill_en, "lon"], frame.loc[fill_en, "lat"])
        frame.loc[fill_en, "easting"], frame.loc[fill_en, "northing"] = e, n
    key = frame.columns[0]
    for index in np.flatnonzero((~has_ll & ~has_en).to_numpy()):
        issues.append(
            CellIssue(source, int(index) + 2, "lat", str(frame[key].iloc[index]), "has no location")
        )
    return frame


def _join_buildings(
    out: pd.DataFrame, register: pd.DataFrame, root: Path, issues: list[CellIssue]
) -> pd.DataFrame:
    source = str(root / "buildings.csv")
    known = set(register["building_id"])
    for index, building_id in enumerate(out["building_id"]):
        if building_id not in known:
            issues.append(
                CellIssue(
                    source, index + 2, "building_id", building_id, "not in inputs/buildings.csv"
                )
            )
    for index, dup in enumerate(out["building_id"].duplicated().to_numpy()):
        if dup:
            issues.append(
                CellIssue(
                    source, index + 2, "building_id", out["building_id"].iloc[index], "repeated"
                )
            )
    extra = register[[c for c in BUILDINGS_IN if c not in out.columns or c == "building_id"]]
    extra = extra.drop_duplicates("building_id")
    return out.merge(extra, on="building_id", how="left", validate="one_to_one")


def _check_references(
    buildings: pd.DataFrame,
    moves: pd.DataFrame,
    access: pd.DataFrame,
    zones: pd.DataFrame,
    root: Path,
    issues: list[CellIssue],
) -> None:
    ids = set(buildings["building_id"])
    for col in ("from_building", "to_building"):
        for index, value in enumerate(moves[col]):
            if value not in ids:
                issues.append(
                    CellIssue(str(root / "moves.csv"), index + 2, col, value, "unknown building")
                )
    zone_ids = set(zones["zone_id"])
    for index, value in enumerate(access["zone_id"]):
        if value not in zone_ids:
            issues.append(
                CellIssue(str(root / "access.csv"), index + 2, "zone_id", value, "unknown zone")
            )


def holders_after(folder: RunFolder, service_type: str) -> list[str]:
    """Buildings holding ``service_type`` after the change (moves applied to homes)."""
    services = folder.services.loc[folder.services["service_type"] == service_type]
    moved = dict(zip(folder.moves["service_id"], folder.moves["to_building"], strict=True))
    where = [
        moved.get(s, b)
        for s, b in zip(services["service_id"], services["building_id"], strict=True)
    ]
    return sorted(set(where))


def catchments(folder: RunFolder) -> pd.DataFrame | None:
    """Each zone's nearest building per service type after the change, with minutes (by
    the type's first mode in ``access.csv``: drive where a standard has several).

    Travel times are recomputed from the folder the way the run computed them: on the
    road network in ``inputs/`` when the run used one, else the straight-line estimate.
    ``None`` when the folder cannot reproduce them (the run used a network that is not
    in the folder).
    """
    from geodata.traveltime import estimated_travel_times, network_travel_times
    from geodata.zones import points

    methods = folder.summary.get("travel_times", {})
    origins = points(folder.zones, "zone_id")
    located = folder.buildings.dropna(subset=["easting", "northing"])
    parts = []
    graphs: dict[str, Any] = {}
    for service_type, rows in folder.access.groupby("service_type", sort=True):
        mode = str(rows["mode"].iloc[0])
        holders = [
            b for b in holders_after(folder, str(service_type)) if b in set(located["building_id"])
        ]
        if not holders:
            continue
        method = methods.get(mode, {}).get("method", "estimate")
        dest = points(located.set_index("building_id").loc[holders].reset_index(), "building_id")
        if method == "network":
            if folder.network is None:
                return None
            if mode not in graphs:
                graphs[mode] = folder.network.graph(mode)  # type: ignore[arg-type]
            times = network_travel_times(folder.network, origins, dest, mode, graph=graphs[mode])  # type: ignore[arg-type]
        else:
            times = estimated_travel_times(origins, dest, mode)  # type: ignore[arg-type]
        nearest = np.argmin(times.minutes, axis=1)
        minutes = times.minutes[np.arange(len(origins)), nearest]
        parts.append(
            pd.DataFrame(
                {
                    "service_type": service_type,
                    "mode": mode,
                    "zone_id": origins["id"].to_numpy(),
                    "building_id": np.asarray(holders, dtype=object)[nearest],
                    "minutes": np.where(np.isfinite(minutes), minutes, np.nan),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["service_type", "mode", "zone_id", "building_id", "minutes"])
    return pd.concat(parts, ignore_index=True)


def read_document(folder: RunFolder, name: str) -> dict[str, Any] | None:
    """A run's other JSON document (``plan.json``, ``sharing.json``), if it has one."""
    if folder.documents is not None:  # a published copy carries its own, redacted
        doc = folder.documents.get(name)
        return dict(doc) if isinstance(doc, Mapping) else None
    path = folder.path / name
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputDataError(
            [CellIssue(str(path), None, "", "", f"is not valid JSON: {exc}")],
            f"cannot read {name}",
        ) from exc
    if not isinstance(doc, dict):
        raise InputDataError([CellIssue(str(path), None, "", "", "is not a JSON object")])
    return doc
