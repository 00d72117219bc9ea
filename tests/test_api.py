"""The Python API, driven the way a notebook drives it (issue 17).

A register and zones read from files, a road network that osmnx built in memory,
travel times, a run, GeoDataFrames, and a map whose ``_repr_html_`` (what Jupyter and
VS Code show) draws every building in headless Chromium: all through the names
``scenarios`` exports, nothing else.  The demo place's files are the data (written by
``estate init --demo``, as a user would have their own).
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from tests.browser import Chromium, find_chromium

CHROMIUM = find_chromium()
if CHROMIUM is None and os.environ.get("ESTATE_REQUIRE_CHROMIUM"):
    raise RuntimeError("ESTATE_REQUIRE_CHROMIUM is set but no Chromium is installed")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium installed (apt-get install chromium; or set $CHROMIUM)",
)


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo place's scenario and input files, as a user's own would be."""
    folder = tmp_path_factory.mktemp("api") / "place"
    result = CliRunner().invoke(main, ["init", str(folder), "--demo"])
    assert result.exit_code == 0, result.output
    return folder


def osmnx_graph(inputs: Path) -> nx.MultiDiGraph:
    """The place's roads as osmnx keeps a graph in memory: WGS84 nodes, typed edges."""
    from pyproj import Transformer

    nodes = pd.read_csv(inputs / "network_nodes.csv")
    edges = pd.read_csv(inputs / "network_edges.csv")
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(
        nodes["x"].to_numpy(), nodes["y"].to_numpy()
    )
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, x, y in zip(nodes["node_id"], lon, lat, strict=True):
        graph.add_node(int(node), x=float(x), y=float(y))
    for e in edges.itertuples():
        attrs: dict[str, Any] = {"highway": e.highway, "length": float(e.length_m), "osmid": 1}
        if not np.isnan(e.maxspeed_kph):
            attrs["maxspeed"] = f"{e.maxspeed_kph:g}"
        graph.add_edge(int(e.u), int(e.v), **attrs)
    return graph


@pytest.fixture(scope="module")
def notebook(place: Path) -> dict[str, Any]:
    """Register -> travel times -> run, through the public API only."""
    from scenarios import (
        Register,
        RoadNetwork,
        RunInputs,
        load_scenario,
        read_zones,
        run_scenario,
        travel_times,
    )

    inputs = place / "inputs"
    register = Register.from_files(inputs / "buildings.csv", inputs / "services.csv")
    zones = read_zones(inputs / "zones.csv")
    network = RoadNetwork.from_osmnx(osmnx_graph(inputs), "Demo Vale roads")
    settings = load_scenario(place / "scenario.yaml").scenario
    times = travel_times(register, zones, network, settings.access)  # the modes they name
    run = run_scenario(
        RunInputs(
            name="Demo Vale, from a notebook",
            register=register,
            zones=zones,
            network=network,
            access=dict(settings.access),
            finance=settings.finance,
            policy=settings.policy,
            solver=settings.solver,
        ),
        travel=times,
        time_limit=120,
    )
    return {"run": run, "register": register, "zones": zones, "times": times}


def test_the_run_gives_geodataframes_in_british_national_grid(notebook: dict[str, Any]) -> None:
    run = notebook["run"]
    doc = run.summary
    assert run.status == "optimal" and doc["npv_saving"] > 0
    assert doc["scenario"] == "Demo Vale, from a notebook"
    buildings = run.buildings
    assert buildings.crs.to_epsg() == 27700
    assert len(buildings) == len(notebook["register"].buildings) == 44
    assert (buildings["decision"] == "dispose").sum() == doc["buildings"]["disposed"]
    assert buildings.loc[buildings["decision"] != "dispose", "exit_year"].isna().all()
    lonlat = buildings.to_crs(4326)
    assert lonlat.geometry.x.between(-3, 0).all() and lonlat.geometry.y.between(51, 54).all()
    register = notebook["register"].buildings.set_index("building_id")
    at = buildings.set_index("building_id")
    np.testing.assert_allclose(at.geometry.x, register.loc[at.index, "easting"], atol=1e-6)
    moves = run.moves
    assert len(moves) == doc["services_moved"] and (moves.geometry.geom_type == "LineString").all()
    zones = run.zones
    assert len(zones) == 80 and (zones.geometry.geom_type == "Polygon").all()
    fields = run.zone_fields
    gp_after = fields.loc[
        (fields["service_type"] == "gp")
        & (fields["mode"] == "drive")
        & (fields["measure"] == "after"),
        "field",
    ].item()
    access = run.access.query("service_type == 'gp' and mode == 'drive'")
    access = access.set_index("zone_id")["minutes_after"]
    np.testing.assert_allclose(zones.set_index("zone_id").loc[access.index, gp_after], access)
    # A catchment a zone by service type (by its first mode: access.csv has one a mode).
    assert len(run.catchments) == len(run.access.drop_duplicates(["service_type", "zone_id"]))
    # The travel times are the matrix the notebook computed: zones x buildings.
    drive = notebook["times"]["drive"].frame()
    assert drive.shape == (80, 44)


