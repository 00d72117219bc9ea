"""Load register files into canonical tables, accounting for every row.

``load_files(["council.xlsx", "nhs.csv"], ...)`` reads each file
(:mod:`estate.readers`), finds its header row, maps its columns (built-in synonyms, a
known-format profile, the user's mapping), coerces every cell into the canonical schema
(:func:`estate.validate.coerce_table`), and merges the files.  Each data row of each file
ends in exactly one of ``accepted``, ``rejected`` (with its reasons) or ``set_aside``
(with its reason: a blank row, a row a mapping excludes, land, open space, a car park
or another row that is not a building; never an error).
``rows_read == rows_accepted + rows_rejected + rows_set_aside`` for every file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from estate.agencies import Agencies, builtin, near_duplicates
from estate.colocate import COLOCATION_COLUMNS, colocation_groups, find_colocations
from estate.coords import parse_coordinate_cell
from estate.errors import CellIssue, EstateError, SettingsError, UnreadableError
from estate.formats import PROFILES, Profile, detect_profile
from estate.grid import Grid
from estate.mapping import (
    COORDINATES,
    GEO_X,
    GEO_Y,
    Kind,
    Mapping,
    check_targets,
    guess_columns,
    normalise_header,
    skeleton_yaml,
    synonym_score,
)
from estate.points import resolve_points
from estate.postcodes import normalise_postcode, postcode_problem
from estate.readers import read_grid, to_text
from estate.schema import ASSETS, BUILDINGS, SERVICES, TableSpec
from estate.uses import classify_use
from estate.validate import (
    FILE_COLUMN,
    ROW_COLUMN,
    area_unit_of_header,
    coerce_table,
    fill_coordinates,
    is_blank,
    is_not_applicable,
    parse_number,
)

SPECS: dict[str, TableSpec] = {"register": BUILDINGS, "assets": ASSETS, "services": SERVICES}
#: What a file is read as: the three register kinds, and zones (read by geodata.zones).
TableKind = Literal["register", "assets", "services", "zones"]
LOCATION_COLUMNS = ("lat", "lon", "easting", "northing", "postcode", "uprn", "address")
REASON_COLUMN = "reason"
BLANK_ROW = "blank row"
#: A column holds codes, not names, when this share of its cells look like codes.
_CODE_SHARE = 0.9
_CODE = re.compile(r"^(?:[A-Z0-9]{2,9}|https?://\S+|[a-z]+:\S+)$")
_HEADER_SCAN_ROWS = 20
_UPRN = re.compile(r"^\d{1,12}$")


# --- reading and the header row -------------------------------------------------------


@dataclass
class Table:
    """One file's data rows under a chosen header (before mapping)."""

    source: str
    cells: pd.DataFrame
    row_numbers: list[int]
    header_row: int | None
    mapping: Mapping
    user_mapping: Mapping
    profile: str | None
    encoding: str | None = None
    sheet: str | None = None
    notes: list[CellIssue] = field(default_factory=list)
    too_wide: dict[int, CellIssue] = field(default_factory=dict)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (as spreadsheets name columns)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _profile_named(name: str) -> Profile | None:
    for profile in PROFILES:
        if profile.name == name:
            return profile
    if name != "generic":
        known = ", ".join(["generic", *(p.name for p in PROFILES)])
        raise SettingsError(f"unknown format {name!r}; known formats: {known}")
    return None


def read_table(
    source: str,
    mapping: Mapping | None = None,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    query: str | None = None,
) -> Table:
    """Read ``source`` and choose its header row.

    The header row is, in order: the mapping's ``header_row`` (0 = none, then
    ``column_names`` name the columns); the header a known format implies; the first of
    the first 20 rows with the most cells that read like register headers; or the first
    row at least half as full as the fullest of those rows.  Rows above the header
    (titles) are noted, not counted as data.
    """
    user = mapping or Mapping()
    grid = read_grid(
        source,
        sheet=sheet if sheet is not None else user.sheet,
        encoding=encoding or user.encoding,
        query=query,
    )
    first = ([grid.header] if grid.header is not None else []) + grid.rows[:5]
    if "format" in user.model_fields_set:
        profile = _profile_named(user.format)
    else:
        profile = detect_profile(first)
        if profile is None and grid.header is None and grid.rows:
            at = user.header_row or _find_header_row(grid.rows)
            profile = detect_profile(grid.rows[at - 1 : at + 4])
    effective = profile.mapping.merged(user) if profile else user
    check_targets(effective, source)
    return _apply_header(grid, effective, user, profile)


