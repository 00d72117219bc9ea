"""The canonical register schema (MODEL.md section 2).

One :class:`Column` per canonical column: its type, whether it is required, its
default, and its unit.  Loading and validation read these specs; nothing else in
the project hard-codes the column list.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from estate.space_types import SPACE_TYPES

ColumnKind = Literal["text", "float", "bool", "date", "enum"]


@dataclass(frozen=True)
class Column:
    """One canonical column.

    ``default`` is used when the column is absent or a cell is blank; a required
    column has no default and a blank cell is an error.
    """

    name: str
    kind: ColumnKind
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """The columns of one canonical table, and the column that identifies a row."""

    name: str
    key: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


#: ``leasehold_out``: the body owns or leases the site and lets it to others; it does
#: not occupy it (see docs/registers.md, "Sites let to others").
TENURES = ("freehold", "leasehold", "leasehold_out")

BUILDINGS = TableSpec(
    name="buildings",
    key="building_id",
    columns=(
        Column("building_id", "text", required=True, description="unique id, kept as text"),
        Column("agency", "text", required=True, description="owning/occupying body"),
        Column("name", "text", default=""),
        Column(
            "building_type",
            "text",
            default="",
            description="use: one of estate.building_types.TYPE_NAMES, blank if unknown",
        ),
        Column("address", "text", default=""),
        Column("postcode", "text", default=""),
        Column("uprn", "text", default="", description="Unique Property Reference Number"),
        Column("lat", "float", minimum=-90, maximum=90, unit="degrees WGS84"),
        Column("lon", "float", minimum=-180, maximum=180, unit="degrees WGS84"),
        Column("easting", "float", unit="metres EPSG:27700"),
        Column("northing", "float", unit="metres EPSG:27700"),
        Column("tenure", "enum", default="freehold", choices=TENURES),
        Column("lease_end", "date"),
        Column("lease_break", "date"),
        Column("capacity_desks", "float", required=True, minimum=0, unit="workstations"),
        Column("gia_m2", "float", minimum=0, unit="m2"),
        Column("site_area_m2", "float", minimum=0, unit="m2", description="land area"),
        Column("running_cost", "float", required=True, minimum=0, unit="GBP/year"),
        Column("backlog_cost", "float", default=0.0, minimum=0, unit="GBP one-off"),
        Column("disposal_value", "float", default=0.0, minimum=0, unit="GBP"),
        Column("disposal_cost", "float", default=0.0, minimum=0, unit="GBP"),
        Column("dilapidations", "float", default=0.0, minimum=0, unit="GBP"),
        Column("can_host", "bool", default=True),
        Column("must_retain", "bool", default=False),
        Column("listed", "bool", default=False),
        Column("sensitive", "bool", default=False),
        Column("carbon_t", "float", default=0.0, minimum=0, unit="tCO2e/year"),
        Column(
            "space_m2",
            "text",
            default="",
            unit="m2 by space type",
            description="space it provides, e.g. 'clinical=320; office=60' "
            "(blank: the shares of gia_m2 its building_type gives; estate.space_types)",
        ),
        Column(
            "running_cost_fixed",
            "float",
            minimum=0,
            unit="GBP/year",
            description="the part of running_cost that does not depend on occupancy "
            "(blank: running_cost less the occupancy cost of the space in use today)",
        ),
    ),
)

#: A list of sites that is not a full register (public asset lists: libraries, fire
#: stations, GP practices): the same columns as ``BUILDINGS`` but only the id and the
#: agency are required; costs and capacity may be blank (to be estimated later).
ASSETS = TableSpec(
    name="assets",
    key="building_id",
    columns=tuple(
        replace(c, required=c.name in {"building_id", "agency"}) for c in BUILDINGS.columns
    ),
)

SERVICES = TableSpec(
    name="services",
    key="service_id",
    columns=(
        Column("service_id", "text", required=True),
        Column("agency", "text", required=True),
        Column("name", "text", default=""),
        Column("building_id", "text", required=True, description="where it is now"),
        Column("desks", "float", required=True, minimum=0, unit="workstations"),
        Column("service_type", "text", required=True),
        Column("public_facing", "bool", default=False),
        Column("movable", "bool", default=True),
        Column("move_cost", "float", minimum=0, unit="GBP one-off; blank = per-desk rate"),
        Column("exclusive", "bool", default=False),
        Column("divisible", "bool", default=False, description="may be split across buildings"),
        Column(
            "space_type",
            "enum",
            default="",
            choices=SPACE_TYPES,
            description="kind of space it needs (blank: by service_type; estate.space_types)",
        ),
        Column(
            "floor_m2",
            "float",
            minimum=0,
            unit="m2",
            description="floor area of its space type it needs (blank: desks x m2 per desk "
            "of its service type)",
        ),
    ),
)

ZONES = TableSpec(
    name="zones",
    key="zone_id",
    columns=(
        Column("zone_id", "text", required=True),
        Column("name", "text", default=""),
        Column("population", "float", required=True, minimum=0, unit="people"),
        Column("lat", "float", minimum=-90, maximum=90, unit="degrees WGS84"),
        Column("lon", "float", minimum=-180, maximum=180, unit="degrees WGS84"),
        Column("easting", "float", unit="metres EPSG:27700"),
        Column("northing", "float", unit="metres EPSG:27700"),
        Column("weight", "float", default=1.0, minimum=0, description="need weight"),
    ),
)
