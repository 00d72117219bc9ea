"""The second line of publishing: scan written files for what names a sensitive site.

Published copies are built so that nothing naming a sensitive site is ever written
(:mod:`scenarios.publish`).  This module checks that it worked: every published file is
read back and searched for each withheld site's id, name and location, and publishing
fails if one is found.  The same matching rules replace the ids and names in free text
(a scenario's name or notice) before anything is written, so the two lines agree.

What counts as a match:

- **ids** as whole tokens: ``B006`` is found in ``"B006"``, ``(B006)`` or ``to B006,``
  but not in ``B0061``, ``XB006`` or ``B006-A`` (another id).  An id made only of
  digits (``7``, ``0042``) cannot be told from a number inside a phrase ("7 desks"),
  so it is found where it stands alone as a value: a CSV cell, a JSON string, a
  workbook text cell, a GeoPackage text value, a page's table cell or popup line, or one
  item of a list (``7, 12``; ``['7']``; ``(7)``).  Numbers written as numbers (JSON
  numbers, numeric CSV columns, numeric workbook cells, the report's number cells, the
  charts) are numbers, not ids.  When an all-digit id is also the id of a published zone
  or service, it is looked for only where a column or key names a building.
- **names** as whole phrases, ignoring case and runs of spaces: ``Haven House`` is found
  in ``the Haven House refuge`` but not in ``Havenhouse Road``.  A public building or
  service whose own name holds a withheld site's name (``Haven House Annexe``) is
  published as the register gives it (the publisher is warned); its occurrences are
  set aside before the search, so they do not make the run unpublishable.
- **locations**: any two numbers written next to each other (either order) within
  about 15 m (``1.5e-4`` degrees) of the site's latitude and longitude, unless they are
  exactly (to 6 decimals) a public place drawn as it is (a public building, a zone or its
  cell, a road node); and the site's easting and northing stored side by side as binary
  doubles (a GeoPackage point), unless a public building or zone is at that very point.

Text is searched as written and with JSON ``\\uXXXX`` escapes and HTML entities undone.
Names shorter than four characters are not searched for (they occur by chance).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from estate.textsafe import from_spreadsheet_text

COORD_TOLERANCE_DEG = 1.5e-4  # coordinates "to 4 decimals", with rounding either way
MIN_NAME_CHARS = 4
_NUMBER = re.compile(r"^[+-]?(\d[\d,]*\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_PAIR = re.compile(r"(-?\d{1,3}\.\d{3,})\s*[,\s]\s*(-?\d{1,3}\.\d{3,})")
# A value's items: split at ; | tabs, newlines, " → " and commas that are not inside a
# number ("1,251" is one number; "7, 12" and "['7', '12']" are two items).
_PIECES = re.compile(r"[;|\n\t]|(?<!\d),|,(?!\d)|\s[→–—-]\s")
_STRIP = " \t\r\n()[]{}\"'`:."
# Where a column or a key names a building (an all-digit id that is also another
# entity's id is looked for only there).
_BUILDING_KEY = re.compile(r"building(?!s)|force_keep|force_dispose", re.IGNORECASE)
# Elements of the project's own pages that hold numbers, never ids: the report's number
# cells (class "n"), counts drawn on the map (class "estate-number") and SVG charts.
NUMBER_CLASSES = frozenset({"n", "estate-number"})
_SKIP_ELEMENTS = frozenset({"script", "style", "svg"})
_DATA_ATTRIBUTES = frozenset({"title", "alt", "aria-label", "value", "href", "src"})


class Term:
    """One thing that must not appear: a withheld site's id or name."""

    def __init__(self, text: str, site: str, kind: str, public: Iterable[str] = ()) -> None:
        self.text = text
        self.site = site  # the pseudonym shown instead (withheld-N)
        self.kind = kind  # "id" or "name"
        self.digits = kind == "id" and text.isdigit()
        self.pattern = None if self.digits else _phrase(text)
        # Public names and ids (published as the register gives them) that hold this
        # term: set aside before searching, and reported to the publisher.
        if self.pattern is None:
            self.holders: tuple[str, ...] = ()
            self.ambiguous = any(p == text for p in public)
        else:
            pattern = self.pattern
            self.holders = tuple(
                sorted(
                    {p for p in public if pattern.search(p)},
                    key=lambda p: (-len(p), p),
                )
            )
            self.ambiguous = False
        self._masks = [_phrase(p) for p in self.holders]

    def __repr__(self) -> str:
        return f"Term({self.kind} of {self.site})"

    def describe(self) -> str:
        return f"the {self.kind} of {self.site}"

    def _masked(self, text: str) -> str:
        for mask in self._masks:
            text = mask.sub(" ", text)
        return text

    def in_text(self, text: str) -> bool:
        """Whether free text (a page, a file's raw text) holds this term."""
        if self.pattern is None:
            return False  # all-digit ids are looked for in values only
        return bool(self.pattern.search(self._masked(text)))

    def in_value(self, text: str, building_context: bool) -> bool:
        """Whether one stored value (a cell, a JSON string, a popup line) holds it."""
        if self.pattern is not None:
            return self.in_text(text)
        if self.ambiguous and not building_context:
            return False
        return any(p.strip(_STRIP) == self.text for p in _PIECES.split(text))

    def replace(self, text: str) -> str:
        """``text`` with every whole occurrence of this term replaced by the pseudonym
        (occurrences inside a public name that holds it are left as they are)."""
        if self.pattern is None:
            return self.site if text.strip(_STRIP) == self.text else text
        pattern = self.pattern
        if not self._masks:
            return pattern.sub(self.site, text)
        kept = [m.span() for mask in self._masks for m in mask.finditer(text)]
        out, at = [], 0
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(a <= start and end <= b for a, b in kept):
                continue
            out += [text[at:start], self.site]
            at = end
        return "".join(out) + text[at:]


