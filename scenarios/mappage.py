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

import json
from dataclasses import dataclass, field
from typing import Any

import folium
import numpy as np
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
    :func:`shape` and :func:`icon`.  Groups with a ``choice`` are exclusive: the layer
    control offers them as one set of radio buttons (e.g. which access layer shades the
    zones), at most one is on the map, and the element ``#estate-active-choice`` (a
    legend's line) is set to the name of the one that is.
    """

    name: str
    items: list[dict[str, Any]] = field(default_factory=list)
    show: bool = True
    control: bool = True
    choice: bool = False

    def to_json(self, key: str) -> dict[str, Any]:
        return {
            "id": key,
            "name": html_text(self.name),
            "show": self.show,
            "control": self.control,
            "choice": self.choice,
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
    spread: bool = False,
) -> dict[str, Any]:
    """A circle marker (``L.circleMarker``) with Leaflet path options ``style``.

    ``spread`` markers that would overlap on screen are set apart around their common
    centre, each joined to its true place by a thin line, and set apart again at every
    zoom.
    """
    item: dict[str, Any] = {"kind": "circle", "at": at, "style": style}
    if spread:
        item["spread"] = True
    return _bind(item, popup_html, tooltip)


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


def arrow(
    at: LatLng, angle_degrees: float, colour: str, size: int, tooltip: str | None = None
) -> dict[str, Any]:
    """An arrowhead at ``at`` pointing ``angle_degrees`` clockwise from east (screen),
    filled with ``colour`` (one of the code's own ``#rrggbb`` colours; the drawing
    script refuses anything else)."""
    item: dict[str, Any] = {"kind": "arrow", "at": at, "colour": colour, "size": size}
    item["angle"] = round(float(angle_degrees), 1)
    return _bind(item, None, tooltip)


# Draws the layers from the JSON value.  Group names and tooltips arrive HTML-escaped
# (Leaflet writes both with innerHTML); popups arrive as escaped HTML built in Python.
# Overlays are added to the control one by one, so no name is ever used as an object key.
# Styles and repeated outlines arrive once, in tables the items point into (``s``,
# ``ring``), which keeps a county's map small.  The page's panels (elements of class
# ``estate-panel``) are moved into a Leaflet control at the top left, and the map is
# fitted to the data with padding for the panels, so no marker starts hidden under one.
DRAW_JS = """(function (map, data) {
  "use strict";
  var made = {};
  var spread = [];
  var COLOUR = /^#[0-9a-fA-F]{6}$/;
  function styleOf(it) { return it.s === undefined ? it.style : data.styles[it.s]; }
  function pointsOf(it) { return it.ring === undefined ? it.latlngs : data.rings[it.ring]; }
  function arrowIcon(it) {
    var colour = COLOUR.test(it.colour) ? it.colour : "#333333";
    var size = Math.max(8, Math.min(32, Number(it.size) || 16));
    var angle = Number(it.angle) || 0;
    var svg = "<svg width='" + size + "' height='" + size + "' viewBox='0 0 16 16'>" +
      "<path d='M2,2 L14,8 L2,14 z' fill='" + colour + "' stroke='white' stroke-width='1' " +
      "transform='rotate(" + angle.toFixed(1) + " 8 8)'/></svg>";
    return L.divIcon({html: svg, iconSize: [size, size], iconAnchor: [size / 2, size / 2],
                      className: "estate-arrow"});
  }
  function draw(it, group) {
    var layer;
    if (it.kind === "circle") { layer = L.circleMarker(it.at, styleOf(it)); }
    else if (it.kind === "polyline") { layer = L.polyline(pointsOf(it), styleOf(it)); }
    else if (it.kind === "polygon") { layer = L.polygon(pointsOf(it), styleOf(it)); }
    else if (it.kind === "icon") { layer = L.marker(it.at, {icon: L.divIcon(it.icon)}); }
    else if (it.kind === "arrow") { layer = L.marker(it.at, {icon: arrowIcon(it)}); }
    else { return null; }
    if (it.popup) { layer.bindPopup(it.popup, {maxWidth: 360}); }
    if (it.tooltip) { layer.bindTooltip(it.tooltip, {sticky: true}); }
    if (it.spread) { spread.push({layer: layer, at: L.latLng(it.at), group: group}); }
    return layer;
  }
  map.options.zoomSnap = 0.25;
  var control = L.control.layers(null, null, {collapsed: data.collapsed, sortLayers: false});
  if (data.tiles) {
    var tiles = L.tileLayer(data.tiles.url, {maxZoom: 19, attribution: data.tiles.attribution});
    tiles.addTo(map);
    control.addOverlay(tiles, data.tiles.name);
  }
  var active = null;
  data.groups.forEach(function (g) {
    var group = L.featureGroup();
    g.items.forEach(function (it) {
      var layer = draw(it, group);
      if (layer) { group.addLayer(layer); }
    });
    made[g.id] = group;
    if (g.choice) {
      if (g.show && active === null) { group.addTo(map); active = g.name; }
      control.addBaseLayer(group, g.name);
    } else {
      if (g.show) { group.addTo(map); }
      if (g.control) { control.addOverlay(group, g.name); }
    }
  });
  control.addTo(map);
  L.control.zoom({position: "topright"}).addTo(map);
  L.control.scale({position: "bottomright"}).addTo(map);
  // Headings for the two parts of the layer control (fixed text).
  var box = control.getContainer();
  [["base", data.choiceHeading], ["overlays", data.overlayHeading]].forEach(function (h) {
    var list = box.querySelector(".leaflet-control-layers-" + h[0]);
    if (list && h[1] && list.children.length) {
      var head = document.createElement("div");
      head.className = "estate-layers-heading";
      head.textContent = h[1];
      list.insertBefore(head, list.firstChild);
    }
  });
  function named(name) {
    var where = document.getElementById("estate-active-choice");
    if (where) { where.innerHTML = name; }  // names arrive HTML-escaped, as Leaflet shows them
  }
  map.on("baselayerchange", function (e) { named(e.name); });
  // A combined group shows when every toggle group it names is on the map.
  function sync() {
    data.combos.forEach(function (c) {
      var want = c.needs.every(function (id) { return map.hasLayer(made[id]); });
      var layer = made[c.group];
      if (want && !map.hasLayer(layer)) { map.addLayer(layer); }
      if (!want && map.hasLayer(layer)) { map.removeLayer(layer); }
    });
  }
  // Markers that would overlap on screen: a few are set apart around their centre, each
  // on a thin line from its true place; more than SPREAD_MAX that zooming in would part
  // become one numbered circle (click it to zoom in).  Laid out again at every zoom.
  var SPREAD_MAX = 24;
  var legs = L.layerGroup().addTo(map);
  map.createPane("estateClusters").style.zIndex = 650;  // above markers and arrows
  var bubbles = L.layerGroup().addTo(map);
  var circles = [];  // what is drawn: {p: layer point, r: pixels}, for the fit
  function radius(m) { return (m.layer.options.radius || 6) + (m.layer.options.weight || 1) / 2; }
  function bubbleRadius(n) { return Math.min(40, 10 + 2 * Math.sqrt(n)); }
  function arrange() {
    legs.clearLayers();
    bubbles.clearLayers();
    circles = [];
    var shown = spread.filter(function (m) { return map.hasLayer(m.group); });
    var home = shown.map(function (m) { return map.latLngToLayerPoint(m.at); });
    var at = home.slice();
    var rad = shown.map(radius);
    var bubbled = shown.map(function () { return false; });
    var parent = shown.map(function (_, i) { return i; });
    function root(i) {
      while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; }
      return i;
    }
    function layOut(members) {
      var cx = 0, cy = 0, widest = 0, x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      members.forEach(function (i) {
        cx += home[i].x; cy += home[i].y; widest = Math.max(widest, radius(shown[i]));
        x0 = Math.min(x0, home[i].x); x1 = Math.max(x1, home[i].x);
        y0 = Math.min(y0, home[i].y); y1 = Math.max(y1, home[i].y);
      });
      var n = members.length;
      cx /= n; cy /= n;
      var step = 2 * widest + 2;
      if (n > SPREAD_MAX && Math.max(x1 - x0, y1 - y0) > step) {
        members.forEach(function (i) {
          at[i] = L.point(cx, cy); rad[i] = bubbleRadius(n); bubbled[i] = true;
        });
        return;
      }
      members.forEach(function (i) { rad[i] = radius(shown[i]); bubbled[i] = false; });
      if (n === 1) { at[members[0]] = home[members[0]]; return; }
      members.sort(function (a, b) {  // round the circle in the order they lie around it
        return Math.atan2(home[a].y - cy, home[a].x - cx) -
          Math.atan2(home[b].y - cy, home[b].x - cx) || a - b;
      });
      // A circle for a few (neighbours a marker's width apart), a spiral for more.
      var ring = Math.max(step, step / (2 * Math.sin(Math.PI / n)));
      var angle = 0, r = step;
      members.forEach(function (i, k) {
        if (n <= 8) {
          at[i] = L.point(cx + ring * Math.cos(2 * Math.PI * k / n - Math.PI / 2),
                          cy + ring * Math.sin(2 * Math.PI * k / n - Math.PI / 2));
        } else {
          angle += step / r; r = step * (1 + angle / (2 * Math.PI));
          at[i] = L.point(cx + r * Math.cos(angle), cy + r * Math.sin(angle));
        }
      });
    }
    // Join what overlaps where it is drawn, lay each group out, and again while a group
    // laid out overlaps another.
    for (var pass = 0; pass < 8; pass++) {
      var joined = false, cell = 2 * Math.max.apply(null, rad.concat([12])) + 1, grid = {};
      at.forEach(function (p, i) {
        var key = Math.floor(p.x / cell) + ":" + Math.floor(p.y / cell);
        (grid[key] = grid[key] || []).push(i);
      });
      at.forEach(function (p, i) {
        var gx = Math.floor(p.x / cell), gy = Math.floor(p.y / cell);
        for (var dx = -1; dx <= 1; dx++) { for (var dy = -1; dy <= 1; dy++) {
          (grid[(gx + dx) + ":" + (gy + dy)] || []).forEach(function (j) {
            if (j > i && root(i) !== root(j) && p.distanceTo(at[j]) < rad[i] + rad[j] + 1) {
              parent[root(j)] = root(i); joined = true;
            }
          });
        } }
      });
      if (!joined) { break; }
      var groups = {};
      shown.forEach(function (_, i) { (groups[root(i)] = groups[root(i)] || []).push(i); });
      Object.keys(groups).forEach(function (key) { layOut(groups[key]); });
    }
    var counted = {};
    shown.forEach(function (m, i) {
      if (bubbled[i]) {
        if (m.group.hasLayer(m.layer)) { m.group.removeLayer(m.layer); }
        (counted[root(i)] = counted[root(i)] || []).push(i);
        return;
      }
      if (!m.group.hasLayer(m.layer)) { m.group.addLayer(m.layer); }
      circles.push({p: at[i], r: rad[i]});
      if (at[i] === home[i]) { m.layer.setLatLng(m.at); return; }
      var shownAt = map.layerPointToLatLng(at[i]);
      m.layer.setLatLng(shownAt);
      legs.addLayer(L.polyline([m.at, shownAt], {color: "#444444", weight: 1,
        opacity: 0.7, interactive: false, className: "estate-leg"}));
    });
    Object.keys(counted).forEach(function (key) {
      var members = counted[key], first = members[0], n = members.length;
      var where = map.layerPointToLatLng(at[first]);
      var bounds = L.latLngBounds(members.map(function (i) { return shown[i].at; }));
      var bubble = L.circleMarker(where, {radius: rad[first], color: "#ffffff", weight: 2,
        fillColor: "#333333", fillOpacity: 0.85, className: "estate-cluster",
        pane: "estateClusters"});
      bubble.bindTooltip(n + " buildings here: click or zoom in to see each", {sticky: true});
      bubble.on("click", function () {
        var pad = room();
        map.fitBounds(bounds, {paddingTopLeft: [pad.left, pad.top],
          paddingBottomRight: [pad.right, pad.bottom]});
      });
      var count = L.marker(where, {interactive: false, keyboard: false,
        pane: "estateClusters", icon: L.divIcon({
        html: String(n), className: "estate-cluster-count", iconSize: [40, 16],
        iconAnchor: [20, 8]})});
      bubbles.addLayer(bubble);
      bubbles.addLayer(count);
      circles.push({p: at[first], r: rad[first]});
    });
  }
  // Room the panels take on each side, in pixels, so the data are fitted beside them.
  function room() {
    var box = map.getContainer().getBoundingClientRect();
    var out = {left: 12, right: 12, top: 12, bottom: 24};
    map.getContainer().querySelectorAll(".leaflet-top.leaflet-left > *").forEach(function (el) {
      out.left = Math.max(out.left, el.getBoundingClientRect().right - box.left + 12);
    });
    map.getContainer().querySelectorAll(".leaflet-top.leaflet-right > *").forEach(function (el) {
      out.right = Math.max(out.right, box.right - el.getBoundingClientRect().left + 12);
    });
    if (out.left + out.right > 0.7 * box.width) { out.left = out.right = 12; }  // too narrow
    return out;
  }
  function outside(pad) {
    var size = map.getSize();
    return circles.some(function (c) {
      var p = map.layerPointToContainerPoint(c.p);
      return p.x - c.r < pad.left || p.y - c.r < pad.top ||
        p.x + c.r > size.x - pad.right || p.y + c.r > size.y - pad.bottom;
    });
  }
  function fit() {
    var pad = room();
    map.fitBounds(data.bounds, {paddingTopLeft: [pad.left, pad.top],
      paddingBottomRight: [pad.right, pad.bottom], animate: false});
    arrange();
    for (var tries = 0; tries < 8 && outside(pad); tries++) {
      map.setZoom(map.getZoom() - map.options.zoomSnap, {animate: false});
      arrange();
    }
  }
  if (data.panels) {
    var Panels = L.Control.extend({
      onAdd: function () {
        var column = L.DomUtil.create("div", "estate-panels");
        document.querySelectorAll(".estate-panel").forEach(function (p) { column.appendChild(p); });
        L.DomEvent.disableClickPropagation(column);
        L.DomEvent.disableScrollPropagation(column);
        return column;
      }
    });
    new Panels({position: "topleft"}).addTo(map);
  }
  if (data.combos.length) { map.on("overlayadd overlayremove", sync); sync(); }
  map.on("zoomend overlayadd overlayremove", arrange);
  if (data.bounds) { fit(); } else { arrange(); }
  map.estateLayers = made;
  map.estateFit = fit;
})"""

# The page's own look for the panels and the layer control (the code's markup only).
PANEL_CSS = (
    "<style>"
    ".estate-panels{display:flex;flex-direction:column;gap:8px;max-width:320px;"
    "max-height:calc(100vh - 24px);overflow-y:auto}"
    ".estate-panel{background:white;padding:8px 12px;border:1px solid #888;border-radius:4px;"
    "font:12px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.2)}"
    ".estate-panel table{border-collapse:collapse}"
    ".estate-layers-heading{font-weight:bold;margin:2px 0 4px}"
    ".estate-cluster-count{color:#fff;font:bold 11px/16px sans-serif;text-align:center;"
    "pointer-events:none}"
    ".leaflet-control-layers-expanded{max-height:70vh;overflow-y:auto}"
    "</style>"
)


class MapLayers(MacroElement):
    """Every data-drawn layer of a map and its layer control, as one JSON value.

    ``combos`` lists ``(group, needs)`` pairs of indexes into ``groups``: the group at
    ``group`` is on the map only while every group in ``needs`` is (e.g. a building shows
    while both its agency and its decision are ticked).  ``bounds`` (``[[south, west],
    [north, east]]``) is what the map is fitted to, beside the page's panels.  The layer
    control starts ``collapsed`` (a button that opens on hover or tap).
    """

    def __init__(
        self,
        groups: list[Group],
        tiles_name: str | None = None,
        collapsed: bool = True,
        combos: list[tuple[int, list[int]]] | None = None,
        bounds: list[list[float]] | None = None,
        choice_heading: str = "",
        overlay_heading: str = "",
    ) -> None:
        super().__init__()
        self._name = "MapLayers"
        keys = [f"g{i}" for i in range(len(groups))]
        styles = _Table()
        rings = _Table()
        drawn = [g.to_json(k) for g, k in zip(groups, keys, strict=True)]
        repeated = _repeated_outlines(drawn)
        for group in drawn:
            group["items"] = [_shared(it, styles, rings, repeated) for it in group["items"]]
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
            "styles": styles.values,
            "rings": rings.values,
            "groups": drawn,
            "combos": [
                {"group": keys[g], "needs": [keys[n] for n in needs]} for g, needs in combos or []
            ],
            "bounds": bounds,
            "panels": True,
            "choiceHeading": choice_heading,
            "overlayHeading": overlay_heading,
        }

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        parent = self._parent
        assert parent is not None, "add MapLayers to a folium.Map before rendering"
        code = f"{DRAW_JS}({parent.get_name()}, {script_json(self.data)});"
        figure.script.add_child(Verbatim(code), name=self.get_name())  # type: ignore[attr-defined]
        return ""


class _Table:
    """Distinct JSON values in first-seen order, each referred to by its index."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._index: dict[str, int] = {}

    def index(self, value: Any) -> int:
        key = json.dumps(value, sort_keys=True, separators=(",", ":"))
        if key not in self._index:
            self._index[key] = len(self.values)
            self.values.append(value)
        return self._index[key]


