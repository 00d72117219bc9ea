"""`estate estimate`: figures worked by hand from the shipped unit rates, and the whole
chain a council estates officer runs (site list -> validate -> estimate -> init -> run)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from estate.errors import SettingsError
from estate.estimate import estimate
from estate.rates import service_rules, unit_rates
from tests.lgtc import write_lgtc

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ONS = DATA / "ons"
CENTROIDS_2011 = (
    ONS / "Lower_Layer_Super_Output_Areas_December_2011_Population_Weighted_Centroids.csv"
)
CENTROIDS_2021 = ONS / "LLSOA_Dec_2021_PWC_for_England_and_Wales_2022_6710512803259349539.csv"
SAPE_2018 = ONS / "SAPE21DT11-mid-2018-lsoa-population-density.csv"

SITES = (
    "Site ID,Agency,Name,Use,GIA,Running Cost,Tenure,Easting,Northing,Postcode\n"
    "L1,Rutland County Council,Oakham Library,Library,,,Freehold,486256,308721,\n"
    "O1,Rutland County Council,Catmose,Offices,1000,,Leasehold,486300,308700,\n"
    "H1,Rutland County Council,Victoria Hall,,400,12345,Freehold,486400,308800,\n"
    "X1,Rutland County Council,Shop unit,Land and Building,,,Leasehold out,486500,308900,\n"
    "M1,Rutland County Council,Somewhere,Offices,,,Freehold,,,M31\n"
)


def _sites(tmp_path: Path) -> str:
    path = tmp_path / "sites.csv"
    path.write_text(SITES, encoding="utf-8")
    return str(path)


def test_every_figure_from_the_file_or_the_rates_worked_by_hand(tmp_path: Path) -> None:
    est = estimate([_sites(tmp_path)])
    b = est.buildings.set_index("building_id")
    # library: typical 250 m2; 250 x 110; 250 x 40; floor(250 x 0.2 / 10); 250 x 1,200; 3%
    lib = b.loc["L1"]
    assert (lib["gia_m2"], lib["running_cost"], lib["backlog_cost"]) == (250, 27_500, 10_000)
    assert (lib["capacity_desks"], lib["disposal_value"], lib["disposal_cost"]) == (
        5,
        300_000,
        9_000,
    )
    assert lib["estimated"].split(";") == [
        "gia_m2",
        "running_cost",
        "backlog_cost",
        "capacity_desks",
        "disposal_value",
        "disposal_cost",
    ]
    # office: the file's 1,000 m2; 1,000 x 160; floor(1,000 x 0.6 / 10); a lease: no receipt
    office = b.loc["O1"]
    assert (office["gia_m2"], office["running_cost"], office["capacity_desks"]) == (
        1000,
        160_000,
        60,
    )
    assert (office["disposal_value"], office["disposal_cost"]) == (0, 0)
    assert "gia_m2" not in office["estimated"] and office["gia_basis"] == "reported in the file"
    # no use given: the type is read from the name? "Victoria Hall" says nothing -> other
    hall = b.loc["H1"]
    assert hall["building_type"] == "other" and hall["running_cost"] == 12_345
    assert "building_type" in hall["estimated"] and "running_cost" not in hall["estimated"]
    assert hall["capacity_desks"] == 12  # floor(400 x 0.3 / 10)
    # let to others: held as it is, no service in it
    let = b.loc["X1"]
    assert (let["tenure"], let["running_cost"], let["can_host"], let["must_retain"]) == (
        "leasehold_out",
        0,
        False,
        True,
    )
    s = est.services.set_index("service_id")
    assert set(s["building_id"]) == {"L1", "O1", "H1"}
    # office: 60 desks x 0.75 in use: 20% customer services, 80% back office
    assert s.loc["O1:council_front_office", "desks"] == 9
    assert s.loc["O1:back_office", "desks"] == 36
    assert s.loc["L1:library", "desks"] == 4  # round(5 x 0.75)
    assert bool(s.loc["L1:library", "public_facing"])
    # the partial postcode cannot be placed: set aside with the reason, not dropped
    (aside,) = est.set_aside.to_dict(orient="records")
    assert aside["building_id"] == "M1"
    assert aside["reason"].startswith("cannot be placed: postcode 'M31' is partial")
    assert est.exit_code == 0
    assert est.doc["floor_area_from"] == {"file": 2, "typical": 2}  # X1 let out: typical


def test_rates_and_rules_can_be_overridden(tmp_path: Path) -> None:
    rates = tmp_path / "rates.yaml"
    rates.write_text(
        "types:\n  library:\n    running_cost_per_m2: 200\n"
        "    typical_gia_m2: {value: 300, unit: m2, basis: our survey 2024}\n",
        encoding="utf-8",
    )
    est = estimate([_sites(tmp_path)], rates=rates)
    lib = est.buildings.set_index("building_id").loc["L1"]
    assert (lib["gia_m2"], lib["running_cost"]) == (300, 60_000)
    used = est.doc["unit_rates"]["types"]["library"]
    assert used["typical_gia_m2"] == {"value": 300.0, "unit": "m2", "basis": "our survey 2024"}
    assert used["running_cost_per_m2"]["unit"] == "GBP per m2 per year"
    rates.write_text("types:\n  librarie:\n    storeys: 2\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown building type"):
        unit_rates(rates)
    rates.write_text("general:\n  occupancy: 1.5\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="between 0 and 1"):
        unit_rates(rates)
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "types:\n  library:\n    - {service_type: library, name: library, share: 0.5, "
        "public_facing: true, movable: true, exclusive: false}\n",
        encoding="utf-8",
    )
    with pytest.raises(SettingsError, match=r"add up to 0\.5"):
        service_rules(rules)


def test_the_shipped_tables_cover_every_building_type() -> None:
    from estate.building_types import TYPE_NAMES

    rates = unit_rates()
    for kind in TYPE_NAMES:
        for rate in rates.types[kind].values():
            assert rate.unit and rate.basis
    rules = service_rules()
    assert set(rules.types) == set(TYPE_NAMES)
    public = {r.service_type for rs in rules.types.values() for r in rs if r.public_facing}
    assert public <= set(rules.access)


@pytest.mark.shared_data
@pytest.mark.skipif(not CENTROIDS_2011.is_file(), reason=f"ONS files absent at {ONS}")
def test_a_generated_lgtc_file_runs_end_to_end(tmp_path: Path) -> None:
    """The published schema's columns, both CRSs, 20% land rows, 2 blank rows: validate
    (no mapping) -> estimate -> init with the national ONS files -> run."""
    lgtc = tmp_path / "land-and-building-assets.csv"
    made = write_lgtc(lgtc, seed=13, rows=50)
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    code, out = cli(
        "validate", str(lgtc), "--kind", "assets", "--json",
        "--rejected", str(tmp_path / "rej.csv"), "--set-aside", str(tmp_path / "aside.csv"),
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0
    assert doc["rows_read"] == made["buildings"] + made["land"] + made["blank"]
    assert doc["rows_accepted"] >= 0.95 * made["buildings"]
    assert doc["rows_set_aside"] == made["land"] + made["blank"]
    assert doc["rows_read"] == doc["rows_accepted"] + doc["rows_rejected"] + doc["rows_set_aside"]

    register = tmp_path / "register"
    code, out = cli("estimate", str(lgtc), "-o", str(register), "--json")
    assert code == 0, out
    est = json.loads(out)
    buildings = pd.read_csv(register / "buildings.csv")
    assert len(buildings) == doc["rows_accepted"] == est["buildings"]
    assert set(buildings["agency"]) == {"Rutland County Council"}
    assert buildings["estimated"].notna().all() or (buildings["tenure"] == "leasehold_out").any()
    assert set(buildings["geocode_method"]) <= {"lat_lon", "easting_northing"}

    scenario_dir = tmp_path / "scenario"
    code, out = cli(
        "init", str(scenario_dir), "--register", str(register),
        "--zones", str(CENTROIDS_2011), "--population", str(SAPE_2018),
        "--zone-name-prefix", "Rutland", "--name", "Rutland: one public estate",
    )  # fmt: skip
    assert code == 0, out
    text = (scenario_dir / "scenario.yaml").read_text(encoding="utf-8")
    assert "ASSUMPTIONS TO REVIEW" in text and "zone_name_prefix: Rutland" in text
    assert "name: 'Rutland: one public estate'" in text

    code, out = cli(
        "run", str(scenario_dir / "scenario.yaml"), "--out", str(tmp_path / "run"),
        "--no-sharing-value", "--no-price-of-keeping", "--json",
        "--set", "solver.time_limit_seconds=30",
    )  # fmt: skip
    assert code == 0, out
    summary = json.loads(out)
    assert summary["status"] in {"optimal", "feasible"}
    assert summary["scenario"] == "Rutland: one public estate"
    assert summary["counts"]["zones"] == 23
    assert summary["counts"]["population"] == 39_697
    assert summary["estimates"]["buildings_with_estimates"] > 0
    report = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "figures are estimates" in report


@pytest.mark.shared_data
@pytest.mark.skipif(not CENTROIDS_2021.is_file(), reason=f"ONS files absent at {ONS}")
def test_a_population_file_of_another_lsoa_vintage_is_said_to_be_one() -> None:
    from estate.errors import InputDataError
    from geodata.zones import read_zones

    with pytest.raises(InputDataError, match="another vintage"):
        read_zones(CENTROIDS_2021, SAPE_2018, "Rutland")
