"""`estate plan` keeps its phasing settings, so its run folder reruns to the same plan;
and the backlog avoided is the backlog itself, with the optimism bias on it as its own
line everywhere the figure appears."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from scenarios.scenario.file import load_scenario
from tests.tiny_places import write_line_scenario, write_tiny_register

BACKLOG = {"A": 10_000.0, "B": 0.0, "C": 4_000.0}
OPTIMISM_BIAS = 0.2  # the default


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """The tiny line place (A and C are disposed of, B hosts), A and C with a backlog."""
    folder = tmp_path / "place"
    write_tiny_register(folder / "register")
    buildings = pd.read_csv(folder / "register" / "buildings.csv")
    buildings["backlog_cost"] = buildings["building_id"].map(BACKLOG)
    buildings.to_csv(folder / "register" / "buildings.csv", index=False)
    return write_line_scenario(folder)


def estate(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), terminal_width=120)
    assert result.exit_code == 0, result.output
    return str(result.output)


# --- phasing saved -----------------------------------------------------------------------


def test_a_budgeted_plan_reruns_from_its_folder_to_the_same_budgeted_plan(
    place: Path, tmp_path: Path
) -> None:
    first, again, free = tmp_path / "first", tmp_path / "again", tmp_path / "free"
    # Two moves of £4,500 each; £5,000 a year pays for one move a year.
    estate(
        "plan", str(place), "--out", str(first), "--quiet", "--set", "phasing.annual_budget=5000"
    )
    saved = load_scenario(first / "scenario.yaml").scenario.phasing
    assert saved.annual_budget == 5000
    doc = json.loads((first / "summary.json").read_text())
    assert doc["settings"]["phasing"]["annual_budget"] == 5000
    estate("plan", str(first / "scenario.yaml"), "--out", str(again), "--quiet")
    assert (again / "plan.csv").read_bytes() == (first / "plan.csv").read_bytes()
    assert (again / "plan.json").read_bytes() == (first / "plan.json").read_bytes()
    # ... and the budget matters: without it both moves happen in year 1.
    estate("plan", str(place), "--out", str(free), "--quiet")
    years = pd.read_csv(first / "plan.csv").query("action == 'move'")["year"].tolist()
    unbudgeted = pd.read_csv(free / "plan.csv").query("action == 'move'")["year"].tolist()
    assert sorted(years) == [1, 2] and unbudgeted == [1, 1]


def test_a_run_folder_keeps_the_phasing_of_its_scenario(place: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    estate(
        "run", str(place), "--out", str(out), "--quiet", "--no-sharing-value",
        "--no-price-of-keeping",
        "--set", "phasing={annual_budget: [5000, 2e4], carry_forward: true}",
    )  # fmt: skip
    phasing = load_scenario(out / "scenario.yaml").scenario.phasing
    assert phasing.annual_budget == [5000, 20000] and phasing.carry_forward


# --- the backlog avoided, without optimism bias ------------------------------------------


def test_the_backlog_avoided_is_the_backlog_and_the_bias_is_its_own_line(
    place: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    terminal = estate(
        "run", str(place), "--out", str(out), "--no-sharing-value", "--no-price-of-keeping"
    )
    buildings = pd.read_csv(out / "buildings.csv")
    disposed = buildings.loc[buildings["decision"] == "dispose"]
    assert set(disposed["building_id"]) == {"A", "C"}
    # Worked by hand from the register: the backlog of the buildings disposed of.
    avoided = {"council": BACKLOG["A"], "nhs": BACKLOG["C"]}
    total = sum(avoided.values())

    doc = json.loads((out / "summary.json").read_text())
    assert doc["backlog_avoided"] == pytest.approx(total)
    assert doc["backlog_optimism_bias"] == pytest.approx(OPTIMISM_BIAS * total)
    agencies = pd.read_csv(out / "agencies.csv").set_index("agency")
    for agency, amount in avoided.items():
        assert agencies.loc[agency, "backlog_avoided"] == pytest.approx(amount)
        assert agencies.loc[agency, "backlog_optimism_bias"] == pytest.approx(
            OPTIMISM_BIAS * amount
        )
    # The NPV still counts the backlog with its bias: the cash flows are unchanged.
    cash = pd.read_csv(out / "cash_flows.csv")
    backlog = cash.loc[cash["category"] == "backlog"]
    assert backlog["saving_gbp"].sum() == pytest.approx((1 + OPTIMISM_BIAS) * total)

    assert re.search(r"Backlog maintenance avoided\s*│\s*£14,000", terminal), terminal
    assert re.search(r"Optimism bias on that backlog \(in the NPV\)\s*│\s*£2,800", terminal)
    report = (out / "report.html").read_text()
    assert "Backlog avoided<b class='n'>£14,000</b>" in report
    assert "Optimism bias on the backlog avoided<b class='n'>£2,800</b>" in report
    workbook = openpyxl.load_workbook(out / "report.xlsx", read_only=True, data_only=True)
    try:
        rows = {r[0]: r[1] for r in workbook["summary"].iter_rows(values_only=True) if r}
    finally:
        workbook.close()
    assert rows["Backlog avoided"] == pytest.approx(total)
    assert rows["Optimism bias on the backlog avoided"] == pytest.approx(OPTIMISM_BIAS * total)