def _apply_header(grid: Grid, mapping: Mapping, user: Mapping, profile: Profile | None) -> Table:
    notes = list(grid.notes)
    if grid.header is not None:
        raw_header: list[Any] = list(grid.header)
        data, numbers, header_row = grid.rows, grid.row_numbers, None
    else:
        header_row = mapping.header_row
        if header_row is None:
            header_row = _find_header_row(grid.rows)
        if header_row == 0:
            width = max((len(r) for r in grid.rows), default=0)
            names = list(mapping.column_names or [])
            raw_header = names + [f"column {column_letter(i)}" for i in range(len(names), width)]
            data, numbers = grid.rows, grid.row_numbers
        else:
            if header_row > len(grid.rows):
                raise UnreadableError.about(
                    grid.source, f"header row {header_row} is past the last row ({len(grid.rows)})"
                )
            raw_header = list(grid.rows[header_row - 1])
            data = grid.rows[header_row:]
            numbers = grid.row_numbers[header_row:]
            if header_row > 1:
                notes.append(
                    CellIssue(
                        grid.source,
                        None,
                        "",
                        "",
                        f"header on row {grid.row_numbers[header_row - 1]}; "
                        f"{header_row - 1} row(s) above it (titles) are not data",
                    )
                )
    header = _clean_header(raw_header, grid.source, notes)
    width = len(header)
    too_wide: dict[int, CellIssue] = {}
    rows: list[list[Any]] = []
    for i, record in enumerate(data):
        cells = list(record)
        if len(cells) > width:
            extra = cells[width:]
            if any(not is_blank(c) for c in extra):
                too_wide[i] = CellIssue(
                    grid.source,
                    numbers[i],
                    "",
                    to_text(next(c for c in extra if not is_blank(c)))[:80],
                    f"row has {len(cells)} cells but the header has {width} "
                    "(a stray delimiter or quote?)",
                )
            cells = cells[:width]
        rows.append(cells + [None] * (width - len(cells)))
    frame = (
        pd.DataFrame(rows, columns=header, dtype=object)
        if width
        else pd.DataFrame(index=range(len(rows)))
    )
    return Table(
        grid.source,
        frame,
        list(numbers),
        header_row,
        mapping,
        user,
        profile.name if profile else None,
        grid.encoding,
        grid.sheet,
        notes,
        too_wide,
    )


def _find_header_row(rows: Sequence[Sequence[Any]]) -> int:
    head = rows[:_HEADER_SCAN_ROWS]
    if not head:
        return 1
    scores = [synonym_score(r) for r in head]
    best = max(scores)
    if best >= 2:
        return scores.index(best) + 1
    filled = [sum(not is_blank(c) for c in r) for r in head]
    if max(filled) == 0:
        return 1
    need = max(1, math.ceil(max(filled) / 2))
    return next(i for i, n in enumerate(filled) if n >= need) + 1


def _clean_header(raw: Sequence[Any], source: str, notes: list[CellIssue]) -> list[str]:
    header: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(raw):
        name = " ".join(to_text(cell).split())
        if not name:
            name = f"column {column_letter(i)}"
        base, n = name, 1
        while name in seen:
            n += 1
            name = f"{base} ({n})"
        if n > 1:
            notes.append(
                CellIssue(
                    source,
                    None,
                    base,
                    "",
                    f"duplicated header: column {column_letter(i)} is read as {name!r}, the "
                    f"first (column {column_letter(seen[base])}) is the one a mapping picks",
                )
            )
        seen[name] = i
        header.append(name)
    return header


# --- mapping --------------------------------------------------------------------------


@dataclass
class Resolved:
    """Canonical column -> source columns actually present in the table."""

    sources: dict[str, list[str]]
    generated_id: bool

    def label(self, target: str) -> str:
        if target in self.sources:
            return " + ".join(self.sources[target])
        return target


def resolve_columns(table: Table, kind: Kind) -> tuple[Resolved, list[CellIssue]]:
    """Decide which source columns feed which canonical columns."""
    headers = list(table.cells.columns)
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(normalise_header(h), h)
    notes: list[CellIssue] = []
    sources: dict[str, list[str]] = {}
    explicit = table.mapping.columns
    for target in explicit:
        wanted = table.mapping.sources(target)
        found = []
        for name in wanted:
            actual = name if name in headers else by_norm.get(normalise_header(name))
            if actual is None:
                if name in table.user_mapping.sources(target):
                    raise SettingsError(
                        f"{table.source}: the mapping names column {name!r} for {target}, "
                        f"but the file's columns are: {', '.join(headers)}"
                    )
                notes.append(
                    CellIssue(table.source, None, name, "", f"column for {target} not found")
                )
                continue
            found.append(actual)
        if found:
            sources[target] = found
    guessed = guess_columns(headers, kind)
    taken = {s for v in sources.values() for s in v}
    for target, value in guessed.items():
        if target in explicit or target in table.mapping.constants:
            continue
        names = value if isinstance(value, list) else [value]
        names = [n for n in names if n not in taken]
        if names:
            sources[target] = names
            taken.update(names)
    if len(sources.get("agency", [])) > 1 and "agency" not in explicit:
        chosen = _agency_column(table.cells, sources["agency"])
        others = [n for n in sources["agency"] if n != chosen]
        notes.append(
            CellIssue(
                table.source,
                None,
                chosen,
                "",
                f"agency read from {chosen!r}"
                + (f" (names); {', '.join(map(repr, others))} hold codes" if others else ""),
            )
        )
        sources["agency"] = [chosen]
    key = SPECS[kind].key
    generated = key not in sources and key not in table.mapping.constants
    return Resolved(sources, generated), notes


