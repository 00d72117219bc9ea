"""Scenario files: schema, line-numbered errors, overrides, keys, templates, inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from estate.errors import InputDataError
from optimise.settings import FinanceSettings, PolicySettings, SolverSettings
from scenarios.scenario.file import ScenarioError, load_scenario
from scenarios.scenario.inputs import load_inputs, read_network
from scenarios.scenario.schema import SCHEMA_PATH, Scenario, schema_text
from scenarios.scenario.template import init_folder, render_scenario


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-scenario")
    init_folder(folder, demo_seed=2026)
    return folder


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def scenario_text(folder: Path, extra: str = "", **sections: str) -> str:
    """A small valid scenario pointing at the demo inputs, with sections replaced."""
    parts = {
        "inputs": (
            "inputs:\n"
            "  buildings: inputs/buildings.csv\n"
            "  services: inputs/services.csv\n"
            "  zones: inputs/zones.csv\n"
        ),
        "finance": "finance:\n  discount_rate: 0.035\n  horizon_years: 20\n",
        "policy": "policy:\n  sharing: shared\n",
    }
    parts.update(sections)
    return "name: test\n" + "".join(parts.values()) + extra


def test_the_committed_json_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "docs/scenario.schema.json is stale: run python -m scenarios.scenario.schema --write"
    )


def test_scenario_composes_the_optimiser_settings_without_copying_them() -> None:
    s = Scenario.model_validate({"inputs": {"buildings": "b", "services": "s", "zones": "z"}})
    assert s.finance == FinanceSettings()
    assert s.solver == SolverSettings()
    assert s.policy == PolicySettings()
    assert type(s.policy) is PolicySettings  # the model's own, not a copy of its fields


def test_the_demo_scenario_loads_and_round_trips(demo_folder: Path) -> None:
    sf = load_scenario(demo_folder / "scenario.yaml")
    s = sf.scenario
    assert s.policy.sharing == "shared"
    assert s.access["library"].drive == 10
    assert s.solver.mip_rel_gap == 0.005
    assert s.inputs.network is not None
    again = write(demo_folder / "again.yaml", render_scenario(s))
    assert load_scenario(again).scenario == s


def test_the_template_has_every_default_and_fails_clearly_on_empty_tables(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    sf = load_scenario(tmp_path / "new" / "scenario.yaml")
    assert sf.scenario.finance == FinanceSettings()
    assert sf.scenario.solver == SolverSettings()
    text = (tmp_path / "new" / "scenario.yaml").read_text()
    assert "# uplift on one-off costs" in text  # descriptions become comments
    assert "one of shared | siloed" in text
    header = (tmp_path / "new" / "inputs" / "buildings.csv").read_text().strip()
    assert header.startswith("building_id,agency,name")
    assert json.loads((tmp_path / "new" / "scenario.schema.json").read_text())
    with pytest.raises(InputDataError, match="no rows"):
        load_inputs(sf)
    again = CliRunner().invoke(main, ["init", str(tmp_path / "new")])
    assert again.exit_code == 2
    assert "exists already" in again.output


def test_a_value_out_of_range_names_key_and_line_exits_2_and_writes_nothing(
    demo_folder: Path, tmp_path: Path
) -> None:
    finance = "finance:\n  horizon_years: 20\n  discount_rate: 0.9\n"
    bad = write(demo_folder / "bad.yaml", scenario_text(demo_folder, finance=finance))
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(bad), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "line 8, finance.discount_rate" in result.output
    assert "less than or equal to 0.5" in result.output
    assert "0.9" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nfinanse:\n  discount_rate: 0.03\n", ["line 2, finanse: unknown key"]),
        (
            "name: x\ninputs: {buildings: b.csv, services: s.csv, zones: z.csv}\n"
            "access:\n  gp:\n    max_minutes: -5\n",
            ["line 5, access.gp.max_minutes", "greater than 0"],
        ),
        (
            "name: x\ninputs: {buildings: b.csv, services: s.csv, zones: z.csv}\n"
            "access:\n  gp: {max_minutes: 10, min_share: 0.9, max_loss: 0.0}\n",
            ["line 4, access.gp: give min_share or max_loss, not both"],
        ),
        (
            "name: x\ninputs: {buildings: b.csv, services: s.csv, zones: z.csv}\n"
            "policy:\n  sharing: pooled\n",
            ["line 4, policy.sharing", "'shared' or 'siloed'", "'pooled'"],
        ),
        ("name: x\npolicy:\n  sharing: shared\n", ["  - inputs: required key is missing"]),
        ("name: x\nfinance:\n  horizon_years: [20\n", ["YAML syntax", "line 4"]),
        ("name: x\nname: y\n", ["line 2, name: appears twice (also on line 1)"]),
        ("- a list\n", ["expected a mapping"]),
        ("", ["the file is empty"]),
    ],
)
def test_invalid_scenarios_name_the_key_and_line(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path / "s.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message, message
    assert info.value.exit_code == 2


def test_missing_input_files_are_named_with_their_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", scenario_text(tmp_path))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "line 3, inputs.buildings: no such file" in message
    assert "line 5, inputs.zones: no such file" in message
    assert str(tmp_path / "inputs" / "zones.csv") in message


def test_unknown_agencies_and_buildings_are_named_with_their_line(demo_folder: Path) -> None:
    policy = "policy:\n  agencies: [council, nhs, probation]\n  force_keep: [B001, B999]\n"
    path = write(demo_folder / "scope.yaml", scenario_text(demo_folder, policy=policy))
    with pytest.raises(ScenarioError) as info:
        load_inputs(load_scenario(path))
    message = str(info.value)
    assert "line 10, policy.agencies[2]: no agency 'probation'" in message
    assert "line 11, policy.force_keep[1]: no building_id 'B999'" in message


def test_overrides_are_validated_and_named_as_set(demo_folder: Path) -> None:
    sf = load_scenario(demo_folder / "scenario.yaml")
    changed = sf.with_overrides({"finance.discount_rate": "0.03", "policy.k_nearest": "4"})
    assert changed.scenario.finance.discount_rate == 0.03
    assert changed.scenario.policy.k_nearest == 4
    assert sf.scenario.finance.discount_rate == 0.035  # the original is unchanged
    with pytest.raises(ScenarioError, match=r"--set finance.discount_rate=2, finance"):
        sf.with_overrides({"finance.discount_rate": "2"})
    with pytest.raises(ScenarioError, match=r"policy\.sharin: unknown key"):
        sf.with_overrides({"policy.sharin": "siloed"})
    with pytest.raises(ScenarioError, match="is not a section"):
        sf.with_overrides({"name.first": "x"})


def test_the_key_follows_settings_and_file_bytes_not_paths_or_names(
    demo_folder: Path, tmp_path: Path
) -> None:
    sf = load_scenario(demo_folder / "scenario.yaml")
    assert sf.with_overrides({"name": "another"}).key() == sf.key()
    assert sf.with_overrides({"finance.discount_rate": "0.03"}).key() != sf.key()
    # The same files copied elsewhere give the same key; a changed byte another.
    copy = tmp_path / "copy"
    init_folder(copy, demo_seed=2026)
    assert load_scenario(copy / "scenario.yaml").key() == sf.key()
    zones = copy / "inputs" / "zones.csv"
    zones.write_text(zones.read_text().replace("DV0001", "DV9999"))
    assert load_scenario(copy / "scenario.yaml").key() != sf.key()


def test_buildings_from_messy_files_with_a_mapping(demo_folder: Path, tmp_path: Path) -> None:
    raw = pd.read_csv(demo_folder / "inputs" / "buildings.csv", dtype=str, keep_default_na=False)
    raw = raw.rename(columns={"building_id": "Property Ref", "running_cost": "Costs pa"})
    raw.iloc[:20].to_csv(tmp_path / "part1.csv", index=False)
    raw.iloc[20:].to_csv(tmp_path / "part2.csv", index=False, encoding="cp1252")
    write(
        tmp_path / "mapping.yaml",
        "kind: register\ncolumns:\n  building_id: Property Ref\n  running_cost: Costs pa\n",
    )
    inputs_dir = demo_folder / "inputs"
    text = (
        "inputs:\n  buildings: [part1.csv, part2.csv]\n"
        f"  services: {inputs_dir / 'services.csv'}\n  zones: {inputs_dir / 'zones.csv'}\n"
        "  mapping: mapping.yaml\n"
    )
    path = write(tmp_path / "s.yaml", text)
    inputs = load_inputs(load_scenario(path))
    original = load_inputs(load_scenario(demo_folder / "scenario.yaml"))
    columns = ["building_id", "name", "running_cost", "capacity_desks", "easting"]
    pd.testing.assert_frame_equal(
        inputs.register.buildings[columns], original.register.buildings[columns]
    )
    assert inputs.network is None
    write(tmp_path / "mapping.yaml", "kind: register\ncolumns:\n  title: Property Ref\n")
    with pytest.raises(ScenarioError, match=r"line 5, inputs\.mapping: .*title"):
        load_inputs(load_scenario(path))


def test_rejected_register_rows_stop_the_run_with_their_reasons(
    demo_folder: Path, tmp_path: Path
) -> None:
    raw = pd.read_csv(demo_folder / "inputs" / "buildings.csv", dtype=str, keep_default_na=False)
    raw.loc[3, "running_cost"] = "lots"
    raw.to_csv(tmp_path / "buildings.csv", index=False)
    inputs_dir = demo_folder / "inputs"
    text = (
        "inputs:\n  buildings: buildings.csv\n"
        f"  services: {inputs_dir / 'services.csv'}\n  zones: {inputs_dir / 'zones.csv'}\n"
    )
    path = write(tmp_path / "s.yaml", text)
    with pytest.raises(InputDataError) as info:
        load_inputs(load_scenario(path))
    message = str(info.value)
    assert "1 row(s) of the buildings register are rejected" in message
    assert "row 5" in message
    assert "'lots'" in message


def test_network_tables_report_bad_cells(tmp_path: Path) -> None:
    write(tmp_path / "nodes.csv", "node_id,x,y\n1,0,0\n2,100,x\n")
    write(tmp_path / "edges.csv", "u,v,length_m,highway\n1,2,100,primary\n1,3,50,primary\n")
    with pytest.raises(InputDataError) as info:
        read_network(tmp_path / "nodes.csv", tmp_path / "edges.csv")
    assert "nodes.csv, row 3, column 'y': expected float number (value 'x')" in str(info.value)
    write(tmp_path / "nodes.csv", "node_id,x,y\n1,0,0\n2,100,0\n")
    with pytest.raises(InputDataError, match=r"edges.csv, row 3, column 'v': no such node"):
        read_network(tmp_path / "nodes.csv", tmp_path / "edges.csv")
