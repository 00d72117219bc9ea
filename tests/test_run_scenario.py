"""`estate run SCENARIO.yaml`: the run folder, the value of sharing, and the policy scope."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from scenarios.running.run import run
from scenarios.scenario.file import ScenarioFile, load_scenario
from scenarios.scenario.inputs import load_inputs
from scenarios.scenario.template import init_folder

# Five candidate buildings a service keeps the demo place's solves well under a second.
FAST = ["--set", "policy.k_nearest=5", "--no-price-of-keeping"]


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-scenario")
    init_folder(folder, demo_seed=2026)
    return folder


@pytest.fixture(scope="module")
def shared_run(demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("run") / "out"
    args = ["run", str(demo_folder / "scenario.yaml"), "--out", str(out), *FAST]
    result = CliRunner().invoke(main, args, terminal_width=120)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_run_writes_the_run_folder_with_its_scenario(shared_run: tuple[Path, str]) -> None:
    out, _ = shared_run
    for name in ("summary.json", "buildings.csv", "moves.csv", "access.csv", "map.html"):
        assert (out / name).is_file(), name
    scenario = load_scenario(out / "scenario.yaml")
    assert scenario.scenario.policy.k_nearest == 5
    assert scenario.input_paths()["buildings"] == (out / "inputs" / "buildings.csv").resolve()


def test_input_hashes_are_the_hashes_of_the_copied_inputs(shared_run: tuple[Path, str]) -> None:
    import hashlib

    out, _ = shared_run
    doc = json.loads((out / "summary.json").read_text())
    for name, digest in doc["input_hashes"].items():
        data = (out / "inputs" / f"{name}.csv").read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name


def test_the_value_of_sharing_is_the_shared_run_against_the_siloed_run(
    shared_run: tuple[Path, str],
) -> None:
    out, _ = shared_run
    doc = json.loads((out / "summary.json").read_text())
    siloed = json.loads((out / "siloed" / "summary.json").read_text())
    value = doc["value_of_sharing"]
    assert siloed["settings"]["policy"]["sharing"] == "siloed"
    assert value["shared"]["npv_saving"] == doc["npv_saving"]
    assert value["siloed"]["npv_saving"] == siloed["npv_saving"]
    for key in ("npv_saving", "capital_receipts", "one_off_costs"):
        assert value["difference"][key] == pytest.approx(doc[key] - siloed[key], abs=0.01)
    # Siloed: no service moves into another agency's building.
    moves = pd.read_csv(out / "siloed" / "moves.csv", dtype=str)
    buildings = pd.read_csv(out / "siloed" / "buildings.csv", dtype=str)
    services = pd.read_csv(out / "inputs" / "services.csv", dtype=str)
    owner = buildings.set_index("building_id")["agency"]
    agency = services.set_index("service_id")["agency"]
    assert (moves["to_building"].map(owner) == moves["service_id"].map(agency)).all()


def test_the_terminal_shows_the_value_of_sharing(shared_run: tuple[Path, str]) -> None:
    _, output = shared_run
    assert "Value of sharing" in output
    assert "SYNTHETIC DATA" in output


def test_json_prints_the_summary_with_the_value_of_sharing(
    demo_folder: Path, tmp_path: Path
) -> None:
    args = ["run", str(demo_folder / "scenario.yaml"), "--out", str(tmp_path / "o"), *FAST]
    result = CliRunner().invoke(main, [*args, "--json", "--no-sharing-value"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["status"] == "optimal"
    assert "value_of_sharing" not in printed
    assert not (tmp_path / "o" / "siloed").exists()


def test_agencies_outside_the_scope_are_kept_as_they_are(demo_folder: Path) -> None:
    sf = load_scenario(demo_folder / "scenario.yaml", {"policy.k_nearest": "5"})
    everyone = run(load_inputs(sf), None).result.evaluation
    assert everyone is not None
    disposed = everyone.buildings.loc[everyone.buildings["decision"] == "dispose"]
    kept_by_force = str(disposed["building_id"].iloc[0])
    scoped = sf.with_overrides(
        {"policy.agencies": "[council, nhs]", "policy.force_keep": f"[{kept_by_force}]"}
    )
    evaluation = run(load_inputs(scoped), None).result.evaluation
    assert evaluation is not None
    b = evaluation.buildings.set_index("building_id")
    outside = b["agency"].isin(["police", "fire", "dwp"])
    assert (b.loc[outside, "decision"] == "retain").all()
    assert (b.loc[outside, "desks_after"] == b.loc[outside, "desks_before"]).all()
    assert b.loc[kept_by_force, "decision"] != "dispose"
    moved_agencies = set(evaluation.moves["service_id"].map(_agency_of(scoped)))
    assert moved_agencies <= {"council", "nhs"}


def _agency_of(sf: ScenarioFile) -> dict[str, str]:
    inputs = load_inputs(sf)
    services = inputs.register.services
    return dict(zip(services["service_id"], services["agency"], strict=True))


def test_an_invalid_set_exits_2_and_writes_nothing(demo_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = ["run", str(demo_folder / "scenario.yaml"), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--set", "solver.mip_rel_gap=2"])
    assert result.exit_code == 2
    assert "--set solver.mip_rel_gap=2, solver.mip_rel_gap" in result.output
    result = CliRunner().invoke(main, [*args, "--set", "nonsense"])
    assert result.exit_code == 2
    assert not out.exists()


def test_a_run_without_a_decision_leaves_no_stale_results(
    demo_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    args = ["run", str(demo_folder / "scenario.yaml"), "--out", str(out), *FAST]
    args += ["--no-sharing-value", "--quiet"]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert (out / "buildings.csv").is_file()
    # A tenth of each building's desks cannot hold today's services: no decision.
    result = CliRunner().invoke(main, [*args, "--set", "policy.utilisation=0.1"])
    assert result.exit_code == 1, result.output
    doc = json.loads((out / "summary.json").read_text())
    assert doc["status"] in {"infeasible", "no_solution"}
    for name in ("buildings.csv", "access.csv", "map.html", "results.gpkg", "report.html"):
        assert not (out / name).exists(), name
    assert (out / "scenario.yaml").is_file()


def test_a_scenario_on_an_openstreetmap_file(tmp_path: Path) -> None:
    from tests.tiny_places import write_line_scenario, write_tiny_register

    write_tiny_register(tmp_path / "register")
    scenario = write_line_scenario(tmp_path)
    out = tmp_path / "run"
    args = ["run", str(scenario), "--out", str(out), "--quiet", "--no-price-of-keeping"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "summary.json").read_text())
    assert doc["travel_times"]["drive"]["method"] != "estimate"
    access = pd.read_csv(out / "access.csv")
    # 2 minutes a km on the residential road: zone x=4 km is 4 minutes from B at x=2 km.
    gp = access.loc[(access["service_type"] == "gp") & (access["zone_id"] == "z2")]
    assert float(gp["minutes_before"].iloc[0]) == pytest.approx(4.0, abs=0.05)
    # The run folder keeps the network as tables, and its scenario points at them.
    rerun = load_scenario(out / "scenario.yaml")
    assert set(rerun.input_paths()) >= {"network.nodes", "network.edges"}
