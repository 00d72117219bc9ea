"""Column mapping: which column of a register file feeds which canonical column.

Three layers, later ones winning: built-in synonyms for the headers real registers use
(Transparency Code land and building registers, ePIMS/GPE extracts, NHS ERIC, Home Office
and Arts Council lists), built-in profiles for known formats (:mod:`estate.formats`),
and a user's YAML mapping file.  ``estate mapping FILE`` writes such a file with the
guesses filled in.

A mapping file::

    kind: assets                 # register | assets | services
    header_row: 2                # 1-based; 0 = the file has no header row
    sheet: Sheet1                # for workbooks and multi-layer files
    columns:                     # canonical column: source column (or a list)
      building_id: Property Ref
      name: Site
      address: [Address 1, Address 2, Town]   # text is joined with ", "
      running_cost: [Rent, Rates, FM]         # numbers are added
      coordinates: Site Co-ordinates (Geocode)  # "E,N", "lat,lon" or a grid reference
    constants:
      agency: Derbyshire Fire & Rescue Service
    exclude:
      - column: Site Code
        equals: [AGGRE]
        reason: trust-level aggregate, not a site
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from estate import safeyaml
from estate.errors import SettingsError
from estate.schema import BUILDINGS, SERVICES

Kind = Literal["register", "assets", "services"]

#: A pseudo-column: one cell holding a whole location.
COORDINATES = "coordinates"
#: Pseudo-columns: a point whose reference system is named per row (``GeoX``/``GeoY``
#: and ``CoordinateReferenceSystem`` in Transparency Code files) or told by magnitude.
GEO_X = "geo_x"
GEO_Y = "geo_y"
CRS = "crs"
PSEUDO_COLUMNS = (COORDINATES, GEO_X, GEO_Y, CRS)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_DIGITS = re.compile(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def normalise_header(text: object) -> str:
    """Words in lower case: CamelCase and runs of digits split off, superscripts as
    digits, punctuation and line breaks as single spaces.

    >>> normalise_header("Site Co-ordinates\\n(Geocode)")
    'site co ordinates geocode'
    >>> normalise_header("Gross internal floor area (m²)")
    'gross internal floor area m 2'
    >>> normalise_header("GeoX"), normalise_header("PostCode"), normalise_header("UPRN")
    ('geo x', 'post code', 'uprn')
    """
    s = str(text).replace("²", "2").replace("³", "3").replace("£", " gbp ")
    s = _DIGITS.sub(" ", _CAMEL.sub(" ", s)).lower()
    s = s.replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


_SYNONYMS: dict[str, tuple[str, ...]] = {
    "building_id": (
        "building id",
        "building ref",
        "building reference",
        "property id",
        "property code",
        "property ref",
        "property reference",
        "property reference number",
        "property number",
        "asset id",
        "asset code",
        "asset ref",
        "asset reference",
        "asset number",
        "site id",
        "site ref",
        "site reference",
        "site code",
        "site number",
        "premises id",
        "local reference",
        "internal reference",
        "epims id",
        "epims property id",
        "id",
        "code",
        "ref",
        "reference",
    ),
    "agency": (
        "agency",
        "organisation",
        "organisation name",
        "organisation label",
        "responsible organisation",
        "responsible organisation label",
        "organisation uri",
        "organization",
        "owner",
        "owning organisation",
        "public body",
        "body",
        "department",
        "authority",
        "local authority",
        "reporting service",
        "frs fullname",
        "fire and rescue service",
        "trust name",
        "occupier organisation",
        "holding organisation",
    ),
    "name": (
        "name",
        "site name",
        "property name",
        "building name",
        "asset name",
        "premises name",
        "site",
        "station name",
        "library name",
        "practice name",
        "asset description",
        "property description",
        "description",
    ),
    "address": (
        "address",
        "site address",
        "property address",
        "full address",
        "station address",
        "street address",
        "postal address",
        "asset address",
        "location",
    ),
    "postcode": (
        "postcode",
        "post code",
        "postal code",
        "station postcode",
        "site postcode",
        "property postcode",
        "pcd",
        "pcds",
        "pcd2",
        "postcode area",
    ),
    "uprn": (
        "uprn",
        "unique property reference number",
        "unique property reference number uprn",
        "property uprn",
        "site uprn",
        "blpu uprn",
    ),
    "lat": ("lat", "latitude", "wgs84 latitude", "lat wgs84", "y latitude"),
    "lon": ("lon", "long", "lng", "longitude", "wgs84 longitude", "long wgs84", "x longitude"),
    "easting": (
        "easting",
        "eastings",
        "station easting",
        "site easting",
        "x coordinate",
        "x coord",
        "os easting",
        "grid easting",
        "oseast1m",
        "x easting",
        "geometry easting",
    ),
    "northing": (
        "northing",
        "northings",
        "station northing",
        "site northing",
        "y coordinate",
        "y coord",
        "os northing",
        "grid northing",
        "osnrth1m",
        "y northing",
        "geometry northing",
    ),
    GEO_X: ("geo x", "x", "geo point x", "map x", "point x"),
    GEO_Y: ("geo y", "y", "geo point y", "map y", "point y"),
    CRS: (
        "coordinate reference system",
        "crs",
        "coordinate system",
        "spatial reference system",
        "srs",
        "epsg",
        "projection",
    ),
    COORDINATES: (
        "coordinates",
        "co ordinates",
        "site co ordinates",
        "site co ordinates geocode",
        "site coordinates",
        "geocode",
        "grid reference",
        "os grid reference",
        "grid ref",
        "easting northing",
        "easting and northing",
        "lat long",
        "latitude longitude",
    ),
    "tenure": (
        "tenure",
        "tenure type",
        "asset ownership",
        "ownership",
        "freehold leasehold",
        "freehold or leasehold",
        "tenure freehold leasehold",
        "interest",
        "property tenure",
        "tenure detail",
        "tenure description",
    ),
    # Use categories (LGTC HoldingType, asset types): read into building_type, and land,
    # open space, car parks and the like are set aside (estate.uses).
    "building_type": (
        "building type",
        "holding type",
        "asset type",
        "asset sub type",
        "asset category",
        "asset class",
        "asset use",
        "property type",
        "property sub type",
        "property category",
        "property use",
        "primary use",
        "current use",
        "use",
        "use class",
        "use category",
        "site type",
        "type",
    ),
    "lease_end": (
        "lease end",
        "lease end date",
        "lease expiry",
        "lease expiry date",
        "expiry date",
        "end of lease",
        "lease term end",
        "lease end year",
    ),
    "lease_break": (
        "lease break",
        "lease break date",
        "break date",
        "break clause",
        "next break",
        "next break date",
        "break option date",
    ),
    "capacity_desks": (
        "capacity desks",
        "desks",
        "desk capacity",
        "workstations",
        "workstation capacity",
        "number of desks",
        "number of workstations",
        "capacity workstations",
    ),
    "gia_m2": (
        "gia",
        "gia m2",
        "gia sqm",
        "gia sq m",
        "gross internal area",
        "gross internal area m2",
        "gross internal area sqm",
        "gross internal floor area",
        "gross internal floor area m2",
        "floor area",
        "floor area m2",
        "internal area",
        "building area m2",
        "building size",
        "building size m2",
        "building area",
        "gross internal area sq ft",
        "floor area sq ft",
    ),
    "site_area_m2": (
        "site area",
        "site area m2",
        "site area ha",
        "site area hectares",
        "site size",
        "land area",
        "land area m2",
        "land area ha",
        "land area hectares",
        "land area owned hectares",
        "land size",
        "site area acres",
    ),
    "running_cost": (
        "running cost",
        "running costs",
        "annual running cost",
        "annual running costs",
        "running cost gbp",
        "running costs gbp",
        "total running cost",
        "occupancy cost",
        "occupancy costs",
        "annual cost",
        "total property cost",
        "total property costs",
        "property running costs",
    ),
    "backlog_cost": (
        "backlog",
        "backlog cost",
        "backlog maintenance",
        "maintenance backlog",
        "backlog maintenance cost",
        "backlog gbp",
        "cost to eradicate backlog",
    ),
    "disposal_value": (
        "disposal value",
        "market value",
        "valuation",
        "value",
        "asset value",
        "estimated value",
        "open market value",
        "current value",
        "value gbp",
    ),
    "disposal_cost": ("disposal cost", "disposal costs", "cost of disposal"),
    "dilapidations": ("dilapidations", "dilaps", "dilapidations gbp"),
    "can_host": ("can host", "can host others", "available for sharing", "shareable"),
    "must_retain": ("must retain", "retain", "core", "operational must retain"),
    "listed": ("listed", "listed building", "listed status", "heritage listed"),
    "sensitive": ("sensitive", "restricted", "do not publish"),
    "carbon_t": (
        "carbon t",
        "carbon",
        "carbon tco2e",
        "tco2e",
        "co2 t",
        "carbon emissions",
        "emissions tco2e",
        "carbon tonnes",
    ),
    # services
    "service_id": ("service id", "service ref", "team id", "service code"),
    "desks": ("desks needed", "desks required", "workstations needed", "fte desks"),
    "service_type": ("service type", "type of service", "service category"),
    "public_facing": ("public facing", "public", "customer facing"),
    "movable": ("movable", "moveable", "can move"),
    "move_cost": ("move cost", "relocation cost", "cost to move"),
    "exclusive": ("exclusive", "cannot share", "sole occupancy"),
}

SYNONYMS: dict[str, str] = {
    normalise_header(variant): canonical
    for canonical, variants in _SYNONYMS.items()
    for variant in variants
}

#: Every header that may name the agency, in order of preference between equals: a
#: file may give a code in one ("23UB", a URI) and the name in another.
AGENCY_HEADERS = frozenset(normalise_header(v) for v in _SYNONYMS["agency"])
#: Use-category headers: every one found feeds building_type (their texts are joined).
USE_HEADERS = frozenset(normalise_header(v) for v in _SYNONYMS["building_type"])

_ADDRESS_PART = re.compile(
    r"^(?:(?:site|station|property|postal|street) )?(?:address|addr)(?: line)? ?[0-9]$"
    r"|^(?:town|post town|city|locality|street|street name|county|district)$"
)


def targets(kind: Kind) -> list[str]:
    """Canonical column names a mapping may fill for a kind of table."""
    if kind == "services":
        return SERVICES.names
    return [*BUILDINGS.names, *PSEUDO_COLUMNS]


class ExcludeRule(BaseModel):
    """Rows to leave out on purpose; each is rejected with ``reason``."""

    model_config = ConfigDict(extra="forbid")

    column: str
    equals: list[str] = Field(default_factory=list)
    nonblank: bool = False
    reason: str

    @field_validator("equals", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | int | float) else value

    def matches(self, cell: object) -> bool:
        from estate.readers import to_text

        text = to_text(cell).strip()
        if self.nonblank:
            return text != ""
        return text.casefold() in self._folded()

    def _folded(self) -> frozenset[str]:
        return frozenset(str(v).strip().casefold() for v in self.equals)


class Mapping(BaseModel):
    """How to read one register file into a canonical table."""

    model_config = ConfigDict(extra="forbid")

    format: str = "generic"
    kind: Kind | None = None
    sheet: str | int | None = None
    encoding: str | None = None
    header_row: int | None = Field(default=None, ge=0)
    column_names: list[str] | None = None
    columns: dict[str, str | list[str] | None] = Field(default_factory=dict)
    constants: dict[str, str | float | bool] = Field(default_factory=dict)
    id_prefix: str = ""
    exclude: list[ExcludeRule] = Field(default_factory=list)

    @field_validator("constants", "exclude", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any, info: Any) -> Any:
        if value is None:
            return {} if info.field_name == "constants" else []
        return value

    @field_validator("columns", mode="before")
    @classmethod
    def _strings(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, dict):
            return {
                k: [str(x) for x in v] if isinstance(v, list) else (None if v is None else str(v))
                for k, v in value.items()
            }
        return value

    def sources(self, target: str) -> list[str]:
        """The source columns mapped to ``target`` (empty when unmapped)."""
        value = self.columns.get(target)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def merged(self, other: Mapping) -> Mapping:
        """This mapping with ``other``'s settings laid on top (other wins)."""
        data = self.model_dump()
        for key, value in other.model_dump(exclude_unset=True).items():
            if key in {"columns", "constants"}:
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return Mapping.model_validate(data)


