"""Coordinate conversion between WGS84 (EPSG:4326) and British National Grid (EPSG:27700).

pyproj here uses the Helmert transformation (no OSTN15 grid file), which is within
about 2-4 m: ample for access work, and said so in the docs.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

WGS84 = "EPSG:4326"
BNG = "EPSG:27700"

# Generous bounds of Great Britain on the National Grid, metres.
GB_EASTING = (0.0, 700_000.0)
GB_NORTHING = (0.0, 1_300_000.0)


@lru_cache(maxsize=4)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_bng(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longitude/latitude in degrees to easting/northing in metres."""
    x, y = _transformer(WGS84, BNG).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def bng_to_lonlat(
    easting: ArrayLike, northing: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Easting/northing in metres to longitude/latitude in degrees."""
    lon, lat = _transformer(BNG, WGS84).transform(
        np.asarray(easting, float), np.asarray(northing, float)
    )
    return np.asarray(lon, float), np.asarray(lat, float)


def in_great_britain(easting: ArrayLike, northing: ArrayLike) -> NDArray[np.bool_]:
    """True where a National Grid point lies inside the grid's extent of Great Britain."""
    e = np.asarray(easting, float)
    n = np.asarray(northing, float)
    return (
        (e >= GB_EASTING[0]) & (e <= GB_EASTING[1]) & (n >= GB_NORTHING[0]) & (n <= GB_NORTHING[1])
    )
