"""Hostile and clumsy scenario files: alias bombs, tags, deep nesting, numbers with
exponents and out-of-range settings are each one clear error (exit code 2, with the
line) before anything is computed, never a traceback, a crash or a runaway."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from estate import safeyaml
from scenarios.scenario.file import ScenarioError, load_scenario
from tests.tiny_places import (
    LINE_SCENARIO_HEAD,
    LINE_STANDARDS,
    write_line_road,
    write_line_zones,
    write_tiny_register,
)

HEAD = LINE_SCENARIO_HEAD
ACCESS = f"access:\n  library: {LINE_STANDARDS['library']}\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_tiny_register(tmp_path / "register")
    write_line_road(tmp_path / "road.osm")
    write_line_zones(tmp_path / "zones.csv")
    return tmp_path


def scenario(folder: Path, text: str) -> Path:
    path = folder / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def bomb(levels: int, width: int = 9) -> str:
    """The billion laughs: each level an anchored list of ``width`` aliases of the one
    before, so the last stands for ``width ** levels`` values."""
    lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def refused(folder: Path, text: str, *sets: str) -> str:
    """Run the scenario: it must exit 2 at once with a message and no traceback."""
    path = scenario(folder, text)
    args = ["run", str(path), "--out", str(folder / "out"), "--quiet", "--no-sharing-value"]
    for item in sets:
        args += ["--set", item]
    start = time.perf_counter()
    result = run_cli(*args)
    assert time.perf_counter() - start < 10
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not (folder / "out").exists()
    return str(result.output)


# --- YAML --------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [6, 9])  # 531,441 and 387,420,489 values once expanded
def test_an_alias_bomb_is_refused_at_once_with_its_line(folder: Path, levels: int) -> None:
    text = HEAD + ACCESS + "notice: [" + ", ".join([f"*l{levels - 1}"] * 9) + "]\n"
    output = refused(folder, bomb(levels) + text)
    # l5 (line 6) is the first list with more: 1 + 9 * 66,430 values.
    assert "line 6, YAML refused: more than 100,000 values once its aliases (*name) are" in output


def test_an_alias_bomb_in_a_set_value_is_refused(folder: Path) -> None:
    value = "{" + bomb(7).strip().replace("\n", ", ") + "}"
    output = refused(folder, HEAD + ACCESS, f"notice={value}")
    assert "--set notice, notice: YAML: more than 100,000 values" in output


def test_anchors_and_merge_keys_within_the_limit_are_read_as_written(folder: Path) -> None:
    text = (
        HEAD
        + "access:\n"
        + "  library: &standard {drive: 10, walk: 15, max_loss: 0.0}\n"
        + "  gp: {<<: *standard, drive: 20}\n"
    )
    access = load_scenario(scenario(folder, text)).scenario.access
    gp, library = access["gp"], access["library"]
    assert gp is not None and library is not None
    assert (gp.drive, gp.walk, gp.max_loss) == (20, 15, 0)
    assert (library.drive, library.walk) == (10, 15)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (HEAD + "notice: !!python/object/apply:os.system [echo hi]\n", 7, "!!python/object/apply"),
        (HEAD + "name: !!python/object:os.system x\n", 7, "!!python/object:os.system"),
        (HEAD + "notice: !!binary aGk=\n", 7, "the tag !!binary is not allowed"),
        (HEAD + "notice: !!set {a, b}\n", 7, "the tag !!set is not allowed"),
        (HEAD + "notice: !custom x\n", 7, "the tag !custom is not allowed"),
        (HEAD + "notice: &me [1, *me]\n", 7, "an alias refers to the value that holds it"),
        (HEAD + "notice: " + "[" * 80 + "]" * 80 + "\n", 7, "nested more than 64 levels"),
        (HEAD + "notice: " + "[" * 5000 + "]" * 5000 + "\n", None, "nested more than 64"),
        (HEAD + "notice: " + "9" * 5000 + "\n", None, "more digits than Python reads"),
        (HEAD + "? [a, b]\n: 1\n", 7, "YAML syntax: found unhashable key"),
        (HEAD + "finance: {base_date: 2026-02-30}\n", None, "day is out of range"),
    ],
)
def test_any_yaml_problem_is_exit_2_with_its_line(
    folder: Path, text: str, line: int | None, message: str
) -> None:
    output = refused(folder, text + ACCESS)
    assert message in output, output
    if line is not None:
        assert f"line {line}, YAML" in output, output


def test_a_scenario_file_of_megabytes_is_refused(folder: Path) -> None:
    output = refused(folder, HEAD + ACCESS + "notice: " + "x" * 1_200_000 + "\n")
    assert "longer than 1,000,000 characters" in output


def test_the_safe_loader_leaves_yaml_itself_as_it_was() -> None:
    assert yaml.safe_load("a: 1e9") == {"a": "1e9"}  # YAML 1.1, untouched
    assert safeyaml.load("a: 1e9") == {"a": 1e9}


# --- numbers with exponents --------------------------------------------------------------


def test_numbers_with_exponents_are_numbers_in_files_and_in_set(folder: Path) -> None:
    text = (
        HEAD
        + ACCESS
        + "finance: {horizon_years: 2e1, move_cost_per_desk: 1.5E3, fit_out_per_desk: 3e+3}\n"
        + "phasing: {annual_budget: [2.5e5, 1e5]}\n"
    )
    loaded = load_scenario(scenario(folder, text), {"policy.k_nearest": "2e0"})
    finance = loaded.scenario.finance
    assert (finance.horizon_years, finance.move_cost_per_desk, finance.fit_out_per_desk) == (
        20,
        1500.0,
        3000.0,
    )
    assert loaded.scenario.phasing.annual_budget == [250_000.0, 100_000.0]
    assert loaded.scenario.policy.k_nearest == 2
    with pytest.raises(ScenarioError, match=r"policy\.k_nearest"):
        load_scenario(scenario(folder, text), {"policy.k_nearest": "2.5e0"})


# --- out-of-range settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("solver.time_limit_seconds=1e10", "less than or equal to 604800"),
        ("solver.time_limit_seconds=.inf", "finite number"),
        ("solver.mip_rel_gap=.nan", "finite number"),
        ("solver.threads=100000", "less than or equal to 1024"),
        ("solver.random_seed=4294967296", "less than or equal to 2147483647"),
        ("solver.watchdog_grace_seconds=1e9", "less than or equal to 86400"),
        ("finance.discount_rate=1e400", "finite number"),
        ("finance.move_cost_per_desk=1e300", "less than or equal to 10000000"),
        ("finance.carbon_value_per_t=-1", "greater than or equal to 0"),
        ("finance.base_date=9999-01-01", "less than or equal to 2150-12-31"),
        ("finance.base_date=0001-01-01", "greater than or equal to 1950-01-01"),
        ("policy.capital_budget=1e13", "less than or equal to 1000000000000"),
        ("policy.agency_budgets={council: 1e13}", "policy.agency_budgets.council"),
        ("policy.k_nearest=" + "9" * 300, "less than or equal to 10000000"),
        ("policy.keep_at_most=1e30", "policy.keep_at_most"),
        ("policy.move_radius_km=1e6", "less than or equal to 2000"),
        ("access.library.max_minutes=1e9", "less than or equal to 1440"),
        ("phasing.annual_budget=[1e5, 1e13]", "between 0 and 1e+12"),
        ("phasing.annual_budget=[" + ",".join(["1"] * 76) + "]", "give 1 to 75 amounts"),
    ],
)
def test_an_out_of_range_setting_is_exit_2_naming_it(
    folder: Path, setting: str, message: str
) -> None:
    output = refused(folder, HEAD + ACCESS, setting)
    key = setting.split("=")[0]
    assert f"--set {setting}" in output and key in output, output
    assert message in output, output


def test_out_of_range_settings_in_the_file_name_their_line(folder: Path) -> None:
    output = refused(folder, HEAD + ACCESS + "solver:\n  time_limit_seconds: 1e10\n")
    assert "line 10, solver.time_limit_seconds: Input should be less than or equal" in output


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--time-limit", "1e10"],
        ["demo", "--time-limit", "nan"],
        ["demo", "--gap", "nan"],
        ["demo", "--seed", "-1"],
        ["share", "SCENARIO", "--samples", "10000000000"],
        ["share", "SCENARIO", "--seed", "-1"],
        ["share", "SCENARIO", "--gap", "inf"],
        ["sweep", "SCENARIO", "--set", "finance.discount_rate=0.03", "--workers", "100000"],
    ],
)
def test_out_of_range_options_are_usage_errors(folder: Path, args: list[str]) -> None:
    path = scenario(folder, HEAD + ACCESS)
    args = [str(path) if a == "SCENARIO" else a for a in args]
    result = run_cli(*args, "--out", str(folder / "out"))
    assert result.exit_code == 2, result.output
    assert "Invalid value for" in result.output and "Traceback" not in result.output
    assert not (folder / "out").exists()


def test_a_mapping_file_with_an_alias_bomb_is_refused(folder: Path) -> None:
    mapping = folder / "mapping.yaml"
    mapping.write_text(bomb(9) + "columns: {building_id: [*l8]}\n", encoding="utf-8")
    result = run_cli(
        "validate", str(folder / "register" / "buildings.csv"), "--mapping", str(mapping),
        "--rejected", str(folder / "rejected.csv"),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "more than 100,000 values" in result.output
