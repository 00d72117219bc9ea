"""`estate demo` end to end through the CLI: exit code, files, and the figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main

RUN_FILES = [
    "summary.json",
    "buildings.csv",
    "moves.csv",
    "agencies.csv",
    "access.csv",
    "cash_flows.csv",
    "results.gpkg",
    "map.html",
    "report.html",
    "report.xlsx",
    "inputs/buildings.csv",
    "inputs/services.csv",
    "inputs/zones.csv",
    "scenario.yaml",
]
DETERMINISTIC = [f for f in RUN_FILES if f.endswith((".csv", ".html", ".xlsx"))]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    runner = CliRunner()
    first = tmp_path_factory.mktemp("demo") / "run"
    second = tmp_path_factory.mktemp("demo") / "run"
    result = runner.invoke(main, ["demo", "--out", str(first)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["demo", "--out", str(second), "--quiet"])
    assert again.exit_code == 0, again.output
    assert again.output == ""
    return first, second, result.output


def test_demo_writes_the_run_folder(demo_runs: tuple[Path, Path, str]) -> None:
    run, _, output = demo_runs
    for name in RUN_FILES:
        assert (run / name).is_file(), name
        assert (run / name).stat().st_size > 0, name
    assert "SYNTHETIC DATA" in output
    assert "NPV saving" in output


def test_summary_is_optimal_positive_and_adds_up(demo_runs: tuple[Path, Path, str]) -> None:
    doc = json.loads((demo_runs[0] / "summary.json").read_text())
    assert doc["status"] == "optimal"
    assert doc["npv_saving"] > 0
    assert "SYNTHETIC" in doc["notice"]
    for key in ("npv_saving", "annual_revenue_saving", "capital_receipts", "one_off_costs"):
        assert sum(a[key] for a in doc["agencies"]) == pytest.approx(doc[key], abs=0.01)
    assert doc["buildings"]["disposed"] > 0
    assert doc["baseline_present_cost"] - doc["scenario_present_cost"] == pytest.approx(
        doc["npv_saving"], abs=0.05
    )


def test_tables_agree_with_each_other(demo_runs: tuple[Path, Path, str]) -> None:
    run = demo_runs[0]
    doc = json.loads((run / "summary.json").read_text())
    buildings = pd.read_csv(run / "buildings.csv")
    moves = pd.read_csv(run / "moves.csv")
    cash = pd.read_csv(run / "cash_flows.csv")
    assert (buildings["decision"] == "dispose").sum() == doc["buildings"]["disposed"]
    assert len(moves) == doc["services_moved"]
    # Every move goes into a kept building; every disposed building ends empty.
    kept = set(buildings.loc[buildings["decision"] != "dispose", "building_id"])
    assert set(moves["to_building"]) <= kept
    assert (buildings.loc[buildings["decision"] == "dispose", "desks_after"] == 0).all()
    # The discounted cash flows give the NPV saving.
    rate = doc["settings"]["finance"]["discount_rate"]
    npv = (cash["saving_gbp"] / (1 + rate) ** cash["year"]).sum()
    assert npv == pytest.approx(doc["npv_saving"], rel=1e-6)


def test_same_seed_gives_identical_files(demo_runs: tuple[Path, Path, str]) -> None:
    first, second, _ = demo_runs
    for name in DETERMINISTIC:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    a = json.loads((first / "summary.json").read_text())
    b = json.loads((second / "summary.json").read_text())
    for doc in (a, b):
        doc.pop("build_seconds")
        doc.pop("solve_seconds")
    assert a == b


def test_the_scenario_it_wrote_runs_again_to_identical_files(
    demo_runs: tuple[Path, Path, str], tmp_path: Path
) -> None:
    first = demo_runs[0]
    again = tmp_path / first.name  # the report names its folder
    args = ["run", str(first / "scenario.yaml"), "--out", str(again), "--no-sharing-value"]
    args.append("--no-price-of-keeping")  # estate demo prices no keeping either
    result = CliRunner().invoke(main, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    for name in [*DETERMINISTIC, "scenario.yaml"]:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name


def test_other_seed_gives_another_place(tmp_path: Path) -> None:
    from scenarios.places.demo import demo_place

    one, two = demo_place(1), demo_place(2)
    assert not one.register.buildings[["easting"]].equals(two.register.buildings[["easting"]])
    for place in (one, two):
        assert 60 <= len(place.zones) <= 150
        assert 30 <= len(place.register.buildings) <= 80
        assert 80 <= len(place.register.services) <= 200
        assert len(place.register.agencies) >= 4


def test_help_lists_demo() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "demo" in result.output


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name in main.commands:  # type: ignore[attr-defined]
        assert f"`estate {name}" in readme, f"estate {name} is not in README.md"
