"""Every register and asset list in ../shared/data loads, every row accounted for.

The expected counts were checked against each folder's SOURCE.txt: 25 West Sussex fire
stations with "Not available here" coordinates (rejected), 361 closed libraries and 87
open mobile libraries (set aside: not buildings), 3,503 closed and 384 dormant ODS
practices (set aside), 172 ERIC "AGGREGATE SITE" rows (set aside), 13 repeated PFI site
codes (rejected).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from estate.load import load_files

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data folder {DATA} is absent"),
]

FIRE_ERRORS = {"expected a number": 50}
ERIC_ASIDE = {"ERIC aggregate row: trust-level amounts not attributed to a site": 172}

# file, load options, rows above the data (title + header), accepted,
# {error message: count} (None: the PFI case below), {set-aside reason: count}
CASES = [
    (
        "registers/stations-derbyshire.csv",
        {"kind": "assets", "agency": "Derbyshire Fire & Rescue Service"},
        2,
        56,
        {},
        {},
    ),
    (
        "registers/stations-derbyshire.xlsx",
        {"kind": "assets", "agency": "Derbyshire Fire & Rescue Service"},
        2,
        56,
        {},
        {},
    ),
    ("assets/fire-stations-dataset.csv", {"kind": "assets"}, 1, 1374, FIRE_ERRORS, {}),
    ("assets/fire-stations-dataset.ods", {"kind": "assets"}, 1, 1374, FIRE_ERRORS, {}),
    (
        "assets/basic-dataset-for-libraries-2023-enhanced.csv",
        {},
        1,
        3091,
        {},
        {"library closed": 361, "a vehicle, not a building": 87},
    ),
    (
        "assets/epraccur.csv",
        {},
        0,
        12084,
        {},
        {"closed": 3503, "dormant": 384},
    ),
    ("nhs-eric/ERIC-2016-17-site-data.csv", {}, 1, 1041, {}, ERIC_ASIDE),
    (
        "nhs-eric/HospitalEstatesAndFacilitiesStatistics_13944.XLS",
        {"sheet": "Site Data"},
        2,
        1041,
        {},
        ERIC_ASIDE,
    ),
    ("nhs-eric/ERIC-2016-17-pfi-data.csv", {"kind": "assets"}, 1, 126, None, {}),
    ("nhs-eric/ERIC-2016-17-trust-data.csv", {"kind": "assets"}, 1, 236, {}, {}),
]


def _csv_records(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.reader(fh))


@pytest.mark.parametrize(
    ("name", "options", "above", "accepted", "messages", "aside"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_shared_file_rows_all_accounted_for(
    name: str,
    options: dict[str, object],
    above: int,
    accepted: int,
    messages: dict[str, int] | None,
    aside: dict[str, int],
) -> None:
    path = DATA / name
    result = load_files([str(path)], **options)  # type: ignore[arg-type]
    assert not result.unreadable
    (f,) = result.files
    if path.suffix == ".csv":
        assert f.rows_read == _csv_records(path) - above
    else:  # the CSV export of the same sheet has the same data rows
        twin = {
            ".xlsx": "registers/stations-derbyshire.csv",
            ".ods": "assets/fire-stations-dataset.csv",
            ".XLS": "nhs-eric/ERIC-2016-17-site-data.csv",
        }[path.suffix]
        assert f.rows_read == _csv_records(DATA / twin) - (2 if twin.startswith("reg") else 1)
    assert f.rows_read == f.rows_accepted + f.rows_rejected + f.rows_set_aside
    assert f.rows_accepted == accepted
    reasons = Counter(r["reason"].split(" (")[0] for r in f.set_aside_records())
    assert dict(reasons) == aside
    rejected_rows = set(f.rejected["source_row"])
    assert len(rejected_rows) == f.rows_rejected
    assert {e.row for e in f.errors if e.row is not None} == rejected_rows
    assert all(reason for reason in f.rejected["reasons"])
    if messages is not None:
        assert dict(Counter(e.message for e in f.errors)) == messages
    else:  # PFI: a site with two schemes repeats its site code
        assert all(e.message.startswith("duplicate building_id") for e in f.errors)
        assert f.rows_rejected == 13


def test_fire_station_rejections_are_the_west_sussex_rows() -> None:
    result = load_files([str(DATA / "assets/fire-stations-dataset.csv")], kind="assets")
    (f,) = result.files
    assert set(f.rejected["FRS_FULLNAME"]) == {"West Sussex"}
    odd = {w.value for w in f.warnings}
    assert {"CH65 OEZ", "TS13 45W", "WF5 9EE (For Sat Nav use WF5 9TR)"} <= odd
    # NBSP and double spaces are normalised, not flagged
    assert {"BS40 7RL", "TA6 5JT"} <= set(f.accepted["postcode"])


def test_derbyshire_register_reads_its_one_cell_coordinates() -> None:
    result = load_files(
        [str(DATA / "registers/stations-derbyshire.xlsx")], kind="assets", agency="DFRS"
    )
    (f,) = result.files
    alfreton = f.accepted.iloc[0]
    assert (alfreton["easting"], alfreton["northing"]) == (440715.0, 354526.0)
    assert alfreton["gia_m2"] == 1249.0 and alfreton["tenure"] == "freehold"
    assert f.accepted["easting"].notna().all()


def test_libraries_and_fire_stations_merge_with_their_agencies() -> None:
    result = load_files(
        [
            str(DATA / "assets/basic-dataset-for-libraries-2023-enhanced.csv"),
            str(DATA / "assets/fire-stations-dataset.csv"),
        ],
        kind="assets",
    )
    merged = result.accepted
    assert len(merged) == 3091 + 1374
    assert set(merged["building_type"]) == {"library", "museum", "fire_station"}
    assert merged["building_id"].is_unique
    rutland = merged.loc[merged["agency"] == "Rutland County Council"]
    assert len(rutland) == 6
    # North Yorkshire's libraries appear under the old and the new council: same sites
    colocated = result.colocations
    groups = colocated.loc[colocated["agency"] == "North Yorkshire Council", "group"]
    assert groups.nunique() > 10
