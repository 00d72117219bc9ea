"""Map pages whose data never passes through a template engine.

Folium renders each element's script through Jinja, then wraps the output in a new
branca ``Element`` and renders *that* as a template a second time when the page is
written.  A name holding ``{{ ... }}`` is therefore evaluated as Python on the second
pass, and a stray ``{%`` stops the page with a syntax error.  So our maps use Folium for
the frame only (the ``L.map`` itself, its size and the fitted bounds: numbers), and
everything drawn from the data travels as **one JSON value** in a script that is added
to the page verbatim (:class:`Verbatim`: an element that is never compiled as a
template).  A fixed piece of JavaScript (:data:`DRAW_JS`, the same bytes for every map)
turns that value into Leaflet layers, popups, tooltips and the layer control.

Rules for callers, which keep every value inert:

- names of layers and tooltips are **plain text**: they are HTML-escaped here, once;
- popups and panel HTML are built by the caller with :func:`estate.textsafe.html_text`
  around every value;
- styles, class names and icon HTML come from the code's own constants, never the data.

The JSON is written with :func:`estate.textsafe.script_json`, so no value can end the
``<script>`` element.  A test (``tests/test_hostile_text.py``) puts a corpus of payloads
in every text field and checks in headless Chromium that none of them runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from branca.element import Element, MacroElement

from estate.textsafe import html_text, script_json

LatLng = list[float]
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILE_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


class Verbatim(Element):
    """An element whose text is written exactly as given: never compiled, never rendered
    as a template (unlike ``branca.element.Element(text)``, which is both)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


@dataclass
class Group:
    """One layer group: a toggle in the layer control when ``control`` is true.

    ``name`` is plain text (escaped when written); ``items`` are made by :func:`circle`,
    :func:`shape` and :func:`icon`.
    """

    name: str
    items: list[dict[str, Any]] = field(default_factory=list)
    show: bool = True
    control: bool = True

    def to_json(self, key: str) -> dict[str, Any]:
        return {
            "id": key,
            "name": html_text(self.name),
            "show": self.show,
            "control": self.control,
            "items": self.items,
        }


def _bind(item: dict[str, Any], popup_html: str | None, tooltip: str | None) -> dict[str, Any]:
    if popup_html:
        item["popup"] = popup_html
    if tooltip:
        item["tooltip"] = html_text(tooltip)
    return item


def circle(
    at: LatLng,
    style: dict[str, Any],
    popup_html: str | None = None,
    tooltip: str | None = None,
) -> dict[str, Any]:
    """A circle marker (``L.circleMarker``) with Leaflet path options ``style``."""
    return _bind({"kind": "circle", "at": at, "style": style}, popup_html, tooltip)


def shape(
    kind: str,
    latlngs: list[Any],
    style: dict[str, Any],
    popup_html: str | None = None,
    tooltip: str | None = None,
) -> dict[str, Any]:
    """A ``polyline`` or ``polygon`` (Leaflet ``latlngs``, path options ``style``)."""
    if kind not in ("polyline", "polygon"):
        raise ValueError(f"unknown shape kind {kind!r}")
    return _bind({"kind": kind, "latlngs": latlngs, "style": style}, popup_html, tooltip)


def icon(
    at: LatLng,
    icon_html: str,
    size: int,
    class_name: str,
    popup_html: str | None = None,
    tooltip: str | None = None,
) -> dict[str, Any]:
    """A marker drawn with ``icon_html`` (the code's own markup), centred on ``at``."""
    half = size // 2
    spec = {
        "html": icon_html,
        "iconSize": [size, size],
        "iconAnchor": [half, half],
        "className": class_name,
    }
    return _bind({"kind": "icon", "at": at, "icon": spec}, popup_html, tooltip)


