"""Zones, road networks and travel times."""

from estate import __version__
from geodata.network import RoadNetwork
from geodata.traveltime import (
    TravelTable,
    TravelTimes,
    estimated_travel_times,
    network_travel_table,
    network_travel_times,
)
from geodata.zones import LoadedZones, points, read_zones, synthetic_zones, validate_zones

__all__ = [
    "LoadedZones",
    "RoadNetwork",
    "TravelTable",
    "TravelTimes",
    "__version__",
    "estimated_travel_times",
    "network_travel_table",
    "network_travel_times",
    "points",
    "read_zones",
    "synthetic_zones",
    "validate_zones",
]
