"""``results.gpkg`` opens well in QGIS (issue 17): typed fields, zone polygons with
minutes, catchment lines, and a ``layer_styles`` table QGIS draws each layer with.

Read back with pyogrio (GDAL) and sqlite3; with GDAL's own ``ogrinfo`` when installed.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest

LAYERS = ["buildings", "zones", "moves", "catchments", "zone_fields", "layer_styles"]


@pytest.fixture(scope="module")
def demo_run(demo_folder: Path) -> Path:
    """The session's demo run folder (tests/conftest.py), read only."""
    return demo_folder


def _types(path: Path, layer: str) -> dict[str, str]:
    info = pyogrio.read_info(path, layer=layer)
    return dict(zip(info["fields"], info["dtypes"], strict=True))


def _styles(path: Path) -> pd.DataFrame:
    with closing(sqlite3.connect(path)) as db:
        return pd.read_sql_query("SELECT * FROM layer_styles ORDER BY id", db)


def test_layers_and_field_types(demo_run: Path) -> None:
    gpkg = demo_run / "results.gpkg"
    assert [name for name, _ in pyogrio.list_layers(gpkg)] == LAYERS
    geometry = {name: kind for name, kind in pyogrio.list_layers(gpkg)}
    assert geometry["zones"] == "Polygon" and geometry["catchments"] == "LineString"
    assert geometry["layer_styles"] is None and geometry["zone_fields"] is None
    for layer in ("buildings", "zones", "moves", "catchments"):
        assert pyogrio.read_info(gpkg, layer=layer)["crs"] == "EPSG:27700", layer
    buildings = _types(gpkg, "buildings")
    assert buildings["exit_year"] == "int64"
    assert buildings["capital_receipt_gbp"] == "float64"
    assert buildings["sensitive"] == "bool"
    assert buildings["lease_end"] == "datetime64[D]"  # a GeoPackage date
    moves = _types(gpkg, "moves")
    assert moves["share"] == "float64" and moves["desks"] == "float64"
    assert moves["cost"] == "float64"


def test_no_exit_is_null_not_year_zero(demo_run: Path) -> None:
    layer = pyogrio.read_dataframe(demo_run / "results.gpkg", layer="buildings")
    csv = pd.read_csv(demo_run / "buildings.csv", dtype={"building_id": str})
    kept = layer["decision"].isin(["retain", "host"])
    assert layer.loc[kept, "exit_year"].isna().all()
    assert (csv.loc[csv["decision"] != "dispose", "exit_year"] == 0).all()  # the CSV's 0
    disposed = layer.loc[~kept].set_index("building_id")["exit_year"]
    expected = csv.set_index("building_id").loc[disposed.index, "exit_year"]
    assert (disposed.to_numpy() == expected.to_numpy()).all() and (disposed >= 1).all()
    moves = pyogrio.read_dataframe(demo_run / "results.gpkg", layer="moves")
    assert moves["share"].between(0, 1).all() and moves["share"].notna().all()


def test_zones_are_the_maps_cells_with_minutes_per_service_type(demo_run: Path) -> None:
    gpkg = demo_run / "results.gpkg"
    zones = pyogrio.read_dataframe(gpkg, layer="zones")
    access = pd.read_csv(demo_run / "access.csv", dtype={"zone_id": str})
    inputs = pd.read_csv(demo_run / "inputs/zones.csv", dtype={"zone_id": str})
    assert len(zones) == len(inputs) == 80
    # Cells tile the area: no two overlap, and each holds its own zone's point.
    assert zones.geometry.area.sum() == pytest.approx(zones.geometry.union_all().area, rel=1e-9)
    points = pyogrio.read_dataframe(gpkg, layer="zones")[["easting", "northing"]].to_numpy()
    import shapely

    assert all(
        cell.covers(shapely.Point(x, y))
        for cell, (x, y) in zip(zones.geometry, points, strict=True)
    )
    fields = pyogrio.read_dataframe(gpkg, layer="zone_fields")
    for (service_type, mode), rows in access.groupby(["service_type", "mode"]):
        mine = (fields["service_type"] == service_type) & (fields["mode"] == mode)
        named = fields.loc[mine].set_index("measure")["field"]
        assert sorted(named.index) == ["after", "before", "change", "lost"]
        joined = zones.merge(rows, on="zone_id", validate="one_to_one")
        assert len(joined) == 80
        np.testing.assert_allclose(joined[named["before"]], joined["minutes_before"])
        np.testing.assert_allclose(joined[named["after"]], joined["minutes_after"])
        np.testing.assert_allclose(
            joined[named["change"]], joined["minutes_after"] - joined["minutes_before"]
        )
        lost = joined["within_before"] & ~joined["within_after"]
        assert (joined[named["lost"]] == lost).all()


