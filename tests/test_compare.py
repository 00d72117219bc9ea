"""`estate compare`: figures side by side and the buildings whose decision differs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from scenarios.scenario.template import init_folder
from scenarios.sweeps.compare import NO_DECISION, compare_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A shared run and its siloed counterpart (the demo place, 5 candidates a service)."""
    folder = tmp_path_factory.mktemp("compare")
    init_folder(folder / "scenario", demo_seed=2026)
    out = folder / "shared"
    args = ["run", str(folder / "scenario" / "scenario.yaml"), "--out", str(out), "--quiet"]
    result = CliRunner().invoke(
        main, [*args, "--set", "policy.k_nearest=5", "--no-price-of-keeping"]
    )
    assert result.exit_code == 0, result.output
    return out, out / "siloed"


def test_figures_match_each_summary(runs: tuple[Path, Path], tmp_path: Path) -> None:
    shared, siloed = runs
    result = CliRunner().invoke(
        main, ["compare", str(shared), str(siloed), "--out", str(tmp_path)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "Buildings whose decision differs" in result.output
    figures = pd.read_csv(tmp_path / "comparison.csv")
    by_name = figures.set_index("figure")
    for folder, label in ((shared, "shared"), (siloed, "siloed")):
        doc = json.loads((folder / "summary.json").read_text())
        assert float(by_name.loc["NPV saving", label]) == pytest.approx(doc["npv_saving"])
        assert float(by_name.loc["One-off costs", label]) == pytest.approx(doc["one_off_costs"])
        receipts = float(by_name.loc["Capital receipts", label])
        assert receipts == pytest.approx(doc["capital_receipts"])
        library = next(a for a in doc["access"] if a["service_type"] == "library")
        share = float(by_name.loc["Access library: share after", label])
        assert share == pytest.approx(library["share_after"])
    # The one setting that differs is shown; the ones that agree are not.
    assert list(by_name.loc["setting policy.sharing", ["shared", "siloed"]]) == [
        "shared",
        "siloed",
    ]
    assert "setting finance.discount_rate" not in by_name.index
    html = (tmp_path / "comparison.html").read_text()
    assert "<h2>Buildings whose decision differs" in html
    assert "£" in html
    assert "SYNTHETIC DATA" in html
    assert "SYNTHETIC DATA" in result.output


def test_decisions_that_differ_are_exactly_those(runs: tuple[Path, Path]) -> None:
    shared, siloed = runs
    comparison = compare_runs([shared, siloed])
    a = pd.read_csv(shared / "buildings.csv", dtype=str).set_index("building_id")["decision"]
    b = pd.read_csv(siloed / "buildings.csv", dtype=str).set_index("building_id")["decision"]
    expected = sorted(a.index[a != b.reindex(a.index)])
    assert expected, "the two policies should decide some building differently"
    d = comparison.decisions
    assert sorted(d["building_id"]) == expected
    for _, row in d.iterrows():
        assert row["shared"] == a[row["building_id"]]
        assert row["siloed"] == b[row["building_id"]]


def test_a_run_without_a_decision_is_shown_as_such(runs: tuple[Path, Path], tmp_path: Path) -> None:
    shared, siloed = runs
    failed = tmp_path / "failed"
    failed.mkdir()
    doc = json.loads((shared / "summary.json").read_text())
    for key in ("npv_saving", "capital_receipts", "one_off_costs", "access", "buildings"):
        doc.pop(key)
    doc["status"] = "infeasible"
    (failed / "summary.json").write_text(json.dumps(doc))
    comparison = compare_runs([shared, failed])
    figures = comparison.figures.set_index("figure")
    assert figures.loc["status", "failed"] == "infeasible"
    assert figures.loc["NPV saving", "failed"] is None
    assert comparison.decisions.empty  # one decision alone differs from nothing
    three = compare_runs([shared, siloed, failed])
    assert len(three.decisions) > 0
    assert (three.decisions["failed"] == NO_DECISION).all()
    result = CliRunner().invoke(
        main, ["compare", str(shared), str(failed), "--out", str(tmp_path / "c"), "--json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["runs"] == {"shared": str(shared), "failed": str(failed)}


def test_same_folder_names_get_distinct_labels(runs: tuple[Path, Path], tmp_path: Path) -> None:
    shared, _ = runs
    other = tmp_path / "x" / shared.name
    shutil.copytree(shared, other, ignore=shutil.ignore_patterns("siloed"))
    comparison = compare_runs([shared, other])
    assert len(set(comparison.runs)) == 2
    assert comparison.decisions.empty


def test_a_folder_that_is_not_a_run_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compare", str(tmp_path), "--out", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert "not a run folder: no summary.json" in result.output
