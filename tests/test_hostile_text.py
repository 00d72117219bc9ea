"""No value from the data ever runs as code (issue 15).

A corpus of payloads (template syntax for Jinja and other engines, ``</script>``,
attribute breakouts, ``javascript:`` URLs, spreadsheet formulas, RTL overrides, line
separators) is put in every text field of every input table and of the scenario: ids,
names, addresses, agencies, service types, zones, the scenario's name and notice, its
access keys and policy lists.  Every command that writes HTML then runs on it, and each
page is opened in headless Chromium: no payload's script runs (not even once every popup
and tooltip is opened), the map still draws every marker, and the template payloads show
as the text they are.  Workbooks hold the data as text cells and no formula but the code's
own, and CSV files quote formula-like text.
"""

from __future__ import annotations

import html
import json
import os
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from estate.io import read_csv_text
from tests.browser import Chromium, find_chromium

CHROMIUM = find_chromium()
if CHROMIUM is None and os.environ.get("ESTATE_REQUIRE_CHROMIUM"):
    raise RuntimeError("ESTATE_REQUIRE_CHROMIUM is set but no Chromium is installed")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium installed (apt-get install chromium; or set $CHROMIUM)",
)

SENTINEL_NAME = "PWNED-BY-TEMPLATE"
FORMULA = '=HYPERLINK("http://example.invalid","y")'


def payloads(sentinel: Path) -> list[str]:
    """The corpus; each one that could run sets ``window.__pwned`` or writes a file."""
    jinja_os = (
        "{{ self.__init__.__globals__.__builtins__.__import__('os')"
        f".system('touch {sentinel}') }}}}"
    )
    return [
        "{{7*7}}",
        jinja_os,
        "{% for x in range(3) %}X{% endfor %}",
        "{# unclosed comment",
        "{{ unbalanced",
        "${7*7} #{7*7} <%= 7*7 %> [[${7*7}]] {7*7}",
        "</script><script>window.__pwned='script'</script>",
        "<img src=x onerror=\"window.__pwned='img'\">",
        '"><svg onload="window.__pwned=\'dq\'">',
        "'><svg onload='window.__pwned=1'>",
        "javascript:window.__pwned='url'",
        "</style></title></textarea><script>window.__pwned='style'</script>",
        "<!-- <script>window.__pwned='comment'</script>",
        "`${window.__pwned='backtick'}`",
        "\\u003cscript\\u003ewindow.__pwned='escape'\\u003c/script\\u003e",
        "\u202eRTL override\u202c text",
        "line\u2028sep\u2029para",
        FORMULA,
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "-2+3",
        "control\x07\x1b[31m characters\x00",
        "[/] [link=http://example.invalid]rich markup[/link] [bold red]",
    ]


