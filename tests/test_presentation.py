"""Map, reports and published copies, made from a run folder alone (issue 7).

One demo run is shared by the module; tests that change a folder work on a copy.  The
browser tests drive Debian's headless Chromium with the network closed and are skipped,
with the reason, where no Chromium is installed.
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import os
import re
import shutil
import struct
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from tests.browser import Chromium, find_chromium
from tests.mapdata import buildings as map_buildings

XSS = "<script>alert(1)</script>"
NUMBER = re.compile(r"-?\d+\.\d+")
CHROMIUM = find_chromium()
if CHROMIUM is None and os.environ.get("ESTATE_REQUIRE_CHROMIUM"):
    raise RuntimeError("ESTATE_REQUIRE_CHROMIUM is set but no Chromium is installed")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium installed (apt-get install chromium; or set $CHROMIUM)",
)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("presentation") / "run"
    result = CliRunner().invoke(main, ["demo", "--out", str(run), "--quiet"])
    assert result.exit_code == 0, result.output
    return run


def copy_run(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run, target)
    return target


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edit_csv(path: Path, change: dict[str, dict[str, str]]) -> None:
    """Set cells by building id: {building_id: {column: value}}."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for building_id, cells in change.items():
        for col, value in cells.items():
            frame.loc[frame["building_id"] == building_id, col] = value
    frame.to_csv(path, index=False, lineterminator="\n")


# -- the run folder's presentation files ---------------------------------------------


def test_demo_writes_map_and_reports(demo_run: Path) -> None:
    for name in ("map.html", "report.html", "report.xlsx"):
        assert (demo_run / name).stat().st_size > 0, name


def test_map_is_self_contained(demo_run: Path) -> None:
    page = (demo_run / "map.html").read_text()
    assert "window.L=t" in page or "L.version" in page or 'version="1.9' in page  # Leaflet inline
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link\b", page)
    assert "cdn." not in page and "code.jquery" not in page
    assert "tile.openstreetmap" not in page  # the demo's basemap is its own roads
    assert "Demo Vale" in page and "SYNTHETIC DATA" in page
    assert len(map_buildings(page)) == 44


def test_map_and_reports_are_reproducible_from_the_folder(demo_run: Path, tmp_path: Path) -> None:
    run = copy_run(demo_run, tmp_path)
    before = {n: digest(run / n) for n in ("map.html", "report.html", "report.xlsx")}
    for name in before:
        (run / name).unlink()
    invoke("map", str(run), "--offline", "--quiet")
    invoke("report", str(run), "--quiet")
    after = {n: digest(run / n) for n in before}
    assert after == before


def test_online_map_asks_for_tiles_and_keeps_roads_as_an_overlay(
    demo_run: Path, tmp_path: Path
) -> None:
    run = copy_run(demo_run, tmp_path)
    out = json.loads(invoke("map", str(run), "--json"))
    assert out == {
        "files": [str(run / "map.html")],
        "published": False,
        "withheld_sites": None,
        "warnings": [],
    }
    page = (run / "map.html").read_text()
    assert "tile.openstreetmap.org" in page
    assert "Roads (the run" in page


def test_service_type_must_be_one_with_a_standard(demo_run: Path, tmp_path: Path) -> None:
    run = copy_run(demo_run, tmp_path)
    result = CliRunner().invoke(main, ["map", str(run), "--service-type", "bakery"])
    assert result.exit_code == 1
    assert "'bakery'" in result.output and "library" in result.output
    invoke("map", str(run), "--service-type", "library", "--quiet")


def test_catchments_reproduce_the_runs_access_minutes(demo_run: Path) -> None:
    from scenarios.runfolder import catchments, load_run

    folder = load_run(demo_run)
    table = catchments(folder)
    assert table is not None
    keys = ["service_type", "mode", "zone_id"]
    joined = table.merge(folder.access, on=keys, validate="one_to_one")
    shown = folder.access.merge(table[["service_type", "mode"]].drop_duplicates())
    assert len(joined) == len(shown) == len(table)
    assert set(table["service_type"]) == set(folder.access["service_type"])
    assert (joined["minutes"] - joined["minutes_after"]).abs().max() < 0.001


def test_a_broken_folder_is_named_to_the_cell(demo_run: Path, tmp_path: Path) -> None:
    run = copy_run(demo_run, tmp_path)
    (run / "access.csv").unlink()
    frame = pd.read_csv(run / "buildings.csv", dtype=str, keep_default_na=False)
    frame.loc[2, "running_cost_gbp"] = "lots"
    frame.to_csv(run / "buildings.csv", index=False, lineterminator="\n")
    result = CliRunner().invoke(main, ["report", str(run)])
    assert result.exit_code == 1
    assert "access.csv: missing" in result.output
    assert "buildings.csv, row 4, column 'running_cost_gbp': is not a number (value 'lots')" in (
        result.output
    )


