"""`estate validate`, `estate mapping` and `estate geocode`: output, files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main

GOOD = (
    "Property Ref,Agency,Name,Postcode,Easting,Northing,Running Cost,Desks\n"
    "1,Council,Hall,LE15 6HW,486256,308721,£250k,120\n"
    '2,Police,Station,LE15 6BQ,,,"£12,000",10\n'
)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # rejected.csv and mapping files land here
    (tmp_path / "good.csv").write_text(GOOD, encoding="utf-8")
    bad = GOOD + "3,Fire,Depot,,,,lots,2\n\n"
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    placed = GOOD.replace("LE15 6BQ,,,", "LE15 6BQ,486500,308500,")
    (tmp_path / "placed.csv").write_text(placed, encoding="utf-8")
    placed_bad = placed + "3,Fire,Depot,,486000,308000,lots,2\n\n"
    (tmp_path / "placed_bad.csv").write_text(placed_bad, encoding="utf-8")
    (tmp_path / "pc.csv").write_bytes(
        b'"LE156BQ",10,486500,308500,"E92000001","","","","E06000017","E05"\r\n'
    )
    return tmp_path


def _run(args: list[str], cwd: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.output


def test_validate_all_accepted_exits_0(files: Path) -> None:
    code, out = _run(["validate", str(files / "placed.csv")], files)
    assert code == 0
    assert out.splitlines()[0].endswith(
        "placed.csv (register): 2 rows read, 2 accepted, 0 rejected, 0 set aside"
    )


def test_a_register_row_without_a_point_is_rejected_as_a_run_would_until_geocoded(
    files: Path,
) -> None:
    """estate run needs a point for every building; validate says so, not run."""
    code, out = _run(["validate", str(files / "good.csv")], files)
    assert code == 1
    assert "good.csv (register): 2 rows read, 1 accepted, 1 rejected" in out
    assert "row 3, column 'lat/lon': no location (lat/lon or easting/northing): a run " in out
    assert "estate geocode places rows by UPRN, postcode or address" in out
    placed = files / "placed.gpkg"
    args = ["geocode", str(files / "good.csv"), "--kind", "register", "-o", str(placed)]
    code, _ = _run([*args, "--postcodes", str(files / "pc.csv")], files)
    assert code == 0
    code, out = _run(["validate", str(placed)], files)
    assert code == 0, out


def test_validate_json_accounts_for_every_row_and_writes_rejected_csv(files: Path) -> None:
    rejected = files / "rej.csv"
    code, out = _run(
        ["validate", str(files / "placed_bad.csv"), "--json", "--rejected", str(rejected)], files
    )
    assert code == 1
    doc = json.loads(out)
    (f,) = doc["files"]
    counts = ("rows_read", "rows_accepted", "rows_rejected", "rows_set_aside", "rows_blank")
    assert tuple(f[k] for k in counts) == (4, 2, 1, 1, 1)
    assert tuple(doc[k] for k in counts) == (4, 2, 1, 1, 1)
    assert f["errors"] == [
        {
            "file": str(files / "placed_bad.csv"),
            "row": 4,
            "column": "Running Cost",
            "value": "lots",
            "message": "expected a number",
        },
    ]
    blank = {"file": str(files / "placed_bad.csv"), "row": 5, "reason": "blank row"}
    assert doc["set_aside"] == [blank]
    table = pd.read_csv(rejected, dtype=str, keep_default_na=False)
    assert table["source_row"].tolist() == ["4"]
    assert table["reasons"].tolist() == ["running_cost: expected a number"]
    assert table["Name"].tolist() == ["Depot"]


def test_validate_unreadable_or_misused_exits_2(files: Path) -> None:
    code, out = _run(["validate", str(files / "missing.csv")], files)
    assert code == 2 and "UNREADABLE: no such file" in out
    (files / "m.yaml").write_text("columns: {name: Nope}\n", encoding="utf-8")
    code, _ = _run(["validate", str(files / "good.csv"), "--mapping", str(files / "m.yaml")], files)
    assert code == 2
    code, _ = _run(["validate"], files)
    assert code == 2
    code, _ = _run(["validate", str(files / "good.csv"), "--kind", "nonsense"], files)
    assert code == 2


def test_validate_reports_colocations(files: Path) -> None:
    other = files / "nhs.csv"
    other.write_text(
        "Property Ref,Agency,Name,Easting,Northing\nN1,NHS,Clinic,486260,308725\n",
        encoding="utf-8",
    )
    code, out = _run(
        ["validate", str(files / "good.csv"), str(other), "--kind", "assets", "--json"], files
    )
    assert code == 0
    assert json.loads(out)["colocations"] == [
        {
            "group": 1,
            "basis": "distance",
            "sites": 2,
            "agencies": {"Council": 1, "NHS": 1},
            "extent_m": 5.7,
            "buildings": [
                {"building_id": "1", "agency": "Council", "name": "Hall"},
                {"building_id": "N1", "agency": "NHS", "name": "Clinic"},
            ],
        }
    ]


def test_mapping_writes_a_skeleton_validate_accepts(files: Path) -> None:
    target = files / "good.mapping.yaml"
    code, out = _run(["mapping", str(files / "good.csv"), "-o", str(target)], files)
    assert code == 0 and out.strip() == f"wrote {target}"
    text = target.read_text(encoding="utf-8")
    assert "building_id: Property Ref" in text and "capacity_desks: Desks" in text
    code, _ = _run(["mapping", str(files / "good.csv"), "-o", str(target)], files)
    assert code == 2  # exists, no --force
    code, _ = _run(["validate", str(files / "placed.csv"), "--mapping", str(target)], files)
    assert code == 0


def test_geocode_writes_every_row_and_lists_the_unmatched(files: Path) -> None:
    out_path = files / "out.gpkg"
    code, out = _run(
        [
            "geocode",
            str(files / "bad.csv"),
            "-o",
            str(out_path),
            "--postcodes",
            str(files / "pc.csv"),
            "--json",
        ],
        files,
    )
    assert code == 1  # rows were rejected or unplaced
    doc = json.loads(out)
    assert doc["geocode"]["methods"]["easting_northing"] == 1
    assert doc["geocode"]["methods"]["postcode"] == 1
    back = gpd.read_file(out_path)
    assert back["building_id"].tolist() == ["1", "2"]
    assert back["geocode_method"].tolist() == ["easting_northing", "postcode"]
    assert doc["load"]["rows_rejected"] == 1
    assert doc["load"]["rows_set_aside"] == 1


def test_geocode_lists_rows_without_a_location(files: Path) -> None:
    (files / "nowhere.csv").write_text("id,agency,name\nA,Council,Somewhere\n", encoding="utf-8")
    code, out = _run(
        ["geocode", str(files / "nowhere.csv"), "--kind", "assets", "-o", str(files / "o.csv")],
        files,
    )
    assert code == 1
    assert "unmatched (1), kept without a point:" in out
    assert "no coordinates, UPRN, postcode or address" in out
    assert len(pd.read_csv(files / "o.csv")) == 1


def test_one_agency_a_file_when_merging(files: Path) -> None:
    (files / "a.csv").write_text("ref,name,easting,northing\nA1,Hall,486256,308721\n", "utf-8")
    (files / "b.csv").write_text("ref,name,easting,northing\nB1,Clinic,486258,308722\n", "utf-8")
    args = ["validate", str(files / "a.csv"), str(files / "b.csv"), "--kind", "assets", "--json"]
    code, out = _run([*args, "--agency", "Council", "--agency", "NHS"], files)
    assert code == 0
    doc = json.loads(out)
    assert [sorted(c["agencies"]) for c in doc["colocations"]] == [["Council", "NHS"]]
    code, _ = _run([*args, "--agency", "a", "--agency", "b", "--agency", "c"], files)
    assert code == 2


def test_geocode_online_uses_the_cached_rate_limited_geocoder(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import estate.geocode as geocode_module

    monkeypatch.setenv("ESTATE_CACHE_DIR", str(files / "cache"))
    asked: list[str] = []

    class Fake:
        def geocode(self, query: str) -> object:
            asked.append(query)
            return type("Location", (), {"latitude": 52.67, "longitude": -0.73})()

    def fake_nominatim(user_agent: str) -> geocode_module.OnlineGeocoder:
        assert user_agent == "estate-tests"
        return geocode_module.OnlineGeocoder(Fake(), "fake", min_delay_seconds=0.0)

    monkeypatch.setattr(geocode_module, "nominatim", fake_nominatim)
    (files / "addr.csv").write_text(
        "id,agency,name,address\nA,Council,Catmose,Catmose Street Oakham\n", encoding="utf-8"
    )
    args = ["geocode", str(files / "addr.csv"), "--kind", "assets", "-o", str(files / "o.gpkg")]
    code, _ = _run([*args, "--online", "--user-agent", "estate-tests"], files)
    assert code == 0
    assert asked == ["Catmose, Catmose Street Oakham, United Kingdom"]
    assert gpd.read_file(files / "o.gpkg")["geocode_method"].tolist() == ["online"]
    assert len(list((files / "cache" / "geocode" / "fake").glob("*.json"))) == 1
    code, _ = _run([*args, "--online", "--user-agent", "estate-tests"], files)
    assert code == 0 and len(asked) == 1  # answered from the disk cache


def test_nominatim_is_built_without_touching_the_network() -> None:
    from estate.geocode import nominatim

    coder = nominatim("estate-tests")
    assert coder.provider == "nominatim" and coder.min_delay_seconds == 1.0 and coder.calls == 0
