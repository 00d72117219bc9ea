"""Zones: where the public lives (LSOA population-weighted centroids, or synthetic).

:func:`read_zones` is the one reader every command uses (``estate run``, ``estate
access`` and ``estate init --register``): canonical CSV, the ONS LSOA 2011 and 2021
population-weighted centroid files joined to a population file, and point layers.

Which population file matches which LSOA vintage: LSOA 2011 codes (``LSOA11CD``; the
2011 centroids) go with the ONS small-area population estimates for mid-2011 to
mid-2020 (SAPE20/21/22..., e.g. ``SAPE21DT11`` mid-2018); LSOA 2021 codes
(``LSOA21CD``; the 2021 centroids) go with the estimates from mid-2021 on (published on
2021 LSOAs).  About 6% of the codes differ between the vintages (split and merged
LSOAs), so a mismatch is reported as such rather than as thousands of missing zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from estate.coords import BNG
from estate.errors import CellIssue, InputDataError, SettingsError
from estate.io import read_csv_text
from estate.schema import ZONES
from estate.validate import coerce_table, fill_coordinates


def validate_zones(
    raw: pd.DataFrame, source: str = "zones", row_numbers: list[int] | None = None
) -> pd.DataFrame:
    """Coerce a zones table to the canonical schema; raise listing every problem."""
    coerced = coerce_table(raw, ZONES, source, row_numbers)
    issues = coerced.issues + fill_coordinates(coerced.accepted, source)
    if issues:
        raise InputDataError(issues, "the zones table cannot be used as it stands")
    return coerced.accepted


def points(table: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """The ``id``/``x``/``y`` frame that travel-time functions take."""
    return pd.DataFrame(
        {
            "id": table[id_column].astype(str).to_numpy(),
            "x": table["easting"].to_numpy(dtype=float),
            "y": table["northing"].to_numpy(dtype=float),
        }
    )


# ---------------------------------------------------------------- reading zone files

# Header synonyms (lower case, BOM and spaces stripped) for the ONS files in
# ../shared/data/ons and for any table of points with a population column.
ZONE_ID_NAMES = ("zone_id", "lsoa11cd", "lsoa21cd", "lsoa_code", "lsoacd", "code", "geo_code")
ZONE_NAME_NAMES = ("name", "lsoa11nm", "lsoa21nm", "lsoa_name", "lsoanm")
WEIGHT_NAMES = ("weight", "need_weight")
POPULATION_NAMES = (
    "population",
    "population_mid2018",
    "mid-2018 population",
    "all ages",
    "pop",
    "usual_residents",
)
LON_NAMES = ("lon", "longitude", "pwc_lon", "long")
LAT_NAMES = ("lat", "latitude", "pwc_lat")
EASTING_NAMES = ("easting", "eastings", "pwc_easting")
NORTHING_NAMES = ("northing", "northings", "pwc_northing")
POINT_LAYER_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")


@dataclass(frozen=True)
class LoadedZones:
    """Canonical zones and what was done to get them (shown to the user)."""

    zones: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()


def _clean(name: object) -> str:
    return str(name).replace("\ufeff", "").strip().lower()


def _pick(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in columns:
            return columns[name]
    return None


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in POINT_LAYER_SUFFIXES:
        import geopandas as gpd

        layer = gpd.read_file(path)
        if layer.crs is None:
            raise InputDataError(
                [CellIssue(str(path), None, "geometry", "", "the layer has no coordinate system")],
                "the zones cannot be read",
            )
        layer = layer.to_crs(BNG)
        kinds = set(layer.geom_type.dropna())
        if not kinds <= {"Point"}:
            raise InputDataError(
                [
                    CellIssue(
                        str(path),
                        None,
                        "geometry",
                        ", ".join(sorted(kinds)),
                        "zones must be points",
                    )
                ],
                "the zones cannot be read",
            )
        table = pd.DataFrame(layer.drop(columns=layer.geometry.name)).astype(str)
        table["easting"] = layer.geometry.x.to_numpy()
        table["northing"] = layer.geometry.y.to_numpy()
        return table
    return read_csv_text(path)


def _canonical_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """Rename recognised headers to canonical names; an ``x``/``y`` pair is read as
    longitude/latitude when every value fits degrees, else as National Grid metres."""
    columns = {_clean(c): c for c in raw.columns}
    rename: dict[str, str] = {}
    for canonical, names in (
        ("zone_id", ZONE_ID_NAMES),
        ("name", ZONE_NAME_NAMES),
        ("population", POPULATION_NAMES),
        ("lon", LON_NAMES),
        ("lat", LAT_NAMES),
        ("easting", EASTING_NAMES),
        ("northing", NORTHING_NAMES),
        ("weight", WEIGHT_NAMES),
    ):
        found = _pick(columns, names)
        if found is not None:
            rename[found] = canonical
    if "x" in columns and "y" in columns and not {"lon", "easting"} & set(rename.values()):
        x = pd.to_numeric(raw[columns["x"]], errors="coerce")
        y = pd.to_numeric(raw[columns["y"]], errors="coerce")
        degrees = bool((x.abs() <= 180).all() and (y.abs() <= 90).all())
        rename[columns["x"]] = "lon" if degrees else "easting"
        rename[columns["y"]] = "lat" if degrees else "northing"
    keep = [c for c in raw.columns if c in rename]
    return raw[keep].rename(columns=rename)


def read_population(path: str | Path) -> pd.Series:
    """Population by zone code from a CSV such as ONS SAPE (``Code``, ``Mid-2018
    population``); the values stay text here and are checked with the zones."""
    table = _population_table(path)
    return pd.Series(table["population"].to_numpy(), index=table.index, name="population")


def _population_table(path: str | Path) -> pd.DataFrame:
    """``population`` (text) and ``name`` ("" when the file has none) by zone code."""
    path = Path(path)
    raw = _canonical_columns(read_csv_text(path))
    missing = [c for c in ("zone_id", "population") if c not in raw.columns]
    if missing:
        raise InputDataError(
            [
                CellIssue(str(path), None, c, "", f"no {c} column (looked for {names})")
                for c, names in (("zone_id", ZONE_ID_NAMES), ("population", POPULATION_NAMES))
                if c in missing
            ],
            "the population file cannot be used",
        )
    codes = raw["zone_id"].str.strip()
    duplicated = codes[codes.duplicated(keep="first")]
    if len(duplicated):
        raise InputDataError(
            [
                CellIssue(str(path), int(i) + 2, "zone_id", str(code), "zone listed twice")
                for i, code in duplicated.items()
            ],
            "the population file cannot be used",
        )
    names = raw["name"] if "name" in raw.columns else pd.Series("", index=raw.index)
    return pd.DataFrame(
        {"population": raw["population"].to_numpy(), "name": names.to_numpy()},
        index=codes.to_numpy(),
    )


def read_zones(
    path: str | Path,
    population: str | Path | None = None,
    name_prefix: str | None = None,
) -> LoadedZones:
    """Zones from a CSV or point layer: canonical columns, ONS LSOA centroid files
    (with or without a BOM; WGS84 or National Grid), or any points with a population.

    Parameters
    ----------
    path
        The zones file.  Recognised headers include ``LSOA11CD``/``lsoa11cd``/
        ``LSOA21CD`` (id), ``LSOA11NM`` (name), ``pwc_lon``/``pwc_lat``, ``X``/``Y``
        (degrees) or ``x``/``y`` (metres), and ``population_mid2018``/``population``.
    population
        A CSV giving each zone's population by code (for example ONS SAPE
        ``Code``, ``Mid-2018 population``); needed when the zones file has none.
        Every zone must be found in it.
    name_prefix
        Keep only zones whose name starts with this text (ONS LSOA names begin with
        the local authority's name, e.g. ``"Rutland"``).  The count kept is reported.
        A zones file without names (the 2021 centroids) takes them from the
        population file.
    """
    path = Path(path)
    source = str(path)
    raw = _canonical_columns(_read_table(path))
    row_numbers = pd.Series(range(2, len(raw) + 2), index=raw.index)
    notes = [f"{len(raw):,} zones read from {path.name}"]
    if population is not None and "name" not in raw.columns and "zone_id" in raw.columns:
        names = _population_table(population)["name"]
        absent = ~raw["zone_id"].str.strip().isin(names.index)
        if absent.any():  # a prefix on borrowed names would drop these zones unseen
            raise InputDataError(
                [
                    CellIssue(
                        source,
                        None,
                        "zone_id",
                        f"{int(absent.sum()):,} of {len(raw):,}",
                        f"zones not in {Path(population).name}, which names them: the "
                        "population file is of another vintage (LSOA 2011 codes need mid-2011 "
                        "to mid-2020 estimates; LSOA 2021 codes need mid-2021 or later)",
                    )
                ],
                "the zones and the population file do not match",
            )
        if (names != "").any():
            raw = raw.assign(name=names.reindex(raw["zone_id"].str.strip()).fillna("").to_numpy())
            notes.append(f"zone names from {Path(population).name}")
    if name_prefix:
        if "name" not in raw.columns:
            raise InputDataError(
                [CellIssue(source, None, "name", "", "no zone name column to match a prefix on")],
                "the zones cannot be filtered by name",
            )
        chosen = raw["name"].str.strip().str.lower().str.startswith(name_prefix.strip().lower())
        raw = raw.loc[chosen]
        notes.append(f"{len(raw):,} kept whose name starts with {name_prefix!r}")
    if population is not None:
        raw = _join_population(raw, row_numbers, source, Path(population))
        notes.append(f"population from {Path(population).name}")
    zones = validate_zones(raw.reset_index(drop=True), source, row_numbers.loc[raw.index].tolist())
    if zones.empty:
        raise InputDataError(
            [CellIssue(source, None, "", "", "no zones left to use")], "the zones are empty"
        )
    return LoadedZones(zones, source, tuple(notes))


def _join_population(
    raw: pd.DataFrame, row_numbers: pd.Series, source: str, population: Path
) -> pd.DataFrame:
    if "zone_id" not in raw.columns:
        raise InputDataError(
            [CellIssue(source, None, "zone_id", "", "no zone code column to join population on")],
            "the zones cannot be used",
        )
    counts = read_population(population)
    codes = raw["zone_id"].str.strip()
    found = codes.isin(counts.index)
    if len(codes) >= 10 and found.mean() < 0.5:
        raise InputDataError(
            [
                CellIssue(
                    source,
                    None,
                    "zone_id",
                    f"{(~found).sum():,} of {len(codes):,}",
                    f"most zones have no population in {population}: the population file is "
                    "of another vintage (LSOA 2011 codes need mid-2011 to mid-2020 estimates; "
                    "LSOA 2021 codes need mid-2021 estimates or later)",
                )
            ],
            "the zones and the population file do not match",
        )
    issues = [
        CellIssue(
            source,
            int(row_numbers.loc[i]),
            "zone_id",
            str(code),
            f"no population for this zone in {population}",
        )
        for i, code in codes.loc[~found].items()
    ]
    if issues:
        raise InputDataError(issues, "some zones have no population")
    joined = raw.copy()
    joined["population"] = counts.reindex(codes.to_numpy()).to_numpy()
    return joined


def synthetic_zones(
    bounds: tuple[float, float, float, float],
    count: int,
    seed: int,
    mean_population: float = 1_500.0,
) -> LoadedZones:
    """``count`` zones scattered uniformly inside ``(xmin, ymin, xmax, ymax)`` (metres),
    with Poisson populations; seeded, and named ``SYNTHETIC-NNN`` so no one mistakes them
    for real places."""
    if count < 1:
        raise SettingsError(f"the number of synthetic zones must be at least 1, got {count}")
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = bounds
    raw = pd.DataFrame(
        {
            "zone_id": [f"SYNTHETIC-{i + 1:03d}" for i in range(count)],
            "name": [f"Synthetic zone {i + 1}" for i in range(count)],
            "population": rng.poisson(mean_population, size=count).astype(float),
            "easting": rng.uniform(xmin, xmax, size=count),
            "northing": rng.uniform(ymin, ymax, size=count),
        }
    )
    zones = validate_zones(raw, "synthetic zones")
    note = f"SYNTHETIC: {count} zones drawn from seed {seed}, not real places"
    return LoadedZones(zones, "synthetic", (note,))
