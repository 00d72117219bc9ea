"""``results.gpkg``: a run folder's layers for QGIS/ArcGIS (EPSG:27700).

Layers: ``buildings`` (points, with the columns of ``buildings.csv``), ``zones``
(points) and ``moves`` (lines from the old building to the new).  In a published copy,
sensitive sites are absent from ``buildings`` and their moves have no geometry.
"""

from __future__ import annotations

import errno
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyogrio.errors import DataSourceError
from shapely.geometry import LineString

from estate.io import atomic_write
from scenarios.runfolder import BUILDINGS_OUT, RunFolder

CRS = "EPSG:27700"


def write_gpkg(folder: RunFolder, path: str | Path) -> Path:
    """Write the GeoPackage of a (private or redacted) run folder atomically."""
    b = folder.buildings
    withheld = b["withheld"].astype(bool) if "withheld" in b.columns else pd.Series(False, b.index)
    shown = b.loc[~withheld]
    columns = list(BUILDINGS_OUT) + (["redacted"] if folder.redaction else [])
    layers = {
        "buildings": gpd.GeoDataFrame(
            shown[columns].reset_index(drop=True),
            geometry=gpd.points_from_xy(shown["easting"], shown["northing"]),
            crs=CRS,
        ),
        "zones": gpd.GeoDataFrame(
            folder.zones[["zone_id", "name", "population"]].copy(),
            geometry=gpd.points_from_xy(folder.zones["easting"], folder.zones["northing"]),
            crs=CRS,
        ),
    }
    xy = shown.set_index("building_id")[["easting", "northing"]]
    moves = folder.moves
    if len(moves):
        layers["moves"] = gpd.GeoDataFrame(
            moves.copy(),
            geometry=[
                LineString([tuple(xy.loc[f]), tuple(xy.loc[t])])
                if f in xy.index and t in xy.index
                else None
                for f, t in zip(moves["from_building"], moves["to_building"], strict=True)
            ],
            crs=CRS,
        )

    def _write(tmp: Path) -> None:
        tmp.unlink(missing_ok=True)
        for name, layer in layers.items():
            try:
                layer.to_file(tmp, layer=name, driver="GPKG")
            except DataSourceError as exc:
                # GDAL reports a full disk as a failed write, not as an OSError.
                message = f"GDAL could not write the GeoPackage ({exc})"
                raise OSError(errno.EIO, message, str(tmp)) from exc

    return atomic_write(path, _write)