def guess_columns(headers: Sequence[str], kind: Kind = "register") -> dict[str, str | list[str]]:
    """Map headers to canonical columns by synonym; the first match for a column wins,
    address parts are collected in order."""
    allowed = set(targets(kind))
    exact_names = {normalise_header(name): name for name in allowed}
    found: dict[str, str | list[str]] = {}
    address_parts: list[str] = []
    agencies: list[str] = []
    uses: list[str] = []
    for header in headers:
        norm = normalise_header(header)
        # A header that is already a canonical name of this kind means just that: a
        # services table's "desks" is desks needed, not a building's capacity_desks.
        canonical = exact_names.get(norm) or SYNONYMS.get(norm)
        if canonical is None and _ADDRESS_PART.match(norm):
            address_parts.append(header)
            continue
        if canonical == "agency" and kind != "services":
            agencies.append(header)
            continue
        if canonical == "building_type" and "building_type" in allowed:
            uses.append(header)
            continue
        if canonical is None and norm.startswith("unique property reference number"):
            canonical = "uprn"
        if canonical is not None and canonical in allowed and canonical not in found:
            found[canonical] = header
    if address_parts and "address" in allowed:
        existing = found.get("address")
        if existing is None:
            found["address"] = address_parts if len(address_parts) > 1 else address_parts[0]
    if agencies:  # several candidates: the loader keeps the one that holds names
        found["agency"] = agencies if len(agencies) > 1 else agencies[0]
    if uses:
        found["building_type"] = uses if len(uses) > 1 else uses[0]
    return found


