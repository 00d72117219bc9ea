"""Coerce raw tables into the canonical schema, accounting for every row.

:func:`coerce_table` never drops a row silently: each input row ends up either in
``accepted`` or in ``rejected`` with its reasons, so ``rows_read == rows_accepted +
rows_rejected`` always holds.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from estate.coords import bng_to_lonlat, in_great_britain, lonlat_to_bng
from estate.errors import CellIssue, InputDataError
from estate.schema import Column, TableSpec

ROW_COLUMN = "source_row"
FILE_COLUMN = "source_file"

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
_SCALE = {"k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9}
_NUMBER = re.compile(
    r"^(?P<sign>[-+])?(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d{1,3})?)(?P<scale>k|m|bn|b)?$"
)
#: No register figure (money, area, desks, coordinates) is this large: a bigger number
#: is a typing or export error, not a value (a 300-digit cell, "1e300").
LARGEST_NUMBER = 1e13
#: Longer than any number a register holds (with currency, separators and decimals).
_LONGEST_NUMBER_TEXT = 40
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}


def is_blank(value: object) -> bool:
    """True for None, NaN, NaT and strings that hold only whitespace."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


#: Cell texts that mean "no value" in number, date and yes/no columns.
NOT_APPLICABLE = {
    "n/a",
    "na",
    "n.a.",
    "not applicable",
    "not available",
    "not known",
    "unknown",
    "none",
    "null",
    "nil",
    "-",
    "--",
    "\u2013",
    "\u2014",
    "tbc",
    "tbd",
}


def is_not_applicable(value: object) -> bool:
    """True for texts such as "N/A", "Not Applicable" or "-" (no value given)."""
    return isinstance(value, str) and value.strip().lower() in NOT_APPLICABLE


def _reason(issue: CellIssue) -> str:
    return f"{issue.column}: {issue.message}" if issue.column else issue.message


def parse_number(value: object) -> float:
    """Parse a register number: ``1234``, ``"£1,234.50"``, ``"1.2m"``, ``"(500)"``.

    Raises ``ValueError`` with a message fit for a user.
    """
    if isinstance(value, bool):
        raise ValueError("expected a number, got a yes/no value")
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    else:
        text = str(value).strip().lower().replace("\u00a3", "").replace(",", "")
        text = text.replace(" ", "").replace("\u00a0", "")
        negative = text.startswith("(") and text.endswith(")")
        if negative:
            text = text[1:-1]
        match = _NUMBER.match(text)
        if not match:
            raise ValueError("expected a number")
        if len(text) > _LONGEST_NUMBER_TEXT:
            raise ValueError(f"not a plausible number ({len(text)} characters)")
        number = float(match["num"]) * _SCALE.get(match["scale"] or "", 1.0)
        if match["sign"] == "-" or negative:
            number = -number
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    if abs(number) > LARGEST_NUMBER:
        raise ValueError(f"not a plausible register value (more than {LARGEST_NUMBER:.0e})")
    return number


