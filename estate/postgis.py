"""Read a register from a PostGIS (PostgreSQL) table or query.

Needs the ``postgis`` extra (``pip install -e .[postgis]``: SQLAlchemy and psycopg).
The source is a SQLAlchemy URL with the table after ``#``::

    postgresql://estates@dbhost/estate#public.buildings

or any URL with a query given separately (``estate validate URL --query "SELECT ..."``).
Geometry columns (PostGIS EWKB) become ``easting``/``northing`` in EPSG:27700 (the
representative point of each geometry).  Rows are numbered from 1 in the order the
database returns them; give a query with ``ORDER BY`` when that order matters.
"""

from __future__ import annotations

from typing import Any

from estate.errors import CellIssue, UnreadableError
from estate.grid import Grid, frame_cells


def split_url(source: str) -> tuple[str, str | None]:
    """``URL#schema.table`` -> (URL, "schema.table"); the table may be absent."""
    url, _, table = source.partition("#")
    return url, (table.strip() or None)


def _redacted(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def _table_sql(engine: Any, table: str) -> str:
    quote = engine.dialect.identifier_preparer.quote
    parts = [p.strip().strip('"') for p in table.split(".")]
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise ValueError(f"expected a table as name or schema.name, got {table!r}")
    return "SELECT * FROM " + ".".join(quote(p) for p in parts)


def read_postgis(source: str, query: str | None = None) -> Grid:
    """Read a PostGIS table (``URL#table``) or ``query`` into a :class:`Grid`."""
    url, table = split_url(source)
    shown = _redacted(url) + (f"#{table}" if table else "")
    try:
        import pandas as pd
        import sqlalchemy
    except ImportError as exc:
        raise UnreadableError.about(
            shown, f"reading PostGIS needs the postgis extra (pip install -e .[postgis]): {exc}"
        ) from None
    if (table is None) == (query is None):
        raise UnreadableError.about(
            shown, "give either a table (URL#schema.table) or a query (--query), not both"
        )
    try:
        engine = sqlalchemy.create_engine(url)
    except Exception as exc:  # bad URL, missing driver
        raise UnreadableError.about(shown, f"cannot use this database URL: {exc}") from None
    try:
        sql = _table_sql(engine, table) if table else str(query)
        with engine.connect() as conn:
            frame = pd.read_sql(sqlalchemy.text(sql), conn)
    except Exception as exc:  # connection refused, no such table, SQL errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise UnreadableError.about(shown, f"cannot read from the database: {first}") from None
    finally:
        engine.dispose()
    notes: list[CellIssue] = []
    frame = _decode_geometries(frame, shown, notes)
    cells, header = frame_cells(frame, shown, notes)
    return Grid(shown, cells, list(range(1, len(cells) + 1)), header=header, notes=notes)


def _decode_geometries(frame: Any, source: str, notes: list[CellIssue]) -> Any:
    """Turn the first column of PostGIS EWKB (hex) into a GeoDataFrame geometry."""
    import geopandas as gpd
    import shapely

    for column in frame.columns:
        values = frame[column].dropna()
        if values.empty or not isinstance(values.iloc[0], str | bytes | memoryview):
            continue
        sample = values.iloc[0]
        if isinstance(sample, str) and not _looks_like_hex_wkb(sample):
            continue
        try:
            raw = [
                bytes(v) if isinstance(v, memoryview) else v if isinstance(v, str | bytes) else None
                for v in frame[column]
            ]
            geoms = shapely.from_wkb(raw)
        except Exception:
            continue
        srids = {int(shapely.get_srid(g)) for g in geoms if g is not None}
        srid = srids.pop() if len(srids) == 1 else 0
        if srid == 0:
            notes.append(
                CellIssue(source, None, str(column), "", "geometry has no SRID: assumed EPSG:27700")
            )
            srid = 27700
        rest = frame.drop(columns=[column])
        return gpd.GeoDataFrame(rest, geometry=list(geoms), crs=f"EPSG:{srid}")
    return frame


def _looks_like_hex_wkb(text: str) -> bool:
    return (
        len(text) >= 18
        and text[:2] in {"00", "01"}
        and all(c in "0123456789abcdefABCDEF" for c in text[:64])
    )
