"""Geocoding: the offline chain, postcode normalisation, BNG conversion, the online
path with a fake geocoder (never the network)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from estate.coords import bng_to_lonlat, lonlat_to_bng, parse_coordinate_cell
from estate.errors import UnreadableError
from estate.geocode import (
    OnlineGeocoder,
    PostcodeLookup,
    UprnLookup,
    geocode,
    write_register,
)
from estate.load import load_files
from estate.postcodes import normalise_postcode, postcode_key

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("LE15 6BQ", "LE15 6BQ"),
        ("le15 6bq", "LE15 6BQ"),
        ("LE156BQ", "LE15 6BQ"),
        (" LE15  6BQ ", "LE15 6BQ"),
        ("LE15\u00a06BQ", "LE15 6BQ"),
        ("pe91ab", "PE9 1AB"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("W1A0AX", "W1A 0AX"),
        ("CH65 OEZ", None),  # letter O for zero
        ("TS13 45W", None),
        ("Not available", None),
        ("", None),
    ],
)
def test_postcode_normalisation(given: str, expected: str | None) -> None:
    assert normalise_postcode(given) == expected


def test_postcode_key_matches_codepoint_unit_format() -> None:
    assert postcode_key("LE15 0AQ") == postcode_key("LE150AQ") == "LE150AQ"
    assert postcode_key("PE9 1AB") == postcode_key("PE9 1AB") == "PE91AB"


def test_bng_conversion_at_known_points() -> None:
    # Oakham and Uppingham libraries as the Arts Council list gives them, in both
    # systems: pyproj's Helmert transform agrees within the 2-4 m it is known for.
    e, n = lonlat_to_bng([-0.7258676, -0.7208001], [52.6693737, 52.5877383])
    assert e == pytest.approx([486256.35, 486759.99], abs=5)
    assert n == pytest.approx([308721.91, 299647.74], abs=5)
    lon, lat = bng_to_lonlat([486256.35], [308721.91])
    assert (lon[0], lat[0]) == pytest.approx((-0.7258676, 52.6693737), abs=5e-5)
    back_e, back_n = lonlat_to_bng(*bng_to_lonlat([216654.0], [771242.0]))
    assert (back_e[0], back_n[0]) == pytest.approx((216654.0, 771242.0), abs=0.01)


def test_coordinate_cells() -> None:
    assert parse_coordinate_cell("440715,354526") == ("bng", 440715.0, 354526.0)
    assert parse_coordinate_cell("52.67, -0.73") == ("wgs84", 52.67, -0.73)
    assert parse_coordinate_cell("SK 40715 54526") == ("bng", 440715.0, 354526.0)
    for bad in ("-0.73, 52.67", "hello", "SK 123 45", "9999999,1"):
        with pytest.raises(ValueError):
            parse_coordinate_cell(bad)


def _codepoint(path: Path) -> Path:
    # Code-Point Open as published: no header, CRLF, quoted postcodes, no space after
    # a four-character outward code, quality 90 = no coordinates.
    rows = [
        '"LE150AQ",10,485000,309000,"E92000001","E19000001","E18000004","","E06000017","E05"',
        '"PE9 1AB",10,503000,307000,"E92000001","E19000001","E18000004","","E07000141","E05"',
        '"LE159ZZ",90,0,0,"E92000001","E19000001","E18000004","","E06000017","E05"',
    ]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode())
    return path


def _onspd(path: Path) -> Path:
    path.write_text(
        "pcd,pcd2,pcds,doterm,oseast1m,osnrth1m,lat,long\n"
        "LE156BQ,LE15 6BQ,LE15 6BQ,,486000,308000,52.6,-0.7\n"
        "XX1 1XX,XX1  1XX,XX1 1XX,,,,99.999999,0\n",
        encoding="utf-8",
    )
    return path


def _buildings() -> pd.DataFrame:
    nan = float("nan")
    return pd.DataFrame(
        {
            "source_file": "r.csv",
            "source_row": [2, 3, 4, 5, 6, 7, 8, 9],
            "building_id": list("abcdefgh"),
            "agency": "Council",
            "name": [
                "given ll",
                "given en",
                "by uprn",
                "by pc",
                "onspd",
                "nothing",
                "paris",
                "no pc",
            ],
            "address": ["", "", "", "", "", "", "", "1 Nowhere Lane"],
            "postcode": ["", "", "LE15 0AQ", "le150aq", "LE15 6BQ", "", "", "ZZ9 9ZZ"],
            "uprn": ["", "", "1001", "", "", "", "", ""],
            "lat": [52.67, nan, nan, nan, nan, nan, 48.8566, nan],
            "lon": [-0.73, nan, nan, nan, nan, nan, 2.3522, nan],
            "easting": [nan, 490000.0, nan, nan, nan, nan, nan, nan],
            "northing": [nan, 300000.0, nan, nan, nan, nan, nan, nan],
        }
    )


def test_offline_chain_in_order(tmp_path: Path) -> None:
    (tmp_path / "uprn.csv").write_text(
        "UPRN,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE\n1001,486100.5,308200.25,52.6,-0.7\n"
        "1002,1,1,49,-7\n",
        encoding="utf-8",
    )
    postcodes = PostcodeLookup.from_files(
        [_codepoint(tmp_path / "le.csv"), _onspd(tmp_path / "onspd.csv")]
    )
    assert len(postcodes) == 3  # quality 90 and blank coordinates are left out
    uprns = UprnLookup.from_file(tmp_path / "uprn.csv", wanted={"1001"})
    assert len(uprns) == 1
    geo = geocode(_buildings(), postcodes, uprns)
    b = geo.buildings
    assert b["geocode_method"].tolist() == [
        "lat_lon",
        "easting_northing",
        "uprn",  # before its postcode: the building's own point
        "postcode",
        "postcode",
        "none",
        "lat_lon",
        "none",
    ]
    assert (b.at[2, "easting"], b.at[2, "northing"]) == (486100.5, 308200.25)
    assert (b.at[3, "easting"], b.at[3, "northing"]) == (485000.0, 309000.0)
    assert (b.at[4, "easting"], b.at[4, "northing"]) == (486000.0, 308000.0)
    assert b.loc[b["geocode_method"] != "none", ["lat", "lon"]].notna().all().all()
    assert b["outside_gb"].tolist() == [False] * 6 + [True, False]
    assert geo.unmatched["building_id"].tolist() == ["f", "h"]
    assert geo.unmatched["reason"].tolist() == [
        "no coordinates, UPRN, postcode or address",
        "postcode ZZ9 9ZZ not in the postcode lookup",
    ]
    assert len(b) == 8  # nothing dropped


def test_coordinates_far_from_their_postcode_are_queried(tmp_path: Path) -> None:
    postcodes = PostcodeLookup.from_files([_codepoint(tmp_path / "le.csv")])
    frame = _buildings().iloc[[1]].assign(postcode="LE15 0AQ")
    geo = geocode(frame, postcodes)
    assert len(geo.warnings) == 1 and "km from the centroid" in geo.warnings[0].message


def test_lookup_files_that_are_not_lookups(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UnreadableError, match="not a postcode lookup"):
        PostcodeLookup.from_files([other])
    with pytest.raises(UnreadableError, match="not an OS Open UPRN"):
        UprnLookup.from_file(other)
    with pytest.raises(UnreadableError, match="no such file"):
        PostcodeLookup.from_files([tmp_path / "missing.csv"])


class FakeGeocoder:
    """Answers from a dict, counting calls: the online path without a network."""

    def __init__(self, answers: dict[str, tuple[float, float]]) -> None:
        self.answers = answers
        self.queries: list[str] = []

    def geocode(self, query: str) -> SimpleNamespace | None:
        self.queries.append(query)
        found = self.answers.get(query)
        return None if found is None else SimpleNamespace(latitude=found[0], longitude=found[1])


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_online_path_is_rate_limited_and_cached(tmp_path: Path) -> None:
    frame = _buildings().iloc[[5, 7]].reset_index(drop=True)
    frame.loc[0, "address"] = "Catmose House, Oakham"
    fake = FakeGeocoder({"nothing, Catmose House, Oakham, United Kingdom": (52.6703, -0.7267)})
    clock = FakeClock()
    coder = OnlineGeocoder(fake, "fake", 1.0, tmp_path / "cache", clock.sleep, clock)
    geo = geocode(frame, online=coder)
    assert geo.buildings["geocode_method"].tolist() == ["online", "none"]
    assert geo.buildings.at[0, "lat"] == 52.6703
    assert 480_000 < geo.buildings.at[0, "easting"] < 490_000
    assert geo.unmatched["reason"].iloc[0].endswith("address not found online")
    assert fake.queries == [
        "nothing, Catmose House, Oakham, United Kingdom",
        "no pc, 1 Nowhere Lane, ZZ9 9ZZ, United Kingdom",
    ]
    assert clock.slept == [1.0]  # the second call waited a second
    again = OnlineGeocoder(fake, "fake", 1.0, tmp_path / "cache", clock.sleep, clock)
    geocode(frame, online=again)
    assert again.calls == 0 and len(fake.queries) == 2  # hits and misses both cached
    assert len(list((tmp_path / "cache" / "fake").glob("*.json"))) == 2


def test_online_failures_leave_rows_unmatched(tmp_path: Path) -> None:
    class Broken:
        def geocode(self, query: str) -> None:
            raise TimeoutError("service timed out")

    frame = _buildings().iloc[[7]].reset_index(drop=True)
    coder = OnlineGeocoder(Broken(), "broken", 0.0, tmp_path)
    geo = geocode(frame, online=coder)
    assert geo.buildings["geocode_method"].tolist() == ["none"]
    assert "online geocoder failed: service timed out" in geo.unmatched["reason"].iloc[0]
    assert not list(tmp_path.rglob("*.json"))  # failures are not cached


def test_register_written_as_geopackage_keeps_unplaced_rows(tmp_path: Path) -> None:
    geo = geocode(_buildings())
    path = write_register(geo.buildings, tmp_path / "out" / "register.gpkg")
    back = gpd.read_file(path)
    assert len(back) == 8 and back.crs.to_epsg() == 27700
    assert back.geometry.isna().sum() == int((geo.buildings["geocode_method"] == "none").sum())
    assert back["geocode_method"].tolist() == geo.buildings["geocode_method"].tolist()
    csv = write_register(geo.buildings, tmp_path / "register.csv")
    assert len(pd.read_csv(csv)) == 8
    assert not list(tmp_path.rglob(".*tmp*"))  # atomic: no temporary files left


@pytest.mark.shared_data
@pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data folder {DATA} is absent")
def test_rutland_libraries_lie_near_their_codepoint_postcodes() -> None:
    result = load_files(
        [str(DATA / "assets/basic-dataset-for-libraries-2023-enhanced.csv")], kind="assets"
    )
    rutland = result.accepted.loc[result.accepted["agency"] == "Rutland County Council"]
    postcodes = PostcodeLookup.from_files([DATA / "postcodes"], rutland["postcode"])
    by_postcode = geocode(rutland.drop(columns=["lat", "lon", "easting", "northing"]), postcodes)
    given = geocode(rutland)
    assert (by_postcode.buildings["geocode_method"] == "postcode").all()
    gap = np.hypot(
        by_postcode.buildings["easting"].to_numpy() - given.buildings["easting"].to_numpy(),
        by_postcode.buildings["northing"].to_numpy() - given.buildings["northing"].to_numpy(),
    )
    assert gap.max() < 250  # SOURCE.txt: 9-202 m from the postcode centroid
