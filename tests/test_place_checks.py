"""Points checked against the place: far from the road network, outside the zones, and
zones with no people, in `estate access`, `estate run` and `estate validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from estate.register import Register
from geodata.placecheck import SNAP_ERROR_M, check_place
from tests import rutland
from tests.tiny_places import BASE, write_line_road, write_line_zones, write_tiny_register


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), terminal_width=200)
    return result.exit_code, result.output


def _line_place(folder: Path, far: dict[str, tuple[float, float]]) -> dict[str, Path]:
    """The tiny line place (road from x=-2 to 8 km along y=0) plus buildings at ``far``
    (id -> x, y in km from BASE), each holding a library."""
    register = write_tiny_register(folder / "register")
    buildings = pd.read_csv(register / "buildings.csv", dtype=str)
    services = pd.read_csv(register / "services.csv", dtype=str)
    for n, (building, (x, y)) in enumerate(far.items()):
        buildings.loc[len(buildings)] = [
            building,
            "council",
            f"Far {building}",
            str(BASE[0] + 1000 * x),
            str(BASE[1] + 1000 * y),
            "10",
            "1000",
            "no",
        ]
        services.loc[len(services)] = [f"f{n}", "council", building, "1", "library", "yes"]
    buildings.to_csv(register / "buildings.csv", index=False)
    services.to_csv(register / "services.csv", index=False)
    return {
        "register": register,
        "network": write_line_road(folder / "line.osm"),
        "zones": write_line_zones(folder / "zones.csv"),
    }


def _access(place: dict[str, Path], out: Path, *extra: str) -> tuple[int, str]:
    return _invoke(
        "access",
        "--register",
        str(place["register"]),
        "--zones",
        str(place["zones"]),
        "--network",
        str(place["network"]),
        "-o",
        str(out),
        *extra,
    )


def test_access_refuses_a_building_10_km_off_the_network_unless_allowed(tmp_path: Path) -> None:
    """The road ends at x = 8 km: D at 18 km is 10 km from its last node."""
    place = _line_place(tmp_path, {"D": (18.0, 0.0)})
    code, output = _access(place, tmp_path / "refused")
    assert code == 1
    assert "building D: 10.00 km from the nearest node of the drive network" in output
    assert "--allow-far-from-network" in output
    assert not (tmp_path / "refused" / "access.json").exists()

    code, output = _access(place, tmp_path / "allowed", "--allow-far-from-network")
    assert code == 0, output
    assert "building D: 10.00 km (drive) (allowed)" in output
    doc = json.loads((tmp_path / "allowed" / "access.json").read_text())
    far = doc["place_checks"]["far_from_network"]
    assert far["allowed"] is True and far["error_beyond_m"] == SNAP_ERROR_M
    ((point),) = far["points"]
    assert (point["kind"], point["id"], point["mode"]) == ("building", "D", "drive")
    assert point["distance_m"] == pytest.approx(10_000, abs=1)
    assert point["file"].endswith("buildings.csv") and point["row"] == 5
    outside = doc["place_checks"]["outside_zones"]
    assert outside["margin_m"] == pytest.approx(4_000, abs=1)  # the zones are 4 km apart
    assert [(b["id"], round(b["distance_m"])) for b in outside["buildings"]] == [("D", 10_000)]


def test_points_listed_from_1_km_by_car_and_500_m_on_foot(tmp_path: Path) -> None:
    """E is 700 m from the road: listed on foot, not by car; F 1.2 km: both."""
    place = _line_place(tmp_path, {"E": (3.0, 0.7), "F": (5.0, 1.2)})
    found = {}
    for mode in ("drive", "walk"):
        code, output = _access(place, tmp_path / mode, "--mode", mode)
        assert code == 0, output
        doc = json.loads((tmp_path / mode / "access.json").read_text())
        found[mode] = [p["id"] for p in doc["place_checks"]["far_from_network"]["points"]]
        assert f"far from the road network: {len(found[mode])} point(s)" in output
    assert found == {"drive": ["F"], "walk": ["F", "E"]}  # furthest first


def test_zones_with_no_people_stop_access_and_one_empty_zone_is_said(tmp_path: Path) -> None:
    place = _line_place(tmp_path, {})
    zones = pd.read_csv(place["zones"], dtype=str)
    zones.assign(population="0").to_csv(tmp_path / "empty.csv", index=False)
    zones.assign(population=["0", "300", "600"]).to_csv(tmp_path / "one.csv", index=False)
    code, output = _access({**place, "zones": tmp_path / "empty.csv"}, tmp_path / "a")
    assert code == 1
    assert "no people: every zone's population (times its weight) is 0" in output
    code, output = _access({**place, "zones": tmp_path / "one.csv"}, tmp_path / "b")
    assert code == 0, output
    doc = json.loads((tmp_path / "b" / "access.json").read_text())
    assert doc["place_checks"]["zones_without_people"] == ["z1"]
    assert "1 zone(s) with no people" in output


@pytest.fixture(scope="module")
def far_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo place with one more building 10 km east of its road network."""
    from scenarios.template import init_folder

    folder = tmp_path_factory.mktemp("far-demo")
    init_folder(folder, demo_seed=2026)
    nodes = pd.read_csv(folder / "inputs" / "network_nodes.csv")
    buildings = pd.read_csv(folder / "inputs" / "buildings.csv", dtype=str, keep_default_na=False)
    far = buildings.iloc[[0]].copy()
    far["building_id"], far["name"] = "B999", "Far Depot"
    east = nodes.loc[nodes["x"].idxmax()]  # its nearest node: the network's eastmost
    far["easting"], far["northing"] = str(float(east["x"]) + 10_000), str(float(east["y"]))
    far["lat"], far["lon"] = "", ""
    pd.concat([buildings, far]).to_csv(folder / "inputs" / "buildings.csv", index=False)
    return folder


