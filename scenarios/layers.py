"""A run folder's results as GIS layers (EPSG:27700), typed for QGIS, ArcGIS and pandas.

The GeoPackage (``results.gpkg``) and the Python API (:class:`scenarios.api.Run`)
hold the same layers:

- ``buildings`` (points): every column of ``buildings.csv``, each building's
  ``agency_colour`` (the map's), and in a private run the register's address, postcode,
  lease dates and flags; ``exit_year`` is null for a building that is kept (no exit);
- ``zones`` (polygons): the cells the map draws around each zone's point, with the
  zone's people and, per service type with an access standard, minutes to the nearest
  service before and after the change, their difference and whether the zone loses
  access within the standard (``<type>_before``, ``_after``, ``_change``, ``_lost``:
  see :attr:`RunLayers.zone_fields` for the service type each field is of);
- ``moves`` (lines from the old building to the new): ``desks``, ``share`` and ``cost``
  as numbers;
- ``catchments`` (lines): each zone joined to its nearest service of each type after
  the change, with the minutes.

In a published copy the withheld sites are absent from ``buildings`` and
``catchments``, their moves have no geometry, and service types a withheld site
provides have no minutes (see :mod:`scenarios.publish`).  Columns that arrive as text
but hold only numbers (a column a newer model adds to ``buildings.csv``) are numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from geodata.cells import zone_polygons
from scenarios.runfolder import BUILDINGS_IN, BUILDINGS_OUT, MOVES, RunFolder, catchments

CRS = "EPSG:27700"
KEPT = ("retain", "host")
# Register columns a private run's buildings layer carries besides buildings.csv.
REGISTER_COLUMNS = (
    "address",
    "postcode",
    "lease_end",
    "lease_break",
    "gia_m2",
    "disposal_value",
    "disposal_cost",
    "must_retain",
    "listed",
    "sensitive",
    "estimated",
)
DATE_COLUMNS = ("lease_end", "lease_break")
MEASURES = ("before", "after", "change", "lost")
_SLUG = re.compile(r"[^0-9a-z]+")
SLUG_CHARS = 30


@dataclass(frozen=True)
class ZoneField:
    """One field of the zones layer: a measure of access to one service type."""

    field: str
    service_type: str
    measure: str  # before | after | change | lost
    mode: str
    standard_minutes: float

    @property
    def meaning(self) -> str:
        return {
            "before": "minutes to the nearest, before the change",
            "after": "minutes to the nearest, after the change",
            "change": "minutes after minus minutes before (null: unreachable after)",
            "lost": "within the standard before, not after",
        }[self.measure]


@dataclass(frozen=True)
class RunLayers:
    """The layers of one run folder, each a GeoDataFrame in EPSG:27700."""

    buildings: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    moves: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    zone_fields: tuple[ZoneField, ...]

    def fields_table(self) -> pd.DataFrame:
        """Which service type and measure each of the zones' access fields holds."""
        return pd.DataFrame(
            [
                {
                    "field": f.field,
                    "service_type": f.service_type,
                    "measure": f.measure,
                    "meaning": f.meaning,
                    "mode": f.mode,
                    "standard_minutes": f.standard_minutes,
                }
                for f in self.zone_fields
            ],
            columns=["field", "service_type", "measure", "meaning", "mode", "standard_minutes"],
        )

    def field(self, service_type: str, measure: str, mode: str | None = None) -> str | None:
        """The zones layer's field holding ``measure`` of ``service_type`` (by ``mode``;
        None: its first mode), if any."""
        return next(
            (
                f.field
                for f in self.zone_fields
                if f.service_type == service_type
                and f.measure == measure
                and (mode is None or f.mode == mode)
            ),
            None,
        )


def run_layers(folder: RunFolder) -> RunLayers:
    """Every layer of ``folder`` (private, or redacted by :mod:`scenarios.publish`)."""
    zones, fields = zone_layer(folder)
    return RunLayers(
        buildings=building_layer(folder),
        zones=zones,
        moves=move_layer(folder),
        catchments=catchment_layer(folder),
        zone_fields=fields,
    )


def _withheld(buildings: pd.DataFrame) -> pd.Series:
    if "withheld" in buildings.columns:
        return buildings["withheld"].astype(bool)
    return pd.Series(False, index=buildings.index)


def _colours(folder: RunFolder) -> dict[str, str]:
    from scenarios.maps import agency_colours

    return agency_colours(sorted(set(folder.buildings["agency"]) | set(folder.agencies["agency"])))


def building_layer(folder: RunFolder) -> gpd.GeoDataFrame:
    """Buildings as points, kept ones with a null ``exit_year``."""
    b = folder.buildings
    shown = b.loc[~_withheld(b)].reset_index(drop=True)
    out_columns = [c for c in folder.buildings.columns if c in BUILDINGS_OUT]
    extra = [
        c
        for c in folder.buildings.columns
        if c not in BUILDINGS_OUT and c not in BUILDINGS_IN and c not in ("withheld", "lat", "lon")
    ]
    columns = out_columns + extra
    if folder.redaction is None:
        columns += [c for c in REGISTER_COLUMNS if c in shown.columns and c not in columns]
    table = _numbers(shown[columns].copy(), keep_text=set(BUILDINGS_OUT) | set(BUILDINGS_IN))
    kept = table["decision"].isin(KEPT)
    table["exit_year"] = table["exit_year"].astype("Int64").mask(kept)
    for col in DATE_COLUMNS:
        if col in table.columns:
            table[col] = pd.to_datetime(table[col], errors="coerce").dt.date
    colours = _colours(folder)
    table["agency_colour"] = table["agency"].map(colours).fillna("#333333")
    return gpd.GeoDataFrame(
        table,
        geometry=gpd.points_from_xy(shown["easting"], shown["northing"]),
        crs=CRS,
    )


