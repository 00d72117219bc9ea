"""``report.xlsx``: the report's tables as a workbook a finance lead can audit and paste from.

Sheets, one table each: summary, agencies, buildings, moves, cash flow by year, saving
by agency, access, assumptions; plus sharing and coalitions (after ``estate share``)
and plan by year and plan actions (after ``estate plan``).  Every table has its
header frozen and an autofilter; money cells carry a pound format (``-£43,478`` in red
when negative), shares a percentage format.

**Auditable.** The totals, present values and the NPV are Excel formulas over the
cash-flow cells: on ``cash flow by year`` each year's net saving is baseline minus
scenario, its present value is the net saving times the year's discount factor, and
the row "Present value" is ``SUMPRODUCT`` of each column with the discount factors
(baseline and scenario present cost, NPV saving); ``saving by agency`` does the same
per agency, ``agencies`` takes each agency's NPV from there and sums every column, and
``summary`` points at those cells.  Each formula's value is cached in the file, so a
reader without a calculation engine (a viewer, pandas, a browser preview) sees the
same numbers; Excel and LibreOffice recalculate them.

**Safe.** Formulas come only from this module (:meth:`_Book.formula`, whose text must
match :data:`FORMULA_SHAPES`: sums, sum-products, differences and products of cell
references, nothing else).  Text from the data is always a text cell: a name such as
``=HYPERLINK(...)`` is shown as written and never becomes a formula (:func:`_cell`),
and characters a workbook cannot hold are replaced by U+FFFD.

The file is byte-identical for the same run folder: the workbook's created/modified
stamps are the run's base date and the zip entries carry a fixed time.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.worksheet import Worksheet

from estate.io import atomic_write
from estate.textsafe import looks_like_formula, strip_control_characters
from optimise.finance import discount_factors
from scenarios.report import (
    ACCESS_COLUMNS,
    AGENCY_COLUMNS,
    BUILDING_COLUMNS,
    CASH_COLUMNS,
    COALITION_COLUMNS,
    DISPOSAL_COLUMNS,
    MONEY_KEYS,
    MOVE_COLUMNS,
    PLAN_ACTION_COLUMNS,
    PLAN_YEAR_COLUMNS,
    SHARING_COLUMNS,
    ReportTables,
    finance_settings,
    report_tables,
)
from scenarios.runfolder import RunFolder

SUMMARY = "summary"
AGENCIES = "agencies"
CASH = "cash flow by year"
BY_AGENCY = "saving by agency"
SHEETS = (
    SUMMARY,
    AGENCIES,
    "buildings",
    "moves",
    "disposals",
    CASH,
    BY_AGENCY,
    "access",
    "assumptions",
)
BOLD = Font(bold=True)
RED = Font(bold=True, color="B00000")
HEADER_FILL = PatternFill("solid", fgColor="F1F3F5")
TOTAL_FILL = PatternFill("solid", fgColor="F8F9FA")
MONEY = '"£"#,##0;[Red]-"£"#,##0'
PERCENT = "0.0%"
FACTOR = "0.000000"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PERCENT_SETTINGS = {"discount_rate", "long_discount_rate", "optimism_bias", "utilisation"}

# The only formulas the workbook holds: the code's own, over cell references.
_REF = r"(?:'[a-z ]+'!)?\$?[A-Z]{1,3}\$?[0-9]{1,7}"
_RANGE = rf"{_REF}:\$?[A-Z]{{1,3}}\$?[0-9]{{1,7}}"
FORMULA_SHAPES = re.compile(
    rf"=(?:SUM\({_RANGE}\)|SUMPRODUCT\({_RANGE},{_RANGE}\)|{_REF}(?:[-+*]{_REF})?)"
)


def is_code_formula(text: str) -> bool:
    """Whether ``text`` is one of the shapes of formula this module writes."""
    return bool(FORMULA_SHAPES.fullmatch(text))


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


def _ref(ws: Worksheet, row: int, column: int, absolute: bool = False) -> str:
    letter = get_column_letter(column)
    return f"${letter}${row}" if absolute else f"{letter}{row}"


def _away(ws: Worksheet, row: int, column: int) -> str:
    """A reference to a cell from another sheet."""
    return f"{quote_sheetname(ws.title)}!{_ref(ws, row, column)}"


class _Book:
    """The workbook and the value of every formula in it (cached in the file)."""

    def __init__(self) -> None:
        self.wb = Workbook()
        self.wb.remove(self.wb.worksheets[0])
        self.cached: dict[tuple[str, str], float] = {}

    def sheet(self, title: str) -> Worksheet:
        return self.wb.create_sheet(title)

    def formula(self, ws: Worksheet, row: int, column: int, text: str, value: float) -> Any:
        """Write the code's formula ``text`` (``=...``) with the value it computes."""
        if not is_code_formula(text):
            raise ValueError(f"not a formula shape of the workbook: {text!r}")
        cell = ws.cell(row=row, column=column)
        cell.value = text
        self.cached[(ws.title, cell.coordinate)] = float(value)
        return cell

    def value(self, ws: Worksheet, row: int, column: int) -> float:
        """The number in a cell, or the cached value of a formula written there."""
        cell = ws.cell(row=row, column=column)
        if (ws.title, cell.coordinate) in self.cached:
            return self.cached[(ws.title, cell.coordinate)]
        value = cell.value
        return float(value) if isinstance(value, int | float) else 0.0


