"""Read back the data a map page draws: the one JSON value its drawing script is given."""

from __future__ import annotations

import json
from typing import Any


def map_data(page: str) -> dict[str, Any]:
    """The JSON value passed to the map's drawing script (``scenarios.mappage.DRAW_JS``)."""
    call = page.index("})(map_")
    start = page.index(", {", call) + 2
    value, _ = json.JSONDecoder().raw_decode(page[start:])
    return dict(value)


def items(data: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every drawn item with its style, as ``(group, item_with_style)`` pairs."""
    out = []
    for group in data["groups"]:
        for item in group["items"]:
            style = data["styles"][item["s"]] if "s" in item else item.get("style", {})
            out.append((group, {**item, "style": style}))
    return out


def buildings(page: str) -> list[dict[str, Any]]:
    """The building markers a map page draws."""
    return [
        item
        for _, item in items(map_data(page))
        if "estate-building" in str(item.get("style", {}).get("className", ""))
    ]
