"""A small real register of Rutland built from public lists in ../shared/data.

Until the register-loading work lands, tests and benchmarks need a real place:
Rutland's static public libraries (Arts Council England list), its fire stations
(Home Office list) and its active GP practices (NHS ODS epraccur, geocoded with OS
Code-Point Open; a practice counts as Rutland's when its postcode's district is
Rutland, E06000017).  Capacities and costs are not in these lists and are set to 0:
the register serves access work only.

The data is read from ``../shared/data`` relative to the repository root; callers
skip when :data:`DATA` is absent.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
PBF = DATA / "osm" / "rutland-latest.osm.pbf"
ZONES = DATA / "ons" / "rutland_lsoa11_zones.csv"
RUTLAND = "E06000017"
CODEPOINT_COLUMNS = [
    "postcode",
    "quality",
    "easting",
    "northing",
    "country",
    "nhs_region",
    "nhs_ha",
    "county",
    "district",
    "ward",
]
EPRACCUR_COLUMNS = {0: "code", 1: "name", 9: "postcode", 12: "status", 25: "setting"}

# Oakham and Uppingham town centres (their public libraries, EPSG:27700 metres).
OAKHAM = (486256.35, 308721.91)
UPPINGHAM = (486759.99, 299647.74)


def available() -> bool:
    folders = ("assets", "postcodes")
    return PBF.is_file() and ZONES.is_file() and all((DATA / f).is_dir() for f in folders)


def _postcode_key(text: pd.Series) -> pd.Series:
    return text.astype(str).str.upper().str.replace(r"\s+", "", regex=True)


def codepoint() -> pd.DataFrame:
    frames = [
        pd.read_csv(DATA / "postcodes" / name, header=None, names=CODEPOINT_COLUMNS, dtype=str)
        for name in ("le.csv", "pe.csv")
    ]
    table = pd.concat(frames, ignore_index=True)
    table["key"] = _postcode_key(table["postcode"])
    return table.drop_duplicates("key").set_index("key")


def libraries() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "assets" / "basic-dataset-for-libraries-2023-enhanced.csv", dtype=str)
    rows = raw.loc[(raw["Reporting service code"] == RUTLAND) & (raw["Type"] == "Static Library")]
    return pd.DataFrame(
        {
            "building_id": "LIB-" + rows["Name"].str.upper().str.replace(" ", "-"),
            "agency": "Rutland County Council",
            "name": rows["Name"] + " Library",
            "postcode": rows["Postcode"],
            "uprn": rows["Unique property reference number"].fillna(""),
            "easting": rows["Easting"],
            "northing": rows["Northing"],
            "service_type": "library",
        }
    )


def fire_stations(postcodes: pd.DataFrame) -> pd.DataFrame:
    raw = pd.read_csv(DATA / "assets" / "fire-stations-dataset.csv", dtype=str)
    district = postcodes["district"].reindex(_postcode_key(raw["STATION_POSTCODE"]))
    rows = raw.loc[district.to_numpy() == RUTLAND]
    return pd.DataFrame(
        {
            "building_id": "FIRE-" + rows["STATION_NAME"].str.split().str[0].str.upper(),
            "agency": rows["FRS_FULLNAME"] + " Fire and Rescue Service",
            "name": rows["STATION_NAME"],
            "postcode": rows["STATION_POSTCODE"],
            "uprn": "",
            "easting": rows["STATION_EASTING"],
            "northing": rows["STATION_NORTHING"],
            "service_type": "fire_station",
        }
    )


def gp_practices(postcodes: pd.DataFrame) -> pd.DataFrame:
    raw = pd.read_csv(DATA / "assets" / "epraccur.csv", header=None, dtype=str)
    raw = raw[list(EPRACCUR_COLUMNS)].rename(columns=EPRACCUR_COLUMNS)
    raw = raw.loc[(raw["status"] == "A") & (raw["setting"] == "4")]
    found = postcodes.reindex(_postcode_key(raw["postcode"]))
    rows = raw.loc[found["district"].to_numpy() == RUTLAND]
    found = found.loc[found["district"] == RUTLAND]
    return pd.DataFrame(
        {
            "building_id": "GP-" + rows["code"].to_numpy(),
            "agency": "NHS",
            "name": rows["name"].str.title().to_numpy(),
            "postcode": rows["postcode"].to_numpy(),
            "uprn": "",
            "easting": found["easting"].to_numpy(),
            "northing": found["northing"].to_numpy(),
            "service_type": "gp",
        }
    )


def register_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical ``buildings`` and ``services`` frames (text cells, as if read from CSV)."""
    postcodes = codepoint()
    listed = pd.concat(
        [libraries(), fire_stations(postcodes), gp_practices(postcodes)], ignore_index=True
    )
    buildings = listed.drop(columns=["service_type"]).assign(
        capacity_desks="0", running_cost="0", tenure="freehold"
    )
    services = pd.DataFrame(
        {
            "service_id": "S-" + listed["building_id"],
            "agency": listed["agency"],
            "name": listed["name"],
            "building_id": listed["building_id"],
            "desks": "0",
            "service_type": listed["service_type"],
            "public_facing": "yes",
        }
    )
    return buildings, services


def write_register(folder: Path) -> Path:
    """Write ``buildings.csv`` and ``services.csv`` into ``folder``; returns the folder."""
    buildings, services = register_frames()
    folder.mkdir(parents=True, exist_ok=True)
    buildings.to_csv(folder / "buildings.csv", index=False)
    services.to_csv(folder / "services.csv", index=False)
    return folder


def building_points() -> pd.DataFrame:
    """The register's buildings as an ``id``/``x``/``y`` points frame (metres)."""
    buildings, _ = register_frames()
    return pd.DataFrame(
        {
            "id": buildings["building_id"].to_numpy(),
            "x": buildings["easting"].astype(float).to_numpy(),
            "y": buildings["northing"].astype(float).to_numpy(),
        }
    )
