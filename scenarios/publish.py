"""Published copies of a run: sensitive sites lose their name and exact location.

A building flagged ``sensitive`` in the register (refuges, some police sites) is, in
every published file, replaced by a pseudonym (``withheld-1``, ...) with no name,
address or coordinates; the map shows only how many such sites lie in each zone (the
zone whose centroid is nearest), and service moves to or from them are listed without
the service's name and not drawn.  Money and decisions are kept, so totals still add up.

Published files go to ``RUN_DIR/published/``; the private originals in ``RUN_DIR`` are
never touched.  Every published set carries ``REDACTION.txt``, buildings and moves
carry a ``redacted`` column, ``summary.json`` a ``redaction`` entry, and the map and
reports a visible notice.  Before anything is reported written, every file is scanned
for the withheld names, ids and coordinates, and publishing fails if one is found.
"""

from __future__ import annotations

import html
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.errors import EstateError
from estate.io import write_csv, write_json, write_text
from optimise.reasons import services_go_to
from scenarios.geopackage import write_gpkg
from scenarios.runfolder import BUILDINGS_OUT, Redaction, RunFolder, catchments

PUBLISHED_DIR = "published"
WITHHELD_NAME = "Withheld sensitive site"
WITHHELD_SERVICE = "Service at a withheld site"
COORD_TOLERANCE_DEG = 1.5e-4  # coordinates "to 4 decimals", with rounding either way


class PublishError(EstateError, RuntimeError):
    """A published file would have disclosed a sensitive site."""


def published_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / PUBLISHED_DIR


def _nearest_zone(folder: RunFolder, xy: np.ndarray) -> np.ndarray:
    zxy = folder.zones[["easting", "northing"]].to_numpy(dtype=float)
    d = np.hypot(xy[:, None, 0] - zxy[None, :, 0], xy[:, None, 1] - zxy[None, :, 1])
    return np.asarray(folder.zones["zone_id"].to_numpy(dtype=object)[np.argmin(d, axis=1)])


def redact(folder: RunFolder) -> RunFolder:
    """A copy of ``folder`` with every sensitive site withheld (see the module notes)."""
    if folder.redaction is not None:
        return folder
    b = folder.buildings.sort_values("building_id").reset_index(drop=True)
    sensitive = b["sensitive"].astype(bool).to_numpy()
    pseudonym = {bid: f"withheld-{i + 1}" for i, bid in enumerate(b.loc[sensitive, "building_id"])}
    zone = _nearest_zone(folder, b[["easting", "northing"]].to_numpy(dtype=float))
    private_catchments = catchments(folder)

    buildings = b.copy()
    buildings["zone_id"] = zone
    buildings["withheld"] = sensitive
    buildings["redacted"] = sensitive
    buildings.loc[sensitive, "building_id"] = [pseudonym[x] for x in b["building_id"][sensitive]]
    buildings.loc[sensitive, "name"] = WITHHELD_NAME
    for col in ("address", "postcode", "lease_end", "lease_break"):
        if col in buildings.columns:
            buildings.loc[sensitive, col] = ""
    for col in ("lat", "lon", "easting", "northing"):
        buildings.loc[sensitive, col] = np.nan

    def rename(ids: pd.Series) -> pd.Series:
        return ids.map(lambda x: pseudonym.get(x, x))

    moves = folder.moves.copy()
    touches = moves["from_building"].isin(pseudonym) | moves["to_building"].isin(pseudonym)
    moves["from_building"] = rename(moves["from_building"])
    moves["to_building"] = rename(moves["to_building"])
    moves.loc[touches, "name"] = WITHHELD_SERVICE
    moves["redacted"] = touches

    if "services_go_to" in buildings.columns:  # rebuilt from the redacted tables
        names = dict(zip(buildings["building_id"], buildings["name"], strict=True))
        buildings["services_go_to"] = [
            services_go_to(str(bid), moves, names) if text else ""
            for bid, text in zip(buildings["building_id"], buildings["services_go_to"], strict=True)
        ]

    services = folder.services.copy()
    moved_to = dict(zip(folder.moves["service_id"], folder.moves["to_building"], strict=True))
    inside = services["building_id"].isin(pseudonym) | services["service_id"].map(
        lambda s: moved_to.get(s) in pseudonym
    )
    services.loc[inside, "name"] = WITHHELD_SERVICE
    services["building_id"] = rename(services["building_id"])

    redacted_catchments = None
    if private_catchments is not None:
        redacted_catchments = private_catchments.assign(
            building_id=rename(private_catchments["building_id"])
        )
    by_zone = _count_by_zone(folder, zone[sensitive])
    count = int(sensitive.sum())
    note = (
        f"Published copy: {count} sensitive site{'s' if count != 1 else ''} withheld — "
        "names and exact locations removed, shown only as a count per zone; moves to or "
        "from them are not drawn."
    )
    summary = dict(folder.summary)
    summary["redaction"] = {
        "withheld_sites": count,
        "by_zone": by_zone[["zone_id", "sites"]].to_dict(orient="records"),
        "note": note,
    }
    return folder.with_(
        buildings=buildings,
        moves=moves,
        services=services,
        summary=summary,
        catchments=redacted_catchments,
        redaction=Redaction(withheld_sites=count, by_zone=by_zone, note=note),
    )


def _count_by_zone(folder: RunFolder, zones: np.ndarray) -> pd.DataFrame:
    counts = pd.Series(zones, dtype=object).value_counts().rename("sites")
    z = folder.zones.set_index("zone_id")
    out = pd.DataFrame({"zone_id": counts.index.astype(str), "sites": counts.to_numpy()})
    out["zone_name"] = out["zone_id"].map(z["name"]).fillna("")
    out["lat"] = out["zone_id"].map(z["lat"])
    out["lon"] = out["zone_id"].map(z["lon"])
    return out.sort_values("zone_id").reset_index(drop=True)


