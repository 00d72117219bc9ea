"""Read a register file into a grid of cells, whatever its format.

Every reader returns a :class:`Grid`: the records of one table as lists of cells
(strings for text formats, typed values for spreadsheets and databases) with the row
number a person would see, plus notes about how the file was read.  Choosing the header
row and mapping columns happen later (:mod:`estate.load`); a reader never drops a
record.

Supported: CSV/TSV/TXT (UTF-8, UTF-8 with BOM, UTF-16 with BOM, or Windows-1252,
detected), XLSX/XLSM (openpyxl), XLS and ODS (python-calamine), GeoPackage, GeoJSON and
Shapefile (pyogrio; the geometry becomes ``easting``/``northing`` columns), and a
PostGIS table or query through a SQLAlchemy URL (the ``postgis`` extra).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from estate.errors import CellIssue, UnreadableError
from estate.grid import Grid, frame_cells
from estate.textsafe import from_spreadsheet_text

csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))

CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
SPATIAL_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb"}
SPREADSHEET_SUFFIXES = EXCEL_SUFFIXES | {".xls", ".ods"}
DB_SCHEMES = ("postgresql", "postgres", "postgis")

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_DELIMITERS = (",", ";", "\t", "|")


def is_database_url(source: str) -> bool:
    """True for a SQLAlchemy PostgreSQL URL such as ``postgresql://host/db#table``."""
    head = source.split(":", 1)[0].lower()
    return "://" in source and head.split("+", 1)[0] in DB_SCHEMES


