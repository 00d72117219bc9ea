"""A generated Local Government Transparency Code land and building assets file.

The published schema's column names (CamelCase: ``OrganisationLabel``, ``AssetCode``,
``GeoX``/``GeoY`` with a ``CoordinateReferenceSystem`` per row, ``HoldingType``,
``TenureType``, ``BuildingSize``, ``LandArea``), sites scattered over Rutland, points
in both reference systems (and some rows with no CRS, told by magnitude), a fifth of
the rows land only (parks, car parks, verges, allotments), and two blank rows at the
end, as spreadsheets export them.  Drawn from a seed: the same seed gives the same file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from estate.coords import bng_to_lonlat

COLUMNS = [
    "Organisation",
    "OrganisationLabel",
    "ResponsibleOrganisation",
    "UPRN",
    "AssetCode",
    "PropertyName",
    "Street",
    "PostTown",
    "PostCode",
    "GeoX",
    "GeoY",
    "CoordinateReferenceSystem",
    "HoldingType",
    "TenureType",
    "BuildingSize",
    "LandArea",
]
# Rutland, on the National Grid (metres): inside the county, away from its edges.
EAST = (484_000.0, 495_000.0)
NORTH = (300_000.0, 312_000.0)
BUILDINGS = [
    ("Library", "Land and Building"),
    ("Council Offices", "Land and Building"),
    ("Community Centre", "Land and Building"),
    ("Depot", "Land and Building"),
    ("Youth Centre", "Building"),
    ("Museum", "Land and Building"),
    ("Leisure Centre", "Land and Building"),
    ("Day Centre", "Land and Building"),
]
LAND = ["Parks, Gardens and open space", "Car Park", "Land", "Allotments", "Highway verge"]
TOWNS = ["Oakham", "Uppingham", "Ketton", "Ryhall", "Cottesmore", "Empingham"]
TENURES = ["Freehold"] * 6 + ["Leasehold"] * 2 + ["Leasehold Out"]


def write_lgtc(path: Path, seed: int, rows: int = 50, land_share: float = 0.2) -> dict[str, int]:
    """Write the file; returns how many building rows, land rows and blank rows it has."""
    rng = np.random.default_rng(seed)
    n_land = round(rows * land_share)
    kinds = ["land"] * n_land + ["building"] * (rows - n_land)
    rng.shuffle(kinds)
    records = []
    for i, kind in enumerate(kinds, start=1):
        town = TOWNS[int(rng.integers(len(TOWNS)))]
        e = float(rng.uniform(*EAST))
        n = float(rng.uniform(*NORTH))
        crs_pick = int(rng.integers(3))  # 0 BNG, 1 WGS84, 2 not stated (told by magnitude)
        if crs_pick == 1 or (crs_pick == 2 and i % 2):
            lon, lat = bng_to_lonlat([e], [n])
            x, y = f"{float(lon[0]):.6f}", f"{float(lat[0]):.6f}"
            crs = "WGS84" if crs_pick == 1 else ""
        else:
            x, y = f"{e:.0f}", f"{n:.0f}"
            crs = "OSGB36 / British National Grid" if crs_pick == 0 else ""
        if kind == "land":
            name, holding = (
                f"{town} {rng.choice(['Green', 'Field', 'Car Park', 'Verge'])}",
                str(rng.choice(LAND)),
            )
            size = ""
            tenure = "Freehold"
        else:
            use, holding = BUILDINGS[int(rng.integers(len(BUILDINGS)))]
            name = f"{town} {use}"
            size = "" if rng.random() < 0.3 else f"{int(rng.integers(150, 2500))}"
            tenure = str(rng.choice(TENURES))
        records.append(
            {
                "Organisation": "E06000017",
                "OrganisationLabel": "Rutland County Council",
                "ResponsibleOrganisation": "00FP",
                "UPRN": f"{100030000000 + i}",
                "AssetCode": f"RCC{i:04d}",
                "PropertyName": name,
                "Street": f"{int(rng.integers(1, 90))} High Street",
                "PostTown": town,
                "PostCode": f"LE15 {int(rng.integers(1, 9))}{'ABDEFGHJ'[int(rng.integers(8))]}"
                f"{'LNPQRSTU'[int(rng.integers(8))]}",
                "GeoX": x,
                "GeoY": y,
                "CoordinateReferenceSystem": crs,
                "HoldingType": holding,
                "TenureType": tenure,
                "BuildingSize": size,
                "LandArea": f"{rng.uniform(0.05, 3):.2f}",
            }
        )
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(records)
        fh.write("," * (len(COLUMNS) - 1) + "\r\n")
        fh.write("," * (len(COLUMNS) - 1) + "\r\n")
    return {"buildings": rows - n_land, "land": n_land, "blank": 2}
