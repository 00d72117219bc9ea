"""What space a service needs and what space a building provides: the default table.

A GP practice needs consulting rooms, not workstations; a library needs its floor; a
custody suite cannot go into an office.  Every service states a **space type** (the
``space_type`` column, by default from its ``service_type``) and the floor area of it
that it needs (``floor_m2``; by default the space of that type it has today: its share,
by desks, of its building's; or ``desks`` x the m2 per desk below where its building has
none).  Every
building provides floor area of each space type: by default a share of its gross
internal area (``gia_m2``) set by its ``building_type``, or what its ``space_m2`` cell
says (``clinical=320; office=60``).  A building may have a kind of space it lacks
fitted out of another (an office can take a library, at a cost per m2 and after a lead
time); it can never take a kind of space its type does not allow (an office cannot take
a custody suite).

The same table splits each building's running cost into a fixed part and a part per
occupied m2 (cleaning, energy, soft FM): ``occupancy_cost_per_m2``.  Hosting a
service costs the host that much a year per m2 the service occupies; emptying a
building saves that part only, the rest is saved only when the building goes.

Every figure here is a planning default, documented in ``docs/model.md`` (the tables
there are :func:`markdown_tables`, and a test keeps them equal); override it per row (the
register columns) or per scenario (the ``space:`` section).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from estate.building_types import TYPE_NAMES


@dataclass(frozen=True)
class SpaceType:
    name: str
    description: str


SPACE_TYPES_INFO: tuple[SpaceType, ...] = (
    SpaceType("office", "workstations and meeting rooms (back-office teams)"),
    SpaceType("public_counter", "reception, front counters and interview rooms open to the public"),
    SpaceType("clinical", "consulting and treatment rooms, wards"),
    SpaceType("library", "library floor: shelving, study and children's areas"),
    SpaceType("community", "halls, activity rooms and galleries"),
    SpaceType("operational", "appliance bays, custody suites, depots, yards and control rooms"),
    SpaceType("residential", "bedrooms and living space (refuges, care homes)"),
)
SPACE_TYPES: tuple[str, ...] = tuple(t.name for t in SPACE_TYPES_INFO)


@dataclass(frozen=True)
class Conversion:
    """Space of type ``to`` fitted out of a building's ``source`` space."""

    to: str
    source: str
    cost_per_m2: float  # GBP one-off, before optimism bias
    lead_years: int  # years of works before the space can be used


@dataclass(frozen=True)
class BuildingSpace:
    """What a building of one type provides, and what its running cost is made of."""

    provides: dict[str, float]  # space type -> share of the gross internal area
    conversions: tuple[Conversion, ...] = ()
    occupancy_cost_per_m2: float = 0.0  # GBP a year per occupied m2


@dataclass(frozen=True)
class ServiceSpace:
    """What a service of one type needs."""

    space_type: str
    m2_per_desk: float  # floor area of its space type per desk, when floor_m2 is blank


def _c(to: str, source: str, cost: float, lead: int) -> Conversion:
    return Conversion(to, source, cost, lead)


#: The default space of each building type (keys: ``estate.building_types.TYPE_NAMES``).
BUILDING_SPACE: dict[str, BuildingSpace] = {
    "office": BuildingSpace(
        {"office": 0.70, "public_counter": 0.08},
        (
            _c("library", "office", 700.0, 1),
            _c("community", "office", 500.0, 1),
            _c("clinical", "office", 1_800.0, 2),
        ),
        45.0,
    ),
    "library": BuildingSpace(
        {"library": 0.70, "public_counter": 0.08, "office": 0.07, "community": 0.05}, (), 40.0
    ),
    "gp_surgery": BuildingSpace(
        {"clinical": 0.65, "office": 0.08, "public_counter": 0.07}, (), 60.0
    ),
    "health_centre": BuildingSpace(
        {"clinical": 0.60, "office": 0.10, "public_counter": 0.07, "community": 0.05}, (), 60.0
    ),
    "hospital": BuildingSpace({"clinical": 0.60, "office": 0.12, "public_counter": 0.03}, (), 90.0),
    "police_station": BuildingSpace(
        {"operational": 0.35, "office": 0.35, "public_counter": 0.08}, (), 50.0
    ),
    "fire_station": BuildingSpace(
        {"operational": 0.60, "office": 0.12, "community": 0.05}, (), 30.0
    ),
    "ambulance_station": BuildingSpace({"operational": 0.60, "office": 0.12}, (), 30.0),
    "jobcentre": BuildingSpace({"public_counter": 0.50, "office": 0.25}, (), 45.0),
    "community_centre": BuildingSpace(
        {"community": 0.60, "office": 0.08, "public_counter": 0.05},
        (_c("library", "community", 600.0, 1), _c("clinical", "community", 1_800.0, 2)),
        40.0,
    ),
    "leisure_centre": BuildingSpace(
        {"community": 0.70, "public_counter": 0.03, "office": 0.03}, (), 60.0
    ),
    "museum": BuildingSpace({"community": 0.60, "office": 0.08, "public_counter": 0.04}, (), 40.0),
    "school": BuildingSpace({"office": 0.05}, (), 40.0),
    "care_home": BuildingSpace({"residential": 0.70, "office": 0.05}, (), 70.0),
    "depot": BuildingSpace({"operational": 0.75, "office": 0.10}, (), 25.0),
    "other": BuildingSpace(
        {"office": 0.50, "community": 0.20},
        (
            _c("public_counter", "office", 450.0, 1),
            _c("library", "office", 700.0, 1),
            _c("clinical", "office", 1_800.0, 2),
        ),
        45.0,
    ),
}

