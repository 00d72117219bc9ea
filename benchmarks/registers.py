"""How fast registers load, validate and geocode: the shared public lists, timed once.

Run from the repository root with ../shared/data beside it:

    python benchmarks/registers.py

Prints one line a file (rows, seconds, rows a second) and the geocoding of every
accepted GP practice in England by postcode against Code-Point Open LE+PE (most are
outside those areas: the point is the lookup's speed, not its coverage). Each step runs
once; the machine's load average is printed with the figures.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from estate.geocode import PostcodeLookup, geocode, wanted_values
from estate.load import load_files

DATA = Path("../shared/data")
FILES = [
    ("assets/epraccur.csv", {}),
    ("assets/basic-dataset-for-libraries-2023-enhanced.csv", {}),
    ("assets/fire-stations-dataset.csv", {"kind": "assets"}),
    ("assets/fire-stations-dataset.ods", {"kind": "assets"}),
    ("nhs-eric/ERIC-2016-17-site-data.csv", {}),
    ("nhs-eric/HospitalEstatesAndFacilitiesStatistics_13944.XLS", {"sheet": "Site Data"}),
    ("registers/stations-derbyshire.xlsx", {"kind": "assets", "agency": "DFRS"}),
]


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores)")
    gp = None
    for name, options in FILES:
        start = time.perf_counter()
        result = load_files([str(DATA / name)], **options)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        (f,) = result.files
        print(
            f"{name}: {f.rows_read:,} rows in {seconds:.2f} s "
            f"({f.rows_read / seconds:,.0f} rows/s), {f.rows_rejected:,} rejected"
        )
        if name.endswith("epraccur.csv"):
            gp = result.accepted
    assert gp is not None
    start = time.perf_counter()
    lookup = PostcodeLookup.from_files([DATA / "postcodes"], wanted_values(gp, "postcode"))
    read = time.perf_counter() - start
    start = time.perf_counter()
    geo = geocode(gp, lookup)
    seconds = time.perf_counter() - start
    placed = len(gp) - geo.counts()["none"]
    print(
        f"geocode {len(gp):,} GP sites by postcode: lookup read in {read:.2f} s, chain in "
        f"{seconds:.2f} s ({len(gp) / seconds:,.0f} rows/s), {placed:,} placed (LE/PE only)"
    )


if __name__ == "__main__":
    main()
