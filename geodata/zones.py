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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from estate.coords import BNG
from estate.errors import CellIssue, InputDataError, SettingsError
from estate.load import COLOCATION_COLUMNS, FileReport, LoadResult
from estate.readers import read_csv_grid, to_text
from estate.schema import ZONES
from estate.validate import FILE_COLUMN, ROW_COLUMN, coerce_table, fill_coordinates


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
VINTAGES = (
    "the population file is of another vintage (LSOA 2011 codes need mid-2011 to mid-2020 "
    "estimates; LSOA 2021 codes need mid-2021 estimates or later)"
)


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


def _read_table(path: Path) -> tuple[pd.DataFrame, list[int], str | None]:
    """The file's cells as text, each row's number as a person sees it, the encoding.

    CSV files go through the register reader (:func:`estate.readers.read_csv_grid`:
    UTF-8, UTF-16 or Windows-1252; comma, semicolon, tab or bar), so a zones file is
    read exactly as ``estate validate`` reads any table; point layers through
    geopandas (row numbers: 1 = the first feature).
    """
    if path.suffix.lower() in POINT_LAYER_SUFFIXES:
        table = _read_points(path)
        return table, list(range(1, len(table) + 1)), None
    grid = read_csv_grid(path)  # raises UnreadableError (an InputDataError)
    if not grid.rows:
        return pd.DataFrame(), [], grid.encoding
    header = [" ".join(to_text(c).split()) for c in grid.rows[0]]
    width = len(header)
    rows = [[to_text(c) for c in (r + [""] * width)[:width]] for r in grid.rows[1:]]
    table = pd.DataFrame(rows, columns=header, dtype=object)
    return table, grid.row_numbers[1:], grid.encoding


def _read_points(path: Path) -> pd.DataFrame:
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


def _renames(raw: pd.DataFrame) -> dict[str, str]:
    """Recognised headers and their canonical names; an ``x``/``y`` pair is read as
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
    return rename


def _canonical_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """The recognised columns under their canonical names (see :func:`_renames`)."""
    rename = _renames(raw)
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
    cells, numbers, _ = _read_table(path)
    raw = _canonical_columns(cells)
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
                CellIssue(str(path), numbers[int(i)], "zone_id", str(code), "zone listed twice")
                for i, code in duplicated.items()
            ],
            "the population file cannot be used",
        )
    names = raw["name"] if "name" in raw.columns else pd.Series("", index=raw.index)
    return pd.DataFrame(
        {"population": raw["population"].to_numpy(), "name": names.to_numpy()},
        index=codes.to_numpy(),
    )


@dataclass(frozen=True)
class ZonesAccount:
    """A zones file as read, every row accounted for (``estate validate --kind zones``
    prints it), and the zones when no row was rejected.

    ``load`` holds one :class:`~estate.load.FileReport` of kind ``zones``, or the file
    listed as unreadable with the problem of the file as a whole (no such file, a
    population file of another vintage, no column to join or filter on).  Blank rows
    and rows a name prefix leaves out are set aside; rows with a bad cell, no point in
    Great Britain or no population are rejected.
    """

    load: LoadResult
    zones: LoadedZones | None

    @property
    def errors(self) -> list[CellIssue]:
        return list(self.load.unreadable) + [i for f in self.load.files for i in f.errors]

    def checked(self) -> LoadedZones:
        """The zones, or an :class:`InputDataError` listing every problem."""
        if self.zones is not None:
            return self.zones
        rejected = sum(f.rows_rejected for f in self.load.files)
        head = f"{rejected} zone row(s) rejected" if rejected else "the zones cannot be used"
        raise InputDataError(self.errors, head)


class _FileProblem(Exception):
    """A problem of the zones file as a whole (not of one row)."""

    def __init__(self, issue: CellIssue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def read_zones(
    path: str | Path,
    population: str | Path | None = None,
    name_prefix: str | None = None,
) -> LoadedZones:
    """Zones from a CSV or point layer: canonical columns, ONS LSOA centroid files
    (with or without a BOM; WGS84 or National Grid), or any points with a population.

    Raises :class:`~estate.errors.InputDataError` listing every problem
    (:func:`account_zones` returns the account instead).

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
    return account_zones(path, population, name_prefix).checked()


def account_zones(
    path: str | Path,
    population: str | Path | None = None,
    name_prefix: str | None = None,
) -> ZonesAccount:
    """Read a zones file as :func:`read_zones` does, accounting for every row.

    Every zone needs an id, a population of at least 0 and a point in Great Britain;
    together the zones need some people (weighted by ``weight``), else every access
    share (people within reach over all people) is 0/0.  A zone with population 0 is
    a warning: it counts for nothing in any share.
    """
    path = Path(path)
    source = str(path)
    empty = pd.DataFrame(columns=COLOCATION_COLUMNS)
    try:
        cells, numbers, encoding = _read_table(path)
        report, loaded = _account(cells, numbers, source, population, name_prefix)
    except InputDataError as exc:
        return ZonesAccount(LoadResult([], list(exc.issues), empty), None)
    except _FileProblem as exc:
        return ZonesAccount(LoadResult([], [exc.issue], empty), None)
    report.encoding = encoding
    return ZonesAccount(LoadResult([report], [], empty), loaded)


