"""Reasons a Board can read: the price of keeping each disposal, and why each goes.

The price of keeping is checked on an estate small enough to price by hand (no
discounting, no optimism bias); the reasons on the demo's run folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main

BUILDINGS = """building_id,agency,name,easting,northing,capacity_desks,running_cost,tenure
A,council,Alpha House,450000,300000,10,5000,freehold
B,council,Beta House,451000,300000,10,3000,freehold
H,council,Hub,450500,300000,10,100,freehold
"""
SERVICES = """service_id,agency,name,building_id,desks,service_type,public_facing
s1,council,Team one,A,2,back_office,no
s2,council,Team two,B,3,back_office,no
"""
ZONES = "zone_id,name,population,easting,northing\nZ1,Zone,100,450500,300500\n"
SCENARIO = """name: Price of keeping
inputs: {buildings: inputs/buildings.csv, services: inputs/services.csv, zones: inputs/zones.csv}
finance: {horizon_years: 10, discount_rate: 0.0, long_discount_rate: 0.0, optimism_bias: 0.0,
  move_cost_per_desk: 500, fit_out_per_desk: 0, disposal_lag_years: 1}
solver: {mip_rel_gap: 0.0}
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    (tmp_path / "inputs").mkdir()
    for name, text in (
        ("buildings.csv", BUILDINGS),
        ("services.csv", SERVICES),
        ("zones.csv", ZONES),
    ):
        (tmp_path / "inputs" / name).write_text(text, encoding="utf-8")
    (tmp_path / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    return tmp_path


def test_price_of_keeping_each_disposal_by_hand(small: Path) -> None:
    """Two freeholds (5,000 and 3,000 a year) whose teams (2 and 3 desks, 500 a desk to
    move) go to the hub (100 a year) over 10 years, freeholds sold a year after they are
    vacated: saving 9 x 5,000 + 9 x 3,000 - 2,500 = 69,500.  Keeping Alpha, Beta's team
    goes to Alpha and the hub goes too: 9 x 3,000 + 9 x 100 - 1,500 = 26,400, a price of
    43,100.  Keeping Beta: 9 x 5,000 + 900 - 1,000 = 44,900, a price of 24,600."""
    out = small / "out"
    args = ["run", str(small / "scenario.yaml"), "--out", str(out), "--serial", "--quiet"]
    result = CliRunner().invoke(main, [*args, "--no-sharing-value"])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "summary.json").read_text())
    assert doc["npv_saving"] == pytest.approx(69_500)
    b = pd.read_csv(out / "buildings.csv").set_index("building_id")
    assert list(b["decision"]) == ["dispose", "dispose", "host"]
    assert b.loc["A", "price_of_keeping_gbp"] == pytest.approx(43_100)
    assert b.loc["B", "price_of_keeping_gbp"] == pytest.approx(24_600)
    assert b.loc["A", "npv_saving_if_kept"] == pytest.approx(26_400)
    assert (
        b.loc[["A", "B"], "price_of_keeping_low_gbp"] == b.loc[["A", "B"], "price_of_keeping_gbp"]
    ).all()
    assert (
        b.loc[["A", "B"], "price_of_keeping_high_gbp"] == b.loc[["A", "B"], "price_of_keeping_gbp"]
    ).all()
    assert pd.isna(b.loc["H", "price_of_keeping_gbp"])
    assert doc["price_of_keeping"]["buildings"] == 2
    assert len(list((out / "price_of_keeping" / "points").iterdir())) == 2
    assert "£43,100 of NPV saving given up" in (out / "map.html").read_text(encoding="utf-8")
    assert "43,100" in (out / "report.html").read_text(encoding="utf-8")
    # Asked not to, the run prices nothing.
    again = small / "again"
    args = ["run", str(small / "scenario.yaml"), "--out", str(again), "--quiet"]
    result = CliRunner().invoke(main, [*args, "--no-sharing-value", "--no-price-of-keeping"])
    assert result.exit_code == 0, result.output
    assert "price_of_keeping_gbp" not in pd.read_csv(again / "buildings.csv").columns
    assert not (again / "price_of_keeping").exists()
    # The reasons beside each disposal, by hand: Alpha's own costs less its team's move.
    assert b.loc["A", "annual_saving_gbp"] == pytest.approx(5_000)
    assert b.loc["A", "npv_saving_gbp"] == pytest.approx(9 * 5_000 - 1_000)
    assert b.loc["B", "npv_saving_gbp"] == pytest.approx(9 * 3_000 - 1_500)
    assert b.loc["A", "services_go_to"] == "Team one → Hub (H), year 1"


