"""``estate estimate``: site lists to a runnable register, every estimate named.

A council's published land and assets file, an NHS ERIC return or a public list of
libraries gives ids, names and locations, seldom costs or capacity.  :func:`estimate`
loads the files (:mod:`estate.load`, as ``--kind assets``), places every row
(:mod:`estate.geocode`), and fills what is missing from the unit rates of
:mod:`estate.rates`, per building type:

- floor area (``gia_m2``): the file's figure; else the OpenStreetMap building outline
  the site's own point lies in, times its storeys (tagged, else assumed); else the
  typical floor area of its type;
- running cost, backlog, capacity (desks), disposal value and cost: the file's figure,
  else floor area times the type's rate;
- one set of services per occupied building, by the service rules of its type.

Each building's ``estimated`` column names every value that is an estimate (``;``
separated), ``gia_basis`` and ``cost_basis`` say how; services carry ``estimated``
too.  Rows that cannot be placed are set aside with the reason, never dropped, and a
site let to others (tenure ``leasehold_out``) is kept as the body's but holds no
service, hosts none and costs the body nothing to run (the tenant does).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.agencies import Agencies
from estate.errors import SettingsError
from estate.footprints import match_footprints, read_osm
from estate.geocode import PostcodeLookup, UprnLookup, geocode, wanted_values
from estate.io import write_csv, write_json
from estate.load import REASON_COLUMN, LoadResult, load_files
from estate.mapping import Mapping
from estate.postcodes import normalise_postcode
from estate.rates import ServiceRules, UnitRates, service_rules, unit_rates
from estate.schema import BUILDINGS, SERVICES
from estate.uses import classify_use
from estate.validate import FILE_COLUMN, ROW_COLUMN

ESTIMATED = "estimated"
EXTRA_BUILDING_COLUMNS = [ESTIMATED, "gia_basis", "cost_basis", "geocode_method", "source"]
LET_OUT = "leasehold_out"


@dataclass
class Estimate:
    """The register written by ``estate estimate`` and its account."""

    buildings: pd.DataFrame
    services: pd.DataFrame
    set_aside: pd.DataFrame
    load: LoadResult
    rates: UnitRates
    rules: ServiceRules
    doc: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """As ``estate validate``: 0 every row accepted or set aside, 1 some rejected,
        2 a file unreadable."""
        return self.load.exit_code


def _sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def estimate(
    files: Sequence[str],
    *,
    mapping: Mapping | Sequence[Mapping | None] | None = None,
    agency: str | Sequence[str | None] | None = None,
    rates: str | Path | None = None,
    rules: str | Path | None = None,
    osm: str | Path | None = None,
    postcodes: Sequence[str | Path] = (),
    uprns: str | Path | None = None,
    agency_table: Agencies | None = None,
    sheet: str | int | None = None,
) -> Estimate:
    """Load site lists and estimate a runnable register (see the module's docstring)."""
    used_rates = unit_rates(rates)
    used_rules = service_rules(rules)
    result = load_files(
        files,
        kind="assets",
        mapping=mapping,
        agency=agency,
        sheet=sheet,
        agency_table=agency_table,
    )
    if any(f.kind == "services" for f in result.files):
        raise SettingsError("estate estimate reads lists of sites, not services tables")
    sites = result.accepted
    if sites.empty:
        sites = pd.DataFrame(columns=[*BUILDINGS.names, FILE_COLUMN, ROW_COLUMN])
    lookup = (
        PostcodeLookup.from_files(postcodes, wanted_values(sites, "postcode"))
        if postcodes
        else None
    )
    uprn_lookup = UprnLookup.from_file(uprns, wanted_values(sites, "uprn")) if uprns else None
    geo = geocode(sites, lookup, uprn_lookup)
    placed = geo.buildings.loc[geo.buildings["geocode_method"] != "none"].copy()
    unplaced = geo.buildings.loc[geo.buildings["geocode_method"] == "none"]
    reasons = dict(zip(geo.unmatched[ROW_COLUMN], geo.unmatched["reason"], strict=True))
    not_placed = _unplaced(unplaced, reasons)
    outlines = read_osm(osm)[1] if osm is not None else pd.DataFrame()
    columns = {f.source: set(f.columns) for f in result.files}
    buildings = _estimate_buildings(placed.reset_index(drop=True), outlines, used_rates, columns)
    services = _services(buildings, used_rules, used_rates)
    set_aside = pd.concat(
        [frame for frame in (result.set_aside(), not_placed) if len(frame)] or [result.set_aside()],
        ignore_index=True,
    ).fillna("")
    doc = _account(result, buildings, services, set_aside, used_rates, used_rules)
    named = [*files, osm, *_lookup_files(postcodes), uprns, rates, rules]
    doc["inputs"] = [  # by file name: the same files give the same account anywhere
        {"file": Path(p).name, "sha256": _sha256(p)}
        for p in named
        if p is not None and Path(p).is_file()
    ]
    return Estimate(buildings, services, set_aside, result, used_rates, used_rules, doc)


def _lookup_files(paths: Sequence[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        out += sorted(q for q in p.iterdir() if q.suffix.lower() == ".csv") if p.is_dir() else [p]
    return out


def _unplaced(unplaced: pd.DataFrame, reasons: dict[Any, str]) -> pd.DataFrame:
    """Rows nothing could place, as set-aside rows with the reason."""
    rows = []
    for _, row in unplaced.iterrows():
        why = reasons.get(row[ROW_COLUMN], "") or "no location"
        postcode = str(row.get("postcode", "") or "").strip()
        if postcode and normalise_postcode(postcode) is None:
            why = f"postcode {postcode!r} is partial or malformed; {why}"
        rows.append(
            {
                FILE_COLUMN: row[FILE_COLUMN],
                ROW_COLUMN: row[ROW_COLUMN],
                REASON_COLUMN: f"cannot be placed: {why}",
                "building_id": row["building_id"],
                "agency": row["agency"],
                "name": row["name"],
                "address": row.get("address", ""),
                "postcode": postcode,
            }
        )
    return pd.DataFrame(rows)


#: Columns whose blank cells load as 0: only a figure above 0 counts as given.
ZERO_WHEN_BLANK = {"backlog_cost", "disposal_value", "disposal_cost"}


def _given(row: pd.Series, column: str, columns: dict[str, set[str]]) -> bool:
    """Whether the file gave ``column`` for this row (a number, not a blank; for the
    columns whose blanks load as 0, a number above 0)."""
    if column not in columns.get(str(row[FILE_COLUMN]), set()):
        return False
    value = row[column]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return column not in ZERO_WHEN_BLANK or float(value) > 0


def _estimate_buildings(
    sites: pd.DataFrame, outlines: pd.DataFrame, rates: UnitRates, columns: dict[str, set[str]]
) -> pd.DataFrame:
    out = sites.copy()
    if out.empty:
        for name in EXTRA_BUILDING_COLUMNS:
            out[name] = pd.Series(dtype=object)
        return out
    prints = match_footprints(out, outlines, rates.get("footprint_metres"))
    records = []
    for i, row in out.iterrows():
        records.append(_one_building(row, prints.loc[i], rates, columns))
    estimated = pd.DataFrame(records, index=out.index)
    for name in estimated.columns:
        out[name] = estimated[name]
    given = out["source"] if "source" in out else pd.Series(None, index=out.index)
    out["source"] = [
        str(g) if isinstance(g, str) and g.strip() else f"{Path(str(f)).name} row {int(r)}"
        for g, f, r in zip(given, out[FILE_COLUMN], out[ROW_COLUMN], strict=True)
    ]
    return out.sort_values("building_id", kind="stable").reset_index(drop=True)


def _one_building(
    row: pd.Series, footprint: pd.Series, rates: UnitRates, columns: dict[str, set[str]]
) -> dict[str, Any]:
    marks: list[str] = []
    kind = str(row["building_type"] or "")
    if kind in ("", "other"):
        by_name = classify_use(str(row["name"]), names_only=True).building_type
        if by_name:
            kind = by_name
            marks.append("building_type")
        elif not kind:
            kind = "other"
            marks.append("building_type")
    tenure = str(row["tenure"])
    if "tenure" not in columns.get(str(row[FILE_COLUMN]), set()):
        marks.append("tenure")  # not in the file: assumed freehold
    area, gia_basis = _floor_area(row, footprint, kind, rates, columns, marks)
    rec: dict[str, Any] = {
        "building_type": kind,
        "gia_m2": area,
        "gia_basis": gia_basis,
        "can_host": bool(row["can_host"]),
        "must_retain": bool(row["must_retain"]),
    }
    if tenure == LET_OUT:
        rec.update(
            running_cost=0.0,
            backlog_cost=0.0,
            capacity_desks=0.0,
            disposal_value=0.0,
            disposal_cost=0.0,
            can_host=False,
            must_retain=True,
            cost_basis="let to others: the tenant bears the running costs; held as it is",
        )
        rec[ESTIMATED] = ";".join(marks)
        return rec

    def money(column: str, value: float, how: str) -> tuple[float, str]:
        if _given(row, column, columns):
            return float(row[column]), "reported"
        marks.append(column)
        return float(round(value)), how

    run_rate = rates.get("running_cost_per_m2", kind)
    running, how = money(
        "running_cost", area * run_rate, f"estimate: {area:,.0f} m2 x GBP {run_rate:g}/m2/year"
    )
    cost_basis = "reported in the file" if how == "reported" else how
    backlog, _ = money("backlog_cost", area * rates.get("backlog_per_m2", kind), "")
    if _given(row, "capacity_desks", columns):
        desks = float(row["capacity_desks"])
    else:
        share, per_desk = rates.get("desk_share", kind), rates.get("m2_per_desk")
        desks = float(max(1, math.floor(area * share / per_desk)))
        marks.append("capacity_desks")
    if tenure == "freehold":
        value, _ = money("disposal_value", area * rates.get("disposal_value_per_m2", kind), "")
        cost, _ = money("disposal_cost", value * rates.get("disposal_cost_share"), "")
    else:  # a lease raises no receipt
        value = float(row["disposal_value"]) if _given(row, "disposal_value", columns) else 0.0
        cost = float(row["disposal_cost"]) if _given(row, "disposal_cost", columns) else 0.0
    rec.update(
        running_cost=running,
        backlog_cost=backlog,
        capacity_desks=desks,
        disposal_value=value,
        disposal_cost=cost,
        cost_basis=cost_basis,
    )
    rec[ESTIMATED] = ";".join(marks)
    return rec


def _floor_area(
    row: pd.Series,
    footprint: pd.Series,
    kind: str,
    rates: UnitRates,
    columns: dict[str, set[str]],
    marks: list[str],
) -> tuple[float, str]:
    if _given(row, "gia_m2", columns) and float(row["gia_m2"]) > 0:
        return float(row["gia_m2"]), "reported in the file"
    marks.append("gia_m2")
    if not math.isnan(footprint["area_m2"]):
        levels = footprint["levels"]
        tagged = not math.isnan(levels) and levels >= 1
        storeys = int(levels) if tagged else int(rates.get("storeys", kind))
        area = float(round(footprint["area_m2"] * storeys))
        return area, (
            f"estimate: OpenStreetMap way {footprint['osm_way_id']} footprint "
            f"{footprint['area_m2']:.0f} m2 x {storeys} storey(s) "
            f"({'tagged' if tagged else 'assumed'})"
        )
    typical = rates.get("typical_gia_m2", kind)
    return typical, f"estimate: typical floor area of a {kind.replace('_', ' ')}"


def _services(buildings: pd.DataFrame, rules: ServiceRules, rates: UnitRates) -> pd.DataFrame:
    rows = []
    occupancy = rates.get("occupancy")
    for b in buildings.itertuples():
        if b.tenure == LET_OUT:
            continue
        for rule in rules.for_type(str(b.building_type)):
            desks = max(1, round(float(b.capacity_desks) * occupancy * rule.share))
            name = str(b.name) or str(b.building_id)
            rows.append(
                {
                    "service_id": f"{b.building_id}:{rule.service_type}",
                    "agency": b.agency,
                    "name": name if rule.name.lower() in name.lower() else f"{name} {rule.name}",
                    "building_id": b.building_id,
                    "desks": float(desks),
                    "service_type": rule.service_type,
                    "public_facing": rule.public_facing,
                    "movable": rule.movable,
                    "move_cost": np.nan,
                    "exclusive": rule.exclusive,
                    "divisible": False,
                    ESTIMATED: "desks;service_type",
                }
            )
    return pd.DataFrame(rows, columns=[*SERVICES.names, ESTIMATED])


def default_services(buildings: pd.DataFrame, rules: ServiceRules | None = None) -> pd.DataFrame:
    """The services a register without a services table holds, by building type (the
    type read from the name when the file gives none): where access is measured to."""
    rules = rules or service_rules()
    rows = []
    for b in buildings.itertuples():
        kind = str(b.building_type or "")
        if kind in ("", "other"):
            kind = classify_use(str(b.name), names_only=True).building_type or "other"
        if getattr(b, "tenure", "") == LET_OUT:
            continue
        for rule in rules.for_type(kind):
            rows.append(
                {
                    "service_id": f"{b.building_id}:{rule.service_type}",
                    "agency": b.agency,
                    "name": f"{b.name} {rule.name}".strip(),
                    "building_id": b.building_id,
                    "desks": 0.0,
                    "service_type": rule.service_type,
                    "public_facing": rule.public_facing,
                    "movable": rule.movable,
                    "move_cost": np.nan,
                    "exclusive": rule.exclusive,
                    "divisible": False,
                }
            )
    return pd.DataFrame(rows, columns=SERVICES.names)


def _account(
    result: LoadResult,
    buildings: pd.DataFrame,
    services: pd.DataFrame,
    set_aside: pd.DataFrame,
    rates: UnitRates,
    rules: ServiceRules,
) -> dict[str, Any]:
    load = result.summary()
    how: dict[str, Counter[str]] = {}
    for marks in buildings.get(ESTIMATED, pd.Series(dtype=object)):
        for column in ("building_type", "gia_m2", "running_cost", "capacity_desks", "tenure"):
            how.setdefault(column, Counter())[
                "estimated" if column in str(marks).split(";") else "from the file"
            ] += 1
    gia_how = Counter(
        "file" if b.startswith("reported") else "openstreetmap" if "OpenStreetMap" in b else
        "typical"
        for b in buildings.get("gia_basis", pd.Series(dtype=object)).astype(str)
    )  # fmt: skip
    reasons = Counter(str(r).split(" (")[0] for r in set_aside.get(REASON_COLUMN, []))
    return {
        "rows_read": load["rows_read"],
        "rows_accepted": load["rows_accepted"],
        "rows_rejected": load["rows_rejected"],
        "rows_set_aside_on_loading": load["rows_set_aside"],
        "rows_not_placed": int(
            sum(str(r).startswith("cannot be placed") for r in set_aside.get(REASON_COLUMN, []))
        ),
        "buildings": len(buildings),
        "services": len(services),
        "set_aside": len(set_aside),
        "set_aside_by_reason": dict(sorted(reasons.items())),
        "buildings_by_type": dict(sorted(Counter(buildings.get("building_type", [])).items())),
        "buildings_by_agency": dict(sorted(Counter(buildings.get("agency", [])).items())),
        "buildings_with_estimates": int(
            sum(bool(str(m)) for m in buildings.get(ESTIMATED, pd.Series(dtype=object)))
        ),
        "values_obtained": {k: dict(sorted(v.items())) for k, v in sorted(how.items())},
        "floor_area_from": dict(sorted(gia_how.items())),
        "geocode_methods": dict(sorted(Counter(buildings.get("geocode_method", [])).items())),
        "agency_near_duplicates": load["agency_near_duplicates"],
        "unit_rates": rates.as_dict(),
        "service_rules": rules.as_dict(),
        "note": "values named in each row's 'estimated' column are estimates from the unit "
        "rates above, not the body's figures: replace them before a decision",
    }


def write_estimate(est: Estimate, out_dir: str | Path) -> list[Path]:
    """DIR/buildings.csv, services.csv, set_aside.csv, rejected.csv and estimate.json."""
    folder = Path(out_dir)
    b = est.buildings.copy()
    for col in ("lat", "lon"):
        b[col] = pd.to_numeric(b[col], errors="coerce").round(7)
    for col in ("easting", "northing"):
        b[col] = pd.to_numeric(b[col], errors="coerce").round(1)
    for col in ("lease_end", "lease_break"):
        b[col] = pd.to_datetime(b[col], errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    b = (
        b[[*BUILDINGS.names, *EXTRA_BUILDING_COLUMNS]]
        if len(b)
        else pd.DataFrame(columns=[*BUILDINGS.names, *EXTRA_BUILDING_COLUMNS])
    )
    files = [
        write_csv(folder / "buildings.csv", b),
        write_csv(folder / "services.csv", est.services),
        write_csv(folder / "set_aside.csv", est.set_aside),
        write_csv(folder / "rejected.csv", est.load.rejected()),
        write_json(folder / "estimate.json", _json_safe(est.doc)),
    ]
    return files


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


#: How estimated columns are named to a reader.
ESTIMATED_LABELS = {
    "building_type": "building type",
    "gia_m2": "floor area",
    "running_cost": "running cost",
    "backlog_cost": "backlog",
    "capacity_desks": "capacity",
    "disposal_value": "disposal value",
    "disposal_cost": "disposal cost",
    "tenure": "tenure",
    "desks": "desks",
    "service_type": "service type",
}


def estimated_columns(marks: object) -> list[str]:
    """The columns a row's ``estimated`` cell names (``"gia_m2;running_cost"``)."""
    if not isinstance(marks, str):
        return []
    return [m.strip() for m in marks.split(";") if m.strip()]


def describe_estimated(marks: object) -> str:
    """``"floor area, running cost"`` for ``"gia_m2;running_cost"`` ("" for none)."""
    return ", ".join(ESTIMATED_LABELS.get(m, m) for m in estimated_columns(marks))


def estimates_summary(buildings: pd.DataFrame, services: pd.DataFrame) -> dict[str, Any]:
    """How many buildings' and services' figures are estimates, and which (summary.json)."""
    b_marks = buildings[ESTIMATED] if ESTIMATED in buildings else pd.Series("", buildings.index)
    s_marks = services[ESTIMATED] if ESTIMATED in services else pd.Series("", services.index)
    by_column: Counter[str] = Counter()
    for marks in b_marks:
        by_column.update(estimated_columns(marks))
    estimated = {
        str(b): estimated_columns(m)
        for b, m in zip(buildings["building_id"], b_marks, strict=True)
        if estimated_columns(m)
    }
    return {
        "buildings": len(buildings),
        "buildings_with_estimates": len(estimated),
        "services_with_estimates": int(sum(bool(estimated_columns(m)) for m in s_marks)),
        "by_column": dict(sorted(by_column.items())),
        "by_building": dict(sorted(estimated.items())),
    }
