"""A table's cells before a header row is chosen (:class:`Grid`), whatever read them.

The readers of :mod:`estate.readers` (files) and :mod:`estate.postgis` (databases) each
return a :class:`Grid`; a table that arrives as a (Geo)DataFrame (spatial files, SQL
queries) becomes one through :func:`frame_cells`.  :mod:`estate.load` then chooses the
header row and maps the columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from estate.errors import CellIssue


@dataclass
class Grid:
    """The records of one table, before a header row is chosen.

    ``rows[i]`` is shown to people as row ``row_numbers[i]`` (1-based, as a spreadsheet
    shows it; for spatial files and databases, the feature's position, 1 = first).
    ``header`` is set when the format itself names the columns (spatial files,
    databases); for text and spreadsheets it is ``None`` and a header row is chosen
    from ``rows``.
    """

    source: str
    rows: list[list[Any]]
    row_numbers: list[int]
    header: list[str] | None = None
    encoding: str | None = None
    sheet: str | None = None
    notes: list[CellIssue] = field(default_factory=list)


def _plain(value: Any) -> Any:
    """Numpy and pandas scalars to plain Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value


def frame_cells(
    frame: Any, source: str, notes: list[CellIssue]
) -> tuple[list[list[Any]], list[str]]:
    """Attribute cells of a (Geo)DataFrame as plain values, with its geometry as points."""
    import geopandas as gpd

    header = [str(c) for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    columns = {c: [_plain(v) for v in frame[c].tolist()] for c in header}
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry is not None and len(frame):
        east, north = geometry_points(frame, source, notes)
        e_name, n_name = (
            ("easting", "northing")
            if not {"easting", "northing"} & {h.lower() for h in header}
            else ("geometry_easting", "geometry_northing")
        )
        header += [e_name, n_name]
        columns[e_name], columns[n_name] = east, north
    cells = [[columns[c][i] for c in header] for i in range(len(frame))]
    return cells, header


def geometry_points(frame: Any, source: str, notes: list[CellIssue]) -> tuple[list[Any], list[Any]]:
    """Representative points of a GeoDataFrame's geometries in EPSG:27700 (None if empty)."""
    geoms = frame.geometry
    if frame.crs is None:
        notes.append(
            CellIssue(
                source,
                None,
                "geometry",
                "",
                "no coordinate reference system: assumed British National Grid (EPSG:27700)",
            )
        )
        geoms = geoms.set_crs("EPSG:27700")
    points = geoms.to_crs("EPSG:27700").representative_point()
    empty = points.is_empty | points.isna()
    east = [None if e else float(p.x) for p, e in zip(points, empty, strict=True)]
    north = [None if e else float(p.y) for p, e in zip(points, empty, strict=True)]
    return east, north