def _looks_like_codes(values: list[Any]) -> bool:
    texts = [to_text(v).strip() for v in values if not _blank(v)]
    if not texts:
        return True
    codes = sum(1 for t in texts if _CODE.match(t) and (any(c.isdigit() for c in t) or ":" in t))
    return codes >= _CODE_SHARE * len(texts)


def _agency_column(cells: pd.DataFrame, names: list[str]) -> str:
    """Of several agency columns, the first that holds names (a name beats a code such
    as "23UB" or a URI); the first of all when every one holds codes."""
    for name in names:
        if not _looks_like_codes(cells[name].tolist()):
            return name
    return names[0]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "row"


def _id_stem(source: str) -> str:
    if "://" in source:
        return _slug(source.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
    return _slug(Path(source).stem)


def _combine(
    target: str,
    names: list[str],
    cells: pd.DataFrame,
    spec: TableSpec,
    source: str,
    row_numbers: list[int],
    issues: dict[int, list[CellIssue]],
) -> list[Any]:
    kind = spec.column(target).kind if target in spec.names else "text"
    parts = [cells[n].tolist() for n in names]
    if len(names) == 1:
        return parts[0]
    out: list[Any] = []
    for i in range(len(cells)):
        values = [(n, p[i]) for n, p in zip(names, parts, strict=True)]
        present = [(n, v) for n, v in values if not is_blank(v)]
        if kind == "text":
            out.append(", ".join(" ".join(to_text(v).split()) for _, v in present) or None)
        elif kind == "float":
            total, bad = 0.0, False
            counted = [(n, v) for n, v in present if not is_not_applicable(v)]
            for n, v in counted:
                try:
                    total += parse_number(v)
                except ValueError as exc:
                    bad = True
                    issues.setdefault(i, []).append(
                        CellIssue(source, row_numbers[i], n, to_text(v), str(exc))
                    )
            out.append(None if bad or not counted else total)
        else:
            out.append(present[0][1] if present else None)
    return out


def _canonical(
    table: Table,
    positions: list[int],
    resolved: Resolved,
    spec: TableSpec,
    agency: str | None,
) -> tuple[pd.DataFrame, dict[int, list[CellIssue]], list[CellIssue]]:
    cells = table.cells.iloc[positions].reset_index(drop=True)
    numbers = [table.row_numbers[p] for p in positions]
    issues: dict[int, list[CellIssue]] = {}
    warnings: list[CellIssue] = []
    out: dict[str, list[Any]] = {}
    for target, names in resolved.sources.items():
        if target == COORDINATES:
            continue
        out[target] = _combine(target, names, cells, spec, table.source, numbers, issues)
        if target in {"gia_m2", "site_area_m2"} and len(names) == 1:
            out[target] = _with_header_unit(out[target], names[0])
    if spec is not SERVICES:
        if COORDINATES in resolved.sources:
            _split_coordinates(resolved, cells, out, table.source, numbers, issues)
        labels = {t: resolved.label(t) for t in resolved.sources}
        resolve_points(out, labels, table.source, numbers, issues, warnings)
    constants = dict(table.mapping.constants)
    if agency is not None:
        constants["agency"] = agency
    for target, value in constants.items():
        out[target] = [value] * len(cells)
    key = spec.key
    if resolved.generated_id:
        stem = table.mapping.id_prefix or f"{_id_stem(table.source)}-"
        out[key] = [f"{stem}{n}" for n in numbers]
    elif table.mapping.id_prefix and key in out:
        out[key] = [
            None if is_blank(v) else f"{table.mapping.id_prefix}{to_text(v).strip()}"
            for v in out[key]
        ]
    for pseudo in (GEO_X, GEO_Y, "crs"):
        out.pop(pseudo, None)
    frame = pd.DataFrame(out, index=range(len(cells)), dtype=object)
    used = {s for v in resolved.sources.values() for s in v}
    reserved = set(spec.names) | {FILE_COLUMN, ROW_COLUMN, "reasons", "geocode_method"}
    for name in cells.columns:
        if name not in used:
            extra = name if name not in reserved else f"{name} (source)"
            frame[extra] = [_text_or_none(v) for v in cells[name].tolist()]
    return frame, issues, warnings


def _with_header_unit(values: list[Any], header: str) -> list[Any]:
    """Bare numbers under a header that names an area unit ("Site Area (ha)") carry it."""
    unit = area_unit_of_header(header)
    if not unit or unit in {"m2", "m 2", "sqm", "sq m"}:
        return values
    out = []
    for v in values:
        try:
            number = parse_number(v) if not _blank(v) and not is_not_applicable(v) else None
        except ValueError:
            number = None
        out.append(f"{number!r} {unit}" if number is not None else v)
    return out


def _text_or_none(value: Any) -> str | None:
    if isinstance(value, str):
        return value if value.strip() else None
    return None if is_blank(value) else to_text(value)


def _blank(value: Any) -> bool:
    """:func:`is_blank`, quicker for the plain strings CSV files are made of."""
    if isinstance(value, str):
        return not value.strip()
    return is_blank(value)


def _split_coordinates(
    resolved: Resolved,
    cells: pd.DataFrame,
    out: dict[str, list[Any]],
    source: str,
    numbers: list[int],
    issues: dict[int, list[CellIssue]],
) -> None:
    (name,) = resolved.sources[COORDINATES][:1]
    for target in ("easting", "northing", "lat", "lon"):
        out.setdefault(target, [None] * len(cells))
    for i, cell in enumerate(cells[name].tolist()):
        if is_blank(cell) or is_not_applicable(cell):
            continue
        try:
            kind, a, b = parse_coordinate_cell(to_text(cell))
        except ValueError as exc:
            issues.setdefault(i, []).append(
                CellIssue(source, numbers[i], name, to_text(cell), str(exc))
            )
            continue
        pair = ("easting", "northing") if kind == "bng" else ("lat", "lon")
        if is_blank(out[pair[0]][i]) and is_blank(out[pair[1]][i]):
            out[pair[0]][i], out[pair[1]][i] = a, b


def build_skeleton(
    source: str,
    *,
    kind: Kind | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    query: str | None = None,
) -> str:
    """A YAML mapping for ``source`` with every guess filled in (``estate mapping``)."""
    table = read_table(source, sheet=sheet, encoding=encoding, query=query)
    if kind is None:
        kind = table.mapping.kind
    if kind is None:
        found, _ = resolve_columns(table, "register")
        full = {"capacity_desks", "running_cost"} <= set(found.sources)
        kind = "register" if full else "assets"
    resolved, _ = resolve_columns(table, kind)
    columns: dict[str, str | list[str] | None] = {
        target: names if len(names) > 1 else names[0] for target, names in resolved.sources.items()
    }
    guessed = table.mapping.model_copy(
        update={"columns": columns, "sheet": table.sheet if table.sheet else None}
    )
    return skeleton_yaml(source, list(table.cells.columns), guessed, kind, table.header_row)


# --- one file's report ----------------------------------------------------------------


@dataclass
class FileReport:
    """What became of every data row of one file."""

    source: str
    kind: TableKind
    rows_read: int
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    errors: list[CellIssue]
    warnings: list[CellIssue]
    notes: list[CellIssue]
    blank_rows: list[int]
    columns: dict[str, list[str]]
    set_aside: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    generated_id: bool = False
    profile: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    table: Table | None = field(default=None, repr=False)

    @property
    def rows_accepted(self) -> int:
        return len(self.accepted)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected)

    @property
    def rows_set_aside(self) -> int:
        """Rows that are not buildings (blank rows, land, open space, car parks, rows a
        mapping excludes): counted and listed, never an error."""
        return len(self.set_aside)

    def set_aside_records(self) -> list[dict[str, Any]]:
        if self.set_aside.empty:
            return []
        cols = [FILE_COLUMN, ROW_COLUMN, REASON_COLUMN]
        return [
            {"file": f, "row": int(r), "reason": why}
            for f, r, why in self.set_aside[cols].itertuples(index=False, name=None)
        ]

    def site_list_hint(self) -> str | None:
        """When a file validated as a full register lacks only its costs and capacity but
        has ids and locations, what to do instead (one line)."""
        if self.kind != "register" or self.rows_accepted:
            return None
        missing = {
            i.column
            for i in self.errors
            if i.row is None and i.message.startswith("required column")
        }
        located = any(c in self.columns for c in (*LOCATION_COLUMNS, COORDINATES, GEO_X))
        if not missing or not missing <= {"capacity_desks", "running_cost"} or not located:
            return None
        name = Path(self.source).name
        return (
            f"{name} reads as a list of sites (ids and locations, no "
            f"{' or '.join(sorted(missing))}): check it with `estate validate {name} "
            f"--kind assets`, then `estate estimate {name} -o DIR` writes a runnable register"
        )

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary; errors are the issues of rejected rows."""
        return {
            "file": self.source,
            "kind": self.kind,
            "format": self.profile or "generic",
            "encoding": self.encoding,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "rows_set_aside": self.rows_set_aside,
            "rows_blank": len(self.blank_rows),
            "set_aside": self.set_aside_records(),
            "hint": self.site_list_hint(),
            "building_id_generated": self.generated_id,
            "columns": {k: v for k, v in self.columns.items()},
            "errors": [i.as_dict() for i in self.errors],
            "warnings": [i.as_dict() for i in self.warnings],
            "notes": [i.as_dict() for i in self.notes],
        }

    def move_to_rejected(self, positions: list[int], issues: list[CellIssue]) -> None:
        """Reject accepted rows found bad after the fact (e.g. an id another file holds)."""
        if not positions or self.table is None:
            return
        table = self.table
        by_number = {n: i for i, n in enumerate(table.row_numbers)}
        reasons = {
            by_number[int(issue.row)]: f"{issue.column}: {issue.message}"
            for issue in issues
            if issue.row is not None
        }
        moved = _rejected_frame(table, reasons)
        # An empty frame's row column has no integer type: left in, rows become 2.0
        frames = [f for f in (self.rejected, moved) if len(f)]
        rejected = pd.concat(frames, ignore_index=True)
        self.rejected = rejected.sort_values(ROW_COLUMN, kind="stable").reset_index(drop=True)
        keep = np.ones(len(self.accepted), dtype=bool)
        keep[positions] = False
        self.accepted = self.accepted.loc[keep].reset_index(drop=True)
        self.errors.extend(issues)
        self.errors.sort(key=lambda i: (i.row is not None, i.row or 0))


def validate_table(
    table: Table,
    kind: Kind | None = None,
    agency: str | None = None,
    agencies: Agencies | None = None,
    require_points: bool = True,
) -> FileReport:
    """Map, coerce and check one table; every data row is accepted, rejected or set
    aside (blank rows, rows a mapping excludes, land and other rows that are not
    buildings).

    A full register (``kind="register"``) is what ``estate run`` reads, and a run needs
    a point in Great Britain for every building: with ``require_points`` (the default)
    a row without one is rejected, as the run would reject it.  ``estate geocode``
    reads registers without it, to give those rows their points.
    """
    kind = kind or table.mapping.kind or "register"
    spec = SPECS[kind]
    source = table.source
    resolved, notes = resolve_columns(table, kind)
    if agency is not None:  # the given agency wins; an agency column stays as an extra
        resolved.sources.pop("agency", None)
    notes = table.notes + notes + _asset_codes_not_unique(table, resolved, spec)
    n = len(table.cells)
    early: dict[int, list[CellIssue]] = {}
    aside: dict[int, str] = {}
    blank_rows: list[int] = []
    for i, row in enumerate(table.cells.itertuples(index=False, name=None)):
        if all(_blank(v) for v in row):
            blank_rows.append(table.row_numbers[i])
            aside[i] = BLANK_ROW
        elif i in table.too_wide:
            early[i] = [table.too_wide[i]]
    aside.update(_excluded(table, early.keys() | aside.keys()))
    uses: dict[int, tuple[str, str]] = {}
    if spec is not SERVICES and "building_type" in resolved.sources:
        uses, not_buildings = _read_uses(
            table, resolved.sources["building_type"], early.keys() | aside.keys()
        )
        aside.update(not_buildings)
    positions = [i for i in range(n) if i not in early and i not in aside]
    canon, pre, point_warnings = _canonical(table, positions, resolved, spec, agency)
    if uses:
        canon["building_type"] = [uses[p][0] for p in positions]
        if any(uses[p][0] != uses[p][1] for p in positions):
            canon["use_as_written"] = [uses[p][1] for p in positions]
    if "agency" in canon:
        notes += _apply_agencies(canon, agencies or builtin(), source)
    numbers = [table.row_numbers[p] for p in positions]
    coerced = coerce_table(canon, spec, source, numbers, row_issues=pre, missing="reject")
    errors = [_relabel(i, resolved) for i in coerced.issues]
    for found in early.values():
        errors.extend(found)
    errors.sort(key=lambda i: (i.row is not None, i.row or 0))
    accepted = coerced.accepted
    warnings = point_warnings + [_relabel(i, resolved) for i in coerced.warnings]
    if spec is not SERVICES and len(accepted):
        warnings += _soft_checks(accepted, resolved, source)
    warnings.sort(key=lambda i: (i.row is not None, i.row or 0))
    if resolved.generated_id:
        notes.append(
            CellIssue(
                source,
                None,
                spec.key,
                "",
                f"no {spec.key} column: ids made from the file name and row number",
            )
        )
    rejected = _rejected_rows(table, early, coerced.rejected, positions)
    set_aside = _rejected_frame(table, aside).rename(columns={"reasons": REASON_COLUMN})
    report = FileReport(
        source=source,
        kind=kind,
        rows_read=n,
        accepted=accepted,
        rejected=rejected,
        errors=errors,
        warnings=warnings,
        notes=notes,
        blank_rows=blank_rows,
        columns=dict(resolved.sources),
        set_aside=set_aside,
        generated_id=resolved.generated_id,
        profile=table.profile,
        encoding=table.encoding,
        sheet=table.sheet,
        header_row=table.header_row,
        table=table,
    )
    if kind == "register" and require_points:
        _reject_unplaced(report)
    return report


def _reject_unplaced(report: FileReport) -> None:
    """Reject the rows of a full register that have no point, or one outside Great
    Britain: ``estate run`` cannot place them (the same check as
    :meth:`estate.register.Register.from_frames`)."""
    accepted = report.accepted
    if accepted.empty:
        return
    located = accepted[["lat", "lon", "easting", "northing", ROW_COLUMN]].copy()
    problems = fill_coordinates(located, report.source)
    if not problems:
        return
    position = {int(row): i for i, row in enumerate(accepted[ROW_COLUMN])}
    issues = [
        replace(
            issue,
            message=issue.message
            + (
                ": a run needs a point for every building (estate geocode places rows by "
                "UPRN, postcode or address)"
                if issue.message.startswith("no location")
                else ": a run cannot place it (National Grid points only)"
            ),
        )
        for issue in problems
    ]
    rows = {issue.row for issue in issues}
    report.warnings = [
        w
        for w in report.warnings
        if not (
            w.row in rows
            and (w.message.startswith("no location") or w.message == "outside Great Britain")
        )
    ]
    report.move_to_rejected([position[int(i.row)] for i in issues if i.row is not None], issues)


#: Transparency Code id columns: an asset's code, used as the id only where unique.
_ASSET_CODE_HEADERS = {"asset code", "asset id"}


def _asset_codes_not_unique(table: Table, resolved: Resolved, spec: TableSpec) -> list[CellIssue]:
    """A guessed ``AssetCode``/``AssetID`` that repeats or is blank in some rows is not
    an id: ids are made from the file and row instead, and the code stays a column."""
    names = resolved.sources.get(spec.key, [])
    if (
        spec is SERVICES
        or len(names) != 1
        or normalise_header(names[0]) not in _ASSET_CODE_HEADERS
        or spec.key in table.mapping.columns
    ):
        return []
    rows = [r for r in table.cells.itertuples(index=False, name=None) if not all(map(_blank, r))]
    at = list(table.cells.columns).index(names[0])
    codes = [to_text(r[at]).strip() for r in rows]
    repeated = len(codes) - len(set(codes))
    blank = codes.count("")
    if not repeated and not blank:
        return []
    resolved.sources.pop(spec.key)
    resolved.generated_id = True
    return [
        CellIssue(
            table.source,
            None,
            names[0],
            "",
            f"not unique ({repeated} repeated, {blank} blank): ids made from the file name "
            f"and row number; {names[0]} kept as a column",
        )
    ]


def _excluded(table: Table, done: set[int]) -> dict[int, str]:
    """Rows a mapping's ``exclude:`` rules set aside, with the rule's reason."""
    out: dict[int, str] = {}
    headers = list(table.cells.columns)
    by_norm = {normalise_header(h): h for h in reversed(headers)}
    for rule in table.mapping.exclude:
        column = (
            rule.column if rule.column in headers else by_norm.get(normalise_header(rule.column))
        )
        if column is None:
            continue
        for i, cell in enumerate(table.cells[column].tolist()):
            if i in done or i in out or not rule.matches(cell):
                continue
            out[i] = f"{rule.reason} ({column}: {to_text(cell)!r})"
    return out


def _read_uses(
    table: Table, columns: list[str], done: set[int]
) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """Each row's use text read as a building type (row -> (type, text as written)),
    and the rows whose use says they are not buildings (row -> reason)."""
    parts = [table.cells[c].tolist() for c in columns]
    types: dict[int, tuple[str, str]] = {}
    aside: dict[int, str] = {}
    for i in range(len(table.cells)):
        if i in done:
            continue
        text = ", ".join(" ".join(to_text(p[i]).split()) for p in parts if not _blank(p[i]))
        reading = classify_use(text)
        if reading.set_aside:
            aside[i] = reading.set_aside
        else:
            types[i] = (reading.building_type, text)
    return types, aside


def _apply_agencies(canon: pd.DataFrame, agencies: Agencies, source: str) -> list[CellIssue]:
    """Agency names, aliases and codes to their canonical names, with a note each."""
    notes = []
    renamed: dict[str, str] = {}
    values = canon["agency"].tolist()
    for value in {to_text(v).strip() for v in values if not _blank(v)}:
        name = agencies.canonical(value)
        if name is not None and name != value:
            renamed[value] = name
    for old, new in sorted(renamed.items()):
        notes.append(CellIssue(source, None, "agency", old, f"read as {new!r} (agencies table)"))
    canon["agency"] = [renamed.get(to_text(v).strip(), v) if not _blank(v) else v for v in values]
    return notes


def _relabel(issue: CellIssue, resolved: Resolved) -> CellIssue:
    if issue.column in resolved.sources:
        return replace(issue, column=resolved.label(issue.column))
    return issue


def _rejected_rows(
    table: Table,
    early: dict[int, list[CellIssue]],
    coerced_rejected: pd.DataFrame,
    positions: list[int],
) -> pd.DataFrame:
    reasons: dict[int, str] = {
        i: "; ".join(f"{x.column}: {x.message}" if x.column else x.message for x in found)
        for i, found in early.items()
    }
    by_number = {table.row_numbers[p]: p for p in positions}
    for number, why in zip(coerced_rejected[ROW_COLUMN], coerced_rejected["reasons"], strict=True):
        reasons[by_number[int(number)]] = why
    return _rejected_frame(table, reasons)


def _rejected_frame(table: Table, reasons: dict[int, str]) -> pd.DataFrame:
    """Rejected rows as the file holds them: file, row, reasons, then the row's cells."""
    order = sorted(reasons)
    cells = table.cells.iloc[order].reset_index(drop=True)
    head = pd.DataFrame(
        {
            FILE_COLUMN: [table.source] * len(order),
            ROW_COLUMN: [table.row_numbers[i] for i in order],
            "reasons": [reasons[i] for i in order],
        }
    )
    body = cells.map(lambda v: "" if is_blank(v) else to_text(v)).astype(object)
    body.columns = [c if c not in head.columns else f"{c} (source)" for c in body.columns]
    return pd.concat([head, body], axis=1)


