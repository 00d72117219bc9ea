"""Zones, road networks and travel times."""

from geodata.network import RoadNetwork
from geodata.traveltime import TravelTimes, estimated_travel_times, network_travel_times
from geodata.zones import points, validate_zones

__all__ = [
    "RoadNetwork",
    "TravelTimes",
    "estimated_travel_times",
    "network_travel_times",
    "points",
    "validate_zones",
]
