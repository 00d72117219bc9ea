"""QGIS styles for the GeoPackage's layers: the ``layer_styles`` table QGIS reads.

QGIS looks for a ``layer_styles`` table in a GeoPackage and draws each layer with the
style marked ``useAsDefault``; the others are listed under Layer Properties > Style.
Each style is a QML document (QGIS's own style format, written here in the layout of
QGIS 3.28 and later, with the older ``<prop>`` elements beside the newer ``<Option>``
maps so that earlier 3.x releases read it too):

- ``buildings``: by decision (retain a solid dot, host a larger dot with a dark ring,
  dispose a hollow dashed ring), each in its agency's colour (the ``agency_colour``
  field, data-defined), as the map draws them; a second style colours by agency;
- ``zones``: the access-change ramp of the map for each service type (one style each,
  the map's first one by default), unreachable zones dark, a red outline where a zone
  loses access within the standard;
- ``moves``: lines in the agency's colour with an arrowhead at the destination;
- ``catchments``: thin lines in the colour of the nearest building's agency.

Values from the data never become QGIS expressions: filters and data-defined
properties name the layers' own fields (made by the code) and numbers, and the agency
names of the by-agency style are category values, XML-escaped like every attribute.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from estate.textsafe import strip_control_characters

QML_HEAD = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
QGIS_VERSION = "3.28.0"


@dataclass(frozen=True)
class Style:
    """One row of ``layer_styles``."""

    layer: str
    name: str
    qml: str
    default: bool
    description: str


def rgba(colour: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` as QGIS's ``r,g,b,a``."""
    text = colour.lstrip("#")
    r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _options(props: dict[str, str]) -> str:
    """Symbol layer properties, as ``<Option>`` maps (QGIS 3.26+) and ``<prop>`` (older)."""
    items = sorted(props.items())
    option = "".join(
        f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in items
    )
    prop = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in items)
    return f'<Option type="Map">{option}</Option>{prop}'


def _defined(**fields: str) -> str:
    """Data-defined properties, each read from a field (QgsProperty type 2)."""
    inner = "".join(
        f'<Option type="Map" name={quoteattr(key)}>'
        '<Option type="bool" name="active" value="true"/>'
        f'<Option type="QString" name="field" value={quoteattr(field)}/>'
        '<Option type="int" name="type" value="2"/></Option>'
        for key, field in sorted(fields.items())
    )
    properties = (
        f'<Option type="Map" name="properties">{inner}</Option>'
        if inner
        else '<Option name="properties"/>'
    )
    return (
        '<data_defined_properties><Option type="Map">'
        '<Option type="QString" name="name" value=""/>'
        f'{properties}<Option type="QString" name="type" value="collection"/>'
        "</Option></data_defined_properties>"
    )


def _layer(cls: str, props: dict[str, str], defined: dict[str, str] | None = None) -> str:
    return (
        f'<layer class="{cls}" enabled="1" locked="0" pass="0">'
        f"{_options(props)}{_defined(**(defined or {}))}</layer>"
    )


def _symbol(kind: str, name: str, layers: Iterable[str], alpha: float = 1.0) -> str:
    return (
        f'<symbol type="{kind}" name={quoteattr(name)} alpha="{alpha:g}" clip_to_extent="1" '
        f'force_rhr="0">{_defined()}{"".join(layers)}</symbol>'
    )


def _qml(renderer: str, geometry: int) -> str:
    """A style document: ``geometry`` is QGIS's 0 point, 1 line, 2 polygon."""
    return (
        f'{QML_HEAD}<qgis version="{QGIS_VERSION}" styleCategories="Symbology">'
        f"{renderer}<layerGeometryType>{geometry}</layerGeometryType></qgis>\n"
    )


# -- buildings ----------------------------------------------------------------------------