def test_run_stops_on_a_building_far_off_the_network_unless_the_scenario_allows(
    far_demo: Path, tmp_path: Path
) -> None:
    scenario = str(far_demo / "scenario.yaml")
    code, output = _invoke(
        "run", scenario, "--out", str(tmp_path / "refused"), "--no-price-of-keeping"
    )
    assert code == 1
    assert "buildings.csv, row 46: building B999: 10.00 km from the nearest node" in output
    assert "inputs.allow_far_from_network: true" in output
    assert not (tmp_path / "refused").exists()

    out = tmp_path / "allowed"
    allow = ["--set", "inputs.allow_far_from_network=true", "--set", "policy.k_nearest=5"]
    code, output = _invoke(
        "run", scenario, "--out", str(out), "--no-sharing-value", "--no-price-of-keeping", *allow
    )
    assert code == 0, output
    assert "building B999: 10.00 km (drive) (allowed)" in output
    checks = json.loads((out / "summary.json").read_text())["place_checks"]
    # The demo's standards name walking too: points are listed by each mode.
    points = checks["far_from_network"]["points"]
    assert {(p["id"], p["mode"]) for p in points} >= {("B999", "drive"), ("B999", "walk")}
    (point,) = [p for p in points if p["mode"] == "drive"]
    assert (point["id"], point["row"], point["kind"]) == ("B999", 46, "building")
    assert point["distance_m"] == pytest.approx(10_000, abs=1)
    assert [b["id"] for b in checks["outside_zones"]["buildings"]] == ["B999"]
    # The run folder's scenario keeps the permission, so it runs (and validates) again.
    assert "allow_far_from_network: true" in (out / "scenario.yaml").read_text()
    code, output = _invoke(
        "validate",
        str(out / "scenario.yaml"),
        "--rejected",
        str(tmp_path / "r.csv"),
        "--set-aside",
        str(tmp_path / "s.csv"),
    )
    assert code == 0, output
    assert "building B999: 10.00 km (drive) (allowed)" in output


@pytest.mark.shared_data
def test_real_rutland_register_is_near_its_roads_and_a_site_10_km_out_is_named() -> None:
    if not rutland.available():
        pytest.skip(f"real data not found at {rutland.DATA}")
    from geodata.osm import read_network
    from geodata.zones import read_zones

    buildings, services = rutland.register_frames()
    register = Register.from_frames(buildings, services)
    zones = read_zones(rutland.ZONES).zones
    network = read_network(rutland.PBF)
    checks = check_place(register.buildings, zones, network, ["drive", "walk"])
    assert checks.far_from_network == () and checks.outside_zones == ()
    assert not checks.errors
    # Oakham library moved 10 km east of the extract's eastern edge
    moved = register.buildings.copy()
    moved.loc[0, "easting"] = float(network.nodes["x"].max()) + 10_000
    checks = check_place(moved, zones, network, ["drive"])
    ((point),) = checks.far_from_network
    assert point.id == moved.loc[0, "building_id"] and point.distance_m > SNAP_ERROR_M
    assert len(checks.errors) == 1 and "(more than 5 km from it)" in str(checks.errors[0])
    assert [p.id for p in checks.outside_zones] == [point.id]
