"""A real multi-agency register for Rutland (LAD E06000017) from public lists.

Run ``python -m estate.examples.rutland [--data ../shared/data] [--out DIR]``.  It reads
the public lists with the project's own loaders, keeps the sites in Rutland, writes them
as one site list (``sites.csv``), and hands that to ``estate estimate``
(:func:`estate.estimate.estimate`) with the OpenStreetMap extract for floor areas and
Code-Point Open for postcodes.  The estimate fills what the lists do not say (floor
area, costs, capacity, services) from the unit rates shipped with the package
(``estate/data/unit_rates.yaml``) and names every estimated value in the row's
``estimated`` column.  It also writes ``zones.csv`` and ``provenance.json``.  See
``docs/rutland.md``.

Sources (all under the ``--data`` folder; docs/rutland.md lists their paths):

- Arts Council England basic dataset for libraries 2023: Rutland County Council's
  static libraries and the Rutland County Museum (local-history library);
- Home Office fire stations: those whose postcode lies in Rutland;
- NHS ODS epraccur: active GP practices (prescribing setting 4) in Rutland;
- NHS ERIC 2016-17 site data: Rutland Memorial Hospital (floor area, running and
  backlog costs as reported);
- OpenStreetMap (Geofabrik extract, 2018): the hospital's point, the county council's
  offices, police stations, and building footprints for floor-area estimates;
- OS Code-Point Open: postcode centroids and the district each postcode lies in;
- ONS: LSOA population-weighted centroids and mid-2018 populations (zones).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.errors import EstateError, InputDataError
from estate.estimate import estimate, write_estimate
from estate.footprints import read_osm
from estate.io import write_csv, write_json
from estate.load import load_files
from estate.postcodes import postcode_key
from estate.register import Register
from estate.schema import ZONES
from geodata.zones import read_zones

RUTLAND = "E06000017"
DEFAULT_DATA = Path("../shared/data")
DEFAULT_OUT = Path("runs/rutland-register")

LIBRARIES = "assets/basic-dataset-for-libraries-2023-enhanced.csv"
FIRE = "assets/fire-stations-dataset.csv"
GP = "assets/epraccur.csv"
ERIC = "nhs-eric/ERIC-2016-17-site-data.csv"
DERBYSHIRE = "registers/stations-derbyshire.csv"
OSM = "osm/rutland-latest.osm.pbf"
POSTCODES = "postcodes"
ZONES_CSV = "ons/rutland_lsoa11_zones.csv"

AGENCY_COUNCIL = "Rutland County Council"
AGENCY_FIRE = "Leicestershire Fire and Rescue Service"
AGENCY_GP = "NHS GP practices"
AGENCY_POLICE = "Leicestershire Police"


class RutlandDataError(InputDataError):
    """The shared data folder lacks a file the Rutland example needs."""


def _need(data: Path, name: str) -> str:
    path = data / name
    if not path.exists():
        raise RutlandDataError([], f"{path} is missing (the Rutland example reads {name})")
    return str(path)


# --- the sites ------------------------------------------------------------------------


def _codepoint_districts(data: Path) -> pd.DataFrame:
    frames = []
    for name in ("le.csv", "pe.csv"):
        frames.append(
            pd.read_csv(
                _need(data, f"{POSTCODES}/{name}"),
                header=None,
                usecols=[0, 2, 3, 8],
                names=["postcode", "easting", "northing", "district"],
                dtype={"postcode": str, "district": str},
                keep_default_na=False,
            )
        )
    cp = pd.concat(frames, ignore_index=True)
    cp["key"] = cp["postcode"].map(postcode_key)
    return cp


def _in_rutland(postcodes: pd.Series, districts: dict[str, str]) -> pd.Series:
    return postcodes.map(lambda p: districts.get(postcode_key(p)) == RUTLAND)


def _libraries(data: Path, districts: dict[str, str]) -> pd.DataFrame:
    result = load_files([_need(data, LIBRARIES)], kind="assets")
    lib = result.accepted
    kind = lib["use_as_written"]  # the list's "Type", read as building_type library
    keep = (lib["agency"] == AGENCY_COUNCIL) & kind.isin(
        ["Static Library", "Static Local History Library"]
    )
    lib = lib.loc[keep & _in_rutland(lib["postcode"], districts)].copy()
    # The county museum holds the local-history library: a museum building.
    lib["building_type"] = np.where(lib["use_as_written"] == "Static Library", "library", "museum")
    plain = (lib["building_type"] == "library") & ~lib["name"].str.contains("Library")
    lib.loc[plain, "name"] = lib.loc[plain, "name"] + " Library"
    lib["building_id"] = "RCC-" + lib["name"].map(_slug)
    lib["source"] = "Arts Council England basic dataset for libraries 2023"
    return lib


def _fire_stations(data: Path, districts: dict[str, str]) -> pd.DataFrame:
    fire = load_files([_need(data, FIRE)], kind="assets").accepted
    fire = fire.loc[_in_rutland(fire["postcode"], districts)].copy()
    fire["agency"] = AGENCY_FIRE
    fire["building_type"] = "fire_station"
    fire["building_id"] = "LFRS-" + fire["name"].map(_slug)
    fire["source"] = "Home Office fire stations in England"
    return fire


def _gp_practices(data: Path, districts: dict[str, str]) -> pd.DataFrame:
    gp = load_files([_need(data, GP)]).accepted  # closed and dormant rows are set aside
    keep = gp["Prescribing setting"].eq("4") & _in_rutland(gp["postcode"], districts)
    gp = gp.loc[keep].copy()
    gp["agency"] = AGENCY_GP
    gp["building_type"] = "gp_surgery"
    gp["name"] = gp["name"].str.title()
    gp["source"] = "NHS ODS epraccur (GP practices)"
    return gp


def _hospital(data: Path, osm_points: pd.DataFrame) -> pd.DataFrame:
    eric = load_files([_need(data, ERIC)]).accepted
    site = eric.loc[eric["building_id"] == "RT5PC"].copy()
    if len(site) != 1:
        raise RutlandDataError([], f"{ERIC}: site RT5PC (Rutland Memorial Hospital) not found")
    osm = osm_points.loc[osm_points["name"] == "Rutland Memorial Hospital"]
    if len(osm) == 1:
        site["easting"] = float(osm["easting"].iloc[0])
        site["northing"] = float(osm["northing"].iloc[0])
        site["postcode"] = osm["tags"].iloc[0].get("addr:postcode", "")
        site["address"] = osm["tags"].iloc[0].get("addr:street", "")
    site["name"] = site["name"].str.title()  # the agencies table names the trust
    site["building_type"] = "hospital"
    site["source"] = "NHS ERIC 2016-17 site data; location from OpenStreetMap"
    return site


def _osm_sites(osm_points: pd.DataFrame, osm_buildings: pd.DataFrame) -> pd.DataFrame:
    """The county council's offices and police stations, as OpenStreetMap maps them."""
    rows = []
    council = osm_buildings.loc[osm_buildings["name"] == AGENCY_COUNCIL]
    for r in council.itertuples():
        rows.append(
            {
                "building_id": "RCC-council-offices",
                "agency": AGENCY_COUNCIL,
                "name": "Rutland County Council offices (Catmose)",
                "easting": r.easting,
                "northing": r.northing,
                "building_type": "office",
                "source": f"OpenStreetMap way {r.osm_way_id}",
            }
        )
    police = osm_points.loc[osm_points["amenity"] == "police"]
    for r in police.itertuples():
        rows.append(
            {
                "building_id": f"LP-osm-{r.osm_id}",
                "agency": AGENCY_POLICE,
                "name": f"Police station (OpenStreetMap node {r.osm_id})",
                "easting": r.easting,
                "northing": r.northing,
                "building_type": "police_station",
                "source": f"OpenStreetMap node {r.osm_id} (amenity=police; no operator tagged)",
            }
        )
    return pd.DataFrame(rows)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def zones_from(data: Path) -> pd.DataFrame:
    """The 23 LSOAs, read by the zones reader every command uses."""
    return read_zones(_need(data, ZONES_CSV)).zones