def _hostile_place(root: Path) -> tuple[Path, dict[str, object]]:
    """The demo's scenario and inputs with a payload in every text field."""
    result = CliRunner().invoke(main, ["init", str(root), "--demo"])
    assert result.exit_code == 0, result.output
    corpus = payloads(root / SENTINEL_NAME)

    def pick(i: int) -> str:
        return corpus[i % len(corpus)]

    inputs = root / "inputs"
    buildings = read_csv_text(inputs / "buildings.csv")
    services = read_csv_text(inputs / "services.csv")
    zones = read_csv_text(inputs / "zones.csv")

    agencies = {a: f"{pick(i)} [{a}]" for i, a in enumerate(sorted(buildings["agency"].unique()))}
    building_ids = {b: f"{pick(i + 3)}#{b}" for i, b in enumerate(buildings["building_id"])}
    public = sorted(services.loc[services["public_facing"] == "True", "service_type"].unique())
    types = {t: f"{pick(i + 5)} {t}" for i, t in enumerate(public)}

    buildings["agency"] = buildings["agency"].map(agencies)
    buildings["building_id"] = buildings["building_id"].map(building_ids)
    buildings["name"] = [f"{pick(i)} {n}" for i, n in enumerate(buildings["name"])]
    buildings["address"] = [pick(i + 1) for i in range(len(buildings))]
    buildings["uprn"] = [pick(i + 2) for i in range(len(buildings))]
    services["agency"] = services["agency"].map(agencies)
    services["building_id"] = services["building_id"].map(building_ids)
    services["service_id"] = [f"{pick(i + 4)}#{s}" for i, s in enumerate(services["service_id"])]
    services["name"] = [pick(i + 6) for i in range(len(services))]
    services["service_type"] = services["service_type"].map(lambda t: types.get(t, t))
    zones["zone_id"] = [f"{pick(i + 7)}#{z}" for i, z in enumerate(zones["zone_id"])]
    zones["name"] = [pick(i + 8) for i in range(len(zones))]
    for name, frame in (("buildings", buildings), ("services", services), ("zones", zones)):
        frame.to_csv(inputs / f"{name}.csv", index=False, lineterminator="\n")

    path = root / "scenario.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["name"] = "{{7*7}} " + corpus[6] + " " + corpus[-1]
    doc["notice"] = corpus[1] + " " + corpus[7]
    doc["access"] = {types[t]: v for t, v in doc["access"].items()}
    kept = buildings.loc[buildings["must_retain"] == "True", "building_id"].tolist()
    doc["policy"]["force_keep"] = kept[:1]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    facts = {
        "buildings": len(buildings),
        "public_buildings": int((buildings["sensitive"] != "True").sum()),
        "formula_names": int(buildings["name"].str.startswith("=").sum()),
    }
    return path, facts


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("hostile-text")
    scenario, facts = _hostile_place(root / "place")
    run = root / "run"
    outputs: dict[str, object] = {"root": root, "run": run, **facts}

    def invoke(*args: str) -> None:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, (args, result.output)

    invoke("run", str(scenario), "--out", str(run), "--quiet", "--no-price-of-keeping")
    invoke("map", str(run), "--offline", "--quiet")
    invoke("report", str(run), "--quiet")
    invoke("publish", str(run), "--offline", "--quiet")
    invoke("compare", str(run), str(run / "siloed"), "--out", str(root / "compare"), "--quiet")
    invoke("plan", str(scenario), "--out", str(root / "plan"), "--quiet")
    invoke(
        "access",
        "--register",
        str(scenario.parent / "inputs"),
        "--zones",
        str(scenario.parent / "inputs" / "zones.csv"),
        "--offline",
        "-o",
        str(root / "access"),
        "--quiet",
    )
    return outputs


