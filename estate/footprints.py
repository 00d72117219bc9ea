"""Building outlines from OpenStreetMap, to estimate a site's floor area.

:func:`read_osm` reads an ``.osm``/``.osm.pbf`` file's points (with their tags) and its
building outlines (area, ``building:levels``) in EPSG:27700 through GDAL's OSM driver;
:func:`match_footprints` finds the outline each site's point lies in (or within a few
metres of).  Only points that are the building's own are matched: a postcode's centroid
says nothing about which building is the site's.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from estate.errors import UnreadableError

#: Geocoding methods whose point is the building's own (not a postcode's centroid).
PRECISE_METHODS = ("lat_lon", "easting_northing", "uprn")

_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def tags(other: object) -> dict[str, str]:
    """GDAL's ``other_tags`` text (``"k"=>"v","k2"=>"v2"``) as a dict."""
    return dict(_TAG.findall(other)) if isinstance(other, str) else {}


def read_osm(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Points (``osm_id``, ``name``, ``tags``, ``amenity``, ``easting``, ``northing``) and
    building outlines (``osm_way_id``, ``name``, ``area_m2``, ``levels``, ``easting``,
    ``northing``, ``geometry``) in EPSG:27700."""
    import pyogrio

    source = str(path)
    if not Path(path).is_file():
        raise UnreadableError.about(source, "no such file")
    try:
        with warnings.catch_warnings():
            # GDAL's OSM driver warns about unclosed rings at an extract's edges.
            warnings.simplefilter("ignore", RuntimeWarning)
            points = pyogrio.read_dataframe(path, layer="points").to_crs("EPSG:27700")
            polys = pyogrio.read_dataframe(path, layer="multipolygons").to_crs("EPSG:27700")
    except Exception as exc:  # pyogrio wraps GDAL errors in several classes
        raise UnreadableError.about(source, f"not a readable OpenStreetMap file: {exc}") from None
    pts = pd.DataFrame(
        {
            "osm_id": points["osm_id"].astype(str),
            "name": points["name"].fillna(""),
            "tags": points["other_tags"].map(tags),
            "easting": points.geometry.x,
            "northing": points.geometry.y,
        }
    )
    pts["amenity"] = pts["tags"].map(lambda t: t.get("amenity", ""))
    buildings = polys.loc[polys["building"].notna()].copy()
    levels = buildings["other_tags"].map(lambda t: tags(t).get("building:levels", ""))
    centre = buildings.geometry.representative_point()
    outlines = pd.DataFrame(
        {
            "osm_way_id": buildings["osm_way_id"].fillna(buildings["osm_id"]).astype(str),
            "name": buildings["name"].fillna(""),
            "area_m2": buildings.geometry.area,
            "levels": pd.to_numeric(levels, errors="coerce"),
            "easting": centre.x,
            "northing": centre.y,
            "geometry": buildings.geometry.to_numpy(),
        }
    )
    return pts.reset_index(drop=True), outlines.reset_index(drop=True)


def match_footprints(sites: pd.DataFrame, outlines: pd.DataFrame, metres: float) -> pd.DataFrame:
    """The outline each precisely placed site's point lies in (or within ``metres`` of):
    ``area_m2``, ``levels`` and ``osm_way_id``, NaN/"" where none (same index as
    ``sites``).  The nearest outline wins; between equals, the larger."""
    import shapely

    empty = {"area_m2": math.nan, "levels": math.nan, "osm_way_id": ""}
    if outlines.empty:
        return pd.DataFrame([empty] * len(sites), index=sites.index)
    geoms: list[Any] = list(outlines["geometry"])
    tree = shapely.STRtree(geoms)
    found: list[dict[str, Any]] = []
    for e, n, method in zip(
        sites["easting"], sites["northing"], sites["geocode_method"], strict=True
    ):
        if method not in PRECISE_METHODS or not (math.isfinite(e) and math.isfinite(n)):
            found.append(empty)
            continue
        point = shapely.Point(e, n)
        hits = tree.query(point, predicate="dwithin", distance=metres)
        if len(hits) == 0:
            found.append(empty)
            continue
        best = min(hits, key=lambda i: (geoms[int(i)].distance(point), -geoms[int(i)].area))
        row = outlines.iloc[int(best)]
        found.append(
            {"area_m2": row["area_m2"], "levels": row["levels"], "osm_way_id": row["osm_way_id"]}
        )
    return pd.DataFrame(found, index=sites.index)