def account_zone_files(
    paths: Sequence[str | Path],
    population: str | Path | None = None,
    name_prefix: str | None = None,
) -> LoadResult:
    """Several zones files, each read and accounted for as :func:`read_zones` reads it
    (``estate validate --kind zones``)."""
    accounts = [account_zones(p, population, name_prefix) for p in paths]
    return LoadResult(
        [f for a in accounts for f in a.load.files],
        [i for a in accounts for i in a.load.unreadable],
        pd.DataFrame(columns=COLOCATION_COLUMNS),
    )


def _account(
    cells: pd.DataFrame,
    numbers: list[int],
    source: str,
    population: str | Path | None,
    name_prefix: str | None,
) -> tuple[FileReport, LoadedZones | None]:
    renames = _renames(cells)
    raw = cells[[c for c in cells.columns if c in renames]].rename(columns=renames)
    notes = [f"{len(raw):,} zones read from {Path(source).name}"]
    aside: dict[int, str] = {}
    blank = [i for i, row in enumerate(cells.itertuples(index=False)) if _blank_row(row)]
    aside.update({i: "blank row" for i in blank})
    if population is not None and "name" not in raw.columns and "zone_id" in raw.columns:
        raw = _names_from_population(raw, source, Path(population), aside, notes)
    if name_prefix:
        if "name" not in raw.columns:
            raise _FileProblem(
                CellIssue(source, None, "name", "", "no zone name column to match a prefix on")
            )
        chosen = raw["name"].str.strip().str.lower().str.startswith(name_prefix.strip().lower())
        for i in np.flatnonzero(~chosen.to_numpy()):
            aside.setdefault(int(i), f"name does not start with {name_prefix!r}")
        matched = sum(1 for i in range(len(raw)) if i not in aside)
        notes.append(f"{matched:,} kept whose name starts with {name_prefix!r}")
    early: dict[int, list[CellIssue]] = {}
    if population is not None:
        raw = _join_population(raw, numbers, source, Path(population), aside, early)
        notes.append(f"population from {Path(population).name}")
    kept = [i for i in range(len(raw)) if i not in aside and i not in early]
    coerced = coerce_table(
        raw.iloc[kept].reset_index(drop=True),
        ZONES,
        source,
        [numbers[i] for i in kept],
        missing="reject",
    )
    rows = coerced.rejected[ROW_COLUMN].tolist()
    reasons = dict(zip(rows, coerced.rejected["reasons"].tolist(), strict=True))
    issues = list(coerced.issues)
    for found in early.values():
        issues += found
        reasons[int(found[0].row or 0)] = "; ".join(f"{i.column}: {i.message}" for i in found)
    accepted, errors = _placed_and_peopled(coerced.accepted, source, issues, reasons)
    if not len(accepted) and not errors:
        errors.append(CellIssue(source, None, "", "", "no zones left to use"))
    position = {n: i for i, n in enumerate(numbers)}
    report = FileReport(
        source=source,
        kind="zones",
        rows_read=len(cells),
        accepted=accepted,
        rejected=_cells_frame(cells, source, numbers, {position[r]: w for r, w in reasons.items()}),
        errors=sorted(errors, key=lambda i: (i.row is not None, i.row or 0)),
        warnings=list(coerced.warnings) + _unpeopled(accepted, source),
        notes=[CellIssue(source, None, "", "", note) for note in notes],
        blank_rows=[numbers[i] for i in blank],
        columns={canonical: [original] for original, canonical in renames.items()},
        set_aside=_cells_frame(cells, source, numbers, aside).rename(columns={"reasons": "reason"}),
    )
    if report.errors:
        return report, None
    return report, LoadedZones(accepted, source, tuple(notes))


def _blank_row(row: tuple[object, ...]) -> bool:
    return all(not str(v).strip() or str(v) == "nan" for v in row)


def _names_from_population(
    raw: pd.DataFrame, source: str, population: Path, aside: dict[int, str], notes: list[str]
) -> pd.DataFrame:
    """Zone names from the population file (the 2021 centroids carry none)."""
    names = _population_table(population)["name"]
    codes = raw["zone_id"].str.strip()
    absent = ~codes.isin(names.index) & ~pd.Series([i in aside for i in range(len(raw))])
    if absent.any():  # a prefix on borrowed names would drop these zones unseen
        raise _FileProblem(
            CellIssue(
                source,
                None,
                "zone_id",
                f"{int(absent.sum()):,} of {len(raw):,}",
                f"zones not in {population.name}, which names them: {VINTAGES}",
            )
        )
    if (names != "").any():
        notes.append(f"zone names from {population.name}")
        return raw.assign(name=names.reindex(codes).fillna("").to_numpy())
    return raw