def parse_bool(value: object) -> bool:
    """Parse yes/no, true/false, y/n, 1/0 (any case)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected yes/no (true/false, y/n, 1/0)")


def parse_date(value: object) -> dt.date:
    """Parse ISO (2030-03-31) or UK (31/03/2030, 31-03-2030, 31 March 2030) dates.

    Day first, as UK registers write them; an ambiguous US-style date is read as UK.
    """
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    iso = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$", text)
    uk = re.match(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$", text)
    words = re.match(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})$", text)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if uk:
            year = int(uk[3])
            if year < 100:
                year += 2000
            return dt.date(year, int(uk[2]), int(uk[1]))
        if words and words[2].lower() in _MONTHS:
            return dt.date(int(words[3]), _MONTHS[words[2].lower()], int(words[1]))
    except ValueError as exc:
        raise ValueError(f"not a real date ({exc})") from None
    raise ValueError("expected a date such as 2030-03-31 or 31/03/2030")


_UNIT_SUFFIX = {
    "GBP/year": re.compile(r"\s*(p\.?\s*a\.?|per\s+(annum|year)|/\s*(yr|year|annum))\s*$", re.I),
}

#: Area units registers write, and their size in square metres.
AREA_UNITS: tuple[tuple[re.Pattern[str], float, str], ...] = (
    (re.compile(r"^(m2|m\u00b2|sq\.?\s*m\.?|sqm|square\s+met(re|er)s?|m\s*2)$", re.I), 1.0, "m2"),
    (re.compile(r"^(ha|hectares?|hect)$", re.I), 10_000.0, "hectares"),
    (
        re.compile(r"^(sq\.?\s*ft\.?|sqft|ft2|ft\u00b2|square\s+f(ee|oo)t)$", re.I),
        0.09290304,
        "sq ft",
    ),
    (re.compile(r"^(acres?|ac)$", re.I), 4046.8564224, "acres"),
)
_AREA = re.compile(
    r"^\s*(?P<num>[-+\d.,\u00a0 ]+?(?:e[-+]?\d+)?)\s*(?P<unit>[a-z\u00b2][^(]*?)?\s*(\(.*\))?\s*$",
    re.I,
)


def parse_area(value: object) -> float:
    """An area in square metres: ``1249``, ``"1,249 m2"``, ``"0.537 hectares (1.33
    acres)"`` (the first figure and its unit; a bracketed second unit is ignored),
    ``"12,000 sq ft"``, ``"2 acres"``.

    >>> parse_area("0.537 hectares (1.33 acres)")
    5370.0
    """
    if not isinstance(value, str):
        return parse_number(value)
    match = _AREA.match(value)
    if not match:
        return parse_number(value)
    unit = (match["unit"] or "").strip().rstrip(".")
    if unit.lower() in _SCALE:  # "12k": a scaled number, no unit
        return parse_number(value)
    number = parse_number(match["num"])
    if not unit:
        return number
    for pattern, factor, _ in AREA_UNITS:
        if pattern.match(unit):
            return round(number * factor, 6)
    raise ValueError(f"unknown area unit {unit!r} (expected m2, hectares, sq ft or acres)")


def area_unit_of_header(header: str) -> str:
    """The unit a header names for its cells ("Site Area (ha)" -> "ha"), or ""."""
    words = re.sub(r"[^a-z0-9\u00b2]+", " ", header.lower()).split()
    for size in (2, 1):
        if len(words) >= size:
            tail = " ".join(words[-size:])
            for pattern, _, _ in AREA_UNITS:
                if pattern.match(tail):
                    return tail
    return ""


def _strip_unit(value: object, unit: str) -> object:
    """Drop a trailing unit that matches the column's own ("£12k pa")."""
    pattern = _UNIT_SUFFIX.get(unit)
    if pattern is None or not isinstance(value, str):
        return value
    return pattern.sub("", value)


def _coerce_cell(col: Column, value: object) -> object:
    if col.kind == "text":
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        # Line breaks and runs of spaces (NBSP too) inside a cell become one space.
        return " ".join(str(value).split())
    if col.kind == "float":
        if col.unit == "m2":
            number = parse_area(value)
        else:
            number = parse_number(_strip_unit(value, col.unit))
        if col.minimum is not None and number < col.minimum:
            raise ValueError(f"must be at least {col.minimum:g}")
        if col.maximum is not None and number > col.maximum:
            raise ValueError(f"must be at most {col.maximum:g}")
        return number
    if col.kind == "bool":
        return parse_bool(value)
    if col.kind == "date":
        return parse_date(value)
    text = str(value).strip().lower()
    if col.name == "tenure":
        return parse_tenure(text)
    if text not in col.choices:
        raise ValueError(f"must be one of {', '.join(col.choices)}")
    return text


_LET_OUT = re.compile(
    r"\b(out|let|let to|sub ?let|tenanted|investment|lessor|landlord|leasehold_out)\b"
)
_LEASE_IN = re.compile(r"\b(lease|leased|leasehold|leased in|rent|rented|licen[cs]ed?|lessee)\b")
_OWNED = re.compile(r"\b(freehold|owned|own|heritable|feuhold)\b")


