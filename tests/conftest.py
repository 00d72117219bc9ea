"""Shared fixtures: an isolated cache folder for every test, and the Rutland road
network parsed once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from estate.settings import CACHE_ENV
from geodata.network import RoadNetwork
from tests import rutland


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty cache folder; nothing is written to the repo."""
    folder = tmp_path / "estate-cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


@pytest.fixture(scope="session")
def rutland_network() -> RoadNetwork:
    """The real Rutland network (OpenStreetMap, Feb 2018), read once per session."""
    if not rutland.available():
        pytest.skip(f"real data not found at {rutland.DATA} (../shared/data beside the repo)")
    from geodata.osm import read_network

    return read_network(rutland.PBF)
