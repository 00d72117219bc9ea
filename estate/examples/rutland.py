"""A real multi-agency register for Rutland (LAD E06000017) from public lists.

Run ``python -m estate.examples.rutland [--data ../shared/data] [--out DIR]``.  It reads
the public lists with the project's own loaders, keeps the sites in Rutland, geocodes
them offline, estimates what the lists do not say (floor area, costs, capacity) from
the unit rates in :class:`UnitRates`, and writes canonical ``buildings.csv``,
``services.csv`` and ``zones.csv`` plus ``provenance.json``.  Every estimated value is
named in the row's ``estimated`` column and its basis in ``gia_basis``/``cost_basis``.
See ``docs/rutland.md``.

Sources (all under the shared data folder):

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
import math
import re
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estate.coords import bng_to_lonlat
from estate.errors import EstateError, InputDataError
from estate.geocode import PostcodeLookup, geocode
from estate.io import write_csv, write_json
from estate.load import load_files
from estate.postcodes import postcode_key
from estate.register import Register
from estate.schema import BUILDINGS, SERVICES, ZONES
from estate.validate import coerce_table, fill_coordinates

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


@dataclass(frozen=True)
class UnitRates:
    """Every assumption behind the estimates, in one place (GBP at 2024 prices).

    These are planning assumptions stated for the example, not published benchmarks:
    replace them with each body's own figures.  ``fire_station`` floor area is the
    exception: it is the median GIA of the retained (RDS) stations in the Derbyshire
    Fire & Rescue Service register, computed when the register is built.
    """

    running_cost_per_m2: dict[str, float] = field(
        default_factory=lambda: {
            "office": 160.0,
            "library": 110.0,
            "museum": 110.0,
            "fire_station": 100.0,
            "police_station": 120.0,
            "gp_surgery": 130.0,
            "hospital": 300.0,
        }
    )
    default_gia_m2: dict[str, float] = field(
        default_factory=lambda: {
            "office": 3000.0,
            "library": 250.0,
            "museum": 800.0,
            "fire_station": 186.0,
            "police_station": 400.0,
            "gp_surgery": 450.0,
            "hospital": 2900.0,
        }
    )
    #: storeys assumed when an OSM footprint has no ``building:levels``
    storeys: dict[str, int] = field(
        default_factory=lambda: {
            "office": 2,
            "library": 1,
            "museum": 1,
            "fire_station": 1,
            "police_station": 2,
            "gp_surgery": 1,
            "hospital": 2,
        }
    )
    #: share of the floor area usable for workstations
    desk_share: dict[str, float] = field(
        default_factory=lambda: {
            "office": 0.6,
            "library": 0.2,
            "museum": 0.1,
            "fire_station": 0.15,
            "police_station": 0.4,
            "gp_surgery": 0.2,
            "hospital": 0.1,
        }
    )
    m2_per_desk: float = 10.0
    occupancy: float = 0.75
    backlog_per_m2: float = 40.0
    disposal_value_per_m2: float = 1200.0
    disposal_cost_share: float = 0.03
    #: an OSM building is the site's when its outline is this close to the site's point
    footprint_metres: float = 15.0


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
    keep = (lib["agency"] == AGENCY_COUNCIL) & lib["Type"].isin(
        ["Static Library", "Static Local History Library"]
    )
    lib = lib.loc[keep & _in_rutland(lib["postcode"], districts)].copy()
    lib["building_type"] = np.where(lib["Type"] == "Static Library", "library", "museum")
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
    gp = load_files([_need(data, GP)]).accepted  # closed and dormant rows are rejected
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
    site["agency"] = site["agency"].str.title().str.replace("Nhs", "NHS")
    site["name"] = site["name"].str.title()
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


_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def _tags(other: object) -> dict[str, str]:
    return dict(_TAG.findall(other)) if isinstance(other, str) else {}


def read_osm(path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Points (with tags) and building outlines (area, storeys) in EPSG:27700."""
    import pyogrio

    with warnings.catch_warnings():
        # GDAL's OSM driver warns about unclosed rings in the extract's edges.
        warnings.simplefilter("ignore", RuntimeWarning)
        points = pyogrio.read_dataframe(path, layer="points").to_crs("EPSG:27700")
        polys = pyogrio.read_dataframe(path, layer="multipolygons").to_crs("EPSG:27700")
    pts = pd.DataFrame(
        {
            "osm_id": points["osm_id"].astype(str),
            "name": points["name"].fillna(""),
            "tags": points["other_tags"].map(_tags),
            "easting": points.geometry.x,
            "northing": points.geometry.y,
        }
    )
    pts["amenity"] = pts["tags"].map(lambda t: t.get("amenity", ""))
    buildings = polys.loc[polys["building"].notna()].copy()
    levels = buildings["other_tags"].map(lambda t: _tags(t).get("building:levels", ""))
    centre = buildings.geometry.representative_point()
    outlines = pd.DataFrame(
        {
            "osm_way_id": buildings["osm_way_id"].fillna(buildings["osm_id"]).astype(str),
            "name": buildings["name"].fillna(""),
            "area_m2": buildings.geometry.area,
            "levels": pd.to_numeric(levels, errors="coerce"),
            "easting": centre.x,
            "northing": centre.y,
            "geometry": buildings.geometry.to_numpy(),
        }
    )
    return pts.reset_index(drop=True), outlines.reset_index(drop=True)