def _soft_checks(accepted: pd.DataFrame, resolved: Resolved, source: str) -> list[CellIssue]:
    """Problems that do not reject a row: odd postcodes and UPRNs, no location,
    coordinates outside Great Britain."""
    warnings: list[CellIssue] = []
    rows = accepted[ROW_COLUMN].tolist()
    postcodes = []
    for row, value in zip(rows, accepted["postcode"].tolist(), strict=True):
        if value == "":
            postcodes.append("")
            continue
        norm = normalise_postcode(value)
        if norm is None:
            warnings.append(
                CellIssue(source, row, resolved.label("postcode"), value, postcode_problem(value))
            )
        postcodes.append(norm or value)
    accepted["postcode"] = postcodes
    for row, value in zip(rows, accepted["uprn"].tolist(), strict=True):
        if value and not _UPRN.match(value):
            warnings.append(
                CellIssue(source, row, resolved.label("uprn"), value, "not a UPRN (1 to 12 digits)")
            )
    located_copy = accepted[["lat", "lon", "easting", "northing", ROW_COLUMN]].copy()
    for issue in fill_coordinates(located_copy, source):
        if issue.message == "outside Great Britain":
            warnings.append(issue)
    mapped = [c for c in LOCATION_COLUMNS if c in resolved.sources] or (
        ["easting"] if COORDINATES in resolved.sources else []
    )
    if not mapped:
        warnings.append(
            CellIssue(
                source,
                None,
                "",
                "",
                "no location columns (coordinates, postcode, UPRN or address): "
                "these rows cannot be geocoded",
            )
        )
        return warnings
    located = accepted["easting"].notna() & accepted["northing"].notna()
    for col in ("postcode", "uprn", "address"):
        located |= accepted[col].astype(str).str.strip() != ""
    for row in accepted.loc[~located, ROW_COLUMN]:
        warnings.append(
            CellIssue(
                source, int(row), "", "", "no location: no coordinates, postcode, UPRN or address"
            )
        )
    return warnings


