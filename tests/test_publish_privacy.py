"""Nothing in a published copy gives a sensitive site away (issue 15).

Three runs of the demo place are shared by the module.  In each, the demo's refuge
(B006), a building that hosts moves (B001) and one that is disposed of (B003) are
sensitive:

- ``three``: the demo run as ``estate demo`` writes it;
- ``named``: the scenario forces the refuge kept and B003 disposed, and its name and
  notice mention the refuge by id and by name;
- ``numbered``: the place with building ids ``1`` ... ``44`` (as many council registers
  number their properties), the refuge (``6``) forced kept.

Each test that changes a folder works on a copy.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from estate.io import read_csv_text
from scenarios.runfolder import load_run
from tests.triangulate import triangulate

REFUGE_NAME = "Women's Refuge (address withheld)"
SENSITIVE = ("B001", "B003", "B006")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _place(root: Path) -> Path:
    invoke("init", str(root), "--demo")
    return root / "scenario.yaml"


def _set_sensitive(run: Path, ids: tuple[str, ...]) -> None:
    path = run / "inputs" / "buildings.csv"
    frame = read_csv_text(path)
    frame.loc[frame["building_id"].isin(ids), "sensitive"] = "True"
    frame.to_csv(path, index=False, lineterminator="\n")


def _scenario(path: Path, **changes: object) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        section, _, name = key.partition(".")
        if name:
            doc[section][name] = value
        else:
            doc[section] = value
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("three") / "run"
    invoke("demo", "--out", str(run), "--quiet")
    _set_sensitive(run, SENSITIVE)
    invoke("publish", str(run), "--offline", "--quiet")
    return run


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("named")
    scenario = _place(root / "place")
    _scenario(
        scenario,
        name=f"Keep B006 open: {REFUGE_NAME}",
        notice=f"Draft. The refuge ({REFUGE_NAME}, B006) stays; B003 closes.",
        **{"policy.force_keep": ["B006"], "policy.force_dispose": ["B003"]},
    )
    run = root / "run"
    invoke(
        "run",
        str(scenario),
        "--out",
        str(run),
        "--no-sharing-value",
        "--no-price-of-keeping",
        "--quiet",
    )
    _set_sensitive(run, SENSITIVE)
    invoke("publish", str(run), "--offline", "--quiet")
    return run


@pytest.fixture(scope="module")
def numbered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with all-digit building ids; the refuge is ``6``, B001 is ``1``."""
    root = tmp_path_factory.mktemp("numbered")
    scenario = _place(root / "place")
    inputs = scenario.parent / "inputs"
    for name in ("buildings", "services"):
        frame = read_csv_text(inputs / f"{name}.csv")
        frame["building_id"] = frame["building_id"].str.removeprefix("B").astype(int).astype(str)
        frame.to_csv(inputs / f"{name}.csv", index=False, lineterminator="\n")
    _scenario(scenario, **{"policy.force_keep": ["6"]})
    run = root / "run"
    invoke(
        "run",
        str(scenario),
        "--out",
        str(run),
        "--no-sharing-value",
        "--no-price-of-keeping",
        "--quiet",
    )
    _set_sensitive(run, ("1", "6"))
    invoke("publish", str(run), "--offline", "--quiet")
    return run


def copy_run(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run, target)
    return target