def test_catchment_lines_join_each_zone_to_its_nearest_service(demo_run: Path) -> None:
    lines = pyogrio.read_dataframe(demo_run / "results.gpkg", layer="catchments")
    access = pd.read_csv(demo_run / "access.csv", dtype={"zone_id": str})
    # One line a zone and service type, by the type's first mode (drive where there are two).
    keys = ["service_type", "mode", "zone_id"]
    joined = lines.merge(access, on=keys, validate="one_to_one")
    assert len(joined) == len(lines) == len(access.drop_duplicates(["service_type", "zone_id"]))
    assert (joined["minutes"] - joined["minutes_after"]).abs().max() < 0.001
    buildings = pd.read_csv(demo_run / "inputs/buildings.csv", dtype={"building_id": str})
    ends = buildings.set_index("building_id").loc[lines["building_id"], ["easting", "northing"]]
    last = np.array([line.coords[-1] for line in lines.geometry])
    np.testing.assert_allclose(last, ends.to_numpy(dtype=float), atol=1e-6)


def _qml(text: str) -> ET.Element:
    head, body = text.split("\n", 1)
    assert head.startswith("<!DOCTYPE qgis")
    return ET.fromstring(body)


def test_every_layer_opens_styled(demo_run: Path) -> None:
    from scenarios.maps import ACCESS_BINS, agency_colours

    gpkg = demo_run / "results.gpkg"
    styles = _styles(gpkg)
    defaults = styles.loc[styles["useAsDefault"] == 1]
    assert sorted(defaults["f_table_name"]) == ["buildings", "catchments", "moves", "zones"]
    assert (styles["f_geometry_column"] == "geom").all()
    assert styles["styleName"].str.len().max() <= 30
    with closing(sqlite3.connect(gpkg)) as db:
        contents = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents"))
    assert contents["layer_styles"] == "attributes"
    for row in styles.itertuples():
        root = _qml(row.styleQML)
        fields = set(_types(gpkg, row.f_table_name))
        # Every field a style reads (data-defined colours, the renderer's attribute,
        # rule filters) is a field of its layer.
        for option in root.iter("Option"):
            if option.get("name") == "field":
                assert option.get("value") in fields, (row.styleName, option.get("value"))
        renderer = root.find("renderer-v2")
        assert renderer is not None
        if renderer.get("attr"):
            assert renderer.get("attr") in fields
        for rule in root.iter("rule"):
            for name in re_fields(rule.get("filter", "")):
                assert name in fields, (row.styleName, name)
    decision = _qml(defaults.set_index("f_table_name").at["buildings", "styleQML"])
    renderer = decision.find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "decision"
    assert [c.get("value") for c in decision.iter("category")] == ["retain", "host", "dispose"]
    by_agency = _qml(styles.loc[styles["styleName"] == "agency", "styleQML"].iloc[0])
    layer = pyogrio.read_dataframe(gpkg, layer="buildings")
    colours = agency_colours(sorted(layer["agency"].unique()))
    assert [c.get("value") for c in by_agency.iter("category")] == list(colours)
    assert (layer["agency_colour"] == layer["agency"].map(colours)).all()
    # The zones' ramp is the map's: one rule a bin, then unreachable and lost access.
    zones = _qml(defaults.set_index("f_table_name").at["zones", "styleQML"])
    fills = [
        o.get("value")
        for s in zones.iter("symbol")
        for o in s.iter("Option")
        if o.get("name") == "color"
    ]
    expected = [
        ",".join(str(int(c[i : i + 2], 16)) for i in (1, 3, 5)) + ",115" for _, c, _ in ACCESS_BINS
    ]
    assert fills[: len(ACCESS_BINS)] == expected
    labels = [r.get("label") for r in zones.iter("rule")]
    assert labels == [label for _, _, label in ACCESS_BINS] + [
        "unreachable after",
        "loses access within the standard",
    ]
    assert "police_front_counter" in defaults.set_index("f_table_name").at["zones", "styleName"]