# --- several files --------------------------------------------------------------------


@dataclass
class LoadResult:
    """Every file's report, the merged accepted rows, and co-located sites."""

    files: list[FileReport]
    unreadable: list[CellIssue]
    colocations: pd.DataFrame

    @property
    def accepted(self) -> pd.DataFrame:
        frames = [f.accepted for f in self.files if len(f.accepted)]
        if not frames:
            return self.files[0].accepted if self.files else pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def rejected(self) -> pd.DataFrame:
        """Every rejected row of every file: file, row, reasons, then its cells."""
        frames = [f.rejected for f in self.files if len(f.rejected)]
        if not frames:
            return pd.DataFrame(columns=[FILE_COLUMN, ROW_COLUMN, "reasons"])
        return pd.concat(frames, ignore_index=True).fillna("")

    def set_aside(self) -> pd.DataFrame:
        """Every row set aside (not a building, blank, excluded): file, row, reason,
        then its cells."""
        frames = [f.set_aside for f in self.files if len(f.set_aside)]
        if not frames:
            return pd.DataFrame(columns=[FILE_COLUMN, ROW_COLUMN, REASON_COLUMN])
        return pd.concat(frames, ignore_index=True).fillna("")

    def agency_near_duplicates(self) -> list[dict[str, str]]:
        """Agency names left as two that may be one body (for a person to decide)."""
        names: list[str] = []
        for f in self.files:
            if len(f.accepted) and "agency" in f.accepted:
                names += [str(a) for a in f.accepted["agency"]]
        return [{"a": a, "b": b, "why": why} for a, b, why in near_duplicates(names)]

    @property
    def exit_code(self) -> int:
        """0 all rows accepted, 1 some rejected, 2 a file could not be read."""
        if self.unreadable:
            return 2
        return 1 if any(f.rows_rejected for f in self.files) else 0

    def summary(self) -> dict[str, Any]:
        files = [f.summary() for f in self.files]
        return {
            "files": files,
            "unreadable": [i.as_dict() for i in self.unreadable],
            "rows_read": sum(f.rows_read for f in self.files),
            "rows_accepted": sum(f.rows_accepted for f in self.files),
            "rows_rejected": sum(f.rows_rejected for f in self.files),
            "rows_set_aside": sum(f.rows_set_aside for f in self.files),
            "rows_blank": sum(len(f.blank_rows) for f in self.files),
            "set_aside": [r for f in self.files for r in f.set_aside_records()],
            "agency_near_duplicates": self.agency_near_duplicates(),
            "colocations": colocation_groups(self.colocations),
        }


