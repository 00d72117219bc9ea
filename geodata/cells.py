"""The area drawn around each zone: Voronoi cells around the zones' points.

Zones are points (population-weighted centroids), so maps and GIS layers approximate
their areas by the cells of a Voronoi diagram, clipped to the zones' convex hull grown
by the median spacing between zones.  With fewer than three distinct points a 500 m
circle stands in.  The map (``map.html``), the GeoPackage and the Python API draw the
same cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

SMALL_PLACE_RADIUS_M = 500.0
MIN_MARGIN_M = 250.0


def zone_polygons(zones: pd.DataFrame) -> list[shapely.Polygon]:
    """One polygon (EPSG:27700 metres) around each zone's ``easting``/``northing``, in
    the zones' order; the largest part where clipping splits a cell."""
    xy = zones[["easting", "northing"]].to_numpy(dtype=float)
    pts = shapely.points(xy)
    if len(np.unique(xy, axis=0)) < 3:
        cells = list(shapely.buffer(pts, SMALL_PLACE_RADIUS_M))
    else:
        tree = shapely.STRtree(pts)
        _, dist = tree.query_nearest(pts, exclusive=True, return_distance=True)
        spacing = float(np.median(dist)) if len(dist) else 1000.0
        area = shapely.convex_hull(shapely.multipoints(xy)).buffer(max(spacing, MIN_MARGIN_M))
        diagram = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=area, ordered=True)
        cells = [shapely.intersection(c, area) for c in shapely.get_parts(diagram)]
        if len(cells) != len(xy):  # repeated points share a cell
            cells = [next(c for c in cells if c.covers(p)) for p in pts]
    return [max(shapely.get_parts(cell), key=lambda g: g.area) for cell in cells]