# --- estimates ------------------------------------------------------------------------


#: Only points that are the building's own (not a postcode's centroid) pick a footprint.
PRECISE_METHODS = ("lat_lon", "easting_northing", "uprn")


def _footprints(sites: pd.DataFrame, outlines: pd.DataFrame, metres: float) -> pd.DataFrame:
    """The OSM building each precisely located site's point lies in (or within
    ``metres`` of)."""
    import shapely

    geoms: list[Any] = list(outlines["geometry"])
    tree = shapely.STRtree(geoms)
    found: list[dict[str, Any]] = []
    for e, n, method in zip(
        sites["easting"], sites["northing"], sites["geocode_method"], strict=True
    ):
        point = shapely.Point(e, n)
        hits = tree.query(point, predicate="dwithin", distance=metres)
        if len(hits) == 0 or method not in PRECISE_METHODS:
            found.append({"area_m2": math.nan, "levels": math.nan, "osm_way_id": ""})
            continue
        best = min(hits, key=lambda i: (geoms[int(i)].distance(point), -geoms[int(i)].area))
        row = outlines.iloc[int(best)]
        found.append(
            {"area_m2": row["area_m2"], "levels": row["levels"], "osm_way_id": row["osm_way_id"]}
        )
    return pd.DataFrame(found, index=sites.index)


def estimate(sites: pd.DataFrame, outlines: pd.DataFrame, rates: UnitRates) -> pd.DataFrame:
    """Fill floor area, costs and capacity; name every estimated value and its basis."""
    out = sites.copy()
    prints = _footprints(out, outlines, rates.footprint_metres)
    gia, gia_basis, running, cost_basis, backlog, estimated = [], [], [], [], [], []
    for i, row in out.iterrows():
        kind = row["building_type"]
        marks: list[str] = []
        reported_gia = row.get("gia_m2")
        if pd.notna(reported_gia) and reported_gia > 0:
            area, basis = float(reported_gia), "reported (NHS ERIC 2016-17)"
        elif pd.notna(prints.at[i, "area_m2"]):
            levels = prints.at[i, "levels"]
            storeys = int(levels) if pd.notna(levels) and levels >= 1 else rates.storeys[kind]
            how = "tagged" if pd.notna(levels) and levels >= 1 else "assumed"
            area = round(float(prints.at[i, "area_m2"]) * storeys)
            basis = (
                f"estimate: OpenStreetMap way {prints.at[i, 'osm_way_id']} footprint "
                f"{prints.at[i, 'area_m2']:.0f} m2 x {storeys} storey(s) ({how})"
            )
            marks.append("gia_m2")
        else:
            area = rates.default_gia_m2[kind]
            basis = f"estimate: typical floor area for a {kind.replace('_', ' ')}"
            marks.append("gia_m2")
        reported_cost = row.get("running_cost")
        if pd.notna(reported_cost) and reported_cost > 0:
            cost = float(reported_cost)
            cbasis = "reported (NHS ERIC 2016-17: estates, FM, energy, water, waste, cleaning)"
        else:
            rate = rates.running_cost_per_m2[kind]
            cost = round(area * rate)
            cbasis = f"estimate: {area:.0f} m2 x GBP {rate:.0f}/m2/year"
            marks.append("running_cost")
        reported_backlog = row.get("backlog_cost")
        if pd.notna(reported_backlog) and cbasis.startswith("reported"):
            back = float(reported_backlog)
        else:
            back = round(area * rates.backlog_per_m2)
            marks.append("backlog_cost")
        marks += ["capacity_desks", "disposal_value", "disposal_cost", "tenure"]
        gia.append(area)
        gia_basis.append(basis)
        running.append(cost)
        cost_basis.append(cbasis)
        backlog.append(back)
        estimated.append(";".join(marks))
    out["gia_m2"] = gia
    out["gia_basis"] = gia_basis
    out["running_cost"] = running
    out["cost_basis"] = cost_basis
    out["backlog_cost"] = backlog
    out["capacity_desks"] = [
        max(1, math.floor(a * rates.desk_share[k] / rates.m2_per_desk))
        for a, k in zip(out["gia_m2"], out["building_type"], strict=True)
    ]
    out["disposal_value"] = (out["gia_m2"] * rates.disposal_value_per_m2).round()
    out["disposal_cost"] = (out["disposal_value"] * rates.disposal_cost_share).round()
    out["tenure"] = "freehold"
    out["estimated"] = estimated
    return out


