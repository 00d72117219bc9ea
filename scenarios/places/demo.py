"""The embedded demo place: a synthetic district generated in code from a seed.

"Demo Vale" has a county town, two market towns, villages and farmland; a road
network with road classes and speeds; five public bodies (council, NHS, police, fire,
DWP) and their buildings and services, with tenures, leases, costs and backlog drawn
from stated ranges.  It is not a real place: every output of a demo run says so.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse.csgraph import minimum_spanning_tree

from estate.coords import bng_to_lonlat
from estate.register import Register
from geodata.network import RoadNetwork
from geodata.zones import validate_zones
from optimise.settings import AccessStandard, FinanceSettings, PolicySettings

DEFAULT_SEED = 2026
PLACE_NAME = "Demo Vale"
ORIGIN_BNG = (440_000.0, 300_000.0)  # south-west corner of the district, metres


def synthetic_notice(seed: int) -> str:
    return (
        f"SYNTHETIC DATA: '{PLACE_NAME}' is an invented place generated from seed {seed}. "
        "Its buildings, services, costs, roads and people are not real."
    )


@dataclass(frozen=True)
class Settlement:
    name: str
    kind: str  # "county_town" | "market_town" | "village"
    x: float
    y: float
    population: int
    radius_m: float


@dataclass(frozen=True)
class DemoPlace:
    """A generated place: register, zones, road network and the standards to apply."""

    seed: int
    name: str
    register: Register
    zones: pd.DataFrame
    network: RoadNetwork
    settlements: list[Settlement]
    access: dict[str, AccessStandard | None]
    finance: FinanceSettings = field(default_factory=FinanceSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)

    @property
    def notice(self) -> str:
        return synthetic_notice(self.seed)


DEMO_ACCESS: dict[str, AccessStandard | None] = {
    # Nobody loses a library or GP within 10 minutes' drive or 20 minutes' walk; no
    # community ends up more than 10 minutes further from either by car, and those who
    # walk to their library today keep one no more than 10 minutes' further walk away.
    "library": AccessStandard(drive=10, walk=20, max_loss=0.0, max_increase_minutes=10),
    "gp": AccessStandard(
        drive=10, walk=20, max_loss=0.0, max_increase_minutes=10, modes=("drive",)
    ),
    "council_front_office": AccessStandard(drive=15, max_loss=0.0),
    "police_front_counter": AccessStandard(drive=20, min_share=0.9),
    "jobcentre": AccessStandard(drive=30, min_share=0.95),
    "clinical": None,  # the hospital's wards and clinics cannot move: no standard to keep
}
# The demo's building kinds as building types (estate.building_types): the space each
# provides follows from the type (estate.space_types).
BUILDING_TYPE = {
    "office": "office",
    "library": "library",
    "depot": "depot",
    "refuge": "care_home",
    "hospital": "hospital",
    "gp": "gp_surgery",
    "police_station": "police_station",
    "fire_station": "fire_station",
    "jobcentre": "jobcentre",
}
DEMO_POLICY = PolicySettings(sharing="shared", utilisation=0.95, move_radius_km=15.0)

_VILLAGES = [
    "Kingsley",
    "Oakhurst",
    "Thornby",
    "Welby",
    "Hallam Green",
    "Brockton",
    "Fenby",
    "Stowe Parva",
    "Little Marsh",
    "Upper Dean",
]


def demo_place(seed: int = DEFAULT_SEED) -> DemoPlace:
    """Generate Demo Vale from ``seed``; the same seed gives the same place."""
    rng = np.random.default_rng(seed)
    settlements = _settlements(rng)
    network, hamlets = _network(rng, settlements)
    zones = validate_zones(_zones(rng, settlements, hamlets), "demo zones")
    buildings, services = _register(rng, settlements)
    register = Register.from_frames(buildings, services, "demo buildings", "demo services")
    return DemoPlace(
        seed=seed,
        name=PLACE_NAME,
        register=register,
        zones=zones,
        network=network,
        settlements=settlements,
        access=dict(DEMO_ACCESS),
        policy=DEMO_POLICY,
    )


# --- settlements -----------------------------------------------------------------


def _settlements(rng: np.random.Generator) -> list[Settlement]:
    ox, oy = ORIGIN_BNG
    width, height = 30_000.0, 24_000.0
    towns = [
        Settlement("Ashbury", "county_town", ox + 15_000, oy + 12_000, 42_000, 2_300.0),
    ]
    for name, pop in (("Northwold", 14_000), ("Elmford", 10_000)):
        while True:
            angle = rng.uniform(0, 2 * math.pi)
            dist = rng.uniform(8_000, 11_000)
            x = towns[0].x + dist * math.cos(angle)
            y = towns[0].y + dist * math.sin(angle)
            inside = ox + 2_000 < x < ox + width - 2_000 and oy + 2_000 < y < oy + height - 2_000
            if inside and all(math.hypot(x - t.x, y - t.y) > 8_000 for t in towns):
                towns.append(Settlement(name, "market_town", x, y, pop, 1_300.0))
                break
    villages: list[Settlement] = []
    for name in _VILLAGES[:8]:
        while True:
            x = ox + rng.uniform(1_500, width - 1_500)
            y = oy + rng.uniform(1_500, height - 1_500)
            clear = all(math.hypot(x - s.x, y - s.y) > s.radius_m + 2_500 for s in towns + villages)
            if clear:
                pop = int(rng.integers(700, 2_600))
                villages.append(Settlement(name, "village", x, y, pop, 350.0))
                break
    return towns + villages


# --- road network --------------------------------------------------------------------


class _NetworkBuilder:
    def __init__(self) -> None:
        self.xy: list[tuple[float, float]] = []
        self.edges: list[tuple[int, int, float, str, float]] = []

    def node(self, x: float, y: float) -> int:
        self.xy.append((x, y))
        return len(self.xy) - 1

    def road(self, u: int, v: int, highway: str, maxspeed_kph: float = math.nan) -> None:
        (x1, y1), (x2, y2) = self.xy[u], self.xy[v]
        length = math.hypot(x2 - x1, y2 - y1)
        self.edges.append((u, v, length, highway, maxspeed_kph))
        self.edges.append((v, u, length, highway, maxspeed_kph))

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        nodes = pd.DataFrame(self.xy, columns=["x", "y"])
        nodes.insert(0, "node_id", np.arange(len(nodes), dtype=np.int64))
        edges = pd.DataFrame(self.edges, columns=["u", "v", "length_m", "highway", "maxspeed_kph"])
        return nodes, edges


def _town_grid(
    rng: np.random.Generator, net: _NetworkBuilder, s: Settlement
) -> dict[tuple[int, int], int]:
    spacing = 150.0 if s.kind == "village" else 220.0
    steps = int(s.radius_m // spacing)
    grid: dict[tuple[int, int], int] = {}
    for i in range(-steps, steps + 1):
        for j in range(-steps, steps + 1):
            if math.hypot(i, j) * spacing <= s.radius_m:
                jitter = rng.normal(0, spacing * 0.08, size=2)
                grid[(i, j)] = net.node(
                    s.x + i * spacing + jitter[0], s.y + j * spacing + jitter[1]
                )
    main_class = {"county_town": "primary", "market_town": "secondary", "village": "tertiary"}[
        s.kind
    ]
    for (i, j), u in grid.items():
        for di, dj in ((1, 0), (0, 1)):
            v = grid.get((i + di, j + dj))
            if v is None:
                continue
            through = (dj == 0 and j == 0) or (di == 0 and i == 0)
            if through:
                net.road(u, v, main_class, 48.0)  # 30 mph through the centre
            elif rng.random() > 0.08 or s.kind == "village":
                net.road(u, v, "residential")
    return grid


def _link(
    rng: np.random.Generator,
    net: _NetworkBuilder,
    a: int,
    b: int,
    highway: str,
) -> list[int]:
    (x1, y1), (x2, y2) = net.xy[a], net.xy[b]
    length = math.hypot(x2 - x1, y2 - y1)
    pieces = max(2, int(length // 400))
    bend = rng.uniform(-0.06, 0.06) * length
    nx, ny = -(y2 - y1) / length, (x2 - x1) / length
    previous, inner = a, []
    for k in range(1, pieces):
        t = k / pieces
        wiggle = bend * math.sin(math.pi * t) + rng.normal(0, 25)
        n = net.node(x1 + t * (x2 - x1) + wiggle * nx, y1 + t * (y2 - y1) + wiggle * ny)
        net.road(previous, n, highway)
        previous = n
        inner.append(n)
    net.road(previous, b, highway)
    return inner


def _nearest(grid: dict[tuple[int, int], int], net: _NetworkBuilder, x: float, y: float) -> int:
    ids = list(grid.values())
    xy = np.array([net.xy[i] for i in ids])
    return ids[int(np.argmin(np.hypot(xy[:, 0] - x, xy[:, 1] - y)))]


def _network(
    rng: np.random.Generator, settlements: list[Settlement]
) -> tuple[RoadNetwork, list[tuple[float, float]]]:
    net = _NetworkBuilder()
    grids = [_town_grid(rng, net, s) for s in settlements]
    centres = np.array([(s.x, s.y) for s in settlements])
    dist = np.hypot(
        centres[:, None, 0] - centres[None, :, 0], centres[:, None, 1] - centres[None, :, 1]
    )
    tree = minimum_spanning_tree(dist).toarray() > 0
    links = {tuple(sorted((int(i), int(j)))) for i, j in zip(*np.nonzero(tree), strict=True)}
    towns = [i for i, s in enumerate(settlements) if s.kind != "village"]
    for i, s in enumerate(settlements):
        nearest_town = min((t for t in towns if t != i), key=lambda t: dist[i, t])
        links.add(tuple(sorted((i, nearest_town))))
        if s.kind == "market_town":
            links.add(tuple(sorted((0, i))))
    rural: list[tuple[float, float]] = []
    for i, j in sorted(links):
        si, sj = settlements[i], settlements[j]
        kinds = {si.kind, sj.kind}
        highway = (
            "primary"
            if "village" not in kinds
            else ("secondary" if kinds != {"village"} else "tertiary")
        )
        a = _nearest(grids[i], net, sj.x, sj.y)
        b = _nearest(grids[j], net, si.x, si.y)
        inner = _link(rng, net, a, b, highway)
        rural.extend(net.xy[n] for n in inner[2:-2:6])
    nodes, edges = net.tables()
    return RoadNetwork(nodes, edges, name=f"{PLACE_NAME} roads (synthetic)"), rural


# --- zones -------------------------------------------------------------------------------


def _zones(
    rng: np.random.Generator,
    settlements: list[Settlement],
    hamlets: list[tuple[float, float]],
) -> pd.DataFrame:
    rows = []
    for s in settlements:
        n = max(1, round(s.population / 1_500))
        shares = rng.dirichlet(np.full(n, 8.0))
        for k in range(n):
            r = s.radius_m * 0.85 * math.sqrt(rng.random()) if n > 1 else 0.0
            angle = rng.uniform(0, 2 * math.pi)
            rows.append(
                (
                    f"{s.name} {k + 1:03d}",
                    s.x + r * math.cos(angle),
                    s.y + r * math.sin(angle),
                    round(s.population * shares[k]),
                )
            )
    for k, (x, y) in enumerate(hamlets[:30]):
        offset = rng.normal(0, 300, size=2)
        rows.append(
            (f"Rural {k + 1:03d}", x + offset[0], y + offset[1], int(rng.integers(250, 750)))
        )
    frame = pd.DataFrame(rows, columns=["name", "easting", "northing", "population"])
    frame.insert(0, "zone_id", [f"DV{i + 1:04d}" for i in range(len(frame))])
    # Deprivation-style need weight: higher in the county town's older centre.
    frame["weight"] = 1.0
    return frame


# --- register ----------------------------------------------------------------------------

# (agency, kind, name, tenure, can_host, must_retain, m2 per desk, GBP per m2 per year,
#  teams: (name, service_type, desks, public_facing, movable, exclusive))
_Team = tuple[str, str, int, bool, bool, bool]
_Template = tuple[str, str, str, str, bool, bool, float, float, list[_Team]]

BACK = "back_office"


def _county_town_buildings(town: str) -> list[_Template]:
    return [
        (
            "council",
            "office",
            f"{town} Civic Centre",
            "freehold",
            True,
            False,
            11,
            210,
            [
                ("Customer Service Centre", "council_front_office", 8, True, True, False),
                ("Revenues & Benefits", BACK, 26, False, True, False),
                ("Finance", BACK, 18, False, True, False),
                ("Planning & Building Control", BACK, 16, False, True, False),
                ("Adult Social Care", BACK, 24, False, True, False),
                ("Legal & Democratic Services", BACK, 10, False, True, False),
                ("ICT", BACK, 12, False, True, False),
                ("HR & Payroll", BACK, 9, False, True, False),
                ("Highways Design", BACK, 11, False, True, False),
            ],
        ),
        (
            "council",
            "office",
            "Market Street Offices",
            "leasehold",
            True,
            False,
            10,
            240,
            [
                ("Housing Options", BACK, 18, False, True, False),
                ("Children's Services", BACK, 22, False, True, False),
                ("Public Health", BACK, 9, False, True, False),
            ],
        ),
        (
            "council",
            "library",
            f"{town} Central Library",
            "freehold",
            True,
            False,
            24,
            150,
            [
                ("Central Library", "library", 22, True, True, False),
                ("Registration Service", BACK, 4, False, True, False),
            ],
        ),
        (
            "council",
            "library",
            "Westgate Branch Library",
            "freehold",
            True,
            False,
            24,
            140,
            [
                ("Westgate Library", "library", 6, True, True, False),
            ],
        ),
        (
            "council",
            "depot",
            f"{town} Depot",
            "freehold",
            False,
            True,
            45,
            75,
            [
                ("Waste & Highways Operations", "operational", 24, False, False, False),
            ],
        ),
        (
            "council",
            "refuge",
            "Women's Refuge (address withheld)",
            "freehold",
            False,
            True,
            30,
            120,
            [
                ("Domestic Abuse Refuge", "refuge", 6, False, False, True),
            ],
        ),
        (
            "nhs",
            "hospital",
            f"{town} Community Hospital",
            "freehold",
            False,
            True,
            30,
            320,
            [
                ("Inpatient Wards", "clinical", 40, True, False, True),
                ("Outpatient Clinics", "clinical", 20, True, False, True),
                ("Community Nursing", BACK, 14, False, True, False),
                ("Hospital Administration", BACK, 10, False, True, False),
                ("Community Mental Health Team", BACK, 12, False, True, False),
            ],
        ),
        (
            "nhs",
            "gp",
            "Riverside Surgery",
            "leasehold",
            True,
            False,
            20,
            190,
            [
                ("Riverside Surgery", "gp", 16, True, True, False),
                ("Health Visiting Team", BACK, 5, False, True, False),
            ],
        ),
        (
            "nhs",
            "gp",
            "Castle Medical Centre",
            "freehold",
            True,
            False,
            20,
            180,
            [
                ("Castle Medical Centre", "gp", 22, True, True, False),
            ],
        ),
        (
            "nhs",
            "gp",
            "Northfield Surgery",
            "leasehold",
            True,
            False,
            20,
            200,
            [
                ("Northfield Surgery", "gp", 12, True, True, False),
            ],
        ),
        (
            "nhs",
            "gp",
            "Abbey Health Centre",
            "freehold",
            True,
            False,
            20,
            185,
            [
                ("Abbey Health Centre", "gp", 18, True, True, False),
                ("Physiotherapy", BACK, 6, False, True, False),
            ],
        ),
        (
            "nhs",
            "office",
            "Bridge House (ICB offices)",
            "leasehold",
            True,
            False,
            10,
            235,
            [
                ("Commissioning", BACK, 20, False, True, False),
                ("Medicines Management", BACK, 8, False, True, False),
                ("Continuing Healthcare", BACK, 12, False, True, False),
            ],
        ),
        (
            "police",
            "police_station",
            f"{town} Police Station",
            "freehold",
            True,
            True,
            14,
            200,
            [
                ("Custody Suite", "custody", 16, False, False, True),
                ("Police Front Counter", "police_front_counter", 3, True, True, False),
                ("Neighbourhood Policing Team", BACK, 18, False, True, False),
                ("Criminal Investigation Department", BACK, 20, False, True, False),
                ("Response Team", "operational", 22, False, False, False),
                ("Multi-Agency Safeguarding Hub", BACK, 10, False, True, False),
            ],
        ),
        (
            "police",
            "office",
            "Kingsway Police Admin Unit",
            "leasehold",
            True,
            False,
            10,
            230,
            [
                ("Police Business Support", BACK, 16, False, True, False),
                ("Control Room Support", BACK, 8, False, True, False),
            ],
        ),
        (
            "fire",
            "fire_station",
            f"{town} Fire Station",
            "freehold",
            True,
            False,
            35,
            110,
            [
                ("Whole-time Fire Crew", "fire_operations", 14, False, False, False),
                ("Community Fire Safety", BACK, 6, False, True, False),
            ],
        ),
        (
            "fire",
            "office",
            "Fire & Rescue Service HQ",
            "freehold",
            True,
            False,
            11,
            205,
            [
                ("Fire Service Management", BACK, 14, False, True, False),
                ("Fire Protection", BACK, 10, False, True, False),
                ("Training & Development", BACK, 8, False, True, False),
            ],
        ),
        (
            "dwp",
            "jobcentre",
            f"{town} Jobcentre Plus",
            "leasehold",
            True,
            False,
            14,
            245,
            [
                ("Jobcentre Plus", "jobcentre", 28, True, True, False),
                ("Disability Employment Advisers", BACK, 6, False, True, False),
                ("Universal Credit Service Centre", BACK, 14, False, True, False),
            ],
        ),
    ]


def _market_town_buildings(town: str, with_jobcentre: bool) -> list[_Template]:
    rows: list[_Template] = [
        (
            "council",
            "office",
            f"{town} Area Office",
            "freehold",
            True,
            False,
            11,
            200,
            [
                ("Customer Service Point", "council_front_office", 4, True, True, False),
                ("Locality Social Work Team", BACK, 12, False, True, False),
                ("Housing Support", BACK, 5, False, True, False),
            ],
        ),
        (
            "council",
            "office",
            f"{town} Town Hall",
            "freehold",
            True,
            False,
            13,
            190,
            [
                ("Environmental Health", BACK, 8, False, True, False),
                ("Licensing", BACK, 4, False, True, False),
            ],
        ),
        (
            "council",
            "library",
            f"{town} Library",
            "freehold",
            True,
            False,
            24,
            145,
            [
                ("Library", "library", 9, True, True, False),
                ("Adult Learning", BACK, 3, False, True, False),
            ],
        ),
        (
            "nhs",
            "gp",
            f"{town} Medical Practice",
            "freehold",
            True,
            False,
            20,
            185,
            [
                ("Medical Practice", "gp", 16, True, True, False),
            ],
        ),
        (
            "nhs",
            "gp",
            f"{town} Family Surgery",
            "leasehold",
            True,
            False,
            20,
            195,
            [
                ("Family Surgery", "gp", 10, True, True, False),
                ("District Nursing", BACK, 5, False, True, False),
            ],
        ),
        (
            "police",
            "police_station",
            f"{town} Police Station",
            "freehold",
            True,
            False,
            14,
            195,
            [
                ("Police Front Counter", "police_front_counter", 2, True, True, False),
                ("Neighbourhood Policing Team", BACK, 10, False, True, False),
            ],
        ),
        (
            "fire",
            "fire_station",
            f"{town} Fire Station",
            "freehold",
            True,
            False,
            35,
            105,
            [
                ("On-call Fire Crew", "fire_operations", 8, False, False, False),
                ("Prevention Team", BACK, 3, False, True, False),
            ],
        ),
    ]
    if with_jobcentre:
        rows.append(
            (
                "dwp",
                "jobcentre",
                f"{town} Jobcentre Plus",
                "leasehold",
                True,
                False,
                14,
                240,
                [
                    ("Jobcentre Plus", "jobcentre", 16, True, True, False),
                    ("Work and Health Programme", BACK, 4, False, True, False),
                ],
            )
        )
    return rows


def _village_buildings(village: str, index: int) -> list[_Template]:
    rows: list[_Template] = []
    if index % 2 == 0:
        rows.append(
            (
                "council",
                "library",
                f"{village} Village Library",
                "freehold",
                True,
                False,
                24,
                135,
                [
                    ("Village Library", "library", 3, True, True, False),
                ],
            )
        )
    if index % 3 != 2:
        rows.append(
            (
                "nhs",
                "gp",
                f"{village} Branch Surgery",
                "leasehold" if index % 2 else "freehold",
                True,
                False,
                20,
                175,
                [
                    ("Branch Surgery", "gp", 6, True, True, False),
                ],
            )
        )
    if index in (1, 4):
        rows.append(
            (
                "fire",
                "fire_station",
                f"{village} Fire Station",
                "freehold",
                True,
                False,
                35,
                100,
                [
                    ("On-call Fire Crew", "fire_operations", 6, False, False, False),
                ],
            )
        )
    return rows


def _register(
    rng: np.random.Generator, settlements: list[Settlement]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    plans: list[tuple[Settlement, _Template]] = []
    villages = 0
    for s in settlements:
        if s.kind == "county_town":
            templates = _county_town_buildings(s.name)
        elif s.kind == "market_town":
            templates = _market_town_buildings(s.name, with_jobcentre=s.population > 12_000)
        else:
            templates = _village_buildings(s.name, villages)
            villages += 1
        plans.extend((s, t) for t in templates)
    base = FinanceSettings().base_date
    b_rows: list[dict[str, object]] = []
    s_rows: list[dict[str, object]] = []
    for n, (place, template) in enumerate(plans):
        agency, kind, name, tenure, can_host, must_retain, m2_desk, rate, teams = template
        b_id = f"B{n + 1:03d}"
        x, y = _site(rng, place, kind)
        desks = [max(1, round(t[2] * rng.uniform(0.85, 1.15))) for t in teams]
        occupancy = (
            rng.uniform(0.55, 0.85) if kind in ("office", "library") else rng.uniform(0.7, 0.9)
        )
        capacity = math.ceil(sum(desks) / occupancy)
        gia = round(capacity * m2_desk * rng.uniform(0.9, 1.1))
        running = round(gia * rate * rng.uniform(0.85, 1.15), -2)
        condition = rng.uniform(0, 1)
        backlog = round(gia * 260 * condition**2, -3)
        b_rows.append(
            _building_row(
                rng,
                b_id,
                agency,
                name,
                place,
                kind,
                tenure,
                x,
                y,
                capacity,
                gia,
                running,
                backlog,
                can_host,
                must_retain,
                base,
            )
        )
        for t, d in zip(teams, desks, strict=True):
            team, service_type, _, public, movable, exclusive = t
            s_rows.append(
                {
                    "service_id": f"S{len(s_rows) + 1:03d}",
                    "agency": agency,
                    "name": f"{name}: {team}" if team not in name else name,
                    "building_id": b_id,
                    "desks": d,
                    "service_type": service_type,
                    "public_facing": public,
                    "movable": movable,
                    "move_cost": "",
                    "exclusive": exclusive,
                }
            )
    return pd.DataFrame(b_rows), pd.DataFrame(s_rows)


def _site(rng: np.random.Generator, place: Settlement, kind: str) -> tuple[float, float]:
    if kind in ("office", "library", "police_station", "jobcentre") and place.kind != "village":
        spread = place.radius_m * 0.25
    elif kind in ("fire_station", "depot", "hospital"):
        spread = place.radius_m * 0.7
    else:
        spread = place.radius_m * 0.6
    r = spread * math.sqrt(rng.random())
    angle = rng.uniform(0, 2 * math.pi)
    return place.x + r * math.cos(angle), place.y + r * math.sin(angle)


def _building_row(
    rng: np.random.Generator,
    b_id: str,
    agency: str,
    name: str,
    place: Settlement,
    kind: str,
    tenure: str,
    x: float,
    y: float,
    capacity: int,
    gia: float,
    running: float,
    backlog: float,
    can_host: bool,
    must_retain: bool,
    base: dt.date,
) -> dict[str, object]:
    lon, lat = bng_to_lonlat([x], [y])
    land_rate = {"county_town": 1_600, "market_town": 1_250, "village": 1_000}[place.kind]
    if kind == "depot":
        land_rate = 450
    value = round(gia * land_rate * rng.uniform(0.8, 1.2), -3) if tenure == "freehold" else 0.0
    lease_end = lease_break = ""
    dilaps = 0.0
    if tenure == "leasehold":
        end = base + dt.timedelta(days=int(rng.integers(365, 365 * 15)))
        lease_end = end.strftime("%d/%m/%Y")
        if rng.random() < 0.5 and (end - base).days > 3 * 365:
            brk = base + dt.timedelta(days=int(rng.integers(365, (end - base).days - 365)))
            lease_break = brk.isoformat()
        dilaps = round(gia * rng.uniform(40, 90), -2)
    return {
        "building_id": b_id,
        "agency": agency,
        "name": name,
        "building_type": BUILDING_TYPE[kind],
        "address": f"{name}, {place.name}",
        "postcode": "",
        "uprn": "",
        "lat": round(float(lat[0]), 6),
        "lon": round(float(lon[0]), 6),
        "easting": round(x, 1),
        "northing": round(y, 1),
        "tenure": tenure,
        "lease_end": lease_end,
        "lease_break": lease_break,
        "capacity_desks": capacity,
        "gia_m2": gia,
        "running_cost": running,
        "backlog_cost": backlog,
        "disposal_value": value,
        "disposal_cost": round(value * 0.025 + 15_000, -2) if value else 0.0,
        "dilapidations": dilaps,
        "can_host": can_host,
        "must_retain": must_retain,
        "listed": "Town Hall" in name,
        "sensitive": kind == "refuge",
        "carbon_t": round(gia * rng.uniform(0.03, 0.07), 1),
    }


def zone_points(zones: pd.DataFrame) -> NDArray[np.float64]:
    """Zone centroids as an (n, 2) array of metres."""
    return zones[["easting", "northing"]].to_numpy(dtype=float)
