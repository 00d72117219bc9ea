"""Where a register row is: coordinates read per row, checked against each other.

Registers give a point in many ways.  Transparency Code files have ``GeoX``/``GeoY``
with a ``CoordinateReferenceSystem`` column that may differ from row to row (WGS84 in
one row, British National Grid in the next), or no such column at all; other files
swap latitude and longitude, or give both a latitude/longitude and an easting/northing
that do not agree.  :func:`resolve_points` works on the canonical cells of a table
before they are coerced:

- ``geo_x``/``geo_y`` become ``lon``/``lat`` or ``easting``/``northing``, by the row's
  reference system when it names one (WGS84, OSGB36, "British National Grid", EPSG
  codes), else by magnitude (|x| <= 180 and |y| <= 90 are degrees; eastings 0-700,000
  and northings 0-1,300,000 are metres);
- a latitude and longitude that lie in the British Isles only when swapped are swapped
  back, with a warning naming the row;
- a latitude/longitude more than :data:`AGREEMENT_METRES` from the row's own
  easting/northing rejects the row, naming both.

Values out of range (latitude 90.5) are rejected by the schema's limits later.
"""

from __future__ import annotations

import math
import re
from typing import Any

from estate.coords import GB_EASTING, GB_NORTHING, lonlat_to_bng
from estate.errors import CellIssue
from estate.readers import to_text
from estate.validate import is_blank, is_not_applicable, parse_number

#: A row's two locations may differ by this much (the Helmert transform is 2-4 m; a
#: site's centroid and its entrance may be tens of metres apart).
AGREEMENT_METRES = 100.0
#: Latitude and longitude of the British Isles (with Northern Ireland and Shetland).
UK_LAT = (49.0, 61.5)
UK_LON = (-10.5, 2.5)

_WGS84 = re.compile(r"wgs ?84|4326|epsg ?:? ?4326|lat.*lon|degrees|etrs ?89|4258", re.I)
_BNG = re.compile(
    r"osgb|27700|british national grid|national grid|\bbng\b|ordnance survey|os grid", re.I
)


def read_crs(text: str) -> str | None:
    """``"wgs84"``, ``"bng"`` or ``None`` (not recognised) for a CRS cell.

    >>> read_crs("OSGB36 / British National Grid"), read_crs("EPSG:4326")
    ('bng', 'wgs84')
    """
    if _BNG.search(text):
        return "bng"
    if _WGS84.search(text):
        return "wgs84"
    return None


def _kind_by_magnitude(x: float, y: float) -> str | None:
    if abs(x) <= 180 and abs(y) <= 90:
        return "wgs84"
    if GB_EASTING[0] <= x <= GB_EASTING[1] and GB_NORTHING[0] <= y <= GB_NORTHING[1]:
        return "bng"
    return None


def _in_uk(lat: float, lon: float) -> bool:
    return UK_LAT[0] <= lat <= UK_LAT[1] and UK_LON[0] <= lon <= UK_LON[1]


def _number(value: Any) -> float | None:
    if is_blank(value) or is_not_applicable(value):
        return None
    try:
        return parse_number(value)
    except ValueError:
        return None  # coercion reports the cell


