"""``report.xlsx``: the report's tables as a workbook a finance lead can paste from.

Sheets: summary, agencies, buildings, moves, cash flow by year, access, assumptions;
plus sharing (after ``estate share``) and plan (after ``estate plan``).
Values, not formulas (a reader without a calculation engine sees the same numbers).
Text from the data is stored as text cells: a name such as ``=HYPERLINK(...)`` is shown
as written and never becomes a formula (:func:`_cell`), and characters a workbook
cannot hold are replaced by U+FFFD.
The file is byte-identical for the same run folder: the workbook's created/modified
stamps are the run's base date and the zip entries carry a fixed time.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from estate.io import atomic_write
from estate.textsafe import looks_like_formula, strip_control_characters
from scenarios.report import (
    ACCESS_COLUMNS,
    AGENCY_COLUMNS,
    BUILDING_COLUMNS,
    CASH_COLUMNS,
    COALITION_COLUMNS,
    DISPOSAL_COLUMNS,
    MOVE_COLUMNS,
    PLAN_ACTION_COLUMNS,
    PLAN_YEAR_COLUMNS,
    SHARING_COLUMNS,
    ReportTables,
    report_tables,
)
from scenarios.runfolder import RunFolder

SHEETS = (
    "summary",
    "agencies",
    "buildings",
    "moves",
    "cash flow by year",
    "access",
    "assumptions",
)
BOLD = Font(bold=True)
RED = Font(bold=True, color="B00000")
HEADER_FILL = PatternFill("solid", fgColor="F1F3F5")
MONEY = "#,##0;[Red]-#,##0"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return strip_control_characters(value)
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _cell(ws: Worksheet, row: int, column: int, value: Any) -> Any:
    """Put ``value`` in a cell; text is always a text cell, never a formula."""
    value = _plain(value)
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str) and (cell.data_type == "f" or looks_like_formula(value)):
        cell.data_type = "s"  # openpyxl makes any text starting with '=' a formula
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    return cell


def _table(ws: Worksheet, frame: pd.DataFrame, headers: dict[str, str], start_row: int = 1) -> int:
    """Write a header row and the frame below it; return the next free row."""
    names = [headers.get(c, c) for c in frame.columns]
    for j, name in enumerate(names, start=1):
        cell = _cell(ws, start_row, j, name)
        cell.font = BOLD
        cell.fill = HEADER_FILL
    for i, row in enumerate(frame.itertuples(index=False), start=start_row + 1):
        for j, (name, value) in enumerate(zip(names, row, strict=True), start=1):
            cell = _cell(ws, i, j, value)
            if isinstance(cell.value, float) and ("£" in name or "gbp" in name or "saving" in name):
                cell.number_format = MONEY
    for j, name in enumerate(names, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in frame.iloc[:, j - 1].head(200)])
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
    return start_row + len(frame) + 2


def build_workbook(folder: RunFolder, tables: ReportTables | None = None) -> Workbook:
    t = tables if tables is not None else report_tables(folder)
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    summary = wb.create_sheet("summary")
    _cell(summary, 1, 1, folder.scenario).font = Font(bold=True, size=14)
    row = 2
    for text in (folder.notice, folder.redaction.note if folder.redaction else ""):
        if text:
            _cell(summary, row, 1, text).font = RED
            row += 1
    _table(summary, t.headline, {"figure": "Figure", "value": "Value", "unit": "Unit"}, row + 1)

    agencies = wb.create_sheet("agencies")
    _table(agencies, t.agencies, AGENCY_COLUMNS)
    last = len(t.agencies) + 1
    for cell in agencies[last]:
        cell.font = BOLD
    agencies.freeze_panes = "B2"

    buildings = wb.create_sheet("buildings")
    _table(buildings, t.buildings, BUILDING_COLUMNS)
    buildings.freeze_panes = "C2"

    moves = wb.create_sheet("moves")
    _table(moves, t.moves, MOVE_COLUMNS)
    moves.freeze_panes = "B2"

    disposals = wb.create_sheet("disposals")
    _table(disposals, t.disposals, DISPOSAL_COLUMNS)
    disposals.freeze_panes = "C2"

    cash = wb.create_sheet("cash flow by year")
    _cell(
        cash, 1, 1, "All agencies: savings by category (baseline minus scenario), real £"
    ).font = BOLD
    next_row = _table(cash, t.cash_by_year, CASH_COLUMNS, 2)
    _cell(cash, next_row, 1, "Net saving by agency and year, real £").font = BOLD
    _table(cash, t.saving_by_agency_year, {"year": "Year"}, next_row + 1)
    cash.freeze_panes = "B3"

    if t.sharing is not None:
        _sharing_sheet(wb.create_sheet("sharing"), t)
    if t.plan_years is not None:
        _plan_sheet(wb.create_sheet("plan"), t)

    access = wb.create_sheet("access")
    _table(access, t.access, ACCESS_COLUMNS)

    assumptions = wb.create_sheet("assumptions")
    _table(
        assumptions,
        t.assumptions.assign(value=t.assumptions["value"].map(_text_or_number)),
        {"section": "Section", "item": "Item", "value": "Value", "note": "Note"},
    )
    stamp = _base_datetime(folder)
    wb.properties.creator = "public-estate"
    wb.properties.title = strip_control_characters(folder.scenario)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    return wb


def _note(ws: Worksheet, row: int, text: str) -> int:
    _cell(ws, row, 1, text)
    return row + 2


def _sharing_sheet(ws: Worksheet, t: ReportTables) -> None:
    """Who pays, who gains (``estate share``): shares, transfers, coalition values."""
    assert t.sharing is not None
    ws["A1"] = "Who pays, who gains: a fair share of the saving for each agency"
    ws["A1"].font = BOLD
    row = _note(ws, 2, t.sharing_note)
    row = _table(ws, t.sharing, SHARING_COLUMNS, row)
    for cell in ws[row - 2]:
        cell.font = BOLD
    if t.coalitions is not None:
        _cell(ws, row, 1, "What each coalition would save alone").font = BOLD
        _table(ws, t.coalitions, COALITION_COLUMNS, row + 1)


def _plan_sheet(ws: Worksheet, t: ReportTables) -> None:
    """The year-by-year plan (``estate plan``): the pot by year and every action."""
    assert t.plan_years is not None
    ws["A1"] = "Year-by-year plan"
    ws["A1"].font = BOLD
    row = _note(ws, 2, t.plan_note)
    _cell(ws, row, 1, "The Total Capital pot by year").font = BOLD
    row = _table(ws, t.plan_years, PLAN_YEAR_COLUMNS, row + 1)
    if t.plan_actions is not None:
        _cell(ws, row, 1, "What happens each year").font = BOLD
        _table(ws, t.plan_actions, PLAN_ACTION_COLUMNS, row + 1)


def _text_or_number(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _base_datetime(folder: RunFolder) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(folder.finance.get("base_date")))
    except ValueError:
        return dt.datetime(2000, 1, 1)


def write_workbook(folder: RunFolder, path: str | Path, tables: ReportTables | None = None) -> Path:
    """Write ``report.xlsx`` atomically and reproducibly."""
    wb = build_workbook(folder, tables)
    stamp = _base_datetime(folder).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _write(tmp: Path) -> None:
        wb.save(tmp)
        _normalise(tmp, stamp)

    return atomic_write(path, _write)


def _normalise(path: Path, stamp: str) -> None:
    """Fixed zip times and document stamps: openpyxl writes 'now' into both."""
    import re

    with zipfile.ZipFile(path) as zf:
        members = [(info.filename, zf.read(info.filename)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    lambda m: m.group(1) + stamp + m.group(3),
                    text,
                )
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