# --- the whole register ---------------------------------------------------------------

SITE_COLUMNS = [
    "building_id",
    "agency",
    "name",
    "building_type",
    "address",
    "postcode",
    "uprn",
    "lat",
    "lon",
    "easting",
    "northing",
    "gia_m2",
    "running_cost",
    "backlog_cost",
    "source",
]


@dataclass
class RutlandRegister:
    sites: pd.DataFrame
    buildings: pd.DataFrame
    services: pd.DataFrame
    zones: pd.DataFrame
    provenance: dict[str, Any]


def sites(data: Path = DEFAULT_DATA) -> pd.DataFrame:
    """Rutland's public buildings from the public lists: one row a site, with what the
    lists say (no estimates yet)."""
    cp = _codepoint_districts(data)
    districts = dict(zip(cp["key"], cp["district"], strict=True))
    osm_points, outlines = read_osm(_need(data, OSM))
    found = pd.concat(
        [
            _libraries(data, districts),
            _fire_stations(data, districts),
            _gp_practices(data, districts),
            _hospital(data, osm_points),
            _osm_sites(osm_points, outlines),
        ],
        ignore_index=True,
    )
    placed = found["easting"].notna() | found.get("lat", pd.Series(np.nan, found.index)).notna()
    located = found.loc[placed].copy()
    by_postcode = found.loc[~placed].copy()  # GP practices: placed by postcode later
    located = _nearest_postcodes(located, cp)
    located = located.loc[located["district"] == RUTLAND]
    out = pd.concat([located, by_postcode], ignore_index=True)
    for name in SITE_COLUMNS:
        if name not in out:
            out[name] = ""
    for col, digits in (("easting", 1), ("northing", 1), ("lat", 7), ("lon", 7)):
        out[col] = pd.to_numeric(out[col]).round(digits)
    return out[SITE_COLUMNS].sort_values("building_id").reset_index(drop=True)