def test_the_report_and_the_folder_can_be_kept(notebook: dict[str, Any], tmp_path: Path) -> None:
    from scenarios import Run

    run = notebook["run"]
    tables = run.report().tables
    total = tables.agencies.set_index("agency").at["Total", "npv_saving"]
    assert total == pytest.approx(run.summary["npv_saving"], abs=0.01)
    saved = run.report().save(tmp_path / "report")
    assert [p.name for p in saved] == ["report.html", "report.xlsx"]
    kept = run.write(tmp_path / "kept")
    again = Run.open(kept)
    assert again.summary["npv_saving"] == run.summary["npv_saving"]
    for name in ("summary.json", "buildings.csv", "results.gpkg", "map.html", "report.xlsx"):
        assert (kept / name).is_file(), name
    assert "NPV saving" in again._repr_html_() and "Demo Vale" in repr(again)
    map_file = run.map().save(tmp_path / "map.html")
    assert map_file.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_run_without_a_folder_cleans_up_after_itself(place: Path) -> None:
    from scenarios import run_scenario

    run = run_scenario(place / "scenario.yaml", time_limit=60, gap=0.01, price_of_keeping=False)
    folder = run.path
    assert folder.is_dir() and run.status in ("optimal", "feasible")
    assert run.summary["settings"]["solver"]["mip_rel_gap"] == 0.01
    del run
    gc.collect()
    assert not folder.exists()


def test_settings_by_keyword_and_a_folder_of_its_own(place: Path, tmp_path: Path) -> None:
    from estate.errors import EstateError
    from scenarios import run_scenario

    out = tmp_path / "run"
    run = run_scenario(
        place / "scenario.yaml",
        out=out,
        time_limit=60,
        policy__sharing="siloed",
        price_of_keeping=False,
        **{"access.library.drive": 12},
    )
    assert run.path == out.resolve() or run.path == out
    settings = json.loads((out / "summary.json").read_text())["settings"]
    assert settings["solver"]["time_limit_seconds"] == 60
    assert settings["policy"]["sharing"] == "siloed"
    assert settings["access"]["library"]["drive"] == 12
    with pytest.raises(EstateError, match="discount_rate"):
        run_scenario(place / "scenario.yaml", out=tmp_path / "bad", discount_rate=7)
    assert not (tmp_path / "bad").exists()


@needs_chromium
def test_the_map_renders_in_a_notebook_cell(notebook: dict[str, Any], tmp_path: Path) -> None:
    """The map's ``_repr_html_`` in a page as Jupyter shows an output cell, in Chromium."""
    cell = notebook["run"].map()._repr_html_()
    assert cell.startswith("<iframe srcdoc=")
    page = tmp_path / "notebook.html"
    page.write_text(
        "<!DOCTYPE html><html><body><div class='output_area'>" + cell + "</div></body></html>",
        encoding="utf-8",
    )
    assert CHROMIUM is not None
    with Chromium(CHROMIUM) as browser:
        report = browser.open(page.as_uri(), settle_seconds=2.0)
        assert report.errors == []
        assert report.fetched == [page.as_uri()]
        inner = "document.querySelector('iframe').contentDocument"
        assert browser.evaluate(f"typeof {inner}.defaultView.L") == "object"
        markers = browser.evaluate(f"{inner}.querySelectorAll('path.estate-building').length")
        assert markers == 44
        assert browser.evaluate(f"{inner}.querySelectorAll('.estate-panel').length") == 2