def _outline_key(item: dict[str, Any]) -> str | None:
    if item.get("kind") != "polygon":
        return None
    return json.dumps(item["latlngs"], separators=(",", ":"))


def _repeated_outlines(groups: list[dict[str, Any]]) -> set[str]:
    """Polygon outlines drawn more than once (a zone in every access layer)."""
    seen: set[str] = set()
    repeated: set[str] = set()
    for group in groups:
        for item in group["items"]:
            key = _outline_key(item)
            if key is not None:
                (repeated if key in seen else seen).add(key)
    return repeated


def _shared(
    item: dict[str, Any], styles: _Table, rings: _Table, repeated: set[str]
) -> dict[str, Any]:
    out = dict(item)
    if "style" in out:
        out["s"] = styles.index(out.pop("style"))
    if _outline_key(item) in repeated:
        out["ring"] = rings.index(out.pop("latlngs"))
    return out


def new_map(lat: Any, lon: Any, zoom_start: int = 12) -> folium.Map:
    """The Folium map a page is drawn on: numbers only, no tiles, no CDN links (Leaflet is
    inlined when the page is written), controls added by :data:`DRAW_JS`."""
    fmap = folium.Map(
        location=[float(np.mean(lat)), float(np.mean(lon))],
        zoom_start=zoom_start,
        tiles=None,
        zoom_control=False,  # at the top right, under the layer control (DRAW_JS)
        control_scale=False,  # at the bottom right, clear of the panels (DRAW_JS)
        font_size="12px",
    )
    fmap.default_js = []
    fmap.default_css = []
    return fmap


def bounds_of(lat: Any, lon: Any) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of points, for :class:`MapLayers`."""
    return [
        [float(np.min(lat)), float(np.min(lon))],
        [float(np.max(lat)), float(np.max(lon))],
    ]


def add_panel(fmap: Any, panel_html: str) -> None:
    """Add a panel (a title box, a legend: the caller's escaped HTML) to the page, verbatim.

    Panels are ``<div class="estate-panel">`` elements; the drawing script stacks them in
    a column at the top left of the map and fits the data beside them.
    """
    fmap.get_root().html.add_child(Verbatim(panel_html))


def add_head(fmap: Any, head_html: str, name: str) -> None:
    """Add the code's own ``<style>``/``<script>`` markup to the page head, verbatim."""
    fmap.get_root().header.add_child(Verbatim(head_html), name=name)