class _Cells(HTMLParser):
    """Every text cell of a page's tables (where the report shows ids), leaving out the
    cells it marks as numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td" and dict(attrs).get("class") != "n":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.texts.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _page_texts(path: Path) -> list[str]:
    parser = _Cells()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.texts


def _workbook_texts(path: Path) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    texts = [c for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    book.close()
    return [t for t in texts if isinstance(t, str)]


def _strings(doc: object) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [*doc, *(s for v in doc.values() for s in _strings(v))]
    if isinstance(doc, list):
        return [s for v in doc for s in _strings(v)]
    return []


# -- redaction by construction -----------------------------------------------------------


def test_policy_lists_and_free_text_carry_the_pseudonyms(named: Path) -> None:
    out = named / "published"
    doc = json.loads((out / "summary.json").read_text())
    policy = doc["settings"]["policy"]
    buildings = pd.read_csv(out / "buildings.csv", dtype=str)
    ids = dict(zip(buildings["building_id"], buildings["redacted"], strict=True))
    assert policy["force_keep"] == ["withheld-3"] and ids["withheld-3"] == "True"
    assert policy["force_dispose"] == ["withheld-2"] and ids["withheld-2"] == "True"
    assert doc["scenario"] == "Keep withheld-3 open: withheld-3"
    assert doc["notice"] == "Draft. The refuge (withheld-3, withheld-3) stays; withheld-2 closes."
    texts = {
        "summary.json": _strings(doc),
        "report.html": _page_texts(out / "report.html"),
        "report.xlsx": _workbook_texts(out / "report.xlsx"),
    }
    for name, strings in texts.items():
        joined = "\n".join(strings)
        for site in SENSITIVE:
            assert not re.search(rf"\b{site}\b", joined), (name, site)
        assert "refuge (address withheld)" not in joined.lower(), name
        assert "withheld-3" in joined, name  # the assumptions name the forced keep
    # The private run keeps the real ids.
    private = json.loads((named / "summary.json").read_text())
    assert private["settings"]["policy"]["force_keep"] == ["B006"]


def test_all_digit_ids_are_replaced_and_found(numbered: Path, tmp_path: Path) -> None:
    out = numbered / "published"
    doc = json.loads((out / "summary.json").read_text())
    assert doc["settings"]["policy"]["force_keep"] == ["withheld-2"]
    values = [
        *_strings(doc),
        *_workbook_texts(out / "report.xlsx"),
        *_page_texts(out / "report.html"),
    ]
    assert "6" not in values and "['6']" not in " ".join(values)
    moves = pd.read_csv(out / "moves.csv", dtype=str)
    assert not {"1", "6"} & (set(moves["from_building"]) | set(moves["to_building"]))
    # The scan finds an all-digit id where it stands as a value, and only there.
    from scenarios.publish import PublishError, check_published

    private = load_run(numbered)
    planted = {
        "policy.json": '{"force_keep": ["6"]}',
        "list.txt": "kept: 12, 6, 30\n",
        "cell.csv": "service_id,to_building\nS001,6\n",
        "popup.html": "<p><b>Refuge</b> (6)</p>",
    }
    harmless = {
        "numbers.json": '{"desks": 6, "year": 6, "label": "6 desks moved in year 6"}',
        "numbers.csv": "year,saving_gbp\n6,6.0\n1,1\n",
        "sentence.txt": "Exit in year 6; 16 desks; 1,006 people.\n",
        "report.html": "<table><tr><td class='n'>6</td><td>Year 6</td></tr></table>",
    }
    for name, text in harmless.items():
        (tmp_path / name).write_text(text)
        check_published([tmp_path / name], private)
    for name, text in planted.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(PublishError, match="the id of withheld-2"):
            check_published([path], private)
        assert not path.exists()
    # A GeoPackage stores a plan's years as text: still numbers, not ids.
    import geopandas as gpd
    from shapely.geometry import Point

    layer = gpd.GeoDataFrame(
        {"year": ["6", "1"], "to_building": ["12", "withheld-2"]},
        geometry=[Point(0, 0), Point(1, 1)],
        crs="EPSG:27700",
    )
    layer.to_file(tmp_path / "fine.gpkg", layer="moves", driver="GPKG")
    check_published([tmp_path / "fine.gpkg"], private)
    layer["to_building"] = ["12", "6"]
    layer.to_file(tmp_path / "leak.gpkg", layer="moves", driver="GPKG")
    with pytest.raises(PublishError, match=r"leak\.gpkg!moves row 2 column to_building"):
        check_published([tmp_path / "leak.gpkg"], private)


def test_ids_are_whole_tokens(three: Path, tmp_path: Path) -> None:
    from scenarios.publish import PublishError, check_published

    private = load_run(three)
    for text in ("B0061 XB006 B006-A B006_2 b006x", "https://x/B006.5"):
        path = tmp_path / "fine.txt"
        path.write_text(text)
        check_published([path], private)
    for text in ("(B006)", "moved to B006, then", "b006", '"B006"', "B006."):
        path = tmp_path / "leak.txt"
        path.write_text(text)
        with pytest.raises(PublishError, match="the id of withheld-3"):
            check_published([path], private)


def test_names_are_whole_phrases(three: Path, tmp_path: Path) -> None:
    """A sensitive site three "Ford" does not make every "Elmford ..." a leak; one three
    like a public building's longer name is published with a warning."""
    run = copy_run(three, tmp_path)
    shutil.rmtree(run / "published")
    for path in (run / "buildings.csv", run / "inputs" / "buildings.csv"):
        frame = read_csv_text(path)
        frame.loc[frame["building_id"] == "B006", "name"] = "Ford"
        frame.loc[frame["building_id"] == "B003", "name"] = "Bridge House"
        frame.to_csv(path, index=False, lineterminator="\n")
    out = json.loads(invoke("publish", str(run), "--offline", "--json"))
    assert out["withheld_sites"] == 3
    # One warning: the building B012 and its services hold the name of withheld-2.
    (warning,) = out["warnings"]
    assert "(withheld-2) is part of 4 public name(s)" in warning
    assert "'Bridge House (ICB offices)'," in warning
    page = (run / "published" / "map.html").read_text()
    assert "Elmford" in page and "Bridge House (ICB offices)" in page

    from scenarios.publish import PublishError, check_published

    private = load_run(run)
    for text in ("The refuge is at Ford.", "bridge  house refuge"):
        leak = tmp_path / "leak.txt"
        leak.write_text(text)
        with pytest.raises(PublishError, match="the name of withheld-"):
            check_published([leak], private)


