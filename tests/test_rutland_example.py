"""The Rutland register built from ../shared/data: real sites, labelled estimates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from estate.examples import rutland
from estate.register import Register

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data folder {DATA} is absent"),
]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rutland")
    assert rutland.main(["--data", str(DATA), "--out", str(out)]) == 0
    return out


def test_register_has_every_agency_and_loads_back(written: Path) -> None:
    register = Register.from_csv(written / "buildings.csv", written / "services.csv")
    counts = register.buildings["agency"].value_counts().to_dict()
    assert counts == {
        "Rutland County Council": 6,  # 4 libraries, the museum, the Catmose offices
        "NHS GP practices": 4,
        "Leicestershire Fire and Rescue Service": 2,
        "Leicestershire Police": 2,
        "Leicestershire Partnership NHS Trust": 1,
    }
    assert set(register.buildings["building_id"]) >= {
        "RT5PC",
        "C82010",
        "C82044",
        "C82077",
        "C82649",
        "LFRS-oakham-fire-station",
        "LFRS-uppingham-fire-station",
        "RCC-oakham-library",
    }
    assert register.buildings[["easting", "northing", "lat", "lon"]].notna().all().all()
    assert (
        register.occupancy().le(register.buildings.set_index("building_id")["capacity_desks"]).all()
    )
    zones = pd.read_csv(written / "zones.csv")
    assert len(zones) == 23 and zones["population"].sum() == 39_697


def test_reported_figures_are_kept_and_estimates_are_labelled(written: Path) -> None:
    b = pd.read_csv(written / "buildings.csv", dtype={"uprn": str}).set_index("building_id")
    hospital = b.loc["RT5PC"]
    # ERIC 2016-17: GIA 2,870 m2; estates, FM, energy, water, waste and cleaning costs
    # 180,018 + 392,738 + 115,726 + 50,097 + 4,691 + 1,402 + 3,470 + 5,247 + 119,629
    assert hospital["gia_m2"] == 2870
    assert hospital["running_cost"] == 873_018
    assert hospital["backlog_cost"] == 2_200 + 159_490 + 117_500
    assert "gia_m2" not in hospital["estimated"] and "running_cost" not in hospital["estimated"]
    for building_id, row in b.drop(index="RT5PC").iterrows():
        assert row["gia_basis"].startswith("estimate"), building_id
        assert row["cost_basis"].startswith("estimate"), building_id
        assert {"gia_m2", "running_cost", "capacity_desks"} <= set(row["estimated"].split(";"))
    assert b.loc["RCC-uppingham-library", "uprn"] == "100032047313"
    assert b.loc["C82010", "geocode_method"] == "postcode"
    assert b.loc["LFRS-oakham-fire-station", "geocode_method"] == "easting_northing"


def test_same_data_gives_identical_files(written: Path, tmp_path: Path) -> None:
    assert rutland.main(["--data", str(DATA), "--out", str(tmp_path)]) == 0
    names = ("sites.csv", "buildings.csv", "services.csv", "zones.csv", "provenance.json")
    for name in (*names, "estimate.json"):
        assert (tmp_path / name).read_bytes() == (written / name).read_bytes(), name


def test_missing_data_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rutland.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 1
    assert "is missing" in capsys.readouterr().err


def test_the_example_is_estate_estimate_on_its_site_list(written: Path) -> None:
    """The register is what `estate estimate sites.csv --osm ... --postcodes ...` gives,
    and the fire stations' typical floor area in the shipped rates is the median of the
    Derbyshire register's retained stations, as its basis says."""
    from estate.estimate import estimate
    from estate.load import load_files
    from estate.rates import unit_rates

    again = estimate(
        [str(written / "sites.csv")],
        osm=DATA / rutland.OSM,
        postcodes=[DATA / rutland.POSTCODES],
    )
    b = pd.read_csv(written / "buildings.csv", dtype={"uprn": str})
    assert again.buildings["building_id"].tolist() == b["building_id"].tolist()
    assert again.buildings["running_cost"].tolist() == b["running_cost"].tolist()
    derbyshire = load_files([str(DATA / rutland.DERBYSHIRE)], kind="assets", agency="DFRS")
    accepted = derbyshire.accepted
    retained = accepted.loc[accepted["Status"] == "RDS", "gia_m2"].dropna()
    assert unit_rates().get("typical_gia_m2", "fire_station") == float(retained.median())
    fire = b.set_index("building_id").loc["LFRS-oakham-fire-station"]
    assert fire["gia_m2"] == 186 or "OpenStreetMap" in fire["gia_basis"]