def _marker(
    name: str,
    size_mm: float,
    fill: str,
    stroke: str,
    stroke_mm: float,
    dashed: bool,
    defined: dict[str, str],
) -> str:
    props = {
        "name": "circle",
        "color": fill,
        "outline_color": stroke,
        "outline_style": "dash" if dashed else "solid",
        "outline_width": f"{stroke_mm:g}",
        "outline_width_unit": "MM",
        "size": f"{size_mm:g}",
        "size_unit": "MM",
        "scale_method": "diameter",
        "angle": "0",
        "joinstyle": "bevel",
    }
    return _symbol("marker", name, [_layer("SimpleMarker", props, defined)])


# Marker size in millimetres for a circle marker of radius r pixels on the map (96 dpi).
def _mm(radius_px: float) -> float:
    return round(2 * radius_px * 25.4 / 96, 2)


def building_styles(
    decision_style: dict[str, dict[str, object]],
    labels: dict[str, str],
    agency_colours: dict[str, str],
    rings: dict[str, str],
) -> list[Style]:
    """By decision in agency colours (the default), and by agency."""
    grey = "#777777"
    categories, symbols = [], []
    for i, (decision, style) in enumerate(decision_style.items()):
        radius = float(style["radius"])  # type: ignore[arg-type]
        weight = float(style["weight"])  # type: ignore[arg-type]
        dashed = style["dash_array"] is not None
        if decision == "dispose":
            fill, stroke, defined = (
                rgba("#ffffff", 0.9),
                rgba(grey),
                {"outlineColor": "agency_colour"},
            )
        else:
            fill, stroke = rgba(grey), rgba(rings[decision])
            defined = {"fillColor": "agency_colour"}
        categories.append(
            f'<category value={quoteattr(decision)} symbol="{i}" '
            f'label={quoteattr(labels[decision])} render="true" type="string"/>'
        )
        symbols.append(
            _marker(str(i), _mm(radius), fill, stroke, round(weight * 0.26, 2), dashed, defined)
        )
    by_decision = _qml(
        '<renderer-v2 type="categorizedSymbol" attr="decision" forceraster="0" '
        'symbollevels="0" enableorderby="0" referencescale="-1">'
        f"<categories>{''.join(categories)}</categories>"
        f"<symbols>{''.join(symbols)}</symbols></renderer-v2>",
        0,
    )
    categories, symbols = [], []
    for i, (agency, colour) in enumerate(agency_colours.items()):
        value = quoteattr(strip_control_characters(agency))  # XML cannot hold them
        categories.append(
            f'<category value={value} symbol="{i}" label={value} render="true" type="string"/>'
        )
        symbols.append(_marker(str(i), 3.7, rgba(colour), rgba("#ffffff"), 0.4, False, {}))
    by_agency = _qml(
        '<renderer-v2 type="categorizedSymbol" attr="agency" forceraster="0" '
        'symbollevels="0" enableorderby="0" referencescale="-1">'
        f"<categories>{''.join(categories)}</categories>"
        f"<symbols>{''.join(symbols)}</symbols></renderer-v2>",
        0,
    )
    return [
        Style(
            "buildings",
            "decision, in agency colours",
            by_decision,
            True,
            "retain: solid dot; host: larger dot with a dark ring; dispose: hollow dashed ring",
        ),
        Style("buildings", "agency", by_agency, False, "one colour an agency"),
    ]


# -- zones --------------------------------------------------------------------------------


def _fill(name: str, colour: str, opacity: float, stroke: str, stroke_mm: float, brush: str) -> str:
    props = {
        "color": rgba(colour, opacity),
        "style": brush,
        "outline_color": rgba(stroke),
        "outline_style": "solid",
        "outline_width": f"{stroke_mm:g}",
        "outline_width_unit": "MM",
        "joinstyle": "bevel",
    }
    return _symbol("fill", name, [_layer("SimpleFill", props)])


def _rule(key: int, symbol: int, label: str, expression: str) -> str:
    return (
        f'<rule key="{{00000000-0000-4000-8000-{key:012d}}}" symbol="{symbol}" '
        f"label={quoteattr(label)} filter={quoteattr(expression)}/>"
    )