def move_layer(folder: RunFolder) -> gpd.GeoDataFrame:
    """Moves as lines from the old building to the new (none to or from a withheld site)."""
    b = folder.buildings
    xy = b.loc[~_withheld(b)].set_index("building_id")[["easting", "northing"]]
    moves = _numbers(folder.moves.copy(), keep_text={k for k, v in MOVES.items() if v == "text"})
    colours = _colours(folder)
    moves["agency_colour"] = moves["agency"].map(colours).fillna("#333333")
    lines = [
        LineString([tuple(xy.loc[f]), tuple(xy.loc[t])])
        if f in xy.index and t in xy.index
        else None
        for f, t in zip(moves["from_building"], moves["to_building"], strict=True)
    ]
    return gpd.GeoDataFrame(moves, geometry=gpd.GeoSeries(lines, crs=CRS), crs=CRS)


def zone_layer(folder: RunFolder) -> tuple[gpd.GeoDataFrame, tuple[ZoneField, ...]]:
    """Zones as the cells the map draws, with minutes per service type."""
    zones = folder.zones.reset_index(drop=True)
    table = zones[["zone_id", "name", "population", "easting", "northing"]].copy()
    access = folder.access
    fields: list[ZoneField] = []
    taken: set[str] = set(table.columns)
    modes = access.groupby("service_type")["mode"].nunique()
    for (service_type, mode), rows in access.groupby(["service_type", "mode"], sort=True):
        # One set of fields a service type by each mode its standard names (drive, walk).
        label = f"{service_type} {mode}" if modes[service_type] > 1 else str(service_type)
        slug = _slug(label, taken)
        by_zone = rows.set_index("zone_id")
        before = table["zone_id"].map(by_zone["minutes_before"])
        after = table["zone_id"].map(by_zone["minutes_after"])
        within_before = table["zone_id"].map(by_zone["within_before"]).fillna(False)
        within_after = table["zone_id"].map(by_zone["within_after"]).fillna(False)
        values = {
            "before": before.astype(float),
            "after": after.astype(float),
            "change": (after - before).astype(float),
            "lost": within_before.astype(bool) & ~within_after.astype(bool),
        }
        limit = float(rows["max_minutes"].iloc[0])
        for measure in MEASURES:
            name = f"{slug}_{measure}"
            table[name] = values[measure].to_numpy()
            fields.append(ZoneField(name, str(service_type), measure, str(mode), limit))
    return (
        gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(zone_polygons(zones), crs=CRS), crs=CRS),
        tuple(fields),
    )


def catchment_layer(folder: RunFolder) -> gpd.GeoDataFrame:
    """Each zone joined to its nearest service of each type after the change."""
    table = folder.catchments if folder.catchments is not None else catchments(folder)
    columns = [
        "service_type",
        "mode",
        "zone_id",
        "building_id",
        "agency",
        "minutes",
        "agency_colour",
    ]
    b = folder.buildings.loc[~_withheld(folder.buildings)].set_index("building_id")
    if table is None or not len(table):
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=float if c == "minutes" else str) for c in columns},
            geometry=gpd.GeoSeries([], crs=CRS),
            crs=CRS,
        )
    rows = table.loc[table["building_id"].isin(b.index)].reset_index(drop=True)
    z = folder.zones.set_index("zone_id")
    colours = _colours(folder)
    agency = rows["building_id"].map(b["agency"])
    out = pd.DataFrame(
        {
            "service_type": rows["service_type"].astype(str),
            "mode": rows["mode"].astype(str) if "mode" in rows else "drive",
            "zone_id": rows["zone_id"].astype(str),
            "building_id": rows["building_id"].astype(str),
            "agency": agency.astype(str),
            "minutes": pd.to_numeric(rows.get("minutes", np.nan), errors="coerce"),
            "agency_colour": agency.map(colours).fillna("#333333"),
        }
    )
    lines = [
        LineString(
            [
                (z.at[zone, "easting"], z.at[zone, "northing"]),
                (b.at[bid, "easting"], b.at[bid, "northing"]),
            ]
        )
        for zone, bid in zip(out["zone_id"], out["building_id"], strict=True)
    ]
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(lines, crs=CRS), crs=CRS)


def _slug(text: str, taken: set[str]) -> str:
    """A field-name stem for a service type: lower-case letters, digits and ``_``."""
    stem = _SLUG.sub("_", text.lower()).strip("_")[:SLUG_CHARS] or "type"
    if stem[0].isdigit():
        stem = f"t_{stem}"[:SLUG_CHARS]
    slug, n = stem, 1
    while any(f"{slug}_{m}" in taken for m in MEASURES) or slug in taken:
        n += 1
        slug = f"{stem}_{n}"
    taken.update(f"{slug}_{m}" for m in MEASURES)
    return slug


def _numbers(frame: pd.DataFrame, keep_text: set[str]) -> pd.DataFrame:
    """Text columns that hold only numbers (or blanks) become numbers, ``true``/``false``
    columns booleans; columns named in ``keep_text`` (ids, names) stay as they are."""
    for col in frame.columns:
        if col in keep_text or frame[col].dtype.kind in "biufcM":
            continue
        text = frame[col].astype(str).str.strip()
        blank = text.isin(["", "nan", "None", "<NA>"])
        lower = text.str.lower()
        if (~blank).any() and lower[~blank].isin(["true", "false"]).all():
            frame[col] = lower.eq("true").astype("boolean").mask(blank)
            continue
        number = pd.to_numeric(text.where(~blank, None), errors="coerce")
        if (~blank).any() and number[~blank].notna().all():
            frame[col] = number.astype(float)
    return frame
