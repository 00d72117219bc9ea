"""Registers as councils publish them, met as a new user meets them.

Transparency Code CamelCase headers, GeoX/GeoY in either reference system (mixed in one
file), swapped latitude and longitude, agency codes beside names, use categories that
are not tenure, blank trailing rows, rows that are not buildings, and the CSV that
`estate geocode` writes going into `estate access`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from estate.agencies import Agencies, AgencyEntry, AgencyTable, near_duplicates
from estate.coords import bng_to_lonlat
from estate.errors import InputDataError
from estate.load import find_colocations, load_files
from estate.register import Register
from estate.validate import parse_area, parse_number, parse_tenure

HEADER = (
    "OrganisationLabel,Organisation,AssetCode,UPRN,PropertyName,PostCode,GeoX,GeoY,"
    "CoordinateReferenceSystem,HoldingType,TenureType,BuildingSize,LandArea\n"
)
# Oakham: easting 486256, northing 308721 is latitude 52.6693, longitude -0.7259.
LON, LAT = (float(v[0]) for v in bng_to_lonlat([486256.0], [308721.0]))


def _write(tmp_path: Path, text: str, name: str = "r.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _file(tmp_path: Path, text: str, **options: object):  # type: ignore[no-untyped-def]
    result = load_files([_write(tmp_path, text)], **options)  # type: ignore[arg-type]
    (f,) = result.files
    assert f.rows_read == f.rows_accepted + f.rows_rejected + f.rows_set_aside
    return f


def test_camel_case_headers_map_without_a_mapping_file(tmp_path: Path) -> None:
    text = HEADER + (
        "Rutland County Council,E06000017,A1,010001234567,Catmose,LE15 6HP,486256,308721,"
        'OSGB36,Land and Building,Freehold,"1,200",0.5\n'
    )
    f = _file(tmp_path, text, kind="assets")
    assert f.columns["building_id"] == ["AssetCode"]
    assert f.columns["name"] == ["PropertyName"]
    assert f.columns["postcode"] == ["PostCode"]
    assert f.columns["tenure"] == ["TenureType"]
    assert f.columns["gia_m2"] == ["BuildingSize"]
    assert f.columns["site_area_m2"] == ["LandArea"]
    assert f.columns["building_type"] == ["HoldingType"]
    row = f.accepted.iloc[0]
    assert (row["building_id"], row["uprn"], row["gia_m2"]) == ("A1", "010001234567", 1200.0)
    assert (row["easting"], row["northing"]) == (486256.0, 308721.0)


def test_geo_x_y_in_both_reference_systems_within_one_file(tmp_path: Path) -> None:
    rows = [
        "C,E06000017,BNG,,Offices,,486256,308721,OSGB36 / British National Grid,Building,,,",
        f"C,E06000017,WGS,,Library,,{LON:.7f},{LAT:.7f},WGS84,Building,,,",
        f"C,E06000017,EPSG,,Depot,,{LON:.7f},{LAT:.7f},EPSG:4326,Building,,,",
        "C,E06000017,SIZE-M,,Hall,,486256,308721,,Building,,,",  # metres by magnitude
        f"C,E06000017,SIZE-D,,Hub,,{LON:.7f},{LAT:.7f},,Building,,,",  # degrees by magnitude
        f"C,E06000017,LIE,,Lie,,{LON:.7f},{LAT:.7f},British National Grid,Building,,,",
        "C,E06000017,ODD,,Odd,,486256,308721,Web Mercator,Building,,,",
    ]
    f = _file(tmp_path, HEADER + "\n".join(rows) + "\n", kind="assets")
    got = f.accepted.set_index("building_id")
    assert set(got.index) == {"BNG", "WGS", "EPSG", "SIZE-M", "SIZE-D"}
    for bid in ("BNG", "SIZE-M"):
        assert (got.at[bid, "easting"], got.at[bid, "northing"]) == (486256.0, 308721.0)
    for bid in ("WGS", "EPSG", "SIZE-D"):
        assert got.at[bid, "lat"] == pytest.approx(LAT) and got.at[bid, "lon"] == pytest.approx(LON)
    errors = {e.row: e.message for e in f.errors}
    assert "says British National Grid metres but the values are degrees" in errors[7]
    assert "unknown coordinate reference system" in errors[8]


def test_swapped_latitude_and_longitude_are_corrected_with_a_warning(tmp_path: Path) -> None:
    text = (
        "Site ID,Agency,Name,Latitude,Longitude\n"
        f"S1,Council,Right way,{LAT:.6f},{LON:.6f}\n"
        f"S2,Council,Swapped,{LON:.6f},{LAT:.6f}\n"
    )
    f = _file(tmp_path, text, kind="assets")
    got = f.accepted.set_index("building_id")
    assert got.at["S2", "lat"] == pytest.approx(LAT, abs=1e-6)
    assert got.at["S2", "lon"] == pytest.approx(LON, abs=1e-6)
    (warning,) = [w for w in f.warnings if "swapped" in w.message]
    assert warning.row == 3 and warning.column == "Latitude/Longitude"


def test_latitude_out_of_range_is_a_row_error_not_a_crash(tmp_path: Path) -> None:
    text = "Site ID,Agency,Name,Latitude,Longitude\nS1,A,Pole,90.5,-0.7\nS2,B,Ok,52.6,-0.7\n"
    f = _file(tmp_path, text, kind="assets")
    assert f.accepted["building_id"].tolist() == ["S2"]
    (error,) = f.errors
    assert (error.row, error.column, error.value) == (2, "Latitude", "90.5")
    assert "at most 90" in error.message
    # a frame that somehow still holds one is not a crash in the co-location check
    frame = f.accepted.copy()
    frame.loc[1] = frame.loc[0]
    where = ["building_id", "agency", "lat", "easting", "northing"]
    frame.loc[1, where] = ["X", "Q", 90.5, None, None]
    assert find_colocations(frame).empty


def test_lat_lon_that_disagree_with_easting_northing_reject_the_row(tmp_path: Path) -> None:
    text = (
        "Site ID,Agency,Name,Latitude,Longitude,Easting,Northing\n"
        f"S1,A,Agree,{LAT:.6f},{LON:.6f},486256,308721\n"
        f"S2,A,Apart,{LAT:.6f},{LON:.6f},486256,309721\n"
    )
    f = _file(tmp_path, text, kind="assets")
    assert f.accepted["building_id"].tolist() == ["S1"]
    (error,) = f.errors
    assert error.row == 3
    assert error.column == "Latitude/Longitude and Easting/Northing"
    assert "1,000 m apart" in error.message


def test_a_name_column_beats_a_code_column_for_the_agency(tmp_path: Path) -> None:
    text = (
        "Organisation,OrganisationLabel,AssetCode,PropertyName\n"
        "23UB,Cotswold District Council,A1,Depot\n"
        "23UB,Cotswold District Council,A2,Offices\n"
    )
    f = _file(tmp_path, text, kind="assets")
    assert f.columns["agency"] == ["OrganisationLabel"]
    assert set(f.accepted["agency"]) == {"Cotswold District Council"}
    assert any("hold codes" in n.message for n in f.notes)
    # and the other way round: names first, codes second
    text = "OrganisationLabel,Organisation,AssetCode\nCotswold DC,23UB,A1\n"
    assert _file(tmp_path, text, kind="assets").accepted.at[0, "agency"] == "Cotswold DC"


def test_use_categories_are_building_types_and_tenure_is_tenure(tmp_path: Path) -> None:
    text = (
        "AssetCode,OrganisationLabel,PropertyName,HoldingType,TenureType,GeoX,GeoY\n"
        "A1,C,Hall,Land and Building,Freehold,486256,308721\n"
        "A2,C,Flats,Land and Building,Leasehold Out,486256,308721\n"
        'A3,C,Cutts Close,"Parks, Gardens and open space",Freehold,486256,308721\n'
        "A4,C,Library,Library,Leasehold,486256,308721\n"
    )
    f = _file(tmp_path, text, kind="assets")
    assert "tenure" not in f.columns.get("building_type", [])
    got = f.accepted.set_index("building_id")
    assert got["tenure"].to_dict() == {"A1": "freehold", "A2": "leasehold_out", "A4": "leasehold"}
    assert got["building_type"].to_dict() == {"A1": "other", "A2": "other", "A4": "library"}
    assert f.errors == []
    assert [(r["row"], r["reason"].split(" (")[0]) for r in f.set_aside_records()] == [
        (4, "land or open space, not a building")
    ]


@pytest.mark.parametrize(
    ("text", "tenure"),
    [
        ("Freehold", "freehold"),
        ("Owned", "freehold"),
        ("Long leasehold", "leasehold"),
        ("Leased in", "leasehold"),
        ("Leasehold Out", "leasehold_out"),
        ("Freehold - let", "leasehold_out"),
        ("Tenanted", "leasehold_out"),
    ],
)
def test_tenure_words(text: str, tenure: str) -> None:
    assert parse_tenure(text) == tenure


def test_blank_trailing_rows_and_set_aside_rows_never_block(tmp_path: Path) -> None:
    text = (
        "Building ID,Agency,Name,Asset Type,Desks,Running Cost,Easting,Northing,Status\n"
        "B1,Council,Offices,Offices,50,100000,486256,308721,open\n"
        "B2,Council,Car park,Car Park,,,486300,308700,open\n"
        "B3,Council,Old depot,Depot,10,5000,486400,308800,sold\n"
        ",,,,,,,,\n"
        ",,,,,,,,\n"
    )
    (tmp_path / "m.yaml").write_text(
        "exclude:\n  - {column: Status, equals: sold, reason: sold in 2024}\n", encoding="utf-8"
    )
    runner = CliRunner()
    path = _write(tmp_path, text)
    args = ["validate", path, "--mapping", str(tmp_path / "m.yaml"), "--json"]
    args += ["--rejected", str(tmp_path / "rej.csv"), "--set-aside", str(tmp_path / "aside.csv")]
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    counts = [doc[k] for k in ("rows_read", "rows_accepted", "rows_rejected", "rows_set_aside")]
    assert counts == [5, 1, 0, 4]
    assert [r["reason"].split(" (")[0] for r in doc["set_aside"]] == [
        "car park, not a building",
        "sold in 2024",
        "blank row",
        "blank row",
    ]
    aside = pd.read_csv(tmp_path / "aside.csv", dtype=str, keep_default_na=False)
    assert aside["source_row"].tolist() == ["3", "4", "5", "6"]


def test_validate_says_a_site_list_is_one_and_what_completes_it(tmp_path: Path) -> None:
    text = HEADER + "C,E06000017,A1,,Hall,LE15 6HP,486256,308721,,Building,Freehold,,\n"
    path = _write(tmp_path, text, "sites.csv")
    args = ["validate", path, "--rejected", str(tmp_path / "r.csv")]
    args += ["--set-aside", str(tmp_path / "aside.csv")]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1
    hint = [line for line in result.output.splitlines() if "hint:" in line]
    assert len(hint) == 1
    assert "reads as a list of sites" in hint[0]
    assert "--kind assets" in hint[0] and "estate estimate sites.csv" in hint[0]


def test_numbers_with_exponents_parse_and_absurd_ones_are_rejected() -> None:
    assert parse_number("1e9") == 1e9
    assert parse_number("2.5E+3") == 2500.0
    for absurd in ("9" * 300, "1e300", "1e14"):
        with pytest.raises(ValueError, match="plausible"):
            parse_number(absurd)
    assert parse_area("0.537 hectares (1.33 acres)") == pytest.approx(5370.0)
    assert parse_area("10,000 sq ft") == pytest.approx(929.0304)


def test_control_characters_are_removed_with_a_warning(tmp_path: Path) -> None:
    text = "Site ID,Agency,Name\nS1,Council,Town\x07 Hall\x00\nS2,Council,Clean\n"
    f = _file(tmp_path, text, kind="assets")
    assert f.accepted["name"].tolist() == ["Town Hall", "Clean"]
    (warning,) = [w for w in f.warnings if "control" in w.message]
    assert (warning.row, warning.column) == (2, "Name")
    assert "2 control character(s) removed" in warning.message


def test_one_name_per_body(tmp_path: Path) -> None:
    text = (
        "Site ID,Agency,Name\n"
        "F1,Leicestershire Fire and Rescue Service,Oakham\n"
        "F2,LFRS,Uppingham\n"
        "F3,Leicestershire Fire & Rescue,Melton\n"
        "C1,Rutland County Council,Offices\n"
        "C2,Rutland County Counci,Depot\n"
    )
    result = load_files([_write(tmp_path, text)], kind="assets")
    agencies = result.accepted.set_index("building_id")["agency"].to_dict()
    assert {agencies[k] for k in ("F1", "F2", "F3")} == {"Leicestershire Fire and Rescue Service"}
    assert result.summary()["agency_near_duplicates"] == [
        {"a": "Rutland County Counci", "b": "Rutland County Council", "why": "spelled almost alike"}
    ]
    # a user's table adds bodies and codes
    table = Agencies.from_table(
        AgencyTable(agencies=[AgencyEntry(name="Rutland County Council", aliases=["RCC"])]), "t"
    )
    text = "Site ID,Agency,Name\nC1,rcc,Offices\n"
    loaded = load_files([_write(tmp_path, text, "b.csv")], kind="assets", agency_table=table)
    assert loaded.accepted.at[0, "agency"] == "Rutland County Council"
    assert ("Derbyshire", "Derbyshire Fire & Rescue Service", "one name begins the other") in (
        near_duplicates(["Derbyshire", "Derbyshire Fire & Rescue Service"])
    )
    assert near_duplicates(["LFRS", "Leicestershire Fire Rescue Service"])[0][2] == "initials"


def test_geocode_csv_goes_into_access(tmp_path: Path) -> None:
    text = (
        "Site ID,Agency,Name,Asset Type,Easting,Northing\n"
        "L1,Council,Oakham Library,Library,486256,308721\n"
        "G1,NHS,Surgery,GP Surgery,487000,309000\n"
    )
    register = _write(tmp_path, text, "sites.csv")
    zones = _write(
        tmp_path,
        "zone_id,population,easting,northing\nZ1,100,486000,308000\nZ2,200,488000,310000\n",
        "zones.csv",
    )
    runner = CliRunner()
    geo = tmp_path / "geocoded.csv"
    done = runner.invoke(main, ["geocode", register, "-o", str(geo), "--quiet"])
    assert done.exit_code == 0, done.output
    assert "source_row" in pd.read_csv(geo).columns
    args = ["access", "--register", str(geo), "--zones", zones, "-o", str(tmp_path / "acc")]
    done = runner.invoke(main, [*args, "--quiet"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    coverage = pd.read_csv(tmp_path / "acc" / "coverage.csv")
    assert set(coverage["service_type"]) == {"library", "gp"}


def test_a_site_let_to_others_is_held_as_it_is() -> None:
    buildings = pd.DataFrame(
        {
            "building_id": ["B1", "B2"],
            "agency": ["C", "C"],
            "tenure": ["freehold", "leasehold_out"],
            "capacity_desks": ["10", "10"],
            "running_cost": ["1000", "5000"],
            "easting": ["486256", "486300"],
            "northing": ["308721", "308700"],
        }
    )
    services = pd.DataFrame(
        {
            "service_id": ["S1"],
            "agency": ["C"],
            "building_id": ["B1"],
            "desks": ["5"],
            "service_type": ["back_office"],
        }
    )
    register = Register.from_frames(buildings, services)
    let = register.buildings.set_index("building_id").loc["B2"]
    assert (bool(let["can_host"]), bool(let["must_retain"]), let["running_cost"]) == (
        False,
        True,
        0.0,
    )
    assert {w.column for w in register.warnings if w.row == 3} == {
        "can_host",
        "must_retain",
        "running_cost",
    }
    with pytest.raises(InputDataError, match="let to others"):
        Register.from_frames(buildings, services.assign(building_id=["B2"]))


def test_services_written_with_an_alias_join_their_canonical_buildings() -> None:
    buildings = pd.DataFrame(
        {
            "building_id": ["F1"],
            "agency": ["Leicestershire Fire & Rescue"],
            "capacity_desks": ["10"],
            "running_cost": ["1000"],
            "easting": ["486256"],
            "northing": ["308721"],
        }
    )
    services = pd.DataFrame(
        {
            "service_id": ["S1"],
            "agency": ["LFRS"],
            "building_id": ["F1"],
            "desks": ["5"],
            "service_type": ["fire_station"],
        }
    )
    register = Register.from_frames(buildings, services)
    assert register.agencies == ["Leicestershire Fire and Rescue Service"]


def test_asset_codes_are_ids_only_where_unique(tmp_path: Path) -> None:
    unique = "AssetCode,OrganisationLabel,PropertyName\nA1,C,Hall\nA2,C,Depot\n"
    assert _file(tmp_path, unique, kind="assets").accepted["building_id"].tolist() == ["A1", "A2"]
    text = "AssetCode,OrganisationLabel,PropertyName\nA1,C,Hall\nA1,C,Hall annexe\n,C,Store\n"
    f = _file(tmp_path, text, kind="assets")
    assert f.rows_accepted == 3 and f.errors == []
    assert f.accepted["building_id"].tolist() == ["r-2", "r-3", "r-4"]
    assert f.accepted["AssetCode"].fillna("").tolist() == ["A1", "A1", ""]
    assert any("not unique (1 repeated, 1 blank)" in n.message for n in f.notes)
