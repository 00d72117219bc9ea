"""Geocoding: give every building a point, offline first, and say how.

Per row, the first that works:

1. ``lat_lon``: latitude/longitude given (converted to EPSG:27700 with pyproj);
2. ``easting_northing``: British National Grid coordinates given;
3. ``uprn``: the UPRN found in an OS Open UPRN CSV (the building's own point);
4. ``postcode``: the postcode found in a local lookup, the ONS Postcode Directory (or
   NSPL) or OS Code-Point Open (the postcode's centroid: typically within 100 m in
   towns, further in the country);
5. ``online``: the address looked up by an online geocoder (opt-in; rate-limited;
   every answer cached on disk under :func:`estate.settings.cache_dir` ``("geocode")``).

UPRN comes before postcode, unlike the order the first issue listed, because a UPRN
point is the building itself while a postcode centroid averages about fifteen
addresses.  Rows that nothing places keep ``geocode_method == "none"`` and are listed;
no row is ever dropped.  Points outside Great Britain are flagged (``outside_gb``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from estate.coords import bng_to_lonlat, in_great_britain, lonlat_to_bng
from estate.errors import CellIssue, InputDataError, UnreadableError
from estate.io import atomic_write, write_csv, write_text
from estate.postcodes import normalise_postcode, postcode_key
from estate.readers import decode_text
from estate.settings import cache_dir
from estate.validate import FILE_COLUMN, ROW_COLUMN

METHODS = ("lat_lon", "easting_northing", "uprn", "postcode", "online", "none")
#: Coordinates further than this from their own postcode's centroid are queried.
POSTCODE_CHECK_METRES = 2_000.0

_CHUNK_ROWS = 200_000
_CODEPOINT_NAMES = ["postcode", "quality", "easting", "northing"]


# --- postcode lookup ------------------------------------------------------------------


@dataclass(frozen=True)
class PostcodeLookup:
    """Postcode (unspaced, upper case) -> easting, northing in metres (EPSG:27700)."""

    points: dict[str, tuple[float, float]]
    sources: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.points)

    def locate(self, postcode: object) -> tuple[float, float] | None:
        return self.points.get(postcode_key(postcode))

    @classmethod
    def from_files(
        cls, paths: Iterable[str | Path], wanted: Iterable[str] | None = None
    ) -> PostcodeLookup:
        """Read OS Code-Point Open CSVs (no header; a folder of them is fine) or ONS
        Postcode Directory / NSPL CSVs (header with ``pcd``/``pcds`` and
        ``oseast1m``/``osnrth1m``).  With ``wanted``, keep only those postcodes (a full
        ONSPD has 2.7 million rows)."""
        keys = {postcode_key(p) for p in wanted} if wanted is not None else None
        points: dict[str, tuple[float, float]] = {}
        files = _expand(paths)
        for path in files:
            points.update(_read_postcode_file(path, keys))
        return cls(points, tuple(str(p) for p in files))


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() == ".csv")
            found = [q for q in found if not q.name.lower().startswith("doc_")]
            if not found:
                raise UnreadableError.about(str(p), "folder holds no CSV files")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise UnreadableError.about(str(p), "no such file or folder")
    return files


def _first_line(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4096)
    text, _ = decode_text(head.split(b"\n", 1)[0], str(path))
    return text.strip().lstrip("\ufeff")


def _read_postcode_file(path: Path, keys: set[str] | None) -> dict[str, tuple[float, float]]:
    first = [c.strip().strip('"').lower() for c in _first_line(path).split(",")]
    if "oseast1m" in first and ({"pcd", "pcds", "pcd2"} & set(first)):
        pc = next(c for c in ("pcds", "pcd", "pcd2") if c in first)
        columns = {pc: "postcode", "oseast1m": "easting", "osnrth1m": "northing"}
        kwargs: dict[str, Any] = {"usecols": lambda c: c.strip().lower() in columns}
        header: int | None = 0
    elif first and normalise_postcode(first[0]) is not None and len(first) >= 4:
        columns = {}
        kwargs = {"usecols": [0, 1, 2, 3], "names": _CODEPOINT_NAMES}
        header = None
    else:
        raise UnreadableError.about(
            str(path),
            "not a postcode lookup: expected OS Code-Point Open (no header) or the ONS "
            "Postcode Directory (columns pcd/pcds, oseast1m, osnrth1m)",
        )
    out: dict[str, tuple[float, float]] = {}
    try:
        chunks = pd.read_csv(
            path,
            header=header,
            dtype=str,
            keep_default_na=False,
            chunksize=_CHUNK_ROWS,
            encoding="utf-8-sig",
            encoding_errors="replace",
            **kwargs,
        )
        for chunk in chunks:
            chunk = chunk.rename(columns=lambda c: columns.get(c.strip().lower(), c))
            key = chunk["postcode"].map(postcode_key)
            east = pd.to_numeric(chunk["easting"], errors="coerce")
            north = pd.to_numeric(chunk["northing"], errors="coerce")
            ok = east.notna() & north.notna() & (east > 0) & (north > 0)
            if "quality" in chunk:  # Code-Point: 90 = no coordinates
                ok &= chunk["quality"].str.strip() != "90"
            if keys is not None:
                ok &= key.isin(keys)
            for k, e, n in zip(key[ok], east[ok], north[ok], strict=True):
                out[k] = (float(e), float(n))
    except (ValueError, KeyError, pd.errors.ParserError) as exc:
        raise UnreadableError.about(str(path), f"cannot read postcode lookup: {exc}") from None
    return out


# --- UPRN lookup ----------------------------------------------------------------------


@dataclass(frozen=True)
class UprnLookup:
    """UPRN -> easting, northing from an OS Open UPRN CSV
    (``UPRN,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE``)."""

    points: dict[str, tuple[float, float]]

    def __len__(self) -> int:
        return len(self.points)

    def locate(self, uprn: object) -> tuple[float, float] | None:
        return self.points.get(str(uprn).strip())

    @classmethod
    def from_file(cls, path: str | Path, wanted: Iterable[str] | None = None) -> UprnLookup:
        p = Path(path)
        if not p.is_file():
            raise UnreadableError.about(str(p), "no such file")
        first = [c.strip().strip('"').upper() for c in _first_line(p).split(",")]
        if not {"UPRN", "X_COORDINATE", "Y_COORDINATE"} <= set(first):
            raise UnreadableError.about(
                str(p), "not an OS Open UPRN CSV: expected UPRN, X_COORDINATE, Y_COORDINATE"
            )
        keys = {str(u).strip() for u in wanted} if wanted is not None else None
        out: dict[str, tuple[float, float]] = {}
        try:
            for chunk in pd.read_csv(
                p,
                usecols=lambda c: c.strip().upper() in {"UPRN", "X_COORDINATE", "Y_COORDINATE"},
                dtype=str,
                keep_default_na=False,
                chunksize=_CHUNK_ROWS,
                encoding="utf-8-sig",
            ):
                chunk.columns = [c.strip().upper() for c in chunk.columns]
                uprn = chunk["UPRN"].str.strip()
                east = pd.to_numeric(chunk["X_COORDINATE"], errors="coerce")
                north = pd.to_numeric(chunk["Y_COORDINATE"], errors="coerce")
                ok = east.notna() & north.notna()
                if keys is not None:
                    ok &= uprn.isin(keys)
                for k, e, n in zip(uprn[ok], east[ok], north[ok], strict=True):
                    out[k] = (float(e), float(n))
        except (ValueError, KeyError, pd.errors.ParserError) as exc:
            raise UnreadableError.about(str(p), f"cannot read UPRN lookup: {exc}") from None
        return cls(out)


# --- online ---------------------------------------------------------------------------


class GeocoderBackend(Protocol):
    """What an online geocoder must offer (geopy's geocoders do)."""

    def geocode(self, query: str) -> Any: ...


@dataclass
class OnlineGeocoder:
    """An online address geocoder behind a disk cache and a rate limit.

    ``backend.geocode(query)`` returns an object with ``latitude``/``longitude`` (as
    geopy's ``Location`` has) or ``None``.  Answers, misses included, are cached as
    JSON under ``cache`` keyed by a hash of the provider and the query, so a query is
    sent at most once.  Calls are at least ``min_delay_seconds`` apart (Nominatim's
    usage policy asks for one a second).
    """

    backend: GeocoderBackend
    provider: str = "nominatim"
    min_delay_seconds: float = 1.0
    cache: Path | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    calls: int = 0
    _last: float | None = field(default=None, repr=False)

    def _cache_file(self, query: str) -> Path:
        folder = self.cache if self.cache is not None else cache_dir("geocode")
        digest = hashlib.sha256(f"{self.provider}\n{query}".encode()).hexdigest()
        return folder / self.provider / f"{digest}.json"

    def lookup(self, query: str) -> tuple[float, float] | None:
        """Latitude, longitude for an address, or ``None`` when not found."""
        path = self._cache_file(query)
        if path.is_file():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                return None if doc["lat"] is None else (float(doc["lat"]), float(doc["lon"]))
            except (ValueError, KeyError, TypeError):
                path.unlink(missing_ok=True)  # a damaged cache entry is fetched again
        if self._last is not None:
            wait = self.min_delay_seconds - (self.clock() - self._last)
            if wait > 0:
                self.sleep(wait)
        try:
            found = self.backend.geocode(query)
        finally:
            self._last = self.clock()
            self.calls += 1
        point = None if found is None else (float(found.latitude), float(found.longitude))
        doc = {"provider": self.provider, "query": query, "lat": None, "lon": None}
        if point is not None:
            doc["lat"], doc["lon"] = point
        write_text(path, json.dumps(doc, sort_keys=True) + "\n")
        return point


def nominatim(user_agent: str, timeout_seconds: float = 10.0) -> OnlineGeocoder:
    """The OpenStreetMap Nominatim geocoder through geopy, limited to the UK."""
    try:
        from geopy.geocoders import Nominatim
    except ImportError as exc:  # pragma: no cover - geopy is a dependency
        raise InputDataError([], f"online geocoding needs geopy ({exc})") from None

    service = Nominatim(user_agent=user_agent, timeout=timeout_seconds)

    class _UK:
        def geocode(self, query: str) -> Any:
            return service.geocode(query, country_codes="gb", exactly_one=True)

    return OnlineGeocoder(_UK(), provider="nominatim")


# --- the chain ------------------------------------------------------------------------


@dataclass
class Geocoded:
    """The buildings with their points, and what could not be placed."""

    buildings: pd.DataFrame
    unmatched: pd.DataFrame
    warnings: list[CellIssue]

    def counts(self) -> dict[str, int]:
        counts = self.buildings["geocode_method"].value_counts()
        return {m: int(counts.get(m, 0)) for m in METHODS}

    @property
    def outside_gb(self) -> pd.DataFrame:
        return self.buildings.loc[self.buildings["outside_gb"]]


def _address_query(row: pd.Series) -> str:
    parts = [str(row.get(c, "") or "").strip() for c in ("name", "address", "postcode")]
    parts = [p for p in parts if p]
    return ", ".join([*parts, "United Kingdom"]) if parts else ""


def geocode(
    buildings: pd.DataFrame,
    postcodes: PostcodeLookup | None = None,
    uprns: UprnLookup | None = None,
    online: OnlineGeocoder | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Geocoded:
    """Fill ``easting``/``northing``/``lat``/``lon`` and ``geocode_method`` for every row.

    ``buildings`` is a canonical buildings (or assets) table as loaded; it is not
    changed.  Returns every row (the unplaced ones with ``geocode_method == "none"``),
    the unmatched rows with the reason, and warnings (coordinates far from their own
    postcode).
    """
    out = buildings.copy().reset_index(drop=True)
    n = len(out)
    east, north, lat, lon = (_numbers(out, c) for c in ("easting", "northing", "lat", "lon"))
    method = np.full(n, "none", dtype=object)

    has_ll = ~np.isnan(lat) & ~np.isnan(lon)
    if has_ll.any():
        e, nn = lonlat_to_bng(lon[has_ll], lat[has_ll])
        east[has_ll], north[has_ll] = e, nn
        method[has_ll] = "lat_lon"
    has_en = (method == "none") & ~np.isnan(east) & ~np.isnan(north)
    method[has_en] = "easting_northing"

    texts = {c: out[c].astype(str).str.strip().tolist() for c in ("uprn", "postcode") if c in out}
    reasons: list[str] = [""] * n
    for i in range(n):
        if method[i] != "none":
            continue
        tried = []
        uprn = texts.get("uprn", [""] * n)[i]
        if uprn and uprns is not None:
            point = uprns.locate(uprn)
            if point is not None:
                east[i], north[i] = point
                method[i] = "uprn"
                continue
            tried.append(f"UPRN {uprn} not in the UPRN lookup")
        postcode = texts.get("postcode", [""] * n)[i]
        if postcode and postcodes is not None:
            point = postcodes.locate(postcode)
            if point is not None:
                east[i], north[i] = point
                method[i] = "postcode"
                continue
            tried.append(f"postcode {postcode} not in the postcode lookup")
        if not (uprn or postcode or str(out.at[i, "address"] if "address" in out else "")):
            tried.append("no coordinates, UPRN, postcode or address")
        elif uprn and uprns is None and not postcode:
            tried.append("UPRN given but no UPRN lookup file")
        elif postcode and postcodes is None:
            tried.append("postcode given but no postcode lookup file")
        reasons[i] = "; ".join(tried)

    todo = [i for i in range(n) if method[i] == "none"]
    if online is not None and todo:
        for done, i in enumerate(todo, start=1):
            query = _address_query(out.iloc[i])
            if query:
                try:
                    found = online.lookup(query)
                except Exception as exc:  # geocoder services fail in many ways
                    reasons[i] = f"{reasons[i]}; online geocoder failed: {exc}".lstrip("; ")
                    found = None
                if found is not None:
                    lat[i], lon[i] = found
                    e, nn = lonlat_to_bng([found[1]], [found[0]])
                    east[i], north[i] = float(e[0]), float(nn[0])
                    method[i] = "online"
                    reasons[i] = ""
                elif "failed" not in reasons[i]:
                    reasons[i] = f"{reasons[i]}; address not found online".lstrip("; ")
            if progress is not None:
                progress(done, len(todo))

    placed = method != "none"
    need_ll = placed & (np.isnan(lat) | np.isnan(lon) | (method != "lat_lon"))
    need_ll &= method != "online"
    if need_ll.any():
        lo, la = bng_to_lonlat(east[need_ll], north[need_ll])
        lon[need_ll], lat[need_ll] = lo, la
    out["easting"], out["northing"], out["lat"], out["lon"] = east, north, lat, lon
    out["geocode_method"] = method
    inside = in_great_britain(np.nan_to_num(east, nan=-1.0), np.nan_to_num(north, nan=-1.0))
    inside &= np.isfinite(east) & np.isfinite(north)
    out["outside_gb"] = placed & ~inside
    warnings = _check_against_postcode(out, postcodes)
    unmatched = out.loc[~placed, [c for c in _LISTED if c in out]].copy()
    unmatched["reason"] = [reasons[i] for i in np.flatnonzero(~placed)]
    return Geocoded(out, unmatched.reset_index(drop=True), warnings)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(float, copy=True)


_LISTED = (FILE_COLUMN, ROW_COLUMN, "building_id", "agency", "name", "address", "postcode", "uprn")


def _check_against_postcode(out: pd.DataFrame, postcodes: PostcodeLookup | None) -> list[CellIssue]:
    if postcodes is None or "postcode" not in out:
        return []
    warnings = []
    given = out["geocode_method"].isin(["lat_lon", "easting_northing"])
    for i in np.flatnonzero(given.to_numpy()):
        point = postcodes.locate(out.at[i, "postcode"])
        if point is None:
            continue
        gap = math.hypot(out.at[i, "easting"] - point[0], out.at[i, "northing"] - point[1])
        if gap > POSTCODE_CHECK_METRES:
            warnings.append(
                CellIssue(
                    str(out.at[i, FILE_COLUMN]) if FILE_COLUMN in out else "",
                    int(out.at[i, ROW_COLUMN]) if ROW_COLUMN in out else None,
                    "easting/northing",
                    f"{out.at[i, 'easting']:.0f},{out.at[i, 'northing']:.0f}",
                    f"{gap / 1000:.1f} km from the centroid of postcode {out.at[i, 'postcode']}",
                )
            )
    return warnings


def wanted_values(frame: pd.DataFrame, column: str) -> set[str]:
    """Non-blank values of a column (to read only the lookup rows a register needs)."""
    if column not in frame:
        return set()
    values = frame[column].astype(str).str.strip()
    return set(values[values != ""])


# --- output ---------------------------------------------------------------------------


def write_register(buildings: pd.DataFrame, path: str | Path, layer: str = "buildings") -> Path:
    """Write geocoded buildings atomically: GeoPackage (points in EPSG:27700; unplaced
    rows with an empty geometry, never left out) or CSV, by the file's suffix."""
    target = Path(path)
    suffix = target.suffix.lower()
    frame = _rounded(buildings)
    if suffix == ".csv":
        return write_csv(target, frame)
    if suffix != ".gpkg":
        raise InputDataError(
            [CellIssue(str(target), None, "", "", "output must end in .gpkg or .csv")],
            f"cannot write {target}",
        )
    import geopandas as gpd
    from shapely.geometry import Point

    geometry = [
        Point(e, n) if np.isfinite(e) and np.isfinite(n) else None
        for e, n in zip(frame["easting"], frame["northing"], strict=True)
    ]
    data = frame.copy()
    for col in data.columns:
        if data[col].dtype == object:
            data[col] = data[col].map(lambda v: None if v is None else str(v))
    gdf = gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:27700")

    def _write(tmp: Path) -> None:
        tmp.unlink(missing_ok=True)
        gdf.to_file(tmp, layer=layer, driver="GPKG")

    return atomic_write(target, _write)


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col, digits in (("easting", 1), ("northing", 1), ("lat", 7), ("lon", 7)):
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce").round(digits)
    return out


__all__ = [
    "Geocoded",
    "OnlineGeocoder",
    "PostcodeLookup",
    "UprnLookup",
    "geocode",
    "nominatim",
    "wanted_values",
    "write_register",
]