def _number_format(name: str) -> str | None:
    if "£" in name or name.endswith("_gbp"):
        return MONEY
    if name.lower().startswith("share") or name == "Solver gap":
        return PERCENT
    if name == "Discount factor":
        return FACTOR
    return None


class _Table:
    """Where a table sits on its sheet, and its columns by key."""

    def __init__(self, ws: Worksheet, header: int, keys: Sequence[str], rows: int) -> None:
        self.ws = ws
        self.header = header
        self.keys = list(keys)
        self.rows = rows

    @property
    def first(self) -> int:
        return self.header + 1

    @property
    def last(self) -> int:
        return self.header + self.rows

    def col(self, key: str) -> int:
        return self.keys.index(key) + 1

    def rows_range(self) -> range:
        return range(self.first, self.last + 1)

    def span(self, key: str, absolute: bool = False) -> str:
        c = self.col(key)
        return f"{_ref(self.ws, self.first, c, absolute)}:{_ref(self.ws, self.last, c, absolute)}"


def _table(
    ws: Worksheet,
    frame: pd.DataFrame,
    headers: dict[str, str],
    start_row: int = 1,
    freeze_column: int = 1,
) -> _Table:
    """A header row and the frame below it, with formats, a frozen header and a filter."""
    names = [headers.get(c, c) for c in frame.columns]
    for j, name in enumerate(names, start=1):
        cell = _cell(ws, start_row, j, name)
        cell.font = BOLD
        cell.fill = HEADER_FILL
    formats = [_number_format(name) for name in names]
    for i, row in enumerate(frame.itertuples(index=False), start=start_row + 1):
        for j, (fmt, value) in enumerate(zip(formats, row, strict=True), start=1):
            cell = _cell(ws, i, j, value)
            if fmt and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = fmt
    for j, name in enumerate(names, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in frame.iloc[:, j - 1].head(200)])
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
    last_column = get_column_letter(max(len(names), 1))
    ws.auto_filter.ref = f"A{start_row}:{last_column}{start_row + max(len(frame), 1)}"
    ws.freeze_panes = f"{get_column_letter(freeze_column + 1)}{start_row + 1}"
    return _Table(ws, start_row, list(frame.columns), len(frame))


def _label_row(ws: Worksheet, row: int, label: str) -> None:
    cell = _cell(ws, row, 1, label)
    cell.font = BOLD
    for c in ws[row]:
        c.fill = TOTAL_FILL


def _sum_row(book: _Book, table: _Table, row: int, keys: Sequence[str], label: str) -> None:
    """A row below ``table`` summing the columns ``keys`` (outside its filter)."""
    _label_row(table.ws, row, label)
    for key in keys:
        c = table.col(key)
        total = sum(book.value(table.ws, r, c) for r in range(table.first, table.last + 1))
        cell = book.formula(table.ws, row, c, f"=SUM({table.span(key)})", total)
        cell.font = BOLD
        cell.fill = TOTAL_FILL
        fmt = table.ws.cell(row=table.first, column=c).number_format
        cell.number_format = fmt if fmt != "General" else "#,##0"


def build_workbook(folder: RunFolder, tables: ReportTables | None = None) -> Workbook:
    """The workbook (formulas without their cached values: see :func:`write_workbook`)."""
    return _build(folder, tables).wb