def zone_style(
    change_field: str,
    lost_field: str,
    bins: Sequence[tuple[float, str, str]],
    unreachable: str,
    lost_colour: str,
    opacity: float,
) -> str:
    """The access-change ramp over ``change_field`` (minutes after minus before)."""
    rules, symbols = [], []
    lower = -math.inf
    field = f'"{change_field}"'
    for i, (upper, colour, label) in enumerate(bins):
        parts = []
        if math.isfinite(lower):
            parts.append(f"{field} >= {lower:g}")
        if math.isfinite(upper):
            parts.append(f"{field} < {upper:g}")
        rules.append(_rule(i + 1, i, label, " AND ".join(parts) or f"{field} IS NOT NULL"))
        symbols.append(_fill(str(i), colour, opacity, "#777777", 0.15, "solid"))
        lower = upper
    n = len(bins)
    rules.append(_rule(n + 1, n, "unreachable after", f"{field} IS NULL"))
    symbols.append(_fill(str(n), unreachable, 0.85, "#777777", 0.15, "solid"))
    rules.append(_rule(n + 2, n + 1, "loses access within the standard", f'"{lost_field}" = true'))
    symbols.append(_fill(str(n + 1), "#ffffff", 0.0, lost_colour, 0.8, "no"))
    return _qml(
        '<renderer-v2 type="RuleRenderer" forceraster="0" symbollevels="0" '
        'enableorderby="0" referencescale="-1">'
        f'<rules key="{{00000000-0000-4000-8000-000000000000}}">{"".join(rules)}</rules>'
        f"<symbols>{''.join(symbols)}</symbols></renderer-v2>",
        2,
    )


# -- lines --------------------------------------------------------------------------------


def _line(width_mm: float, colour: str, alpha: float = 1.0) -> str:
    props = {
        "line_color": rgba(colour, alpha),
        "line_style": "solid",
        "line_width": f"{width_mm:g}",
        "line_width_unit": "MM",
        "capstyle": "round",
        "joinstyle": "round",
    }
    return _layer("SimpleLine", props, {"outlineColor": "agency_colour"})


def move_style() -> str:
    """Lines in the agency's colour with a filled arrowhead at the destination."""
    head = _symbol(
        "marker",
        "@0@1",
        [
            _layer(
                "SimpleMarker",
                {
                    "name": "filled_arrowhead",
                    "color": rgba("#333333"),
                    "outline_color": rgba("#ffffff"),
                    "outline_style": "solid",
                    "outline_width": "0.2",
                    "outline_width_unit": "MM",
                    "size": "3.2",
                    "size_unit": "MM",
                    "angle": "0",
                    "scale_method": "diameter",
                    "joinstyle": "bevel",
                },
                {"fillColor": "agency_colour"},
            )
        ],
    )
    marker_line = (
        '<layer class="MarkerLine" enabled="1" locked="0" pass="0">'
        + _options(
            {
                "placements": "LastVertex",
                "placement": "lastvertex",
                "rotate": "1",
                "offset": "0",
                "offset_unit": "MM",
            }
        )
        + _defined()
        + head
        + "</layer>"
    )
    symbol = _symbol("line", "0", [_line(0.6, "#333333"), marker_line])
    return _qml(
        f'<renderer-v2 type="singleSymbol" forceraster="0" symbollevels="0" '
        f'enableorderby="0" referencescale="-1"><symbols>{symbol}</symbols></renderer-v2>',
        1,
    )


def catchment_style() -> str:
    """Thin lines in the colour of the nearest building's agency."""
    symbol = _symbol("line", "0", [_line(0.25, "#333333", 0.7)], alpha=0.7)
    return _qml(
        f'<renderer-v2 type="singleSymbol" forceraster="0" symbollevels="0" '
        f'enableorderby="0" referencescale="-1"><symbols>{symbol}</symbols></renderer-v2>',
        1,
    )