def _html_pages(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.html") if "place" not in p.parts)


def test_no_template_in_the_data_was_evaluated(hostile: dict[str, object]) -> None:
    root = Path(str(hostile["root"]))
    assert not list(root.rglob(SENTINEL_NAME)), "a template in the data ran a command"
    pages = _html_pages(root)
    names = {p.relative_to(root).as_posix() for p in pages}
    for expected in (
        "run/map.html",
        "run/report.html",
        "run/siloed/map.html",
        "run/published/map.html",
        "run/published/report.html",
        "compare/comparison.html",
        "plan/map.html",
        "plan/report.html",
        "access/map.html",
    ):
        assert expected in names, (expected, sorted(names))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if page.name == "map.html" or page.name == "report.html":
            assert "{{7*7}}" in text, page  # the scenario's name, as written
        assert "window.__pwned" not in text.replace("window.__pwned=", ""), page
        assert "<script>window.__pwned" not in text, page
        assert "<img src=x" not in text, page
        assert "<svg onload" not in text, page


@needs_chromium
def test_no_payload_runs_in_the_browser_and_every_marker_draws(
    hostile: dict[str, object],
) -> None:
    assert CHROMIUM is not None
    root = Path(str(hostile["root"]))
    with Chromium(CHROMIUM) as browser:
        for page in _html_pages(root):
            report = browser.open(page.as_uri(), settle_seconds=0.3)
            assert report.exceptions == [], (page, report.exceptions)
            assert browser.evaluate("window.__pwned === undefined"), page
            if page.name != "map.html":
                continue
            opened = browser.evaluate(
                """(() => {
                  const map = Object.values(window).find(v => v instanceof L.Map);
                  let n = 0;
                  Object.values(map.estateLayers).forEach(group => {
                    if (!map.hasLayer(group)) { map.addLayer(group); }
                    group.eachLayer(layer => {
                      if (layer.getPopup()) { layer.openPopup(); n += 1; }
                      if (layer.getTooltip()) { layer.openTooltip(); n += 1; }
                    });
                  });
                  return n;
                })()"""
            )
            assert opened > 0, page
            assert browser.evaluate("window.__pwned === undefined"), page
            markers = browser.evaluate("document.querySelectorAll('path.estate-building').length")
            rel = page.relative_to(root).as_posix()
            if rel in ("run/map.html", "run/siloed/map.html", "plan/map.html"):
                assert markers == hostile["buildings"], (rel, markers)
            elif rel == "run/published/map.html" or rel == "access/map.html":
                assert markers == hostile["public_buildings"], (rel, markers)
            title = browser.evaluate("document.body.innerText")
            if rel.startswith("run/"):
                assert "{{7*7}}" in title, rel


# The only formulas a workbook may hold: the code's own sums, sum-products, differences
# and products of cell references (written independently of scenarios.workbook).
_REF = r"(?:'(?:cash flow by year|saving by agency|agencies)'!)?\$?[A-Z]{1,3}\$?[0-9]+"
_SPAN = rf"{_REF}:\$?[A-Z]{{1,3}}\$?[0-9]+"
CODE_FORMULA = re.compile(
    rf"=(?:SUM\({_SPAN}\)|SUMPRODUCT\({_SPAN},{_SPAN}\)|{_REF}(?:[-+*]{_REF})?)"
)


def _data_texts(root: Path) -> set[str]:
    """Every text of the hostile place's inputs, as the workbooks may show them."""
    from estate.textsafe import strip_control_characters

    texts = set()
    for name in ("buildings", "services", "zones"):
        frame = read_csv_text(root / "place" / "inputs" / f"{name}.csv")
        for col in frame.columns:
            texts |= {strip_control_characters(str(v)) for v in frame[col] if str(v)}
    return {t for t in texts if t.startswith(("=", "+", "-", "@"))}


def test_workbooks_hold_data_as_text_and_only_the_codes_formulas(
    hostile: dict[str, object],
) -> None:
    from openpyxl import load_workbook

    root = Path(str(hostile["root"]))
    formula_like = _data_texts(root)
    assert FORMULA in formula_like
    books = sorted(root.rglob("*.xlsx"))
    assert len(books) >= 3
    for book in books:
        wb = load_workbook(book)
        found = formulas = 0
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        # A formula is one the code wrote: a known shape over cells only.
                        text = str(cell.value)
                        assert CODE_FORMULA.fullmatch(text), (book, ws.title, cell.coordinate)
                        assert text not in formula_like
                        formulas += 1
                    elif isinstance(cell.value, str) and cell.value in formula_like:
                        assert cell.data_type == "s", (book, ws.title, cell.coordinate)
                        assert cell.quotePrefix, (book, ws.title, cell.coordinate)
                    if isinstance(cell.value, str) and FORMULA in cell.value:
                        assert cell.data_type == "s", (book, ws.title, cell.coordinate)
                        found += 1
        wb.close()
        assert formulas > 0, book  # totals and present values are the code's formulas
        with zipfile.ZipFile(book) as zf:
            sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/")]
            for name in sheets:
                xml = zf.read(name).decode("utf-8")
                for text in re.findall(r"<f>([^<]*)</f>", xml):
                    assert CODE_FORMULA.fullmatch("=" + html.unescape(text)), (book, text)
                assert "<f " not in xml, book  # no shared or array formulas
        if book.parent.name != "published":
            assert found >= 1, book  # the formula-like name is there, as text


def test_csv_files_quote_formula_like_text_and_read_back_as_written(
    hostile: dict[str, object],
) -> None:
    run = Path(str(hostile["run"]))
    raw = (run / "buildings.csv").read_text(encoding="utf-8")
    assert "'" + FORMULA.replace('"', '""') in raw
    for line in raw.splitlines():
        for cell in line.split(","):
            assert not cell.startswith(("=", "@", '"=', '"@')), cell
    table = read_csv_text(run / "buildings.csv")
    inputs = read_csv_text(run / "inputs" / "buildings.csv")
    assert sorted(table["name"]) == sorted(inputs["name"])
    assert (table["name"].str.startswith("=")).sum() == hostile["formula_names"]
    doc = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert doc["scenario"].startswith("{{7*7}}")


def test_a_template_in_a_name_is_text_on_the_terminal(tmp_path: Path) -> None:
    """The terminal summary prints names through rich: markup in a name stays text."""
    root = tmp_path / "place"
    scenario, _ = _hostile_place(root)
    args = ["run", str(scenario), "--out", str(tmp_path / "r"), "--no-price-of-keeping"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "{{7*7}}" in result.output
    assert "[/]" in result.output  # rich markup in a name is printed as text
    assert not (root / SENTINEL_NAME).exists()
    frame = pd.read_csv(tmp_path / "r" / "agencies.csv", dtype=str, keep_default_na=False)
    assert len(frame) == 5