def test_public_places_beside_a_site_are_not_leaks(three: Path, tmp_path: Path) -> None:
    """A refuge 4 m from a road node: the offline map draws the node (public roads), which
    is no leak; the refuge's own coordinates still are."""
    from estate.coords import bng_to_lonlat
    from scenarios.publish import PublishError, check_published

    run = copy_run(three, tmp_path)
    shutil.rmtree(run / "published")
    node = pd.read_csv(run / "inputs" / "network_nodes.csv").iloc[100]
    x, y = float(node["x"]) + 3.0, float(node["y"]) + 2.0
    lon, lat = bng_to_lonlat([x], [y])
    path = run / "inputs" / "buildings.csv"
    frame = read_csv_text(path)
    at = frame["building_id"] == "B006"
    frame.loc[at, ["easting", "northing", "lat", "lon"]] = [str(v) for v in (x, y, lat[0], lon[0])]
    frame.to_csv(path, index=False, lineterminator="\n")
    invoke("publish", str(run), "--offline", "--quiet")
    assert (run / "published" / "map.html").is_file()
    leak = tmp_path / "leak.html"
    leak.write_text(f"L.marker([{lat[0]:.5f}, {lon[0]:.5f}])")
    with pytest.raises(PublishError, match="the location of withheld-3"):
        check_published([leak], load_run(run))