#: The default need of each service type; other types use :data:`DEFAULT_SERVICE_SPACE`.
SERVICE_SPACE: dict[str, ServiceSpace] = {
    "back_office": ServiceSpace("office", 10.0),
    "council_front_office": ServiceSpace("public_counter", 6.0),
    "police_front_counter": ServiceSpace("public_counter", 6.0),
    "jobcentre": ServiceSpace("public_counter", 8.0),
    "gp": ServiceSpace("clinical", 25.0),
    "clinical": ServiceSpace("clinical", 25.0),
    "hospital": ServiceSpace("clinical", 30.0),
    "library": ServiceSpace("library", 30.0),
    "museum": ServiceSpace("community", 40.0),
    "community": ServiceSpace("community", 30.0),
    "custody": ServiceSpace("operational", 30.0),
    "operational": ServiceSpace("operational", 40.0),
    "fire_station": ServiceSpace("operational", 40.0),
    "fire_operations": ServiceSpace("operational", 40.0),
    "refuge": ServiceSpace("residential", 30.0),
}
#: A service type not in :data:`SERVICE_SPACE`: public-facing ones need a public
#: counter, the others office space.
DEFAULT_SERVICE_SPACE = {
    True: ServiceSpace("public_counter", 6.0),
    False: ServiceSpace("office", 10.0),
}
#: Gross internal area assumed per desk of ``capacity_desks`` when ``gia_m2`` is blank.
GIA_PER_DESK_M2 = 15.0

_ITEM = re.compile(r"^\s*(?P<type>[a-z_]+)\s*[=:]\s*(?P<m2>[0-9][0-9,]*(?:\.[0-9]*)?)\s*$")


def parse_space(text: str) -> dict[str, float]:
    """The ``space_m2`` cell of a building: ``"clinical=320; office=60"`` -> m2 by type.

    Items are separated by ``;`` (or ``|``); each is a space type, ``=`` (or ``:``) and
    square metres.  Raises ``ValueError`` with a message fit for a user.
    """
    out: dict[str, float] = {}
    for item in re.split(r"[;|]", text):
        if not item.strip():
            continue
        match = _ITEM.match(item.strip().lower())
        if not match:
            raise ValueError(
                f"{item.strip()!r} is not 'space_type=m2' (for example clinical=320; office=60)"
            )
        name, m2 = match["type"], float(match["m2"].replace(",", ""))
        if name not in SPACE_TYPES:
            raise ValueError(f"unknown space type {name!r}; known: {', '.join(SPACE_TYPES)}")
        if name in out:
            raise ValueError(f"space type {name!r} is given twice")
        out[name] = m2
    return out


def markdown_tables() -> str:
    """The default tables as Markdown (the text in ``docs/model.md``)."""
    lines = ["| space type | what it is |", "|---|---|"]
    lines += [f"| `{t.name}` | {t.description} |" for t in SPACE_TYPES_INFO]
    lines += [
        "",
        "| building type | provides (share of GIA) | may be fitted out (£/m², lead years) "
        "| occupancy cost £/m²/year |",
        "|---|---|---|---|",
    ]
    for name in TYPE_NAMES:
        spec = BUILDING_SPACE[name]
        provides = ", ".join(f"{t} {share:.2f}" for t, share in spec.provides.items())
        fits = ", ".join(
            f"{c.to} from {c.source} (£{c.cost_per_m2:,.0f}, {c.lead_years} y)"
            for c in spec.conversions
        )
        lines.append(
            f"| `{name}` | {provides} | {fits or 'none'} | {spec.occupancy_cost_per_m2:,.0f} |"
        )
    lines += [
        "",
        "| service type | space type | m² per desk (if the building it is in has none) |",
        "|---|---|---|",
    ]
    for name, need in SERVICE_SPACE.items():
        lines.append(f"| `{name}` | {need.space_type} | {need.m2_per_desk:g} |")
    for public, need in DEFAULT_SERVICE_SPACE.items():
        label = "any other public-facing type" if public else "any other type"
        lines.append(f"| {label} | {need.space_type} | {need.m2_per_desk:g} |")
    return "\n".join(lines) + "\n"


def _check() -> None:
    """The table is keyed on the known vocabularies only (run at import)."""
    if set(BUILDING_SPACE) != set(TYPE_NAMES):
        raise AssertionError("BUILDING_SPACE must have one entry per building type")
    for spec in BUILDING_SPACE.values():
        known = set(spec.provides) | {c.to for c in spec.conversions}
        known |= {c.source for c in spec.conversions}
        if not known <= set(SPACE_TYPES):
            raise AssertionError(f"unknown space types in {spec}")
    for need in [*SERVICE_SPACE.values(), *DEFAULT_SERVICE_SPACE.values()]:
        if need.space_type not in SPACE_TYPES:
            raise AssertionError(f"unknown space type {need.space_type}")


_check()