def synonym_score(cells: Iterable[object]) -> int:
    """How many cells of a row read like known register headers (to find the header)."""
    score = 0
    for cell in cells:
        norm = normalise_header(cell) if cell is not None else ""
        if norm and (norm in SYNONYMS or _ADDRESS_PART.match(norm)):
            score += 1
    return score


def load_mapping(path: str | Path) -> Mapping:
    """Read a YAML mapping file (``yaml.safe_load``) and validate it."""
    p = Path(path)
    try:
        data = safeyaml.load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{p}: cannot read the mapping file ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{p}: not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError(f"{p}: a mapping file must be a YAML mapping of settings")
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"{p}: {problems}") from None
    check_targets(mapping, str(p))
    return mapping


def check_targets(mapping: Mapping, where: str) -> None:
    """Every key of ``columns`` and ``constants`` must be a canonical column."""
    kind: Kind = mapping.kind or "register"
    allowed = set(targets(kind))
    unknown = sorted((set(mapping.columns) | set(mapping.constants)) - allowed)
    if unknown:
        raise SettingsError(
            f"{where}: unknown canonical column(s) {', '.join(unknown)} for kind {kind!r}; "
            f"known: {', '.join(sorted(allowed))}"
        )


def skeleton_yaml(
    source: str,
    headers: Sequence[str],
    mapping: Mapping,
    kind: Kind,
    header_row: int | None,
) -> str:
    """A mapping file for ``source`` with every canonical column listed, guesses filled
    in, and the file's unmapped headers listed as comments."""
    lines = [
        f"# Column mapping for {Path(source).name}, written by `estate mapping`.",
        "# Check every guess; set unmapped columns to a header of the file, a list of",
        "# headers (text joined, numbers added), or leave them null. Then run:",
        f"#   estate validate {Path(source).name} --mapping THIS_FILE",
        f"format: {mapping.format}",
        f"kind: {kind}",
    ]
    if mapping.sheet is not None:
        lines.append(f"sheet: {_yaml_scalar(mapping.sheet)}")
    lines.append(f"header_row: {header_row if header_row is not None else 1}")
    if mapping.column_names:
        lines.append("column_names:")
        lines += [f"  - {_yaml_scalar(n)}" for n in mapping.column_names]
    lines.append("columns:")
    used: set[str] = set()
    for target in targets(kind):
        sources = mapping.sources(target)
        used.update(sources)
        if not sources:
            lines.append(f"  {target}: null")
        elif len(sources) == 1:
            lines.append(f"  {target}: {_yaml_scalar(sources[0])}")
        else:
            lines.append(f"  {target}: [{', '.join(_yaml_scalar(s) for s in sources)}]")
    lines.append("constants:")
    if mapping.constants:
        lines += [f"  {k}: {_yaml_scalar(v)}" for k, v in mapping.constants.items()]
    else:
        lines.append("  # agency: Name of the body that holds these buildings")
    if mapping.id_prefix:
        lines.append(f"id_prefix: {_yaml_scalar(mapping.id_prefix)}")
    lines.append("exclude:" + ("" if mapping.exclude else " []"))
    for rule in mapping.exclude:
        lines.append(f"  - column: {_yaml_scalar(rule.column)}")
        if rule.nonblank:
            lines.append("    nonblank: true")
        else:
            lines.append(f"    equals: [{', '.join(_yaml_scalar(v) for v in rule.equals)}]")
        lines.append(f"    reason: {_yaml_scalar(rule.reason)}")
    unmapped = [h for h in headers if h not in used]
    if unmapped:
        lines.append("# Columns of the file not mapped (kept as extra columns):")
        lines += [f"#   {h!r}" for h in unmapped]
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1_000)
    return text.strip().removesuffix("...").strip()