def _build(folder: RunFolder, tables: ReportTables | None = None) -> _Book:
    t = tables if tables is not None else report_tables(folder)
    book = _Book()
    summary = book.sheet(SUMMARY)
    agencies = book.sheet(AGENCIES)
    agency_table = _agencies(book, agencies, t)
    _table(book.sheet("buildings"), t.buildings, BUILDING_COLUMNS, freeze_column=2)
    moves = _table(book.sheet("moves"), t.moves, MOVE_COLUMNS)
    if len(t.moves):
        _sum_row(book, moves, moves.last + 2, ["desks", "cost"], "Total")
    # For each building disposed of: why (the saving, where its services go, who it
    # served and how far they go after, the price of keeping it).
    _table(book.sheet("disposals"), t.disposals, DISPOSAL_COLUMNS, freeze_column=2)
    cash = _cash(book, book.sheet(CASH), t, discount_factors(finance_settings(folder)))
    by_agency = _by_agency(book, book.sheet(BY_AGENCY), t, cash)
    _link_agency_npv(book, agency_table, by_agency)
    if t.sharing is not None:
        _sharing(book, t)
    if t.plan_years is not None:
        _plan(book, t)
    _table(book.sheet("access"), t.access, ACCESS_COLUMNS)
    _assumptions(book.sheet("assumptions"), t)
    _summary(book, summary, folder, t, agency_table, cash)
    stamp = _base_datetime(folder)
    wb = book.wb
    wb.properties.creator = "public-estate"
    wb.properties.title = strip_control_characters(folder.scenario)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    return book


def _agencies(book: _Book, ws: Worksheet, t: ReportTables) -> _Table:
    """Per agency, then a total row of sums (the NPV column is linked in later)."""
    rows = t.agencies.iloc[:-1]  # report_tables ends with its own total row
    table = _table(ws, rows, AGENCY_COLUMNS)
    money = [c for c in table.keys if c != "agency" and c != "payback_year"]
    total_row = table.last + 1
    _sum_row(book, table, total_row, money, "Total")
    if "payback_year" in table.keys:
        _cell(ws, total_row, table.col("payback_year"), t.agencies["payback_year"].iloc[-1])
    return table


def _summary(
    book: _Book, ws: Worksheet, folder: RunFolder, t: ReportTables, agencies: _Table, cash: _Table
) -> None:
    """The headline figures; money figures are references to the cells they come from."""
    _cell(ws, 1, 1, folder.scenario).font = Font(bold=True, size=14)
    row = 2
    for text in (folder.notice, folder.redaction.note if folder.redaction else ""):
        if text:
            _cell(ws, row, 1, text).font = RED
            row += 1
    table = _table(ws, t.headline, {"figure": "Figure", "value": "Value", "unit": "Unit"}, row + 1)
    labels = {label: key for key, label, _ in MONEY_KEYS}
    pv_row = cash.last + 3  # "Present value" (see _cash)
    total_row = agencies.last + 1
    source = {
        "npv_saving": (cash, pv_row, "saving_gbp"),
        "baseline_present_cost": (cash, pv_row, "baseline_gbp"),
        "scenario_present_cost": (cash, pv_row, "scenario_gbp"),
    }
    for i, label in enumerate(t.headline["figure"]):
        key = labels.get(str(label))
        if key is None:
            continue
        ws.cell(row=table.first + i, column=2).number_format = MONEY
        where, r, column = source.get(key, (agencies, total_row, key))
        if column not in where.keys:
            continue
        c = where.col(column)
        value = book.value(where.ws, r, c)
        cell = book.formula(ws, table.first + i, 2, f"={_away(where.ws, r, c)}", value)
        cell.number_format = MONEY