def _join_population(
    raw: pd.DataFrame,
    numbers: list[int],
    source: str,
    population: Path,
    aside: dict[int, str],
    early: dict[int, list[CellIssue]],
) -> pd.DataFrame:
    """Each zone's population from ``population``; a zone it lacks is rejected."""
    if "zone_id" not in raw.columns:
        raise _FileProblem(
            CellIssue(source, None, "zone_id", "", "no zone code column to join population on")
        )
    counts = read_population(population)
    codes = raw["zone_id"].str.strip()
    kept = np.array([i not in aside for i in range(len(raw))], dtype=bool)
    found = codes.isin(counts.index).to_numpy()
    if kept.sum() >= 10 and found[kept].mean() < 0.5:
        raise _FileProblem(
            CellIssue(
                source,
                None,
                "zone_id",
                f"{int((~found[kept]).sum()):,} of {int(kept.sum()):,}",
                f"most zones have no population in {population}: {VINTAGES}",
            )
        )
    for i in np.flatnonzero(kept & ~found):
        early[int(i)] = [
            CellIssue(
                source,
                numbers[int(i)],
                "zone_id",
                str(codes.iat[i]),
                f"no population for this zone in {population}",
            )
        ]
    joined = raw.copy()
    joined["population"] = counts.reindex(codes.to_numpy()).fillna("").to_numpy()
    return joined


def _placed_and_peopled(
    accepted: pd.DataFrame, source: str, issues: list[CellIssue], reasons: dict[int, str]
) -> tuple[pd.DataFrame, list[CellIssue]]:
    """Reject zones with no point in Great Britain; then, if the zones left hold no
    people, reject them all with one table-level error (shares would be 0/0)."""
    errors = list(issues)
    if accepted.empty:
        return accepted, errors
    problems = fill_coordinates(accepted, source)
    bad = {issue.row for issue in problems}
    for issue in problems:
        errors.append(issue)
        reasons[int(issue.row or 0)] = f"{issue.column}: {issue.message}"
    accepted = accepted.loc[~accepted[ROW_COLUMN].isin(bad)].reset_index(drop=True)
    people = float((accepted["population"] * accepted["weight"]).sum())
    if len(accepted) and people <= 0:
        why = (
            "no people: every zone's population (times its weight) is 0, so every access "
            "share (people within reach over all people) is undefined; give the zones' "
            "population (a population file such as ONS SAPE)"
        )
        errors.append(CellIssue(source, None, "population", "0", why))
        for row in accepted[ROW_COLUMN]:
            reasons[int(row)] = "population: the zones hold no people"
        accepted = accepted.iloc[0:0]
    return accepted, errors


def _unpeopled(accepted: pd.DataFrame, source: str) -> list[CellIssue]:
    """A warning for each zone with no people: it counts for nothing in any share."""
    if accepted.empty:
        return []
    empty = (accepted["population"] * accepted["weight"]).to_numpy() <= 0
    return [
        CellIssue(
            source,
            int(row),
            "population",
            f"{pop:g}",
            "no people (population x weight is 0): the zone counts for nothing in access",
        )
        for row, pop in zip(
            accepted.loc[empty, ROW_COLUMN], accepted.loc[empty, "population"], strict=True
        )
    ]


def _cells_frame(
    cells: pd.DataFrame, source: str, numbers: list[int], reasons: dict[int, str]
) -> pd.DataFrame:
    """Rows as the file holds them: file, row, reasons, then the row's cells."""
    order = sorted(reasons)
    head = pd.DataFrame(
        {
            FILE_COLUMN: [source] * len(order),
            ROW_COLUMN: [numbers[i] for i in order],
            "reasons": [reasons[i] for i in order],
        }
    )
    body = cells.iloc[order].reset_index(drop=True).astype(object)
    body.columns = [c if c not in head.columns else f"{c} (source)" for c in body.columns]
    return pd.concat([head, body], axis=1)


def synthetic_zones_near(
    xy: np.ndarray,
    count: int,
    seed: int,
    within_m: float,
    mean_population: float = 1_500.0,
) -> LoadedZones:
    """``count`` zones, each within ``within_m`` metres (each axis) of a point of ``xy``
    drawn at random (a road network's nodes: people live along roads); Poisson
    populations; seeded and named ``SYNTHETIC-NNN`` like :func:`synthetic_zones`."""
    if count < 1:
        raise SettingsError(f"the number of synthetic zones must be at least 1, got {count}")
    rng = np.random.default_rng(seed)
    at = np.asarray(xy, dtype=float)[rng.integers(0, len(xy), size=count)]
    at = at + rng.uniform(-within_m, within_m, size=at.shape)
    raw = pd.DataFrame(
        {
            "zone_id": [f"SYNTHETIC-{i + 1:03d}" for i in range(count)],
            "name": [f"Synthetic zone {i + 1}" for i in range(count)],
            "population": rng.poisson(mean_population, size=count).astype(float),
            "easting": at[:, 0],
            "northing": at[:, 1],
        }
    )
    zones = validate_zones(raw, "synthetic zones")
    note = f"SYNTHETIC: {count} zones drawn from seed {seed} near the network, not real places"
    return LoadedZones(zones, "synthetic", (note,))


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