def _phrase(text: str) -> re.Pattern[str]:
    """A whole token or phrase: case ignored, any run of spaces for a space, and not part
    of a longer token (a word character, or ``-``/``.``/``/`` joined to one, next to it)."""
    words = [re.escape(w) for w in text.split()]
    body = r"\s+".join(words) if words else re.escape(text)
    left = r"(?<!\w)(?<!\w[-./])" if re.match(r"\w", text.strip()[:1] or " ") else ""
    right = r"(?!\w)(?![-./]\w)" if re.match(r"\w", text.strip()[-1:] or " ") else ""
    return re.compile(left + body + right, re.IGNORECASE)


@dataclass(frozen=True)
class Site:
    """What must not appear in a published file for one sensitive site."""

    building_id: str
    pseudonym: str
    name: str
    lat: float
    lon: float
    easting: float
    northing: float


@dataclass
class Terms:
    """Every withheld site's terms, and warnings about public names that hold them."""

    sites: list[Site]
    terms: list[Term] = field(default_factory=list)
    # Public places drawn as they are (public buildings, zones and their cells, the road
    # network's nodes): (lat, lon) to 6 decimals as the map writes them, and the grid
    # points stored in the GeoPackage.  A number pair that is one of them is not a leak.
    public_latlon: frozenset[tuple[float, float]] = frozenset()
    public_grid: frozenset[tuple[float, float]] = frozenset()

    @classmethod
    def build(
        cls,
        sites: list[Site],
        public_names: Iterable[str],
        public_ids: Iterable[str],
        public_latlon: Iterable[tuple[float, float]] = (),
        public_grid: Iterable[tuple[float, float]] = (),
    ) -> Terms:
        """``public_names``: names published as they are (public buildings, services,
        agencies, zones, service types); ``public_ids``: ids of other published things
        (zones, services, public buildings); ``public_latlon``/``public_grid``: places
        published as they are."""
        names = sorted({str(n) for n in public_names if str(n).strip()})
        ids = sorted({str(i) for i in public_ids if str(i).strip()})
        terms = []
        for site in sites:
            terms.append(Term(site.building_id, site.pseudonym, "id", [*names, *ids]))
            if _searchable_name(site.name):
                terms.append(Term(site.name, site.pseudonym, "name", names))
        latlon = frozenset(_key(a, b) for a, b in public_latlon)
        grid = frozenset((float(e), float(n)) for e, n in public_grid)
        return cls(sites, terms, latlon, grid)

    def is_public(self, lat: float, lon: float) -> bool:
        return _key(lat, lon) in self.public_latlon

    def warnings(self) -> list[str]:
        out = []
        for site in self.sites:
            point = (float(site.easting), float(site.northing))
            if self.is_public(site.lat, site.lon) or point in self.public_grid:
                out.append(
                    f"a withheld site ({site.pseudonym}) is at the very point of a published "
                    "building, zone or road node: that point is published for it, and the "
                    "leak scan cannot tell the two apart there"
                )
        for term in self.terms:
            if term.holders:
                shown = ", ".join(repr(h) for h in sorted(term.holders)[:3])
                more = f" and {len(term.holders) - 3} more" if len(term.holders) > 3 else ""
                out.append(
                    f"the {term.kind} of a withheld site ({term.site}) is part of "
                    f"{len(term.holders)} public name(s) or id(s), published as the register "
                    f"gives them: {shown}{more}; rename them in the register if they give "
                    "the site away"
                )
            if term.ambiguous:
                out.append(
                    f"the id of {term.site} is all digits and is also the id of a published "
                    "zone or service: the leak scan looks for it only where a column or key "
                    "names a building"
                )
        return out

    def scrub(self, text: str) -> str:
        """Free text with every withheld site's id and name replaced by its pseudonym."""
        for term in sorted(self.terms, key=lambda t: -len(t.text)):
            text = term.replace(text)
        return text


