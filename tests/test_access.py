"""`estate access`: coverage worked by hand on a road along a line, the cache through the
CLI, estimates labelled everywhere, and the real Rutland example."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from geodata.access import coverage, hosts_by_type, nearest
from geodata.inputs import load_register
from geodata.network import RoadNetwork
from geodata.traveltime import network_travel_table, network_travel_times
from geodata.zones import points, read_zones
from tests import rutland
from tests.browser import Chromium, find_chromium
from tests.tiny_places import write_line_road, write_line_zones, write_tiny_register

REPORT_FILES = ["travel_times.parquet", "coverage.csv", "nearest.csv", "access.json", "map.html"]


@pytest.fixture
def line_place(tmp_path: Path) -> dict[str, Path]:
    return {
        "register": write_tiny_register(tmp_path / "register"),
        "network": write_line_road(tmp_path / "line.osm"),
        "zones": write_line_zones(tmp_path / "zones.csv"),
    }


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["access", *args])
    return result.exit_code, result.output


def test_coverage_by_hand(line_place: dict[str, Path]) -> None:
    """Road: 2 minutes a km.  Zones at 0, 4, 8 km (100, 300, 600 people); libraries at
    0 and 2 km, GPs at 2 and 6 km.

    library: 0, 4, 12 minutes -> within 3: 10%, 5: 40%, 10: 40%, 15: 100%;
             mean (0*100 + 4*300 + 12*600) / 1000 = 8.4
    gp:      4, 4, 4 minutes -> within 3: 0%, 5 and more: 100%; mean 4
    """
    from geodata.osm import read_network

    register = load_register(line_place["register"])
    zones = read_zones(line_place["zones"]).zones
    network = read_network(line_place["network"])
    table = network_travel_table(
        network, points(zones, "zone_id"), points(register.buildings, "building_id"), "drive"
    )
    hosts = hosts_by_type(register.services)
    assert hosts == {"gp": ["B", "C"], "library": ["A", "B"]}
    near = nearest(table, list(zones["zone_id"]), hosts)
    gp = near.loc[near["service_type"] == "gp"]
    assert list(gp["nearest_building_id"]) == ["B", "B", "C"]  # a tie goes to B, listed first
    cover = coverage(near, zones, hosts, (3, 5, 10, 15)).set_index("service_type")
    # Node snapping is exact here, but lon/lat round-off leaves centimetres.
    expected_library = [0.1, 0.4, 0.4, 1.0]
    got = cover.loc["library", [f"share_within_{t}_min" for t in (3, 5, 10, 15)]]
    np.testing.assert_allclose(got.to_numpy(dtype=float), expected_library)
    assert cover.loc["library", "mean_minutes_to_nearest"] == pytest.approx(8.4, abs=1e-3)
    got = cover.loc["gp", [f"share_within_{t}_min" for t in (3, 5, 10, 15)]]
    np.testing.assert_allclose(got.to_numpy(dtype=float), [0.0, 1.0, 1.0, 1.0])
    assert cover.loc["gp", "mean_minutes_to_nearest"] == pytest.approx(4.0, abs=1e-3)
    assert (cover["share_beyond_cutoff"] == 0).all()

    cut = network_travel_table(
        network,
        points(zones, "zone_id"),
        points(register.buildings, "building_id"),
        "drive",
        cutoff_minutes=10.0,
    )
    near_cut = nearest(cut, list(zones["zone_id"]), hosts)
    lib = coverage(near_cut, zones, hosts, (3, 5, 10), cutoff_minutes=10.0).set_index(
        "service_type"
    )
    assert lib.loc["library", "share_beyond_cutoff"] == pytest.approx(0.6)
    assert lib.loc["library", "mean_minutes_to_nearest"] == pytest.approx(3.0, abs=1e-3)
    with pytest.raises(Exception, match="exceeds the travel-time cutoff"):
        coverage(near_cut, zones, hosts, (10, 15), cutoff_minutes=10.0)


def test_cli_report_cache_and_identical_outputs(
    line_place: dict[str, Path], tmp_path: Path
) -> None:
    common = [
        *("--register", str(line_place["register"]), "--zones", str(line_place["zones"])),
        *("--network", str(line_place["network"]), "--thresholds", "3,5,10,15"),
    ]
    code, first = _invoke(*common, "-o", str(tmp_path / "a"))
    assert code == 0, first
    assert "from the cache" not in first
    for name in REPORT_FILES:
        assert (tmp_path / "a" / name).stat().st_size > 0, name
    code, second = _invoke(*common, "-o", str(tmp_path / "b"))
    assert code == 0, second
    assert "Travel times from the cache" in second
    for name in REPORT_FILES[:4]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    cover = pd.read_csv(tmp_path / "a" / "coverage.csv").set_index("service_type")
    assert cover.loc["library", "share_within_5_min"] == pytest.approx(0.4)
    assert (cover["method"] == "network").all()
    matrix = pd.read_parquet(tmp_path / "a" / "travel_times.parquet")
    assert list(matrix.columns) == ["zone_id", "building_id", "minutes"]
    assert len(matrix) == 9  # 3 zones x 3 buildings, all within the 60-minute cutoff
    row = matrix.set_index(["zone_id", "building_id"]).loc[("z3", "A"), "minutes"]
    assert row == pytest.approx(16.0, abs=1e-3)
    page = (tmp_path / "a" / "map.html").read_text()
    assert "Beta" in page and "Gamma" not in page  # sensitive building C not drawn

    code, printed = _invoke(
        *common, "--mode", "walk", "--json", "--quiet", "-o", str(tmp_path / "c")
    )
    assert code == 0, printed
    doc = json.loads(printed)
    assert doc["mode"] == "walk" and doc["cache_hit"] is False
    walk = pd.read_csv(tmp_path / "c" / "coverage.csv").set_index("service_type")
    drive = cover
    assert (walk["mean_minutes_to_nearest"] > drive["mean_minutes_to_nearest"]).all()


def test_without_a_network_every_output_says_estimate(
    line_place: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "est"
    code, output = _invoke(
        "--register",
        str(line_place["register"]),
        "--zones",
        str(line_place["zones"]),
        "-o",
        str(out),
    )
    assert code == 0, output
    assert "ESTIMATE" in output
    assert (pd.read_csv(out / "coverage.csv")["method"] == "estimate").all()
    assert (pd.read_csv(out / "nearest.csv")["method"] == "estimate").all()
    doc = json.loads((out / "access.json").read_text())
    assert doc["method"] == "estimate" and "ESTIMATE" in doc["note"] and doc["network"] is None
    assert "ESTIMATE" in (out / "map.html").read_text()
    from geodata.cache import read_parquet_metadata

    assert read_parquet_metadata(out / "travel_times.parquet")["method"] == "estimate"


def test_usage_and_input_errors(line_place: dict[str, Path], tmp_path: Path) -> None:
    register = str(line_place["register"])
    code, output = _invoke("--register", register, "-o", str(tmp_path / "x"))
    assert code == 2 and "exactly one of --zones and --synthetic-zones" in output
    code, output = _invoke(
        "--register", register, "--synthetic-zones", "4", "--thresholds", "10,x", "-o", "x"
    )
    assert code == 2
    bad = tmp_path / "zones.csv"
    bad.write_text("zone_id,population,easting,northing\nz1,-5,480000,300000\n")
    code, output = _invoke("--register", register, "--zones", str(bad), "-o", str(tmp_path / "y"))
    assert code == 1
    assert "row 2" in output and "'population'" in output and "-5" in output


def test_synthetic_zones_over_the_network(line_place: dict[str, Path], tmp_path: Path) -> None:
    code, output = _invoke(
        *("--register", str(line_place["register"]), "--synthetic-zones", "5"),
        *("--network", str(line_place["network"]), "-o", str(tmp_path / "s")),
    )
    assert code == 0, output
    assert "SYNTHETIC" in output
    doc = json.loads((tmp_path / "s" / "access.json").read_text())
    assert doc["zones"]["count"] == 5 and "SYNTHETIC" in doc["zones"]["notes"][0]


# ------------------------------------------------------------------ real: Rutland


@pytest.mark.shared_data
def test_rutland_oakham_to_uppingham_drive_is_plausible(rutland_network: RoadNetwork) -> None:
    towns = pd.DataFrame(
        {
            "id": ["Oakham", "Uppingham"],
            "x": [rutland.OAKHAM[0], rutland.UPPINGHAM[0]],
            "y": [rutland.OAKHAM[1], rutland.UPPINGHAM[1]],
        }
    )
    drive = network_travel_times(rutland_network, towns, towns, "drive").minutes
    assert 8.0 <= drive[0, 1] <= 20.0, drive
    assert 8.0 <= drive[1, 0] <= 20.0, drive
    walk = network_travel_times(rutland_network, towns, towns, "walk").minutes
    # About 10 km by road at 4.8 km/h: two hours or so.
    assert 100.0 <= walk[0, 1] <= 160.0, walk


@pytest.mark.shared_data
def test_rutland_walking_is_slower_than_driving_for_every_pair(
    rutland_network: RoadNetwork,
) -> None:
    zones = read_zones(rutland.ZONES).zones
    origins = points(zones, "zone_id")
    destinations = rutland.building_points()
    drive = network_travel_times(rutland_network, origins, destinations, "drive").minutes
    walk = network_travel_times(rutland_network, origins, destinations, "walk").minutes
    assert np.isfinite(drive).all() and np.isfinite(walk).all()
    assert (walk > drive).all()
    assert drive.max() < 40.0  # Rutland is small: nowhere is 40 minutes' drive away


@pytest.mark.shared_data
def test_rutland_real_place_report(tmp_path: Path) -> None:
    """Rutland's 23 LSOAs x libraries, fire stations and GP practices from public lists."""
    if not rutland.available():
        pytest.skip(f"real data not found at {rutland.DATA}")
    register = rutland.write_register(tmp_path / "register")
    args = [
        *("--register", str(register), "--zones", str(rutland.ZONES)),
        *("--network", str(rutland.PBF), "-o", str(tmp_path / "report")),
    ]
    code, output = _invoke(*args)
    assert code == 0, output
    cover = pd.read_csv(tmp_path / "report" / "coverage.csv")
    assert set(cover["service_type"]) == {"library", "fire_station", "gp"}
    shares = cover[[f"share_within_{t}_min" for t in (10, 15, 20, 30)]].to_numpy()
    assert ((shares >= 0) & (shares <= 1)).all()
    assert (np.diff(shares, axis=1) >= 0).all()  # rising with the threshold
    assert (shares[:, -1] + cover["share_beyond_cutoff"] <= 1 + 1e-9).all()
    assert (cover["population"] == 39_697).all()
    assert cover["mean_minutes_to_nearest"].between(0, 30).all()
    # The shares agree with the per-zone minutes written beside them.
    near = pd.read_csv(tmp_path / "report" / "nearest.csv")
    zones = pd.read_csv(rutland.ZONES).set_index("LSOA11CD")["population_mid2018"]
    for row in cover.itertuples():
        mine = near.loc[near["service_type"] == row.service_type]
        people = zones.reindex(mine["zone_id"]).to_numpy()
        within = people[mine["minutes_to_nearest"].to_numpy() <= 15].sum() / people.sum()
        assert within == pytest.approx(row.share_within_15_min, abs=1e-6)
    matrix = pd.read_parquet(tmp_path / "report" / "travel_times.parquet")
    assert len(matrix) == 23 * 10
    code, again = _invoke(*args[:-1], str(tmp_path / "again"))
    assert code == 0 and "Travel times from the cache" in again


CHROMIUM = find_chromium()


@pytest.mark.shared_data
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")
def test_rutland_access_map_renders_offline_in_chromium(tmp_path: Path) -> None:
    """The real report's map, drawn with --offline, in a browser with the network closed."""
    if not rutland.available():
        pytest.skip(f"real data not found at {rutland.DATA}")
    assert CHROMIUM is not None
    register = rutland.write_register(tmp_path / "register")
    out = tmp_path / "report"
    code, output = _invoke(
        *("--register", str(register), "--zones", str(rutland.ZONES)),
        *("--network", str(rutland.PBF), "--offline", "-o", str(out)),
    )
    assert code == 0, output
    with Chromium(CHROMIUM) as browser:
        report = browser.open((out / "map.html").as_uri())
        assert report.errors == []
        assert report.fetched == [(out / "map.html").as_uri()], "the page asked the network"
        assert browser.evaluate("typeof L") == "object"
        # 23 zone cells in the layer shown first, 10 buildings, and the roads.
        assert (
            browser.evaluate("document.querySelectorAll('path.leaflet-interactive').length") >= 33
        )
        png = browser.screenshot()
    (tmp_path / "map.png").write_bytes(png)
    assert len(png) > 10_000