def load_files(
    sources: Sequence[str],
    *,
    kind: Kind | None = None,
    mapping: Mapping | Sequence[Mapping | None] | None = None,
    agency: str | Sequence[str | None] | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    query: str | None = None,
    colocation_metres: float = 25.0,
    agency_table: Agencies | None = None,
    require_points: bool = True,
) -> LoadResult:
    """Load and validate several files into one register.

    ``mapping`` and ``agency`` are one for every file, or a sequence with one entry a
    file (``None`` for none).  A file that cannot be read is listed in ``unreadable``
    and the others are still loaded.  Ids must be unique across files: a later file's
    row that repeats an earlier file's ``building_id`` is rejected.
    """
    mappings = _per_file(mapping, len(sources), "mapping")
    agencies = _per_file(agency, len(sources), "agency")
    reports: list[FileReport] = []
    unreadable: list[CellIssue] = []
    for source, file_mapping, file_agency in zip(sources, mappings, agencies, strict=True):
        try:
            table = read_table(source, file_mapping, sheet=sheet, encoding=encoding, query=query)
        except UnreadableError as exc:
            unreadable.extend(exc.issues)
            continue
        reports.append(validate_table(table, kind, file_agency, agency_table, require_points))
    _reject_ids_held_elsewhere(reports)
    colocations = find_colocations(
        pd.concat([r.accepted for r in reports if r.kind != "services"], ignore_index=True)
        if any(r.kind != "services" and len(r.accepted) for r in reports)
        else pd.DataFrame(),
        colocation_metres,
    )
    return LoadResult(reports, unreadable, colocations)


