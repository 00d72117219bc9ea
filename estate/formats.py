"""Built-in profiles for public lists whose layout synonyms alone cannot read.

A profile is a :class:`~estate.mapping.Mapping` plus a test that recognises the file
from its first rows.  A user's mapping file is laid on top of the profile, so any
choice here can be overridden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from estate.mapping import ExcludeRule, Mapping, normalise_header

#: NHS ODS ``epraccur`` columns, in file order (the file has no header row).
EPRACCUR_COLUMNS = [
    "Organisation code",
    "Name",
    "National grouping",
    "High level health geography",
    "Address line 1",
    "Address line 2",
    "Address line 3",
    "Address line 4",
    "Address line 5",
    "Postcode",
    "Open date",
    "Close date",
    "Status code",
    "Organisation sub-type code",
    "Commissioner",
    "Join provider/purchaser date",
    "Left provider/purchaser date",
    "Contact telephone number",
    "Null 19",
    "Null 20",
    "Null 21",
    "Amended record indicator",
    "Null 23",
    "Provider/purchaser",
    "Null 25",
    "Prescribing setting",
    "Null 27",
]

#: OS Code-Point Open columns (no header row in the data files).
CODEPOINT_COLUMNS = [
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
]

#: ERIC site-level cost columns counted as the running cost of the building: estates
#: finance, maintenance, hard and soft FM, energy, water, sewage, waste and cleaning.
#: Clinical support services (food, laundry, portering, medical equipment) are left out.
ERIC_RUNNING_COSTS = [
    "Estates and facilities finance costs (£)",
    "Estates and property maintenance (£)",
    "Grounds and gardens maintenance (£)",
    "Other Hard FM (Estates) costs (£)",
    "Other Soft FM (Hotel Services) costs (£)",
    "Energy costs (all energy supplies) (£)",
    "Water cost (£)",
    "Sewage cost (£)",
    "Landfill disposal cost (£)",
    "Incineration disposal cost (£)",
    "Waste reycling cost (£)",
    "Other recovery cost (£)",
    "Cleaning service cost (£)",
]
ERIC_BACKLOG = [
    "Cost to eradicate high risk backlog (£)",
    "Cost to eradicate significant risk backlog (£)",
    "Cost to eradicate moderate risk backlog (£)",
    "Cost to eradicate low risk backlog (£)",
]


@dataclass(frozen=True)
class Profile:
    """A known layout: ``matches(first_rows)`` says whether a file has it."""

    name: str
    description: str
    mapping: Mapping
    matches: Callable[[Sequence[Sequence[Any]]], bool]


def _cells(row: Sequence[Any]) -> list[str]:
    return ["" if c is None else str(c).strip() for c in row]


def _is_epraccur(rows: Sequence[Sequence[Any]]) -> bool:
    if not rows or len(rows[0]) != len(EPRACCUR_COLUMNS):
        return False
    first = _cells(rows[0])
    return bool(
        re.fullmatch(r"[A-Z0-9]{3,8}", first[0])
        and re.fullmatch(r"\d{8}", first[10])
        and first[12] in {"A", "C", "D", "P"}
    )


def _is_codepoint(rows: Sequence[Sequence[Any]]) -> bool:
    if not rows or len(rows[0]) != len(CODEPOINT_COLUMNS):
        return False
    first = _cells(rows[0])
    return bool(
        re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", first[0])
        and re.fullmatch(r"\d{2}", first[1])
        and re.fullmatch(r"\d+", first[2])
    )


def _header_has(rows: Sequence[Sequence[Any]], *names: str) -> bool:
    if not rows:
        return False
    have = {normalise_header(c) for c in rows[0] if c is not None}
    return all(normalise_header(n) in have for n in names)


EPRACCUR = Profile(
    "epraccur",
    "NHS ODS GP practices and prescribing cost centres (epraccur, no header row)",
    Mapping(
        format="epraccur",
        kind="assets",
        header_row=0,
        column_names=EPRACCUR_COLUMNS,
        columns={
            "building_id": "Organisation code",
            "name": "Name",
            "address": [f"Address line {i}" for i in range(1, 6)],
            "postcode": "Postcode",
        },
        constants={"agency": "NHS GP practices"},
        exclude=[
            ExcludeRule(column="Status code", equals=["C"], reason="closed (ODS status C)"),
            ExcludeRule(column="Status code", equals=["D"], reason="dormant (ODS status D)"),
        ],
    ),
    _is_epraccur,
)

CODEPOINT = Profile(
    "codepoint",
    "OS Code-Point Open postcode units (no header row)",
    Mapping(
        format="codepoint",
        kind="assets",
        header_row=0,
        column_names=CODEPOINT_COLUMNS,
        columns={
            "building_id": "Postcode",
            "postcode": "Postcode",
            "easting": "Eastings",
            "northing": "Northings",
        },
        constants={"agency": "OS Code-Point Open"},
    ),
    _is_codepoint,
)

ERIC_SITE = Profile(
    "eric-site",
    "NHS ERIC site data (one row a site; AGGRE rows hold trust-level amounts)",
    Mapping(
        format="eric-site",
        kind="assets",
        columns={
            "building_id": "Site Code",
            "agency": "Organisation Name",
            "name": "Site Name",
            "gia_m2": "Gross internal floor area (m²)",
            "running_cost": ERIC_RUNNING_COSTS,
            "backlog_cost": ERIC_BACKLOG,
        },
        exclude=[
            ExcludeRule(
                column="Site Code",
                equals=["AGGRE"],
                reason="ERIC aggregate row: trust-level amounts not attributed to a site",
            )
        ],
    ),
    lambda rows: _header_has(rows, "Site Code", "Site Name", "Gross internal floor area (m²)"),
)

LIBRARIES = Profile(
    "ace-libraries",
    "Arts Council England basic dataset for libraries (Libraries Hacked)",
    Mapping(
        format="ace-libraries",
        kind="assets",
        exclude=[ExcludeRule(column="Year closed", nonblank=True, reason="library closed")],
    ),
    lambda rows: _header_has(rows, "Reporting service", "Year closed", "Statutory in 2023"),
)

FIRE_STATIONS = Profile(
    "fire-stations",
    "Home Office list of fire stations in England (one row a station)",
    Mapping(format="fire-stations", kind="assets", constants={"building_type": "fire_station"}),
    lambda rows: _header_has(rows, "FRS_FULLNAME", "STATION_NAME", "STATION_EASTING"),
)

PROFILES = (EPRACCUR, CODEPOINT, ERIC_SITE, LIBRARIES, FIRE_STATIONS)


def detect_profile(rows: Sequence[Sequence[Any]]) -> Profile | None:
    """The built-in profile whose layout the file's first rows have, if any."""
    for profile in PROFILES:
        if profile.matches(rows):
            return profile
    return None
