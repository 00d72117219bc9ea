"""Zones: where the public lives (LSOA population-weighted centroids, or synthetic)."""

from __future__ import annotations

import pandas as pd

from estate.errors import InputDataError
from estate.schema import ZONES
from estate.validate import coerce_table, fill_coordinates


def validate_zones(raw: pd.DataFrame, source: str = "zones") -> pd.DataFrame:
    """Coerce a zones table to the canonical schema; raise listing every problem."""
    coerced = coerce_table(raw, ZONES, source)
    issues = coerced.issues + fill_coordinates(coerced.accepted, source)
    if issues:
        raise InputDataError(issues, "the zones table cannot be used as it stands")
    return coerced.accepted


def points(table: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """The ``id``/``x``/``y`` frame that travel-time functions take."""
    return pd.DataFrame(
        {
            "id": table[id_column].astype(str).to_numpy(),
            "x": table["easting"].to_numpy(dtype=float),
            "y": table["northing"].to_numpy(dtype=float),
        }
    )
