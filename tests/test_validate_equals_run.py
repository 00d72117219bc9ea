"""`estate validate` applies the checks `estate run` applies: the same broken files are
fed to both, and both accept them or both reject them, for every table kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from tests.tiny_places import BASE, write_line_road, write_line_zones, write_tiny_register

SCENARIO = """\
name: Tiny line
inputs:
  buildings: {buildings}
  services: register/services.csv
  zones: zones.csv
  network: line.osm
access:
  library: {{max_minutes: 15, mode: drive, max_loss: 0.0}}
  gp: {{max_minutes: 15, mode: drive, max_loss: 0.0}}
solver: {{time_limit_seconds: 20}}
"""


def _place(folder: Path, buildings: str = "register/buildings.csv") -> Path:
    """The tiny line place (3 buildings, 4 services, 3 zones, a road) as a scenario."""
    write_tiny_register(folder / "register")
    write_line_road(folder / "line.osm")
    write_line_zones(folder / "zones.csv")
    path = folder / "scenario.yaml"
    path.write_text(SCENARIO.format(buildings=buildings), encoding="utf-8")
    return path


def _edit(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame).to_csv(path, index=False)


def _cell(column: str, row: int, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return change


def _lon_minus_200(folder: Path) -> None:
    _edit(folder / "zones.csv", _cell("lon", 1, "-200"))


def _services_utf16(folder: Path) -> None:
    path = folder / "register" / "services.csv"
    path.write_text(path.read_text(encoding="utf-8"), encoding="utf-16")


def _services_semicolons(folder: Path) -> None:
    path = folder / "register" / "services.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")


def _services_blank_rows(folder: Path) -> None:
    path = folder / "register" / "services.csv"
    path.write_text(path.read_text(encoding="utf-8") + ",,,,,\n\n", encoding="utf-8")


def _unknown_building(folder: Path) -> None:
    _edit(folder / "register" / "services.csv", _cell("building_id", 0, "Z"))


def _building_lon_minus_200(folder: Path) -> None:
    path = folder / "register" / "buildings.csv"
    _edit(path, lambda f: f.assign(lon=["-200", "", ""], lat=["52.6", "", ""]))


def _no_point(folder: Path) -> None:
    path = folder / "register" / "buildings.csv"
    _edit(path, lambda f: f.assign(postcode="LE15 6BQ").pipe(_cell("easting", 1, "")))


def _no_people(folder: Path) -> None:
    _edit(folder / "zones.csv", lambda f: f.assign(population="0"))


def _let_out_with_a_service(folder: Path) -> None:
    _edit(
        folder / "register" / "buildings.csv",
        lambda f: f.assign(tenure="freehold").pipe(_cell("tenure", 0, "Leasehold Out")),
    )


def _standard_without_services(folder: Path) -> None:
    path = folder / "scenario.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("access:\n", "access:\n  museum: {max_minutes: 10, mode: drive}\n"),
        encoding="utf-8",
    )


def _far_from_the_road(folder: Path) -> None:
    _edit(
        folder / "register" / "buildings.csv",
        lambda f: f.pipe(_cell("easting", 2, str(BASE[0] + 16_000))),
    )


#: (case, break the place, does a run accept it, text both name)
CASES: list[tuple[str, Callable[[Path], None], bool, str]] = [
    ("zone lon -200", _lon_minus_200, False, "must be at least -180"),
    ("building lon -200", _building_lon_minus_200, False, "must be at least -180"),
    ("services in UTF-16", _services_utf16, True, ""),
    ("services with semicolons", _services_semicolons, True, ""),
    ("services with blank rows", _services_blank_rows, True, ""),
    ("a service in no building", _unknown_building, False, "no building with this building_id"),
    ("a building with no point", _no_point, False, "no location"),
    ("zones with no people", _no_people, False, "no people"),
    ("a service in a site let to others", _let_out_with_a_service, False, "let to others"),
    ("a standard for no service", _standard_without_services, False, "no public-facing service"),
    ("a building 8 km from the road", _far_from_the_road, False, "km from the nearest node"),
]


def _invoke(args: list[str], cwd: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, terminal_width=200)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


@pytest.mark.parametrize(
    ("breaks", "accepted", "named"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_validate_and_run_agree(
    tmp_path: Path, breaks: Callable[[Path], None], accepted: bool, named: str
) -> None:
    scenario = _place(tmp_path)
    breaks(tmp_path)
    csvs = ["--rejected", str(tmp_path / "r.csv"), "--set-aside", str(tmp_path / "s.csv")]
    code, checked = _invoke(["validate", str(scenario), *csvs], tmp_path)
    out = tmp_path / "run"
    ran, output = _invoke(
        ["run", str(scenario), "--out", str(out), "--no-sharing-value", "--no-price-of-keeping"],
        tmp_path,
    )
    assert (code == 0) is accepted, checked
    assert (ran == 0) is accepted, output
    if accepted:
        assert "every input accepted: estate run would solve it" in checked
        assert json.loads((out / "summary.json").read_text())["status"] == "optimal"
    else:
        assert named in checked and named in output
        assert "estate run would stop" in checked
        assert not (out / "summary.json").exists()


@pytest.mark.parametrize(
    ("breaks", "kind", "table"),
    [
        (_lon_minus_200, "zones", "zones.csv"),
        (_no_people, "zones", "zones.csv"),
        (_building_lon_minus_200, "register", "register/buildings.csv"),
        (_no_point, "register", "register/buildings.csv"),
    ],
    ids=["zone lon -200", "zones with no people", "building lon -200", "no point"],
)
def test_one_table_validated_alone_is_rejected_as_the_run_rejects_it(
    tmp_path: Path, breaks: Callable[[Path], None], kind: str, table: str
) -> None:
    _place(tmp_path)
    args = ["validate", str(tmp_path / table), "--kind", kind, "--json"]
    args += ["--rejected", str(tmp_path / "r.csv"), "--set-aside", str(tmp_path / "s.csv")]
    code, out = _invoke(args, tmp_path)
    assert code == 0, out  # the place as it was
    breaks(tmp_path)
    code, out = _invoke(args, tmp_path)
    assert code == 1
    assert json.loads(out)["rows_rejected"] >= 1


@pytest.mark.parametrize(
    "breaks", [_services_utf16, _services_semicolons], ids=["UTF-16", "semicolons"]
)
def test_a_services_file_validate_reads_is_one_run_reads(
    tmp_path: Path, breaks: Callable[[Path], None]
) -> None:
    scenario = _place(tmp_path)
    breaks(tmp_path)
    args = ["validate", str(tmp_path / "register" / "services.csv"), "--kind", "services"]
    args += ["--rejected", str(tmp_path / "r.csv"), "--set-aside", str(tmp_path / "s.csv")]
    code, out = _invoke([*args, "--json"], tmp_path)
    assert code == 0 and json.loads(out)["rows_accepted"] == 4
    out_dir = tmp_path / "run"
    ran, output = _invoke(
        [
            "run",
            str(scenario),
            "--out",
            str(out_dir),
            "--no-sharing-value",
            "--no-price-of-keeping",
        ],
        tmp_path,
    )
    assert ran == 0, output  # the run used to reject what validate accepted
    assert json.loads((out_dir / "summary.json").read_text())["counts"]["services"] == 4


def test_duplicate_ids_across_two_buildings_files(tmp_path: Path) -> None:
    scenario = _place(tmp_path, "[register/buildings.csv, register/more.csv]")
    (tmp_path / "register" / "more.csv").write_text(
        "building_id,agency,name,easting,northing,capacity_desks,running_cost\n"
        f"B,police,Station,{BASE[0] + 1000},{BASE[1]},5,500\n",
        encoding="utf-8",
    )
    csvs = ["--rejected", str(tmp_path / "r.csv"), "--set-aside", str(tmp_path / "s.csv")]
    code, checked = _invoke(["validate", str(scenario), *csvs], tmp_path)
    ran, output = _invoke(
        ["run", str(scenario), "--out", str(tmp_path / "o"), "--no-price-of-keeping"], tmp_path
    )
    assert code == 1 and ran == 1
    for text in (checked, output):
        assert "more.csv, row 2, column 'building_id'" in text
        assert "duplicate building_id" in text
    rejected = pd.read_csv(tmp_path / "r.csv", dtype=str)
    assert rejected["source_row"].tolist() == ["2"]


def test_validate_scenario_json_accounts_for_every_table(tmp_path: Path) -> None:
    scenario = _place(tmp_path)
    _unknown_building(tmp_path)
    args = ["validate", str(scenario), "--json", "--rejected", str(tmp_path / "r.csv")]
    code, out = _invoke([*args, "--set-aside", str(tmp_path / "s.csv")], tmp_path)
    assert code == 1
    doc = json.loads(out)
    assert doc["would_run"] is False
    assert [doc["tables"][t]["rows_read"] for t in ("buildings", "services", "zones")] == [3, 4, 3]
    (problem,) = doc["across_tables"]
    assert problem["row"] == 2 and problem["column"] == "building_id" and problem["value"] == "Z"
    assert problem["file"].endswith("services.csv")


def test_validate_scenario_takes_overrides_and_refuses_file_options(tmp_path: Path) -> None:
    scenario = _place(tmp_path)
    csvs = ["--rejected", str(tmp_path / "r.csv"), "--set-aside", str(tmp_path / "s.csv")]
    code, out = _invoke(["validate", str(scenario), *csvs, "--kind", "assets"], tmp_path)
    assert code == 2 and "--kind: a scenario names its own files" in out
    code, out = _invoke(["validate", str(scenario), *csvs, "--agency", "X"], tmp_path)
    assert code == 2 and "--agency: a scenario names its own files" in out
    zones = str(tmp_path / "zones.csv")
    code, out = _invoke(["validate", zones, *csvs, "--kind", "zones", "--sheet", "2"], tmp_path)
    assert code == 2 and "--sheet: not for zones files" in out
    code, out = _invoke(["validate", zones, *csvs, "--population", zones], tmp_path)
    assert code == 2 and "go with --kind zones" in out
    code, out = _invoke(["validate", str(scenario), *csvs, "--set", "finance.nope=1"], tmp_path)
    assert code == 2 and "finance.nope" in out
    code, out = _invoke(["validate", str(tmp_path / "zones.csv"), *csvs, "--set", "a=1"], tmp_path)
    assert code == 2 and "--set goes with a scenario file" in out