def re_fields(expression: str) -> list[str]:
    import re

    return re.findall(r'"([^"]+)"', expression)


def test_hostile_service_types_become_safe_field_names(demo_run: Path, tmp_path: Path) -> None:
    from scenarios.geopackage import write_gpkg
    from scenarios.runfolder import load_run

    folder = load_run(demo_run)
    renamed = {t: f'{t}"; DROP TABLE zones; --' for t in folder.access["service_type"].unique()}
    renamed["gp"] = "GP & walk-in <b>"
    access = folder.access.assign(service_type=folder.access["service_type"].map(renamed))
    services = folder.services.assign(
        service_type=folder.services["service_type"].map(lambda t: renamed.get(t, t))
    )
    path = write_gpkg(folder.with_(access=access, services=services), tmp_path / "x.gpkg")
    fields = pyogrio.read_dataframe(path, layer="zone_fields")
    assert set(fields["service_type"]) == set(renamed.values())
    assert fields["field"].str.fullmatch(r"[a-z0-9_]+").all()
    assert "gp_walk_in_b_drive_before" in set(fields["field"])  # gp: by drive and walk
    zones = pyogrio.read_dataframe(path, layer="zones")
    assert set(fields["field"]) <= set(zones.columns)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed")
def test_ogrinfo_reads_every_layer(demo_run: Path) -> None:
    result = subprocess.run(
        ["ogrinfo", "-ro", "-so", str(demo_run / "results.gpkg")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr and "Warning" not in result.stderr, result.stderr
    for i, name in enumerate(LAYERS, start=1):
        assert f"{i}: {name}" in result.stdout


QGIS_CHECK = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
for name in ("buildings", "zones", "moves", "catchments"):
    layer = QgsVectorLayer(sys.argv[1] + "|layername=" + name, name, "ogr")
    message, ok = layer.loadDefaultStyle()
    renderer = layer.renderer()
    # Keep the categories and rules alive while their symbols are read (Qt owns them).
    if hasattr(renderer, "categories"):
        owners = renderer.categories()
        symbols = [c.symbol() for c in owners]
    elif hasattr(renderer, "rootRule"):
        owners = renderer.rootRule().children()
        symbols = [r.symbol() for r in owners]
    else:
        owners = []
        symbols = [renderer.symbol()]
    fields = sorted({
        symbol.symbolLayer(i).dataDefinedProperties().property(k).field()
        for symbol in symbols for i in range(symbol.symbolLayerCount())
        for k in symbol.symbolLayer(i).dataDefinedProperties().propertyKeys()
    })
    layers = min(symbol.symbolLayerCount() for symbol in symbols)
    print(name, ok, type(renderer).__name__, len(symbols), layers, ",".join(fields))
sys.stdout.flush()
os._exit(0)  # QGIS's own teardown can crash a headless process; all is printed
"""


def _system_qgis() -> str | None:
    """A Python with QGIS's bindings (Debian's python3-qgis), if one is installed."""
    for python in ("/usr/bin/python3", shutil.which("python3") or ""):
        if python and Path(python).is_file():
            found = subprocess.run(
                [python, "-c", "import qgis.core"], capture_output=True, check=False
            )
            if found.returncode == 0:
                return python
    return None


@pytest.mark.skipif(_system_qgis() is None, reason="QGIS's Python bindings are not installed")
def test_qgis_opens_every_layer_with_its_style(demo_run: Path) -> None:
    """QGIS itself (headless) reads layer_styles: each layer's default style loads."""
    python = _system_qgis()
    assert python is not None
    result = subprocess.run(
        [python, "-c", QGIS_CHECK, str(demo_run / "results.gpkg")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
    assert lines["buildings"][1:4] == ["True", "QgsCategorizedSymbolRenderer", "3"]
    assert lines["zones"][1:4] == ["True", "QgsRuleBasedRenderer", "9"]
    assert lines["moves"][1:3] == ["True", "QgsSingleSymbolRenderer"]
    assert lines["catchments"][1:3] == ["True", "QgsSingleSymbolRenderer"]
    for name in ("buildings", "moves", "catchments"):
        assert int(lines[name][4]) >= 1, name  # every symbol has its layers
        assert lines[name][5] == "agency_colour", lines[name]  # data-defined colours