def parse_tenure(text: str) -> str:
    """``freehold``, ``leasehold`` or ``leasehold_out`` (a site the body lets to others)
    from the words registers use: "Freehold", "Owned", "Long leasehold", "Leased",
    "Leasehold Out", "Freehold - let", "Tenanted", "Investment".

    >>> parse_tenure("Leasehold Out"), parse_tenure("Long leasehold"), parse_tenure("Owned")
    ('leasehold_out', 'leasehold', 'freehold')
    """
    words = " ".join(re.sub(r"[^a-z_]+", " ", text.lower()).split())
    if _LET_OUT.search(words):
        return "leasehold_out"
    if _LEASE_IN.search(words):
        return "leasehold"
    if _OWNED.search(words):
        return "freehold"
    raise ValueError(
        "expected a tenure: freehold (owned), leasehold (leased in) or leasehold_out "
        "(let to others)"
    )


#: Control characters (C0 and C1, DEL): never meant in a register's text.  Tabs and
#: line breaks are whitespace and become single spaces like any other.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> tuple[str, int]:
    """``text`` without control characters, and how many were removed."""
    cleaned, count = _CONTROL.subn("", text)
    return cleaned, count


@dataclass
class Coerced:
    """The result of :func:`coerce_table`: every input row is in exactly one frame."""

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    issues: list[CellIssue] = field(default_factory=list)
    warnings: list[CellIssue] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.accepted) + len(self.rejected)


def _empty_like(col: Column) -> object:
    if col.default is not None:
        return col.default
    return {"float": np.nan, "date": pd.NaT}.get(col.kind, "")


def coerce_table(
    raw: pd.DataFrame,
    spec: TableSpec,
    source: str,
    row_numbers: list[int] | None = None,
    row_issues: dict[int, list[CellIssue]] | None = None,
    missing: Literal["raise", "reject"] = "raise",
) -> Coerced:
    """Coerce ``raw`` (canonical column names, any cell types) to ``spec``.

    Parameters
    ----------
    raw
        One row per input row; columns already mapped to canonical names.
    spec
        The canonical table.
    source
        The file (or other source) name used in every issue.
    row_numbers
        The line number of each row in its file; defaults to ``index + 2`` (a
        header on line 1).
    row_issues
        Problems found before coercion (by position in ``raw``), for example a cell
        that could not be split; those rows are rejected with these issues too.
    missing
        What to do when a required column is absent: ``"raise"`` an
        :class:`InputDataError`, or ``"reject"`` every row with one table-level issue
        (row ``None``) per missing column.

    Raises
    ------
    InputDataError
        When a required column is missing altogether and ``missing="raise"``.
    """
    if row_numbers is None:
        row_numbers = [i + 2 for i in range(len(raw))]
    absent = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
    table_issues = [
        CellIssue(source, None, name, "", f"required column {name!r} is missing") for name in absent
    ]
    if absent and missing == "raise":
        raise InputDataError(
            table_issues, f"{source}: the {spec.name} table lacks required columns"
        )
    issues: list[CellIssue] = list(table_issues)
    bad_rows: dict[int, list[str]] = {}
    for i, found in (row_issues or {}).items():
        issues.extend(found)
        bad_rows.setdefault(i, []).extend(_reason(issue) for issue in found)
    if absent:
        reason = "; ".join(f"required column {name!r} is missing" for name in absent)
        for i in range(len(raw)):
            bad_rows.setdefault(i, []).append(reason)
    out: dict[str, list[object]] = {}
    warnings: list[CellIssue] = []
    for col in spec.columns:
        values: list[object] = []
        present = col.name in raw.columns
        cells = raw[col.name].tolist() if present else [None] * len(raw)
        for i, value in enumerate(cells):
            if not present:
                values.append(_empty_like(col))
                continue
            if isinstance(value, str) and _CONTROL.search(value):
                value, removed = strip_controls(value)
                warnings.append(
                    CellIssue(
                        source,
                        row_numbers[i],
                        col.name,
                        value,
                        f"{removed} control character(s) removed",
                    )
                )
            if is_blank(value) or (col.kind != "text" and is_not_applicable(value)):
                if col.required:
                    msg = f"{col.name} is required"
                    shown = "" if is_blank(value) else str(value)
                    issues.append(CellIssue(source, row_numbers[i], col.name, shown, msg))
                    bad_rows.setdefault(i, []).append(msg)
                values.append(_empty_like(col))
                continue
            try:
                values.append(_coerce_cell(col, value))
            except ValueError as exc:
                issues.append(CellIssue(source, row_numbers[i], col.name, str(value), str(exc)))
                bad_rows.setdefault(i, []).append(f"{col.name}: {exc}")
                values.append(_empty_like(col))
        out[col.name] = values
    _check_unique_key(spec, out[spec.key], row_numbers, source, issues, bad_rows)

    table = pd.DataFrame(out, index=raw.index)
    for col in spec.columns:
        table[col.name] = _typed(table[col.name], col)
    bookkeeping = {FILE_COLUMN, ROW_COLUMN}  # a file we wrote may carry them: ours win
    extras = [c for c in raw.columns if c not in spec.names and c not in bookkeeping]
    for name in extras:
        table[name] = raw[name]
    table[FILE_COLUMN] = source
    table[ROW_COLUMN] = row_numbers

    rejected_mask = np.zeros(len(table), dtype=bool)
    rejected_mask[list(bad_rows)] = True
    accepted = table.loc[~rejected_mask].reset_index(drop=True)
    rejected = raw.loc[rejected_mask].drop(columns=[*bookkeeping & set(raw.columns)]).copy()
    rejected.insert(0, ROW_COLUMN, [row_numbers[i] for i in sorted(bad_rows)])
    rejected.insert(1, "reasons", ["; ".join(bad_rows[i]) for i in sorted(bad_rows)])
    return Coerced(accepted, rejected.reset_index(drop=True), issues, warnings)