def read_grid(
    source: str,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    query: str | None = None,
) -> Grid:
    """Read ``source`` (a path or a PostGIS URL) into a :class:`Grid`.

    Raises
    ------
    UnreadableError
        When the file does not exist, is not in a supported format, or cannot be
        decoded or parsed at all.
    """
    if is_database_url(source):
        from estate.postgis import read_postgis

        return read_postgis(source, query=query)
    path = Path(source)
    if not path.is_file():
        raise UnreadableError.about(source, "no such file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv_grid(path, encoding=encoding)
    if suffix in EXCEL_SUFFIXES:
        return read_xlsx_grid(path, sheet=sheet)
    if suffix in {".xls", ".ods"}:
        return read_calamine_grid(path, sheet=sheet)
    if suffix in SPATIAL_SUFFIXES:
        return read_spatial_grid(path, layer=sheet)
    raise UnreadableError.about(
        source,
        f"unsupported file type {suffix or '(none)'}; expected CSV, XLSX, XLS, ODS, "
        "GeoPackage, GeoJSON or Shapefile",
    )


# --- text -----------------------------------------------------------------------------


def decode_text(data: bytes, source: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes as the given encoding, or detect UTF-8 (with or without BOM),
    UTF-16 (with BOM) or Windows-1252.  Returns ``(text, encoding)``."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise UnreadableError.about(source, f"cannot decode as {encoding}: {exc}") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise UnreadableError.about(
                    source, f"starts with a {name} byte-order mark but is not {name}: {exc}"
                ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise UnreadableError.about(
            source,
            f"neither UTF-8 nor Windows-1252 (byte {data[exc.start]:#04x} at offset "
            f"{exc.start}); give the encoding explicitly",
        ) from None


def _guess_delimiter(text: str, suffix: str) -> str:
    if suffix in {".tsv", ".tab"}:
        return "\t"
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_csv_grid(path: Path, encoding: str | None = None) -> Grid:
    """Read a delimited text file; quoted cells may hold delimiters and newlines."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableError.about(source, f"cannot read: {exc.strerror or exc}") from None
    text, used = decode_text(data, source, encoding)
    delimiter = _guess_delimiter(text, path.suffix.lower())
    rows: list[list[Any]] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        # Undo the apostrophe our own CSV files put before formula-like text.
        rows.extend([from_spreadsheet_text(cell) for cell in record] for record in reader)
    except csv.Error as exc:
        raise UnreadableError.about(
            source, f"not a readable CSV near record {len(rows) + 1}: {exc}"
        ) from None
    notes = []
    if used == "cp1252":
        notes.append(CellIssue(source, None, "", "", "not UTF-8: read as Windows-1252"))
    return Grid(source, rows, list(range(1, len(rows) + 1)), encoding=used, notes=notes)


# --- spreadsheets ---------------------------------------------------------------------


def _trim_trailing_blank(rows: list[list[Any]]) -> list[list[Any]]:
    """Drop the empty rows a spreadsheet reports past its last value (formatting only)."""
    end = len(rows)
    while end and all(_blank_cell(v) for v in rows[end - 1]):
        end -= 1
    return rows[:end]


def _blank_cell(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _choose_sheet(names: Sequence[str], sheet: str | int | None, source: str) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit()):
        index = int(sheet)
        if not 1 <= index <= len(names):
            raise UnreadableError.about(
                source, f"no sheet number {index}; the sheets are {', '.join(names)}"
            )
        return names[index - 1]
    if sheet not in names:
        raise UnreadableError.about(
            source, f"no sheet {sheet!r}; the sheets are {', '.join(names)}"
        )
    return sheet


def read_xlsx_grid(path: Path, sheet: str | int | None = None) -> Grid:
    """Read one sheet of an XLSX workbook (default: the first sheet holding values).

    Row numbers are the sheet's own; formulas give their cached values.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    source = str(path)
    notes: list[CellIssue] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                names = list(book.sheetnames)
                chosen = _choose_sheet(names, sheet, source)
                rows = _sheet_rows(book[chosen])
                if sheet is None and not rows:
                    for name in names:
                        rows = _sheet_rows(book[name])
                        if rows:
                            chosen = name
                            break
            finally:
                book.close()
    except UnreadableError:
        raise
    except (InvalidFileException, OSError, KeyError, ValueError, TypeError) as exc:
        raise UnreadableError.about(source, f"not a readable XLSX workbook: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile and parser errors vary by version
        raise UnreadableError.about(source, f"not a readable XLSX workbook: {exc!r}") from None
    for w in caught:
        notes.append(CellIssue(source, None, "", "", f"openpyxl: {w.message}"))
    if len(names) > 1:
        notes.append(CellIssue(source, None, "", "", f"read sheet {chosen!r} of {names}"))
    return Grid(source, rows, list(range(1, len(rows) + 1)), sheet=chosen, notes=notes)


def _sheet_rows(ws: Any) -> list[list[Any]]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max((len(r) for r in rows), default=0)
    return _trim_trailing_blank([r + [None] * (width - len(r)) for r in rows])


def read_calamine_grid(path: Path, sheet: str | int | None = None) -> Grid:
    """Read one sheet of an XLS or ODS workbook with python-calamine.

    Leading empty rows and columns are kept so row numbers match the sheet's own.
    """
    import python_calamine

    source = str(path)
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        names = [str(n) for n in book.sheet_names]
        chosen = _choose_sheet(names, sheet, source)
        values = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    except UnreadableError:
        raise
    except Exception as exc:  # calamine raises its own error classes on bad input
        raise UnreadableError.about(source, f"not a readable {path.suffix} file: {exc}") from None
    rows = _trim_trailing_blank([[None if v == "" else v for v in r] for r in values])
    width = max((len(r) for r in rows), default=0)
    rows = [r + [None] * (width - len(r)) for r in rows]
    notes = []
    if len(names) > 1:
        notes.append(CellIssue(source, None, "", "", f"read sheet {chosen!r} of {names}"))
    return Grid(source, rows, list(range(1, len(rows) + 1)), sheet=chosen, notes=notes)


# --- spatial --------------------------------------------------------------------------


def read_spatial_grid(path: Path, layer: str | int | None = None) -> Grid:
    """Read a GeoPackage, GeoJSON or Shapefile layer with pyogrio.

    The geometry's representative point becomes ``easting``/``northing`` (EPSG:27700);
    an attribute table that already has those names gets ``geometry_easting``/
    ``geometry_northing`` instead.
    """
    import pyogrio

    source = str(path)
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        chosen = _choose_sheet(layers, layer, source) if layers else None
        frame = pyogrio.read_dataframe(path, layer=chosen)
    except UnreadableError:
        raise
    except Exception as exc:  # pyogrio wraps GDAL errors in several classes
        raise UnreadableError.about(source, f"not a readable spatial file: {exc}") from None
    notes: list[CellIssue] = []
    cells, header = frame_cells(frame, source, notes)
    return Grid(
        source, cells, list(range(1, len(cells) + 1)), header=header, sheet=chosen, notes=notes
    )


def to_text(value: Any) -> str:
    """A cell as text for messages and the rejected-rows CSV."""
    if value is None:
        return ""
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
