"""Leaflet's JavaScript and CSS, read from an installed wheel and inlined into a page.

A plain Folium map loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, so on a
machine without internet access it renders blank (``L is not defined``).  Our maps use
only Leaflet's core (circle markers, polylines, polygons, div icons, popups, tooltips
and the layer control), so Leaflet alone is inlined: ``leaflet.js`` and ``leaflet.css``
come from the ``XStatic-Leaflet`` package (the same files as Leaflet's npm release,
with its licence banner), and the CSS's images become ``data:`` URIs.  Nothing is
fetched at run time, and the page makes no network request unless tiles are asked for.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from importlib import metadata, resources

from estate.errors import EstateError

PACKAGE = "xstatic.pkg.leaflet"
DISTRIBUTION = "XStatic-Leaflet"


class AssetError(EstateError, RuntimeError):
    """A packaged web asset is missing (a broken or partial install)."""


def _data_file(name: str) -> bytes:
    try:
        path = resources.files(PACKAGE).joinpath("data", name)
        return path.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise AssetError(
            f"Leaflet's {name} is not installed ({exc}); reinstall with "
            f"`pip install {DISTRIBUTION}` (a dependency of public-estate)"
        ) from exc


def leaflet_version() -> str:
    """Version of the packaged Leaflet (the XStatic build number dropped)."""
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "not installed"
    return ".".join(version.split(".")[:3])


def _inline_images(css: str) -> str:
    def to_data_uri(match: re.Match[str]) -> str:
        name = match.group(1)
        data = base64.b64encode(_data_file(name)).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", to_data_uri, css)


@lru_cache(maxsize=1)
def leaflet_head() -> str:
    """``<style>`` and ``<script>`` elements carrying Leaflet, for a page's ``<head>``."""
    js = _data_file("leaflet.js").decode("utf-8")
    css = _inline_images(_data_file("leaflet.css").decode("utf-8"))
    # Keep the source-map comment out: browsers would try to fetch leaflet.js.map.
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js.rstrip())
    if "</script" in js.lower():  # would end the inline element early
        raise AssetError("leaflet.js contains '</script': cannot inline it safely")
    return f"<style>\n{css}\n</style>\n<script>\n{js}\n</script>\n"
