"""Zones from the ONS file formats, any point layer with a population, or synthetic."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from estate.errors import InputDataError
from geodata.zones import read_zones, synthetic_zones
from tests import rutland

SAPE = "Code,Name,Mid-2018 population,Area Sq Km,People per Sq Km\n"


def _write(path: Path, text: str, bom: bool = False) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return path


def test_ons_2011_centroids_with_bom_joined_to_population(tmp_path: Path) -> None:
    centroids = _write(
        tmp_path / "pwc11.csv",
        "X,Y,objectid,lsoa11cd,lsoa11nm\n"
        "-0.7614,52.6224,1,E01013787,Rutland 005A\n"
        "-0.6588,52.7200,2,E01013788,Rutland 001A\n"
        "-1.4945,54.9720,3,E01008657,South Tyneside 009F\n",
        bom=True,
    )
    population = _write(
        tmp_path / "sape.csv",
        SAPE + "E01013787,Rutland 005A,1309,45.8,28.5\n"
        "E01013788,Rutland 001A,2547,26.8,95.0\n"
        "E01008657,South Tyneside 009F,1500,1.0,1500\n",
    )
    loaded = read_zones(centroids, population, name_prefix="rutland")
    zones = loaded.zones
    assert list(zones["zone_id"]) == ["E01013787", "E01013788"]
    assert list(zones["population"]) == [1309.0, 2547.0]
    assert zones["easting"].between(480_000, 500_000).all()  # WGS84 read as lon/lat
    assert list(zones["source_row"]) == [2, 3]
    assert any("2 kept whose name starts with 'rutland'" in n for n in loaded.notes)


def test_ons_2021_centroids_in_national_grid(tmp_path: Path) -> None:
    centroids = _write(
        tmp_path / "pwc21.csv",
        "FID,LSOA21CD,GlobalID,x,y\n1,E01000001,abc,532181.7642,181792.2818\n",
        bom=True,
    )
    population = _write(tmp_path / "sape.csv", SAPE + "E01000001,City of London 001A,1500,1,1\n")
    zones = read_zones(centroids, population).zones
    assert zones.loc[0, "easting"] == pytest.approx(532181.7642)
    assert zones.loc[0, "lat"] == pytest.approx(51.52, abs=0.01)


def test_a_zone_without_population_is_named_with_file_row_and_value(tmp_path: Path) -> None:
    centroids = _write(
        tmp_path / "pwc.csv",
        "lsoa11cd,lsoa11nm,X,Y\nE01000001,A,-0.1,51.5\nE09999999,B,-0.1,51.6\n",
    )
    population = _write(tmp_path / "sape.csv", SAPE + "E01000001,A,1500,1,1\n")
    with pytest.raises(InputDataError) as caught:
        read_zones(centroids, population)
    (issue,) = caught.value.issues
    assert (issue.file, issue.row, issue.column, issue.value) == (
        str(centroids),
        3,
        "zone_id",
        "E09999999",
    )


def test_a_bad_population_cell_is_named(tmp_path: Path) -> None:
    zones = _write(
        tmp_path / "z.csv",
        "zone_id,population,easting,northing\na,100,480000,300000\nb,lots,481000,300000\n",
    )
    with pytest.raises(InputDataError) as caught:
        read_zones(zones)
    (issue,) = caught.value.issues
    assert (issue.row, issue.column, issue.value) == (3, "population", "lots")


def test_any_point_layer_with_a_population_column(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame(
        {"code": ["p1", "p2"], "Population": [10, 20]},
        geometry=[Point(-0.72, 52.67), Point(-0.72, 52.59)],
        crs="EPSG:4326",
    )
    path = tmp_path / "points.geojson"
    layer.to_file(path, driver="GeoJSON")
    zones = read_zones(path).zones
    assert list(zones["zone_id"]) == ["p1", "p2"]
    assert list(zones["population"]) == [10.0, 20.0]
    assert zones.loc[0, "northing"] > zones.loc[1, "northing"]


def test_polygons_are_refused(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame(
        {"code": ["p1"], "population": [10]},
        geometry=[Point(-0.72, 52.67).buffer(0.01)],
        crs="EPSG:4326",
    )
    path = tmp_path / "areas.geojson"
    layer.to_file(path, driver="GeoJSON")
    with pytest.raises(InputDataError, match="zones must be points"):
        read_zones(path)


def test_synthetic_zones_are_seeded_and_labelled() -> None:
    bounds = (480_000.0, 300_000.0, 490_000.0, 310_000.0)
    a = synthetic_zones(bounds, 20, seed=7)
    b = synthetic_zones(bounds, 20, seed=7)
    c = synthetic_zones(bounds, 20, seed=8)
    pd.testing.assert_frame_equal(a.zones, b.zones)
    assert not a.zones["easting"].equals(c.zones["easting"])
    assert a.zones["easting"].between(480_000, 490_000).all()
    assert "SYNTHETIC" in a.notes[0]
    assert a.zones["zone_id"].str.startswith("SYNTHETIC-").all()


@pytest.mark.shared_data
def test_real_rutland_zones_agree_between_the_derived_and_national_files() -> None:
    if not rutland.available():
        pytest.skip(f"real data not found at {rutland.DATA}")
    ons = rutland.DATA / "ons"
    derived = read_zones(rutland.ZONES).zones
    national = read_zones(
        ons / "Lower_Layer_Super_Output_Areas_December_2011_Population_Weighted_Centroids.csv",
        ons / "SAPE21DT11-mid-2018-lsoa-population-density.csv",
        name_prefix="Rutland",
    ).zones
    assert len(derived) == len(national) == 23
    assert derived["population"].sum() == national["population"].sum() == 39_697
    merged = derived.merge(national, on="zone_id", suffixes=("", "_n"))
    assert (merged["population"] == merged["population_n"]).all()
    assert (merged["easting"] - merged["easting_n"]).abs().max() < 1.0