def build(data: Path = DEFAULT_DATA, out_dir: Path = DEFAULT_OUT) -> RutlandRegister:
    """Build the Rutland register from the shared public data (no network): the site
    list, then ``estate estimate`` on it."""
    site_list = sites(data)
    sites_csv = write_csv(out_dir / "sites.csv", site_list)
    est = estimate(
        [str(sites_csv)],
        osm=_need(data, OSM),
        postcodes=[data / POSTCODES],
    )
    if est.exit_code or len(est.set_aside):
        problems = est.load.rejected()["reasons"].tolist() + est.set_aside["reason"].tolist()
        raise InputDataError([], f"Rutland sites not usable: {'; '.join(map(str, problems))}")
    register = Register.from_frames(
        est.buildings.astype(object), est.services.astype(object), "buildings.csv", "services.csv"
    )
    provenance = {
        "place": "Rutland (LAD E06000017)",
        "sources": _hashes(data),
        "buildings_by_agency": register.buildings["agency"].value_counts().sort_index().to_dict(),
        "geocode_methods": est.buildings["geocode_method"].value_counts().sort_index().to_dict(),
        "estimate": "estimate.json: the unit rates used, with their units and bases",
        "note": "costs, floor areas and capacities marked in 'estimated' are estimates "
        "from unit rates, not reported figures",
        "attribution": [
            "Positions and floor areas derived from OpenStreetMap: (c) OpenStreetMap "
            "contributors, ODbL 1.0; this register is a derived database under the ODbL",
            "Contains OS data (c) Crown copyright and database right 2014; Contains Royal "
            "Mail data (c) Royal Mail copyright and database right 2014; Contains National "
            "Statistics data (c) Crown copyright and database right 2014",
            "NHS ODS and NHS Digital (ERIC) data, ONS data: Open Government Licence v3.0",
            "Arts Council England libraries data; Home Office fire stations data",
        ],
    }
    write_estimate(est, out_dir)
    return RutlandRegister(site_list, est.buildings, est.services, zones_from(data), provenance)


def _nearest_postcodes(frame: pd.DataFrame, cp: pd.DataFrame) -> pd.DataFrame:
    """Each site's postcode district (its own postcode's, else the nearest postcode's)."""
    from scipy.spatial import cKDTree

    out = frame.copy()
    located = cp.loc[(cp["easting"] > 0) & (cp["northing"] > 0)]
    tree = cKDTree(located[["easting", "northing"]].to_numpy(float))
    _, idx = tree.query(out[["easting", "northing"]].to_numpy(float))
    nearest = located.iloc[idx]
    by_key = dict(zip(cp["key"], cp["district"], strict=True))
    own = out["postcode"].fillna("").map(lambda p: by_key.get(postcode_key(p), ""))
    out["district"] = np.where(own != "", own, nearest["district"].to_numpy())
    out["postcode"] = out["postcode"].fillna("").astype(str).str.strip()
    blank = (out["postcode"] == "").to_numpy()
    out.loc[blank, "postcode"] = nearest["postcode"].map(_spaced).to_numpy()[blank]
    out.loc[blank, "source"] = out.loc[blank, "source"] + "; postcode: the nearest Code-Point one"
    return out


def _spaced(postcode: str) -> str:
    key = postcode_key(postcode)
    return f"{key[:-3]} {key[-3:]}"


def _hashes(data: Path) -> dict[str, str]:
    names = [LIBRARIES, FIRE, GP, ERIC, DERBYSHIRE, OSM, ZONES_CSV, f"{POSTCODES}/le.csv",
             f"{POSTCODES}/pe.csv"]  # fmt: skip
    return {n: hashlib.sha256((data / n).read_bytes()).hexdigest() for n in names}


def write(register: RutlandRegister, out_dir: Path) -> list[Path]:
    """zones.csv and provenance.json (the estimate wrote the register beside them)."""
    zones = register.zones.drop(columns=["source_file", "source_row"], errors="ignore")
    for col in ("lat", "lon"):
        zones[col] = zones[col].round(7)
    for col in ("easting", "northing"):
        zones[col] = zones[col].round(1)
    return [
        out_dir / "sites.csv",
        out_dir / "buildings.csv",
        out_dir / "services.csv",
        out_dir / "estimate.json",
        write_csv(out_dir / "zones.csv", zones[ZONES.names]),
        write_json(out_dir / "provenance.json", register.provenance),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m estate.examples.rutland",
        description="Build the Rutland multi-agency register from public lists (offline).",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="folder of the public downloads (docs/rutland.md lists them)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write")
    args = parser.parse_args(argv)
    try:
        register = build(args.data, args.out)
        paths = write(register, args.out)
    except EstateError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    counts = register.provenance["buildings_by_agency"]
    print(
        f"Rutland register: {len(register.buildings)} buildings, "
        f"{len(register.services)} services, {len(register.zones)} zones"
    )
    for agency, n in counts.items():
        print(f"  {agency}: {n}")
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