def resolve_points(
    cells: dict[str, list[Any]],
    labels: dict[str, str],
    source: str,
    numbers: list[int],
    issues: dict[int, list[CellIssue]],
    warnings: list[CellIssue],
) -> None:
    """Fill ``lat``/``lon``/``easting``/``northing`` in ``cells`` (canonical column ->
    values, one per row) from ``geo_x``/``geo_y``/``crs``, swap latitude and longitude
    back where they are swapped, and reject rows whose two locations disagree.

    ``labels`` names each canonical column as the file does (for messages).
    """
    n = len(numbers)
    for target in ("lat", "lon", "easting", "northing"):
        cells.setdefault(target, [None] * n)
    if "geo_x" in cells or "geo_y" in cells:
        _geo_xy(cells, labels, source, numbers, issues)
    for i in range(n):
        if i in issues:
            continue
        lat, lon = _number(cells["lat"][i]), _number(cells["lon"][i])
        if lat is not None and lon is not None and not _in_uk(lat, lon) and _in_uk(lon, lat):
            cells["lat"][i], cells["lon"][i] = lon, lat
            warnings.append(
                CellIssue(
                    source,
                    numbers[i],
                    f"{labels.get('lat', 'lat')}/{labels.get('lon', 'lon')}",
                    f"{lat:g},{lon:g}",
                    f"latitude and longitude swapped: read as latitude {lon:g}, longitude {lat:g}",
                )
            )
            lat, lon = lon, lat
        east, north = _number(cells["easting"][i]), _number(cells["northing"][i])
        if None in (lat, lon, east, north):
            continue
        assert lat is not None and lon is not None and east is not None and north is not None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            continue  # out of range: the schema's limits reject it
        e, nn = lonlat_to_bng([lon], [lat])
        gap = math.hypot(float(e[0]) - east, float(nn[0]) - north)
        if gap > AGREEMENT_METRES:
            where = (
                f"{labels.get('lat', 'lat')}/{labels.get('lon', 'lon')} and "
                f"{labels.get('easting', 'easting')}/{labels.get('northing', 'northing')}"
            )
            issues.setdefault(i, []).append(
                CellIssue(
                    source,
                    numbers[i],
                    where,
                    f"{lat:g},{lon:g} / {east:g},{north:g}",
                    f"the two locations are {gap:,.0f} m apart (more than "
                    f"{AGREEMENT_METRES:g} m): one of them is wrong",
                )
            )


def _geo_xy(
    cells: dict[str, list[Any]],
    labels: dict[str, str],
    source: str,
    numbers: list[int],
    issues: dict[int, list[CellIssue]],
) -> None:
    xs = cells.pop("geo_x", [None] * len(numbers))
    ys = cells.pop("geo_y", [None] * len(numbers))
    crs = cells.pop("crs", [None] * len(numbers))
    x_label, y_label = labels.get("geo_x", "x"), labels.get("geo_y", "y")
    for i, (x_cell, y_cell, crs_cell) in enumerate(zip(xs, ys, crs, strict=True)):
        x, y = _number(x_cell), _number(y_cell)
        if x is None and y is None:
            if not (is_blank(x_cell) and is_blank(y_cell)) and not (
                is_not_applicable(x_cell) or is_not_applicable(y_cell)
            ):
                issues.setdefault(i, []).append(
                    CellIssue(
                        source,
                        numbers[i],
                        f"{x_label}/{y_label}",
                        f"{to_text(x_cell)},{to_text(y_cell)}",
                        "expected numbers",
                    )
                )
            continue
        if x is None or y is None:
            issues.setdefault(i, []).append(
                CellIssue(
                    source,
                    numbers[i],
                    f"{x_label}/{y_label}",
                    f"{to_text(x_cell)},{to_text(y_cell)}",
                    "only one of the two coordinates is given",
                )
            )
            continue
        stated = None if is_blank(crs_cell) else read_crs(to_text(crs_cell))
        if not is_blank(crs_cell) and stated is None:
            issues.setdefault(i, []).append(
                CellIssue(
                    source,
                    numbers[i],
                    labels.get("crs", "crs"),
                    to_text(crs_cell),
                    "unknown coordinate reference system (expected WGS84, OSGB36 / British "
                    "National Grid, or EPSG 4326 / 27700)",
                )
            )
            continue
        by_size = _kind_by_magnitude(x, y)
        kind = stated or by_size
        if kind is None or (stated is not None and by_size != stated):
            said = {"wgs84": "degrees (WGS84)", "bng": "British National Grid metres"}
            message = (
                f"the row's reference system says {said[stated]} but the values are "
                + (said[by_size] if by_size else "neither")
                if stated
                else "neither degrees nor British National Grid metres"
            )
            issues.setdefault(i, []).append(
                CellIssue(source, numbers[i], f"{x_label}/{y_label}", f"{x:g},{y:g}", message)
            )
            continue
        pair = ("lon", "lat") if kind == "wgs84" else ("easting", "northing")
        if is_blank(cells[pair[0]][i]) and is_blank(cells[pair[1]][i]):
            cells[pair[0]][i], cells[pair[1]][i] = x, y
            labels.setdefault(pair[0], x_label)
            labels.setdefault(pair[1], y_label)