def _check_unique_key(
    spec: TableSpec,
    keys: list[object],
    row_numbers: list[int],
    source: str,
    issues: list[CellIssue],
    bad_rows: dict[int, list[str]],
) -> None:
    first_seen: dict[object, int] = {}
    for i, key in enumerate(keys):
        if key == "":
            continue
        if key in first_seen:
            msg = f"duplicate {spec.key}, first seen at row {row_numbers[first_seen[key]]}"
            issues.append(CellIssue(source, row_numbers[i], spec.key, str(key), msg))
            bad_rows.setdefault(i, []).append(msg)
        else:
            first_seen[key] = i


def _typed(series: pd.Series, col: Column) -> pd.Series:
    if col.kind == "float":
        return series.astype("float64")
    if col.kind == "bool":
        return series.astype(bool)
    if col.kind == "date":
        return pd.to_datetime(series, errors="raise").astype("datetime64[ns]")
    return series.astype(object).map(str).astype(object)


def fill_coordinates(table: pd.DataFrame, source: str) -> list[CellIssue]:
    """Fill lat/lon from easting/northing (and the reverse) in place.

    Returns an issue for each row with no usable location or one outside Great Britain.
    """
    issues: list[CellIssue] = []
    has_ll = table["lat"].notna() & table["lon"].notna()
    has_en = table["easting"].notna() & table["northing"].notna()
    need_en = has_ll & ~has_en
    if need_en.any():
        e, n = lonlat_to_bng(table.loc[need_en, "lon"], table.loc[need_en, "lat"])
        table.loc[need_en, "easting"] = e
        table.loc[need_en, "northing"] = n
    need_ll = has_en & ~has_ll
    if need_ll.any():
        lon, lat = bng_to_lonlat(table.loc[need_ll, "easting"], table.loc[need_ll, "northing"])
        table.loc[need_ll, "lon"] = lon
        table.loc[need_ll, "lat"] = lat
    located = has_ll | has_en
    inside = in_great_britain(table["easting"].fillna(-1), table["northing"].fillna(-1))
    numbers: list[Any] = table[ROW_COLUMN].tolist() if ROW_COLUMN in table else [None] * len(table)
    east, north = table["easting"].to_numpy(), table["northing"].to_numpy()
    for i in np.flatnonzero(~located.to_numpy()):
        row = None if numbers[i] is None else int(numbers[i])
        issues.append(
            CellIssue(source, row, "lat/lon", "", "no location (lat/lon or easting/northing)")
        )
    for i in np.flatnonzero(located.to_numpy() & ~inside):
        row = None if numbers[i] is None else int(numbers[i])
        value = f"{east[i]:.0f},{north[i]:.0f}"
        issues.append(CellIssue(source, row, "easting/northing", value, "outside Great Britain"))
    return issues
