"""``report.xlsx`` can be audited in Excel (issue 17): totals, present values and the
NPV are formulas over the cash flows, every formula's value is cached and equals what
the formula computes and what ``summary.json`` says; money and shares are formatted;
each sheet holds one table with a frozen header and an autofilter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from tests.xlsxcalc import Evaluator

# summary.json's totals add up the agencies' figures, each rounded to the penny, while
# the workbook computes them as formulas over the cash flows: half a penny an agency.
PENNY = 0.03


@pytest.fixture(scope="module")
def demo_run(demo_folder: Path) -> Path:
    """The session's demo run folder (tests/conftest.py), read only."""
    return demo_folder


def _formulas(path: Path) -> dict[tuple[str, str], str]:
    wb = load_workbook(path)
    return {
        (ws.title, cell.coordinate): str(cell.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }


def test_every_formula_computes_its_cached_value(demo_run: Path) -> None:
    path = demo_run / "report.xlsx"
    formulas = _formulas(path)
    assert len(formulas) > 100
    shapes = {text.split("(")[0] if "(" in text else "reference" for text in formulas.values()}
    assert {"=SUM", "=SUMPRODUCT", "reference"} <= shapes
    wb = load_workbook(path)
    cached = load_workbook(path, data_only=True)
    calc = Evaluator(wb)
    for (sheet, coordinate), text in formulas.items():
        cell = wb[sheet][coordinate]
        value = calc.cell(sheet, cell.row, cell.column)
        stored = cached[sheet][coordinate].value
        assert isinstance(stored, int | float), (sheet, coordinate, text, stored)
        assert stored == pytest.approx(value, abs=1e-5), (sheet, coordinate, text)


def _rows(ws: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in ws.iter_rows(values_only=True)]  # type: ignore[attr-defined]


def test_the_formulas_give_the_runs_figures(demo_run: Path) -> None:
    path = demo_run / "report.xlsx"
    doc = json.loads((demo_run / "summary.json").read_text())
    wb = load_workbook(path)
    calc = Evaluator(wb)

    def computed(sheet: str, label: str, column: int) -> float:
        ws = wb[sheet]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)
        assert ws.cell(row, column).data_type == "f", (sheet, label)
        return calc.cell(sheet, row, column)

    # The headline: NPV and present costs from the cash flows, the rest from agencies.
    for label, key in (
        ("NPV saving", "npv_saving"),
        ("Present cost, baseline", "baseline_present_cost"),
        ("Present cost, scenario", "scenario_present_cost"),
        ("Annual revenue saving", "annual_revenue_saving"),
        ("Capital receipts", "capital_receipts"),
        ("One-off costs", "one_off_costs"),
        ("Backlog avoided", "backlog_avoided"),
        ("Optimism bias on the backlog avoided", "backlog_optimism_bias"),
    ):
        assert computed("summary", label, 2) == pytest.approx(doc[key], abs=PENNY), key
    # The NPV is the discounted sum of the cash flows, and so is each agency's.
    cash = wb["cash flow by year"]
    header = [c.value for c in cash[1]]
    pv = computed("cash flow by year", "Present value", header.index("Net saving (£)") + 1)
    assert pv == pytest.approx(doc["npv_saving"], abs=PENNY)
    agencies = pd.read_csv(demo_run / "agencies.csv").set_index("agency")
    by_agency = wb["agencies"]
    names = [c.value for c in by_agency[1]]
    npv = names.index("NPV saving (£)") + 1
    for row in range(2, 2 + len(agencies)):
        agency = by_agency.cell(row, 1).value
        value = calc.cell("agencies", row, npv)
        assert value == pytest.approx(agencies.at[agency, "npv_saving"], abs=PENNY), agency
    total = computed("agencies", "Total", npv)
    assert total == pytest.approx(doc["npv_saving"], abs=PENNY)
    for key, name in (
        ("annual_revenue_saving", "Annual revenue saving (£/yr)"),
        ("capital_receipts", "Capital receipts (£)"),
        ("one_off_costs", "One-off costs (£)"),
    ):
        assert computed("agencies", "Total", names.index(name) + 1) == pytest.approx(
            doc[key], abs=PENNY
        )
    # Changing a cash flow changes the NPV the workbook computes, by its present value.
    row = 2
    factor = cash.cell(row, header.index("Discount factor") + 1).value
    cash.cell(row, header.index("Baseline cost (£)") + 1).value += 1000.0  # type: ignore[operator]
    fresh = Evaluator(wb)
    summary = wb["summary"]
    npv_row = next(r for r in range(1, 30) if summary.cell(r, 1).value == "NPV saving")
    assert fresh.cell("summary", npv_row, 2) == pytest.approx(
        doc["npv_saving"] + 1000.0 * float(factor),  # type: ignore[arg-type]
        abs=PENNY,
    )


def test_money_and_shares_are_formatted_and_every_table_filtered_and_frozen(
    demo_run: Path,
) -> None:
    wb = load_workbook(demo_run / "report.xlsx")
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
    money = shares = 0
    for ws in wb.worksheets:
        assert ws.auto_filter.ref, ws.title
        assert ws.freeze_panes, ws.title
        first = ws.auto_filter.ref.split(":")[0]
        header_row = int("".join(ch for ch in first if ch.isdigit()))
        assert ws.freeze_panes.endswith(str(header_row + 1)), (ws.title, ws.freeze_panes)
        # One table a sheet: a single header row (bold, shaded), the filter's first row.
        headers = [
            r
            for r in range(1, ws.max_row + 1)
            if ws.cell(r, 1).fill.fgColor.rgb == "00F1F3F5" and ws.cell(r, 1).font.bold
        ]
        assert headers == [header_row], ws.title
        names = [ws.cell(header_row, c).value for c in range(1, ws.max_column + 1)]
        for c, name in enumerate(names, start=1):
            for r in range(header_row + 1, ws.max_row + 1):
                cell = ws.cell(r, c)
                number = cell.data_type == "f" or (
                    isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
                )
                if not number:
                    continue
                if "£" in str(name):
                    assert "£" in cell.number_format, (ws.title, cell.coordinate, name)
                    money += 1
                if str(name).startswith("Share"):
                    assert cell.number_format.endswith("%"), (ws.title, cell.coordinate)
                    shares += 1
    summary = wb["summary"]
    rows = {summary.cell(r, 1).value: summary.cell(r, 2) for r in range(1, summary.max_row + 1)}
    for label in ("NPV saving", "Capital receipts", "Present cost, baseline"):
        assert "£" in rows[label].number_format, label
    assert money > 500 and shares >= 10


def test_the_existing_readers_still_see_numbers(demo_run: Path) -> None:
    """A reader without a calculation engine (calamine, through pandas) sees the cached
    numbers."""
    frame = pd.read_excel(demo_run / "report.xlsx", sheet_name="agencies", engine="calamine")
    total = frame.loc[frame["Agency"] == "Total", "NPV saving (£)"].iloc[0]
    doc = json.loads((demo_run / "summary.json").read_text())
    assert total == pytest.approx(doc["npv_saving"], abs=PENNY)
