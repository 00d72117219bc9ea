"""A sweep resumed after an upgrade computes its points again instead of reusing
points that another version of the package or the model solved, and says so."""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from cli import main
from scenarios.display import print_sweep
from scenarios.scenario.file import load_scenario
from scenarios.sweeps.sweep import POINT_JSON, parse_axis, point_versions, run_sweep
from tests.tiny_places import write_line_scenario, write_tiny_register

AXIS = "finance.discount_rate=0.03,0.04"


@pytest.fixture
def place(tmp_path: Path) -> Path:
    folder = tmp_path / "place"
    write_tiny_register(folder / "register")
    return write_line_scenario(folder, ("library",))


def sweep(place: Path, out: Path) -> dict[str, object]:
    args = ["sweep", str(place), "--set", AXIS, "--out", str(out), "--serial", "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads((out / "sweep.json").read_text())
    return doc


def upgrade(monkeypatch: pytest.MonkeyPatch, package: str, version: str) -> None:
    real = metadata.version
    monkeypatch.setattr(
        metadata, "version", lambda name: version if name == package else real(name)
    )


def test_a_sweep_resumed_after_an_upgrade_computes_its_points_again(
    place: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sweep"
    first = sweep(place, out)
    assert (first["computed"], first["cached"]) == (2, 0)
    assert sweep(place, out)["cached"] == 2  # the same versions: nothing computed again
    old_points = {p["point"] for p in first["points"]}  # type: ignore[attr-defined]
    version_before = point_versions()["public-estate"]

    upgrade(monkeypatch, "public-estate", "99.0")
    again = sweep(place, out)
    assert (again["computed"], again["cached"]) == (2, 0)
    new_points = {p["point"] for p in again["points"]}  # type: ignore[attr-defined]
    assert not new_points & old_points
    recomputed: list[dict[str, object]] = again["recomputed_after_upgrade"]  # type: ignore[assignment]
    assert {r["earlier_folder"] for r in recomputed} == {f"points/{p}" for p in old_points}
    earlier = {r["earlier_versions"]["public-estate"] for r in recomputed}  # type: ignore[index]
    assert earlier == {version_before}
    assert again["versions"]["public-estate"] == "99.0"  # type: ignore[index]
    for point in new_points:
        meta = json.loads((out / "points" / point / POINT_JSON).read_text())
        assert meta["versions"]["public-estate"] == "99.0"


def test_a_new_model_version_alone_computes_the_points_again_and_the_summary_says_so(
    place: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sweep"
    sweep(place, out)
    monkeypatch.setattr("scenarios.outputs.writer.MODEL_VERSION", "next")
    base = load_scenario(place)
    result = run_sweep(base, [parse_axis(AXIS)], out, serial=True, presentation=False)
    assert len(result.computed) == 2 and not result.cached
    assert {e.versions["model"] for e in result.recomputed.values()} != {"next"}
    console = Console(record=True, width=200)
    print_sweep(result, console)
    text = console.export_text()
    assert "2 point(s) solved before by another version" in text
    assert "model next" in text


def test_points_of_a_sweep_from_before_versioned_keys_are_named_as_earlier(
    place: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    doc = sweep(place, out)
    # A point as sweeps wrote them before: named by the scenario key alone, no point.json.
    base = load_scenario(place)
    point = doc["points"][0]  # type: ignore[index]
    scenario = base.with_overrides(point["settings"])
    old_name = scenario.key()[:16]
    shutil.move(out / "points" / point["point"], out / "points" / old_name)
    (out / "points" / old_name / POINT_JSON).unlink()
    again = sweep(place, out)
    assert (again["computed"], again["cached"]) == (1, 1)
    (entry,) = again["recomputed_after_upgrade"]  # type: ignore[misc]
    assert entry["earlier_folder"] == f"points/{old_name}"
    assert entry["earlier_versions"]["public-estate"] == point_versions()["public-estate"]
