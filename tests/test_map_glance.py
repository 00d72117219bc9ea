"""A map that reads at a glance (issue 17), checked in headless Chromium at 1366x768.

The layer control starts collapsed; the zones' access layers are one exclusive choice
and the legend names the one shown; disposed buildings keep their agency's colour;
buildings that would overlap on screen are set apart; and no building starts hidden
under a panel (the map is fitted beside them).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser import Chromium, find_chromium
from tests.mapdata import items, map_data

LAPTOP = (1366, 768)
CHROMIUM = find_chromium()
if CHROMIUM is None and os.environ.get("ESTATE_REQUIRE_CHROMIUM"):
    raise RuntimeError("ESTATE_REQUIRE_CHROMIUM is set but no Chromium is installed")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium installed (apt-get install chromium; or set $CHROMIUM)",
)

# Every box on the page that is not the map itself.
PANELS = (
    ".estate-panel, .leaflet-control-layers, .leaflet-control-zoom, "
    ".leaflet-control-scale, .leaflet-control-attribution"
)
BOXES_JS = """(sel => Array.from(document.querySelectorAll(sel)).map(el => {
  const r = el.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom];
}))"""


@pytest.fixture(scope="module")
def demo_run(demo_folder: Path) -> Path:
    """The session's demo run folder (tests/conftest.py), read only."""
    return demo_folder


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_disposed_buildings_keep_their_agency_colour(demo_run: Path) -> None:
    from scenarios.maps import agency_colours

    page = (demo_run / "map.html").read_text(encoding="utf-8")
    data = map_data(page)
    agencies = sorted({g["name"].rsplit(" ", 1)[0] for g in data["groups"] if not g["control"]})
    colours = agency_colours(agencies)
    disposed = 0
    for group, item in items(data):
        style: dict[str, Any] = item["style"]
        if "estate-dispose" not in str(style.get("className", "")):
            continue
        agency = group["name"].rsplit(" ", 1)[0]
        assert style["color"] == colours[agency], (group["name"], style)
        assert style["dashArray"], "a disposed building keeps the dispose styling"
        disposed += 1
    summary = json.loads((demo_run / "summary.json").read_text())
    assert disposed == summary["buildings"]["disposed"] > 0


def test_the_layer_control_starts_collapsed_and_access_is_one_choice(demo_run: Path) -> None:
    page = (demo_run / "map.html").read_text(encoding="utf-8")
    data = map_data(page)
    assert data["collapsed"] is True
    access = [g for g in data["groups"] if g["choice"]]
    assert [g["name"] for g in access if g["show"]] == [
        "Access change: police_front_counter (drive; within 20 min)"
    ]
    assert access[-1]["name"] == "None (buildings only)"
    assert all(g["name"].startswith("Access change: ") for g in access[:-1])


@needs_chromium
def test_at_1366x768_no_building_is_hidden_and_none_overlap(demo_run: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    with Chromium(CHROMIUM) as browser:
        report = browser.open((demo_run / "map.html").as_uri(), viewport=LAPTOP)
        assert report.errors == []
        assert browser.evaluate("[innerWidth, innerHeight]") == list(LAPTOP)
        (tmp_path / "map-1366x768.png").write_bytes(browser.screenshot())
        # The layer control is a small button until it is opened.
        control = browser.evaluate(BOXES_JS + "('.leaflet-control-layers')")[0]
        assert control[2] - control[0] < 60 and control[3] - control[1] < 60, control
        assert not browser.evaluate(
            "document.querySelector('.leaflet-control-layers')"
            ".classList.contains('leaflet-control-layers-expanded')"
        )
        markers = browser.evaluate(BOXES_JS + "('path.estate-building')")
        assert len(markers) == 44
        panels = browser.evaluate(BOXES_JS + f"({PANELS!r})")
        assert len(panels) >= 5
        width, height = LAPTOP
        for box in markers:
            assert box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height, box
            for panel in panels:
                assert not _overlap(box, panel), ("a building under a panel", box, panel)
        # No two buildings overlap on screen (each circle's box less its stroke).
        for i, a in enumerate(markers):
            for b in markers[i + 1 :]:
                ra, rb = (a[2] - a[0]) / 2, (b[2] - b[0]) / 2
                ax, ay = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
                bx, by = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
                gap = ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 - (ra + rb)
                assert gap > -1.5, ("two buildings overlap", a, b)
        # Overlapping buildings were set apart, each on a line to its true place.
        assert browser.evaluate("document.querySelectorAll('path.estate-leg').length") > 0


@needs_chromium
def test_choosing_an_access_layer_replaces_the_shown_one_and_the_legend_says_so(
    demo_run: Path,
) -> None:
    assert CHROMIUM is not None
    with Chromium(CHROMIUM) as browser:
        report = browser.open((demo_run / "map.html").as_uri(), viewport=LAPTOP)
        assert report.errors == []
        radios = browser.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
            ".map(l => [l.textContent.trim(), l.querySelector('input').type, "
            "l.querySelector('input').checked])"
        )
        assert all(kind == "radio" for _, kind, _ in radios)
        assert [name for name, _, on in radios if on] == [
            "Access change: police_front_counter (drive; within 20 min)"
        ]
        legend = "document.getElementById('estate-active-choice').textContent"
        assert browser.evaluate(legend) == radios[[r[2] for r in radios].index(True)][0]
        zones = "document.querySelectorAll('path.estate-zone').length"
        assert browser.evaluate(zones) == 80  # one layer of the demo's 80 zones
        target = "Access change: library (drive; within 10 min, no zone +10 min)"
        browser.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
            f".find(l => l.textContent.trim() === {target!r}).querySelector('input').click()"
        )
        assert browser.evaluate(legend) == target
        assert browser.evaluate(zones) == 80  # the other layer went: one at a time
        browser.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
            ".find(l => l.textContent.trim() === 'None (buildings only)')"
            ".querySelector('input').click()"
        )
        assert browser.evaluate(zones) == 0
        assert browser.evaluate(legend) == "None (buildings only)"
        assert browser.evaluate("document.querySelectorAll('path.estate-building').length") == 44


@needs_chromium
def test_zoomed_out_many_buildings_in_one_place_are_one_numbered_circle(demo_run: Path) -> None:
    assert CHROMIUM is not None
    with Chromium(CHROMIUM) as browser:
        report = browser.open((demo_run / "map.html").as_uri(), viewport=LAPTOP)
        assert report.errors == []
        map_js = "Object.values(window).find(v => v instanceof L.Map)"
        browser.evaluate(f"void {map_js}.setZoom({map_js}.getZoom() - 4, {{animate: false}})")
        counts = browser.evaluate(
            "Array.from(document.querySelectorAll('.estate-cluster-count'))"
            ".map(e => Number(e.textContent))"
        )
        shown = browser.evaluate("document.querySelectorAll('path.estate-building').length")
        assert counts and min(counts) > 24, counts
        assert sum(counts) + shown == 44  # every building shown, or counted in a circle
        zoom = browser.evaluate(f"{map_js}.getZoom()")
        browser.evaluate(
            "document.querySelector('path.estate-cluster')"
            ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        time.sleep(0.6)  # the zoom animates
        assert browser.evaluate(f"{map_js}.getZoom()") > zoom
