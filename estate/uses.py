"""Use categories as registers write them, read as a building type or set aside.

Transparency Code land and building registers list everything a council holds: offices
and libraries, but also parks, verges, car parks, allotments, street furniture and
statues.  Only buildings a body occupies can hold services, so :func:`classify_use`
reads a row's use text ("Land and Building", "Parks, Gardens and open space", "Static
Library", "Car Park") as one of the building types of :mod:`estate.building_types`, or
as a reason to set the row aside.  A set-aside row is not an error: it is counted and
listed with its reason, and never blocks a run.

The rules are tried in order; the first that matches wins.  Building words come first,
so "Library and car park" is a library and "Parks depot" a depot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from estate.building_types import TYPE_NAMES


@dataclass(frozen=True)
class UseReading:
    """What a use text says: a building type, or why the row is not a building."""

    building_type: str = ""  # one of TYPE_NAMES, or "" when nothing was recognised
    set_aside: str = ""  # the reason when the row is not a building


def _words(text: str) -> str:
    lowered = text.lower().replace("&", " and ").replace("'", "")
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", lowered).split()) + " "


# (pattern over " words ", building type).  Word boundaries are spaces (see _words).
BUILDING_RULES: tuple[tuple[str, str], ...] = (
    (r" mobile librar", ""),  # a vehicle: handled by SET_ASIDE_RULES
    (r" librar(y|ies) ", "library"),
    (
        r" (gp|general practi[ct]e|surgery|surgeries|medical (practice|centre|center)) ",
        "gp_surgery",
    ),
    (r" hospital| inpatient", "hospital"),
    (r" (health centre|health center|clinic|polyclinic|community health)", "health_centre"),
    (r" police", "police_station"),
    (r" ambulance", "ambulance_station"),
    (r" fire (and rescue )?station| fire station| fire ", "fire_station"),
    (r" job ?centre", "jobcentre"),
    (
        r" (community (centre|center|hall|building)|village hall|youth (centre|club)|"
        r"childrens centre|family centre|day centre|day care|hub )",
        "community_centre",
    ),
    (r" (leisure|sports? (centre|hall)|swimming|pool|gym|baths )", "leisure_centre"),
    (r" (museum|gallery|archive|heritage centre)", "museum"),
    (r" (school|college|academy|nursery|pupil referral)", "school"),
    (r" (care home|residential home|nursing home|sheltered|extra care|respite)", "care_home"),
    (
        r" (office|offices|civic|town hall|county hall|guildhall|council house|"
        r"headquarters|hq|admin|administrative|customer service|contact centre)",
        "office",
    ),
    (
        r" (depot|workshop|store|stores|warehouse|industrial|garage|yard|recycling|"
        r"waste|operational|support facilit|laundry|training centre)",
        "depot",
    ),
)

# (pattern, reason) for rows that are not a building a body occupies.
SET_ASIDE_RULES: tuple[tuple[str, str], ...] = (
    (r" mobile librar| vehicle", "a vehicle, not a building"),
    (r" car park| parking| car and coach park", "car park, not a building"),
    (
        r" (street|highway|footpath|footway|road|bridge|verge|lay by|bus shelter|"
        r"street furniture|lighting|cycle ?way|subway|underpass|public right of way)",
        "street or highway record, not a building",
    ),
    (
        r" (chattel|monument|statue|memorial|sculpture|public art|clock|fountain|"
        r"bench|plaque|telephone kiosk)",
        "chattel or structure, not a building",
    ),
    (
        r" (open space|park|parks|garden|gardens|playing field|recreation ground|"
        r"play area|playground|allotment|cemeter|churchyard|crematori|burial|woodland|"
        r"wood|nature reserve|common|green|grassland|agricultur|farm ?land|grazing|"
        r"amenity land|landscap|pond|lake|river|watercourse|beach|foreshore)",
        "land or open space, not a building",
    ),
    (
        r" (land only|vacant land|land|bare land|development land|development site|"
        r"plot|paddock|field)",
        "land only, not a building",
    ),
)

# "Land and Building" is a building whose use is not said; "Land" alone is not one.
LAND_AND_BUILDING = re.compile(r" (land|site) (and|with) (building|buildings|property) ")


def classify_use(text: str, *, names_only: bool = False) -> UseReading:
    """Read a use text (or a name, with ``names_only``) as a building type or a
    set-aside reason.

    ``names_only`` reads a building's name: only building words count (a name such as
    "Station Road Offices" says what the building is; "Park House" says nothing).

    >>> classify_use("Land and Building")
    UseReading(building_type='other', set_aside='')
    >>> classify_use("Parks, Gardens and open space").set_aside
    'land or open space, not a building'
    >>> classify_use("Static Library").building_type
    'library'
    """
    words = _words(text)
    if words.strip() == "":
        return UseReading()
    if words.strip().replace(" ", "_") in TYPE_NAMES:
        return UseReading(words.strip().replace(" ", "_"))
    for pattern, building_type in BUILDING_RULES:
        if re.search(pattern, words):
            if building_type:
                return UseReading(building_type)
            break
    if names_only:
        return UseReading()
    rest = LAND_AND_BUILDING.sub(" building ", words)
    for pattern, reason in SET_ASIDE_RULES:
        if re.search(pattern, rest):
            return UseReading(set_aside=f"{reason} ({' '.join(text.split())!r})")
    return UseReading("other")
