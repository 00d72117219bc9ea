"""Loading messy register files: readers, header rows, mappings, row accounting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point

from estate.errors import SettingsError
from estate.load import build_skeleton, find_colocations, load_files, read_table
from estate.mapping import Mapping, load_mapping, normalise_header


def _write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def _one(sources: list[str], **kwargs: object):  # type: ignore[no-untyped-def]
    result = load_files(sources, **kwargs)  # type: ignore[arg-type]
    assert not result.unreadable, result.unreadable
    for f in result.files:
        assert f.rows_read == f.rows_accepted + f.rows_rejected + f.rows_set_aside
    return result


SMALL = (
    "Property Ref,Organisation,Property Name,Address 1,Town,Post Code,UPRN,Easting,Northing,"
    "GIA (m2),Running Cost,Desks\n"
    "007,Council,Town Hall,1 High St,Oakham,le15 6hw,100032047313,486256,308721,"
    '"1,200",£250k,120\n'
    "008,Council,Depot,Station Rd,Oakham,LE156BQ,,486900,308500,300,"
    '"£12,000.50",10\n'
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_detected(tmp_path: Path, encoding: str) -> None:
    text = SMALL.replace("Town Hall", "Town Hall – Café £")
    result = _one([_write(tmp_path / "r.csv", text, encoding)])
    f = result.files[0]
    assert f.encoding == encoding
    assert f.rows_accepted == 2
    assert f.accepted["name"].iloc[0] == "Town Hall – Café £"
    assert f.accepted["running_cost"].tolist() == [250_000.0, 12_000.5]
    assert f.accepted["gia_m2"].tolist() == [1200.0, 300.0]
    assert f.accepted["building_id"].tolist() == ["007", "008"]
    assert f.accepted["address"].iloc[0] == "1 High St, Oakham"
    assert f.accepted["postcode"].tolist() == ["LE15 6HW", "LE15 6BQ"]
    assert f.accepted["uprn"].iloc[0] == "100032047313"


def test_undecodable_bytes_are_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n\x81\x8d,1\n")  # undefined in both UTF-8 and Windows-1252
    result = load_files([str(path)])
    assert result.exit_code == 2
    assert "neither UTF-8 nor Windows-1252" in result.unreadable[0].message


def test_blank_rows_are_counted_and_set_aside_not_rejected(tmp_path: Path) -> None:
    lines = SMALL.splitlines()
    text = "\n".join([lines[0], lines[1], "", ",,, ,,,,,,,,", lines[2], "", ",,,"]) + "\n"
    result = _one([_write(tmp_path / "r.csv", text)])
    f = result.files[0]
    assert (f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_set_aside) == (6, 2, 0, 4)
    assert f.blank_rows == [3, 4, 6, 7]
    assert f.errors == [] and result.exit_code == 0
    assert [(r["row"], r["reason"]) for r in f.set_aside_records()] == [
        (3, "blank row"),
        (4, "blank row"),
        (6, "blank row"),
        (7, "blank row"),
    ]


def test_stray_newlines_inside_cells_keep_record_numbers(tmp_path: Path) -> None:
    text = SMALL.replace("1 High St", '"1 High St\nupstairs"').replace("Depot", "Depot\r\nB")
    text = text.replace(',"1 High St', ',"1 High St')  # already quoted above
    path = _write(tmp_path / "r.csv", text.replace(",Depot\r\nB,", ',"Depot\r\nB",'))
    f = _one([path]).files[0]
    assert f.rows_read == 2
    assert f.accepted["address"].iloc[0] == "1 High St upstairs, Oakham"
    assert f.accepted["name"].iloc[1] == "Depot B"
    assert f.accepted["source_row"].tolist() == [2, 3]


def test_duplicated_headers_are_renamed_and_noted(tmp_path: Path) -> None:
    text = "Site Code,Organisation,Name,Cost (£),Cost (£)\nA1,NHS,Clinic,5,6\n"
    f = _one([_write(tmp_path / "d.csv", text)], kind="assets").files[0]
    assert "Cost (£) (2)" in f.accepted.columns
    assert any("duplicated header" in n.message for n in f.notes)


def test_title_rows_above_the_header_are_not_data(tmp_path: Path) -> None:
    text = (
        "Land and buildings register 2024,,,\n,,,\nUPRN,Site Name,Postcode,Agency\n1,A,LE15 6BQ,X\n"
    )
    f = _one([_write(tmp_path / "t.csv", text)], kind="assets").files[0]
    assert f.header_row == 3
    assert (f.rows_read, f.rows_accepted) == (1, 1)
    assert f.accepted["source_row"].tolist() == [4]


def test_rows_wider_than_the_header_are_rejected(tmp_path: Path) -> None:
    text = "id,agency,name\n1,A,x\n2,B,y,stray\n3,C,z,\n"
    f = _one([_write(tmp_path / "w.csv", text)], kind="assets").files[0]
    assert (f.rows_accepted, f.rows_rejected) == (2, 1)
    assert "3 cells but the header has 3" not in f.errors[0].message
    assert f.errors[0].row == 3 and "4 cells" in f.errors[0].message


def test_register_kind_needs_costs_and_names_the_missing_column(tmp_path: Path) -> None:
    text = "id,agency,name\n1,A,x\n"
    result = _one([_write(tmp_path / "a.csv", text)])
    f = result.files[0]
    assert (f.kind, f.rows_rejected) == ("register", 1)
    assert {e.column for e in f.errors} == {"capacity_desks", "running_cost"}
    assert result.exit_code == 1
    assert "required column 'capacity_desks' is missing" in f.rejected["reasons"].iloc[0]


def test_cells_that_fail_are_named_in_source_terms(tmp_path: Path) -> None:
    text = SMALL.replace("£250k", "lots").replace(",10\n", ",ten\n")
    f = _one([_write(tmp_path / "r.csv", text)]).files[0]
    found = {(e.row, e.column, e.value, e.message) for e in f.errors}
    assert (2, "Running Cost", "lots", "expected a number") in found
    assert (3, "Desks", "ten", "expected a number") in found
    assert f.rejected["reasons"].tolist() == [
        "running_cost: expected a number",
        "capacity_desks: expected a number",
    ]
    assert f.rejected["Property Name"].tolist() == ["Town Hall", "Depot"]  # source cells


def test_not_applicable_in_number_columns_is_blank(tmp_path: Path) -> None:
    text = SMALL.replace('"1,200"', "Not Applicable").replace(",300,", ",N/A,")
    f = _one([_write(tmp_path / "r.csv", text)]).files[0]
    assert f.rows_accepted == 2 and f.accepted["gia_m2"].isna().all()


def test_user_mapping_joins_sums_sets_constants_and_excludes(tmp_path: Path) -> None:
    text = (
        "Ref,Nm,Street,Town,Rent,Rates,Status,Where\n"
        '1,Hub,1 High St,Oakham,1000,£200,open,"486256, 308721"\n'
        "2,Old,2 Low St,Oakham,5,5,CLOSED,SK 86256 08721\n"
        "3,Bad,3 Mid St,Oakham,x,5,open,\n"
    )
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text(
        "kind: assets\n"
        "columns:\n"
        "  building_id: Ref\n"
        "  name: Nm\n"
        "  address: [Street, Town]\n"
        "  running_cost: [Rent, Rates]\n"
        "  coordinates: Where\n"
        "constants:\n"
        "  agency: Rutland County Council\n"
        "id_prefix: 'rcc-'\n"
        "exclude:\n"
        "  - column: status\n"
        "    equals: closed\n"
        "    reason: building closed\n",
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_file)
    f = _one([_write(tmp_path / "r.csv", text)], mapping=mapping).files[0]
    assert f.accepted["building_id"].tolist() == ["rcc-1"]
    row = f.accepted.iloc[0]
    assert row["address"] == "1 High St, Oakham"
    assert row["running_cost"] == 1200.0
    assert row["agency"] == "Rutland County Council"
    assert (row["easting"], row["northing"]) == (486256.0, 308721.0)
    errors = {(e.row, e.column, e.message) for e in f.errors}
    assert (4, "Rent", "expected a number") in errors
    # an excluded row is set aside with the rule's reason, not an error
    assert [(r["row"], r["reason"]) for r in f.set_aside_records()] == [
        (3, "building closed (Status: 'CLOSED')")
    ]
    assert (f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_set_aside) == (3, 1, 1, 1)


def test_mapping_file_problems_are_settings_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  building_identifier: Ref\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="building_identifier"):
        load_mapping(bad)
    bad.write_text("header_row: -1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="header_row"):
        load_mapping(bad)
    bad.write_text("columns: [oops\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_mapping(bad)
    path = _write(tmp_path / "r.csv", SMALL)
    with pytest.raises(SettingsError, match="No Such Column"):
        load_files([path], mapping=Mapping(columns={"name": "No Such Column"}))


def test_mapping_skeleton_round_trips(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", SMALL)
    text = build_skeleton(path)
    assert "running_cost: Running Cost" in text and "kind: register" in text
    skeleton = tmp_path / "r.mapping.yaml"
    skeleton.write_text(text, encoding="utf-8")
    guessed = _one([path]).files[0].accepted
    mapped = _one([path], mapping=load_mapping(skeleton)).files[0].accepted
    pd.testing.assert_frame_equal(guessed, mapped)


def test_headers_normalise() -> None:
    assert normalise_header("Asset \nOwnership") == "asset ownership"
    assert normalise_header("Unique Property Reference Number (UPRN)") == (
        "unique property reference number uprn"
    )


def test_merge_rejects_ids_held_by_an_earlier_file_and_reports_colocation(
    tmp_path: Path,
) -> None:
    council = _write(
        tmp_path / "council.csv",
        "id,agency,name,uprn,easting,northing\n"
        "1,Council,Library,100,486256,308721\n"
        "2,Council,Office,,490000,300000\n",
    )
    nhs = _write(
        tmp_path / "nhs.csv",
        "id,agency,name,uprn,easting,northing\n"
        "1,NHS,Clinic,555,480000,300000\n"
        "9,NHS,Health centre,100,486300,308700\n"
        "10,NHS,Walk-in,,490010,300005\n",
    )
    result = _one([council, nhs], kind="assets")
    assert result.files[1].rows_rejected == 1
    assert "council.csv row 2 has it" in result.files[1].errors[0].message
    found = result.colocations[["group", "building_id", "basis"]].values.tolist()
    assert found == [
        [1, "1", "uprn"],
        [1, "9", "uprn"],
        [2, "2", "distance"],
        [2, "10", "distance"],
    ]
    assert result.colocations["extent_m"].tolist()[2] == pytest.approx(11.2, abs=0.1)


def test_same_agency_sites_are_not_colocations() -> None:
    frame = pd.DataFrame(
        {
            "building_id": ["a", "b"],
            "agency": ["Council", "Council"],
            "name": ["x", "y"],
            "uprn": ["1", "1"],
            "easting": [1.0, 1.0],
            "northing": [1.0, 1.0],
            "lat": [float("nan")] * 2,
            "lon": [float("nan")] * 2,
        }
    )
    assert find_colocations(frame).empty


def test_xlsx_sheet_choice_title_row_and_typed_cells(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Notes"
    first.append(["nothing here"])
    sheet = book.create_sheet("Register")
    sheet.append(["Public land and assets (2024)"])
    header = ["Property Reference", "Agency", "Lease End", "GIA", "Running cost", "Desks"]
    sheet.append([*header, "Easting", "Northing"])
    sheet.append([54250, "Fire", dt.datetime(2030, 3, 31), 1249, 1000.5, 4, 486256, 308721])
    sheet.append([None] * 8)
    sheet.append(["A2", "Fire", "31/03/2031", "80 m2", "£1k", 2, 486500, 308500])
    path = tmp_path / "reg.xlsx"
    book.save(path)
    f = _one([str(path)], sheet="Register").files[0]
    assert (f.sheet, f.header_row, f.rows_read, f.rows_accepted) == ("Register", 2, 3, 2)
    assert f.blank_rows == [4]
    assert f.accepted["building_id"].tolist() == ["54250", "A2"]
    assert f.accepted["lease_end"].dt.year.tolist() == [2030, 2031]
    assert f.accepted["gia_m2"].tolist() == [1249.0, 80.0]
    by_number = _one([str(path)], sheet="2").files[0]
    assert by_number.rows_accepted == 2
    missing = load_files([str(path)], sheet="Nope")
    assert missing.exit_code == 2 and "Register" in missing.unreadable[0].message


@pytest.mark.parametrize(("suffix", "crs"), [(".gpkg", "EPSG:27700"), (".geojson", "EPSG:4326")])
def test_spatial_files_give_points_in_bng(tmp_path: Path, suffix: str, crs: str) -> None:
    points = gpd.GeoSeries([Point(486256, 308721), Point(490000, 300000)], crs="EPSG:27700")
    frame = gpd.GeoDataFrame(
        {"site_code": ["A", "B"], "owner": ["Council", "Police"], "site_name": ["x", "y"]},
        geometry=points.to_crs(crs),
    )
    path = tmp_path / f"sites{suffix}"
    frame.to_file(path)
    f = _one([str(path)], kind="assets").files[0]
    assert f.accepted["building_id"].tolist() == ["A", "B"]
    assert f.accepted["easting"].tolist() == pytest.approx([486256, 490000], abs=0.01)
    assert f.accepted["northing"].tolist() == pytest.approx([308721, 300000], abs=0.01)


def test_unsupported_and_missing_files_exit_2(tmp_path: Path) -> None:
    other = tmp_path / "x.docx"
    other.write_bytes(b"PK")
    result = load_files([str(other), str(tmp_path / "missing.csv")])
    assert result.exit_code == 2
    assert [i.message for i in result.unreadable][1] == "no such file"


def test_header_row_and_column_names_for_headerless_files(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", "A1,Clinic,LE15 6BQ\nA2,Surgery,PE9 1AB\n")
    mapping = Mapping(
        kind="assets",
        header_row=0,
        column_names=["code", "site name", "postcode"],
        constants={"agency": "NHS"},
    )
    f = _one([path], mapping=mapping).files[0]
    assert f.accepted["building_id"].tolist() == ["A1", "A2"]
    assert f.accepted["source_row"].tolist() == [1, 2]
    table = read_table(path, mapping)
    assert list(table.cells.columns) == ["code", "site name", "postcode"]


def test_given_agency_wins_and_the_agency_column_stays_as_an_extra(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", "id,FRS_FULLNAME,name\n1,Derbyshire,Alfreton\n")
    f = _one([path], kind="assets", agency="Derbyshire Fire & Rescue Service").files[0]
    assert f.accepted["agency"].tolist() == ["Derbyshire Fire & Rescue Service"]
    assert f.accepted["FRS_FULLNAME"].tolist() == ["Derbyshire"]
    both = _one([path, path], kind="assets", agency=["A", None])
    assert both.files[1].accepted.empty  # same ids as the first file: rejected
    assert both.files[1].rejected["FRS_FULLNAME"].tolist() == ["Derbyshire"]