def _per_file(value: Any, count: int, what: str) -> list[Any]:
    if value is None or isinstance(value, str | Mapping):
        return [value] * count
    values = list(value)
    if len(values) == 1:
        return values * count
    if len(values) != count:
        raise SettingsError(
            f"give one {what} for every file or one for all: {len(values)} for {count} files"
        )
    return values


def _reject_ids_held_elsewhere(reports: list[FileReport]) -> None:
    seen: dict[tuple[str, str], tuple[int, str, int]] = {}
    for number, report in enumerate(reports):
        key_name = SPECS[report.kind].key
        table_kind = "services" if report.kind == "services" else "buildings"
        positions, issues = [], []
        for pos, (key, row) in enumerate(
            zip(report.accepted[key_name], report.accepted[ROW_COLUMN], strict=True)
        ):
            held = seen.get((table_kind, key))
            if held is None:
                seen[(table_kind, key)] = (number, report.source, int(row))
            elif held[0] != number:  # within a file, coerce_table has rejected repeats
                positions.append(pos)
                issues.append(
                    CellIssue(
                        report.source,
                        int(row),
                        key_name,
                        key,
                        f"duplicate {key_name}: {held[1]} row {held[2]} has it "
                        "(set id_prefix in a mapping to keep both)",
                    )
                )
        report.move_to_rejected(positions, issues)


__all__ = [
    "COLOCATION_COLUMNS",
    "EstateError",
    "FileReport",
    "LoadResult",
    "Table",
    "find_colocations",
    "load_files",
    "read_table",
    "validate_table",
]