def _cash(book: _Book, ws: Worksheet, t: ReportTables, discount: np.ndarray) -> _Table:
    """Cash flow by year: net saving, discounting and present values as formulas."""
    frame = t.cash_by_year.copy()
    # The report rounds discount factors for reading; the workbook keeps them whole so
    # that its present values are the run's to the penny.
    frame["discount_factor"] = discount[frame["year"].to_numpy(dtype=int)]
    table = _table(ws, frame, CASH_COLUMNS)
    col = table.col
    d = col("discount_factor")
    factors = frame["discount_factor"].to_numpy(dtype=float)
    running = running_pv = 0.0
    for i, r in enumerate(range(table.first, table.last + 1)):
        baseline = book.value(ws, r, col("baseline_gbp"))
        scenario = book.value(ws, r, col("scenario_gbp"))
        net = baseline - scenario
        b, s = _ref(ws, r, col("baseline_gbp")), _ref(ws, r, col("scenario_gbp"))
        book.formula(ws, r, col("saving_gbp"), f"={b}-{s}", net).number_format = MONEY
        running += net
        c = col("cumulative_saving_gbp")
        text = f"={_ref(ws, r, col('saving_gbp'))}"
        if i:
            text = f"={_ref(ws, r - 1, c)}+{_ref(ws, r, col('saving_gbp'))}"
        book.formula(ws, r, c, text, running).number_format = MONEY
        pv = net * factors[i]
        text = f"={_ref(ws, r, col('saving_gbp'))}*{_ref(ws, r, d)}"
        book.formula(ws, r, col("present_value_saving_gbp"), text, pv).number_format = MONEY
        running_pv += pv
        c = col("cumulative_present_value_gbp")
        text = f"={_ref(ws, r, col('present_value_saving_gbp'))}"
        if i:
            text = f"={_ref(ws, r - 1, c)}+{_ref(ws, r, col('present_value_saving_gbp'))}"
        book.formula(ws, r, c, text, running_pv).number_format = MONEY
    flows = [k for k in table.keys if k.startswith("saving: ")]
    flows += ["baseline_gbp", "scenario_gbp", "saving_gbp"]
    _sum_row(book, table, table.last + 2, flows, "Total (undiscounted)")
    _label_row(ws, table.last + 3, "Present value")
    for key in flows:
        c = col(key)
        value = sum(
            book.value(ws, r, c) * f for r, f in zip(table.rows_range(), factors, strict=True)
        )
        text = f"=SUMPRODUCT({table.span(key)},{table.span('discount_factor', absolute=True)})"
        cell = book.formula(ws, table.last + 3, c, text, value)
        cell.number_format = MONEY
        cell.font = BOLD
        cell.fill = TOTAL_FILL
    _cell(
        ws,
        table.last + 5,
        1,
        "Net saving = baseline - scenario; present value = net saving x discount factor; "
        "the present value of net saving is the NPV saving.",
    )
    return table


def _by_agency(book: _Book, ws: Worksheet, t: ReportTables, cash: _Table) -> _Table:
    """Each agency's net saving by year, its discount factors and present value."""
    frame = t.saving_by_agency_year.copy()
    agencies = [c for c in frame.columns if c not in ("year", "Total")]
    frame.insert(1, "discount_factor", np.nan)
    frame = frame[["year", "discount_factor", *agencies, "Total"]]
    headers = {"year": "Year", "discount_factor": "Discount factor"}
    headers |= {a: f"{a} (£)" for a in agencies} | {"Total": "All agencies (£)"}
    table = _table(ws, frame, headers)
    years = dict(zip(t.cash_by_year["year"], range(cash.first, cash.last + 1), strict=True))
    d = table.col("discount_factor")
    for r, year in zip(table.rows_range(), frame["year"], strict=True):
        source = years[year]
        factor = book.value(cash.ws, source, cash.col("discount_factor"))
        cell = book.formula(
            ws, r, d, f"={_away(cash.ws, source, cash.col('discount_factor'))}", factor
        )
        cell.number_format = FACTOR
        first, last = table.col(agencies[0]), table.col(agencies[-1])
        total = sum(book.value(ws, r, c) for c in range(first, last + 1))
        text = f"=SUM({_ref(ws, r, first)}:{_ref(ws, r, last)})"
        book.formula(ws, r, table.col("Total"), text, total).number_format = MONEY
    columns = [*agencies, "Total"]
    _sum_row(book, table, table.last + 2, columns, "Total (undiscounted)")
    _label_row(ws, table.last + 3, "Present value (NPV saving)")
    for key in columns:
        c = table.col(key)
        value = sum(book.value(ws, r, c) * book.value(ws, r, d) for r in table.rows_range())
        text = f"=SUMPRODUCT({table.span(key)},{table.span('discount_factor', absolute=True)})"
        cell = book.formula(ws, table.last + 3, c, text, value)
        cell.number_format = MONEY
        cell.font = BOLD
        cell.fill = TOTAL_FILL
    return table