# Draws the layers from the JSON value.  Group names and tooltips arrive HTML-escaped
# (Leaflet writes both with innerHTML); popups arrive as escaped HTML built in Python.
# Overlays are added to the control one by one, so no name is ever used as an object key.
DRAW_JS = """(function (map, data) {
  "use strict";
  var made = {};
  function draw(it) {
    var layer;
    if (it.kind === "circle") { layer = L.circleMarker(it.at, it.style); }
    else if (it.kind === "polyline") { layer = L.polyline(it.latlngs, it.style); }
    else if (it.kind === "polygon") { layer = L.polygon(it.latlngs, it.style); }
    else if (it.kind === "icon") { layer = L.marker(it.at, {icon: L.divIcon(it.icon)}); }
    else { return null; }
    if (it.popup) { layer.bindPopup(it.popup, {maxWidth: 360}); }
    if (it.tooltip) { layer.bindTooltip(it.tooltip, {sticky: true}); }
    return layer;
  }
  var control = L.control.layers(null, null, {collapsed: data.collapsed});
  if (data.tiles) {
    var tiles = L.tileLayer(data.tiles.url, {maxZoom: 19, attribution: data.tiles.attribution});
    tiles.addTo(map);
    control.addBaseLayer(tiles, data.tiles.name);
  }
  data.groups.forEach(function (g) {
    var group = L.featureGroup();
    g.items.forEach(function (it) { var layer = draw(it); if (layer) { group.addLayer(layer); } });
    made[g.id] = group;
    if (g.show) { group.addTo(map); }
    if (g.control) { control.addOverlay(group, g.name); }
  });
  control.addTo(map);
  // A combined group shows when every toggle group it names is on the map.
  function sync() {
    data.combos.forEach(function (c) {
      var want = c.needs.every(function (id) { return map.hasLayer(made[id]); });
      var layer = made[c.group];
      if (want && !map.hasLayer(layer)) { map.addLayer(layer); }
      if (!want && map.hasLayer(layer)) { map.removeLayer(layer); }
    });
  }
  if (data.combos.length) { map.on("overlayadd overlayremove", sync); sync(); }
  map.estateLayers = made;
})"""


class MapLayers(MacroElement):
    """Every data-drawn layer of a map and its layer control, as one JSON value.

    ``combos`` lists ``(group, needs)`` pairs of indexes into ``groups``: the group at
    ``group`` is on the map only while every group in ``needs`` is (e.g. a building shows
    while both its agency and its decision are ticked).
    """

    def __init__(
        self,
        groups: list[Group],
        tiles_name: str | None = None,
        collapsed: bool = False,
        combos: list[tuple[int, list[int]]] | None = None,
    ) -> None:
        super().__init__()
        self._name = "MapLayers"
        keys = [f"g{i}" for i in range(len(groups))]
        self.data = {
            "collapsed": collapsed,
            "tiles": (
                None
                if tiles_name is None
                else {
                    "name": html_text(tiles_name),
                    "url": TILE_URL,
                    "attribution": TILE_ATTRIBUTION,
                }
            ),
            "groups": [g.to_json(k) for g, k in zip(groups, keys, strict=True)],
            "combos": [
                {"group": keys[g], "needs": [keys[n] for n in needs]} for g, needs in combos or []
            ],
        }

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        parent = self._parent
        assert parent is not None, "add MapLayers to a folium.Map before rendering"
        code = f"{DRAW_JS}({parent.get_name()}, {script_json(self.data)});"
        figure.script.add_child(Verbatim(code), name=self.get_name())  # type: ignore[attr-defined]
        return ""


def add_panel(fmap: Any, panel_html: str) -> None:
    """Add fixed HTML (a title box, a legend) to the page body, verbatim."""
    fmap.get_root().html.add_child(Verbatim(panel_html))


def add_head(fmap: Any, head_html: str, name: str) -> None:
    """Add the code's own ``<style>``/``<script>`` markup to the page head, verbatim."""
    fmap.get_root().header.add_child(Verbatim(head_html), name=name)