# -- the finance workbook ---------------------------------------------------------------


def test_workbook_totals_equal_the_summary_and_agencies_add_up(demo_run: Path) -> None:
    from openpyxl import load_workbook

    doc = json.loads((demo_run / "summary.json").read_text())
    wb = load_workbook(demo_run / "report.xlsx", read_only=True, data_only=True)
    assert wb.sheetnames == [
        "summary",
        "agencies",
        "buildings",
        "moves",
        "disposals",
        "cash flow by year",
        "saving by agency",
        "access",
        "assumptions",
    ]
    rows = list(wb["agencies"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    total = next(r for r in body if r[0] == "Total")
    agencies = [r for r in body if r[0] != "Total"]
    assert sorted(r[0] for r in agencies) == sorted(doc["counts"]["agencies"])
    # summary.json's totals add up the agencies' figures, each rounded to the penny; the
    # workbook's NPV cells are formulas over the cash flows: a penny an agency apart.
    pennies = 0.005 * (len(agencies) + 1)
    for key, name in (
        ("npv_saving", "NPV saving (£)"),
        ("annual_revenue_saving", "Annual revenue saving (£/yr)"),
        ("capital_receipts", "Capital receipts (£)"),
        ("one_off_costs", "One-off costs (£)"),
    ):
        assert total[col[name]] == pytest.approx(doc[key], abs=pennies), key
        assert sum(r[col[name]] for r in agencies) == pytest.approx(doc[key], abs=pennies), key
    assert total[col["Payback year"]] == doc["payback_year"]
    summary = {r[0]: r[1] for r in wb["summary"].iter_rows(values_only=True) if r[0]}
    assert summary["NPV saving"] == pytest.approx(doc["npv_saving"], abs=pennies)
    assert summary["Payback year"] == doc["payback_year"]
    wb.close()  # a read-only workbook keeps its file open until closed


def test_workbook_cash_flow_discounts_to_the_npv(demo_run: Path) -> None:
    from openpyxl import load_workbook

    doc = json.loads((demo_run / "summary.json").read_text())
    wb = load_workbook(demo_run / "report.xlsx", read_only=True, data_only=True)
    rows = list(wb["cash flow by year"].iter_rows(values_only=True))
    wb.close()  # a read-only workbook keeps its file open until closed
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    years = [r for r in rows[1:] if isinstance(r[0], int)][
        : doc["settings"]["finance"]["horizon_years"]
    ]
    assert [r[0] for r in years] == list(range(1, doc["settings"]["finance"]["horizon_years"] + 1))
    pv = sum(r[col["Present value of saving (£)"]] for r in years)
    # Cash flows are written to the penny (occupancy costs and fit-outs are not whole
    # pounds), so the sum over every agency, category and year may be pennies out.
    cells = 8 * len(doc["agencies"]) * len(years)
    assert pv == pytest.approx(doc["npv_saving"], abs=0.005 * cells**0.5 * 3)
    assumptions = {
        r[1]: r[2]
        for r in load_workbook(demo_run / "report.xlsx")["assumptions"].iter_rows(values_only=True)
    }
    for key in (
        "discount_rate",
        "horizon_years",
        "optimism_bias",
        "move_cost_per_desk",
        "fit_out_per_desk",
    ):
        assert assumptions[key] == doc["settings"]["finance"][key], key


# -- escaping -------------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_run(demo_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with a hosting building renamed to a script tag, redrawn by the commands."""
    run = tmp_path_factory.mktemp("hostile") / "run"
    shutil.copytree(demo_run, run)
    for name in ("buildings.csv", "inputs/buildings.csv"):
        edit_csv(run / name, {"B001": {"name": XSS}})
    invoke("map", str(run), "--offline", "--quiet")
    invoke("report", str(run), "--quiet")
    return run


def test_a_script_tag_name_is_text_in_the_report(hostile_run: Path) -> None:
    page = (hostile_run / "report.html").read_text()
    assert XSS not in page
    parser = _Text()
    parser.feed(page)
    assert parser.scripts == 0
    assert XSS in "".join(parser.text)


def test_a_script_tag_name_is_escaped_in_the_map(hostile_run: Path) -> None:
    page = (hostile_run / "map.html").read_text()
    assert XSS not in page
    assert "alert(1)" in page  # it is there, as escaped text


def test_a_script_tag_name_is_text_in_the_workbook(hostile_run: Path) -> None:
    from openpyxl import load_workbook

    names = [
        r[1]
        for r in load_workbook(hostile_run / "report.xlsx")["buildings"].iter_rows(values_only=True)
    ]
    assert XSS in names


# -- publishing -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published_run(demo_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with two more sites sensitive: one hosting moves, one disposed of."""
    run = tmp_path_factory.mktemp("published") / "run"
    shutil.copytree(demo_run, run)
    buildings = pd.read_csv(run / "buildings.csv", dtype={"building_id": str})
    register = pd.read_csv(run / "inputs/buildings.csv", dtype={"building_id": str})
    refuge = register.loc[register["sensitive"], "building_id"].tolist()
    assert len(refuge) == 1, "the demo has one refuge"
    host = buildings.loc[buildings["decision"] == "host", "building_id"].iloc[0]
    disposed = buildings.loc[buildings["decision"] == "dispose", "building_id"].iloc[0]
    edit_csv(run / "inputs/buildings.csv", {b: {"sensitive": "True"} for b in (host, disposed)})
    return run


def _sensitive_sites(run: Path) -> pd.DataFrame:
    register = pd.read_csv(run / "inputs/buildings.csv", dtype={"building_id": str})
    return register.loc[register["sensitive"]]


def unescape(text: str) -> str:
    """Undo JSON \\u escapes and HTML entities, so an escaped name is found too."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return html.unescape(html.unescape(text))


def _scan_texts(path: Path) -> list[str]:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as zf:
            return [zf.read(n).decode("utf-8") for n in zf.namelist()]
    return [path.read_bytes().decode("latin-1")]


def test_published_files_hold_no_sensitive_name_or_location(published_run: Path) -> None:
    private_before = {p: digest(p) for p in published_run.rglob("*") if p.is_file()}
    output = invoke("publish", str(published_run), "--offline")
    assert "3 sensitive site(s) withheld" in output
    private_after = {p: digest(p) for p in private_before}
    assert private_after == private_before, "the private originals changed"
    published = sorted((published_run / "published").iterdir())
    assert {p.name for p in published} == {
        "summary.json",
        "buildings.csv",
        "moves.csv",
        "agencies.csv",
        "access.csv",
        "cash_flows.csv",
        "results.gpkg",
        "map.html",
        "report.html",
        "report.xlsx",
        "REDACTION.txt",
    }
    sites = _sensitive_sites(published_run)
    assert len(sites) == 3
    for path in published:
        raw = path.read_bytes()
        for site in sites.itertuples():
            for value in (site.easting, site.northing):
                assert struct.pack("<d", value) not in raw, (path.name, site.building_id)
            for text in _scan_texts(path):
                assert site.name not in unescape(text), (path.name, site.name)
                assert not re.search(rf"\b{site.building_id}\b", text), (
                    path.name,
                    site.building_id,
                )
                # A coordinate is a lat/lon pair: any two numbers written next to each
                # other (either order) within 0.0001 degrees of the site's.
                numbers = [float(n) for n in NUMBER.findall(text)]
                for a, b in itertools.pairwise(numbers):
                    for lat, lon in ((a, b), (b, a)):
                        near = abs(lat - site.lat) < 1e-4 and abs(lon - site.lon) < 1e-4
                        assert not near, (path.name, site.building_id, lat, lon)


def test_published_outputs_say_what_was_withheld_and_keep_the_money(published_run: Path) -> None:
    out = published_run / "published"
    if not out.exists():
        invoke("publish", str(published_run), "--offline", "--quiet")
    doc = json.loads((out / "summary.json").read_text())
    private = json.loads((published_run / "summary.json").read_text())
    assert doc["redaction"]["withheld_sites"] == 3
    assert doc["npv_saving"] == private["npv_saving"]
    buildings = pd.read_csv(out / "buildings.csv")
    assert buildings["redacted"].sum() == 3
    assert set(buildings.loc[buildings["redacted"], "building_id"]) == {
        "withheld-1",
        "withheld-2",
        "withheld-3",
    }
    moves = pd.read_csv(out / "moves.csv")
    assert moves["redacted"].any()  # B001 hosts moves
    assert "withheld" in (out / "REDACTION.txt").read_text()
    for name in ("map.html", "report.html"):
        assert "3 sensitive sites withheld" in (out / name).read_text(), name
    page = (out / "map.html").read_text()
    assert len(map_buildings(page)) == 44 - 3
    assert page.count("estate-withheld") >= 1
    import geopandas as gpd
    import pyogrio

    layer = gpd.read_file(out / "results.gpkg", layer="buildings")
    assert len(layer) == 44 - 3
    # Nothing says where the withheld sites are, not even roughly: no layer, no zone,
    # no catchment line to one.
    layers = sorted(pyogrio.list_layers(out / "results.gpkg")[:, 0])
    assert layers == ["buildings", "catchments", "layer_styles", "moves", "zone_fields", "zones"]
    lines = gpd.read_file(out / "results.gpkg", layer="catchments")
    assert set(lines["building_id"]) <= set(layer["building_id"])
    assert not set(lines["service_type"]) & set(doc["redaction"]["access_withheld"])
    assert set(doc["redaction"]) == {
        "withheld_sites",
        "access_withheld",
        "fields_withheld",
        "note",
    }


def test_map_and_report_publish_flags_write_beside_the_private_files(
    published_run: Path, tmp_path: Path
) -> None:
    run = copy_run(published_run, tmp_path)
    shutil.rmtree(run / "published", ignore_errors=True)
    private = digest(run / "map.html")
    out = json.loads(invoke("map", str(run), "--publish", "--offline", "--json"))
    assert out["published"] and out["withheld_sites"] == 3
    assert (run / "published/map.html").is_file()
    assert (run / "published/REDACTION.txt").is_file()
    assert digest(run / "map.html") == private
    invoke("report", str(run), "--publish", "--quiet")
    assert (run / "published/report.xlsx").is_file()


def test_the_leak_check_refuses_a_file_that_names_a_site(
    published_run: Path, tmp_path: Path
) -> None:
    from scenarios.publish import PublishError, check_published
    from scenarios.runfolder import load_run

    private = load_run(published_run)
    site = _sensitive_sites(published_run).iloc[0]
    named = tmp_path / "named.csv"
    named.write_text(f"x\n{site['name']}\n")
    located = tmp_path / "located.html"
    located.write_text(f"L.marker([{site['lat']:.5f}, {site['lon']:.5f}])")
    harmless = tmp_path / "harmless.txt"
    harmless.write_text("nothing to see\n")
    check_published([harmless], private)
    for path in (named, located):
        path_copy = Path(str(path))
        with pytest.raises(PublishError, match="refusing to publish"):
            check_published([path_copy], private)
        assert not path_copy.exists(), "a leaking file must be removed"


# -- in a real browser, with the network closed ------------------------------------------


def _non_blank(png: bytes) -> bool:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").resize((160, 120))
    colours = image.getcolors(maxcolors=160 * 120) or []
    most = max(count for count, _ in colours)
    return len(colours) > 50 and most < 0.9 * 160 * 120


@needs_chromium
def test_offline_map_renders_in_headless_chromium(demo_run: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    with Chromium(CHROMIUM) as browser:
        report = browser.open((demo_run / "map.html").as_uri())
        assert report.errors == []
        assert report.fetched == [(demo_run / "map.html").as_uri()], "the page asked the network"
        assert browser.evaluate("typeof L") == "object"
        assert browser.evaluate("document.querySelectorAll('path.estate-building').length") == 44
        png = browser.screenshot()
        (tmp_path / "map.png").write_bytes(png)
        assert _non_blank(png)
        # Unticking an agency hides its buildings, and only those.
        council = len(pd.read_csv(demo_run / "buildings.csv").query("agency == 'council'"))
        browser.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-control-layers label'))"
            ".find(l => l.textContent.trim() === 'Agency: council').querySelector('input').click()"
        )
        shown = browser.evaluate("document.querySelectorAll('path.estate-building').length")
        assert shown == 44 - council


@needs_chromium
def test_a_script_tag_name_shows_as_text_in_the_browser(hostile_run: Path) -> None:
    assert CHROMIUM is not None
    with Chromium(CHROMIUM) as browser:
        report = browser.open((hostile_run / "map.html").as_uri())
        assert report.errors == []
        opened = browser.evaluate(
            """(() => {
              let found = null;
              const map = Object.values(window).find(v => v instanceof L.Map);
              Object.values(map.estateLayers).forEach(group => group.eachLayer(layer => {
                const popup = layer.getPopup();
                if (popup && String(popup.getContent()).includes('alert(1)')) { found = layer; }
              }));
              if (!found) { return 'no popup'; }
              found.openPopup();
              const box = document.querySelector('.leaflet-popup-content');
              return [box.textContent, box.querySelectorAll('script').length];
            })()"""
        )
        assert opened != "no popup"
        text, scripts = opened
        assert XSS in text
        assert scripts == 0


@needs_chromium
def test_published_map_shows_only_public_buildings(published_run: Path) -> None:
    assert CHROMIUM is not None
    out = published_run / "published"
    if not out.exists():
        invoke("publish", str(published_run), "--offline", "--quiet")
    with Chromium(CHROMIUM) as browser:
        report = browser.open((out / "map.html").as_uri())
        assert report.errors == []
        assert browser.evaluate("document.querySelectorAll('path.estate-building').length") == 41
        assert browser.evaluate("document.querySelectorAll('.estate-withheld').length") >= 1
