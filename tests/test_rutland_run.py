"""The real Rutland register, run as a new user would: a scenario from the template.

Before space types and default standards, this run closed all four libraries, three of
the four GP practices and both police stations and moved nearly everything into the
council offices at Catmose: Uppingham lost its surgery and its library while the report
said 100% access.  Now a GP practice needs clinical space, and a public-facing type the
scenario names no standard for keeps the default one: nobody further from it than today.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from estate.examples import rutland
from estate.space_types import BUILDING_SPACE
from scenarios.scenario.template import init_folder

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PBF = DATA / "osm" / "rutland-latest.osm.pbf"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not PBF.is_file(), reason=f"shared data {PBF} is absent"),
]


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rutland-register")
    assert rutland.main(["--data", str(DATA), "--out", str(out)]) == 0
    return out


def scenario(register: Path, folder: Path, access: str = "") -> Path:
    """The template scenario of ``estate init``, pointed at the register and the roads."""
    init_folder(folder)
    path = folder / "scenario.yaml"
    text = path.read_text(encoding="utf-8")
    for name in ("buildings", "services", "zones"):
        text = text.replace(f"{name}: inputs/{name}.csv", f"{name}: {register / name}.csv")
    text = text.replace("  network: null", f"  network: {PBF}")
    if access:
        text = text.replace("access: {}", access)
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, out: Path) -> dict[str, object]:
    args = ["run", str(path), "--out", str(out), "--quiet", "--no-sharing-value"]
    result = CliRunner().invoke(main, [*args, "--no-price-of-keeping"])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads((out / "summary.json").read_text())
    return doc


def where_after(out: Path) -> pd.DataFrame:
    """Each service with the building it is in after the change, and that building's type."""
    services = pd.read_csv(out / "inputs" / "services.csv", dtype=str, keep_default_na=False)
    moves = pd.read_csv(out / "moves.csv", dtype=str, keep_default_na=False)
    buildings = pd.read_csv(out / "buildings.csv", dtype=str, keep_default_na=False)
    moved = dict(zip(moves["service_id"], moves["to_building"], strict=True))
    fitted = dict(zip(moves["service_id"], moves["fitted_out_from"], strict=True))
    out_frame = services.assign(
        after=[
            moved.get(s, b)
            for s, b in zip(services["service_id"], services["building_id"], strict=True)
        ],
        fitted_out=[fitted.get(s, "") for s in services["service_id"]],
    )
    kind = dict(zip(buildings["building_id"], buildings["building_type"], strict=True))
    return out_frame.assign(after_type=out_frame["after"].map(kind))


def has_clinical_space(row: pd.Series) -> bool:
    """The building a GP practice is in provides clinical space, or had it fitted out."""
    provides = BUILDING_SPACE[row["after_type"]].provides if row["after_type"] else {}
    return "clinical" in provides or bool(row["fitted_out"])


def test_default_scenario_keeps_every_community_and_needs_clinical_space(
    register: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    doc = run(scenario(register, tmp_path / "scenario"), out)
    assert doc["status"] == "optimal"
    services = pd.read_csv(register / "services.csv", dtype=str, keep_default_na=False)
    public = set(services.loc[services["public_facing"] == "True", "service_type"])
    assert {"gp", "library", "police_front_counter", "council_front_office"} <= public
    # The access tables list every public-facing type, each with the default standard.
    access = pd.read_csv(out / "access.csv")
    assert set(access["service_type"]) == public
    assert {a["service_type"] for a in doc["access"]} == public  # type: ignore[union-attr]
    assert doc["access_standards"]["defaulted"] == sorted(public)  # type: ignore[index]
    assert any("no access standard in the scenario" in n for n in doc["notes"])  # type: ignore[union-attr]
    # No zone further from its nearest GP or library than today (the default: 0 minutes).
    for k in ("gp", "library"):
        rows = access.loc[(access["service_type"] == k) & (access["population"] > 0)]
        assert (rows["max_increase_minutes"] == 0).all()
        assert (rows["change_minutes"] <= 1e-3).all(), rows.loc[rows["change_minutes"] > 1e-3]
    # No GP practice in a building without clinical space.
    gps = where_after(out).query("service_type == 'gp'")
    assert len(gps) == 4
    assert gps.apply(has_clinical_space, axis=1).all(), gps
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "The scenario names no standard for" in report


BOARD = """access:
  gp: {drive: 15, walk: 20, max_loss: 0.0, max_increase_minutes: 5}
  library: {drive: 15, walk: 20, max_loss: 0.0, max_increase_minutes: 5}
  council_front_office: {drive: 20, max_loss: 0.0}
  police_front_counter: {drive: 20, min_share: 0.9}
  museum: none
  hospital: none"""


def test_a_boards_standards_keep_uppingham_its_surgery_and_library(
    register: Path, tmp_path: Path
) -> None:
    """Standards a Board might set (15 minutes by car or 20 on foot, nobody losing it,
    no community more than 5 minutes further): the plan saves money, and Uppingham, a
    town of about 4,700 some 10 km from Oakham, keeps its GP practice and its library
    where they are; any practice that moves goes to clinical space, fitted out if need be."""
    out = tmp_path / "run"
    doc = run(scenario(register, tmp_path / "scenario", BOARD), out)
    assert doc["status"] == "optimal"
    assert float(doc["npv_saving"]) > 0  # type: ignore[arg-type]
    after = where_after(out).set_index("service_id")
    assert after.loc["C82077:gp", "after"] == "C82077"  # The Uppingham Surgery
    assert after.loc["RCC-uppingham-library:library", "after"] == "RCC-uppingham-library"
    gps = after.loc[after["service_type"] == "gp"]
    assert gps.apply(has_clinical_space, axis=1).all(), gps
    assert doc["access_standards"]["none"] == ["hospital", "museum"]  # type: ignore[index]
    access = pd.read_csv(out / "access.csv")
    for k in ("gp", "library"):
        rows = access.loc[(access["service_type"] == k) & (access["mode"] == "drive")]
        assert (rows.loc[rows["population"] > 0, "change_minutes"] <= 5 + 1e-3).all()
