"""Seeded synthetic estates at district, county and region sizes, for benchmarks.

A scaled-up cousin of the demo place: settlements of varied size, zones around them
weighted by population, five agencies' buildings (offices, libraries, surgeries,
police and fire stations, job centres) with tenures, leases, capacities and costs drawn
from the same ranges as the demo, and 3 services a building on average.  Travel
times are straight-line estimates (distance x 1.3 at 40 km/h), labelled as such: the
point is the size and shape of the optimisation, not the roads.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from estate.coords import bng_to_lonlat
from estate.register import Register
from geodata.traveltime import TravelTimes, estimated_travel_times
from geodata.zones import points, validate_zones
from optimise.settings import AccessStandard, FinanceSettings, Mode, PolicySettings

SIZES: dict[str, tuple[int, int, int]] = {
    "district": (60, 180, 80),
    "county": (1_000, 3_000, 500),
    "region": (5_000, 15_000, 3_000),
}
ORIGIN = (380_000.0, 250_000.0)
OCCUPANCY = (0.55, 0.9)  # share of desks in use today, drawn per building

ACCESS = {
    "gp": AccessStandard(max_minutes=15, max_loss=0.0),
    "library": AccessStandard(max_minutes=20, max_loss=0.02),
    "council_front_office": AccessStandard(max_minutes=25, max_loss=0.0),
    "police_front_counter": AccessStandard(max_minutes=30, min_share=0.9),
    "jobcentre": AccessStandard(max_minutes=35, min_share=0.9),
}
POLICY = PolicySettings(sharing="shared", utilisation=0.95, move_radius_km=10.0, k_nearest=12)

# kind: (agency, share of buildings, public service type or "", m2 per desk, GBP/m2/yr,
#        can_host, leasehold probability)
KINDS: dict[str, tuple[str, float, str, float, float, bool, float]] = {
    "council_office": ("council", 0.12, "council_front_office", 11, 210, True, 0.4),
    "library": ("council", 0.12, "library", 24, 145, True, 0.1),
    "depot": ("council", 0.03, "", 45, 75, False, 0.1),
    "gp_surgery": ("nhs", 0.22, "gp", 20, 190, True, 0.5),
    "nhs_office": ("nhs", 0.08, "", 10, 230, True, 0.7),
    "clinic": ("nhs", 0.06, "", 25, 260, False, 0.3),
    "police_station": ("police", 0.08, "police_front_counter", 14, 200, True, 0.1),
    "police_office": ("police", 0.05, "", 10, 225, True, 0.6),
    "fire_station": ("fire", 0.10, "", 35, 105, True, 0.0),
    "fire_office": ("fire", 0.03, "", 11, 200, True, 0.3),
    "jobcentre": ("dwp", 0.11, "jobcentre", 14, 240, True, 0.9),
}
# Each kind's building type (estate.building_types): the space it provides follows.
BUILDING_TYPE: dict[str, str] = {
    "council_office": "office",
    "library": "library",
    "depot": "depot",
    "gp_surgery": "gp_surgery",
    "nhs_office": "office",
    "clinic": "health_centre",
    "police_station": "police_station",
    "police_office": "office",
    "fire_station": "fire_station",
    "fire_office": "office",
    "jobcentre": "jobcentre",
}


@dataclass(frozen=True)
class SyntheticEstate:
    """A generated estate with its straight-line travel times and the settings to use."""

    name: str
    seed: int
    register: Register
    zones: pd.DataFrame
    travel: dict[Mode, TravelTimes]
    access: dict[str, AccessStandard]
    finance: FinanceSettings
    policy: PolicySettings


def synthetic_estate(size: str | tuple[int, int, int], seed: int = 0) -> SyntheticEstate:
    """Generate an estate of ``size`` (a name in :data:`SIZES` or (buildings, services,
    zones)) from ``seed``; the same arguments give the same estate."""
    n_b, n_s, n_z = SIZES[size] if isinstance(size, str) else size
    rng = np.random.default_rng(seed)
    side_km = 12.0 * math.sqrt(n_b / 60.0) + 10.0
    centres, weights = _settlements(rng, max(3, n_b // 25), side_km)
    zones = validate_zones(_zones(rng, n_z, centres, weights), "synthetic zones")
    buildings, services = _register(rng, n_b, n_s, centres, weights)
    register = Register.from_frames(
        buildings, services, "synthetic buildings", "synthetic services"
    )
    origins = points(zones, "zone_id")
    destinations = points(register.buildings, "building_id")
    travel: dict[Mode, TravelTimes] = {
        "drive": estimated_travel_times(origins, destinations, "drive")
    }
    name = size if isinstance(size, str) else f"{n_b}x{n_s}x{n_z}"
    return SyntheticEstate(
        f"synthetic {name} estate (seed {seed})",
        seed,
        register,
        zones,
        travel,
        dict(ACCESS),
        FinanceSettings(),
        POLICY,
    )


def _settlements(rng: np.random.Generator, n: int, side_km: float) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(0, side_km * 1000.0, size=(n, 2)) + np.asarray(ORIGIN)
    weights = rng.pareto(1.2, size=n) + 1.0
    return xy, weights / weights.sum()


def _near(rng: np.random.Generator, centres: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    which = rng.choice(len(centres), size=n, p=weights)
    spread = 600.0 + 2500.0 * np.sqrt(weights[which] * len(weights))
    return centres[which] + rng.normal(0, 1, size=(n, 2)) * spread[:, None] * 0.5


def _zones(
    rng: np.random.Generator, n: int, centres: np.ndarray, weights: np.ndarray
) -> pd.DataFrame:
    xy = _near(rng, centres, weights, n)
    return pd.DataFrame(
        {
            "zone_id": [f"SZ{i + 1:05d}" for i in range(n)],
            "name": [f"Zone {i + 1}" for i in range(n)],
            "easting": xy[:, 0].round(1),
            "northing": xy[:, 1].round(1),
            "population": rng.integers(1_000, 3_000, size=n).astype(float),
        }
    )


def _register(
    rng: np.random.Generator,
    n_b: int,
    n_s: int,
    centres: np.ndarray,
    weights: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    kinds = list(KINDS)
    shares = np.array([KINDS[k][1] for k in kinds])
    kind_of = rng.choice(len(kinds), size=n_b, p=shares / shares.sum())
    xy = _near(rng, centres, weights, n_b)
    lon, lat = bng_to_lonlat(xy[:, 0], xy[:, 1])
    # Every building has its own public service (if its kind has one); the rest of the
    # services are back-office teams spread over buildings.
    public = np.array([KINDS[kinds[k]][2] != "" for k in kind_of])
    n_back = max(0, n_s - int(public.sum()))
    back_home = rng.choice(n_b, size=n_back, p=_office_weights(kinds, kind_of))
    base = FinanceSettings().base_date
    s_rows: list[dict[str, object]] = []
    b_rows: list[dict[str, object]] = []
    for i in range(n_b):
        kind = kinds[kind_of[i]]
        agency, _, service_type, m2_desk, rate, can_host, p_lease = KINDS[kind]
        teams: list[tuple[str, str, int, bool]] = []
        if service_type:
            teams.append((service_type, service_type, int(rng.integers(4, 25)), True))
        for _ in range(int((back_home == i).sum())):
            teams.append(("team", "back_office", int(rng.integers(3, 25)), False))
        if kind in ("fire_station", "depot", "clinic") and teams:
            teams[0] = (kind, "operational", teams[0][2], False)
        desks = sum(t[2] for t in teams) or 1
        capacity = math.ceil(desks / rng.uniform(*OCCUPANCY))
        gia = round(capacity * m2_desk * rng.uniform(0.9, 1.1))
        tenure = "leasehold" if rng.random() < p_lease else "freehold"
        b_id = f"B{i + 1:05d}"
        b_rows.append(
            _building(
                rng,
                b_id,
                agency,
                kind,
                tenure,
                xy[i],
                lon[i],
                lat[i],
                capacity,
                gia,
                rate,
                can_host,
                base,
            )
        )
        for t, (team, service_type, d, public_facing) in enumerate(teams):
            s_rows.append(
                {
                    "service_id": f"S{len(s_rows) + 1:06d}",
                    "agency": agency,
                    "name": f"{b_id} {team} {t + 1}",
                    "building_id": b_id,
                    "desks": d,
                    "service_type": service_type,
                    "public_facing": public_facing,
                    "movable": service_type != "operational",
                    "exclusive": kind == "clinic",
                }
            )
    return pd.DataFrame(b_rows), pd.DataFrame(s_rows)


def _office_weights(kinds: list[str], kind_of: np.ndarray) -> np.ndarray:
    w = np.array([3.0 if "office" in kinds[k] else 1.0 for k in kind_of])
    return w / w.sum()


def _building(
    rng: np.random.Generator,
    b_id: str,
    agency: str,
    kind: str,
    tenure: str,
    xy: np.ndarray,
    lon: float,
    lat: float,
    capacity: int,
    gia: float,
    rate: float,
    can_host: bool,
    base: dt.date,
) -> dict[str, object]:
    value = round(gia * rng.uniform(900, 1_800), -3) if tenure == "freehold" else 0.0
    lease_end = lease_break = ""
    if tenure == "leasehold":
        end = base + dt.timedelta(days=int(rng.integers(200, 365 * 15)))
        lease_end = end.isoformat()
        if rng.random() < 0.4 and (end - base).days > 3 * 365:
            lease_break = (
                base + dt.timedelta(days=int(rng.integers(365, (end - base).days - 365)))
            ).isoformat()
    return {
        "building_id": b_id,
        "agency": agency,
        "name": f"{kind.replace('_', ' ').title()} {b_id}",
        "building_type": BUILDING_TYPE[kind],
        "lat": round(float(lat), 6),
        "lon": round(float(lon), 6),
        "easting": round(float(xy[0]), 1),
        "northing": round(float(xy[1]), 1),
        "tenure": tenure,
        "lease_end": lease_end,
        "lease_break": lease_break,
        "capacity_desks": capacity,
        "gia_m2": gia,
        "running_cost": round(gia * rate * rng.uniform(0.85, 1.15), -2),
        "backlog_cost": round(gia * 260 * rng.uniform(0, 1) ** 2, -3),
        "disposal_value": value,
        "disposal_cost": round(value * 0.025 + 15_000, -2) if value else 0.0,
        "dilapidations": round(gia * rng.uniform(40, 90), -2) if tenure == "leasehold" else 0.0,
        "can_host": can_host,
        "must_retain": kind == "clinic",
        "carbon_t": round(gia * rng.uniform(0.03, 0.07), 1),
    }