SERVICE_TYPES: dict[str, list[tuple[str, str, bool, bool, bool, float]]] = {
    # building type: (service_type, name suffix, public_facing, movable, exclusive, share)
    "office": [
        ("council_front_office", "customer services", True, True, False, 0.2),
        ("back_office", "council back office", False, True, False, 0.8),
    ],
    "library": [("library", "library", True, True, False, 1.0)],
    "museum": [("museum", "museum", True, False, False, 1.0)],
    "fire_station": [("fire_station", "fire station", False, False, True, 1.0)],
    "police_station": [("police_front_counter", "police station", True, True, False, 1.0)],
    "gp_surgery": [("gp", "GP practice", True, True, False, 1.0)],
    "hospital": [("hospital", "community hospital", True, False, True, 1.0)],
}


def services_for(buildings: pd.DataFrame, rates: UnitRates) -> pd.DataFrame:
    """The services in each building today; desks = capacity x occupancy (estimated)."""
    rows = []
    for b in buildings.itertuples():
        for stype, label, public, movable, exclusive, share in SERVICE_TYPES[b.building_type]:
            desks = max(1, round(b.capacity_desks * rates.occupancy * share))
            rows.append(
                {
                    "service_id": f"{b.building_id}:{stype}",
                    "agency": b.agency,
                    "name": f"{b.name} {label}" if label not in b.name.lower() else b.name,
                    "building_id": b.building_id,
                    "desks": desks,
                    "service_type": stype,
                    "public_facing": public,
                    "movable": movable,
                    "exclusive": exclusive,
                    "estimated": "desks",
                }
            )
    return pd.DataFrame(rows)


def zones_from(data: Path) -> pd.DataFrame:
    raw = pd.read_csv(_need(data, ZONES_CSV), dtype=str, keep_default_na=False)
    frame = pd.DataFrame(
        {
            "zone_id": raw["LSOA11CD"],
            "name": raw["LSOA11NM"],
            "population": raw["population_mid2018"],
            "lat": raw["pwc_lat"],
            "lon": raw["pwc_lon"],
        }
    )
    coerced = coerce_table(frame, ZONES, ZONES_CSV)
    issues = coerced.issues + fill_coordinates(coerced.accepted, ZONES_CSV)
    if issues:
        raise InputDataError(issues, "the Rutland zones cannot be used")
    return coerced.accepted


# --- the whole register ---------------------------------------------------------------


@dataclass
class RutlandRegister:
    buildings: pd.DataFrame
    services: pd.DataFrame
    zones: pd.DataFrame
    provenance: dict[str, Any]