def redaction_text(folder: RunFolder) -> str:
    """``REDACTION.txt``: what was withheld, and why the files differ from the private run."""
    assert folder.redaction is not None
    lines = [
        f"Published copy of the run {folder.scenario!r}.",
        "",
        folder.redaction.note,
        "",
        "Sensitive sites (the register's `sensitive` flag) appear in buildings.csv as",
        "`withheld-N` with no name, address or coordinates, `redacted` = True, and the zone",
        "whose centroid is nearest.  Their money and decisions are kept, so the totals equal",
        "the private run's.  Moves to or from them keep their desks and cost but not the",
        "service's name (moves.csv `redacted` = True).  The map shows a count per zone.",
        "",
        "Not published: inputs/ (the register with every site's address and location).",
        "",
        "Withheld sites per zone:",
    ]
    lines += [
        f"  {r.zone_id} ({r.zone_name}): {r.sites}" for r in folder.redaction.by_zone.itertuples()
    ]
    return "\n".join(lines) + "\n"


def write_published_tables(folder: RunFolder, out_dir: Path) -> list[Path]:
    """The redacted tables, summary, GeoPackage and REDACTION.txt."""
    assert folder.redaction is not None
    # The private buildings.csv's columns, plus the zone and the redaction flag.
    buildings = folder.buildings[[*BUILDINGS_OUT, "zone_id", "redacted"]]
    files = [
        write_json(out_dir / "summary.json", dict(folder.summary)),
        write_csv(out_dir / "buildings.csv", buildings),
        write_csv(out_dir / "moves.csv", folder.moves),
        write_csv(out_dir / "agencies.csv", folder.agencies),
        write_csv(out_dir / "access.csv", folder.access),
        write_csv(out_dir / "cash_flows.csv", folder.cash_flows),
        write_gpkg(folder, out_dir / "results.gpkg"),
        write_text(out_dir / "REDACTION.txt", redaction_text(folder)),
    ]
    return files


# -- the leak check ---------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """What must not appear in a published file for one sensitive site."""

    building_id: str
    name: str
    lat: float
    lon: float
    easting: float
    northing: float


def secrets(private: RunFolder) -> list[Secret]:
    b = private.buildings.loc[private.buildings["sensitive"].astype(bool)]
    return [
        Secret(str(r.building_id), str(r.name), r.lat, r.lon, r.easting, r.northing)
        for r in b.itertuples()
    ]


_PAIR = re.compile(r"(-?\d{1,3}\.\d{3,})\s*[,\s]\s*(-?\d{1,3}\.\d{3,})")


def _file_texts(path: Path) -> list[tuple[str, str]]:
    """(part, text) pieces to scan: a file's text, or each member of a zip (xlsx)."""
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return [(m, zf.read(m).decode("utf-8", "replace")) for m in zf.namelist()]
    return [("", data.decode("utf-8", "replace"))]


def _unescape(text: str) -> str:
    """Undo JSON ``\\uXXXX`` escapes and HTML entities (a name may be stored either way)."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return html.unescape(html.unescape(text))


def _distinctive(building_id: str) -> bool:
    """Ids like "7" or "0042" occur by chance in any file; "B006" or a UPRN do not."""
    return not (building_id.isdigit() and len(building_id) < 6)


def leaks(path: Path, sites: list[Secret]) -> list[str]:
    """Where a file discloses a sensitive site: its name, id, lat/lon pair or grid point."""
    found = []
    raw = path.read_bytes()
    for site in sites:
        for value in (site.easting, site.northing):
            if struct.pack("<d", value) in raw or struct.pack(">d", value) in raw:
                found.append(f"{path}: the grid coordinate {value} of {site.building_id}")
    for part, text in _file_texts(path):
        where = f"{path}{'!' + part if part else ''}"
        pairs = [(float(a), float(b)) for a, b in _PAIR.findall(text)]
        plain = _unescape(text)
        for site in sites:
            if len(site.name) >= 4 and site.name in plain:
                found.append(f"{where}: the name of {site.building_id}")
            if _distinctive(site.building_id) and re.search(
                rf"(?<![\w-]){re.escape(site.building_id)}(?![\w-])", text
            ):
                found.append(f"{where}: the id {site.building_id}")
            for a, b in pairs:
                for lat, lon in ((a, b), (b, a)):
                    if (
                        abs(lat - site.lat) <= COORD_TOLERANCE_DEG
                        and abs(lon - site.lon) <= COORD_TOLERANCE_DEG
                    ):
                        found.append(f"{where}: the location of {site.building_id}")
                        break
    return found


def check_published(files: list[Path], private: RunFolder) -> None:
    """Raise :class:`PublishError` (and delete the files) if any discloses a sensitive site."""
    sites = secrets(private)
    problems = [p for f in files for p in leaks(f, sites)]
    if problems:
        for f in files:
            f.unlink(missing_ok=True)
        shown = "\n  - ".join(sorted(set(problems))[:20])
        raise PublishError(
            f"refusing to publish: files would disclose sensitive sites:\n  - {shown}"
        )


def publication(private: RunFolder) -> dict[str, Any]:
    """A small record of what was withheld, for the CLI's ``--json``."""
    red = redact(private).redaction
    assert red is not None
    return {
        "withheld_sites": red.withheld_sites,
        "by_zone": red.by_zone[["zone_id", "sites"]].to_dict(orient="records"),
    }