def _key(lat: float, lon: float) -> tuple[float, float]:
    return (round(float(lat), 6), round(float(lon), 6))


def _searchable_name(name: str) -> bool:
    name = name.strip()
    return len(name) >= MIN_NAME_CHARS and name.lower() not in ("nan", "none")


# -- reading a file's text and values ------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One stored text value, where it is, and whether its column or key names a building."""

    where: str
    text: str
    building: bool = False


def unescape(text: str) -> str:
    """Undo JSON ``\\uXXXX`` escapes and HTML entities (a name may be stored either way)."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return html.unescape(html.unescape(text))


def raw_texts(path: Path) -> list[tuple[str, str]]:
    """(where, text) pieces: a file's bytes as text, or each member of a zip (xlsx)."""
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        # A workbook's XML: its text content, not its markup (whose cell references,
        # such as r="B1", would look like ids) nor its formulas (the code's own, over
        # cell references such as B1:B21).
        with zipfile.ZipFile(path) as zf:
            return [
                (
                    f"{path}!{m}",
                    _XML_TAG.sub(" ", _code_formulas_out(zf.read(m).decode("utf-8", "replace"))),
                )
                for m in zf.namelist()
            ]
    return [(str(path), data.decode("utf-8", "replace"))]


_XML_TAG = re.compile(r"<[^>]*>")
_XML_FORMULA = re.compile(r"<f>([^<]*)</f>")


def _code_formulas_out(xml: str) -> str:
    """A worksheet's XML without the formulas the workbook writer made (cell references
    only); any other formula is left in, to be scanned."""
    from scenarios.workbook import is_code_formula

    return _XML_FORMULA.sub(lambda m: " " if is_code_formula("=" + m.group(1)) else m.group(0), xml)


def values(path: Path) -> Iterator[Value]:
    """The text values a file stores, read by its format (numbers left out)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        yield from _json_values(json.loads(path.read_text(encoding="utf-8")), str(path), False)
    elif suffix == ".csv":
        yield from _csv_values(path)
    elif suffix == ".xlsx":
        yield from _xlsx_values(path)
    elif suffix == ".gpkg":
        yield from _gpkg_values(path)
    elif suffix in (".html", ".htm"):
        yield from _html_values(path.read_text(encoding="utf-8"), str(path))
    else:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            yield Value(f"{path} line {i}", line)


def _json_values(doc: object, where: str, building: bool) -> Iterator[Value]:
    if isinstance(doc, str):
        yield Value(where, doc, building)
    elif isinstance(doc, dict):
        for key, item in doc.items():
            inner = building or bool(_BUILDING_KEY.search(str(key)))
            yield Value(f"{where} key", str(key), building)
            yield from _json_values(item, f"{where}.{key}", inner)
    elif isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from _json_values(item, f"{where}[{i}]", building)


def _numeric(cell: object) -> bool:
    """A stored number, or text that is one, or nothing."""
    if cell is None or isinstance(cell, int | float | bytes):
        return True
    return isinstance(cell, str) and (cell == "" or bool(_NUMBER.match(cell)))


def _csv_values(path: Path) -> Iterator[Value]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    if not rows:
        return
    header = rows[0]
    for col in header:
        yield Value(f"{path} header", col)
    for j, col in enumerate(header):
        cells = [r[j] if j < len(r) else "" for r in rows[1:]]
        building = bool(_BUILDING_KEY.search(col))
        if not building and all(_numeric(c) for c in cells):
            continue
        for i, cell in enumerate(cells, start=2):
            yield Value(f"{path} row {i} column {col}", from_spreadsheet_text(cell), building)


def _xlsx_values(path: Path) -> Iterator[Value]:
    from openpyxl import load_workbook

    from scenarios.workbook import is_code_formula

    book = load_workbook(path, read_only=True)
    try:
        for sheet in book.worksheets:
            yield Value(f"{path}!{sheet.title}", sheet.title)
            for row in sheet.iter_rows():
                for cell in row:
                    if getattr(cell, "data_type", "") == "f" and is_code_formula(str(cell.value)):
                        continue  # the workbook's own formulas: cell references, no data
                    if isinstance(cell.value, str):
                        where = f"{path}!{sheet.title}!{getattr(cell, 'coordinate', '?')}"
                        yield Value(where, cell.value)
    finally:
        book.close()


def _gpkg_values(path: Path) -> Iterator[Value]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
        for table in tables:
            cursor = con.execute(f'SELECT * FROM "{table.replace(chr(34), "")}"')
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            for j, col in enumerate(columns):
                cells = [r[j] for r in rows]
                building = bool(_BUILDING_KEY.search(col))
                if not building and all(_numeric(c) for c in cells):
                    continue  # numbers, even where stored as text
                for i, cell in enumerate(cells, start=1):
                    if isinstance(cell, str):
                        yield Value(f"{path}!{table} row {i} column {col}", cell, building)
    finally:
        con.close()


class _PageText(HTMLParser):
    """Text a page shows (outside scripts, styles, charts and number cells) and the data
    attributes of its elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.scripts: list[str] = []
        self._stack: list[tuple[str, bool]] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        skip = tag in _SKIP_ELEMENTS or bool(classes & NUMBER_CLASSES)
        if tag not in _VOID:
            self._stack.append((tag, skip))
        if not skip and not self._skipping():
            self.texts += [v for k, v in attrs if v and (k in _DATA_ATTRIBUTES or k[:5] == "data-")]

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1][0] == "script":
            self.scripts.append(data)
        elif not self._skipping() and data.strip():
            self.texts.append(data)


_VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "col", "area", "base", "wbr"})
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _fixed_assets() -> list[str]:
    """The code's own inlined assets (Leaflet, the map's drawing code): never data."""
    from scenarios.leaflet_assets import leaflet_head
    from scenarios.mappage import DRAW_JS

    return [leaflet_head(), DRAW_JS]


def _html_values(page: str, where: str, depth: int = 0) -> Iterator[Value]:
    if depth == 0:
        page = page.replace("\r\n", "\n")
        for asset in _fixed_assets():
            page = page.replace(asset.replace("\r\n", "\n"), "")
    parser = _PageText()
    parser.feed(page)
    parser.close()
    for text in parser.texts:
        yield Value(where, text)
    if depth > 1:
        return
    for script in parser.scripts:
        for literal in _STRING.findall(script):
            try:
                text = json.loads(literal)
            except json.JSONDecodeError:
                continue
            if "<" in text:
                yield from _html_values(text, where, depth + 1)
            else:
                yield Value(where, html.unescape(text))


# -- the scan ---------------------------------------------------------------------------


def leaks(path: Path, terms: Terms) -> list[str]:
    """Where a file discloses a withheld site: its name, id, lat/lon pair or grid point."""
    found = []
    raw = path.read_bytes()
    for site in terms.sites:
        point = (float(site.easting), float(site.northing))
        if point in terms.public_grid:
            continue
        if struct.pack("<dd", *point) in raw or struct.pack(">dd", *point) in raw:
            found.append(f"{path}: the grid point {point} of {site.pseudonym}")
    for where, text in raw_texts(path):
        pairs = [(float(a), float(b)) for a, b in _PAIR.findall(text)]
        plain = unescape(text)
        for term in terms.terms:
            if term.in_text(text) or term.in_text(plain):
                found.append(f"{where}: {term.describe()}")
        for site in terms.sites:
            if any(_near(terms, site, a, b) or _near(terms, site, b, a) for a, b in pairs):
                found.append(f"{where}: the location of {site.pseudonym}")
    digit_terms = [t for t in terms.terms if t.digits]
    if digit_terms:
        for stored in values(path):
            for term in digit_terms:
                if term.in_value(stored.text, stored.building):
                    found.append(f"{stored.where}: {term.describe()} ({stored.text[:60]!r})")
    return found


def _near(terms: Terms, site: Site, lat: float, lon: float) -> bool:
    """Whether (lat, lon) is the site's place, and not a public place written as it is."""
    close = (
        abs(lat - site.lat) <= COORD_TOLERANCE_DEG and abs(lon - site.lon) <= COORD_TOLERANCE_DEG
    )
    return close and not terms.is_public(lat, lon)


def scan(files: list[Path], terms: Terms) -> list[str]:
    """Every disclosure found in ``files``, sorted and without repeats."""
    return sorted({p for f in files for p in leaks(f, terms)})