def test_fields_not_on_the_allow_list_are_left_out(named: Path, tmp_path: Path) -> None:
    run = copy_run(named, tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    summary["settings"]["policy"]["protected_sites"] = ["B006"]
    summary["diagnosis"] = {"findings": [{"subject": "B006", "message": "B006 is full"}]}
    summary["estimates"] = {
        "buildings_with_estimates": 2,
        "by_building": {"B002": ["running_cost"], "B006": ["gia_m2"]},
    }
    summary["notes"] = ["B006 has no floor area", "defaults used"]
    (run / "summary.json").write_text(json.dumps(summary))
    invoke("publish", str(run), "--offline", "--quiet")
    doc = json.loads((run / "published" / "summary.json").read_text())
    # Keyed by building id: the key becomes the pseudonym; free text is scrubbed.
    assert doc["estimates"]["by_building"] == {"B002": ["running_cost"], "withheld-3": ["gia_m2"]}
    assert doc["notes"] == ["withheld-3 has no floor area", "defaults used"]
    assert "protected_sites" not in doc["settings"]["policy"]
    assert "diagnosis" not in doc
    assert doc["redaction"]["fields_withheld"] == ["settings.policy.protected_sites"]
    redaction = (run / "published" / "REDACTION.txt").read_text()
    assert "settings.policy.protected_sites" in redaction
    assert "buildings" not in doc["input_hashes"] and "zones" in doc["input_hashes"]


def test_every_setting_is_classified_for_publishing() -> None:
    """A new setting is left out of published copies until someone says how to publish
    it: this fails until scenarios.publish.SETTINGS names it."""
    from optimise import settings
    from scenarios.publish import SETTINGS, Each

    models = {
        "finance": settings.FinanceSettings,
        "policy": settings.PolicySettings,
        "solver": settings.SolverSettings,
        "phasing": settings.PhasingSettings,
        "space": settings.SpaceSettings,
    }
    for section, model in models.items():
        assert set(model.model_fields) == set(SETTINGS[section]), section
    access = SETTINGS["access"]
    assert isinstance(access, Each)
    assert set(settings.AccessStandard.model_fields) == set(access.rule)


def test_every_summary_key_is_classified_for_publishing(three: Path) -> None:
    """A new key in summary.json is left out of published copies until someone says how
    to publish it: this fails until scenarios.publish.SUMMARY names it."""
    from scenarios.publish import SUMMARY

    doc = json.loads((three / "summary.json").read_text())
    unclassified = sorted(set(doc) - set(SUMMARY))
    assert unclassified == [], f"classify these summary.json keys in SUMMARY: {unclassified}"


def test_services_at_withheld_sites_lose_name_and_id(three: Path) -> None:
    out = three / "published"
    moves = pd.read_csv(out / "moves.csv", dtype=str)
    hidden = moves.loc[moves["redacted"] == "True"]
    assert len(hidden) > 0
    assert hidden["service_id"].str.fullmatch(r"withheld-service-\d+").all()
    assert (hidden["name"] == "Service at a withheld site").all()
    private = read_csv_text(three / "moves.csv")
    assert len(private) == len(moves)
    assert private["cost"].astype(float).sum() == pytest.approx(moves["cost"].astype(float).sum())


# -- travel times cannot place a withheld site -------------------------------------------


def test_no_per_zone_minutes_for_a_service_a_withheld_site_provides(three: Path) -> None:
    out = three / "published"
    doc = json.loads((out / "summary.json").read_text())
    hidden = doc["redaction"]["access_withheld"]
    # B001 and B003 provide them, before the change or after (the jobcentre moves in).
    assert hidden == ["council_front_office", "jobcentre", "library"]
    access = pd.read_csv(out / "access.csv")
    # clinical: the hospital's, exempt from standards but listed (issue 14)
    assert set(access["service_type"]) == {"clinical", "gp", "police_front_counter"}
    rows = {r["service_type"]: r for r in doc["access"]}
    for service_type in hidden:
        row = rows[service_type]
        assert row["standard_met"] is True
        for key in ("share_before", "share_after", "target_share", "mean_minutes_after"):
            assert row[key] is None, (service_type, key)
    for service_type in ("gp", "police_front_counter"):  # other types keep their figures
        assert rows[service_type]["share_after"] is not None, service_type
    page = (out / "map.html").read_text()
    for service_type in hidden:
        assert f"Access change: {service_type}" not in page
        assert f"Catchment after: {service_type}" not in page
    assert "Access change: gp" in page
    result = CliRunner().invoke(
        main, ["map", str(three), "--publish", "--service-type", "library", "--offline"]
    )
    assert result.exit_code == 1
    assert "not published" in result.output


@pytest.mark.parametrize("site", SENSITIVE)
def test_a_withheld_site_cannot_be_triangulated(three: Path, site: str) -> None:
    """The attack of tests/triangulate.py: given the published files, the road network,
    the zones and every other building's location, the best estimate of where the site
    is must be at least 1 km out.  Given the private files instead (every zone's minutes
    to its nearest service), the same attack finds the sites that provide a public
    service within 300 m: it works when there is something to work with."""
    private = load_run(three)
    published = triangulate(private, three / "published", site)
    assert published.error_m >= 1000, published
    if site != "B006":  # the refuge provides no public service: no minutes lead to it
        unredacted = triangulate(private, three, site)
        assert unredacted.error_m < 300, unredacted


def test_shares_alone_would_place_a_town_centre_site(three: Path, tmp_path: Path) -> None:
    """Why the shares of a service a withheld site provides are not published: put back
    into the published copy, they alone let the attack place B001 within 1 km."""
    published = copy_run(three / "published", tmp_path)
    doc = json.loads((published / "summary.json").read_text())
    private = {
        r["service_type"]: r for r in json.loads((three / "summary.json").read_text())["access"]
    }
    for row in doc["access"]:
        for key in ("share_before", "share_after"):
            row[key] = private[row["service_type"]][key]
    (published / "summary.json").write_text(json.dumps(doc))
    attack = triangulate(load_run(three), published, "B001")
    assert "library share after" in attack.evidence
    assert attack.error_m < 1000, attack


# -- a published copy is whole and never stale -------------------------------------------


def test_a_rerun_removes_the_published_copy_of_the_run_before(tmp_path: Path) -> None:
    scenario = _place(tmp_path / "place")
    run = tmp_path / "run"
    invoke(
        "run",
        str(scenario),
        "--out",
        str(run),
        "--no-sharing-value",
        "--no-price-of-keeping",
        "--quiet",
    )
    invoke("publish", str(run), "--offline", "--quiet")
    assert (run / "published" / "summary.json").is_file()
    invoke(
        "run",
        str(scenario),
        "--out",
        str(run),
        "--no-sharing-value",
        "--no-price-of-keeping",
        "--quiet",
    )
    assert not (run / "published").exists()


def test_a_partial_publish_clears_a_stale_copy(three: Path, tmp_path: Path) -> None:
    run = copy_run(three, tmp_path)
    stale = run / "published"
    (stale / "REDACTION.txt").write_text("Fingerprint of the published content: 0\n")
    invoke("map", str(run), "--publish", "--offline", "--quiet")
    assert sorted(p.name for p in stale.iterdir()) == ["REDACTION.txt", "map.html"]
    invoke("report", str(run), "--publish", "--quiet")  # same run: adds to the copy
    names = sorted(p.name for p in stale.iterdir())
    assert names == ["REDACTION.txt", "map.html", "report.html", "report.xlsx"]


def test_a_refused_publish_leaves_no_half_written_copy(
    three: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a leak got past the construction, the scan refuses: nothing is published, and
    a copy left by an earlier run is removed rather than left to contradict this one."""
    import scenarios.presentation as presentation
    from scenarios.publish import PublishError

    run = copy_run(three, tmp_path)
    real_redact = presentation.redact

    def leaky(folder):  # type: ignore[no-untyped-def]
        shown = real_redact(folder)
        return shown.with_(summary={**shown.summary, "scenario": REFUGE_NAME})

    monkeypatch.setattr(presentation, "redact", leaky)
    for earlier in (False, True):
        shutil.rmtree(run / "published", ignore_errors=True)
        if earlier:
            (run / "published").mkdir()
            (run / "published" / "map.html").write_text("an earlier run's map")
        with pytest.raises(PublishError, match="the name of withheld-3") as caught:
            presentation.write_published(run, "roads")
        assert str(run / "published" / "summary.json") in str(caught.value)
        assert not (run / "published").exists()
        assert [p.name for p in run.iterdir() if p.name.startswith(".published")] == []
