"""Road networks from OpenStreetMap: ``.osm`` / ``.osm.pbf`` files, graphml, or a place name.

Every reader returns the one internal representation, :class:`~geodata.network.RoadNetwork`,
in EPSG:27700 metres: each way's consecutive node pairs become directed edges (both
ways unless the way is one-way), with the road class, the speed limit in km/h (``nan``
where untagged or unreadable, so the class default applies), and whether cars and
pedestrians may use it.  Nothing is simplified away: every way node is a graph node,
which keeps snapping distances short.  The parsing itself is in
:mod:`geodata.osmparse`; this module adds the cache of parsed files and the download.

- ``.osm`` and ``.osm.pbf`` (and ``.osm.bz2``/``.osm.gz``) are read with pyosmium, the
  OpenStreetMap Foundation's bindings of libosmium: wheels for Linux, macOS and Windows
  on PyPI, exact node identities (no coordinate matching), one reader for every format.
- ``.graphml`` (osmnx's format) is parsed attribute by attribute: older osmnx versions
  wrote every value as text (``"20 mph"``, ``"['a', 'b']"``, ``"True"``).
- A graph osmnx built, in memory (:func:`graph_network`).
- A place name is downloaded with osmnx, only when asked, and cached as graphml under
  :func:`estate.settings.cache_dir`; offline, it fails at once with a clear error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from estate.errors import CellIssue, EstateError, InputDataError
from estate.io import atomic_write
from estate.settings import cache_dir
from geodata.network import RoadNetwork
from geodata.osmparse import (
    GRAPHML_SUFFIXES,
    OSM_SUFFIXES,
    Tables,
    graph_tables,
    graphml_tables,
    osm_tables,
    suffix,
)

# Bump when parsing or tag rules change, so networks cached by an older reader are
# parsed again.
READER_VERSION = "osm-reader-1"
# Seconds osmnx may wait for any one answer from Nominatim or Overpass.
ONLINE_TIMEOUT_SECONDS = 30


class NetworkUnavailableError(EstateError, RuntimeError):
    """A road network could not be fetched (offline, unknown place, service refused)."""


def read_network(path: str | Path, use_cache: bool = False) -> RoadNetwork:
    """Read a road network file, choosing the reader by its suffix.

    With ``use_cache``, the parsed tables are kept under
    :func:`estate.settings.cache_dir` ``("networks")``, keyed by a hash of the file's
    bytes and :data:`READER_VERSION`, and read back on the next call for the same file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(
            [CellIssue(str(path), None, "", "", "no such road network file")],
            "the road network cannot be read",
        )
    kind = suffix(path)
    if kind in OSM_SUFFIXES:
        reader = read_osm
    elif kind in GRAPHML_SUFFIXES:
        reader = read_graphml
    else:
        reader = None
    if reader is not None:
        if not use_cache:
            return reader(path)
        from geodata.cache import cached_network

        return cached_network(path, READER_VERSION, reader)
    raise InputDataError(
        [
            CellIssue(
                str(path),
                None,
                "",
                kind,
                "unknown road network format: use .osm, .osm.pbf or .graphml",
            )
        ],
        "the road network cannot be read",
    )


def _network(tables: Tables) -> RoadNetwork:
    return RoadNetwork(tables.nodes, tables.edges, name=tables.name, notes=tables.notes)


def read_osm(path: str | Path) -> RoadNetwork:
    """Read the ``highway=*`` ways of an OpenStreetMap file (``.osm``, ``.osm.pbf``, ...)."""
    return _network(osm_tables(path))


def read_graphml(path: str | Path) -> RoadNetwork:
    """Read an osmnx graphml file, parsing its text attributes (any osmnx version); see
    :func:`geodata.osmparse.graph_tables`."""
    return _network(graphml_tables(path))


def graph_network(graph: Any, name: str, how: str = "") -> RoadNetwork:
    """A networkx graph in osmnx's layout (in memory) as a :class:`RoadNetwork`."""
    return _network(graph_tables(graph, name, how))


# ---------------------------------------------------------------------------- online


def place_cache_path(place: str) -> Path:
    """Where the graphml of a downloaded place is kept."""
    key = hashlib.sha256(f"osmnx-all-unsimplified|{place.strip().lower()}".encode()).hexdigest()
    slug = re.sub(r"[^a-z0-9]+", "-", place.lower()).strip("-")[:40] or "place"
    return cache_dir("networks") / f"{slug}-{key[:16]}.graphml"


@contextmanager
def _osmnx_settings(**values: Any) -> Iterator[Any]:
    """Set osmnx's global settings for one download, and put them back afterwards."""
    import osmnx as ox

    before = {name: getattr(ox.settings, name) for name in values}
    for name, value in values.items():
        setattr(ox.settings, name, value)
    try:
        yield ox
    finally:
        for name, value in before.items():
            setattr(ox.settings, name, value)


def network_from_place(place: str, refresh: bool = False) -> RoadNetwork:
    """The road network of a named place, downloaded with osmnx once and then cached.

    Online, opt-in: only called when a user names a place.  The download uses short
    timeouts and no Overpass rate-limit polling, so an offline machine gets a
    :class:`NetworkUnavailableError` within seconds rather than a hang.
    """
    target = place_cache_path(place)
    if target.is_file() and not refresh:
        return read_graphml(target)
    with _osmnx_settings(
        overpass_rate_limit=False,
        doh_url_template=None,
        requests_timeout=ONLINE_TIMEOUT_SECONDS,
        use_cache=True,
        cache_folder=str(cache_dir("osmnx_http")),
        log_console=False,
    ) as ox:
        try:
            graph = ox.graph_from_place(place, network_type="all", simplify=False)
        except OSError as exc:  # requests' errors derive from OSError
            raise NetworkUnavailableError(
                f"could not download the road network of {place!r}: {type(exc).__name__} "
                "(no internet connection?). Pass a network file (.osm.pbf, .osm, .graphml) "
                "with --network instead"
            ) from exc
        except (ValueError, TypeError) as exc:  # osmnx's own errors derive from ValueError
            raise NetworkUnavailableError(
                f"could not get a road network for {place!r}: {exc}"
            ) from exc
        atomic_write(target, lambda tmp: ox.save_graphml(graph, tmp))
    return read_graphml(target)
