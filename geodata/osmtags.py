"""OpenStreetMap tag values as numbers and rules: speed limits, one-way, who may use a way.

Tags arrive as text from every source: ``"30 mph"``, ``"50"``, ``"national"``,
``"30;40"``, and from graphml files written by older osmnx versions as Python list
literals (``"['30 mph', '40 mph']"``) or ``"True"``.  These functions parse them and
never raise: an unusable value gives ``nan`` (or the safe default) and the caller
counts it, so the reader can say how many values it could not use.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping

MPH = 1.609344  # km per mile

# UK national speed limits (Highway Code), km/h.
NSL_SINGLE_KPH = 60 * MPH
NSL_DUAL_KPH = 70 * MPH

# Classes a car may use, and all classes that make up the routable network; anything
# else (proposed roads, platforms, raceways, ...) is not a road.
DRIVE_CLASSES = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
    }
)
ROAD_CLASSES = DRIVE_CLASSES | {
    "track",
    "busway",
    "footway",
    "path",
    "pedestrian",
    "steps",
    "cycleway",
    "bridleway",
}
WALK_BARRED_CLASSES = frozenset({"motorway", "motorway_link", "busway"})
# Private service roads: car parks and driveways lead nowhere public.
PRIVATE_SERVICE = frozenset({"parking_aisle", "driveway", "emergency_access", "private"})

_NO = frozenset({"no", "private", "agricultural", "forestry", "delivery", "customers"})
_YES = frozenset({"yes", "designated", "permissive", "destination", "public"})
_SPEED = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>mph|km/h|kmh|kph|knots)?\s*$")


def as_list(value: object) -> list[str]:
    """Split a tag value into its parts: ``"a;b"``, ``"['a', 'b']"``, a list, or one value."""
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, list):
            return [str(v).strip() for v in parsed if str(v).strip()]
    return [part.strip() for part in text.split(";") if part.strip()]


def first(value: object) -> str:
    """The first part of a tag value (``""`` when empty); osmnx does the same for lists."""
    parts = as_list(value)
    return parts[0] if parts else ""


def national_limit_kph(highway: str, oneway: bool) -> float:
    """The UK national speed limit for a road class: 70 mph on motorways and dual
    carriageways (mapped as one-way ways), 60 mph on single carriageways."""
    dual = highway.startswith("motorway") or (oneway and highway in {"trunk", "primary"})
    return NSL_DUAL_KPH if dual else NSL_SINGLE_KPH


def _one_speed(text: str, highway: str, oneway: bool) -> float:
    word = text.strip().lower()
    if word in {"national", "gb:national", "uk:national", "gb:nsl", "uk:nsl"}:
        return national_limit_kph(highway, oneway)
    if word in {"gb:nsl_single", "uk:nsl_single", "gb:nsl_restricted"}:
        return NSL_SINGLE_KPH
    if word in {"gb:nsl_dual", "uk:nsl_dual", "gb:motorway", "uk:motorway"}:
        return NSL_DUAL_KPH
    match = _SPEED.match(word.replace("mph", " mph"))
    if match is None:
        return math.nan
    number = float(match["num"])
    unit = match["unit"] or "km/h"
    if unit == "mph":
        return number * MPH
    if unit == "knots":
        return number * 1.852
    return number


def parse_maxspeed(value: object, highway: str = "", oneway: bool = False) -> float:
    """A ``maxspeed`` tag in km/h, or ``nan`` when it gives no usable number.

    ``"30 mph"`` -> 48.28; ``"50"`` -> 50 (km/h is OSM's default unit); ``"national"``
    -> the UK national limit for the road class; several values (``"30;40"``, a list)
    -> their mean, as osmnx does.  ``"none"``, ``"signals"``, ``"walk"`` and the like
    give ``nan`` (the road-class default applies).
    """
    speeds = [_one_speed(part, highway, oneway) for part in as_list(value)]
    usable = [s for s in speeds if s > 0 and math.isfinite(s)]
    return sum(usable) / len(usable) if usable else math.nan


def parse_oneway(value: object, tags: Mapping[str, object] | None = None) -> int:
    """``1`` one way along the way's node order, ``-1`` against it, ``0`` both ways.

    Roundabouts and motorways are one-way unless tagged otherwise.  ``"True"`` /
    ``"False"`` (graphml text) are understood.
    """
    word = first(value).lower()
    if word in {"yes", "true", "1"}:
        return 1
    if word in {"-1", "reverse"}:
        return -1
    if word in {"no", "false", "0", "reversible", "alternating"}:
        return 0
    tags = tags or {}
    if first(tags.get("junction", "")).lower() in {"roundabout", "circular"}:
        return 1
    if first(tags.get("highway", "")).lower() == "motorway":
        return 1
    return 0


def _says(tags: Mapping[str, object], keys: tuple[str, ...], words: frozenset[str]) -> bool:
    return any(first(tags.get(key, "")).lower() in words for key in keys)


def drivable(tags: Mapping[str, object]) -> bool:
    """May a car use this way? Road class first, then access, then private service roads."""
    highway = first(tags.get("highway", "")).lower()
    if highway not in DRIVE_CLASSES or first(tags.get("area", "")).lower() == "yes":
        return False
    specific = ("motor_vehicle", "motorcar")
    if _says(tags, specific, _YES):
        return True
    if _says(tags, (*specific, "access", "vehicle"), _NO):
        return False
    return not (highway == "service" and first(tags.get("service", "")).lower() in PRIVATE_SERVICE)


def walkable(tags: Mapping[str, object]) -> bool:
    """May a person walk along this way? Not on motorways, nor where foot or access says no."""
    highway = first(tags.get("highway", "")).lower()
    if highway not in ROAD_CLASSES or highway in WALK_BARRED_CLASSES:
        return False
    if _says(tags, ("foot",), _YES):
        return True
    return not _says(tags, ("foot", "access"), _NO)
