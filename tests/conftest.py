"""Shared fixtures: an isolated cache folder for every test, the Rutland road network
parsed once per test session, and one demo run folder for the tests that only read it."""

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


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder of ``estate demo``, made once a session: read it, never change it
    (copy it into ``tmp_path`` to change it)."""
    from click.testing import CliRunner

    from cli import main

    run = tmp_path_factory.mktemp("shared-demo") / "run"
    result = CliRunner().invoke(main, ["demo", "--out", str(run), "--quiet"])
    assert result.exit_code == 0, result.output
    return run
