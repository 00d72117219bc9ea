"""Coordinate conversion between WGS84 (EPSG:4326) and British National Grid (EPSG:27700).

pyproj here uses the Helmert transformation (no OSTN15 grid file), which is within
about 2-4 m: ample for access work, and said so in the docs.
"""

from __future__ import annotations

import re
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


# 500 km squares, then 100 km squares, of the OS National Grid (the letter I is unused).
_GRID_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
_GRID_REF = re.compile(r"^([A-HJ-Z]{2})\s*(\d+)\s*(\d+)?$")


def _square_origin(letters: str) -> tuple[float, float]:
    first = _GRID_LETTERS.index(letters[0])
    second = _GRID_LETTERS.index(letters[1])
    east = ((first % 5) - 2) * 500_000 + (second % 5) * 100_000
    north = (3 - first // 5) * 500_000 + (4 - second // 5) * 100_000
    return float(east), float(north)


def parse_grid_reference(text: str) -> tuple[float, float]:
    """An OS grid reference (``"SK 40715 54526"``, ``"TF0405"``) to easting/northing.

    The point is the south-west corner of the referenced square, as OS defines it.

    >>> parse_grid_reference("SK 40715 54526")
    (440715.0, 354526.0)
    """
    match = _GRID_REF.match(text.strip().upper())
    if not match:
        raise ValueError("expected an OS grid reference such as SK 40715 54526")
    digits = match[2] + (match[3] or "")
    if len(digits) % 2 or not 2 <= len(digits) <= 10:
        raise ValueError("an OS grid reference needs an even number of digits (2 to 10)")
    half = len(digits) // 2
    scale = 10 ** (5 - half)
    e0, n0 = _square_origin(match[1])
    return e0 + int(digits[:half]) * scale, n0 + int(digits[half:]) * scale


_PAIR = re.compile(r"^\(?\s*(-?\d+(?:\.\d+)?)\s*[,;/ ]\s*(-?\d+(?:\.\d+)?)\s*\)?$")


def parse_coordinate_cell(text: str) -> tuple[str, float, float]:
    """One cell holding a location: ``"440715,354526"`` (easting,northing),
    ``"52.67, -0.73"`` (latitude, longitude) or an OS grid reference.

    Returns ``(kind, a, b)`` with kind ``"bng"`` (a=easting, b=northing) or ``"wgs84"``
    (a=latitude, b=longitude).  Raises ``ValueError`` with a message for a user.
    """
    cleaned = " ".join(str(text).split())
    match = _PAIR.match(cleaned)
    if match:
        a, b = float(match[1]), float(match[2])
        if 49.0 <= a <= 61.5 and -9.0 <= b <= 2.5:
            return "wgs84", a, b
        if 49.0 <= b <= 61.5 and -9.0 <= a <= 2.5:
            raise ValueError("looks like longitude,latitude; expected latitude,longitude")
        if 0 <= a <= GB_EASTING[1] and 0 <= b <= GB_NORTHING[1] and max(a, b) > 1_000:
            return "bng", a, b
        raise ValueError("neither easting,northing in Great Britain nor latitude,longitude")
    if re.match(r"^[A-Za-z]{2}\s*\d", cleaned):
        e, n = parse_grid_reference(cleaned)
        return "bng", e, n
    raise ValueError("expected 'easting,northing', 'latitude,longitude' or a grid reference")