def test_reasons_say_how_much_further_the_people_it_served_are() -> None:
    """A library in A (5 and 30 minutes from zones Z1, Z2) moves into the hub H (8 and
    30 minutes) when A goes: Z1's 300 people, whose nearest library A was, are 3 minutes
    further; Z2's nearest was B's library, which stays."""
    from optimise import AccessStandard, EstateModel, SolverSettings
    from tests.toy import building, instance, service

    buildings = [
        building("A", running_cost=20_000),
        building("B", running_cost=1_000),
        building("H", running_cost=100),
    ]
    services = [
        service("LA", "A", service_type="library", public_facing=True, name="Alpha Library"),
        service("LB", "B", service_type="library", public_facing=True, name="Beta Library"),
    ]
    minutes = [[5, 30, 8], [30, 4, 30]]
    access = {"library": AccessStandard(max_increase_minutes=5)}
    inst = instance(buildings, services, minutes, [300, 200], access)
    result = EstateModel(inst).solve(SolverSettings(mip_rel_gap=0))
    assert result.evaluation is not None
    b = result.evaluation.buildings.set_index("building_id")
    assert b.loc["A", "decision"] == "dispose"
    assert b.loc["A", "people_served"] == 300
    assert b.loc["A", "largest_increase_minutes"] == pytest.approx(3.0)
    assert b.loc["A", "access_change"] == "library by drive: 1 zone(s), 300 people, up to +3.0 min"
    assert b.loc["A", "services_go_to"] == "Alpha Library → Building H (H), year 1"


def test_price_of_keeping_carries_hostile_ids_as_text(small: Path) -> None:
    """Building ids are settings of the re-solves (policy.force_keep): an id that looks
    like a formula, mathematics or markup runs through the sweep engine as plain text."""
    hostile = '=HYPERLINK("x") $a$ <b>A</b>'
    for name in ("buildings.csv", "services.csv"):
        path = small / "inputs" / name
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        column = "building_id"
        frame[column] = frame[column].replace("A", hostile)
        frame.to_csv(path, index=False, lineterminator="\n")
    out = small / "out"
    args = ["run", str(small / "scenario.yaml"), "--out", str(out), "--serial", "--quiet"]
    result = CliRunner().invoke(main, [*args, "--no-sharing-value"])
    assert result.exit_code == 0, result.output
    b = pd.read_csv(out / "buildings.csv", dtype={"building_id": str})
    row = b.loc[b["building_id"].str.contains("HYPERLINK", regex=False)]
    assert len(row) == 1 and row["price_of_keeping_gbp"].iloc[0] == pytest.approx(43_100)
    assert "<b>A</b>" not in (out / "report.html").read_text(encoding="utf-8")


def test_a_price_is_never_negative_and_its_range_covers_the_gaps() -> None:
    """The run found 100 (its bound allows 110); kept, a re-solve found 105 (bound 108).
    The run could have kept the building, so its saving is at least 105: the price is 0,
    and at most 110 - 105 = 5."""
    from scenarios.planning.keeping import price_range

    assert price_range((100.0, 110.0), (105.0, 108.0)) == (0.0, 0.0, 5.0)
    # Proven optimal both: the price is exact.
    assert price_range((100.0, 100.0), (60.0, 60.0)) == (40.0, 40.0, 40.0)
    # Gaps on both: least = run's least - kept's most, most = run's most - kept's least.
    assert price_range((100.0, 104.0), (60.0, 63.0)) == (40.0, 37.0, 44.0)
