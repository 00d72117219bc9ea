"""What a building is used for: the canonical ``building_type`` vocabulary.

Registers name uses in many ways ("Civic Centre", "Health Centre", "Land and Building",
"Fire Station"); loading maps them to one of these types, and every table keyed by type
(unit rates for estimates, the space a building provides, default services) uses these
names and no others.  ``""`` means not known.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuildingType:
    name: str
    description: str
    public_facing: bool  # whether its usual occupant serves the public on site


BUILDING_TYPES: tuple[BuildingType, ...] = (
    BuildingType("office", "offices, civic centres, council and agency headquarters", False),
    BuildingType("library", "public libraries", True),
    BuildingType("gp_surgery", "GP practices and surgeries", True),
    BuildingType("health_centre", "health centres and community clinics", True),
    BuildingType("hospital", "hospitals and hospital sites", True),
    BuildingType("police_station", "police stations (custody suites among them)", True),
    BuildingType("fire_station", "fire stations", False),
    BuildingType("ambulance_station", "ambulance stations", False),
    BuildingType("jobcentre", "Jobcentre Plus offices", True),
    BuildingType("community_centre", "community, youth, children's and day centres", True),
    BuildingType("leisure_centre", "leisure centres and swimming pools", True),
    BuildingType("museum", "museums, galleries and archives", True),
    BuildingType("school", "schools and colleges", False),
    BuildingType("care_home", "residential and care homes", False),
    BuildingType("depot", "depots, stores, workshops and other operational sites", False),
    BuildingType("other", "a building of another use", False),
)

TYPE_NAMES: tuple[str, ...] = tuple(t.name for t in BUILDING_TYPES)


def building_type(name: str) -> BuildingType:
    """The type called ``name`` (a ``KeyError`` names the known types)."""
    for t in BUILDING_TYPES:
        if t.name == name:
            return t
    raise KeyError(f"unknown building type {name!r}; known: {', '.join(TYPE_NAMES)}")