def _link_agency_npv(book: _Book, agencies: _Table, by_agency: _Table) -> None:
    """Each agency's NPV saving is the present value on ``saving by agency``."""
    if "npv_saving" not in agencies.keys:
        return
    ws, c = agencies.ws, agencies.col("npv_saving")
    pv_row = by_agency.last + 3
    for r in agencies.rows_range():
        agency = ws.cell(row=r, column=agencies.col("agency")).value
        if agency not in by_agency.keys:
            continue
        source = by_agency.col(str(agency))
        value = book.value(by_agency.ws, pv_row, source)
        book.formula(ws, r, c, f"={_away(by_agency.ws, pv_row, source)}", value)
        ws.cell(row=r, column=c).number_format = MONEY
    total = sum(book.value(ws, r, c) for r in agencies.rows_range())
    book.cached[(ws.title, ws.cell(row=agencies.last + 1, column=c).coordinate)] = total


def _sharing(book: _Book, t: ReportTables) -> None:
    """Who pays, who gains (``estate share``): shares and transfers; coalition values."""
    assert t.sharing is not None
    ws = book.sheet("sharing")
    _cell(ws, 1, 1, "Who pays, who gains: a fair share of the saving for each agency").font = BOLD
    _cell(ws, 2, 1, t.sharing_note)
    table = _table(ws, t.sharing.iloc[:-1], SHARING_COLUMNS, 4)
    _sum_row(book, table, table.last + 1, ["lands", "shapley", "transfer"], "Total")
    if t.coalitions is not None:
        coalitions = book.sheet("coalitions")
        _cell(coalitions, 1, 1, "What each coalition would save alone").font = BOLD
        _table(coalitions, t.coalitions, COALITION_COLUMNS, 3)


def _plan(book: _Book, t: ReportTables) -> None:
    """The year-by-year plan (``estate plan``): the pot by year; every action."""
    assert t.plan_years is not None
    ws = book.sheet("plan by year")
    _cell(ws, 1, 1, "Year-by-year plan: the Total Capital pot by year").font = BOLD
    _cell(ws, 2, 1, t.plan_note)
    table = _table(ws, t.plan_years, PLAN_YEAR_COLUMNS, 4)
    summed = ["spent", "receipts", "buildings_sold", "leases_exited", "services_moved"]
    _sum_row(book, table, table.last + 2, [k for k in summed if k in table.keys], "Total")
    if t.plan_actions is not None:
        actions = book.sheet("plan actions")
        _cell(actions, 1, 1, "What happens each year").font = BOLD
        _table(actions, t.plan_actions, PLAN_ACTION_COLUMNS, 3)


def _assumptions(ws: Worksheet, t: ReportTables) -> None:
    frame = t.assumptions.assign(value=t.assumptions["value"].map(_text_or_number))
    table = _table(
        ws, frame, {"section": "Section", "item": "Item", "value": "Value", "note": "Note"}
    )
    for r, item in zip(table.rows_range(), frame["item"], strict=True):
        cell = ws.cell(row=r, column=3)
        if item in PERCENT_SETTINGS and isinstance(cell.value, int | float):
            cell.number_format = PERCENT
        elif item == "gap" and isinstance(cell.value, int | float):
            cell.number_format = "0.000%"
        elif isinstance(cell.value, float) and re.search(r"per_desk|budget|value_per", str(item)):
            cell.number_format = MONEY


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
    """Write ``report.xlsx`` atomically and reproducibly, each formula's value cached."""
    book = _build(folder, tables)
    stamp = _base_datetime(folder).strftime("%Y-%m-%dT%H:%M:%SZ")
    sheets = {f"xl/worksheets/sheet{i}.xml": ws.title for i, ws in enumerate(book.wb, start=1)}

    def _write(tmp: Path) -> None:
        book.wb.save(tmp)
        _normalise(tmp, stamp, sheets, book.cached)

    return atomic_write(path, _write)


def _cached_value(value: float) -> str:
    return repr(round(value, 6) + 0.0)


def _normalise(
    path: Path, stamp: str, sheets: dict[str, str], cached: dict[tuple[str, str], float]
) -> None:
    """Fixed zip times and document stamps (openpyxl writes 'now' into both), and each
    formula's value written beside it (openpyxl writes formulas without one)."""
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
            elif name in sheets:
                title = sheets[name]
                text = data.decode("utf-8")

                def value(m: re.Match[str], title: str = title) -> str:
                    number = cached.get((title, m.group(2)))
                    if number is None:
                        raise ValueError(f"{title}!{m.group(2)}: a formula without its value")
                    return f"{m.group(1)}{m.group(3)}<v>{_cached_value(number)}</v>"

                text = _FORMULA_CELL.sub(value, text)
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


_FORMULA_CELL = re.compile(r'(<c r="([A-Z]+[0-9]+)"[^>]*>)(<f>[^<]*</f>)<v\s*/>')
