"""``results.gpkg``: a run folder's layers for QGIS/ArcGIS (EPSG:27700), styled for QGIS.

Layers (see :mod:`scenarios.layers`): ``buildings`` (points), ``zones`` (the cells the
map draws, with minutes before/after/change per service type), ``moves`` (lines from
the old building to the new) and ``catchments`` (each zone to its nearest service
after the change); tables ``zone_fields`` (which service type each of the zones'
fields is of) and ``layer_styles`` (QGIS opens each layer styled: decisions in agency
colours, the access-change ramp, arrows; :mod:`scenarios.gpkgstyle`).  In a published
copy, sensitive sites are absent from ``buildings`` and ``catchments`` and their moves
have no geometry.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from estate.io import atomic_write
from scenarios.gpkgstyle import Style, building_styles, catchment_style, move_style, zone_style
from scenarios.layers import CRS, RunLayers, run_layers
from scenarios.runfolder import RunFolder

__all__ = ["CRS", "layer_styles", "write_gpkg"]

GPKG_VERSION = "1.3"
# How SQLite (under GDAL) says a write was refused: a full disk, a file size limit.
_IO_FAILURE = re.compile(r"disk I/O error|disk is full|too large|No space", re.IGNORECASE)
STYLE_NAME_CHARS = 30  # styleName TEXT(30)
GEOMETRY_COLUMN = "geom"  # GDAL's name for a GeoPackage's geometry column


def layer_styles(folder: RunFolder, layers: RunLayers) -> list[Style]:
    """The QGIS styles of every layer written for ``folder``."""
    from scenarios.maps import (
        ACCESS_BINS,
        DECISION_LABEL,
        DECISION_STYLE,
        HOST_RING,
        RETAIN_RING,
        UNREACHABLE_COLOUR,
        agency_colours,
        pick_service_type,
    )

    colours = agency_colours(
        sorted(set(folder.buildings["agency"]) | set(folder.agencies["agency"]))
    )
    rings = {"retain": RETAIN_RING, "host": HOST_RING, "dispose": "#777777"}
    styles = building_styles(DECISION_STYLE, DECISION_LABEL, colours, rings)
    chosen = pick_service_type(folder, None)
    pairs = sorted({(f.service_type, f.mode) for f in layers.zone_fields})
    several = {t for t, _ in pairs if sum(1 for u, _ in pairs if u == t) > 1}
    names: set[str] = set()
    default_done = False
    for service_type, mode in pairs:
        change = layers.field(service_type, "change", mode)
        lost = layers.field(service_type, "lost", mode)
        assert change is not None and lost is not None
        qml = zone_style(change, lost, ACCESS_BINS, UNREACHABLE_COLOUR, "#b2182b", 0.45)
        label = f"access: {service_type}" + (f" ({mode})" if service_type in several else "")
        default = service_type == chosen and not default_done
        default_done = default_done or default
        styles.append(
            Style(
                "zones",
                _style_name(label, names),
                qml,
                default,
                f"minutes to the nearest {service_type} by {mode}, after minus before ({change})",
            )
        )
    if len(layers.moves):
        styles.append(Style("moves", "moves", move_style(), True, "arrows in agency colours"))
    if len(layers.catchments):
        styles.append(Style("catchments", "catchments", catchment_style(), True, "zone to nearest"))
    return styles


def _style_name(text: str, taken: set[str]) -> str:
    """A style's name in the 30 characters QGIS's table allows, unique for its layer."""
    name, n = text[:STYLE_NAME_CHARS], 1
    while name in taken:
        n += 1
        suffix = f" ({n})"
        name = text[: STYLE_NAME_CHARS - len(suffix)] + suffix
    taken.add(name)
    return name


def write_gpkg(folder: RunFolder, path: str | Path) -> Path:
    """Write the GeoPackage of a (private or redacted) run folder atomically."""
    layers = run_layers(folder)
    frames: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {
        "buildings": layers.buildings,
        "zones": layers.zones,
    }
    if len(layers.moves):
        frames["moves"] = layers.moves
    if len(layers.catchments):
        frames["catchments"] = layers.catchments
    frames["zone_fields"] = layers.fields_table()
    stamp = str(folder.finance.get("base_date") or "2000-01-01")
    frames["layer_styles"] = styles_table(layer_styles(folder, layers), stamp)

    def _write(tmp: Path) -> None:
        tmp.unlink(missing_ok=True)
        for name, frame in frames.items():
            # layer_styles keys its rows by ``id``, as QGIS's own table does.
            options = {"FID": "id"} if name == "layer_styles" else None
            try:
                # Through Arrow, dates are GeoPackage dates; version 1.3 is read by every
                # GDAL since 2.2 without a warning.
                pyogrio.write_dataframe(
                    frame,
                    tmp,
                    layer=name,
                    driver="GPKG",
                    use_arrow=True,
                    dataset_options={"VERSION": GPKG_VERSION},
                    layer_options=options,
                )
            except (DataSourceError, DataLayerError) as exc:
                # GDAL reports a full disk as a failed write, not as an OSError.
                if isinstance(exc, DataLayerError) and not _IO_FAILURE.search(str(exc)):
                    raise
                message = f"GDAL could not write the GeoPackage ({exc})"
                raise OSError(errno.EIO, message, str(tmp)) from exc

    return atomic_write(path, _write)


def styles_table(styles: list[Style], stamp: str) -> pd.DataFrame:
    """QGIS's ``layer_styles`` table, column for column (it reads it by these names)."""
    return pd.DataFrame(
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": [s.layer for s in styles],
            "f_geometry_column": GEOMETRY_COLUMN,
            "styleName": [s.name for s in styles],
            "styleQML": [s.qml for s in styles],
            "styleSLD": "",
            "useAsDefault": [s.default for s in styles],
            "description": [s.description for s in styles],
            "owner": "",
            "ui": "",
            "update_time": pd.Timestamp(stamp),
        },
        columns=[
            "f_table_catalog",
            "f_table_schema",
            "f_table_name",
            "f_geometry_column",
            "styleName",
            "styleQML",
            "styleSLD",
            "useAsDefault",
            "description",
            "owner",
            "ui",
            "update_time",
        ],
    )