def build(data: Path = DEFAULT_DATA, rates: UnitRates | None = None) -> RutlandRegister:
    """Build the Rutland register from the shared public data (no network)."""
    rates = rates or UnitRates()
    derbyshire = load_files([_need(data, DERBYSHIRE)], kind="assets", agency="DFRS").accepted
    retained = derbyshire.loc[derbyshire["Status"] == "RDS", "gia_m2"].dropna()
    rates.default_gia_m2["fire_station"] = float(retained.median())
    cp = _codepoint_districts(data)
    districts = dict(zip(cp["key"], cp["district"], strict=True))
    osm_points, outlines = read_osm(_need(data, OSM))
    sites = pd.concat(
        [
            _libraries(data, districts),
            _fire_stations(data, districts),
            _gp_practices(data, districts),
            _hospital(data, osm_points),
            _osm_sites(osm_points, outlines),
        ],
        ignore_index=True,
    )
    lookup = PostcodeLookup.from_files([data / POSTCODES])
    geo = geocode(sites, lookup)
    if len(geo.unmatched):
        raise InputDataError(
            [],
            "Rutland sites without a location: "
            + ", ".join(geo.unmatched["building_id"].astype(str)),
        )
    located = geo.buildings
    located = _nearest_postcodes(located, cp)
    located = located.loc[located["district"] == RUTLAND].copy()
    estimated = estimate(located, outlines, rates)
    buildings = _canonical_buildings(estimated)
    services = services_for(buildings, rates)
    register = Register.from_frames(
        buildings.astype(object), services.astype(object), "buildings.csv", "services.csv"
    )
    provenance = {
        "place": "Rutland (LAD E06000017)",
        "unit_rates": asdict(rates),
        "sources": _hashes(data),
        "buildings_by_agency": buildings["agency"].value_counts().sort_index().to_dict(),
        "geocode_methods": buildings["geocode_method"].value_counts().sort_index().to_dict(),
        "note": "costs, floor areas and capacities marked in 'estimated' are estimates "
        "from the unit rates above, not reported figures",
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
    return RutlandRegister(register.buildings, register.services, zones_from(data), provenance)


def _nearest_postcodes(frame: pd.DataFrame, cp: pd.DataFrame) -> pd.DataFrame:
    """Each site's postcode district (its own postcode's, else the nearest postcode's)."""
    from scipy.spatial import cKDTree

    out = frame.copy()
    located = cp.loc[(cp["easting"] > 0) & (cp["northing"] > 0)]
    tree = cKDTree(located[["easting", "northing"]].to_numpy(float))
    _, idx = tree.query(out[["easting", "northing"]].to_numpy(float))
    nearest = located.iloc[idx]
    by_key = dict(zip(cp["key"], cp["district"], strict=True))
    own = out["postcode"].map(lambda p: by_key.get(postcode_key(p), ""))
    out["district"] = np.where(own != "", own, nearest["district"].to_numpy())
    out["postcode"] = out["postcode"].fillna("").astype(str).str.strip()
    blank = (out["postcode"] == "").to_numpy()
    out.loc[blank, "postcode"] = nearest["postcode"].map(_spaced).to_numpy()[blank]
    out.loc[blank, "source"] = out.loc[blank, "source"] + "; postcode: the nearest Code-Point one"
    return out


def _spaced(postcode: str) -> str:
    key = postcode_key(postcode)
    return f"{key[:-3]} {key[-3:]}"


EXTRA_COLUMNS = [
    "geocode_method",
    "gia_basis",
    "cost_basis",
    "estimated",
    "source",
]


def _canonical_buildings(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    lon, lat = bng_to_lonlat(out["easting"], out["northing"])
    out["lon"], out["lat"] = np.round(lon, 7), np.round(lat, 7)
    out["easting"], out["northing"] = out["easting"].round(1), out["northing"].round(1)
    for text in ("address", "uprn"):
        out[text] = out[text].fillna("") if text in out else ""
    for name in BUILDINGS.names:
        if name not in out:
            spec = BUILDINGS.column(name)
            out[name] = spec.default if spec.default is not None else ""
    columns = BUILDINGS.names + EXTRA_COLUMNS
    return out[columns].sort_values("building_id").reset_index(drop=True)


def _hashes(data: Path) -> dict[str, str]:
    names = [LIBRARIES, FIRE, GP, ERIC, DERBYSHIRE, OSM, ZONES_CSV, f"{POSTCODES}/le.csv",
             f"{POSTCODES}/pe.csv"]  # fmt: skip
    return {n: hashlib.sha256((data / n).read_bytes()).hexdigest() for n in names}


def write(register: RutlandRegister, out_dir: Path) -> list[Path]:
    """Write buildings.csv, services.csv, zones.csv and provenance.json atomically."""
    buildings = register.buildings.drop(columns=["source_file", "source_row"], errors="ignore")
    services = register.services.drop(columns=["source_file", "source_row"], errors="ignore")
    zones = register.zones.drop(columns=["source_file", "source_row"], errors="ignore")
    for frame in (buildings, zones):
        for col in ("lat", "lon"):
            frame[col] = frame[col].round(7)
        for col in ("easting", "northing"):
            frame[col] = frame[col].round(1)
    buildings["lease_end"] = ""
    buildings["lease_break"] = ""
    return [
        write_csv(out_dir / "buildings.csv", buildings[BUILDINGS.names + EXTRA_COLUMNS]),
        write_csv(out_dir / "services.csv", services[[*SERVICES.names, "estimated"]]),
        write_csv(out_dir / "zones.csv", zones[ZONES.names]),
        write_json(out_dir / "provenance.json", register.provenance),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m estate.examples.rutland",
        description="Build the Rutland multi-agency register from ../shared/data.",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write")
    args = parser.parse_args(argv)
    try:
        register = build(args.data)
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
